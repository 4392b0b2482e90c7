/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_table.c - guest flows keyed by (address, 16-bit identifier), each with
 * one host socket: lookup, LRU eviction, idle timeout, backpressure
 *
 * Theory of Operation: a flow is what one guest address of either family
 * (IPv4 mapped, as every table shared by both keeps it) and identifier (a UDP
 * source port, an ICMP echo identifier) sends through the NAT, and it owns one
 * host socket registered in the stack's loop. The module (udp_nat.c,
 * icmp_nat.c) embeds a struct ns_flow in its own flow struct, opens the socket
 * and reads it; the table keeps everything else.
 *
 * Flows are found by (address, identifier) in the stack's one flow table
 * (flow_index.h: seeded, O(1)), as every flow of the stack is. They are also
 * kept on one LRU list per module,
 * oldest first: traffic in either direction moves a flow to the end, so the
 * head is both the flow to evict when the flow limit is reached and the next
 * to expire (the idle timeout is the same for all), which keeps the timer
 * query O(1).
 *
 * Backpressure (nat.h): when the guest's transport pushes back, the module
 * pauses the flow it was reading. Its socket is unwatched and the flow put on
 * the paused list, its host data left in the kernel's buffer until
 * ns_flow_resume() watches every paused flow again. A paused flow is not idle,
 * so expiry refreshes it instead of closing it; eviction may still take it.
 *
 * Closing a flow (idle timeout, eviction, guest gone, stop) is immediate:
 * unwatched, socket closed, unlinked from every list and freed. The states and
 * what each allows are documented at enum ns_flow_state (flow_table.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "netstack/flow_table.h"
#include "netstack/stack.h"

/**
 * key_of() - the key of @ip and @id in the stack's flow table.
 */
static struct ns_fkey key_of(const struct ns_flow_table *t, const struct in6_addr *ip, uint16_t id)
{
    return (struct ns_fkey){ .guest = *ip, .guest_port = id, .kind = t->type->kind };
}

/**
 * count() - add one to the stack's counter @stat
 * @t:    the table
 * @stat: the counter
 */
static void count(struct ns_flow_table *t, enum netstack_stat stat)
{
    t->ns->stats[stat]++;
}

/**
 * lru_unlink() - take @f off the LRU list
 * @t: the table
 * @f: a flow on it
 */
static void lru_unlink(struct ns_flow_table *t, struct ns_flow *f)
{
    /* On the list: linked to a neighbour, or its only entry. Not unlinked twice. */
    NS_ASSERT(f->prev || f->next || (t->oldest == f && t->newest == f));
    if (f->prev)
        f->prev->next = f->next;
    else
        t->oldest = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        t->newest = f->prev;
    f->prev = f->next = NULL;
}

/**
 * lru_append() - put @f at the newest end of the LRU list
 * @t: the table
 * @f: a flow not on it
 */
static void lru_append(struct ns_flow_table *t, struct ns_flow *f)
{
    NS_ASSERT(!f->prev && !f->next && t->oldest != f);
    f->prev = t->newest;
    f->next = NULL;
    if (t->newest)
        t->newest->next = f;
    else
        t->oldest = f;
    t->newest = f;
}

/**
 * paused_unlink() - take @f off the paused list, if it is on it: ACTIVE again
 * @t: the table
 * @f: a flow of @t
 */
static void paused_unlink(struct ns_flow_table *t, struct ns_flow *f)
{
    if (f->state != NS_FLOW_PAUSED)
        return;
    if (f->pprev)
        f->pprev->pnext = f->pnext;
    else
        t->paused = f->pnext;
    if (f->pnext)
        f->pnext->pprev = f->pprev;
    f->pprev = f->pnext = NULL;
    f->state = NS_FLOW_ACTIVE;
}

/**
 * flow_free() - free the module's flow struct around @f
 * @t: the table
 * @f: a flow on no list, its socket closed
 */
static void flow_free(const struct ns_flow_table *t, struct ns_flow *f)
{
    free((char *)f - t->type->offset);
}

/**
 * flow_close() - unwatch and close @f's socket, unlink and free it
 * @t: the table
 * @f: a flow of @t, in either state
 */
static void flow_close(struct ns_flow_table *t, struct ns_flow *f)
{
    NS_ASSERT(f->node.pprev);   /* a flow closed twice is in no bucket */
    ns_findex_remove(t->ns, &f->node);
    lru_unlink(t, f);
    paused_unlink(t, f);
    ns_loop_del(&f->ns->loop, f->fd);   /* before close: the fd may be reused at once */
    close(f->fd);
    t->count--;
    flow_free(t, f);
}

/**
 * ns_flow_table_init() - an empty table
 * @t:         the table (its memory zeroed or not)
 * @ns:        the stack
 * @type:      the module's flows; must outlive the table
 * @max_flows: the flow limit
 * @idle_ms:   the idle timeout
 * Return: 0, -ENOMEM (nothing to undo).
 */
int ns_flow_table_init(struct ns_flow_table *t, struct netstack *ns,
                       const struct ns_flow_type *type, uint32_t max_flows, uint32_t idle_ms)
{
    t->type = type;
    t->ns = ns;
    t->max_flows = max_flows;
    t->idle_ms = idle_ms;
    t->oldest = t->newest = t->paused = NULL;
    t->count = 0;
    return 0;
}

/**
 * ns_flow_table_fini() - close every flow
 * @t: a table ns_flow_table_init() succeeded on
 */
void ns_flow_table_fini(struct ns_flow_table *t)
{
    ns_flow_close_all(t);
}

/**
 * ns_flow_lookup() - the flow of a guest address and identifier
 * @t:  the table
 * @ip: guest address (IPv4 mapped)
 * @id: guest identifier
 * Return: the flow, or NULL.
 */
struct ns_flow *ns_flow_lookup(const struct ns_flow_table *t, const struct in6_addr *ip,
                               uint16_t id)
{
    struct ns_fkey k = key_of(t, ip, id);
    struct ns_fnode *n = ns_findex_find(t->ns, &k);

    return n ? ns_fnode_container(n, struct ns_flow, node) : NULL;
}

/**
 * ns_flow_open() - a new flow for @ip and @id, evicting the least recently
 * used at the limit
 * @t:  the table
 * @ip: guest address (IPv4 mapped); no flow of @ip and @id may exist yet (not
 *      checked: look it up first)
 * @id: guest identifier
 *
 * The module's flow struct is allocated zeroed, the socket opened by the
 * type's open() and watched for input with its ready(). The flow becomes the
 * most recently used, but its @last_ms stays 0 until the caller's
 * ns_flow_touch().
 * Return: the flow, or NULL (refused, or sockets or memory exhausted; counted).
 */
struct ns_flow *ns_flow_open(struct ns_flow_table *t, const struct in6_addr *ip, uint16_t id)
{
    char *mem = calloc(1, t->type->size);
    struct ns_flow *f;

    if (!mem) {
        count(t, NETSTACK_STAT_drop_no_memory);
        return NULL;
    }
    f = (struct ns_flow *)(void *)(mem + t->type->offset);
    f->ns = t->ns;
    f->guest = *ip;
    f->guest_id = id;
    f->created_ms = f->last_ms = ns_now_ms();
    /* Evict first: at the limit, the oldest flow's descriptor is the new one's. */
    if (t->count >= t->max_flows && t->oldest) {
        flow_close(t, t->oldest);
        count(t, t->type->evicted);
    }
    f->fd = t->type->open(f);
    if (f->fd < 0)
        goto fail;
    if (ns_loop_set(&t->ns->loop, f->fd, NETSTACK_EV_IN, t->type->ready, f)) {
        count(t, NETSTACK_STAT_drop_no_memory);
        close(f->fd);
        goto fail;
    }
    f->node.key = key_of(t, ip, id);
    ns_findex_insert(t->ns, &f->node);
    lru_append(t, f);
    t->count++;
    return f;
fail:
    free(mem);
    return NULL;
}

/**
 * ns_flow_touch() - traffic on @f at @now: it becomes the most recently used
 * @t:   the table
 * @f:   a flow of @t
 * @now: the current time (ns_now_ms)
 */
void ns_flow_touch(struct ns_flow_table *t, struct ns_flow *f, uint64_t now)
{
    f->last_ms = now;
    if (t->newest != f) {
        lru_unlink(t, f);
        lru_append(t, f);
    }
}

/**
 * ns_flow_pause() - stop reading @f until ns_flow_resume()
 * @t: the table
 * @f: a flow of @t. It must be ACTIVE (NS_ASSERT): pausing a flow twice
 *     would corrupt the paused list.
 */
void ns_flow_pause(struct ns_flow_table *t, struct ns_flow *f)
{
    NS_ASSERT(f->state == NS_FLOW_ACTIVE && !f->pprev && !f->pnext && t->paused != f);
    ns_loop_del(&f->ns->loop, f->fd);
    f->state = NS_FLOW_PAUSED;
    f->pprev = NULL;
    f->pnext = t->paused;
    if (t->paused)
        t->paused->pprev = f;
    t->paused = f;
}

/**
 * ns_flow_resume() - the transport takes frames again: watch paused flows
 * @t: the table
 *
 * A flow whose watch cannot be restored (out of memory) is closed rather than
 * left paused forever.
 */
void ns_flow_resume(struct ns_flow_table *t)
{
    struct ns_flow *f;

    while ((f = t->paused)) {
        paused_unlink(t, f);
        if (ns_loop_set(&t->ns->loop, f->fd, NETSTACK_EV_IN, t->type->ready, f)) {
            count(t, NETSTACK_STAT_drop_no_memory);
            flow_close(t, f);
        }
    }
}

/**
 * ns_flow_close_all() - close every flow (the guest went away, or stop)
 * @t: the table
 */
void ns_flow_close_all(struct ns_flow_table *t)
{
    while (t->oldest)
        flow_close(t, t->oldest);
}

/**
 * ns_flow_expire() - close flows idle for the table's idle timeout
 * @t:      the table
 * @now_ms: the current time
 *
 * The LRU head is always the next to expire, so this stops at the first flow
 * still in time. A paused flow is refreshed instead: its data waits for the
 * guest, it is not idle.
 */
void ns_flow_expire(struct ns_flow_table *t, uint64_t now_ms)
{
    struct ns_flow *f;

    while ((f = t->oldest) && f->last_ms + t->idle_ms <= now_ms) {
        if (f->state == NS_FLOW_PAUSED) {
            ns_flow_touch(t, f, now_ms);
            continue;
        }
        flow_close(t, f);
        count(t, t->type->expired);
    }
}

/**
 * ns_flow_next_timeout() - milliseconds until the oldest flow expires
 * @t:      the table
 * @now_ms: the current time
 * Return: 0 if one is due, -1 when there are no flows.
 */
int ns_flow_next_timeout(const struct ns_flow_table *t, uint64_t now_ms)
{
    uint64_t due;

    if (!t->oldest)
        return -1;
    due = t->oldest->last_ms + t->idle_ms;
    if (due <= now_ms)
        return 0;
    return due - now_ms > INT_MAX ? INT_MAX : (int)(due - now_ms);
}
