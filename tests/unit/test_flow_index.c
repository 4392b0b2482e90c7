/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow_index.c - the stack's one flow table: keys of both families and
 * every kind, found, distinct, removed in any order
 */
#include "tests/unit/harness.h"
#include "ethernet/ipv6.h"
#include "netstack/flow_index.h"
#include "netstack/stack.h"

#define N 5000

static struct ns_fnode nodes[N];

/**
 * key() - the @i-th test key: IPv4 or IPv6 by parity, every kind in turn.
 */
static struct ns_fkey key(unsigned i)
{
    struct ns_fkey k = { .guest_port = (uint16_t)(40000 + i % 1000), .peer_port = 80,
                         .kind = NS_FK_TCP + i % 5 };

    if (i % 2) {
        k.guest = ns_ip6_mapped4(0xc0a84102u);
        k.peer = ns_ip6_mapped4(0x0a4d0000u + i / 1000);
    } else {
        k.guest.s6_addr[0] = 0xfd;
        k.guest.s6_addr[15] = 2;
        k.peer.s6_addr[0] = 0x20;
        k.peer.s6_addr[14] = (uint8_t)(i / 1000);
    }
    return k;
}

static void find_insert_remove(void **state)
{
    struct netstack *ns = stack_with(0);
    struct ns_fkey k;
    unsigned i;

    for (i = 0; i < N; i++) {
        k = key(i);
        assert_null(ns_findex_find(ns, &k));
        nodes[i].key = k;
        ns_findex_insert(ns, &nodes[i]);
    }
    assert_int_equal(ns->findex->count, N);
    for (i = 0; i < N; i++) {
        k = key(i);
        assert_ptr_equal(ns_findex_find(ns, &k), &nodes[i]);
    }
    /* The same five-tuple of another kind is another flow. */
    k = key(0);
    k.kind = NS_FK_ICMP;
    assert_ptr_not_equal(ns_findex_find(ns, &k), &nodes[0]);
    /* Out in any order (every third, then the rest backwards); twice is harmless. */
    for (i = 0; i < N; i += 3)
        ns_findex_remove(ns, &nodes[i]);
    ns_findex_remove(ns, &nodes[0]);
    for (i = 0; i < N; i++) {
        k = key(i);
        assert_ptr_equal(ns_findex_find(ns, &k), i % 3 ? &nodes[i] : NULL);
    }
    for (i = N; i-- > 0;)
        ns_findex_remove(ns, &nodes[i]);
    assert_int_equal(ns->findex->count, 0);
    for (i = 0; i < N; i++) {
        k = key(i);
        assert_null(ns_findex_find(ns, &k));
    }
    stack_done(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(find_insert_remove),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
