/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.c - the gateway's DNS server: the guest's side
 *
 * Theory of Operation: the guest's resolver is the gateway, on UDP and TCP
 * port 53. Every query is validated first (ns_dns_parse_query(): a malformed
 * one gets FORMERR when its header is readable, else it is dropped and
 * counted), then answered from the first source that knows it:
 *   1. local names (host.internal, gateway.internal, --dns-name, --hosts),
 *      answered here and never sent anywhere, in both modes;
 *   2. in host mode, A and AAAA from the host's own resolver (getaddrinfo on
 *      a worker thread: /etc/hosts, NSS and VPN split-DNS agents apply), with
 *      NODATA for a name that only has the other family and NXDOMAIN for one
 *      that does not exist;
 *   3. everything else (every other type, and every query in forward mode)
 *      from the host's nameservers through forward.c.
 * At most cfg.max_dns_inflight queries are resolved at once; beyond that the
 * guest gets SERVFAIL at once rather than a silent drop.
 *
 * UDP answers larger than the guest can take (512 bytes, or the size its EDNS
 * OPT record announces, RFC 6891) are replaced by an empty answer with TC set,
 * and the guest retries over TCP (RFC 7766). TCP clients may send several
 * length-prefixed queries on one connection, pipelined; answers go back as
 * they complete.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "lwip/ip_addr.h"
#include "lwip/tcp.h"

#include "dns/dns.h"
#include "dns/hostres.h"
#include "dns/local.h"
#include "dns/server_priv.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "netstack/lwip_glue.h"
#include "netstack/stack.h"
#include "netstack/tcp_pcbs.h"
#include "netstack/udp.h"

#define DNS_TICK_MS         250     /* timer granularity for retries and deadlines */
#define DNS_HOSTRES_THREADS 4
#define DNS_TCP_RX_MAX      (2 * (2 + NS_DNS_MSG_MAX))
#define DNS_TCP_BACKLOG     64      /* handshakes in progress on gateway:53 */

/*
 * struct dns_tcp_conn - a guest's TCP connection to gateway:53
 * @pcb:    lwIP's side; NULL once lwIP freed it (reset, error)
 * @rx:     bytes received, not yet a complete query
 * @refs:   queries of this connection in flight
 * @fin:    the guest closed its side: close ours when @refs drops to 0
 * @last_ms: its last query or answer, for the idle timeout (RFC 7766 6.2.3:
 *          servers close idle connections; the guest's resolver reconnects)
 * @next, @prev: the server's list of connections, most recently active first
 */
struct dns_tcp_conn {
    struct netstack *ns;
    struct dns_tcp_conn *next, *prev;
    struct tcp_pcb *pcb;
    uint8_t rx[DNS_TCP_RX_MAX];
    size_t rx_len;
    unsigned refs;
    int fin;
    uint64_t last_ms;
};

/* --- Answers to the guest ---------------------------------------------- */

/**
 * udp_limit() - the largest UDP answer the sender of @query takes (RFC 6891).
 */
static size_t udp_limit(const uint8_t *query, size_t len)
{
    ldns_pkt *pkt = NULL;
    size_t max = 512;

    if (ldns_wire2pkt(&pkt, query, len) == LDNS_STATUS_OK && ldns_pkt_edns(pkt) &&
        ldns_pkt_edns_udp_size(pkt) > 512)
        max = ldns_pkt_edns_udp_size(pkt);
    ldns_pkt_free(pkt);
    return max < NS_DNS_UDP_MAX ? max : NS_DNS_UDP_MAX;
}

/**
 * tcp_send() - one length-prefixed message on a guest TCP connection.
 */
static void tcp_send(struct dns_tcp_conn *c, const uint8_t *msg, size_t len)
{
    uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

    if (!c->pcb || len > 0xffff)
        return;
    if (tcp_write(c->pcb, hdr, 2, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) != ERR_OK ||
        tcp_write(c->pcb, msg, (u16_t)len, TCP_WRITE_FLAG_COPY) != ERR_OK) {
        NS_COUNT(c->ns, drop_no_memory);
        return;
    }
    tcp_output(c->pcb);
}

/**
 * reply() - send @msg to the query's client; a UDP answer too big for the
 * client becomes an empty one with TC set
 * @query: the guest's query (for the truncated form), @qlen its length
 */
static void reply(struct netstack *ns, const struct in6_addr *ip, uint16_t port,
                  struct dns_tcp_conn *tcp, size_t udp_max, const uint8_t *query, size_t qlen,
                  const uint8_t *msg, size_t len)
{
    uint8_t small[512];

    if (tcp) {
        tcp_send(tcp, msg, len);
        return;
    }
    /* An IPv6 answer fits the link: fragmented DNS over UDP is fragile (RFC 8900). */
    if (!IN6_IS_ADDR_V4MAPPED(ip) && udp_max > (size_t)ns->cfg.mtu - IPV6_HLEN - UDP_HLEN)
        udp_max = (size_t)ns->cfg.mtu - IPV6_HLEN - UDP_HLEN;
    if (len > udp_max) {
        len = ns_dns_build_rcode(query, qlen, NS_DNS_RCODE_NOERROR, small, sizeof(small));
        if (!len)
            return;
        small[2] |= 0x02;       /* TC: ask again over TCP */
        msg = small;
        NS_COUNT(ns, dns_truncated);
    }
    if (IN6_IS_ADDR_V4MAPPED(ip))
        ns_udp_send(ns, NULL, ns->link.dns, NS_DNS_PORT, ns_load_be32(ip->s6_addr + 12), port,
                    msg, len);
    else
        ns_udp6_send(ns, &ns->link.dns6, NS_DNS_PORT, ip, port, msg, len);
}

/**
 * reply_to() - reply() for a query in flight.
 */
static void reply_to(struct netstack *ns, struct dns_query *dq, const uint8_t *msg, size_t len)
{
    reply(ns, &dq->guest, dq->guest_port, dq->tcp, dq->udp_max, dq->msg, dq->len, msg, len);
}

static void tcp_unref(struct dns_tcp_conn *c);

void ns_dns_query_free(struct netstack *ns, struct dns_query *dq)
{
    struct ns_dns *d = ns->dns;

    if (dq->prev)
        dq->prev->next = dq->next;
    else
        d->inflight = dq->next;
    if (dq->next)
        dq->next->prev = dq->prev;
    d->count--;
    if (dq->hostres && d->hostres)
        ns_hostres_cancel(d->hostres, (uint64_t)(uintptr_t)dq);
    ns_dns_forward_cancel(ns, dq);
    if (dq->tcp)
        tcp_unref(dq->tcp);
    free(dq->msg);
    free(dq);
}

void ns_dns_answer(struct netstack *ns, struct dns_query *dq, uint8_t *msg, size_t len)
{
    ns_dns_set_id(msg, dq->guest_id);
    ns_dns_set_id(dq->msg, dq->guest_id);   /* a truncated reply is built from the query */
    NS_COUNT(ns, dns_answers);
    reply_to(ns, dq, msg, len);
    ns_dns_query_free(ns, dq);
}

void ns_dns_fail(struct netstack *ns, struct dns_query *dq, uint8_t rcode)
{
    uint8_t out[NS_DNS_UDP_MAX];
    size_t len;

    ns_dns_set_id(dq->msg, dq->guest_id);
    len = ns_dns_build_rcode(dq->msg, dq->len, rcode, out, sizeof(out));
    if (len)
        reply_to(ns, dq, out, len);
    NS_COUNT(ns, dns_servfail);
    ns_dns_query_free(ns, dq);
}

/* --- Queries ------------------------------------------------------------- */

/**
 * answer_now() - a query answered without keeping it: FORMERR, NOTIMP, local, limit.
 */
static void answer_now(struct netstack *ns, const struct in6_addr *ip, uint16_t port,
                       struct dns_tcp_conn *tcp, const uint8_t *msg, size_t len,
                       const struct ns_dns_question *q, const struct ns_dns_addrs *local,
                       uint8_t rcode)
{
    uint8_t out[NS_DNS_UDP_MAX];
    size_t n;

    if (local)
        n = ns_dns_build_answer(msg, len, q, local, 60, out, sizeof(out));
    else
        n = ns_dns_build_rcode(msg, len, rcode, out, sizeof(out));
    if (n)
        reply(ns, ip, port, tcp, udp_limit(msg, len), msg, len, out, n);
}

/**
 * track() - a query that needs resolving: copied and linked in flight.
 */
static struct dns_query *track(struct netstack *ns, const struct in6_addr *ip, uint16_t port,
                               struct dns_tcp_conn *tcp, const uint8_t *msg, size_t len,
                               uint16_t id, const struct ns_dns_question *q)
{
    struct ns_dns *d = ns->dns;
    struct dns_query *dq = calloc(1, sizeof(*dq));

    if (!dq || !(dq->msg = malloc(len))) {
        free(dq);
        return NULL;
    }
    memcpy(dq->msg, msg, len);
    dq->len = len;
    dq->guest_id = id;
    dq->q = *q;
    dq->udp_max = udp_limit(msg, len);
    dq->guest = *ip;
    dq->guest_port = port;
    dq->tcp = tcp;
    if (tcp)
        tcp->refs++;
    dq->up_fd = -1;
    dq->ns = ns;
    dq->deadline_ms = ns_now_ms() + ns->cfg.dns_timeout_ms;
    dq->next = d->inflight;
    if (d->inflight)
        d->inflight->prev = dq;
    d->inflight = dq;
    d->count++;
    return dq;
}

/**
 * resolve() - a valid query for a non-local name: host resolver or forwarder.
 */
static void resolve(struct netstack *ns, struct dns_query *dq)
{
    struct ns_dns *d = ns->dns;
    int addr_type = dq->q.qtype == NS_DNS_TYPE_A || dq->q.qtype == NS_DNS_TYPE_AAAA;

    if (d->hostres && addr_type && dq->q.qclass == NS_DNS_CLASS_IN &&
        ns_hostres_lookup(d->hostres, (uint64_t)(uintptr_t)dq, dq->q.name) == 0) {
        dq->hostres = 1;
        NS_COUNT(ns, dns_host_lookups);
        return;
    }
    if (ns_dns_forward(ns, dq))
        ns_dns_fail(ns, dq, NS_DNS_RCODE_SERVFAIL);     /* no nameserver known */
}

/**
 * query() - one query from the guest, over UDP (@tcp NULL) or TCP.
 */
static void query(struct netstack *ns, const struct in6_addr *ip, uint16_t port,
                  struct dns_tcp_conn *tcp, const uint8_t *msg, size_t len)
{
    struct ns_dns_question q;
    struct ns_dns_addrs local;
    struct dns_query *dq;
    uint16_t id;

    NS_COUNT(ns, dns_queries);
    switch (ns_dns_parse_query(msg, len, &id, &q)) {
    case NS_DNS_DROP:
        NS_COUNT(ns, drop_dns_malformed);
        return;
    case NS_DNS_FORMERR:
        NS_COUNT(ns, dns_formerr);
        answer_now(ns, ip, port, tcp, msg, len, NULL, NULL, NS_DNS_RCODE_FORMERR);
        return;
    case NS_DNS_NOTIMP:
        answer_now(ns, ip, port, tcp, msg, len, NULL, NULL, NS_DNS_RCODE_NOTIMP);
        return;
    case NS_DNS_OK:
        break;
    }
    if (q.qclass == NS_DNS_CLASS_IN && ns_dns_local_lookup(ns->dns->local, q.name, &local)) {
        NS_COUNT(ns, dns_local_answers);
        answer_now(ns, ip, port, tcp, msg, len, &q, &local, 0);
        return;
    }
    if (q.qclass == NS_DNS_CLASS_IN && q.qtype == NS_DNS_TYPE_AAAA && ns_dns_filter_aaaa(ns)) {
        memset(&local, 0, sizeof(local));   /* no addresses: NODATA */
        NS_COUNT(ns, dns_aaaa_filtered);
        answer_now(ns, ip, port, tcp, msg, len, &q, &local, 0);
        return;
    }
    if (ns->dns->count >= ns->cfg.max_dns_inflight ||
        !(dq = track(ns, ip, port, tcp, msg, len, id, &q))) {
        NS_COUNT(ns, drop_dns_inflight);
        answer_now(ns, ip, port, tcp, msg, len, NULL, NULL, NS_DNS_RCODE_SERVFAIL);
        return;
    }
    resolve(ns, dq);
}

void ns_dns_udp_input(struct netstack *ns, const struct ns_ipv4 *ip, uint16_t sport,
                      const uint8_t *msg, size_t len)
{
    struct in6_addr a = ns_ip6_mapped4(ip->src);

    query(ns, &a, sport, NULL, msg, len);
}

void ns_dns_udp6_input(struct netstack *ns, const struct ns_ipv6 *ip, uint16_t sport,
                       const uint8_t *msg, size_t len)
{
    query(ns, &ip->src, sport, NULL, msg, len);
}

/**
 * on_hostres() - the host resolver answered (in the loop thread).
 */
static void on_hostres(void *opaque, uint64_t tag, enum ns_hostres_status st,
                       const struct ns_dns_addrs *addrs)
{
    struct netstack *ns = opaque;
    struct dns_query *dq = (struct dns_query *)(uintptr_t)tag;
    uint8_t out[NS_DNS_UDP_MAX];
    size_t n;

    dq->hostres = 0;
    if (st == NS_HOSTRES_FAIL) {
        ns_dns_fail(ns, dq, NS_DNS_RCODE_SERVFAIL);
        return;
    }
    n = ns_dns_build_answer(dq->msg, dq->len, &dq->q, st == NS_HOSTRES_NXDOMAIN ? NULL : addrs,
                            60, out, sizeof(out));
    if (!n) {
        ns_dns_fail(ns, dq, NS_DNS_RCODE_SERVFAIL);
        return;
    }
    ns_dns_answer(ns, dq, out, n);
}

/* --- DNS over TCP from the guest (RFC 7766) ------------------------------ */

/**
 * conn_unlink() - take @c off the server's list.
 */
static void conn_unlink(struct ns_dns *d, struct dns_tcp_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/**
 * conn_push() - put @c at the head of the server's list, the most recently active.
 */
static void conn_push(struct ns_dns *d, struct dns_tcp_conn *c)
{
    c->next = d->conns;
    if (d->conns)
        d->conns->prev = c;
    d->conns = c;
}

/**
 * conn_touch() - traffic on @c: it is the most recently active now.
 */
static void conn_touch(struct dns_tcp_conn *c)
{
    struct ns_dns *d = c->ns->dns;

    c->last_ms = ns_now_ms();
    if (d->conns != c) {
        conn_unlink(d, c);
        conn_push(d, c);
    }
}

/**
 * conn_free() - unlink and free a connection whose pcb is closed or gone.
 */
static void conn_free(struct dns_tcp_conn *c)
{
    struct ns_dns *d = c->ns->dns;

    conn_unlink(d, c);
    d->nconns--;
    free(c);
}

/**
 * conn_detach() - clear lwIP's callbacks: none reaches @c after this.
 */
static void conn_detach(struct dns_tcp_conn *c)
{
    tcp_arg(c->pcb, NULL);
    tcp_recv(c->pcb, NULL);
    tcp_err(c->pcb, NULL);
}

/**
 * tcp_unref() - a query of @c finished; close or free @c when nothing is left.
 */
static void tcp_unref(struct dns_tcp_conn *c)
{
    if (c->pcb)
        conn_touch(c);      /* an answer went out: idle from now */
    if (c->refs)
        c->refs--;
    if (c->refs)
        return;
    if (!c->pcb) {
        conn_free(c);
        return;
    }
    if (c->fin) {
        conn_detach(c);
        ns_pcbs_close(c->ns, c->pcb);
        conn_free(c);
    }
}

/**
 * conn_close() - close @c from our side now (idle, evicted, the guest gone);
 * queries still in flight drop their answers, as after a reset.
 */
static void conn_close(struct dns_tcp_conn *c)
{
    if (c->pcb) {
        conn_detach(c);
        ns_pcbs_close(c->ns, c->pcb);
        c->pcb = NULL;
    }
    c->refs++;
    tcp_unref(c);
}

/**
 * tcp_take() - every complete length-prefixed query in @c->rx.
 */
static void tcp_take(struct dns_tcp_conn *c)
{
    size_t off = 0;

    c->refs++;      /* @c must outlive queries answered right away */
    while (c->rx_len - off >= 2) {
        size_t len = (size_t)(c->rx[off] << 8 | c->rx[off + 1]);

        if (c->rx_len - off - 2 < len)
            break;
        NS_COUNT(c->ns, dns_tcp_queries);
        query(c->ns, &in6addr_any, 0, c, c->rx + off + 2, len);
        off += 2 + len;
    }
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
    c->refs--;
}

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct dns_tcp_conn *c = arg;

    if (!p) {
        c->fin = 1;
        c->refs++;
        tcp_unref(c);       /* closes now if nothing is in flight */
        return ERR_OK;
    }
    if (c->rx_len + p->tot_len > sizeof(c->rx)) {
        pbuf_free(p);       /* more than two maximal queries unparsed: not DNS */
        conn_detach(c);
        tcp_abort(pcb);
        c->pcb = NULL;
        c->refs++;
        tcp_unref(c);
        return ERR_ABRT;
    }
    pbuf_copy_partial(p, c->rx + c->rx_len, p->tot_len, 0);
    c->rx_len += p->tot_len;
    conn_touch(c);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    tcp_take(c);
    return ERR_OK;
}

static void on_tcp_err(void *arg, err_t err)
{
    struct dns_tcp_conn *c = arg;

    if (!c)
        return;
    c->pcb = NULL;      /* freed by lwIP; queries in flight drop their answers */
    c->refs++;
    tcp_unref(c);
}

/**
 * evict_idlest() - at max_dns_tcp_connections, close the least recently
 * active connection with no query in flight, so that connections a guest
 * left open (or a guest before a reboot) cannot lock DNS over TCP out.
 * Return: 1 if one was closed, 0 if every connection is busy.
 */
static int evict_idlest(struct netstack *ns)
{
    struct dns_tcp_conn *c, *idlest = NULL;

    for (c = ns->dns->conns; c; c = c->next)
        if (!c->refs)
            idlest = c;     /* the list runs from most to least recently active */
    if (!idlest)
        return 0;
    NS_COUNT(ns, dns_tcp_evicted);
    conn_close(idlest);
    return 1;
}

static err_t on_tcp_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct netstack *ns = arg;
    struct ns_dns *d = ns->dns;
    struct dns_tcp_conn *c;

    if (!pcb || err != ERR_OK)
        return ERR_VAL;
    ns_pcbs_accepted(pcb);
    if (d->nconns >= ns->cfg.max_dns_tcp_connections && !evict_idlest(ns))
        c = NULL;
    else
        c = calloc(1, sizeof(*c));
    if (!c) {
        NS_COUNT(ns, drop_dns_inflight);
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    c->ns = ns;
    c->pcb = pcb;
    c->last_ms = ns_now_ms();
    conn_push(d, c);
    d->nconns++;
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_tcp_recv);
    tcp_err(pcb, on_tcp_err);
    return ERR_OK;
}

/**
 * listen_tcp() - lwIP's listener on @addr:53 (a gateway address, IPv4
 * mapped). Return: 0 or -ENOMEM.
 */
static int listen_tcp(struct netstack *ns, const struct in6_addr *addr)
{
    struct tcp_pcb *pcb = tcp_new(), *lpcb;
    ip_addr_t gw;

    if (!pcb)
        return -ENOMEM;
    ns_lwip_addr(addr, &gw);
    ip_set_option(pcb, SOF_REUSEADDR);
    if (tcp_bind(pcb, &gw, NS_DNS_PORT) != ERR_OK || !(lpcb = tcp_listen(pcb))) {
        tcp_close(pcb);
        return -ENOMEM;
    }
    tcp_arg(lpcb, ns);
    tcp_accept(lpcb, on_tcp_accept);
    return ns_pcbs_listen(ns, lpcb, DNS_TCP_BACKLOG) ? -ENOMEM : 0;
}

/**
 * listen_all() - the TCP listeners on the DNS server's IPv4 and IPv6 addresses.
 */
static int listen_all(struct netstack *ns)
{
    struct in6_addr dns4 = ns_ip6_mapped4(ns->link.dns);
    int rc;

    if (ns->link.no_dns)
        return 0;
    rc = listen_tcp(ns, &dns4);
    if (!rc && ns->link.ipv6)
        rc = listen_tcp(ns, &ns->link.dns6);
    return rc;
}

/* --- Lifecycle ------------------------------------------------------------ */

/**
 * add_local() - the built-in names, --dns-name entries and the hosts file.
 */
static int add_local(struct netstack *ns)
{
    struct ns_dns_local *l = ns->dns->local;
    struct in_addr a;
    const char *const *spec;
    int n;

    a.s_addr = htonl(ns->link.gateway);
    if (ns_dns_local_add(l, "gateway.internal", AF_INET, &a))
        return -ENOMEM;
    a.s_addr = htonl(ns->link.host_loopback);
    if (ns->link.host_loopback && ns_dns_local_add(l, "host.internal", AF_INET, &a))
        return -ENOMEM;
    if (ns->link.ipv6 && (ns_dns_local_add(l, "gateway.internal", AF_INET6, &ns->link.gateway6) ||
                     (ns->link.host_loopback &&
                      ns_dns_local_add(l, "host.internal", AF_INET6, &ns->link.host_loopback6))))
        return -ENOMEM;
    for (spec = ns->cfg.dns_names; spec && *spec; spec++) {
        if (ns_dns_local_add_spec(l, *spec)) {
            ns_log(ns, NETSTACK_LOG_ERROR, "dns: bad name entry \"%s\" (NAME=IP expected)", *spec);
            return -EINVAL;
        }
    }
    if (ns->cfg.hosts_file) {
        n = ns_dns_local_load_hosts(l, ns->cfg.hosts_file);
        if (n < 0) {
            ns_log(ns, NETSTACK_LOG_ERROR, "dns: hosts file %s: %s", ns->cfg.hosts_file,
                   strerror(-n));
            return n;
        }
        ns_log(ns, NETSTACK_LOG_INFO, "dns: %d names from %s", n, ns->cfg.hosts_file);
    }
    return 0;
}

int ns_dns_start(struct netstack *ns)
{
    struct ns_dns *d = calloc(1, sizeof(*d));
    int rc;

    if (!d)
        return -ENOMEM;
    d->fd4 = d->fd6 = -1;
    ns->dns = d;
    d->local = ns_dns_local_new();
    if (!d->local)
        return -ENOMEM;
    rc = add_local(ns);
    if (rc)
        return rc;
    if (ns_resolv_file_init(&d->resolv, ns->cfg.resolv_conf, ns_now_ms()) < 0 ||
        !d->resolv.servers.n)
        ns_log(ns, NETSTACK_LOG_WARN, "dns: no nameserver in %s yet; SERVFAIL until one appears",
               ns->cfg.resolv_conf);
    if (ns->cfg.dns_mode == NETSTACK_DNS_HOST) {
        d->hostres = ns_hostres_new(&ns->loop, DNS_HOSTRES_THREADS, ns->cfg.max_dns_inflight,
                                    on_hostres, ns);
        if (!d->hostres)
            return -ENOMEM;
    }
    return listen_all(ns);
}

void ns_dns_stop(struct netstack *ns)
{
    struct ns_dns *d = ns->dns;

    if (!d)
        return;
    while (d->inflight)
        ns_dns_query_free(ns, d->inflight);
    while (d->conns) {
        struct dns_tcp_conn *c = d->conns;

        if (c->pcb) {
            conn_detach(c);
            tcp_abort(c->pcb);
        }
        conn_free(c);
    }
    ns_hostres_free(d->hostres);
    ns_dns_forward_stop(ns);
    ns_dns_local_free(d->local);
    /* The listeners are lwIP pcbs: ns_lwip_stop() closes them. */
    free(d);
    ns->dns = NULL;
}

/**
 * expire_idle() - close the TCP connections idle for dns_tcp_idle_timeout_ms.
 */
static void expire_idle(struct netstack *ns, uint64_t now_ms)
{
    struct dns_tcp_conn *c = ns->dns->conns, *prev;

    while (c && c->next)
        c = c->next;            /* the least recently active is last */
    for (; c; c = prev) {
        prev = c->prev;
        if (now_ms - c->last_ms < ns->cfg.dns_tcp_idle_timeout_ms)
            break;
        if (c->refs)
            continue;           /* waiting for an answer is not idle */
        NS_COUNT(ns, dns_tcp_expired);
        conn_close(c);
    }
}

void ns_dns_timers(struct netstack *ns, uint64_t now_ms)
{
    if (ns->dns && ns->dns->inflight)
        ns_dns_forward_timers(ns, now_ms);
    if (ns->dns && ns->dns->conns)
        expire_idle(ns, now_ms);
}

int ns_dns_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    (void)now_ms;
    return ns->dns && (ns->dns->inflight || ns->dns->conns) ? DNS_TICK_MS : -1;
}

void ns_dns_guest_gone(struct netstack *ns)
{
    struct dns_tcp_conn *c, *next;

    for (c = ns->dns ? ns->dns->conns : NULL; c; c = next) {
        next = c->next;
        if (c->pcb)     /* one without is closed already, waiting for its queries */
            conn_close(c);
    }
}
