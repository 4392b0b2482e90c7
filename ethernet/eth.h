/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth.h - private: Ethernet framing, and the entry points of the frame layer
 *
 *   0                   6                  12       14
 *   +-------------------+-------------------+--------+-----------
 *   | destination MAC   | source MAC        | type   | payload
 *   +-------------------+-------------------+--------+-----------
 *
 * Frames arrive without preamble and FCS, as every transport delivers them.
 */
#ifndef NETSTACK_ETH_H
#define NETSTACK_ETH_H

#include <stddef.h>
#include <stdint.h>

struct ns_link;

#define ETH_HLEN        14
#define ETH_ALEN        6
#define ETH_P_IPV4      0x0800
#define ETH_P_ARP       0x0806
#define ETH_P_IPV6      0x86dd
#define ETH_VLAN_SLACK  4           /* an 802.1Q tag the guest may add */

extern const uint8_t ns_eth_broadcast[ETH_ALEN];

/**
 * ns_eth_input() - one frame from the guest: validate, learn, dispatch.
 */
void ns_eth_input(struct ns_link *lk, const uint8_t *frame, size_t len);

/**
 * ns_eth_header() - write an Ethernet header at @p (ETH_HLEN bytes).
 */
void ns_eth_header(uint8_t *p, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
                   uint16_t type);

static inline int ns_mac_is_multicast(const uint8_t mac[ETH_ALEN])
{
    return mac[0] & 1;
}

#endif /* NETSTACK_ETH_H */
