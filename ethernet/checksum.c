/*
 * checksum.c - the Internet checksum (RFC 1071)
 */
#include "ethernet/checksum.h"

uint32_t ns_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = sum;

    while (len >= 2) {
        acc += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        acc += (uint32_t)p[0] << 8;
    while (acc >> 32)
        acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    return (uint32_t)acc;
}
