/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flows.c - netstack_flow_list(): every live TCP and UDP flow, for list_flows
 *
 * Walks the three tables that own flows: the TCP NAT's (which also holds the
 * forwarded connections once the guest accepted them), the UDP NAT's, and the
 * UDP forwards'. Nothing is copied or locked: the stack has one thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "ethernet/ipv6.h"
#include "netstack/flow_table.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/tcp_flow.h"
#include "portfwd/portfwd.h"

/**
 * tcp_state() - a TCP flow's state as list_flows names it.
 */
static const char *tcp_state(const struct tcp_flow *f)
{
    if (f->state == FLOW_CONNECTING)
        return "syn_sent";
    if (f->state == FLOW_ACCEPTING)
        return "syn_received";
    if (f->guest_fin && f->host_fin)
        return "closing";
    if (f->guest_fin)
        return "close_wait";
    return f->host_fin ? "fin_wait" : "established";
}

/**
 * since() - milliseconds from @then to @now, 0 if the clock says otherwise.
 */
static uint64_t since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

static int list_tcp(struct netstack *ns, uint64_t now, netstack_flow_fn cb, void *opaque)
{
    const struct tcp_flow *f;
    int rc;

    for (f = ns->tcp_nat ? ns->tcp_nat->all : NULL; f; f = f->next) {
        struct netstack_flow_info i = {
            .proto = NETSTACK_PROTO_TCP, .inbound = f->forward_id != 0,
            .forward_id = f->forward_id,
            .guest_port = f->key.guest_port, .peer_port = f->key.dst_port,
            .state = tcp_state(f), .bytes_from_guest = f->bytes_to_host,
            .bytes_to_guest = f->bytes_to_guest, .age_ms = since(now, f->created_ms),
            .idle_ms = since(now, f->since_ms),
            .family = AF_INET6, .guest_addr6 = f->key.guest, .peer_addr6 = f->key.dst,
        };

        if (ns_ip6_is_mapped4(&f->key.guest)) {
            i.family = AF_INET;
            i.guest_addr.s_addr = htonl(ns_ip6_get4(&f->key.guest));
            i.peer_addr.s_addr = htonl(ns_ip6_get4(&f->key.dst));
        }

        rc = cb(opaque, &i);
        if (rc)
            return rc;
    }
    return 0;
}

/**
 * list_udp_nat() - the UDP NAT's flows (its table's LRU list holds them all).
 */
static int list_udp_nat(struct netstack *ns, uint64_t now, netstack_flow_fn cb, void *opaque)
{
    const struct ns_flow_table *t = ns_udp_nat_table(ns);
    const struct ns_flow *f;
    int rc;

    for (f = t ? t->oldest : NULL; f; f = f->next) {
        struct netstack_flow_info i = {
            .proto = NETSTACK_PROTO_UDP, .guest_port = f->guest_id,
            .peer_port = f->peer_port, .state = "active",
            .bytes_from_guest = f->bytes_from_guest, .bytes_to_guest = f->bytes_to_guest,
            .age_ms = since(now, f->created_ms), .idle_ms = since(now, f->last_ms),
            .family = AF_INET6, .guest_addr6 = f->guest, .peer_addr6 = f->peer,
        };

        if (ns_ip6_is_mapped4(&f->guest)) {
            i.family = AF_INET;
            i.guest_addr.s_addr = htonl(ns_ip6_get4(&f->guest));
            i.peer_addr.s_addr = htonl(ns_ip6_get4(&f->peer));
        }

        rc = cb(opaque, &i);
        if (rc)
            return rc;
    }
    return 0;
}

int netstack_flow_list(struct netstack *ns, netstack_flow_fn cb, void *opaque)
{
    uint64_t now = ns_now_ms();
    int rc;

    if (!ns || !cb)
        return -EINVAL;
    rc = list_tcp(ns, now, cb, opaque);
    if (!rc)
        rc = list_udp_nat(ns, now, cb, opaque);
    if (!rc)
        rc = ns_udp_fwd_flow_list(ns, now, cb, opaque);
    return rc;
}
