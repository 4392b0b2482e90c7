/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_arp.c - ARP: who the stack answers for, and hostile packets
 */
#include "tests/unit/harness.h"

static int setup(void **state)
{
    *state = stack_with(0);
    return 0;
}

static int teardown(void **state)
{
    stack_done(*state);
    return 0;
}

/**
 * expect_reply() - the one captured frame is an ARP reply saying @ip is at the gateway MAC.
 */
static void expect_reply(uint32_t ip)
{
    const uint8_t *f, *a;

    assert_int_equal(captured.n, 1);
    f = captured.frame[0];
    assert_int_equal(captured.len[0], 42);
    assert_memory_equal(f, guest_mac, 6);
    assert_memory_equal(f + 6, gw_mac, 6);
    assert_int_equal(get16(f + 12), 0x0806);
    a = f + 14;
    assert_int_equal(get16(a), 1);
    assert_int_equal(get16(a + 2), 0x0800);
    assert_int_equal(get16(a + 6), 2);
    assert_memory_equal(a + 8, gw_mac, 6);
    assert_int_equal(get32(a + 14), ip);
    assert_memory_equal(a + 18, guest_mac, 6);
    assert_int_equal(get32(a + 24), GUEST);
}

static void answers_for_gateway_alias_and_subnet(void **state)
{
    struct netstack *ns = *state;
    uint32_t targets[] = { GW, ALIAS, IP(192, 168, 65, 77) };
    uint8_t f[64];
    size_t i;

    for (i = 0; i < 3; i++) {
        capture_reset();
        netstack_input(ns, f, arp_frame(f, 1, GUEST, targets[i]));
        expect_reply(targets[i]);
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_arp_replies), 3);
}

static void silent_for_the_guest_and_outside(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[64];

    /* The guest's own address (learned from its traffic): gratuitous ARP. */
    netstack_input(ns, f, arp_frame(f, 1, GUEST, GUEST));
    /* Outside the subnet, network and broadcast addresses. */
    netstack_input(ns, f, arp_frame(f, 1, GUEST, IP(10, 0, 0, 1)));
    netstack_input(ns, f, arp_frame(f, 1, GUEST, IP(192, 168, 65, 0)));
    netstack_input(ns, f, arp_frame(f, 1, GUEST, IP(192, 168, 65, 255)));
    /* A reply from the guest teaches us but is not answered. */
    netstack_input(ns, f, arp_frame(f, 2, GUEST, GW));
    assert_int_equal(captured.n, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_arp_ignored), 5);
}

static void probe_for_a_held_address_is_not_answered(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[64];

    /* The guest announced .2; a DAD probe (sender 0.0.0.0) for .2 must get no answer. */
    netstack_input(ns, f, arp_frame(f, 1, GUEST, GW));
    capture_reset();
    netstack_input(ns, f, arp_frame(f, 1, 0, GUEST));
    assert_int_equal(captured.n, 0);
    /* A probe for a free address is answered: it is behind the gateway. */
    netstack_input(ns, f, arp_frame(f, 1, 0, IP(192, 168, 65, 50)));
    assert_int_equal(captured.n, 1);
}

static void every_truncation_is_dropped(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[64];
    size_t len = arp_frame(f, 1, GUEST, GW), i;

    for (i = 14; i < len; i++) {
        const uint8_t *p = guarded(f, i);

        netstack_input(ns, p, i);
        unguard();
    }
    assert_int_equal(captured.n, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_arp_malformed), len - 14);
}

static void wrong_types_are_dropped(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[64];
    size_t len;

    len = arp_frame(f, 1, GUEST, GW);
    f[14 + 1] = 6;                      /* htype 6 (IEEE 802) */
    netstack_input(ns, f, len);
    len = arp_frame(f, 1, GUEST, GW);
    f[14 + 4] = 8;                      /* hlen 8 */
    netstack_input(ns, f, len);
    len = arp_frame(f, 1, GUEST, GW);
    f[14 + 8] |= 1;                     /* multicast sender MAC */
    netstack_input(ns, f, len);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_arp_malformed), 3);
    assert_int_equal(captured.n, 0);
}

static void frames_for_other_macs_are_dropped(void **state)
{
    struct netstack *ns = *state;
    static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 9 };
    uint8_t f[64];
    size_t len = arp_frame(f, 1, GUEST, GW);

    memcpy(f, other, 6);
    netstack_input(ns, f, len);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_eth_not_for_us), 1);
    netstack_input(ns, f, 13);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_eth_short), 1);
    assert_int_equal(captured.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(answers_for_gateway_alias_and_subnet, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_for_the_guest_and_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(probe_for_a_held_address_is_not_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(every_truncation_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_types_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(frames_for_other_macs_are_dropped, setup, teardown),
    };

    return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
