/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ipv4.c - IPv4 validation, ICMP echo for our addresses, TCP through lwIP
 */
#include <netinet/in.h>

#include "tests/unit/harness.h"

#include "ethernet/ipv4.h"
#include "ethernet/reader.h"

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
 * parse() - run ns_ipv4_parse on the IPv4 part of @f (after 14 bytes), guarded.
 */
static enum ns_ipv4_verdict parse(const uint8_t *f, size_t len, struct ns_ipv4 *ip)
{
    const uint8_t *p = guarded(f + 14, len - 14);
    struct ns_reader r;
    enum ns_ipv4_verdict v;

    ns_reader_init(&r, p, len - 14);
    v = ns_ipv4_parse(&r, ip);
    unguard();
    return v;
}

static void header_validation(void **state)
{
    uint8_t f[128], pl[8] = { 0 };
    struct ns_ipv4 ip;
    size_t len = ipv4_frame(f, GUEST, GW, IPPROTO_UDP, 1, 0, pl, sizeof(pl)), i;

    assert_int_equal(parse(f, len, &ip), NS_IPV4_OK);
    assert_int_equal(ip.src, GUEST);
    assert_int_equal(ip.dst, GW);
    assert_int_equal(ip.payload_len, 8);

    for (i = 14; i < 14 + 20; i++)  /* every truncated header */
        assert_int_not_equal(parse(f, i, &ip), NS_IPV4_OK);
    assert_int_equal(parse(f, len - 1, &ip), NS_IPV4_BAD_LENGTH);

    f[14] = 0x65;                   /* version 6 */
    assert_int_equal(parse(f, len, &ip), NS_IPV4_BAD_HEADER);
    f[14] = 0x44;                   /* IHL 4 */
    assert_int_equal(parse(f, len, &ip), NS_IPV4_BAD_HEADER);
    f[14] = 0x4f;                   /* IHL 15: 60 bytes, more than arrived */
    assert_int_equal(parse(f, len, &ip), NS_IPV4_BAD_HEADER);
    f[14] = 0x45;
    put16(f + 16, 19);              /* total length shorter than the header */
    assert_int_equal(parse(f, len, &ip), NS_IPV4_BAD_LENGTH);
    put16(f + 16, 28);
    f[14 + 8] ^= 1;                 /* TTL changed, checksum now wrong */
    assert_int_equal(parse(f, len, &ip), NS_IPV4_BAD_CHECKSUM);
}

static void padding_is_trimmed_and_bad_sources_dropped(void **state)
{
    uint8_t f[128], pl[4] = { 1, 2, 3, 4 };
    struct ns_ipv4 ip;
    size_t len = ipv4_frame(f, GUEST, GW, 253, 1, 0, pl, sizeof(pl));

    memset(f + len, 0xee, 20);      /* Ethernet minimum-size padding */
    assert_int_equal(parse(f, len + 20, &ip), NS_IPV4_OK);
    assert_int_equal(ip.payload_len, 4);
    len = ipv4_frame(f, IP(224, 0, 0, 1), GW, 253, 1, 0, pl, sizeof(pl));
    assert_int_equal(parse(f, len, &ip), NS_IPV4_BAD_SOURCE);
    len = ipv4_frame(f, IP(127, 0, 0, 1), GW, 253, 1, 0, pl, sizeof(pl));
    assert_int_equal(parse(f, len, &ip), NS_IPV4_BAD_SOURCE);
}

static void ping_gateway_and_alias(void **state)
{
    struct netstack *ns = *state;
    uint32_t targets[] = { GW, ALIAS };
    uint8_t f[256], icmp[128];
    size_t i;

    for (i = 0; i < 2; i++) {
        size_t ilen = icmp_echo(icmp, 0x1234, (uint16_t)i, 56);
        const uint8_t *r;

        capture_reset();
        netstack_input(ns, f, ipv4_frame(f, GUEST, targets[i], IPPROTO_ICMP, 7, 0, icmp, ilen));
        assert_int_equal(captured.n, 1);
        r = captured.frame[0];
        assert_int_equal(captured.len[0], 14 + 20 + ilen);
        assert_memory_equal(r, guest_mac, 6);
        assert_int_equal(ns_csum(r + 14, 20), 0);
        assert_int_equal(get32(r + 14 + 12), targets[i]);
        assert_int_equal(get32(r + 14 + 16), GUEST);
        assert_int_equal(r[34], 0);                     /* echo reply */
        assert_int_equal(get16(r + 34 + 4), 0x1234);    /* identifier kept */
        assert_int_equal(get16(r + 34 + 6), i);
        assert_memory_equal(r + 34 + 8, icmp + 8, 56);
        assert_int_equal(ns_csum(r + 34, ilen), 0);
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp_echo_replies), 2);
}

static void bad_icmp_is_dropped(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[256], icmp[128];
    size_t ilen = icmp_echo(icmp, 1, 1, 16);

    icmp[10] ^= 0xff;               /* data changed: checksum wrong */
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, 1, 0, icmp, ilen));
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, 2, 0, icmp, 3));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_icmp_malformed), 2);
    assert_int_equal(captured.n, 0);
}

/**
 * tcp_syn() - a SYN from the guest's port 40000 to @dport; returns its length.
 */
static size_t tcp_syn(uint8_t *t, uint32_t src, uint32_t dst, uint16_t dport)
{
    uint32_t sum;

    memset(t, 0, 20);
    put16(t, 40000);
    put16(t + 2, dport);
    put32(t + 4, 1000);
    t[12] = 5 << 4;
    t[13] = 0x02;                   /* SYN */
    put16(t + 14, 64240);
    sum = ns_csum_pseudo4(src, dst, IPPROTO_TCP, 20);
    put16(t + 16, ns_csum_fold(ns_csum_add(sum, t, 20)));
    return 20;
}

static void tcp_to_closed_gateway_port_is_reset_by_lwip(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], t[20];
    const uint8_t *r;

    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_TCP, 9, 0, t, tcp_syn(t, GUEST, GW, 81)));
    assert_int_equal(captured.n, 1);
    r = captured.frame[0];
    assert_memory_equal(r, guest_mac, 6);
    assert_int_equal(r[14 + 9], IPPROTO_TCP);
    assert_int_equal(get32(r + 14 + 12), GW);
    assert_int_equal(get16(r + 34), 81);
    assert_int_equal(get16(r + 36), 40000);
    assert_int_equal(get32(r + 34 + 8), 1001);          /* acks the SYN */
    assert_int_equal(r[34 + 13] & 0x14, 0x14);          /* RST|ACK */
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_in), 1);
}

static void corrupt_tcp_gets_no_answer(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], t[20];

    tcp_syn(t, GUEST, GW, 81);
    t[16] ^= 0x55;                  /* bad checksum: lwIP drops it */
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_TCP, 9, 0, t, 20));
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_TCP, 9, 0, t, 7));
    assert_int_equal(captured.n, 0);
}

static void unknown_protocols_and_udp_ports_are_counted(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], u[12] = { 0x9c, 0x40, 0x00, 0x50, 0x00, 0x0c, 0, 0, 'a', 'b', 'c', 'd' };

    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, 47, 1, 0, u, sizeof(u)));    /* GRE */
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_UDP, 1, 0, u, sizeof(u)));
    u[5] = 0x40;                    /* UDP length larger than the datagram */
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_UDP, 1, 0, u, sizeof(u)));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv4_proto), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_destination), 1);     /* gateway:80 */
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_malformed), 1);
    /* A source outside the subnet never reaches the protocols. */
    netstack_input(ns, f, ipv4_frame(f, IP(10, 1, 1, 1), GW, IPPROTO_UDP, 1, 0, u, sizeof(u)));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv4_source), 1);
    assert_int_equal(captured.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_validation),
        cmocka_unit_test(padding_is_trimmed_and_bad_sources_dropped),
        cmocka_unit_test_setup_teardown(ping_gateway_and_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_icmp_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(tcp_to_closed_gateway_port_is_reset_by_lwip, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_tcp_gets_no_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_protocols_and_udp_ports_are_counted, setup, teardown),
    };

    return cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
}
