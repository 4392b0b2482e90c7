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

struct ns_link;
struct ns_ipv6;

#define ICMP6_HDR_LEN           4
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
void ns_icmp6_input(struct ns_link *lk, const struct ns_ipv6 *ip);

/**
 * ns_icmp6_checksum() - the checksum of an ICMPv6 message from @src to @dst
 * given as @hdr (@hlen bytes, its checksum field zero or the received one)
 * and @data; 0 when a received message checks out.
 */
uint16_t ns_icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst,
                           const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t dlen);

/* Destination unreachable (RFC 4443 section 3.1) and the codes the NAT uses. */
#define ICMP6_DST_UNREACH               1
#define ICMP6_DST_UNREACH_NOROUTE       0
#define ICMP6_DST_UNREACH_ADMIN         1
#define ICMP6_DST_UNREACH_ADDR          3

/**
 * ns_icmp6_send_error() - an ICMPv6 error from the gateway to the guest's @to
 * @type, @code: the message
 * @param:  its 32-bit field (the MTU of a packet too big; 0 otherwise)
 * @pkt, @len: the invoking packet, from its IPv6 header; quoted as far as the
 *          message stays within the minimum MTU
 * Return: 0, -EHOSTUNREACH (the guest's MAC is unknown), or ns_ipv6_send()'s error.
 */
int ns_icmp6_send_error(struct ns_link *lk, const struct in6_addr *to, uint8_t type,
                        uint8_t code, uint32_t param, const uint8_t *pkt, size_t len);

#endif /* NETSTACK_ICMP6_H */
