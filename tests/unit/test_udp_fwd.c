/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_udp_fwd.c - UDP forwarded from a host port into the guest (portfwd/udp_fwd.c)
 *
 * Each test builds a forward port itself around a UDP socket bound on
 * 127.0.0.1 (struct ns_fwd, struct ns_fwd_port, as forward.c would), sends a
 * datagram to it from client sockets on 127.0.0.1 and calls
 * ns_udp_fwd_readable(). What reaches the guest is read from the captured
 * frames; the guest's answers are fed back as frames through netstack_input()
 * or, to see whether the forward claims a datagram, straight to
 * ns_udp_fwd_input().
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "netstack/stack.h"
#include "portfwd/portfwd.h"


#define WAIT_MS     2000
#define GUEST_PORT  5353

/* A forward of one host port to GUEST:GUEST_PORT. */
struct env {
    struct ns_fwd fw;
    struct ns_fwd_port port;
    uint16_t host_port;
};

/* A UDP datagram the stack sent to the guest. */
struct seen {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t data[256];
    size_t len;
};

/**
 * stack_cfg() - a capturing stack with these UDP limits (0 keeps a default), guest known.
 */
static struct netstack *stack_cfg(uint32_t max_flows, uint32_t idle_ms)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.max_udp_flows = max_flows;
    c.udp_idle_timeout_ms = idle_ms;
    assert_int_equal(netstack_new(&c, &ns), 0);
    assert_int_equal(ns_udp_fwd_start(ns), 0);      /* already started: nothing to do */
    ns_neigh_learn(&ns->link, GUEST, guest_mac);
    return ns;
}

/**
 * local_socket() - a UDP socket on 127.0.0.1, its port in @port.
 */
static int local_socket(uint16_t *port, int flags)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | flags, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/**
 * env_open() - a forward port on 127.0.0.1 to GUEST:@guest_port.
 */
static void env_open(struct env *e, int preserve, uint16_t guest_port)
{
    memset(e, 0, sizeof(*e));
    e->fw.id = 1;
    e->fw.spec.proto = NETSTACK_PROTO_UDP;
    e->fw.spec.preserve_source = preserve;
    e->fw.ports = &e->port;
    e->port.fw = &e->fw;
    e->port.fd = local_socket(&e->host_port, SOCK_NONBLOCK);
    e->port.guest = ns_ip6_mapped4(GUEST);
    e->port.guest_port = guest_port;
}

/**
 * env_close() - what forward.c does when the forward is removed.
 */
static void env_close(struct netstack *ns, struct env *e)
{
    ns_udp_fwd_port_closed(ns, &e->port);
    ns_loop_del(&ns->loop, e->port.fd);
    close(e->port.fd);
}

/**
 * client_send() - @text from @fd to the forward's host port.
 */
static void client_send(int fd, const struct env *e, const char *text)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(e->host_port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    size_t len = strlen(text);

    assert_int_equal(sendto(fd, text, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
}

/**
 * wait_readable() - wait until @fd has a datagram. Return: 1, 0 on timeout.
 */
static int wait_readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, ms) == 1;
}

/**
 * forward() - the forward port has a datagram: read it, flush to the guest.
 */
static void forward(struct netstack *ns, struct env *e)
{
    assert_true(wait_readable(e->port.fd, WAIT_MS));
    ns_udp_fwd_readable(ns, &e->port);
    ns_flush(ns);
}

/**
 * parse_frame() - captured frame @i as a UDP datagram, its checksum verified.
 */
static void parse_frame(size_t i, struct seen *s)
{
    const uint8_t *f = captured.frame[i], *ip, *udp;
    size_t hl, ulen;

    assert_true(i < captured.n);
    assert_true(captured.len[i] >= 14 + 20 + 8);
    assert_int_equal(get16(f + 12), 0x0800);
    assert_memory_equal(f, guest_mac, 6);
    ip = f + 14;
    hl = (size_t)(ip[0] & 0xf) * 4;
    assert_int_equal(ip[9], IPPROTO_UDP);
    assert_int_equal(ns_csum(ip, hl), 0);
    udp = ip + hl;
    ulen = get16(udp + 4);
    assert_true(ulen >= 8 && 14 + hl + ulen <= captured.len[i]);
    s->src = get32(ip + 12);
    s->dst = get32(ip + 16);
    s->sport = get16(udp);
    s->dport = get16(udp + 2);
    assert_int_not_equal(get16(udp + 6), 0);        /* a checksum was set, and it is valid: */
    assert_int_equal(ns_csum_fold(ns_csum_add(ns_csum_pseudo4(s->src, s->dst, IPPROTO_UDP, ulen),
                                              udp, ulen)), 0);
    s->len = ulen - 8;
    assert_true(s->len <= sizeof(s->data));
    memcpy(s->data, udp + 8, s->len);
}

/**
 * expect_to_guest() - captured frame @i carries @text to GUEST:@dport.
 */
static void expect_to_guest(size_t i, const char *text, uint16_t dport, struct seen *s)
{
    parse_frame(i, s);
    assert_int_equal(s->dst, GUEST);
    assert_int_equal(s->dport, dport);
    assert_int_equal(s->len, strlen(text));
    assert_memory_equal(s->data, text, s->len);
}

/**
 * reply_frame() - a guest datagram from GUEST:@sport to @dst:@dport; returns its length.
 */
static size_t reply_frame(uint8_t *frame, uint16_t sport, uint32_t dst, uint16_t dport,
                          const char *text)
{
    uint8_t udp[300];
    size_t len = 8 + strlen(text);

    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)len);
    put16(udp + 6, 0);
    memcpy(udp + 8, text, strlen(text));
    put16(udp + 6, ns_csum_fold(ns_csum_add(ns_csum_pseudo4(GUEST, dst, IPPROTO_UDP, len),
                                            udp, len)));
    return ipv4_frame(frame, GUEST, dst, IPPROTO_UDP, 7, 0, udp, len);
}

/**
 * guest_reply() - the guest answers @s with @text, through the whole stack.
 */
static void guest_reply(struct netstack *ns, const struct seen *s, const char *text)
{
    uint8_t frame[400];
    size_t len = reply_frame(frame, s->dport, s->src, s->sport, text);

    assert_int_equal(netstack_input(ns, frame, len), 0);
}

/**
 * claimed() - would the forward take a guest datagram from GUEST:@sport to
 * @dst:@dport? (ns_udp_fwd_input() as udp.c calls it.) Return: its result.
 */
static int claimed(struct netstack *ns, uint16_t sport, uint32_t dst, uint16_t dport)
{
    uint8_t frame[400];
    size_t len = reply_frame(frame, sport, dst, dport, "x");
    struct in6_addr src, to;
    struct ns_reader r;
    struct ns_ipv4 ip;

    ns_reader_init(&r, frame + 14, len - 14);
    assert_int_equal(ns_ipv4_parse(&r, &ip), NS_IPV4_OK);
    src = ns_ip6_mapped4(ip.src);
    to = ns_ip6_mapped4(ip.dst);
    return ns_udp_fwd_input(ns, &src, &to, sport, dport, ip.payload + 8, ip.payload_len - 8);
}

/**
 * expect_at_client() - @fd receives @text from 127.0.0.1:@from_port.
 */
static void expect_at_client(int fd, const char *text, uint16_t from_port)
{
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    char buf[300];
    ssize_t n;

    assert_true(wait_readable(fd, WAIT_MS));
    n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    assert_int_equal(n, (ssize_t)strlen(text));
    assert_memory_equal(buf, text, (size_t)n);
    assert_int_equal(ntohl(from.sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(ntohs(from.sin_port), from_port);
}

/* With preserve_source the guest sees the client (loopback as the alias); answers return. */
static void test_preserve_source(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env e;
    struct seen s;
    uint16_t cport;
    int c = local_socket(&cport, 0);

    (void)state;
    env_open(&e, 1, GUEST_PORT);
    client_send(c, &e, "hello");
    forward(ns, &e);
    assert_int_equal(captured.n, 1);
    expect_to_guest(0, "hello", GUEST_PORT, &s);
    assert_int_equal(s.src, ALIAS);
    assert_int_equal(s.sport, cport);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_guest), 1);

    guest_reply(ns, &s, "world");
    expect_at_client(c, "world", e.host_port);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_host), 1);

    client_send(c, &e, "again");        /* the same client: the same flow */
    forward(ns, &e);
    assert_int_equal(captured.n, 2);
    expect_to_guest(1, "again", GUEST_PORT, &s);
    assert_int_equal(s.sport, cport);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 1);

    env_close(ns, &e);
    close(c);
    stack_done(ns);
}

/* Two clients are two flows, and each gets its own answers. */
static void test_two_clients(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env e;
    struct seen s1, s2;
    uint16_t p1, p2;
    int c1 = local_socket(&p1, 0), c2 = local_socket(&p2, 0);

    (void)state;
    env_open(&e, 1, GUEST_PORT);
    client_send(c1, &e, "one");
    forward(ns, &e);
    client_send(c2, &e, "two");
    forward(ns, &e);
    assert_int_equal(captured.n, 2);
    expect_to_guest(0, "one", GUEST_PORT, &s1);
    expect_to_guest(1, "two", GUEST_PORT, &s2);
    assert_int_equal(s1.sport, p1);
    assert_int_equal(s2.sport, p2);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 2);

    guest_reply(ns, &s2, "to-two");
    guest_reply(ns, &s1, "to-one");
    expect_at_client(c1, "to-one", e.host_port);
    expect_at_client(c2, "to-two", e.host_port);

    env_close(ns, &e);
    close(c1);
    close(c2);
    stack_done(ns);
}

/* Without preserve_source the guest sees the gateway, one dynamic port per client. */
static void test_gateway_source(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env e;
    struct seen s1, s2;
    uint16_t p1, p2;
    int c1 = local_socket(&p1, 0), c2 = local_socket(&p2, 0);

    (void)state;
    env_open(&e, 0, GUEST_PORT);
    client_send(c1, &e, "one");
    forward(ns, &e);
    client_send(c2, &e, "two");
    forward(ns, &e);
    assert_int_equal(captured.n, 2);
    expect_to_guest(0, "one", GUEST_PORT, &s1);
    expect_to_guest(1, "two", GUEST_PORT, &s2);
    assert_int_equal(s1.src, GW);
    assert_int_equal(s2.src, GW);
    assert_int_not_equal(s1.sport, s2.sport);
    assert_true(s1.sport >= 49152 && s2.sport >= 49152);

    guest_reply(ns, &s1, "to-one");
    guest_reply(ns, &s2, "to-two");
    expect_at_client(c1, "to-one", e.host_port);
    expect_at_client(c2, "to-two", e.host_port);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_host), 2);

    env_close(ns, &e);
    close(c1);
    close(c2);
    stack_done(ns);
}

/* Only the exact guest-visible 4-tuple of a flow is the forward's; the rest is the NAT's. */
static void test_not_ours(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env e;
    struct seen s;
    uint16_t cport;
    int c = local_socket(&cport, 0);

    (void)state;
    env_open(&e, 1, GUEST_PORT);
    client_send(c, &e, "hello");
    forward(ns, &e);
    expect_to_guest(0, "hello", GUEST_PORT, &s);
    assert_int_equal(claimed(ns, GUEST_PORT, s.src, s.sport), 1);
    expect_at_client(c, "x", e.host_port);
    assert_int_equal(claimed(ns, GUEST_PORT + 1, s.src, s.sport), 0);
    assert_int_equal(claimed(ns, GUEST_PORT, s.src, (uint16_t)(s.sport + 1)), 0);
    assert_int_equal(claimed(ns, GUEST_PORT, GW, s.sport), 0);

    env_close(ns, &e);
    close(c);
    stack_done(ns);
}

/* A flow idle for udp_idle_timeout_ms is closed; the next datagram opens a new one. */
static void test_expiry(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env e;
    struct seen s;
    uint16_t cport;
    int c = local_socket(&cport, 0), t;
    uint64_t now;

    (void)state;
    assert_int_equal(ns_udp_fwd_next_timeout(ns, ns_now_ms()), -1);
    env_open(&e, 0, GUEST_PORT);
    client_send(c, &e, "hello");
    forward(ns, &e);
    expect_to_guest(0, "hello", GUEST_PORT, &s);
    now = ns_now_ms();
    t = ns_udp_fwd_next_timeout(ns, now);
    assert_true(t > 59000 && t <= 60000);

    ns_udp_fwd_timers(ns, now + 59000);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_expired), 0);
    assert_int_equal(claimed(ns, GUEST_PORT, s.src, s.sport), 1);     /* refreshed */
    expect_at_client(c, "x", e.host_port);

    now = ns_now_ms();
    ns_udp_fwd_timers(ns, now + 60000);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_expired), 1);
    assert_int_equal(ns_udp_fwd_next_timeout(ns, now), -1);
    assert_int_equal(claimed(ns, GUEST_PORT, s.src, s.sport), 0);

    client_send(c, &e, "back");
    forward(ns, &e);
    expect_to_guest(1, "back", GUEST_PORT, &s);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 2);

    env_close(ns, &e);
    close(c);
    stack_done(ns);
}

/* The guest going away closes the flows; the forward stays and opens new ones. */
static void test_guest_gone(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env e;
    struct seen s;
    uint16_t cport;
    int c = local_socket(&cport, 0);

    (void)state;
    env_open(&e, 0, GUEST_PORT);
    client_send(c, &e, "hello");
    forward(ns, &e);
    expect_to_guest(0, "hello", GUEST_PORT, &s);
    assert_int_equal(claimed(ns, GUEST_PORT, s.src, s.sport), 1);
    netstack_link_down(ns);
    assert_int_equal(claimed(ns, GUEST_PORT, s.src, s.sport), 0);
    assert_int_equal(ns_udp_fwd_next_timeout(ns, ns_now_ms()), -1);
    {
        uint8_t f[64];      /* the new guest makes itself known: frame 1, our ARP reply */

        netstack_input(ns, f, arp_frame(f, 1, GUEST, GW));
    }
    client_send(c, &e, "again");
    forward(ns, &e);
    expect_to_guest(2, "again", GUEST_PORT, &s);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 2);
    env_close(ns, &e);
    close(c);
    stack_done(ns);
}

/* At max_udp_flows a new client evicts the least recently used flow. */
static void test_eviction(void **state)
{
    struct netstack *ns = stack_cfg(2, 0);
    struct env e;
    struct seen s[3];
    uint16_t port[3];
    int c[3], i;

    (void)state;
    env_open(&e, 0, GUEST_PORT);
    for (i = 0; i < 3; i++) {
        c[i] = local_socket(&port[i], 0);
        client_send(c[i], &e, "hi");
        forward(ns, &e);
        expect_to_guest((size_t)i, "hi", GUEST_PORT, &s[i]);
        if (i == 1)     /* the first is used again: the second is the oldest */
            assert_int_equal(claimed(ns, GUEST_PORT, s[0].src, s[0].sport), 1);
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 3);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_evicted), 1);
    assert_int_equal(claimed(ns, GUEST_PORT, s[1].src, s[1].sport), 0);
    assert_int_equal(claimed(ns, GUEST_PORT, s[0].src, s[0].sport), 1);
    assert_int_equal(claimed(ns, GUEST_PORT, s[2].src, s[2].sport), 1);
    expect_at_client(c[0], "x", e.host_port);
    expect_at_client(c[0], "x", e.host_port);
    expect_at_client(c[2], "x", e.host_port);

    env_close(ns, &e);
    for (i = 0; i < 3; i++)
        close(c[i]);
    stack_done(ns);
}

/* Closing a port drops its flows and only its flows. */
static void test_port_closed(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env a, b;
    struct seen sa, sb;
    uint16_t cport;
    int c = local_socket(&cport, 0);

    (void)state;
    env_open(&a, 1, GUEST_PORT);
    env_open(&b, 1, GUEST_PORT + 1);
    client_send(c, &a, "to-a");
    forward(ns, &a);
    client_send(c, &b, "to-b");
    forward(ns, &b);
    expect_to_guest(0, "to-a", GUEST_PORT, &sa);
    expect_to_guest(1, "to-b", GUEST_PORT + 1, &sb);

    env_close(ns, &a);
    assert_int_equal(claimed(ns, GUEST_PORT, sa.src, sa.sport), 0);
    assert_int_equal(claimed(ns, GUEST_PORT + 1, sb.src, sb.sport), 1);
    expect_at_client(c, "x", b.host_port);

    env_close(ns, &b);
    close(c);
    stack_done(ns);
}

/*
 * Two loopback clients with the same port (127.0.0.1:P, 127.0.0.2:P) would both
 * be the alias port P: the second is shown as the gateway instead.
 */
static void test_preserved_collision(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002) };
    struct env e;
    struct seen s1, s2;
    uint16_t p1;
    int c1 = local_socket(&p1, 0), c2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    (void)state;
    sa.sin_port = htons(p1);
    assert_true(c2 >= 0);
    assert_int_equal(bind(c2, (struct sockaddr *)&sa, sizeof(sa)), 0);
    env_open(&e, 1, GUEST_PORT);
    client_send(c1, &e, "one");
    forward(ns, &e);
    client_send(c2, &e, "two");
    forward(ns, &e);
    expect_to_guest(0, "one", GUEST_PORT, &s1);
    expect_to_guest(1, "two", GUEST_PORT, &s2);
    assert_int_equal(s1.src, ALIAS);
    assert_int_equal(s1.sport, p1);
    assert_int_equal(s2.src, GW);
    assert_true(s2.sport >= 49152);
    assert_int_equal(claimed(ns, GUEST_PORT, s2.src, s2.sport), 1);
    assert_true(wait_readable(c2, WAIT_MS));
    assert_false(wait_readable(c1, 0));

    env_close(ns, &e);
    close(c1);
    close(c2);
    stack_done(ns);
}

static struct netstack *watched_ns;

/**
 * on_port() - the loop callback forward.c registers, reduced to UDP.
 */
static void on_port(void *opaque, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    ns_udp_fwd_readable(watched_ns, opaque);
}

/* While the transport pushes back, the port is not read; resumed, it is. */
static void test_backpressure(void **state)
{
    struct netstack *ns = stack_cfg(0, 0);
    struct env e;
    struct seen s;
    uint16_t cport;
    int c = local_socket(&cport, 0);

    (void)state;
    watched_ns = ns;
    env_open(&e, 1, GUEST_PORT);
    assert_int_equal(ns_loop_set(&ns->loop, e.port.fd, NETSTACK_EV_IN, on_port, &e.port), 0);
    captured.accept = 0;                /* the transport takes nothing */
    client_send(c, &e, "first");
    run(ns, 50);
    assert_int_equal(captured.n, 0);
    assert_true(ns->tx.blocked);

    client_send(c, &e, "second");
    run(ns, 50);
    assert_int_equal(ns->loop.watch[e.port.fd].events & NETSTACK_EV_IN, 0);
    assert_true(wait_readable(e.port.fd, 0));       /* left in the kernel, not dropped */

    captured.accept = -1;
    netstack_output_ready(ns);
    ns_udp_fwd_resume(ns);
    assert_int_equal(ns->loop.watch[e.port.fd].events & NETSTACK_EV_IN, NETSTACK_EV_IN);
    run(ns, 50);
    assert_int_equal(captured.n, 2);
    expect_to_guest(0, "first", GUEST_PORT, &s);
    expect_to_guest(1, "second", GUEST_PORT, &s);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 1);

    env_close(ns, &e);
    close(c);
    stack_done(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preserve_source),
        cmocka_unit_test(test_two_clients),
        cmocka_unit_test(test_gateway_source),
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_guest_gone),
        cmocka_unit_test(test_port_closed),
        cmocka_unit_test(test_preserved_collision),
        cmocka_unit_test(test_backpressure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
