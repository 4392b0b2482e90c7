/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msg.c - DNS messages (RFC 1035, EDNS0 RFC 6891) for the stack's DNS server
 *
 * Theory of Operation
 * ===================
 *
 * Every message that crosses this file, a query from the guest or an answer
 * from an upstream server, is untrusted. The only bytes read here directly are
 * the fixed 12-byte header (RFC 1035 section 4.1.1), through the bounds-checked
 * reader, to find the ID and the QR and opcode bits before anything else:
 *
 *                                  1  1  1  1  1  1
 *    0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *  |                      ID                       |
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *  |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *  |            QDCOUNT / ANCOUNT / NSCOUNT / ARCOUNT
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 * Everything past the header goes through ldns_wire2pkt(), which decodes the
 * whole message or fails: compression pointers must point inside the message
 * (loops end at ldns' pointer and name-length limits), labels are at most 63
 * bytes and names at most 255, and each section must hold as many records as
 * its count says. Only the parsed ldns_pkt is looked at after that, and the
 * EDNS0 OPT record (RFC 6891) comes out of it as the packet's EDNS fields.
 *
 * Names leave this file in presentation form (RFC 1035 section 5.1, ldns'
 * escapes for unusual bytes), lowercased, without the final dot, so that
 * local lookups and question matching compare plain strings.
 *
 * Responses are built as ldns_pkt and written with ldns_pkt2wire(), then
 * copied out if they fit the caller's buffer. The question is the query's own
 * (same bytes, same letter case, RFC 1035 section 4.1.2; resolvers using
 * 0x20 case randomisation check it), and an OPT record is added whenever the
 * query carried one (RFC 6891 section 6.1.1).
 *
 * Every ldns object made here is freed before the function that made it
 * returns, on every path.
 */

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "dns/msg.h"
#include "ethernet/reader.h"

#define DNS_HDR_LEN         12
#define DNS_FLAG_QR         0x80        /* first flags byte */
#define DNS_OPCODE(b)       (((b) >> 3) & 0x0f)
#define DNS_OPCODE_QUERY    0

/* --- Header and names ---------------------------------------------------- */

/**
 * dns_header() - the ID and first flags byte of a message, if it has a header
 * @msg:    message
 * @len:    bytes received
 * @id:     its ID, on success
 * @flags:  its first flags byte (QR, opcode, AA, TC, RD), on success
 *
 * Return: 0, -1 if fewer than 12 bytes arrived
 */
static int dns_header(const uint8_t *msg, size_t len, uint16_t *id, uint8_t *flags)
{
    struct ns_reader r;
    const uint8_t *h;

    ns_reader_init(&r, msg, len);
    h = ns_reader_get(&r, DNS_HDR_LEN);
    if (!h)
        return -1;
    *id = (uint16_t)(h[0] << 8 | h[1]);
    *flags = h[2];
    return 0;
}

/**
 * dns_name() - a domain name as a lowercase presentation string, no final dot
 * @rdf:    name, as parsed by ldns
 * @out:    buffer of NS_DNS_NAME_MAX + 1 bytes
 *
 * The root becomes "". Escapes such as "\." and "\032" (RFC 1035 section
 * 5.1) stay as ldns writes them.
 *
 * Return: 0, -1 if it does not fit or cannot be converted
 */
static int dns_name(const ldns_rdf *rdf, char *out)
{
    char *s = ldns_rdf2str(rdf);
    size_t n, i;
    int ret = -1;

    if (!s)
        return -1;
    n = strlen(s);
    if (n && s[n - 1] == '.')       /* ldns ends every name with the root's dot */
        n--;
    if (n <= NS_DNS_NAME_MAX) {
        for (i = 0; i < n; i++)
            out[i] = (char)tolower((unsigned char)s[i]);
        out[n] = '\0';
        ret = 0;
    }
    free(s);
    return ret;
}

/**
 * dns_question() - the one question of a parsed message
 * @p:      message
 * @q:      its question, on success
 *
 * Return: 0, -1 if there is not exactly one or its name does not fit
 */
static int dns_question(const ldns_pkt *p, struct ns_dns_question *q)
{
    const ldns_rr_list *qs = ldns_pkt_question(p);
    const ldns_rr *rr;

    if (!qs || ldns_rr_list_rr_count(qs) != 1)
        return -1;
    rr = ldns_rr_list_rr(qs, 0);
    if (dns_name(ldns_rr_owner(rr), q->name))
        return -1;
    q->qtype = (uint16_t)ldns_rr_get_type(rr);
    q->qclass = (uint16_t)ldns_rr_get_class(rr);
    return 0;
}

/* --- Queries from the guest ---------------------------------------------- */

/**
 * ns_dns_parse_query() - validate a query from the guest
 * @msg:    message, as received
 * @len:    its length
 * @id:     its ID, set unless NS_DNS_DROP
 * @q:      its question, on NS_DNS_OK
 *
 * A response (QR=1) is never answered, so that two DNS speakers cannot be
 * made to bounce messages at each other; an opcode other than QUERY gets
 * NOTIMP and anything ldns cannot decode, or without exactly one question,
 * gets FORMERR (RFC 1035 section 4.1.1).
 *
 * Return: NS_DNS_OK, NS_DNS_FORMERR, NS_DNS_NOTIMP or NS_DNS_DROP
 */
enum ns_dns_parse ns_dns_parse_query(const uint8_t *msg, size_t len, uint16_t *id,
                                     struct ns_dns_question *q)
{
    enum ns_dns_parse ret = NS_DNS_FORMERR;
    ldns_pkt *p = NULL;
    uint8_t flags;

    if (dns_header(msg, len, id, &flags))
        return NS_DNS_DROP;
    if (flags & DNS_FLAG_QR)
        return NS_DNS_DROP;
    if (DNS_OPCODE(flags) != DNS_OPCODE_QUERY)
        return NS_DNS_NOTIMP;
    if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK)
        return NS_DNS_FORMERR;
    if (!dns_question(p, q))
        ret = NS_DNS_OK;
    ldns_pkt_free(p);
    return ret;
}

/* --- Responses we build -------------------------------------------------- */

/**
 * dns_reply_new() - a response to @query with its ID, opcode, RD and question
 * @query:  the parsed query
 * @rcode:  response code
 *
 * QR and RA are set: the stack's server recurses through the host. The
 * question records are copied (RFC 1035 section 4.1.2), and an OPT record is
 * added if the query had one, advertising NS_DNS_UDP_MAX and echoing the DO
 * bit (RFC 6891 section 6.1.1, RFC 3225 section 3).
 *
 * Return: the response, NULL on allocation failure
 */
static ldns_pkt *dns_reply_new(const ldns_pkt *query, uint8_t rcode)
{
    ldns_rr_list *qs = NULL;
    ldns_pkt *r = ldns_pkt_new();

    if (!r)
        return NULL;
    ldns_pkt_set_id(r, ldns_pkt_id(query));
    ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(query));
    ldns_pkt_set_rd(r, ldns_pkt_rd(query));
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_ra(r, true);
    ldns_pkt_set_rcode(r, rcode);

    if (ldns_pkt_question(query) && ldns_rr_list_rr_count(ldns_pkt_question(query))) {
        qs = ldns_rr_list_clone(ldns_pkt_question(query));
        if (!qs) {
            ldns_pkt_free(r);
            return NULL;
        }
        ldns_rr_list_deep_free(ldns_pkt_question(r));
        ldns_pkt_set_question(r, qs);
        ldns_pkt_set_qdcount(r, (uint16_t)ldns_rr_list_rr_count(qs));
    }

    if (ldns_pkt_edns(query)) {
        ldns_pkt_set_edns_udp_size(r, NS_DNS_UDP_MAX);
        ldns_pkt_set_edns_do(r, ldns_pkt_edns_do(query));
    }
    return r;
}

/**
 * dns_write() - write a response to wire format in the caller's buffer
 * @r:      response
 * @out:    buffer
 * @cap:    its size
 *
 * Return: the length written, 0 if it does not fit or on failure
 */
static size_t dns_write(const ldns_pkt *r, uint8_t *out, size_t cap)
{
    uint8_t *wire = NULL;
    size_t n = 0;

    if (ldns_pkt2wire(&wire, r, &n) != LDNS_STATUS_OK)
        n = 0;
    if (n > cap)
        n = 0;
    if (n)
        memcpy(out, wire, n);
    free(wire);
    return n;
}

/**
 * dns_header_only() - a bare 12-byte response for a query ldns cannot decode
 * @query:  query, at least DNS_HDR_LEN bytes
 * @rcode:  response code
 * @out:    buffer
 * @cap:    its size
 *
 * The ID, opcode and RD are echoed; all counts are 0 (RFC 1035 section 4.1.1).
 *
 * Return: DNS_HDR_LEN, 0 if it does not fit
 */
static size_t dns_header_only(const uint8_t *query, uint8_t rcode, uint8_t *out, size_t cap)
{
    if (cap < DNS_HDR_LEN)
        return 0;
    memset(out, 0, DNS_HDR_LEN);
    out[0] = query[0];
    out[1] = query[1];
    out[2] = (uint8_t)(DNS_FLAG_QR | (query[2] & 0x79));       /* opcode, RD */
    out[3] = (uint8_t)(0x80 | (rcode & 0x0f));                 /* RA, rcode */
    return DNS_HDR_LEN;
}

/**
 * ns_dns_build_rcode() - a response with @rcode to @query
 * @query:  query, as received
 * @qlen:   its length
 * @rcode:  response code (4 bits)
 * @out:    buffer for the response
 * @cap:    its size
 *
 * Return: the response's length in @out, 0 if it does not fit or @query has
 * no header
 */
size_t ns_dns_build_rcode(const uint8_t *query, size_t qlen, uint8_t rcode, uint8_t *out,
                          size_t cap)
{
    ldns_pkt *p = NULL, *r;
    uint16_t id;
    uint8_t flags;
    size_t n = 0;

    if (dns_header(query, qlen, &id, &flags))
        return 0;
    if (ldns_wire2pkt(&p, query, qlen) != LDNS_STATUS_OK)
        return dns_header_only(query, rcode, out, cap);
    r = dns_reply_new(p, rcode & 0x0f);
    if (r)
        n = dns_write(r, out, cap);
    ldns_pkt_free(r);
    ldns_pkt_free(p);
    return n;
}

/**
 * dns_add_addrs() - the answer records for @q from @a
 * @r:      response, with the question's owner name to copy
 * @q:      question
 * @a:      addresses
 * @ttl:    TTL of each record
 *
 * Only records of the type asked for are added (RFC 1035 section 4.3.2); for
 * any other type nothing is, which makes the answer NODATA (RFC 2308
 * section 2.2).
 *
 * Return: 0, -1 on allocation failure
 */
static int dns_add_addrs(ldns_pkt *r, const struct ns_dns_question *q,
                         const struct ns_dns_addrs *a, uint32_t ttl)
{
    const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(r), 0);
    unsigned i, n = 0;
    ldns_rdf *rdata;
    ldns_rr *rr;

    if (q->qclass == NS_DNS_CLASS_IN && q->qtype == NS_DNS_TYPE_A)
        n = a->n4 < NS_DNS_ADDRS_MAX ? a->n4 : NS_DNS_ADDRS_MAX;
    else if (q->qclass == NS_DNS_CLASS_IN && q->qtype == NS_DNS_TYPE_AAAA)
        n = a->n6 < NS_DNS_ADDRS_MAX ? a->n6 : NS_DNS_ADDRS_MAX;

    for (i = 0; i < n; i++) {
        if (q->qtype == NS_DNS_TYPE_A)
            rdata = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &a->v4[i]);
        else
            rdata = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, &a->v6[i]);
        rr = rdata ? ldns_rr_new_frm_type(q->qtype) : NULL;
        if (!rr) {
            ldns_rdf_deep_free(rdata);
            return -1;
        }
        ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(question)));
        ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
        ldns_rr_set_ttl(rr, ttl);
        ldns_rr_set_rdf(rr, rdata, 0);
        if (!ldns_rr_owner(rr) || !ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr)) {
            ldns_rr_free(rr);
            return -1;
        }
    }
    return 0;
}

/**
 * ns_dns_build_answer() - the authoritative answer to @query from @a
 * @query:  query, as received (parsed as NS_DNS_OK before)
 * @qlen:   its length
 * @q:      its question
 * @a:      addresses known for the name, NULL if the name does not exist
 * @ttl:    TTL of the records
 * @out:    buffer for the response
 * @cap:    its size
 *
 * AA is set: these names are the stack's own (RFC 1035 section 4.1.1).
 *
 * Return: the response's length in @out, 0 if it does not fit or @query does
 * not parse
 */
size_t ns_dns_build_answer(const uint8_t *query, size_t qlen, const struct ns_dns_question *q,
                           const struct ns_dns_addrs *a, uint32_t ttl, uint8_t *out, size_t cap)
{
    ldns_pkt *p = NULL, *r = NULL;
    size_t n = 0;

    if (qlen < DNS_HDR_LEN || ldns_wire2pkt(&p, query, qlen) != LDNS_STATUS_OK)
        return 0;
    if (!ldns_pkt_question(p) || ldns_rr_list_rr_count(ldns_pkt_question(p)) != 1)
        goto out;
    r = dns_reply_new(p, a ? NS_DNS_RCODE_NOERROR : NS_DNS_RCODE_NXDOMAIN);
    if (!r)
        goto out;
    ldns_pkt_set_aa(r, true);
    if (a && dns_add_addrs(r, q, a, ttl))
        goto out;
    n = dns_write(r, out, cap);
out:
    ldns_pkt_free(r);
    ldns_pkt_free(p);
    return n;
}

/* --- Responses from upstream --------------------------------------------- */

/**
 * ns_dns_check_response() - is @msg a well-formed response to @q with ID @id?
 * @msg:        message from an upstream server
 * @len:        its length
 * @id:         the ID the query was sent with
 * @q:          the question it asked
 * @truncated:  set to the TC bit, when the response is accepted
 *
 * A response matches a query by ID and by question (RFC 5452 section 9.1);
 * the name is compared case-insensitively (RFC 4343). A truncated response
 * (RFC 2181 section 9) may hold fewer records than the full answer, but its
 * counts must still match what is in it.
 *
 * Return: 0 if it is, -1 if not
 */
int ns_dns_check_response(const uint8_t *msg, size_t len, uint16_t id,
                          const struct ns_dns_question *q, int *truncated)
{
    struct ns_dns_question got;
    ldns_pkt *p = NULL;
    uint16_t got_id;
    uint8_t flags;
    int ret = -1;

    if (dns_header(msg, len, &got_id, &flags))
        return -1;
    if (!(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != DNS_OPCODE_QUERY || got_id != id)
        return -1;
    if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK)
        return -1;
    if (!dns_question(p, &got) && !strcasecmp(got.name, q->name) &&
        got.qtype == q->qtype && got.qclass == q->qclass) {
        *truncated = ldns_pkt_tc(p) ? 1 : 0;
        ret = 0;
    }
    ldns_pkt_free(p);
    return ret;
}

/**
 * ns_dns_get_id() - the ID of a message
 * @msg:    message, at least 2 bytes (not checked)
 *
 * Return: the ID
 */
uint16_t ns_dns_get_id(const uint8_t *msg)
{
    return (uint16_t)(msg[0] << 8 | msg[1]);
}

/**
 * ns_dns_set_id() - set the ID of a message
 * @msg:    message, at least 2 bytes (not checked)
 * @id:     new ID
 */
void ns_dns_set_id(uint8_t *msg, uint16_t id)
{
    msg[0] = (uint8_t)(id >> 8);
    msg[1] = (uint8_t)id;
}
