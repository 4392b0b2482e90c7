/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * checksum.c - the Internet checksum (RFC 1071)
 *
 * The sum is computed over native-endian 64-bit loads into a 128-bit-wide
 * pair of accumulators and folded at the end; RFC 1071 section 2(B): the
 * one's complement sum does not depend on byte order, so a sum of
 * little-endian words is the byte swap of the big-endian one. The result is
 * returned in big-endian terms (the first byte is the high one), as callers
 * expect.
 */
#include <endian.h>
#include <string.h>

#include "ethernet/checksum.h"

/**
 * sum_native() - one's complement sum of @len bytes at @p, native byte order, folded to 16 bits.
 */
static uint16_t sum_native(const uint8_t *p, size_t len)
{
    unsigned __int128 acc = 0;
    uint64_t w;
    uint16_t tail;
    uint64_t s;

    while (len >= 32) {
        uint64_t a, b, c, d;

        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        memcpy(&c, p + 16, 8);
        memcpy(&d, p + 24, 8);
        acc += (unsigned __int128)a + b + c + d;
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        memcpy(&w, p, 8);
        acc += w;
        p += 8;
        len -= 8;
    }
    w = 0;
    memcpy(&w, p, len);         /* the last 0..7 bytes, zero padded (RFC 1071) */
    acc += w;
    s = (uint64_t)acc;
    s += (uint64_t)(acc >> 64);
    if (s < (uint64_t)(acc >> 64))
        s++;                    /* end-around carry */
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    tail = (uint16_t)s;
    return tail;
}

uint32_t ns_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint16_t s = sum_native(p, len);
    uint64_t acc;

#if __BYTE_ORDER == __LITTLE_ENDIAN
    s = (uint16_t)(s >> 8 | s << 8);
#endif
    acc = (uint64_t)sum + s;
    while (acc >> 32)
        acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    return (uint32_t)acc;
}

uint32_t ns_csum_copy(uint8_t *dst, const uint8_t *src, size_t len, uint32_t sum)
{
    memcpy(dst, src, len);
    return ns_csum_add(sum, dst, len);  /* from the cache the copy just filled */
}
