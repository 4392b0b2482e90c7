/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dhcp.c - unit tests for the DHCP server (netstack/dhcp.c)
 *
 * Client messages are built byte by byte here, the way a client puts them on
 * the wire, and every message handed to the server is copied to the very end
 * of a readable page followed by an unreadable one, so that reading one byte
 * past the message faults. Replies are parsed back by the small independent
 * parser below and checked field by field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "netstack/dhcp.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
                        (uint32_t)(c) << 8 | (uint32_t)(d))
#define NET(x)          IP(192, 168, 65, x)

#define DISCOVER    1
#define OFFER       2
#define REQUEST     3
#define DECLINE     4
#define ACK         5
#define NAK         6
#define RELEASE     7
#define INFORM      8

/* BOOTP field offsets, RFC 2131 section 2 */
#define OFF_FLAGS   10
#define OFF_CIADDR  12
#define OFF_YIADDR  16
#define OFF_SIADDR  20
#define OFF_GIADDR  24
#define OFF_CHADDR  28
#define OFF_SNAME   44
#define OFF_FILE    108
#define OFF_COOKIE  236
#define OFF_OPTIONS 240

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint8_t mac_c[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const struct ns_dhcp_config default_cfg = {
    .subnet = NET(0),
    .netmask = IP(255, 255, 255, 0),
    .server = NET(1),
    .dns = NET(1),
    .first = NET(2),
    .last = NET(254),
    .reserved = { NET(254) },
    .lease_seconds = 3600,
    .mtu = 65520,
    .domain_name = "internal",
    .search = "internal example.com.",
};

/* --- Test state: server, guard page, last reply --------------------------- */

struct t {
    struct ns_dhcp *d;
    uint8_t *guard;         /* two pages, the second one PROT_NONE */
    size_t page;
    uint8_t reply[576];
    size_t reply_len;
    struct ns_dhcp_dest dest;
};

static int setup_cfg(void **state, const struct ns_dhcp_config *cfg)
{
    struct t *t = calloc(1, sizeof(*t));

    if (!t)
        return -1;
    t->page = (size_t)sysconf(_SC_PAGESIZE);
    t->guard = mmap(NULL, 2 * t->page, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t->guard == MAP_FAILED ||
        mprotect(t->guard + t->page, t->page, PROT_NONE)) {
        free(t);
        return -1;
    }
    t->d = ns_dhcp_new(cfg);
    if (!t->d) {
        munmap(t->guard, 2 * t->page);
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int setup(void **state)
{
    return setup_cfg(state, &default_cfg);
}

/* .2 to .4 with .3 reserved: two addresses */
static int setup_tiny(void **state)
{
    struct ns_dhcp_config cfg = default_cfg;

    cfg.last = NET(4);
    cfg.reserved[0] = NET(3);
    return setup_cfg(state, &cfg);
}

/* no domain name, search list or MTU */
static int setup_plain(void **state)
{
    struct ns_dhcp_config cfg = default_cfg;

    cfg.domain_name = "";
    cfg.search = NULL;
    cfg.mtu = 0;
    return setup_cfg(state, &cfg);
}

/* 40 search names of 17 bytes: far more than a 548-byte reply can carry */
static int setup_long_search(void **state)
{
    struct ns_dhcp_config cfg = default_cfg;
    static char list[2048];
    size_t off = 0;
    int i;

    for (i = 0; i < 40; i++)
        off += (size_t)snprintf(list + off, sizeof(list) - off,
                                "%sd%02d.example.org", i ? " \t " : "", i);
    cfg.search = list;
    cfg.domain_name = "example.org.";
    return setup_cfg(state, &cfg);
}

/* a /8 with everything in range: more than the table takes */
static int setup_big(void **state)
{
    static const struct ns_dhcp_config cfg = {
        .subnet = IP(10, 0, 0, 0),
        .netmask = IP(255, 0, 0, 0),
        .server = IP(10, 0, 0, 1),
        .dns = IP(10, 0, 0, 1),
        .first = IP(10, 0, 0, 0),
        .last = IP(10, 255, 255, 255),
        .lease_seconds = 60,
    };

    return setup_cfg(state, &cfg);
}

static int teardown(void **state)
{
    struct t *t = *state;

    ns_dhcp_free(t->d);
    munmap(t->guard, 2 * t->page);
    free(t);
    return 0;
}

/* --- Message builder ------------------------------------------------------ */

struct msg {
    uint8_t b[1024];
    size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/**
 * msg_opt() - append an option
 */
static void msg_opt(struct msg *m, uint8_t code, const void *v, uint8_t len)
{
    m->b[m->len++] = code;
    m->b[m->len++] = len;
    memcpy(m->b + m->len, v, len);
    m->len += len;
}

static void msg_opt_ip(struct msg *m, uint8_t code, uint32_t ip)
{
    uint8_t v[4];

    put32(v, ip);
    msg_opt(m, code, v, 4);
}

/**
 * msg_start() - BOOTREQUEST header, cookie, and option 53 unless @type is 0
 */
static void msg_start(struct msg *m, uint8_t type, const uint8_t mac[6], uint32_t xid)
{
    memset(m, 0, sizeof(*m));
    m->b[0] = 1;                    /* op: BOOTREQUEST */
    m->b[1] = 1;                    /* htype: Ethernet */
    m->b[2] = 6;                    /* hlen */
    put32(m->b + 4, xid);
    memcpy(m->b + OFF_CHADDR, mac, 6);
    put32(m->b + OFF_COOKIE, 0x63825363);
    m->len = OFF_OPTIONS;
    if (type)
        msg_opt(m, 53, &type, 1);
}

static void msg_end(struct msg *m)
{
    m->b[m->len++] = 255;
}

/* A parameter request list as udhcpc sends it, to make messages realistic */
static void msg_prl(struct msg *m)
{
    static const uint8_t prl[] = { 1, 3, 6, 12, 15, 26, 28, 42, 51, 58, 59, 119 };

    msg_opt(m, 55, prl, sizeof(prl));
}

static void build_discover(struct msg *m, const uint8_t mac[6], uint32_t req_ip)
{
    msg_start(m, DISCOVER, mac, 0x11223344);
    if (req_ip)
        msg_opt_ip(m, 50, req_ip);
    msg_prl(m);
    msg_end(m);
}

/**
 * build_request() - REQUEST; 0 leaves an address or the server id out
 */
static void build_request(struct msg *m, const uint8_t mac[6], uint32_t server,
                          uint32_t req_ip, uint32_t ciaddr)
{
    msg_start(m, REQUEST, mac, 0x55667788);
    put32(m->b + OFF_CIADDR, ciaddr);
    if (server)
        msg_opt_ip(m, 54, server);
    if (req_ip)
        msg_opt_ip(m, 50, req_ip);
    msg_prl(m);
    msg_end(m);
}

/* --- Running the server, parsing replies ----------------------------------- */

/**
 * run() - hand @len bytes to the server, placed right before the guard page
 */
static enum ns_dhcp_result run(struct t *t, const uint8_t *msg, size_t len, uint64_t now)
{
    uint8_t *p = t->guard + t->page - len;

    assert_true(len <= t->page);
    memcpy(p, msg, len);
    memset(t->reply, 0xa5, sizeof(t->reply));
    t->reply_len = 0;
    return ns_dhcp_handle(t->d, p, len, now, t->reply, sizeof(t->reply),
                          &t->reply_len, &t->dest);
}

static enum ns_dhcp_result run_msg(struct t *t, const struct msg *m, uint64_t now)
{
    return run(t, m->b, m->len, now);
}

struct reply {
    uint32_t xid, ciaddr, yiaddr, siaddr, giaddr;
    uint16_t flags;
    uint8_t chaddr[16];
    int have[256];
    uint8_t optlen[256];
    const uint8_t *opt[256];
};

/**
 * parse_reply() - check the reply's structure and index its options: BOOTREPLY,
 * Ethernet, cookie, at least 300 bytes, options well formed, each at most
 * once, an end option, only zero padding after it.
 */
static void parse_reply(const struct t *t, struct reply *r)
{
    const uint8_t *b = t->reply;
    size_t len = t->reply_len, off = OFF_OPTIONS;

    memset(r, 0, sizeof(*r));
    assert_in_range(len, 300, 548);
    assert_int_equal(b[0], 2);
    assert_int_equal(b[1], 1);
    assert_int_equal(b[2], 6);
    assert_int_equal(b[3], 0);
    r->xid = get32(b + 4);
    r->flags = (uint16_t)(b[OFF_FLAGS] << 8 | b[OFF_FLAGS + 1]);
    r->ciaddr = get32(b + OFF_CIADDR);
    r->yiaddr = get32(b + OFF_YIADDR);
    r->siaddr = get32(b + OFF_SIADDR);
    r->giaddr = get32(b + OFF_GIADDR);
    memcpy(r->chaddr, b + OFF_CHADDR, 16);
    assert_int_equal(get32(b + OFF_COOKIE), 0x63825363);

    for (;;) {
        uint8_t code;

        assert_true(off < len);
        code = b[off++];
        if (code == 255)
            break;
        assert_int_not_equal(code, 0);      /* the server writes no pad */
        assert_true(off < len);
        assert_true(b[off] <= len - off - 1);
        assert_false(r->have[code]);
        r->have[code] = 1;
        r->optlen[code] = b[off];
        r->opt[code] = b + off + 1;
        off += 1 + b[off];
    }
    for (; off < len; off++)
        assert_int_equal(b[off], 0);
}

static uint32_t opt32(const struct reply *r, uint8_t code)
{
    assert_true(r->have[code]);
    assert_int_equal(r->optlen[code], 4);
    return get32(r->opt[code]);
}

static uint8_t opt_type(const struct reply *r)
{
    assert_true(r->have[53]);
    assert_int_equal(r->optlen[53], 1);
    return r->opt[53][0];
}

/**
 * discover() - DISCOVER from @mac; Return: the offered address, 0 if none
 */
static uint32_t discover(struct t *t, const uint8_t mac[6], uint32_t req_ip, uint64_t now)
{
    struct reply r;
    struct msg m;

    build_discover(&m, mac, req_ip);
    if (run_msg(t, &m, now) == NS_DHCP_NO_REPLY)
        return 0;
    parse_reply(t, &r);
    assert_int_equal(opt_type(&r), OFFER);
    assert_memory_equal(r.chaddr, mac, 6);
    assert_int_not_equal(r.yiaddr, 0);
    return r.yiaddr;
}

/**
 * request() - REQUEST; Return: the reply's message type, 0 if no reply
 */
static uint8_t request(struct t *t, const uint8_t mac[6], uint32_t server,
                       uint32_t req_ip, uint32_t ciaddr, uint64_t now, struct reply *r)
{
    struct msg m;

    build_request(&m, mac, server, req_ip, ciaddr);
    if (run_msg(t, &m, now) == NS_DHCP_NO_REPLY)
        return 0;
    parse_reply(t, r);
    return opt_type(r);
}

/**
 * lease() - DISCOVER, then REQUEST in SELECTING with the offer's server id
 * Return: the address bound
 */
static uint32_t lease(struct t *t, const uint8_t mac[6], uint64_t now)
{
    uint32_t ip = discover(t, mac, 0, now), server;
    struct reply r;

    assert_int_not_equal(ip, 0);
    parse_reply(t, &r);
    server = opt32(&r, 54);
    assert_int_equal(request(t, mac, server, ip, 0, now, &r), ACK);
    assert_int_equal(r.yiaddr, ip);
    return ip;
}

static void assert_owner(const struct t *t, uint32_t ip, const uint8_t *mac)
{
    uint8_t got[6];

    if (!mac) {
        assert_int_equal(ns_dhcp_owner(t->d, ip, got), 0);
        return;
    }
    assert_int_equal(ns_dhcp_owner(t->d, ip, got), 1);
    assert_memory_equal(got, mac, 6);
}

/* Every option of an OFFER or ACK with the default configuration */
static void assert_config_options(const struct reply *r, int lease_opts)
{
    static const uint8_t search[] = "\x08internal\x00\x07" "example\x03" "com\x00";

    assert_int_equal(opt32(r, 54), NET(1));
    assert_int_equal(opt32(r, 1), IP(255, 255, 255, 0));
    assert_int_equal(opt32(r, 3), NET(1));
    assert_int_equal(opt32(r, 6), NET(1));
    assert_int_equal(opt32(r, 28), NET(255));
    assert_true(r->have[26]);
    assert_int_equal(r->optlen[26], 2);
    assert_int_equal(r->opt[26][0] << 8 | r->opt[26][1], 65520);
    assert_true(r->have[15]);
    assert_int_equal(r->optlen[15], 8);
    assert_memory_equal(r->opt[15], "internal", 8);
    assert_true(r->have[119]);
    assert_int_equal(r->optlen[119], sizeof(search) - 1);
    assert_memory_equal(r->opt[119], search, sizeof(search) - 1);
    if (lease_opts) {
        assert_int_equal(opt32(r, 51), 3600);
        assert_int_equal(opt32(r, 58), 1800);
        assert_int_equal(opt32(r, 59), 3150);
    } else {
        assert_false(r->have[51]);
        assert_false(r->have[58]);
        assert_false(r->have[59]);
    }
}

/* --- Message flows -------------------------------------------------------- */

static void test_discover_request_flow(void **state)
{
    struct t *t = *state;
    struct reply r;
    struct msg m;

    build_discover(&m, mac_a, 0);
    put32(m.b + 4, 0xdeadbeef);
    assert_int_equal(run_msg(t, &m, 100), NS_DHCP_REPLY);
    parse_reply(t, &r);
    assert_int_equal(opt_type(&r), OFFER);
    assert_int_equal(r.xid, 0xdeadbeef);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.ciaddr, 0);
    assert_int_equal(r.yiaddr, NET(2));
    assert_int_equal(r.siaddr, 0);
    assert_int_equal(r.giaddr, 0);
    assert_memory_equal(r.chaddr, m.b + OFF_CHADDR, 16);
    assert_config_options(&r, 1);
    assert_int_equal(t->dest.ip, NET(2));       /* no broadcast flag: unicast */
    assert_memory_equal(t->dest.mac, mac_a, 6);
    assert_owner(t, NET(2), mac_a);

    build_request(&m, mac_a, NET(1), NET(2), 0);
    put32(m.b + 4, 0xcafef00d);
    assert_int_equal(run_msg(t, &m, 101), NS_DHCP_REPLY);
    parse_reply(t, &r);
    assert_int_equal(opt_type(&r), ACK);
    assert_int_equal(r.xid, 0xcafef00d);
    assert_int_equal(r.ciaddr, 0);
    assert_int_equal(r.yiaddr, NET(2));
    assert_memory_equal(r.chaddr, mac_a, 6);
    assert_config_options(&r, 1);
    assert_int_equal(t->dest.ip, NET(2));
    assert_memory_equal(t->dest.mac, mac_a, 6);
    assert_owner(t, NET(2), mac_a);

    /* still held long after the offer time, until the lease ends */
    assert_int_equal(discover(t, mac_b, 0, 101 + 3599), NET(3));
    assert_owner(t, NET(2), mac_a);
}

static void test_broadcast_flag(void **state)
{
    struct t *t = *state;
    struct reply r;
    struct msg m;

    build_discover(&m, mac_a, 0);
    m.b[OFF_FLAGS] = 0x80;
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);
    parse_reply(t, &r);
    assert_int_equal(r.flags, 0x8000);
    assert_int_equal(t->dest.ip, 0xffffffff);
    assert_memory_equal(t->dest.mac, bcast_mac, 6);
}

static void test_two_macs_differ(void **state)
{
    struct t *t = *state;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    assert_int_equal(lease(t, mac_b, 0), NET(3));
    assert_owner(t, NET(2), mac_a);
    assert_owner(t, NET(3), mac_b);
    /* an offer also keeps an address from others */
    assert_int_equal(discover(t, mac_c, 0, 0), NET(4));
    assert_int_equal(discover(t, mac_a, 0, 1), NET(2));
    assert_int_equal(discover(t, mac_b, 0, 1), NET(3));
}

static void test_same_mac_after_reboot(void **state)
{
    struct t *t = *state;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    /* the guest reboots and starts from scratch while its lease runs */
    assert_int_equal(discover(t, mac_a, 0, 10), NET(2));
    assert_int_equal(lease(t, mac_a, 20), NET(2));
    assert_owner(t, NET(2), mac_a);
}

static void test_same_mac_after_release(void **state)
{
    struct t *t = *state;
    struct msg m;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    assert_int_equal(lease(t, mac_b, 0), NET(3));

    msg_start(&m, RELEASE, mac_a, 1);
    put32(m.b + OFF_CIADDR, NET(2));
    msg_opt_ip(&m, 54, NET(1));
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 5), NS_DHCP_NO_REPLY);
    assert_owner(t, NET(2), NULL);

    /* a new client gets a never-used address, not the released one */
    assert_int_equal(discover(t, mac_c, 0, 6), NET(4));
    assert_int_equal(lease(t, mac_a, 7), NET(2));
}

static void test_release_by_other_ignored(void **state)
{
    struct t *t = *state;
    struct msg m;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    msg_start(&m, RELEASE, mac_b, 1);
    put32(m.b + OFF_CIADDR, NET(2));
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 5), NS_DHCP_NO_REPLY);
    assert_owner(t, NET(2), mac_a);
}

static void test_same_mac_after_expiry(void **state)
{
    struct t *t = *state;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    assert_int_equal(discover(t, mac_b, 0, 4000), NET(3));
    assert_owner(t, NET(2), NULL);              /* expired at 3600 */
    assert_int_equal(lease(t, mac_a, 5000), NET(2));
}

static void test_expired_address_reused_when_needed(void **state)
{
    struct t *t = *state;
    struct reply r;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    assert_int_equal(lease(t, mac_b, 0), NET(4));
    assert_int_equal(discover(t, mac_c, 0, 10), 0);
    assert_int_equal(request(t, mac_b, 0, 0, NET(4), 3000, &r), ACK);
    /* A's lease ran out and the pool has nothing else: C gets A's address */
    assert_int_equal(discover(t, mac_c, 0, 3601), NET(2));
    assert_owner(t, NET(2), mac_c);
    assert_int_equal(discover(t, mac_a, 0, 3602), 0);
}

static void test_offer_expires(void **state)
{
    struct t *t = *state;

    assert_int_equal(discover(t, mac_a, 0, 0), NET(2));
    assert_int_equal(discover(t, mac_b, 0, 59), NET(4));
    assert_owner(t, NET(2), mac_a);
    assert_int_equal(discover(t, mac_c, 0, 60), NET(2));
    assert_owner(t, NET(2), mac_c);
}

static void test_init_reboot(void **state)
{
    struct t *t = *state;
    struct reply r;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    assert_int_equal(lease(t, mac_b, 0), NET(3));

    /* INIT-REBOOT with its own address: ACK */
    assert_int_equal(request(t, mac_a, 0, NET(2), 0, 10, &r), ACK);
    assert_int_equal(r.yiaddr, NET(2));
    assert_config_options(&r, 1);

    /* with an address it does not hold: NAK, broadcast, nothing but 53/54 */
    assert_int_equal(request(t, mac_a, 0, NET(9), 0, 11, &r), NAK);
    assert_int_equal(r.yiaddr, 0);
    assert_int_equal(r.ciaddr, 0);
    assert_int_equal(opt32(&r, 54), NET(1));
    for (int code = 1; code < 255; code++)
        assert_true(!r.have[code] || code == 53 || code == 54);
    assert_int_equal(t->dest.ip, 0xffffffff);
    assert_memory_equal(t->dest.mac, bcast_mac, 6);

    /* another client's address, and an address from another network */
    assert_int_equal(request(t, mac_c, 0, NET(2), 0, 12, &r), NAK);
    assert_int_equal(request(t, mac_c, 0, IP(10, 0, 2, 15), 0, 12, &r), NAK);
    assert_owner(t, NET(2), mac_a);

    /* an unknown client asking for a free address in the pool gets it */
    assert_int_equal(request(t, mac_c, 0, NET(50), 0, 13, &r), ACK);
    assert_int_equal(r.yiaddr, NET(50));
    assert_owner(t, NET(50), mac_c);
}

static void test_selecting_wrong_address(void **state)
{
    struct t *t = *state;
    struct reply r;

    assert_int_equal(discover(t, mac_a, 0, 0), NET(2));
    assert_int_equal(request(t, mac_a, NET(1), NET(7), 0, 1, &r), NAK);
    assert_int_equal(request(t, mac_a, NET(1), 0, 0, 1, &r), NAK);
    assert_int_equal(request(t, mac_a, NET(1), NET(254), 0, 1, &r), NAK);
    assert_int_equal(request(t, mac_a, NET(1), NET(2), 0, 1, &r), ACK);
}

static void test_request_other_server(void **state)
{
    struct t *t = *state;
    struct reply r;

    assert_int_equal(discover(t, mac_a, 0, 0), NET(2));
    assert_owner(t, NET(2), mac_a);
    assert_int_equal(request(t, mac_a, IP(192, 168, 65, 99), NET(77), 0, 1, &r), 0);
    assert_owner(t, NET(2), NULL);              /* our offer is withdrawn */
    /* the same client coming back still gets the same address */
    assert_int_equal(discover(t, mac_a, 0, 2), NET(2));
}

static void test_renew(void **state)
{
    struct t *t = *state;
    struct reply r;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    assert_int_equal(request(t, mac_a, 0, 0, NET(2), 1800, &r), ACK);
    assert_int_equal(r.ciaddr, NET(2));
    assert_int_equal(r.yiaddr, NET(2));
    assert_config_options(&r, 1);
    assert_int_equal(t->dest.ip, NET(2));       /* unicast to ciaddr */
    assert_memory_equal(t->dest.mac, mac_a, 6);

    /* renewed at 1800: still held at 5000, gone at 5400 */
    assert_int_equal(discover(t, mac_b, 0, 5000), NET(3));
    assert_owner(t, NET(2), mac_a);
    assert_int_equal(discover(t, mac_b, 0, 5400), NET(3));
    assert_owner(t, NET(2), NULL);

    /* someone else renewing A's address */
    assert_int_equal(lease(t, mac_a, 6000), NET(2));
    assert_int_equal(request(t, mac_c, 0, 0, NET(2), 6001, &r), NAK);
    assert_int_equal(t->dest.ip, 0xffffffff);
}

static void test_inform(void **state)
{
    struct t *t = *state;
    struct reply r;
    struct msg m;

    msg_start(&m, INFORM, mac_a, 42);
    put32(m.b + OFF_CIADDR, NET(50));
    msg_prl(&m);
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);
    parse_reply(t, &r);
    assert_int_equal(opt_type(&r), ACK);
    assert_int_equal(r.xid, 42);
    assert_int_equal(r.yiaddr, 0);
    assert_int_equal(r.ciaddr, NET(50));
    assert_config_options(&r, 0);
    assert_int_equal(t->dest.ip, NET(50));
    assert_memory_equal(t->dest.mac, mac_a, 6);
    assert_owner(t, NET(50), NULL);             /* INFORM allocates nothing */
}

static void test_requested_ip(void **state)
{
    uint8_t mac[6] = { 0x02, 0, 0, 0, 0x77, 0 };
    struct t *t = *state;

    assert_int_equal(discover(t, mac_a, NET(77), 0), NET(77));
    assert_owner(t, NET(77), mac_a);
    /* taken, reserved, server, broadcast, outside the subnet: ignored */
    assert_int_equal(discover(t, mac_b, NET(77), 0), NET(2));
    mac[5] = 1;
    assert_int_equal(discover(t, mac, NET(254), 0), NET(3));
    mac[5] = 2;
    assert_int_equal(discover(t, mac, NET(1), 0), NET(4));
    mac[5] = 3;
    assert_int_equal(discover(t, mac, NET(255), 0), NET(5));
    mac[5] = 4;
    assert_int_equal(discover(t, mac, NET(0), 0), NET(6));
    mac[5] = 5;
    assert_int_equal(discover(t, mac, IP(10, 0, 0, 9), 0), NET(7));
    /* a client with a binding keeps it whatever it asks for */
    assert_int_equal(lease(t, mac_a, 1), NET(77));
    assert_int_equal(discover(t, mac_a, NET(100), 2), NET(77));
}

static void test_exhaust_default_pool(void **state)
{
    struct t *t = *state;
    uint8_t seen[256] = { 0 };
    uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };
    struct reply r;
    int i;

    /* .2 to .253: 252 addresses, never .0, .1, .254 or .255 */
    for (i = 0; i < 252; i++) {
        uint32_t ip;

        mac[4] = (uint8_t)(i >> 8);
        mac[5] = (uint8_t)i;
        ip = lease(t, mac, 0);
        assert_int_equal(ip & 0xffffff00, NET(0));
        assert_in_range(ip & 0xff, 2, 253);
        assert_false(seen[ip & 0xff]);
        seen[ip & 0xff] = 1;
    }
    mac[5]++;
    assert_int_equal(discover(t, mac, 0, 1), 0);
    assert_int_equal(request(t, mac, 0, NET(254), 0, 1, &r), NAK);
    assert_int_equal(request(t, mac, 0, NET(1), 0, 1, &r), NAK);
    assert_owner(t, NET(254), NULL);
    assert_owner(t, NET(1), NULL);
}

static void test_exhaust_tiny_pool(void **state)
{
    struct t *t = *state;
    struct reply r;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    assert_int_equal(lease(t, mac_b, 0), NET(4));       /* .3 is reserved */
    assert_int_equal(discover(t, mac_c, 0, 0), 0);
    assert_int_equal(discover(t, mac_c, NET(3), 0), 0);
    assert_int_equal(request(t, mac_c, 0, NET(3), 0, 0, &r), NAK);
    assert_int_equal(request(t, mac_c, 0, NET(2), 0, 0, &r), NAK);
    assert_int_equal(request(t, mac_c, 0, NET(5), 0, 0, &r), NAK);
    assert_owner(t, NET(3), NULL);
}

static void test_decline(void **state)
{
    struct t *t = *state;
    struct msg m;

    assert_int_equal(lease(t, mac_a, 0), NET(2));
    msg_start(&m, DECLINE, mac_a, 9);
    msg_opt_ip(&m, 50, NET(2));
    msg_opt_ip(&m, 54, NET(1));
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 1), NS_DHCP_NO_REPLY);
    assert_owner(t, NET(2), NULL);

    /* nobody gets it for a while, not even by asking */
    assert_int_equal(discover(t, mac_a, 0, 2), NET(3));
    assert_int_equal(discover(t, mac_b, NET(2), 2), NET(4));
    assert_int_equal(discover(t, mac_c, NET(2), 1000), NET(2));
}

static void test_unknown_type_and_relay(void **state)
{
    struct t *t = *state;
    struct msg m;

    msg_start(&m, OFFER, mac_a, 1);             /* a server message */
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_NO_REPLY);
    msg_start(&m, 13, mac_a, 1);                /* DHCPLEASEQUERY */
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_NO_REPLY);

    build_discover(&m, mac_a, 0);
    put32(m.b + OFF_GIADDR, IP(10, 1, 1, 1));    /* via a relay agent */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_NO_REPLY);
    assert_owner(t, NET(2), NULL);
}

static void test_small_reply_buffer(void **state)
{
    struct t *t = *state;
    struct ns_dhcp_dest dest;
    uint8_t small[299];
    size_t len = 12345;
    struct msg m;

    build_discover(&m, mac_a, 0);
    assert_int_equal(ns_dhcp_handle(t->d, m.b, m.len, 0, small, sizeof(small), &len, &dest),
                     NS_DHCP_NO_REPLY);
    assert_int_equal(len, 12345);
    assert_int_equal(ns_dhcp_handle(t->d, m.b, m.len, 0, NULL, 0, &len, &dest),
                     NS_DHCP_NO_REPLY);
    assert_int_equal(ns_dhcp_handle(t->d, NULL, 0, 0, t->reply, sizeof(t->reply), &len, &dest),
                     NS_DHCP_MALFORMED);
}

/* --- Hostile input -------------------------------------------------------- */

static void test_every_truncation(void **state)
{
    struct t *t = *state;
    static const uint8_t cid[] = { 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    struct reply r;
    struct msg m;
    size_t n;

    msg_start(&m, REQUEST, mac_a, 7);
    msg_opt_ip(&m, 54, NET(1));
    msg_opt_ip(&m, 50, NET(2));
    msg_opt(&m, 61, cid, sizeof(cid));
    msg_opt(&m, 12, "guest", 5);
    msg_prl(&m);
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);

    for (n = 0; n < m.len; n++) {
        enum ns_dhcp_result res = run(t, m.b, n, 0);

        if (n < OFF_OPTIONS + 3) {          /* no header, or no message type */
            assert_int_equal(res, NS_DHCP_MALFORMED);
            continue;
        }
        assert_true(res == NS_DHCP_MALFORMED || res == NS_DHCP_NO_REPLY ||
                    res == NS_DHCP_REPLY);
        if (res == NS_DHCP_REPLY)
            parse_reply(t, &r);
    }
    /* cut in the middle of an option: malformed */
    assert_int_equal(run(t, m.b, OFF_OPTIONS + 3 + 4, 0), NS_DHCP_MALFORMED);
    assert_int_equal(run(t, m.b, OFF_OPTIONS + 3 + 1, 0), NS_DHCP_MALFORMED);
    /* cut between options, without an end option: accepted */
    assert_int_equal(run(t, m.b, OFF_OPTIONS + 3 + 6 + 6, 0), NS_DHCP_REPLY);
}

static void test_option_past_end(void **state)
{
    struct t *t = *state;
    struct msg m;

    msg_start(&m, DISCOVER, mac_a, 1);
    m.b[m.len++] = 50;          /* says 4 bytes, 2 follow */
    m.b[m.len++] = 4;
    m.b[m.len++] = 192;
    m.b[m.len++] = 168;
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    msg_start(&m, DISCOVER, mac_a, 1);
    m.b[m.len++] = 12;          /* no length byte */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    msg_start(&m, DISCOVER, mac_a, 1);
    m.b[m.len++] = 12;          /* length 255, nothing after it */
    m.b[m.len++] = 255;
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    msg_start(&m, 0, mac_a, 1);
    m.b[m.len++] = 53;          /* message type of the wrong length */
    m.b[m.len++] = 2;
    m.b[m.len++] = 1;
    m.b[m.len++] = 1;
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    build_request(&m, mac_a, 0, 0, 0);
    m.b[m.len - 1] = 50;        /* requested IP of length 3 */
    m.b[m.len++] = 3;
    m.len += 3;
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    /* pads, then end, then garbage that is never read */
    msg_start(&m, DISCOVER, mac_a, 1);
    m.b[m.len++] = 0;
    m.b[m.len++] = 0;
    msg_end(&m);
    m.b[m.len++] = 50;
    m.b[m.len++] = 200;
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);
}

static void test_overload(void **state)
{
    struct t *t = *state;
    static const uint8_t one = 1, two = 2, three = 3, four = 4;
    struct reply r;
    struct msg m;

    /* message type in 'file' (overload 1) */
    msg_start(&m, 0, mac_a, 1);
    msg_opt(&m, 52, &one, 1);
    msg_end(&m);
    memcpy(m.b + OFF_FILE, "\x35\x01\x01\xff", 4);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);
    parse_reply(t, &r);
    assert_int_equal(opt_type(&r), OFFER);
    assert_int_equal(r.yiaddr, NET(2));

    /* REQUEST with server id and address in 'sname' (overload 2) */
    msg_start(&m, REQUEST, mac_a, 2);
    msg_opt(&m, 52, &two, 1);
    msg_end(&m);
    memcpy(m.b + OFF_SNAME, "\x36\x04\xc0\xa8\x41\x01\x32\x04\xc0\xa8\x41\x02", 12);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);
    parse_reply(t, &r);
    assert_int_equal(opt_type(&r), ACK);
    assert_int_equal(r.yiaddr, NET(2));

    /* no overload: 'file' and 'sname' are not options, whatever they hold */
    msg_start(&m, 0, mac_b, 3);
    msg_end(&m);
    memcpy(m.b + OFF_FILE, "\x35\x01\x01\xff", 4);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    /* 'file' without an end option is fine; an option across its end is not */
    msg_start(&m, DISCOVER, mac_b, 4);
    msg_opt(&m, 52, &three, 1);
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);     /* all pad */
    m.b[OFF_FILE + 126] = 12;
    m.b[OFF_FILE + 127] = 1;
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
    m.b[OFF_FILE + 126] = 0;
    m.b[OFF_FILE + 127] = 0;
    m.b[OFF_SNAME + 63] = 12;       /* length byte would be in 'file' */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    /* overload inside an overloaded field is not followed */
    msg_start(&m, DISCOVER, mac_b, 5);
    msg_opt(&m, 52, &one, 1);
    msg_end(&m);
    memcpy(m.b + OFF_FILE, "\x34\x01\x02\xff", 4);
    memset(m.b + OFF_SNAME, 0x77, 64);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);

    /* bad overload values */
    msg_start(&m, DISCOVER, mac_b, 6);
    msg_opt(&m, 52, &four, 1);
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
    msg_start(&m, DISCOVER, mac_b, 6);
    msg_opt(&m, 52, "\x01\x01", 2);
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
}

static void test_bad_header(void **state)
{
    struct t *t = *state;
    struct msg m;

    build_discover(&m, mac_a, 0);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_REPLY);

    m.b[2] = 16;                /* hlen 16 */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
    m.b[2] = 6;
    m.b[1] = 6;                 /* IEEE 802 htype */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
    m.b[1] = 1;
    m.b[0] = 2;                 /* BOOTREPLY */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
    m.b[0] = 1;
    m.b[OFF_COOKIE + 3] = 0x64; /* wrong cookie */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
    m.b[OFF_COOKIE + 3] = 0x63;
    m.b[OFF_CHADDR] = 0x01;     /* multicast chaddr */
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
    memset(m.b + OFF_CHADDR, 0, 6);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);

    /* BOOTP without options, and a message with no type */
    build_discover(&m, mac_a, 0);
    assert_int_equal(run(t, m.b, 236, 0), NS_DHCP_MALFORMED);
    assert_int_equal(run(t, m.b, 240, 0), NS_DHCP_MALFORMED);
    msg_start(&m, 0, mac_a, 1);
    msg_prl(&m);
    msg_end(&m);
    assert_int_equal(run_msg(t, &m, 0), NS_DHCP_MALFORMED);
}

/* --- Configuration -------------------------------------------------------- */

static void test_bad_config(void **state)
{
    struct ns_dhcp_config c;
    char longname[300];
    struct ns_dhcp *d;

    (void)state;
    assert_null(ns_dhcp_new(NULL));

#define BAD(field, value)                       \
    do {                                        \
        c = default_cfg;                        \
        c.field = value;                        \
        assert_null(ns_dhcp_new(&c));           \
    } while (0)
    BAD(netmask, IP(255, 0, 255, 0));
    BAD(netmask, 0);
    BAD(subnet, NET(1));
    BAD(server, IP(10, 0, 0, 1));
    BAD(first, IP(192, 168, 66, 2));
    BAD(last, NET(1));
    BAD(lease_seconds, 0);
    BAD(mtu, 67);
    BAD(search, "a..b");
    BAD(search, ".a");
    BAD(search, "ok.example bad..example");
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    BAD(domain_name, longname);
    longname[251] = '\0';       /* fits an option, not beside the others */
    BAD(domain_name, longname);
    memcpy(longname + 64, ".com", 5);   /* a 64-byte label */
    BAD(search, longname);
    memcpy(longname + 63, ".com", 5);   /* a 63-byte label is fine */
    c = default_cfg;
    c.search = longname;
    d = ns_dhcp_new(&c);
    assert_non_null(d);
    ns_dhcp_free(d);
#undef BAD
}

static void test_no_optional_options(void **state)
{
    struct t *t = *state;
    struct reply r;

    assert_int_equal(discover(t, mac_a, 0, 0), NET(2));
    parse_reply(t, &r);
    assert_false(r.have[15]);
    assert_false(r.have[119]);
    assert_false(r.have[26]);
    assert_int_equal(opt32(&r, 1), IP(255, 255, 255, 0));
    assert_int_equal(t->reply_len, 300);        /* padded to the BOOTP minimum */
}

static void test_search_list_truncated(void **state)
{
    struct t *t = *state;
    struct reply r;
    size_t off;
    int i;

    assert_int_equal(discover(t, mac_a, 0, 0), NET(2));
    parse_reply(t, &r);
    assert_true(t->reply_len <= 548);
    assert_int_equal(r.optlen[15], 12);
    assert_memory_equal(r.opt[15], "example.org.", 12);

    /* whole names, in order, from the first, as many as fit */
    assert_true(r.have[119]);
    assert_int_equal(r.optlen[119] % 17, 0);
    assert_true(r.optlen[119] >= 17 * 13);
    for (off = 0, i = 0; off < r.optlen[119]; off += 17, i++) {
        char want[32];

        snprintf(want, sizeof(want), "\x03" "d%02d" "\x07" "example" "\x03" "org", i % 100);
        assert_memory_equal(r.opt[119] + off, want, 16);
        assert_int_equal(r.opt[119][off + 16], 0);
    }
}

static void test_big_range(void **state)
{
    uint8_t mac[6] = { 0x02, 1, 2, 3, 4, 5 };
    struct t *t = *state;
    struct reply r;

    assert_int_equal(lease(t, mac_a, 0), IP(10, 0, 0, 2));
    /* the table is capped at 65536 entries: 10.0.0.0 to 10.0.255.255 */
    assert_int_equal(discover(t, mac_b, IP(10, 0, 255, 255), 0), IP(10, 0, 255, 255));
    assert_int_equal(discover(t, mac, IP(10, 1, 0, 0), 0), IP(10, 0, 0, 3));
    assert_int_equal(request(t, mac_c, 0, IP(10, 255, 255, 254), 0, 0, &r), NAK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discover_request_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_macs_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_mac_after_reboot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_mac_after_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_by_other_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_mac_after_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_address_reused_when_needed,
                                        setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_offer_expires, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_init_reboot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selecting_wrong_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_other_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inform, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requested_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaust_default_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaust_tiny_pool, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_decline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_type_and_relay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_reply_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_past_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test_setup_teardown(test_no_optional_options, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_search_list_truncated, setup_long_search,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_big_range, setup_big, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
