/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_virtq.c - the split-ring walker (tools/netstackd/virtq.c) on a ring the fuzzer writes
 *
 * Input: [u8: bits 0-3 log2 of the ring size
 * (modulo 9: 1 to 256 entries), bit 4 event
 * index, bit 5 a receive queue (chains written into), bit 6 give every
 * third chain back unused][u16 le: the first available index we expect]
 * [the guest's memory: descriptor table, then the available ring, then the
 * used ring, then buffers; the rest zero]. The memory is one region of
 * 64 KiB at guest physical 0x10000; descriptors may point anywhere, the ring
 * walker must refuse what is outside it. Every chain taken is read or
 * written whole, so AddressSanitizer sees any piece that leaves the region.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tools/netstackd/virtq.h"

#define REGION_GPA  0x10000u
#define REGION_UVA  0x7f0000000000ull
#define REGION_SIZE 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t region[REGION_SIZE] __attribute__((aligned(4096)));

/**
 * touch() - read or write every byte of a chain, as the transport does
 * @e:      the chain
 * @rx:     write its writable pieces (receive); else read its readable ones
 *
 * Return: bytes written (the used length)
 */
static uint32_t touch(const struct ns_vq_elem *e, int rx)
{
    unsigned i, first = rx ? e->n_out : 0, end = rx ? e->n_out + e->n_in : e->n_out;
    volatile uint8_t sum = 0;
    uint32_t len = 0;

    if (e->oversized)
        return 0;
    for (i = first; i < end; i++) {
        if (rx) {
            memset(e->iov[i].iov_base, 0xab, e->iov[i].iov_len);
            len += (uint32_t)e->iov[i].iov_len;
        } else {
            const uint8_t *p = e->iov[i].iov_base;
            size_t k;

            for (k = 0; k < e->iov[i].iov_len; k++)
                sum ^= p[k];
        }
    }
    (void)sum;
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ns_gmem m = { .n = 1, .r[0] = { .gpa = REGION_GPA, .size = REGION_SIZE,
                                           .uva = REGION_UVA, .host = region } };
    struct ns_vq vq = { 0 };
    static struct ns_vq_elem e;
    unsigned num, taken = 0, i;
    size_t avail_off, used_off;
    int rx, rc;

    if (size < 3)
        return 0;
    num = 1u << ((data[0] & 15) % 9);
    rx = !!(data[0] & 0x20);
    vq.num = num;
    vq.event_idx = !!(data[0] & 0x10);
    vq.last_avail = (uint16_t)(data[1] | data[2] << 8);
    memset(region, 0, sizeof(region));
    memcpy(region, data + 3, size - 3 < REGION_SIZE ? size - 3 : REGION_SIZE);
    avail_off = 16 * (size_t)num;
    used_off = (avail_off + ns_vq_ring_bytes(num, 0) + 3) & ~(size_t)3;
    vq.desc_uva = REGION_UVA;
    vq.avail_uva = REGION_UVA + avail_off;
    vq.used_uva = REGION_UVA + used_off;
    if (ns_vq_map(&vq, &m))
        return 0;
    for (i = 0; i < 2 * num + 2; i++) {
        rc = ns_vq_pop(&vq, &m, &e);
        if (rc <= 0)
            break;
        if ((data[0] & 0x40) && ++taken % 3 == 0) {
            ns_vq_unpop(&vq, 1);
            break;
        }
        ns_vq_push(&vq, e.head, touch(&e, rx));
    }
    ns_vq_publish(&vq);
    ns_vq_need_call(&vq);
    ns_vq_want_kick(&vq);
    /* Once broken, a queue stays broken. */
    if (vq.broken && ns_vq_pop(&vq, &m, &e) != -EIO)
        __builtin_trap();
    return 0;
}
