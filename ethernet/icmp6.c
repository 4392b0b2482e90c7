/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp6.c - ICMPv6 from the guest (RFC 4443)
 *
 * Theory of Operation: a message is checked (length, checksum over the
 * pseudo-header) before its type is looked at. An echo request to any
 * address beyond the stack goes to the NAT (netstack/icmp_nat.c), as an IPv4
 * one does; nothing else addressed beyond it is forwarded. The gateway and the
 * host-loopback alias answer echo requests themselves, with the request's
 * identifier, sequence number and data, as their IPv4 twins do in icmp.c;
 * neighbour and router discovery is ndp.c's. Every other type (the guest's
 * MLD reports, a router advertisement from a guest that thinks it routes) is
 * counted as unhandled.
 *
 * Errors: ns_icmp6_send_error() is what the NAT answers with where its IPv4
 * side sends an ICMP error (a host connect that found no route, say), from
 * the gateway as a router on the path would send it.
 */
#include <errno.h>
#include <string.h>

#include "ethernet/checksum.h"
#include "ethernet/icmp6.h"
#include "ethernet/ipv6.h"
#include "ethernet/neigh.h"
#include "ethernet/ndp.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/nat.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"

#define ECHO_HLEN 8     /* type, code, checksum, identifier, sequence */

uint16_t ns_icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst,
                           const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t dlen)
{
    uint32_t sum = ns_csum_pseudo6(src->s6_addr, dst->s6_addr, IPV6_NH_ICMPV6, hlen + dlen);

    sum = ns_csum_add(sum, hdr, hlen);
    /* @hlen is even wherever this is used, so @data starts at an even offset. */
    if (dlen)
        sum = ns_csum_add(sum, data, dlen);
    return ns_csum_fold(sum);
}

int ns_icmp6_send_error(struct ns_link *lk, const struct in6_addr *to, uint8_t type,
                        uint8_t code, uint32_t param, const uint8_t *pkt, size_t len)
{
    /* RFC 4443 2.4(c): as much of the invoking packet as fits the minimum MTU. */
    size_t room = IPV6_MIN_MTU - IPV6_HLEN - ICMP6_HDR_LEN - 4;
    uint8_t h[ICMP6_HDR_LEN + 4], mac[6];
    int rc;

    if (len > room)
        len = room;
    if (!ns_neigh6_lookup(lk, to, mac))
        return -EHOSTUNREACH;
    h[0] = type;
    h[1] = code;
    ns_store_be16(h + 2, 0);
    ns_store_be32(h + 4, param);
    ns_store_be16(h + 2, ns_icmp6_checksum(&lk->gateway6, to, h, sizeof(h), pkt, len));
    rc = ns_ipv6_send(lk, mac, &lk->gateway6, to, IPV6_NH_ICMPV6, 64, h, sizeof(h), pkt, len);
    if (!rc)
        NS_COUNT(lk, icmp6_errors_out);
    return rc;
}

/**
 * echo_reply() - answer @ip, an echo request to one of our unicast addresses.
 */
static void echo_reply(struct ns_link *lk, const struct ns_ipv6 *ip)
{
    uint8_t h[ECHO_HLEN], mac[6];
    const uint8_t *data = ip->payload + ECHO_HLEN;
    size_t dlen = ip->payload_len - ECHO_HLEN;

    memcpy(h, ip->payload, ECHO_HLEN);
    h[0] = ICMP6_ECHO_REPLY;
    h[1] = 0;
    ns_store_be16(h + 2, 0);
    ns_store_be16(h + 2, ns_icmp6_checksum(&ip->dst, &ip->src, h, ECHO_HLEN, data, dlen));
    memcpy(mac, ip->src_mac, 6);
    if (!ns_ipv6_send(lk, mac, &ip->dst, &ip->src, IPV6_NH_ICMPV6, 64, h, ECHO_HLEN, data, dlen))
        NS_COUNT(lk, icmp6_echo_replies);
}

/**
 * forward() - a checked message to an address beyond the stack: an echo
 * request goes to the NAT (netstack/icmp_nat.c), as IPv4's do; nothing else
 * is forwarded.
 */
static void forward(struct ns_link *lk, const struct ns_ipv6 *ip, uint8_t type, uint8_t code)
{
    if (type != ICMP6_ECHO_REQUEST)
        NS_COUNT(lk, drop_ipv6_destination);
    else if (code != 0 || ip->payload_len < ECHO_HLEN || ns_ip6_is_unspecified(&ip->src))
        NS_COUNT(lk, drop_icmp6_malformed);
    else
        ns_icmp_nat_input6(lk->up, ip);
}

void ns_icmp6_input(struct ns_link *lk, const struct ns_ipv6 *ip)
{
    struct ns_reader r;
    uint8_t type, code;

    NS_COUNT(lk, icmp6_in);
    ns_reader_init(&r, ip->payload, ip->payload_len);
    type = ns_read_u8(&r);
    code = ns_read_u8(&r);
    if (ip->payload_len < ICMP6_HDR_LEN || ns_reader_failed(&r) ||
        ns_icmp6_checksum(&ip->src, &ip->dst, ip->payload, ip->payload_len, NULL, 0) != 0) {
        NS_COUNT(lk, drop_icmp6_malformed);
        return;
    }
    if (!ns_ip6_is_multicast(&ip->dst) && !ns_ipv6_is_local(lk, &ip->dst)) {
        forward(lk, ip, type, code);
        return;
    }
    switch (type) {
    case ICMP6_ECHO_REQUEST:
        if (code != 0 || ip->payload_len < ECHO_HLEN) {
            NS_COUNT(lk, drop_icmp6_malformed);
            break;
        }
        /* Not to a group (no one asks ff02::1 for a ping that matters), nor from ::. */
        if (ns_ip6_is_multicast(&ip->dst) || ns_ip6_is_unspecified(&ip->src))
            NS_COUNT(lk, drop_icmp6_unhandled);
        else
            echo_reply(lk, ip);
        break;
    case ICMP6_ROUTER_SOLICIT:
    case ICMP6_NEIGHBOR_SOLICIT:
    case ICMP6_NEIGHBOR_ADVERT:
        /* RFC 6980: neighbour discovery is never fragmented; a fragment is an attack. */
        if (ip->has_frag)
            NS_COUNT(lk, drop_ipv6_frag);
        else
            ns_ndp_input(lk, ip);
        break;
    default:
        NS_COUNT(lk, drop_icmp6_unhandled);
        break;
    }
}
