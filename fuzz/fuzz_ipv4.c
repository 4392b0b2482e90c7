/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ipv4.c - IPv4 parsing, reassembly and the protocols behind it
 *
 * Input: an IPv4 packet; the harness adds a valid Ethernet header from the
 * guest and, for a quarter of inputs, fixes the header checksum so that the
 * fuzzer gets past it to the fragment and protocol code.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>

#include "ethernet/checksum.h"
#include "ethernet/ipv4.h"
#include "ethernet/reader.h"
#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[14 + 65536];
    static const uint8_t hdr[14] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd,
                                     0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00 };
    struct netstack *ns = fuzz_stack();
    struct ns_reader r;
    struct ns_ipv4 ip;

    if (size > 65536)
        return 0;
    ns_reader_init(&r, data, size);
    (void)ns_ipv4_parse(&r, &ip);
    memcpy(frame, hdr, 14);
    memcpy(frame + 14, data, size);
    if (size >= 20 && (data[0] & 3) == 0 && (data[0] & 0x0f) * 4u <= size) {
        size_t ihl = (size_t)(data[0] & 0x0f) * 4;

        frame[14 + 10] = frame[14 + 11] = 0;
        uint16_t sum = ns_csum(frame + 14, ihl);
        frame[14 + 10] = (uint8_t)(sum >> 8);
        frame[14 + 11] = (uint8_t)sum;
    }
    netstack_input(ns, frame, 14 + size);
    return 0;
}
