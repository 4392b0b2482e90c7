/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * neigh.h - neighbours on the guest's link, learned from ARP and from IPv4
 * source addresses (neigh.c)
 */
#ifndef NETSTACK_NEIGH_H
#define NETSTACK_NEIGH_H

#include <stdint.h>

struct netstack;

/* Entries kept; the least recently seen is replaced. */
#define NS_NEIGH_MAX 16

/**
 * struct ns_neigh - one neighbour
 * @ip:      its address, host order
 * @mac:     its MAC address
 * @seen_ms: when it last sent something (ns_now_ms)
 */
struct ns_neigh {
    uint32_t ip;
    uint8_t mac[6];
    uint64_t seen_ms;
};

void ns_neigh_learn(struct netstack *ns, uint32_t ip, const uint8_t mac[6]);
int ns_neigh_lookup(struct netstack *ns, uint32_t ip, uint8_t mac[6]);
void ns_neigh_flush(struct netstack *ns);

#endif /* NETSTACK_NEIGH_H */
