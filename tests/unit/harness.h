/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness.h - shared helpers for the unit suites: a stack whose transport
 * captures frames, frame builders, and inputs placed before an unreadable page.
 */
#ifndef NETSTACK_TEST_HARNESS_H
#define NETSTACK_TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "ethernet/checksum.h"
#include "netstack/include/netstack.h"

#define MAX_CAPTURE 256

static const uint8_t __attribute__((unused)) guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t __attribute__((unused)) gw_mac[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };
static const uint8_t __attribute__((unused)) bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define GW IP(192, 168, 65, 1)
#define ALIAS IP(192, 168, 65, 254)
#define GUEST IP(192, 168, 65, 2)

/* What the stack sent: copies, since frames are only valid during the callback. */
struct capture {
    uint8_t *frame[MAX_CAPTURE];
    size_t len[MAX_CAPTURE];
    struct netstack_offload off[MAX_CAPTURE];
    size_t n;
    ssize_t accept;     /* frames send_frames accepts per call; -1: all */
    int gone;           /* return -ENOTCONN: no guest attached */
};

static struct capture captured __attribute__((unused));

static inline ssize_t capture_send(void *opaque, const struct netstack_frame *f, size_t n)
{
    size_t i, take = n;

    (void)opaque;
    if (captured.gone)
        return -107;    /* -ENOTCONN */
    if (captured.accept >= 0 && (size_t)captured.accept < take)
        take = (size_t)captured.accept;
    for (i = 0; i < take && captured.n < MAX_CAPTURE; i++) {
        captured.frame[captured.n] = malloc(f[i].len);
        memcpy(captured.frame[captured.n], f[i].data, f[i].len);
        captured.off[captured.n] = f[i].offload;
        captured.len[captured.n++] = f[i].len;
    }
    return (ssize_t)take;
}

static inline void capture_reset(void)
{
    size_t i;

    for (i = 0; i < captured.n; i++)
        free(captured.frame[i]);
    memset(&captured, 0, sizeof(captured));
    captured.accept = -1;
}

static inline void quiet_log(void *opaque, enum netstack_log_level l, const char *msg)
{
    (void)opaque;
    (void)l;
    (void)msg;
}

/**
 * stack_with() - a stack with the default config but @mtu (0: default).
 */
static inline struct netstack *stack_with(uint16_t mtu)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    if (mtu)
        c.mtu = mtu;
    assert_int_equal(netstack_new(&c, &ns), 0);
    return ns;
}

/**
 * run() - dispatch the stack's loop for about @ms milliseconds.
 */
static inline void run(struct netstack *ns, int ms)
{
    int i;

    for (i = 0; i < ms / 5; i++) {
        struct pollfd p = { .fd = netstack_fd(ns), .events = POLLIN };

        poll(&p, 1, 5);
        netstack_dispatch(ns);
    }
}

static inline void stack_done(struct netstack *ns)
{
    netstack_free(ns);
    capture_reset();
}

static inline uint64_t counter(struct netstack *ns, enum netstack_stat s)
{
    uint64_t c[NETSTACK_STAT_COUNT];

    netstack_get_stats(ns, c, NETSTACK_STAT_COUNT);
    return c[s];
}

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/**
 * eth() - write an Ethernet header; returns 14.
 */
static inline size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, type);
    return 14;
}

/**
 * ipv4() - Ethernet + IPv4 header + payload from the guest; returns the frame length.
 */
static inline size_t ipv4_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                         uint16_t frag, const uint8_t *payload, size_t len)
{
    uint8_t *h = f + eth(f, gw_mac, guest_mac, 0x0800);

    memset(h, 0, 20);
    h[0] = 0x45;
    put16(h + 2, (uint16_t)(20 + len));
    put16(h + 4, id);
    put16(h + 6, frag);
    h[8] = 64;
    h[9] = proto;
    put32(h + 12, src);
    put32(h + 16, dst);
    put16(h + 10, ns_csum(h, 20));
    memcpy(h + 20, payload, len);
    return 14 + 20 + len;
}

/**
 * icmp_echo() - an echo request with @len data bytes (a pattern); returns its length.
 */
static inline size_t icmp_echo(uint8_t *p, uint16_t id, uint16_t seq, size_t len)
{
    size_t i;

    p[0] = 8;
    p[1] = 0;
    put16(p + 2, 0);
    put16(p + 4, id);
    put16(p + 6, seq);
    for (i = 0; i < len; i++)
        p[8 + i] = (uint8_t)(i * 7 + 3);
    put16(p + 2, ns_csum(p, 8 + len));
    return 8 + len;
}

/**
 * arp_frame() - an ARP packet from the guest; returns the frame length.
 */
static inline size_t arp_frame(uint8_t *f, uint16_t op, uint32_t spa, uint32_t tpa)
{
    uint8_t *a = f + eth(f, bcast_mac, guest_mac, 0x0806);

    put16(a, 1);
    put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, guest_mac, 6);
    put32(a + 14, spa);
    memset(a + 18, 0, 6);
    put32(a + 24, tpa);
    return 14 + 28;
}

/**
 * loopback_listener() - a listening TCP socket on 127.0.0.1, any port (in *@port).
 */
static inline int loopback_listener(uint16_t *port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/**
 * guarded() - copy @len bytes so they end right before an unreadable page, so a
 * parser reading one byte too far faults instead of passing. Free with unguard().
 */
static uint8_t *guard_base __attribute__((unused));
static size_t guard_size __attribute__((unused));

static inline const uint8_t *guarded(const void *data, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t span = (len + page - 1) / page * page + page;

    guard_size = span ? span + page : 2 * page;
    guard_base = mmap(NULL, guard_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    assert_true(guard_base != MAP_FAILED);
    assert_int_equal(mprotect(guard_base + guard_size - page, page, PROT_NONE), 0);
    memcpy(guard_base + guard_size - page - len, data, len);
    return guard_base + guard_size - page - len;
}

static inline void unguard(void)
{
    munmap(guard_base, guard_size);
    guard_base = NULL;
}

#endif /* NETSTACK_TEST_HARNESS_H */
