/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp.h - private: UDP from the guest (RFC 768)
 */
#ifndef NETSTACK_UDP_H
#define NETSTACK_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

struct netstack;
struct ns_ipv4;
struct ns_ipv6;

#define UDP_HLEN 8
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/**
 * ns_udp_input() - one UDP datagram from the guest: validate and dispatch by port.
 */
void ns_udp_input(struct netstack *ns, const struct ns_ipv4 *ip);

/**
 * ns_udp_send() - send a UDP datagram to the guest
 * @dst_mac: the link address, NULL to look it up (see ns_ipv4_send)
 * Return: 0 or a negative errno.
 */
int ns_udp_send(struct netstack *ns, const uint8_t *dst_mac, uint32_t src, uint16_t sport,
                uint32_t dst, uint16_t dport, const uint8_t *payload, size_t len);

/**
 * ns_udp_tx_budget() - datagrams a host socket may be read for now (see udp.c).
 */
/**
 * ns_udp6_input() - a UDP datagram from the guest over IPv6: DNS on the
 * gateway's address, DHCPv6 to the servers' group or the gateway's
 * link-local address; other unicast to the NAT, other multicast counted
 * (drop_udp_broadcast).
 */
void ns_udp6_input(struct netstack *ns, const struct ns_ipv6 *ip);

/**
 * ns_udp6_send() - a datagram to the guest over IPv6, to the MAC learned for @dst
 * Return: 0, -EHOSTUNREACH (no neighbour), -EMSGSIZE, -ENOBUFS.
 */
int ns_udp6_send(struct netstack *ns, const struct in6_addr *src, uint16_t sport,
                 const struct in6_addr *dst, uint16_t dport, const uint8_t *payload, size_t len);

int ns_udp_tx_budget(const struct netstack *ns, int max);

#endif /* NETSTACK_UDP_H */
