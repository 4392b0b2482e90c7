/*
 * tcp_xmit.c - lwIP's TCP/IPv4 packets onto the guest link: checksums and segmentation
 *
 * Theory of Operation: lwIP hands every TCP packet it sends to the guest to
 * the netif (lwip_glue.c) as a pbuf chain, with neither checksum computed
 * (port/lwipopts.h). The packet is copied once into a transmit frame, and
 * the checksums are settled during that copy:
 *
 * - the IPv4 header checksum is always computed (20 bytes);
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
 * - a TSO super-frame (NETSTACK_LINK_TSO4): the whole packet, its IPv4 total
 *   length the whole length, with gso_type TCPV4 and gso_size the guest's MSS;
 *   the guest's kernel takes it as a train of MSS-sized segments (as it takes
 *   a GRO packet) without cutting it;
 * - or MSS-sized frames cut in software during the copy, each a complete
 *   segment: IPv4 length, identification and checksum, TCP sequence number,
 *   FIN and PSH on the last piece only, and its own TCP checksum.
 *
 * Either way the guest sees segments no larger than the MSS it announced. A
 * super-segment is only sent whole: if the transmit queue cannot take all its
 * pieces, lwIP keeps it (ERR_MEM) and sends it again when the queue drains.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ethernet/checksum.h"
#include "ethernet/eth.h"
#include "ethernet/ipv4.h"
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
 * take() - copy @n bytes from @c to @dst and advance, summing them into @sum
 * @odd:    the bytes start at an odd offset of the checksummed range
 * @sum:    running sum, or NULL to copy without summing
 *
 * Return: bytes copied (fewer than @n only if the list ran out).
 */
static size_t take(struct cursor *c, uint8_t *dst, size_t n, int odd, uint32_t *sum)
{
    size_t done = 0;

    while (done < n && c->i < c->niov) {
        size_t k = c->iov[c->i].iov_len - c->off;
        const uint8_t *src = (const uint8_t *)c->iov[c->i].iov_base + c->off;

        if (k > n - done)
            k = n - done;
        if (sum) {
            uint32_t s = ns_csum_copy(dst + done, src, k, 0);

            if ((odd + done) & 1)       /* RFC 1071 2(B): a byte off means swapped */
                s = (s >> 8 | s << 8) & 0xffff;
            *sum += s;
        } else {
            memcpy(dst + done, src, k);
        }
        done += k;
        c->off += k;
        if (c->off == c->iov[c->i].iov_len) {
            c->i++;
            c->off = 0;
        }
    }
    return done;
}

/*
 * struct seg - what every frame of one packet shares
 * @hdr:        the packet's IPv4 and TCP headers as lwIP built them
 * @ihl, @thl:  their lengths
 * @payload:    payload bytes of the whole packet
 * @mac:        the guest's MAC
 * @partial:    leave the TCP checksum to the receiver
 */
struct seg {
    uint8_t hdr[IPV4_HLEN_MAX + TCP_HLEN_MAX];
    size_t ihl, thl, payload;
    const uint8_t *mac;
    int partial;
};

/*
 * emit() - frame and queue one segment of @n payload bytes from @c
 * @sg:     the packet
 * @off:    offset of these bytes in the packet's payload
 * @n:      payload bytes of this frame
 * @piece:  index of this frame among the packet's (for the IPv4 identification)
 * @gso:    offload state for a super-frame, NULL for a plain segment
 *
 * Return: 0, -ENOBUFS if the queue or memory ran out (nothing was queued).
 */
static int emit(struct netstack *ns, const struct seg *sg, struct cursor *c, size_t off,
                size_t n, unsigned piece, const struct netstack_offload *gso)
{
    size_t hl = sg->ihl + sg->thl, flen = ETH_HLEN + hl + n;
    size_t tcplen = sg->thl + (gso ? sg->payload : n);
    uint8_t *f = ns_tx_alloc(ns, flen), *ip, *tcp;
    struct netstack_offload o = { 0 };
    uint32_t src, dst, sum = 0;
    int last = off + n >= sg->payload;

    if (!f)
        return -ENOBUFS;
    ns_eth_header(f, sg->mac, ns->cfg.gateway_mac, ETH_P_IPV4);
    ip = f + ETH_HLEN;
    tcp = ip + sg->ihl;
    memcpy(ip, sg->hdr, hl);
    if (!gso) {         /* a segment of its own: its own length, id, sequence number */
        ns_store_be16(ip + 2, (uint16_t)(hl + n));
        ns_store_be16(ip + 4, (uint16_t)(ns_load_be16(sg->hdr + 4) + piece));
        ns_store_be32(tcp + TCP_OFF_SEQ, ns_load_be32(tcp + TCP_OFF_SEQ) + (uint32_t)off);
        if (!last)
            tcp[TCP_OFF_FLAGS] &= (uint8_t)~(TCP_FIN | TCP_PSH);
        if (piece)
            tcp[TCP_OFF_FLAGS] &= (uint8_t)~TCP_CWR;
    }
    ns_store_be16(ip + 10, 0);
    ns_store_be16(ip + 10, ns_csum(ip, sg->ihl));
    src = ns_load_be32(ip + 12);
    dst = ns_load_be32(ip + 16);
    ns_store_be16(tcp + TCP_OFF_CSUM, 0);
    if (sg->partial) {
        take(c, tcp + sg->thl, n, 0, NULL);
        /* The pseudo-header sum, not complemented: virtio-net's partial checksum. */
        ns_store_be16(tcp + TCP_OFF_CSUM,
                      (uint16_t)~ns_csum_fold(ns_csum_pseudo4(src, dst, IPPROTO_TCP, tcplen)));
        o.flags = NETSTACK_OFFLOAD_F_NEEDS_CSUM;
        o.csum_start = (uint16_t)(ETH_HLEN + sg->ihl);
        o.csum_offset = TCP_OFF_CSUM;
    } else {
        take(c, tcp + sg->thl, n, 0, &sum);
        sum = ns_csum_add(sum + ns_csum_pseudo4(src, dst, IPPROTO_TCP, tcplen), tcp, sg->thl);
        ns_store_be16(tcp + TCP_OFF_CSUM, ns_csum_fold(sum));
    }
    if (gso) {
        o.gso_type = gso->gso_type;
        o.gso_size = gso->gso_size;
        o.hdr_len = (uint16_t)(ETH_HLEN + hl);
    }
    ns_tx_commit_offload(ns, f, flen, o.flags || o.gso_type ? &o : NULL);
    return 0;
}

/*
 * parse_headers() - copy and check the IPv4 and TCP headers at the start of @c
 * Return: 0, -EINVAL for a packet that is not one lwIP would build.
 */
static int parse_headers(struct seg *sg, struct cursor *c, size_t total)
{
    uint8_t *h = sg->hdr;

    if (total < IPV4_HLEN + TCP_HLEN_MIN || take(c, h, IPV4_HLEN, 0, NULL) != IPV4_HLEN)
        return -EINVAL;
    sg->ihl = (size_t)(h[0] & 0x0f) * 4;
    if (h[0] >> 4 != 4 || sg->ihl < IPV4_HLEN || h[9] != IPPROTO_TCP ||
        (size_t)ns_load_be16(h + 2) != total || total < sg->ihl + TCP_HLEN_MIN)
        return -EINVAL;
    if (take(c, h + IPV4_HLEN, sg->ihl - IPV4_HLEN + TCP_HLEN_MIN, 0, NULL) !=
        sg->ihl - IPV4_HLEN + TCP_HLEN_MIN)
        return -EINVAL;
    sg->thl = (size_t)(h[sg->ihl + 12] >> 4) * 4;
    if (sg->thl < TCP_HLEN_MIN || sg->ihl + sg->thl > total)
        return -EINVAL;
    if (take(c, h + sg->ihl + TCP_HLEN_MIN, sg->thl - TCP_HLEN_MIN, 0, NULL) !=
        sg->thl - TCP_HLEN_MIN)
        return -EINVAL;
    sg->payload = total - sg->ihl - sg->thl;
    return 0;
}

int ns_tcp_xmit(struct netstack *ns, const uint8_t mac[6], const struct iovec *iov, size_t niov,
                size_t total)
{
    struct cursor c = { iov, niov, 0, 0 };
    struct netstack_offload gso = { 0 };
    size_t off, pieces, mss = 0;
    unsigned piece = 0;
    struct seg sg = { .mac = mac };

    if (parse_headers(&sg, &c, total))
        return -EINVAL;
    sg.partial = !!(ns->offloads & NETSTACK_LINK_CSUM);
    if (sg.payload > NS_TCP_MSS_MIN)    /* only then can it be a super-segment */
        mss = ns_tcp_nat_guest_mss(ns, ns_load_be32(sg.hdr + 16),
                                   ns_load_be16(sg.hdr + sg.ihl + 2),
                                   ns_load_be32(sg.hdr + 12), ns_load_be16(sg.hdr + sg.ihl));
    if (!mss || sg.payload <= mss)
        return emit(ns, &sg, &c, 0, sg.payload, 0, NULL);
    if (ns->offloads & NETSTACK_LINK_TSO4) {
        gso.gso_type = NETSTACK_GSO_TCPV4;
        gso.gso_size = (uint16_t)mss;
        if (emit(ns, &sg, &c, 0, sg.payload, 0, &gso))
            return -ENOBUFS;
        NS_COUNT(ns, tso_frames_out);
        return 0;
    }
    pieces = (sg.payload + mss - 1) / mss;
    if (ns_tx_room(&ns->tx) < pieces)
        return -ENOBUFS;        /* lwIP keeps the segment: all of it or nothing */
    for (off = 0; off < sg.payload; off += mss, piece++) {
        size_t n = sg.payload - off < mss ? sg.payload - off : mss;

        if (emit(ns, &sg, &c, off, n, piece, NULL))
            return -ENOBUFS;    /* memory ran out mid-way: lwIP resends it all */
    }
    NS_COUNT_N(ns, gso_segments_out, pieces);
    return 0;
}
