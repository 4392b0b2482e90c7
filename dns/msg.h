/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msg.h - private: DNS messages (RFC 1035) for the stack's DNS server
 *
 * Parsing and building go through ldns (NLnet Labs), which validates a whole
 * message (compression pointers, label lengths, record counts against the
 * bytes received) before anything here looks at it. Names are handled in
 * presentation form, lowercase, without the trailing dot.
 */
#ifndef NETSTACK_DNS_MSG_H
#define NETSTACK_DNS_MSG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define NS_DNS_NAME_MAX     254         /* presentation form, without the final dot */
#define NS_DNS_MSG_MAX      65535
#define NS_DNS_UDP_MAX      4096        /* largest UDP message we relay or build */
#define NS_DNS_ADDRS_MAX    16

#define NS_DNS_TYPE_A       1
#define NS_DNS_TYPE_AAAA    28
#define NS_DNS_CLASS_IN     1

#define NS_DNS_RCODE_NOERROR  0
#define NS_DNS_RCODE_FORMERR  1
#define NS_DNS_RCODE_SERVFAIL 2
#define NS_DNS_RCODE_NXDOMAIN 3
#define NS_DNS_RCODE_NOTIMP   4
#define NS_DNS_RCODE_REFUSED  5

/* The one question of a query. */
struct ns_dns_question {
    char name[NS_DNS_NAME_MAX + 1];     /* lowercase, no trailing dot; "" for the root */
    uint16_t qtype;
    uint16_t qclass;
};

/* Addresses known for a name (local names, the host's resolver). */
struct ns_dns_addrs {
    unsigned n4, n6;
    struct in_addr v4[NS_DNS_ADDRS_MAX];
    struct in6_addr v6[NS_DNS_ADDRS_MAX];
};

enum ns_dns_parse {
    NS_DNS_OK = 0,          /* a standard query with exactly one question */
    NS_DNS_FORMERR = -1,    /* the header is readable (@id valid) but the rest is not: FORMERR */
    NS_DNS_DROP = -2,       /* too short for a header, or a response: drop silently */
    NS_DNS_NOTIMP = -3,     /* opcode other than QUERY: NOTIMP */
};

/**
 * ns_dns_parse_query() - validate a query from the guest
 * @id: its ID, set unless NS_DNS_DROP
 * @q:  its question, on NS_DNS_OK
 */
enum ns_dns_parse ns_dns_parse_query(const uint8_t *msg, size_t len, uint16_t *id,
                                     struct ns_dns_question *q);

/**
 * ns_dns_build_rcode() - a response with @rcode to the query @query (the ID,
 * RD flag and, if it parses, the question are echoed)
 * Return: its length in @out, 0 if it does not fit.
 */
size_t ns_dns_build_rcode(const uint8_t *query, size_t qlen, uint8_t rcode, uint8_t *out,
                          size_t cap);

/**
 * ns_dns_build_answer() - the authoritative answer to @query for question @q
 * from @a: the A or AAAA records of the asked family (TTL @ttl), NODATA
 * (NOERROR, no answer) when the name has only the other family or the type is
 * neither A nor AAAA, NXDOMAIN when @a is NULL.
 * Return: its length in @out, 0 if it does not fit.
 */
size_t ns_dns_build_answer(const uint8_t *query, size_t qlen, const struct ns_dns_question *q,
                           const struct ns_dns_addrs *a, uint32_t ttl, uint8_t *out, size_t cap);

/**
 * ns_dns_check_response() - is @msg a well-formed response to question @q with
 * ID @id? Sets *@truncated from the TC bit.
 * Return: 0 if it is, -1 if not (malformed, not a response, other ID or question).
 */
int ns_dns_check_response(const uint8_t *msg, size_t len, uint16_t id,
                          const struct ns_dns_question *q, int *truncated);

/* ns_dns_get_id() / ns_dns_set_id() - the ID field (@msg at least 2 bytes). */
uint16_t ns_dns_get_id(const uint8_t *msg);
void ns_dns_set_id(uint8_t *msg, uint16_t id);

#endif /* NETSTACK_DNS_MSG_H */
