/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server_priv.h - private to dns/: queries in flight and their clients
 *
 * Shared by server.c (the guest side: UDP and TCP clients, local answers,
 * host-resolver mode) and forward.c (the upstream side).
 */
#ifndef NETSTACK_DNS_SERVER_PRIV_H
#define NETSTACK_DNS_SERVER_PRIV_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "dns/resolv.h"

struct netstack;
struct dns_tcp_conn;

/*
 * struct dns_query - one guest query being resolved
 * @guest_id:   the ID the guest used (answers get it back)
 * @up_id:      the ID used upstream, unique among queries in flight
 * @q:          the question
 * @msg, @len:  the query as the guest sent it (forwarded unchanged but the ID)
 * @udp_max:    largest UDP answer the guest takes (512, or its EDNS size)
 * @guest, @guest_port: UDP client, when @tcp is NULL; an IPv4 client as
 *              ::ffff:a.b.c.d
 * @tcp:        TCP client connection, NULL for UDP
 * @server:     index of the upstream server being asked
 * @tries:      servers asked so far
 * @sent_ms:    when the current server was asked
 * @deadline_ms: SERVFAIL after this
 * @up_fd:      TCP retry socket, -1 when none
 * @up_buf, @up_have, @up_need, @up_sent: TCP retry buffer and progress
 * @hostres:    waiting for the host resolver (host mode)
 * @ns:         the stack (loop callbacks get the query)
 * @next, @prev: the list of queries in flight
 */
struct dns_query {
    uint16_t guest_id, up_id;
    struct ns_dns_question q;
    uint8_t *msg;
    size_t len;
    size_t udp_max;
    struct in6_addr guest;
    uint16_t guest_port;
    struct dns_tcp_conn *tcp;
    unsigned server, tries;
    uint64_t sent_ms, deadline_ms;
    int up_fd;
    uint8_t *up_buf;
    size_t up_have, up_need, up_sent;
    int hostres;
    struct netstack *ns;
    struct dns_query *next, *prev;
};

/*
 * struct ns_dns - the DNS server
 * @local:      names answered locally
 * @resolv:     the host's nameservers, followed live
 * @hostres:    the host resolver (host mode), NULL otherwise
 * @fd4, @fd6:  upstream UDP sockets, -1 until needed
 * @inflight, @count: queries in flight
 * @conns, @nconns: the guest's TCP connections to it, most recently active first
 * @route6_ms, @route6, @route6_checked: whether the host routes IPv6, and
 *              when that was last looked up (aaaa.c)
 * @buf:        receive buffer for upstream answers
 */
struct ns_dns {
    struct ns_dns_local *local;
    struct ns_resolv_file resolv;
    struct ns_hostres *hostres;
    int fd4, fd6;
    struct dns_query *inflight;
    size_t count;
    struct dns_tcp_conn *conns;
    size_t nconns;
    uint64_t route6_ms;
    uint8_t route6, route6_checked;
    uint8_t buf[NS_DNS_MSG_MAX];
};

/* server.c */
void ns_dns_answer(struct netstack *ns, struct dns_query *dq, uint8_t *msg, size_t len);
void ns_dns_fail(struct netstack *ns, struct dns_query *dq, uint8_t rcode);
void ns_dns_query_free(struct netstack *ns, struct dns_query *dq);

/* aaaa.c */
/**
 * ns_dns_filter_aaaa() - are AAAA records of non-local names to be withheld
 * now (cfg.dns_aaaa; in auto mode, while the host has no IPv6 route)?
 */
int ns_dns_filter_aaaa(struct netstack *ns);

/* forward.c */
int ns_dns_forward(struct netstack *ns, struct dns_query *dq);
void ns_dns_forward_timers(struct netstack *ns, uint64_t now_ms);
void ns_dns_forward_cancel(struct netstack *ns, struct dns_query *dq);
void ns_dns_forward_stop(struct netstack *ns);

#endif /* NETSTACK_DNS_SERVER_PRIV_H */
