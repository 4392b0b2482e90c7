/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * neigh.c - the guest link's neighbour table (IPv4 and IPv6 address to MAC)
 *
 * Theory of Operation: the stack needs the guest's MAC to send it anything.
 * It learns it from the sender fields of the guest's ARP packets and from the
 * source of IPv4 packets from subnet addresses, from neighbour discovery and
 * the source of IPv6 packets from link-local and prefix addresses, and for
 * IPv4 falls back to the DHCP lease table. The table is tiny (a VM has one
 * interface, a bridge a few guests, each with an IPv4 address and a few IPv6
 * ones) and shared by both families: a full table replaces its least
 * recently seen entry. Every frame in learns and every frame out looks up,
 * and one guest address does nearly all of that traffic, so the entry last
 * used is tried before the table is walked.
 */
#include <string.h>

#include "ethernet/eth.h"
#include "ethernet/ipv6.h"
#include "netstack/dhcp.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"

/**
 * find() - the entry for @a, the last one used tried first; NULL if none.
 */
static struct ns_neigh *find(struct ns_link *lk, const struct in6_addr *a)
{
    struct ns_neigh *n = &lk->neigh[lk->neigh_hint];
    unsigned i;

    if (n->seen_ms && ns_ip6_equal(&n->addr, a))
        return n;
    for (i = 0; i < NS_NEIGH_MAX; i++) {
        n = &lk->neigh[i];
        if (n->seen_ms && ns_ip6_equal(&n->addr, a)) {
            lk->neigh_hint = i;
            return n;
        }
    }
    return NULL;
}

/**
 * learn() - remember @mac for @a: its entry, a free one, or the least recently seen.
 */
static void learn(struct ns_link *lk, const struct in6_addr *a, const uint8_t mac[6])
{
    struct ns_neigh *slot;
    unsigned i;

    if (ns_mac_is_multicast(mac))
        return;
    slot = find(lk, a);
    for (i = 0; !slot && i < NS_NEIGH_MAX; i++)
        if (!lk->neigh[i].seen_ms)
            slot = &lk->neigh[i];
    if (!slot) {        /* full: the least recently seen goes */
        slot = &lk->neigh[0];
        for (i = 1; i < NS_NEIGH_MAX; i++)
            if (lk->neigh[i].seen_ms < slot->seen_ms)
                slot = &lk->neigh[i];
    }
    lk->neigh_hint = (unsigned)(slot - lk->neigh);
    slot->addr = *a;
    memcpy(slot->mac, mac, 6);
    /* seen_ms doubles as "in use": never 0, even at the clock's start. */
    slot->seen_ms = ns_now_ms() | 1;
}

/**
 * lookup() - the MAC of @a if the table has it. Return: 1 or 0.
 */
static int lookup(struct ns_link *lk, const struct in6_addr *a, uint8_t mac[6])
{
    const struct ns_neigh *n = find(lk, a);

    if (!n)
        return 0;
    memcpy(mac, n->mac, 6);
    return 1;
}

void ns_neigh_learn(struct ns_link *lk, uint32_t ip, const uint8_t mac[6])
{
    struct in6_addr a = ns_ip6_mapped4(ip);

    if (ip && ns_link_in_subnet(lk, ip) && !ns_link_is_local(lk, ip))
        learn(lk, &a, mac);
}

int ns_neigh_lookup(struct ns_link *lk, uint32_t ip, uint8_t mac[6])
{
    struct in6_addr a = ns_ip6_mapped4(ip);

    return lookup(lk, &a, mac) || (lk->leases && ns_dhcp_owner(lk->leases, ip, mac));
}

void ns_neigh6_learn(struct ns_link *lk, const struct in6_addr *ip, const uint8_t mac[6])
{
    if ((ns_ip6_is_link_local(ip) || ns_ipv6_in_prefix(lk, ip)) && !ns_ipv6_is_local(lk, ip))
        learn(lk, ip, mac);
}

int ns_neigh6_guest(struct ns_link *lk, struct in6_addr *out)
{
    const struct ns_neigh *best = NULL;
    unsigned i;

    for (i = 0; i < NS_NEIGH_MAX; i++) {
        const struct ns_neigh *n = &lk->neigh[i];

        if (n->seen_ms && ns_ipv6_in_prefix(lk, &n->addr) && (!best || n->seen_ms > best->seen_ms))
            best = n;
    }
    if (best)
        *out = best->addr;
    return best != NULL;
}

int ns_neigh6_lookup(struct ns_link *lk, const struct in6_addr *ip, uint8_t mac[6])
{
    return lookup(lk, ip, mac);
}

void ns_neigh_flush(struct ns_link *lk)
{
    memset(lk->neigh, 0, sizeof(lk->neigh));
}
