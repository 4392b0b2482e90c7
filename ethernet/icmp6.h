/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp6.h - private: ICMPv6 from the guest (RFC 4443)
 *
 *   0      1      2             4
 *   +------+------+-------------+---------------------
 *   | type | code |  checksum   | message body
 *   +------+------+-------------+---------------------
 *
 * The checksum covers the IPv6 pseudo-header (RFC 8200 section 8.1).
 */
#ifndef NETSTACK_ICMP6_H
#define NETSTACK_ICMP6_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct netstack;
struct ns_ipv6;

#define ICMP6_HLEN              4
#define ICMP6_ECHO_REQUEST      128
#define ICMP6_ECHO_REPLY        129
#define ICMP6_ROUTER_SOLICIT    133
#define ICMP6_ROUTER_ADVERT     134
#define ICMP6_NEIGHBOR_SOLICIT  135
#define ICMP6_NEIGHBOR_ADVERT   136

/**
 * ns_icmp6_input() - one ICMPv6 message from the guest, to one of our addresses
 * Echo requests to the gateway (global or link-local) and the host-loopback
 * alias are answered here, neighbour and router discovery go to ndp.c; every
 * other message is counted as unhandled.
 */
void ns_icmp6_input(struct netstack *ns, const struct ns_ipv6 *ip);

/**
 * ns_icmp6_checksum() - the checksum of an ICMPv6 message from @src to @dst
 * given as @hdr (@hlen bytes, its checksum field zero or the received one)
 * and @data; 0 when a received message checks out.
 */
uint16_t ns_icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst,
                           const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t dlen);

#endif /* NETSTACK_ICMP6_H */
