/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_icmp_reply.c - the ICMP NAT's parser for what a raw ICMP socket reads
 *
 * Input: an IPv4 packet as the kernel hands it to a raw socket (header first).
 * For inputs with the low bit of the TOS byte set (which the parser ignores)
 * the harness fixes the IP header checksum and the ICMP checksum, so that the
 * fuzzer gets past both to the type and length checks.
 * An accepted packet must be an echo reply lying wholly inside the input with
 * a checksum that verifies: anything else is a parser bug and aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethernet/checksum.h"
#include "ethernet/reader.h"
#include "netstack/nat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * fix_checksums() - make the IP header and ICMP checksums of @p right where they fit.
 */
static void fix_checksums(uint8_t *p, size_t size)
{
    size_t ihl, total;
    uint16_t sum;

    if (size < 20)
        return;
    ihl = (size_t)(p[0] & 0x0f) * 4;
    total = (size_t)p[2] << 8 | p[3];
    if (ihl < 20 || ihl > size)
        return;
    p[10] = p[11] = 0;
    sum = ns_csum(p, ihl);
    p[10] = (uint8_t)(sum >> 8);
    p[11] = (uint8_t)sum;
    if (total < ihl + 4 || total > size)
        return;
    p[ihl + 2] = p[ihl + 3] = 0;
    sum = ns_csum(p + ihl, total - ihl);
    p[ihl + 2] = (uint8_t)(sum >> 8);
    p[ihl + 3] = (uint8_t)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p;
    struct ns_reader msg;
    uint32_t src;

    if (size > 65536)
        return 0;
    p = malloc(size ? size : 1);    /* exactly @size: an over-read is caught by ASan */
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    if (size > 1 && (data[1] & 1))
        fix_checksums(p, size);
    if (ns_icmp_nat_parse_raw(p, size, &src, &msg) == 0) {
        if (msg.data < p || msg.len < 8 || msg.len > size ||
            (size_t)(msg.data - p) > size - msg.len || msg.data[0] != 0 || msg.data[1] != 0 ||
            ns_csum(msg.data, msg.len) != 0)
            abort();
    }
    free(p);
    return 0;
}
