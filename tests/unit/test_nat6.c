/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat6.c - the NAT over IPv6 against real loopback sockets: TCP connect
 * before accept to the host's ::1 through the alias's twin, bytes both ways,
 * super-segments cut to the guest's MSS, and what is never forwarded; UDP
 * out and back through one host socket per guest port
 *
 * The guest side is played segment by segment here, as in test_tcp_nat.c;
 * the host side is real sockets on [::1]. ICMPv6 echo beyond the stack
 * cannot be tried on loopback (::1 is never forwarded): the end-to-end test
 * (tests/e2e/test_nat_ipv6.sh) pings a host in another namespace.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"
#include "tests/unit/harness6.h"

#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

static const uint8_t MAPPED[16] = { [10] = 0xff, 0xff, 10, 77, 0, 2 };
static const uint8_t NEIGHBOUR6[16] = { 0xfd, 0x65, 0, 0x65, [15] = 0x77 };

static int listen_fd;
static uint16_t listen_port;

/* The guest's end of one connection. */
struct gconn6 {
    const uint8_t *dst;
    uint16_t port, dport, mss;
    uint32_t snd_nxt, rcv_nxt;
};

static int setup(void **state)
{
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len = sizeof(sa);

    listen_fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        skip();     /* no IPv6 loopback here */
    assert_int_equal(listen(listen_fd, 16), 0);
    assert_int_equal(getsockname(listen_fd, (struct sockaddr *)&sa, &len), 0);
    listen_port = ntohs(sa.sin6_port);
    return stack6_setup(state);
}

static int teardown(void **state)
{
    close(listen_fd);
    return stack6_teardown(state);
}

/**
 * send_seg() - a segment from the guest (with an MSS option on a SYN).
 */
static void send_seg(struct netstack *ns, struct gconn6 *c, uint8_t flags, const void *data,
                     size_t len)
{
    static uint8_t f[14 + 40 + 24 + 4096];
    size_t hl = (flags & SYN) ? 24 : 20;
    uint8_t *t = ip6_fixed(f, gw_mac, GUEST6, c->dst, IPPROTO_TCP, hl + len, 64);

    memset(t, 0, hl);
    put16(t, c->port);
    put16(t + 2, c->dport);
    put32(t + 4, c->snd_nxt);
    put32(t + 8, (flags & ACK) ? c->rcv_nxt : 0);
    t[12] = (uint8_t)(hl / 4) << 4;
    t[13] = flags;
    put16(t + 14, 65535);
    if (flags & SYN) {
        t[20] = 2;
        t[21] = 4;
        put16(t + 22, c->mss);
    }
    if (len)
        memcpy(t + hl, data, len);
    put16(t + 16, csum6_proto(GUEST6, c->dst, IPPROTO_TCP, t, hl + len));
    netstack_input(ns, f, 14 + 40 + hl + len);
    c->snd_nxt += (uint32_t)len + ((flags & SYN) ? 1 : 0);
}

/**
 * next_tcp() - the next captured IPv6 TCP segment for @c from index *@at, or
 * NULL; advances *@at past it. Checks the addresses and the checksum.
 */
static const uint8_t *next_tcp(const struct gconn6 *c, size_t *at, size_t *dlen)
{
    while (*at < captured.n) {
        const uint8_t *f = captured.frame[(*at)++], *t = f + 54;
        size_t tlen;

        if (get16(f + 12) != 0x86dd || f[14 + 6] != IPPROTO_TCP || get16(t + 2) != c->port)
            continue;
        tlen = get16(f + 14 + 4);
        assert_int_equal(captured.len[*at - 1], 54 + tlen);
        assert_memory_equal(f + 14 + 8, c->dst, 16);
        assert_memory_equal(f + 14 + 24, GUEST6, 16);
        assert_int_equal(csum6_proto(c->dst, GUEST6, IPPROTO_TCP, t, tlen), 0);
        *dlen = tlen - (size_t)(t[12] >> 4) * 4;
        return t;
    }
    return NULL;
}

/**
 * handshake() - SYN, SYN-ACK, ACK through the alias's twin; the host's socket.
 */
static int handshake(struct netstack *ns, struct gconn6 *c)
{
    const uint8_t *t;
    size_t at = captured.n, dlen;
    int fd;

    c->snd_nxt = 5000;
    send_seg(ns, c, SYN, NULL, 0);
    run(ns, 50);
    t = next_tcp(c, &at, &dlen);
    assert_non_null(t);
    assert_int_equal(t[13] & (SYN | ACK), SYN | ACK);
    assert_int_equal(get32(t + 8), 5001);
    c->rcv_nxt = get32(t + 4) + 1;
    send_seg(ns, c, ACK, NULL, 0);
    run(ns, 20);
    fd = accept(listen_fd, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

static void relays_both_ways_through_the_alias(void **state)
{
    struct netstack *ns = *state;
    struct gconn6 c = { ALIAS6, 41000, listen_port, 1440, 0, 0 };
    static uint8_t big[200000], got[sizeof(big)];
    size_t at, dlen, have = 0, i;
    const uint8_t *t;
    char buf[16];
    int fd;

    fd = handshake(ns, &c);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_established), 1);
    send_seg(ns, &c, PSH | ACK, "hello over v6", 13);
    run(ns, 20);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 13);
    assert_memory_equal(buf, "hello over v6", 13);

    /* The host's bytes come back in segments no larger than the guest's MSS. */
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
    at = captured.n;
    for (i = 0; i < 200 && have < sizeof(big); i++) {
        run(ns, 10);
        while ((t = next_tcp(&c, &at, &dlen))) {
            assert_true(dlen <= c.mss);
            if (get32(t + 4) != c.rcv_nxt || !dlen)
                continue;
            memcpy(got + have, t + (t[12] >> 4) * 4, dlen);
            have += dlen;
            c.rcv_nxt += (uint32_t)dlen;
            send_seg(ns, &c, ACK, NULL, 0);
        }
    }
    assert_int_equal(have, sizeof(big));
    assert_memory_equal(got, big, sizeof(big));
    assert_true(counter(ns, NETSTACK_STAT_gso_segments_out) > 0);
    close(fd);
}

static void a_closed_port_is_refused(void **state)
{
    struct netstack *ns = *state;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len = sizeof(sa);
    struct gconn6 c = { ALIAS6, 41001, 0, 1440, 7000, 0 };
    const uint8_t *t;
    size_t at = captured.n, dlen;

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);      /* a port nobody listens on */
    c.dport = ntohs(sa.sin6_port);
    send_seg(ns, &c, SYN, NULL, 0);
    run(ns, 50);
    t = next_tcp(&c, &at, &dlen);
    assert_non_null(t);
    assert_int_equal(t[13] & RST, RST);
    assert_int_equal(get32(t + 8), 7001);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_refused), 1);
}

static void what_is_never_forwarded(void **state)
{
    struct netstack *ns = *state;
    struct gconn6 c = { NEIGHBOUR6, 41002, 80, 1440, 9000, 0 };
    const uint8_t *t;
    size_t at = captured.n, dlen;

    /* Another address of the guest's own /64: refused at once, from that address. */
    send_seg(ns, &c, SYN, NULL, 0);
    t = next_tcp(&c, &at, &dlen);
    assert_non_null(t);
    assert_int_equal(t[13] & RST, RST);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tcp_destination), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_connects), 0);

    /* A mapped IPv4 address in an IPv6 packet would pass for IPv4: dropped. */
    c.dst = MAPPED;
    at = captured.n;
    send_seg(ns, &c, SYN, NULL, 0);
    assert_int_equal(captured.n, at);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv6_destination), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_connects), 0);
}

/**
 * udp6_bound() - a UDP socket on [::1], its port in @port.
 */
static int udp6_bound(uint16_t *port)
{
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin6_port);
    return fd;
}

static void udp_out_and_back_through_the_alias(void **state)
{
    struct netstack *ns = *state;
    struct sockaddr_in6 from;
    socklen_t flen = sizeof(from);
    uint8_t f[256], buf[64];
    const uint8_t *h;
    uint16_t port;
    int fd = udp6_bound(&port);
    size_t at = captured.n, i;

    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST6, ALIAS6, port, (const uint8_t *)"ping6", 5,
                                     1));
    run(ns, 20);
    assert_int_equal(recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
                              &flen), 5);
    assert_memory_equal(buf, "ping6", 5);
    assert_true(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 1);

    /* The reply comes back to the guest's port 40000 from the alias's twin. */
    assert_int_equal(sendto(fd, "pong6!", 6, 0, (struct sockaddr *)&from, flen), 6);
    run(ns, 20);
    for (i = at, h = NULL; i < captured.n; i++)
        if (get16(captured.frame[i] + 12) == 0x86dd && captured.frame[i][14 + 6] == 17)
            h = captured.frame[i] + 14;
    assert_non_null(h);
    assert_memory_equal(h + 8, ALIAS6, 16);
    assert_memory_equal(h + 24, GUEST6, 16);
    assert_int_equal(get16(h + 40), port);
    assert_int_equal(get16(h + 42), 40000);
    assert_memory_equal(h + 48, "pong6!", 6);
    assert_int_equal(csum6_proto(ALIAS6, GUEST6, 17, h + 40, 14), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_guest), 1);
    close(fd);
}

/**
 * guest_udp6() - a datagram from the guest's @sport to @dst:@dport.
 */
static void guest_udp6(struct netstack *ns, uint16_t sport, const uint8_t *dst, uint16_t dport,
                       const char *data)
{
    uint8_t f[256], *u;
    size_t len = strlen(data);

    u = ip6_fixed(f, gw_mac, GUEST6, dst, 17, 8 + len, 64);
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + len));
    put16(u + 6, 0);
    memcpy(u + 8, data, len);
    put16(u + 6, csum6_proto(GUEST6, dst, 17, u, 8 + len));
    netstack_input(ns, f, 14 + 40 + 8 + len);
}

/**
 * free_udp6_port() - a UDP port (1024 and up) no IPv6 socket holds now, other than @not.
 */
static uint16_t free_udp6_port(uint16_t not)
{
    uint16_t port;
    int fd;

    do {
        fd = udp6_bound(&port);
        close(fd);
    } while (port == not || port < 1024);
    return port;
}

/**
 * seen_from() - the source port of the next datagram on @fd (within a second).
 */
static uint16_t seen_from(struct netstack *ns, int fd)
{
    struct sockaddr_in6 from;
    socklen_t flen = sizeof(from);
    char buf[64];

    run(ns, 20);
    assert_true(recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen) > 0);
    return ntohs(from.sin6_port);
}

/* RFC 4787 over IPv6: the guest's port kept (REQ-3), hairpinning (REQ-9). */
static void udp_port_preserved_and_hairpinning(void **state)
{
    struct netstack *ns = *state;
    uint16_t pt, ga = free_udp6_port(0), gb = free_udp6_port(ga);
    int t = udp6_bound(&pt);
    const uint8_t *h = NULL;
    size_t at, i;

    guest_udp6(ns, ga, ALIAS6, pt, "a");
    assert_int_equal(seen_from(ns, t), ga);
    guest_udp6(ns, gb, ALIAS6, pt, "b");
    assert_int_equal(seen_from(ns, t), gb);
    at = captured.n;
    guest_udp6(ns, ga, ALIAS6, gb, "hairpin");
    run(ns, 20);
    for (i = at; i < captured.n; i++)
        if (get16(captured.frame[i] + 12) == 0x86dd && captured.frame[i][14 + 6] == 17)
            h = captured.frame[i] + 14;
    assert_non_null(h);
    assert_memory_equal(h + 8, ALIAS6, 16);
    assert_int_equal(get16(h + 40), ga);    /* A's mapping */
    assert_int_equal(get16(h + 42), gb);
    assert_memory_equal(h + 48, "hairpin", 7);
    close(t);
}

static void udp_never_to_the_guests_link(void **state)
{
    struct netstack *ns = *state;
    uint8_t f[256];

    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST6, NEIGHBOUR6, 9999, (const uint8_t *)"x", 1,
                                     1));
    netstack_input(ns, f, udp6_frame(f, gw_mac, GUEST6, MAPPED, 9999, (const uint8_t *)"x", 1,
                                     1));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_destination), 2);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 0);
}

static void dns_over_tcp_on_the_gateway(void **state)
{
    struct netstack *ns = *state;
    struct gconn6 c = { GW6, 41003, 53, 1440, 3000, 0 };
    const uint8_t *t;
    size_t at = captured.n, dlen;

    send_seg(ns, &c, SYN, NULL, 0);
    t = next_tcp(&c, &at, &dlen);
    assert_non_null(t);
    assert_int_equal(t[13] & (SYN | ACK), SYN | ACK);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_connects), 0);   /* answered in the stack */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(relays_both_ways_through_the_alias),
        T(a_closed_port_is_refused),
        T(what_is_never_forwarded),
        T(dns_over_tcp_on_the_gateway),
        T(udp_out_and_back_through_the_alias),
        T(udp_never_to_the_guests_link),
        T(udp_port_preserved_and_hairpinning),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
