/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_slirp.c - libslirp's API on netstack (slirp/), called as QEMU and
 * slirp4netns call it: config versions and what is refused, QEMU's
 * addressing in a DHCP offer and ARP, the embedder's timer and poll set,
 * host forwards and the connection table, the calls that are not implemented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libslirp.h>

#define MAX_FRAMES 16

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t slirp_gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

/* The embedder's side: frames sent, the one timer, the handle it was told of. */
static struct {
    uint8_t frame[MAX_FRAMES][2048];
    size_t len[MAX_FRAMES];
    size_t n;
    Slirp *completed;
    int timers, timer_id, timer_mods;
    int64_t timer_due;
    int polled_fd, polled_events, polls;
} emb;

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
    (void)opaque;
    if (emb.n < MAX_FRAMES && len <= sizeof(emb.frame[0])) {
        memcpy(emb.frame[emb.n], buf, len);
        emb.len[emb.n++] = len;
    }
    return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
    (void)msg, (void)opaque;
}

static int64_t clock_get_ns(void *opaque)
{
    struct timespec ts;

    (void)opaque;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void init_completed(Slirp *s, void *opaque)
{
    (void)opaque;
    emb.completed = s;
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    (void)cb_opaque, (void)opaque;
    emb.timers++;
    emb.timer_id = (int)id;
    return &emb;
}

static void timer_free(void *timer, void *opaque)
{
    (void)timer, (void)opaque;
    emb.timers--;
}

static void timer_mod(void *timer, int64_t expire, void *opaque)
{
    (void)timer, (void)opaque;
    emb.timer_mods++;
    emb.timer_due = expire;
}

static const SlirpCb callbacks = {
    .send_packet = send_packet, .guest_error = guest_error, .clock_get_ns = clock_get_ns,
    .timer_free = timer_free, .timer_mod = timer_mod,
    .init_completed = init_completed, .timer_new_opaque = timer_new_opaque,
};

/* QEMU's defaults for -netdev user (net/slirp.c), config version 4. */
static SlirpConfig qemu_config(void)
{
    SlirpConfig c = { .version = 4, .in_enabled = true };

    inet_pton(AF_INET, "10.0.2.0", &c.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &c.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &c.vhost);
    inet_pton(AF_INET, "10.0.2.15", &c.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &c.vnameserver);
    c.in6_enabled = true;
    inet_pton(AF_INET6, "fec0::", &c.vprefix_addr6);
    c.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &c.vhost6);
    inet_pton(AF_INET6, "fec0::3", &c.vnameserver6);
    return c;
}

static Slirp *live;     /* the test's handle, freed by teardown if an assert left it */

static Slirp *start(const SlirpConfig *c)
{
    memset(&emb, 0, sizeof(emb));
    return live = slirp_new(c, &callbacks, NULL);
}

/**
 * done() - the end of a handle the test is finished with.
 */
static void done(Slirp *s)
{
    slirp_cleanup(s);
    live = NULL;
}

static int teardown(void **state)
{
    (void)state;
    if (live)
        done(live);
    return 0;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* A DHCPDISCOVER from guest_mac, broadcast, as udhcpc sends it. */
static size_t discover(uint8_t *f)
{
    uint8_t *ip = f + 14, *udp = ip + 20, *b = udp + 8;
    size_t blen = 240 + 4, i;
    uint32_t sum = 0;

    memset(f, 0, 14 + 20 + 8 + blen);
    memset(f, 0xff, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 8 + blen));
    ip[8] = 64;
    ip[9] = 17;
    memset(ip + 16, 0xff, 4);
    for (i = 0; i < 20; i += 2)
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(ip + 10, (uint16_t)~sum);
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, (uint16_t)(8 + blen));
    b[0] = 1;
    b[1] = 1;
    b[2] = 6;
    memcpy(b + 4, "\x12\x34\x56\x78", 4);
    memcpy(b + 28, guest_mac, 6);
    memcpy(b + 236, "\x63\x82\x53\x63", 4);
    memcpy(b + 240, "\x35\x01\x01\xff", 4);     /* message type DISCOVER, end */
    return 14 + 20 + 8 + blen;
}

/* An IPv6 packet with no payload (next header 59) from the guest's link-local address. */
static size_t ipv6_hello(uint8_t *f)
{
    static const uint8_t src[16] = { 0xfe, 0x80, [8] = 0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56 };
    static const uint8_t dst[16] = { 0xfe, 0xc0, [15] = 2 };

    memcpy(f, slirp_gw_mac, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, 0x86dd);
    memset(f + 14, 0, 40);
    f[14] = 0x60;
    f[14 + 6] = 59;
    f[14 + 7] = 64;
    memcpy(f + 14 + 8, src, 16);
    memcpy(f + 14 + 24, dst, 16);
    return 14 + 40;
}

/* An ARP request from the guest (10.0.2.15) for @tpa. */
static size_t arp_request(uint8_t *f, const char *tpa)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, 0x0806);
    memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
    memcpy(f + 22, guest_mac, 6);
    memcpy(f + 28, "\x0a\x00\x02\x0f", 4);
    memset(f + 32, 0, 6);
    inet_pton(AF_INET, tpa, f + 38);
    return 42;
}

/* The value of DHCP option @code in the reply @f, or NULL. */
static const uint8_t *dhcp_option(const uint8_t *f, size_t len, uint8_t code, uint8_t *olen)
{
    size_t i = 14 + 20 + 8 + 240;

    while (i + 2 <= len && f[i] != 255) {
        if (f[i] == 0) {
            i++;
            continue;
        }
        if (f[i] == code) {
            *olen = f[i + 1];
            return f + i + 2;
        }
        i += 2 + f[i + 1];
    }
    return NULL;
}

/* The DHCP reply among the frames sent, or -1. */
static int find_dhcp_reply(void)
{
    size_t i;

    for (i = 0; i < emb.n; i++)
        if (emb.len[i] > 14 + 20 + 8 + 240 && emb.frame[i][12] == 0x08 && emb.frame[i][23] == 17 &&
            emb.frame[i][14 + 20 + 3] == 68)
            return (int)i;
    return -1;
}

static void test_refused_configs(void **state)
{
    SlirpConfig c = qemu_config();

    (void)state;
    c.version = 0;
    assert_null(start(&c));
    c.version = SLIRP_CONFIG_VERSION_MAX + 1;
    assert_null(start(&c));
    c = qemu_config();
    c.tftp_path = "/srv/tftp";
    assert_null(start(&c));
    c = qemu_config();
    c.bootfile = "pxelinux.0";
    assert_null(start(&c));
    c = qemu_config();
    c.enable_emu = true;
    assert_null(start(&c));
    c = qemu_config();
    c.vprefix_len = 48;
    assert_null(start(&c));
    c = qemu_config();
    inet_pton(AF_INET, "255.0.255.0", &c.vnetmask);
    assert_null(start(&c));
    assert_null(emb.completed);
}

static void test_qemu_addressing(void **state)
{
    SlirpConfig c = qemu_config();
    uint8_t f[600], olen = 0;
    const uint8_t *o;
    Slirp *s, *second;
    int r;

    (void)state;
    c.vhostname = "vm1";
    s = start(&c);
    assert_non_null(s);
    assert_ptr_equal(emb.completed, s);
    assert_int_equal(emb.timers, 1);
    assert_int_equal(emb.timer_id, SLIRP_TIMER_RA);
    second = slirp_new(&c, &callbacks, NULL);     /* lwIP is global: one per process */
    assert_null(second);

    slirp_input(s, f, (int)discover(f));
    r = find_dhcp_reply();
    assert_true(r >= 0);
    assert_memory_equal(emb.frame[r] + 6, slirp_gw_mac, 6);
    assert_memory_equal(emb.frame[r] + 14 + 20 + 8 + 16, "\x0a\x00\x02\x0f", 4);   /* yiaddr */
    o = dhcp_option(emb.frame[r], emb.len[r], 3, &olen);
    assert_non_null(o);
    assert_memory_equal(o, "\x0a\x00\x02\x02", 4);
    o = dhcp_option(emb.frame[r], emb.len[r], 6, &olen);
    assert_non_null(o);
    assert_memory_equal(o, "\x0a\x00\x02\x03", 4);
    o = dhcp_option(emb.frame[r], emb.len[r], 12, &olen);
    assert_non_null(o);
    assert_int_equal(olen, 3);
    assert_memory_equal(o, "vm1", 3);
    o = dhcp_option(emb.frame[r], emb.len[r], 1, &olen);
    assert_memory_equal(o, "\xff\xff\xff\x00", 4);

    /* The DNS server's own address answers ARP, with the gateway's MAC. */
    emb.n = 0;
    slirp_input(s, f, (int)arp_request(f, "10.0.2.3"));
    assert_int_equal(emb.n, 1);
    assert_int_equal(emb.frame[0][21], 2);                      /* a reply */
    assert_memory_equal(emb.frame[0] + 22, slirp_gw_mac, 6);
    assert_memory_equal(emb.frame[0] + 28, "\x0a\x00\x02\x03", 4);
    done(s);
    assert_int_equal(emb.timers, 0);
}

static void test_disabled_services(void **state)
{
    SlirpConfig c = qemu_config();
    uint8_t f[600], olen;
    Slirp *s;
    int r;

    (void)state;
    c.disable_dns = true;
    s = start(&c);
    assert_non_null(s);
    slirp_input(s, f, (int)discover(f));
    r = find_dhcp_reply();
    assert_true(r >= 0);
    assert_null(dhcp_option(emb.frame[r], emb.len[r], 6, &olen));   /* no DNS server named */
    done(s);

    c = qemu_config();
    c.disable_dhcp = true;
    s = start(&c);
    slirp_input(s, f, (int)discover(f));
    assert_int_equal(find_dhcp_reply(), -1);
    done(s);

    c = qemu_config();
    c.version = 3;          /* a version-3 caller: its disable_dhcp is not read */
    c.disable_dhcp = true;
    s = start(&c);
    slirp_input(s, f, (int)discover(f));
    assert_true(find_dhcp_reply() >= 0);
    done(s);
}

static int add_poll(int fd, int events, void *opaque)
{
    (void)opaque;
    emb.polled_fd = fd;
    emb.polled_events = events;
    return emb.polls++;
}

static int get_revents(int idx, void *opaque)
{
    (void)idx, (void)opaque;
    return 0;
}

static void test_poll_and_timer(void **state)
{
    SlirpConfig c = qemu_config();
    uint32_t timeout = UINT32_MAX;
    uint8_t f[600];
    Slirp *s;

    (void)state;
    char *n;

    s = start(&c);
    slirp_pollfds_fill(s, &timeout, add_poll, NULL);
    assert_int_equal(emb.polls, 1);
    assert_true(emb.polled_fd >= 0);
    assert_int_equal(emb.polled_events, SLIRP_POLL_IN);
    assert_int_equal(timeout, UINT32_MAX);      /* nothing due yet */
    assert_int_equal(emb.timer_mods, 0);
    slirp_pollfds_poll(s, 0, get_revents, NULL);

    /* A guest speaking IPv6: router advertisements are due, the timer is set. */
    slirp_input(s, f, (int)ipv6_hello(f));
    slirp_pollfds_fill(s, &timeout, add_poll, NULL);
    assert_true(timeout < UINT32_MAX);
    assert_int_equal(emb.timer_mods, 1);
    assert_true(emb.timer_due >= clock_get_ns(NULL) / 1000000);
    slirp_pollfds_fill(s, &timeout, add_poll, NULL);
    assert_int_equal(emb.timer_mods, 1);        /* the same deadline: not set again */
    slirp_handle_timer(s, SLIRP_TIMER_RA, NULL);
    n = slirp_neighbor_info(s);
    assert_non_null(strstr(n, "NDP       52:54:00:12:34:56  fe80::5054:ff:fe12:3456"));
    free(n);
    done(s);
}

/* A free TCP port on 127.0.0.1. */
static int free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_hostfwd(void **state)
{
    SlirpConfig c = qemu_config();
    struct in_addr lo, any = { 0 }, guest;
    struct sockaddr_in6 h6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
    struct sockaddr_in g4 = { .sin_family = AF_INET, .sin_port = htons(80) };
    int port = free_port(), port6 = free_port();
    char *info, row[128];
    Slirp *s;

    (void)state;
    inet_pton(AF_INET, "127.0.0.1", &lo);
    inet_pton(AF_INET, "10.0.2.15", &guest);
    s = start(&c);
    assert_int_equal(slirp_add_hostfwd(s, 0, lo, port, any, 22), 0);
    assert_int_equal(slirp_add_hostfwd(s, 0, lo, port, any, 22), -1);    /* in use */
    info = slirp_connection_info(s);
    assert_non_null(info);
    assert_non_null(strstr(info, "netstack"));
    snprintf(row, sizeof(row), "127.0.0.1 %5d       10.0.2.15    22", port);
    assert_non_null(strstr(info, row));     /* the guest defaults to the first lease */
    free(info);
    assert_int_equal(slirp_remove_hostfwd(s, 0, lo, port), 0);
    assert_int_equal(slirp_remove_hostfwd(s, 0, lo, port), -1);

    /* [::] without V6ONLY takes IPv4 clients too: both families bound. */
    h6.sin6_port = htons((uint16_t)port6);
    assert_int_equal(slirp_add_hostxfwd(s, (struct sockaddr *)&h6, sizeof(h6),
                                        (struct sockaddr *)&g4, sizeof(g4), 0), 0);
    assert_int_equal(slirp_add_hostfwd(s, 0, any, port6, guest, 80), -1);
    assert_int_equal(slirp_remove_hostxfwd(s, (struct sockaddr *)&h6, sizeof(h6), 0), 0);
    assert_int_equal(slirp_add_hostfwd(s, 0, any, port6, guest, 80), 0);  /* both released */
    assert_int_equal(slirp_add_hostxfwd(s, (struct sockaddr *)&h6, 4, (struct sockaddr *)&g4,
                                        sizeof(g4), 0), -1);              /* short address */
    done(s);
}

static void test_not_implemented(void **state)
{
    SlirpConfig c = qemu_config();
    struct in_addr guest;
    Slirp *s;
    char *n;

    (void)state;
    inet_pton(AF_INET, "10.0.2.100", &guest);
    s = start(&c);
    assert_int_equal(slirp_add_exec(s, "/bin/true", &guest, 4321), -1);
    assert_int_equal(slirp_add_unix(s, "/tmp/x.sock", &guest, 4321), -1);
    assert_int_equal(slirp_add_guestfwd(s, NULL, NULL, &guest, 4321), -1);
    assert_int_equal(slirp_remove_guestfwd(s, guest, 4321), -1);
    assert_int_equal(slirp_socket_can_recv(s, guest, 4321), 0);
    assert_int_equal(slirp_state_load(s, slirp_state_version(), NULL, NULL), -1);
    assert_non_null(strstr(slirp_version_string(), "netstack"));
    n = slirp_neighbor_info(s);
    assert_non_null(n);
    free(n);
    done(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_refused_configs, teardown),
        cmocka_unit_test_teardown(test_qemu_addressing, teardown),
        cmocka_unit_test_teardown(test_disabled_services, teardown),
        cmocka_unit_test_teardown(test_poll_and_timer, teardown),
        cmocka_unit_test_teardown(test_hostfwd, teardown),
        cmocka_unit_test_teardown(test_not_implemented, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
