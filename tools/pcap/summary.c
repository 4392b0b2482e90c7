/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * summary.c - `netstack-pcap summary`: what happened on a guest's link, from
 * a capture of it
 *
 * Theory of Operation
 * ===================
 *
 * A capture of the link between a guest and netstack has two sides: the
 * guest's MAC and the stack's (the gateway's). Frames are taken one at a time
 * and never kept, so which side is which cannot be known while they arrive: a
 * DHCP OFFER that names the stack may come after the guest's first frames.
 * Everything is therefore recorded by MAC address and by canonical endpoint
 * order, and the sides are told apart only when the report is written:
 *
 * - the stack is the MAC that sent DHCP OFFER/ACK/NAK; failing that, the one
 *   that answered ARP for the lease's router (or server); failing that, one
 *   that answered ARP for several addresses (the stack answers for the whole
 *   subnet, a guest only for itself); failing that, the one that is the
 *   source of frames from the most IPv4 addresses (at least two, no tie: the
 *   stack sends from every remote host's address, the guest from its own);
 * - the guest is the MAC that sent DHCP DISCOVER/REQUEST/DECLINE/RELEASE/
 *   INFORM, otherwise the most frequent source MAC that is not the stack's,
 *   otherwise the most frequent unicast destination that is not;
 * - if only the guest is known, the stack is the other MAC that sent most.
 *
 * Flows
 * -----
 * A TCP or UDP flow is keyed by protocol and its two endpoints (address,
 * port), an ICMP echo "flow" by the two addresses and the echo identifier.
 * The key is canonical: side 0 is the lower endpoint, so both directions find
 * the same entry. Each side records what it sent and the MAC of its first
 * frame; at report time the side whose MAC is the guest's (or whose peer's is
 * the stack's, or whose address is one of the guest's, or that opened the
 * flow) is the guest end.
 *
 * A TCP flow ends once, when it happens (enum flow_end): both FINs, or the
 * first RST. A RST from a side that had sent nothing before, answering the
 * other side's SYN, is "refused". A flow opened by a SYN whose other side
 * sent nothing by the end of the capture is an "unanswered SYN"; anything
 * else is "open". A new SYN on a flow that has ended, or with another initial
 * sequence number, starts a new flow (port reuse); the index then finds the
 * new one. Payload bytes are counted once per sequence number: a data segment
 * whose range was already fully sent in its direction is a retransmission and
 * adds nothing (reordering looks the same and is counted the same way).
 * Checksums are never verified: the guest's super-frames (TSO, up to 64 KiB,
 * checksum left partial) are ordinary big segments here.
 *
 * DNS
 * ---
 * Messages to or from port 53 are parsed here with the checked reader (RFC
 * 1035 section 4.1), names iteratively with at most DNS_JUMPS_MAX compression
 * pointers. A query opens a transaction keyed by protocol, client endpoint,
 * server endpoint and ID; the response with the same key answers it. Over TCP
 * each direction keeps the sequence number where its next 2-byte length
 * prefix starts, so whole messages in a segment are parsed, a message that
 * runs past its segment is counted "unparsed" and its remaining bytes are
 * skipped in the segments that follow.
 *
 * Snap length, malformed frames
 * -----------------------------
 * Headers are checked against the lengths on the wire: a frame cut by the
 * snap length (caplen < len) is parsed as far as its bytes go and counted as
 * truncated_by_snaplen, never as malformed. A frame that breaks a rule is
 * counted under the name of the stack's own drop counter for that rule.
 *
 * Bounds
 * ------
 * Every table has a fixed maximum (MACS_MAX, FLOWS_MAX, DNS_MAX,
 * ICMP_ERRORS_MAX) and grows by doubling up to it; what does not fit is
 * counted as untracked. Lookups are open-addressing hash indexes over the
 * entry arrays, seeded per summary, kept at most half full. Flows beyond the
 * maximum are counted once each through a set of their key hashes (LOST_SLOTS
 * slots, at most half used; beyond that each of their packets is counted).
 * A DNS message is read for at most DNS_QUESTIONS_MAX questions and
 * DNS_RECORDS_MAX answers. The JSON report is written one element of its big
 * arrays at a time (struct jw), so writing it costs no more memory than a
 * flow's object. Nothing here recurses on input data.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "ethernet/eth.h"
#include "ethernet/icmp.h"
#include "ethernet/ipv4.h"
#include "ethernet/reader.h"
#include "tools/pcap/summary.h"

/* --- Limits and wire constants ------------------------------------------- */

#define MACS_MAX            1024u
#define FLOWS_MAX           65536u
#define DNS_MAX             65536u
#define ICMP_ERRORS_MAX     4096u
#define LOST_SLOTS          (2 * (size_t)FLOWS_MAX)
#define INDEX_MIN_SLOTS     64
#define MAC_IPS_MAX         8           /* source addresses remembered per MAC */
#define MAC_ARP_MAX         8           /* addresses a MAC answered ARP for */
#define NO_ENTRY            UINT32_MAX

#define TS_SEC_MAX          1000000000000LL     /* clamp: year 33658 */

#define ETH_P_IPV6          0x86dd
#define ARP_REQUEST         1
#define ARP_REPLY           2

#define TCP_HLEN            20
#define TCP_FIN             0x01
#define TCP_SYN             0x02
#define TCP_RST             0x04
#define TCP_ACK             0x10
#define UDP_HLEN            8

#define DNS_PORT            53
#define DNS_FLAG_QR         0x8000
#define DNS_FLAG_TC         0x0200
#define DNS_JUMPS_MAX       64
#define DNS_QUESTIONS_MAX   4           /* read of a message; answers only after all */
#define DNS_RECORDS_MAX     64          /* answer records read of a message */
#define DNS_NAME_WIRE_MAX   255         /* RFC 1035 section 2.3.4 */
#define DNS_NAME_TXT        (4 * DNS_NAME_WIRE_MAX + 2)     /* each byte as \DDD */
#define DNS_NAME_KEEP       255         /* characters of a name kept per transaction */
#define DNS_ANSWER_TXT      256
#define DNS_ANSWER_ADDRS    4
#define DNS_TYPE_A          1
#define DNS_TYPE_CNAME      5
#define DNS_TYPE_PTR        12
#define DNS_TYPE_MX         15
#define DNS_TYPE_AAAA       28

#define DHCP_SERVER_PORT    67
#define DHCP_CLIENT_PORT    68
#define DHCP_CHADDR_LEN     16
#define DHCP_SNAME_LEN      64
#define DHCP_FILE_LEN       128
#define DHCP_MAGIC          0x63825363
#define DHCP_DNS_MAX        4
#define DHCP_TYPES          9           /* 1..8 by name; 0 for any other */

enum dhcp_type {
    DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE,
    DHCPINFORM,
};

/* The report's order: the exchange as it happens, then the rarer ones. */
static const uint8_t dhcp_order[] = {
    DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, DHCPNAK, DHCPRELEASE, DHCPDECLINE, DHCPINFORM,
};

static const char *const dhcp_names[DHCP_TYPES] = {
    "other", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
};

/* Malformed frames, under the names of the stack's own drop counters. */
#define SUM_DROPS(X) \
    X(drop_eth_short) X(drop_eth_type) X(drop_arp_malformed) X(drop_ipv4_header) \
    X(drop_ipv4_length) X(drop_udp_malformed) X(drop_tcp_malformed) \
    X(drop_icmp_malformed) X(drop_dhcp_malformed) X(drop_dns_malformed)

enum drop {
#define X(name) SUM_##name,
    SUM_DROPS(X)
#undef X
    DROP_COUNT
};

static const char *const drop_names[DROP_COUNT] = {
#define X(name) #name,
    SUM_DROPS(X)
#undef X
};

#define SEQ_LT(a, b)    ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_GT(a, b)    SEQ_LT(b, a)

/* --- State ---------------------------------------------------------------- */

/* One MAC address seen as a source (or unicast destination) and what it did. */
struct mac_ent {
    uint8_t mac[ETH_ALEN];
    uint64_t tx_frames, tx_bytes, rx_frames;
    uint32_t dhcp_client;               /* client messages it sent */
    uint32_t dhcp_server;               /* OFFER, ACK, NAK it sent */
    uint32_t ips[MAC_IPS_MAX];          /* distinct nonzero IPv4 sources */
    uint32_t arp_for[MAC_ARP_MAX];      /* addresses it answered ARP for */
    uint8_t n_ips, n_arp;
};

/* Canonical flow key: (ip[0], port[0]) <= (ip[1], port[1]); ICMP: ports = echo id. */
struct flow_key {
    uint32_t ip[2];
    uint16_t port[2];
    uint8_t proto;
};

/* What one side of a flow sent. The TCP fields are in that side's sequence space. */
struct flow_side {
    uint64_t bytes;                     /* payload, each sequence number once */
    uint64_t packets;
    uint32_t mac;                       /* MAC entry of its first frame, NO_ENTRY */
    uint32_t retrans, zero_win, syns;
    uint32_t isn;                       /* sequence number of its first SYN */
    uint32_t seq_end;                   /* highest end of data sent (valid if has_seq) */
    uint32_t dns_next;                  /* DNS over TCP: where the next length prefix is */
    uint8_t has_seq, syn, synack, fin, rst, dns_sync;
};

/*
 * enum flow_end - how a TCP flow ended, set once, when it happens
 * @END_OPEN:    not ended (at report time: "open", or "unanswered SYN" if it
 *               was opened by a SYN the other side never answered)
 * @END_FIN:     both sides sent FIN before any RST
 * @END_RESET:   a RST from end_by, after that side had sent something
 * @END_REFUSED: a RST from end_by answering the other side's SYN
 * Segments after the end still count for the flow; a new SYN starts a new one.
 */
enum flow_end { END_OPEN, END_FIN, END_RESET, END_REFUSED };

struct flow {
    struct flow_key key;
    struct flow_side side[2];
    int64_t first, last;                /* microseconds */
    uint32_t icmp_errors;               /* ICMP errors quoting this flow */
    uint8_t opener;                     /* side of the first SYN, echo request, or packet */
    uint8_t opened_by_syn;
    uint8_t end, end_by;                /* enum flow_end, and the side that ended it */
};

struct dns_key {
    uint32_t cip, sip;                  /* client, server */
    uint16_t cport, sport, id;
    uint8_t proto;
};

struct dns_txn {
    struct dns_key key;
    int64_t t_query, t_answer;
    char *name;                         /* presentation form; NULL if out of memory */
    char *answer;                       /* once answered; NULL if out of memory */
    uint32_t retries;                   /* the same query again, before an answer */
    uint16_t qtype;
    uint8_t answered, rcode;
};

struct icmp_err {
    int64_t ts;
    uint32_t from, to;
    uint32_t flow;                      /* flow entry of the quoted packet, NO_ENTRY */
    struct flow_key q;                  /* quoted packet: ip[0]/port[0] is its source */
    uint8_t type, code, quoted;
};

struct lease {
    uint8_t chaddr[ETH_ALEN];
    uint32_t addr, server, router, mask, lease_time;
    uint32_t dns[DHCP_DNS_MAX];
    uint8_t n_dns, has_router, has_mask, has_time;
};

/* An open-addressing index: each slot holds an entry number + 1, 0 if empty. */
struct index {
    uint32_t *slot;
    size_t size;                        /* a power of two, or 0 */
};

struct ns_summary {
    uint64_t seed;
    uint64_t frames, bytes, captured, truncated;
    uint64_t arp, ipv4, ipv6, ipv4_other, icmp_other, arp_requests, arp_replies;
    uint64_t fragments, drops[DROP_COUNT];
    uint64_t mac_frames_untracked, flows_untracked, dns_untracked;
    uint64_t icmp_errors, icmp_errors_untracked;
    uint64_t dns_unparsed, dns_unmatched, dns_duplicates;
    uint64_t dhcp[DHCP_TYPES];
    int64_t first, last;
    int have_time, have_lease;
    struct lease lease;

    struct mac_ent *macs;
    uint32_t n_macs, cap_macs;
    struct index mac_ix;

    struct flow *flows;
    uint32_t n_flows, cap_flows;
    struct index flow_ix;
    uint64_t *lost;                     /* key hashes of flows beyond FLOWS_MAX */
    size_t n_lost;

    struct dns_txn *dns;
    uint32_t n_dns, cap_dns;
    struct index dns_ix;

    struct icmp_err *errs;
    uint32_t n_errs, cap_errs;
};

/* One frame being taken in. */
struct frame {
    int64_t ts;
    int cut;                            /* caplen < len */
    uint32_t src_mac;                   /* MAC entry, NO_ENTRY */
};

/* An IPv4 packet: its header fields and payload. */
struct ip_pkt {
    uint32_t src, dst;
    uint16_t frag;
    uint8_t proto;
    size_t len;                         /* payload length, from the header */
    struct ns_reader payload;           /* what was captured of it */
};

struct tcp_seg {
    uint32_t seq;
    uint16_t sport, dport, win;
    uint8_t flags;
    size_t dlen;                        /* payload length, from the headers */
    struct ns_reader data;              /* what was captured of it */
};

/* --- Small helpers -------------------------------------------------------- */

/**
 * mix() - the splitmix64 finaliser: every input bit reaches every output bit.
 */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/**
 * ts_us() - a capture timestamp in microseconds
 * @tv:     timestamp (from the file: any value)
 *
 * Return: microseconds, seconds clamped to +-TS_SEC_MAX and microseconds to
 * 0..999999, so that sums and differences cannot overflow
 */
static int64_t ts_us(const struct timeval *tv)
{
    int64_t sec = (int64_t)tv->tv_sec, usec = (int64_t)tv->tv_usec;

    if (sec > TS_SEC_MAX)
        sec = TS_SEC_MAX;
    if (sec < -TS_SEC_MAX)
        sec = -TS_SEC_MAX;
    if (usec < 0)
        usec = 0;
    if (usec > 999999)
        usec = 999999;
    return sec * 1000000 + usec;
}

/**
 * take() - the next @n bytes of @r, or as many as were captured, as their own reader.
 */
static void take(struct ns_reader *r, size_t n, struct ns_reader *out)
{
    size_t left = ns_reader_left(r);

    ns_reader_sub(r, n < left ? n : left, out);
}

/**
 * array_grow() - make room for entry number @need in a table
 * @arr:    the array, reallocated
 * @cap:    its capacity in entries, updated
 * @need:   index of the entry to be written
 * @elem:   size of one entry
 * @max:    the table's bound (@need is below it)
 *
 * Return: 0, -1 if out of memory
 */
static int array_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem, uint32_t max)
{
    uint32_t n = *cap ? *cap : 16;
    void *p;

    if (need < *cap)
        return 0;
    while (n <= need)
        n *= 2;
    if (n > max)
        n = max;
    p = realloc(*arr, (size_t)n * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

static void ip_str(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
    struct in_addr a = { .s_addr = htonl(ip) };

    if (!inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN))
        snprintf(buf, INET_ADDRSTRLEN, "?");
}

static void mac_str(const uint8_t *m, char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* --- Hash indexes --------------------------------------------------------- */

struct index_ops {
    uint64_t (*hash)(const struct ns_summary *s, const void *key);
    const void *(*key)(const struct ns_summary *s, uint32_t e);
    int (*eq)(const void *a, const void *b);
};

/**
 * index_probe() - the slot holding @key, or the empty slot where it would go
 * Relies on the index having at least one empty slot (it is kept half full).
 */
static uint32_t *index_probe(const struct index *ix, const struct index_ops *ops,
                             const struct ns_summary *s, const void *key)
{
    size_t mask = ix->size - 1, i = (size_t)ops->hash(s, key) & mask;

    while (ix->slot[i] && !ops->eq(ops->key(s, ix->slot[i] - 1), key))
        i = (i + 1) & mask;
    return &ix->slot[i];
}

/**
 * index_find() - the newest entry with @key. Return: its number, NO_ENTRY if none.
 */
static uint32_t index_find(const struct index *ix, const struct index_ops *ops,
                           const struct ns_summary *s, const void *key)
{
    uint32_t v;

    if (!ix->size)
        return NO_ENTRY;
    v = *index_probe(ix, ops, s, key);
    return v ? v - 1 : NO_ENTRY;
}

/**
 * index_grow() - rebuild @ix with room for @n entries at most half full
 * @ix:     index
 * @ops:    its table's key functions
 * @s:      summary
 * @n:      entries the table will hold
 *
 * Entries are put back in order, so that of several with one key (a reused
 * flow) the newest is the one found.
 *
 * Return: 0, -1 if out of memory (the old index stays)
 */
static int index_grow(struct index *ix, const struct index_ops *ops, const struct ns_summary *s,
                      size_t n)
{
    struct index nx = { NULL, ix->size ? ix->size * 2 : INDEX_MIN_SLOTS };
    uint32_t e;

    while (nx.size < n * 2)
        nx.size *= 2;
    nx.slot = calloc(nx.size, sizeof(*nx.slot));
    if (!nx.slot)
        return -1;
    for (e = 0; e + 1 < n; e++)         /* all but the entry being added */
        *index_probe(&nx, ops, s, ops->key(s, e)) = e + 1;
    free(ix->slot);
    *ix = nx;
    return 0;
}

/**
 * index_put() - index entry @e, the newest of its table, replacing any older
 * entry with the same key
 *
 * Return: 0, -1 if out of memory
 */
static int index_put(struct index *ix, const struct index_ops *ops, const struct ns_summary *s,
                     uint32_t e)
{
    if (((size_t)e + 1) * 2 > ix->size && index_grow(ix, ops, s, (size_t)e + 1))
        return -1;
    *index_probe(ix, ops, s, ops->key(s, e)) = e + 1;
    return 0;
}

static uint64_t mac_hash(const struct ns_summary *s, const void *key)
{
    const uint8_t *m = key;
    uint64_t v = 0;
    int i;

    for (i = 0; i < ETH_ALEN; i++)
        v = v << 8 | m[i];
    return mix(s->seed ^ v);
}

static const void *mac_key(const struct ns_summary *s, uint32_t e)
{
    return s->macs[e].mac;
}

static int mac_eq(const void *a, const void *b)
{
    return !memcmp(a, b, ETH_ALEN);
}

static const struct index_ops mac_ops = { mac_hash, mac_key, mac_eq };

static uint64_t flow_hash(const struct ns_summary *s, const void *key)
{
    const struct flow_key *k = key;
    uint64_t h = mix(s->seed ^ ((uint64_t)k->ip[0] << 32 | k->ip[1]));

    return mix(h ^ ((uint64_t)k->port[0] << 32 | (uint64_t)k->port[1] << 16 | k->proto));
}

static const void *flow_key_of(const struct ns_summary *s, uint32_t e)
{
    return &s->flows[e].key;
}

static int flow_eq(const void *a, const void *b)
{
    const struct flow_key *x = a, *y = b;

    return x->proto == y->proto && x->ip[0] == y->ip[0] && x->ip[1] == y->ip[1] &&
           x->port[0] == y->port[0] && x->port[1] == y->port[1];
}

static const struct index_ops flow_ops = { flow_hash, flow_key_of, flow_eq };

static uint64_t dns_hash(const struct ns_summary *s, const void *key)
{
    const struct dns_key *k = key;
    uint64_t h = mix(s->seed ^ ((uint64_t)k->cip << 32 | k->sip));

    return mix(h ^ ((uint64_t)k->cport << 40 | (uint64_t)k->sport << 24 |
                    (uint64_t)k->id << 8 | k->proto));
}

static const void *dns_key_of(const struct ns_summary *s, uint32_t e)
{
    return &s->dns[e].key;
}

static int dns_eq(const void *a, const void *b)
{
    const struct dns_key *x = a, *y = b;

    return x->proto == y->proto && x->cip == y->cip && x->sip == y->sip &&
           x->cport == y->cport && x->sport == y->sport && x->id == y->id;
}

static const struct index_ops dns_ops = { dns_hash, dns_key_of, dns_eq };

/* --- MAC addresses -------------------------------------------------------- */

/**
 * mac_get() - the entry for @mac, added if new
 * Return: its number, NO_ENTRY if the table is full or out of memory
 */
static uint32_t mac_get(struct ns_summary *s, const uint8_t *mac)
{
    uint32_t e = index_find(&s->mac_ix, &mac_ops, s, mac);

    if (e != NO_ENTRY)
        return e;
    if (s->n_macs == MACS_MAX ||
        array_grow((void **)&s->macs, &s->cap_macs, s->n_macs, sizeof(*s->macs), MACS_MAX))
        return NO_ENTRY;
    memset(&s->macs[s->n_macs], 0, sizeof(s->macs[0]));
    memcpy(s->macs[s->n_macs].mac, mac, ETH_ALEN);
    if (index_put(&s->mac_ix, &mac_ops, s, s->n_macs))
        return NO_ENTRY;
    return s->n_macs++;
}

/**
 * set_add() - add @v to a small set of @max values.
 */
static void set_add(uint32_t *set, uint8_t *n, uint8_t max, uint32_t v)
{
    uint8_t i;

    for (i = 0; i < *n; i++)
        if (set[i] == v)
            return;
    if (*n < max)
        set[(*n)++] = v;
}

/**
 * mac_add_ip() - @ip (nonzero) was a source address of frames from MAC entry @e.
 */
static void mac_add_ip(struct ns_summary *s, uint32_t e, uint32_t ip)
{
    if (e != NO_ENTRY && ip)
        set_add(s->macs[e].ips, &s->macs[e].n_ips, MAC_IPS_MAX, ip);
}

/**
 * mac_has_ip() - was @ip a source address of MAC entry @e?
 */
static int mac_has_ip(const struct ns_summary *s, uint32_t e, uint32_t ip)
{
    uint8_t i;

    for (i = 0; e != NO_ENTRY && i < s->macs[e].n_ips; i++)
        if (s->macs[e].ips[i] == ip)
            return 1;
    return 0;
}

/* --- Flows ---------------------------------------------------------------- */

/**
 * flow_key_make() - the canonical key of a packet's flow
 * @k:      key, written
 * @dir:    set to the side the packet's source is
 */
static void flow_key_make(struct flow_key *k, int *dir, uint8_t proto, uint32_t src,
                          uint16_t sport, uint32_t dst, uint16_t dport)
{
    int swap = src > dst || (src == dst && sport > dport);

    memset(k, 0, sizeof(*k));
    k->proto = proto;
    k->ip[0] = swap ? dst : src;
    k->port[0] = swap ? dport : sport;
    k->ip[1] = swap ? src : dst;
    k->port[1] = swap ? sport : dport;
    *dir = swap;
}

static struct flow *flow_find(struct ns_summary *s, const struct flow_key *k)
{
    uint32_t e = index_find(&s->flow_ix, &flow_ops, s, k);

    return e == NO_ENTRY ? NULL : &s->flows[e];
}

/**
 * flow_untracked() - count a flow that did not fit, once
 * Its key's hash goes into a set of LOST_SLOTS slots used at most half;
 * once that is full, each packet of a new untracked flow is counted.
 */
static void flow_untracked(struct ns_summary *s, const struct flow_key *k)
{
    uint64_t fp = flow_hash(s, k) | 1;
    size_t i;

    if (!s->lost && !(s->lost = calloc(LOST_SLOTS, sizeof(*s->lost)))) {
        s->flows_untracked++;
        return;
    }
    for (i = fp & (LOST_SLOTS - 1); s->lost[i]; i = (i + 1) & (LOST_SLOTS - 1))
        if (s->lost[i] == fp)
            return;
    if (s->n_lost < LOST_SLOTS / 2) {
        s->lost[i] = fp;
        s->n_lost++;
    }
    s->flows_untracked++;
}

/**
 * flow_new() - start a flow, found from now on by its key
 * @s:      summary
 * @k:      its key
 * @ts:     time of its first packet
 * @opener: the side that opened it
 *
 * Return: the flow, NULL if it did not fit (counted as untracked)
 */
static struct flow *flow_new(struct ns_summary *s, const struct flow_key *k, int64_t ts,
                             int opener)
{
    struct flow *fl;

    if (s->n_flows == FLOWS_MAX ||
        array_grow((void **)&s->flows, &s->cap_flows, s->n_flows, sizeof(*s->flows),
                   FLOWS_MAX)) {
        flow_untracked(s, k);
        return NULL;
    }
    fl = &s->flows[s->n_flows];
    memset(fl, 0, sizeof(*fl));
    fl->key = *k;
    fl->first = fl->last = ts;
    fl->side[0].mac = fl->side[1].mac = NO_ENTRY;
    fl->opener = (uint8_t)opener;
    if (index_put(&s->flow_ix, &flow_ops, s, s->n_flows)) {
        flow_untracked(s, k);
        return NULL;
    }
    s->n_flows++;
    return fl;
}

/**
 * flow_touch() - one more packet from side @dir of @fl.
 */
static void flow_touch(struct flow *fl, int dir, const struct frame *f)
{
    if (f->ts < fl->first)
        fl->first = f->ts;
    if (f->ts > fl->last)
        fl->last = f->ts;
    if (fl->side[dir].mac == NO_ENTRY)
        fl->side[dir].mac = f->src_mac;
    fl->side[dir].packets++;
}

/**
 * flow_get() - the flow of a packet, started if new
 * @dir:    set to the side that sent it
 *
 * Return: the flow, NULL if untracked
 */
static struct flow *flow_get(struct ns_summary *s, const struct frame *f, uint8_t proto,
                             uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, int *dir)
{
    struct flow_key k;
    struct flow *fl;

    flow_key_make(&k, dir, proto, src, sport, dst, dport);
    fl = flow_find(s, &k);
    return fl ? fl : flow_new(s, &k, f->ts, *dir);
}

/* --- Malformed frames ----------------------------------------------------- */

static void drop(struct ns_summary *s, enum drop d)
{
    s->drops[d]++;
}

/**
 * ran_out() - a read failed for lack of bytes
 * In a frame cut by the snap length that is the cut, not a fault of the frame.
 */
static void ran_out(struct ns_summary *s, const struct frame *f, enum drop d)
{
    if (!f->cut)
        drop(s, d);
}

/* --- DNS (RFC 1035) --------------------------------------------------------- */

/* A parsed message: what the report uses of it. */
struct dns_view {
    uint16_t id, flags, qd, an;
    uint16_t qtype;
    char name[DNS_NAME_TXT];
    char answer[DNS_ANSWER_TXT];
};

enum dns_verdict {
    DNS_OK,
    DNS_BAD,            /* no header or no readable question: nothing to track */
    DNS_BAD_ANSWER,     /* header and question fine, answer section not */
};

/**
 * put_label_byte() - one byte of a label in presentation form (RFC 1035 section 5.1).
 */
static void put_label_byte(char *out, size_t *o, uint8_t c)
{
    if (*o + 5 > DNS_NAME_TXT)
        return;
    if (c == '.' || c == '\\') {
        out[(*o)++] = '\\';
        out[(*o)++] = (char)c;
    } else if (c > 0x20 && c < 0x7f) {
        out[(*o)++] = (char)c;
    } else {
        *o += (size_t)snprintf(out + *o, 5, "\\%03u", c);
    }
}

/**
 * dns_name() - read a domain name (RFC 1035 sections 3.1 and 4.1.4)
 * @m:      reader over the whole message
 * @at:     offset of the name in it
 * @out:    DNS_NAME_TXT bytes for the name in presentation form, "." for the root
 * @next:   set to the offset after the name's bytes in place (after its first
 *          compression pointer, or its final zero)
 *
 * Iterative: at most DNS_JUMPS_MAX pointers are followed, and the name may
 * not be longer than 255 bytes, so a pointer loop ends.
 *
 * Return: 0, -1 if the name runs out of the message, has a reserved label
 * type, is too long or follows too many pointers
 */
static int dns_name(const struct ns_reader *m, size_t at, char *out, size_t *next)
{
    size_t pos = at, o = 0, wire = 1, i;
    const uint8_t *p;
    int jumps = 0;
    uint8_t len;

    *next = 0;
    for (;;) {
        if (!(p = ns_reader_peek(m, pos, 1)))
            return -1;
        if ((p[0] & 0xc0) == 0xc0) {
            if (!(p = ns_reader_peek(m, pos, 2)) || ++jumps > DNS_JUMPS_MAX)
                return -1;
            if (!*next)
                *next = pos + 2;
            pos = (size_t)(p[0] & 0x3f) << 8 | p[1];
            continue;
        }
        if (p[0] & 0xc0)                /* 0x40, 0x80: no such label types */
            return -1;
        len = p[0];
        if (!len)
            break;
        wire += 1 + (size_t)len;
        if (wire > DNS_NAME_WIRE_MAX || !(p = ns_reader_peek(m, pos + 1, len)))
            return -1;
        if (o && o + 1 < DNS_NAME_TXT)
            out[o++] = '.';
        for (i = 0; i < len; i++)
            put_label_byte(out, &o, p[i]);
        pos += 1 + (size_t)len;
    }
    if (!*next)
        *next = pos + 1;
    if (!o)
        out[o++] = '.';
    out[o] = '\0';
    return 0;
}

/**
 * dns_skip_name() - move @m past a name. Return: 0, -1 if it does not parse.
 */
static int dns_skip_name(struct ns_reader *m, char *scratch)
{
    size_t next;

    if (dns_name(m, m->off, scratch, &next))
        return -1;
    return ns_reader_skip(m, next - m->off);
}

/* What the answer section says, gathered record by record. */
struct dns_answers {
    char addrs[DNS_ANSWER_TXT];
    char target[DNS_NAME_TXT];          /* first CNAME, PTR or MX target */
    uint16_t target_type, mx_pref;
    unsigned n_addrs, n_records;
};

/**
 * dns_add_addr() - an A or AAAA record's address, if it is among the first shown.
 */
static void dns_add_addr(struct dns_answers *a, int family, const uint8_t *rdata)
{
    char buf[INET6_ADDRSTRLEN];
    size_t n = strlen(a->addrs);

    if (a->n_addrs++ >= DNS_ANSWER_ADDRS || !inet_ntop(family, rdata, buf, sizeof(buf)))
        return;
    snprintf(a->addrs + n, sizeof(a->addrs) - n, "%s%s", n ? ", " : "", buf);
}

/**
 * dns_record() - take in one answer record
 * @m:      reader over the message, just past the record's rdata
 * @type:   its type
 * @rd:     reader over its rdata
 * @a:      what the answers say so far
 */
static void dns_record(const struct ns_reader *m, uint16_t type, struct ns_reader *rd,
                       struct dns_answers *a)
{
    size_t len = ns_reader_left(rd), at = m->off - len, next;
    uint16_t pref = 0;

    a->n_records++;
    if (type == DNS_TYPE_A && len == 4)
        dns_add_addr(a, AF_INET, ns_reader_get(rd, 4));
    else if (type == DNS_TYPE_AAAA && len == 16)
        dns_add_addr(a, AF_INET6, ns_reader_get(rd, 16));
    else if (!a->target_type &&
             (type == DNS_TYPE_CNAME || type == DNS_TYPE_PTR || type == DNS_TYPE_MX)) {
        if (type == DNS_TYPE_MX && ns_reader_be16(rd, &pref))
            return;
        if (!dns_name(m, type == DNS_TYPE_MX ? at + 2 : at, a->target, &next)) {
            a->target_type = type;
            a->mx_pref = pref;
        }
    }
}

static const char *dns_rcode_name(unsigned rcode)
{
    static const char *const names[] = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
    };

    return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}

/**
 * dns_answer_text() - one line for what a response says (see the report).
 */
static void dns_answer_text(struct dns_view *v, const struct dns_answers *a, int broken)
{
    char *out = v->answer;
    unsigned rcode = v->flags & 0x0f;
    const char *rn = dns_rcode_name(rcode);

    if (rcode && rn)
        snprintf(out, DNS_ANSWER_TXT, "%s", rn);
    else if (rcode)
        snprintf(out, DNS_ANSWER_TXT, "RCODE%u", rcode);
    else if (a->n_addrs > DNS_ANSWER_ADDRS)
        snprintf(out, DNS_ANSWER_TXT, "%.200s (+%u more)", a->addrs,
                 a->n_addrs - DNS_ANSWER_ADDRS);
    else if (a->n_addrs)
        snprintf(out, DNS_ANSWER_TXT, "%s", a->addrs);
    else if (a->target_type == DNS_TYPE_CNAME)
        snprintf(out, DNS_ANSWER_TXT, "CNAME %.200s", a->target);
    else if (a->target_type == DNS_TYPE_PTR)
        snprintf(out, DNS_ANSWER_TXT, "PTR %.200s", a->target);
    else if (a->target_type == DNS_TYPE_MX)
        snprintf(out, DNS_ANSWER_TXT, "MX %u %.200s", a->mx_pref, a->target);
    else if (a->n_records)
        snprintf(out, DNS_ANSWER_TXT, "%u record%s", a->n_records, a->n_records > 1 ? "s" : "");
    else if (broken)
        snprintf(out, DNS_ANSWER_TXT, "unparsed");
    else if (v->flags & DNS_FLAG_TC)
        snprintf(out, DNS_ANSWER_TXT, "truncated");
    else
        snprintf(out, DNS_ANSWER_TXT, "NODATA");
}

/**
 * dns_parse() - the header, first question and (for a response) answers of
 * one message
 * @m:      reader over exactly the message
 * @v:      what the report uses of it
 *
 *  +---------------------+
 *  | Header (12 bytes)   | ID, flags (QR opcode AA TC RD RA Z RCODE), 4 counts
 *  | Question            | QNAME, QTYPE, QCLASS, QDCOUNT times
 *  | Answer              | NAME TYPE CLASS TTL RDLENGTH RDATA, ANCOUNT times
 *  | Authority, Additional (not read)
 *  +---------------------+
 *
 * Return: enum dns_verdict
 */
static enum dns_verdict dns_parse(struct ns_reader *m, struct dns_view *v)
{
    char scratch[DNS_NAME_TXT];
    struct dns_answers a;
    struct ns_reader rd;
    uint16_t qclass, type, class, rdlen, i;
    uint32_t ttl;

    memset(v, 0, sizeof(*v));
    memset(&a, 0, sizeof(a));
    v->id = ns_read_be16(m);
    v->flags = ns_read_be16(m);
    v->qd = ns_read_be16(m);
    v->an = ns_read_be16(m);
    ns_reader_skip(m, 2 + 2);                   /* NSCOUNT, ARCOUNT */
    if (ns_reader_failed(m))
        return DNS_BAD;
    if (!v->qd)
        snprintf(v->name, sizeof(v->name), "(no question)");
    else if (dns_skip_name(m, v->name) || ns_reader_be16(m, &v->qtype) ||
             ns_reader_be16(m, &qclass))
        return DNS_BAD;
    for (i = 1; i < v->qd && i < DNS_QUESTIONS_MAX; i++) {
        if (dns_skip_name(m, scratch) || ns_reader_be16(m, &type) || ns_reader_be16(m, &qclass))
            return DNS_BAD;
    }
    if (!(v->flags & DNS_FLAG_QR))
        return DNS_OK;
    if (v->qd > DNS_QUESTIONS_MAX) {    /* the answers are past questions not read */
        a.n_records = v->an;
        dns_answer_text(v, &a, 0);
        return DNS_OK;
    }
    for (i = 0; i < v->an && i < DNS_RECORDS_MAX; i++) {
        if (dns_skip_name(m, scratch) || ns_reader_be16(m, &type) || ns_reader_be16(m, &class) ||
            ns_reader_be32(m, &ttl) || ns_reader_be16(m, &rdlen) || ns_reader_sub(m, rdlen, &rd)) {
            dns_answer_text(v, &a, 1);
            return DNS_BAD_ANSWER;
        }
        dns_record(m, type, &rd, &a);
    }
    a.n_records = v->an;
    dns_answer_text(v, &a, 0);
    return DNS_OK;
}

/**
 * dns_strdup() - a copy of @src cut to @max characters ("..." marking the cut).
 */
static char *dns_strdup(const char *src, size_t max)
{
    size_t n = strlen(src);
    char *p;

    if (n <= max)
        return strdup(src);
    p = malloc(max + 1);
    if (p) {
        memcpy(p, src, max - 3);
        memcpy(p + max - 3, "...", 4);
    }
    return p;
}

/**
 * dns_query() - a query from client @k: a new transaction, or a retry of one.
 */
static void dns_query(struct ns_summary *s, const struct dns_key *k, int64_t ts,
                      const struct dns_view *v)
{
    uint32_t e = index_find(&s->dns_ix, &dns_ops, s, k);
    struct dns_txn *t;

    if (e != NO_ENTRY && !s->dns[e].answered) {
        s->dns[e].retries++;
        return;
    }
    if (s->n_dns == DNS_MAX ||
        array_grow((void **)&s->dns, &s->cap_dns, s->n_dns, sizeof(*s->dns), DNS_MAX)) {
        s->dns_untracked++;
        return;
    }
    t = &s->dns[s->n_dns];
    memset(t, 0, sizeof(*t));
    t->key = *k;
    t->t_query = ts;
    t->qtype = v->qtype;
    if (index_put(&s->dns_ix, &dns_ops, s, s->n_dns)) {
        s->dns_untracked++;
        return;
    }
    t->name = dns_strdup(v->name, DNS_NAME_KEEP);
    s->n_dns++;
}

/**
 * dns_response() - a response to client @k: the answer of its transaction.
 */
static void dns_response(struct ns_summary *s, const struct dns_key *k, int64_t ts,
                         const struct dns_view *v)
{
    uint32_t e = index_find(&s->dns_ix, &dns_ops, s, k);
    struct dns_txn *t;

    if (e == NO_ENTRY) {
        s->dns_unmatched++;
        return;
    }
    t = &s->dns[e];
    if (t->answered) {
        s->dns_duplicates++;
        return;
    }
    t->answered = 1;
    t->t_answer = ts;
    t->rcode = (uint8_t)(v->flags & 0x0f);
    t->answer = strdup(v->answer);
}

/**
 * dns_message() - one DNS message between two endpoints
 * @s:       summary
 * @f:       its frame
 * @ip:      its packet (addresses)
 * @proto:   IPPROTO_UDP or IPPROTO_TCP
 * @sport:   source port
 * @dport:   destination port
 * @m:       reader over the message's bytes that were captured
 * @partial: the snap length cut the message: failing to parse it is not malformed
 */
static void dns_message(struct ns_summary *s, const struct frame *f, const struct ip_pkt *ip,
                        uint8_t proto, uint16_t sport, uint16_t dport, struct ns_reader *m,
                        int partial)
{
    struct dns_view v;
    enum dns_verdict verdict = dns_parse(m, &v);
    struct dns_key k;

    if (verdict != DNS_OK) {
        if (partial)
            s->dns_unparsed++;
        else
            drop(s, SUM_drop_dns_malformed);
        if (verdict == DNS_BAD)
            return;
    }
    memset(&k, 0, sizeof(k));
    k.proto = proto;
    k.id = v.id;
    if (!(v.flags & DNS_FLAG_QR)) {
        k.cip = ip->src, k.cport = sport, k.sip = ip->dst, k.sport = dport;
        dns_query(s, &k, f->ts, &v);
    } else {
        k.cip = ip->dst, k.cport = dport, k.sip = ip->src, k.sport = sport;
        dns_response(s, &k, f->ts, &v);
    }
}

/**
 * dns_tcp() - the DNS messages in one TCP segment (RFC 1035 section 4.2.2)
 * @s:      summary
 * @f:      its frame
 * @ip:     its packet
 * @me:     the side of the flow that sent it
 * @t:      the segment, not a retransmission, with data
 *
 * Each message has a 2-byte length prefix. Parsing starts where the side's
 * next prefix is expected; a message that runs past the segment is counted
 * unparsed and its remaining bytes skipped. A gap (a segment beyond the
 * expected place) loses what was in it: unparsed, and parsing goes on at the
 * segment's start.
 */
static void dns_tcp(struct ns_summary *s, const struct frame *f, const struct ip_pkt *ip,
                    struct flow_side *me, const struct tcp_seg *t)
{
    uint32_t pos = t->seq + ((t->flags & TCP_SYN) ? 1 : 0), end = pos + (uint32_t)t->dlen;
    struct ns_reader data = t->data, m;
    uint16_t mlen;

    if (me->dns_sync && SEQ_LT(pos, me->dns_next)) {
        if (!SEQ_GT(end, me->dns_next))         /* inside a message already counted */
            return;
        if (ns_reader_skip(&data, me->dns_next - pos))
            return;                             /* the snap length cut it before there */
        pos = me->dns_next;
    } else if (me->dns_sync && pos != me->dns_next) {
        s->dns_unparsed++;
    }
    me->dns_sync = 1;
    while (pos != end) {
        if (ns_reader_be16(&data, &mlen)) {
            s->dns_unparsed++;                  /* a prefix split, or the snap length */
            me->dns_sync = 0;
            return;
        }
        if (ns_reader_sub(&data, mlen, &m)) {
            s->dns_unparsed++;
            me->dns_next = pos + 2 + mlen;
            return;
        }
        dns_message(s, f, ip, IPPROTO_TCP, t->sport, t->dport, &m, 0);
        pos += 2 + (uint32_t)mlen;
    }
    me->dns_next = pos;
}

/* --- DHCP (RFC 2131, RFC 2132) ------------------------------------------- */

struct dhcp_view {
    uint8_t op, type, overload;
    uint8_t chaddr[ETH_ALEN];
    uint32_t yiaddr;
    struct lease l;                     /* options an ACK carries */
    uint8_t has_server_id;
};

/**
 * dhcp_option() - take in one option
 * @code:    option code
 * @o:       reader over exactly its value
 * @v:       message being parsed
 * @primary: the option is in the 'options' field (overload is only valid there)
 *
 * The options the stack checks make the message malformed when their length
 * is wrong, as they do for the stack; the others are only used when right.
 *
 * Return: 0, -1 if malformed
 */
static int dhcp_option(uint8_t code, struct ns_reader *o, struct dhcp_view *v, int primary)
{
    size_t len = ns_reader_left(o);

    switch (code) {
    case 53:                                        /* message type, RFC 2132 9.6 */
        return len == 1 ? ns_reader_u8(o, &v->type) : -1;
    case 54:                                        /* server identifier, 9.7 */
        v->has_server_id = 1;
        return len == 4 ? ns_reader_be32(o, &v->l.server) : -1;
    case 52:                                        /* overload, 9.3 */
        if (len != 1)
            return -1;
        if (!primary)
            return 0;
        return ns_reader_u8(o, &v->overload) || v->overload < 1 || v->overload > 3 ? -1 : 0;
    case 51:                                        /* lease time, 9.2 */
        if (len == 4 && !ns_reader_be32(o, &v->l.lease_time))
            v->l.has_time = 1;
        return 0;
    case 1:                                         /* subnet mask, 3.3 */
        if (len == 4 && !ns_reader_be32(o, &v->l.mask))
            v->l.has_mask = 1;
        return 0;
    case 3:                                         /* router, 3.5 */
        if (len >= 4 && len % 4 == 0 && !ns_reader_be32(o, &v->l.router))
            v->l.has_router = 1;
        return 0;
    case 6:                                         /* DNS servers, 3.8 */
        while (len % 4 == 0 && v->l.n_dns < DHCP_DNS_MAX &&
               !ns_reader_be32(o, &v->l.dns[v->l.n_dns]))
            v->l.n_dns++;
        return 0;
    default:
        return 0;
    }
}

/**
 * dhcp_options() - walk one option area (RFC 2132 section 2)
 * Pad and end have no length; every other option's length byte and value
 * must fit in what is left. Running out right after an option is accepted.
 *
 * Return: 0, -1 if an option runs past the area or is malformed
 */
static int dhcp_options(struct ns_reader *r, struct dhcp_view *v, int primary)
{
    struct ns_reader o;
    uint8_t code, len;

    while (!ns_reader_u8(r, &code)) {
        if (code == 0)
            continue;
        if (code == 255)
            return 0;
        if (ns_reader_u8(r, &len) || ns_reader_sub(r, len, &o) ||
            dhcp_option(code, &o, v, primary))
            return -1;
    }
    return 0;
}

/**
 * dhcp_parse() - a DHCP message, client's or server's
 * @r:      reader over the UDP payload
 * @v:      result
 *
 * The fixed BOOTP part (op, htype, hlen, hops, xid, secs, flags, ciaddr,
 * yiaddr, siaddr, giaddr, chaddr[16], sname[64], file[128]), the magic
 * cookie, then the options, and 'file' and 'sname' when overloaded (RFC
 * 2131 section 4.1).
 *
 * Return: 0, -1 if malformed (or cut short)
 */
static int dhcp_parse(struct ns_reader *r, struct dhcp_view *v)
{
    struct ns_reader sname, file;
    uint8_t htype, hlen;
    uint32_t cookie;

    memset(v, 0, sizeof(*v));
    v->op = ns_read_u8(r);
    htype = ns_read_u8(r);
    hlen = ns_read_u8(r);
    ns_reader_skip(r, 1 + 4 + 2 + 2 + 4);       /* hops, xid, secs, flags, ciaddr */
    v->yiaddr = ns_read_be32(r);
    ns_reader_skip(r, 4 + 4);                   /* siaddr, giaddr */
    ns_reader_copy(r, v->chaddr, ETH_ALEN);
    ns_reader_skip(r, DHCP_CHADDR_LEN - ETH_ALEN);
    ns_reader_sub(r, DHCP_SNAME_LEN, &sname);
    ns_reader_sub(r, DHCP_FILE_LEN, &file);
    cookie = ns_read_be32(r);
    if (ns_reader_failed(r))
        return -1;
    if ((v->op != 1 && v->op != 2) || htype != 1 || hlen != ETH_ALEN || cookie != DHCP_MAGIC)
        return -1;
    if (dhcp_options(r, v, 1) || ((v->overload & 1) && dhcp_options(&file, v, 0)) ||
        ((v->overload & 2) && dhcp_options(&sname, v, 0)))
        return -1;
    return v->type ? 0 : -1;
}

/**
 * dhcp_input() - a DHCP message: count it, note who sent it, keep an ACK's lease
 * @s:       summary
 * @f:       its frame
 * @ip:      its packet
 * @r:       reader over the captured UDP payload
 * @partial: the snap length cut it
 */
static void dhcp_input(struct ns_summary *s, const struct frame *f, const struct ip_pkt *ip,
                       struct ns_reader *r, int partial)
{
    struct dhcp_view v;

    if (dhcp_parse(r, &v)) {
        if (!partial)
            drop(s, SUM_drop_dhcp_malformed);
        return;
    }
    s->dhcp[v.type < DHCP_TYPES ? v.type : 0]++;
    if (f->src_mac != NO_ENTRY) {
        if (v.type == DHCPOFFER || v.type == DHCPACK || v.type == DHCPNAK)
            s->macs[f->src_mac].dhcp_server++;
        else if (v.type < DHCP_TYPES)
            s->macs[f->src_mac].dhcp_client++;
    }
    if (v.type == DHCPACK && v.yiaddr) {
        s->lease = v.l;
        s->lease.addr = v.yiaddr;
        if (!v.has_server_id)
            s->lease.server = ip->src;
        memcpy(s->lease.chaddr, v.chaddr, ETH_ALEN);
        s->have_lease = 1;
    }
}

/* --- Frames: Ethernet, ARP, IPv4 ------------------------------------------ */

/**
 * arp_input() - an ARP packet (RFC 826), checked as the stack checks it
 * Replies record which addresses their sender answers for.
 */
static void arp_input(struct ns_summary *s, const struct frame *f, struct ns_reader *r)
{
    uint16_t htype, ptype, op;
    uint8_t hlen, plen;
    uint32_t spa;

    s->arp++;
    htype = ns_read_be16(r);
    ptype = ns_read_be16(r);
    hlen = ns_read_u8(r);
    plen = ns_read_u8(r);
    op = ns_read_be16(r);
    if (ns_reader_failed(r)) {
        ran_out(s, f, SUM_drop_arp_malformed);
        return;
    }
    /* Before the addresses: a foreign packet is malformed even if the capture cut it. */
    if (htype != 1 || ptype != ETH_P_IPV4 || hlen != ETH_ALEN || plen != 4) {
        drop(s, SUM_drop_arp_malformed);
        return;
    }
    ns_reader_skip(r, ETH_ALEN);                /* sender MAC */
    spa = ns_read_be32(r);
    ns_reader_skip(r, ETH_ALEN + 4);            /* target MAC and IPv4 address */
    if (ns_reader_failed(r)) {
        ran_out(s, f, SUM_drop_arp_malformed);
        return;
    }
    mac_add_ip(s, f->src_mac, spa);
    if (op == ARP_REQUEST)
        s->arp_requests++;
    if (op == ARP_REPLY) {
        s->arp_replies++;
        if (f->src_mac != NO_ENTRY)
            set_add(s->macs[f->src_mac].arp_for, &s->macs[f->src_mac].n_arp, MAC_ARP_MAX, spa);
    }
}

/**
 * ipv4_parse() - an IPv4 header (RFC 791), checked against the wire length
 * @s:      summary
 * @f:      its frame
 * @r:      reader over the Ethernet payload that was captured
 * @wire:   the Ethernet payload's length on the wire
 * @ip:     result; its payload excludes Ethernet padding
 *
 * Return: 0, -1 if malformed (counted) or cut before the header's end
 */
static int ipv4_parse(struct ns_summary *s, const struct frame *f, struct ns_reader *r,
                      size_t wire, struct ip_pkt *ip)
{
    uint16_t total;
    uint8_t vihl;
    size_t ihl;

    if (ns_reader_u8(r, &vihl)) {
        ran_out(s, f, SUM_drop_ipv4_header);
        return -1;
    }
    ihl = (size_t)(vihl & 0x0f) * 4;
    if (vihl >> 4 != 4 || ihl < IPV4_HLEN || wire < ihl) {
        drop(s, SUM_drop_ipv4_header);
        return -1;
    }
    ns_reader_skip(r, 1);                       /* type of service */
    total = ns_read_be16(r);
    ns_reader_skip(r, 2);                       /* identification */
    ip->frag = ns_read_be16(r);
    ns_reader_skip(r, 1);                       /* time to live */
    ip->proto = ns_read_u8(r);
    ns_reader_skip(r, 2);                       /* header checksum */
    ip->src = ns_read_be32(r);
    ip->dst = ns_read_be32(r);
    ns_reader_skip(r, ihl - IPV4_HLEN);         /* options */
    if (ns_reader_failed(r))
        return -1;                      /* wire >= ihl: the snap length cut it */
    if (total < ihl || total > wire) {
        drop(s, SUM_drop_ipv4_length);
        return -1;
    }
    ip->len = total - ihl;
    take(r, ip->len, &ip->payload);
    return 0;
}

/**
 * tcp_parse() - a TCP header (RFC 793 section 3.1)
 * Return: 0, -1 if malformed (counted) or cut before the data offset's end
 */
static int tcp_parse(struct ns_summary *s, const struct ip_pkt *ip, struct tcp_seg *t)
{
    struct ns_reader r = ip->payload;
    uint8_t off;
    size_t hlen;

    if (ip->len < TCP_HLEN) {
        drop(s, SUM_drop_tcp_malformed);
        return -1;
    }
    t->sport = ns_read_be16(&r);
    t->dport = ns_read_be16(&r);
    t->seq = ns_read_be32(&r);
    ns_reader_skip(&r, 4);                      /* acknowledgment number */
    off = ns_read_u8(&r);
    t->flags = ns_read_u8(&r);
    t->win = ns_read_be16(&r);
    if (ns_reader_failed(&r))
        return -1;
    hlen = (size_t)(off >> 4) * 4;
    if (hlen < TCP_HLEN || hlen > ip->len) {
        drop(s, SUM_drop_tcp_malformed);
        return -1;
    }
    t->dlen = ip->len - hlen;
    if (ns_reader_skip(&r, hlen - 16))          /* checksum, urgent pointer, options */
        ns_reader_init(&t->data, NULL, 0);
    else
        take(&r, t->dlen, &t->data);
    return 0;
}

/**
 * tcp_data() - sequence accounting for a segment's data
 * @me:     the side that sent it
 * @t:      the segment
 *
 * Return: 1 if its data was all sent before (a retransmission), else 0
 */
static int tcp_data(struct flow_side *me, const struct tcp_seg *t)
{
    uint32_t start = t->seq + ((t->flags & TCP_SYN) ? 1 : 0);
    uint32_t end = start + (uint32_t)t->dlen;

    if (!t->dlen)
        return 0;
    if (!me->has_seq) {
        me->has_seq = 1;
        me->bytes += t->dlen;
    } else if (!SEQ_GT(end, me->seq_end)) {
        me->retrans++;
        return 1;
    } else {
        me->bytes += SEQ_GT(start, me->seq_end) ? t->dlen : end - me->seq_end;
    }
    me->seq_end = end;
    return 0;
}

/**
 * tcp_track() - a segment's effect on its flow: SYNs, data, windows, the end
 * @fl:     flow
 * @dir:    the side that sent it
 * @t:      the segment
 * @f:      its frame
 *
 * Return: 1 if it was a retransmission, else 0
 */
static int tcp_track(struct flow *fl, int dir, const struct tcp_seg *t, const struct frame *f)
{
    struct flow_side *me = &fl->side[dir], *peer = &fl->side[!dir];
    int spoke = me->packets > 0, retrans;

    flow_touch(fl, dir, f);
    if (t->flags & TCP_SYN) {
        me->syns++;
        if (!me->syn) {
            me->syn = 1;
            me->isn = t->seq;
            me->dns_next = t->seq + 1;
            me->dns_sync = 1;
        }
        if (t->flags & TCP_ACK)
            me->synack = 1;
        if (!me->has_seq) {
            me->has_seq = 1;
            me->seq_end = t->seq + 1;
        }
    }
    retrans = tcp_data(me, t);
    if (!t->win && !(t->flags & TCP_RST))
        me->zero_win++;
    if (t->flags & TCP_RST) {
        me->rst = 1;
        if (fl->end == END_OPEN) {
            fl->end = dir != fl->opener && fl->opened_by_syn && !spoke ? END_REFUSED : END_RESET;
            fl->end_by = (uint8_t)dir;
        }
    }
    if (t->flags & TCP_FIN) {
        me->fin = 1;
        if (peer->fin && fl->end == END_OPEN)
            fl->end = END_FIN;
    }
    return retrans;
}

/**
 * tcp_input() - a TCP segment: its flow (a new one for a SYN on an ended
 * flow or with another initial sequence number), then DNS on port 53
 */
static void tcp_input(struct ns_summary *s, const struct frame *f, const struct ip_pkt *ip)
{
    struct flow_key k;
    struct tcp_seg t;
    struct flow *fl;
    int dir, opening;

    if (tcp_parse(s, ip, &t))
        return;
    opening = (t.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    flow_key_make(&k, &dir, IPPROTO_TCP, ip->src, t.sport, ip->dst, t.dport);
    fl = flow_find(s, &k);
    if (fl && opening && (fl->end != END_OPEN || (fl->side[dir].syn && fl->side[dir].isn != t.seq)))
        fl = NULL;
    if (!fl) {
        fl = flow_new(s, &k, f->ts, dir);
        if (!fl)
            return;
        fl->opened_by_syn = (uint8_t)opening;
    }
    if (tcp_track(fl, dir, &t, f) || !t.dlen)
        return;
    if (t.sport == DNS_PORT || t.dport == DNS_PORT)
        dns_tcp(s, f, ip, &fl->side[dir], &t);
}

/**
 * udp_input() - a UDP datagram (RFC 768): its flow, then DHCP or DNS.
 */
static void udp_input(struct ns_summary *s, const struct frame *f, struct ip_pkt *ip)
{
    uint16_t sport, dport, ulen;
    struct ns_reader data;
    struct flow *fl;
    int dir, partial;

    if (ip->len < UDP_HLEN) {
        drop(s, SUM_drop_udp_malformed);
        return;
    }
    sport = ns_read_be16(&ip->payload);
    dport = ns_read_be16(&ip->payload);
    ulen = ns_read_be16(&ip->payload);
    ns_reader_skip(&ip->payload, 2);            /* checksum */
    if (ns_reader_failed(&ip->payload))
        return;
    if (ulen < UDP_HLEN || ulen > ip->len) {
        drop(s, SUM_drop_udp_malformed);
        return;
    }
    take(&ip->payload, (size_t)ulen - UDP_HLEN, &data);
    partial = ns_reader_left(&data) < (size_t)ulen - UDP_HLEN;
    fl = flow_get(s, f, IPPROTO_UDP, ip->src, sport, ip->dst, dport, &dir);
    if (fl) {
        flow_touch(fl, dir, f);
        fl->side[dir].bytes += (size_t)ulen - UDP_HLEN;
    }
    if ((sport == DHCP_CLIENT_PORT && dport == DHCP_SERVER_PORT) ||
        (sport == DHCP_SERVER_PORT && dport == DHCP_CLIENT_PORT))
        dhcp_input(s, f, ip, &data, partial);
    else if (sport == DNS_PORT || dport == DNS_PORT)
        dns_message(s, f, ip, IPPROTO_UDP, sport, dport, &data, partial);
}

/**
 * icmp_is_error() - does ICMP @type quote the packet it is about (RFC 792)?
 */
static int icmp_is_error(uint8_t type)
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/**
 * icmp_quote() - the packet an ICMP error quotes: IP header, first 8 bytes
 * @r:      reader just past the error's 8-byte header
 * @e:      its q key (source first) and quoted flag are set if readable
 */
static void icmp_quote(struct ns_reader *r, struct icmp_err *e)
{
    uint8_t vihl, type;
    uint16_t a = 0, b = 0;
    size_t ihl;

    if (ns_reader_u8(r, &vihl) || vihl >> 4 != 4 || (vihl & 0x0f) < 5)
        return;
    ihl = (size_t)(vihl & 0x0f) * 4;
    ns_reader_skip(r, 8);                       /* type of service to time to live */
    e->q.proto = ns_read_u8(r);
    ns_reader_skip(r, 2);                       /* header checksum */
    e->q.ip[0] = ns_read_be32(r);
    e->q.ip[1] = ns_read_be32(r);
    ns_reader_skip(r, ihl - IPV4_HLEN);         /* options */
    if (ns_reader_failed(r))
        return;
    if (e->q.proto == IPPROTO_TCP || e->q.proto == IPPROTO_UDP) {
        if (ns_reader_be16(r, &a) || ns_reader_be16(r, &b))
            return;
    } else if (e->q.proto == IPPROTO_ICMP) {
        if (ns_reader_u8(r, &type) || ns_reader_skip(r, 3) || ns_reader_be16(r, &a) ||
            (type != ICMP_ECHO_REQUEST && type != ICMP_ECHO_REPLY))
            return;
        b = a;
    }
    e->q.port[0] = a;
    e->q.port[1] = b;
    e->quoted = 1;
}

/**
 * icmp_error() - an ICMP error: kept with the flow it quotes, if that is known.
 */
static void icmp_error(struct ns_summary *s, const struct frame *f, const struct ip_pkt *ip,
                       uint8_t type, uint8_t code, struct ns_reader *r)
{
    struct icmp_err e;
    struct flow_key k;
    struct flow *fl;
    int dir;

    s->icmp_errors++;
    memset(&e, 0, sizeof(e));
    e.ts = f->ts;
    e.from = ip->src;
    e.to = ip->dst;
    e.type = type;
    e.code = code;
    e.flow = NO_ENTRY;
    icmp_quote(r, &e);
    if (e.quoted) {
        flow_key_make(&k, &dir, e.q.proto, e.q.ip[0], e.q.port[0], e.q.ip[1], e.q.port[1]);
        fl = flow_find(s, &k);
        if (fl) {
            fl->icmp_errors++;
            e.flow = (uint32_t)(fl - s->flows);
        }
    }
    if (s->n_errs == ICMP_ERRORS_MAX ||
        array_grow((void **)&s->errs, &s->cap_errs, s->n_errs, sizeof(*s->errs),
                   ICMP_ERRORS_MAX)) {
        s->icmp_errors_untracked++;
        return;
    }
    s->errs[s->n_errs++] = e;
}

/**
 * icmp_input() - an ICMP message: an echo flow, an error, or counted as other.
 */
static void icmp_input(struct ns_summary *s, const struct frame *f, struct ip_pkt *ip)
{
    struct ns_reader *r = &ip->payload;
    uint16_t id;
    uint8_t type, code;
    struct flow *fl;
    int dir;

    if (ip->len < ICMP_HLEN) {
        drop(s, SUM_drop_icmp_malformed);
        return;
    }
    type = ns_read_u8(r);
    code = ns_read_u8(r);
    ns_reader_skip(r, 2);                       /* checksum */
    id = ns_read_be16(r);
    ns_reader_skip(r, 2);                       /* sequence number */
    if (ns_reader_failed(r))
        return;
    if (type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY) {
        fl = flow_get(s, f, IPPROTO_ICMP, ip->src, id, ip->dst, id, &dir);
        if (!fl)
            return;
        if (fl->side[0].packets + fl->side[1].packets == 0)
            fl->opener = (uint8_t)(type == ICMP_ECHO_REQUEST ? dir : !dir);
        flow_touch(fl, dir, f);
        fl->side[dir].bytes += ip->len - ICMP_HLEN;
    } else if (icmp_is_error(type)) {
        icmp_error(s, f, ip, type, code, r);
    } else {
        s->icmp_other++;
    }
}

/**
 * ipv4_input() - an IPv4 packet: fragments are counted, whole ones dispatched.
 */
static void ipv4_input(struct ns_summary *s, const struct frame *f, struct ns_reader *r,
                       size_t wire)
{
    struct ip_pkt ip;

    s->ipv4++;
    if (ipv4_parse(s, f, r, wire, &ip))
        return;
    mac_add_ip(s, f->src_mac, ip.src);
    if (ip.frag & (IPV4_MF | IPV4_OFFMASK)) {
        s->fragments++;
        return;
    }
    switch (ip.proto) {
    case IPPROTO_TCP:
        tcp_input(s, f, &ip);
        break;
    case IPPROTO_UDP:
        udp_input(s, f, &ip);
        break;
    case IPPROTO_ICMP:
        icmp_input(s, f, &ip);
        break;
    default:
        s->ipv4_other++;
        break;
    }
}

/**
 * mac_seen() - account a frame to its source and (unicast) destination MACs.
 */
static uint32_t mac_seen(struct ns_summary *s, const uint8_t *src, const uint8_t *dst,
                         size_t len)
{
    uint32_t e = mac_get(s, src), d;

    if (e == NO_ENTRY) {
        s->mac_frames_untracked++;
    } else {
        s->macs[e].tx_frames++;
        s->macs[e].tx_bytes += len;
    }
    if (!(dst[0] & 1) && (d = mac_get(s, dst)) != NO_ENTRY)
        s->macs[d].rx_frames++;
    return e;
}

void ns_summary_frame(struct ns_summary *s, const struct timeval *ts, const uint8_t *data,
                      size_t caplen, size_t len)
{
    struct ns_reader r, payload;
    const uint8_t *dst, *src;
    struct frame f;
    uint16_t type;

    if (!s || !ts || (!data && caplen))
        return;
    if (len < caplen)
        len = caplen;
    f.ts = ts_us(ts);
    f.cut = caplen < len;
    f.src_mac = NO_ENTRY;
    if (!s->have_time || f.ts < s->first)
        s->first = f.ts;
    if (!s->have_time || f.ts > s->last)
        s->last = f.ts;
    s->have_time = 1;
    s->frames++;
    s->bytes += len;
    s->captured += caplen;
    if (f.cut)
        s->truncated++;

    ns_reader_init(&r, data, caplen);
    dst = ns_reader_get(&r, ETH_ALEN);
    src = ns_reader_get(&r, ETH_ALEN);
    type = ns_read_be16(&r);
    if (ns_reader_failed(&r)) {
        if (len < ETH_HLEN)
            drop(s, SUM_drop_eth_short);
        return;
    }
    f.src_mac = mac_seen(s, src, dst, len);
    ns_reader_sub(&r, ns_reader_left(&r), &payload);
    switch (type) {
    case ETH_P_ARP:
        arp_input(s, &f, &payload);
        break;
    case ETH_P_IPV4:
        ipv4_input(s, &f, &payload, len - ETH_HLEN);
        break;
    case ETH_P_IPV6:
        s->ipv6++;
        break;
    default:
        drop(s, SUM_drop_eth_type);
        break;
    }
}

/* --- Life cycle ------------------------------------------------------------ */

struct ns_summary *ns_summary_new(void)
{
    struct ns_summary *s = calloc(1, sizeof(*s));
    struct timespec now;

    if (!s)
        return NULL;
    /* Only the hash indexes' layout depends on the seed, never the report. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    s->seed = mix((uint64_t)(uintptr_t)s ^ (uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec << 32);
    return s;
}

void ns_summary_free(struct ns_summary *s)
{
    uint32_t i;

    if (!s)
        return;
    for (i = 0; i < s->n_dns; i++) {
        free(s->dns[i].name);
        free(s->dns[i].answer);
    }
    free(s->dns);
    free(s->dns_ix.slot);
    free(s->flows);
    free(s->flow_ix.slot);
    free(s->lost);
    free(s->macs);
    free(s->mac_ix.slot);
    free(s->errs);
    free(s);
}

/* --- Telling the sides apart ------------------------------------------------ */

/*
 * struct roles - the two sides of the link, decided at report time
 * @guest:      MAC entry of the guest, NO_ENTRY if unknown
 * @stack:      MAC entry of the stack (the gateway), NO_ENTRY if unknown
 * @guest_by:   what identified the guest, for the report
 * @stack_by:   what identified the stack
 */
struct roles {
    uint32_t guest, stack;
    const char *guest_by, *stack_by;
};

enum mac_score { BY_DHCP_SERVER, BY_DHCP_CLIENT, BY_TX, BY_RX, BY_ARP };

static uint64_t mac_score(const struct mac_ent *m, enum mac_score by)
{
    switch (by) {
    case BY_DHCP_SERVER:
        return m->dhcp_server;
    case BY_DHCP_CLIENT:
        return m->dhcp_client;
    case BY_TX:
        return m->tx_frames;
    case BY_RX:
        return m->rx_frames;
    case BY_ARP:
        return m->n_arp;
    }
    return 0;
}

/**
 * mac_best() - the MAC with the highest score of at least @min, other than @not
 * Ties go to the MAC seen first.
 *
 * Return: its entry, NO_ENTRY if none qualifies
 */
static uint32_t mac_best(const struct ns_summary *s, enum mac_score by, uint64_t min,
                         uint32_t not)
{
    uint32_t i, best = NO_ENTRY;
    uint64_t top = 0;

    for (i = 0; i < s->n_macs; i++) {
        uint64_t v = mac_score(&s->macs[i], by);

        if (i != not && v >= min && (best == NO_ENTRY || v > top)) {
            best = i;
            top = v;
        }
    }
    return best;
}

/**
 * mac_answering_arp() - the MAC that answered ARP for @ip, NO_ENTRY if none.
 */
static uint32_t mac_answering_arp(const struct ns_summary *s, uint32_t ip)
{
    uint32_t i;
    uint8_t j;

    for (i = 0; i < s->n_macs; i++)
        for (j = 0; j < s->macs[i].n_arp; j++)
            if (s->macs[i].arp_for[j] == ip)
                return i;
    return NO_ENTRY;
}

/**
 * mac_most_sources() - the one MAC with the most source addresses (>= 2, no tie).
 */
static uint32_t mac_most_sources(const struct ns_summary *s)
{
    uint32_t i, best = NO_ENTRY;
    uint8_t top = 0, second = 0;

    for (i = 0; i < s->n_macs; i++) {
        uint8_t n = s->macs[i].n_ips;

        if (n > top) {
            second = top;
            top = n;
            best = i;
        } else if (n > second) {
            second = n;
        }
    }
    return top >= 2 && top > second ? best : NO_ENTRY;
}

/**
 * resolve() - decide which MAC is the stack's and which the guest's (see the top).
 */
static void resolve(const struct ns_summary *s, struct roles *r)
{
    memset(r, 0, sizeof(*r));
    r->guest = r->stack = NO_ENTRY;
    if ((r->stack = mac_best(s, BY_DHCP_SERVER, 1, NO_ENTRY)) != NO_ENTRY)
        r->stack_by = "dhcp server";
    else if (s->have_lease && s->lease.has_router &&
             (r->stack = mac_answering_arp(s, s->lease.router)) != NO_ENTRY)
        r->stack_by = "arp for gateway";
    else if (s->have_lease && (r->stack = mac_answering_arp(s, s->lease.server)) != NO_ENTRY)
        r->stack_by = "arp for gateway";
    else if ((r->stack = mac_best(s, BY_ARP, 2, NO_ENTRY)) != NO_ENTRY)
        r->stack_by = "arp for several addresses";
    else if ((r->stack = mac_most_sources(s)) != NO_ENTRY)
        r->stack_by = "source of many addresses";

    if ((r->guest = mac_best(s, BY_DHCP_CLIENT, 1, r->stack)) != NO_ENTRY)
        r->guest_by = "dhcp client";
    else if ((r->guest = mac_best(s, BY_TX, 1, r->stack)) != NO_ENTRY)
        r->guest_by = "most frames";
    else if ((r->guest = mac_best(s, BY_RX, 1, r->stack)) != NO_ENTRY)
        r->guest_by = "destination of the stack's frames";

    if (r->stack == NO_ENTRY && r->guest != NO_ENTRY &&
        (r->stack = mac_best(s, BY_TX, 1, r->guest)) != NO_ENTRY)
        r->stack_by = "other side";
}

/**
 * is_guest_ip() - is @ip one of the guest's (a source of its MAC, or its lease)?
 */
static int is_guest_ip(const struct ns_summary *s, const struct roles *r, uint32_t ip)
{
    return mac_has_ip(s, r->guest, ip) || (s->have_lease && s->lease.addr == ip);
}

/**
 * guest_side() - which side of @fl is the guest's end.
 */
static int guest_side(const struct ns_summary *s, const struct roles *r, const struct flow *fl)
{
    uint32_t m0 = fl->side[0].mac, m1 = fl->side[1].mac;
    int g0, g1;

    if (r->guest != NO_ENTRY) {
        if (m0 == r->guest && m1 != r->guest)
            return 0;
        if (m1 == r->guest && m0 != r->guest)
            return 1;
    }
    if (r->stack != NO_ENTRY) {
        if (m0 == r->stack && m1 != r->stack)
            return 1;
        if (m1 == r->stack && m0 != r->stack)
            return 0;
    }
    g0 = is_guest_ip(s, r, fl->key.ip[0]);
    g1 = is_guest_ip(s, r, fl->key.ip[1]);
    if (g0 != g1)
        return g0 ? 0 : 1;
    return fl->opener;
}

/* --- The report: common parts ----------------------------------------------- */

/* Sort keys: entries by time, then by number, so equal times keep capture order. */
struct by_time {
    int64_t t;
    uint32_t e;
};

static int by_time_cmp(const void *a, const void *b)
{
    const struct by_time *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->e < y->e ? -1 : x->e > y->e;
}

/*
 * struct report - what both report formats are written from
 * @r:          the sides
 * @flows:      flow entries in report order (first seen)
 * @flow_id:    flow entry -> its number in the report, from 1
 * @gside:      flow entry -> its guest side
 * @dns:        DNS transactions in report order (query time)
 */
struct report {
    struct roles r;
    uint32_t *flows, *flow_id, *dns;
    uint8_t *gside;
};

static void report_free(struct report *rp)
{
    free(rp->flows);
    free(rp->flow_id);
    free(rp->gside);
    free(rp->dns);
}

/**
 * sort_entries() - @n entries' numbers in time order; @time gives each one's time.
 */
static uint32_t *sort_entries(const struct ns_summary *s, uint32_t n,
                              int64_t (*time)(const struct ns_summary *, uint32_t))
{
    struct by_time *k = malloc(((size_t)n + 1) * sizeof(*k));
    uint32_t *out = malloc(((size_t)n + 1) * sizeof(*out)), i;

    if (!k || !out) {
        free(k);
        free(out);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        k[i].t = time(s, i);
        k[i].e = i;
    }
    qsort(k, n, sizeof(*k), by_time_cmp);
    for (i = 0; i < n; i++)
        out[i] = k[i].e;
    free(k);
    return out;
}

static int64_t flow_time(const struct ns_summary *s, uint32_t e)
{
    return s->flows[e].first;
}

static int64_t dns_time(const struct ns_summary *s, uint32_t e)
{
    return s->dns[e].t_query;
}

/**
 * report_make() - resolve the sides and order the entries. Return: 0, -1 if out of memory.
 */
static int report_make(const struct ns_summary *s, struct report *rp)
{
    uint32_t i;

    memset(rp, 0, sizeof(*rp));
    resolve(s, &rp->r);
    rp->flows = sort_entries(s, s->n_flows, flow_time);
    rp->dns = sort_entries(s, s->n_dns, dns_time);
    rp->flow_id = malloc(((size_t)s->n_flows + 1) * sizeof(*rp->flow_id));
    rp->gside = malloc((size_t)s->n_flows + 1);
    if (!rp->flows || !rp->dns || !rp->flow_id || !rp->gside) {
        report_free(rp);
        return -1;
    }
    for (i = 0; i < s->n_flows; i++) {
        rp->flow_id[rp->flows[i]] = i + 1;
        rp->gside[i] = (uint8_t)guest_side(s, &rp->r, &s->flows[i]);
    }
    return 0;
}

static const char *proto_name(uint8_t proto)
{
    switch (proto) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_ICMP:
        return "icmp";
    default:
        return "ip";
    }
}

/**
 * endpoint() - "ip:port" (TCP, UDP) or "ip" (ICMP) of side @i of @k.
 */
static void endpoint(const struct flow_key *k, int i, char buf[32])
{
    char ip[INET_ADDRSTRLEN];

    ip_str(k->ip[i], ip);
    if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP)
        snprintf(buf, 32, "%s:%u", ip, k->port[i]);
    else
        snprintf(buf, 32, "%s", ip);
}

static void ip_port(uint32_t ip, uint16_t port, char buf[32])
{
    char a[INET_ADDRSTRLEN];

    ip_str(ip, a);
    snprintf(buf, 32, "%s:%u", a, port);
}

/**
 * flow_unanswered() - a TCP flow opened by a SYN the other side never answered.
 */
static int flow_unanswered(const struct flow *fl)
{
    return fl->key.proto == IPPROTO_TCP && fl->end == END_OPEN && fl->opened_by_syn &&
           !fl->side[!fl->opener].packets;
}

/**
 * flow_end_name() - how flow @fl ended, from the side of guest end @g; NULL if not TCP.
 */
static const char *flow_end_name(const struct flow *fl, int g)
{
    if (fl->key.proto != IPPROTO_TCP)
        return NULL;
    switch (fl->end) {
    case END_FIN:
        return "fin";
    case END_REFUSED:
        return "refused";
    case END_RESET:
        return fl->end_by == g ? "reset by guest" : "reset by peer";
    default:
        break;
    }
    return flow_unanswered(fl) ? "unanswered SYN" : "open";
}

static const char *dns_type_name(uint16_t t, char buf[16])
{
    static const struct {
        uint16_t type;
        const char *name;
    } names[] = {
        { 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" }, { 15, "MX" },
        { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" }, { 64, "SVCB" }, { 65, "HTTPS" },
        { 255, "ANY" },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].type == t)
            return names[i].name;
    snprintf(buf, 16, "TYPE%u", t);
    return buf;
}

static const char *icmp_error_name(uint8_t type, uint8_t code)
{
    static const char *const unreach[] = {
        "net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
        "fragmentation needed", "source route failed", "network unknown", "host unknown",
        "source host isolated", "network prohibited", "host prohibited",
        "network unreachable for TOS", "host unreachable for TOS",
        "communication prohibited", "host precedence violation", "precedence cutoff",
    };

    switch (type) {
    case 3:
        return code < sizeof(unreach) / sizeof(unreach[0]) ? unreach[code] : "unreachable";
    case 4:
        return "source quench";
    case 5:
        return "redirect";
    case 11:
        return code == 1 ? "fragment reassembly time exceeded" : "time exceeded in transit";
    case 12:
        return "parameter problem";
    default:
        return "error";
    }
}

/**
 * seconds() - microseconds as seconds.
 */
static double seconds(int64_t us)
{
    return (double)us / 1e6;
}

/**
 * fmt_time() - an absolute timestamp, "YYYY-MM-DD HH:MM:SS.uuuuuu UTC".
 */
static void fmt_time(int64_t us, char *buf, size_t n)
{
    int64_t sec = us / 1000000, frac = us % 1000000;
    time_t t;
    struct tm tm;

    if (frac < 0) {
        frac += 1000000;
        sec--;
    }
    t = (time_t)sec;
    if (!gmtime_r(&t, &tm) ||
        !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm)) {
        snprintf(buf, n, "%" PRId64 ".%06" PRId64, sec, frac);
        return;
    }
    snprintf(buf + strlen(buf), n - strlen(buf), ".%06" PRId64 " UTC", frac);
}

/**
 * guest_addrs() - the guest's addresses: its MAC's sources, then the lease's. Return: count.
 */
static unsigned guest_addrs(const struct ns_summary *s, const struct roles *r,
                            uint32_t out[MAC_IPS_MAX + 1])
{
    unsigned n = 0, i;

    if (r->guest != NO_ENTRY)
        for (i = 0; i < s->macs[r->guest].n_ips; i++)
            out[n++] = s->macs[r->guest].ips[i];
    if (s->have_lease && !mac_has_ip(s, r->guest, s->lease.addr))
        out[n++] = s->lease.addr;
    return n;
}

/**
 * direction() - frames from the guest's MAC, from the stack's, and the rest.
 */
static void direction(const struct ns_summary *s, const struct roles *r, uint64_t d[3])
{
    d[0] = r->guest != NO_ENTRY ? s->macs[r->guest].tx_frames : 0;
    d[1] = r->stack != NO_ENTRY ? s->macs[r->stack].tx_frames : 0;
    d[2] = s->frames - d[0] - d[1];
}

/* --- The report as text ----------------------------------------------------- */

/**
 * text_mac() - one "MAC" line of the Guest section.
 */
static void text_mac(const struct ns_summary *s, FILE *out, const char *what, uint32_t e,
                     const char *by)
{
    char mac[18];

    if (e == NO_ENTRY) {
        fprintf(out, "  %-11s unknown\n", what);
        return;
    }
    mac_str(s->macs[e].mac, mac);
    fprintf(out, "  %-11s %s (%s)\n", what, mac, by);
}

static void text_lease(const struct ns_summary *s, FILE *out)
{
    const struct lease *l = &s->lease;
    char a[INET_ADDRSTRLEN];
    uint8_t i;

    if (!s->have_lease) {
        fprintf(out, "  %-11s none seen\n", "Lease:");
        return;
    }
    ip_str(l->addr, a);
    fprintf(out, "  %-11s %s", "Lease:", a);
    ip_str(l->server, a);
    fprintf(out, " from %s", a);
    if (l->has_time)
        fprintf(out, ", %" PRIu32 " s", l->lease_time);
    if (l->has_mask) {
        ip_str(l->mask, a);
        fprintf(out, ", netmask %s", a);
    }
    if (l->has_router) {
        ip_str(l->router, a);
        fprintf(out, ", router %s", a);
    }
    for (i = 0; i < l->n_dns; i++) {
        ip_str(l->dns[i], a);
        fprintf(out, "%s%s", i ? " " : ", DNS ", a);
    }
    fputc('\n', out);
}

static void text_guest(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    uint32_t addrs[MAC_IPS_MAX + 1];
    unsigned n = guest_addrs(s, &rp->r, addrs), i;
    char a[INET_ADDRSTRLEN];

    fprintf(out, "Guest\n");
    text_mac(s, out, "MAC:", rp->r.guest, rp->r.guest_by);
    text_mac(s, out, "Stack MAC:", rp->r.stack, rp->r.stack_by);
    fprintf(out, "  %-11s", "Addresses:");
    for (i = 0; i < n; i++) {
        ip_str(addrs[i], a);
        fprintf(out, "%s%s", i ? ", " : " ", a);
    }
    fprintf(out, "%s\n", n ? "" : " none seen");
    text_lease(s, out);
    fprintf(out, "  %-11s", "DHCP:");
    for (i = 0; i < sizeof(dhcp_order); i++)
        fprintf(out, "%s%s %" PRIu64, i ? ", " : " ", dhcp_names[dhcp_order[i]],
                s->dhcp[dhcp_order[i]]);
    if (s->dhcp[0])
        fprintf(out, ", other %" PRIu64, s->dhcp[0]);
    fputc('\n', out);
}

/**
 * text_flow_extras() - the counters of a flow that are worth a word, if any.
 */
static void text_flow_extras(const struct flow *fl, int g, FILE *out)
{
    const struct flow_side *gs = &fl->side[g], *ps = &fl->side[!g];

    if (fl->key.proto == IPPROTO_ICMP)
        fprintf(out, "  echo id %u", fl->key.port[0]);
    if (gs->retrans || ps->retrans)
        fprintf(out, "  retrans %" PRIu32 "/%" PRIu32, gs->retrans, ps->retrans);
    if (gs->zero_win || ps->zero_win)
        fprintf(out, "  zero-window %" PRIu32 "/%" PRIu32, gs->zero_win, ps->zero_win);
    if (fl->icmp_errors)
        fprintf(out, "  icmp-errors %" PRIu32, fl->icmp_errors);
}

static void text_flows(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    char ge[32], pe[32];
    uint32_t i;

    fprintf(out, "\nFlows (%" PRIu32 ")\n", s->n_flows);
    if (!s->n_flows)
        return;
    fprintf(out, "  %5s  %-5s %-21s  %-21s  %10s  %10s  %11s  %10s  %s\n", "#", "proto",
            "guest", "peer", "to peer", "to guest", "start", "duration", "end");
    for (i = 0; i < s->n_flows; i++) {
        const struct flow *fl = &s->flows[rp->flows[i]];
        int g = rp->gside[rp->flows[i]];
        const char *end = flow_end_name(fl, g);

        endpoint(&fl->key, g, ge);
        endpoint(&fl->key, !g, pe);
        fprintf(out, "  %5" PRIu32 "  %-5s %-21s  %-21s  %10" PRIu64 "  %10" PRIu64
                "  %+11.6f  %10.6f  %s", i + 1, proto_name(fl->key.proto), ge, pe,
                fl->side[g].bytes, fl->side[!g].bytes, seconds(fl->first - s->first),
                seconds(fl->last - fl->first), end ? end : "-");
        text_flow_extras(fl, g, out);
        fputc('\n', out);
    }
}

static void text_dns(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    uint32_t i, answered = 0;
    char c[32], v[32], tb[16];

    for (i = 0; i < s->n_dns; i++)
        answered += s->dns[i].answered;
    fprintf(out, "\nDNS (%" PRIu32 " queries, %" PRIu32 " answered, %" PRIu32 " unanswered, %"
            PRIu64 " unparsed, %" PRIu64 " unmatched responses)\n", s->n_dns, answered,
            s->n_dns - answered, s->dns_unparsed, s->dns_unmatched);
    for (i = 0; i < s->n_dns; i++) {
        const struct dns_txn *t = &s->dns[rp->dns[i]];

        ip_port(t->key.cip, t->key.cport, c);
        ip_port(t->key.sip, t->key.sport, v);
        fprintf(out, "  %+11.6f  %s %s > %s  id 0x%04x  %s %s -> ", seconds(t->t_query - s->first),
                proto_name(t->key.proto), c, v, t->key.id, dns_type_name(t->qtype, tb),
                t->name ? t->name : "?");
        if (t->answered)
            fprintf(out, "%s (%.3f ms)", t->answer ? t->answer : "?",
                    (double)(t->t_answer - t->t_query) / 1e3);
        else
            fprintf(out, "unanswered");
        if (t->retries)
            fprintf(out, "  retries %" PRIu32, t->retries);
        fputc('\n', out);
    }
}

/**
 * text_flow_ref() - "#id proto guest <-> peer" for anomaly lines.
 */
static void text_flow_ref(const struct ns_summary *s, const struct report *rp, uint32_t e,
                          FILE *out)
{
    const struct flow *fl = &s->flows[e];
    int g = rp->gside[e];
    char ge[32], pe[32];

    endpoint(&fl->key, g, ge);
    endpoint(&fl->key, !g, pe);
    fprintf(out, "#%" PRIu32 " %s guest %s peer %s", rp->flow_id[e], proto_name(fl->key.proto),
            ge, pe);
}

/**
 * text_flow_anomalies() - per flow, in report order: SYNs, resets, retransmissions, windows.
 */
static void text_flow_anomalies(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    uint32_t i;

    for (i = 0; i < s->n_flows; i++) {
        uint32_t e = rp->flows[i];
        const struct flow *fl = &s->flows[e];
        int g = rp->gside[e];

        if (flow_unanswered(fl)) {
            fprintf(out, "  %-22s", "unanswered SYN");
            text_flow_ref(s, rp, e, out);
            fprintf(out, " (%" PRIu32 " SYNs)\n", fl->side[fl->opener].syns);
        }
        if (fl->end == END_RESET || fl->end == END_REFUSED) {
            fprintf(out, "  %-22s", fl->end == END_REFUSED ? "refused" : "reset");
            text_flow_ref(s, rp, e, out);
            fprintf(out, " (RST from %s)\n", fl->end_by == g ? "guest" : "peer");
        }
        if (fl->side[0].retrans || fl->side[1].retrans) {
            fprintf(out, "  %-22s", "retransmissions");
            text_flow_ref(s, rp, e, out);
            fprintf(out, " (guest %" PRIu32 ", peer %" PRIu32 ")\n", fl->side[g].retrans,
                    fl->side[!g].retrans);
        }
        if (fl->side[0].zero_win || fl->side[1].zero_win) {
            fprintf(out, "  %-22s", "zero windows");
            text_flow_ref(s, rp, e, out);
            fprintf(out, " (from guest %" PRIu32 ", from peer %" PRIu32 ")\n",
                    fl->side[g].zero_win, fl->side[!g].zero_win);
        }
    }
}

static void text_icmp_errors(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], qs[32], qd[32];
    uint32_t i;

    for (i = 0; i < s->n_errs; i++) {
        const struct icmp_err *e = &s->errs[i];

        ip_str(e->from, a);
        ip_str(e->to, b);
        fprintf(out, "  %-22s%+.6f %s > %s type %u code %u (%s)", "ICMP error",
                seconds(e->ts - s->first), a, b, e->type, e->code,
                icmp_error_name(e->type, e->code));
        if (e->quoted) {
            endpoint(&e->q, 0, qs);
            endpoint(&e->q, 1, qd);
            fprintf(out, ", quoting %s %s > %s", proto_name(e->q.proto), qs, qd);
        }
        if (e->flow != NO_ENTRY)
            fprintf(out, " (#%" PRIu32 ")", rp->flow_id[e->flow]);
        fputc('\n', out);
    }
}

static void text_anomalies(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    int any = 0, i;

    fprintf(out, "\nAnomalies\n");
    text_flow_anomalies(s, rp, out);
    text_icmp_errors(s, rp, out);
    if (s->icmp_errors_untracked)
        fprintf(out, "  %-22s%" PRIu64 " more not listed\n", "ICMP errors",
                s->icmp_errors_untracked);
    fprintf(out, "  %-22s", "malformed");
    for (i = 0; i < DROP_COUNT; i++) {
        if (!s->drops[i])
            continue;
        fprintf(out, "%s%s %" PRIu64, any ? ", " : "", drop_names[i], s->drops[i]);
        any = 1;
    }
    fprintf(out, "%s\n", any ? "" : "none");
    fprintf(out, "  %-22s%" PRIu64 "\n", "fragments", s->fragments);
    fprintf(out, "  %-22s%" PRIu64 "\n", "truncated_by_snaplen", s->truncated);
    fprintf(out, "  %-22s%" PRIu64 " frames\n", "ipv6", s->ipv6);
    fprintf(out, "  %-22sflows %" PRIu64 ", dns %" PRIu64 ", frames of other MACs %" PRIu64
            "\n", "untracked", s->flows_untracked, s->dns_untracked, s->mac_frames_untracked);
}

static void text_totals(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    char t[64];
    uint64_t d[3];

    direction(s, &rp->r, d);
    fprintf(out, "\nTotals\n");
    fprintf(out, "  %-11s %" PRIu64 " (guest->stack %" PRIu64 ", stack->guest %" PRIu64
            ", other %" PRIu64 ")\n", "Frames:", s->frames, d[0], d[1], d[2]);
    fprintf(out, "  %-11s %" PRIu64 " (captured %" PRIu64 ")\n", "Bytes:", s->bytes, s->captured);
    if (s->have_time) {
        fmt_time(s->first, t, sizeof(t));
        fprintf(out, "  %-11s %s\n", "First:", t);
        fmt_time(s->last, t, sizeof(t));
        fprintf(out, "  %-11s %s\n", "Last:", t);
        fprintf(out, "  %-11s %.6f s\n", "Duration:", seconds(s->last - s->first));
    }
    fprintf(out, "  %-11s ipv4 %" PRIu64 ", arp %" PRIu64 ", ipv6 %" PRIu64 ", other %" PRIu64
            "\n", "EtherTypes:", s->ipv4, s->arp, s->ipv6, s->drops[SUM_drop_eth_type]);
    fprintf(out, "  %-11s requests %" PRIu64 ", replies %" PRIu64 "\n", "ARP:", s->arp_requests,
            s->arp_replies);
}

static void print_text(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    text_guest(s, rp, out);
    text_flows(s, rp, out);
    text_dns(s, rp, out);
    text_anomalies(s, rp, out);
    text_totals(s, rp, out);
}

/* --- The report as JSON ----------------------------------------------------- */

/**
 * jset() - o[k] = v; a NULL @v (out of memory) or a failure sets *@err.
 */
static void jset(json_t *o, const char *k, json_t *v, int *err)
{
    if (!v || json_object_set_new(o, k, v))
        *err = 1;
}

static void jadd(json_t *a, json_t *v, int *err)
{
    if (!v || json_array_append_new(a, v))
        *err = 1;
}

static json_t *jint(uint64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *jip(uint32_t ip)
{
    char a[INET_ADDRSTRLEN];

    ip_str(ip, a);
    return json_string(a);
}

static json_t *jmac(const struct ns_summary *s, uint32_t e)
{
    char m[18];

    if (e == NO_ENTRY)
        return json_null();
    mac_str(s->macs[e].mac, m);
    return json_string(m);
}

static json_t *jstr_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

static json_t *jendpoint(const struct flow_key *k, int i)
{
    char b[32];

    endpoint(k, i, b);
    return json_string(b);
}

static json_t *json_lease(const struct ns_summary *s, int *err)
{
    const struct lease *l = &s->lease;
    json_t *o, *dns;
    uint8_t i;
    char m[18];

    if (!s->have_lease)
        return json_null();
    o = json_object();
    dns = json_array();
    if (!o || !dns) {
        json_decref(o);
        json_decref(dns);
        return NULL;
    }
    mac_str(l->chaddr, m);
    jset(o, "address", jip(l->addr), err);
    jset(o, "server", jip(l->server), err);
    jset(o, "lease_time", l->has_time ? jint(l->lease_time) : json_null(), err);
    jset(o, "netmask", l->has_mask ? jip(l->mask) : json_null(), err);
    jset(o, "router", l->has_router ? jip(l->router) : json_null(), err);
    for (i = 0; i < l->n_dns; i++)
        jadd(dns, jip(l->dns[i]), err);
    jset(o, "dns", dns, err);
    jset(o, "client_mac", json_string(m), err);
    return o;
}

static json_t *json_guest(const struct ns_summary *s, const struct report *rp, int *err)
{
    json_t *o = json_object(), *addrs = json_array(), *dhcp = json_object();
    uint32_t a[MAC_IPS_MAX + 1];
    unsigned n = guest_addrs(s, &rp->r, a), i;

    if (!o || !addrs || !dhcp) {
        json_decref(o);
        json_decref(addrs);
        json_decref(dhcp);
        return NULL;
    }
    jset(o, "mac", jmac(s, rp->r.guest), err);
    jset(o, "identified_by", jstr_or_null(rp->r.guest_by), err);
    jset(o, "stack_mac", jmac(s, rp->r.stack), err);
    jset(o, "stack_identified_by", jstr_or_null(rp->r.stack_by), err);
    for (i = 0; i < n; i++)
        jadd(addrs, jip(a[i]), err);
    jset(o, "addresses", addrs, err);
    jset(o, "lease", json_lease(s, err), err);
    for (i = 0; i < sizeof(dhcp_order); i++)
        jset(dhcp, dhcp_names[dhcp_order[i]], jint(s->dhcp[dhcp_order[i]]), err);
    jset(dhcp, "other", jint(s->dhcp[0]), err);
    jset(o, "dhcp", dhcp, err);
    return o;
}

static json_t *json_flow(const struct ns_summary *s, const struct report *rp, uint32_t e,
                         int *err)
{
    const struct flow *fl = &s->flows[e];
    int g = rp->gside[e];
    const struct flow_side *gs = &fl->side[g], *ps = &fl->side[!g];
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "id", jint(rp->flow_id[e]), err);
    jset(o, "proto", json_string(proto_name(fl->key.proto)), err);
    jset(o, "guest", jendpoint(&fl->key, g), err);
    jset(o, "peer", jendpoint(&fl->key, !g), err);
    if (fl->key.proto == IPPROTO_ICMP)
        jset(o, "echo_id", jint(fl->key.port[0]), err);
    jset(o, "bytes_guest_to_peer", jint(gs->bytes), err);
    jset(o, "bytes_peer_to_guest", jint(ps->bytes), err);
    jset(o, "packets_guest_to_peer", jint(gs->packets), err);
    jset(o, "packets_peer_to_guest", jint(ps->packets), err);
    jset(o, "first", json_real(seconds(fl->first)), err);
    jset(o, "last", json_real(seconds(fl->last)), err);
    jset(o, "duration", json_real(seconds(fl->last - fl->first)), err);
    jset(o, "opened_by", json_string(fl->opener == g ? "guest" : "peer"), err);
    jset(o, "end", jstr_or_null(flow_end_name(fl, g)), err);
    jset(o, "retransmissions_guest_to_peer", jint(gs->retrans), err);
    jset(o, "retransmissions_peer_to_guest", jint(ps->retrans), err);
    jset(o, "zero_windows_from_guest", jint(gs->zero_win), err);
    jset(o, "zero_windows_from_peer", jint(ps->zero_win), err);
    jset(o, "icmp_errors", jint(fl->icmp_errors), err);
    return o;
}

static json_t *json_txn(const struct ns_summary *s, const struct dns_txn *t, int *err)
{
    json_t *o = json_object();
    char b[32], tb[16];

    if (!o)
        return NULL;
    jset(o, "time", json_real(seconds(t->t_query)), err);
    jset(o, "proto", json_string(proto_name(t->key.proto)), err);
    ip_port(t->key.cip, t->key.cport, b);
    jset(o, "client", json_string(b), err);
    ip_port(t->key.sip, t->key.sport, b);
    jset(o, "server", json_string(b), err);
    jset(o, "id", jint(t->key.id), err);
    jset(o, "name", t->name ? json_string(t->name) : json_null(), err);
    jset(o, "type", json_string(dns_type_name(t->qtype, tb)), err);
    jset(o, "answered", json_boolean(t->answered), err);
    if (t->answered) {
        const char *rn = dns_rcode_name(t->rcode);

        snprintf(tb, sizeof(tb), "RCODE%u", t->rcode);
        jset(o, "rcode", json_string(rn ? rn : tb), err);
        jset(o, "answer", t->answer ? json_string(t->answer) : json_null(), err);
        jset(o, "latency_ms", json_real((double)(t->t_answer - t->t_query) / 1e3), err);
    } else {
        jset(o, "rcode", json_null(), err);
        jset(o, "answer", json_null(), err);
        jset(o, "latency_ms", json_null(), err);
    }
    jset(o, "retries", jint(t->retries), err);
    return o;
}

/**
 * json_flow_ref() - an anomaly's object, naming its flow.
 */
static json_t *json_flow_ref(const struct ns_summary *s, const struct report *rp, uint32_t e,
                             int *err)
{
    json_t *o = json_object();
    int g = rp->gside[e];

    if (!o)
        return NULL;
    jset(o, "flow", jint(rp->flow_id[e]), err);
    jset(o, "proto", json_string(proto_name(s->flows[e].key.proto)), err);
    jset(o, "guest", jendpoint(&s->flows[e].key, g), err);
    jset(o, "peer", jendpoint(&s->flows[e].key, !g), err);
    return o;
}

enum flow_anomaly { FA_UNANSWERED, FA_RESET, FA_RETRANS, FA_ZERO_WIN, FA_COUNT };

static const char *const flow_anomaly_keys[FA_COUNT] = {
    "unanswered_syns", "resets", "retransmissions", "zero_windows",
};

/**
 * has_anomaly() - is @fl one of the flows listed under anomaly @which?
 */
static int has_anomaly(const struct flow *fl, enum flow_anomaly which)
{
    switch (which) {
    case FA_UNANSWERED:
        return flow_unanswered(fl);
    case FA_RESET:
        return fl->end == END_RESET || fl->end == END_REFUSED;
    case FA_RETRANS:
        return fl->side[0].retrans || fl->side[1].retrans;
    case FA_ZERO_WIN:
        return fl->side[0].zero_win || fl->side[1].zero_win;
    default:
        return 0;
    }
}

/**
 * json_flow_anomaly() - the entry of flow entry @e in the list of anomaly @which.
 */
static json_t *json_flow_anomaly(const struct ns_summary *s, const struct report *rp, uint32_t e,
                                 enum flow_anomaly which, int *err)
{
    const struct flow *fl = &s->flows[e];
    json_t *x = json_flow_ref(s, rp, e, err);
    int g = rp->gside[e];

    if (!x)
        return NULL;
    switch (which) {
    case FA_UNANSWERED:
        jset(x, "syns", jint(fl->side[fl->opener].syns), err);
        jset(x, "opened_by", json_string(fl->opener == g ? "guest" : "peer"), err);
        break;
    case FA_RESET:
        jset(x, "by", json_string(fl->end_by == g ? "guest" : "peer"), err);
        jset(x, "refused", json_boolean(fl->end == END_REFUSED), err);
        break;
    case FA_RETRANS:
        jset(x, "guest_to_peer", jint(fl->side[g].retrans), err);
        jset(x, "peer_to_guest", jint(fl->side[!g].retrans), err);
        break;
    default:
        jset(x, "from_guest", jint(fl->side[g].zero_win), err);
        jset(x, "from_peer", jint(fl->side[!g].zero_win), err);
        break;
    }
    return x;
}

static json_t *json_icmp_error(const struct ns_summary *s, const struct report *rp,
                               const struct icmp_err *e, int *err)
{
    json_t *o = json_object(), *q;

    if (!o)
        return NULL;
    jset(o, "time", json_real(seconds(e->ts)), err);
    jset(o, "from", jip(e->from), err);
    jset(o, "to", jip(e->to), err);
    jset(o, "type", jint(e->type), err);
    jset(o, "code", jint(e->code), err);
    jset(o, "name", json_string(icmp_error_name(e->type, e->code)), err);
    if (e->quoted && (q = json_object())) {
        jset(q, "proto", json_string(proto_name(e->q.proto)), err);
        jset(q, "src", jendpoint(&e->q, 0), err);
        jset(q, "dst", jendpoint(&e->q, 1), err);
        jset(o, "quoted", q, err);
    } else {
        jset(o, "quoted", e->quoted ? NULL : json_null(), err);
    }
    jset(o, "flow", e->flow != NO_ENTRY ? jint(rp->flow_id[e->flow]) : json_null(), err);
    return o;
}

static json_t *json_totals(const struct ns_summary *s, const struct report *rp, int *err)
{
    json_t *o = json_object();
    uint64_t d[3];

    if (!o)
        return NULL;
    direction(s, &rp->r, d);
    jset(o, "frames", jint(s->frames), err);
    jset(o, "bytes", jint(s->bytes), err);
    jset(o, "captured_bytes", jint(s->captured), err);
    jset(o, "first", s->have_time ? json_real(seconds(s->first)) : json_null(), err);
    jset(o, "last", s->have_time ? json_real(seconds(s->last)) : json_null(), err);
    jset(o, "duration", json_real(s->have_time ? seconds(s->last - s->first) : 0), err);
    jset(o, "guest_to_stack", jint(d[0]), err);
    jset(o, "stack_to_guest", jint(d[1]), err);
    jset(o, "other_frames", jint(d[2]), err);
    jset(o, "ipv4", jint(s->ipv4), err);
    jset(o, "arp", jint(s->arp), err);
    jset(o, "ipv6", jint(s->ipv6), err);
    jset(o, "arp_requests", jint(s->arp_requests), err);
    jset(o, "arp_replies", jint(s->arp_replies), err);
    jset(o, "ipv4_other_protocols", jint(s->ipv4_other), err);
    jset(o, "icmp_other", jint(s->icmp_other), err);
    jset(o, "flows", jint(s->n_flows), err);
    jset(o, "dns_transactions", jint(s->n_dns), err);
    return o;
}

/*
 * struct jw - the JSON report's writer
 * @out:    stream
 * @level:  nesting depth of what is being written
 * @first:  per level: nothing written in it yet
 * @err:    out of memory somewhere
 *
 * The report is written as json_dumps(JSON_INDENT(2)) would write it whole,
 * but only one element of its big arrays (flows, transactions, anomalies) is
 * ever built as a jansson tree and dumped at a time, indented to its place:
 * a report of 65536 flows never holds them all in memory.
 */
#define JW_DEPTH 4

struct jw {
    FILE *out;
    int level;
    int first[JW_DEPTH];
    int err;
};

#define JW_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(16) | JSON_ENCODE_ANY)

static void jw_indent(struct jw *w)
{
    fprintf(w->out, "%*s", 2 * w->level, "");
}

/**
 * jw_key() - what comes before a member: separator, indentation, key (NULL in an array).
 */
static void jw_key(struct jw *w, const char *key)
{
    if (w->level) {
        fputs(w->first[w->level] ? "\n" : ",\n", w->out);
        w->first[w->level] = 0;
        jw_indent(w);
    }
    if (key)
        fprintf(w->out, "\"%s\": ", key);
}

/**
 * jw_open() - start an object ('{') or array ('[') member. Relies on depth < JW_DEPTH.
 */
static void jw_open(struct jw *w, const char *key, char bracket)
{
    jw_key(w, key);
    fputc(bracket, w->out);
    w->first[++w->level] = 1;
}

static void jw_close(struct jw *w, char bracket)
{
    int empty = w->first[w->level--];

    if (!empty) {
        fputc('\n', w->out);
        jw_indent(w);
    }
    fputc(bracket, w->out);
}

/**
 * jw_value() - one member, dumped by jansson and indented to its place; takes @v.
 */
static void jw_value(struct jw *w, const char *key, json_t *v)
{
    char *text = v ? json_dumps(v, JW_FLAGS) : NULL;
    const char *p, *nl;

    json_decref(v);
    if (!text) {
        w->err = 1;
        return;
    }
    jw_key(w, key);
    for (p = text; (nl = strchr(p, '\n')); p = nl + 1) {
        fwrite(p, 1, (size_t)(nl - p) + 1, w->out);
        jw_indent(w);
    }
    fputs(p, w->out);
    free(text);
}

static void jw_flows(struct jw *w, const struct ns_summary *s, const struct report *rp)
{
    uint32_t i;

    jw_open(w, "flows", '[');
    for (i = 0; i < s->n_flows; i++)
        jw_value(w, NULL, json_flow(s, rp, rp->flows[i], &w->err));
    jw_close(w, ']');
}

static void jw_dns(struct jw *w, const struct ns_summary *s, const struct report *rp)
{
    uint32_t i, answered = 0;

    for (i = 0; i < s->n_dns; i++)
        answered += s->dns[i].answered;
    jw_open(w, "dns", '{');
    jw_value(w, "queries", jint(s->n_dns));
    jw_value(w, "answered", jint(answered));
    jw_value(w, "unanswered", jint(s->n_dns - answered));
    jw_value(w, "unparsed", jint(s->dns_unparsed));
    jw_value(w, "unmatched_responses", jint(s->dns_unmatched));
    jw_value(w, "duplicate_responses", jint(s->dns_duplicates));
    jw_value(w, "untracked", jint(s->dns_untracked));
    jw_open(w, "transactions", '[');
    for (i = 0; i < s->n_dns; i++)
        jw_value(w, NULL, json_txn(s, &s->dns[rp->dns[i]], &w->err));
    jw_close(w, ']');
    jw_close(w, '}');
}

static void jw_anomalies(struct jw *w, const struct ns_summary *s, const struct report *rp)
{
    json_t *mal = json_object();
    enum flow_anomaly which;
    uint32_t i;

    jw_open(w, "anomalies", '{');
    for (which = 0; which < FA_COUNT; which++) {
        jw_open(w, flow_anomaly_keys[which], '[');
        for (i = 0; i < s->n_flows; i++)
            if (has_anomaly(&s->flows[rp->flows[i]], which))
                jw_value(w, NULL, json_flow_anomaly(s, rp, rp->flows[i], which, &w->err));
        jw_close(w, ']');
    }
    jw_open(w, "icmp_errors", '[');
    for (i = 0; i < s->n_errs; i++)
        jw_value(w, NULL, json_icmp_error(s, rp, &s->errs[i], &w->err));
    jw_close(w, ']');
    jw_value(w, "icmp_errors_total", jint(s->icmp_errors));
    jw_value(w, "icmp_errors_untracked", jint(s->icmp_errors_untracked));
    jw_value(w, "fragments", jint(s->fragments));
    for (i = 0; mal && i < DROP_COUNT; i++)
        jset(mal, drop_names[i], jint(s->drops[i]), &w->err);
    jw_value(w, "malformed", mal);
    jw_value(w, "truncated_by_snaplen", jint(s->truncated));
    jw_value(w, "ipv6", jint(s->ipv6));
    jw_value(w, "flows_untracked", jint(s->flows_untracked));
    jw_value(w, "dns_untracked", jint(s->dns_untracked));
    jw_value(w, "mac_frames_untracked", jint(s->mac_frames_untracked));
    jw_close(w, '}');
}

/**
 * print_json() - the report as one JSON object. Return: 0, -1 if out of memory.
 */
static int print_json(const struct ns_summary *s, const struct report *rp, FILE *out)
{
    struct jw w = { .out = out };

    jw_open(&w, NULL, '{');
    jw_value(&w, "guest", json_guest(s, rp, &w.err));
    jw_flows(&w, s, rp);
    jw_dns(&w, s, rp);
    jw_anomalies(&w, s, rp);
    jw_value(&w, "totals", json_totals(s, rp, &w.err));
    jw_close(&w, '}');
    fputc('\n', out);
    return w.err ? -1 : 0;
}

int ns_summary_print(struct ns_summary *s, FILE *out, int json)
{
    struct report rp;
    int rc = 0;

    if (!s || !out || report_make(s, &rp))
        return -1;
    if (json)
        rc = print_json(s, &rp, out);
    else
        print_text(s, &rp, out);
    report_free(&rp);
    return rc || ferror(out) ? -1 : 0;
}

/* --- Reading captures, the command ------------------------------------------ */

int ns_summary_read(struct ns_summary *s, pcap_t *p, char *err, size_t errlen)
{
    const char *name, *why;
    struct pcap_pkthdr *h;
    const u_char *data;
    int dlt, rc;

    if (!err)
        errlen = 0;
    dlt = pcap_datalink(p);
    if (dlt != DLT_EN10MB) {
        name = pcap_datalink_val_to_name(dlt);
        snprintf(err, errlen, "link type %s (%d) is not Ethernet (EN10MB)",
                 name ? name : "unknown", dlt);
        return -1;
    }
    for (;;) {
        rc = pcap_next_ex(p, &h, &data);
        if (rc == 1)
            ns_summary_frame(s, &h->ts, data, h->caplen, h->len);
        else if (rc == PCAP_ERROR_BREAK)
            return 0;               /* end of file */
        else if (rc != 0)
            break;
    }
    why = pcap_geterr(p);
    snprintf(err, errlen, "%s", why && *why ? why : "cannot read the capture");
    return -1;
}

static void usage(FILE *out)
{
    fputs("usage: netstack-pcap summary [--json] FILE...\n"
          "Summarise captures of a guest's link to netstack: the guest, its flows, DNS,\n"
          "anomalies and totals. Several files (rotated: FILE.2 FILE.1 FILE) are read\n"
          "in the order given as one capture.\n"
          "  --json   one JSON object instead of the text report\n", out);
}

/**
 * read_file() - add the capture in @path to @s
 * Return: 0, -1 after one line on stderr naming the file
 */
static int read_file(struct ns_summary *s, const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE], err[PCAP_ERRBUF_SIZE + 64];
    pcap_t *p = pcap_open_offline(path, errbuf);
    int rc;

    if (!p) {
        size_t n = strlen(path);
        const char *why = errbuf;

        /* libpcap names the file itself when it cannot open it */
        if (!strncmp(why, path, n) && !strncmp(why + n, ": ", 2))
            why += n + 2;
        fprintf(stderr, "netstack-pcap summary: %s: %s\n", path, why);
        return -1;
    }
    rc = ns_summary_read(s, p, err, sizeof(err));
    if (rc)
        fprintf(stderr, "netstack-pcap summary: %s: %s\n", path, err);
    pcap_close(p);
    return rc;
}

int ns_pcap_summary_main(int argc, char **argv)
{
    int i, json = 0, nfiles = 0, rc = NS_PCAP_SUMMARY_EXIT_USAGE, opts = 1;
    struct ns_summary *s = NULL;
    const char **files;

    files = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*files));
    if (!files) {
        fprintf(stderr, "netstack-pcap summary: out of memory\n");
        return 1;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (opts && !strcmp(a, "--")) {
            opts = 0;
        } else if (opts && !strcmp(a, "--json")) {
            json = 1;
        } else if (opts && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (opts && a[0] == '-' && a[1]) {
            fprintf(stderr, "netstack-pcap summary: unknown option '%s'\n", a);
            usage(stderr);
            goto out;
        } else {
            files[nfiles++] = a;
        }
    }
    if (!nfiles) {
        fprintf(stderr, "netstack-pcap summary: no capture file given\n");
        usage(stderr);
        goto out;
    }
    s = ns_summary_new();
    if (!s) {
        fprintf(stderr, "netstack-pcap summary: out of memory\n");
        rc = 1;
        goto out;
    }
    for (i = 0; i < nfiles; i++)
        if (read_file(s, files[i]))
            goto out;
    rc = 0;
    if (ns_summary_print(s, stdout, json) || fflush(stdout)) {
        fprintf(stderr, "netstack-pcap summary: cannot write the report\n");
        rc = 1;
    }
out:
    ns_summary_free(s);
    free(files);
    return rc;
}
