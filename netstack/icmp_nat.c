/* SPDX-License-Identifier: BSD-3-Clause */
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
 * ICMPv6 echo (RFC 4443) takes the same path: a flow of a guest IPv6 address
 * has an IPv6 ping socket (IPPROTO_ICMPV6, governed by the same sysctl), the
 * reply's checksum covers the IPv6 pseudo-header, and the alias's twin is the
 * host's ::1. There is no raw fallback over IPv6: a raw ICMPv6 socket hands
 * over no IPv6 header, so neither the reply's destination nor its checksum
 * could be checked here; where ping sockets are refused, IPv6 echo requests
 * are dropped (drop_icmp_refused).
 *
 * The flows are a flow table (flow_table.c), as udp_nat.c's, keyed by the
 * guest's address and echo identifier: found by a seeded hash, evicted least
 * recently used first at max_icmp_flows, closed after icmp_idle_timeout_ms
 * without traffic either way. A reply is read only when the transmit queue
 * has room for it at its largest; when the transport pushes back the flow is
 * paused (ns_flow_pause()) until ns_icmp_nat_resume().
 */
#include <errno.h>
#ifdef __linux__
#include <linux/icmp.h>     /* ICMP_FILTER for raw sockets */
#endif
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ethernet/checksum.h"
#include "ethernet/icmp.h"
#include "ethernet/icmp6.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/neigh.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/flow_table.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

#define ICMP_BUF_SIZE       65536       /* one reply, IP header included, never truncated */
#define ICMP_WAKEUP_READS   32          /* replies read per wakeup: fairness */

/* enum icmp_sock_kind - which kind of host socket a flow has */
enum icmp_sock_kind {
    ICMP_SOCK_PING,     /* SOCK_DGRAM: identifier rewritten, replies filtered by the kernel */
    ICMP_SOCK_RAW,      /* SOCK_RAW: identifier kept, replies matched here */
};

/*
 * ICMP flows are in the states of enum ns_flow_state (flow_table.h):
 * ACTIVE:  replies are read and sent to the guest; the guest's requests are
 *          sent out.
 * PAUSED:  replies wait in the kernel; requests are still sent.
 *          ns_icmp_nat_resume() makes the flow ACTIVE again.
 * Closing is immediate in either state.
 */

/*
 * struct icmp_flow - one guest address and echo identifier, one host socket
 * @flow:           the flow table's part: guest address, @flow.guest_id the
 *                  guest's echo identifier, the socket, state, LRU
 * @kind:           ping or raw socket
 * @ttl:            IP_TTL (IPV6_UNICAST_HOPS) set on the socket, 0 for the
 *                  kernel's default
 * @remote:         the host-side address last pinged (network order); raw
 *                  sockets accept replies only from it
 */
struct icmp_flow {
    struct ns_flow flow;
    enum icmp_sock_kind kind;
    uint8_t ttl;
    uint32_t remote;
};

/**
 * is_v6() - is @f a flow of a guest IPv6 address?
 */
static int is_v6(const struct icmp_flow *f)
{
    return !ns_ip6_is_mapped4(&f->flow.guest);
}

/**
 * icmp_flow_of() - the ICMP flow around a flow of the table
 * @f: the table's part, not NULL
 * Return: the ICMP flow.
 */
static struct icmp_flow *icmp_flow_of(struct ns_flow *f)
{
    return ns_flow_container(f, struct icmp_flow, flow);
}

/*
 * struct ns_icmp_nat - the flow table and the receive buffer
 * @flows:           the flows, struct icmp_flow
 * @raw_only:        ping sockets were refused and a raw socket worked
 * @warned_refused:  "no ping socket, no raw socket" was logged
 * @warned_socket:   socket() running out of descriptors was logged
 * @buf:             one reply
 */
struct ns_icmp_nat {
    struct ns_flow_table flows;
    int raw_only;
    int warned_refused;
    int warned_socket;
    uint8_t *buf;
};

/**
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

/**
 * tx_budget() - may one reply be read now without risking the queue?
 * @ns: the stack
 * Return: 1 yes; 0 when the queue holds this dispatch's frames (wait for its
 * flush); -1 when the transport pushed back (pause until resumed).
 */
static int tx_budget(const struct netstack *ns)
{
    /* IPv6's fragments carry less (a fixed header and a fragment header each). */
    size_t max = ((size_t)ns->cfg.mtu - IPV6_HLEN - 8) & ~(size_t)7;
    size_t worst = (0xffff + max - 1) / max;

    if (ns->tx.blocked)
        return -1;
    if (ns_tx_full(&ns->tx))
        return 0;
    /* A queue smaller than one reply can only be given its best when empty. */
    return ns_tx_room(&ns->tx, (size_t)ns->cfg.mtu + 14) >= worst || !ns->tx.count;
}

/**
 * deliver() - an echo reply to the guest, with its identifier restored
 * @nat:  the NAT
 * @f:    the flow the reply belongs to
 * @from: the remote, host side, of the flow's family
 * @m:    the ICMP message, at least ICMP_HLEN bytes; rewritten in place
 * @len:  its length
 *
 * A remote the guest must not see (loopback with the alias off, an address
 * of its own link) is not delivered.
 */
static void deliver(struct ns_icmp_nat *nat, struct icmp_flow *f, const union ns_sockaddr *from,
                    uint8_t *m, size_t len)
{
    struct netstack *ns = f->flow.ns;
    struct in6_addr src;
    uint8_t mac[6];
    int rc;

    if (ns_nat_from_host_addr(ns, from, &src) || ns_nat_hidden_source(ns, &src) ||
        ns_ip6_is_mapped4(&src) == is_v6(f))
        return;
    ns_store_be16(m + 4, f->flow.guest_id);
    ns_store_be16(m + 2, 0);
    ns_flow_touch(&nat->flows, &f->flow, ns_now_ms());
    if (!is_v6(f)) {
        ns_store_be16(m + 2, ns_csum(m, len));
        rc = ns_ipv4_send(&ns->link, NULL, ns_ip6_get4(&src), ns_ip6_get4(&f->flow.guest),
                          IPPROTO_ICMP, m, len);
    } else {
        ns_store_be16(m + 2, ns_csum_fold(ns_csum_add(ns_csum_pseudo6(
            src.s6_addr, f->flow.guest.s6_addr, IPPROTO_ICMPV6, len), m, len)));
        rc = ns_neigh6_lookup(&ns->link, &f->flow.guest, mac)
             ? ns_ipv6_send(&ns->link, mac, &src, &f->flow.guest, IPPROTO_ICMPV6, 64, m, len, NULL, 0)
             : -EHOSTUNREACH;
    }
    if (!rc)
        NS_COUNT(ns, icmp_echo_replies_forwarded);
}

/**
 * read_ping() - one read from a ping socket: ICMP header and data, no IP header
 * @nat: the NAT
 * @f:   a flow with a ping socket
 * Return: 0 if a reply was read (delivered or not), -1 when none waits.
 */
static int read_ping(struct ns_icmp_nat *nat, struct icmp_flow *f)
{
    union ns_sockaddr from;
    socklen_t fromlen = sizeof(from);
    ssize_t n = recvfrom(f->flow.fd, nat->buf, ICMP_BUF_SIZE, MSG_DONTWAIT, &from.sa, &fromlen);
    uint8_t reply = is_v6(f) ? ICMP6_ECHO_REPLY : ICMP_ECHO_REPLY;

    if (n < 0)
        return -1;
    /* The kernel passes only echo replies to a ping socket; check rather than trust. */
    if ((size_t)n >= ICMP_HLEN && nat->buf[0] == reply && fromlen >= ns_sockaddr_len(&from))
        deliver(nat, f, &from, nat->buf, (size_t)n);
    return 0;
}

/**
 * read_raw() - one read from a raw socket: any ICMP packet the host received
 * @nat: the NAT
 * @f:   a flow with a raw socket
 * Return: 0 if a packet was read (matched or not), -1 when none waits.
 */
static int read_raw(struct ns_icmp_nat *nat, struct icmp_flow *f)
{
    ssize_t n = recv(f->flow.fd, nat->buf, ICMP_BUF_SIZE, MSG_DONTWAIT);
    union ns_sockaddr from = { .in = { .sin_family = AF_INET } };
    struct ns_reader msg;
    uint32_t src;

    if (n < 0)
        return -1;
    if (ns_icmp_nat_parse_raw(nat->buf, (size_t)n, &src, &msg) ||
        htonl(src) != f->remote || ns_load_be16(msg.data + 4) != f->flow.guest_id)
        return 0;   /* someone else's ICMP: every raw socket sees all of it */
    from.in.sin_addr.s_addr = f->remote;
    /* msg points into our own buffer: rewrite it there. */
    deliver(nat, f, &from, nat->buf + (msg.data - nat->buf), msg.len);
    return 0;
}

/**
 * flow_ready() - the loop's callback: a flow's socket is readable (or has an error)
 * @opaque: the flow's struct ns_flow
 * @fd:     its socket
 * @events: NETSTACK_EV_* (an error is read, and so cleared, by the next read)
 */
static void flow_ready(void *opaque, int fd, uint32_t events)
{
    struct icmp_flow *f = icmp_flow_of(opaque);
    struct ns_icmp_nat *nat = f->flow.ns->icmp_nat;
    int i, room;

    (void)fd;
    (void)events;
    for (i = 0; i < ICMP_WAKEUP_READS; i++) {
        room = tx_budget(f->flow.ns);
        if (room < 0) {
            ns_flow_pause(&nat->flows, &f->flow);
            return;
        }
        if (!room)
            return;
        if ((f->kind == ICMP_SOCK_PING ? read_ping(nat, f) : read_raw(nat, f)) < 0)
            return;
    }
}

/**
 * socket_failed() - count and log (once) running out of sockets
 * @ns:  the stack
 * @nat: the NAT
 * @err: socket()'s errno
 * Return: -1.
 */
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

/**
 * socket_refused() - count and log (once) that no kind of ICMP socket is allowed
 * @ns:  the stack
 * @nat: the NAT
 * @err: socket()'s errno for the raw socket
 * Return: -1.
 */
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

/**
 * out_of_resources() - does @err mean "no descriptor or memory", not "not allowed"?
 * @err: an errno from socket()
 * Return: nonzero if so.
 */
static int out_of_resources(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/**
 * open_raw() - a raw ICMP socket woken only for echo replies
 * Return: the fd, or -1 (errno set).
 */
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

/**
 * open_socket() - the flow table's open(): a ping socket for @fl, or a raw one
 * where ping sockets are refused
 * @fl: the new flow; its @kind is set to the kind opened
 * Return: the fd, or -1 (counted, logged once).
 */
static int open_socket(struct ns_flow *fl)
{
    struct icmp_flow *f = icmp_flow_of(fl);
    struct netstack *ns = fl->ns;
    struct ns_icmp_nat *nat = ns->icmp_nat;
    int fd;

    if (is_v6(f)) {
        fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
        f->kind = ICMP_SOCK_PING;
        if (fd >= 0)
            return fd;
        return out_of_resources(errno) ? socket_failed(ns, nat, errno)
                                       : socket_refused(ns, nat, errno);
    }
    if (!nat->raw_only) {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
        f->kind = ICMP_SOCK_PING;
        if (fd >= 0)
            return fd;
        if (out_of_resources(errno))
            return socket_failed(ns, nat, errno);
    }
    fd = open_raw();
    f->kind = ICMP_SOCK_RAW;
    if (fd >= 0) {
        nat->raw_only = 1;
        return fd;
    }
    if (out_of_resources(errno))
        return socket_failed(ns, nat, errno);
    return socket_refused(ns, nat, errno);
}

/* icmp_flow_type - ICMP flows to the flow table: struct icmp_flow, ICMP counters */
static const struct ns_flow_type icmp_flow_type = {
    .size = sizeof(struct icmp_flow),
    .offset = offsetof(struct icmp_flow, flow),
    .open = open_socket,
    .ready = flow_ready,
    .evicted = NETSTACK_STAT_icmp_flows_evicted,
    .expired = NETSTACK_STAT_icmp_flows_expired,
    .kind = NS_FK_ICMP,
};

/**
 * set_ttl() - send with the guest's TTL, so its traceroute-style probes keep
 * their meaning; a setsockopt only when it changes.
 * @f:   the flow
 * @ttl: the guest's TTL, 0 to leave the socket's as it is
 */
static void set_ttl(struct icmp_flow *f, uint8_t ttl)
{
    int v = ttl, level = is_v6(f) ? IPPROTO_IPV6 : IPPROTO_IP;

    if (ttl && ttl != f->ttl &&
        !setsockopt(f->flow.fd, level, is_v6(f) ? IPV6_UNICAST_HOPS : IP_TTL, &v, sizeof(v)))
        f->ttl = ttl;
}

/**
 * forward_echo() - send the guest's echo request @msg to @dst through the host
 * @src, @dst: its addresses (IPv4 mapped), of one family
 * @ttl:  its TTL or hop limit
 * @msg:  the ICMP message (checked by the caller: an echo request of at least
 *        ICMP_HLEN bytes with a valid checksum), @len bytes
 *
 * A send error (the host has no route, its buffer is full) is counted as
 * drop_icmp_destination: to the guest it looks the same, no reply.
 */
static void forward_echo(struct netstack *ns, const struct in6_addr *src,
                         const struct in6_addr *dst, uint8_t ttl, const uint8_t *msg, size_t len)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;
    union ns_sockaddr sa;
    struct ns_flow *fl;
    struct icmp_flow *f;
    struct ns_reader r;
    socklen_t salen;
    uint16_t id;

    if (!nat)
        return;
    ns_reader_init(&r, msg, len);
    if (ns_reader_skip(&r, 4) || ns_reader_be16(&r, &id) ||
        ns_nat_to_host_addr(ns, dst, 0, &sa, &salen)) {
        NS_COUNT(ns, drop_icmp_destination);
        return;
    }
    fl = ns_flow_lookup(&nat->flows, src, id);
    if (!fl && !(fl = ns_flow_open(&nat->flows, src, id)))
        return;
    ns_flow_touch(&nat->flows, fl, ns_now_ms());
    f = icmp_flow_of(fl);
    set_ttl(f, ttl);
    if (sa.sa.sa_family == AF_INET)
        f->remote = sa.in.sin_addr.s_addr;
    if (sendto(fl->fd, msg, len, MSG_DONTWAIT, &sa.sa, salen) < 0)
        NS_COUNT(ns, drop_icmp_destination);
    else
        NS_COUNT(ns, icmp_echo_forwarded);
}

/**
 * ns_icmp_nat_input() - an echo request from the guest to a non-local address
 * @ns: the stack
 * @ip: the datagram. Not checked here: ethernet/icmp.c has verified that the
 *      payload is an echo request (type 8, code 0) of at least ICMP_HLEN bytes
 *      with a valid checksum, and that the source is not 0.0.0.0.
 */
void ns_icmp_nat_input(struct netstack *ns, const struct ns_ipv4 *ip)
{
    struct in6_addr src = ns_ip6_mapped4(ip->src), dst = ns_ip6_mapped4(ip->dst);

    forward_echo(ns, &src, &dst, ip->ttl, ip->payload, ip->payload_len);
}

/**
 * ns_icmp_nat_input6() - an ICMPv6 echo request from the guest to a non-local address
 * @ns: the stack
 * @ip: the packet; ethernet/icmp6.c has checked the message as icmp.c does,
 *      and that the source is a unicast address of the guest's
 */
void ns_icmp_nat_input6(struct netstack *ns, const struct ns_ipv6 *ip)
{
    forward_echo(ns, &ip->src, &ip->dst, ip->hop_limit, ip->payload, ip->payload_len);
}

/**
 * ns_icmp_nat_start() - create the flow table and the receive buffer
 * @ns: the stack
 * Return: 0, -ENOMEM.
 */
int ns_icmp_nat_start(struct netstack *ns)
{
    struct ns_icmp_nat *nat = calloc(1, sizeof(*nat));

    if (!nat)
        return -ENOMEM;
    nat->buf = malloc(ICMP_BUF_SIZE);
    if (!nat->buf || ns_flow_table_init(&nat->flows, ns, &icmp_flow_type,
                                        ns->cfg.max_icmp_flows, ns->cfg.icmp_idle_timeout_ms)) {
        free(nat->buf);
        free(nat);
        return -ENOMEM;
    }
    ns->icmp_nat = nat;
    return 0;
}

/**
 * ns_icmp_nat_stop() - close every flow and free the table; safe without a start
 * @ns: the stack
 */
void ns_icmp_nat_stop(struct netstack *ns)
{
    struct ns_icmp_nat *nat = ns->icmp_nat;

    if (!nat)
        return;
    ns_flow_table_fini(&nat->flows);
    free(nat->buf);
    free(nat);
    ns->icmp_nat = NULL;
}

/**
 * ns_icmp_nat_guest_gone() - the guest went away: close every flow
 * @ns: the stack
 */
void ns_icmp_nat_guest_gone(struct netstack *ns)
{
    if (ns->icmp_nat)
        ns_flow_close_all(&ns->icmp_nat->flows);
}

/**
 * ns_icmp_nat_timers() - close flows idle for icmp_idle_timeout_ms
 * @ns:     the stack
 * @now_ms: the current time
 *
 * A paused flow is refreshed instead: its replies wait for the guest, it is
 * not idle.
 */
void ns_icmp_nat_timers(struct netstack *ns, uint64_t now_ms)
{
    if (ns->icmp_nat)
        ns_flow_expire(&ns->icmp_nat->flows, now_ms);
}

/**
 * ns_icmp_nat_next_timeout() - milliseconds until the oldest flow expires
 * @ns:     the stack
 * @now_ms: the current time
 * Return: 0 if one is due, -1 when there are no flows.
 */
int ns_icmp_nat_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    return ns->icmp_nat ? ns_flow_next_timeout(&ns->icmp_nat->flows, now_ms) : -1;
}

/**
 * ns_icmp_nat_resume() - the transport takes frames again: read paused flows
 * @ns: the stack
 *
 * A flow whose watch cannot be restored (out of memory) is closed rather than
 * left paused forever.
 */
void ns_icmp_nat_resume(struct netstack *ns)
{
    if (ns->icmp_nat)
        ns_flow_resume(&ns->icmp_nat->flows);
}
