/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_dns_query.c - libFuzzer harness for queries from the guest (dns/msg.c)
 *
 * Each input is one DNS message as the guest would send it over UDP. It goes
 * through ns_dns_parse_query(), then through every response the server can
 * build for it, and those responses are checked as an upstream answer would
 * be:
 *
 * - a query that parses (NS_DNS_OK) gets a SERVFAIL, an NXDOMAIN, a NODATA
 *   and an answer with addresses of both families; each must be built (they
 *   hold one question, a few records and an OPT, far below NS_DNS_UDP_MAX)
 *   and each must pass ns_dns_check_response() for the query's ID and
 *   question, untruncated: the round trip through ldns must be lossless;
 * - FORMERR and NOTIMP responses must echo the ID with QR set, and carry no
 *   question if the query has none ldns can decode;
 * - a dropped message gets nothing.
 *
 * No stack is created: these are pure functions of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "dns/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[NS_DNS_UDP_MAX];

/**
 * must() - abort() unless @cond: the fuzzer reports it as a crash.
 */
static void must(int cond)
{
    if (!cond)
        abort();
}

/**
 * addrs() - two IPv4 and two IPv6 addresses.
 */
static void addrs(struct ns_dns_addrs *a)
{
    memset(a, 0, sizeof(*a));
    a->n4 = 2;
    a->v4[0].s_addr = htonl(0xc0a841fe);
    a->v4[1].s_addr = htonl(0x0a000001);
    a->n6 = 2;
    a->v6[0].s6_addr[0] = 0xfd;
    a->v6[0].s6_addr[15] = 1;
    a->v6[1].s6_addr[15] = 1;
}

/**
 * round_trip() - a response built for an OK query must match it as an answer.
 */
static void round_trip(size_t n, uint16_t id, const struct ns_dns_question *q)
{
    int tc = -1;

    must(n >= 12);
    must(ns_dns_get_id(out) == id);
    must(ns_dns_check_response(out, n, id, q, &tc) == 0);
    must(tc == 0);
}

/**
 * ok_query() - every response to a query that parsed.
 */
static void ok_query(const uint8_t *data, size_t size, uint16_t id,
                     const struct ns_dns_question *q)
{
    struct ns_dns_addrs a, none;
    size_t n;

    n = ns_dns_build_rcode(data, size, NS_DNS_RCODE_SERVFAIL, out, sizeof(out));
    round_trip(n, id, q);
    must((out[3] & 0x0f) == NS_DNS_RCODE_SERVFAIL);

    n = ns_dns_build_answer(data, size, q, NULL, 60, out, sizeof(out));
    round_trip(n, id, q);
    must((out[3] & 0x0f) == NS_DNS_RCODE_NXDOMAIN && (out[2] & 0x04));

    memset(&none, 0, sizeof(none));
    n = ns_dns_build_answer(data, size, q, &none, 60, out, sizeof(out));
    round_trip(n, id, q);
    must((out[3] & 0x0f) == NS_DNS_RCODE_NOERROR && out[6] == 0 && out[7] == 0);

    addrs(&a);
    n = ns_dns_build_answer(data, size, q, &a, 0x7fffffff, out, sizeof(out));
    round_trip(n, id, q);
    if (q->qclass == NS_DNS_CLASS_IN &&
        (q->qtype == NS_DNS_TYPE_A || q->qtype == NS_DNS_TYPE_AAAA))
        must(out[6] == 0 && out[7] == 2);
    else
        must(out[6] == 0 && out[7] == 0);
}

/**
 * error_reply() - a FORMERR or NOTIMP response echoes the ID, with QR set.
 */
static void error_reply(const uint8_t *data, size_t size, uint16_t id, uint8_t rcode)
{
    size_t n = ns_dns_build_rcode(data, size, rcode, out, sizeof(out));

    if (!n)
        return;     /* a huge question section need not fit */
    must(n >= 12);
    must(ns_dns_get_id(out) == id);
    must((out[2] & 0x80) && (out[3] & 0x0f) == rcode);
    must((out[2] & 0x79) == (data[2] & 0x79));    /* opcode and RD echoed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ns_dns_question q;
    uint16_t id = 0;

    switch (ns_dns_parse_query(data, size, &id, &q)) {
    case NS_DNS_OK:
        must(strlen(q.name) <= NS_DNS_NAME_MAX);
        ok_query(data, size, id, &q);
        break;
    case NS_DNS_FORMERR:
        error_reply(data, size, id, NS_DNS_RCODE_FORMERR);
        break;
    case NS_DNS_NOTIMP:
        error_reply(data, size, id, NS_DNS_RCODE_NOTIMP);
        break;
    case NS_DNS_DROP:
        must(size < 12 || (data[2] & 0x80));
        break;
    }
    return 0;
}
