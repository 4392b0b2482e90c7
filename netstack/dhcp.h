/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp.h - netstack's DHCP server (RFC 2131, options RFC 2132 and RFC 3397)
 *
 * The server is a pure message handler: it is given the UDP payload of a
 * message a guest sent to port 67 and writes the reply's UDP payload, plus
 * where the reply must go. The stack (netstack/stack.c) adds the UDP, IPv4 and
 * Ethernet headers. This keeps the protocol logic testable without a stack.
 *
 * IPv4 addresses in this interface are host byte order.
 */
#ifndef NETSTACK_DHCP_H
#define NETSTACK_DHCP_H

#include <stddef.h>
#include <stdint.h>

struct ns_dhcp_config {
    uint32_t subnet;            /* network address */
    uint32_t netmask;
    uint32_t server;            /* gateway: server id and router */
    uint32_t dns;               /* option 6; 0 = not sent */
    uint32_t first;             /* first address handed out */
    uint32_t last;              /* last address handed out (inclusive) */
    uint32_t reserved[4];       /* never handed out (e.g. the host-loopback alias), 0 = unused */
    uint32_t lease_seconds;
    uint16_t mtu;               /* option 26 */
    const char *domain_name;    /* option 15; NULL or "" = not sent */
    const char *search;         /* option 119, space separated; NULL or "" = not sent */
    const char *hostname;       /* option 12, at most 63 bytes; NULL or "" = not sent */
};

/*
 * Where a reply goes (RFC 2131 section 4.1): broadcast when the client asked
 * for it or has no address yet and cannot take unicast, else unicast to yiaddr
 * (or ciaddr for INFORM) at the client's hardware address.
 */
struct ns_dhcp_dest {
    uint32_t ip;                /* 0xffffffff for broadcast */
    uint8_t mac[6];             /* ff:ff:ff:ff:ff:ff for broadcast */
};

enum ns_dhcp_result {
    NS_DHCP_REPLY = 1,          /* a reply was written */
    NS_DHCP_NO_REPLY = 0,       /* valid message that needs no answer (RELEASE, DECLINE, not for us) */
    NS_DHCP_MALFORMED = -1,     /* dropped: truncated, bad op/htype/hlen/cookie, bad options */
};

struct ns_dhcp;

/**
 * ns_dhcp_new() - a server with an empty lease table; NULL on bad config or no memory.
 */
struct ns_dhcp *ns_dhcp_new(const struct ns_dhcp_config *cfg);
void ns_dhcp_free(struct ns_dhcp *d);

/**
 * ns_dhcp_handle() - process one message from a client
 * @msg, @len:  UDP payload as received (untrusted)
 * @now:        monotonic seconds, for lease expiry
 * @reply:      buffer for the reply's UDP payload
 * @cap:        its size (576 bytes is always enough)
 * @reply_len:  set to the reply's length on NS_DHCP_REPLY
 * @dest:       set to where the reply goes on NS_DHCP_REPLY
 */
enum ns_dhcp_result ns_dhcp_handle(struct ns_dhcp *d, const uint8_t *msg, size_t len,
                                   uint64_t now, uint8_t *reply, size_t cap,
                                   size_t *reply_len, struct ns_dhcp_dest *dest);

/**
 * ns_dhcp_owner() - who holds @ip
 * Return: 1 and the holder's MAC in @mac if @ip is leased or offered, else 0.
 * Used by ARP (never answer for a guest's own address) and to find the guest's
 * link address when sending to it.
 */
int ns_dhcp_owner(const struct ns_dhcp *d, uint32_t ip, uint8_t mac[6]);

#endif /* NETSTACK_DHCP_H */
