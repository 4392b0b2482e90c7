/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tcp_nat.c - the TCP NAT against real loopback sockets: connect before
 * accept, relay both ways, half-close, resets, limits
 *
 * The guest side is played segment by segment here; the host side is a real
 * listening socket on 127.0.0.1, reached through the host-loopback alias.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "lwip/priv/tcp_priv.h"
#include "tests/unit/harness.h"

static int listen_fd;
static uint16_t listen_port;

#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10
#define FIN 0x01

/* The guest's end of one connection. */
struct gconn {
    uint16_t port;          /* guest port */
    uint16_t dport;         /* destination port */
    uint32_t snd_nxt;       /* next sequence number we send */
    uint32_t rcv_nxt;       /* next sequence number we expect */
    uint32_t dst;           /* destination address; 0: the host-loopback alias */
};

/**
 * dst_of() - where @c's segments go.
 */
static uint32_t dst_of(const struct gconn *c)
{
    return c->dst ? c->dst : ALIAS;
}


/**
 * closed_port() - a loopback port nobody listens on.
 */
static uint16_t closed_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/**
 * send_seg() - a segment from the guest to the alias.
 */
static void send_seg(struct netstack *ns, struct gconn *c, uint8_t flags, const void *data,
                     size_t len)
{
    static uint8_t t[20 + 4096], f[14 + 20 + sizeof(t)];
    uint32_t sum;

    memset(t, 0, 20);
    put16(t, c->port);
    put16(t + 2, c->dport);
    put32(t + 4, c->snd_nxt);
    put32(t + 8, (flags & ACK) ? c->rcv_nxt : 0);
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t + 14, 65535);
    if (len)
        memcpy(t + 20, data, len);
    sum = ns_csum_pseudo4(GUEST, dst_of(c), IPPROTO_TCP, 20 + len);
    put16(t + 16, ns_csum_fold(ns_csum_add(sum, t, 20 + len)));
    netstack_input(ns, f, ipv4_frame(f, GUEST, dst_of(c), IPPROTO_TCP, 1, 0, t, 20 + len));
    c->snd_nxt += (uint32_t)len + ((flags & (SYN | FIN)) ? 1 : 0);
}

/**
 * next_tcp() - the next captured TCP segment for @c from index *@at, or NULL;
 * advances *@at past it. Checks addressing and the checksum.
 */
static const uint8_t *next_tcp(struct gconn *c, size_t *at, size_t *dlen)
{
    while (*at < captured.n) {
        const uint8_t *f = captured.frame[(*at)++], *t = f + 34;
        size_t tlen;

        if (get16(f + 12) != 0x0800 || f[14 + 9] != IPPROTO_TCP || get16(t + 2) != c->port)
            continue;
        tlen = get16(f + 16) - 20u;
        assert_int_equal(get32(f + 14 + 12), dst_of(c));
        assert_int_equal(ns_csum_fold(ns_csum_add(ns_csum_pseudo4(dst_of(c), GUEST, IPPROTO_TCP,
                                                                  tlen), t, tlen)), 0);
        *dlen = tlen - (size_t)(t[12] >> 4) * 4;
        return t;
    }
    return NULL;
}

/**
 * open_half() - SYN, and the SYN-ACK it gets: the guest's half of a handshake.
 */
static void open_half(struct netstack *ns, struct gconn *c)
{
    const uint8_t *t;
    size_t at = captured.n, dlen;

    c->snd_nxt = 1000;
    send_seg(ns, c, SYN, NULL, 0);
    run(ns, 50);
    t = next_tcp(c, &at, &dlen);
    assert_non_null(t);
    assert_int_equal(t[13] & (SYN | ACK), SYN | ACK);
    assert_int_equal(get32(t + 8), 1001);
    c->rcv_nxt = get32(t + 4) + 1;
}

/**
 * handshake() - SYN, wait for the SYN-ACK, ACK. Returns the host's accepted socket.
 */
static int handshake(struct netstack *ns, struct gconn *c)
{
    int fd;

    open_half(ns, c);
    send_seg(ns, c, ACK, NULL, 0);
    run(ns, 20);
    fd = accept(listen_fd, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

/**
 * flags_since() - every TCP flag the stack sent @c since capture index @at, or'ed.
 */
static uint8_t flags_since(struct gconn *c, size_t at)
{
    const uint8_t *t;
    size_t dlen;
    uint8_t flags = 0;

    while ((t = next_tcp(c, &at, &dlen)))
        flags |= t[13];
    return flags;
}

/**
 * got_rst() - did the stack send @c a RST since capture index @at?
 */
static int got_rst(struct gconn *c, size_t at)
{
    return flags_since(c, at) & RST;
}

/**
 * restart() - replace the fixture's stack by one made from @cfg.
 */
static struct netstack *restart(void **state, struct netstack_config *cfg)
{
    struct netstack *ns;

    stack_done(*state);
    capture_reset();
    cfg->send_frames = capture_send;
    cfg->log = quiet_log;
    assert_int_equal(netstack_new(cfg, &ns), 0);
    *state = ns;
    return ns;
}

/**
 * collect() - payload the stack sent to @c, acking it; returns bytes (FIN sets *@fin).
 */
static size_t collect(struct netstack *ns, struct gconn *c, uint8_t *out, size_t cap, int *fin)
{
    size_t at = 0, dlen, got = 0;
    const uint8_t *t;

    while ((t = next_tcp(c, &at, &dlen))) {
        if (get32(t + 4) != c->rcv_nxt)
            continue;           /* a retransmit of what we have */
        if (dlen && got + dlen <= cap)
            memcpy(out + got, t + (t[12] >> 4) * 4, dlen);
        got += dlen;
        c->rcv_nxt += (uint32_t)dlen;
        if (t[13] & FIN) {
            c->rcv_nxt++;
            *fin = 1;
        }
    }
    capture_reset();
    send_seg(ns, c, ACK, NULL, 0);
    return got;
}

static int setup(void **state)
{
    *state = stack_with(1500);
    listen_fd = loopback_listener(&listen_port);
    return 0;
}

static int teardown(void **state)
{
    stack_done(*state);
    close(listen_fd);
    return 0;
}

static void relay_both_ways_and_half_close(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40001, .dport = listen_port };
    uint8_t buf[8192], big[6000];
    int fd = handshake(ns, &c), fin = 0;
    size_t i, got;

    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_established), 1);
    /* guest -> host */
    send_seg(ns, &c, ACK | PSH, "hello host", 10);
    run(ns, 20);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 10);
    assert_memory_equal(buf, "hello host", 10);
    /* the guest half-closes: the host reads EOF but can still answer */
    send_seg(ns, &c, ACK | FIN, NULL, 0);
    run(ns, 20);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 13);
    capture_reset();
    assert_int_equal(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
    close(fd);
    got = 0;
    for (i = 0; i < 20 && !fin; i++) {
        run(ns, 10);
        got += collect(ns, &c, buf + got, sizeof(buf) - got, &fin);
    }
    assert_int_equal(got, sizeof(big));
    assert_memory_equal(buf, big, sizeof(big));
    assert_true(fin);
    run(ns, 20);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_bytes_to_guest), sizeof(big));
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_bytes_to_host), 10);
}

static int first_flow(void *opaque, const struct netstack_flow_info *i)
{
    *(struct netstack_flow_info *)opaque = *i;
    return 1;
}

static void flows_are_listed(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40009, .dport = listen_port };
    struct netstack_flow_info i;
    int fd = handshake(ns, &c);

    send_seg(ns, &c, ACK | PSH, "12345", 5);
    run(ns, 20);
    memset(&i, 0, sizeof(i));
    assert_int_equal(netstack_flow_list(ns, first_flow, &i), 1);
    assert_int_equal(i.proto, NETSTACK_PROTO_TCP);
    assert_false(i.inbound);
    assert_int_equal(ntohl(i.guest_addr.s_addr), GUEST);
    assert_int_equal(i.guest_port, 40009);
    assert_int_equal(ntohl(i.peer_addr.s_addr), ALIAS);
    assert_int_equal(i.peer_port, listen_port);
    assert_string_equal(i.state, "established");
    assert_int_equal(i.bytes_from_guest, 5);
    send_seg(ns, &c, ACK | FIN, NULL, 0);
    run(ns, 20);
    assert_int_equal(netstack_flow_list(ns, first_flow, &i), 1);
    assert_string_equal(i.state, "close_wait");
    close(fd);
}

static void refused_port_gets_rst(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40002, .dport = closed_port() };
    size_t at = 0, dlen;
    const uint8_t *t;

    c.snd_nxt = 5000;
    send_seg(ns, &c, SYN, NULL, 0);
    run(ns, 50);
    t = next_tcp(&c, &at, &dlen);
    assert_non_null(t);
    assert_int_equal(t[13] & (RST | ACK), RST | ACK);
    assert_int_equal(get32(t + 8), 5001);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_refused), 1);
}

static void host_reset_resets_the_guest(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40003, .dport = listen_port };
    struct linger lg = { 1, 0 };
    int fd = handshake(ns, &c), fin = 0, rst = 0;
    size_t at = 0, dlen;
    const uint8_t *t;
    uint8_t buf[64];

    capture_reset();
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    run(ns, 50);
    while ((t = next_tcp(&c, &at, &dlen)))
        rst |= t[13] & RST;
    assert_true(rst);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_resets_from_host), 1);
    (void)collect(ns, &c, buf, sizeof(buf), &fin);
}

static void guest_reset_resets_the_host(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40004, .dport = listen_port };
    int fd = handshake(ns, &c);
    char b;

    send_seg(ns, &c, RST | ACK, NULL, 0);
    run(ns, 20);
    assert_int_equal(recv(fd, &b, 1, 0), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_resets_from_guest), 1);
    close(fd);
}

static void syn_retransmit_is_absorbed(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40005, .dport = listen_port };
    size_t at = 0, dlen, synacks = 0;
    const uint8_t *t;
    int fd;

    c.snd_nxt = 1000;
    send_seg(ns, &c, SYN, NULL, 0);
    c.snd_nxt = 1000;
    send_seg(ns, &c, SYN, NULL, 0);     /* retransmit before the connect completed */
    run(ns, 50);
    while ((t = next_tcp(&c, &at, &dlen)))
        synacks += (t[13] & (SYN | ACK)) == (SYN | ACK);
    assert_true(synacks >= 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_connects), 1);
    fd = accept(listen_fd, NULL, NULL);     /* one host connection, not two */
    assert_true(fd >= 0);
    fcntl(listen_fd, F_SETFL, O_NONBLOCK);
    assert_int_equal(accept(listen_fd, NULL, NULL), -1);
    close(fd);
}

static void connection_limit_refuses_new_syns(void **state)
{
    struct netstack_config cfg;
    struct netstack *ns = *state;
    struct gconn a = { .port = 40006, .dport = listen_port };
    struct gconn b = { .port = 40007, .dport = listen_port };
    size_t at, dlen;
    const uint8_t *t;
    int fd;
    char buf[8];

    netstack_config_init(&cfg);
    cfg.max_tcp_connections = 1;
    ns = restart(state, &cfg);
    fd = handshake(ns, &a);
    b.snd_nxt = 7000;
    at = captured.n;
    send_seg(ns, &b, SYN, NULL, 0);
    t = next_tcp(&b, &at, &dlen);
    assert_non_null(t);
    assert_int_equal(t[13] & RST, RST);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tcp_limit), 1);
    /* the existing connection still works */
    send_seg(ns, &a, ACK | PSH, "still", 5);
    run(ns, 20);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 5);
    close(fd);
}

static void link_down_closes_host_sockets(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40008, .dport = listen_port };
    int fd = handshake(ns, &c);
    char b;

    netstack_link_down(ns);
    assert_int_equal(recv(fd, &b, 1, 0), -1);       /* reset: the guest is gone */
    assert_int_equal(errno, ECONNRESET);
    close(fd);
}

/**
 * accept_n() - the host accepts (and closes) @n connections the stack made.
 */
static void accept_n(int n)
{
    while (n--) {
        int fd = accept(listen_fd, NULL, NULL);

        assert_true(fd >= 0);
        close(fd);
    }
}

static void half_open_limit_resets_the_oldest(void **state)
{
    struct netstack_config cfg;
    struct gconn c[3] = { { 40010, listen_port, 0, 0, 0 }, { 40011, listen_port, 0, 0, 0 },
                          { 40012, listen_port, 0, 0, 0 } };
    struct netstack *ns;
    size_t at;
    int i;

    netstack_config_init(&cfg);
    cfg.max_tcp_half_open = 2;
    ns = restart(state, &cfg);
    open_half(ns, &c[0]);
    open_half(ns, &c[1]);
    at = captured.n;
    open_half(ns, &c[2]);       /* a third handshake: the oldest makes room */
    assert_true(got_rst(&c[0], at));
    assert_false(got_rst(&c[1], at));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tcp_half_open), 1);
    for (i = 1; i < 3; i++)     /* the others complete */
        send_seg(ns, &c[i], ACK, NULL, 0);
    run(ns, 20);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_established), 2);
    accept_n(3);                /* three host connections were made, the first reset */
}

static void half_open_limit_counts_the_gateway_listeners(void **state)
{
    struct netstack_config cfg;
    struct gconn d = { .port = 40029, .dport = 53, .dst = GW };
    struct gconn a = { .port = 40030, .dport = listen_port };
    struct gconn b = { .port = 40031, .dport = listen_port };
    struct netstack *ns;
    size_t at;

    netstack_config_init(&cfg);
    cfg.max_tcp_half_open = 2;
    ns = restart(state, &cfg);
    open_half(ns, &d);          /* a handshake with the gateway's DNS... */
    open_half(ns, &a);          /* ...and one through the NAT: the limit */
    at = captured.n;
    open_half(ns, &b);
    assert_true(got_rst(&a, at));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tcp_half_open), 1);
    accept_n(2);                /* a's host connection was made, and reset */
}

/**
 * close_unacked() - both sides close @c's connection; the guest never acks our FIN.
 */
static void close_unacked(struct netstack *ns, struct gconn *c)
{
    int fd = handshake(ns, c);

    send_seg(ns, c, ACK | FIN, NULL, 0);
    run(ns, 20);
    close(fd);
    run(ns, 50);
}

static void closing_limit_resets_the_oldest(void **state)
{
    struct netstack_config cfg;
    struct gconn a = { .port = 40013, .dport = listen_port };
    struct gconn b = { .port = 40014, .dport = listen_port };
    struct netstack *ns;
    size_t at;
    int fin = 0;
    uint8_t buf[16];

    netstack_config_init(&cfg);
    cfg.max_tcp_closing = 1;
    ns = restart(state, &cfg);
    close_unacked(ns, &a);
    at = captured.n;
    assert_false(got_rst(&a, 0));
    close_unacked(ns, &b);      /* a second one finishing its FINs: the first is reset */
    assert_true(got_rst(&a, at));
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_closing_evicted), 1);
    collect(ns, &b, buf, sizeof(buf), &fin);    /* b's FIN acked: its pcb is freed */
    assert_true(fin);
    run(ns, 20);
    close_unacked(ns, &a);      /* so a new one has room without evicting */
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_closing_evicted), 1);
}

/**
 * stack_side() - the stack's own host socket of the connection accepted as @fd.
 */
static int stack_side(int fd)
{
    struct sockaddr_in peer, me;
    socklen_t len = sizeof(peer);
    int i;

    assert_int_equal(getpeername(fd, (struct sockaddr *)&peer, &len), 0);
    for (i = 3; i < 4096; i++) {
        len = sizeof(me);
        if (i != fd && getsockname(i, (struct sockaddr *)&me, &len) == 0 &&
            me.sin_family == AF_INET && me.sin_port == peer.sin_port)
            return i;
    }
    fail_msg("no socket of the stack's matches");
    return -1;
}

static void tiny_segments_are_charged_for_the_memory_they_hold(void **state)
{
    struct netstack_config cfg;
    struct gconn c = { .port = 40015, .dport = listen_port };
    struct netstack *ns;
    static uint8_t got[256 * 1024];
    size_t sent = 0, have = 0;
    int fd, host, small = 4096, big = 1 << 20, i;
    ssize_t n;

    netstack_config_init(&cfg);
    cfg.max_tcp_queued_bytes = 64 * 1024;
    ns = restart(state, &cfg);
    fd = handshake(ns, &c);
    /* A host peer that does not read, behind the smallest buffers the kernel allows. */
    host = stack_side(fd);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    setsockopt(host, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    while (!counter(ns, NETSTACK_STAT_drop_tcp_memory) && sent < sizeof(got)) {
        uint8_t b = (uint8_t)sent;

        send_seg(ns, &c, ACK | PSH, &b, 1);
        sent++;
        if (captured.n > 200)
            capture_reset();
    }
    sent--;     /* the last one was dropped: the guest would resend it */
    /*
     * Queued one pbuf per segment, 64 KiB of memory held about 700 bytes;
     * copied together they are charged about their size.
     */
    assert_true(sent >= 32 * 1024);
    assert_true(sent < sizeof(got));
    /* The peer reads again (with room: tiny buffers crawl on zero-window probes). */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    setsockopt(host, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    for (i = 0; i < 2000 && have < sent; i++) {
        n = recv(fd, got + have, sizeof(got) - have, MSG_DONTWAIT);
        if (n > 0)
            have += (size_t)n;
        run(ns, 5);
    }
    assert_int_equal(have, sent);
    for (i = 0; (size_t)i < have; i++)
        assert_int_equal(got[i], (uint8_t)i);
    close(fd);
}

static void syn_from_no_address_is_dropped(void **state)
{
    struct netstack *ns = *state;
    uint8_t t[20] = { 0 }, f[14 + 20 + 20];

    /* 0.0.0.0 is a DHCP client's source, never a connection's. */
    put16(t, 40019);
    put16(t + 2, listen_port);
    t[12] = 5 << 4;
    t[13] = SYN;
    put16(t + 16, ns_csum_fold(ns_csum_add(ns_csum_pseudo4(0, ALIAS, IPPROTO_TCP, 20), t, 20)));
    netstack_input(ns, f, ipv4_frame(f, 0, ALIAS, IPPROTO_TCP, 1, 0, t, 20));
    run(ns, 20);
    assert_int_equal(counter(ns, NETSTACK_STAT_tcp_connects), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv4_source), 1);
    assert_int_equal(captured.n, 0);
}

/**
 * listeners_on() - lwIP's listeners for @port (white box: none may pile up).
 */
static int listeners_on(uint16_t port)
{
    struct tcp_pcb_listen *l;
    int n = 0;

    for (l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
        n += l->local_port == port;
    return n;
}

static void unused_listeners_are_closed(void **state)
{
    struct netstack *ns = *state;
    struct gconn a = { .port = 40016, .dport = listen_port };
    struct gconn b = { .port = 40017, .dport = listen_port };
    int fd;

    fd = handshake(ns, &a);
    assert_int_equal(listeners_on(listen_port), 1);
    run(ns, 1000);
    assert_int_equal(listeners_on(listen_port), 1);     /* kept a while for the next */
    run(ns, 2500);
    assert_int_equal(listeners_on(listen_port), 0);
    send_seg(ns, &a, ACK | PSH, "x", 1);    /* the connection does not need it */
    run(ns, 20);
    assert_int_equal(recv(fd, &(char){ 0 }, 1, MSG_DONTWAIT), 1);
    close(fd);
    fd = handshake(ns, &b);                 /* and a new one makes it again */
    close(fd);
}

static void port_53_of_another_host_is_relayed(void **state)
{
    struct netstack *ns = *state;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct gconn c = { .port = 40018, .dport = 53 };
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, fd;

    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4)) {
        print_message("skipped: cannot listen on 127.0.0.1:53 (%s)\n", strerror(errno));
        close(lfd);
        skip();
    }
    /* The gateway's DNS listens on gateway:53; the alias's port 53 is the host's. */
    open_half(ns, &c);
    send_seg(ns, &c, ACK, NULL, 0);
    run(ns, 20);
    fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    close(fd);
    close(lfd);
}

static void host_data_waits_within_the_memory_limit(void **state)
{
    struct netstack_config cfg;
    struct gconn c = { .port = 40028, .dport = listen_port };
    static uint8_t chunk[65536], got[4 << 20];
    size_t sent = 0, have = 0;
    struct netstack *ns;
    int fd, i, fin = 0, big = 4 << 20;
    ssize_t n;

    netstack_config_init(&cfg);
    cfg.max_tcp_queued_bytes = 256 * 1024;
    ns = restart(state, &cfg);
    fd = handshake(ns, &c);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (i = 0; i < (int)sizeof(chunk); i++)
        chunk[i] = (uint8_t)(i * 3);
    while (sent < sizeof(got) && (n = send(fd, chunk, sizeof(chunk), 0)) > 0)
        sent += (size_t)n;
    /* The guest acknowledges nothing: what the stack reads is held for it. */
    run(ns, 100);
    assert_true(counter(ns, NETSTACK_STAT_tcp_sendq_full) > 0);
    assert_true(counter(ns, NETSTACK_STAT_tcp_bytes_to_guest) < 600 * 1024);
    /* Acknowledged, the rest follows, every byte in order. */
    for (i = 0; i < 3000 && have < sent; i++) {
        have += collect(ns, &c, got + have, sizeof(got) - have, &fin);
        run(ns, 5);
    }
    assert_int_equal(have, sent);
    for (i = 0; (size_t)i < have; i++)
        assert_int_equal(got[i], chunk[i % sizeof(chunk)]);
    close(fd);
}

static void guest_data_outlives_a_clean_close(void **state)
{
    struct netstack *ns = *state;
    struct gconn c = { .port = 40027, .dport = listen_port };
    static uint8_t sent[40 * 1400], got[sizeof(sent) + 1];
    int fd = handshake(ns, &c), host = stack_side(fd), small = 4096, fin = 0, i;
    size_t have = 0;
    ssize_t n;

    /* A host peer that reads slowly: the guest's data waits in the stack. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    setsockopt(host, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    for (i = 0; i < (int)sizeof(sent); i++)
        sent[i] = (uint8_t)(i * 7);
    /* Within the 64 KiB window of a guest without window scaling, MTU 1500. */
    for (i = 0; i < 40; i++)
        send_seg(ns, &c, ACK | PSH, sent + i * 1400, 1400);
    send_seg(ns, &c, ACK | FIN, NULL, 0);
    run(ns, 20);
    /* The host is done sending; the guest acknowledges our FIN: lwIP is done. */
    shutdown(fd, SHUT_WR);
    run(ns, 20);
    collect(ns, &c, got, sizeof(got), &fin);
    assert_true(fin);
    run(ns, 20);
    /* Every byte the guest sent still reaches the host, then a clean EOF. */
    for (i = 0; i < 2000; i++) {
        n = recv(fd, got + have, sizeof(got) - have, MSG_DONTWAIT);
        if (n == 0)
            break;
        assert_true(n > 0 || errno == EAGAIN);
        if (n > 0)
            have += (size_t)n;
        run(ns, 5);
    }
    assert_int_equal(have, sizeof(sent));
    assert_memory_equal(got, sent, sizeof(sent));
    assert_int_equal(n, 0);
    close(fd);
}

/* --- DNS over TCP to the gateway: its connections are bounded too ------ */

/**
 * dns_conn() - a guest connection to gateway:53 from @port, established.
 */
static struct gconn dns_conn(struct netstack *ns, uint16_t port)
{
    struct gconn c = { .port = port, .dport = 53, .dst = GW };

    open_half(ns, &c);
    send_seg(ns, &c, ACK, NULL, 0);
    run(ns, 10);
    return c;
}

/**
 * got_fin() - did the stack close @c (FIN or RST) since capture index @at?
 */
static int got_fin(struct gconn *c, size_t at)
{
    return flags_since(c, at) & (FIN | RST);
}

static void dns_tcp_idle_connections_expire(void **state)
{
    struct netstack_config cfg;
    struct netstack *ns;
    struct gconn c;
    size_t at;

    netstack_config_init(&cfg);
    cfg.dns_tcp_idle_timeout_ms = 300;
    ns = restart(state, &cfg);
    at = captured.n;
    c = dns_conn(ns, 40020);
    run(ns, 100);
    assert_false(got_fin(&c, at));
    run(ns, 500);
    assert_true(got_fin(&c, at));
    assert_int_equal(counter(ns, NETSTACK_STAT_dns_tcp_expired), 1);
}

static void dns_tcp_limit_closes_the_idlest(void **state)
{
    struct netstack_config cfg;
    struct netstack *ns;
    struct gconn a, b, c;
    size_t at;

    netstack_config_init(&cfg);
    cfg.max_dns_tcp_connections = 2;
    ns = restart(state, &cfg);
    at = captured.n;
    a = dns_conn(ns, 40021);
    b = dns_conn(ns, 40022);
    c = dns_conn(ns, 40023);    /* a third: the one idle longest makes room */
    assert_true(got_fin(&a, at));
    assert_false(got_fin(&b, at));
    assert_false(got_fin(&c, at));
    assert_int_equal(counter(ns, NETSTACK_STAT_dns_tcp_evicted), 1);
}

static void dns_tcp_connections_end_with_the_guest(void **state)
{
    struct netstack_config cfg;
    struct netstack *ns;
    struct gconn b;
    size_t at;

    netstack_config_init(&cfg);
    cfg.max_dns_tcp_connections = 1;
    ns = restart(state, &cfg);
    (void)dns_conn(ns, 40024);
    netstack_link_down(ns);     /* the guest reboots, its connection left open */
    at = captured.n;
    b = dns_conn(ns, 40025);
    assert_false(got_fin(&b, at));
    assert_int_equal(counter(ns, NETSTACK_STAT_dns_tcp_evicted), 0);   /* room without it */
}

static void dns_tcp_backlog_resets_the_oldest(void **state)
{
    struct netstack *ns = *state;
    struct gconn c[65];
    size_t at = captured.n, dlen;
    const uint8_t *t;
    int i, answered = 0;

    for (i = 0; i < 65; i++) {  /* a SYN flood at the gateway's DNS listener */
        c[i] = (struct gconn){ .port = (uint16_t)(41000 + i), .dport = 53, .dst = GW,
                               .snd_nxt = 1000 };
        send_seg(ns, &c[i], SYN, NULL, 0);
    }
    for (i = 0; i < 65; i++) {
        size_t from = at;

        while ((t = next_tcp(&c[i], &from, &dlen)))
            answered += (t[13] & (SYN | ACK)) == (SYN | ACK);
    }
    /* All answered, the first reset to make room for the last. */
    assert_int_equal(answered, 65);
    assert_true(got_rst(&c[0], at));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tcp_half_open), 1);
    capture_reset();
    (void)dns_conn(ns, 40026);  /* a client that completes its handshake is served */
    assert_true(got_rst(&c[1], 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(relay_both_ways_and_half_close, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_port_gets_rst, setup, teardown),
        cmocka_unit_test_setup_teardown(flows_are_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(host_reset_resets_the_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(guest_reset_resets_the_host, setup, teardown),
        cmocka_unit_test_setup_teardown(syn_retransmit_is_absorbed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(connection_limit_refuses_new_syns, setup, teardown),
        cmocka_unit_test_setup_teardown(link_down_closes_host_sockets, setup, teardown),
        cmocka_unit_test_setup_teardown(half_open_limit_resets_the_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(half_open_limit_counts_the_gateway_listeners, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(closing_limit_resets_the_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(tiny_segments_are_charged_for_the_memory_they_hold,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(syn_from_no_address_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(guest_data_outlives_a_clean_close, setup, teardown),
        cmocka_unit_test_setup_teardown(host_data_waits_within_the_memory_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(unused_listeners_are_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(port_53_of_another_host_is_relayed, setup, teardown),
        cmocka_unit_test_setup_teardown(dns_tcp_idle_connections_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(dns_tcp_limit_closes_the_idlest, setup, teardown),
        cmocka_unit_test_setup_teardown(dns_tcp_connections_end_with_the_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(dns_tcp_backlog_resets_the_oldest, setup, teardown),
    };

    return cmocka_run_group_tests_name("tcp_nat", tests, NULL, NULL);
}
