/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipv6.c - IPv6 from and to the guest (RFC 8200)
 *
 * Theory of Operation: a packet is validated before any of it is trusted:
 * version, payload length against the bytes that arrived (Ethernet padding
 * beyond it is trimmed), the source, and then the extension header chain,
 * walked through a reader bounded by the payload length. Each header must be
 * whole inside it, Hop-by-Hop only first, at most one fragment header, at
 * most IPV6_MAX_EXT headers in all (a chain cannot loop, but it can repeat
 * itself until the packet ends), options with "discard if unknown" semantics
 * refuse the packet. A failure anywhere is one counted drop.
 *
 * Fragments go to the reassembly table the IPv4 ones use (reasm.c, the
 * same limits) and come back through ns_ipv6_deliver(), which walks the
 * headers that followed the fragment header.
 *
 * Dispatch: TCP, UDP and ICMPv6 to any address go the way IPv4's do, to
 * netstack/tcp_nat.c, netstack/udp.c (which serves DNS and DHCPv6 on the
 * gateway's addresses and hands the rest to the NAT) and icmp6.c (echo,
 * neighbour and router discovery; echo requests beyond the stack to the
 * NAT). Other upper-layer protocols and super-frames other than TSO6 and
 * USO are counted (drop_ipv6_proto, drop_gso_malformed).
 *
 * Output: ns_ipv6_send() frames the stack's own packets and fragments one
 * larger than the link MTU (a reply to a reassembled echo request), as the
 * source must in IPv6.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ethernet/eth.h"
#include "ethernet/icmp6.h"
#include "ethernet/ipv6.h"
#include "ethernet/ndp.h"
#include "ethernet/reader.h"
#include "ethernet/reasm.h"
#include "ethernet/writer.h"
#include "netstack/nat.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"
#include "netstack/tcp_seg.h"
#include "netstack/udp.h"

/* Router Alert (RFC 2711), carried by the guest's MLD reports. */
#define IPV6_OPT_PAD1           0
#define IPV6_OPT_PADN           1
#define IPV6_OPT_ROUTER_ALERT   5

/**
 * walk_options() - check the TLV options of a Hop-by-Hop or Destination
 * Options header
 * @r: the option bytes (the header without its first two bytes)
 *
 * Return: 0 if every option is whole and may be skipped or is known, -1 if
 * one runs off the end or its type says to discard the packet (the two high
 * bits nonzero, RFC 8200 section 4.2).
 */
static int walk_options(struct ns_reader *r)
{
    while (ns_reader_left(r)) {
        uint8_t type = ns_read_u8(r), len;

        if (type == IPV6_OPT_PAD1)
            continue;
        len = ns_read_u8(r);
        ns_reader_skip(r, len);
        if (ns_reader_failed(r))
            return -1;
        if (type == IPV6_OPT_ROUTER_ALERT && len != 2)
            return -1;
        if (type != IPV6_OPT_PADN && type != IPV6_OPT_ROUTER_ALERT && (type & 0xc0))
            return -1;
    }
    return 0;
}

static int is_extension(uint8_t nh)
{
    return nh == IPV6_NH_HOPOPTS || nh == IPV6_NH_ROUTING || nh == IPV6_NH_FRAGMENT ||
           nh == IPV6_NH_DSTOPTS;
}

/**
 * walk_one() - check the extension header of type @type at @x's position
 * @x:    the reader over the payload, left after the header on success
 * @n:    how many headers came before it
 * @ip:   gets the fragment header's fields
 * @next: its Next Header field
 *
 * Return: 0, or -1 for a malformed or misplaced header.
 */
static int walk_one(struct ns_reader *x, uint8_t type, int n, struct ns_ipv6 *ip, uint8_t *next)
{
    /* Every extension header is a multiple of 8 bytes, at least 8. */
    const uint8_t *e = ns_reader_peek(x, x->off, 8);
    struct ns_reader opts;
    size_t len = 8;

    if (!e)
        return -1;
    switch (type) {
    case IPV6_NH_HOPOPTS:
    case IPV6_NH_DSTOPTS:
        if (type == IPV6_NH_HOPOPTS && n != 0)
            return -1;
        len = ((size_t)e[1] + 1) * 8;
        if (!(e = ns_reader_peek(x, x->off, len)))
            return -1;
        ns_reader_init(&opts, e + 2, len - 2);
        if (walk_options(&opts))
            return -1;
        break;
    case IPV6_NH_ROUTING:
        len = ((size_t)e[1] + 1) * 8;
        if (!ns_reader_peek(x, x->off, len) || e[3] != 0)
            return -1;  /* segments left: we would be a hop of a source route */
        break;
    case IPV6_NH_FRAGMENT:
        if (ip->has_frag)
            return -1;
        ip->has_frag = 1;
        ip->frag = ns_load_be16(e + 2);
        ip->frag_id = ns_load_be32(e + 4);
        break;
    default:
        return -1;
    }
    *next = e[0];
    ns_reader_skip(x, len);
    return 0;
}

/**
 * walk_chain() - walk the extension headers at @x, the first of type *@nh
 * @n:  headers walked before these (0 right after the fixed header)
 * @ip: gets the fragment header's fields
 *
 * Stops at the upper-layer header, or right after the fragment header of a
 * fragment (not an atomic one): what follows is data until reassembled.
 * Return: 0 with *@nh the header that follows, -1 for a bad chain.
 */
static int walk_chain(struct ns_reader *x, uint8_t *nh, int n, struct ns_ipv6 *ip)
{
    for (; is_extension(*nh); n++) {
        if (n == IPV6_MAX_EXT || walk_one(x, *nh, n, ip, nh))
            return -1;
        if (ip->has_frag && (ip->frag & (IPV6_FRAG_OFFMASK | IPV6_FRAG_MF)))
            break;
    }
    return 0;
}

enum ns_ipv6_verdict ns_ipv6_parse(struct ns_reader *r, struct ns_ipv6 *ip)
{
    const uint8_t *h = ns_reader_peek(r, r->off, IPV6_HLEN);
    struct ns_reader x;
    size_t plen;
    uint8_t nh;

    if (!h || h[0] >> 4 != 6)
        return NS_IPV6_BAD_HEADER;
    plen = ns_load_be16(h + 4);
    if (plen > ns_reader_left(r) - IPV6_HLEN)
        return NS_IPV6_BAD_LENGTH;
    memcpy(&ip->src, h + 8, 16);
    memcpy(&ip->dst, h + 24, 16);
    if (ns_ip6_is_multicast(&ip->src) || IN6_IS_ADDR_LOOPBACK(&ip->src))
        return NS_IPV6_BAD_SOURCE;
    ip->has_frag = 0;
    ip->frag = 0;
    ip->frag_id = 0;
    ns_reader_init(&x, h + IPV6_HLEN, plen);
    nh = h[6];
    if (walk_chain(&x, &nh, 0, ip))
        return NS_IPV6_BAD_EXT;
    ip->proto = nh;
    ip->hop_limit = h[7];
    ip->hdr = h;
    ip->in_frame = 1;
    ip->payload = h + IPV6_HLEN + x.off;
    ip->payload_len = plen - x.off;
    ip->src_mac = NULL;
    ns_reader_skip(r, IPV6_HLEN + plen);
    return NS_IPV6_OK;
}

/**
 * count_verdict() - the drop counter for a parse failure.
 */
static void count_verdict(struct ns_link *lk, enum ns_ipv6_verdict v)
{
    switch (v) {
    case NS_IPV6_BAD_HEADER:
        NS_COUNT(lk, drop_ipv6_header);
        break;
    case NS_IPV6_BAD_LENGTH:
        NS_COUNT(lk, drop_ipv6_length);
        break;
    case NS_IPV6_BAD_SOURCE:
        NS_COUNT(lk, drop_ipv6_source);
        break;
    case NS_IPV6_BAD_EXT:
        NS_COUNT(lk, drop_ipv6_ext);
        break;
    case NS_IPV6_OK:
        break;
    }
}

int ns_ipv6_in_prefix(const struct ns_link *lk, const struct in6_addr *a)
{
    return !memcmp(a->s6_addr, lk->prefix6.s6_addr, 8);
}

int ns_ipv6_is_local(const struct ns_link *lk, const struct in6_addr *a)
{
    return lk->ipv6 && (ns_ip6_equal(a, &lk->gateway6) || ns_ip6_equal(a, &lk->gateway6_ll) ||
                        (!ns_ip6_is_unspecified(&lk->dns6) && ns_ip6_equal(a, &lk->dns6)) ||
                        (lk->host_loopback && ns_ip6_equal(a, &lk->host_loopback6)));
}

/**
 * for_us_multicast() - a multicast destination the stack listens to: all
 * nodes, all routers, the DHCPv6 servers (ff02::1:2), and every
 * solicited-node group (ff02::1:ff00:0/104): the stack answers for its own
 * addresses and learns the guest's from its duplicate address detection
 * (ndp.c), whose solicitations go to the groups of the guest's addresses.
 */
static int for_us_multicast(const struct ns_link *lk, const struct in6_addr *dst)
{
    static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
    static const uint8_t all_routers[16] = { 0xff, 0x02, [15] = 2 };
    static const uint8_t dhcp_servers[16] = { 0xff, 0x02, [13] = 1, [15] = 2 };
    static const uint8_t solicited[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

    return !memcmp(dst->s6_addr, all_nodes, 16) || !memcmp(dst->s6_addr, all_routers, 16) ||
           !memcmp(dst->s6_addr, dhcp_servers, 16) || !memcmp(dst->s6_addr, solicited, 13);
}

/**
 * source_ok() - the guest may only speak from its link: the unspecified
 * address (DAD, RFC 4862), link-local addresses, addresses of the prefix.
 */
static int source_ok(const struct ns_link *lk, const struct in6_addr *src)
{
    return (ns_ip6_is_unspecified(src) || ns_ip6_is_link_local(src) ||
            ns_ipv6_in_prefix(lk, src)) && !ns_ipv6_is_local(lk, src);
}

/**
 * offload_ok() - apply the frame's offload state to @ip, as ipv4.c does:
 * checksums trusted where the link guarantees integrity or the guest left
 * them partial; a super-frame must be one unfragmented TCP segment (TSO6),
 * which lwIP takes whole, or one unfragmented train of UDP datagrams (USO),
 * which udp.c cuts.
 * Return: 1 to go on, 0 if @ip was dropped and counted.
 */
static int offload_ok(struct ns_link *lk, struct ns_ipv6 *ip)
{
    const struct netstack_offload *o = lk->rx_offload;

    ip->csum_trusted = !!(lk->offloads & NETSTACK_LINK_INTEGRITY) ||
                       (o && (o->flags & (NETSTACK_OFFLOAD_F_NEEDS_CSUM |
                                          NETSTACK_OFFLOAD_F_DATA_VALID)));
    if (!o || o->gso_type == NETSTACK_GSO_NONE)
        return 1;
    if (o->gso_type == NETSTACK_GSO_TCPV6 && ip->proto == IPPROTO_TCP && !ip->has_frag) {
        NS_COUNT(lk, gso_frames_in);
        return 1;
    }
    if (o->gso_type == NETSTACK_GSO_UDP_L4 && ip->proto == IPPROTO_UDP && !ip->has_frag)
        return 1;   /* cut and counted in udp.c */
    NS_COUNT(lk, drop_gso_malformed);
    return 0;
}

void ns_ipv6_input(struct ns_link *lk, const uint8_t src_mac[6], struct ns_reader *r)
{
    enum ns_ipv6_verdict v;
    struct ns_ipv6 ip;

    NS_COUNT(lk, ipv6_in);
    v = ns_ipv6_parse(r, &ip);
    if (v != NS_IPV6_OK) {
        count_verdict(lk, v);
        return;
    }
    if (!source_ok(lk, &ip.src)) {
        NS_COUNT(lk, drop_ipv6_source);
        return;
    }
    ip.src_mac = src_mac;
    if (!offload_ok(lk, &ip))
        return;
    if (!ns_ip6_is_unspecified(&ip.src))
        ns_neigh6_learn(lk, &ip.src, src_mac);
    ns_ndp_guest_seen(lk);
    /* Unicast to other addresses is the NAT's (ns_ipv6_deliver()). */
    if (ns_ip6_is_multicast(&ip.dst) && !for_us_multicast(lk, &ip.dst)) {
        NS_COUNT(lk, drop_ipv6_multicast);
        return;
    }
    /* Only neighbour discovery speaks before it has an address (DAD, RFC 4862). */
    if (ns_ip6_is_unspecified(&ip.src) && ip.proto != IPV6_NH_ICMPV6) {
        NS_COUNT(lk, drop_ipv6_source);
        return;
    }
    /* An atomic fragment (offset 0, no more) is a whole packet (RFC 6946). */
    if (ip.has_frag && (ip.frag & (IPV6_FRAG_OFFMASK | IPV6_FRAG_MF))) {
        ns_reasm_input6(lk, &ip);
        return;
    }
    ns_ipv6_deliver(lk, &ip);
}

void ns_ipv6_deliver(struct ns_link *lk, const struct ns_ipv6 *in)
{
    struct ns_ipv6 ip = *in;

    /* Reassembled: the headers after the fragment header are still to walk. */
    if (is_extension(ip.proto)) {
        struct ns_reader x;
        uint8_t nh = ip.proto;

        ns_reader_init(&x, ip.payload, ip.payload_len);
        ip.has_frag = 1;    /* a second fragment header is refused */
        if (walk_chain(&x, &nh, 1, &ip)) {
            NS_COUNT(lk, drop_ipv6_ext);
            return;
        }
        ip.proto = nh;
        ip.payload += x.off;
        ip.payload_len -= x.off;
    }
    if (ip.proto == IPPROTO_TCP) {
        struct ns_tcp_seg seg = ns_tcp_seg6(&ip);

        if (!ns_ip6_is_multicast(&ip.dst))
            ns_tcp_nat_input(lk->up, &seg);
        else
            NS_COUNT(lk, drop_ipv6_multicast);
    } else if (ip.proto == IPPROTO_UDP) {
        ns_udp6_input(lk->up, &ip);
    } else if (ip.proto == IPV6_NH_ICMPV6) {
        ns_icmp6_input(lk, &ip);
    } else {
        NS_COUNT(lk, drop_ipv6_proto);
    }
}

void ns_ipv6_multicast_mac(const struct in6_addr *dst, uint8_t mac[6])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, dst->s6_addr + 12, 4);
}

/*
 * struct parts - a payload given as a header and the data after it, so that
 * callers need not copy the two together first
 */
struct parts {
    const uint8_t *hdr, *data;
    size_t hlen, dlen;
};

/**
 * put_range() - bytes [@off, @off + @n) of @p.
 */
static void put_range(struct ns_writer *w, const struct parts *p, size_t off, size_t n)
{
    if (off < p->hlen) {
        size_t k = p->hlen - off < n ? p->hlen - off : n;

        ns_writer_bytes(w, p->hdr + off, k);
        off += k;
        n -= k;
    }
    if (n)
        ns_writer_bytes(w, p->data + (off - p->hlen), n);
}

/**
 * queue_packet() - frame and queue one packet: the fixed header, then a
 * fragment header if @frag_id is set, then bytes [@off, @off + @n) of @p
 * @frag: the fragment header's offset and M flag, as on the wire
 * Return: 0 or -ENOBUFS.
 */
static int queue_packet(struct ns_link *lk, const uint8_t dst_mac[6], const struct in6_addr *src,
                        const struct in6_addr *dst, uint8_t proto, uint8_t hop_limit,
                        const struct parts *p, size_t off, size_t n, const uint32_t *frag_id,
                        uint16_t frag)
{
    size_t fh = frag_id ? 8 : 0, flen = ETH_HLEN + IPV6_HLEN + fh + n;
    struct ns_writer w;
    uint8_t *f;

    if (!(f = ns_tx_alloc(lk->up, flen)))
        return -ENOBUFS;
    ns_writer_init(&w, f, flen);
    ns_eth_header(ns_writer_reserve(&w, ETH_HLEN), dst_mac, lk->mac, ETH_P_IPV6);
    ns_writer_be32(&w, 6u << 28);   /* version; traffic class and flow label 0 */
    ns_writer_be16(&w, (uint16_t)(fh + n));
    ns_writer_u8(&w, frag_id ? IPV6_NH_FRAGMENT : proto);
    ns_writer_u8(&w, hop_limit);
    ns_writer_bytes(&w, src->s6_addr, 16);
    ns_writer_bytes(&w, dst->s6_addr, 16);
    if (frag_id) {
        ns_writer_u8(&w, proto);
        ns_writer_u8(&w, 0);
        ns_writer_be16(&w, frag);
        ns_writer_be32(&w, *frag_id);
    }
    put_range(&w, p, off, n);
    ns_tx_commit(lk->up, f, w.len);
    return 0;
}

int ns_ipv6_send(struct ns_link *lk, const uint8_t dst_mac[6], const struct in6_addr *src,
                 const struct in6_addr *dst, uint8_t proto, uint8_t hop_limit,
                 const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t dlen)
{
    struct parts p = { hdr, data, hlen, dlen };
    size_t len = hlen + dlen, max = ((size_t)lk->mtu - IPV6_HLEN - 8) & ~(size_t)7, off;
    uint32_t id;
    int rc;

    if (IPV6_HLEN + len <= lk->mtu)
        return queue_packet(lk, dst_mac, src, dst, proto, hop_limit, &p, 0, len, NULL, 0);
    /* The source fragments in IPv6 (RFC 8200 section 4.5): a fragment header each. */
    if (len > 65535 - 8)
        return -EMSGSIZE;
    id = ++lk->ip6_frag_id;
    for (off = 0; off < len; off += max) {
        size_t n = len - off > max ? max : len - off;

        rc = queue_packet(lk, dst_mac, src, dst, proto, hop_limit, &p, off, n, &id,
                          (uint16_t)(off | (off + n < len ? IPV6_FRAG_MF : 0)));
        if (rc)
            return rc;
    }
    return 0;
}
