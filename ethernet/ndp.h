/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ndp.h - private: IPv6 neighbour and router discovery for the guest's link
 * (RFC 4861), and the addresses SLAAC gives the guest (RFC 4862)
 *
 * Neighbour solicitation and advertisement:
 *   0      1      2      4            8                  24
 *   +------+------+------+------------+------------------+--------
 *   | 135/ | code | csum | reserved / | target address   | options
 *   | 136  |      |      | R S O flags|                  |
 *   +------+------+------+------------+------------------+--------
 * Router advertisement (134):
 *   +------+------+------+-----+-----+----------+----------+--------+--------
 *   | type | code | csum | hop |M O  | router   | reachable| retrans| options
 *   |      |      |      |limit|flags| lifetime |   time   |  timer |
 *   +------+------+------+-----+-----+----------+----------+--------+--------
 * Options: type, length in units of 8 bytes (0 is invalid), body.
 */
#ifndef NETSTACK_NDP_H
#define NETSTACK_NDP_H

#include <stdint.h>

struct ns_link;
struct ns_ipv6;

/**
 * ns_ndp_input() - a neighbour solicitation or advertisement, or a router
 * solicitation, from the guest (icmp6.c has checked its checksum)
 */
void ns_ndp_input(struct ns_link *lk, const struct ns_ipv6 *ip);

/**
 * ns_ndp_guest_seen() - the guest sent IPv6: start the periodic router
 * advertisements if they are not running
 */
void ns_ndp_guest_seen(struct ns_link *lk);

/* The module hooks (modules.c). */
void ns_ndp_guest_gone(struct ns_link *lk);
void ns_ndp_timers(struct ns_link *lk, uint64_t now_ms);
int ns_ndp_next_timeout(struct ns_link *lk, uint64_t now_ms);

#endif /* NETSTACK_NDP_H */
