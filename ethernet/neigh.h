/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * neigh.h - neighbours on the guest's link, both families (neigh.c): IPv4
 * addresses learned from ARP and IPv4 sources, IPv6 ones from neighbour
 * discovery and IPv6 sources
 */
#ifndef NETSTACK_NEIGH_H
#define NETSTACK_NEIGH_H

#include <netinet/in.h>
#include <stdint.h>

struct ns_link;

/* Entries kept; the least recently seen is replaced. */
#define NS_NEIGH_MAX 32

/**
 * struct ns_neigh - one neighbour
 * @addr:    its address; an IPv4 one as ::ffff:a.b.c.d (RFC 4291 2.5.5.2),
 *           so one table and one lookup serve both families
 * @mac:     its MAC address
 * @seen_ms: when it last sent something (ns_now_ms)
 */
struct ns_neigh {
    struct in6_addr addr;
    uint8_t mac[6];
    uint64_t seen_ms;
};

/**
 * ns_neigh_learn() - @mac sent from IPv4 @ip (host order); ignored unless a
 * guest address of the subnet
 */
void ns_neigh_learn(struct ns_link *lk, uint32_t ip, const uint8_t mac[6]);

/**
 * ns_neigh_lookup() - the MAC of IPv4 @ip (host order), from the table or
 * the DHCP leases. Return: 1 if known, 0 if not.
 */
int ns_neigh_lookup(struct ns_link *lk, uint32_t ip, uint8_t mac[6]);

/**
 * ns_neigh6_learn() - @mac sent from IPv6 @ip; ignored unless a link-local
 * or prefix address that is not the stack's own
 */
void ns_neigh6_learn(struct ns_link *lk, const struct in6_addr *ip, const uint8_t mac[6]);

/**
 * ns_neigh6_guest() - the guest's address in its /64 that was heard from
 * most recently (a SLAAC address, learned from its own packets).
 * Return: 1 with @out set, 0 when the guest has not spoken from one yet.
 */
int ns_neigh6_guest(struct ns_link *lk, struct in6_addr *out);

/**
 * ns_neigh6_lookup() - the MAC of IPv6 @ip. Return: 1 if known, 0 if not.
 */
int ns_neigh6_lookup(struct ns_link *lk, const struct in6_addr *ip, uint8_t mac[6]);

/**
 * ns_neigh_flush() - forget every neighbour (the guest went away).
 */
void ns_neigh_flush(struct ns_link *lk);

#endif /* NETSTACK_NEIGH_H */
