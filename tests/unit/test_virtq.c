/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_virtq.c - the split virtqueue: chains taken and given back, the
 * notification rules both ways, and every ring rule a guest can break
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tools/netstackd/virtq.h"

#define GPA     0x100000u
#define UVA     0x7f0000000000ull
#define SIZE    65536u
#define NUM     8u
#define AVAIL   0x100u          /* offsets in the region */
#define USED    0x200u
#define BUF     0x1000u

static uint8_t region[SIZE] __attribute__((aligned(4096)));
static const struct ns_gmem mem = { .n = 1, .r[0] = { .gpa = GPA, .size = SIZE, .uva = UVA,
                                                      .host = region } };

static void put16(size_t off, uint16_t v)
{
    memcpy(region + off, &v, 2);
}

static uint16_t get16(size_t off)
{
    uint16_t v;

    memcpy(&v, region + off, 2);
    return v;
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    memcpy(region + 16 * i, &addr, 8);
    memcpy(region + 16 * i + 8, &len, 4);
    memcpy(region + 16 * i + 12, &flags, 2);
    memcpy(region + 16 * i + 14, &next, 2);
}

/* The guest makes @head available. */
static void offer(uint16_t head)
{
    uint16_t idx = get16(AVAIL + 2);

    put16(AVAIL + 4 + 2 * (idx % NUM), head);
    put16(AVAIL + 2, (uint16_t)(idx + 1));
}

static struct ns_vq queue(int event_idx)
{
    struct ns_vq vq = { .num = NUM, .desc_uva = UVA, .avail_uva = UVA + AVAIL,
                        .used_uva = UVA + USED, .event_idx = event_idx };

    memset(region, 0, sizeof(region));
    assert_int_equal(ns_vq_map(&vq, &mem), 0);
    return vq;
}

static void takes_a_chain_and_gives_it_back(void **state)
{
    struct ns_vq vq = queue(1);
    struct ns_vq_elem e;
    uint32_t id, len;

    (void)state;
    /* A transmit chain: header and frame readable, then one writable piece. */
    desc(0, GPA + BUF, 12, 1, 3);
    desc(3, GPA + BUF + 12, 100, 1, 5);
    desc(5, GPA + BUF + 0x800, 64, 2, 0);
    offer(0);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    assert_int_equal(e.head, 0);
    assert_int_equal(e.n_out, 2);
    assert_int_equal(e.n_in, 1);
    assert_int_equal(e.out_len, 112);
    assert_int_equal(e.in_len, 64);
    assert_ptr_equal(e.iov[1].iov_base, region + BUF + 12);
    assert_ptr_equal(e.iov[2].iov_base, region + BUF + 0x800);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 0);
    ns_vq_push(&vq, e.head, 64);
    /* Not visible before it is published. */
    assert_int_equal(get16(USED + 2), 0);
    ns_vq_publish(&vq);
    assert_int_equal(get16(USED + 2), 1);
    memcpy(&id, region + USED + 4, 4);
    memcpy(&len, region + USED + 8, 4);
    assert_int_equal(id, 0);
    assert_int_equal(len, 64);
}

static void calls_only_when_the_guest_asked(void **state)
{
    struct ns_vq vq = queue(1);
    struct ns_vq_elem e;
    unsigned i;

    (void)state;
    for (i = 0; i < 4; i++) {
        desc(i, GPA + BUF + 64 * i, 64, 0, 0);
        offer((uint16_t)i);
    }
    /* used_event 2: an interrupt once the used index passes 2, not before. */
    put16(AVAIL + 4 + 2 * NUM, 2);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    ns_vq_push(&vq, e.head, 0);
    ns_vq_publish(&vq);
    assert_int_equal(ns_vq_need_call(&vq), 0);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    ns_vq_push(&vq, e.head, 0);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    ns_vq_push(&vq, e.head, 0);
    ns_vq_publish(&vq);
    assert_int_equal(ns_vq_need_call(&vq), 1);
    /* Nothing new: no call. */
    assert_int_equal(ns_vq_need_call(&vq), 0);
    /* Without the event index, the flag decides. */
    vq = queue(0);
    desc(0, GPA + BUF, 64, 0, 0);
    offer(0);
    put16(AVAIL, 1);    /* VRING_AVAIL_F_NO_INTERRUPT */
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    ns_vq_push(&vq, e.head, 0);
    ns_vq_publish(&vq);
    assert_int_equal(ns_vq_need_call(&vq), 0);
}

static void asks_for_a_kick_past_what_is_there(void **state)
{
    struct ns_vq vq = queue(1);
    struct ns_vq_elem e;

    (void)state;
    assert_int_equal(ns_vq_want_kick(&vq), 0);
    assert_int_equal(get16(USED + 4 + 8 * NUM), 0);
    desc(0, GPA + BUF, 64, 2, 0);
    desc(1, GPA + BUF + 64, 64, 2, 0);
    offer(0);
    offer(1);
    /* Two chains there but too few for the frame: given back, a kick wanted
     * when the guest adds to its index 2, and told that chains are there. */
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    ns_vq_unpop(&vq, 2);
    assert_int_equal(vq.last_avail, 0);
    assert_int_equal(ns_vq_want_kick(&vq), 1);
    assert_int_equal(get16(USED + 4 + 8 * NUM), 2);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), 1);
    assert_int_equal(e.head, 0);
}

/* @setup breaks a rule; the queue must be broken, and stay so. */
static void expect_broken(void (*setup)(void), const char *what)
{
    struct ns_vq vq = queue(1);
    struct ns_vq_elem e;

    setup();
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), -EIO);
    assert_true(vq.broken);
    assert_non_null(vq.why);
    assert_non_null(strstr(vq.why, what));
    desc(0, GPA + BUF, 64, 0, 0);
    assert_int_equal(ns_vq_pop(&vq, &mem, &e), -EIO);
}

static void outside(void) { desc(0, GPA + SIZE - 16, 64, 0, 0); offer(0); }
static void huge(void) { desc(0, GPA + BUF, 0xffffffffu, 0, 0); offer(0); }
static void loop(void) { desc(0, GPA + BUF, 8, 1, 1); desc(1, GPA + BUF, 8, 1, 0); offer(0); }
static void head_beyond(void) { offer(NUM); }
static void next_beyond(void) { desc(0, GPA + BUF, 8, 1, 200); offer(0); }
static void far_ahead(void) { put16(AVAIL + 2, NUM + 1); }
static void indirect(void) { desc(0, GPA + BUF, 16, 4, 0); offer(0); }
static void readable_after_writable(void) { desc(0, GPA + BUF, 8, 3, 1); desc(1, GPA + BUF, 8, 0, 0); offer(0); }

static void every_broken_rule_stops_the_queue(void **state)
{
    (void)state;
    expect_broken(outside, "outside every memory region");
    expect_broken(huge, "outside every memory region");
    expect_broken(loop, "loop");
    expect_broken(head_beyond, "beyond the ring");
    expect_broken(next_beyond, "beyond the ring");
    expect_broken(far_ahead, "more than the ring ahead");
    expect_broken(indirect, "indirect");
    expect_broken(readable_after_writable, "readable descriptor after a writable");
}

static void rings_must_be_mapped_and_aligned(void **state)
{
    struct ns_vq vq = { .num = NUM, .desc_uva = UVA + SIZE - 64, .avail_uva = UVA + AVAIL,
                        .used_uva = UVA + USED };

    (void)state;
    assert_int_equal(ns_vq_map(&vq, &mem), -EINVAL);
    assert_true(vq.broken);
    vq = (struct ns_vq){ .num = NUM, .desc_uva = UVA + 8, .avail_uva = UVA + AVAIL,
                         .used_uva = UVA + USED };
    assert_int_equal(ns_vq_map(&vq, &mem), -EINVAL);
    assert_null(vq.used);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(takes_a_chain_and_gives_it_back),
        cmocka_unit_test(calls_only_when_the_guest_asked),
        cmocka_unit_test(asks_for_a_kick_past_what_is_there),
        cmocka_unit_test(every_broken_rule_stops_the_queue),
        cmocka_unit_test(rings_must_be_mapped_and_aligned),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
