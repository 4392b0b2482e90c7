/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp6.h - private: stateless DHCPv6 for the guest (RFC 8415 section 18.2.6)
 *
 *   0          1                      4
 *   +----------+----------------------+----------------------------
 *   | msg-type |    transaction-id    | options: code (2), length (2), data
 *   +----------+----------------------+----------------------------
 *
 * The gateway answers Information-request: the DNS server (option 23) and
 * the domain search list (24) for guests whose router advertisement said
 * "other configuration" (the O flag). Addresses come from SLAAC, so every
 * other message type is counted and left unanswered.
 */
#ifndef NETSTACK_DHCP6_H
#define NETSTACK_DHCP6_H

#include <stddef.h>
#include <stdint.h>

struct netstack;
struct ns_ipv6;

#define DHCP6_SERVER_PORT   547
#define DHCP6_MSG_MAX       512     /* our replies: server and client IDs, DNS, domains */

/* Why ns_dhcp6_reply() built nothing; each maps to a counter. */
enum ns_dhcp6_verdict {
    NS_DHCP6_MALFORMED = -1,        /* too short, an option running off the end */
    NS_DHCP6_UNHANDLED = -2,        /* a well-formed message we do not answer */
};

/**
 * ns_dhcp6_reply() - the Reply to the guest's DHCPv6 message @msg
 * @out, @cap: where it goes
 *
 * A message that asks for addresses (IA options), names another server, or
 * is not an Information-request gets no answer (RFC 8415 section 16.12).
 * Return: the Reply's length, or an enum ns_dhcp6_verdict.
 */
int ns_dhcp6_reply(struct netstack *ns, const uint8_t *msg, size_t len, uint8_t *out,
                   size_t cap);

/**
 * ns_dhcp6_input() - a datagram from the guest to port 547: counted, answered.
 */
void ns_dhcp6_input(struct netstack *ns, const struct ns_ipv6 *ip, uint16_t sport,
                    const uint8_t *msg, size_t len);

#endif /* NETSTACK_DHCP6_H */
