/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_neigh.c - the neighbour table both families share: what it learns,
 * a changed MAC, and which entry a full table gives up
 */
#include "ethernet/neigh.h"
#include "netstack/stack.h"
#include "tests/unit/harness.h"
#include "tests/unit/harness6.h"

/* fe80::N, the guest's Nth link-local address */
static struct in6_addr ll(unsigned n)
{
    struct in6_addr a = { .s6_addr = { 0xfe, 0x80 } };

    put16(a.s6_addr + 14, (uint16_t)n);
    return a;
}

static void mac_of(unsigned n, uint8_t mac[6])
{
    memcpy(mac, guest_mac, 6);
    mac[5] = (uint8_t)n;
}

static void learns_both_families_and_follows_a_new_mac(void **state)
{
    struct ns_link *lk = &((struct netstack *)*state)->link;
    uint8_t mac[6], got[6];
    struct in6_addr a = ll(1);

    mac_of(1, mac);
    ns_neigh6_learn(lk, &a, mac);
    ns_neigh_learn(lk, GUEST, guest_mac);
    assert_int_equal(ns_neigh6_lookup(lk, &a, got), 1);
    assert_memory_equal(got, mac, 6);
    assert_int_equal(ns_neigh_lookup(lk, GUEST, got), 1);
    assert_memory_equal(got, guest_mac, 6);
    /* The same address from another MAC: the new one counts. */
    mac_of(9, mac);
    ns_neigh6_learn(lk, &a, mac);
    assert_int_equal(ns_neigh6_lookup(lk, &a, got), 1);
    assert_memory_equal(got, mac, 6);
    /* Not learned: outside the link, our own, multicast sources. */
    a = (struct in6_addr){ .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
    ns_neigh6_learn(lk, &a, mac);
    assert_int_equal(ns_neigh6_lookup(lk, &a, got), 0);
    memcpy(&a, GW6, 16);
    ns_neigh6_learn(lk, &a, mac);
    assert_int_equal(ns_neigh6_lookup(lk, &a, got), 0);
    a = ll(2);
    ns_neigh6_learn(lk, &a, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 });
    assert_int_equal(ns_neigh6_lookup(lk, &a, got), 0);
    /* The guest goes away: all forgotten. */
    ns_neigh_flush(lk);
    a = ll(1);
    assert_int_equal(ns_neigh6_lookup(lk, &a, got), 0);
}

static void a_full_table_gives_up_the_least_recently_seen(void **state)
{
    struct ns_link *lk = &((struct netstack *)*state)->link;
    uint8_t mac[6], got[6];
    struct in6_addr a;
    unsigned i;

    for (i = 1; i <= NS_NEIGH_MAX; i++) {
        fake_ns += 1000000;     /* 1 ms apart */
        a = ll(i);
        mac_of(i, mac);
        ns_neigh6_learn(lk, &a, mac);
    }
    /* Address 1 is seen again; now 2 is the least recently seen. */
    fake_ns += 1000000;
    a = ll(1);
    mac_of(1, mac);
    ns_neigh6_learn(lk, &a, mac);
    fake_ns += 1000000;
    a = ll(100);
    mac_of(100, mac);
    ns_neigh6_learn(lk, &a, mac);
    for (i = 1; i <= NS_NEIGH_MAX; i++) {
        a = ll(i);
        mac_of(i, mac);
        if (i == 2) {
            assert_int_equal(ns_neigh6_lookup(lk, &a, got), 0);
            continue;
        }
        assert_int_equal(ns_neigh6_lookup(lk, &a, got), 1);
        assert_memory_equal(got, mac, 6);
    }
    a = ll(100);
    assert_int_equal(ns_neigh6_lookup(lk, &a, got), 1);
    assert_int_equal(got[5], 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(learns_both_families_and_follows_a_new_mac,
                                        stack6_setup, stack6_teardown),
        cmocka_unit_test_setup_teardown(a_full_table_gives_up_the_least_recently_seen,
                                        stack6_setup, stack6_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
