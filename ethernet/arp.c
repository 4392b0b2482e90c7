/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * arp.c - ARP (RFC 826): the stack answers for the whole subnet
 *
 * Theory of Operation: the guest's link has exactly one other host as far as
 * the guest can tell, the gateway, and every address of the subnet that is not
 * a guest's lives behind it (the gateway itself, the host-loopback alias, and
 * later forwarded addresses). So a request for any subnet address is answered
 * with the gateway's MAC, except:
 * - an address a guest holds (its DHCP lease, or an address seen as a guest's
 *   source): the guest answers for itself, and a reply from us would make
 *   duplicate address detection (RFC 5227 probes, dhclient's ARP check) fail;
 * - gratuitous ARP (sender == target) and the network and broadcast addresses.
 * Sender fields teach the stack the guest's MAC.
 *
 *   0        2        4    5    6        8                 14       18                24      28
 *   +--------+--------+----+----+--------+-----------------+--------+-----------------+-------+
 *   | htype  | ptype  |hlen|plen|  oper  | sender MAC      | sender | target MAC      | target|
 *   |   1    | 0x0800 | 6  | 4  | 1 or 2 |                 |  IPv4  |                 |  IPv4 |
 *   +--------+--------+----+----+--------+-----------------+--------+-----------------+-------+
 */
#include <string.h>

#include "ethernet/arp.h"
#include "ethernet/eth.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"

#define ARP_REQUEST 1
#define ARP_REPLY   2

struct arp_pkt {
    uint16_t op;
    const uint8_t *sha;
    uint32_t spa;
    const uint8_t *tha;
    uint32_t tpa;
};

/**
 * parse() - read and validate an ARP packet. Return: 0, -1 if malformed.
 */
static int parse(struct ns_reader *r, struct arp_pkt *a)
{
    uint16_t htype, ptype;
    uint8_t hlen, plen;

    /* The layout is fixed: all of it is read, then checked (short or foreign, it is malformed). */
    htype = ns_read_be16(r);
    ptype = ns_read_be16(r);
    hlen = ns_read_u8(r);
    plen = ns_read_u8(r);
    a->op = ns_read_be16(r);
    a->sha = ns_reader_get(r, 6);
    a->spa = ns_read_be32(r);
    a->tha = ns_reader_get(r, 6);
    a->tpa = ns_read_be32(r);
    if (ns_reader_failed(r) || htype != 1 || ptype != ETH_P_IPV4 || hlen != 6 || plen != 4)
        return -1;
    return 0;
}

/**
 * held_by_guest() - does a guest own @ip (lease, offer or seen as a source)?
 */
static int held_by_guest(struct ns_link *lk, uint32_t ip)
{
    uint8_t mac[6];

    return ns_neigh_lookup(lk, ip, mac);
}

/**
 * should_answer() - see the Theory of Operation.
 */
static int should_answer(struct ns_link *lk, const struct arp_pkt *a)
{
    uint32_t host = a->tpa & ~lk->netmask;

    if (!ns_link_in_subnet(lk, a->tpa) || host == 0 || a->tpa == lk->broadcast)
        return 0;
    if (a->tpa == a->spa)
        return 0;
    return ns_link_is_local(lk, a->tpa) || !held_by_guest(lk, a->tpa);
}

/**
 * send_arp() - build and queue one ARP packet from the gateway's MAC.
 */
static void send_arp(struct ns_link *lk, uint16_t op, const uint8_t *eth_dst, uint32_t spa,
                     const uint8_t *tha, uint32_t tpa)
{
    uint8_t *f = ns_tx_alloc(lk->up, ETH_HLEN + ARP_LEN);
    struct ns_writer w;

    if (!f)
        return;
    ns_writer_init(&w, f, ETH_HLEN + ARP_LEN);
    ns_eth_header(ns_writer_reserve(&w, ETH_HLEN), eth_dst, lk->mac, ETH_P_ARP);
    ns_writer_be16(&w, 1);
    ns_writer_be16(&w, ETH_P_IPV4);
    ns_writer_u8(&w, 6);
    ns_writer_u8(&w, 4);
    ns_writer_be16(&w, op);
    ns_writer_bytes(&w, lk->mac, 6);
    ns_writer_be32(&w, spa);
    ns_writer_bytes(&w, tha, 6);
    ns_writer_be32(&w, tpa);
    ns_tx_commit(lk->up, f, w.len);
}

/**
 * ns_arp_input() - learn the sender, answer a request for an address behind us
 * @src_mac: the frame's source (the sender field is what ARP itself uses)
 */
void ns_arp_input(struct ns_link *lk, const uint8_t src_mac[6], struct ns_reader *r)
{
    struct arp_pkt a;

    NS_COUNT(lk, arp_in);
    if (parse(r, &a) || ns_mac_is_multicast(a.sha)) {
        NS_COUNT(lk, drop_arp_malformed);
        return;
    }
    if (a.spa)      /* 0 is a probe (RFC 5227): the sender has no address yet */
        ns_neigh_learn(lk, a.spa, a.sha);
    if (a.op != ARP_REQUEST || !should_answer(lk, &a)) {
        NS_COUNT(lk, drop_arp_ignored);
        return;
    }
    send_arp(lk, ARP_REPLY, a.sha, a.tpa, a.sha, a.spa);
    NS_COUNT(lk, arp_replies);
}

void ns_arp_request(struct ns_link *lk, uint32_t ip)
{
    static const uint8_t zero[6];

    send_arp(lk, ARP_REQUEST, ns_eth_broadcast, lk->gateway, zero, ip);
}
