/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * link.h - the guest link's context: what ethernet/ reads and keeps
 *
 * The frame parsers and builders of ethernet/ work on this, not on the
 * stack object: the stack's own addresses on the link, its MAC and MTU, the
 * neighbour table, the offloads of the frame being parsed, IPv6's router
 * advertisement state and the reassembly queues. It is embedded in struct
 * netstack; @up is that stack, opaque here, handed to the layers a frame
 * goes up to (the NATs, UDP, DHCP) and to the transmit queue.
 *
 * IPv4 addresses are uint32_t in host byte order.
 */
#ifndef NETSTACK_LINK_H
#define NETSTACK_LINK_H

#include <netinet/in.h>
#include <stdint.h>

#include "ethernet/neigh.h"
#include "netstack/include/netstack.h"

struct netstack;
struct ns_dhcp;
struct ns_reasm;

struct ns_link {
    struct netstack *up;
    uint64_t *stats;                /* the stack's counters, for NS_COUNT() */
    const char *search_domains;     /* the stack's list, for the RA's DNSSL */

    uint8_t mac[6];                 /* the gateway's; with @mtu fixed at creation */
    unsigned mtu;

    uint32_t subnet;
    uint32_t netmask;
    uint32_t gateway;
    uint32_t host_loopback;         /* 0 when disabled; may be @gateway */
    uint32_t dns;                   /* the DNS server's address: @gateway or one of its own */
    int no_dns;                     /* no DNS server: RAs name none */
    uint32_t broadcast;

    uint32_t offloads;              /* NETSTACK_LINK_*, from netstack_set_offloads() */
    const struct netstack_offload *rx_offload;  /* the frame being parsed; NULL: plain */

    struct ns_neigh neigh[NS_NEIGH_MAX];
    unsigned neigh_hint;            /* the entry last learned or found: checked first */
    uint16_t ip_id;                 /* identification of our own datagrams */
    struct ns_reasm *reasm;         /* ethernet/reasm.c, both families */
    const struct ns_dhcp *leases;   /* the stack's DHCP server: who holds an address */

    /* IPv6 (ipv6.c, ndp.c); @ipv6 zero: not served, the rest unused */
    int ipv6;
    struct in6_addr prefix6;        /* the guest's /64 */
    struct in6_addr gateway6;       /* its ::1 */
    struct in6_addr gateway6_ll;    /* fe80:: with the EUI-64 of the gateway's MAC */
    struct in6_addr host_loopback6; /* its ::fe, used when host_loopback is set */
    struct in6_addr dns6;           /* the DNS server: @gateway6 or another address in the /64 */
    uint64_t ra_next_ms;            /* next unsolicited router advertisement, 0: none */
    unsigned ra_initial;            /* of the first few, at a shorter interval, left */
    uint32_t ip6_frag_id;           /* identification of our own fragmented IPv6 */
    int warned_ndp_claim;           /* a guest claimed our address: logged */
};

/**
 * ns_link_in_subnet() - is @ip inside the guest subnet?
 * @lk: the link
 * @ip: an IPv4 address, host order
 */
static inline int ns_link_in_subnet(const struct ns_link *lk, uint32_t ip)
{
    return (ip & lk->netmask) == lk->subnet;
}

/**
 * ns_link_is_local() - is @ip one of the stack's own addresses (gateway, DNS, alias)?
 * @lk: the link
 * @ip: an IPv4 address, host order
 */
static inline int ns_link_is_local(const struct ns_link *lk, uint32_t ip)
{
    return ip == lk->gateway || (lk->dns && ip == lk->dns) ||
           (lk->host_loopback && ip == lk->host_loopback);
}

#endif /* NETSTACK_LINK_H */
