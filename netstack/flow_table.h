/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_table.h - private: a table of guest flows, each owning one host socket
 *
 * Used by udp_nat.c and icmp_nat.c. A flow is keyed by the guest's address
 * (either family, IPv4 mapped) and a 16-bit identifier (a UDP source port, an ICMP echo
 * identifier). A module's flow struct embeds a struct ns_flow and describes
 * itself once in a struct ns_flow_type; the table allocates, watches, finds,
 * ages, pauses, evicts and frees the flows, and hands a module back its own
 * struct with ns_flow_container(). See flow_table.c for how it works.
 */
#ifndef NETSTACK_FLOW_TABLE_H
#define NETSTACK_FLOW_TABLE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/flow_index.h"
#include "netstack/include/netstack.h"

struct netstack;

/**
 * ns_flow_container() - the module's flow struct around a struct ns_flow
 * @ptr:    the struct ns_flow (or a void * to one, as a loop callback gets it);
 *          must not be NULL
 * @type:   the module's flow struct
 * @member: the name of its struct ns_flow
 */
#define ns_flow_container(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * enum ns_flow_state - what a flow's host socket is doing
 * @NS_FLOW_ACTIVE: watched for input: what the host receives on the socket is
 *                  read and sent to the guest; what the guest sends goes out
 *                  on it.
 * @NS_FLOW_PAUSED: the guest's transport pushed back (ns_flow_pause()): the
 *                  socket is not watched, the flow is on the paused list and
 *                  what the host receives waits in the kernel. What the guest
 *                  sends still goes out. ns_flow_resume() makes it ACTIVE
 *                  again. A paused flow does not expire (its data is not
 *                  idle, the guest is slow) but may still be evicted at the
 *                  limit.
 * In either state a flow can be closed (idle timeout, eviction, guest gone,
 * stop): unwatched, socket closed, unlinked and freed at once, since neither
 * UDP nor ICMP has anything to drain.
 */
enum ns_flow_state {
    NS_FLOW_ACTIVE,
    NS_FLOW_PAUSED,
};

/*
 * struct ns_flow - the table's part of a flow, embedded in the module's own
 * @ns:             the stack (the loop callback gets only the flow)
 * @guest:          the guest's address (IPv4 mapped: ::ffff:a.b.c.d)
 * @guest_id:       the guest's 16-bit identifier: UDP source port, ICMP echo
 *                  identifier
 * @fd:             the host socket
 * @state:          see enum ns_flow_state
 * @last_ms:        the last traffic either way (ns_now_ms)
 * @node:           the flow's place in the stack's flow table (flow_index.h)
 * @prev, @next:    LRU list, oldest first
 * @pprev, @pnext:  paused list (PAUSED only)
 */
struct ns_flow {
    struct netstack *ns;
    struct in6_addr guest;
    uint16_t guest_id;
    int fd;
    enum ns_flow_state state;
    uint64_t last_ms;
    uint64_t created_ms;            /* for list_flows */
    uint64_t bytes_from_guest, bytes_to_guest;
    struct in6_addr peer;           /* the last remote the guest sent to (IPv4 mapped) */
    uint16_t peer_port;
    struct ns_fnode node;
    struct ns_flow *prev, *next;
    struct ns_flow *pprev, *pnext;
};

/*
 * struct ns_flow_type - what a module tells the table about its flows
 * @size:     bytes of the module's flow struct
 * @offset:   where its struct ns_flow is in it (offsetof)
 * @open:     open the host socket of a new flow, whose @ns, @guest and
 *            @guest_id are set and whose module part is zeroed. Return: the
 *            fd, or -1 (the module counts and logs why).
 * @ready:    the loop callback for a flow's socket; its opaque is the
 *            struct ns_flow
 * @evicted:  counter for a flow closed to make room at the limit
 * @expired:  counter for a flow closed after the idle timeout
 * @kind:     what its flows are in the stack's flow table (NS_FK_UDP, NS_FK_ICMP)
 */
struct ns_flow_type {
    size_t size;
    size_t offset;
    int (*open)(struct ns_flow *f);
    netstack_watch_fn ready;
    enum netstack_stat evicted;
    enum netstack_stat expired;
    enum ns_fkind kind;
};

/*
 * struct ns_flow_table - the flows of one module
 * @type:            the module's description, see struct ns_flow_type
 * @ns:              the stack
 * @max_flows:       the limit: at it, a new flow evicts the least recently used
 * @idle_ms:         a flow with no traffic for this long is closed
 * @oldest, @newest: the LRU list
 * @paused:          flows paused for backpressure
 * @count:           flows open
 */
struct ns_flow_table {
    const struct ns_flow_type *type;
    struct netstack *ns;
    uint32_t max_flows;
    uint32_t idle_ms;
    struct ns_flow *oldest, *newest;
    struct ns_flow *paused;
    size_t count;
};

/* Set up and tear down (flow_table.c has the details of every function). */
int ns_flow_table_init(struct ns_flow_table *t, struct netstack *ns,
                       const struct ns_flow_type *type, uint32_t max_flows, uint32_t idle_ms);
void ns_flow_table_fini(struct ns_flow_table *t);

/* Finding and opening flows, and traffic on them. */
struct ns_flow *ns_flow_lookup(const struct ns_flow_table *t, const struct in6_addr *ip,
                               uint16_t id);
struct ns_flow *ns_flow_open(struct ns_flow_table *t, const struct in6_addr *ip, uint16_t id);
void ns_flow_touch(struct ns_flow_table *t, struct ns_flow *f, uint64_t now);

/*
 * Backpressure. ns_flow_pause() must only be called on an ACTIVE flow (debug
 * builds check it with NS_ASSERT: pausing a flow twice corrupts the paused
 * list).
 */
void ns_flow_pause(struct ns_flow_table *t, struct ns_flow *f);
void ns_flow_resume(struct ns_flow_table *t);

/* Closing: the guest went away, idle flows, and when the next one is due. */
void ns_flow_close_all(struct ns_flow_table *t);
void ns_flow_expire(struct ns_flow_table *t, uint64_t now_ms);
int ns_flow_next_timeout(const struct ns_flow_table *t, uint64_t now_ms);

#endif /* NETSTACK_FLOW_TABLE_H */
