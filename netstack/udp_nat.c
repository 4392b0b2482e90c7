/*
 * udp_nat.c - UDP from the guest to anywhere, through host sockets (RFC 4787)
 *
 * Theory of Operation: every guest source address and port is one flow, and
 * every flow owns one host UDP socket: unbound (the kernel picks an ephemeral
 * port at the first sendto) and unconnected. Datagrams to any destination
 * leave from that one host port, and whatever arrives on it, from any remote
 * address and port, goes back to the guest's source with the remote as its
 * source. That is an endpoint-independent mapping with endpoint-independent
 * filtering (RFC 4787 "full cone"), which is what hole punching (STUN, ICE,
 * QUIC migration, games) needs. The host-loopback alias is the host's
 * 127.0.0.1 both ways (ns_nat_to_host/ns_nat_from_host); broadcast, multicast
 * and the guest's own subnet are never sent anywhere.
 *
 * Flows are found by a hash of (address, port) with a per-stack random seed,
 * since the guest picks the keys. They are also kept on one LRU list, oldest
 * first: traffic in either direction moves a flow to the end, so the head is
 * both the flow to evict when max_udp_flows is reached and the next to expire
 * (the idle timeout is the same for all), which keeps the timer query O(1).
 *
 * Host to guest: recvmmsg() in batches into one buffer per stack, each
 * datagram to ns_udp_send(), which fragments to the guest's MTU. Before each
 * batch the transmit queue must have room for the batch at its worst (every
 * datagram 65507 bytes), so nothing read is ever dropped for lack of queue.
 * If the transport pushed back, the flow's socket is unwatched and put on the
 * paused list, its datagrams left in the kernel's buffer until
 * ns_udp_nat_resume(); if the queue is merely full of what this dispatch
 * produced, the callback just returns: the flush at the end of the dispatch
 * empties it and the level-triggered loop calls again.
 *
 * Guest to host: sendto() on a non-blocking socket. UDP is lossy by contract,
 * so a full socket buffer or any other send error is a counted drop, never a
 * wait. When socket() itself fails (file descriptor limit) the datagram is
 * dropped and counted; existing flows are untouched.
 */
#define _GNU_SOURCE /* recvmmsg() */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ethernet/ipv4.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/udp.h"

#define UDP_MAX_PAYLOAD     (IPV4_MAX_LEN - IPV4_HLEN - UDP_HLEN)  /* 65507 */
#define UDP_BUF_SIZE        65536       /* one datagram, never truncated */
#define UDP_BATCH           16          /* datagrams per recvmmsg() */
#define UDP_WAKEUP_BATCHES  4           /* recvmmsg() calls per wakeup: fairness */
#define UDP_MIN_BUCKETS     16
#define UDP_MAX_BUCKETS     65536

/*
 * enum udp_flow_state - what a flow's host socket is doing
 * @UDP_FLOW_ACTIVE:  watched for input: datagrams from the host are read and
 *                    sent to the guest; guest datagrams are sent out.
 * @UDP_FLOW_PAUSED:  the guest's transport pushed back: the socket is not
 *                    watched, the flow is on the paused list and the host's
 *                    datagrams wait in the kernel. Guest datagrams are still
 *                    sent. ns_udp_nat_resume() makes it ACTIVE again. A
 *                    paused flow does not expire (its data is not idle, the
 *                    guest is slow) but may still be evicted at the limit.
 * In either state a flow can be closed (idle timeout, eviction, guest gone,
 * stop): unwatched, socket closed, unlinked and freed at once, since UDP has
 * nothing to drain.
 */
enum udp_flow_state {
    UDP_FLOW_ACTIVE,
    UDP_FLOW_PAUSED,
};

/*
 * struct udp_flow - one guest source address and port, one host socket
 * @ns:             the stack (the loop callback gets only the flow)
 * @guest_ip:       the guest's source address, host order
 * @guest_port:     the guest's source port
 * @fd:             the host socket
 * @state:          see enum udp_flow_state
 * @last_ms:        the last traffic either way (ns_now_ms)
 * @hnext:          next flow in the same hash bucket
 * @prev, @next:    LRU list, oldest first
 * @pprev, @pnext:  paused list (PAUSED only)
 */
struct udp_flow {
    struct netstack *ns;
    uint32_t guest_ip;
    uint16_t guest_port;
    int fd;
    enum udp_flow_state state;
    uint64_t last_ms;
    struct udp_flow *hnext;
    struct udp_flow *prev, *next;
    struct udp_flow *pprev, *pnext;
};

/*
 * struct ns_udp_nat - the flow table and the receive buffers
 * @bucket:         hash buckets, @nbucket of them (a power of two)
 * @seed:           random hash key, so the guest cannot aim at one bucket
 * @oldest, @newest: the LRU list
 * @paused:         flows paused for backpressure
 * @count:          flows open
 * @warned_socket:  socket() failure was logged (once per stack)
 * @msg, @iov, @from, @buf: recvmmsg() headers and UDP_BATCH datagram buffers
 */
struct ns_udp_nat {
    struct udp_flow **bucket;
    size_t nbucket;
    uint64_t seed;
    struct udp_flow *oldest, *newest;
    struct udp_flow *paused;
    size_t count;
    int warned_socket;
    struct mmsghdr msg[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_in from[UDP_BATCH];
    uint8_t *buf;
};

/* bucket_of() - the hash bucket of a guest address and port. */
static struct udp_flow **bucket_of(const struct ns_udp_nat *nat, uint32_t ip, uint16_t port)
{
    uint64_t h = ((uint64_t)ip << 16 | port) ^ nat->seed;

    h *= 0x9e3779b97f4a7c15ull;     /* Fibonacci hashing: the high bits are mixed */
    h ^= h >> 29;
    return &nat->bucket[(size_t)(h >> 16) & (nat->nbucket - 1)];
}

/* flow_lookup() - the flow of @ip:@port. Return: it, or NULL. */
static struct udp_flow *flow_lookup(const struct ns_udp_nat *nat, uint32_t ip, uint16_t port)
{
    struct udp_flow *f;

    for (f = *bucket_of(nat, ip, port); f; f = f->hnext)
        if (f->guest_ip == ip && f->guest_port == port)
            return f;
    return NULL;
}

/* lru_unlink() - take @f off the LRU list. */
static void lru_unlink(struct ns_udp_nat *nat, struct udp_flow *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        nat->oldest = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        nat->newest = f->prev;
    f->prev = f->next = NULL;
}

/* lru_append() - put @f at the newest end of the LRU list. */
static void lru_append(struct ns_udp_nat *nat, struct udp_flow *f)
{
    f->prev = nat->newest;
    f->next = NULL;
    if (nat->newest)
        nat->newest->next = f;
    else
        nat->oldest = f;
    nat->newest = f;
}

/* flow_touch() - traffic on @f at @now: it becomes the most recently used. */
static void flow_touch(struct ns_udp_nat *nat, struct udp_flow *f, uint64_t now)
{
    f->last_ms = now;
    if (nat->newest != f) {
        lru_unlink(nat, f);
        lru_append(nat, f);
    }
}

/* paused_unlink() - take @f off the paused list, if it is on it. */
static void paused_unlink(struct ns_udp_nat *nat, struct udp_flow *f)
{
    if (f->state != UDP_FLOW_PAUSED)
        return;
    if (f->pprev)
        f->pprev->pnext = f->pnext;
    else
        nat->paused = f->pnext;
    if (f->pnext)
        f->pnext->pprev = f->pprev;
    f->pprev = f->pnext = NULL;
    f->state = UDP_FLOW_ACTIVE;
}

/* flow_close() - unwatch and close @f's socket, unlink and free it. */
static void flow_close(struct ns_udp_nat *nat, struct udp_flow *f)
{
    struct udp_flow **pp = bucket_of(nat, f->guest_ip, f->guest_port);

    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    lru_unlink(nat, f);
    paused_unlink(nat, f);
    ns_loop_del(&f->ns->loop, f->fd);   /* before close: the fd may be reused at once */
    close(f->fd);
    nat->count--;
    free(f);
}

/* close_all() - close every flow. */
static void close_all(struct ns_udp_nat *nat)
{
    while (nat->oldest)
        flow_close(nat, nat->oldest);
}

/*
 * frames_per_datagram() - frames ns_ipv4_send() needs for @len bytes of IP payload
 * Return: at least 1.
 */
static size_t frames_per_datagram(const struct netstack *ns, size_t len)
{
    size_t max = ((size_t)ns->cfg.mtu - IPV4_HLEN) & ~(size_t)7;

    return len ? (len + max - 1) / max : 1;
}

/*
 * tx_budget() - how many datagrams may be read now without risking the queue
 * Return: 1..UDP_BATCH; 0 when the queue holds this dispatch's frames (wait
 * for its flush); -1 when the transport pushed back (pause until resumed).
 */
static int tx_budget(const struct netstack *ns)
{
    size_t worst = frames_per_datagram(ns, UDP_HLEN + UDP_MAX_PAYLOAD), n;

    if (ns->tx.blocked)
        return -1;
    if (ns->tx.count >= ns->tx.cap)
        return 0;
    n = (ns->tx.cap - ns->tx.count) / worst;
    if (!n && !ns->tx.count)
        n = 1;      /* a queue smaller than one datagram: the best there is */
    return n > UDP_BATCH ? UDP_BATCH : (int)n;
}

/* flow_pause() - stop reading @f until ns_udp_nat_resume(). */
static void flow_pause(struct ns_udp_nat *nat, struct udp_flow *f)
{
    ns_loop_del(&f->ns->loop, f->fd);
    f->state = UDP_FLOW_PAUSED;
    f->pprev = NULL;
    f->pnext = nat->paused;
    if (nat->paused)
        nat->paused->pprev = f;
    nat->paused = f;
}

/*
 * deliver() - datagram @i of the last recvmmsg() on @f, to the guest
 * Sources the guest must not see (loopback with the alias off, an address
 * inside the guest's own subnet, which would impersonate a neighbour or the
 * gateway) are dropped as drop_udp_host_error.
 */
static void deliver(struct ns_udp_nat *nat, struct udp_flow *f, int i)
{
    struct netstack *ns = f->ns;
    const struct mmsghdr *m = &nat->msg[i];
    uint32_t src;

    if ((m->msg_hdr.msg_flags & MSG_TRUNC) || m->msg_hdr.msg_namelen < sizeof(nat->from[i]) ||
        nat->from[i].sin_family != AF_INET || ns_nat_from_host(ns, &nat->from[i], &src) ||
        (ns_in_subnet(ns, src) && src != ns->host_loopback)) {
        NS_COUNT(ns, drop_udp_host_error);
        return;
    }
    if (!ns_udp_send(ns, NULL, src, ntohs(nat->from[i].sin_port), f->guest_ip, f->guest_port,
                     nat->buf + (size_t)i * UDP_BUF_SIZE, m->msg_len))
        NS_COUNT(ns, udp_to_guest);
}

/*
 * read_batch() - one recvmmsg() of up to @max datagrams on @f, all delivered
 * Return: how many were read; 0 when none waited or the socket had an error.
 */
static int read_batch(struct ns_udp_nat *nat, struct udp_flow *f, int max)
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
    flow_touch(nat, f, ns_now_ms());
    return n;
}

/*
 * flow_ready() - the loop's callback: @f's socket is readable (or has an error)
 * @opaque: the flow
 * @fd:     its socket
 * @events: NETSTACK_EV_* (an error is read, and so cleared, by recvmmsg)
 */
static void flow_ready(void *opaque, int fd, uint32_t events)
{
    struct udp_flow *f = opaque;
    struct ns_udp_nat *nat = f->ns->udp_nat;
    int i, max;

    (void)fd;
    (void)events;
    for (i = 0; i < UDP_WAKEUP_BATCHES; i++) {
        max = tx_budget(f->ns);
        if (max < 0) {
            flow_pause(nat, f);
            return;
        }
        if (!max || read_batch(nat, f, max) < max)
            return;
    }
}

/* open_socket() - a non-blocking UDP socket. Return: the fd, or -1 (counted, logged once). */
static int open_socket(struct netstack *ns, struct ns_udp_nat *nat)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd >= 0)
        return fd;
    NS_COUNT(ns, drop_host_socket);
    if (!nat->warned_socket) {
        nat->warned_socket = 1;
        ns_log(ns, NETSTACK_LOG_WARN, "udp: cannot open a host socket (%s); "
               "datagrams of new flows are dropped (raise the file descriptor limit?)",
               strerror(errno));
    }
    return -1;
}

/*
 * flow_open() - a new flow for @ip:@port, evicting the least recently used at the limit
 * Return: the flow, or NULL (socket or memory exhausted; counted).
 */
static struct udp_flow *flow_open(struct netstack *ns, uint32_t ip, uint16_t port)
{
    struct ns_udp_nat *nat = ns->udp_nat;
    struct udp_flow *f = calloc(1, sizeof(*f)), **b;

    if (!f) {
        NS_COUNT(ns, drop_no_memory);
        return NULL;
    }
    f->fd = open_socket(ns, nat);
    if (f->fd < 0)
        goto fail;
    f->ns = ns;
    if (ns_loop_set(&ns->loop, f->fd, NETSTACK_EV_IN, flow_ready, f)) {
        NS_COUNT(ns, drop_no_memory);
        close(f->fd);
        goto fail;
    }
    if (nat->count >= ns->cfg.max_udp_flows && nat->oldest) {
        flow_close(nat, nat->oldest);
        NS_COUNT(ns, udp_flows_evicted);
    }
    f->guest_ip = ip;
    f->guest_port = port;
    b = bucket_of(nat, ip, port);
    f->hnext = *b;
    *b = f;
    lru_append(nat, f);
    nat->count++;
    NS_COUNT(ns, udp_flows_created);
    return f;
fail:
    free(f);
    return NULL;
}

/* count_refused() - count a datagram ns_nat_to_host() would not forward. */
static void count_refused(struct netstack *ns, uint32_t dst)
{
    if (dst == IPV4_BROADCAST || dst == ns->broadcast || (dst >> 28) == 0xe)
        NS_COUNT(ns, drop_udp_broadcast);
    else
        NS_COUNT(ns, drop_udp_destination);
}

/*
 * ns_udp_nat_input() - a datagram from the guest not for the stack itself
 * @ns:    the stack
 * @ip:    its IPv4 header (source nonzero: udp.c rejects 0.0.0.0)
 * @sport: UDP source port
 * @dport: UDP destination port
 * @data:  the payload, @len bytes
 */
void ns_udp_nat_input(struct netstack *ns, const struct ns_ipv4 *ip, uint16_t sport,
                      uint16_t dport, const uint8_t *data, size_t len)
{
    struct ns_udp_nat *nat = ns->udp_nat;
    struct sockaddr_in sa;
    struct udp_flow *f;

    if (!nat)
        return;
    if (!dport || ns_nat_to_host(ns, ip->dst, dport, &sa)) {
        count_refused(ns, ip->dst);
        return;
    }
    f = flow_lookup(nat, ip->src, sport);
    if (!f && !(f = flow_open(ns, ip->src, sport)))
        return;
    flow_touch(nat, f, ns_now_ms());
    if (sendto(f->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
               sizeof(sa)) < 0)
        NS_COUNT(ns, drop_udp_host_error);
    else
        NS_COUNT(ns, udp_to_host);
}

/*
 * bucket_count() - hash buckets for @max flows: a power of two, bounded
 * Return: the count.
 */
static size_t bucket_count(uint32_t max)
{
    size_t n = UDP_MIN_BUCKETS;

    while (n < max && n < UDP_MAX_BUCKETS)
        n *= 2;
    return n;
}

/*
 * ns_udp_nat_start() - create the flow table
 * @ns: the stack
 * Return: 0, -ENOMEM.
 */
int ns_udp_nat_start(struct netstack *ns)
{
    struct ns_udp_nat *nat = calloc(1, sizeof(*nat));

    if (!nat)
        return -ENOMEM;
    nat->nbucket = bucket_count(ns->cfg.max_udp_flows);
    nat->bucket = calloc(nat->nbucket, sizeof(*nat->bucket));
    nat->buf = malloc((size_t)UDP_BATCH * UDP_BUF_SIZE);
    if (!nat->bucket || !nat->buf) {
        free(nat->bucket);
        free(nat->buf);
        free(nat);
        return -ENOMEM;
    }
    if (getrandom(&nat->seed, sizeof(nat->seed), GRND_NONBLOCK) != sizeof(nat->seed))
        nat->seed = ns_now_ms() ^ (uint64_t)(uintptr_t)nat;     /* weaker, still per stack */
    ns->udp_nat = nat;
    return 0;
}

/*
 * ns_udp_nat_stop() - close every flow and free the table; safe without a start
 * @ns: the stack
 */
void ns_udp_nat_stop(struct netstack *ns)
{
    struct ns_udp_nat *nat = ns->udp_nat;

    if (!nat)
        return;
    close_all(nat);
    free(nat->bucket);
    free(nat->buf);
    free(nat);
    ns->udp_nat = NULL;
}

/*
 * ns_udp_nat_guest_gone() - the guest went away: close every flow
 * @ns: the stack
 */
void ns_udp_nat_guest_gone(struct netstack *ns)
{
    if (ns->udp_nat)
        close_all(ns->udp_nat);
}

/*
 * ns_udp_nat_timers() - close flows idle for udp_idle_timeout_ms
 * @ns:     the stack
 * @now_ms: the current time
 *
 * The LRU head is always the next to expire, so this stops at the first flow
 * still in time. A paused flow is refreshed instead: its data waits for the
 * guest, it is not idle.
 */
void ns_udp_nat_timers(struct netstack *ns, uint64_t now_ms)
{
    struct ns_udp_nat *nat = ns->udp_nat;
    struct udp_flow *f;

    while (nat && (f = nat->oldest) && f->last_ms + ns->cfg.udp_idle_timeout_ms <= now_ms) {
        if (f->state == UDP_FLOW_PAUSED) {
            flow_touch(nat, f, now_ms);
            continue;
        }
        flow_close(nat, f);
        NS_COUNT(ns, udp_flows_expired);
    }
}

/*
 * ns_udp_nat_next_timeout() - milliseconds until the oldest flow expires
 * @ns:     the stack
 * @now_ms: the current time
 * Return: 0 if one is due, -1 when there are no flows.
 */
int ns_udp_nat_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    struct ns_udp_nat *nat = ns->udp_nat;
    uint64_t due;

    if (!nat || !nat->oldest)
        return -1;
    due = nat->oldest->last_ms + ns->cfg.udp_idle_timeout_ms;
    if (due <= now_ms)
        return 0;
    return due - now_ms > INT_MAX ? INT_MAX : (int)(due - now_ms);
}

/*
 * ns_udp_nat_resume() - the transport takes frames again: watch paused flows
 * @ns: the stack
 *
 * A flow whose watch cannot be restored (out of memory) is closed rather than
 * left paused forever.
 */
void ns_udp_nat_resume(struct netstack *ns)
{
    struct ns_udp_nat *nat = ns->udp_nat;
    struct udp_flow *f;

    while (nat && (f = nat->paused)) {
        paused_unlink(nat, f);
        if (ns_loop_set(&ns->loop, f->fd, NETSTACK_EV_IN, flow_ready, f)) {
            NS_COUNT(ns, drop_no_memory);
            flow_close(nat, f);
        }
    }
}
