/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp.h - private: ICMP from the guest (RFC 792)
 */
#ifndef NETSTACK_ICMP_H
#define NETSTACK_ICMP_H

struct netstack;
struct ns_ipv4;

#define ICMP_ECHO_REPLY     0
#define ICMP_ECHO_REQUEST   8
#define ICMP_HLEN           8

/**
 * ns_icmp_input() - one ICMP datagram from the guest
 * Echo requests to the gateway and the host-loopback alias are answered here.
 * (Echo to other addresses goes out through host ping sockets: the NAT's job.)
 */
void ns_icmp_input(struct netstack *ns, const struct ns_ipv4 *ip);

#endif /* NETSTACK_ICMP_H */
