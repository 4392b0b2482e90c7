/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dns_msg.c - unit tests for DNS messages (dns/msg.c)
 *
 * Queries and upstream responses are built byte by byte here, as RFC 1035
 * section 4.1 lays them out, and every message handed to a parser is placed
 * right before an unreadable page (guarded()), so reading past its end
 * faults. Responses the code builds are parsed back with ldns and checked
 * field by field: ID, flags, rcode, question, records, TTLs and the OPT record.
 */
#include "tests/unit/harness.h"

#include <ldns/ldns.h>

#include "dns/msg.h"

#define T_MX        15
#define T_OPT       41

/* --- Building messages ---------------------------------------------------- */

/* struct wire - a message being written */
struct wire {
    uint8_t b[1024];
    size_t n;
};

static void w8(struct wire *w, uint8_t v)
{
    w->b[w->n++] = v;
}

static void w16(struct wire *w, uint16_t v)
{
    put16(w->b + w->n, v);
    w->n += 2;
}

static void w32(struct wire *w, uint32_t v)
{
    put32(w->b + w->n, v);
    w->n += 4;
}

/**
 * hdr() - a header: @flags are the 16 bits after the ID.
 */
static void hdr(struct wire *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                uint16_t ns, uint16_t ar)
{
    w->n = 0;
    w16(w, id);
    w16(w, flags);
    w16(w, qd);
    w16(w, an);
    w16(w, ns);
    w16(w, ar);
}

/**
 * wname() - a name in wire form from dotted text ("" is the root).
 */
static void wname(struct wire *w, const char *name)
{
    const char *p = name, *dot;
    size_t len;

    while (*p) {
        dot = strchr(p, '.');
        len = dot ? (size_t)(dot - p) : strlen(p);
        w8(w, (uint8_t)len);
        memcpy(w->b + w->n, p, len);
        w->n += len;
        p += len + (dot ? 1 : 0);
    }
    w8(w, 0);
}

/**
 * wopt() - an EDNS0 OPT record (RFC 6891 section 6.1.2) with @size and the DO bit.
 */
static void wopt(struct wire *w, uint16_t size, int dnssec_ok)
{
    w8(w, 0);                       /* root owner */
    w16(w, T_OPT);
    w16(w, size);                   /* CLASS: UDP payload size */
    w32(w, dnssec_ok ? 0x8000 : 0); /* TTL: extended rcode, version, DO */
    w16(w, 0);                      /* RDLEN */
}

/**
 * query() - a standard query with RD, one question, and an OPT if @edns.
 */
static void query(struct wire *w, uint16_t id, const char *name, uint16_t type, int edns)
{
    hdr(w, id, 0x0100, 1, 0, 0, edns ? 1 : 0);
    wname(w, name);
    w16(w, type);
    w16(w, NS_DNS_CLASS_IN);
    if (edns)
        wopt(w, 1232, 0);
}

/**
 * parse() - ns_dns_parse_query() on a guarded copy of @w's first @len bytes.
 */
static enum ns_dns_parse parse(const struct wire *w, size_t len, uint16_t *id,
                               struct ns_dns_question *q)
{
    const uint8_t *g = guarded(w->b, len);
    enum ns_dns_parse r = ns_dns_parse_query(g, len, id, q);

    unguard();
    return r;
}

/**
 * check() - ns_dns_check_response() on a guarded copy.
 */
static int check(const uint8_t *msg, size_t len, uint16_t id, const struct ns_dns_question *q,
                 int *tc)
{
    const uint8_t *g = guarded(msg, len);
    int r = ns_dns_check_response(g, len, id, q, tc);

    unguard();
    return r;
}

/**
 * back() - parse a built response with ldns; it must parse.
 */
static ldns_pkt *back(const uint8_t *msg, size_t len)
{
    ldns_pkt *p = NULL;

    assert_int_not_equal(len, 0);
    assert_int_equal(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
    return p;
}

/**
 * assert_qname() - the question name of a parsed packet, as ldns writes it.
 */
static void assert_qname(const ldns_pkt *p, const char *want)
{
    char *s;

    assert_int_equal(ldns_pkt_qdcount(p), 1);
    s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
    assert_string_equal(s, want);
    free(s);
}

/* --- Parsing queries ------------------------------------------------------- */

static void test_query_a(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id = 0;

    (void)state;
    query(&w, 0xbeef, "www.Example.COM", NS_DNS_TYPE_A, 0);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    assert_int_equal(id, 0xbeef);
    assert_string_equal(q.name, "www.example.com");
    assert_int_equal(q.qtype, NS_DNS_TYPE_A);
    assert_int_equal(q.qclass, NS_DNS_CLASS_IN);
}

static void test_query_aaaa_mx_edns(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id = 0;

    (void)state;
    query(&w, 1, "host.internal", NS_DNS_TYPE_AAAA, 1);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    assert_int_equal(id, 1);
    assert_string_equal(q.name, "host.internal");
    assert_int_equal(q.qtype, NS_DNS_TYPE_AAAA);

    query(&w, 2, "example.org", T_MX, 1);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    assert_string_equal(q.name, "example.org");
    assert_int_equal(q.qtype, T_MX);

    query(&w, 3, "example.org", T_MX, 0);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    assert_int_equal(id, 3);
}

static void test_query_root_and_long(void **state)
{
    char name[300], want[300];
    struct ns_dns_question q;
    struct wire w;
    uint16_t id;
    int i;

    (void)state;
    query(&w, 4, "", 2 /* NS */, 0);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    assert_string_equal(q.name, "");

    /* 63-byte labels, 253 characters: the longest name there is */
    memset(name, 'A', 63);
    name[63] = '.';
    memcpy(name + 64, name, 64);
    memcpy(name + 128, name, 64);
    memset(name + 192, 'b', 61);
    name[253] = '\0';
    query(&w, 5, name, NS_DNS_TYPE_A, 0);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    for (i = 0; name[i]; i++)
        want[i] = (char)(name[i] == 'A' ? 'a' : name[i]);
    want[i] = '\0';
    assert_string_equal(q.name, want);
}

/* A label with a dot and a space in it: presentation escapes, lowercased. */
static void test_query_escapes(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id;

    (void)state;
    hdr(&w, 6, 0, 1, 0, 0, 0);
    w8(&w, 4);
    memcpy(w.b + w.n, "A.B ", 4);
    w.n += 4;
    w8(&w, 0);
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    assert_string_equal(q.name, "a\\.b\\032");
}

static void test_every_truncation(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id;
    size_t len;
    int edns;

    (void)state;
    for (edns = 0; edns <= 1; edns++) {
        query(&w, 0x1234, "a.example.com", NS_DNS_TYPE_AAAA, edns);
        for (len = 0; len < w.n; len++) {
            id = 0;
            if (len < 12) {
                assert_int_equal(parse(&w, len, &id, &q), NS_DNS_DROP);
            } else {
                assert_int_equal(parse(&w, len, &id, &q), NS_DNS_FORMERR);
                assert_int_equal(id, 0x1234);
            }
        }
        assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_OK);
    }
}

static void test_compression_loops(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id;

    (void)state;
    /* a pointer to itself */
    hdr(&w, 7, 0, 1, 0, 0, 0);
    w16(&w, 0xc00c);
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
    assert_int_equal(id, 7);

    /* a label then a pointer back to it: the name never ends */
    hdr(&w, 8, 0, 1, 0, 0, 0);
    w8(&w, 1);
    w8(&w, 'a');
    w16(&w, 0xc00c);
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);

    /* two pointers to each other, in the question and an answer */
    hdr(&w, 9, 0, 1, 1, 0, 0);
    w16(&w, 0xc012);                /* @12 -> 18 */
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    w16(&w, 0xc00c);                /* @18 -> 12 */
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    w32(&w, 0);
    w16(&w, 0);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
}

static void test_bad_pointers(void **state)
{
    struct ns_dns_question q;
    enum ns_dns_parse r;
    struct wire w;
    uint16_t id;

    (void)state;
    /* out of range */
    hdr(&w, 10, 0, 1, 0, 0, 0);
    w16(&w, 0xc0ff);
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);

    /* into the header, at offset 0 */
    w.b[12] = 0xc0;
    w.b[13] = 0x00;
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);

    /* just past the end */
    put16(w.b + 12, (uint16_t)(0xc000 | w.n));
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);

    /* a pointer with the reserved 01 and 10 prefixes (RFC 1035 section 4.1.4) */
    put16(w.b + 12, 0x4010);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
    put16(w.b + 12, 0x8010);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);

    /* forward, to a valid name after the question: decoded or refused, not over-read */
    hdr(&w, 11, 0, 1, 0, 0, 0);
    w16(&w, 0xc012);
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    wname(&w, "fwd.example");
    r = parse(&w, w.n, &id, &q);
    assert_true(r == NS_DNS_OK || r == NS_DNS_FORMERR);
    if (r == NS_DNS_OK)
        assert_string_equal(q.name, "fwd.example");

    /* forward, to a name cut by the end of the message */
    r = parse(&w, w.n - 1, &id, &q);
    assert_int_equal(r, NS_DNS_FORMERR);
}

static void test_label_too_long(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id;
    int len;

    (void)state;
    for (len = 63; len <= 65; len++) {
        hdr(&w, 12, 0, 1, 0, 0, 0);
        w8(&w, (uint8_t)len);
        memset(w.b + w.n, 'x', (size_t)len);
        w.n += (size_t)len;
        w8(&w, 0);
        w16(&w, NS_DNS_TYPE_A);
        w16(&w, NS_DNS_CLASS_IN);
        assert_int_equal(parse(&w, w.n, &id, &q), len == 63 ? NS_DNS_OK : NS_DNS_FORMERR);
    }

    /* a name of 256 bytes on the wire: four 63-byte labels */
    hdr(&w, 13, 0, 1, 0, 0, 0);
    for (len = 0; len < 4; len++) {
        w8(&w, 63);
        memset(w.b + w.n, 'y', 63);
        w.n += 63;
    }
    w8(&w, 0);
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
}

static void test_counts(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id;

    (void)state;
    /* qdcount 0 */
    hdr(&w, 14, 0x0100, 0, 0, 0, 0);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
    assert_int_equal(id, 14);

    /* qdcount 2, both there */
    query(&w, 15, "a.example", NS_DNS_TYPE_A, 0);
    put16(w.b + 4, 2);
    wname(&w, "b.example");
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);

    /* counts larger than the message */
    query(&w, 16, "a.example", NS_DNS_TYPE_A, 0);
    put16(w.b + 4, 2);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
    put16(w.b + 4, 1);
    put16(w.b + 6, 1);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
    put16(w.b + 6, 0);
    put16(w.b + 10, 0xffff);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);

    /* an OPT record whose RDLENGTH runs past the end */
    query(&w, 17, "a.example", NS_DNS_TYPE_A, 1);
    put16(w.b + w.n - 2, 10);
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_FORMERR);
}

static void test_response_and_opcode(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    uint16_t id = 0;

    (void)state;
    query(&w, 18, "a.example", NS_DNS_TYPE_A, 0);
    w.b[2] |= 0x80;                 /* QR */
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_DROP);
    w.n = 12;                       /* a bare response header, too */
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_DROP);

    query(&w, 19, "a.example", NS_DNS_TYPE_A, 0);
    w.b[2] = (uint8_t)((w.b[2] & 0x87) | 2 << 3);     /* opcode 2, STATUS */
    assert_int_equal(parse(&w, w.n, &id, &q), NS_DNS_NOTIMP);
    assert_int_equal(id, 19);
}

/* --- Building responses ----------------------------------------------------- */

static void test_rcode_parsed(void **state)
{
    struct wire w;
    uint8_t out[512];
    ldns_pkt *p;
    size_t n;

    (void)state;
    query(&w, 0x4242, "Mixed.Case.example", T_MX, 0);
    n = ns_dns_build_rcode(w.b, w.n, NS_DNS_RCODE_SERVFAIL, out, sizeof(out));
    p = back(out, n);
    assert_int_equal(ldns_pkt_id(p), 0x4242);
    assert_true(ldns_pkt_qr(p));
    assert_true(ldns_pkt_ra(p));
    assert_true(ldns_pkt_rd(p));
    assert_false(ldns_pkt_aa(p));
    assert_false(ldns_pkt_tc(p));
    assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_SERVFAIL);
    assert_qname(p, "Mixed.Case.example.");
    assert_int_equal(ldns_pkt_ancount(p), 0);
    assert_false(ldns_pkt_edns(p));
    ldns_pkt_free(p);

    /* RD clear is echoed clear */
    w.b[2] &= (uint8_t)~1;
    n = ns_dns_build_rcode(w.b, w.n, NS_DNS_RCODE_REFUSED, out, sizeof(out));
    p = back(out, n);
    assert_false(ldns_pkt_rd(p));
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_REFUSED);
    ldns_pkt_free(p);

    /* too small a buffer */
    assert_int_equal(ns_dns_build_rcode(w.b, w.n, 2, out, 12), 0);
    /* no header */
    assert_int_equal(ns_dns_build_rcode(w.b, 11, 2, out, sizeof(out)), 0);
}

static void test_rcode_edns(void **state)
{
    struct wire w;
    uint8_t out[512];
    ldns_pkt *p;
    size_t n;

    (void)state;
    hdr(&w, 20, 0x0100, 1, 0, 0, 1);
    wname(&w, "a.example");
    w16(&w, NS_DNS_TYPE_A);
    w16(&w, NS_DNS_CLASS_IN);
    wopt(&w, 4096, 1);
    n = ns_dns_build_rcode(w.b, w.n, NS_DNS_RCODE_SERVFAIL, out, sizeof(out));
    p = back(out, n);
    assert_true(ldns_pkt_edns(p));
    assert_int_equal(ldns_pkt_edns_udp_size(p), NS_DNS_UDP_MAX);
    assert_true(ldns_pkt_edns_do(p));
    assert_int_equal(ldns_pkt_edns_version(p), 0);
    ldns_pkt_free(p);
    /* on the wire: one additional record, of type OPT */
    assert_int_equal(get16(out + 10), 1);
    assert_int_equal(get16(out + n - 10), T_OPT);
}

static void test_rcode_malformed(void **state)
{
    struct wire w;
    uint8_t out[512];
    ldns_pkt *p;
    size_t n;

    (void)state;
    query(&w, 0x5151, "a.example", NS_DNS_TYPE_A, 0);
    n = ns_dns_build_rcode(w.b, w.n - 3, NS_DNS_RCODE_FORMERR, out, sizeof(out));
    assert_int_equal(n, 12);
    p = back(out, n);
    assert_int_equal(ldns_pkt_id(p), 0x5151);
    assert_true(ldns_pkt_qr(p));
    assert_true(ldns_pkt_rd(p));
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_FORMERR);
    assert_int_equal(ldns_pkt_qdcount(p), 0);
    ldns_pkt_free(p);

    /* opcode 2 gets NOTIMP with its opcode echoed */
    query(&w, 0x5252, "a.example", NS_DNS_TYPE_A, 0);
    w.b[2] = (uint8_t)((w.b[2] & 0x87) | 2 << 3);
    n = ns_dns_build_rcode(w.b, w.n, NS_DNS_RCODE_NOTIMP, out, sizeof(out));
    p = back(out, n);
    assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_STATUS);
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_NOTIMP);
    assert_true(ldns_pkt_qr(p));
    ldns_pkt_free(p);
}

/**
 * addrs() - two IPv4 and one IPv6 address.
 */
static void addrs(struct ns_dns_addrs *a, int v4, int v6)
{
    memset(a, 0, sizeof(*a));
    if (v4) {
        inet_pton(AF_INET, "192.168.65.254", &a->v4[0]);
        inet_pton(AF_INET, "10.0.0.1", &a->v4[1]);
        a->n4 = 2;
    }
    if (v6) {
        inet_pton(AF_INET6, "fd00::1", &a->v6[0]);
        a->n6 = 1;
    }
}

/**
 * answer() - ns_dns_build_answer() for a fresh query, parsed back.
 */
static ldns_pkt *answer(struct wire *w, const char *name, uint16_t type, int edns,
                        const struct ns_dns_addrs *a, uint32_t ttl)
{
    struct ns_dns_question q;
    uint8_t out[1024];
    uint16_t id;
    size_t n;

    query(w, 0x7777, name, type, edns);
    assert_int_equal(ns_dns_parse_query(w->b, w->n, &id, &q), NS_DNS_OK);
    n = ns_dns_build_answer(w->b, w->n, &q, a, ttl, out, sizeof(out));
    /* and the answer is a valid response to the question */
    {
        int tc = -1;

        assert_int_equal(check(out, n, 0x7777, &q, &tc), 0);
        assert_int_equal(tc, 0);
    }
    return back(out, n);
}

static void test_answer_a(void **state)
{
    struct ns_dns_addrs a;
    char *s;
    ldns_rr *rr;
    ldns_pkt *p;
    struct wire w;

    (void)state;
    addrs(&a, 1, 1);
    p = answer(&w, "Host.Internal", NS_DNS_TYPE_A, 0, &a, 60);
    assert_int_equal(ldns_pkt_id(p), 0x7777);
    assert_true(ldns_pkt_qr(p));
    assert_true(ldns_pkt_aa(p));
    assert_true(ldns_pkt_ra(p));
    assert_true(ldns_pkt_rd(p));
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_NOERROR);
    assert_qname(p, "Host.Internal.");
    assert_int_equal(ldns_pkt_ancount(p), 2);
    assert_int_equal(ldns_pkt_nscount(p), 0);
    assert_false(ldns_pkt_edns(p));

    rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
    assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
    assert_int_equal(ldns_rr_ttl(rr), 60);
    s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    assert_string_equal(s, "192.168.65.254");
    free(s);
    s = ldns_rdf2str(ldns_rr_owner(rr));
    assert_string_equal(s, "Host.Internal.");
    free(s);
    rr = ldns_rr_list_rr(ldns_pkt_answer(p), 1);
    s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    assert_string_equal(s, "10.0.0.1");
    free(s);
    ldns_pkt_free(p);
}

static void test_answer_aaaa_edns(void **state)
{
    struct ns_dns_addrs a;
    char *s;
    ldns_rr *rr;
    ldns_pkt *p;
    struct wire w;

    (void)state;
    addrs(&a, 1, 1);
    p = answer(&w, "gateway.internal", NS_DNS_TYPE_AAAA, 1, &a, 3600);
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(p), 1);
    rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_AAAA);
    assert_int_equal(ldns_rr_ttl(rr), 3600);
    s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    assert_string_equal(s, "fd00::1");
    free(s);
    assert_true(ldns_pkt_edns(p));
    assert_int_equal(ldns_pkt_edns_udp_size(p), NS_DNS_UDP_MAX);
    assert_false(ldns_pkt_edns_do(p));
    ldns_pkt_free(p);
}

static void test_answer_nodata_nxdomain(void **state)
{
    struct ns_dns_addrs a;
    ldns_pkt *p;
    struct wire w;

    (void)state;
    /* only IPv4: AAAA is NODATA */
    addrs(&a, 1, 0);
    p = answer(&w, "v4only.internal", NS_DNS_TYPE_AAAA, 0, &a, 60);
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_NOERROR);
    assert_true(ldns_pkt_aa(p));
    assert_int_equal(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);

    /* only IPv6: A is NODATA */
    addrs(&a, 0, 1);
    p = answer(&w, "v6only.internal", NS_DNS_TYPE_A, 1, &a, 60);
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(p), 0);
    assert_true(ldns_pkt_edns(p));
    ldns_pkt_free(p);

    /* MX of a local name: NODATA */
    addrs(&a, 1, 1);
    p = answer(&w, "host.internal", T_MX, 0, &a, 60);
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);

    /* no such name */
    p = answer(&w, "nope.internal", NS_DNS_TYPE_A, 1, NULL, 60);
    assert_int_equal(ldns_pkt_get_rcode(p), NS_DNS_RCODE_NXDOMAIN);
    assert_true(ldns_pkt_aa(p));
    assert_int_equal(ldns_pkt_ancount(p), 0);
    assert_qname(p, "nope.internal.");
    assert_true(ldns_pkt_edns(p));
    ldns_pkt_free(p);
}

static void test_answer_limits(void **state)
{
    struct ns_dns_question q;
    struct ns_dns_addrs a;
    uint8_t out[1024];
    struct wire w;
    uint16_t id;
    ldns_pkt *p;
    unsigned i;
    size_t n;

    (void)state;
    memset(&a, 0, sizeof(a));
    for (i = 0; i < NS_DNS_ADDRS_MAX; i++)
        put32((uint8_t *)&a.v4[i], IP(10, 0, 0, i + 1));
    a.n4 = NS_DNS_ADDRS_MAX;
    query(&w, 21, "many.internal", NS_DNS_TYPE_A, 0);
    assert_int_equal(ns_dns_parse_query(w.b, w.n, &id, &q), NS_DNS_OK);
    n = ns_dns_build_answer(w.b, w.n, &q, &a, 5, out, sizeof(out));
    p = back(out, n);
    assert_int_equal(ldns_pkt_ancount(p), NS_DNS_ADDRS_MAX);
    ldns_pkt_free(p);
    /* one byte short */
    assert_int_equal(ns_dns_build_answer(w.b, w.n, &q, &a, 5, out, n - 1), 0);
    /* a query that does not parse */
    assert_int_equal(ns_dns_build_answer(w.b, w.n - 1, &q, &a, 5, out, sizeof(out)), 0);
    assert_int_equal(ns_dns_build_answer(w.b, 5, &q, &a, 5, out, sizeof(out)), 0);
}

/* --- Upstream responses ------------------------------------------------------ */

/**
 * response() - an upstream answer: @nan A records, compressed owner, flags @flags.
 */
static void response(struct wire *w, uint16_t id, uint16_t flags, const char *name,
                     uint16_t type, int nan)
{
    int i;

    hdr(w, id, flags, 1, (uint16_t)nan, 0, 0);
    wname(w, name);
    w16(w, type);
    w16(w, NS_DNS_CLASS_IN);
    for (i = 0; i < nan; i++) {
        w16(w, 0xc00c);
        w16(w, NS_DNS_TYPE_A);
        w16(w, NS_DNS_CLASS_IN);
        w32(w, 300);
        w16(w, 4);
        w32(w, IP(192, 0, 2, i + 1));
    }
}

static void question(struct ns_dns_question *q, const char *name, uint16_t type)
{
    memset(q, 0, sizeof(*q));
    strcpy(q->name, name);
    q->qtype = type;
    q->qclass = NS_DNS_CLASS_IN;
}

static void test_check_accepts(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    int tc = -1;

    (void)state;
    question(&q, "www.example.com", NS_DNS_TYPE_A);
    response(&w, 0xabcd, 0x8180, "www.example.com", NS_DNS_TYPE_A, 2);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), 0);
    assert_int_equal(tc, 0);

    /* the name in another case, as 0x20 randomisation makes it */
    response(&w, 0xabcd, 0x8180, "WwW.ExAmPle.COM", NS_DNS_TYPE_A, 1);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), 0);

    /* NXDOMAIN and SERVFAIL are responses too */
    response(&w, 0xabcd, 0x8183, "www.example.com", NS_DNS_TYPE_A, 0);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), 0);
    response(&w, 0xabcd, 0x8182, "www.example.com", NS_DNS_TYPE_A, 0);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), 0);
}

static void test_check_rejects(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    size_t i;
    int tc;

    (void)state;
    question(&q, "www.example.com", NS_DNS_TYPE_A);
    response(&w, 0xabcd, 0x8180, "www.example.com", NS_DNS_TYPE_A, 1);
    assert_int_equal(check(w.b, w.n, 0xabce, &q, &tc), -1);          /* other ID */
    response(&w, 0xabcd, 0x8180, "www.example.org", NS_DNS_TYPE_A, 1);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), -1);          /* other name */
    response(&w, 0xabcd, 0x8180, "www.example.com.evil", NS_DNS_TYPE_A, 1);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), -1);
    response(&w, 0xabcd, 0x8180, "www.example.com", NS_DNS_TYPE_AAAA, 0);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), -1);          /* other type */
    response(&w, 0xabcd, 0x8180, "www.example.com", NS_DNS_TYPE_A, 0);
    put16(w.b + w.n - 2, 3);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), -1);          /* other class */
    response(&w, 0xabcd, 0x0100, "www.example.com", NS_DNS_TYPE_A, 0);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), -1);          /* a query */
    hdr(&w, 0xabcd, 0x8180, 0, 0, 0, 0);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), -1);          /* no question */
    response(&w, 0xabcd, 0x8180, "www.example.com", NS_DNS_TYPE_A, 1);
    put16(w.b + 4, 2);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), -1);          /* counts too big */

    /* garbage */
    for (i = 0; i < sizeof(w.b); i++)
        w.b[i] = (uint8_t)(i * 37 + 11);
    put16(w.b, 0xabcd);
    w.b[2] |= 0x80;
    assert_int_equal(check(w.b, 200, 0xabcd, &q, &tc), -1);
    assert_int_equal(check(w.b, 0, 0xabcd, &q, &tc), -1);
    assert_int_equal(check(w.b, 5, 0xabcd, &q, &tc), -1);

    /* every truncation of a good response, TC set or not */
    response(&w, 0xabcd, 0x8380, "www.example.com", NS_DNS_TYPE_A, 3);
    for (i = 0; i < w.n; i++)
        assert_int_equal(check(w.b, i, 0xabcd, &q, &tc), -1);
    assert_int_equal(check(w.b, w.n, 0xabcd, &q, &tc), 0);
}

static void test_check_truncated(void **state)
{
    struct ns_dns_question q;
    struct wire w;
    int tc = 0;

    (void)state;
    question(&q, "big.example", NS_DNS_TYPE_A);
    /* TC with the records that fitted */
    response(&w, 9, 0x8380, "big.example", NS_DNS_TYPE_A, 2);
    assert_int_equal(check(w.b, w.n, 9, &q, &tc), 0);
    assert_int_equal(tc, 1);
    /* TC with none */
    response(&w, 9, 0x8380, "big.example", NS_DNS_TYPE_A, 0);
    tc = 0;
    assert_int_equal(check(w.b, w.n, 9, &q, &tc), 0);
    assert_int_equal(tc, 1);
    /* TC, but the counts promise more than is there: malformed */
    response(&w, 9, 0x8380, "big.example", NS_DNS_TYPE_A, 2);
    put16(w.b + 6, 40);
    assert_int_equal(check(w.b, w.n, 9, &q, &tc), -1);
}

static void test_ids(void **state)
{
    uint8_t m[2] = { 0, 0 };

    (void)state;
    ns_dns_set_id(m, 0xa1b2);
    assert_int_equal(m[0], 0xa1);
    assert_int_equal(m[1], 0xb2);
    assert_int_equal(ns_dns_get_id(m), 0xa1b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_a),
        cmocka_unit_test(test_query_aaaa_mx_edns),
        cmocka_unit_test(test_query_root_and_long),
        cmocka_unit_test(test_query_escapes),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_compression_loops),
        cmocka_unit_test(test_bad_pointers),
        cmocka_unit_test(test_label_too_long),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_response_and_opcode),
        cmocka_unit_test(test_rcode_parsed),
        cmocka_unit_test(test_rcode_edns),
        cmocka_unit_test(test_rcode_malformed),
        cmocka_unit_test(test_answer_a),
        cmocka_unit_test(test_answer_aaaa_edns),
        cmocka_unit_test(test_answer_nodata_nxdomain),
        cmocka_unit_test(test_answer_limits),
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_check_truncated),
        cmocka_unit_test(test_ids),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
