/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_relay.c - bytes, FIN and RST between an lwIP pcb and its host socket
 *
 * Theory of Operation: once lwIP has accepted the guest's connection, each
 * direction is a pipe with no buffer of its own beyond what TCP already has:
 * - guest to host: lwIP's recv callback hands over pbufs; they are written to
 *   the host socket with one writev once 64 KiB are queued or the batch of
 *   input frames ends (not one syscall per small segment), and tcp_recved()
 *   is called only for what the host socket took. Whatever it did not take
 *   stays queued (@to_host) and the guest's window closes by itself: a slow
 *   host peer slows the guest down.
 * - host to guest: the host socket is read only when lwIP's send buffer has
 *   room (tcp_sndbuf), at most that much, and only while the transport is not
 *   pushing back (ns_tx_blocked); otherwise reading stops and resumes from
 *   lwIP's sent callback or netstack_output_ready(). A slow guest stops reads.
 *   The bytes are read into chunks that lwIP references instead of copying
 *   (tcp_sendq.c), so a flow is only finished once the guest has acknowledged
 *   all of them.
 * - FIN: the guest's FIN becomes shutdown(SHUT_WR) once its data is written;
 *   end of stream from the host becomes tcp_shutdown(pcb, 0, 1) once lwIP has
 *   queued the data before it. When both are done the flow is freed, the host
 *   socket closed, and lwIP completes the FIN exchange by itself.
 * - RST: a reset from the guest (lwIP's err callback) closes the host socket
 *   with SO_LINGER {1, 0}, which resets the host peer; a reset or error on the
 *   host socket aborts the pcb, which resets the guest. lwIP's callbacks are
 *   cleared before tcp_abort() so no callback runs on a freed flow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#include "ethernet/ipv6.h"
#include "netstack/bufcache.h"
#include "netstack/lwip_glue.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/tcp_flow.h"
#include "netstack/tcp_pcbs.h"

#define RELAY_IOV       64      /* pbufs per writev() */
/*
 * Guest segments this small are copied into a shared pbuf instead of being
 * queued one pbuf each: a guest sending 1-byte segments to a peer that does
 * not read would otherwise hold a hundred bytes of heap per byte of window.
 * The room fills one 2 KiB block of the buffer cache.
 */
#define COALESCE_MAX    1024
#define COALESCE_ROOM   1900
#define FLOW_QUEUE_MAX  (2u * TCP_WND)  /* memory per flow's queue: worst-case pbufs */
#define RELAY_READS     8       /* reads per wakeup: fairness among flows */
#define RELAY_WRITE_MIN 65536   /* guest bytes worth a writev before the batch ends */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static void on_err(void *arg, err_t err);

/**
 * detach() - clear the pcb's callbacks: no lwIP callback reaches @f after this.
 */
static void detach(struct tcp_flow *f)
{
    if (!f->pcb)
        return;
    tcp_arg(f->pcb, NULL);
    tcp_recv(f->pcb, NULL);
    tcp_sent(f->pcb, NULL);
    tcp_err(f->pcb, NULL);
}

void ns_tcp_relay_rewatch(struct netstack *ns, struct tcp_flow *f)
{
    uint32_t ev = 0;

    if (f->state != FLOW_RELAYING)
        return;
    if (!f->host_fin && !f->paused && !f->sndbuf_wait && !f->unpushed)
        ev |= NETSTACK_EV_IN;
    if (f->to_host && !f->shut_host)
        ev |= NETSTACK_EV_OUT;
    ns_tcp_flow_watch(ns, f, ev);
}

/**
 * super_segments() - let @pcb send segments of up to 64 KiB from now on
 * lwIP sizes segments by pcb->mss alone, which it took from the guest's MSS
 * option; a multiple of it is used instead and the guest's own is kept in
 * @f->guest_mss, to which tcp_xmit.c cuts every segment (or hands it to a
 * TSO link whole). lwIP still never builds a segment larger than half the
 * guest's largest window (tcp_write()), so a small receive buffer in the
 * guest only makes segments smaller. Nagle's rule is off: with a 64 KiB
 * "MSS" it would hold back every partial segment for an ACK, and the host
 * application already decided when to push its bytes.
 */
static void super_segments(struct tcp_flow *f, struct tcp_pcb *pcb)
{
    size_t max = ns_ip6_is_mapped4(&f->key.guest) ? NS_TCP_SUPER_MAX : NS_TCP_SUPER_MAX6;

    tcp_nagle_disable(pcb);
    if (pcb->mss < NS_TCP_MSS_MIN) {
        /* Small segments: keep lwIP's queues short (see port/lwipopts.h). */
        if (pcb->snd_buf > 256u * pcb->mss)
            pcb->snd_buf = (tcpwnd_size_t)(256u * pcb->mss);
        return;
    }
    if (2u * pcb->mss > max)
        return;
    f->guest_mss = pcb->mss;
    pcb->mss = (u16_t)(max / pcb->mss * pcb->mss);
    /*
     * tcp_output() sends nothing that does not fit the congestion window, and
     * with nothing in flight no ACK would come to open it: start it at what
     * lwIP gives a new connection of this MSS (RFC 3390's four segments).
     */
    if (pcb->cwnd < 4u * pcb->mss)
        pcb->cwnd = 4u * pcb->mss;
}

void ns_tcp_relay_attach(struct netstack *ns, struct tcp_flow *f, struct tcp_pcb *pcb)
{
    super_segments(f, pcb);
    f->pcb = pcb;
    f->state = FLOW_RELAYING;
    f->since_ms = ns_now_ms();
    tcp_arg(pcb, f);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    ip_set_option(pcb, SOF_KEEPALIVE);
    ns_tcp_relay_rewatch(ns, f);
}

/**
 * ns_tcp_relay_abort() - reset both sides and forget the flow
 * (host error, idle timeout, the guest went away).
 */
void ns_tcp_relay_abort(struct netstack *ns, struct tcp_flow *f)
{
    struct tcp_pcb *pcb = f->pcb;

    detach(f);
    f->pcb = NULL;
    if (pcb)
        tcp_abort(pcb);
    ns_tcp_flow_free(ns, f, 1);
}

/**
 * recved() - open lwIP's receive window by @n bytes (tcp_recved takes u16).
 */
static void recved(struct tcp_pcb *pcb, size_t n)
{
    while (n) {
        u16_t step = n > 0xffff ? 0xffff : (u16_t)n;

        tcp_recved(pcb, step);
        n -= step;
    }
}

/**
 * charge() - @f's queue holds @delta more bytes of memory (fewer if negative).
 */
static void charge(struct netstack *ns, struct tcp_flow *f, ssize_t delta)
{
    f->to_host_cost += (size_t)delta;
    ns->tcp_nat->queued_cost += (size_t)delta;
}

/**
 * chain_cost() - the memory pbufs @p and those after it hold.
 */
static size_t chain_cost(const struct pbuf *p)
{
    size_t cost = 0;

    for (; p; p = p->next)
        cost += ns_buf_size(p);
    return cost;
}

int ns_tcp_relay_over_budget(const struct netstack *ns, const struct tcp_flow *f)
{
    if (!f->to_host)
        return 0;
    return f->to_host_cost >= FLOW_QUEUE_MAX ||
           ns->tcp_nat->queued_cost >= ns->cfg.max_tcp_queued_bytes;
}

void ns_tcp_relay_uncharge(struct netstack *ns, struct tcp_flow *f)
{
    charge(ns, f, -(ssize_t)f->to_host_cost);
}

/**
 * consume() - drop @n written bytes from the front of @f->to_host.
 */
static void consume(struct netstack *ns, struct tcp_flow *f, size_t n)
{
    f->to_host_len -= n;
    while (n && f->to_host) {
        struct pbuf *q = f->to_host;

        if (n < q->len) {
            pbuf_remove_header(q, n);
            return;
        }
        n -= q->len;
        f->to_host = q->next;
        q->next = NULL;         /* free this pbuf alone */
        if (q == f->coal)
            f->coal = NULL;
        charge(ns, f, -(ssize_t)ns_buf_size(q));
        pbuf_free(q);
    }
    if (!f->to_host)
        f->to_host_tail = NULL;
}

/**
 * append() - put lwIP's pbuf chain @p at the end of @f->to_host.
 */
static void append(struct netstack *ns, struct tcp_flow *f, struct pbuf *p)
{
    f->to_host_len += p->tot_len;
    charge(ns, f, (ssize_t)chain_cost(p));
    if (f->to_host)
        f->to_host_tail->next = p;
    else
        f->to_host = p;
    while (p->next)
        p = p->next;
    f->to_host_tail = p;
}

/**
 * coalesce() - copy the small chain @p into the coalescing pbuf at the end of
 * @f->to_host (a new one when there is none or it is full), and free @p
 * Return: 1 done, 0 without memory for a new one (queue @p as it is).
 */
static int coalesce(struct netstack *ns, struct tcp_flow *f, struct pbuf *p)
{
    struct pbuf *c = f->coal;

    if (!c || f->coal_end - ((uint8_t *)c->payload + c->len) < (ptrdiff_t)p->tot_len) {
        c = pbuf_alloc(PBUF_RAW, COALESCE_ROOM, PBUF_RAM);
        if (!c)
            return 0;
        f->coal_end = (uint8_t *)c->payload + COALESCE_ROOM;
        c->len = c->tot_len = 0;
        append(ns, f, c);
        f->coal = c;
    }
    pbuf_copy_partial(p, (uint8_t *)c->payload + c->len, p->tot_len, 0);
    c->len = (u16_t)(c->len + p->tot_len);
    c->tot_len = c->len;
    f->to_host_len += p->tot_len;
    pbuf_free(p);
    return 1;
}

/**
 * queue_to_host() - queue lwIP's pbuf chain @p for the host, charged for its memory.
 */
static void queue_to_host(struct netstack *ns, struct tcp_flow *f, struct pbuf *p)
{
    if (p->tot_len <= COALESCE_MAX && coalesce(ns, f, p))
        return;
    f->coal = NULL;     /* @p goes after it: nothing more may be copied in there */
    append(ns, f, p);
}

/**
 * flush_to_host() - write queued guest data to the host socket
 * Return: 0 (all written, or the socket is full), -errno when the host side failed.
 */
static int flush_to_host(struct netstack *ns, struct tcp_flow *f)
{
    while (f->to_host) {
        struct iovec iov[RELAY_IOV];
        struct pbuf *q;
        int n = 0;
        ssize_t w;

        for (q = f->to_host; q && n < RELAY_IOV; q = q->next)
            if (q->len)
                iov[n++] = (struct iovec){ q->payload, q->len };
        w = writev(f->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w < 0)
            return -errno;
        consume(ns, f, (size_t)w);
        if (f->pcb)             /* NULL: the guest's side is closed, see on_recv() */
            recved(f->pcb, (size_t)w);
        NS_COUNT_N(ns, tcp_bytes_to_host, (uint64_t)w);
        f->bytes_to_host += (uint64_t)w;
    }
    if (!f->to_host && f->guest_fin && !f->shut_host) {
        shutdown(f->fd, SHUT_WR);
        f->shut_host = 1;
    }
    return 0;
}

/**
 * fin_to_guest() - the host peer closed: send FIN once the data before it is queued.
 */
static void fin_to_guest(struct tcp_flow *f)
{
    if (f->host_fin && !f->fin_sent && !f->unpushed && tcp_shutdown(f->pcb, 0, 1) == ERR_OK)
        f->fin_sent = 1;
}

/**
 * finish() - free the flow once both directions are closed and drained
 * Return: 0 if the flow goes on, 1 if it is gone and lwIP finishes the pcb,
 * -1 if it is gone and the pcb had to be aborted (an lwIP callback must then
 * return ERR_ABRT). Either way the caller must not touch @f again.
 */
static int finish(struct netstack *ns, struct tcp_flow *f)
{
    struct tcp_pcb *pcb = f->pcb;
    int rc = 1;

    if (!f->guest_fin || !f->fin_sent || f->to_host || f->sendq || !f->shut_host)
        return 0;       /* f->sendq: lwIP still points into it until the guest acks */
    detach(f);
    f->pcb = NULL;
    /* The window is fully open (all data recved), so close sends no RST. */
    if (pcb && ns_pcbs_close(ns, pcb) < 0)
        rc = -1;
    ns_tcp_flow_free(ns, f, 0);
    return rc;
}

/**
 * read_from_host() - move host data into lwIP while it has room
 * Return: 0, or -errno when the host connection failed (the caller resets).
 */
static int read_from_host(struct netstack *ns, struct tcp_flow *f)
{
    int i;

    for (i = 0; i < RELAY_READS && !f->host_fin; i++) {
        size_t room = tcp_sndbuf(f->pcb);
        ssize_t n;

        if (ns_tx_blocked(&ns->tx)) {
            ns_tcp_flow_pause(ns, f);
            break;
        }
        if (ns_sendq_full(ns)) {    /* memory for host data is at its limit */
            NS_COUNT(ns, tcp_sendq_full);
            ns_tcp_flow_pause(ns, f);
            break;
        }
        if (f->unpushed || !room) {
            f->sndbuf_wait = 1;     /* on_sent() resumes */
            break;
        }
        n = ns_sendq_read(f, f->fd, room);
        if (n == -EAGAIN)
            break;
        if (n < 0)
            return (int)n;
        f->since_ms = ns_now_ms();
        if (n == 0) {
            f->host_fin = 1;
            fin_to_guest(f);
            break;
        }
        NS_COUNT_N(ns, tcp_bytes_to_guest, (uint64_t)n);
        f->bytes_to_guest += (uint64_t)n;
        ns_sendq_push(f);
    }
    tcp_output(f->pcb);
    return 0;
}

/**
 * host_failed() - the host connection broke (@err): reset the guest and forget the flow.
 */
static void host_failed(struct netstack *ns, struct tcp_flow *f, int err)
{
    if (err == ECONNRESET || err == EPIPE)
        NS_COUNT(ns, tcp_resets_from_host);
    else if (err == ENOMEM)
        NS_COUNT(ns, drop_no_memory);
    ns_tcp_relay_abort(ns, f);
}

void ns_tcp_relay_host_ready(struct netstack *ns, struct tcp_flow *f, uint32_t events)
{
    int rc = 0;

    if (events & NETSTACK_EV_OUT)
        rc = flush_to_host(ns, f);
    if (!rc && (events & (NETSTACK_EV_IN | NETSTACK_EV_HUP | NETSTACK_EV_ERR)) && !f->host_fin)
        rc = read_from_host(ns, f);
    if (rc) {
        host_failed(ns, f, -rc);
        return;
    }
    if (finish(ns, f) == 0)
        ns_tcp_relay_rewatch(ns, f);
}

/**
 * settle() - after an lwIP callback: finish or rewatch. Return: what the callback returns.
 */
static err_t settle(struct netstack *ns, struct tcp_flow *f)
{
    int rc = finish(ns, f);

    if (rc == 0)
        ns_tcp_relay_rewatch(ns, f);
    return rc < 0 ? ERR_ABRT : ERR_OK;
}

/**
 * on_recv() - lwIP: data (or FIN, @p NULL) from the guest.
 */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct tcp_flow *f = arg;
    struct netstack *ns = f->ns;
    int rc;

    if (p && err != ERR_OK) {
        pbuf_free(p);
        return ERR_OK;
    }
    f->since_ms = ns_now_ms();
    if (!p)
        f->guest_fin = 1;
    else
        queue_to_host(ns, f, p);
    if (!p && pcb->state == TIME_WAIT) {
        /*
         * Both FINs are through and all our data acknowledged, so lwIP has
         * nothing more to do for this flow, and may free a TIME_WAIT pcb
         * without telling us: let go of it now, while the guest's last bytes
         * are still written to the host socket.
         */
        detach(f);
        f->pcb = NULL;
    }
    if (f->to_host_len < RELAY_WRITE_MIN) {
        ns_tcp_flow_mark_dirty(ns, f);  /* ns_tcp_relay_flush() after the batch */
        return ERR_OK;
    }
    rc = flush_to_host(ns, f);          /* enough for a write of its own now */
    if (rc) {
        host_failed(ns, f, -rc);
        return ERR_ABRT;        /* the pcb was aborted; p was in the freed queue */
    }
    return settle(ns, f);
}

/**
 * ns_tcp_relay_flush() - write what the guest sent during the last input batch
 * Runs outside lwIP's callbacks, so a failure may abort the pcb directly.
 */
void ns_tcp_relay_flush(struct netstack *ns, struct tcp_flow *f)
{
    int rc;

    if (f->state != FLOW_RELAYING)
        return;
    rc = flush_to_host(ns, f);
    if (!rc && f->borrowed) {   /* the frames they point into go away now */
        rc = ns_lwip_own_pbufs(&f->to_host, &f->to_host_tail);
        ns_tcp_relay_uncharge(ns, f);   /* the copies are what is held now */
        charge(ns, f, (ssize_t)chain_cost(f->to_host));
    }
    f->borrowed = 0;
    if (rc) {
        host_failed(ns, f, -rc);
        return;
    }
    if (finish(ns, f) == 0)
        ns_tcp_relay_rewatch(ns, f);
}

/**
 * on_sent() - lwIP: the guest acknowledged data, so the send buffer has room.
 */
static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct tcp_flow *f = arg;
    struct netstack *ns = f->ns;

    f->since_ms = ns_now_ms();
    ns_sendq_acked(f, len);
    ns_sendq_push(f);
    fin_to_guest(f);
    f->sndbuf_wait = 0;
    return settle(ns, f);
}

/**
 * on_err() - lwIP: the pcb is gone (the guest reset it, lwIP gave up, or both FINs are through).
 */
static void on_err(void *arg, err_t err)
{
    struct tcp_flow *f = arg;

    if (!f)
        return;
    f->pcb = NULL;      /* already freed by lwIP */
    if (err == ERR_CLSD && f->guest_fin && f->fin_sent) {
        /*
         * Not a failure: the guest acknowledged our FIN after sending its own
         * (LAST_ACK), and lwIP, whose pcb was only shut down for sending, says
         * so by freeing it. As after TIME_WAIT (on_recv()), the guest's last
         * bytes may still wait for the host socket: write them, then shut it
         * down, instead of resetting the host peer. All our data was
         * acknowledged, and lwIP no longer points into the send queue.
         */
        ns_sendq_free(f);
        if (finish(f->ns, f) == 0)
            ns_tcp_relay_rewatch(f->ns, f);
        return;
    }
    if (err == ERR_RST)
        NS_COUNT(f->ns, tcp_resets_from_guest);
    ns_tcp_flow_free(f->ns, f, 1);
}
