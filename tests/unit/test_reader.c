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
    uint32_t u32;
    uint16_t u16;

    ns_reader_init(&r, p, sizeof(msg));
    assert_int_equal(ns_reader_skip(&r, 1), 0);
    assert_int_equal(ns_reader_be32(&r, &u32), -1);
    assert_int_equal(r.off, 1);
    assert_int_equal(ns_reader_be16(&r, &u16), 0);
    assert_int_equal(u16, 0xbbcc);
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
    assert_null(ns_reader_get(&r, SIZE_MAX - 1));
    assert_null(ns_reader_peek(&r, 3, SIZE_MAX));
    assert_null(ns_reader_peek(&r, SIZE_MAX, 1));
    assert_null(ns_reader_peek(&r, 5, 0));
    assert_non_null(ns_reader_peek(&r, 4, 0));
    assert_int_equal(ns_reader_sub(&r, 3, &sub), -1);
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
    assert_int_equal(ns_reader_copy(&sub, out, 3), -1);
    assert_int_equal(ns_reader_copy(&sub, out, 2), 0);
    assert_memory_equal(out, msg, 2);
    assert_int_equal(ns_reader_u8(&r, &out[0]), 0);
    assert_int_equal(out[0], 7);
}

static void null_buffer_is_empty(void **state)
{
    struct ns_reader r;
    uint8_t v;

    ns_reader_init(&r, NULL, 100);
    assert_int_equal(ns_reader_left(&r), 0);
    assert_int_equal(ns_reader_u8(&r, &v), -1);
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
        cmocka_unit_test(huge_lengths_do_not_wrap),
        cmocka_unit_test(sub_reader_cannot_escape),
        cmocka_unit_test(null_buffer_is_empty),
        cmocka_unit_test(writer_overflow_is_sticky),
    };

    return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
