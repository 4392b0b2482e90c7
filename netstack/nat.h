/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat.h - private: the NAT, where guest flows become host sockets
 *
 * Three modules share one pattern (a table of flows, each owning one host
 * socket registered in the stack's loop with ns_loop_set()):
 *   tcp_nat.c, tcp_relay.c   TCP through lwIP: connect before accept, relay
 *   udp_nat.c                UDP: one host socket per guest source address and port
 *   icmp_nat.c               ICMP echo: unprivileged ping sockets
 * nat.c holds the address mapping they share and fans the stack's lifecycle
 * events (start, guest gone, timers, transport ready again) out to them.
 *
 * Backpressure rule for every module: while ns_tx_blocked() is true, stop
 * reading host sockets (unwatch EPOLLIN) instead of dropping what they bring;
 * the module's *_resume() is called when the transport takes frames again.
 */
#ifndef NETSTACK_NAT_H
#define NETSTACK_NAT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

struct netstack;
struct ns_ipv4;
struct ns_reader;

/**
 * ns_nat_to_host() - where a guest's packet to @dst:@port goes on the host
 * The host-loopback alias becomes 127.0.0.1; the gateway, other subnet
 * addresses, broadcast, multicast, 0.0.0.0 and 127.0.0.0/8 are never forwarded.
 * Return: 0 with @sa filled, -1 for a destination that is not forwarded.
 */
int ns_nat_to_host(const struct netstack *ns, uint32_t dst, uint16_t port, struct sockaddr_in *sa);

/**
 * ns_nat_from_host() - the address the guest sees for a host peer @sa
 * (host order): the host's loopback becomes the alias.
 * Return: 0, -1 if the guest cannot be shown this peer (loopback without alias).
 */
int ns_nat_from_host(const struct netstack *ns, const struct sockaddr_in *sa, uint32_t *addr);

/* A host socket address of either family. */
union ns_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

/**
 * ns_sockaddr_len() - the length an address of @sa's family must have.
 */
static inline socklen_t ns_sockaddr_len(const union ns_sockaddr *sa)
{
    return sa->sa.sa_family == AF_INET6 ? sizeof(sa->in6) : sizeof(sa->in);
}

/**
 * ns_nat_to_host_addr() - ns_nat_to_host() for a destination of either
 * family (IPv4 mapped): the alias's IPv6 twin becomes ::1, and the guest's
 * /64, link-local, multicast, loopback and mapped IPv6 addresses are never
 * forwarded (nor anything over IPv6 when it is off).
 * @len: set to the length of @sa's family
 * Return: 0 with @sa filled, -1 for a destination that is not forwarded.
 */
int ns_nat_to_host_addr(const struct netstack *ns, const struct in6_addr *dst, uint16_t port,
                        union ns_sockaddr *sa, socklen_t *len);

/**
 * ns_nat_from_host_addr() - ns_nat_from_host() for a peer of either family:
 * the address the guest sees (IPv4 mapped; ::1 becomes the alias's twin).
 * Return: 0, -1 if the guest cannot be shown this peer.
 */
int ns_nat_from_host_addr(const struct netstack *ns, const union ns_sockaddr *sa,
                          struct in6_addr *addr);

/**
 * ns_nat_hidden_source() - is @a (as ns_nat_from_host_addr() gave it) on the
 * guest's own link, where a host peer must not appear (it would impersonate
 * a neighbour or the gateway)? The alias and its twin, which stand for the
 * host's loopback, are the exception.
 */
int ns_nat_hidden_source(const struct netstack *ns, const struct in6_addr *a);

/**
 * ns_nat_host_routes_ipv6() - does the host have a route to global IPv6
 * (connect() of a UDP socket: a route lookup, nothing is sent)?
 */
int ns_nat_host_routes_ipv6(void);

/**
 * ns_nat_tcp_socket() - a non-blocking host TCP socket of @family with Nagle
 * off and keepalives on (here, apart from lwIP: <netinet/tcp.h> and lwIP
 * disagree on TCP_MSS). Return: the fd, or -errno.
 */
int ns_nat_tcp_socket(int family);

/**
 * ns_nat_tcp_tune() - Nagle off, keepalives on, for any host TCP socket of a flow.
 */
void ns_nat_tcp_tune(int fd);

/* Each NAT's lifecycle hooks below are registered in modules.c's table. */

/* TCP (tcp_nat.c): a TCP segment from the guest, either family, before lwIP sees it. */
struct ns_tcp_seg;
void ns_tcp_nat_input(struct netstack *ns, const struct ns_tcp_seg *seg);
int ns_tcp_nat_start(struct netstack *ns);
void ns_tcp_nat_stop(struct netstack *ns);
void ns_tcp_nat_guest_gone(struct netstack *ns);
void ns_tcp_nat_timers(struct netstack *ns, uint64_t now_ms);
int ns_tcp_nat_next_timeout(struct netstack *ns, uint64_t now_ms);
void ns_tcp_nat_resume(struct netstack *ns);
/**
 * ns_tcp_nat_adopt() - make an established lwIP connection and its host socket
 * a relayed flow (a forwarded connection). Return: 0, -EEXIST, -ENOMEM.
 */
struct tcp_key;
struct tcp_pcb;
int ns_tcp_nat_adopt(struct netstack *ns, const struct tcp_key *k, int fd, struct tcp_pcb *pcb,
                     uint32_t forward_id);
/*
 * Super-segments (tcp_xmit.c): a relayed flow whose guest announced an MSS of
 * at least NS_TCP_MSS_MIN (RFC 879's default; a smaller one would make one
 * super-segment hundreds of frames) sends segments of up to NS_TCP_SUPER_MAX
 * payload bytes (NS_TCP_SUPER_MAX6 over IPv6), a multiple of the guest's MSS.
 */
#define NS_TCP_MSS_MIN   536
#define NS_TCP_SUPER_MAX  (65535 - 20 - 60)   /* an IPv4 packet with the largest headers */
#define NS_TCP_SUPER_MAX6 (65535 - 40 - 60)   /* an IPv6 packet of 64 KiB, like IPv4's */

/**
 * ns_tcp_nat_guest_mss() - the MSS to cut a super-segment from @peer:@peer_port
 * to @guest:@guest_port (IPv4 mapped, ports in host order) into; 0 for a
 * connection that sends no super-segments.
 */
uint16_t ns_tcp_nat_guest_mss(struct netstack *ns, const struct in6_addr *guest,
                              uint16_t guest_port, const struct in6_addr *peer,
                              uint16_t peer_port);
/**
 * ns_tcp_nat_half_open() - guest connections whose handshake is not complete.
 */
size_t ns_tcp_nat_half_open(const struct netstack *ns);

/**
 * ns_tcp_nat_full() - is the connection limit reached?
 */
int ns_tcp_nat_full(const struct netstack *ns);
/**
 * ns_tcp_nat_flush() - write guest data queued during the input batch to the host.
 */
void ns_tcp_nat_flush(struct netstack *ns);

/* UDP (udp_nat.c): a datagram from the guest, either family, not for the stack itself. */
void ns_udp_nat_input(struct netstack *ns, const struct in6_addr *src, const struct in6_addr *dst,
                      uint16_t sport, uint16_t dport, const uint8_t *data, size_t len);
int ns_udp_nat_start(struct netstack *ns);
void ns_udp_nat_stop(struct netstack *ns);
void ns_udp_nat_guest_gone(struct netstack *ns);
void ns_udp_nat_timers(struct netstack *ns, uint64_t now_ms);
int ns_udp_nat_next_timeout(struct netstack *ns, uint64_t now_ms);
void ns_udp_nat_resume(struct netstack *ns);
struct ns_flow_table;
const struct ns_flow_table *ns_udp_nat_table(const struct netstack *ns);

/* ICMP (icmp_nat.c): an echo request from the guest to a non-local address. */
void ns_icmp_nat_input(struct netstack *ns, const struct ns_ipv4 *ip);
struct ns_ipv6;
void ns_icmp_nat_input6(struct netstack *ns, const struct ns_ipv6 *ip);
int ns_icmp_nat_start(struct netstack *ns);
void ns_icmp_nat_stop(struct netstack *ns);
void ns_icmp_nat_guest_gone(struct netstack *ns);
void ns_icmp_nat_timers(struct netstack *ns, uint64_t now_ms);
int ns_icmp_nat_next_timeout(struct netstack *ns, uint64_t now_ms);
void ns_icmp_nat_resume(struct netstack *ns);

/**
 * ns_icmp_nat_parse_raw() - find an echo reply in what a raw ICMP socket read
 * (exposed for the unit suite and the fuzz harness; see icmp_nat.c)
 */
int ns_icmp_nat_parse_raw(const uint8_t *pkt, size_t len, uint32_t *src, struct ns_reader *msg);

#endif /* NETSTACK_NAT_H */
