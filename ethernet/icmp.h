/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp.h - private: ICMP from the guest (RFC 792)
 */
#ifndef NETSTACK_ICMP_H
#define NETSTACK_ICMP_H

struct ns_link;
struct ns_ipv4;

#include <stddef.h>
#include <stdint.h>

#define ICMP_ECHO_REPLY     0
#define ICMP_ECHO_REQUEST   8
#define ICMP_HLEN           8

/* Destination unreachable (RFC 792) and the codes the NAT uses. */
#define ICMP_UNREACH        3
#define ICMP_UNREACH_NET    0
#define ICMP_UNREACH_HOST   1
#define ICMP_UNREACH_ADMIN  13      /* RFC 1812: communication administratively prohibited */

/**
 * ns_icmp_input() - one ICMP datagram from the guest
 * Echo requests to the gateway and the host-loopback alias are answered here.
 * (Echo to other addresses goes out through host ping sockets: the NAT's job.)
 */
void ns_icmp_input(struct ns_link *lk, const struct ns_ipv4 *ip);

/**
 * ns_icmp_send_error() - an ICMP error from the gateway to the guest's @to
 * (host order), as a router on the path would send it
 * @type, @code: the message
 * @pkt, @len: the invoking datagram, from its IPv4 header; its header and the
 *          first 8 bytes after it are quoted (RFC 792)
 * Return: 0 or ns_ipv4_send()'s error.
 */
int ns_icmp_send_error(struct ns_link *lk, uint32_t to, uint8_t type, uint8_t code,
                       const uint8_t *pkt, size_t len);

#endif /* NETSTACK_ICMP_H */
