/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ipv6.c - IPv6 parsing, the extension header walk, and ICMPv6, NDP
 * and echo behind it
 *
 * Input: an IPv6 packet; the harness adds an Ethernet header from the guest
 * (to the IPv6 multicast MAC when the destination is a group, so the frame
 * gets past the Ethernet filter) and, when the low bits of the second byte
 * (traffic class and flow label, which change nothing else) are zero, fixes
 * the ICMPv6 checksum so that the fuzzer reaches neighbour and router
 * discovery.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>

#include "ethernet/icmp6.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * fix_checksum() - recompute the ICMPv6 checksum of the packet at @p, if it
 * parses and carries ICMPv6.
 */
static void fix_checksum(uint8_t *p, size_t size)
{
    struct ns_reader r;
    struct ns_ipv6 ip;
    uint8_t *m;
    uint16_t sum;

    ns_reader_init(&r, p, size);
    if (ns_ipv6_parse(&r, &ip) != NS_IPV6_OK || ip.proto != IPV6_NH_ICMPV6 ||
        ip.payload_len < ICMP6_HDR_LEN || (ip.has_frag && ip.frag))
        return;
    m = p + (ip.payload - p);
    m[2] = m[3] = 0;
    sum = ns_icmp6_checksum(&ip.src, &ip.dst, m, ip.payload_len, NULL, 0);
    m[2] = (uint8_t)(sum >> 8);
    m[3] = (uint8_t)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[14 + 65536];
    static const uint8_t hdr[14] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd,
                                     0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x86, 0xdd };
    struct netstack *ns = fuzz_stack();
    struct ns_reader r;
    struct ns_ipv6 ip;

    if (size > 65536)
        return 0;
    ns_reader_init(&r, data, size);
    (void)ns_ipv6_parse(&r, &ip);
    memcpy(frame, hdr, 14);
    memcpy(frame + 14, data, size);
    if (size >= IPV6_HLEN && data[24] == 0xff) {
        frame[0] = frame[1] = 0x33;
        memcpy(frame + 2, data + 36, 4);
    }
    if (size >= 2 && (data[1] & 0x0f) == 0)
        fix_checksum(frame + 14, size);
    netstack_input(ns, frame, 14 + size);
    return 0;
}
