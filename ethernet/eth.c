/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth.c - the guest's frames in: Ethernet validation and dispatch
 *
 * Theory of Operation: every frame from the guest enters here through the
 * bounds-checked reader. A frame is accepted when it is long enough for a
 * header, no longer than the link MTU allows, comes from a unicast source and
 * is addressed to the gateway's MAC or to broadcast; anything else is counted
 * under its drop reason and forgotten. ARP goes to arp.c, IPv4 to ipv4.c,
 * IPv6 to ipv6.c (which also takes the IPv6 multicast MACs 33:33:*, and
 * picks the groups it listens to by address); other EtherTypes (VLAN tags,
 * IPv6 with IPv6 off) are counted as drop_eth_type.
 */
#include <string.h>

#include "ethernet/arp.h"
#include "ethernet/eth.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"

const uint8_t ns_eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void ns_eth_header(uint8_t *p, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
                   uint16_t type)
{
    memcpy(p, dst, ETH_ALEN);
    memcpy(p + ETH_ALEN, src, ETH_ALEN);
    p[12] = (uint8_t)(type >> 8);
    p[13] = (uint8_t)type;
}

/**
 * for_us() - is @dst the gateway's MAC, broadcast, or (with IPv6) an IPv6 multicast MAC?
 */
static int for_us(const struct ns_link *lk, const uint8_t *dst)
{
    return !memcmp(dst, lk->mac, ETH_ALEN) ||
           !memcmp(dst, ns_eth_broadcast, ETH_ALEN) ||
           (lk->ipv6 && dst[0] == 0x33 && dst[1] == 0x33);
}

void ns_eth_input(struct ns_link *lk, const uint8_t *frame, size_t len)
{
    struct ns_reader r, payload;
    const uint8_t *dst, *src;
    uint16_t type;

    NS_COUNT(lk, frames_in);
    NS_COUNT_N(lk, bytes_in, len);
    ns_reader_init(&r, frame, len);
    dst = ns_reader_get(&r, ETH_ALEN);
    src = ns_reader_get(&r, ETH_ALEN);
    type = ns_read_be16(&r);
    if (ns_reader_failed(&r)) {
        NS_COUNT(lk, drop_eth_short);
        return;
    }
    /* A TSO guest's super-frame is one IPv4 packet of up to 64 KiB whatever the MTU. */
    if (len > (size_t)ETH_HLEN + ETH_VLAN_SLACK +
                  (lk->rx_offload && lk->rx_offload->gso_type ? IPV4_MAX_LEN : lk->mtu)) {
        NS_COUNT(lk, drop_jumbo);
        return;
    }
    if (ns_mac_is_multicast(src) || !for_us(lk, dst)) {
        NS_COUNT(lk, drop_eth_not_for_us);
        return;
    }
    ns_reader_sub(&r, ns_reader_left(&r), &payload);
    switch (type) {
    case ETH_P_ARP:
        ns_arp_input(lk, src, &payload);
        break;
    case ETH_P_IPV4:
        ns_ipv4_input(lk, src, &payload);
        break;
    case ETH_P_IPV6:
        if (lk->ipv6)
            ns_ipv6_input(lk, src, &payload);
        else
            NS_COUNT(lk, drop_eth_type);
        break;
    default:
        NS_COUNT(lk, drop_eth_type);
        break;
    }
}
