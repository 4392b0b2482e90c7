/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * limits.c - the resource model: what a guest can make the stack hold
 *
 * Theory of Operation: the guest is untrusted, so every object it can make
 * the stack create has a bound, a counter, and a defined answer at the bound.
 * The bounds are struct netstack_config fields (defaults in stack.c); the
 * README's "Resource limits" table is the same list for users.
 *
 *   object                          bound                     at the bound
 *   ------------------------------  ------------------------  ---------------------------
 *   TCP connections (any state)     max_tcp_connections       RST, drop_tcp_limit
 *   host connect()s in progress     max_pending_connects      RST, drop_tcp_limit
 *   handshakes the guest has not    max_tcp_half_open, and    the oldest one reset,
 *     completed                       a backlog per gateway     drop_tcp_half_open
 *                                     listener
 *   closed connections still        max_tcp_closing           the least recently active
 *     finishing their FINs                                      reset, tcp_closing_evicted
 *   guest data queued for host      a window per connection   segments beyond dropped,
 *     sockets                         (TCP_WND), and            drop_tcp_memory; the
 *                                     max_tcp_queued_bytes      guest retransmits
 *                                     charged in allocated
 *                                     bytes over all
 *   host data queued for the guest  lwIP's send buffer per    the host socket is not read
 *     until it acknowledges it        connection, and           (backpressure;
 *                                     max_tcp_queued_bytes      tcp_sendq_full)
 *                                     over all
 *   UDP flows, ICMP flows           max_udp_flows,            the least recently used
 *                                     max_icmp_flows            closed, *_flows_evicted
 *   IPv4 datagrams in reassembly    max_reassembly            drop_frag_limit
 *   DNS queries being resolved      max_dns_inflight          SERVFAIL, drop_dns_inflight
 *   DNS-over-TCP connections        max_dns_tcp_connections,  the longest idle closed,
 *                                     dns_tcp_idle_timeout_ms   dns_tcp_evicted / _expired
 *   frames held for the guest       max_tx_queue (frames),    producers pause first;
 *                                     max_tx_queue_bytes        then drop_tx_queue_full
 *   descriptors                     RLIMIT_NOFILE: the flow   a flow cannot open: RST or
 *                                     limits are fitted to it   drop; a listener sheds the
 *                                     (ns_limits_fit())         connection, drop_accept_no_fd
 *
 * Memory beyond these is per object and fixed (a flow struct, a pcb), so it
 * is bounded by the counts above.
 */
#define _GNU_SOURCE /* accept4() */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netstack/limits.h"
#include "netstack/stack.h"

/*
 * Descriptors the stack needs besides one per flow: its epoll and wake fds,
 * the DNS forwarder's sockets and its TCP connections upstream, the resolver
 * threads' lookups, forward listeners, and an embedder's own (transport,
 * control clients). Generous, since running out costs a refused connection.
 */
#define FD_RESERVE 128u

/*
 * Below this a limit is not lowered: a few flows of each kind always fit in
 * FD_RESERVE, and a small limit was chosen on purpose.
 */
#define FIT_FLOOR 32u

/**
 * scale() - @v scaled by @num / @den, but not below FIT_FLOOR (or @v)
 * Return: the scaled value
 */
static uint32_t scale(uint32_t v, uint64_t num, uint64_t den)
{
    uint64_t r = (uint64_t)v * num / den;
    uint32_t floor = v < FIT_FLOOR ? v : FIT_FLOOR;

    return r > floor ? (uint32_t)r : floor;
}

/**
 * ns_limits_fit() - fit the flow limits into the descriptors this process may
 * open, so that a limit is reached before EMFILE is
 * @ns: the stack; its cfg limits are lowered in proportion when they do not fit
 *
 * Every TCP connection, UDP flow and ICMP flow holds one host socket. The
 * embedder decides the process's RLIMIT_NOFILE (netstackd raises its soft
 * limit to the hard one first); the stack only adapts to it and says so.
 */
void ns_limits_fit(struct netstack *ns)
{
    struct netstack_config *c = &ns->cfg;
    uint64_t want = (uint64_t)c->max_tcp_connections + c->max_udp_flows + c->max_icmp_flows;
    struct rlimit rl;
    uint64_t avail;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    avail = rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE : rl.rlim_cur / 2;
    if (want <= avail)
        return;
    ns_log(ns, NETSTACK_LOG_WARN,
           "limits: %llu file descriptors (RLIMIT_NOFILE) do not fit %llu flows: "
           "max_tcp_connections %u -> %u, max_udp_flows %u -> %u, max_icmp_flows %u -> %u",
           (unsigned long long)rl.rlim_cur, (unsigned long long)want, c->max_tcp_connections,
           scale(c->max_tcp_connections, avail, want), c->max_udp_flows,
           scale(c->max_udp_flows, avail, want), c->max_icmp_flows,
           scale(c->max_icmp_flows, avail, want));
    c->max_tcp_connections = scale(c->max_tcp_connections, avail, want);
    c->max_udp_flows = scale(c->max_udp_flows, avail, want);
    c->max_icmp_flows = scale(c->max_icmp_flows, avail, want);
    if (c->max_pending_connects > c->max_tcp_connections)
        c->max_pending_connects = c->max_tcp_connections;
    if (c->max_tcp_half_open > c->max_tcp_connections)
        c->max_tcp_half_open = c->max_tcp_connections;
}

int ns_limits_start(struct netstack *ns)
{
    ns->reserve_fd = fcntl(ns->loop.pollfd, F_DUPFD_CLOEXEC, 0);
    return ns->reserve_fd < 0 ? -errno : 0;
}

void ns_limits_stop(struct netstack *ns)
{
    if (ns->reserve_fd >= 0)
        close(ns->reserve_fd);
    ns->reserve_fd = -1;
}

/**
 * shed() - take one pending connection off @fd with the reserve descriptor
 * and close it: the client sees its connection closed instead of hanging,
 * and a level-triggered listener stops waking the loop.
 * Return: -EMFILE if one was shed, -EAGAIN if none was pending (accept()
 * fails with EMFILE before it looks at the queue).
 */
static int shed(struct netstack *ns, int fd)
{
    int c;

    if (ns->reserve_fd < 0)     /* lost to another open when it was last given up */
        ns->reserve_fd = fcntl(ns->loop.pollfd, F_DUPFD_CLOEXEC, 0);
    if (ns->reserve_fd < 0)
        return -EMFILE;
    close(ns->reserve_fd);
    c = accept(fd, NULL, NULL);
    if (c >= 0)
        close(c);
    ns->reserve_fd = fcntl(ns->loop.pollfd, F_DUPFD_CLOEXEC, 0);
    if (c < 0)
        return -EAGAIN;
    NS_COUNT(ns, drop_accept_no_fd);
    if (!ns->warned_accept_fds)
        ns_log(ns, NETSTACK_LOG_WARN, "out of file descriptors: closing new connections "
               "until some are free (counted as drop_accept_no_fd)");
    ns->warned_accept_fds = 1;
    return -EMFILE;
}

int netstack_accept(struct netstack *ns, int fd, struct sockaddr *addr, socklen_t *len)
{
    int c;

    if (!ns || fd < 0)
        return -EINVAL;
    c = accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0)
        return c;
    if (errno != EMFILE && errno != ENFILE)
        return -errno;
    return shed(ns, fd);
}
