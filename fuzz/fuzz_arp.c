/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_arp.c - the ARP parser and responder
 * Input: the ARP packet (Ethernet payload); the harness adds a broadcast header.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[14 + 256];
    static const uint8_t hdr[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06 };
    struct netstack *ns = fuzz_stack();

    if (size > 256)
        return 0;
    memcpy(frame, hdr, 14);
    memcpy(frame + 14, data, size);
    netstack_input(ns, frame, 14 + size);
    return 0;
}
