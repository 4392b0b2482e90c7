/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reasm.c - bounded IPv4 fragment reassembly
 *
 * Theory of Operation: a datagram being reassembled is identified by source,
 * destination, protocol and identification (RFC 791). Its payload is copied
 * into a buffer of its own, grown as fragments arrive, and a bitmap records
 * which 8-byte blocks have arrived: the payload buffer is never pointed into
 * by anything else, so growing it cannot leave a dangling pointer (the class
 * of bug behind libslirp's reassembly CVEs).
 *
 * Hostile input is bounded:
 * - at most `max` datagrams at once; a new one evicts the oldest (counted as
 *   drop_frag_limit), so fragments that never complete cannot pin memory;
 * - at most 65535 bytes per datagram, checked before anything is copied;
 * - overlapping fragments drop the whole datagram (drop_frag_overlap), as
 *   RFC 5722 requires for IPv6 and modern IPv4 stacks do too, so no fragment
 *   can rewrite bytes another one already delivered;
 * - a datagram not complete within 15 s is dropped (drop_frag_timeout).
 */
#include <stdlib.h>
#include <string.h>

#include "ethernet/ipv4.h"
#include "ethernet/reasm.h"
#include "netstack/stack.h"

#define MAX_PAYLOAD (IPV4_MAX_LEN - IPV4_HLEN)
#define BLOCKS      ((MAX_PAYLOAD + 7) / 8)

/*
 * struct reasm_entry - one datagram being reassembled
 * States: unused (used == 0); collecting (total == 0 until the last fragment,
 * the one without MF, tells the size); complete (received == total), which is
 * delivered and freed at once, never kept.
 */
struct reasm_entry {
    int used;
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint64_t started_ms;
    uint8_t src_mac[6];
    uint8_t hdr[60];            /* the first fragment's header, once it arrived */
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
    void (*deliver)(struct netstack *ns, const struct ns_ipv4 *ip);
};

struct ns_reasm *ns_reasm_new(size_t max,
                              void (*deliver)(struct netstack *ns, const struct ns_ipv4 *ip))
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
static struct reasm_entry *lookup(struct netstack *ns, const struct ns_ipv4 *ip)
{
    struct ns_reasm *t = ns->reasm;
    struct reasm_entry *free_slot = NULL, *oldest = NULL;
    size_t i;

    for (i = 0; i < t->max; i++) {
        struct reasm_entry *e = &t->e[i];

        if (!e->used) {
            free_slot = free_slot ? free_slot : e;
            continue;
        }
        if (e->src == ip->src && e->dst == ip->dst && e->id == ip->id && e->proto == ip->proto)
            return e;
        if (!oldest || e->started_ms < oldest->started_ms)
            oldest = e;
    }
    if (!free_slot) {
        if (!oldest)
            return NULL;    /* no slot at all: cannot happen with max >= 1 */
        NS_COUNT(ns, drop_frag_limit);
        release(t, oldest);
        free_slot = oldest;
    }
    free_slot->used = 1;
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
    size_t cap = e->cap ? e->cap : 2048;
    uint8_t *p;

    if (end <= e->cap)
        return 0;
    while (cap < end)
        cap *= 2;
    if (cap > MAX_PAYLOAD)
        cap = MAX_PAYLOAD;
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
    size_t end = off + len;

    if (!len || end > MAX_PAYLOAD || (more && len % 8))
        return 0;
    if (e->total && end > e->total)
        return 0;
    if (!more && e->total && e->total != end)
        return 0;
    if (!more && !e->total && !blocks_free(e, end, MAX_PAYLOAD))
        return 0;       /* data already received beyond the claimed end */
    return 1;
}

/**
 * deliver() - hand the complete datagram on, then forget it.
 */
static void deliver(struct netstack *ns, struct reasm_entry *e)
{
    struct ns_ipv4 ip = {
        .src = e->src, .dst = e->dst, .id = e->id, .frag = 0, .proto = e->proto,
        .ttl = e->hdr[8], .hdr = e->hdr, .hdr_len = e->hdr_len,
        .payload = e->buf, .payload_len = e->total, .src_mac = e->src_mac,
    };

    NS_COUNT(ns, frag_reassembled);
    ns->reasm->deliver(ns, &ip);
    release(ns->reasm, e);
}

void ns_reasm_input(struct netstack *ns, const struct ns_ipv4 *frag)
{
    size_t off = (size_t)(frag->frag & IPV4_OFFMASK) * 8, len = frag->payload_len;
    int more = !!(frag->frag & IPV4_MF);
    struct reasm_entry *e;

    NS_COUNT(ns, frag_in);
    e = lookup(ns, frag);
    if (!e) {
        NS_COUNT(ns, drop_frag_limit);
        return;
    }
    if (!fragment_ok(e, off, len, more)) {
        NS_COUNT(ns, drop_frag_malformed);
        release(ns->reasm, e);
        return;
    }
    if (!blocks_free(e, off, off + len)) {
        NS_COUNT(ns, drop_frag_overlap);
        release(ns->reasm, e);
        return;
    }
    if (grow(e, off + len)) {
        NS_COUNT(ns, drop_no_memory);
        release(ns->reasm, e);
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
        memcpy(e->src_mac, frag->src_mac, 6);
    }
    if (e->total && e->received == e->total && e->hdr_len)
        deliver(ns, e);
}

void ns_reasm_expire(struct netstack *ns, uint64_t now_ms)
{
    struct ns_reasm *t = ns->reasm;
    size_t i;

    for (i = 0; t && t->pending && i < t->max; i++) {
        if (t->e[i].used && now_ms - t->e[i].started_ms >= NS_REASM_TIMEOUT_MS) {
            NS_COUNT(ns, drop_frag_timeout);
            release(t, &t->e[i]);
        }
    }
}
