/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dns_server.c - the gateway's DNS server: local answers, forwarding to
 * an upstream on loopback, ID and question checks, TCP retry on truncation,
 * timeouts, the in-flight limit and malformed queries
 *
 * The upstream nameserver is a pair of sockets of this test on 127.0.0.1 (UDP
 * and TCP, same port); the stack's server list is pointed at it directly.
 */
#define _GNU_SOURCE /* accept4() */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "tests/unit/harness.h"

#include "dns/server_priv.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

static int up_udp, up_tcp;
static uint16_t up_port;
static char resolv_path[] = "/tmp/netstack-test-resolv.XXXXXX";

/**
 * upstream() - UDP and TCP sockets on one loopback port.
 */
static void upstream(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);

    up_udp = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(bind(up_udp, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(up_udp, (struct sockaddr *)&sa, &len), 0);
    up_port = ntohs(sa.sin_port);
    up_tcp = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(up_tcp, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(up_tcp, 4), 0);
}

static enum netstack_dns_aaaa aaaa_mode;   /* the next stack_dns()'s cfg.dns_aaaa */

/**
 * stack_dns() - a stack whose only nameserver is the test's upstream.
 */
static struct netstack *stack_dns(uint32_t timeout_ms, uint32_t inflight)
{
    static const char *const names[] = { "foo.local=10.1.2.3", NULL };
    struct sockaddr_in *sa;
    struct netstack_config c;
    struct netstack *ns = NULL;
    int fd = mkstemp(resolv_path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "nameserver 127.0.0.1\n", 21), 21);
    close(fd);
    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.resolv_conf = resolv_path;
    c.dns_names = names;
    c.dns_timeout_ms = timeout_ms;
    c.max_dns_inflight = inflight;
    c.dns_aaaa = aaaa_mode;
    assert_int_equal(netstack_new(&c, &ns), 0);
    assert_int_equal(ns->dns->resolv.servers.n, 1);
    upstream();
    sa = (struct sockaddr_in *)&ns->dns->resolv.servers.server[0];
    sa->sin_port = htons(up_port);          /* resolv.conf cannot say the port */
    return ns;
}

static void stack_dns_done(struct netstack *ns)
{
    stack_done(ns);
    close(up_udp);
    close(up_tcp);
    unlink(resolv_path);
    strcpy(resolv_path, "/tmp/netstack-test-resolv.XXXXXX");
}

/**
 * query_wire() - a query for @name/@type with @id, EDNS if @edns. Caller frees.
 */
static uint8_t *query_wire(const char *name, ldns_rr_type type, uint16_t id, int edns, size_t *len)
{
    ldns_pkt *p = NULL;
    uint8_t *wire = NULL;

    assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, LDNS_RD),
                     LDNS_STATUS_OK);
    ldns_pkt_set_id(p, id);
    if (edns)
        ldns_pkt_set_edns_udp_size(p, 4096);
    assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
    ldns_pkt_free(p);
    return wire;
}

/**
 * send_query() - a UDP datagram from the guest's port 5353 to gateway:53.
 */
static void send_query(struct netstack *ns, const uint8_t *msg, size_t len)
{
    static uint8_t u[8 + 4096], f[14 + 20 + sizeof(u)];

    put16(u, 5353);
    put16(u + 2, 53);
    put16(u + 4, (uint16_t)(8 + len));
    put16(u + 6, 0);                    /* no checksum: allowed for IPv4 */
    memcpy(u + 8, msg, len);
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_UDP, 1, 0, u, 8 + len));
}

/**
 * answer_pkt() - the last captured DNS answer to the guest, parsed (NULL if none).
 */
static ldns_pkt *answer_pkt(void)
{
    ldns_pkt *p = NULL;
    size_t i;

    for (i = captured.n; i-- > 0;) {
        const uint8_t *f = captured.frame[i];

        if (get16(f + 12) != 0x0800 || f[14 + 9] != IPPROTO_UDP || get16(f + 34) != 53)
            continue;
        assert_int_equal(get32(f + 14 + 12), GW);
        assert_int_equal(get16(f + 36), 5353);
        assert_int_equal(ldns_wire2pkt(&p, f + 42, captured.len[i] - 42), LDNS_STATUS_OK);
        return p;
    }
    return NULL;
}

/**
 * upstream_query() - what the upstream received over UDP (its sender in @from).
 */
static ldns_pkt *upstream_query(struct sockaddr_in *from)
{
    uint8_t buf[4096];
    socklen_t flen = sizeof(*from);
    ssize_t n = recvfrom(up_udp, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)from, &flen);
    ldns_pkt *p = NULL;

    if (n <= 0)
        return NULL;
    assert_int_equal(ldns_wire2pkt(&p, buf, (size_t)n), LDNS_STATUS_OK);
    return p;
}

/**
 * upstream_answer() - answer @q with @rrs (strings), to @to, with @id and TC
 * if @tc; with @to NULL over TCP: accept the stack's connection, read its
 * query, answer length-prefixed (the stack is dispatched while waiting)
 */
static void upstream_answer(struct netstack *ns, const ldns_pkt *q, const char *const *rrs,
                            uint16_t id, int tc, const struct sockaddr_in *to)
{
    ldns_pkt *a = ldns_pkt_clone(q);
    uint8_t *wire = NULL;
    size_t len;

    ldns_pkt_set_qr(a, 1);
    ldns_pkt_set_ra(a, 1);
    ldns_pkt_set_tc(a, tc);
    ldns_pkt_set_id(a, id);
    for (; rrs && *rrs; rrs++) {
        ldns_rr *rr = NULL;

        assert_int_equal(ldns_rr_new_frm_str(&rr, *rrs, 0, NULL, NULL), LDNS_STATUS_OK);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
    }
    assert_int_equal(ldns_pkt2wire(&wire, a, &len), LDNS_STATUS_OK);
    if (to)
        assert_int_equal(sendto(up_udp, wire, len, 0, (const struct sockaddr *)to, sizeof(*to)),
                         (ssize_t)len);
    else {
        uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
        uint8_t in[4096];
        int fd = -1, i;
        ssize_t got = -1;

        for (i = 0; i < 100 && fd < 0; i++) {
            fd = accept4(up_tcp, NULL, NULL, SOCK_NONBLOCK);
            if (fd < 0)
                run(ns, 10);
        }
        assert_true(fd >= 0);
        for (i = 0; i < 100 && got <= 2; i++) {
            got = recv(fd, in, sizeof(in), 0);
            if (got <= 2)
                run(ns, 10);
        }
        assert_true(got > 2);
        assert_int_equal(send(fd, hdr, 2, 0), 2);
        assert_int_equal(send(fd, wire, len, 0), (ssize_t)len);
        close(fd);
    }
    free(wire);
    ldns_pkt_free(a);
}

static void local_names_never_leave(void **state)
{
    struct netstack *ns = stack_dns(2000, 16);
    const char *names[] = { "host.internal.", "gateway.internal.", "FOO.local." };
    const char *want[] = { "192.168.65.254", "192.168.65.1", "10.1.2.3" };
    struct sockaddr_in from;
    size_t i, len;

    for (i = 0; i < 3; i++) {
        uint8_t *q = query_wire(names[i], LDNS_RR_TYPE_A, (uint16_t)(100 + i), 0, &len);
        ldns_pkt *a;
        char *addr;

        capture_reset();
        send_query(ns, q, len);
        a = answer_pkt();
        assert_non_null(a);
        assert_int_equal(ldns_pkt_id(a), 100 + i);
        assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(a), 1);
        addr = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(a), 0), 0));
        assert_string_equal(addr, want[i]);
        free(addr);
        ldns_pkt_free(a);
        free(q);
    }
    /* AAAA for a name with only IPv4: NODATA, not NXDOMAIN */
    {
        uint8_t *q = query_wire("foo.local.", LDNS_RR_TYPE_AAAA, 7, 0, &len);
        ldns_pkt *a;

        capture_reset();
        send_query(ns, q, len);
        a = answer_pkt();
        assert_non_null(a);
        assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(a), 0);
        ldns_pkt_free(a);
        free(q);
    }
    run(ns, 20);
    assert_null(upstream_query(&from));     /* nothing reached the upstream */
    assert_int_equal(counter(ns, NETSTACK_STAT_dns_local_answers), 4);
    stack_dns_done(ns);
}

static void forwarded_with_new_id_and_answer_checked(void **state)
{
    static const char *const rr[] = { "www.example.test. 300 IN A 10.9.8.7", NULL };
    static const char *const other[] = { "evil.example.test. 300 IN A 6.6.6.6", NULL };
    struct netstack *ns = stack_dns(2000, 16);
    struct sockaddr_in from;
    ldns_pkt *up, *a, *wrong;
    uint8_t *q;
    size_t len;

    q = query_wire("www.example.test.", LDNS_RR_TYPE_A, 4242, 1, &len);
    send_query(ns, q, len);
    run(ns, 20);
    up = upstream_query(&from);
    assert_non_null(up);
    assert_int_not_equal(ldns_pkt_id(up), 4242);    /* a fresh ID upstream (well, almost surely) */
    /* forged first: wrong ID, then a different question: both ignored */
    upstream_answer(ns, up, rr, (uint16_t)(ldns_pkt_id(up) + 1), 0, &from);
    assert_int_equal(ldns_pkt_query_new_frm_str(&wrong, "evil.example.test.", LDNS_RR_TYPE_A,
                                                LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
    upstream_answer(ns, wrong, other, ldns_pkt_id(up), 0, &from);
    run(ns, 20);
    assert_null(answer_pkt());
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_dns_spoofed), 2);
    /* the real one */
    upstream_answer(ns, up, rr, ldns_pkt_id(up), 0, &from);
    run(ns, 20);
    a = answer_pkt();
    assert_non_null(a);
    assert_int_equal(ldns_pkt_id(a), 4242);
    assert_int_equal(ldns_pkt_ancount(a), 1);
    ldns_pkt_free(a);
    ldns_pkt_free(wrong);
    ldns_pkt_free(up);
    free(q);
    stack_dns_done(ns);
}

/**
 * aaaa_goes_upstream() - does an AAAA query for a name that is not local
 * reach the upstream, or is it answered NODATA at once?
 */
static int aaaa_goes_upstream(enum netstack_dns_aaaa mode)
{
    struct netstack *ns;
    struct sockaddr_in from;
    ldns_pkt *up, *a;
    uint8_t *q;
    size_t len;
    int went;

    aaaa_mode = mode;
    ns = stack_dns(2000, 16);
    aaaa_mode = NETSTACK_DNS_AAAA_AUTO;
    q = query_wire("www.example.test.", LDNS_RR_TYPE_AAAA, 77, 0, &len);
    send_query(ns, q, len);
    run(ns, 20);
    up = upstream_query(&from);
    went = up != NULL;
    if (!went) {
        a = answer_pkt();
        assert_non_null(a);
        assert_int_equal(ldns_pkt_id(a), 77);
        assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(a), 0);
        assert_int_equal(counter(ns, NETSTACK_STAT_dns_aaaa_filtered), 1);
        ldns_pkt_free(a);
    }
    if (up)
        ldns_pkt_free(up);
    free(q);
    stack_dns_done(ns);
    return went;
}

static void aaaa_filtered_or_not(void **state)
{
    assert_true(aaaa_goes_upstream(NETSTACK_DNS_AAAA_ON));
    assert_false(aaaa_goes_upstream(NETSTACK_DNS_AAAA_OFF));
    /* Auto follows the host: the same as a route lookup here says. */
    assert_int_equal(aaaa_goes_upstream(NETSTACK_DNS_AAAA_AUTO), ns_nat_host_routes_ipv6());
}

static void truncated_answer_is_retried_over_tcp(void **state)
{
    static const char *const rr[] = { "big.example.test. 300 IN TXT \"one\"",
                                      "big.example.test. 300 IN TXT \"two\"", NULL };
    struct netstack *ns = stack_dns(3000, 16);
    struct sockaddr_in from;
    ldns_pkt *up, *a;
    uint8_t *q;
    size_t len;

    q = query_wire("big.example.test.", LDNS_RR_TYPE_TXT, 77, 1, &len);
    send_query(ns, q, len);
    run(ns, 20);
    up = upstream_query(&from);
    assert_non_null(up);
    upstream_answer(ns, up, NULL, ldns_pkt_id(up), 1, &from);       /* TC, no records */
    run(ns, 30);
    upstream_answer(ns, up, rr, ldns_pkt_id(up), 0, NULL);          /* the full answer over TCP */
    run(ns, 30);
    a = answer_pkt();
    assert_non_null(a);
    assert_int_equal(ldns_pkt_id(a), 77);
    assert_int_equal(ldns_pkt_ancount(a), 2);
    assert_int_equal(counter(ns, NETSTACK_STAT_dns_tcp_retries), 1);
    ldns_pkt_free(a);
    ldns_pkt_free(up);
    free(q);
    stack_dns_done(ns);
}

static void silent_upstream_gives_servfail_in_time(void **state)
{
    struct netstack *ns = stack_dns(400, 16);
    uint64_t t0 = ns_now_ms();
    ldns_pkt *a = NULL;
    uint8_t *q;
    size_t len;

    q = query_wire("slow.example.test.", LDNS_RR_TYPE_A, 9, 0, &len);
    send_query(ns, q, len);
    while (!a && ns_now_ms() - t0 < 2000) {
        run(ns, 50);
        a = answer_pkt();
    }
    assert_non_null(a);
    assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_SERVFAIL);
    assert_true(ns_now_ms() - t0 < 1000);
    ldns_pkt_free(a);
    free(q);
    stack_dns_done(ns);
}

static void inflight_limit_and_malformed(void **state)
{
    struct netstack *ns = stack_dns(2000, 2);
    uint8_t junk[20] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 63 };
    ldns_pkt *a;
    uint8_t *q;
    size_t len;
    int i;

    for (i = 0; i < 3; i++) {
        q = query_wire("x.example.test.", LDNS_RR_TYPE_A, (uint16_t)(10 + i), 0, &len);
        capture_reset();
        send_query(ns, q, len);
        free(q);
    }
    a = answer_pkt();               /* the third: SERVFAIL at once */
    assert_non_null(a);
    assert_int_equal(ldns_pkt_id(a), 12);
    assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_SERVFAIL);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_dns_inflight), 1);
    ldns_pkt_free(a);
    /* a label running past the end: FORMERR with the ID; 5 bytes: dropped */
    capture_reset();
    send_query(ns, junk, sizeof(junk));
    send_query(ns, junk, 5);
    assert_int_equal(captured.n, 1);
    assert_int_equal(get16(captured.frame[0] + 42), 0x1234);
    assert_int_equal(captured.frame[0][42 + 3] & 0x0f, LDNS_RCODE_FORMERR);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_dns_malformed), 1);
    stack_dns_done(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(local_names_never_leave),
        cmocka_unit_test(forwarded_with_new_id_and_answer_checked),
        cmocka_unit_test(aaaa_filtered_or_not),
        cmocka_unit_test(truncated_answer_is_retried_over_tcp),
        cmocka_unit_test(silent_upstream_gives_servfail_in_time),
        cmocka_unit_test(inflight_limit_and_malformed),
    };

    return cmocka_run_group_tests_name("dns_server", tests, NULL, NULL);
}
