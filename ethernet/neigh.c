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
#include "netstack/stack.h"

/**
 * find() - the entry for @a, the last one used tried first; NULL if none.
 */
static struct ns_neigh *find(struct netstack *ns, const struct in6_addr *a)
{
    struct ns_neigh *n = &ns->neigh[ns->neigh_hint];
    unsigned i;

    if (n->seen_ms && ns_ip6_equal(&n->addr, a))
        return n;
    for (i = 0; i < NS_NEIGH_MAX; i++) {
        n = &ns->neigh[i];
        if (n->seen_ms && ns_ip6_equal(&n->addr, a)) {
            ns->neigh_hint = i;
            return n;
        }
    }
    return NULL;
}

/**
 * learn() - remember @mac for @a: its entry, a free one, or the least recently seen.
 */
static void learn(struct netstack *ns, const struct in6_addr *a, const uint8_t mac[6])
{
    struct ns_neigh *slot;
    unsigned i;

    if (ns_mac_is_multicast(mac))
        return;
    slot = find(ns, a);
    for (i = 0; !slot && i < NS_NEIGH_MAX; i++)
        if (!ns->neigh[i].seen_ms)
            slot = &ns->neigh[i];
    if (!slot) {        /* full: the least recently seen goes */
        slot = &ns->neigh[0];
        for (i = 1; i < NS_NEIGH_MAX; i++)
            if (ns->neigh[i].seen_ms < slot->seen_ms)
                slot = &ns->neigh[i];
    }
    ns->neigh_hint = (unsigned)(slot - ns->neigh);
    slot->addr = *a;
    memcpy(slot->mac, mac, 6);
    /* seen_ms doubles as "in use": never 0, even at the clock's start. */
    slot->seen_ms = ns_now_ms() | 1;
}

/**
 * lookup() - the MAC of @a if the table has it. Return: 1 or 0.
 */
static int lookup(struct netstack *ns, const struct in6_addr *a, uint8_t mac[6])
{
    const struct ns_neigh *n = find(ns, a);

    if (!n)
        return 0;
    memcpy(mac, n->mac, 6);
    return 1;
}

void ns_neigh_learn(struct netstack *ns, uint32_t ip, const uint8_t mac[6])
{
    struct in6_addr a = ns_ip6_mapped4(ip);

    if (ip && ns_in_subnet(ns, ip) && !ns_is_local(ns, ip))
        learn(ns, &a, mac);
}

int ns_neigh_lookup(struct netstack *ns, uint32_t ip, uint8_t mac[6])
{
    struct in6_addr a = ns_ip6_mapped4(ip);

    return lookup(ns, &a, mac) || (ns->dhcp && ns_dhcp_owner(ns->dhcp, ip, mac));
}

void ns_neigh6_learn(struct netstack *ns, const struct in6_addr *ip, const uint8_t mac[6])
{
    if ((ns_ip6_is_link_local(ip) || ns_ipv6_in_prefix(ns, ip)) && !ns_ipv6_is_local(ns, ip))
        learn(ns, ip, mac);
}

int ns_neigh6_guest(struct netstack *ns, struct in6_addr *out)
{
    const struct ns_neigh *best = NULL;
    unsigned i;

    for (i = 0; i < NS_NEIGH_MAX; i++) {
        const struct ns_neigh *n = &ns->neigh[i];

        if (n->seen_ms && ns_ipv6_in_prefix(ns, &n->addr) && (!best || n->seen_ms > best->seen_ms))
            best = n;
    }
    if (best)
        *out = best->addr;
    return best != NULL;
}

int ns_neigh6_lookup(struct netstack *ns, const struct in6_addr *ip, uint8_t mac[6])
{
    return lookup(ns, ip, mac);
}

void ns_neigh_flush(struct netstack *ns)
{
    memset(ns->neigh, 0, sizeof(ns->neigh));
}
