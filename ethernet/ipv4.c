/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipv4.c - IPv4 from and to the guest (RFC 791, RFC 1122 section 3.2.1)
 *
 * Theory of Operation: a packet is validated before any of it is trusted:
 * version, IHL, total length against the header and against the bytes that
 * arrived (Ethernet padding beyond the total length is trimmed), and the header
 * checksum. Fragments go to the bounded reassembly table (reasm.c) and come
 * back as one datagram. Complete datagrams are dispatched by protocol: ICMP and
 * UDP to the stack's own handlers, TCP to lwIP. lwIP never sees a header that
 * was not checked here.
 *
 * Output: ns_ipv4_send() builds header and Ethernet framing for the stack's own
 * replies (ICMP, DHCP) and fragments datagrams larger than the link MTU, so a
 * reply to a reassembled 10 kB ping reaches a 1500-byte guest intact.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ethernet/arp.h"
#include "ethernet/checksum.h"
#include "ethernet/eth.h"
#include "ethernet/icmp.h"
#include "ethernet/ipv4.h"
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

enum ns_ipv4_verdict ns_ipv4_parse(struct ns_reader *r, struct ns_ipv4 *ip)
{
    const uint8_t *h = ns_reader_peek(r, r->off, IPV4_HLEN);
    size_t ihl, total;

    if (!h || h[0] >> 4 != 4 || (h[0] & 0x0f) < 5)
        return NS_IPV4_BAD_HEADER;
    ihl = (size_t)(h[0] & 0x0f) * 4;
    total = ns_load_be16(h + 2);
    if (!(h = ns_reader_peek(r, r->off, ihl)))
        return NS_IPV4_BAD_HEADER;
    if (total < ihl || total > ns_reader_left(r))
        return NS_IPV4_BAD_LENGTH;
    if (ns_csum(h, ihl) != 0)
        return NS_IPV4_BAD_CHECKSUM;
    ip->src = ns_load_be32(h + 12);
    ip->dst = ns_load_be32(h + 16);
    if ((ip->src >> 28) == 0xe || ip->src == IPV4_BROADCAST || (ip->src >> 24) == 127)
        return NS_IPV4_BAD_SOURCE;
    ip->id = ns_load_be16(h + 4);
    ip->frag = ns_load_be16(h + 6);
    ip->ttl = h[8];
    ip->proto = h[9];
    ip->hdr = h;
    ip->hdr_len = ihl;
    ip->payload = h + ihl;
    ip->payload_len = total - ihl;
    ip->src_mac = NULL;
    ip->csum_trusted = 0;
    ip->in_frame = 1;
    ns_reader_skip(r, total);
    return NS_IPV4_OK;
}

/**
 * count_verdict() - the drop counter for a parse failure.
 */
static void count_verdict(struct ns_link *lk, enum ns_ipv4_verdict v)
{
    switch (v) {
    case NS_IPV4_BAD_HEADER:
        NS_COUNT(lk, drop_ipv4_header);
        break;
    case NS_IPV4_BAD_LENGTH:
        NS_COUNT(lk, drop_ipv4_length);
        break;
    case NS_IPV4_BAD_CHECKSUM:
        NS_COUNT(lk, drop_ipv4_checksum);
        break;
    case NS_IPV4_BAD_SOURCE:
        NS_COUNT(lk, drop_ipv4_source);
        break;
    case NS_IPV4_OK:
        break;
    }
}

void ns_ipv4_deliver(struct ns_link *lk, const struct ns_ipv4 *ip)
{
    switch (ip->proto) {
    case IPPROTO_ICMP:
        ns_icmp_input(lk, ip);
        break;
    case IPPROTO_UDP:
        ns_udp_input(lk->up, ip);
        break;
    case IPPROTO_TCP: {
        struct ns_tcp_seg seg = ns_tcp_seg4(ip);

        ns_tcp_nat_input(lk->up, &seg);
        break;
    }
    default:
        NS_COUNT(lk, drop_ipv4_proto);
        break;
    }
}

/**
 * ns_ipv4_offload() - apply the frame's offload state to @ip
 * A super-frame (virtio-net GSO) must be what it says: one unfragmented TCP
 * segment, or one unfragmented train of UDP datagrams (USO, cut in udp.c);
 * anything else claiming GSO is dropped, since its size was only let in for
 * that. Checksums are trusted on a link that guarantees integrity
 * and where the guest left them partial (NEEDS_CSUM) or vouched for them.
 * Return: 0 to go on, -1 if @ip was dropped and counted.
 */
static int ns_ipv4_offload(struct ns_link *lk, struct ns_ipv4 *ip)
{
    const struct netstack_offload *o = lk->rx_offload;

    ip->csum_trusted = !!(lk->offloads & NETSTACK_LINK_INTEGRITY);
    if (!o)
        return 0;
    if (o->flags & (NETSTACK_OFFLOAD_F_NEEDS_CSUM | NETSTACK_OFFLOAD_F_DATA_VALID))
        ip->csum_trusted = 1;
    if (o->gso_type == NETSTACK_GSO_NONE)
        return 0;
    if ((o->gso_type == NETSTACK_GSO_TCPV4 && ip->proto == IPPROTO_TCP) ||
        (o->gso_type == NETSTACK_GSO_UDP_L4 && ip->proto == IPPROTO_UDP)) {
        if (!(ip->frag & (IPV4_MF | IPV4_OFFMASK))) {
            if (ip->proto == IPPROTO_TCP)
                NS_COUNT(lk, gso_frames_in);    /* UDP: counted once it is cut (udp.c) */
            return 0;
        }
    }
    NS_COUNT(lk, drop_gso_malformed);
    return -1;
}

void ns_ipv4_input(struct ns_link *lk, const uint8_t src_mac[6], struct ns_reader *r)
{
    enum ns_ipv4_verdict v;
    struct ns_ipv4 ip;

    NS_COUNT(lk, ipv4_in);
    v = ns_ipv4_parse(r, &ip);
    if (v != NS_IPV4_OK) {
        count_verdict(lk, v);
        return;
    }
    /* Only the guest's subnet, or 0.0.0.0 while it asks DHCP for an address. */
    if (ip.src && !ns_link_in_subnet(lk, ip.src)) {
        NS_COUNT(lk, drop_ipv4_source);
        return;
    }
    ip.src_mac = src_mac;
    if (ns_ipv4_offload(lk, &ip))
        return;
    ns_neigh_learn(lk, ip.src, src_mac);
    if (ip.frag & (IPV4_MF | IPV4_OFFMASK)) {
        ns_reasm_input(lk, &ip);
        return;
    }
    ns_ipv4_deliver(lk, &ip);
}

int ns_ipv4_dst_mac(struct ns_link *lk, uint32_t dst, uint8_t mac[6])
{
    if (dst == IPV4_BROADCAST || dst == lk->broadcast) {
        memcpy(mac, ns_eth_broadcast, ETH_ALEN);
        return 0;
    }
    if (ns_neigh_lookup(lk, dst, mac))
        return 0;
    ns_arp_request(lk, dst);
    return -1;
}

/*
 * struct ip_payload - an IP payload given as a header and the data after it,
 * so that callers need not copy the two together first
 */
struct ip_payload {
    const uint8_t *hdr, *data;
    size_t hlen, len;
};

/**
 * put_range() - bytes [@off, @off + @n) of @p.
 */
static void put_range(struct ns_writer *w, const struct ip_payload *p, size_t off, size_t n)
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
 * queue_fragment() - frame and queue one packet of a datagram
 * @off:  offset of this piece in the payload, in bytes (a multiple of 8)
 * @more: set the More Fragments flag
 */
static int queue_fragment(struct ns_link *lk, const uint8_t *mac, uint32_t src, uint32_t dst,
                          uint8_t proto, uint16_t id, const struct ip_payload *p, size_t len,
                          size_t off, int more)
{
    size_t flen = ETH_HLEN + IPV4_HLEN + len;
    uint8_t *f = ns_tx_alloc(lk->up, flen), *h;
    struct ns_writer w;

    if (!f)
        return -ENOBUFS;
    ns_writer_init(&w, f, flen);
    ns_eth_header(ns_writer_reserve(&w, ETH_HLEN), mac, lk->mac, ETH_P_IPV4);
    h = w.data + w.len;
    ns_writer_u8(&w, 0x45);
    ns_writer_u8(&w, 0);
    ns_writer_be16(&w, (uint16_t)(IPV4_HLEN + len));
    ns_writer_be16(&w, id);
    ns_writer_be16(&w, (uint16_t)((more ? IPV4_MF : 0) | (off / 8)));
    ns_writer_u8(&w, 64);
    ns_writer_u8(&w, proto);
    ns_writer_be16(&w, 0);
    ns_writer_be32(&w, src);
    ns_writer_be32(&w, dst);
    put_range(&w, p, off, len);
    ns_store_be16(h + 10, ns_csum(h, IPV4_HLEN));
    ns_tx_commit(lk->up, f, w.len);
    return 0;
}

int ns_ipv4_send_parts(struct ns_link *lk, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                       uint8_t proto, const uint8_t *hdr, size_t hlen, const uint8_t *data,
                       size_t dlen)
{
    size_t max = ((size_t)lk->mtu - IPV4_HLEN) & ~(size_t)7, off = 0, len = hlen + dlen;
    struct ip_payload p = { hdr, data, hlen, dlen };
    uint8_t mac[6];
    uint16_t id = lk->ip_id++;
    int rc;

    if (len > IPV4_MAX_LEN - IPV4_HLEN)
        return -EMSGSIZE;
    if (dst_mac)
        memcpy(mac, dst_mac, 6);
    else if (ns_ipv4_dst_mac(lk, dst, mac)) {
        NS_COUNT(lk, drop_tx_no_neighbor);
        return -EHOSTUNREACH;
    }
    do {
        size_t piece = len - off > max ? max : len - off;

        rc = queue_fragment(lk, mac, src, dst, proto, id, &p, piece, off, off + piece < len);
        if (rc)
            return rc;
        off += piece;
    } while (off < len);
    return 0;
}

int ns_ipv4_send(struct ns_link *lk, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                 uint8_t proto, const uint8_t *payload, size_t len)
{
    return ns_ipv4_send_parts(lk, dst_mac, src, dst, proto, NULL, 0, payload, len);
}
