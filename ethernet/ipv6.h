/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipv6.h - private: IPv6 from and to the guest (RFC 8200)
 *
 *   0       4              12      16      18      20      24          40
 *   +-------+--------------+-------+-------+-------+-------------------+----
 *   |v|class|  flow label  |payload|next   |hop    | source  | dest.   | extension
 *   |       |              |length |header |limit  | 16 bytes| 16 bytes| headers...
 *   +-------+--------------+-------+-------+-------+-------------------+----
 *
 * Addresses are struct in6_addr, in network order as they travel: unlike
 * IPv4's, they are never converted.
 */
#ifndef NETSTACK_IPV6_H
#define NETSTACK_IPV6_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ns_link;
struct ns_reader;

#define IPV6_HLEN           40
#define IPV6_MIN_MTU        1280    /* RFC 8200 section 5 */
#define IPV6_MAX_EXT        8       /* extension headers walked before giving up */

/* Next Header values the walk knows (RFC 8200 section 4, IANA). */
#define IPV6_NH_HOPOPTS     0
#define IPV6_NH_ROUTING     43
#define IPV6_NH_FRAGMENT    44
#define IPV6_NH_ICMPV6      58
#define IPV6_NH_DSTOPTS     60

#define IPV6_FRAG_MF        0x0001
#define IPV6_FRAG_OFFMASK   0xfff8

/*
 * struct ns_ipv6 - a validated IPv6 packet; pointers are into checked buffers
 * @src, @dst:   the addresses
 * @hop_limit:   as received
 * @proto:       the upper-layer protocol after the extension headers
 * @hdr:         the fixed header as received
 * @payload:     the upper-layer bytes, @payload_len of them
 * @has_frag:    a fragment header was present; @frag (offset and M flag as
 *               on the wire) and @frag_id are its fields
 * @src_mac:     the Ethernet source the packet came from
 * @csum_trusted: the transport vouches for the UDP/TCP checksum, or the
 *               guest left it partial (as struct ns_ipv4's)
 * @in_frame:    @payload lies in the current input frame, not a reassembly
 *               buffer (as struct ns_ipv4's)
 */
struct ns_ipv6 {
    struct in6_addr src, dst;
    uint8_t hop_limit;
    uint8_t proto;
    const uint8_t *hdr;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t has_frag;
    uint16_t frag;
    uint32_t frag_id;
    const uint8_t *src_mac;
    uint8_t csum_trusted;
    uint8_t in_frame;
};

/* Why ns_ipv6_parse() rejected a packet; each maps to a drop counter. */
enum ns_ipv6_verdict {
    NS_IPV6_OK = 0,
    NS_IPV6_BAD_HEADER,             /* too short, version */
    NS_IPV6_BAD_LENGTH,             /* payload length beyond the received bytes */
    NS_IPV6_BAD_SOURCE,             /* multicast or loopback source */
    NS_IPV6_BAD_EXT,                /* an extension header chain that is malformed,
                                       runs off the end, repeats or is too long */
};

/**
 * ns_ipv6_parse() - validate the IPv6 packet at @r and walk its extension headers
 * @r:  the reader, at the IPv6 header; on success it is past the packet
 * @ip: filled on success
 *
 * Ethernet padding after the payload length is ignored. Hop-by-Hop options
 * must come first; every option whose type says "discard if unknown" (RFC
 * 8200 section 4.2) fails the packet, Pad1, PadN and Router Alert are
 * known. A routing header with segments left is refused (we are not an
 * intermediate node of a source route, and type 0 is deprecated by RFC
 * 5095).
 * Return: NS_IPV6_OK or the reason.
 */
enum ns_ipv6_verdict ns_ipv6_parse(struct ns_reader *r, struct ns_ipv6 *ip);

/**
 * ns_ipv6_input() - one IPv6 packet from the guest: validate, learn, dispatch.
 */
void ns_ipv6_input(struct ns_link *lk, const uint8_t src_mac[6], struct ns_reader *r);

/**
 * ns_ipv6_deliver() - a validated packet, or a reassembled one (whose
 * headers after the fragment header are walked here), to its protocol.
 */
void ns_ipv6_deliver(struct ns_link *lk, const struct ns_ipv6 *ip);

/**
 * ns_ipv6_send() - frame and queue an IPv6 packet of the stack's own
 * @dst_mac: the Ethernet destination (the caller knows it: the requester's
 *           MAC, or a multicast MAC from ns_ipv6_multicast_mac())
 * @hdr, @hlen, @data, @dlen: the payload, as a header and what follows it
 *
 * A packet larger than the link MTU is sent as fragments (a reply to a
 * reassembled echo request, say). Return: 0, -EMSGSIZE, -ENOBUFS.
 */
int ns_ipv6_send(struct ns_link *lk, const uint8_t dst_mac[6], const struct in6_addr *src,
                 const struct in6_addr *dst, uint8_t proto, uint8_t hop_limit,
                 const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t dlen);

/**
 * ns_ipv6_multicast_mac() - the Ethernet address of IPv6 multicast @dst (RFC 2464 section 7).
 */
void ns_ipv6_multicast_mac(const struct in6_addr *dst, uint8_t mac[6]);

/**
 * ns_ipv6_is_local() - is @a one of the stack's own IPv6 addresses (the
 * gateway's global and link-local, the host-loopback alias)?
 */
int ns_ipv6_is_local(const struct ns_link *lk, const struct in6_addr *a);

/**
 * ns_ipv6_in_prefix() - is @a inside the guest's /64?
 */
int ns_ipv6_in_prefix(const struct ns_link *lk, const struct in6_addr *a);

static inline int ns_ip6_is_multicast(const struct in6_addr *a)
{
    return a->s6_addr[0] == 0xff;
}

static inline int ns_ip6_is_unspecified(const struct in6_addr *a)
{
    static const struct in6_addr any;

    return !memcmp(a, &any, sizeof(any));
}

static inline int ns_ip6_is_link_local(const struct in6_addr *a)
{
    return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

static inline int ns_ip6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
    return !memcmp(a, b, sizeof(*a));
}

/**
 * ns_ip6_mapped4() - IPv4 @ip (host order) as ::ffff:a.b.c.d (RFC 4291
 * 2.5.5.2), the form in which tables shared by both families keep it.
 */
static inline struct in6_addr ns_ip6_mapped4(uint32_t ip)
{
    struct in6_addr a = { .s6_addr = { [10] = 0xff, [11] = 0xff } };

    a.s6_addr[12] = (uint8_t)(ip >> 24);
    a.s6_addr[13] = (uint8_t)(ip >> 16);
    a.s6_addr[14] = (uint8_t)(ip >> 8);
    a.s6_addr[15] = (uint8_t)ip;
    return a;
}

/**
 * ns_ip6_is_mapped4() - is @a an IPv4 address in the mapped form?
 */
static inline int ns_ip6_is_mapped4(const struct in6_addr *a)
{
    static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

    return !memcmp(a->s6_addr, pfx, sizeof(pfx));
}

/**
 * ns_ip6_get4() - the IPv4 address (host order) inside mapped @a.
 */
static inline uint32_t ns_ip6_get4(const struct in6_addr *a)
{
    return (uint32_t)a->s6_addr[12] << 24 | (uint32_t)a->s6_addr[13] << 16 |
           (uint32_t)a->s6_addr[14] << 8 | a->s6_addr[15];
}

/**
 * ns_ip6_solicited_node() - is @dst the solicited-node multicast address
 * (ff02::1:ffXX:XXXX, RFC 4291 section 2.7.1) of @a?
 */
static inline int ns_ip6_solicited_node(const struct in6_addr *dst, const struct in6_addr *a)
{
    static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

    return !memcmp(dst->s6_addr, pfx, sizeof(pfx)) &&
           !memcmp(dst->s6_addr + 13, a->s6_addr + 13, 3);
}

#endif /* NETSTACK_IPV6_H */
