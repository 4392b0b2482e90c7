/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forward.c - the DNS forwarder: guest queries relayed to the host's nameservers
 *
 * Theory of Operation: a query that is neither local nor for the host
 * resolver is sent, unchanged but for its ID, to the first nameserver of the
 * host's resolv.conf (re-read whenever the file changes, so a VPN client that
 * rewrites it is followed at the next query). The ID is replaced by a random
 * one unique among the queries in flight, and an answer is accepted only if it
 * comes from the server that was asked, carries that ID and repeats the
 * question exactly (ns_dns_check_response()): a spoofed or malformed answer is
 * counted and ignored, never passed to the guest. A truncated answer (TC) is
 * asked again over TCP from the same server. A server that does not answer
 * within NS_DNS_ATTEMPT_MS is given up for the next one, round robin, until the
 * query's deadline, when the guest gets SERVFAIL.
 *
 * Upstream UDP goes through one unconnected socket per address family, so a
 * burst of queries costs no socket per query; a TCP retry has its own socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/server_priv.h"
#include "netstack/stack.h"

#define NS_DNS_ATTEMPT_MS   1000    /* then the next server */
#define NS_DNS_UDP_READS    64      /* answers read per wakeup */

/**
 * server_addr() - the address of nameserver @i.
 */
static const struct sockaddr *server_addr(struct ns_dns *d, unsigned i, socklen_t *len)
{
    *len = d->resolv.servers.len[i];
    return (const struct sockaddr *)&d->resolv.servers.server[i];
}

/**
 * same_addr() - is @a (from recvfrom) the server @b? Address and port.
 */
static int same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

        return x->sin6_port == y->sin6_port &&
               !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
    }
    return 0;
}

/**
 * by_up_id() - the UDP query in flight with upstream ID @id, NULL if none.
 */
static struct dns_query *by_up_id(struct ns_dns *d, uint16_t id)
{
    struct dns_query *dq;

    for (dq = d->inflight; dq; dq = dq->next)
        if (!dq->hostres && dq->up_id == id && dq->up_fd < 0 && dq->tries)
            return dq;
    return NULL;
}

static void start_tcp(struct netstack *ns, struct dns_query *dq);

/**
 * take_answer() - one datagram from a nameserver: match, check, deliver.
 */
static void take_answer(struct netstack *ns, const uint8_t *msg, size_t len,
                        const struct sockaddr_storage *from)
{
    struct ns_dns *d = ns->dns;
    struct dns_query *dq;
    socklen_t alen;
    int tc = 0;

    if (len < 12) {
        NS_COUNT(ns, drop_dns_malformed);
        return;
    }
    dq = by_up_id(d, ns_dns_get_id(msg));
    if (!dq || dq->server >= d->resolv.servers.n ||
        !same_addr(from, server_addr(d, dq->server, &alen)) ||
        ns_dns_check_response(msg, len, dq->up_id, &dq->q, &tc)) {
        NS_COUNT(ns, drop_dns_spoofed);     /* late, foreign, forged or malformed */
        return;
    }
    if (tc) {
        start_tcp(ns, dq);
        return;
    }
    ns_dns_answer(ns, dq, (uint8_t *)msg, len);
}

/**
 * on_udp() - the loop: answers arrived on an upstream UDP socket.
 */
static void on_udp(void *opaque, int fd, uint32_t events)
{
    struct netstack *ns = opaque;
    int i;

    for (i = 0; i < NS_DNS_UDP_READS; i++) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(fd, ns->dns->buf, sizeof(ns->dns->buf), MSG_DONTWAIT,
                             (struct sockaddr *)&from, &flen);

        if (n < 0)
            break;
        take_answer(ns, ns->dns->buf, (size_t)n, &from);
    }
}

/**
 * up_socket() - the upstream UDP socket for @family, made on first use. -errno on failure.
 */
static int up_socket(struct netstack *ns, int family)
{
    struct ns_dns *d = ns->dns;
    int *fd = family == AF_INET6 ? &d->fd6 : &d->fd4;

    if (*fd >= 0)
        return *fd;
    *fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return -errno;
    if (ns_loop_set(&ns->loop, *fd, NETSTACK_EV_IN, on_udp, ns) < 0) {
        close(*fd);
        *fd = -1;
        return -ENOMEM;
    }
    return *fd;
}

/**
 * send_udp() - ask server @dq->server. A failed send is retried by the timer.
 */
static void send_udp(struct netstack *ns, struct dns_query *dq)
{
    const struct sockaddr *sa;
    socklen_t len;
    int fd;

    dq->sent_ms = ns_now_ms();
    dq->tries++;
    sa = server_addr(ns->dns, dq->server, &len);
    fd = up_socket(ns, sa->sa_family);
    if (fd < 0 || sendto(fd, dq->msg, dq->len, 0, sa, len) < 0)
        NS_COUNT(ns, drop_host_socket);
}

/**
 * new_up_id() - a random ID no other query in flight uses upstream.
 */
static uint16_t new_up_id(struct ns_dns *d)
{
    uint16_t id;
    int i;

    for (i = 0; i < 16; i++) {
        id = (uint16_t)arc4random();
        if (!by_up_id(d, id))
            break;
    }
    return id;
}

int ns_dns_forward(struct netstack *ns, struct dns_query *dq)
{
    struct ns_dns *d = ns->dns;

    ns_resolv_file_refresh(&d->resolv, ns_now_ms());
    if (!d->resolv.servers.n)
        return -1;
    dq->up_id = new_up_id(d);
    ns_dns_set_id(dq->msg, dq->up_id);
    dq->server = 0;
    NS_COUNT(ns, dns_forwarded);
    send_udp(ns, dq);
    return 0;
}

/* --- TCP retry (RFC 7766: the answer was truncated) --------------------- */

void ns_dns_forward_cancel(struct netstack *ns, struct dns_query *dq)
{
    if (dq->up_fd >= 0) {
        ns_loop_del(&ns->loop, dq->up_fd);
        close(dq->up_fd);
        dq->up_fd = -1;
    }
    free(dq->up_buf);
    dq->up_buf = NULL;
}

/**
 * tcp_failed() - the TCP retry failed: let the timer try the next server now.
 */
static void tcp_failed(struct netstack *ns, struct dns_query *dq)
{
    ns_dns_forward_cancel(ns, dq);
    dq->sent_ms = 0;
}

/**
 * tcp_send() - write the length-prefixed query. Return: 1 when all sent, 0 to wait, -1 on error.
 */
static int tcp_send(struct dns_query *dq)
{
    while (dq->up_sent < dq->up_need) {
        ssize_t n = send(dq->up_fd, dq->up_buf + dq->up_sent, dq->up_need - dq->up_sent,
                         MSG_NOSIGNAL);

        if (n < 0)
            return errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN ? 0 : -1;
        dq->up_sent += (size_t)n;
    }
    return 1;
}

/**
 * tcp_recv() - read the length-prefixed answer. Return: 1 when complete, 0 to wait, -1 on error.
 */
static int tcp_recv(struct dns_query *dq)
{
    for (;;) {
        size_t want = dq->up_have < 2 ? 2 : 2 + (size_t)(dq->up_buf[0] << 8 | dq->up_buf[1]);
        ssize_t n;

        if (dq->up_have >= 2 && dq->up_have == want)
            return 1;
        n = recv(dq->up_fd, dq->up_buf + dq->up_have, want - dq->up_have, 0);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        dq->up_have += (size_t)n;
    }
}

/**
 * on_tcp() - the loop: progress on a TCP retry.
 */
static void on_tcp(void *opaque, int fd, uint32_t events)
{
    struct dns_query *dq = opaque;
    struct netstack *ns = dq->ns;
    int rc;
    int tc;

    if (dq->up_sent < dq->up_need) {
        rc = tcp_send(dq);
        if (rc > 0) {
            dq->up_have = 0;
            ns_loop_set(&ns->loop, fd, NETSTACK_EV_IN, on_tcp, dq);
        }
        if (rc < 0)
            tcp_failed(ns, dq);
        return;
    }
    rc = tcp_recv(dq);
    if (rc < 0 || (rc > 0 && ns_dns_check_response(dq->up_buf + 2, dq->up_have - 2, dq->up_id,
                                                   &dq->q, &tc))) {
        if (rc > 0)
            NS_COUNT(ns, drop_dns_spoofed);
        tcp_failed(ns, dq);
        return;
    }
    if (rc > 0) {
        size_t len = dq->up_have - 2;
        uint8_t *buf = dq->up_buf;

        dq->up_buf = NULL;          /* keep the answer past the cancel */
        ns_dns_forward_cancel(ns, dq);
        ns_dns_answer(ns, dq, buf + 2, len);
        free(buf);
    }
}

/**
 * start_tcp() - ask the same server again over TCP.
 */
static void start_tcp(struct netstack *ns, struct dns_query *dq)
{
    const struct sockaddr *sa;
    socklen_t len;
    int fd;

    NS_COUNT(ns, dns_tcp_retries);
    sa = server_addr(ns->dns, dq->server, &len);
    dq->up_buf = malloc(2 + NS_DNS_MSG_MAX);
    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!dq->up_buf || fd < 0) {
        if (fd >= 0)
            close(fd);
        tcp_failed(ns, dq);
        return;
    }
    dq->up_fd = fd;
    dq->up_buf[0] = (uint8_t)(dq->len >> 8);
    dq->up_buf[1] = (uint8_t)dq->len;
    memcpy(dq->up_buf + 2, dq->msg, dq->len);
    dq->up_need = 2 + dq->len;
    dq->up_sent = dq->up_have = 0;
    if ((connect(fd, sa, len) < 0 && errno != EINPROGRESS) ||
        ns_loop_set(&ns->loop, fd, NETSTACK_EV_OUT, on_tcp, dq) < 0)
        tcp_failed(ns, dq);
}

/* --- Timers --------------------------------------------------------------- */

void ns_dns_forward_timers(struct netstack *ns, uint64_t now_ms)
{
    struct ns_dns *d = ns->dns;
    struct dns_query *dq, *next;

    for (dq = d->inflight; dq; dq = next) {
        next = dq->next;
        if (!dq->hostres && !dq->tries)
            continue;
        /*
         * The host resolver has its own timeouts (resolv.conf's, times the
         * servers and attempts: often 30 s); the guest waits no longer than
         * for a forwarded query. Its worker finishes and drops the result.
         */
        if (now_ms >= dq->deadline_ms) {
            ns_dns_fail(ns, dq, NS_DNS_RCODE_SERVFAIL);
            continue;
        }
        if (dq->hostres || dq->up_fd >= 0 || now_ms - dq->sent_ms < NS_DNS_ATTEMPT_MS)
            continue;
        ns_resolv_file_refresh(&d->resolv, now_ms);
        if (!d->resolv.servers.n) {
            ns_dns_fail(ns, dq, NS_DNS_RCODE_SERVFAIL);
            continue;
        }
        dq->server = (dq->server + 1) % d->resolv.servers.n;
        send_udp(ns, dq);
    }
}

void ns_dns_forward_stop(struct netstack *ns)
{
    struct ns_dns *d = ns->dns;

    if (d->fd4 >= 0) {
        ns_loop_del(&ns->loop, d->fd4);
        close(d->fd4);
    }
    if (d->fd6 >= 0) {
        ns_loop_del(&ns->loop, d->fd6);
        close(d->fd6);
    }
    d->fd4 = d->fd6 = -1;
}
