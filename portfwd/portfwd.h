/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portfwd.h - private: host-to-guest port forwarding
 *
 * forward.c keeps the table of forwards (the public netstack_forward_* calls)
 * and their host sockets; tcp_fwd.c and udp_fwd.c carry the connections and
 * datagrams of one port of a forward.
 */
#ifndef NETSTACK_PORTFWD_H
#define NETSTACK_PORTFWD_H

#include <netinet/in.h>
#include <stdint.h>

#include "netstack/include/netstack.h"


/*
 * struct ns_fwd_port - one host port of a forward, with its bound socket
 * @fw:         the forward it belongs to
 * @fd:         the listening (TCP) or bound (UDP) host socket
 * @guest:      where it goes (IPv4 mapped, resolved from the lease if 0 in
 *              @fw; for IPv6 all zero when learned per client, ns_fwd_guest())
 * @guest_port: the guest port for this host port
 * @next:       next port of the same forward
 */
struct ns_fwd_port {
    struct ns_fwd *fw;
    int fd;
    struct in6_addr guest;
    uint16_t guest_port;
    struct ns_fwd_port *next;
};

/* struct ns_fwd - one forward as added */
struct ns_fwd {
    struct netstack *ns;
    uint32_t id;
    struct netstack_forward spec;
    struct ns_fwd_port *ports;
    struct ns_fwd *next;
};

/**
 * ns_fwd_guest() - where @p's traffic goes now (IPv4 mapped): its guest
 * address, or for an IPv6 forward without one the guest's address learned in
 * its /64 (ns_neigh6_guest()). Return: 0 with @out set, -1 when none is known.
 */
int ns_fwd_guest(struct netstack *ns, const struct ns_fwd_port *p, struct in6_addr *out);

/**
 * ns_fwd_source() - the address and port (IPv4 mapped) the guest sees for a
 * host client, over IPv6 if @v6
 * @preserve: the forward's preserve_source
 * With it, a client of the guest's family is itself (loopback becomes the
 * host-loopback alias or its IPv6 twin); without it, for a client of the
 * other family, or a link-local one, the gateway and port 0 (lwIP or the UDP
 * code picks one).
 */
void ns_fwd_source(const struct netstack *ns, const struct sockaddr_storage *client, int preserve,
                   int v6, struct in6_addr *ip, uint16_t *port);

/* tcp_fwd.c: the listener of @p is readable: accept and connect into the guest. */
void ns_tcp_fwd_accept(struct netstack *ns, struct ns_fwd_port *p);
/**
 * ns_tcp_fwd_stop() - give up every connection still waiting for the guest.
 */
void ns_tcp_fwd_stop(struct netstack *ns);

/* udp_fwd.c */
void ns_udp_fwd_readable(struct netstack *ns, struct ns_fwd_port *p);
/**
 * ns_udp_fwd_input() - a guest datagram that answers a forward? Return: 1 if consumed.
 */
int ns_udp_fwd_input(struct netstack *ns, const struct in6_addr *src, const struct in6_addr *dst,
                     uint16_t sport, uint16_t dport, const uint8_t *data, size_t len);
void ns_udp_fwd_port_closed(struct netstack *ns, struct ns_fwd_port *p);
int ns_udp_fwd_start(struct netstack *ns);
void ns_udp_fwd_stop(struct netstack *ns);
void ns_udp_fwd_guest_gone(struct netstack *ns);
void ns_udp_fwd_timers(struct netstack *ns, uint64_t now_ms);
int ns_udp_fwd_next_timeout(struct netstack *ns, uint64_t now_ms);
/**
 * ns_udp_fwd_flow_list() - netstack_flow_list() for the UDP forwards' flows.
 */
int ns_udp_fwd_flow_list(struct netstack *ns, uint64_t now_ms, netstack_flow_fn cb, void *opaque);
/**
 * ns_udp_fwd_resume() - the transport takes frames again: read paused ports.
 */
void ns_udp_fwd_resume(struct netstack *ns);

/* forward.c: lifecycle, called by stack.c */
int ns_portfwd_start(struct netstack *ns);
void ns_portfwd_stop(struct netstack *ns);
/**
 * ns_portfwd_guest_gone() - the guest went away: clients still waiting for it
 * are reset and UDP flows closed; the forwards themselves stay.
 */
void ns_portfwd_guest_gone(struct netstack *ns);

#endif /* NETSTACK_PORTFWD_H */
