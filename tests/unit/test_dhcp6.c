/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dhcp6.c - stateless DHCPv6: what an Information-request gets, and
 * what is left unanswered
 */
#include "netstack/dhcp6.h"
#include "tests/unit/harness.h"
#include "tests/unit/harness6.h"

static const uint8_t DHCP_SERVERS[16] = { 0xff, 0x02, [13] = 1, [15] = 2 };
static const uint8_t DHCP_SERVERS_MAC[6] = { 0x33, 0x33, 0, 1, 0, 2 };
/* Client ID: a DUID-LLT of the guest's MAC; elapsed time; option request for 23 and 24 */
static const uint8_t CLIENT_ID[] = { 0, 1, 0, 14, 0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d,
                                     0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t ELAPSED_ORO[] = { 0, 8, 0, 2, 0, 0, 0, 6, 0, 4, 0, 23, 0, 24 };
/* DUID-LL of the gateway MAC: type 3, hardware type 1 */
static const uint8_t SERVER_ID[] = { 0, 2, 0, 10, 0, 3, 0, 1, 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };

/**
 * message() - a DHCPv6 message: type, transaction 0x0a0b0c, then @opts; returns its length.
 */
static size_t message(uint8_t *m, uint8_t type, const uint8_t *opts, size_t olen)
{
    m[0] = type;
    m[1] = 0x0a;
    m[2] = 0x0b;
    m[3] = 0x0c;
    memcpy(m + 4, opts, olen);
    return 4 + olen;
}

/**
 * find_option() - option @code in the reply at @r (@len bytes); its data and length.
 */
static const uint8_t *find_option(const uint8_t *r, size_t len, uint16_t code, size_t *olen)
{
    size_t off = 4;

    while (off + 4 <= len) {
        uint16_t c = get16(r + off), l = get16(r + off + 2);

        assert_true(off + 4 + l <= len);
        if (c == code) {
            *olen = l;
            return r + off + 4;
        }
        off += 4 + l;
    }
    return NULL;
}

static void information_request_answered(void **state)
{
    struct netstack *ns = *state;
    uint8_t opts[64], m[96], f[256];
    const uint8_t *h, *u, *r, *o;
    size_t n = 0, len, olen;

    memcpy(opts, CLIENT_ID, sizeof(CLIENT_ID));
    n += sizeof(CLIENT_ID);
    memcpy(opts + n, ELAPSED_ORO, sizeof(ELAPSED_ORO));
    n += sizeof(ELAPSED_ORO);
    len = message(m, 11, opts, n);
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, GUEST_LL, DHCP_SERVERS, 547, m, len, 1));
    assert_int_equal(captured.n, 1);
    assert_memory_equal(captured.frame[0], guest_mac, 6);
    h = captured.frame[0] + 14;
    assert_int_equal(h[6], 17);
    assert_memory_equal(h + 8, GW_LL, 16);          /* from the gateway's link-local */
    assert_memory_equal(h + 24, GUEST_LL, 16);
    u = h + 40;
    assert_int_equal(get16(u), 547);
    assert_int_equal(get16(u + 2), 40000);          /* back to the client's port */
    assert_int_equal(csum6_proto(h + 8, h + 24, 17, u, get16(u + 4)), 0);
    r = u + 8;
    len = get16(u + 4) - 8;
    assert_int_equal(r[0], 7);                      /* Reply */
    assert_memory_equal(r + 1, "\x0a\x0b\x0c", 3);
    assert_non_null(o = find_option(r, len, 2, &olen));
    assert_int_equal(olen, 10);
    assert_memory_equal(o, SERVER_ID + 4, 10);
    assert_non_null(o = find_option(r, len, 1, &olen));
    assert_int_equal(olen, sizeof(CLIENT_ID) - 4);
    assert_memory_equal(o, CLIENT_ID + 4, olen);
    assert_non_null(o = find_option(r, len, 23, &olen));
    assert_int_equal(olen, 16);
    assert_memory_equal(o, GW6, 16);
    assert_non_null(o = find_option(r, len, 24, &olen));
    assert_int_equal(olen, 10);
    assert_memory_equal(o, "\x08internal", 10);
    assert_non_null(o = find_option(r, len, 32, &olen));
    assert_int_equal(olen, 4);
    assert_true(get32(o) >= 600);
    assert_int_equal(counter(ns, NETSTACK_STAT_dhcp6_in), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_dhcp6_replies), 1);
    /* Sent to our server ID, and unicast to the gateway's link-local address: also answered. */
    memcpy(opts + n, SERVER_ID, sizeof(SERVER_ID));
    len = message(m, 11, opts, n + sizeof(SERVER_ID));
    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST_LL, GW_LL, 547, m, len, 1));
    assert_int_equal(counter(ns, NETSTACK_STAT_dhcp6_replies), 2);
}

static void what_is_not_answered(void **state)
{
    struct netstack *ns = *state;
    static const uint8_t ia_na[] = { 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t other_server[] = { 0, 2, 0, 10, 0, 3, 0, 1, 1, 2, 3, 4, 5, 6 };
    static const uint8_t runs_off[] = { 0, 8, 0, 9, 0, 0 };
    static const uint8_t big_client[] = { 0, 1, 0, 131 };
    uint8_t m[256] = { 0 }, f[512];
    size_t len;

    /* Solicit (addresses are SLAAC's), an Information-request asking for addresses, or for another server. */
    len = message(m, 1, CLIENT_ID, sizeof(CLIENT_ID));
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, GUEST_LL, DHCP_SERVERS, 547, m, len, 1));
    len = message(m, 11, ia_na, sizeof(ia_na));
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, GUEST_LL, DHCP_SERVERS, 547, m, len, 1));
    len = message(m, 11, other_server, sizeof(other_server));
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, GUEST_LL, DHCP_SERVERS, 547, m, len, 1));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_dhcp6_unhandled), 3);
    /* Malformed: shorter than the header, an option running off the end, an oversized DUID. */
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, GUEST_LL, DHCP_SERVERS, 547, m, 3, 1));
    len = message(m, 11, runs_off, sizeof(runs_off));
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, GUEST_LL, DHCP_SERVERS, 547, m, len, 1));
    memset(m + 4, 0, 140);
    len = message(m, 11, big_client, sizeof(big_client)) + 131;
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, GUEST_LL, DHCP_SERVERS, 547, m, len, 1));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_dhcp6_malformed), 3);
    /* From :: (not a DHCPv6 client yet): the IPv6 layer refuses it. */
    len = message(m, 11, CLIENT_ID, sizeof(CLIENT_ID));
    netstack_input(ns, f, udp6_frame(f, DHCP_SERVERS_MAC, (const uint8_t[16]){ 0 }, DHCP_SERVERS,
                                     547, m, len, 1));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_source), 1);
    assert_int_equal(captured.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(information_request_answered, stack6_setup,
                                        stack6_teardown),
        cmocka_unit_test_setup_teardown(what_is_not_answered, stack6_setup, stack6_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
