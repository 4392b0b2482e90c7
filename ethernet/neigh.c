/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * neigh.c - the guest link's neighbour table (IPv4 address to MAC)
 *
 * Theory of Operation: the stack needs the guest's MAC to send it anything.
 * It learns it from the sender fields of the guest's ARP packets and from the
 * source of IPv4 packets from subnet addresses, and falls back to the DHCP
 * lease table. The table is tiny (a VM has one interface, a bridge a few
 * guests): a full table replaces its least recently seen entry.
 */
#include <string.h>

#include "ethernet/eth.h"
#include "netstack/dhcp.h"
#include "netstack/stack.h"

void ns_neigh_learn(struct netstack *ns, uint32_t ip, const uint8_t mac[6])
{
    struct ns_neigh *slot = NULL;
    uint64_t now = ns_now_ms();
    int i;

    if (!ip || !ns_in_subnet(ns, ip) || ns_is_local(ns, ip) || ns_mac_is_multicast(mac))
        return;
    for (i = 0; i < NS_NEIGH_MAX; i++) {
        struct ns_neigh *n = &ns->neigh[i];

        if (n->ip == ip) {
            slot = n;
            break;
        }
        if (!slot || (slot->ip && (!n->ip || n->seen_ms < slot->seen_ms)))
            slot = n;
    }
    slot->ip = ip;
    memcpy(slot->mac, mac, 6);
    slot->seen_ms = now;
}

int ns_neigh_lookup(struct netstack *ns, uint32_t ip, uint8_t mac[6])
{
    int i;

    for (i = 0; i < NS_NEIGH_MAX; i++) {
        if (ns->neigh[i].ip && ns->neigh[i].ip == ip) {
            memcpy(mac, ns->neigh[i].mac, 6);
            return 1;
        }
    }
    return ns->dhcp && ns_dhcp_owner(ns->dhcp, ip, mac);
}

void ns_neigh_flush(struct netstack *ns)
{
    memset(ns->neigh, 0, sizeof(ns->neigh));
}
