/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_frame.c - the whole stack fed a sequence of frames
 *
 * Input: repeated [2-byte big-endian length][frame]; a short tail is one last
 * frame. Several frames per input let the fuzzer build fragment sequences,
 * ARP-then-IP exchanges and TCP handshakes.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct netstack *ns = fuzz_stack();

    while (size >= 2) {
        size_t len = (size_t)(data[0] << 8 | data[1]);

        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        netstack_input(ns, data, len);
        data += len;
        size -= len;
    }
    netstack_dispatch(ns);
    return 0;
}
