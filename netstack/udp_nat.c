/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_nat.c - UDP from the guest to anywhere, through host sockets (RFC 4787)
 *
 * Theory of Operation: every guest source address and port is one flow, and
 * every flow owns one host UDP socket, unconnected, bound to the guest's own
 * source port where the host has it free (1024 and up), else to one the
 * kernel picks at the first sendto. Datagrams to any destination leave from
 * that one host port, and whatever arrives on it, from any remote address and
 * port, goes back to the guest's source with the remote as its source. In
 * RFC 4787's terms: endpoint-independent mapping (REQ-1) and filtering
 * (REQ-8's "full cone"), port preservation where possible (REQ-3 allows it),
 * and hairpinning (REQ-9): a guest flow that sends to another's mapping (the
 * alias and its port) reaches it through the host's loopback, from its own
 * mapping. That is what hole punching (STUN, ICE, QUIC migration, games)
 * needs; tests/unit/test_udp_nat.c and test_nat6.c check each, per family.
 *
 * The host-loopback alias is the host's 127.0.0.1 both ways
 * (ns_nat_to_host_addr/ns_nat_from_host_addr); broadcast, multicast and the
 * guest's own subnet are never sent anywhere. IPv6 is the same path: a flow
 * of a guest IPv6 address has an IPv6 socket (IPv6 only), the alias's twin is
 * the host's ::1, the guest's /64 and link-local addresses are its own link.
 *
 * The flows are a flow module (flow_table.c) keyed by the guest's address
 * (either family) and source port: found in the stack's one flow table,
 * evicted least recently used first when max_udp_flows is reached, closed
 * after udp_idle_timeout_ms without traffic either way. UDP needs nothing
 * beyond the table's struct ns_flow, so a UDP flow is just that, its
 * @guest_id the guest's source port.
 *
 * Host to guest: recvmmsg() in batches into one buffer per stack, each
 * datagram to ns_udp_send() or ns_udp6_send(), which fragment to the guest's
 * MTU. Before each batch the transmit queue must have room for the batch at
 * its worst (every datagram 64 KiB in IPv6 fragments), so nothing read is
 * ever dropped for lack of queue.
 * If the transport pushed back, the flow is paused (ns_flow_pause()), its
 * datagrams left in the kernel's buffer until ns_udp_nat_resume(); if the
 * queue is merely full of what this dispatch produced, the callback just
 * returns: the flush at the end of the dispatch empties it and the
 * level-triggered loop calls again.
 *
 * Guest to host: sendto() on a non-blocking socket. UDP is lossy by contract,
 * so a full socket buffer or any other send error is a counted drop, never a
 * wait. When socket() itself fails (file descriptor limit) the datagram is
 * dropped and counted; existing flows are untouched.
 */
#define _GNU_SOURCE /* recvmmsg() */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "netstack/flow_table.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/udp.h"

#define UDP_BUF_SIZE        65536       /* one datagram, never truncated */
#define UDP_BATCH           16          /* datagrams per recvmmsg() */
#define UDP_WAKEUP_BATCHES  4           /* recvmmsg() calls per wakeup: fairness */

/*
 * UDP flows are in the states of enum ns_flow_state (flow_table.h):
 * ACTIVE:  datagrams from the host are read and sent to the guest; guest
 *          datagrams are sent out.
 * PAUSED:  the host's datagrams wait in the kernel; guest datagrams are still
 *          sent. ns_udp_nat_resume() makes the flow ACTIVE again.
 * Closing is immediate in either state: UDP has nothing to drain.
 */

/*
 * struct ns_udp_nat - the flow table and the receive buffers
 * @flows:          the flows, bare struct ns_flow
 * @warned_socket:  socket() failure was logged (once per stack)
 * @msg, @iov, @from, @buf: recvmmsg() headers and UDP_BATCH datagram buffers
 */
struct ns_udp_nat {
    struct ns_flow_table flows;
    int warned_socket;
    struct mmsghdr msg[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    union ns_sockaddr from[UDP_BATCH];
    uint8_t *buf;
};

/**
 * deliver() - datagram @i of the last recvmmsg() on @f, to the guest
 * @nat: the NAT
 * @f:   the flow it was read on
 * @i:   its index in @nat's recvmmsg() arrays
 *
 * Sources the guest must not see (loopback with the alias off, an address
 * of the guest's own link) are dropped as drop_udp_host_error.
 */
static void deliver(struct ns_udp_nat *nat, struct ns_flow *f, int i)
{
    struct netstack *ns = f->ns;
    const struct mmsghdr *m = &nat->msg[i];
    const uint8_t *data = nat->buf + (size_t)i * UDP_BUF_SIZE;
    uint16_t sport = ntohs(nat->from[i].in.sin_port);   /* the same place in both families */
    struct in6_addr src;
    int rc;

    if ((m->msg_hdr.msg_flags & MSG_TRUNC) ||
        m->msg_hdr.msg_namelen < ns_sockaddr_len(&nat->from[i]) ||
        ns_nat_from_host_addr(ns, &nat->from[i], &src) ||
        ns_ip6_is_mapped4(&src) != ns_ip6_is_mapped4(&f->guest) ||
        ns_nat_hidden_source(ns, &src)) {
        NS_COUNT(ns, drop_udp_host_error);
        return;
    }
    if (ns_ip6_is_mapped4(&src))
        rc = ns_udp_send(ns, NULL, ns_ip6_get4(&src), sport, ns_ip6_get4(&f->guest),
                         f->guest_id, data, m->msg_len);
    else
        rc = ns_udp6_send(ns, &src, sport, &f->guest, f->guest_id, data, m->msg_len);
    if (!rc) {
        NS_COUNT(ns, udp_to_guest);
        f->bytes_to_guest += m->msg_len;
    }
}

/**
 * read_batch() - one recvmmsg() of up to @max datagrams on @f, all delivered
 * @nat: the NAT
 * @f:   the flow
 * @max: datagrams to read at most, 1..UDP_BATCH
 * Return: how many were read; 0 when none waited or the socket had an error.
 */
static int read_batch(struct ns_udp_nat *nat, struct ns_flow *f, int max)
{
    int i, n;

    for (i = 0; i < max; i++) {
        nat->iov[i].iov_base = nat->buf + (size_t)i * UDP_BUF_SIZE;
        nat->iov[i].iov_len = UDP_BUF_SIZE;
        memset(&nat->msg[i].msg_hdr, 0, sizeof(nat->msg[i].msg_hdr));
        nat->msg[i].msg_hdr.msg_iov = &nat->iov[i];
        nat->msg[i].msg_hdr.msg_iovlen = 1;
        nat->msg[i].msg_hdr.msg_name = &nat->from[i];
        nat->msg[i].msg_hdr.msg_namelen = sizeof(nat->from[i]);
    }
    n = recvmmsg(f->fd, nat->msg, (unsigned)max, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;   /* EAGAIN, or a socket error now consumed: nothing to do */
    for (i = 0; i < n; i++)
        deliver(nat, f, i);
    ns_flow_touch(&nat->flows, f, ns_now_ms());
    return n;
}

/**
 * flow_ready() - the loop's callback: @f's socket is readable (or has an error)
 * @opaque: the flow (struct ns_flow)
 * @fd:     its socket
 * @events: NETSTACK_EV_* (an error is read, and so cleared, by recvmmsg)
 */
static void flow_ready(void *opaque, int fd, uint32_t events)
{
    struct ns_flow *f = opaque;
    struct ns_udp_nat *nat = f->ns->udp_nat;
    int i, max;

    (void)fd;
    (void)events;
    for (i = 0; i < UDP_WAKEUP_BATCHES; i++) {
        max = ns_udp_tx_budget(f->ns, UDP_BATCH);
        if (max < 0) {
            ns_flow_pause(&nat->flows, f);
            return;
        }
        if (!max || read_batch(nat, f, max) < max)
            return;
    }
}

/**
 * preserve_port() - bind @fd to the guest's source @port (port preservation)
 * when that is not privileged and the host has it free; otherwise leave the
 * choice to the kernel at the first sendto.
 */
static void preserve_port(int fd, int v6, uint16_t port)
{
    union ns_sockaddr sa;

    if (port < 1024)
        return;
    memset(&sa, 0, sizeof(sa));
    if (v6) {
        sa.in6.sin6_family = AF_INET6;
        sa.in6.sin6_port = htons(port);
    } else {
        sa.in.sin_family = AF_INET;
        sa.in.sin_port = htons(port);
    }
    (void)bind(fd, &sa.sa, ns_sockaddr_len(&sa));  /* in use: an ephemeral port instead */
}

/**
 * open_socket() - the flow table's open(): a non-blocking UDP socket for @f
 * @f: the new flow
 * Return: the fd, or -1 (counted, logged once).
 */
static int open_socket(struct ns_flow *f)
{
    struct netstack *ns = f->ns;
    struct ns_udp_nat *nat = ns->udp_nat;
    int v6 = !ns_ip6_is_mapped4(&f->guest), one = 1;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    /* IPv6 only: IPv4 peers are the IPv4 flows' to reach, from their own port. */
    if (fd >= 0 && v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (fd >= 0) {
        preserve_port(fd, v6, f->guest_id);
        return fd;
    }
    NS_COUNT(ns, drop_host_socket);
    if (!nat->warned_socket) {
        nat->warned_socket = 1;
        ns_log(ns, NETSTACK_LOG_WARN, "udp: cannot open a host socket (%s); "
               "datagrams of new flows are dropped (raise the file descriptor limit?)",
               strerror(errno));
    }
    return -1;
}

/* udp_flow_type - UDP flows to the flow table: bare headers, UDP counters */
static const struct ns_flow_type udp_flow_type = {
    .size = sizeof(struct ns_flow),
    .offset = 0,
    .open = open_socket,
    .ready = flow_ready,
    .evicted = NETSTACK_STAT_udp_flows_evicted,
    .expired = NETSTACK_STAT_udp_flows_expired,
    .kind = NS_FK_UDP,
};

/**
 * count_refused() - count a datagram ns_nat_to_host_addr() would not forward
 * @ns:  the stack
 * @dst: its destination (IPv4 mapped)
 */
static void count_refused(struct netstack *ns, const struct in6_addr *dst)
{
    uint32_t d = ns_ip6_get4(dst);

    if (ns_ip6_is_mapped4(dst) ? d == IPV4_BROADCAST || d == ns->link.broadcast || (d >> 28) == 0xe
                               : ns_ip6_is_multicast(dst))
        NS_COUNT(ns, drop_udp_broadcast);
    else
        NS_COUNT(ns, drop_udp_destination);
}

/**
 * ns_udp_nat_input() - a datagram from the guest not for the stack itself
 * @ns:    the stack
 * @src:   its source address, either family (IPv4 mapped; never 0.0.0.0:
 *         udp.c rejects it)
 * @dst:   its destination, the same family
 * @sport: UDP source port
 * @dport: UDP destination port
 * @data:  the payload, @len bytes
 * @len:   its length
 *
 * A new source address and port opens a flow, evicting the least recently
 * used one at max_udp_flows.
 */
void ns_udp_nat_input(struct netstack *ns, const struct in6_addr *src, const struct in6_addr *dst,
                      uint16_t sport, uint16_t dport, const uint8_t *data, size_t len)
{
    struct ns_udp_nat *nat = ns->udp_nat;
    union ns_sockaddr sa;
    struct ns_flow *f;
    socklen_t salen;

    if (!nat)
        return;
    if (!dport || ns_ip6_is_mapped4(src) != ns_ip6_is_mapped4(dst) ||
        ns_nat_to_host_addr(ns, dst, dport, &sa, &salen)) {
        count_refused(ns, dst);
        return;
    }
    f = ns_flow_lookup(&nat->flows, src, sport);
    if (!f) {
        if (!(f = ns_flow_open(&nat->flows, src, sport)))
            return;
        NS_COUNT(ns, udp_flows_created);
    }
    ns_flow_touch(&nat->flows, f, ns_now_ms());
    f->peer = *dst;
    f->peer_port = dport;
    if (sendto(f->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, &sa.sa, salen) < 0) {
        NS_COUNT(ns, drop_udp_host_error);
    } else {
        NS_COUNT(ns, udp_to_host);
        f->bytes_from_guest += len;
    }
}

/**
 * ns_udp_nat_start() - create the flow table and the receive buffers
 * @ns: the stack
 * Return: 0, -ENOMEM.
 */
int ns_udp_nat_start(struct netstack *ns)
{
    struct ns_udp_nat *nat = calloc(1, sizeof(*nat));

    if (!nat)
        return -ENOMEM;
    nat->buf = malloc((size_t)UDP_BATCH * UDP_BUF_SIZE);
    if (!nat->buf || ns_flow_table_init(&nat->flows, ns, &udp_flow_type, ns->cfg.max_udp_flows,
                                        ns->cfg.udp_idle_timeout_ms)) {
        free(nat->buf);
        free(nat);
        return -ENOMEM;
    }
    ns->udp_nat = nat;
    return 0;
}

/**
 * ns_udp_nat_stop() - close every flow and free the table; safe without a start
 * @ns: the stack
 */
void ns_udp_nat_stop(struct netstack *ns)
{
    struct ns_udp_nat *nat = ns->udp_nat;

    if (!nat)
        return;
    ns_flow_table_fini(&nat->flows);
    free(nat->buf);
    free(nat);
    ns->udp_nat = NULL;
}

/**
 * ns_udp_nat_guest_gone() - the guest went away: close every flow
 * @ns: the stack
 */
void ns_udp_nat_guest_gone(struct netstack *ns)
{
    if (ns->udp_nat)
        ns_flow_close_all(&ns->udp_nat->flows);
}

/**
 * ns_udp_nat_timers() - close flows idle for udp_idle_timeout_ms
 * @ns:     the stack
 * @now_ms: the current time
 *
 * A paused flow is refreshed instead: its datagrams wait for the guest, it is
 * not idle.
 */
void ns_udp_nat_timers(struct netstack *ns, uint64_t now_ms)
{
    if (ns->udp_nat)
        ns_flow_expire(&ns->udp_nat->flows, now_ms);
}

/**
 * ns_udp_nat_next_timeout() - milliseconds until the oldest flow expires
 * @ns:     the stack
 * @now_ms: the current time
 * Return: 0 if one is due, -1 when there are no flows.
 */
int ns_udp_nat_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    return ns->udp_nat ? ns_flow_next_timeout(&ns->udp_nat->flows, now_ms) : -1;
}

/**
 * ns_udp_nat_resume() - the transport takes frames again: read paused flows
 * @ns: the stack
 *
 * A flow whose watch cannot be restored (out of memory) is closed rather than
 * left paused forever.
 */
void ns_udp_nat_resume(struct netstack *ns)
{
    if (ns->udp_nat)
        ns_flow_resume(&ns->udp_nat->flows);
}

/**
 * ns_udp_nat_table() - the UDP NAT's flow table, for netstack_flow_list()
 * @ns: the stack
 * Return: the table, NULL before start or after stop.
 */
const struct ns_flow_table *ns_udp_nat_table(const struct netstack *ns)
{
    return ns->udp_nat ? &ns->udp_nat->flows : NULL;
}
