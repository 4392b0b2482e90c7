/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pcap_summary.c - `netstack-pcap summary` (tools/pcap/summary.c)
 *
 * Frames are built here, fed to the engine one at a time, each placed right
 * before an unreadable page (an over-read faults), and the JSON report is
 * parsed back with jansson and checked. The command itself is run on capture
 * files written with libpcap into a temporary folder.
 */
#include "tests/unit/harness.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "tools/pcap/summary.h"

#define PEER        IP(93, 184, 216, 34)
#define PEER2       IP(10, 0, 0, 1)
#define DNS_SRV     GW
#define MASK        IP(255, 255, 255, 0)

#define TCP_FIN     0x01
#define TCP_SYN     0x02
#define TCP_RST     0x04
#define TCP_PSH     0x08
#define TCP_ACK     0x10

static uint8_t frame[70000];
static int64_t now_us = 1700000000LL * 1000000;

/* --- Feeding frames and reading the report -------------------------------- */

/**
 * feed_at() - one frame at time @us, @caplen of its @len bytes captured, guarded.
 */
static void feed_at(struct ns_summary *s, int64_t us, const uint8_t *f, size_t caplen, size_t len)
{
    struct timeval tv = { .tv_sec = (time_t)(us / 1000000),
                          .tv_usec = (suseconds_t)(us % 1000000) };
    const uint8_t *p = guarded(f, caplen);

    ns_summary_frame(s, &tv, p, caplen, len);
    unguard();
}

/**
 * feed() - one whole frame, 1 ms after the previous one.
 */
static void feed(struct ns_summary *s, const uint8_t *f, size_t len)
{
    now_us += 1000;
    feed_at(s, now_us, f, len, len);
}

/**
 * report() - the JSON report, parsed (the text one is written too, and must work).
 */
static json_t *report(struct ns_summary *s)
{
    char *buf = NULL, *json, *again;
    size_t len = 0;
    json_error_t jerr;
    json_t *root;
    FILE *m = open_memstream(&buf, &len);

    assert_non_null(m);
    assert_int_equal(ns_summary_print(s, m, 0), 0);
    assert_int_equal(ns_summary_print(s, m, 1), 0);
    assert_int_equal(fclose(m), 0);
    /* the text report comes first, and ends right before the JSON's '{' line */
    json = strstr(buf, "\n{\n") + 1;
    root = json_loads(json, 0, &jerr);
    if (!root)
        fail_msg("JSON report does not parse: %s (line %d)", jerr.text, jerr.line);
    /* written piece by piece, laid out as one json_dumps() of the whole */
    again = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
    assert_non_null(again);
    assert_int_equal(strlen(json), strlen(again) + 1);
    assert_memory_equal(json, again, strlen(again));
    free(again);
    free(buf);
    return root;
}

/**
 * text_report() - the text report, to be freed.
 */
static char *text_report(struct ns_summary *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    assert_non_null(m);
    assert_int_equal(ns_summary_print(s, m, 0), 0);
    assert_int_equal(fclose(m), 0);
    return buf;
}

/**
 * jpath() - a value by dotted path: object keys and array indexes ("flows.0.end").
 */
static json_t *jpath(json_t *root, const char *path)
{
    char buf[256], *tok, *save = NULL;
    json_t *cur = root;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, strtoul(tok, NULL, 10));
        else
            cur = json_object_get(cur, tok);
    }
    if (!cur)
        fail_msg("no %s in the report", path);
    return cur;
}

static long long jnum(json_t *root, const char *path)
{
    json_t *v = jpath(root, path);

    if (!json_is_integer(v))
        fail_msg("%s is not an integer", path);
    return json_integer_value(v);
}

static const char *jtext(json_t *root, const char *path)
{
    json_t *v = jpath(root, path);

    if (!json_is_string(v))
        fail_msg("%s is not a string", path);
    return json_string_value(v);
}

static size_t jlen(json_t *root, const char *path)
{
    return json_array_size(jpath(root, path));
}

/**
 * flow_to() - the flow whose peer end is @peer ("ip:port").
 */
static json_t *flow_to(json_t *root, const char *peer)
{
    json_t *flows = jpath(root, "flows"), *f;
    size_t i;

    json_array_foreach(flows, i, f)
        if (!strcmp(json_string_value(json_object_get(f, "peer")), peer))
            return f;
    fail_msg("no flow to %s", peer);
    return NULL;
}

/* --- Frame builders -------------------------------------------------------- */

/**
 * ip_frame_mac() - Ethernet and IPv4 around @l4, between the given MACs.
 */
static size_t ip_frame_mac(uint8_t *f, const uint8_t *smac, const uint8_t *dmac, uint32_t src,
                           uint32_t dst, uint8_t proto, const uint8_t *l4, size_t len)
{
    uint8_t *h = f + eth(f, dmac, smac, 0x0800);

    memset(h, 0, 20);
    h[0] = 0x45;
    put16(h + 2, (uint16_t)(20 + len));
    put16(h + 4, 1);
    h[8] = 64;
    h[9] = proto;
    put32(h + 12, src);
    put32(h + 16, dst);
    memmove(h + 20, l4, len);
    return 14 + 20 + len;
}

/**
 * ip_frame() - from the guest (@from_guest) to the stack, or the other way.
 */
static size_t ip_frame(uint8_t *f, int from_guest, uint32_t src, uint32_t dst, uint8_t proto,
                       const uint8_t *l4, size_t len)
{
    return ip_frame_mac(f, from_guest ? guest_mac : gw_mac, from_guest ? gw_mac : guest_mac, src,
                        dst, proto, l4, len);
}

static size_t udp_frame_mac(uint8_t *f, const uint8_t *smac, const uint8_t *dmac, uint32_t src,
                            uint16_t sport, uint32_t dst, uint16_t dport, const uint8_t *data,
                            size_t len)
{
    static uint8_t u[66000];

    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + len));
    put16(u + 6, 0);
    memcpy(u + 8, data, len);
    return ip_frame_mac(f, smac, dmac, src, dst, 17, u, 8 + len);
}

static size_t udp_frame(uint8_t *f, int from_guest, uint32_t src, uint16_t sport, uint32_t dst,
                        uint16_t dport, const uint8_t *data, size_t len)
{
    return udp_frame_mac(f, from_guest ? guest_mac : gw_mac, from_guest ? gw_mac : guest_mac,
                         src, sport, dst, dport, data, len);
}

/* One TCP connection between the guest and a peer, with both sides' next sequence numbers. */
struct conn {
    uint32_t gip, pip, gseq, pseq;
    uint16_t gport, pport;
};

/**
 * tcp_frame() - a segment with @dlen bytes of data ('d's unless @data), no checksum.
 */
static size_t tcp_frame(uint8_t *f, int from_guest, uint32_t src, uint16_t sport, uint32_t dst,
                        uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                        const uint8_t *data, size_t dlen)
{
    static uint8_t t[66000];

    memset(t, 0, 20);
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t + 14, win);
    if (data)
        memcpy(t + 20, data, dlen);
    else
        memset(t + 20, 'd', dlen);
    return ip_frame(f, from_guest, src, dst, 6, t, 20 + dlen);
}

/**
 * send_seg() - a segment of @c from the guest or the peer, advancing its sequence.
 */
static void send_seg(struct ns_summary *s, struct conn *c, int from_guest, uint8_t flags,
                     const uint8_t *data, size_t dlen, uint16_t win)
{
    uint32_t *seq = from_guest ? &c->gseq : &c->pseq, ack = from_guest ? c->pseq : c->gseq;
    size_t n;

    if (from_guest)
        n = tcp_frame(frame, 1, c->gip, c->gport, c->pip, c->pport, *seq, ack, flags, win, data,
                      dlen);
    else
        n = tcp_frame(frame, 0, c->pip, c->pport, c->gip, c->gport, *seq, ack, flags, win, data,
                      dlen);
    feed(s, frame, n);
    *seq += (uint32_t)dlen + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
}

static void handshake(struct ns_summary *s, struct conn *c)
{
    send_seg(s, c, 1, TCP_SYN, NULL, 0, 64240);
    send_seg(s, c, 0, TCP_SYN | TCP_ACK, NULL, 0, 65535);
    send_seg(s, c, 1, TCP_ACK, NULL, 0, 64240);
}

/**
 * dhcp_msg() - a DHCP message for the guest's MAC; @server adds the lease's options.
 */
static size_t dhcp_msg(uint8_t *m, uint8_t op, uint8_t type, uint32_t yiaddr, int server)
{
    uint8_t *p = m + 240;

    memset(m, 0, 240);
    m[0] = op;
    m[1] = 1;
    m[2] = 6;
    put32(m + 4, 0x12345678);
    put32(m + 16, yiaddr);
    memcpy(m + 28, guest_mac, 6);
    put32(m + 236, 0x63825363);
    *p++ = 53, *p++ = 1, *p++ = type;
    if (server) {
        *p++ = 54, *p++ = 4, put32(p, GW), p += 4;
        *p++ = 51, *p++ = 4, put32(p, 3600), p += 4;
        *p++ = 1, *p++ = 4, put32(p, MASK), p += 4;
        *p++ = 3, *p++ = 4, put32(p, GW), p += 4;
        *p++ = 6, *p++ = 8, put32(p, GW), put32(p + 4, IP(8, 8, 8, 8)), p += 8;
    }
    *p++ = 255;
    return (size_t)(p - m);
}

/**
 * dhcp_exchange() - DISCOVER, OFFER, REQUEST, ACK between the guest and the stack.
 */
static void dhcp_exchange(struct ns_summary *s)
{
    static const uint8_t types[] = { 1, 2, 3, 5 };
    uint8_t m[400];
    size_t i, n;

    for (i = 0; i < sizeof(types); i++) {
        int client = types[i] == 1 || types[i] == 3;

        n = dhcp_msg(m, client ? 1 : 2, types[i], client ? 0 : GUEST, !client);
        n = udp_frame_mac(frame, client ? guest_mac : gw_mac, bcast_mac, client ? 0 : GW,
                          client ? 68 : 67, IP(255, 255, 255, 255), client ? 67 : 68, m, n);
        feed(s, frame, n);
    }
}

/**
 * put_name() - a name in wire form, no compression. Return: its length.
 */
static size_t put_name(uint8_t *p, const char *name)
{
    size_t n = 0;

    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);

        p[n++] = (uint8_t)l;
        memcpy(p + n, name, l);
        n += l;
        name += l + (dot ? 1 : 0);
    }
    p[n++] = 0;
    return n;
}

/**
 * dns_msg() - a query, or a response with @rcode and no answers yet.
 */
static size_t dns_msg(uint8_t *m, uint16_t id, int response, uint8_t rcode, const char *name,
                      uint16_t qtype)
{
    size_t n;

    memset(m, 0, 12);
    put16(m, id);
    put16(m + 2, response ? (uint16_t)(0x8180 | rcode) : 0x0100);
    put16(m + 4, 1);
    n = 12 + put_name(m + 12, name);
    put16(m + n, qtype);
    put16(m + n + 2, 1);
    return n + 4;
}

/**
 * dns_add_rr() - an answer owned by the question's name (a pointer to offset 12).
 */
static void dns_add_rr(uint8_t *m, size_t *n, uint16_t type, const uint8_t *rdata, size_t rdlen)
{
    uint8_t *p = m + *n;

    put16(p, 0xc00c);
    put16(p + 2, type);
    put16(p + 4, 1);
    put32(p + 6, 300);
    put16(p + 10, (uint16_t)rdlen);
    memcpy(p + 12, rdata, rdlen);
    *n += 12 + rdlen;
    put16(m + 6, (uint16_t)(get16(m + 6) + 1));
}

/**
 * dns_udp() - a DNS message between the guest's port and the stack's resolver.
 */
static void dns_udp(struct ns_summary *s, int from_guest, uint16_t gport, const uint8_t *m,
                    size_t n)
{
    size_t len = from_guest ? udp_frame(frame, 1, GUEST, gport, DNS_SRV, 53, m, n)
                            : udp_frame(frame, 0, DNS_SRV, 53, GUEST, gport, m, n);

    feed(s, frame, len);
}

static struct ns_summary *new_summary(void)
{
    struct ns_summary *s = ns_summary_new();

    assert_non_null(s);
    return s;
}

/* --- The engine ------------------------------------------------------------ */

static void dhcp_gives_guest_and_lease(void **state)
{
    struct ns_summary *s = new_summary();
    uint8_t arp[64];
    json_t *r;
    int i;

    /* The stack sends more frames than the guest: only DHCP tells them apart. */
    for (i = 0; i < 6; i++) {
        size_t n = arp_frame(arp, 1, GW, GUEST);

        memcpy(arp + 6, gw_mac, 6);
        memcpy(arp + 22, gw_mac, 6);
        feed(s, arp, n);
    }
    dhcp_exchange(s);
    r = report(s);
    assert_string_equal(jtext(r, "guest.mac"), "52:54:00:12:34:56");
    assert_string_equal(jtext(r, "guest.identified_by"), "dhcp client");
    assert_string_equal(jtext(r, "guest.stack_mac"), "5a:94:ef:e4:0c:dd");
    assert_string_equal(jtext(r, "guest.stack_identified_by"), "dhcp server");
    assert_string_equal(jtext(r, "guest.lease.address"), "192.168.65.2");
    assert_string_equal(jtext(r, "guest.lease.server"), "192.168.65.1");
    assert_int_equal(jnum(r, "guest.lease.lease_time"), 3600);
    assert_string_equal(jtext(r, "guest.lease.router"), "192.168.65.1");
    assert_string_equal(jtext(r, "guest.lease.netmask"), "255.255.255.0");
    assert_int_equal(jlen(r, "guest.lease.dns"), 2);
    assert_string_equal(jtext(r, "guest.lease.dns.0"), "192.168.65.1");
    assert_string_equal(jtext(r, "guest.lease.dns.1"), "8.8.8.8");
    assert_string_equal(jtext(r, "guest.addresses.0"), "192.168.65.2");
    assert_int_equal(jnum(r, "guest.dhcp.DISCOVER"), 1);
    assert_int_equal(jnum(r, "guest.dhcp.OFFER"), 1);
    assert_int_equal(jnum(r, "guest.dhcp.REQUEST"), 1);
    assert_int_equal(jnum(r, "guest.dhcp.ACK"), 1);
    assert_int_equal(jnum(r, "guest.dhcp.NAK"), 0);
    assert_int_equal(jnum(r, "guest.dhcp.RELEASE"), 0);
    assert_int_equal(jnum(r, "guest.dhcp.DECLINE"), 0);
    assert_int_equal(jnum(r, "guest.dhcp.INFORM"), 0);
    assert_int_equal(jnum(r, "totals.frames"), 10);
    assert_int_equal(jnum(r, "totals.guest_to_stack"), 2);
    assert_int_equal(jnum(r, "totals.stack_to_guest"), 8);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_dhcp_malformed"), 0);
    json_decref(r);
    ns_summary_free(s);
}

static void tcp_fin_counts_bytes_both_ways(void **state)
{
    struct conn c = { GUEST, PEER, 1000, 70000, 40000, 80 };
    struct ns_summary *s = new_summary();
    int64_t start;
    json_t *r, *f;

    dhcp_exchange(s);
    start = now_us + 1000;
    handshake(s, &c);
    send_seg(s, &c, 1, TCP_PSH | TCP_ACK, NULL, 100, 64240);
    send_seg(s, &c, 0, TCP_ACK, NULL, 300, 65535);
    send_seg(s, &c, 0, TCP_PSH | TCP_ACK, NULL, 200, 65535);
    send_seg(s, &c, 1, TCP_ACK, NULL, 0, 64240);
    send_seg(s, &c, 1, TCP_FIN | TCP_ACK, NULL, 0, 64240);
    send_seg(s, &c, 0, TCP_FIN | TCP_ACK, NULL, 0, 65535);
    send_seg(s, &c, 1, TCP_ACK, NULL, 0, 64240);
    r = report(s);
    f = flow_to(r, "93.184.216.34:80");
    assert_string_equal(jtext(f, "proto"), "tcp");
    assert_string_equal(jtext(f, "guest"), "192.168.65.2:40000");
    assert_int_equal(jnum(f, "bytes_guest_to_peer"), 100);
    assert_int_equal(jnum(f, "bytes_peer_to_guest"), 500);
    assert_int_equal(jnum(f, "packets_guest_to_peer"), 6);
    assert_int_equal(jnum(f, "packets_peer_to_guest"), 4);
    assert_string_equal(jtext(f, "end"), "fin");
    assert_string_equal(jtext(f, "opened_by"), "guest");
    assert_int_equal(jnum(f, "retransmissions_guest_to_peer"), 0);
    assert_int_equal(jnum(f, "retransmissions_peer_to_guest"), 0);
    assert_true(json_real_value(jpath(f, "first")) * 1e6 - (double)start < 1.0 &&
                json_real_value(jpath(f, "first")) * 1e6 - (double)start > -1.0);
    assert_true(json_real_value(jpath(f, "duration")) > 0.0089 &&
                json_real_value(jpath(f, "duration")) < 0.0091);
    assert_int_equal(jlen(r, "anomalies.resets"), 0);
    assert_int_equal(jlen(r, "anomalies.unanswered_syns"), 0);
    json_decref(r);
    ns_summary_free(s);
}

static void refused_and_resets(void **state)
{
    struct conn c1 = { GUEST, PEER2, 1, 500, 40001, 443 };
    struct conn c2 = { GUEST, PEER2, 1, 500, 40002, 444 };
    struct conn c3 = { GUEST, PEER2, 1, 500, 40003, 445 };
    struct ns_summary *s = new_summary();
    json_t *r, *rs;

    dhcp_exchange(s);
    send_seg(s, &c1, 1, TCP_SYN, NULL, 0, 64240);
    send_seg(s, &c1, 0, TCP_RST | TCP_ACK, NULL, 0, 0);
    handshake(s, &c2);
    send_seg(s, &c2, 0, TCP_RST, NULL, 0, 0);
    handshake(s, &c3);
    send_seg(s, &c3, 1, TCP_RST | TCP_ACK, NULL, 0, 0);
    r = report(s);
    assert_string_equal(jtext(flow_to(r, "10.0.0.1:443"), "end"), "refused");
    assert_string_equal(jtext(flow_to(r, "10.0.0.1:444"), "end"), "reset by peer");
    assert_string_equal(jtext(flow_to(r, "10.0.0.1:445"), "end"), "reset by guest");
    rs = jpath(r, "anomalies.resets");
    assert_int_equal(json_array_size(rs), 3);
    assert_string_equal(jtext(rs, "0.peer"), "10.0.0.1:443");
    assert_string_equal(jtext(rs, "0.by"), "peer");
    assert_true(json_is_true(jpath(rs, "0.refused")));
    assert_string_equal(jtext(rs, "1.by"), "peer");
    assert_true(json_is_false(jpath(rs, "1.refused")));
    assert_string_equal(jtext(rs, "2.by"), "guest");
    /* a RST's zero window is no zero-window advertisement */
    assert_int_equal(jlen(r, "anomalies.zero_windows"), 0);
    json_decref(r);
    ns_summary_free(s);
}

static void unanswered_syn(void **state)
{
    struct conn c = { GUEST, PEER2, 7, 0, 40010, 8080 };
    struct ns_summary *s = new_summary();
    json_t *r, *f;
    int i;

    dhcp_exchange(s);
    for (i = 0; i < 3; i++) {
        send_seg(s, &c, 1, TCP_SYN, NULL, 0, 64240);
        c.gseq = 7;                     /* the same SYN again */
    }
    r = report(s);
    f = flow_to(r, "10.0.0.1:8080");
    assert_string_equal(jtext(f, "end"), "unanswered SYN");
    assert_int_equal(jnum(f, "packets_guest_to_peer"), 3);
    assert_int_equal(jnum(f, "packets_peer_to_guest"), 0);
    assert_int_equal(jnum(f, "retransmissions_guest_to_peer"), 0);
    assert_int_equal(jlen(r, "anomalies.unanswered_syns"), 1);
    assert_int_equal(jnum(r, "anomalies.unanswered_syns.0.syns"), 3);
    assert_string_equal(jtext(r, "anomalies.unanswered_syns.0.peer"), "10.0.0.1:8080");
    assert_string_equal(jtext(r, "anomalies.unanswered_syns.0.opened_by"), "guest");
    json_decref(r);
    ns_summary_free(s);
}

static void dns_nxdomain_and_unanswered(void **state)
{
    struct ns_summary *s = new_summary();
    uint8_t m[512];
    size_t n;
    json_t *r, *t;

    dhcp_exchange(s);
    dns_udp(s, 1, 5000, m, dns_msg(m, 0x1111, 0, 0, "nx.example.com", 1));
    dns_udp(s, 0, 5000, m, dns_msg(m, 0x1111, 1, 3, "nx.example.com", 1));
    n = dns_msg(m, 0x2222, 0, 0, "lost.example.com", 28);
    dns_udp(s, 1, 5001, m, n);
    dns_udp(s, 1, 5001, m, n);          /* retried, never answered */
    r = report(s);
    assert_int_equal(jnum(r, "dns.queries"), 2);
    assert_int_equal(jnum(r, "dns.answered"), 1);
    assert_int_equal(jnum(r, "dns.unanswered"), 1);
    t = jpath(r, "dns.transactions");
    assert_int_equal(jnum(t, "0.id"), 0x1111);
    assert_string_equal(jtext(t, "0.name"), "nx.example.com");
    assert_string_equal(jtext(t, "0.type"), "A");
    assert_string_equal(jtext(t, "0.rcode"), "NXDOMAIN");
    assert_string_equal(jtext(t, "0.answer"), "NXDOMAIN");
    assert_true(json_is_true(jpath(t, "0.answered")));
    assert_string_equal(jtext(t, "0.client"), "192.168.65.2:5000");
    assert_string_equal(jtext(t, "0.server"), "192.168.65.1:53");
    assert_string_equal(jtext(t, "1.name"), "lost.example.com");
    assert_string_equal(jtext(t, "1.type"), "AAAA");
    assert_true(json_is_false(jpath(t, "1.answered")));
    assert_true(json_is_null(jpath(t, "1.latency_ms")));
    assert_int_equal(jnum(t, "1.retries"), 1);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_dns_malformed"), 0);
    json_decref(r);
    ns_summary_free(s);
}

static void dns_a_answer_with_latency(void **state)
{
    static const uint8_t a1[] = { 93, 184, 216, 34 }, a2[] = { 93, 184, 216, 35 };
    struct ns_summary *s = new_summary();
    uint8_t m[512], cname[64];
    size_t n, cn;
    int64_t t0;
    json_t *r, *t;

    dhcp_exchange(s);
    n = dns_msg(m, 0xabcd, 0, 0, "www.example.com", 1);
    n = udp_frame(frame, 1, GUEST, 6000, DNS_SRV, 53, m, n);
    t0 = now_us + 1000;
    feed_at(s, t0, frame, n, n);
    /* a CNAME whose target ends in a compression pointer, then two addresses */
    n = dns_msg(m, 0xabcd, 1, 0, "www.example.com", 1);
    cn = put_name(cname, "edge") - 1;
    put16(cname + cn, 0xc010);          /* "example.com" of the question */
    dns_add_rr(m, &n, 5, cname, cn + 2);
    dns_add_rr(m, &n, 1, a1, 4);
    dns_add_rr(m, &n, 1, a2, 4);
    n = udp_frame(frame, 0, DNS_SRV, 53, GUEST, 6000, m, n);
    now_us = t0 + 12500;
    feed_at(s, now_us, frame, n, n);
    /* an answer that is only a CNAME */
    dns_udp(s, 1, 6001, m, dns_msg(m, 0x0101, 0, 0, "alias.example.com", 1));
    n = dns_msg(m, 0x0101, 1, 0, "alias.example.com", 1);
    put16(cname + cn, 0xc012);          /* past "alias" */
    dns_add_rr(m, &n, 5, cname, cn + 2);
    dns_udp(s, 0, 6001, m, n);
    r = report(s);
    t = jpath(r, "dns.transactions");
    assert_string_equal(jtext(t, "0.name"), "www.example.com");
    assert_string_equal(jtext(t, "0.rcode"), "NOERROR");
    assert_string_equal(jtext(t, "0.answer"), "93.184.216.34, 93.184.216.35");
    assert_true(json_real_value(jpath(t, "0.latency_ms")) > 12.499 &&
                json_real_value(jpath(t, "0.latency_ms")) < 12.501);
    assert_string_equal(jtext(t, "1.answer"), "CNAME edge.example.com");
    assert_int_equal(jnum(r, "anomalies.malformed.drop_dns_malformed"), 0);
    json_decref(r);
    ns_summary_free(s);
}

static void dns_over_tcp(void **state)
{
    static const uint8_t addr[] = { 1, 2, 3, 4 };
    struct conn c = { GUEST, DNS_SRV, 100, 900, 41000, 53 };
    struct ns_summary *s = new_summary();
    uint8_t m[1200], seg[2600];
    size_t n, n2, big;
    json_t *r, *t;

    dhcp_exchange(s);
    handshake(s, &c);
    /* two whole queries in one segment */
    n = dns_msg(seg + 2, 0x0001, 0, 0, "one.example", 1);
    put16(seg, (uint16_t)n);
    n2 = dns_msg(seg + 4 + n, 0x0002, 0, 0, "two.example", 16);
    put16(seg + 2 + n, (uint16_t)n2);
    send_seg(s, &c, 1, TCP_PSH | TCP_ACK, seg, 4 + n + n2, 64240);
    /* a response split over two segments: unparsed, its rest skipped */
    big = dns_msg(m, 0x0001, 1, 0, "one.example", 1);
    while (big + 16 < 1100)
        dns_add_rr(m, &big, 1, addr, 4);
    put16(seg, (uint16_t)big);
    memcpy(seg + 2, m, big);
    send_seg(s, &c, 0, TCP_ACK, seg, 600, 65535);
    send_seg(s, &c, 0, TCP_PSH | TCP_ACK, seg + 600, big + 2 - 600, 65535);
    /* then a whole one */
    n = dns_msg(seg + 2, 0x0002, 1, 3, "two.example", 16);
    put16(seg, (uint16_t)n);
    send_seg(s, &c, 0, TCP_PSH | TCP_ACK, seg, n + 2, 65535);
    r = report(s);
    t = jpath(r, "dns.transactions");
    assert_int_equal(jnum(r, "dns.queries"), 2);
    assert_string_equal(jtext(t, "0.proto"), "tcp");
    assert_string_equal(jtext(t, "0.name"), "one.example");
    assert_true(json_is_false(jpath(t, "0.answered")));
    assert_string_equal(jtext(t, "1.type"), "TXT");
    assert_string_equal(jtext(t, "1.answer"), "NXDOMAIN");
    assert_int_equal(jnum(r, "dns.unparsed"), 1);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_dns_malformed"), 0);
    json_decref(r);
    ns_summary_free(s);
}

static void retransmission_and_zero_window(void **state)
{
    struct conn c = { GUEST, PEER, 5000, 9000, 40020, 443 };
    struct ns_summary *s = new_summary();
    json_t *r, *f;

    dhcp_exchange(s);
    handshake(s, &c);
    send_seg(s, &c, 1, TCP_ACK, NULL, 100, 64240);
    c.gseq -= 100;
    send_seg(s, &c, 1, TCP_ACK, NULL, 100, 64240);      /* the same bytes again */
    c.gseq -= 50;
    send_seg(s, &c, 1, TCP_ACK, NULL, 100, 64240);      /* half old, half new */
    send_seg(s, &c, 0, TCP_ACK, NULL, 0, 0);
    send_seg(s, &c, 0, TCP_ACK, NULL, 0, 0);
    send_seg(s, &c, 0, TCP_ACK, NULL, 0, 4096);
    r = report(s);
    f = flow_to(r, "93.184.216.34:443");
    assert_int_equal(jnum(f, "retransmissions_guest_to_peer"), 1);
    assert_int_equal(jnum(f, "retransmissions_peer_to_guest"), 0);
    assert_int_equal(jnum(f, "bytes_guest_to_peer"), 150);
    assert_int_equal(jnum(f, "zero_windows_from_peer"), 2);
    assert_int_equal(jnum(f, "zero_windows_from_guest"), 0);
    assert_string_equal(jtext(f, "end"), "open");
    assert_int_equal(jlen(r, "anomalies.retransmissions"), 1);
    assert_int_equal(jnum(r, "anomalies.retransmissions.0.guest_to_peer"), 1);
    assert_int_equal(jlen(r, "anomalies.zero_windows"), 1);
    assert_int_equal(jnum(r, "anomalies.zero_windows.0.from_peer"), 2);
    json_decref(r);
    ns_summary_free(s);
}

static void superframe_counted(void **state)
{
    struct conn c = { GUEST, PEER, 1, 1, 40030, 80 };
    struct ns_summary *s = new_summary();
    json_t *r, *f;

    dhcp_exchange(s);
    handshake(s, &c);
    send_seg(s, &c, 1, TCP_ACK | TCP_PSH, NULL, 40000, 64240);
    send_seg(s, &c, 1, TCP_ACK | TCP_PSH, NULL, 65535 - 40, 64240);
    send_seg(s, &c, 0, TCP_ACK, NULL, 0, 65535);
    r = report(s);
    f = flow_to(r, "93.184.216.34:80");
    assert_int_equal(jnum(f, "bytes_guest_to_peer"), 40000 + 65535 - 40);
    assert_int_equal(jnum(f, "retransmissions_guest_to_peer"), 0);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_ipv4_length"), 0);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_tcp_malformed"), 0);
    assert_true(jnum(r, "totals.bytes") > 14 + 40040 + 14 + 65535);
    json_decref(r);
    ns_summary_free(s);
}

/**
 * bad_ip() - an IPv4 frame whose header byte 0 is @vihl and total length @total.
 */
static size_t bad_ip(uint8_t *f, uint8_t vihl, uint16_t total, size_t len)
{
    memset(f, 0, len);
    eth(f, gw_mac, guest_mac, 0x0800);
    f[14] = vihl;
    put16(f + 16, total);
    f[23] = 17;
    return len;
}

/**
 * l4() - an IPv4 frame carrying @len bytes of @proto, all zero but @hdr.
 */
static size_t l4(uint8_t *f, uint8_t proto, const uint8_t *hdr, size_t hlen, size_t len)
{
    uint8_t p[600];

    memset(p, 0, sizeof(p));
    if (hlen)
        memcpy(p, hdr, hlen);
    return ip_frame(f, 1, GUEST, PEER, proto, p, len);
}

static void malformed_counted_by_reason(void **state)
{
    static const uint8_t udp_short_len[] = { 0, 1, 0, 2, 0, 4, 0, 0 };
    static const uint8_t udp_long_len[] = { 0, 1, 0, 2, 0, 200, 0, 0 };
    static const uint8_t tcp_doff4[] = { 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x02 };
    static const uint8_t tcp_doff15[] = { 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x02 };
    struct ns_summary *s = new_summary();
    uint8_t m[600], dns[64];
    size_t n;
    json_t *r;

    memset(frame, 0, 64);
    feed(s, frame, 10);                                             /* drop_eth_short */
    eth(frame, gw_mac, guest_mac, 0x88cc);
    feed(s, frame, 60);                                             /* drop_eth_type */
    eth(frame, gw_mac, guest_mac, 0x8100);
    feed(s, frame, 60);                                             /* drop_eth_type */
    eth(frame, gw_mac, guest_mac, 0x86dd);
    feed(s, frame, 60);                                             /* ipv6 */
    n = arp_frame(frame, 1, GUEST, GW);
    put16(frame + 14, 6);
    feed(s, frame, n);                                              /* drop_arp_malformed */
    n = arp_frame(frame, 1, GUEST, GW);
    feed(s, frame, 14 + 20);                                        /* drop_arp_malformed */
    feed(s, frame, bad_ip(frame, 0x65, 40, 60));                    /* drop_ipv4_header */
    feed(s, frame, bad_ip(frame, 0x44, 40, 60));                    /* drop_ipv4_header */
    feed(s, frame, bad_ip(frame, 0x45, 20, 14 + 12));               /* drop_ipv4_header */
    feed(s, frame, bad_ip(frame, 0x46, 20, 14 + 22));               /* drop_ipv4_header */
    feed(s, frame, bad_ip(frame, 0x45, 1000, 60));                  /* drop_ipv4_length */
    feed(s, frame, bad_ip(frame, 0x45, 10, 60));                    /* drop_ipv4_length */
    feed(s, frame, l4(frame, 17, NULL, 0, 4));                      /* drop_udp_malformed */
    feed(s, frame, l4(frame, 17, udp_short_len, 8, 8));             /* drop_udp_malformed */
    feed(s, frame, l4(frame, 17, udp_long_len, 8, 40));             /* drop_udp_malformed */
    feed(s, frame, l4(frame, 6, tcp_doff4, 14, 20));                /* drop_tcp_malformed */
    feed(s, frame, l4(frame, 6, tcp_doff15, 14, 40));               /* drop_tcp_malformed */
    feed(s, frame, l4(frame, 6, NULL, 0, 12));                      /* drop_tcp_malformed */
    feed(s, frame, l4(frame, 1, NULL, 0, 4));                       /* drop_icmp_malformed */
    n = dhcp_msg(m, 1, 1, 0, 0);
    put32(m + 236, 0x01020304);
    feed(s, frame, udp_frame(frame, 1, 0, 68, IP(255, 255, 255, 255), 67, m, n));
    n = dhcp_msg(m, 1, 1, 0, 0);
    m[n - 1] = 12, m[n++] = 40;                                     /* option past the end */
    feed(s, frame, udp_frame(frame, 1, 0, 68, IP(255, 255, 255, 255), 67, m, n));
    feed(s, frame, udp_frame(frame, 1, GUEST, 7000, DNS_SRV, 53, m, 5));    /* short header */
    /* a name that is a compression pointer to itself */
    memset(dns, 0, sizeof(dns));
    put16(dns, 0x4242);
    put16(dns + 4, 1);
    put16(dns + 12, 0xc00c);
    feed(s, frame, udp_frame(frame, 1, GUEST, 7001, DNS_SRV, 53, dns, 18));
    /* two pointers pointing at each other */
    put16(dns + 12, 0xc00e);
    put16(dns + 14, 0xc00c);
    feed(s, frame, udp_frame(frame, 1, GUEST, 7002, DNS_SRV, 53, dns, 20));
    /* a label past the message's end */
    dns[12] = 40;
    feed(s, frame, udp_frame(frame, 1, GUEST, 7003, DNS_SRV, 53, dns, 20));
    /* cut by the snap length: parsed as far as it goes, not malformed */
    n = tcp_frame(frame, 1, GUEST, 40040, PEER, 80, 1, 1, TCP_ACK, 100, NULL, 1000);
    now_us += 1000;
    feed_at(s, now_us, frame, 14 + 20 + 20 + 10, n);
    n = l4(frame, 6, tcp_doff15, 14, 40);
    feed_at(s, now_us, frame, 30, n);

    r = report(s);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_eth_short"), 1);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_eth_type"), 2);
    assert_int_equal(jnum(r, "anomalies.ipv6"), 1);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_arp_malformed"), 2);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_ipv4_header"), 4);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_ipv4_length"), 2);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_udp_malformed"), 3);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_tcp_malformed"), 3);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_icmp_malformed"), 1);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_dhcp_malformed"), 2);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_dns_malformed"), 4);
    assert_int_equal(jnum(r, "anomalies.truncated_by_snaplen"), 2);
    assert_int_equal(jnum(r, "dns.queries"), 0);
    assert_string_equal(jtext(flow_to(r, "93.184.216.34:80"), "end"), "open");
    assert_int_equal(jnum(flow_to(r, "93.184.216.34:80"), "bytes_guest_to_peer"), 1000);
    json_decref(r);
    ns_summary_free(s);
}

static void snaplen_cut_dns_is_unparsed(void **state)
{
    static const uint8_t addr[] = { 5, 6, 7, 8 };
    struct ns_summary *s = new_summary();
    uint8_t m[512];
    size_t n;
    json_t *r;

    dns_udp(s, 1, 8000, m, dns_msg(m, 0x7777, 0, 0, "cut.example", 1));
    n = dns_msg(m, 0x7777, 1, 0, "cut.example", 1);
    dns_add_rr(m, &n, 1, addr, 4);
    dns_add_rr(m, &n, 1, addr, 4);
    n = udp_frame(frame, 0, DNS_SRV, 53, GUEST, 8000, m, n);
    now_us += 1000;
    feed_at(s, now_us, frame, n - 10, n);
    r = report(s);
    assert_int_equal(jnum(r, "anomalies.truncated_by_snaplen"), 1);
    assert_int_equal(jnum(r, "anomalies.malformed.drop_dns_malformed"), 0);
    assert_int_equal(jnum(r, "dns.unparsed"), 1);
    assert_true(json_is_true(jpath(r, "dns.transactions.0.answered")));
    assert_string_equal(jtext(r, "dns.transactions.0.answer"), "5.6.7.8");
    json_decref(r);
    ns_summary_free(s);
}

static void icmp_echo_and_errors(void **state)
{
    struct ns_summary *s = new_summary();
    uint8_t p[200], q[100];
    size_t n, qn;
    json_t *r, *f, *e;

    dhcp_exchange(s);
    n = icmp_echo(p, 7, 1, 56);
    feed(s, frame, ip_frame(frame, 1, GUEST, IP(8, 8, 8, 8), 1, p, n));
    p[0] = 0;
    feed(s, frame, ip_frame(frame, 0, IP(8, 8, 8, 8), GUEST, 1, p, n));
    /* a UDP datagram, and the port unreachable the stack sends back for it */
    feed(s, frame, udp_frame(frame, 1, GUEST, 9000, PEER2, 9999, (const uint8_t *)"hi", 2));
    qn = ip_frame(q, 1, GUEST, PEER2, 17, frame + 34, 10) - 14;
    memset(p, 0, 8);
    p[0] = 3;
    p[1] = 3;
    memcpy(p + 8, q + 14, qn);
    feed(s, frame, ip_frame(frame, 0, PEER2, GUEST, 1, p, 8 + qn));
    r = report(s);
    f = flow_to(r, "8.8.8.8");
    assert_string_equal(jtext(f, "proto"), "icmp");
    assert_int_equal(jnum(f, "echo_id"), 7);
    assert_int_equal(jnum(f, "bytes_guest_to_peer"), 56);
    assert_int_equal(jnum(f, "bytes_peer_to_guest"), 56);
    assert_true(json_is_null(jpath(f, "end")));
    assert_int_equal(jnum(flow_to(r, "10.0.0.1:9999"), "icmp_errors"), 1);
    assert_int_equal(jlen(r, "anomalies.icmp_errors"), 1);
    e = jpath(r, "anomalies.icmp_errors.0");
    assert_int_equal(jnum(e, "type"), 3);
    assert_int_equal(jnum(e, "code"), 3);
    assert_string_equal(jtext(e, "name"), "port unreachable");
    assert_string_equal(jtext(e, "quoted.proto"), "udp");
    assert_string_equal(jtext(e, "quoted.src"), "192.168.65.2:9000");
    assert_string_equal(jtext(e, "quoted.dst"), "10.0.0.1:9999");
    assert_int_equal(jnum(e, "flow"), jnum(flow_to(r, "10.0.0.1:9999"), "id"));
    json_decref(r);
    ns_summary_free(s);
}

static void fragments_and_port_reuse(void **state)
{
    struct conn c = { GUEST, PEER, 1, 1, 40050, 80 };
    struct ns_summary *s = new_summary();
    uint8_t p[64];
    size_t n;
    json_t *r;

    dhcp_exchange(s);
    memset(p, 0, sizeof(p));
    n = ip_frame(frame, 1, GUEST, PEER, 17, p, 32);
    put16(frame + 20, 0x2000);                  /* more fragments */
    feed(s, frame, n);
    put16(frame + 20, 4);                       /* offset 32 */
    feed(s, frame, n);
    handshake(s, &c);
    send_seg(s, &c, 1, TCP_FIN | TCP_ACK, NULL, 0, 100);
    send_seg(s, &c, 0, TCP_FIN | TCP_ACK, NULL, 0, 100);
    c.gseq = 77777;
    handshake(s, &c);
    r = report(s);
    assert_int_equal(jnum(r, "anomalies.fragments"), 2);
    assert_int_equal(jnum(r, "totals.flows"), 4);   /* DHCP's two, the TCP flow twice */
    assert_string_equal(jtext(r, "flows.2.end"), "fin");
    assert_string_equal(jtext(r, "flows.3.end"), "open");
    assert_string_equal(jtext(r, "flows.3.peer"), "93.184.216.34:80");
    json_decref(r);
    ns_summary_free(s);
}

static void sides_without_dhcp(void **state)
{
    struct conn c = { GUEST, PEER, 1, 1, 40060, 80 };
    struct ns_summary *s = new_summary();
    json_t *r;
    int i;

    /* the stack answers ARP for two addresses: it is the stack */
    for (i = 0; i < 2; i++) {
        size_t n = arp_frame(frame, 2, i ? GW : ALIAS, GUEST);

        memcpy(frame + 6, gw_mac, 6);
        memcpy(frame + 22, gw_mac, 6);
        feed(s, frame, n);
    }
    /* and the connection is opened by the peer (a port forward to the guest) */
    send_seg(s, &c, 0, TCP_SYN, NULL, 0, 100);
    send_seg(s, &c, 1, TCP_SYN | TCP_ACK, NULL, 0, 100);
    send_seg(s, &c, 0, TCP_ACK, NULL, 10, 100);
    r = report(s);
    assert_string_equal(jtext(r, "guest.stack_mac"), "5a:94:ef:e4:0c:dd");
    assert_string_equal(jtext(r, "guest.stack_identified_by"), "arp for several addresses");
    assert_string_equal(jtext(r, "guest.mac"), "52:54:00:12:34:56");
    assert_string_equal(jtext(r, "flows.0.guest"), "192.168.65.2:40060");
    assert_string_equal(jtext(r, "flows.0.opened_by"), "peer");
    assert_int_equal(jnum(r, "flows.0.bytes_peer_to_guest"), 10);
    json_decref(r);
    ns_summary_free(s);
}

static void flows_are_bounded(void **state)
{
    struct ns_summary *s = new_summary();
    struct timeval tv = { 1700000000, 0 };
    uint32_t i;
    char *t;

    for (i = 0; i < 70010; i++) {       /* the last 10 again: counted once */
        uint32_t k = i < 70000 ? i : i - 10;
        size_t n = udp_frame(frame, 1, GUEST, (uint16_t)(1024 + k % 60000),
                             IP(10, 1, (k / 60000) & 0xff, 1), 9, (const uint8_t *)"x", 1);

        ns_summary_frame(s, &tv, frame, n, n);
    }
    /* the text report: the JSON one of 65536 flows is slow to parse under valgrind */
    t = text_report(s);
    assert_non_null(strstr(t, "\nFlows (65536)\n"));
    assert_non_null(strstr(t, "untracked             flows 4464,"));
    assert_non_null(strstr(t, "  Frames:     70010 "));
    free(t);
    ns_summary_free(s);
}

static void text_report_has_sections(void **state)
{
    struct conn c = { GUEST, PEER, 1, 1, 40070, 80 };
    struct ns_summary *s = new_summary();
    uint8_t m[512];
    char *t;

    dhcp_exchange(s);
    handshake(s, &c);
    send_seg(s, &c, 1, TCP_FIN | TCP_ACK, NULL, 5, 100);
    send_seg(s, &c, 0, TCP_FIN | TCP_ACK, NULL, 0, 100);
    dns_udp(s, 1, 5000, m, dns_msg(m, 0x1111, 0, 0, "nx.example.com", 1));
    dns_udp(s, 0, 5000, m, dns_msg(m, 0x1111, 1, 3, "nx.example.com", 1));
    t = text_report(s);
    assert_non_null(strstr(t, "Guest\n"));
    assert_non_null(strstr(t, "\nFlows (4)\n"));
    assert_non_null(strstr(t, "\nDNS ("));
    assert_non_null(strstr(t, "\nAnomalies\n"));
    assert_non_null(strstr(t, "\nTotals\n"));
    assert_non_null(strstr(t, "192.168.65.2:40070"));
    assert_non_null(strstr(t, "nx.example.com -> NXDOMAIN"));
    assert_non_null(strstr(t, "  fin\n"));
    free(t);
    ns_summary_free(s);
}

static void empty_summary_reports(void **state)
{
    struct ns_summary *s = new_summary();
    json_t *r = report(s);

    assert_int_equal(jnum(r, "totals.frames"), 0);
    assert_true(json_is_null(jpath(r, "totals.first")));
    assert_true(json_is_null(jpath(r, "guest.mac")));
    assert_int_equal(jlen(r, "flows"), 0);
    json_decref(r);
    ns_summary_free(s);
    ns_summary_free(NULL);
}

/* --- The command, on files ------------------------------------------------- */

static char tmpdir[64];

/**
 * tmp_path() - the path of @name (a literal) in the temporary folder, the same each time.
 */
static const char *tmp_path(const char *name)
{
    static const char *names[16];
    static char paths[16][128];
    size_t i;

    for (i = 0; i < 16; i++) {
        if (!names[i]) {
            names[i] = name;
            snprintf(paths[i], sizeof(paths[i]), "%s/%s", tmpdir, name);
        }
        if (!strcmp(names[i], name))
            return paths[i];
    }
    fail_msg("too many temporary files");
    return NULL;
}

static int make_tmpdir(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_pcap_summary.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int remove_tmpdir(void **state)
{
    static const char *const names[] = {
        "good.pcap", "trunc.pcap", "raw.pcap", "garbage.pcap", "rot.1", "rot", "out", "err",
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(tmp_path(names[i]));
    rmdir(tmpdir);
    return 0;
}

/**
 * write_pcap() - @n frames of the TCP exchange below, from frame @from, into @path.
 */
static void write_pcap(const char *path, int dlt, unsigned from, unsigned n)
{
    struct conn c = { GUEST, PEER, 1, 1, 40080, 80 };
    pcap_t *p = pcap_open_dead(dlt, 65535);
    pcap_dumper_t *d;
    unsigned i;

    assert_non_null(p);
    d = pcap_dump_open(p, path);
    assert_non_null(d);
    for (i = 0; i < 5; i++) {
        static const uint8_t flags[] = { TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK | TCP_PSH,
                                         TCP_FIN | TCP_ACK, TCP_FIN | TCP_ACK };
        int g = i != 1 && i != 4;
        struct pcap_pkthdr h = { .ts = { 1700000000, (suseconds_t)i * 1000 } };
        uint32_t *seq = g ? &c.gseq : &c.pseq;
        size_t len = g ? tcp_frame(frame, 1, GUEST, 40080, PEER, 80, *seq, c.pseq, flags[i], 100,
                                   NULL, i == 2 ? 10 : 0)
                       : tcp_frame(frame, 0, PEER, 80, GUEST, 40080, *seq, c.gseq, flags[i], 100,
                                   NULL, 0);

        *seq += (i == 2 ? 10 : 0) + (flags[i] & (TCP_SYN | TCP_FIN) ? 1 : 0);
        h.caplen = h.len = (bpf_u_int32)len;
        if (i >= from && i < from + n)
            pcap_dump((u_char *)d, &h, frame);
    }
    pcap_dump_close(d);
    pcap_close(p);
}

/**
 * slurp() - a file's contents, NUL-terminated, to be freed.
 */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/**
 * run_main() - ns_pcap_summary_main() on @args (NULL-terminated, after "summary"),
 * with stdout and stderr in files. Return: its exit status; *@out and *@err to be freed.
 */
static int run_main(const char *const *args, char **out, char **err)
{
    char *argv[16] = { (char *)"summary" };
    int argc = 1, rc, saved_out, saved_err, fo, fe;

    while (args[argc - 1])
        argv[argc] = (char *)args[argc - 1], argc++;
    fflush(stdout);
    fflush(stderr);
    saved_out = dup(1);
    saved_err = dup(2);
    fo = open(tmp_path("out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fe = open(tmp_path("err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved_out >= 0 && saved_err >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    rc = ns_pcap_summary_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(fo);
    close(fe);
    *out = slurp(tmp_path("out"));
    *err = slurp(tmp_path("err"));
    return rc;
}

/**
 * expect_failure() - exit 2, nothing on stdout, one line on stderr containing @what.
 */
static void expect_failure(const char *const *args, const char *what)
{
    char *out, *err;

    assert_int_equal(run_main(args, &out, &err), 2);
    assert_string_equal(out, "");
    if (!strstr(err, what))
        fail_msg("stderr \"%s\" does not name \"%s\"", err, what);
    free(out);
    free(err);
}

static void main_reads_a_capture(void **state)
{
    const char *args[] = { "--json", tmp_path("good.pcap"), NULL };
    char *out, *err;
    json_t *r;

    write_pcap(tmp_path("good.pcap"), DLT_EN10MB, 0, 5);
    assert_int_equal(run_main(args, &out, &err), 0);
    assert_string_equal(err, "");
    r = json_loads(out, 0, NULL);
    assert_non_null(r);
    assert_int_equal(jnum(r, "totals.frames"), 5);
    assert_string_equal(jtext(r, "flows.0.end"), "fin");
    assert_int_equal(jnum(r, "flows.0.bytes_guest_to_peer"), 10);
    json_decref(r);
    free(out);
    free(err);
    args[0] = args[1];
    args[1] = NULL;
    assert_int_equal(run_main(args, &out, &err), 0);
    assert_non_null(strstr(out, "\nTotals\n"));
    free(out);
    free(err);
}

static void main_joins_rotated_files(void **state)
{
    const char *args[] = { "--json", tmp_path("rot.1"), tmp_path("rot"), NULL };
    char *out, *err;
    json_t *r;

    write_pcap(tmp_path("rot.1"), DLT_EN10MB, 0, 2);
    write_pcap(tmp_path("rot"), DLT_EN10MB, 2, 3);
    assert_int_equal(run_main(args, &out, &err), 0);
    r = json_loads(out, 0, NULL);
    assert_non_null(r);
    assert_int_equal(jlen(r, "flows"), 1);
    assert_int_equal(jnum(r, "totals.frames"), 5);
    assert_string_equal(jtext(r, "flows.0.end"), "fin");
    json_decref(r);
    free(out);
    free(err);
}

static void main_rejects_truncated(void **state)
{
    const char *path = tmp_path("trunc.pcap");
    const char *args[] = { path, NULL };
    struct stat st;

    write_pcap(path, DLT_EN10MB, 0, 5);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 20), 0);     /* mid-record */
    expect_failure(args, path);
}

static void main_rejects_other_link_types(void **state)
{
    const char *path = tmp_path("raw.pcap");
    const char *args[] = { path, NULL };

    write_pcap(path, DLT_RAW, 0, 1);
    expect_failure(args, path);
    expect_failure(args, "not Ethernet");
}

static void main_rejects_garbage_and_missing(void **state)
{
    const char *path = tmp_path("garbage.pcap");
    const char *garbage[] = { path, NULL };
    const char *missing[] = { "/nonexistent/capture.pcap", NULL };
    FILE *f = fopen(path, "wb");
    int i;

    assert_non_null(f);
    for (i = 0; i < 100; i++)
        fputc((i * 37 + 11) & 0xff, f);
    fclose(f);
    expect_failure(garbage, path);
    expect_failure(missing, "/nonexistent/capture.pcap");
}

static void main_command_line(void **state)
{
    const char *none[] = { NULL };
    const char *json_only[] = { "--json", NULL };
    const char *bad[] = { "--bogus", tmp_path("good.pcap"), NULL };
    const char *help[] = { "--help", NULL };
    char *out, *err;

    expect_failure(none, "no capture file");
    expect_failure(json_only, "no capture file");
    expect_failure(bad, "--bogus");
    assert_int_equal(run_main(help, &out, &err), 0);
    assert_non_null(strstr(out, "usage: netstack-pcap summary"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dhcp_gives_guest_and_lease),
        cmocka_unit_test(tcp_fin_counts_bytes_both_ways),
        cmocka_unit_test(refused_and_resets),
        cmocka_unit_test(unanswered_syn),
        cmocka_unit_test(dns_nxdomain_and_unanswered),
        cmocka_unit_test(dns_a_answer_with_latency),
        cmocka_unit_test(dns_over_tcp),
        cmocka_unit_test(retransmission_and_zero_window),
        cmocka_unit_test(superframe_counted),
        cmocka_unit_test(malformed_counted_by_reason),
        cmocka_unit_test(snaplen_cut_dns_is_unparsed),
        cmocka_unit_test(icmp_echo_and_errors),
        cmocka_unit_test(fragments_and_port_reuse),
        cmocka_unit_test(sides_without_dhcp),
        cmocka_unit_test(flows_are_bounded),
        cmocka_unit_test(text_report_has_sections),
        cmocka_unit_test(empty_summary_reports),
        cmocka_unit_test(main_reads_a_capture),
        cmocka_unit_test(main_joins_rotated_files),
        cmocka_unit_test(main_rejects_truncated),
        cmocka_unit_test(main_rejects_other_link_types),
        cmocka_unit_test(main_rejects_garbage_and_missing),
        cmocka_unit_test(main_command_line),
    };

    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
