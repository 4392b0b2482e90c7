/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_dns_response.c - libFuzzer harness for upstream answers (dns/msg.c)
 *
 * Each input is one DNS message as an upstream server would send it. It is
 * checked by ns_dns_check_response() three ways:
 *
 * - against a fixed query (ID 0x1234, "www.example.com" A IN), as the
 *   forwarder does for what arrives on its socket; an accepted message must
 *   have QR set and that ID;
 * - against its own ID and a question in other letter case, which must be
 *   accepted exactly when its copy with QR cleared parses as a query
 *   (ns_dns_parse_query() NS_DNS_OK): the two parsers must agree on what a
 *   well-formed message with one question is;
 * - against its own ID plus one, never accepted.
 *
 * No stack is created: these are pure functions of the input.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns/msg.h"

#define FUZZ_ID     0x1234

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t copy[NS_DNS_MSG_MAX], resp[NS_DNS_MSG_MAX];

/**
 * must() - abort() unless @cond: the fuzzer reports it as a crash.
 */
static void must(int cond)
{
    if (!cond)
        abort();
}

/**
 * fixed() - the forwarder's view: a response to our one query, or not.
 */
static void fixed(const uint8_t *data, size_t size)
{
    static const struct ns_dns_question q = {
        .name = "www.example.com", .qtype = NS_DNS_TYPE_A, .qclass = NS_DNS_CLASS_IN,
    };
    int tc = -1;

    if (ns_dns_check_response(data, size, FUZZ_ID, &q, &tc))
        return;
    must(size >= 12 && (data[2] & 0x80) && ns_dns_get_id(data) == FUZZ_ID);
    must(tc == !!(data[2] & 0x02));
}

/**
 * owner() - ldns's reading of @msg's first question name, NULL if none. Caller frees.
 */
static ldns_rdf *owner(const uint8_t *msg, size_t len)
{
    ldns_pkt *p = NULL;
    ldns_rdf *name = NULL;

    if (ldns_wire2pkt(&p, msg, len) == LDNS_STATUS_OK && ldns_pkt_qdcount(p) == 1)
        name = ldns_rdf_clone(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
    ldns_pkt_free(p);
    return name;
}

/**
 * same_question() - does flipping QR leave the message's question as it was?
 * Not always: ldns may reject the response form of bytes it accepts as a
 * query, and a compressed name may point into the header, whose flags byte
 * is what changed. Agreement is only required where the question is the same.
 */
static int same_question(const uint8_t *query, const uint8_t *resp, size_t len)
{
    ldns_rdf *a = owner(query, len), *b = owner(resp, len);
    int same = a && b && ldns_rdf_compare(a, b) == 0;

    ldns_rdf_deep_free(a);
    ldns_rdf_deep_free(b);
    return same;
}

/**
 * agree() - check_response and parse_query agree on the message's question.
 */
static void agree(const uint8_t *data, size_t size)
{
    struct ns_dns_question q;
    uint16_t id;
    size_t i;
    int tc = -1;

    if (size < 12 || size > sizeof(copy))
        return;
    memcpy(copy, data, size);
    copy[2] &= 0x7f;
    if (ns_dns_parse_query(copy, size, &id, &q) != NS_DNS_OK)
        return;
    must(id == ns_dns_get_id(data));
    for (i = 0; q.name[i]; i++)
        q.name[i] = (char)toupper((unsigned char)q.name[i]);
    memcpy(resp, copy, size);
    resp[2] |= 0x80;
    if (!same_question(copy, resp, size))
        return;
    memcpy(copy, resp, size);
    must(ns_dns_check_response(copy, size, id, &q, &tc) == 0);
    must(tc == !!(copy[2] & 0x02));
    must(ns_dns_check_response(copy, size, (uint16_t)(id + 1), &q, &tc) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixed(data, size);
    agree(data, size);
    if (size >= 2)
        (void)ns_dns_get_id(data);
    return 0;
}
