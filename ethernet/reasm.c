/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reasm.c - bounded fragment reassembly, IPv4 and IPv6 in one table
 *
 * Theory of Operation: a datagram being reassembled is identified by its
 * family, source, destination and identification, and for IPv4 also its
 * protocol (RFC 791; RFC 8200 section 4.5 keys IPv6 fragments without the
 * Next Header, which the first fragment carries). Its payload is copied
 * into a buffer of its own, grown as fragments arrive, and a bitmap records
 * which 8-byte blocks have arrived: the payload buffer is never pointed into
 * by anything else, so growing it cannot leave a dangling pointer (the class
 * of bug behind libslirp's reassembly CVEs).
 *
 * Hostile input is bounded:
 * - at most `max` datagrams at once; a new one evicts the oldest (counted as
 *   drop_frag_limit), so fragments that never complete cannot pin memory;
 * - at most 65535 bytes per datagram (header included for IPv4, the
 *   fragment header for IPv6), checked before anything is copied;
 * - overlapping fragments drop the whole datagram (drop_frag_overlap), as
 *   RFC 5722 requires for IPv6 and modern IPv4 stacks do too, so no fragment
 *   can rewrite bytes another one already delivered;
 * - a datagram not complete within 15 s is dropped (drop_frag_timeout).
 */
#include <stdlib.h>
#include <string.h>

#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "ethernet/reasm.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"

#define MAX_PAYLOAD4 (IPV4_MAX_LEN - IPV4_HLEN)
#define MAX_PAYLOAD6 (65535 - 8)    /* the payload length field, less the fragment header */
#define BLOCKS       ((MAX_PAYLOAD6 + 7) / 8)

/*
 * struct frag - one fragment of either family, as the table sees it
 * @v6:        an IPv6 fragment
 * @src, @dst: the addresses, IPv4 ones as ::ffff:a.b.c.d
 * @id:        the identification (16 bits for IPv4, 32 for IPv6)
 * @proto:     IPv4's protocol, or the fragment header's Next Header
 * @off, @len, @more: where its payload goes, how long, more follow
 * @payload:   the payload bytes
 * @hdr, @hdr_len: the IPv4 header, or the IPv6 fixed header
 * @src_mac:   its Ethernet source
 */
struct frag {
    int v6;
    struct in6_addr src, dst;
    uint32_t id;
    uint8_t proto;
    size_t off, len;
    int more;
    const uint8_t *payload;
    const uint8_t *hdr;
    size_t hdr_len;
    const uint8_t *src_mac;
};

/*
 * struct reasm_entry - one datagram being reassembled
 * States: unused (used == 0); collecting (total == 0 until the last fragment,
 * the one without MF, tells the size); complete (received == total), which is
 * delivered and freed at once, never kept.
 */
struct reasm_entry {
    int used;
    int v6;
    struct in6_addr src, dst;
    uint32_t id;
    uint8_t proto;
    uint64_t started_ms;
    uint8_t src_mac[6];
    uint8_t hdr[60];            /* the first fragment's (IPv4) header, once it arrived */
    size_t hdr_len;
    uint8_t *buf;
    size_t cap;
    size_t total;               /* payload length, 0 until the last fragment arrived */
    size_t received;            /* payload bytes received, overlaps excluded */
    uint8_t bitmap[(BLOCKS + 7) / 8];
};

struct ns_reasm {
    size_t max;
    size_t pending;
    struct reasm_entry *e;
    void (*deliver)(struct ns_link *lk, const struct ns_ipv4 *ip);
    void (*deliver6)(struct ns_link *lk, const struct ns_ipv6 *ip);
};

struct ns_reasm *ns_reasm_new(size_t max,
                              void (*deliver)(struct ns_link *lk, const struct ns_ipv4 *ip),
                              void (*deliver6)(struct ns_link *lk, const struct ns_ipv6 *ip))
{
    struct ns_reasm *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->e = calloc(max ? max : 1, sizeof(*t->e));
    if (!t->e) {
        free(t);
        return NULL;
    }
    t->max = max ? max : 1;
    t->deliver = deliver;
    t->deliver6 = deliver6;
    return t;
}

/**
 * release() - forget one datagram.
 */
static void release(struct ns_reasm *t, struct reasm_entry *e)
{
    free(e->buf);
    memset(e, 0, sizeof(*e));
    t->pending--;
}

void ns_reasm_free(struct ns_reasm *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->max; i++)
        free(t->e[i].buf);
    free(t->e);
    free(t);
}

size_t ns_reasm_pending(const struct ns_reasm *t)
{
    return t ? t->pending : 0;
}

/**
 * lookup() - the entry for @ip's datagram, or a fresh one (evicting the oldest)
 * Return: the entry, NULL only for a table without slots.
 */
static struct reasm_entry *lookup(struct ns_link *lk, const struct frag *ip)
{
    struct ns_reasm *t = lk->reasm;
    struct reasm_entry *free_slot = NULL, *oldest = NULL;
    size_t i;

    for (i = 0; i < t->max; i++) {
        struct reasm_entry *e = &t->e[i];

        if (!e->used) {
            free_slot = free_slot ? free_slot : e;
            continue;
        }
        if (e->v6 == ip->v6 && e->id == ip->id && ns_ip6_equal(&e->src, &ip->src) &&
            ns_ip6_equal(&e->dst, &ip->dst) && (ip->v6 || e->proto == ip->proto))
            return e;
        if (!oldest || e->started_ms < oldest->started_ms)
            oldest = e;
    }
    if (!free_slot) {
        if (!oldest)
            return NULL;    /* no slot at all: cannot happen with max >= 1 */
        NS_COUNT(lk, drop_frag_limit);
        release(t, oldest);
        free_slot = oldest;
    }
    free_slot->used = 1;
    free_slot->v6 = ip->v6;
    free_slot->src = ip->src;
    free_slot->dst = ip->dst;
    free_slot->id = ip->id;
    free_slot->proto = ip->proto;
    free_slot->started_ms = ns_now_ms();
    t->pending++;
    return free_slot;
}

/**
 * blocks_free() - are no blocks of [@off, @end) received yet?
 */
static int blocks_free(const struct reasm_entry *e, size_t off, size_t end)
{
    size_t b;

    for (b = off / 8; b < (end + 7) / 8; b++)
        if (e->bitmap[b / 8] & (1u << (b % 8)))
            return 0;
    return 1;
}

static void blocks_mark(struct reasm_entry *e, size_t off, size_t end)
{
    size_t b;

    for (b = off / 8; b < (end + 7) / 8; b++)
        e->bitmap[b / 8] |= (uint8_t)(1u << (b % 8));
}

/**
 * grow() - make the payload buffer hold @end bytes. Return: 0, -1 on ENOMEM.
 */
static int grow(struct reasm_entry *e, size_t end)
{
    size_t cap = e->cap ? e->cap : 2048, max = e->v6 ? MAX_PAYLOAD6 : MAX_PAYLOAD4;
    uint8_t *p;

    if (end <= e->cap)
        return 0;
    while (cap < end)
        cap *= 2;
    if (cap > max)
        cap = max;
    p = realloc(e->buf, cap);
    if (!p)
        return -1;
    e->buf = p;
    e->cap = cap;
    return 0;
}

/**
 * fragment_ok() - length rules of one fragment against what is known so far.
 */
static int fragment_ok(const struct reasm_entry *e, size_t off, size_t len, int more)
{
    size_t end = off + len, max = e->v6 ? MAX_PAYLOAD6 : MAX_PAYLOAD4;

    if (!len || end > max || (more && len % 8))
        return 0;
    if (e->total && end > e->total)
        return 0;
    if (!more && e->total && e->total != end)
        return 0;
    if (!more && !e->total && !blocks_free(e, end, max))
        return 0;       /* data already received beyond the claimed end */
    return 1;
}

/**
 * deliver() - hand the complete datagram on, then forget it.
 */
static void deliver(struct ns_link *lk, struct reasm_entry *e)
{
    NS_COUNT(lk, frag_reassembled);
    if (e->v6) {
        struct ns_ipv6 ip = {
            .src = e->src, .dst = e->dst, .hop_limit = e->hdr[7], .proto = e->proto,
            .hdr = e->hdr, .payload = e->buf, .payload_len = e->total, .src_mac = e->src_mac,
            .has_frag = 1,  /* it came in fragments: what may not (NDP) is refused */
        };

        lk->reasm->deliver6(lk, &ip);
    } else {
        struct ns_ipv4 ip = {
            .src = ns_load_be32(e->src.s6_addr + 12), .dst = ns_load_be32(e->dst.s6_addr + 12),
            .id = (uint16_t)e->id, .frag = 0, .proto = e->proto, .ttl = e->hdr[8],
            .hdr = e->hdr, .hdr_len = e->hdr_len, .payload = e->buf, .payload_len = e->total,
            .src_mac = e->src_mac,
        };

        lk->reasm->deliver(lk, &ip);
    }
    release(lk->reasm, e);
}

/**
 * add() - one fragment of either family into the table.
 */
static void add(struct ns_link *lk, const struct frag *frag)
{
    size_t off = frag->off, len = frag->len;
    int more = frag->more;
    struct reasm_entry *e;

    NS_COUNT(lk, frag_in);
    e = lookup(lk, frag);
    if (!e) {
        NS_COUNT(lk, drop_frag_limit);
        return;
    }
    if (!fragment_ok(e, off, len, more)) {
        NS_COUNT(lk, drop_frag_malformed);
        release(lk->reasm, e);
        return;
    }
    if (!blocks_free(e, off, off + len)) {
        NS_COUNT(lk, drop_frag_overlap);
        release(lk->reasm, e);
        return;
    }
    if (grow(e, off + len)) {
        NS_COUNT(lk, drop_no_memory);
        release(lk->reasm, e);
        return;
    }
    memcpy(e->buf + off, frag->payload, len);
    blocks_mark(e, off, off + len);
    e->received += len;
    if (!more)
        e->total = off + len;
    if (off == 0) {
        memcpy(e->hdr, frag->hdr, frag->hdr_len);
        e->hdr_len = frag->hdr_len;
        e->proto = frag->proto;
        memcpy(e->src_mac, frag->src_mac, 6);
    }
    if (e->total && e->received == e->total && e->hdr_len)
        deliver(lk, e);
}

void ns_reasm_input(struct ns_link *lk, const struct ns_ipv4 *ip)
{
    struct frag f = {
        .src = ns_ip6_mapped4(ip->src), .dst = ns_ip6_mapped4(ip->dst), .id = ip->id, .proto = ip->proto, .off = (size_t)(ip->frag & IPV4_OFFMASK) * 8,
        .len = ip->payload_len, .more = !!(ip->frag & IPV4_MF), .payload = ip->payload,
        .hdr = ip->hdr, .hdr_len = ip->hdr_len, .src_mac = ip->src_mac,
    };

    add(lk, &f);
}

void ns_reasm_input6(struct ns_link *lk, const struct ns_ipv6 *ip)
{
    struct frag f = {
        .v6 = 1, .src = ip->src, .dst = ip->dst, .id = ip->frag_id, .proto = ip->proto,
        .off = ip->frag & IPV6_FRAG_OFFMASK, .len = ip->payload_len,
        .more = !!(ip->frag & IPV6_FRAG_MF), .payload = ip->payload, .hdr = ip->hdr,
        .hdr_len = IPV6_HLEN, .src_mac = ip->src_mac,
    };

    add(lk, &f);
}

void ns_reasm_expire(struct ns_link *lk, uint64_t now_ms)
{
    struct ns_reasm *t = lk->reasm;
    size_t i;

    for (i = 0; t && t->pending && i < t->max; i++) {
        if (t->e[i].used && now_ms - t->e[i].started_ms >= NS_REASM_TIMEOUT_MS) {
            NS_COUNT(lk, drop_frag_timeout);
            release(t, &t->e[i]);
        }
    }
}
