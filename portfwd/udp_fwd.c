/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_fwd.c - UDP forwarded from host ports into the guest
 *
 * Theory of Operation: forward.c binds one host UDP socket per forwarded port
 * (struct ns_fwd_port) and calls ns_udp_fwd_readable() when it has datagrams.
 * Every client address (the source of a datagram on that socket) is one flow.
 * A flow gives the client the address the guest sees it as, its "shown"
 * address, in the family the forward reaches the guest over: with
 * preserve_source the client's own address and port (a loopback client as
 * the host-loopback alias or its IPv6 twin, ns_fwd_source()); otherwise, or
 * for a client of the other family, the gateway and a port allocated here from the IANA
 * dynamic range 49152-65535 (RFC 6335), unique among the flows and so never
 * one of the gateway's own services (DNS 53, DHCP 67). A preserved address
 * that is unusable (on the guest's own link, which would impersonate a
 * neighbour) or already shown by another flow (two loopback clients
 * 127.0.0.1:P and 127.0.0.2:P are both the alias port P) falls back to the
 * gateway and an allocated port, so every flow stays reachable.
 *
 *   client --> host socket --recvmmsg--> flow --ns_udp_send/ns_udp6_send--> guest
 *   client <-- sendto(host socket) <-- flow <-- ns_udp_fwd_input() <-- guest
 *
 * Guest to host: udp.c offers every guest datagram to ns_udp_fwd_input()
 * before the NAT. A datagram from the guest port of a flow to its shown
 * address is the guest's answer: it leaves on the forward's socket with
 * sendto(), so the client sees it come from the port it sent to. Anything
 * else goes on to the NAT.
 *
 * Flows are found both ways in O(1) in the stack's one flow table
 * (netstack/flow_index.h, seeded: the client and the guest pick the keys),
 * through two nodes each: by the guest-visible four-tuple (guest address and
 * port, shown address and port) for the guest's answers, and by forward port
 * and client address for host datagrams. One LRU list, oldest first, gives
 * the flow to evict at max_udp_flows and the next to expire after
 * udp_idle_timeout_ms without traffic either way. The NAT's flow module
 * (flow_table.c) does not fit: its flows are keyed by the guest side alone
 * and each owns a host socket, while these share the forward's socket.
 *
 * Host to guest uses recvmmsg() in batches, with the transmit queue budget of
 * udp_nat.c: a batch is only read when the queue has room for it at its worst.
 * Backpressure (nat.h): while the transport pushes back, the port's watch,
 * which forward.c registered, loses NETSTACK_EV_IN (same callback and opaque,
 * so nothing of forward.c's changes) and the port goes on a paused list;
 * ns_udp_fwd_resume() watches it for input again. Flows of a paused port do
 * not expire: their data waits for the guest, they are not idle.
 *
 * The state hangs off struct netstack (udp_fwd).
 */
#define _GNU_SOURCE /* recvmmsg() */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "netstack/flow_index.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/udp.h"
#include "portfwd/portfwd.h"

#define FWD_BUF_SIZE        65536       /* one datagram, never truncated */
#define FWD_BATCH           16          /* datagrams per recvmmsg() */
#define FWD_WAKEUP_BATCHES  4           /* recvmmsg() calls per wakeup: fairness */
#define FWD_PORT_LO         49152       /* RFC 6335 dynamic ports: never 53 or 67 */
#define FWD_PORT_COUNT      16384

/*
 * struct fwd_client - a client address in a form that compares with memcmp
 * @addr:   IPv4 (first 4 bytes) or IPv6 address; IPv4-mapped IPv6 is IPv4
 * @scope:  IPv6 scope id (link-local clients)
 * @port:   port, host order
 * @family: AF_INET or AF_INET6
 */
struct fwd_client {
    uint8_t addr[16];
    uint32_t scope;
    uint16_t port;
    uint16_t family;
};

/*
 * struct fwd_flow - one client of one forwarded port
 * @port:        the forward port it came in on (valid until port_closed)
 * @client:      the client's address as received, for sendto()
 * @client_len:  its length
 * @key:         the client's address, normalised (struct fwd_client)
 * @src:         the address the guest sees the client as (IPv4 mapped)
 * @src_port:    its port
 * @own_port:    @src_port was allocated here (the gateway's), to give back
 * @guest:       where the datagrams go (the port's guest when created, IPv4 mapped)
 * @guest_port:  its port
 * @created_ms:  when the flow was opened (ns_now_ms)
 * @last_ms:     the last traffic either way
 * @to_guest:    payload bytes sent to the guest
 * @to_host:     payload bytes sent to the client
 * @gnode:       its place in the flow table by guest-visible four-tuple
 * @hnode:       its place by forward port and client (NS_FK_UDP_FWD_CLIENT)
 * @prev, @next: LRU list, oldest first
 *
 * A flow has one state: open. It is found both ways and closed at once (idle
 * timeout, eviction, its port closed, stop): UDP has nothing to drain.
 */
struct fwd_flow {
    struct ns_fwd_port *port;
    struct sockaddr_storage client;
    socklen_t client_len;
    struct fwd_client key;
    struct in6_addr src;
    uint16_t src_port;
    int own_port;
    struct in6_addr guest;
    uint16_t guest_port;
    uint64_t created_ms;
    uint64_t last_ms;
    uint64_t to_guest;
    uint64_t to_host;
    struct ns_fnode gnode, hnode;
    struct fwd_flow *prev, *next;
};

/*
 * struct fwd_paused - a port not read while the transport pushes back
 * @port: the port; its watch has no NETSTACK_EV_IN
 * @next: next paused port
 */
struct fwd_paused {
    struct ns_fwd_port *port;
    struct fwd_paused *next;
};

/*
 * struct ns_udp_fwd - the flows of every UDP forward, and the receive buffers
 * @ns:              the stack
 * @max_flows:       the limit: at it, a new flow evicts the least recently used
 * @idle_ms:         a flow with no traffic for this long is closed
 * @seed:            random, for where port allocation starts
 * @oldest, @newest: the LRU list
 * @count:           flows open
 * @paused:          ports paused for backpressure
 * @next_port:       where the next port allocation starts (offset in range)
 * @port_used:       bitmap of allocated ports, FWD_PORT_COUNT bits from FWD_PORT_LO
 * @msg, @iov, @from, @buf: recvmmsg() headers and FWD_BATCH datagram buffers
 */
struct ns_udp_fwd {
    struct netstack *ns;
    uint32_t max_flows;
    uint32_t idle_ms;
    uint64_t seed;
    struct fwd_flow *oldest, *newest;
    size_t count;
    struct fwd_paused *paused;
    uint32_t next_port;
    uint64_t port_used[FWD_PORT_COUNT / 64];
    struct mmsghdr msg[FWD_BATCH];
    struct iovec iov[FWD_BATCH];
    struct sockaddr_storage from[FWD_BATCH];
    uint8_t *buf;
};

/**
 * fwd_of() - the UDP forward state of @ns
 * @ns: the stack
 * Return: the state, NULL before ns_udp_fwd_start() or after stop.
 */
static struct ns_udp_fwd *fwd_of(const struct netstack *ns)
{
    return ns->udp_fwd;
}

/**
 * guest_key() - a flow's key by its guest-visible four-tuple
 * @src:        the client as the guest sees it (IPv4 mapped)
 * @src_port:   its port
 * @guest:      the guest's address
 * @guest_port: the guest's port
 */
static struct ns_fkey guest_key(const struct in6_addr *src, uint16_t src_port,
                                const struct in6_addr *guest, uint16_t guest_port)
{
    return (struct ns_fkey){ .guest = *guest, .peer = *src, .guest_port = guest_port,
                             .peer_port = src_port, .kind = NS_FK_UDP_FWD };
}

/**
 * host_key() - a flow's key from the host: client @c on forward port @p
 * The key's @guest holds the client's address as client_key() normalised it,
 * @guest_port its port and @peer_port its family; @peer names the forward
 * port (its struct's address, unique while it exists) and the client's IPv6
 * scope. No guest flow has this kind, so nothing else can match.
 */
static struct ns_fkey host_key(const struct ns_fwd_port *p, const struct fwd_client *c)
{
    struct ns_fkey k = { .guest_port = c->port, .peer_port = c->family,
                         .kind = NS_FK_UDP_FWD_CLIENT };
    uintptr_t id = (uintptr_t)p;

    memcpy(k.guest.s6_addr, c->addr, sizeof(c->addr));
    memcpy(k.peer.s6_addr, &id, sizeof(id));
    memcpy(k.peer.s6_addr + 8, &c->scope, sizeof(c->scope));
    return k;
}

/**
 * client_key() - normalise a client address; IPv4-mapped IPv6 becomes IPv4
 * @sa:  the address as received
 * @len: its length
 * @c:   filled, padding zeroed
 * Return: 0, -1 for a family or length that is not a client's.
 */
static int client_key(const struct sockaddr_storage *sa, socklen_t len, struct fwd_client *c)
{
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

    memset(c, 0, sizeof(*c));
    if (sa->ss_family == AF_INET && len >= sizeof(*s4)) {
        c->family = AF_INET;
        memcpy(c->addr, &s4->sin_addr, 4);
        c->port = ntohs(s4->sin_port);
        return 0;
    }
    if (sa->ss_family != AF_INET6 || len < sizeof(*s6))
        return -1;
    c->port = ntohs(s6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        c->family = AF_INET;
        memcpy(c->addr, &s6->sin6_addr.s6_addr[12], 4);
        return 0;
    }
    c->family = AF_INET6;
    memcpy(c->addr, &s6->sin6_addr, 16);
    c->scope = s6->sin6_scope_id;
    return 0;
}

/**
 * client_sockaddr() - a normalised client as a socket address
 * @c:  the client
 * @sa: filled: struct sockaddr_in for IPv4 (also IPv4-mapped), else sockaddr_in6
 */
static void client_sockaddr(const struct fwd_client *c, struct sockaddr_storage *sa)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)sa;

    memset(sa, 0, sizeof(*sa));
    if (c->family == AF_INET) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(c->port);
        memcpy(&s4->sin_addr, c->addr, 4);
        return;
    }
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(c->port);
    memcpy(&s6->sin6_addr, c->addr, 16);
    s6->sin6_scope_id = c->scope;
}

/**
 * port_alloc() - a free port of the dynamic range for a gateway-sourced flow
 * @u: the state
 * Return: the port, or 0 when every one is taken.
 */
static uint16_t port_alloc(struct ns_udp_fwd *u)
{
    uint32_t i, n;

    for (i = 0; i < FWD_PORT_COUNT; i++) {
        n = (u->next_port + i) % FWD_PORT_COUNT;
        if (!(u->port_used[n / 64] & (1ull << (n % 64)))) {
            u->port_used[n / 64] |= 1ull << (n % 64);
            u->next_port = (n + 1) % FWD_PORT_COUNT;
            return (uint16_t)(FWD_PORT_LO + n);
        }
    }
    return 0;
}

/**
 * port_free() - give back a port from port_alloc()
 * @u:    the state
 * @port: the port
 */
static void port_free(struct ns_udp_fwd *u, uint16_t port)
{
    uint32_t n = (uint32_t)port - FWD_PORT_LO;

    u->port_used[n / 64] &= ~(1ull << (n % 64));
}

/**
 * lru_unlink() - take @f off the LRU list
 * @u: the state
 * @f: a flow on it
 */
static void lru_unlink(struct ns_udp_fwd *u, struct fwd_flow *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        u->oldest = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        u->newest = f->prev;
    f->prev = f->next = NULL;
}

/**
 * lru_append() - put @f at the newest end of the LRU list
 * @u: the state
 * @f: a flow not on it
 */
static void lru_append(struct ns_udp_fwd *u, struct fwd_flow *f)
{
    f->prev = u->newest;
    f->next = NULL;
    if (u->newest)
        u->newest->next = f;
    else
        u->oldest = f;
    u->newest = f;
}

/**
 * flow_touch() - traffic on @f at @now: it becomes the most recently used
 * @u:   the state
 * @f:   a flow
 * @now: the current time (ns_now_ms)
 */
static void flow_touch(struct ns_udp_fwd *u, struct fwd_flow *f, uint64_t now)
{
    f->last_ms = now;
    if (u->newest != f) {
        lru_unlink(u, f);
        lru_append(u, f);
    }
}

/**
 * flow_close() - unlink @f from both hashes and the LRU list, free it
 * @u: the state
 * @f: a flow
 */
static void flow_close(struct ns_udp_fwd *u, struct fwd_flow *f)
{
    ns_findex_remove(u->ns, &f->hnode);
    ns_findex_remove(u->ns, &f->gnode);
    lru_unlink(u, f);
    if (f->own_port)
        port_free(u, f->src_port);
    u->count--;
    free(f);
}

/**
 * lookup_host() - the flow of a client on a forward port
 * @u: the state
 * @p: the port
 * @c: the client, normalised
 * Return: the flow, or NULL.
 */
static struct fwd_flow *lookup_host(const struct ns_udp_fwd *u, const struct ns_fwd_port *p,
                                    const struct fwd_client *c)
{
    struct ns_fkey k = host_key(p, c);
    struct ns_fnode *n = ns_findex_find(u->ns, &k);

    return n ? ns_fnode_container(n, struct fwd_flow, hnode) : NULL;
}

/**
 * lookup_guest() - the flow of a guest-visible 4-tuple
 * @u:          the state
 * @src:        the client as the guest sees it (IPv4 mapped)
 * @src_port:   its port
 * @guest:      the guest's address
 * @guest_port: the guest's port
 * Return: the flow, or NULL.
 */
static struct fwd_flow *lookup_guest(const struct ns_udp_fwd *u, const struct in6_addr *src,
                                     uint16_t src_port, const struct in6_addr *guest,
                                     uint16_t guest_port)
{
    struct ns_fkey k = guest_key(src, src_port, guest, guest_port);
    struct ns_fnode *n = ns_findex_find(u->ns, &k);

    return n ? ns_fnode_container(n, struct fwd_flow, gnode) : NULL;
}

/**
 * is_paused() - is @p on the paused list?
 * @u: the state
 * @p: a forward port
 * Return: 1 or 0. The list holds one entry per paused port: it is short.
 */
static int is_paused(const struct ns_udp_fwd *u, const struct ns_fwd_port *p)
{
    const struct fwd_paused *e;

    for (e = u->paused; e; e = e->next)
        if (e->port == p)
            return 1;
    return 0;
}

/**
 * set_input() - turn NETSTACK_EV_IN of @p's watch on or off
 * @ns: the stack
 * @p:  the port; its watch is forward.c's, whose callback and opaque are kept
 * @on: 1 to watch for input, 0 not to
 * Return: 0, -ENOENT when the socket is not watched, or ns_loop_set()'s error.
 */
static int set_input(struct netstack *ns, const struct ns_fwd_port *p, int on)
{
    const struct ns_watch *w;

    if (p->fd < 0 || (size_t)p->fd >= ns->loop.nwatch || !ns->loop.watch[p->fd].cb)
        return -ENOENT;
    w = &ns->loop.watch[p->fd];
    return ns_loop_set(&ns->loop, p->fd,
                       on ? w->events | NETSTACK_EV_IN : w->events & ~NETSTACK_EV_IN,
                       w->cb, w->opaque);
}

/**
 * pause_port() - stop reading @p until ns_udp_fwd_resume()
 * @u: the state
 * @p: a port not paused yet
 */
static void pause_port(struct ns_udp_fwd *u, struct ns_fwd_port *p)
{
    struct fwd_paused *e = malloc(sizeof(*e));

    if (!e) {
        NS_COUNT(u->ns, drop_no_memory);    /* left watched: tried again next wakeup */
        return;
    }
    set_input(u->ns, p, 0);
    e->port = p;
    e->next = u->paused;
    u->paused = e;
}

/**
 * unpause_port() - take @p off the paused list without touching its watch
 * @u: the state
 * @p: a port, paused or not
 */
static void unpause_port(struct ns_udp_fwd *u, const struct ns_fwd_port *p)
{
    struct fwd_paused **pp, *e;

    for (pp = &u->paused; *pp; pp = &(*pp)->next) {
        if ((*pp)->port == p) {
            e = *pp;
            *pp = e->next;
            free(e);
            return;
        }
    }
}

/**
 * shown_source() - the address and port the guest will see a new client as
 * @u: the state
 * @f: the new flow: @port, @key, @guest and @guest_port set
 * Return: 0 with @f's @src, @src_port and @own_port set; -1 when no port is
 * free in the dynamic range.
 */
static int shown_source(struct ns_udp_fwd *u, struct fwd_flow *f)
{
    struct netstack *ns = u->ns;
    int v6 = !ns_ip6_is_mapped4(&f->guest);
    struct in6_addr ip, gw = v6 ? ns->link.gateway6 : ns_ip6_mapped4(ns->link.gateway);
    struct sockaddr_storage sa;
    uint16_t port = 0;

    client_sockaddr(&f->key, &sa);
    ns_fwd_source(ns, &sa, f->port->fw->spec.preserve_source, v6, &ip, &port);
    if (port && !ns_ip6_equal(&ip, &gw) && !ns_nat_hidden_source(ns, &ip) &&
        !lookup_guest(u, &ip, port, &f->guest, f->guest_port)) {
        f->src = ip;
        f->src_port = port;
        return 0;
    }
    f->src = gw;
    f->src_port = port_alloc(u);
    f->own_port = 1;
    return f->src_port ? 0 : -1;
}

/**
 * flow_open() - a new flow for client @c on @p, evicting the least recently
 * used at the limit
 * @u:   the state
 * @p:   the port
 * @guest: where its datagrams go now (ns_fwd_guest())
 * @c:   the client, normalised; no flow of @p and @c may exist yet
 * @sa:  the client's address as received
 * @len: its length
 * Return: the flow, or NULL (memory, or the port range, exhausted; counted).
 */
static struct fwd_flow *flow_open(struct ns_udp_fwd *u, struct ns_fwd_port *p,
                                  const struct in6_addr *guest, const struct fwd_client *c,
                                  const struct sockaddr_storage *sa, socklen_t len)
{
    struct fwd_flow *f;

    if (u->count >= u->max_flows && u->oldest) {
        flow_close(u, u->oldest);
        NS_COUNT(u->ns, udp_flows_evicted);
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        NS_COUNT(u->ns, drop_no_memory);
        return NULL;
    }
    f->port = p;
    f->key = *c;
    memcpy(&f->client, sa, len);
    f->client_len = len;
    f->guest = *guest;
    f->guest_port = p->guest_port;
    if (shown_source(u, f)) {
        NS_COUNT(u->ns, drop_udp_host_error);
        free(f);
        return NULL;
    }
    f->created_ms = ns_now_ms();
    f->hnode.key = host_key(p, c);
    ns_findex_insert(u->ns, &f->hnode);
    f->gnode.key = guest_key(&f->src, f->src_port, &f->guest, f->guest_port);
    ns_findex_insert(u->ns, &f->gnode);
    lru_append(u, f);
    u->count++;
    NS_COUNT(u->ns, udp_flows_created);
    return f;
}

/**
 * flow_of() - the flow for datagram @i of the last recvmmsg() on @p
 * @u: the state
 * @p: the port
 * @guest: where @p's datagrams go now
 * @i: index in @u's recvmmsg() arrays
 *
 * A flow whose guest address or port is no longer the port's (a new lease, a
 * new SLAAC address) is replaced by a new one.
 * Return: the flow, or NULL (bad source address, or no flow could be opened;
 * counted).
 */
static struct fwd_flow *flow_of(struct ns_udp_fwd *u, struct ns_fwd_port *p,
                                const struct in6_addr *guest, int i)
{
    socklen_t len = u->msg[i].msg_hdr.msg_namelen;
    struct fwd_client c;
    struct fwd_flow *f;

    if (len > sizeof(u->from[i]) || client_key(&u->from[i], len, &c)) {
        NS_COUNT(u->ns, drop_udp_host_error);
        return NULL;
    }
    f = lookup_host(u, p, &c);
    if (f && (!ns_ip6_equal(&f->guest, guest) || f->guest_port != p->guest_port)) {
        flow_close(u, f);
        f = NULL;
    }
    return f ? f : flow_open(u, p, guest, &c, &u->from[i], len);
}

/**
 * deliver() - datagram @i of the last recvmmsg() on @p, to the guest
 * @u:   the state
 * @p:   the port it was read on
 * @i:   its index in @u's recvmmsg() arrays
 * @now: the current time
 */
static void deliver(struct ns_udp_fwd *u, struct ns_fwd_port *p, int i, uint64_t now)
{
    struct netstack *ns = u->ns;
    size_t len = u->msg[i].msg_len;
    const uint8_t *data = u->buf + (size_t)i * FWD_BUF_SIZE;
    struct in6_addr guest;
    struct fwd_flow *f;
    int rc;

    if (ns_fwd_guest(ns, p, &guest)) {
        NS_COUNT(ns, drop_udp_destination);     /* no IPv6 address heard yet: nobody to send to */
        return;
    }
    if (u->msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
        NS_COUNT(ns, drop_udp_host_error);
        return;
    }
    f = flow_of(u, p, &guest, i);
    if (!f)
        return;
    flow_touch(u, f, now);
    if (ns_ip6_is_mapped4(&f->guest))
        rc = ns_udp_send(ns, NULL, ns_ip6_get4(&f->src), f->src_port, ns_ip6_get4(&f->guest),
                         f->guest_port, data, len);
    else
        rc = ns_udp6_send(ns, &f->src, f->src_port, &f->guest, f->guest_port, data, len);
    if (!rc) {
        NS_COUNT(ns, udp_to_guest);
        f->to_guest += len;
    } else if (rc == -EMSGSIZE) {
        NS_COUNT(ns, drop_udp_host_error);      /* an IPv6 datagram too big for IPv4 */
    }
}

/**
 * read_batch() - one recvmmsg() of up to @max datagrams on @p, all delivered
 * @u:   the state
 * @p:   the port
 * @max: datagrams to read at most, 1..FWD_BATCH
 * Return: how many were read; 0 when none waited or the socket had an error.
 */
static int read_batch(struct ns_udp_fwd *u, struct ns_fwd_port *p, int max)
{
    uint64_t now;
    int i, n;

    for (i = 0; i < max; i++) {
        u->iov[i].iov_base = u->buf + (size_t)i * FWD_BUF_SIZE;
        u->iov[i].iov_len = FWD_BUF_SIZE;
        memset(&u->msg[i].msg_hdr, 0, sizeof(u->msg[i].msg_hdr));
        u->msg[i].msg_hdr.msg_iov = &u->iov[i];
        u->msg[i].msg_hdr.msg_iovlen = 1;
        u->msg[i].msg_hdr.msg_name = &u->from[i];
        u->msg[i].msg_hdr.msg_namelen = sizeof(u->from[i]);
    }
    n = recvmmsg(p->fd, u->msg, (unsigned)max, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;   /* EAGAIN, or a socket error now consumed: nothing to do */
    now = ns_now_ms();
    for (i = 0; i < n; i++)
        deliver(u, p, i, now);
    return n;
}

/**
 * ns_udp_fwd_readable() - @p's host socket has datagrams: to the guest
 * @ns: the stack
 * @p:  the port; its socket non-blocking and watched by forward.c
 *
 * Reads up to FWD_WAKEUP_BATCHES batches, as the transmit queue allows; when
 * the transport pushed back, the port is paused until ns_udp_fwd_resume().
 */
void ns_udp_fwd_readable(struct netstack *ns, struct ns_fwd_port *p)
{
    struct ns_udp_fwd *u = fwd_of(ns);
    int i, max;

    if (!u)
        return;
    for (i = 0; i < FWD_WAKEUP_BATCHES; i++) {
        max = ns_udp_tx_budget(ns, FWD_BATCH);
        if (max < 0) {
            if (!is_paused(u, p))
                pause_port(u, p);
            return;
        }
        if (!max || read_batch(u, p, max) < max)
            return;
    }
}

/**
 * ns_udp_fwd_input() - a guest datagram that answers a forward?
 * @ns:    the stack
 * @src:   its source address (IPv4 mapped)
 * @dst:   its destination
 * @sport: UDP source port (the guest's)
 * @dport: UDP destination port
 * @data:  the payload, @len bytes
 * @len:   its length
 *
 * O(1): one lookup by the guest-visible 4-tuple. A send error (full socket
 * buffer, client gone) is a counted drop: UDP is lossy by contract.
 * Return: 1 if the datagram belongs to a flow (sent or counted), 0 to leave
 * it to the NAT.
 */
int ns_udp_fwd_input(struct netstack *ns, const struct in6_addr *src, const struct in6_addr *dst,
                     uint16_t sport, uint16_t dport, const uint8_t *data, size_t len)
{
    struct ns_udp_fwd *u = fwd_of(ns);
    struct fwd_flow *f;

    if (!u || !(f = lookup_guest(u, dst, dport, src, sport)))
        return 0;
    flow_touch(u, f, ns_now_ms());
    if (sendto(f->port->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
               (const struct sockaddr *)&f->client, f->client_len) < 0) {
        NS_COUNT(ns, drop_udp_host_error);
        return 1;
    }
    NS_COUNT(ns, udp_to_host);
    f->to_host += len;
    return 1;
}

/**
 * ns_udp_fwd_port_closed() - @p's socket is about to be closed: drop its flows
 * @ns: the stack
 * @p:  the port; after this call nothing here refers to it
 *
 * O(flows): forwards are removed rarely.
 */
void ns_udp_fwd_port_closed(struct netstack *ns, struct ns_fwd_port *p)
{
    struct ns_udp_fwd *u = fwd_of(ns);
    struct fwd_flow *f, *next;

    if (!u)
        return;
    for (f = u->oldest; f; f = next) {
        next = f->next;
        if (f->port == p)
            flow_close(u, f);
    }
    unpause_port(u, p);
}

/**
 * fwd_free() - free the state and everything in it
 * @u: the state, its hash buckets possibly NULL
 */
static void fwd_free(struct ns_udp_fwd *u)
{
    while (u->oldest)
        flow_close(u, u->oldest);
    while (u->paused)
        unpause_port(u, u->paused->port);
    free(u->buf);
    free(u);
}

/**
 * ns_udp_fwd_start() - create the flow tables and the receive buffers
 * @ns: the stack
 *
 * Calling it again for the same stack does nothing.
 * Return: 0, -ENOMEM.
 */
int ns_udp_fwd_start(struct netstack *ns)
{
    struct ns_udp_fwd *u;

    if (ns->udp_fwd)
        return 0;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->ns = ns;
    u->max_flows = ns->cfg.max_udp_flows ? ns->cfg.max_udp_flows : 1;
    u->idle_ms = ns->cfg.udp_idle_timeout_ms;
    u->buf = malloc((size_t)FWD_BATCH * FWD_BUF_SIZE);
    if (!u->buf) {
        fwd_free(u);
        return -ENOMEM;
    }
    if (getrandom(&u->seed, sizeof(u->seed), GRND_NONBLOCK) != sizeof(u->seed))
        u->seed = ns_now_ms() ^ (uint64_t)(uintptr_t)u;     /* weaker, still per stack */
    u->next_port = (uint32_t)(u->seed >> 32) % FWD_PORT_COUNT;
    ns->udp_fwd = u;
    return 0;
}

/**
 * ns_udp_fwd_stop() - drop every flow and free the state; safe without a start
 * @ns: the stack
 */
void ns_udp_fwd_stop(struct netstack *ns)
{
    struct ns_udp_fwd *u = fwd_of(ns);

    if (!u)
        return;
    fwd_free(u);
    ns->udp_fwd = NULL;
}

/**
 * ns_udp_fwd_guest_gone() - close every flow: the guest that answered them left
 * @ns: the stack
 *
 * A client that sends again gets a new flow, to the guest that is there now.
 */
void ns_udp_fwd_guest_gone(struct netstack *ns)
{
    struct ns_udp_fwd *u = fwd_of(ns);

    while (u && u->oldest)
        flow_close(u, u->oldest);
}

/**
 * ns_udp_fwd_timers() - close flows idle for udp_idle_timeout_ms
 * @ns:     the stack
 * @now_ms: the current time
 *
 * The LRU head is always the next to expire, so this stops at the first flow
 * still in time. A flow of a paused port is refreshed instead: its datagrams
 * wait for the guest, it is not idle.
 */
void ns_udp_fwd_timers(struct netstack *ns, uint64_t now_ms)
{
    struct ns_udp_fwd *u = fwd_of(ns);
    struct fwd_flow *f;

    if (!u)
        return;
    while ((f = u->oldest) && f->last_ms + u->idle_ms <= now_ms) {
        if (is_paused(u, f->port)) {
            flow_touch(u, f, now_ms);
            continue;
        }
        flow_close(u, f);
        NS_COUNT(ns, udp_flows_expired);
    }
}

/**
 * ns_udp_fwd_next_timeout() - milliseconds until the oldest flow expires
 * @ns:     the stack
 * @now_ms: the current time
 * Return: 0 if one is due, -1 when there are no flows.
 */
int ns_udp_fwd_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    struct ns_udp_fwd *u = fwd_of(ns);
    uint64_t due;

    if (!u || !u->oldest)
        return -1;
    due = u->oldest->last_ms + u->idle_ms;
    if (due <= now_ms)
        return 0;
    return due - now_ms > INT_MAX ? INT_MAX : (int)(due - now_ms);
}

/**
 * ns_udp_fwd_resume() - the transport takes frames again: read paused ports
 * @ns: the stack
 *
 * A port whose watch cannot be restored stays unread; it is logged. A port
 * that is not watched at all (forward.c unwatched it) is just forgotten.
 */
void ns_udp_fwd_resume(struct netstack *ns)
{
    struct ns_udp_fwd *u = fwd_of(ns);
    struct fwd_paused *e;
    int rc;

    if (!u)
        return;
    while ((e = u->paused)) {
        u->paused = e->next;
        rc = set_input(ns, e->port, 1);
        if (rc && rc != -ENOENT)
            ns_log(ns, NETSTACK_LOG_WARN, "udp forward: cannot watch host socket %d again (%s)",
                   e->port->fd, strerror(-rc));
        free(e);
    }
}

/**
 * ns_udp_fwd_flow_list() - report every forwarded UDP flow to @cb
 * @ns:     the stack
 * @now_ms: the current time, for age and idleness
 * @cb, @opaque: as for netstack_flow_list()
 * Return: 0, or the first nonzero value @cb returned.
 */
int ns_udp_fwd_flow_list(struct netstack *ns, uint64_t now_ms, netstack_flow_fn cb, void *opaque)
{
    struct ns_udp_fwd *u = fwd_of(ns);
    const struct fwd_flow *f;
    int rc;

    for (f = u ? u->oldest : NULL; f; f = f->next) {
        struct netstack_flow_info i = {
            .proto = NETSTACK_PROTO_UDP, .inbound = 1, .forward_id = f->port->fw->id,
            .guest_port = f->guest_port, .peer_port = f->src_port, .state = "active",
            .bytes_from_guest = f->to_host, .bytes_to_guest = f->to_guest,
            .age_ms = now_ms > f->created_ms ? now_ms - f->created_ms : 0,
            .idle_ms = now_ms > f->last_ms ? now_ms - f->last_ms : 0,
            .family = AF_INET6, .guest_addr6 = f->guest, .peer_addr6 = f->src,
        };

        if (ns_ip6_is_mapped4(&f->guest)) {
            i.family = AF_INET;
            i.guest_addr.s_addr = htonl(ns_ip6_get4(&f->guest));
            i.peer_addr.s_addr = htonl(ns_ip6_get4(&f->src));
        }

        rc = cb(opaque, &i);
        if (rc)
            return rc;
    }
    return 0;
}
