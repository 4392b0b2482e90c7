/*
 * icmp_nat.c - ICMP echo from the guest to anywhere, through host sockets
 * (RFC 792; RFC 5508 for how a NAT treats ICMP query identifiers)
 *
 * Theory of Operation: a guest's ping is a flow keyed by (guest address, echo
 * identifier), and each flow owns one host socket, preferably an unprivileged
 * ping socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), allowed for the
 * groups in net.ipv4.ping_group_range). On a ping socket the kernel does the
 * NAT's work: it replaces the identifier with one of its own (the socket's
 * "port"), fills the checksum, and hands the socket only the echo replies
 * carrying that identifier, from any remote, as ICMP header plus data. We put
 * the guest's identifier back, recompute the checksum and send the reply to
 * the guest from the remote's address. Sequence numbers and data pass as they
 * are, so the guest's ping matches replies and measures round trips itself.
 *
 * Where ping sockets are refused (EACCES/EPERM: our group is outside
 * ping_group_range) the flow falls back to a raw ICMP socket, if the process
 * may open one (CAP_NET_RAW). The request is then sent exactly as the guest
 * built it (its identifier and checksum included), and the socket receives a
 * copy of every ICMP packet the host gets, IP header first, so replies are
 * picked out here: parsed with the bounds-checked reader
 * (ns_icmp_nat_parse_raw(), also a fuzzing entry point), they must be echo
 * replies with a valid checksum, the flow's identifier, and come from the
 * address the flow last pinged. An ICMP_FILTER on the socket keeps the kernel
 * from waking us for other types. Once ping sockets have been refused and a
 * raw socket has worked, later flows go straight to raw. With neither, the
 * request is dropped (drop_icmp_refused) and a warning names the sysctl once;
 * the gateway and the alias still answer ping locally (ethernet/icmp.c).
 *
 * These are Linux semantics (a BSD ping socket, as on macOS, returns the IP
 * header too, like a raw one).
 *
 * The flow table, its limit with LRU eviction, the idle timeout and the
 * backpressure rule are the same as udp_nat.c's: the LRU head is the next to
 * expire; a reply is read only when the transmit queue has room for it at its
 * largest; when the transport pushes back the socket is unwatched until
 * ns_icmp_nat_resume().
 */
#include <errno.h>
#include <limits.h>
#ifdef __linux__
#include <linux/icmp.h>     /* ICMP_FILTER for raw sockets */
#endif
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ethernet/checksum.h"
#include "ethernet/icmp.h"
#include "ethernet/ipv4.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

#define ICMP_BUF_SIZE       65536       /* one reply, IP header included, never truncated */
#define ICMP_WAKEUP_READS   32          /* replies read per wakeup: fairness */
#define ICMP_MIN_BUCKETS    16
#define ICMP_MAX_BUCKETS    65536

/* enum icmp_sock_kind - which kind of host socket a flow has */
enum icmp_sock_kind {
    ICMP_SOCK_PING,     /* SOCK_DGRAM: identifier rewritten, replies filtered by the kernel */
    ICMP_SOCK_RAW,      /* SOCK_RAW: identifier kept, replies matched here */
};

/*
 * enum icmp_flow_state - what a flow's host socket is doing
 * @ICMP_FLOW_ACTIVE:  watched for input: replies are read and sent to the
 *                     guest; the guest's requests are sent out.
 * @ICMP_FLOW_PAUSED:  the guest's transport pushed back: the socket is not
 *                     watched, the flow is on the paused list and replies wait
 *                     in the kernel. Requests are still sent.
 *                     ns_icmp_nat_resume() makes it ACTIVE again. A paused
 *                     flow does not expire, but may be evicted at the limit.
 * In either state a flow can be closed (idle timeout, eviction, guest gone,
 * stop): unwatched, socket closed, unlinked and freed at once.
 */
enum icmp_flow_state {
    ICMP_FLOW_ACTIVE,
    ICMP_FLOW_PAUSED,
};

/*
 * struct icmp_flow - one guest address and echo identifier, one host socket
 * @ns:             the stack (the loop callback gets only the flow)
 * @guest_ip:       the guest's address, host order
 * @guest_id:       the guest's echo identifier
 * @kind:           ping or raw socket
 * @fd:             the host socket
 * @ttl:            IP_TTL set on @fd, 0 for the kernel's default
 * @remote:         the host-side address last pinged (network order); raw
 *                  sockets accept replies only from it
 * @state:          see enum icmp_flow_state
 * @last_ms:        the last traffic either way (ns_now_ms)
 * @hnext:          next flow in the same hash bucket
 * @prev, @next:    LRU list, oldest first
 * @pprev, @pnext:  paused list (PAUSED only)
 */
struct icmp_flow {
    struct netstack *ns;
    uint32_t guest_ip;
    uint16_t guest_id;
    enum icmp_sock_kind kind;
    int fd;
    uint8_t ttl;
    uint32_t remote;
    enum icmp_flow_state state;
    uint64_t last_ms;
    struct icmp_flow *hnext;
    struct icmp_flow *prev, *next;
    struct icmp_flow *pprev, *pnext;
};

/*
 * struct ns_icmp_nat - the flow table and the receive buffer
 * @bucket:          hash buckets, @nbucket of them (a power of two)
 * @seed:            random hash key, so the guest cannot aim at one bucket
 * @oldest, @newest: the LRU list
 * @paused:          flows paused for backpressure
 * @count:           flows open
 * @raw_only:        ping sockets were refused and a raw socket worked
 * @warned_refused:  "no ping socket, no raw socket" was logged
 * @warned_socket:   socket() running out of descriptors was logged
 * @buf:             one reply
 */
struct ns_icmp_nat {
    struct icmp_flow **bucket;
    size_t nbucket;
    uint64_t seed;
    struct icmp_flow *oldest, *newest;
    struct icmp_flow *paused;
    size_t count;
    int raw_only;
    int warned_refused;
    int warned_socket;
    uint8_t *buf;
};

/*
 * ns_icmp_nat_parse_raw() - find an echo reply in what a raw ICMP socket read
 * @pkt: the packet, IPv4 header first, as the kernel delivered it
 * @len: bytes read
 * @src: the reply's source address (host order), on success
 * @msg: a reader over the whole ICMP message (header and data), on success
 *
 * Exposed (not static) so that fuzz/fuzz_icmp_reply.c can feed it bytes.
 * Return: 0 for an unfragmented, well-formed echo reply with a valid ICMP
 * checksum, -1 for anything else.
 */
int ns_icmp_nat_parse_raw(const uint8_t *pkt, size_t len, uint32_t *src, struct ns_reader *msg)
{
    struct ns_reader r;
    struct ns_ipv4 ip;
    uint8_t type, code;

    ns_reader_init(&r, pkt, len);
    /* The same checks as a guest's packet: version, IHL, lengths, header checksum. */
    if (ns_ipv4_parse(&r, &ip) != NS_IPV4_OK || ip.proto != IPPROTO_ICMP ||
        (ip.frag & (IPV4_MF | IPV4_OFFMASK)))
        return -1;
    ns_reader_init(msg, ip.payload, ip.payload_len);
    if (ns_reader_u8(msg, &type) || ns_reader_u8(msg, &code) || ip.payload_len < ICMP_HLEN ||
        type != ICMP_ECHO_REPLY || code != 0)
        return -1;
    /* Raw sockets see packets before the kernel's ICMP checks them. */
    if (ns_csum(ip.payload, ip.payload_len) != 0)
        return -1;
    ns_reader_init(msg, ip.payload, ip.payload_len);
    *src = ip.src;
    return 0;
}

/* bucket_of() - the hash bucket of a guest address and echo identifier. */
static struct icmp_flow **bucket_of(const struct ns_icmp_nat *nat, uint32_t ip, uint16_t id)
{
    uint64_t h = ((uint64_t)ip << 16 | id) ^ nat->seed;

    h *= 0x9e3779b97f4a7c15ull;     /* Fibonacci hashing: the high bits are mixed */
    h ^= h >> 29;
    return &nat->bucket[(size_t)(h >> 16) & (nat->nbucket - 1)];
}

/* flow_lookup() - the flow of @ip and @id. Return: it, or NULL. */
static struct icmp_flow *flow_lookup(const struct ns_icmp_nat *nat, uint32_t ip, uint16_t id)
{
    struct icmp_flow *f;

    for (f = *bucket_of(nat, ip, id); f; f = f->hnext)
        if (f->guest_ip == ip && f->guest_id == id)
            return f;
    return NULL;
}

/* lru_unlink() - take @f off the LRU list. */
static void lru_unlink(struct ns_icmp_nat *nat, struct icmp_flow *f)
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
static void lru_append(struct ns_icmp_nat *nat, struct icmp_flow *f)
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
static void flow_touch(struct ns_icmp_nat *nat, struct icmp_flow *f, uint64_t now)
{
    f->last_ms = now;
    if (nat->newest != f) {
        lru_unlink(nat, f);
        lru_append(nat, f);
    }
}

/* paused_unlink() - take @f off the paused list, if it is on it. */
static void paused_unlink(struct ns_icmp_nat *nat, struct icmp_flow *f)
{
    if (f->state != ICMP_FLOW_PAUSED)
        return;
    if (f->pprev)
        f->pprev->pnext = f->pnext;
    else
        nat->paused = f->pnext;
    if (f->pnext)
        f->pnext->pprev = f->pprev;
    f->pprev = f->pnext = NULL;
    f->state = ICMP_FLOW_ACTIVE;
}

/* flow_close() - unwatch and close @f's socket, unlink and free it. */
static void flow_close(struct ns_icmp_nat *nat, struct icmp_flow *f)
{
    struct icmp_flow **pp = bucket_of(nat, f->guest_ip, f->guest_id);

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
static void close_all(struct ns_icmp_nat *nat)
{
    while (nat->oldest)
        flow_close(nat, nat->oldest);
}

/* flow_pause() - stop reading @f until ns_icmp_nat_resume(). */
static void flow_pause(struct ns_icmp_nat *nat, struct icmp_flow *f)
{
    ns_loop_del(&f->ns->loop, f->fd);
    f->state = ICMP_FLOW_PAUSED;
    f->pprev = NULL;
    f->pnext = nat->paused;
    if (nat->paused)
        nat->paused->pprev = f;
    nat->paused = f;
}

/*
 * tx_budget() - may one reply be read now without risking the queue?
 * Return: 1 yes; 0 when the queue holds this dispatch's frames (wait for its
 * flush); -1 when the transport pushed back (pause until resumed).
 */
static int tx_budget(const struct netstack *ns)
{
    size_t max = ((size_t)ns->cfg.mtu - IPV4_HLEN) & ~(size_t)7;
    size_t worst = (IPV4_MAX_LEN - IPV4_HLEN + max - 1) / max;

    if (ns->tx.blocked)
        return -1;
    if (ns->tx.count >= ns->tx.cap)
        return 0;
    /* A queue smaller than one reply can only be given its best when empty. */
    return ns->tx.cap - ns->tx.count >= worst || !ns->tx.count;
}

/*
 * guest_source() - the address the guest sees for host peer @addr (network order)
 * Return: 0 with @src set; -1 for a peer the guest must not see (loopback with
 * the alias off, or an address of its own subnet, which would impersonate a
 * neighbour or the gateway).
 */
static int guest_source(const struct netstack *ns, uint32_t addr, uint32_t *src)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

    if (ns_nat_from_host(ns, &sa, src))
        return -1;
    return ns_in_subnet(ns, *src) && *src != ns->host_loopback ? -1 : 0;
}

/*
 * deliver() - an echo reply to the guest, with its identifier restored
 * @nat:  the table
 * @f:    the flow the reply belongs to
 * @addr: the remote, host side (network order)
 * @m:    the ICMP message, at least ICMP_HLEN bytes; rewritten in place
 * @len:  its length
 */
static void deliver(struct ns_icmp_nat *nat, struct icmp_flow *f, uint32_t addr, uint8_t *m,
                    size_t len)
{
    struct netstack *ns = f->ns;
    uint32_t src;

    if (guest_source(ns, addr, &src))
        return;
    ns_store_be16(m + 4, f->guest_id);
    ns_store_be16(m + 2, 0);
    ns_store_be16(m + 2, ns_csum(m, len));
    flow_touch(nat, f, ns_now_ms());
    if (!ns_ipv4_send(ns, NULL, src, f->guest_ip, IPPROTO_ICMP, m, len))
        NS_COUNT(ns, icmp_echo_replies_forwarded);
}

/*
 * read_ping() - one read from a ping socket: ICMP header and data, no IP header
 * Return: 0 if a reply was read (delivered or not), -1 when none waits.
 */
static int read_ping(struct ns_icmp_nat *nat, struct icmp_flow *f)
{
    struct sockaddr_in from;
    socklen_t fromlen = sizeof(from);
    ssize_t n = recvfrom(f->fd, nat->buf, ICMP_BUF_SIZE, MSG_DONTWAIT,
                         (struct sockaddr *)&from, &fromlen);

    if (n < 0)
        return -1;
    /* The kernel passes only echo replies to a ping socket; check rather than trust. */
    if ((size_t)n >= ICMP_HLEN && nat->buf[0] == ICMP_ECHO_REPLY &&
        fromlen >= sizeof(from) && from.sin_family == AF_INET)
        deliver(nat, f, from.sin_addr.s_addr, nat->buf, (size_t)n);
    return 0;
}

/*
 * read_raw() - one read from a raw socket: any ICMP packet the host received
 * Return: 0 if a packet was read (matched or not), -1 when none waits.
 */
static int read_raw(struct ns_icmp_nat *nat, struct icmp_flow *f)
{
    ssize_t n = recv(f->fd, nat->buf, ICMP_BUF_SIZE, MSG_DONTWAIT);
    struct ns_reader msg;
    uint32_t src;

    if (n < 0)
        return -1;
    if (ns_icmp_nat_parse_raw(nat->buf, (size_t)n, &src, &msg) ||
        htonl(src) != f->remote || ns_load_be16(msg.data + 4) != f->guest_id)
        return 0;   /* someone else's ICMP: every raw socket sees all of it */
    /* msg points into our own buffer: rewrite it there. */
    deliver(nat, f, f->remote, nat->buf + (msg.data - nat->buf), msg.len);
    return 0;
}

/*
 * flow_ready() - the loop's callback: @f's socket is readable (or has an error)
 * @opaque: the flow
 * @fd:     its socket
 * @events: NETSTACK_EV_* (an error is read, and so cleared, by the next read)
 */
static void flow_ready(void *opaque, int fd, uint32_t events)
{
    struct icmp_flow *f = opaque;
    struct ns_icmp_nat *nat = f->ns->icmp_nat;
    int i, room;

    (void)fd;
    (void)events;
    for (i = 0; i < ICMP_WAKEUP_READS; i++) {
        room = tx_budget(f->ns);
        if (room < 0) {
            flow_pause(nat, f);
            return;
        }
        if (!room)
            return;
        if ((f->kind == ICMP_SOCK_PING ? read_ping(nat, f) : read_raw(nat, f)) < 0)
            return;
    }
}

/* socket_failed() - count and log (once) running out of sockets. Return: -1. */
static int socket_failed(struct netstack *ns, struct ns_icmp_nat *nat, int err)
{
    NS_COUNT(ns, drop_host_socket);
    if (!nat->warned_socket) {
        nat->warned_socket = 1;
        ns_log(ns, NETSTACK_LOG_WARN, "icmp: cannot open a host socket (%s); "
               "echo requests of new flows are dropped", strerror(err));
    }
    return -1;
}

/* socket_refused() - count and log (once) that no kind of ICMP socket is allowed. Return: -1. */
static int socket_refused(struct netstack *ns, struct ns_icmp_nat *nat, int err)
{
    NS_COUNT(ns, drop_icmp_refused);
    if (!nat->warned_refused) {
        nat->warned_refused = 1;
        ns_log(ns, NETSTACK_LOG_WARN, "icmp: ping sockets are not permitted "
               "(net.ipv4.ping_group_range does not include gid %u) and raw sockets "
               "are not either (%s); echo requests beyond the gateway are dropped",
               (unsigned)getgid(), strerror(err));
    }
    return -1;
}

/* out_of_resources() - does @err mean "no descriptor or memory", not "not allowed"? */
static int out_of_resources(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* open_raw() - a raw ICMP socket woken only for echo replies. Return: fd, or -1 (errno). */
static int open_raw(void)
{
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);

#ifdef ICMP_FILTER
    /* Without the filter we only wake up more often: replies are matched anyway. */
    struct icmp_filter filt = { .data = ~(1u << ICMP_ECHO_REPLY) };  /* bits: types to drop */

    if (fd >= 0)
        (void)setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt));
#endif
    return fd;
}

/*
 * open_socket() - a ping socket, or a raw one where ping sockets are refused
 * @kind: set to the kind opened
 * Return: the fd, or -1 (counted, logged once).
 */
static int open_socket(struct netstack *ns, struct ns_icmp_nat *nat, enum icmp_sock_kind *kind)
{
    int fd;

    if (!nat->raw_only) {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
        *kind = ICMP_SOCK_PING;
        if (fd >= 0)
            return fd;
        if (out_of_resources(errno))
            return socket_failed(ns, nat, errno);
    }
    fd = open_raw();
    *kind = ICMP_SOCK_RAW;
    if (fd >= 0) {
        nat->raw_only = 1;
        return fd;
    }
    if (out_of_resources(errno))
        return socket_failed(ns, nat, errno);
    return socket_refused(ns, nat, errno);
}

/*
 * flow_open() - a new flow for @ip and @id, evicting the least recently used at the limit
 * Return: the flow, or NULL (refused, or sockets or memory exhausted; counted).
 */
static struct icmp_flow *flow_open(struct netstack *ns, uint32_t ip, uint16_t id)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;
    struct icmp_flow *f = calloc(1, sizeof(*f)), **b;

    if (!f) {
        NS_COUNT(ns, drop_no_memory);
        return NULL;
    }
    f->fd = open_socket(ns, nat, &f->kind);
    if (f->fd < 0)
        goto fail;
    f->ns = ns;
    if (ns_loop_set(&ns->loop, f->fd, NETSTACK_EV_IN, flow_ready, f)) {
        NS_COUNT(ns, drop_no_memory);
        close(f->fd);
        goto fail;
    }
    if (nat->count >= ns->cfg.max_icmp_flows && nat->oldest) {
        flow_close(nat, nat->oldest);
        NS_COUNT(ns, icmp_flows_evicted);
    }
    f->guest_ip = ip;
    f->guest_id = id;
    b = bucket_of(nat, ip, id);
    f->hnext = *b;
    *b = f;
    lru_append(nat, f);
    nat->count++;
    return f;
fail:
    free(f);
    return NULL;
}

/*
 * set_ttl() - send with the guest's TTL, so its traceroute-style probes keep
 * their meaning; a setsockopt only when it changes.
 */
static void set_ttl(struct icmp_flow *f, uint8_t ttl)
{
    int v = ttl;

    if (ttl && ttl != f->ttl && !setsockopt(f->fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)))
        f->ttl = ttl;
}

/*
 * ns_icmp_nat_input() - an echo request from the guest to a non-local address
 * @ns: the stack
 * @ip: the datagram. Not checked here: ethernet/icmp.c has verified that the
 *      payload is an echo request (type 8, code 0) of at least ICMP_HLEN bytes
 *      with a valid checksum, and that the source is not 0.0.0.0.
 *
 * A send error (the host has no route, its buffer is full) is counted as
 * drop_icmp_destination: to the guest it looks the same, no reply.
 */
void ns_icmp_nat_input(struct netstack *ns, const struct ns_ipv4 *ip)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;
    struct sockaddr_in sa;
    struct icmp_flow *f;
    struct ns_reader r;
    uint16_t id;

    if (!nat)
        return;
    ns_reader_init(&r, ip->payload, ip->payload_len);
    if (ns_reader_skip(&r, 4) || ns_reader_be16(&r, &id) ||
        ns_nat_to_host(ns, ip->dst, 0, &sa)) {
        NS_COUNT(ns, drop_icmp_destination);
        return;
    }
    f = flow_lookup(nat, ip->src, id);
    if (!f && !(f = flow_open(ns, ip->src, id)))
        return;
    flow_touch(nat, f, ns_now_ms());
    set_ttl(f, ip->ttl);
    f->remote = sa.sin_addr.s_addr;
    if (sendto(f->fd, ip->payload, ip->payload_len, MSG_DONTWAIT, (struct sockaddr *)&sa,
               sizeof(sa)) < 0)
        NS_COUNT(ns, drop_icmp_destination);
    else
        NS_COUNT(ns, icmp_echo_forwarded);
}

/*
 * bucket_count() - hash buckets for @max flows: a power of two, bounded
 * Return: the count.
 */
static size_t bucket_count(uint32_t max)
{
    size_t n = ICMP_MIN_BUCKETS;

    while (n < max && n < ICMP_MAX_BUCKETS)
        n *= 2;
    return n;
}

/*
 * ns_icmp_nat_start() - create the flow table
 * @ns: the stack
 * Return: 0, -ENOMEM.
 */
int ns_icmp_nat_start(struct netstack *ns)
{
    struct ns_icmp_nat *nat = calloc(1, sizeof(*nat));

    if (!nat)
        return -ENOMEM;
    nat->nbucket = bucket_count(ns->cfg.max_icmp_flows);
    nat->bucket = calloc(nat->nbucket, sizeof(*nat->bucket));
    nat->buf = malloc(ICMP_BUF_SIZE);
    if (!nat->bucket || !nat->buf) {
        free(nat->bucket);
        free(nat->buf);
        free(nat);
        return -ENOMEM;
    }
    if (getrandom(&nat->seed, sizeof(nat->seed), GRND_NONBLOCK) != sizeof(nat->seed))
        nat->seed = ns_now_ms() ^ (uint64_t)(uintptr_t)nat;     /* weaker, still per stack */
    ns->icmp_nat = nat;
    return 0;
}

/*
 * ns_icmp_nat_stop() - close every flow and free the table; safe without a start
 * @ns: the stack
 */
void ns_icmp_nat_stop(struct netstack *ns)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;

    if (!nat)
        return;
    close_all(nat);
    free(nat->bucket);
    free(nat->buf);
    free(nat);
    ns->icmp_nat = NULL;
}

/*
 * ns_icmp_nat_guest_gone() - the guest went away: close every flow
 * @ns: the stack
 */
void ns_icmp_nat_guest_gone(struct netstack *ns)
{
    if (ns->icmp_nat)
        close_all(ns->icmp_nat);
}

/*
 * ns_icmp_nat_timers() - close flows idle for icmp_idle_timeout_ms
 * @ns:     the stack
 * @now_ms: the current time
 *
 * The LRU head is always the next to expire. A paused flow is refreshed
 * instead: its replies wait for the guest, it is not idle.
 */
void ns_icmp_nat_timers(struct netstack *ns, uint64_t now_ms)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;
    struct icmp_flow *f;

    while (nat && (f = nat->oldest) && f->last_ms + ns->cfg.icmp_idle_timeout_ms <= now_ms) {
        if (f->state == ICMP_FLOW_PAUSED) {
            flow_touch(nat, f, now_ms);
            continue;
        }
        flow_close(nat, f);
        NS_COUNT(ns, icmp_flows_expired);
    }
}

/*
 * ns_icmp_nat_next_timeout() - milliseconds until the oldest flow expires
 * @ns:     the stack
 * @now_ms: the current time
 * Return: 0 if one is due, -1 when there are no flows.
 */
int ns_icmp_nat_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;
    uint64_t due;

    if (!nat || !nat->oldest)
        return -1;
    due = nat->oldest->last_ms + ns->cfg.icmp_idle_timeout_ms;
    if (due <= now_ms)
        return 0;
    return due - now_ms > INT_MAX ? INT_MAX : (int)(due - now_ms);
}

/*
 * ns_icmp_nat_resume() - the transport takes frames again: watch paused flows
 * @ns: the stack
 *
 * A flow whose watch cannot be restored (out of memory) is closed rather than
 * left paused forever.
 */
void ns_icmp_nat_resume(struct netstack *ns)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;
    struct icmp_flow *f;

    while (nat && (f = nat->paused)) {
        paused_unlink(nat, f);
        if (ns_loop_set(&ns->loop, f->fd, NETSTACK_EV_IN, flow_ready, f)) {
            NS_COUNT(ns, drop_no_memory);
            flow_close(nat, f);
        }
    }
}
