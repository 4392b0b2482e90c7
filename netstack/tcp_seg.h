/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_seg.h - private: a TCP segment from the guest, of either family
 *
 * The TCP NAT (tcp_nat.c) and lwIP's input (lwip_glue.c) handle both
 * families on one path: what they need of the IP layer is the addresses,
 * kept as IPv6 addresses with IPv4 in the mapped form (::ffff:a.b.c.d) as
 * every table shared by both families keeps them, and the header lwIP is
 * handed in front of the segment.
 */
#ifndef NETSTACK_TCP_SEG_H
#define NETSTACK_TCP_SEG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"

/*
 * struct ns_tcp_seg - a validated TCP segment from the guest
 * @src, @dst:    the addresses (IPv4 mapped)
 * @v6:           an IPv6 packet
 * @hdr, @hdr_len: the IP header as received: IPv4's with its options, or
 *                IPv6's fixed header (extension headers are not passed on;
 *                lwip_glue.c rewrites the next header and length fields)
 * @payload, @payload_len: the TCP header and data
 * @csum_trusted: do not verify the TCP checksum (see struct ns_ipv4)
 * @in_frame:     @payload lies in the current input frame (see struct ns_ipv4)
 */
struct ns_tcp_seg {
    struct in6_addr src, dst;
    uint8_t v6;
    const uint8_t *hdr;
    size_t hdr_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t csum_trusted;
    uint8_t in_frame;
};

static inline struct ns_tcp_seg ns_tcp_seg4(const struct ns_ipv4 *ip)
{
    return (struct ns_tcp_seg){
        .src = ns_ip6_mapped4(ip->src), .dst = ns_ip6_mapped4(ip->dst),
        .hdr = ip->hdr, .hdr_len = ip->hdr_len,
        .payload = ip->payload, .payload_len = ip->payload_len,
        .csum_trusted = ip->csum_trusted, .in_frame = ip->in_frame,
    };
}

static inline struct ns_tcp_seg ns_tcp_seg6(const struct ns_ipv6 *ip)
{
    return (struct ns_tcp_seg){
        .src = ip->src, .dst = ip->dst, .v6 = 1,
        .hdr = ip->hdr, .hdr_len = IPV6_HLEN,
        .payload = ip->payload, .payload_len = ip->payload_len,
        .csum_trusted = ip->csum_trusted, .in_frame = ip->in_frame,
    };
}

#endif /* NETSTACK_TCP_SEG_H */
