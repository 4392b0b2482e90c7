/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dns.h - private: the gateway's DNS server, as the rest of the stack sees it
 */
#ifndef NETSTACK_DNS_DNS_H
#define NETSTACK_DNS_DNS_H

#include <stddef.h>
#include <stdint.h>

struct netstack;
struct ns_ipv4;
struct ns_ipv6;

#define NS_DNS_PORT 53

/**
 * ns_dns_start() - local names, the nameserver list and the TCP listeners on
 * the gateway's :53 (IPv4 and IPv6), from the config. The config's DNS strings are read here only.
 * Return: 0, or -errno (the log says which part failed).
 */
int ns_dns_start(struct netstack *ns);
void ns_dns_stop(struct netstack *ns);

/**
 * ns_dns_udp_input() - a UDP datagram from the guest to gateway:53.
 */
void ns_dns_udp_input(struct netstack *ns, const struct ns_ipv4 *ip, uint16_t sport,
                      const uint8_t *msg, size_t len);

/**
 * ns_dns_udp6_input() - the same over IPv6, to the gateway's IPv6 address.
 */
void ns_dns_udp6_input(struct netstack *ns, const struct ns_ipv6 *ip, uint16_t sport,
                       const uint8_t *msg, size_t len);

/**
 * ns_dns_guest_gone() - the guest went away: close its TCP connections to
 * gateway:53 (queries in flight are answered to no one).
 */
void ns_dns_guest_gone(struct netstack *ns);

/* Timers: per-query deadlines and retries, idle TCP connections. */
void ns_dns_timers(struct netstack *ns, uint64_t now_ms);
int ns_dns_next_timeout(struct netstack *ns, uint64_t now_ms);

#endif /* NETSTACK_DNS_DNS_H */
