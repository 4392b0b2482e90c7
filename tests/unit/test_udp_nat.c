/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_udp_nat.c - the UDP NAT and the ICMP echo NAT: guest flows become host sockets
 *
 * UDP runs over the host's loopback only: the guest talks to the alias
 * 192.168.65.254, which is the host's 127.0.0.1, where the test has its own
 * sockets. ICMP echo beyond the gateway cannot be tried on loopback (127/8 is
 * never forwarded), so those tests run in a child process inside a private
 * network namespace holding nothing but its own loopback device: they need
 * root (CAP_SYS_ADMIN for unshare) and are skipped without it.
 */
#define _GNU_SOURCE /* unshare() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tests/unit/harness.h"
#include "ethernet/reader.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

/* The raw-socket reply parser (netstack/icmp_nat.c). */

#define WAIT_MS 2000

static int warnings;

/**
 * count_log() - count warnings, print nothing.
 */
static void count_log(void *opaque, enum netstack_log_level l, const char *msg)
{
    (void)opaque;
    (void)msg;
    if (l == NETSTACK_LOG_WARN)
        warnings++;
}

/**
 * stack_cfg() - a capturing stack with these MTU and UDP limits (0 keeps a default).
 */
static struct netstack *stack_cfg(uint16_t mtu, uint32_t max_flows, uint32_t idle_ms)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    capture_reset();
    warnings = 0;
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = count_log;
    if (mtu)
        c.mtu = mtu;
    c.max_udp_flows = max_flows;
    c.udp_idle_timeout_ms = idle_ms;
    assert_int_equal(netstack_new(&c, &ns), 0);
    return ns;
}

/**
 * open_fds() - how many descriptors the process has open.
 */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;   /* the directory's own */
}

/**
 * highest_fd() - the highest descriptor number open below the limit (a tool
 * such as valgrind may keep its own above it, out of the program's reach).
 */
static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    struct rlimit rl;
    int n = 0, fd;

    assert_non_null(d);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    while ((e = readdir(d))) {
        fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd > n && (rlim_t)fd < rl.rlim_cur)
            n = fd;
    }
    closedir(d);
    return n;
}

/**
 * test_socket() - a UDP socket on 127.0.0.1, its port in @port.
 */
static int test_socket(uint16_t *port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/**
 * test_recv() - wait for one datagram on @fd; its source port in @from_port.
 */
static ssize_t test_recv(int fd, void *buf, size_t cap, uint16_t *from_port)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    struct sockaddr_in from;
    socklen_t len = sizeof(from);
    ssize_t n;

    if (poll(&p, 1, WAIT_MS) != 1)
        return -1;
    n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
    assert_int_equal(ntohl(from.sin_addr.s_addr), INADDR_LOOPBACK);
    if (from_port)
        *from_port = ntohs(from.sin_port);
    return n;
}

/**
 * test_send() - a datagram from @fd to 127.0.0.1:@port.
 */
static void test_send(int fd, uint16_t port, const void *data, size_t len)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

    assert_int_equal(sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
}

/**
 * guest_udp() - the guest sends @len bytes from GUEST:@sport to @dst:@dport.
 */
static void guest_udp(struct netstack *ns, uint16_t sport, uint32_t dst, uint16_t dport,
                      const void *data, size_t len)
{
    static uint8_t udp[1480], f[1514];

    assert_true(len <= sizeof(udp) - 8);
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)(8 + len));
    put16(udp + 6, 0);
    memcpy(udp + 8, data, len);
    put16(udp + 6, ns_csum_fold(ns_csum_add(ns_csum_pseudo4(GUEST, dst, IPPROTO_UDP, 8 + len),
                                            udp, 8 + len)));
    netstack_input(ns, f, ipv4_frame(f, GUEST, dst, IPPROTO_UDP, 1, 0, udp, 8 + len));
}

/**
 * pump() - run the stack until @frames frames were captured or WAIT_MS passed.
 */
static void pump(struct netstack *ns, size_t frames)
{
    struct pollfd p = { .fd = netstack_fd(ns), .events = POLLIN };
    int waited = 0;

    while (captured.n < frames && waited < WAIT_MS) {
        poll(&p, 1, 10);
        waited += 10;
        assert_int_equal(netstack_dispatch(ns), 0);
    }
}

/**
 * pump_stat() - run the stack until counter @s reaches @value or WAIT_MS passed.
 */
static void pump_stat(struct netstack *ns, enum netstack_stat s, uint64_t value)
{
    struct pollfd p = { .fd = netstack_fd(ns), .events = POLLIN };
    int waited = 0;

    while (counter(ns, s) < value && waited < WAIT_MS) {
        poll(&p, 1, 10);
        waited += 10;
        assert_int_equal(netstack_dispatch(ns), 0);
    }
}

/* A UDP datagram the stack sent to the guest. */
struct seen {
    uint32_t src, dst;
    uint16_t sport, dport;
    const uint8_t *data;
    size_t len;
};

/**
 * parse_udp() - check frame @i is one whole UDP datagram to the guest, valid checksums.
 */
static void parse_udp(size_t i, struct seen *s)
{
    const uint8_t *f = captured.frame[i], *h = f + 14, *u = h + 20;
    size_t ulen;

    assert_true(i < captured.n);
    assert_int_equal(get16(f + 12), 0x0800);
    assert_memory_equal(f, guest_mac, 6);
    assert_int_equal(h[0], 0x45);
    assert_int_equal(h[9], IPPROTO_UDP);
    assert_int_equal(get16(h + 6) & 0x3fff, 0);        /* not a fragment */
    assert_int_equal(ns_csum(h, 20), 0);
    ulen = get16(u + 4);
    assert_int_equal(get16(h + 2), 20 + ulen);
    assert_int_equal(captured.len[i], 14 + 20 + ulen);
    s->src = get32(h + 12);
    s->dst = get32(h + 16);
    assert_int_not_equal(get16(u + 6), 0);
    assert_int_equal(ns_csum_fold(ns_csum_add(ns_csum_pseudo4(s->src, s->dst, IPPROTO_UDP, ulen),
                                              u, ulen)), 0);
    s->sport = get16(u);
    s->dport = get16(u + 2);
    s->data = u + 8;
    s->len = ulen - 8;
}

/**
 * reassemble() - join captured frames @first.. (one datagram's fragments, in
 * order) into @out. Return: the IP payload length.
 */
static size_t reassemble(size_t first, uint16_t mtu, uint8_t *out, size_t cap, uint32_t *src)
{
    size_t i, total = 0;

    for (i = first; i < captured.n; i++) {
        const uint8_t *h = captured.frame[i] + 14;
        size_t len = get16(h + 2) - 20, off = (size_t)(get16(h + 6) & 0x1fff) * 8;

        assert_true(captured.len[i] <= 14u + mtu);
        assert_int_equal(ns_csum(h, 20), 0);
        assert_int_equal(off, total);
        assert_true(off + len <= cap);
        memcpy(out + off, h + 20, len);
        total += len;
        *src = get32(h + 12);
        if (!(get16(h + 6) & 0x2000))
            return total;
    }
    fail_msg("datagram incomplete: %zu bytes", total);
    return 0;
}

/**
 * open_flow() - the guest sends "ping" from @gport to @fd; returns the host port seen.
 */
static uint16_t open_flow(struct netstack *ns, uint16_t gport, int fd, uint16_t port)
{
    char buf[16];
    uint16_t hport = 0;

    guest_udp(ns, gport, ALIAS, port, "ping", 4);
    assert_int_equal(test_recv(fd, buf, sizeof(buf), &hport), 4);
    assert_memory_equal(buf, "ping", 4);
    return hport;
}

static void datagram_out_reply_back_full_cone(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 0);
    uint16_t pa, pb, hport;
    int a = test_socket(&pa), b = test_socket(&pb);
    struct seen s;

    hport = open_flow(ns, 40000, a, pa);
    test_send(a, hport, "world", 5);
    pump(ns, 1);
    assert_int_equal(captured.n, 1);
    parse_udp(0, &s);
    assert_int_equal(s.src, ALIAS);
    assert_int_equal(s.sport, pa);
    assert_int_equal(s.dst, GUEST);
    assert_int_equal(s.dport, 40000);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, "world", 5);
    /* Full cone: a remote the guest never addressed reaches it too. */
    test_send(b, hport, "stranger", 8);
    pump(ns, 2);
    assert_int_equal(captured.n, 2);
    parse_udp(1, &s);
    assert_int_equal(s.src, ALIAS);
    assert_int_equal(s.sport, pb);
    assert_int_equal(s.dport, 40000);
    assert_memory_equal(s.data, "stranger", 8);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_host), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_guest), 2);
    close(a);
    close(b);
    stack_done(ns);
}

/**
 * free_udp_port() - a UDP port (1024 and up) no socket of the host holds now,
 * other than @not.
 */
static uint16_t free_udp_port(uint16_t not)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    uint16_t port;
    int fd;

    do {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sa.sin_port = 0;
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        port = ntohs(sa.sin_port);
        close(fd);
    } while (port == not || port < 1024);
    return port;
}

/*
 * RFC 4787: the mapping keeps the guest's port where the host has it free
 * (REQ-3 allows it), and hairpinning (REQ-9): a flow that sends to another
 * flow's mapping (the alias and its port) reaches it, seen from its own.
 */
static void port_preserved_and_hairpinning(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 0);
    uint16_t pt, ga = free_udp_port(0), gb = free_udp_port(ga);
    int t = test_socket(&pt);
    struct seen s;
    size_t at;

    assert_int_equal(open_flow(ns, ga, t, pt), ga);
    assert_int_equal(open_flow(ns, gb, t, pt), gb);
    at = captured.n;
    guest_udp(ns, ga, ALIAS, gb, "hairpin", 7);
    pump(ns, at + 1);
    assert_int_equal(captured.n, at + 1);
    parse_udp(at, &s);
    assert_int_equal(s.src, ALIAS);
    assert_int_equal(s.sport, ga);      /* A's mapping, as any peer sees it */
    assert_int_equal(s.dport, gb);
    assert_memory_equal(s.data, "hairpin", 7);
    /* A port the host holds already is not taken from it: another is used. */
    assert_int_not_equal(open_flow(ns, pt, t, pt), pt);
    close(t);
    stack_done(ns);
}

static void mapping_is_endpoint_independent(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 0);
    uint16_t pa, pb, h1, h2;
    int a = test_socket(&pa), b = test_socket(&pb);

    h1 = open_flow(ns, 40000, a, pa);
    assert_int_equal(open_flow(ns, 40000, a, pa), h1);
    assert_int_equal(open_flow(ns, 40000, b, pb), h1);     /* another destination, same port */
    h2 = open_flow(ns, 40001, a, pa);
    assert_int_not_equal(h2, h1);
    assert_int_equal(open_flow(ns, 40001, b, pb), h2);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 2);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_host), 5);
    close(a);
    close(b);
    stack_done(ns);
}

/**
 * big_reply() - a reply of @len bytes at MTU @mtu arrives whole, in fragments.
 */
static void big_reply(uint16_t mtu, size_t len)
{
    struct netstack *ns = stack_cfg(mtu, 0, 0);
    static uint8_t data[65507], out[65536];
    size_t frames = (8 + len + ((mtu - 20u) & ~7u) - 1) / ((mtu - 20u) & ~7u), i, total;
    uint16_t pa, hport;
    int a = test_socket(&pa);
    uint32_t src;

    for (i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 13 + i / 251);
    hport = open_flow(ns, 40000, a, pa);
    test_send(a, hport, data, len);
    pump(ns, frames);
    assert_int_equal(captured.n, frames);
    total = reassemble(0, mtu, out, sizeof(out), &src);
    assert_int_equal(total, 8 + len);
    assert_int_equal(src, ALIAS);
    assert_int_equal(get16(out), pa);
    assert_int_equal(get16(out + 2), 40000);
    assert_int_equal(get16(out + 4), 8 + len);
    assert_int_equal(ns_csum_fold(ns_csum_add(ns_csum_pseudo4(ALIAS, GUEST, IPPROTO_UDP, total),
                                              out, total)), 0);
    assert_memory_equal(out + 8, data, len);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_guest), 1);
    close(a);
    stack_done(ns);
}

static void large_reply_is_fragmented_to_the_mtu(void **state)
{
    big_reply(1500, 4000);
}

static void largest_datagram_reaches_the_guest(void **state)
{
    big_reply(1500, 65507);
    big_reply(65520, 65507);
}

static void least_recently_used_flow_is_evicted(void **state)
{
    struct netstack *ns = stack_cfg(0, 2, 0);
    uint16_t pa, h1, h1_again;
    int a = test_socket(&pa), fds = open_fds(), hold;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

    h1 = open_flow(ns, 40001, a, pa);
    open_flow(ns, 40002, a, pa);
    assert_int_equal(open_fds(), fds + 2);
    open_flow(ns, 40003, a, pa);                    /* 40001 is the least recently used */
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_evicted), 1);
    assert_int_equal(open_fds(), fds + 2);
    /* Hold the evicted flow's old port so the kernel cannot hand it out again. */
    hold = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sa.sin_port = htons(h1);
    assert_int_equal(bind(hold, (struct sockaddr *)&sa, sizeof(sa)), 0);
    h1_again = open_flow(ns, 40001, a, pa);         /* a new flow, evicting 40002 */
    assert_int_not_equal(h1_again, h1);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_evicted), 2);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 4);
    assert_int_equal(open_fds(), fds + 3);          /* two flows and the holder */
    close(hold);
    close(a);
    stack_done(ns);
}

static void idle_flows_expire(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 60000);
    uint16_t pa, h1;
    int a = test_socket(&pa), fds = open_fds();
    uint64_t opened;

    assert_int_equal(ns_udp_nat_next_timeout(ns, ns_now_ms()), -1);
    h1 = open_flow(ns, 40001, a, pa);
    open_flow(ns, 40002, a, pa);
    opened = ns_now_ms();
    assert_in_range(ns_udp_nat_next_timeout(ns, opened), 59000, 60000);
    assert_true(netstack_next_timeout(ns) <= 60000);
    usleep(50 * 1000);
    test_send(a, h1, "keep", 4);                    /* traffic from the host refreshes 40001 */
    pump(ns, 1);
    assert_int_equal(captured.n, 1);
    ns_udp_nat_timers(ns, opened + 59000);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_expired), 0);
    ns_udp_nat_timers(ns, opened + 60010);          /* 40002 idle, 40001 not quite */
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_expired), 1);
    assert_int_equal(open_fds(), fds + 1);
    assert_true(ns_udp_nat_next_timeout(ns, opened + 60010) > 0);
    ns_udp_nat_timers(ns, ns_now_ms() + 60000);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_expired), 2);
    assert_int_equal(open_fds(), fds);
    assert_int_equal(ns_udp_nat_next_timeout(ns, ns_now_ms()), -1);
    close(a);
    stack_done(ns);
}

static void idle_flows_expire_from_the_loop(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 50);
    uint16_t pa;
    int a = test_socket(&pa), fds = open_fds(), waited = 0;

    open_flow(ns, 40001, a, pa);
    assert_int_equal(open_fds(), fds + 1);
    assert_true(netstack_next_timeout(ns) <= 50);
    while (counter(ns, NETSTACK_STAT_udp_flows_expired) == 0 && waited < WAIT_MS) {
        struct pollfd p = { .fd = netstack_fd(ns), .events = POLLIN };

        poll(&p, 1, netstack_next_timeout(ns));
        netstack_dispatch(ns);
        waited += 10;
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_expired), 1);
    assert_int_equal(open_fds(), fds);
    close(a);
    stack_done(ns);
}

static void broadcast_and_subnet_are_never_sent(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 0);
    int fds = open_fds();
    uint8_t f[128], udp[12] = { 0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0, 0, 'x', 'y', 'z', 'w' };

    guest_udp(ns, 40000, IP(255, 255, 255, 255), 9999, "x", 1);
    guest_udp(ns, 40000, IP(192, 168, 65, 255), 9999, "x", 1);
    guest_udp(ns, 40000, IP(224, 0, 0, 251), 5353, "x", 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_broadcast), 3);
    guest_udp(ns, 40000, IP(192, 168, 65, 7), 9999, "x", 1);   /* another subnet address */
    guest_udp(ns, 40000, GW, 9999, "x", 1);                    /* the gateway: only DNS */
    guest_udp(ns, 40000, IP(127, 0, 0, 1), 9999, "x", 1);
    guest_udp(ns, 40000, ALIAS, 0, "x", 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_destination), 4);
    /* No checksum (allowed by RFC 768), from 0.0.0.0: not the DHCP server's, dropped. */
    netstack_input(ns, f, ipv4_frame(f, 0, ALIAS, IPPROTO_UDP, 1, 0, udp, sizeof(udp)));
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_ipv4_source), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_host), 0);
    assert_int_equal(open_fds(), fds);
    stack_done(ns);
}

static void backpressure_leaves_datagrams_unread(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 0);
    uint16_t pa, hport;
    int a = test_socket(&pa), i;
    char msg[8];
    struct seen s;

    hport = open_flow(ns, 40000, a, pa);
    captured.accept = 0;                            /* the guest's transport is full */
    test_send(a, hport, "d0", 2);
    pump_stat(ns, NETSTACK_STAT_udp_to_guest, 1);   /* read and queued; the flush pushed back */
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_guest), 1);
    assert_true(counter(ns, NETSTACK_STAT_tx_backpressure) >= 1);
    for (i = 1; i < 4; i++) {
        snprintf(msg, sizeof(msg), "d%d", i);
        test_send(a, hport, msg, 2);
    }
    for (i = 0; i < 20; i++) {
        usleep(1000);
        netstack_dispatch(ns);
    }
    assert_int_equal(captured.n, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_to_guest), 1);     /* the rest left unread */
    captured.accept = -1;
    netstack_output_ready(ns);
    assert_int_equal(captured.n, 1);
    pump(ns, 4);
    assert_int_equal(captured.n, 4);
    for (i = 0; i < 4; i++) {
        snprintf(msg, sizeof(msg), "d%d", i);
        parse_udp((size_t)i, &s);
        assert_memory_equal(s.data, msg, 2);
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tx_queue_full), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_udp_host_error), 0);
    close(a);
    stack_done(ns);
}

static void link_down_closes_every_socket(void **state)
{
    int before = open_fds(), fds, a, i;
    struct netstack *ns = stack_cfg(0, 0, 0);
    uint16_t pa, hport;
    uint8_t icmp[64], f[128];

    a = test_socket(&pa);
    fds = open_fds();
    for (i = 0; i < 3; i++)
        open_flow(ns, (uint16_t)(40000 + i), a, pa);
    assert_int_equal(open_fds(), fds + 3);
    netstack_link_down(ns);
    assert_int_equal(open_fds(), fds);
    /* The guest comes back: a new flow works as before. */
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, 1, 0, icmp,
                                      icmp_echo(icmp, 1, 1, 8)));      /* relearn its MAC */
    hport = open_flow(ns, 40000, a, pa);
    test_send(a, hport, "back", 4);
    pump(ns, 2);
    assert_int_equal(captured.n, 2);
    assert_int_equal(open_fds(), fds + 1);
    close(a);
    stack_done(ns);
    assert_int_equal(open_fds(), before);           /* teardown closed the rest */
}

/* The descriptors taken by exhaust_fds(), and the limit before it. */
static int filler[1024], nfill;
static struct rlimit saved_limit;

/**
 * exhaust_fds() - a low descriptor limit, and every descriptor under it taken (dups of @fd).
 */
static void exhaust_fds(int fd)
{
    struct rlimit low;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved_limit), 0);
    low = saved_limit;
    low.rlim_cur = (rlim_t)highest_fd() + 8;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    nfill = 0;
    while (nfill < 1024 && (filler[nfill] = dup(fd)) >= 0)
        nfill++;
    assert_int_equal(errno, EMFILE);
}

/**
 * restore_fds() - undo exhaust_fds().
 */
static void restore_fds(void)
{
    while (nfill)
        close(filler[--nfill]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved_limit), 0);
}

static void at_the_limit_a_flow_evicts_before_it_opens(void **state)
{
    struct netstack *ns = stack_cfg(0, 1, 0);
    uint16_t pa;
    int a = test_socket(&pa);

    open_flow(ns, 40000, a, pa);
    /* Every descriptor taken: the new flow's socket can only be the old one's. */
    exhaust_fds(a);
    open_flow(ns, 40001, a, pa);
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_evicted), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_host_socket), 0);
    restore_fds();
    close(a);
    stack_done(ns);
}

static void running_out_of_descriptors_is_counted(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 0);
    uint16_t pa, hport;
    int a = test_socket(&pa), i;
    struct seen s;

    hport = open_flow(ns, 40000, a, pa);
    warnings = 0;       /* the limits fitted to this process's RLIMIT_NOFILE may have said so */
    exhaust_fds(a);
    for (i = 1; i <= 3; i++)
        guest_udp(ns, (uint16_t)(40000 + i), ALIAS, pa, "x", 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_host_socket), 3);
    assert_int_equal(warnings, 1);                  /* said once, not per datagram */
    assert_int_equal(counter(ns, NETSTACK_STAT_udp_flows_created), 1);
    /* The existing flow keeps working both ways. */
    test_send(a, hport, "still", 5);
    pump(ns, 1);
    assert_int_equal(captured.n, 1);
    parse_udp(0, &s);
    assert_memory_equal(s.data, "still", 5);
    assert_int_equal(open_flow(ns, 40000, a, pa), hport);
    restore_fds();
    open_flow(ns, 40001, a, pa);                    /* and new flows work again */
    close(a);
    stack_done(ns);
}

/* ICMP ------------------------------------------------------------------ */

/**
 * guest_ping() - the guest pings @dst with identifier @id, sequence @seq, @len data bytes.
 */
static void guest_ping(struct netstack *ns, uint32_t dst, uint16_t id, uint16_t seq, size_t len)
{
    static uint8_t icmp[1480], f[1514];

    netstack_input(ns, f, ipv4_frame(f, GUEST, dst, IPPROTO_ICMP, seq, 0, icmp,
                                     icmp_echo(icmp, id, seq, len)));
}

static void echo_to_nowhere_is_counted(void **state)
{
    struct netstack *ns = stack_cfg(0, 0, 0);
    int fds = open_fds();

    guest_ping(ns, IP(192, 168, 65, 7), 1, 1, 8);
    guest_ping(ns, IP(192, 168, 65, 255), 1, 2, 8);
    guest_ping(ns, IP(127, 0, 0, 1), 1, 3, 8);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_icmp_destination), 3);
    guest_ping(ns, ALIAS, 1, 4, 8);                 /* answered by the stack itself */
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp_echo_replies), 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp_echo_forwarded), 0);
    assert_int_equal(open_fds(), fds);
    stack_done(ns);
}

/**
 * raw_reply() - an IPv4 echo reply from @src as a raw socket delivers it; returns its length.
 */
static size_t raw_reply(uint8_t *p, uint32_t src, uint16_t id, uint16_t seq, size_t len)
{
    size_t n = icmp_echo(p + 20, id, seq, len);

    p[20] = 0;
    put16(p + 22, 0);
    put16(p + 22, ns_csum(p + 20, n));
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)(20 + n));
    p[8] = 57;
    p[9] = IPPROTO_ICMP;
    put32(p + 12, src);
    put32(p + 16, GUEST);
    put16(p + 10, ns_csum(p, 20));
    return 20 + n;
}

static void raw_reply_parser_checks_everything(void **state)
{
    uint8_t p[128];
    size_t len = raw_reply(p, IP(198, 18, 0, 1), 0x1234, 7, 16), cut;
    struct ns_reader msg;
    uint32_t src = 0;
    const uint8_t *g;

    g = guarded(p, len);
    assert_int_equal(ns_icmp_nat_parse_raw(g, len, &src, &msg), 0);
    assert_int_equal(src, IP(198, 18, 0, 1));
    assert_int_equal(msg.len, 8 + 16);
    assert_int_equal(get16(msg.data + 4), 0x1234);
    unguard();
    for (cut = 0; cut < len; cut++) {               /* every truncation, read up to the edge */
        g = guarded(p, cut);
        assert_int_equal(ns_icmp_nat_parse_raw(g, cut, &src, &msg), -1);
        unguard();
    }
    p[20 + 8] ^= 1;                                 /* bad ICMP checksum */
    assert_int_equal(ns_icmp_nat_parse_raw(p, len, &src, &msg), -1);
    len = raw_reply(p, IP(198, 18, 0, 1), 0x1234, 7, 16);
    p[20] = 8;                                      /* a request, not a reply */
    assert_int_equal(ns_icmp_nat_parse_raw(p, len, &src, &msg), -1);
    len = raw_reply(p, IP(198, 18, 0, 1), 0x1234, 7, 16);
    put16(p + 6, 0x2000);                           /* a fragment */
    put16(p + 10, 0);
    put16(p + 10, ns_csum(p, 20));
    assert_int_equal(ns_icmp_nat_parse_raw(p, len, &src, &msg), -1);
    len = raw_reply(p, IP(198, 18, 0, 1), 0x1234, 7, 0);
    assert_int_equal(ns_icmp_nat_parse_raw(p, len, &src, &msg), 0);   /* no data: fine */
}

/*
 * The ICMP tests below run in a child inside a new network namespace whose
 * only device is its loopback, given 198.18.0.1 (RFC 2544 benchmarking
 * space): pings to it are forwarded by the NAT yet cannot leave the namespace.
 * A child reports failure by exiting with the failing line.
 */
#define CHILD_CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
            _exit(1); \
        } \
    } while (0)
#define NETNS_ADDR IP(198, 18, 0, 1)

/**
 * netns_setup() - a private namespace with lo up and NETNS_ADDR on it. Return: 0, -1.
 */
static int netns_setup(void)
{
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    int s, rc = -1;

    if (unshare(CLONE_NEWNET))
        return -1;
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr))
        goto out;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr))
        goto out;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo:1");
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(NETNS_ADDR);
    rc = ioctl(s, SIOCSIFADDR, &ifr);
out:
    close(s);
    return rc;
}

/**
 * set_ping_range() - this namespace's net.ipv4.ping_group_range.
 */
static void set_ping_range(const char *range)
{
    int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);

    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(write(fd, range, strlen(range)) == (ssize_t)strlen(range));
    close(fd);
}

/**
 * drop_net_raw() - give up CAP_NET_RAW: no raw sockets from here on.
 */
static void drop_net_raw(void)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct d[2];

    CHILD_CHECK(syscall(SYS_capget, &h, d) == 0);
    d[0].effective &= ~(1u << CAP_NET_RAW);
    d[0].permitted &= ~(1u << CAP_NET_RAW);
    CHILD_CHECK(syscall(SYS_capset, &h, d) == 0);
}

/**
 * child_reply_ok() - captured frame @i is the echo reply to (@id, @seq, @len) from @src.
 */
static int child_reply_ok(size_t i, uint32_t src, uint16_t id, uint16_t seq, size_t len)
{
    const uint8_t *h = captured.frame[i] + 14, *m = h + 20;
    uint8_t want[1480];

    icmp_echo(want, id, seq, len);
    return captured.len[i] == 14 + 20 + 8 + len && h[9] == IPPROTO_ICMP &&
           get32(h + 12) == src && get32(h + 16) == GUEST && m[0] == 0 && m[1] == 0 &&
           get16(m + 4) == id && get16(m + 6) == seq && ns_csum(m, 8 + len) == 0 &&
           !memcmp(m + 8, want + 8, len);
}

/**
 * child_pump() - like pump(), without cmocka (we are in a forked child).
 */
static void child_pump(struct netstack *ns, size_t frames)
{
    struct pollfd p = { .fd = netstack_fd(ns), .events = POLLIN };
    int waited = 0;

    while (captured.n < frames && waited < WAIT_MS) {
        poll(&p, 1, 10);
        waited += 10;
        CHILD_CHECK(netstack_dispatch(ns) == 0);
    }
}

static int child_sock_type;     /* SOCK_DGRAM or SOCK_RAW: what child_echo() expects */
static int child_warnings;      /* warnings that name ping_group_range */

/**
 * child_log() - count the warnings about ping_group_range.
 */
static void child_log(void *opaque, enum netstack_log_level l, const char *msg)
{
    (void)opaque;
    if (l == NETSTACK_LOG_WARN && strstr(msg, "ping_group_range"))
        child_warnings++;
}

/**
 * icmp_sockets() - how many open ICMP sockets of @type the process has.
 */
static int icmp_sockets(int type)
{
    int fd, n = 0, t, proto;
    socklen_t len;

    for (fd = 0; fd <= highest_fd(); fd++) {
        len = sizeof(t);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len))
            continue;
        len = sizeof(proto);
        if (!getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) && proto == IPPROTO_ICMP &&
            t == type)
            n++;
    }
    return n;
}

/**
 * child_stack() - a capturing stack (no cmocka asserts: we are in a forked child).
 */
static struct netstack *child_stack(uint32_t max_icmp)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = child_log;
    c.max_icmp_flows = max_icmp;
    CHILD_CHECK(netstack_new(&c, &ns) == 0);
    return ns;
}

/**
 * child_echo() - pings through whichever socket kind the namespace allows.
 */
static void child_echo(void)
{
    struct netstack *ns = child_stack(2);
    int fds = open_fds();

    guest_ping(ns, NETNS_ADDR, 0x1234, 1, 56);
    guest_ping(ns, NETNS_ADDR, 0x5678, 9, 1000);   /* another flow */
    child_pump(ns, 2);
    CHILD_CHECK(captured.n == 2);
    /* Each flow gets its own reply, once, whatever the socket kind. */
    CHILD_CHECK((child_reply_ok(0, NETNS_ADDR, 0x1234, 1, 56) &&
                 child_reply_ok(1, NETNS_ADDR, 0x5678, 9, 1000)) ||
                (child_reply_ok(1, NETNS_ADDR, 0x1234, 1, 56) &&
                 child_reply_ok(0, NETNS_ADDR, 0x5678, 9, 1000)));
    guest_ping(ns, NETNS_ADDR, 0x1234, 2, 56);      /* the same flow again */
    child_pump(ns, 3);
    CHILD_CHECK(captured.n == 3 && child_reply_ok(2, NETNS_ADDR, 0x1234, 2, 56));
    CHILD_CHECK(counter(ns, NETSTACK_STAT_icmp_echo_forwarded) == 3);
    CHILD_CHECK(counter(ns, NETSTACK_STAT_icmp_echo_replies_forwarded) == 3);
    CHILD_CHECK(open_fds() == fds + 2);
    CHILD_CHECK(icmp_sockets(child_sock_type) == 2);
    guest_ping(ns, NETNS_ADDR, 0x9abc, 1, 8);       /* a third flow evicts 0x5678 */
    CHILD_CHECK(counter(ns, NETSTACK_STAT_icmp_flows_evicted) == 1);
    CHILD_CHECK(open_fds() == fds + 2);
    child_pump(ns, 4);
    CHILD_CHECK(captured.n == 4 && child_reply_ok(3, NETNS_ADDR, 0x9abc, 1, 8));
    ns_icmp_nat_timers(ns, ns_now_ms() + 31000);
    CHILD_CHECK(counter(ns, NETSTACK_STAT_icmp_flows_expired) == 2);
    CHILD_CHECK(open_fds() == fds);
    netstack_free(ns);
    capture_reset();
}

/**
 * child_backpressure() - replies wait in the kernel while the transport is full.
 */
static void child_backpressure(void)
{
    struct netstack *ns = child_stack(0);
    int fds = open_fds(), i;

    captured.accept = 0;
    guest_ping(ns, NETNS_ADDR, 0x1234, 1, 8);
    for (i = 0; i < 200 && !counter(ns, NETSTACK_STAT_icmp_echo_replies_forwarded); i++) {
        usleep(10 * 1000);                          /* read and queued; the flush pushed back */
        netstack_dispatch(ns);
    }
    CHILD_CHECK(counter(ns, NETSTACK_STAT_icmp_echo_replies_forwarded) == 1);
    guest_ping(ns, NETNS_ADDR, 0x1234, 2, 8);
    guest_ping(ns, NETNS_ADDR, 0x1234, 3, 8);
    for (i = 0; i < 20; i++) {
        usleep(1000);
        netstack_dispatch(ns);
    }
    CHILD_CHECK(captured.n == 0);
    CHILD_CHECK(counter(ns, NETSTACK_STAT_icmp_echo_replies_forwarded) == 1);
    captured.accept = -1;
    netstack_output_ready(ns);
    child_pump(ns, 3);
    CHILD_CHECK(captured.n == 3);
    for (i = 0; i < 3; i++)
        CHILD_CHECK(child_reply_ok((size_t)i, NETNS_ADDR, 0x1234, (uint16_t)(i + 1), 8));
    netstack_link_down(ns);
    CHILD_CHECK(open_fds() == fds);
    netstack_free(ns);
    capture_reset();
}

/**
 * child_refused() - neither ping nor raw sockets: counted, and the gateway still answers.
 */
static void child_refused(void)
{
    struct netstack *ns = child_stack(0);

    drop_net_raw();
    guest_ping(ns, NETNS_ADDR, 0x1234, 1, 8);
    guest_ping(ns, NETNS_ADDR, 0x1234, 2, 8);
    CHILD_CHECK(counter(ns, NETSTACK_STAT_drop_icmp_refused) == 2);
    CHILD_CHECK(child_warnings == 1);
    CHILD_CHECK(counter(ns, NETSTACK_STAT_icmp_echo_forwarded) == 0);
    guest_ping(ns, GW, 0x1234, 3, 8);
    CHILD_CHECK(captured.n == 1 && child_reply_ok(0, GW, 0x1234, 3, 8));
    netstack_free(ns);
    capture_reset();
}

/**
 * in_netns() - run @fn in a forked child in a private network namespace
 * with ping sockets allowed for @range ("1 0": for nobody). Skips without root.
 */
static void in_netns(void (*fn)(void), const char *range, int type)
{
    int status;
    pid_t pid;

    child_sock_type = type;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (netns_setup())
            _exit(77);
        set_ping_range(range);
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void echo_through_ping_sockets(void **state)
{
    in_netns(child_echo, "0 2147483647", SOCK_DGRAM);
}

static void echo_through_raw_sockets(void **state)
{
    in_netns(child_echo, "1 0", SOCK_RAW);     /* ping sockets refused; root may open raw */
}

static void echo_backpressure(void **state)
{
    in_netns(child_backpressure, "0 2147483647", SOCK_DGRAM);
}

static void echo_refused_is_counted(void **state)
{
    in_netns(child_refused, "1 0", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datagram_out_reply_back_full_cone),
        cmocka_unit_test(mapping_is_endpoint_independent),
        cmocka_unit_test(port_preserved_and_hairpinning),
        cmocka_unit_test(large_reply_is_fragmented_to_the_mtu),
        cmocka_unit_test(largest_datagram_reaches_the_guest),
        cmocka_unit_test(least_recently_used_flow_is_evicted),
        cmocka_unit_test(idle_flows_expire),
        cmocka_unit_test(idle_flows_expire_from_the_loop),
        cmocka_unit_test(broadcast_and_subnet_are_never_sent),
        cmocka_unit_test(backpressure_leaves_datagrams_unread),
        cmocka_unit_test(link_down_closes_every_socket),
        cmocka_unit_test(running_out_of_descriptors_is_counted),
        cmocka_unit_test(at_the_limit_a_flow_evicts_before_it_opens),
        cmocka_unit_test(echo_to_nowhere_is_counted),
        cmocka_unit_test(raw_reply_parser_checks_everything),
        cmocka_unit_test(echo_through_ping_sockets),
        cmocka_unit_test(echo_through_raw_sockets),
        cmocka_unit_test(echo_backpressure),
        cmocka_unit_test(echo_refused_is_counted),
    };

    return cmocka_run_group_tests_name("udp_nat", tests, NULL, NULL);
}
