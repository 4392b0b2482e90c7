/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * arp.h - private: ARP for IPv4 over Ethernet (RFC 826)
 */
#ifndef NETSTACK_ARP_H
#define NETSTACK_ARP_H

#include <stdint.h>

struct ns_link;
struct ns_reader;

#define ARP_LEN 28

/**
 * ns_arp_input() - one ARP packet (the Ethernet payload) from @src_mac.
 */
void ns_arp_input(struct ns_link *lk, const uint8_t src_mac[6], struct ns_reader *r);

/**
 * ns_arp_request() - ask the guest link who has @ip (host order).
 */
void ns_arp_request(struct ns_link *lk, uint32_t ip);

#endif /* NETSTACK_ARP_H */
