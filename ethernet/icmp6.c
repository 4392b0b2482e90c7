/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp6.c - ICMPv6 for the stack's own addresses (RFC 4443)
 *
 * Theory of Operation: a message is checked (length, checksum over the
 * pseudo-header) before its type is looked at. The gateway and the
 * host-loopback alias answer echo requests themselves, with the request's
 * identifier, sequence number and data, as their IPv4 twins do in icmp.c;
 * neighbour and router discovery is ndp.c's. Every other type (the guest's
 * MLD reports, a router advertisement from a guest that thinks it routes) is
 * counted as unhandled.
 */
#include <string.h>

#include "ethernet/checksum.h"
#include "ethernet/icmp6.h"
#include "ethernet/ipv6.h"
#include "ethernet/ndp.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/stack.h"

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

/**
 * echo_reply() - answer @ip, an echo request to one of our unicast addresses.
 */
static void echo_reply(struct netstack *ns, const struct ns_ipv6 *ip)
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
    if (!ns_ipv6_send(ns, mac, &ip->dst, &ip->src, IPV6_NH_ICMPV6, 64, h, ECHO_HLEN, data, dlen))
        NS_COUNT(ns, icmp6_echo_replies);
}

void ns_icmp6_input(struct netstack *ns, const struct ns_ipv6 *ip)
{
    struct ns_reader r;
    uint8_t type, code;

    NS_COUNT(ns, icmp6_in);
    ns_reader_init(&r, ip->payload, ip->payload_len);
    type = ns_read_u8(&r);
    code = ns_read_u8(&r);
    if (ip->payload_len < ICMP6_HLEN || ns_reader_failed(&r) ||
        ns_icmp6_checksum(&ip->src, &ip->dst, ip->payload, ip->payload_len, NULL, 0) != 0) {
        NS_COUNT(ns, drop_icmp6_malformed);
        return;
    }
    switch (type) {
    case ICMP6_ECHO_REQUEST:
        if (code != 0 || ip->payload_len < ECHO_HLEN) {
            NS_COUNT(ns, drop_icmp6_malformed);
            break;
        }
        /* Not to a group (no one asks ff02::1 for a ping that matters), nor from ::. */
        if (ns_ip6_is_multicast(&ip->dst) || ns_ip6_is_unspecified(&ip->src))
            NS_COUNT(ns, drop_icmp6_unhandled);
        else
            echo_reply(ns, ip);
        break;
    case ICMP6_ROUTER_SOLICIT:
    case ICMP6_NEIGHBOR_SOLICIT:
    case ICMP6_NEIGHBOR_ADVERT:
        /* RFC 6980: neighbour discovery is never fragmented; a fragment is an attack. */
        if (ip->has_frag)
            NS_COUNT(ns, drop_ipv6_frag);
        else
            ns_ndp_input(ns, ip);
        break;
    default:
        NS_COUNT(ns, drop_icmp6_unhandled);
        break;
    }
}
