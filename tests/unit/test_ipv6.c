/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ipv6.c - IPv6 on the guest's link: the header and extension header
 * walk, neighbour and router discovery, echo, and what is dropped
 */
#include <errno.h>

#include "ethernet/ipv6.h"
#include "ethernet/neigh.h"
#include "netstack/stack.h"
#include "ethernet/reader.h"
#include "tests/unit/harness.h"
#include "tests/unit/harness6.h"

/**
 * solicit() - a neighbour solicitation for @target, with a source link-layer
 * option unless @src is unspecified; returns its length.
 */
static size_t solicit(uint8_t *m, const uint8_t *src, const uint8_t *target)
{
    memset(m, 0, 32);
    m[0] = 135;
    memcpy(m + 8, target, 16);
    if (!memcmp(src, UNSPEC, 16))
        return 24;
    m[24] = 1;
    m[25] = 1;
    memcpy(m + 26, guest_mac, 6);
    return 32;
}

static void solicited_node(uint8_t *g, const uint8_t *a)
{
    static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 1, 0xff };

    memcpy(g, pfx, 13);
    memcpy(g + 13, a + 13, 3);
}

/**
 * expect_icmp6() - captured frame @i is ICMPv6 type @type from @src to @dst
 * (Ethernet @dst_mac), hop limit @hop, with a valid checksum; returns the message.
 */
static const uint8_t *expect_icmp6(size_t i, uint8_t type, const uint8_t *dst_mac,
                                   const uint8_t *src, const uint8_t *dst, uint8_t hop,
                                   size_t *mlen)
{
    const uint8_t *f = captured.frame[i], *h = f + 14;

    assert_true(captured.len[i] >= 14 + 40 + 4);
    assert_memory_equal(f, dst_mac, 6);
    assert_memory_equal(f + 6, gw_mac, 6);
    assert_int_equal(get16(f + 12), 0x86dd);
    assert_int_equal(h[0] >> 4, 6);
    assert_int_equal(h[6], 58);
    assert_int_equal(h[7], hop);
    assert_memory_equal(h + 8, src, 16);
    assert_memory_equal(h + 24, dst, 16);
    *mlen = get16(h + 4);
    assert_int_equal(captured.len[i], 14 + 40 + *mlen);
    assert_int_equal(h[40], type);
    assert_int_equal(csum6(src, dst, h + 40, *mlen), 0);
    return h + 40;
}

static void parse(const uint8_t *f, size_t len, enum ns_ipv6_verdict want, uint8_t proto)
{
    struct ns_reader r;
    struct ns_ipv6 ip;

    ns_reader_init(&r, f + 14, len - 14);
    assert_int_equal(ns_ipv6_parse(&r, &ip), want);
    if (want == NS_IPV6_OK)
        assert_int_equal(ip.proto, proto);
}

static void extension_headers_walked(void **state)
{
    uint8_t f[256], m[8] = { 128 };
    /* Hop-by-Hop with Router Alert, then Destination Options with PadN. */
    uint8_t ok[16] = { 60, 0, 5, 2, 0, 0, 1, 0, 58, 0, 1, 4, 0, 0, 0, 0 };
    uint8_t hbh_late[16] = { 0, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0 };
    uint8_t discard[8] = { 58, 0, 0x80, 4, 0, 0, 0, 0 };   /* unknown, "discard" bits */
    uint8_t skip[8] = { 58, 0, 0x1e, 4, 0, 0, 0, 0 };      /* unknown, "skip" bits */
    uint8_t runs_off[8] = { 58, 1, 1, 4, 0, 0, 0, 0 };     /* says 16 bytes, has 8 */
    uint8_t opt_off[8] = { 58, 0, 1, 9, 0, 0, 0, 0 };      /* PadN past the header */
    uint8_t routing[8] = { 58, 0, 4, 1, 0, 0, 0, 0 };      /* segments left 1 */
    uint8_t routing_done[8] = { 58, 0, 4, 0, 0, 0, 0, 0 };
    uint8_t two_frags[16] = { 44, 0, 0, 0, 0, 0, 0, 1, 58, 0, 0, 0, 0, 0, 0, 1 };
    uint8_t later_frag[8] = { 60, 0, 0, 0x11, 0, 0, 0, 9 }; /* offset 16: data follows */
    uint8_t chain[8 * 9];
    size_t i;

    (void)state;
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 0, ok, 16, m, 8), NS_IPV6_OK, 58);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, skip, 8, m, 8), NS_IPV6_OK, 58);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 43, routing_done, 8, m, 8), NS_IPV6_OK, 58);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 44, later_frag, 8, m, 8), NS_IPV6_OK, 60);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, hbh_late, 16, m, 8), NS_IPV6_BAD_EXT, 0);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, discard, 8, m, 8), NS_IPV6_BAD_EXT, 0);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, runs_off, 8, NULL, 0), NS_IPV6_BAD_EXT, 0);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, opt_off, 8, m, 8), NS_IPV6_BAD_EXT, 0);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 43, routing, 8, m, 8), NS_IPV6_BAD_EXT, 0);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 44, two_frags, 16, m, 8), NS_IPV6_BAD_EXT, 0);
    /* Nine destination options headers: one more than the walk takes. */
    for (i = 0; i < 9; i++) {
        memset(chain + 8 * i, 0, 8);
        chain[8 * i] = i < 8 ? 60 : 58;
        chain[8 * i + 2] = 1;
        chain[8 * i + 3] = 4;
    }
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, chain, 72, m, 8), NS_IPV6_BAD_EXT, 0);
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, chain + 8, 64, m, 8), NS_IPV6_OK, 58);
    /* The chain ends exactly where the payload does: No Next Header. */
    chain[64] = 59;
    parse(f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 60, chain + 8, 64, NULL, 0), NS_IPV6_OK, 59);
}

static void header_checks(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], m[8] = { 128 };
    size_t len = icmp6_frame(f, gw_mac, GUEST6, GW6, 64, m, 8);
    uint8_t g[128];

    memcpy(g, f, len);
    g[14] = 0x40;                                   /* version 4 */
    parse(g, len, NS_IPV6_BAD_HEADER, 0);
    parse(f, 14 + 39, NS_IPV6_BAD_HEADER, 0);       /* shorter than the header */
    parse(f, len - 1, NS_IPV6_BAD_LENGTH, 0);       /* payload length beyond the bytes */
    memcpy(g, f, len);
    g[14 + 8] = 0xff;                               /* multicast source */
    parse(g, len, NS_IPV6_BAD_SOURCE, 0);
    /* Ethernet padding after the payload is not part of it. */
    memset(f + len, 0xee, 10);
    netstack_input(ns, f, len + 10);
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp6_echo_replies), 1);
    /* A source outside the prefix and link-local scope. */
    icmp6_frame(f, gw_mac, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 9 }, GW6, 64, m,
                8);
    netstack_input(ns, f, len);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_source), 1);
}

static void answers_solicitations_for_its_own_addresses(void **state)
{
    struct netstack *ns = *state;
    const uint8_t *targets[] = { GW6, ALIAS6, GW_LL };
    uint8_t f[128], m[32], g[16];
    size_t i, mlen, len;

    for (i = 0; i < 3; i++) {
        const uint8_t *a;

        capture_reset();
        solicited_node(g, targets[i]);
        len = solicit(m, GUEST_LL, targets[i]);
        netstack_input(ns, f, icmp6_frame(f, (const uint8_t[6]){ 0x33, 0x33, 0xff, g[13], g[14],
                                                                 g[15] },
                                          GUEST_LL, g, 255, m, len));
        assert_int_equal(captured.n, 1);
        a = expect_icmp6(0, 136, guest_mac, targets[i], GUEST_LL, 255, &mlen);
        assert_int_equal(mlen, 32);
        assert_int_equal(a[4], 0x80 | 0x40 | 0x20);  /* router, solicited, override */
        assert_memory_equal(a + 8, targets[i], 16);
        assert_int_equal(a[24], 2);
        assert_int_equal(a[25], 1);
        assert_memory_equal(a + 26, gw_mac, 6);
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_ndp_ns_in), 3);
    assert_int_equal(counter(ns, NETSTACK_STAT_ndp_na_out), 3);
}

static void duplicate_address_detection_passes(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], m[32], g[16];
    size_t len, mlen;
    const uint8_t *a;
    struct in6_addr learned;

    /* The guest probes for its own SLAAC and link-local addresses: silence, */
    solicited_node(g, GUEST6);
    len = solicit(m, UNSPEC, GUEST6);
    assert_int_equal(ns_neigh6_guest(&ns->link, &learned), 0);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, UNSPEC, g, 255, m, len));
    /* ... and the stack knows the address the guest is taking (for forwards). */
    assert_int_equal(ns_neigh6_guest(&ns->link, &learned), 1);
    assert_memory_equal(&learned, GUEST6, 16);
    solicited_node(g, GUEST_LL);
    len = solicit(m, UNSPEC, GUEST_LL);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, UNSPEC, g, 255, m, len));
    /* Once it uses GUEST6, a solicitation for it is not ours to answer. */
    solicited_node(g, GUEST6);
    len = solicit(m, GUEST_LL, GUEST6);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, GUEST_LL, g, 255, m, len));
    assert_int_equal(captured.n, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ndp_invalid), 0);
    /* A probe for the gateway's address is answered to all nodes: it is taken. */
    solicited_node(g, GW6);
    len = solicit(m, UNSPEC, GW6);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, UNSPEC, g, 255, m, len));
    assert_int_equal(captured.n, 1);
    a = expect_icmp6(0, 136, ALL_NODES_MAC, GW6, ALL_NODES, 255, &mlen);
    assert_int_equal(a[4], 0x80 | 0x20);             /* not solicited */
    assert_memory_equal(a + 8, GW6, 16);
}

static void invalid_discovery_is_counted(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], m[40], g[16];
    size_t len;

    solicited_node(g, GW6);
    len = solicit(m, GUEST_LL, GW6);
    /* Hop limit below 255: it may have come from off the link. */
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST_LL, g, 64, m, len));
    /* An option of length 0. */
    m[25] = 0;
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST_LL, g, 255, m, len));
    /* A DAD probe with a source link-layer option. */
    len = solicit(m, GUEST_LL, GW6);
    netstack_input(ns, f, icmp6_frame(f, gw_mac, UNSPEC, g, 255, m, len));
    /* A DAD probe not sent to the target's solicited-node group. */
    len = solicit(m, UNSPEC, GW6);
    netstack_input(ns, f, icmp6_frame(f, gw_mac, UNSPEC, ALL_NODES, 255, m, len));
    /* A multicast target. */
    len = solicit(m, GUEST_LL, ALL_NODES);
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST_LL, GW6, 255, m, len));
    /* Truncated: no target. */
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST_LL, GW6, 255, m, 12));
    assert_int_equal(captured.n, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ndp_invalid), 6);
    /* A guest claiming the gateway's address changes nothing. */
    memset(m, 0, 32);
    m[0] = 136;
    m[4] = 0x20;
    memcpy(m + 8, GW6, 16);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, GUEST_LL, ALL_NODES, 255, m, 24));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ndp_invalid), 7);
    len = solicit(m, GUEST_LL, GW6);
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST_LL, g, 255, m, len));
    assert_int_equal(captured.n, 1);
}

/**
 * expect_ra() - captured frame @i is our router advertisement to @dst.
 */
static void expect_ra(size_t i, const uint8_t *dst_mac, const uint8_t *dst)
{
    size_t mlen;
    const uint8_t *a = expect_icmp6(i, 134, dst_mac, GW_LL, dst, 255, &mlen);

    /* Header, source link-layer, MTU, prefix, RDNSS, DNSSL ("internal"). */
    assert_int_equal(mlen, 16 + 8 + 8 + 32 + 24 + 24);
    assert_int_equal(a[4], 64);                     /* current hop limit */
    assert_int_equal(a[5], 0x40);                   /* no M; O: stateless DHCPv6 */
    assert_int_equal(get16(a + 6), 3 * 200);        /* the default router: 3 x MaxRtrAdvInterval */
    assert_int_equal(a[16], 1);                     /* source link-layer address */
    assert_memory_equal(a + 18, gw_mac, 6);
    assert_int_equal(a[24], 5);                     /* MTU */
    assert_int_equal(get32(a + 28), 65520);
    assert_int_equal(a[32], 3);                     /* prefix information */
    assert_int_equal(a[33], 4);
    assert_int_equal(a[34], 64);
    assert_int_equal(a[35], 0xc0);                  /* on-link, autonomous */
    assert_true(get32(a + 36) >= get32(a + 40));    /* valid >= preferred */
    assert_true(get32(a + 40) > 0);
    assert_memory_equal(a + 48, PREFIX, 16);
    assert_int_equal(a[64], 25);                    /* RDNSS: the gateway */
    assert_int_equal(a[65], 3);
    assert_true(get32(a + 68) >= 3 * 200);          /* 3 x MaxRtrAdvInterval */
    assert_memory_equal(a + 72, GW6, 16);
    assert_int_equal(a[88], 31);                    /* DNSSL: the search domains */
    assert_int_equal(a[89], 3);
    assert_int_equal(get32(a + 92), get32(a + 68));
    assert_memory_equal(a + 96, "\x08internal\0\0\0\0\0\0\0", 16);
}

static void router_solicitation_answered(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], m[16] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 1 };

    memcpy(m + 10, guest_mac, 6);
    netstack_input(ns, f, icmp6_frame(f, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 2 }, GUEST_LL,
                                      ALL_ROUTERS, 255, m, 16));
    assert_int_equal(captured.n, 1);
    expect_ra(0, guest_mac, GUEST_LL);
    /* From :: (before any address): to all nodes, and no option allowed. */
    capture_reset();
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, UNSPEC, ALL_ROUTERS, 255, m, 8));
    assert_int_equal(captured.n, 1);
    expect_ra(0, ALL_NODES_MAC, ALL_NODES);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, UNSPEC, ALL_ROUTERS, 255, m, 16));
    assert_int_equal(captured.n, 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_ndp_rs_in), 3);
    assert_int_equal(counter(ns, NETSTACK_STAT_ndp_ra_out), 2);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ndp_invalid), 1);
}

static void periodic_advertisements_once_the_guest_speaks(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], m[8] = { 133 };
    int i;

    /* Nothing while no guest has spoken IPv6. */
    fake_ns += 600ull * 1000000000ull;
    netstack_dispatch(ns);
    assert_int_equal(captured.n, 0);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, UNSPEC, ALL_ROUTERS, 255, m, 8));
    capture_reset();
    /* Three at the initial interval (16 s), then one per 200 s. */
    for (i = 0; i < 3; i++) {
        fake_ns += 16ull * 1000000000ull;
        netstack_dispatch(ns);
        assert_int_equal(captured.n, (size_t)i + 1);
        expect_ra((size_t)i, ALL_NODES_MAC, ALL_NODES);
    }
    fake_ns += 16ull * 1000000000ull;
    netstack_dispatch(ns);
    assert_int_equal(captured.n, 3);
    fake_ns += 200ull * 1000000000ull;
    netstack_dispatch(ns);
    assert_int_equal(captured.n, 4);
    /* The guest goes away: they stop. */
    netstack_link_down(ns);
    fake_ns += 1000ull * 1000000000ull;
    netstack_dispatch(ns);
    assert_int_equal(captured.n, 4);
}

static void echo_answered_for_gateway_and_alias(void **state)
{
    struct netstack *ns = *state;
    const uint8_t *dsts[] = { GW6, ALIAS6, GW_LL };
    uint8_t f[256], m[72];
    size_t i, j, mlen;

    for (i = 0; i < 3; i++) {
        const uint8_t *src = i == 2 ? GUEST_LL : GUEST6, *a;

        capture_reset();
        memset(m, 0, sizeof(m));
        m[0] = 128;
        put16(m + 4, 0x1234);
        put16(m + 6, (uint16_t)i);
        for (j = 8; j < sizeof(m); j++)
            m[j] = (uint8_t)(j * 5);
        netstack_input(ns, f, icmp6_frame(f, gw_mac, src, dsts[i], 64, m, sizeof(m)));
        assert_int_equal(captured.n, 1);
        a = expect_icmp6(0, 129, guest_mac, dsts[i], src, 64, &mlen);
        assert_int_equal(mlen, sizeof(m));
        assert_memory_equal(a + 4, m + 4, sizeof(m) - 4);
    }
    /* A bad checksum. */
    capture_reset();
    icmp6_frame(f, gw_mac, GUEST6, GW6, 64, m, sizeof(m));
    f[14 + 40 + 2] ^= 1;
    netstack_input(ns, f, 14 + 40 + sizeof(m));
    assert_int_equal(captured.n, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_icmp6_malformed), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp6_echo_replies), 3);
}

static void what_is_not_served_is_counted(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[128], m[8] = { 128 }, mld[8] = { 143 };
    uint8_t frag[8] = { 58, 0, 0, 1, 0, 0, 0, 7 };      /* first fragment, more follow */
    uint8_t atomic[8] = { 58, 0, 0, 0, 0, 0, 0, 7 };    /* offset 0, no more */
    const uint8_t other[16] = { 0xfd, 0x65, 0, 0x65, [15] = 0x77 };
    uint8_t sctp[20] = { 0x30, 0x39, 0, 80 };
    size_t len;

    netstack_input(ns, f, icmp6_frame(f, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 0x16 }, GUEST6,
                                      MLD_ROUTERS, 1, mld, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_multicast), 1);
    /* Beyond the stack: an echo request goes to the NAT (which never forwards
     * to the guest's own /64), nothing else goes anywhere. */
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST6, other, 64, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_icmp_destination), 1);
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST6, other, 64, mld, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_destination), 1);
    netstack_input(ns, f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 44, frag, 8, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_frag_in), 1);   /* held for the rest */
    netstack_input(ns, f, ipv6_frame(f, gw_mac, GUEST6, GW6, 64, 44, atomic, 8, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp6_echo_replies), 1);
    len = icmp6_frame(f, gw_mac, GUEST6, GW6, 64, sctp, 20);
    f[14 + 6] = 132;
    netstack_input(ns, f, len);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_proto), 1);
    /* Our own address as the source. */
    netstack_input(ns, f, icmp6_frame(f, gw_mac, ALIAS6, GW6, 64, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_source), 1);
    assert_int_equal(captured.n, 1);
}

static void dns_on_the_gateway_address(void **state)
{
    struct netstack *ns = *state;
    /* ID 0x4242, RD, one question: host.internal AAAA IN */
    static const uint8_t q[] = { 0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                 4, 'h', 'o', 's', 't', 8, 'i', 'n', 't', 'e', 'r', 'n', 'a', 'l',
                                 0, 0, 28, 0, 1 };
    uint8_t f[256];
    const uint8_t *h, *u;

    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST6, GW6, 53, q, sizeof(q), 1));
    assert_int_equal(captured.n, 1);
    h = captured.frame[0] + 14;
    assert_int_equal(get16(captured.frame[0] + 12), 0x86dd);
    assert_memory_equal(captured.frame[0], guest_mac, 6);
    assert_int_equal(h[6], 17);
    assert_memory_equal(h + 8, GW6, 16);
    assert_memory_equal(h + 24, GUEST6, 16);
    u = h + 40;
    assert_int_equal(get16(u), 53);
    assert_int_equal(get16(u + 2), 40000);
    assert_int_equal(get16(u + 4), get16(h + 4));
    assert_int_equal(get16(u + 8), 0x4242);         /* the guest's ID */
    assert_int_equal(get16(u + 8 + 6), 1);          /* one answer */
    /* The answer's data, the last 16 bytes: the alias's IPv6 address. */
    assert_memory_equal(u + get16(u + 4) - 16, ALIAS6, 16);
    /*
     * A zero checksum is no checksum over IPv6: refused. Other ports of the
     * gateway go to the NAT, which never forwards to the guest's own link.
     */
    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST6, GW6, 53, q, sizeof(q), 0));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_checksum), 1);
    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST6, GW6, 54, q, sizeof(q), 1));
    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST6, GW_LL, 53, q, sizeof(q), 1));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_destination), 2);
    assert_int_equal(captured.n, 1);
}

/**
 * fragment6() - an IPv6 fragment from GUEST6 to GW6 with @n bytes of @data
 * at @off (a multiple of 8), ID @id, Next Header @nh; returns the frame length.
 */
static size_t fragment6(uint8_t *f, uint32_t id, uint8_t nh, size_t off, int more,
                        const uint8_t *data, size_t n)
{
    uint8_t *p = ip6_fixed(f, gw_mac, GUEST6, GW6, 44, 8 + n, 64);

    p[0] = nh;
    p[1] = 0;
    put16(p + 2, (uint16_t)(off | (more ? 1 : 0)));
    put32(p + 4, id);
    memcpy(p + 8, data, n);
    return 14 + 48 + n;
}

static void fragments_reassembled_and_replies_fragmented(void **state)
{
    struct netstack *ns = *state;
    static uint8_t m[4008], f[2048];
    size_t i, off, total = 0, mlen;
    uint8_t *h;

    /* A 4000-byte echo request (8-byte header + data) in three fragments, out of order. */
    m[0] = 128;
    put16(m + 4, 0x77);
    put16(m + 6, 1);
    for (i = 8; i < sizeof(m); i++)
        m[i] = (uint8_t)(i * 13);
    put16(m + 2, csum6(GUEST6, GW6, m, sizeof(m)));
    netstack_input(ns, f, fragment6(f, 99, 58, 1456, 1, m + 1456, 1456));
    netstack_input(ns, f, fragment6(f, 99, 58, 2912, 0, m + 2912, sizeof(m) - 2912));
    assert_int_equal(captured.n, 0);
    netstack_input(ns, f, fragment6(f, 99, 58, 0, 1, m, 1456));
    assert_int_equal(counter(ns, NETSTACK_STAT_frag_reassembled), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp6_echo_replies), 1);
    /* The reply, 4008 bytes at MTU 65520: one packet. */
    assert_int_equal(captured.n, 1);
    expect_icmp6(0, 129, guest_mac, GW6, GUEST6, 64, &mlen);
    assert_int_equal(mlen, sizeof(m));
    stack_done(ns);

    /* At MTU 1500 the reply is fragmented: fragment headers, 8-byte multiples, one ID. */
    {
        struct netstack_config c;

        capture_reset();
        netstack_config_init(&c);
        c.send_frames = capture_send;
        c.log = quiet_log;
        c.mtu = 1500;
        ns = NULL;
        assert_int_equal(netstack_new(&c, &ns), 0);
        *state = ns;
    }
    for (off = 0; off < sizeof(m); off += 1448)
        netstack_input(ns, f, fragment6(f, 7, 58, off, off + 1448 < sizeof(m), m + off,
                                        sizeof(m) - off < 1448 ? sizeof(m) - off : 1448));
    assert_int_equal(counter(ns, NETSTACK_STAT_frag_reassembled), 1);
    assert_int_equal(captured.n, 3);
    for (i = 0; i < captured.n; i++) {
        h = captured.frame[i] + 14;
        assert_true(captured.len[i] <= 14 + 1500);
        assert_int_equal(h[6], 44);
        assert_int_equal(h[40], 58);
        assert_int_equal(get16(h + 42) & 0xfff8, total);
        assert_int_equal(get16(h + 42) & 1, i + 1 < captured.n);
        assert_int_equal(get32(h + 44), get32(captured.frame[0] + 14 + 44));
        if (i + 1 < captured.n)
            assert_int_equal((get16(h + 4) - 8) % 8, 0);
        total += get16(h + 4) - 8u;
    }
    assert_int_equal(total, sizeof(m));
}

static void hostile_fragments(void **state)
{
    struct netstack *ns = *state;
    static uint8_t m[2048], f[2048];
    uint8_t ns_msg[32] = { 135 };

    memset(m, 0x5a, sizeof(m));
    /* Overlap: the whole datagram goes. */
    netstack_input(ns, f, fragment6(f, 1, 58, 0, 1, m, 1024));
    netstack_input(ns, f, fragment6(f, 1, 58, 512, 0, m, 1024));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_frag_overlap), 1);
    /* Not a multiple of 8 with more to come; beyond 65535 - 8 bytes. */
    netstack_input(ns, f, fragment6(f, 2, 58, 0, 1, m, 1001));
    netstack_input(ns, f, fragment6(f, 3, 58, 65528, 0, m, 16));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_frag_malformed), 2);
    /* A reassembled datagram whose next header chain is bad. */
    m[0] = 44;                                      /* another fragment header inside */
    netstack_input(ns, f, fragment6(f, 4, 60, 0, 0 + 1, m, 8));
    m[0] = 58;
    netstack_input(ns, f, fragment6(f, 4, 60, 8, 0, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_ext), 1);
    /* Neighbour discovery in fragments (RFC 6980): refused. */
    memcpy(ns_msg + 8, GW6, 16);
    put16(ns_msg + 2, csum6(GUEST6, GW6, ns_msg, 24));
    netstack_input(ns, f, fragment6(f, 5, 58, 0, 1, ns_msg, 16));
    netstack_input(ns, f, fragment6(f, 5, 58, 16, 0, ns_msg + 16, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_frag), 1);
    assert_int_equal(captured.n, 0);
    /* Fragments that never complete expire. */
    netstack_input(ns, f, fragment6(f, 6, 58, 0, 1, m, 8));
    fake_ns += 16ull * 1000000000ull;
    netstack_dispatch(ns);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_frag_timeout), 1);
}

static void no_ipv6_means_none(void **state)
{
    struct netstack_config c;
    struct netstack *ns = NULL;
    uint8_t f[128], m[8] = { 133 };

    (void)state;
    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.no_ipv6 = 1;
    assert_int_equal(netstack_new(&c, &ns), 0);
    netstack_input(ns, f, icmp6_frame(f, ALL_NODES_MAC, UNSPEC, ALL_ROUTERS, 255, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_eth_not_for_us), 1);  /* 33:33:* is not ours */
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST6, GW6, 64, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_eth_type), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_ipv6_in), 0);
    assert_int_equal(captured.n, 0);
    stack_done(ns);
    /* Below IPv6's minimum MTU, IPv6 stays off by itself. */
    c.no_ipv6 = 0;
    c.mtu = 1000;
    assert_int_equal(netstack_new(&c, &ns), 0);
    netstack_input(ns, f, icmp6_frame(f, gw_mac, GUEST6, GW6, 64, m, 8));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_eth_type), 1);
    stack_done(ns);
}

static void prefix_checked(void **state)
{
    static const struct in6_addr bad[] = {
        { .s6_addr = { 0xfd, 0x65, 0, 0x65, [15] = 1 } },  /* host bits */
        { .s6_addr = { 0xff, 0x02 } },                     /* multicast */
        { .s6_addr = { 0xfe, 0x80 } },                     /* link-local */
    };
    struct netstack_config c;
    struct netstack *ns = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        netstack_config_init(&c);
        c.send_frames = capture_send;
        c.log = quiet_log;
        c.ipv6_prefix = bad[i];
        assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    }
    /* A prefix of our own choosing works, and with --no-ipv6 it is not looked at. */
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.ipv6_prefix = (struct in6_addr){ .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 } };
    assert_int_equal(netstack_new(&c, &ns), 0);
    stack_done(ns);
    c.ipv6_prefix = bad[0];
    c.no_ipv6 = 1;
    assert_int_equal(netstack_new(&c, &ns), 0);
    stack_done(ns);
}

int main(void)
{
#define T6(f) cmocka_unit_test_setup_teardown(f, stack6_setup, stack6_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extension_headers_walked),
        T6(header_checks),
        T6(answers_solicitations_for_its_own_addresses),
        T6(duplicate_address_detection_passes),
        T6(invalid_discovery_is_counted),
        T6(router_solicitation_answered),
        T6(periodic_advertisements_once_the_guest_speaks),
        T6(echo_answered_for_gateway_and_alias),
        T6(what_is_not_served_is_counted),
        T6(dns_on_the_gateway_address),
        T6(fragments_reassembled_and_replies_fragmented),
        T6(hostile_fragments),
        cmocka_unit_test(no_ipv6_means_none),
        cmocka_unit_test(prefix_checked),
    };
#undef T6

    return cmocka_run_group_tests(tests, NULL, NULL);
}
