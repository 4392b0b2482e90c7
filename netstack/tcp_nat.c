/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_nat.c - guest TCP connections become host sockets: connect before accept
 *
 * Theory of Operation: every segment from the guest, of either family, passes
 * here before lwIP (struct ns_tcp_seg: IPv4 addresses mapped into IPv6, so
 * one path serves both, and the flows are found by four-tuple in the stack's
 * one flow table, flow_index.h).
 * A SYN for a four-tuple the table does not know starts a flow: the SYN is
 * held, a non-blocking connect() to the same destination (the alias mapped to
 * 127.0.0.1) starts on the host, and the guest hears nothing until it ends:
 * - connected: a listener for the destination port (bound to any address, so
 *   lwIP accepts for whatever address the guest dialled) is made if needed,
 *   and the held SYN is handed to lwIP, which answers SYN-ACK. lwIP's accept
 *   callback, when the guest's ACK arrives, attaches the pcb to the flow and
 *   tcp_relay.c moves the bytes;
 * - refused: the guest gets a RST, at once, exactly like from the host;
 * - unreachable (no route, prohibited): the guest gets ICMP (or ICMPv6)
 *   destination unreachable, so its connect() fails with the error the host saw;
 * - timed out: silence; the guest's own SYN timeout does the rest.
 * SYN retransmits while the connect runs are absorbed. Segments of known
 * flows, and anything that is not a new SYN, go to lwIP, which answers what it
 * does not know with a RST.
 *
 * Limits: at cfg.max_tcp_connections flows, or cfg.max_pending_connects
 * connects in progress, or when the process is out of file descriptors, a new
 * SYN gets a RST and is counted (drop_tcp_limit); existing flows go on.
 * Destinations that are never forwarded (the gateway, other subnet addresses,
 * broadcast) get a RST too (drop_tcp_destination).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/ip_addr.h"
#include "lwip/tcp.h"

#include "dns/dns.h"
#include "ethernet/checksum.h"
#include "ethernet/icmp.h"
#include "ethernet/icmp6.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/lwip_glue.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/tcp_flow.h"
#include "netstack/tcp_pcbs.h"
#include "netstack/tcp_seg.h"

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

#define TCP_ACCEPT_TIMEOUT_MS   30000   /* guest never completed the handshake */
#define TCP_LISTENER_IDLE_MS    2000    /* a listener no handshake used this long goes */
#define TCP_TICK_MS             1000    /* how often timers walk the flows */

#define TCP_BORROW_MIN          2048    /* payload bytes worth a reference instead of a copy */

/* What the NAT needs from a TCP header. */
struct seg_info {
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t flags;
    size_t hlen;
};

/**
 * parse_seg() - the ports, sequence number and flags. Return: 0, -1 if truncated.
 */
static int parse_seg(const struct ns_tcp_seg *ip, struct seg_info *s)
{
    struct ns_reader r;
    uint8_t off;

    ns_reader_init(&r, ip->payload, ip->payload_len);
    s->sport = ns_read_be16(&r);
    s->dport = ns_read_be16(&r);
    s->seq = ns_read_be32(&r);
    ns_reader_skip(&r, 4);                      /* acknowledgment number */
    off = ns_read_u8(&r);
    s->flags = ns_read_u8(&r);
    if (ns_reader_failed(&r))
        return -1;
    s->hlen = (size_t)(off >> 4) * 4;
    if (s->hlen < 20 || s->hlen > ip->payload_len)
        return -1;
    return 0;
}

/**
 * checksum_ok() - does the segment's checksum (RFC 793, with the pseudo-header) hold?
 */
static int checksum_ok(const struct ns_tcp_seg *ip)
{
    uint32_t sum = ip->v6 ? ns_csum_pseudo6(ip->src.s6_addr, ip->dst.s6_addr, IPPROTO_TCP,
                                            ip->payload_len)
                          : ns_csum_pseudo4(ns_ip6_get4(&ip->src), ns_ip6_get4(&ip->dst),
                                            IPPROTO_TCP, ip->payload_len);

    return ns_csum_fold(ns_csum_add(sum, ip->payload, ip->payload_len)) == 0;
}

/* --- The flow table ---------------------------------------------------- */

/**
 * fkey() - @k as a key of the stack's flow table.
 */
static struct ns_fkey fkey(const struct tcp_key *k)
{
    return (struct ns_fkey){ .guest = k->guest, .peer = k->dst, .guest_port = k->guest_port,
                             .peer_port = k->dst_port, .kind = NS_FK_TCP };
}

/**
 * key_of() - the four-tuple of lwIP's @pcb, as the guest sees it.
 */
static void key_of(const struct tcp_pcb *pcb, struct tcp_key *k)
{
    ns_lwip_from_addr(&pcb->remote_ip, &k->guest);
    ns_lwip_from_addr(&pcb->local_ip, &k->dst);
    k->guest_port = pcb->remote_port;
    k->dst_port = pcb->local_port;
}

/**
 * lookup() - the flow for @k, NULL if none.
 */
static struct tcp_flow *lookup(struct netstack *ns, const struct tcp_key *k)
{
    struct ns_fkey key = fkey(k);
    struct ns_fnode *n = ns_findex_find(ns, &key);

    return n ? ns_fnode_container(n, struct tcp_flow, node) : NULL;
}

/**
 * half_open_add() - @f starts a handshake: the newest on the half-open FIFO.
 */
static void half_open_add(struct ns_tcp_nat *t, struct tcp_flow *f)
{
    f->half_open = 1;
    f->ho_next = NULL;
    f->ho_prev = t->ho_newest;
    if (t->ho_newest)
        t->ho_newest->ho_next = f;
    else
        t->ho_oldest = f;
    t->ho_newest = f;
}

/**
 * half_open_del() - @f's handshake is over (or @f goes): off the FIFO.
 */
static void half_open_del(struct ns_tcp_nat *t, struct tcp_flow *f)
{
    if (!f->half_open)
        return;
    if (f->ho_prev)
        f->ho_prev->ho_next = f->ho_next;
    else
        t->ho_oldest = f->ho_next;
    if (f->ho_next)
        f->ho_next->ho_prev = f->ho_prev;
    else
        t->ho_newest = f->ho_prev;
    f->half_open = 0;
}

/**
 * accepting_begins() - @f waits in FLOW_ACCEPTING: its port's listener is in use.
 */
static void accepting_begins(struct ns_tcp_nat *t, struct tcp_flow *f)
{
    t->accepting++;
    t->listener_users[f->key.dst_port]++;
}

/**
 * accepting_ends() - @f leaves FLOW_ACCEPTING; an unused listener starts idling.
 */
static void accepting_ends(struct ns_tcp_nat *t, struct tcp_flow *f)
{
    t->accepting--;
    if (!--t->listener_users[f->key.dst_port])
        t->listener_idle_ms[f->key.dst_port] = (uint32_t)ns_now_ms();
}

/**
 * flow_new() - a flow in FLOW_CONNECTING, linked in. NULL on ENOMEM.
 */
static struct tcp_flow *flow_new(struct netstack *ns, const struct tcp_key *k)
{
    struct ns_tcp_nat *t = ns->tcp_nat;
    struct tcp_flow *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    f->key = *k;
    f->fd = -1;
    f->ns = ns;
    f->state = FLOW_CONNECTING;
    f->since_ms = f->created_ms = ns_now_ms();
    f->node.key = fkey(k);
    ns_findex_insert(ns, &f->node);
    f->next = t->all;
    if (t->all)
        t->all->prev = f;
    t->all = f;
    t->count++;
    t->connecting++;
    half_open_add(t, f);
    return f;
}

/**
 * unlink_flow() - take @f out of the flow table and of every list.
 */
static void unlink_flow(struct netstack *ns, struct ns_tcp_nat *t, struct tcp_flow *f)
{
    struct tcp_flow **pp;

    ns_findex_remove(ns, &f->node);
    if (f->prev)
        f->prev->next = f->next;
    else
        t->all = f->next;
    if (f->next)
        f->next->prev = f->prev;
    half_open_del(t, f);
    for (pp = &t->paused; f->paused && *pp; pp = &(*pp)->pnext)
        if (*pp == f) {
            *pp = f->pnext;
            break;
        }
    for (pp = &t->dirty; f->dirty && *pp; pp = &(*pp)->dnext)
        if (*pp == f) {
            *pp = f->dnext;
            break;
        }
}

/* --- lwIP's half-open pcbs, one per ACCEPTING flow ----------------------- */

/**
 * syn_pcb_freed() - destroy callback of a flow's half-open pcb: lwIP let go of it.
 */
static void syn_pcb_freed(u8_t id, void *data)
{
    struct tcp_flow *f = data;

    (void)id;
    f->syn_pcb = NULL;
}

static const struct tcp_ext_arg_callbacks syn_pcb_cbs = { syn_pcb_freed, NULL };

/**
 * release_syn_pcb() - untie @f's half-open pcb from it
 * @abort: and reset it (the guest hears a RST); otherwise lwIP keeps it, to
 *         be freed by the segment it is about to process or accepted
 */
static void release_syn_pcb(struct tcp_flow *f, int abort)
{
    struct tcp_pcb *pcb = f->syn_pcb;

    if (!pcb)
        return;
    f->syn_pcb = NULL;
    ns_pcbs_untag(pcb);
    if (abort)
        tcp_abort(pcb);
}

/**
 * nat_admit() - passive_open callback of the NAT's listeners: a SYN is about
 * to be answered. Only the SYN a flow replays once its host side is
 * connected may be (any other would make a pcb no flow owns); its pcb is tied
 * to the flow, so that giving up the flow frees the pcb at once.
 */
static err_t nat_admit(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
    struct netstack *ns = lpcb->ext_args[id].data;
    struct tcp_flow *f;
    struct tcp_key k;

    key_of(cpcb, &k);
    f = lookup(ns, &k);

    if (!f || f->state != FLOW_ACCEPTING || f->syn_pcb)
        return ERR_VAL;     /* lwIP frees @cpcb and answers nothing */
    f->syn_pcb = cpcb;
    tcp_ext_arg_set_callbacks(cpcb, id, &syn_pcb_cbs);
    tcp_ext_arg_set(cpcb, id, f);
    return ERR_OK;
}

static const struct tcp_ext_arg_callbacks nat_listen_cbs = { NULL, nat_admit };

/**
 * ns_tcp_flow_free() - forget a flow and close its host socket
 * @reset_host: close with SO_LINGER {1, 0}, so the host peer gets a RST
 *
 * The lwIP pcb, if any, must already be detached or gone: see tcp_relay.c.
 */
void ns_tcp_flow_free(struct netstack *ns, struct tcp_flow *f, int reset_host)
{
    struct ns_tcp_nat *t = ns->tcp_nat;

    release_syn_pcb(f, 1);
    unlink_flow(ns, t, f);
    t->count--;
    if (f->state == FLOW_CONNECTING)
        t->connecting--;
    else if (f->state == FLOW_ACCEPTING)
        accepting_ends(t, f);
    if (f->fd >= 0) {
        if (f->events)
            ns_loop_forget(&ns->loop, f->fd);   /* close() below takes it out of epoll */
        if (reset_host) {
            struct linger lg = { .l_onoff = 1, .l_linger = 0 };

            setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(f->fd);
    }
    if (f->to_host)
        pbuf_free(f->to_host);
    ns_tcp_relay_uncharge(ns, f);
    ns_sendq_free(f);   /* every caller has released the pcb, or never had one */
    free(f->syn);
    free(f);
}

/* --- Answers to the guest for a connect that failed -------------------- */

/**
 * send_rst() - refuse the guest's SYN with seq @seq, as a closed port does.
 */
static void send_rst(struct netstack *ns, const struct tcp_key *k, uint32_t seq)
{
    ns_lwip_send_rst(&k->dst, k->dst_port, &k->guest, k->guest_port, seq + 1);
}

/**
 * send_unreachable() - ICMP destination unreachable for the held SYN (RFC 792:
 * the original IP header and the first 8 bytes of its payload), from the
 * gateway, as a router on the path would send it; over IPv6 its ICMPv6 twin
 * (RFC 4443, quoting as much of the SYN as fits).
 * @code: the ICMP code; @code6 the ICMPv6 one
 */
static void send_unreachable(struct netstack *ns, const struct tcp_flow *f, uint8_t code,
                             uint8_t code6)
{
    if (ns_ip6_is_mapped4(&f->key.guest))
        ns_icmp_send_error(&ns->link, ns_ip6_get4(&f->key.guest), ICMP_UNREACH, code, f->syn,
                           f->syn_len);
    else
        ns_icmp6_send_error(&ns->link, &f->key.guest, ICMP6_DST_UNREACH, code6, 0, f->syn, f->syn_len);
}

/**
 * key_dst_str() - @k's destination as text, in its own family's notation.
 */
static const char *key_dst_str(const struct tcp_key *k, char *buf, size_t len)
{
    struct in_addr a4 = { htonl(ns_ip6_get4(&k->dst)) };

    if (ns_ip6_is_mapped4(&k->dst))
        return inet_ntop(AF_INET, &a4, buf, (socklen_t)len);
    return inet_ntop(AF_INET6, &k->dst, buf, (socklen_t)len);
}

/**
 * syn_seq() - the sequence number of the guest's SYN.
 */
static uint32_t syn_seq(const struct tcp_flow *f)
{
    return f->isn;
}

/**
 * connect_failed() - tell the guest what the host's connect() said, then forget
 * the flow
 * @err: the errno of the connect
 */
static void connect_failed(struct netstack *ns, struct tcp_flow *f, int err)
{
    char dst[INET6_ADDRSTRLEN];

    switch (err) {
    case ENETUNREACH:
        send_unreachable(ns, f, ICMP_UNREACH_NET, ICMP6_DST_UNREACH_NOROUTE);
        NS_COUNT(ns, tcp_unreachable);
        break;
    case EHOSTUNREACH:
    case EHOSTDOWN:
        send_unreachable(ns, f, ICMP_UNREACH_HOST, ICMP6_DST_UNREACH_ADDR);
        NS_COUNT(ns, tcp_unreachable);
        break;
    case EACCES:
    case EPERM:
        send_unreachable(ns, f, ICMP_UNREACH_ADMIN, ICMP6_DST_UNREACH_ADMIN);
        NS_COUNT(ns, tcp_unreachable);
        break;
    case ETIMEDOUT:
        NS_COUNT(ns, tcp_connect_timeouts);     /* silence, as on the wire */
        break;
    default:
        send_rst(ns, &f->key, syn_seq(f));
        NS_COUNT(ns, tcp_refused);
        break;
    }
    ns_log(ns, NETSTACK_LOG_DEBUG, "tcp: connect to %s port %u: %s",
           key_dst_str(&f->key, dst, sizeof(dst)), f->key.dst_port, strerror(err));
    ns_tcp_flow_free(ns, f, 0);
}

/* --- Connect, then accept ---------------------------------------------- */

static void on_host_event(void *opaque, int fd, uint32_t events);

void ns_tcp_flow_watch(struct netstack *ns, struct tcp_flow *f, uint32_t events)
{
    if (events == f->events)
        return;
    /*
     * Not interested means out of the loop entirely: a level-triggered HUP
     * would otherwise wake us forever while reading is paused.
     */
    if (!events)
        ns_loop_del(&ns->loop, f->fd);
    else if (ns_loop_set(&ns->loop, f->fd, events, on_host_event, f) < 0)
        return;
    f->events = events;
}

void ns_tcp_flow_pause(struct netstack *ns, struct tcp_flow *f)
{
    if (f->paused)
        return;
    f->paused = 1;
    f->pnext = ns->tcp_nat->paused;
    ns->tcp_nat->paused = f;
}

/**
 * ns_tcp_flow_mark_dirty() - @f has guest data (or FIN) for the host
 * Writing waits until the whole batch of input frames is processed, so the
 * segments of one batch go out in one writev() instead of one each.
 */
void ns_tcp_flow_mark_dirty(struct netstack *ns, struct tcp_flow *f)
{
    if (f->dirty)
        return;
    f->dirty = 1;
    f->dnext = ns->tcp_nat->dirty;
    ns->tcp_nat->dirty = f;
}

void ns_tcp_nat_flush(struct netstack *ns)
{
    struct ns_tcp_nat *t = ns->tcp_nat;

    while (t && t->dirty) {
        struct tcp_flow *f = t->dirty;

        t->dirty = f->dnext;
        f->dirty = 0;
        ns_tcp_relay_flush(ns, f);
    }
}

/**
 * sweep_listeners() - close the listeners no handshake has used for
 * TCP_LISTENER_IDLE_MS: a guest that scanned the host's ports would
 * otherwise leave one per port, which lwIP walks for every segment it finds
 * no connection for. Another connection to the port makes it again.
 */
static void sweep_listeners(struct ns_tcp_nat *t, uint64_t now_ms)
{
    uint32_t port;

    for (port = 0; port < 65536 && t->nlisteners; port++) {
        if (!t->listener[port] || t->listener_users[port] ||
            (uint32_t)now_ms - t->listener_idle_ms[port] < TCP_LISTENER_IDLE_MS)
            continue;
        tcp_close(t->listener[port]);   /* a listen pcb is freed at once */
        t->listener[port] = NULL;
        t->nlisteners--;
    }
}

/**
 * on_accept() - lwIP completed a handshake: attach the pcb to its flow.
 */
static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct netstack *ns = arg;
    struct tcp_flow *f;
    struct tcp_key k;

    if (!pcb || err != ERR_OK)
        return ERR_VAL;
    key_of(pcb, &k);
    f = lookup(ns, &k);
    if (!f || f->state != FLOW_ACCEPTING || f->syn_pcb != pcb) {
        /* The flow gave up waiting (or never was ours): no host side to relay to. */
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    release_syn_pcb(f, 0);
    half_open_del(ns->tcp_nat, f);
    accepting_ends(ns->tcp_nat, f);
    ns_tcp_relay_attach(ns, f, pcb);
    NS_COUNT(ns, tcp_established);
    return ERR_OK;
}

/**
 * listener() - lwIP's listener for destination @port, made on first use.
 */
static struct tcp_pcb *listener(struct netstack *ns, uint16_t port)
{
    struct ns_tcp_nat *t = ns->tcp_nat;
    struct tcp_pcb *pcb, *lpcb;

    if (t->listener[port])
        return t->listener[port];
    pcb = tcp_new();
    if (!pcb)
        return NULL;
    ip_set_option(pcb, SOF_REUSEADDR);
    if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
        tcp_close(pcb);
        return NULL;
    }
    lpcb = tcp_listen(pcb);
    if (!lpcb) {
        tcp_close(pcb);
        return NULL;
    }
    tcp_arg(lpcb, ns);
    tcp_accept(lpcb, on_accept);
    tcp_ext_arg_set_callbacks(lpcb, ns_pcbs_ext_id(), &nat_listen_cbs);
    tcp_ext_arg_set(lpcb, ns_pcbs_ext_id(), ns);
    t->listener[port] = lpcb;
    t->nlisteners++;
    return lpcb;
}

/**
 * forget_time_wait() - drop lwIP's TIME_WAIT pcb for @k, if any
 * A guest that reuses its port gets a fresh connection on the host; the old
 * pcb would answer the new SYN with a RST or a bare ACK (RFC 793), while the
 * guest's own stack already decided the reuse is safe (RFC 6191).
 */
static void forget_time_wait(const struct tcp_key *k)
{
    ns_lwip_forget_time_wait(&k->dst, k->dst_port, &k->guest, k->guest_port);
}

/**
 * replay_syn() - hand the held SYN to lwIP now that the host side is connected.
 */
static void replay_syn(struct netstack *ns, struct tcp_flow *f)
{
    struct ns_tcp_seg seg = {
        .src = f->key.guest, .dst = f->key.dst, .v6 = !ns_ip6_is_mapped4(&f->key.guest),
        .hdr = f->syn, .hdr_len = f->syn_hlen,
        .payload = f->syn + f->syn_hlen, .payload_len = f->syn_len - f->syn_hlen,
    };

    ns_tcp_input(ns, &seg);
}

/**
 * connected() - the host connect() succeeded: let lwIP answer the guest.
 */
static void connected(struct netstack *ns, struct tcp_flow *f)
{
    if (!listener(ns, f->key.dst_port)) {
        NS_COUNT(ns, drop_no_memory);
        send_rst(ns, &f->key, syn_seq(f));
        ns_tcp_flow_free(ns, f, 1);
        return;
    }
    forget_time_wait(&f->key);
    ns_tcp_flow_watch(ns, f, 0);        /* not read until lwIP accepts */
    ns->tcp_nat->connecting--;
    accepting_begins(ns->tcp_nat, f);
    f->state = FLOW_ACCEPTING;
    f->since_ms = ns_now_ms();
    replay_syn(ns, f);
    free(f->syn);   /* lwIP has it now; the retransmits are lwIP's to answer */
    f->syn = NULL;
}

/**
 * connect_done() - the host socket became writable or failed while connecting.
 */
static void connect_done(struct netstack *ns, struct tcp_flow *f)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == EINPROGRESS || err == EALREADY)
        return;
    if (err)
        connect_failed(ns, f, err);
    else
        connected(ns, f);
}

/**
 * on_host_event() - the loop's callback for every host TCP socket.
 */
static void on_host_event(void *opaque, int fd, uint32_t events)
{
    struct tcp_flow *f = opaque;

    if (f->state == FLOW_CONNECTING)
        connect_done(f->ns, f);
    else if (f->state == FLOW_RELAYING)
        ns_tcp_relay_host_ready(f->ns, f, events);
}

/**
 * refuse() - answer a SYN with a RST and count why.
 */
static void refuse(struct netstack *ns, const struct tcp_key *k, uint32_t seq, int limit)
{
    send_rst(ns, k, seq);
    if (limit)
        NS_COUNT(ns, drop_tcp_limit);
    else
        NS_COUNT(ns, drop_tcp_destination);
}

/**
 * hold_syn() - keep a copy of the SYN datagram. Return: 0, -1 on ENOMEM.
 */
static int hold_syn(struct tcp_flow *f, const struct ns_tcp_seg *ip)
{
    f->syn_len = ip->hdr_len + ip->payload_len;
    f->syn_hlen = ip->hdr_len;
    f->syn = malloc(f->syn_len);
    if (!f->syn)
        return -1;
    memcpy(f->syn, ip->hdr, ip->hdr_len);
    memcpy(f->syn + ip->hdr_len, ip->payload, ip->payload_len);
    if (ip->v6) {   /* extension headers are not kept: the copy is a packet without them */
        ns_store_be16(f->syn + 4, (uint16_t)ip->payload_len);
        f->syn[6] = IPPROTO_TCP;
    }
    f->isn = ns_load_be32(ip->payload + 4);     /* parse_seg() read this far */
    return 0;
}

/**
 * out_of_fds() - socket() failed for lack of descriptors: say so once.
 */
static void out_of_fds(struct netstack *ns, int err)
{
    if (!ns->tcp_nat->warned_fds)
        ns_log(ns, NETSTACK_LOG_WARN, "tcp: cannot open host sockets (%s): refusing new "
               "connections until some close", strerror(err));
    ns->tcp_nat->warned_fds = 1;
}

/**
 * evict_half_open() - make room for a new handshake: the oldest one the guest
 * has not completed is refused with a RST, as a SYN queue that drops its
 * oldest entry would. A SYN flood then costs the flows it made, not the
 * connections a well-behaved guest opens while it lasts.
 */
static void evict_half_open(struct netstack *ns, struct tcp_flow *f)
{
    NS_COUNT(ns, drop_tcp_half_open);
    if (!f->syn_pcb)
        send_rst(ns, &f->key, syn_seq(f));
    ns_tcp_flow_free(ns, f, 1);     /* a half-open pcb is reset as it goes */
}

/**
 * begin_connect() - a new SYN: start the host connect(), or refuse.
 */
static void begin_connect(struct netstack *ns, const struct ns_tcp_seg *ip,
                          const struct tcp_key *k, uint32_t seq)
{
    struct ns_tcp_nat *t = ns->tcp_nat;
    union ns_sockaddr sa;
    struct tcp_flow *f;
    socklen_t salen;
    int fd;

    if (ns_nat_to_host_addr(ns, &k->dst, k->dst_port, &sa, &salen)) {
        refuse(ns, k, seq, 0);
        return;
    }
    if (t->count >= ns->cfg.max_tcp_connections ||
        t->connecting >= ns->cfg.max_pending_connects) {
        refuse(ns, k, seq, 1);
        return;
    }
    /* The gateway's listeners' handshakes count too (tcp_pcbs.c). */
    if (t->connecting + t->accepting + ns_pcbs_half_open(ns) >= ns->cfg.max_tcp_half_open &&
        t->ho_oldest)
        evict_half_open(ns, t->ho_oldest);
    fd = ns_nat_tcp_socket(sa.sa.sa_family);
    if (fd < 0) {
        if (fd == -EMFILE || fd == -ENFILE)
            out_of_fds(ns, -fd);
        refuse(ns, k, seq, 1);
        return;
    }
    f = flow_new(ns, k);
    if (!f || hold_syn(f, ip)) {
        close(fd);
        if (f)
            ns_tcp_flow_free(ns, f, 0);
        NS_COUNT(ns, drop_no_memory);
        return;
    }
    f->fd = fd;
    NS_COUNT(ns, tcp_connects);
    if (connect(fd, &sa.sa, salen) == 0)
        connected(ns, f);
    else if (errno != EINPROGRESS)
        connect_failed(ns, f, errno);
    else
        ns_tcp_flow_watch(ns, f, NETSTACK_EV_OUT);
}

/**
 * borrowable() - may lwIP get this segment's payload by reference?
 * Only a relayed flow's next in-order segment, whose payload lies in the
 * input frame: lwIP hands such data straight to the recv callback and keeps
 * nothing (an out-of-order segment would sit in its ooseq queue past the
 * batch). Small payloads are cheaper copied.
 */
static int borrowable(const struct tcp_flow *f, const struct ns_tcp_seg *ip,
                      const struct seg_info *s)
{
    return f->state == FLOW_RELAYING && f->pcb && ip->in_frame &&
           ip->payload_len - s->hlen >= TCP_BORROW_MIN && s->seq == f->pcb->rcv_nxt;
}

/**
 * for_gateway_dns() - is @ip for the stack's DNS server (either family)?
 */
static int for_gateway_dns(const struct netstack *ns, const struct ns_tcp_seg *ip, uint16_t port)
{
    if (port != NS_DNS_PORT || ns->link.no_dns)
        return 0;
    return ip->v6 ? ns_ip6_equal(&ip->dst, &ns->link.dns6)
                  : ns_ip6_get4(&ip->dst) == ns->link.dns;
}

void ns_tcp_nat_input(struct netstack *ns, const struct ns_tcp_seg *ip)
{
    struct tcp_flow *f;
    struct seg_info s;
    struct tcp_key k;

    if (parse_seg(ip, &s)) {
        NS_COUNT(ns, drop_tcp_malformed);
        return;
    }
    if (!ip->v6 && !ns_ip6_get4(&ip->src)) {  /* 0.0.0.0 is only for DHCP (udp.c) */
        NS_COUNT(ns, drop_ipv4_source);
        return;
    }
    if (ip->v6 && ns_ip6_is_mapped4(&ip->dst)) {  /* it would pass for IPv4 in the table */
        NS_COUNT(ns, drop_ipv6_destination);
        return;
    }
    /* lwIP verifies no checksum (port/lwipopts.h): this is the only check. */
    if (!ip->csum_trusted && !checksum_ok(ip)) {
        NS_COUNT(ns, tcp_in);
        NS_COUNT(ns, drop_tcp_checksum);
        return;
    }
    k = (struct tcp_key){ ip->src, ip->dst, s.sport, s.dport };
    f = lookup(ns, &k);
    if (f && f->state == FLOW_CONNECTING) {
        if (s.flags & TCP_FLAG_RST)     /* the guest gave up: so do we */
            ns_tcp_flow_free(ns, f, 0);
        return;                         /* SYN retransmits are absorbed */
    }
    if (f && f->state == FLOW_ACCEPTING && (s.flags & TCP_FLAG_RST)) {
        /*
         * lwIP drops a half-open pcb on a RST without a callback (its error
         * callback is only set on accept), so the host side is let go here;
         * lwIP still gets the RST below to free its pcb.
         */
        release_syn_pcb(f, 0);
        ns_tcp_flow_free(ns, f, 1);
        f = NULL;
    }
    if (for_gateway_dns(ns, ip, s.dport)) {
        ns_tcp_input(ns, ip);       /* DNS over TCP: lwIP's listeners on the gateway's :53 */
        return;
    }
    if (!f && (s.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
        NS_COUNT(ns, tcp_in);
        begin_connect(ns, ip, &k, s.seq);
        return;
    }
    if (f && f->state == FLOW_RELAYING && ip->payload_len > s.hlen &&
        ns_tcp_relay_over_budget(ns, f)) {
        /* Its host peer is not reading and memory is at its limit: TCP resends it. */
        NS_COUNT(ns, tcp_in);
        NS_COUNT(ns, drop_tcp_memory);
        return;
    }
    if (f && borrowable(f, ip, &s)) {
        ns_tcp_flow_mark_dirty(ns, f);  /* the relay's flush copies what it keeps */
        f->borrowed = 1;
        ns_tcp_input_borrow(ns, ip, ip->payload_len - s.hlen);
        return;
    }
    ns_tcp_input(ns, ip);
}

int ns_tcp_nat_adopt(struct netstack *ns, const struct tcp_key *k, int fd, struct tcp_pcb *pcb,
                     uint32_t forward_id)
{
    struct tcp_flow *f;

    if (lookup(ns, k))
        return -EEXIST;
    f = flow_new(ns, k);
    if (!f)
        return -ENOMEM;
    ns->tcp_nat->connecting--;      /* flow_new() counts a connect; this one is done */
    half_open_del(ns->tcp_nat, f);
    f->fd = fd;
    f->forward_id = forward_id;
    NS_COUNT(ns, tcp_established);
    ns_tcp_relay_attach(ns, f, pcb);
    return 0;
}

uint16_t ns_tcp_nat_guest_mss(struct netstack *ns, const struct in6_addr *guest,
                              uint16_t guest_port, const struct in6_addr *peer,
                              uint16_t peer_port)
{
    struct tcp_key k = { *guest, *peer, guest_port, peer_port };
    struct tcp_flow *f = ns->tcp_nat ? lookup(ns, &k) : NULL;

    return f ? f->guest_mss : 0;
}

size_t ns_tcp_nat_half_open(const struct netstack *ns)
{
    return ns->tcp_nat ? ns->tcp_nat->connecting + ns->tcp_nat->accepting : 0;
}

int ns_tcp_nat_full(const struct netstack *ns)
{
    return ns->tcp_nat->count >= ns->cfg.max_tcp_connections;
}

/* --- Timers and lifecycle ---------------------------------------------- */

/**
 * expired() - has @f waited too long in its state?
 */
static int expired(const struct netstack *ns, const struct tcp_flow *f, uint64_t now)
{
    if (f->state == FLOW_ACCEPTING)
        return now - f->since_ms >= TCP_ACCEPT_TIMEOUT_MS;
    if (f->state == FLOW_RELAYING && ns->cfg.tcp_idle_timeout_ms)
        return now - f->since_ms >= ns->cfg.tcp_idle_timeout_ms;
    return 0;       /* a connect runs until the host's own timeout */
}

void ns_tcp_nat_timers(struct netstack *ns, uint64_t now_ms)
{
    struct ns_tcp_nat *t = ns->tcp_nat;
    struct tcp_flow *f, *next;

    if (now_ms - t->last_tick_ms < TCP_TICK_MS || ns_tcp_nat_next_timeout(ns, now_ms) < 0)
        return;
    t->last_tick_ms = now_ms;
    sweep_listeners(t, now_ms);
    for (f = t->all; f; f = next) {
        next = f->next;
        if (!expired(ns, f, now_ms))
            continue;
        if (f->state == FLOW_ACCEPTING)
            ns_tcp_flow_free(ns, f, 1);
        else
            ns_tcp_relay_abort(ns, f);
    }
}

int ns_tcp_nat_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    struct ns_tcp_nat *t = ns->tcp_nat;
    uint64_t due = t->last_tick_ms + TCP_TICK_MS;

    if (!t->accepting && !t->nlisteners && !(ns->cfg.tcp_idle_timeout_ms && t->count))
        return -1;
    return due > now_ms ? (int)(due - now_ms) : 0;
}

void ns_tcp_nat_resume(struct netstack *ns)
{
    struct ns_tcp_nat *t = ns->tcp_nat;

    while (t->paused && !ns_tx_blocked(&ns->tx) && !ns_sendq_full(ns)) {
        struct tcp_flow *f = t->paused;

        t->paused = f->pnext;
        f->paused = 0;
        ns_tcp_relay_rewatch(ns, f);
    }
}

int ns_tcp_nat_start(struct netstack *ns)
{
    struct ns_tcp_nat *t = calloc(1, sizeof(*t));

    if (!t)
        return -ENOMEM;
    /* Large, but calloc()'s fresh pages cost nothing until a port is used. */
    t->listener = calloc(65536, sizeof(*t->listener));
    t->listener_users = calloc(65536, sizeof(*t->listener_users));
    t->listener_idle_ms = calloc(65536, sizeof(*t->listener_idle_ms));
    if (!t->listener || !t->listener_users || !t->listener_idle_ms) {
        free(t->listener);
        free(t->listener_users);
        free(t->listener_idle_ms);
        free(t);
        return -ENOMEM;
    }
    ns->tcp_nat = t;
    return 0;
}

void ns_tcp_nat_guest_gone(struct netstack *ns)
{
    struct ns_tcp_nat *t = ns->tcp_nat;

    while (t && t->all) {
        if (t->all->state == FLOW_RELAYING)
            ns_tcp_relay_abort(ns, t->all);
        else
            ns_tcp_flow_free(ns, t->all, 1);
    }
}

void ns_tcp_nat_stop(struct netstack *ns)
{
    struct ns_tcp_nat *t = ns->tcp_nat;

    if (!t)
        return;
    ns_tcp_nat_guest_gone(ns);
    /* Listeners are lwIP's pcbs: ns_lwip_stop() closes them with the rest. */
    free(t->listener);
    free(t->listener_users);
    free(t->listener_idle_ms);
    free(t);
    ns->tcp_nat = NULL;
}
