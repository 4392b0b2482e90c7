/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_checksum.c - the Internet checksum (RFC 1071) against a byte-by-byte
 * reference: every length and alignment, running sums, copies, and inputs
 * that end right before an unreadable page.
 */
#include "tests/unit/harness.h"

/**
 * ref_sum() - RFC 1071's loop: 16-bit big-endian words, carries folded at the end.
 */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = sum;

    for (; len >= 2; p += 2, len -= 2)
        acc += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        acc += (uint32_t)p[0] << 8;
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint32_t)acc;
}

static void matches_reference_at_every_length_and_offset(void **state)
{
    static uint8_t buf[4096 + 8];
    size_t len, off, i;

    (void)state;
    srandom(7);
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)random();
    for (off = 0; off < 8; off++)
        for (len = 0; len <= 300; len++)
            assert_int_equal(ns_csum_fold(ns_csum_add(0x1234, buf + off, len)),
                             ns_csum_fold(ref_sum(0x1234, buf + off, len)));
    assert_int_equal(ns_csum_fold(ns_csum_add(0, buf + 1, 4096)),
                     ns_csum_fold(ref_sum(0, buf + 1, 4096)));
}

static void all_ones_and_carries(void **state)
{
    static uint8_t ones[65536];
    uint32_t big = 0xfffff;

    (void)state;
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(ns_csum_fold(ns_csum_add(0, ones, sizeof(ones))),
                     ns_csum_fold(ref_sum(0, ones, sizeof(ones))));
    assert_int_equal(ns_csum_fold(ns_csum_add(big, ones, 33)),
                     ns_csum_fold(ref_sum(big, ones, 33)));
    assert_int_equal(ns_csum_add(0, ones, 0), 0);
}

static void copy_sums_what_it_copies(void **state)
{
    uint8_t src[1500], dst[1500];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(ns_csum_fold(ns_csum_copy(dst, src, 1499, 99)),
                     ns_csum_fold(ref_sum(99, src, 1499)));
    assert_memory_equal(dst, src, 1499);
}

static void reads_nothing_past_the_end(void **state)
{
    uint8_t data[77];
    const uint8_t *g;
    size_t len;

    (void)state;
    memset(data, 0xa5, sizeof(data));
    for (len = 0; len <= sizeof(data); len++) {
        g = guarded(data, len);
        assert_int_equal(ns_csum_fold(ns_csum_add(0, g, len)), ns_csum_fold(ref_sum(0, data, len)));
        unguard();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_reference_at_every_length_and_offset),
        cmocka_unit_test(all_ones_and_carries),
        cmocka_unit_test(copy_sums_what_it_copies),
        cmocka_unit_test(reads_nothing_past_the_end),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
