/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_index.h - private: the stack's one table of flows, by family and five-tuple
 *
 * Every flow of the TCP NAT, the UDP and ICMP NATs and the UDP forwards is
 * found here (flow_index.c): one hash per stack, keyed by a struct ns_fkey
 * that holds addresses of either family (IPv6, IPv4 mapped), seeded at
 * random since the guest picks the keys, with O(1) insert, lookup and unlink
 * (each bucket is a doubly linked list through the nodes). A module embeds a
 * struct ns_fnode in its own flow struct and keeps its lists (LRU, limits,
 * what it must drain) beside it; ns_fnode_container() gives the flow back.
 */
#ifndef NETSTACK_FLOW_INDEX_H
#define NETSTACK_FLOW_INDEX_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct netstack;

/*
 * enum ns_fkind - what a key names; the same five-tuple of two kinds is two flows
 * @NS_FK_TCP:      a TCP connection: the guest's end and its peer's
 * @NS_FK_UDP:      a UDP NAT flow: the guest's address and port (its peer zero:
 *                  the mapping is endpoint independent)
 * @NS_FK_ICMP:     an ICMP echo flow: the guest's address and echo identifier
 * @NS_FK_UDP_FWD:  a UDP forward's flow: the guest's end and the client as
 *                  the guest sees it
 * @NS_FK_UDP_FWD_CLIENT: the same flow found from the host: the client's
 *                  address and port, and in @peer the forward port it came in
 *                  on (see udp_fwd.c)
 */
enum ns_fkind {
    NS_FK_TCP = 1,
    NS_FK_UDP,
    NS_FK_ICMP,
    NS_FK_UDP_FWD,
    NS_FK_UDP_FWD_CLIENT,
};

/*
 * struct ns_fkey - a flow's key; compared whole (memcmp), so always built
 * with every byte set (a designated initializer zeroes the rest)
 * @guest, @guest_port: the guest's end (address IPv4 mapped)
 * @peer, @peer_port:   the other end as the guest sees it, or zero
 * @kind:               enum ns_fkind (32 bits: the key has no padding)
 */
struct ns_fkey {
    struct in6_addr guest, peer;
    uint16_t guest_port, peer_port;
    uint32_t kind;
};

/*
 * struct ns_fnode - a flow's place in the table
 * @key:    set before ns_findex_insert(), not changed while inserted
 * @next, @pprev: the bucket's list; @pprev NULL while not inserted
 */
struct ns_fnode {
    struct ns_fkey key;
    struct ns_fnode *next, **pprev;
};

#define ns_fnode_container(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * struct ns_flow_index - the table
 * @bucket, @nbucket: the buckets (a power of two, sized for every flow limit)
 * @seed:   the hash's random key
 * @count:  nodes inserted
 */
struct ns_flow_index {
    struct ns_fnode **bucket;
    size_t nbucket;
    uint64_t seed;
    size_t count;
};

/* The module (modules.c): the table exists from before the NATs start to after they stop. */
int ns_findex_start(struct netstack *ns);
void ns_findex_stop(struct netstack *ns);

/**
 * ns_findex_find() - the node inserted with key @k, NULL if none.
 */
struct ns_fnode *ns_findex_find(const struct netstack *ns, const struct ns_fkey *k);

/**
 * ns_findex_insert() - add @n, whose key is set and not in the table yet.
 */
void ns_findex_insert(struct netstack *ns, struct ns_fnode *n);

/**
 * ns_findex_remove() - take @n out; nothing if it is not in.
 */
void ns_findex_remove(struct netstack *ns, struct ns_fnode *n);

#endif /* NETSTACK_FLOW_INDEX_H */
