/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_reasm.c - fragment reassembly, its limits, and fragmented output
 */
#include <netinet/in.h>

#include "tests/unit/harness.h"

#include "ethernet/reasm.h"
#include "netstack/stack.h"

static int setup(void **state)
{
    *state = stack_with(1500);
    return 0;
}

static int teardown(void **state)
{
    stack_done(*state);
    return 0;
}

static uint8_t echo[8 + 4000];
static size_t echo_len;

/**
 * send_piece() - send bytes [@off, @off+@len) of the echo request as a fragment.
 */
static void send_piece(struct netstack *ns, uint16_t id, size_t off, size_t len, int more)
{
    uint8_t f[1600];
    const uint8_t *p;
    size_t flen = ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, id,
                             (uint16_t)((more ? 0x2000 : 0) | off / 8), echo + off, len);

    p = guarded(f, flen);
    netstack_input(ns, p, flen);
    unguard();
}

/**
 * reassemble_replies() - stitch the captured reply fragments; returns the ICMP length.
 */
static size_t reassemble_replies(uint8_t *out)
{
    size_t i, total = 0;

    for (i = 0; i < captured.n; i++) {
        const uint8_t *h = captured.frame[i] + 14;
        size_t off = (size_t)(get16(h + 6) & 0x1fff) * 8, len = get16(h + 2) - 20u;

        assert_true(captured.len[i] <= 1514);
        assert_int_equal(ns_csum(h, 20), 0);
        memcpy(out + off, h + 20, len);
        if (!(get16(h + 6) & 0x2000))
            total = off + len;
    }
    return total;
}

static void out_of_order_fragments_are_reassembled_and_reply_fragmented(void **state)
{
    struct netstack *ns = *state;
    uint8_t reply[sizeof(echo)];

    echo_len = icmp_echo(echo, 77, 1, 4000);
    send_piece(ns, 5, 2960, echo_len - 2960, 0);    /* last first */
    send_piece(ns, 5, 0, 1480, 1);
    assert_int_equal(captured.n, 0);
    send_piece(ns, 5, 1480, 1480, 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_frag_reassembled), 1);
    assert_int_equal(captured.n, 3);                /* 4008 bytes over a 1500 MTU */
    assert_int_equal(reassemble_replies(reply), echo_len);
    assert_int_equal(reply[0], 0);
    assert_memory_equal(reply + 4, echo + 4, echo_len - 4);
    assert_int_equal(ns_csum(reply, echo_len), 0);
}

static void overlap_drops_the_datagram(void **state)
{
    struct netstack *ns = *state;

    echo_len = icmp_echo(echo, 77, 1, 4000);
    send_piece(ns, 6, 0, 1480, 1);
    send_piece(ns, 6, 1472, 1480, 1);               /* overlaps the first by 8 bytes */
    send_piece(ns, 6, 2952, echo_len - 2952, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_frag_overlap), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_frag_reassembled), 0);
    assert_int_equal(captured.n, 0);
}

static void malformed_fragments(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[1600];
    size_t flen;

    echo_len = icmp_echo(echo, 77, 1, 4000);
    send_piece(ns, 7, 0, 1001, 1);                  /* non-final, not a multiple of 8 */
    /* Offset 8184 * 8 + 1480 runs past 65535. */
    flen = ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, 8, 0x2000 | 8184, echo, 1480);
    netstack_input(ns, f, flen);
    /* Two different ends for one datagram. */
    send_piece(ns, 9, 1480, 1000, 0);
    send_piece(ns, 9, 1480, 1480, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_frag_malformed), 3);
    assert_int_equal(ns_reasm_pending(ns->link.reasm), 0);
    assert_int_equal(captured.n, 0);
}

static void table_is_bounded_and_expires(void **state)
{
    struct netstack *ns = *state;
    uint16_t id;

    echo_len = icmp_echo(echo, 77, 1, 4000);
    for (id = 100; id < 100 + 64 + 10; id++)        /* 10 more than the default limit */
        send_piece(ns, id, 0, 1480, 1);
    assert_int_equal(ns_reasm_pending(ns->link.reasm), 64);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_frag_limit), 10);
    assert_int_equal(netstack_next_timeout(ns) <= 1000, 1);
    ns_reasm_expire(&ns->link, ns_now_ms() + 16000);
    assert_int_equal(ns_reasm_pending(ns->link.reasm), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_frag_timeout), 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(out_of_order_fragments_are_reassembled_and_reply_fragmented,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(overlap_drops_the_datagram, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(table_is_bounded_and_expires, setup, teardown),
    };

    return cmocka_run_group_tests_name("reasm", tests, NULL, NULL);
}
