/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_reader.c - the bounds-checked reader and writer
 */
#include "tests/unit/harness.h"

#include "ethernet/reader.h"
#include "ethernet/writer.h"

static void reads_exactly_what_arrived(void **state)
{
    static const uint8_t msg[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
    const uint8_t *p = guarded(msg, sizeof(msg));
    struct ns_reader r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;

    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_u8(&r, &u8), 0);
    assert_int_equal(u8, 0x01);
    assert_int_equal(ns_reader_be16(&r, &u16), 0);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(ns_reader_be32(&r, &u32), 0);
    assert_int_equal(u32, 0x04050607);
    assert_int_equal(ns_reader_left(&r), 0);
    /* Past the end: each fails, nothing is read (an over-read would fault). */
    assert_int_equal(ns_reader_u8(&r, &u8), -1);
    assert_int_equal(ns_reader_be16(&r, &u16), -1);
    assert_int_equal(ns_reader_be32(&r, &u32), -1);
    assert_null(ns_reader_get(&r, 1));
    unguard();
}

static void failed_read_does_not_move(void **state)
{
    static const uint8_t msg[] = { 0xaa, 0xbb, 0xcc };
    const uint8_t *p = guarded(msg, sizeof(msg));
    struct ns_reader r;
    uint32_t u32 = 0x11111111;

    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_skip(&r, 1), 0);
    assert_false(ns_reader_failed(&r));
    assert_int_equal(ns_reader_be32(&r, &u32), -1);
    assert_true(ns_reader_failed(&r));
    assert_int_equal(r.off, 1);
    assert_int_equal(ns_reader_left(&r), 2);
    assert_int_equal(u32, 0x11111111);
    unguard();
}

/* After one failure every read fails, even one that would fit, and reads nothing. */
static void failure_poisons_later_reads(void **state)
{
    static const uint8_t msg[] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
    const uint8_t *p = guarded(msg, sizeof(msg));
    struct ns_reader r, sub;
    uint8_t u8 = 0x55, out[2] = { 0x55, 0x55 };
    uint16_t u16 = 0x5555;
    uint32_t u32 = 0x55555555;

    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_read_u8(&r), 0xaa);
    assert_null(ns_reader_get(&r, 5));
    assert_int_equal(r.off, 1);

    assert_null(ns_reader_get(&r, 1));
    assert_null(ns_reader_get(&r, 0));
    assert_int_equal(ns_reader_skip(&r, 0), -1);
    assert_int_equal(ns_reader_u8(&r, &u8), -1);
    assert_int_equal(ns_reader_be16(&r, &u16), -1);
    assert_int_equal(ns_reader_be32(&r, &u32), -1);
    assert_int_equal(ns_reader_copy(&r, out, 2), -1);
    assert_int_equal(ns_read_u8(&r), 0);
    assert_int_equal(ns_read_be16(&r), 0);
    assert_int_equal(ns_read_be32(&r), 0);
    assert_int_equal(u8, 0x55);
    assert_int_equal(u16, 0x5555);
    assert_int_equal(u32, 0x55555555);
    assert_memory_equal(out, "\x55\x55", 2);

    /* A region carved from a failed reader is empty and failed as well. */
    ns_reader_init(&sub, p, sizeof(msg));
    assert_int_equal(ns_reader_sub(&r, 1, &sub), -1);
    assert_true(ns_reader_failed(&sub));
    assert_int_equal(ns_reader_left(&sub), 0);
    assert_int_equal(ns_read_u8(&sub), 0);

    assert_int_equal(r.off, 1);
    assert_int_equal(ns_reader_left(&r), 4);
    assert_true(ns_reader_failed(&r));
    /* peek is absolute and neither looks at nor sets the flag */
    assert_non_null(ns_reader_peek(&r, 1, 4));
    assert_int_equal(ns_reader_peek(&r, 1, 4)[0], 0xbb);
    unguard();
}

/* The value variants: a run of fields read, then one check. */
static void value_reads_check_once(void **state)
{
    static const uint8_t msg[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
    const uint8_t *p = guarded(msg, sizeof(msg));
    struct ns_reader r;
    uint16_t a;
    uint32_t b;
    uint8_t c, d;

    ns_reader_init(&r, p, sizeof(msg));
    a = ns_read_be16(&r);
    b = ns_read_be32(&r);
    c = ns_read_u8(&r);
    assert_false(ns_reader_failed(&r));
    assert_int_equal(a, 0x0102);
    assert_int_equal(b, 0x03040506);
    assert_int_equal(c, 0x07);

    /* Two bytes wanted, one left: 0, the flag, nothing read (the guard would fault). */
    assert_int_equal(ns_read_be16(&r), 0);
    d = ns_read_u8(&r);
    assert_true(ns_reader_failed(&r));
    assert_int_equal(d, 0);
    assert_int_equal(r.off, 7);
    assert_int_equal(ns_reader_left(&r), 1);
    unguard();
}

/* A region and its parent fail independently once carved. */
static void sub_reader_fails_on_its_own(void **state)
{
    static const uint8_t msg[] = { 1, 2, 3, 4, 5, 6 };
    const uint8_t *p = guarded(msg, sizeof(msg));
    struct ns_reader r, sub, sub2;

    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_sub(&r, 2, &sub), 0);
    assert_int_equal(ns_read_be32(&sub), 0);
    assert_true(ns_reader_failed(&sub));
    assert_false(ns_reader_failed(&r));
    assert_int_equal(ns_read_u8(&r), 3);

    assert_int_equal(ns_reader_sub(&r, 2, &sub2), 0);
    assert_null(ns_reader_get(&r, 3));
    assert_true(ns_reader_failed(&r));
    assert_false(ns_reader_failed(&sub2));
    assert_int_equal(ns_read_be16(&sub2), 0x0405);
    assert_false(ns_reader_failed(&sub2));
    /* and the earlier region stays failed */
    assert_true(ns_reader_failed(&sub));
    unguard();
}

static void init_clears_failure(void **state)
{
    static const uint8_t msg[] = { 0x12, 0x34 };
    const uint8_t *p = guarded(msg, sizeof(msg));
    struct ns_reader r;

    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_skip(&r, 3), -1);
    assert_true(ns_reader_failed(&r));
    ns_reader_init(&r, p, sizeof(msg));
    assert_false(ns_reader_failed(&r));
    assert_int_equal(ns_read_be16(&r), 0x1234);
    assert_false(ns_reader_failed(&r));
    unguard();
}

static void huge_lengths_do_not_wrap(void **state)
{
    static const uint8_t msg[] = { 1, 2, 3, 4 };
    const uint8_t *p = guarded(msg, sizeof(msg));
    struct ns_reader r, sub;

    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_skip(&r, 2), 0);
    assert_null(ns_reader_get(&r, SIZE_MAX));
    assert_int_equal(r.off, 2);
    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_skip(&r, 2), 0);
    assert_null(ns_reader_get(&r, SIZE_MAX - 1));
    assert_int_equal(r.off, 2);
    assert_null(ns_reader_peek(&r, 3, SIZE_MAX));
    assert_null(ns_reader_peek(&r, SIZE_MAX, 1));
    assert_null(ns_reader_peek(&r, 5, 0));
    assert_non_null(ns_reader_peek(&r, 4, 0));
    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_skip(&r, 2), 0);
    assert_int_equal(ns_reader_sub(&r, 3, &sub), -1);
    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_skip(&r, 2), 0);
    assert_int_equal(ns_reader_sub(&r, 2, &sub), 0);
    assert_int_equal(ns_reader_left(&sub), 2);
    assert_int_equal(ns_reader_left(&r), 0);
    unguard();
}

static void sub_reader_cannot_escape(void **state)
{
    static const uint8_t msg[] = { 9, 8, 7, 6, 5 };
    struct ns_reader r, sub;
    uint8_t out[4];

    ns_reader_init(&r, msg, sizeof(msg));
    assert_int_equal(ns_reader_sub(&r, 2, &sub), 0);
    assert_int_equal(ns_reader_copy(&sub, out, 2), 0);
    assert_memory_equal(out, msg, 2);
    assert_int_equal(ns_reader_copy(&sub, out, 1), -1);     /* the parent has more */
    assert_int_equal(ns_reader_u8(&r, &out[0]), 0);
    assert_int_equal(out[0], 7);
    ns_reader_init(&r, msg, sizeof(msg));
    assert_int_equal(ns_reader_sub(&r, 2, &sub), 0);
    assert_int_equal(ns_reader_copy(&sub, out, 3), -1);
}

static void null_buffer_is_empty(void **state)
{
    struct ns_reader r;
    uint8_t v;

    ns_reader_init(&r, NULL, 100);
    assert_int_equal(ns_reader_left(&r), 0);
    assert_int_equal(ns_reader_skip(&r, 0), -1);   /* no buffer: not even zero bytes */
    assert_true(ns_reader_failed(&r));
    ns_reader_init(&r, NULL, 100);
    assert_int_equal(ns_reader_u8(&r, &v), -1);
    assert_true(ns_reader_failed(&r));
}

static void writer_overflow_is_sticky(void **state)
{
    uint8_t buf[5];
    struct ns_writer w;

    ns_writer_init(&w, buf, sizeof(buf));
    ns_writer_be32(&w, 0x01020304);
    assert_int_equal(w.len, 4);
    assert_false(w.overflow);
    ns_writer_be16(&w, 0xffff);
    assert_true(w.overflow);
    assert_int_equal(w.len, 4);
    ns_writer_u8(&w, 0x55);     /* fits, but overflow is sticky */
    assert_int_equal(w.len, 4);
    assert_memory_equal(buf, "\x01\x02\x03\x04", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_exactly_what_arrived),
        cmocka_unit_test(failed_read_does_not_move),
        cmocka_unit_test(failure_poisons_later_reads),
        cmocka_unit_test(value_reads_check_once),
        cmocka_unit_test(sub_reader_fails_on_its_own),
        cmocka_unit_test(init_clears_failure),
        cmocka_unit_test(huge_lengths_do_not_wrap),
        cmocka_unit_test(sub_reader_cannot_escape),
        cmocka_unit_test(null_buffer_is_empty),
        cmocka_unit_test(writer_overflow_is_sticky),
    };

    return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
