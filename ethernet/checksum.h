/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * checksum.h - the Internet checksum (RFC 1071)
 */
#ifndef NETSTACK_CHECKSUM_H
#define NETSTACK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * ns_csum_add() - add @len bytes at @p to the running one's-complement sum @sum.
 */
uint32_t ns_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/**
 * ns_csum_copy() - copy @len bytes from @src to @dst and add them to @sum
 * The bytes must start at an even offset of the checksummed range (callers
 * copy whole packets, or pieces of even length).
 */
uint32_t ns_csum_copy(uint8_t *dst, const uint8_t *src, size_t len, uint32_t sum);

/**
 * ns_csum_fold() - fold a running sum into the 16-bit checksum (complemented).
 */
static inline uint16_t ns_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/**
 * ns_csum() - the checksum of a buffer; 0 when a received buffer checks out.
 */
static inline uint16_t ns_csum(const uint8_t *p, size_t len)
{
    return ns_csum_fold(ns_csum_add(0, p, len));
}

/**
 * ns_csum_pseudo4() - running sum of the IPv4 pseudo-header (RFC 768, RFC 793).
 */
static inline uint32_t ns_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto +
           (uint32_t)len;
}

/**
 * ns_csum_pseudo6() - running sum of the IPv6 pseudo-header (RFC 8200 section 8.1)
 * @src, @dst: the 16-byte addresses
 * @len:       the upper-layer length
 */
static inline uint32_t ns_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                                       size_t len)
{
    return ns_csum_add(ns_csum_add(0, src, 16), dst, 16) + (uint32_t)(len >> 16) +
           (uint32_t)(len & 0xffff) + proto;
}

#endif /* NETSTACK_CHECKSUM_H */
