/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack.h - private: the stack object every module reaches through
 *
 * The process-wide helpers have their own small headers (log.h, clock.h,
 * counters.h); the guest link's state is struct ns_link (ethernet/link.h),
 * the context ethernet/ works on. Included here for the modules that use the
 * object anyway.
 *
 * Internally, IPv4 addresses are uint32_t in host byte order (the public API
 * uses struct in_addr, network order); conversion happens once, in stack.c.
 */
#ifndef NETSTACK_STACK_H
#define NETSTACK_STACK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/include/netstack.h"
#include "netstack/log.h"
#include "netstack/loop.h"
#include "netstack/tx.h"

struct ns_dhcp;
struct netif;
struct ns_flow_index;
struct ns_tcp_nat;
struct ns_udp_nat;
struct ns_icmp_nat;
struct ns_dns;
struct ns_portfwd;
struct ns_udp_fwd;
struct ns_pcbs;
struct ns_capture;

struct netstack {
    struct netstack_config cfg;     /* strings below are our own copies */
    char *domain_name;
    char *search_domains;
    char *dhcp_hostname;            /* the config's, copied; NULL: none */

    struct ns_link link;            /* ethernet/link.h: addresses, neighbours, offloads */

    uint64_t stats[NETSTACK_STAT_COUNT];

    int reserve_fd;                 /* given up to shed a connection at EMFILE (limits.c) */
    int warned_accept_fds;          /* that was logged */

    struct ns_loop loop;
    struct ns_tx tx;
    struct ns_dhcp *dhcp;
    struct netif *netif;            /* lwIP's view of the guest link */
    struct ns_flow_index *findex;   /* netstack/flow_index.c: every flow, by five-tuple */
    struct ns_tcp_nat *tcp_nat;     /* netstack/tcp_nat.c */
    struct ns_udp_nat *udp_nat;     /* netstack/udp_nat.c */
    struct ns_icmp_nat *icmp_nat;   /* netstack/icmp_nat.c */
    struct ns_dns *dns;             /* dns/server.c */
    struct ns_portfwd *portfwd;     /* portfwd/forward.c */
    struct ns_udp_fwd *udp_fwd;     /* portfwd/udp_fwd.c */
    struct ns_pcbs *pcbs;           /* netstack/tcp_pcbs.c */
    struct ns_capture *capture;     /* netstack/capture.c; NULL: nothing captures */
};

/**
 * ns_flush() - send the queue, resume paused host sockets if it drained (stack.c).
 */
void ns_flush(struct netstack *ns);

/**
 * ns_in_subnet() - is @ip (host order) inside the guest subnet?
 */
static inline int ns_in_subnet(const struct netstack *ns, uint32_t ip)
{
    return ns_link_in_subnet(&ns->link, ip);
}

/**
 * ns_is_local() - is @ip one of the stack's own addresses (gateway, alias)?
 */
static inline int ns_is_local(const struct netstack *ns, uint32_t ip)
{
    return ns_link_is_local(&ns->link, ip);
}

#endif /* NETSTACK_STACK_H */
