/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_offload.c - the whole stack fed frames with offload state, on a link
 * whose offloads change with the input
 *
 * Input: one byte of link offloads (NETSTACK_LINK_* bits, made valid), then
 * repeated [flags][gso_type][2-byte gso_size][2-byte length][frame]: what a
 * tap with IFF_VNET_HDR or a virtio backend hands over from a guest, super-
 * frames of up to 64 KiB and partial checksums included. The stack's output
 * goes through both send_frames() and send_gather() (fuzz_common.h), which
 * check that no plain frame exceeds the MTU and no super-frame says more than
 * it carries, so super-segments cut in software and TSO frames are checked
 * too.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * link_flags() - NETSTACK_LINK_* from a byte; TSO only with CSUM, as the API demands.
 */
static uint32_t link_flags(uint8_t b)
{
    uint32_t f = b & (NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4 | NETSTACK_LINK_INTEGRITY);

    if (f & NETSTACK_LINK_TSO4)
        f |= NETSTACK_LINK_CSUM;
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct netstack *ns = fuzz_stack();

    if (!size)
        return 0;
    if (netstack_set_offloads(ns, link_flags(data[0])))
        abort();
    data++;
    size--;
    while (size >= 6) {
        struct netstack_frame f = { 0 };
        size_t len = (size_t)(data[4] << 8 | data[5]);

        f.offload.flags = data[0];
        f.offload.gso_type = data[1];
        f.offload.gso_size = (uint16_t)(data[2] << 8 | data[3]);
        data += 6;
        size -= 6;
        if (len > size)
            len = size;
        f.data = data;
        f.len = len;
        netstack_input_batch(ns, &f, 1);
        data += len;
        size -= len;
    }
    netstack_dispatch(ns);
    return 0;
}
