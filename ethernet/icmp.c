/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp.c - ICMP echo for the stack's own addresses (RFC 792, RFC 1122 3.2.2.6)
 *
 * Theory of Operation: the gateway and the host-loopback alias answer ping
 * themselves, with the request's identifier, sequence number and data, so a
 * guest can check its link without any host socket (and even where the host
 * allows no ICMP sockets at all). The reply may be larger than the MTU (a
 * reassembled request); ns_ipv4_send() fragments it. Echo requests to any
 * other address go to the ICMP NAT (netstack/icmp_nat.c), which sends them
 * from a host ping socket or counts why not; every other ICMP message from the
 * guest is counted as unhandled. ns_icmp_send_error() is what the NAT answers
 * with when the host could not reach a destination.
 */
#include <netinet/in.h>
#include <string.h>

#include "ethernet/checksum.h"
#include "ethernet/icmp.h"
#include "ethernet/ipv4.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/nat.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"

int ns_icmp_send_error(struct ns_link *lk, uint32_t to, uint8_t type, uint8_t code,
                       const uint8_t *pkt, size_t len)
{
    uint8_t msg[ICMP_HLEN + 60 + 8];
    size_t quoted = len ? (size_t)(pkt[0] & 0x0f) * 4 + 8 : 0;
    struct ns_writer w;

    if (quoted > len)
        quoted = len;
    ns_writer_init(&w, msg, sizeof(msg));
    ns_writer_u8(&w, type);
    ns_writer_u8(&w, code);
    ns_writer_be16(&w, 0);
    ns_writer_be32(&w, 0);
    ns_writer_bytes(&w, pkt, quoted);
    ns_store_be16(msg + 2, ns_csum(msg, w.len));
    return ns_ipv4_send(lk, NULL, lk->gateway, to, IPPROTO_ICMP, msg, w.len);
}

/**
 * echo_reply() - answer @ip, an echo request to one of our addresses.
 */
static void echo_reply(struct ns_link *lk, const struct ns_ipv4 *ip)
{
    uint8_t h[ICMP_HLEN];

    /* Same identifier, sequence and data; the data is not copied first. */
    memcpy(h, ip->payload, ICMP_HLEN);
    h[0] = ICMP_ECHO_REPLY;
    h[1] = 0;
    ns_store_be16(h + 2, 0);
    ns_store_be16(h + 2, ns_csum_fold(ns_csum_add(ns_csum_add(0, h, ICMP_HLEN),
                                                  ip->payload + ICMP_HLEN,
                                                  ip->payload_len - ICMP_HLEN)));
    if (!ns_ipv4_send_parts(lk, ip->src_mac, ip->dst, ip->src, IPPROTO_ICMP, h, ICMP_HLEN,
                            ip->payload + ICMP_HLEN, ip->payload_len - ICMP_HLEN))
        NS_COUNT(lk, icmp_echo_replies);
}

void ns_icmp_input(struct ns_link *lk, const struct ns_ipv4 *ip)
{
    struct ns_reader r;
    uint8_t type, code;

    NS_COUNT(lk, icmp_in);
    ns_reader_init(&r, ip->payload, ip->payload_len);
    if (ns_reader_u8(&r, &type) || ns_reader_u8(&r, &code) || ip->payload_len < ICMP_HLEN ||
        ns_csum(ip->payload, ip->payload_len) != 0) {
        NS_COUNT(lk, drop_icmp_malformed);
        return;
    }
    if (type == ICMP_ECHO_REQUEST && code == 0 && ip->src) {
        if (ns_link_is_local(lk, ip->dst))
            echo_reply(lk, ip);
        else
            ns_icmp_nat_input(lk->up, ip);
        return;
    }
    NS_COUNT(lk, drop_icmp_unhandled);
}
