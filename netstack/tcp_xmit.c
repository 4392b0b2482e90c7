/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_xmit.c - lwIP's TCP packets onto the guest link: checksums and segmentation
 *
 * Theory of Operation: lwIP hands every TCP packet it sends to the guest to
 * the netif (lwip_glue.c) as a pbuf chain, with neither checksum computed
 * (port/lwipopts.h). The packet is copied once into a transmit frame, and
 * the checksums are settled during that copy:
 *
 * - the IPv4 header checksum is always computed (20 bytes; IPv6 has none);
 * - the TCP checksum is left partial (the pseudo-header sum, virtio-net's
 *   NEEDS_CSUM) on a link that takes partial checksums (NETSTACK_LINK_CSUM):
 *   the guest's kernel treats a partial checksum as verified, so nobody ever
 *   sums the payload; otherwise it is computed over the bytes just copied,
 *   while they are in the cache.
 *
 * Super-segments: a NAT flow's pcb sends segments of up to 64 KiB whatever the
 * guest's MSS (tcp_nat.c raises pcb->mss once the connection is established),
 * so lwIP walks and acknowledges 40 times fewer segments at MTU 1500. Such a
 * packet leaves as one of:
 *
 * - a TSO super-frame (NETSTACK_LINK_TSO4, or TSO6 for IPv6): the whole
 *   packet, its IP length the whole length, with gso_type TCPV4 (TCPV6) and
 *   gso_size the guest's MSS;
 *   the guest's kernel takes it as a train of MSS-sized segments (as it takes
 *   a GRO packet) without cutting it;
 * - or MSS-sized frames cut in software during the copy, each a complete
 *   segment: IP length (and IPv4's identification and checksum), TCP sequence number,
 *   FIN and PSH on the last piece only, and its own TCP checksum.
 *
 * Either way the guest sees segments no larger than the MSS it announced. A
 * super-segment is only sent whole: if the transmit queue cannot take all its
 * pieces, lwIP keeps it (ERR_MEM) and sends it again when the queue drains.
 *
 * No copy at all: when the embedder offers send_gather() and nothing waits in
 * the transmit queue, a frame is handed over as its headers (built here) and
 * the payload where lwIP keeps it (for relayed flows, the host bytes in
 * tcp_sendq.c's chunks), and the transport writes it to the guest from there.
 * A full checksum is then summed over the payload in place. When the
 * transport would block, this frame and all after it are copied into the
 * queue, as above, until it drains.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ethernet/checksum.h"
#include "ethernet/eth.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/tcp_xmit.h"

#define TCP_HLEN_MIN    20
#define TCP_HLEN_MAX    60
#define TCP_OFF_SEQ     4
#define TCP_OFF_FLAGS   13
#define TCP_OFF_CSUM    16
#define TCP_FIN         0x01
#define TCP_PSH         0x08
#define TCP_CWR         0x80
#define IPV4_HLEN_MAX   60

/*
 * struct cursor - a read position in the packet's scatter list
 * @iov, @niov: the pieces; @i the current one, @off the offset in it
 */
struct cursor {
    const struct iovec *iov;
    size_t niov, i, off;
};

/*
 * struct slice - the next @n payload bytes of a packet, as pieces of its list
 */
struct slice {
    struct iovec v[NS_TCP_XMIT_IOV];
    size_t n;
};

/**
 * cut() - describe the next @n bytes of @c in @s and advance past them
 * Return: 0, -1 if the list ran out first (not a packet lwIP would build).
 */
static int cut(struct cursor *c, size_t n, struct slice *s)
{
    s->n = 0;
    while (n && c->i < c->niov) {
        size_t k = c->iov[c->i].iov_len - c->off;

        if (k > n)
            k = n;
        s->v[s->n++] = (struct iovec){ (uint8_t *)c->iov[c->i].iov_base + c->off, k };
        n -= k;
        c->off += k;
        if (c->off == c->iov[c->i].iov_len) {
            c->i++;
            c->off = 0;
        }
    }
    return n ? -1 : 0;
}

/**
 * gather() - copy @s to @dst (NULL: do not copy) and return the payload's sum
 * @sum:    whether to sum at all (a partial checksum needs none)
 *
 * The payload starts at an even offset of the TCP segment; a piece starting
 * at an odd one has its sum byte-swapped (RFC 1071 2(B)).
 */
static uint32_t gather(uint8_t *dst, const struct slice *s, int sum)
{
    uint32_t acc = 0;
    size_t i, at = 0;

    for (i = 0; i < s->n; i++) {
        const uint8_t *src = s->v[i].iov_base;
        size_t k = s->v[i].iov_len;
        uint32_t part = 0;

        if (dst && sum)
            part = ns_csum_copy(dst + at, src, k, 0);
        else if (dst)
            memcpy(dst + at, src, k);
        else if (sum)
            part = ns_csum_add(0, src, k);
        if (at & 1)
            part = (part >> 8 | part << 8) & 0xffff;
        acc += part;
        at += k;
    }
    return acc;
}

/**
 * take() - copy the next @n bytes of @c to @dst and advance
 * Return: 0, -1 if the list ran out first.
 */
static int take(struct cursor *c, uint8_t *dst, size_t n)
{
    struct slice s;

    if (cut(c, n, &s))
        return -1;
    gather(dst, &s, 0);
    return 0;
}

/*
 * struct seg - what every frame of one packet shares
 * @hdr:        the packet's IP and TCP headers as lwIP built them
 * @ihl, @thl:  their lengths
 * @v6:         an IPv6 packet
 * @payload:    payload bytes of the whole packet
 * @mac:        the guest's MAC
 * @partial:    leave the TCP checksum to the receiver
 */
struct seg {
    uint8_t hdr[IPV4_HLEN_MAX + TCP_HLEN_MAX];
    size_t ihl, thl, payload;
    int v6;
    const uint8_t *mac;
    int partial;
};

/**
 * headers() - Ethernet, IPv4 and TCP headers of one frame into @h
 * @off:    offset of the frame's payload in the packet's
 * @n:      its payload bytes
 * @piece:  index of this frame among the packet's (for the IPv4 identification)
 * @gso:    whether the frame is a super-frame (the packet's headers as they are)
 * @o:      the frame's offload state, filled in (partial checksum, GSO)
 *
 * The TCP checksum is left as the pseudo-header sum; see finish_csum().
 */
static void headers(struct netstack *ns, const struct seg *sg, uint8_t *h, size_t off, size_t n,
                    unsigned piece, const struct netstack_offload *gso, struct netstack_offload *o)
{
    size_t hl = sg->ihl + sg->thl, tcplen = sg->thl + (gso ? sg->payload : n);
    uint8_t *ip = h + ETH_HLEN, *tcp = ip + sg->ihl;

    ns_eth_header(h, sg->mac, ns->cfg.gateway_mac, sg->v6 ? ETH_P_IPV6 : ETH_P_IPV4);
    memcpy(ip, sg->hdr, hl);
    if (!gso && sg->v6) {
        ns_store_be16(ip + 4, (uint16_t)(sg->thl + n));
    } else if (!gso) {  /* a segment of its own: its own length, id, sequence number */
        ns_store_be16(ip + 2, (uint16_t)(hl + n));
        ns_store_be16(ip + 4, (uint16_t)(ns_load_be16(sg->hdr + 4) + piece));
    }
    if (!gso) {
        ns_store_be32(tcp + TCP_OFF_SEQ, ns_load_be32(tcp + TCP_OFF_SEQ) + (uint32_t)off);
        if (off + n < sg->payload)
            tcp[TCP_OFF_FLAGS] &= (uint8_t)~(TCP_FIN | TCP_PSH);
        if (piece)
            tcp[TCP_OFF_FLAGS] &= (uint8_t)~TCP_CWR;
    }
    if (!sg->v6) {
        ns_store_be16(ip + 10, 0);
        ns_store_be16(ip + 10, ns_csum(ip, sg->ihl));
    }
    /* The pseudo-header sum, not complemented: virtio-net's partial checksum. */
    ns_store_be16(tcp + TCP_OFF_CSUM, (uint16_t)~ns_csum_fold(
                      sg->v6 ? ns_csum_pseudo6(ip + 8, ip + 24, IPPROTO_TCP, tcplen)
                             : ns_csum_pseudo4(ns_load_be32(ip + 12), ns_load_be32(ip + 16),
                                               IPPROTO_TCP, tcplen)));
    *o = (struct netstack_offload){ 0 };
    if (sg->partial) {
        o->flags = NETSTACK_OFFLOAD_F_NEEDS_CSUM;
        o->csum_start = (uint16_t)(ETH_HLEN + sg->ihl);
        o->csum_offset = TCP_OFF_CSUM;
    }
    if (gso) {
        o->gso_type = gso->gso_type;
        o->gso_size = gso->gso_size;
        o->hdr_len = (uint16_t)(ETH_HLEN + hl);
    }
}

/**
 * finish_csum() - complete the TCP checksum of the frame whose headers are @h
 * @paysum: the payload's sum (gather())
 * The field holds the pseudo-header sum, so summing the header with it in
 * place and the payload gives the checksum.
 */
static void finish_csum(const struct seg *sg, uint8_t *h, uint32_t paysum)
{
    uint8_t *tcp = h + ETH_HLEN + sg->ihl;

    ns_store_be16(tcp + TCP_OFF_CSUM, ns_csum_fold(ns_csum_add(paysum, tcp, sg->thl)));
}

/**
 * emit() - frame one segment of @n payload bytes from @c: to send_gather()
 * straight from @c's memory when the transport takes it now, else a copy
 * into the transmit queue
 * @sg:     the packet
 * @off:    offset of these bytes in the packet's payload
 * @piece:  index of this frame among the packet's
 * @gso:    offload state for a super-frame, NULL for a plain segment
 *
 * Return: 0, -ENOBUFS if the queue or memory ran out (nothing was queued),
 * -EINVAL if @c holds fewer than @n bytes.
 */
static int emit(struct netstack *ns, const struct seg *sg, struct cursor *c, size_t off,
                size_t n, unsigned piece, const struct netstack_offload *gso)
{
    uint8_t h[ETH_HLEN + IPV4_HLEN_MAX + TCP_HLEN_MAX], *f;
    size_t hl = ETH_HLEN + sg->ihl + sg->thl;
    struct netstack_offload o;
    struct slice s;
    int direct;

    if (cut(c, n, &s))
        return -EINVAL;
    headers(ns, sg, h, off, n, piece, gso, &o);
    direct = ns_tx_direct(ns);
    if (direct && !sg->partial)
        finish_csum(sg, h, gather(NULL, &s, 1));    /* summed in place */
    if (direct && ns_tx_send_gather(ns, h, hl, s.v, s.n, &o) != -EAGAIN)
        return 0;               /* taken, or dropped for want of a guest */
    f = ns_tx_alloc(ns, hl + n);
    if (!f)
        return -ENOBUFS;
    memcpy(f, h, hl);
    if (sg->partial || direct)  /* the checksum is partial, or already final */
        gather(f + hl, &s, 0);
    else
        finish_csum(sg, f, gather(f + hl, &s, 1));
    ns_tx_commit_offload(ns, f, hl + n, o.flags || o.gso_type ? &o : NULL);
    return 0;
}

/**
 * parse_ip() - copy and check the IP header at the start of @c into @sg->hdr
 * lwIP builds IPv4 headers without options and IPv6 ones without extensions.
 * Return: 0, -EINVAL for a packet that is not one lwIP would build.
 */
static int parse_ip(struct seg *sg, struct cursor *c, size_t total)
{
    uint8_t *h = sg->hdr;

    if (total < IPV4_HLEN + TCP_HLEN_MIN || take(c, h, IPV4_HLEN))
        return -EINVAL;
    sg->v6 = h[0] >> 4 == 6;
    if (sg->v6) {
        sg->ihl = IPV6_HLEN;
        return take(c, h + IPV4_HLEN, IPV6_HLEN - IPV4_HLEN) || h[6] != IPPROTO_TCP ||
               (size_t)ns_load_be16(h + 4) + IPV6_HLEN != total ? -EINVAL : 0;
    }
    sg->ihl = (size_t)(h[0] & 0x0f) * 4;
    if (h[0] >> 4 != 4 || sg->ihl < IPV4_HLEN || h[9] != IPPROTO_TCP ||
        (size_t)ns_load_be16(h + 2) != total)
        return -EINVAL;
    return take(c, h + IPV4_HLEN, sg->ihl - IPV4_HLEN);
}

/**
 * parse_headers() - copy and check the IP and TCP headers at the start of @c
 * Return: 0, -EINVAL for a packet that is not one lwIP would build.
 */
static int parse_headers(struct seg *sg, struct cursor *c, size_t total)
{
    uint8_t *h = sg->hdr;

    if (parse_ip(sg, c, total) || total < sg->ihl + TCP_HLEN_MIN ||
        take(c, h + sg->ihl, TCP_HLEN_MIN))
        return -EINVAL;
    sg->thl = (size_t)(h[sg->ihl + 12] >> 4) * 4;
    if (sg->thl < TCP_HLEN_MIN || sg->ihl + sg->thl > total)
        return -EINVAL;
    if (take(c, h + sg->ihl + TCP_HLEN_MIN, sg->thl - TCP_HLEN_MIN))
        return -EINVAL;
    sg->payload = total - sg->ihl - sg->thl;
    return 0;
}

/**
 * guest_mss() - the MSS to cut this packet's payload to (0: as it is).
 */
static size_t guest_mss(struct netstack *ns, const struct seg *sg)
{
    const uint8_t *h = sg->hdr, *tcp = h + sg->ihl;
    struct in6_addr src, dst;

    if (sg->payload <= NS_TCP_MSS_MIN)  /* only then can it be a super-segment */
        return 0;
    if (sg->v6) {
        memcpy(src.s6_addr, h + 8, 16);
        memcpy(dst.s6_addr, h + 24, 16);
    } else {
        src = ns_ip6_mapped4(ns_load_be32(h + 12));
        dst = ns_ip6_mapped4(ns_load_be32(h + 16));
    }
    return ns_tcp_nat_guest_mss(ns, &dst, ns_load_be16(tcp + 2), &src, ns_load_be16(tcp));
}

int ns_tcp_xmit(struct netstack *ns, const uint8_t mac[6], const struct iovec *iov, size_t niov,
                size_t total)
{
    struct cursor c = { iov, niov, 0, 0 };
    struct netstack_offload gso = { 0 };
    size_t off, pieces, mss;
    unsigned piece = 0;
    struct seg sg = { .mac = mac };
    int rc;

    if (parse_headers(&sg, &c, total))
        return -EINVAL;
    sg.partial = !!(ns->link.offloads & NETSTACK_LINK_CSUM);
    mss = guest_mss(ns, &sg);
    if (!mss || sg.payload <= mss)
        return emit(ns, &sg, &c, 0, sg.payload, 0, NULL);
    if (ns->link.offloads & (sg.v6 ? NETSTACK_LINK_TSO6 : NETSTACK_LINK_TSO4)) {
        gso.gso_type = sg.v6 ? NETSTACK_GSO_TCPV6 : NETSTACK_GSO_TCPV4;
        gso.gso_size = (uint16_t)mss;
        rc = emit(ns, &sg, &c, 0, sg.payload, 0, &gso);
        if (!rc)
            NS_COUNT(ns, tso_frames_out);
        return rc;
    }
    pieces = (sg.payload + mss - 1) / mss;
    if (ns_tx_room(&ns->tx, ETH_HLEN + IPV4_HLEN_MAX + TCP_HLEN_MAX + mss) < pieces)
        return -ENOBUFS;        /* lwIP keeps the segment: all of it or nothing */
    for (off = 0; off < sg.payload; off += mss, piece++) {
        size_t n = sg.payload - off < mss ? sg.payload - off : mss;

        rc = emit(ns, &sg, &c, off, n, piece, NULL);
        if (rc)
            return rc;          /* memory ran out mid-way: lwIP resends it all */
    }
    NS_COUNT_N(ns, gso_segments_out, pieces);
    return 0;
}
