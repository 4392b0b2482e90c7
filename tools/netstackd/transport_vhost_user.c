/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport_vhost_user.c - a vhost-user virtio-net back-end for QEMU (--listen-vhost-user)
 *
 * Theory of Operation
 *
 * QEMU connects to our unix socket and sets the device up in vhost-user
 * messages (vhost_user.c): it shares the guest's RAM as file descriptors we
 * map, and says where the two virtqueues are. From then on frames never
 * cross the socket: the guest driver puts them in the rings in its own
 * memory and kicks an eventfd; we take them from there and write frames to
 * the guest straight into the buffers it posted, then write its call
 * eventfd. QEMU's main loop is not on the data path at all.
 *
 * Queue 1 (transmit, guest to us): a kick wakes vu_drain_tx(), which copies
 * each chain's frame into an arena (the guest could change its memory while
 * the stack parses it, so the stack gets a copy), gives the chain back, and
 * hands up to VU_BATCH frames at a time to netstack_input_batch(). After
 * VU_TX_BUDGET frames it yields to the loop by kicking itself.
 *
 * Queue 0 (receive, us to the guest): each frame and its virtio-net header
 * go into as many posted buffers as they need (VIRTIO_NET_F_MRG_RXBUF; the
 * header says how many). When the guest has posted too few, the frame stays
 * with the stack: backpressure, never a drop TCP would have to recover
 * from; we ask for a kick when buffers come and then call
 * netstack_output_ready().
 *
 * Notifications are suppressed with the event index both ways (virtq.h): a
 * busy link costs no kick or interrupt per frame.
 *
 * Offloads: we offer checksum offload and TSO both ways; what the guest
 * acked becomes the stack's link flags, so super-frames of up to 64 KiB
 * cross the rings whatever the MTU, translated by the same vnet_hdr.c as the
 * tap's. Like the tap, a ring is a memory copy of what the guest's kernel
 * built (NETSTACK_LINK_INTEGRITY).
 *
 * One front-end at a time. When it disconnects (QEMU quit or was killed),
 * everything it gave us is unmapped and closed, the link goes down (every
 * host socket of that guest closes), and the next QEMU is served on the same
 * socket.
 */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tools/netstackd/transport.h"
#include "tools/netstackd/vhost_user.h"
#include "tools/netstackd/vnet_hdr.h"

#define VU_BATCH        64          /* frames per netstack_input_batch() */
#define VU_FRAME_MAX    (NS_VNET_HDR_MRG_LEN + NS_TRANSPORT_FRAME_MAX)
#define VU_ARENA        (1024 * 1024 + VU_FRAME_MAX)
#define VU_TX_BUDGET    256         /* frames taken per wakeup */
#define VU_RX_CHAINS    64          /* buffers one frame to the guest may fill */
#define VU_MSGS         64          /* messages handled per wakeup */
#define VU_LOG_FAILURES 8           /* refused requests logged per connection */

#define BIT(b) (1ull << (b))
#define VU_BASE_FEATURES (BIT(NS_VIRTIO_NET_F_MRG_RXBUF) | BIT(NS_VIRTIO_RING_F_EVENT_IDX) | \
                          BIT(NS_VHOST_USER_F_PROTOCOL_FEATURES) | BIT(NS_VIRTIO_F_VERSION_1) | \
                          BIT(NS_VIRTIO_NET_F_MTU))
#define VU_OFFLOAD_FEATURES (BIT(NS_VIRTIO_NET_F_CSUM) | BIT(NS_VIRTIO_NET_F_GUEST_CSUM) | \
                             BIT(NS_VIRTIO_NET_F_GUEST_TSO4) | BIT(NS_VIRTIO_NET_F_GUEST_TSO6) | \
                             BIT(NS_VIRTIO_NET_F_HOST_TSO4) | BIT(NS_VIRTIO_NET_F_HOST_TSO6))

/**
 * struct vu_transport - a vhost-user transport
 * @base:       shared transport state
 * @listen_fd:  the socket QEMU connects to
 * @conn_fd:    the front-end's connection, -1 when none
 * @file:       the socket file, removed on free
 * @dev:        the device state of the connection
 * @watched:    each queue's kick fd while it is in the stack's loop, else -1
 * @arena:      frames from the guest, copied back to back
 * @batch:      frames for one netstack_input_batch()
 * @elem:       a chain being read (transmit)
 * @rx_elems:   the chains one frame to the guest is being written into
 * @logged:     refused requests logged on this connection
 * @mtu:        the stack's MTU as given to netstackd (0: the default, 65520)
 * @mtu_told:   the MTU QEMU set last, once compared with @mtu
 * @rx_dropped: frames to the guest dropped (larger than every buffer it
 *              could post, or a broken ring)
 * @tx_dropped: frames from the guest dropped (empty or oversized chains)
 */
struct vu_transport {
    struct ns_transport base;
    int listen_fd;
    int conn_fd;
    struct ns_sockfile file;
    struct ns_vu_dev dev;
    int watched[NS_VU_QUEUES];
    uint8_t *arena;
    struct netstack_frame batch[VU_BATCH];
    struct ns_vq_elem elem;
    struct ns_vq_elem *rx_elems;
    unsigned logged;
    unsigned mtu, mtu_told;
    uint64_t rx_dropped, tx_dropped;
};

static struct vu_transport *vu_of(struct ns_transport *t)
{
    return (struct vu_transport *)t;
}

static const char *const queue_name[NS_VU_QUEUES] = { "receive", "transmit" };

/**
 * notify() - write 1 to an eventfd (a kick of our own, or a call to the guest)
 * @fd:     the eventfd; -1 is ignored
 */
static void notify(int fd)
{
    uint64_t one = 1;

    if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return;     /* a closed or full eventfd: the queue's next change sets it again */
}

/**
 * call_guest() - interrupt the guest if it asked for what queue @q published
 * @p:      the transport
 * @q:      the queue
 */
static void call_guest(struct vu_transport *p, unsigned q)
{
    if (ns_vq_need_call(&p->dev.q[q].vq))
        notify(p->dev.q[q].call_fd);
}

/**
 * queue_broken() - the guest broke queue @q's rules: log, count, stop using it
 * @p:      the transport
 * @q:      the queue
 *
 * The queue stays stopped until QEMU sets it up again (a reset of the
 * device, a new driver). The error eventfd tells QEMU, as virtio's "device
 * needs reset" would.
 */
static void queue_broken(struct vu_transport *p, unsigned q)
{
    struct ns_vu_queue *vq = &p->dev.q[q];

    ns_tlog(&p->base, NETSTACK_LOG_WARN, "the guest broke its %s queue (%s): stopped until reset",
            queue_name[q], vq->vq.why ? vq->vq.why : "?");
    ns_transport_count(&p->base, NETSTACK_STAT_drop_transport_ring, 1);
    notify(vq->err_fd);
    if (p->watched[q] >= 0)
        netstack_unwatch(p->base.ns, p->watched[q]);
    p->watched[q] = -1;
}

/**
 * copy_out() - the readable bytes of a chain, into @dst
 * @e:      the chain
 * @dst:    at least @e->out_len bytes
 */
static void copy_out(const struct ns_vq_elem *e, uint8_t *dst)
{
    unsigned i;

    for (i = 0; i < e->n_out; i++) {
        memcpy(dst, e->iov[i].iov_base, e->iov[i].iov_len);
        dst += e->iov[i].iov_len;
    }
}

/**
 * take_frames() - up to a batch of frames from the transmit queue into the arena
 * @p:      the transport
 * @budget: frames still allowed this wakeup, decremented
 * @nb:     set to the frames in p->batch
 *
 * Return: as ns_vq_pop() for the last chain looked at
 */
static int take_frames(struct vu_transport *p, unsigned *budget, size_t *nb)
{
    struct ns_vq *vq = &p->dev.q[NS_VU_TX].vq;
    size_t off = 0, hdr = p->dev.hdr_len;
    struct ns_vq_elem *e = &p->elem;
    int rc = 0;

    *nb = 0;
    while (*nb < VU_BATCH && VU_ARENA - off >= VU_FRAME_MAX && *budget) {
        rc = ns_vq_pop(vq, &p->dev.mem, e);
        if (rc <= 0)
            break;
        (*budget)--;
        if (e->oversized || e->out_len > VU_FRAME_MAX || e->out_len <= hdr) {
            ns_vq_push(vq, e->head, 0);
            p->tx_dropped++;
            ns_transport_count(&p->base, e->out_len <= hdr ? NETSTACK_STAT_drop_transport_truncated
                                                           : NETSTACK_STAT_drop_transport_oversized, 1);
            continue;
        }
        copy_out(e, p->arena + off);
        ns_vq_push(vq, e->head, 0);
        p->batch[*nb] = (struct netstack_frame){ .data = p->arena + off + hdr,
                                                 .len = e->out_len - hdr };
        ns_vnet_hdr_to_offload(p->arena + off, 1, &p->batch[*nb].offload);
        off += e->out_len;
        (*nb)++;
    }
    return rc;
}

/**
 * vu_drain_tx() - frames the guest transmitted, to the stack
 * @p:      the transport
 */
static void vu_drain_tx(struct vu_transport *p)
{
    struct ns_vq *vq = &p->dev.q[NS_VU_TX].vq;
    unsigned budget = VU_TX_BUDGET;
    size_t nb;
    int rc;

    for (;;) {
        rc = take_frames(p, &budget, &nb);
        ns_vq_publish(vq);
        call_guest(p, NS_VU_TX);
        if (nb)
            netstack_input_batch(p->base.ns, p->batch, nb);
        if (rc < 0) {
            queue_broken(p, NS_VU_TX);
            return;
        }
        if (!budget) {
            notify(p->dev.q[NS_VU_TX].kick_fd);    /* more next time round the loop */
            return;
        }
        if (nb == VU_BATCH || rc > 0)
            continue;
        if (!ns_vq_want_kick(vq))
            return;
    }
}

/**
 * vu_kick() - a queue's kick eventfd: the guest made chains available
 * @opaque: the transport
 * @fd:     the eventfd
 * @events: NETSTACK_EV_* bits
 */
static void vu_kick(void *opaque, int fd, uint32_t events)
{
    struct vu_transport *p = opaque;
    uint64_t v;

    (void)events;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    if (fd == p->watched[NS_VU_TX])
        vu_drain_tx(p);
    else if (fd == p->watched[NS_VU_RX])
        ns_transport_unblock(&p->base);     /* buffers to receive into: the stack retries */
}

/**
 * write_frame() - a frame and its header into the chains in p->rx_elems
 * @p:      the transport
 * @f:      the frame
 * @n:      chains taken for it
 */
static void write_frame(struct vu_transport *p, const struct netstack_frame *f, unsigned n)
{
    struct ns_vq *vq = &p->dev.q[NS_VU_RX].vq;
    uint8_t hdr[NS_VNET_HDR_MRG_LEN];
    const uint8_t *src[2] = { hdr, f->data };
    size_t left[2] = { p->dev.hdr_len, f->len };
    unsigned c, i, s = 0;

    ns_vnet_hdr_from_offload(&f->offload, 1, hdr);
    hdr[10] = (uint8_t)n;       /* num_buffers, little-endian; unused without MRG_RXBUF */
    hdr[11] = (uint8_t)(n >> 8);
    for (c = 0; c < n; c++) {
        struct ns_vq_elem *e = &p->rx_elems[c];
        uint32_t used = 0;

        for (i = 0; i < e->n_in && s < 2; i++) {
            uint8_t *dst = e->iov[i].iov_base;
            size_t room = e->iov[i].iov_len;

            while (room && s < 2) {
                size_t k = left[s] < room ? left[s] : room;

                memcpy(dst, src[s], k);
                dst += k;
                room -= k;
                used += (uint32_t)k;
                src[s] += k;
                if (!(left[s] -= k))
                    s++;
            }
        }
        ns_vq_push(vq, e->head, used);
    }
}

/**
 * fill_one() - one frame into the buffers the guest posted
 * @p:      the transport
 * @f:      the frame
 *
 * Return: 1 written, 2 dropped (larger than the buffers a guest can post
 * for one frame), 0 not enough buffers posted (nothing taken), -EIO broken
 */
static int fill_one(struct vu_transport *p, const struct netstack_frame *f)
{
    struct ns_vq *vq = &p->dev.q[NS_VU_RX].vq;
    int mrg = ns_vu_has(&p->dev, NS_VIRTIO_NET_F_MRG_RXBUF);
    size_t need = p->dev.hdr_len + f->len, have = 0;
    unsigned n = 0;
    int rc;

    while (have < need) {
        if (n == VU_RX_CHAINS || (n == 1 && !mrg)) {
            ns_vq_unpop(vq, n);
            return 2;
        }
        rc = ns_vq_pop(vq, &p->dev.mem, &p->rx_elems[n]);
        if (rc <= 0) {
            ns_vq_unpop(vq, n);
            return rc;
        }
        if (p->rx_elems[n].n_out || p->rx_elems[n].oversized) {
            ns_vq_unpop(vq, n + 1);
            vq->broken = 1;
            vq->why = p->rx_elems[n].n_out ? "a readable buffer in the receive queue"
                                           : "a receive buffer of more pieces than we take";
            return -EIO;
        }
        have += p->rx_elems[n++].in_len;
    }
    write_frame(p, f, n);
    return 1;
}

/**
 * vu_send() - frames to the guest, into its receive queue
 * @t:      the transport
 * @frames: frames in order
 * @n:      how many
 *
 * Return: frames accepted (fewer than @n: backpressure until the guest
 * posts buffers), -ENOTCONN while the guest's driver has no receive queue
 */
static ssize_t vu_send(struct ns_transport *t, const struct netstack_frame *frames, size_t n)
{
    struct vu_transport *p = vu_of(t);
    struct ns_vq *vq = &p->dev.q[NS_VU_RX].vq;
    int rc = 1, retried = 0;
    size_t i = 0;

    if (!ns_vu_live(&p->dev, NS_VU_RX))
        return -ENOTCONN;
    while (i < n) {
        rc = fill_one(p, &frames[i]);
        if (rc == 2) {
            p->rx_dropped++;
            ns_transport_count(t, NETSTACK_STAT_drop_transport_tx, 1);
        }
        if (rc > 0) {
            i++;
            retried = 0;
            continue;
        }
        /* Out of buffers: ask for a kick, unless some came meanwhile. */
        if (rc == 0 && !retried && ns_vq_want_kick(vq)) {
            retried = 1;
            continue;
        }
        break;
    }
    ns_vq_publish(vq);
    call_guest(p, NS_VU_RX);
    if (rc < 0) {
        queue_broken(p, NS_VU_RX);
        p->rx_dropped += n - i;
        ns_transport_count(t, NETSTACK_STAT_drop_transport_tx, n - i);
        return (ssize_t)n;
    }
    if (i < n)
        t->blocked = 1;
    return (ssize_t)i;
}

/* ns_vu_ops: the device's requests of its transport. */

static void vu_queue_stop(void *opaque, unsigned q)
{
    struct vu_transport *p = opaque;

    if (p->watched[q] >= 0 && p->base.ns)
        netstack_unwatch(p->base.ns, p->watched[q]);
    p->watched[q] = -1;
}

/**
 * link_offloads() - the stack's link flags for what the guest acked
 * @d:      the device
 */
static uint32_t link_offloads(const struct ns_vu_dev *d)
{
    uint32_t f = NETSTACK_LINK_INTEGRITY;

    if (ns_vu_has(d, NS_VIRTIO_NET_F_GUEST_CSUM)) {
        f |= NETSTACK_LINK_CSUM;
        if (ns_vu_has(d, NS_VIRTIO_NET_F_GUEST_TSO4))
            f |= NETSTACK_LINK_TSO4;
        if (ns_vu_has(d, NS_VIRTIO_NET_F_GUEST_TSO6))
            f |= NETSTACK_LINK_TSO6;
    }
    return f;
}

static void vu_queue_start(void *opaque, unsigned q)
{
    struct vu_transport *p = opaque;
    int fd = p->dev.q[q].kick_fd;

    if (!p->base.ns || netstack_watch(p->base.ns, fd, NETSTACK_EV_IN, vu_kick, p) < 0)
        return;
    p->watched[q] = fd;
    if (q == NS_VU_RX)
        netstack_set_offloads(p->base.ns, link_offloads(&p->dev));
    notify(fd);     /* chains posted before we watched: see to them from the loop */
}

static const struct ns_vu_ops vu_dev_ops = {
    .queue_stop = vu_queue_stop,
    .queue_start = vu_queue_start,
};

/**
 * vu_disconnect() - the front-end went away: forget everything it gave us
 * @p:      the transport, with a connection
 * @why:    for the log
 */
static void vu_disconnect(struct vu_transport *p, const char *why)
{
    netstack_unwatch(p->base.ns, p->conn_fd);
    close(p->conn_fd);
    p->conn_fd = -1;
    ns_vu_reset(&p->dev);
    p->logged = p->mtu_told = 0;
    ns_tlog(&p->base, NETSTACK_LOG_INFO, "front-end disconnected (%s), waiting for a new one", why);
    ns_transport_link_down(&p->base);
}

/**
 * log_failures() - say why requests were refused, the first few per connection
 * @p:      the transport
 * @before: p->dev.failures before the bytes were handled
 */
static void log_failures(struct vu_transport *p, uint64_t before)
{
    if (p->dev.failures == before || p->logged >= VU_LOG_FAILURES)
        return;
    ns_tlog(&p->base, NETSTACK_LOG_WARN, "request refused: %s%s", p->dev.why,
            ++p->logged == VU_LOG_FAILURES ? " (no more of these are logged)" : "");
}

/**
 * check_mtu() - QEMU's device MTU (host_mtu=) against the stack's
 * @p:      the transport
 *
 * The guest sizes its frames by the device's MTU, the stack by its own
 * (and tells the guest by DHCP): say so when they differ.
 */
static void check_mtu(struct vu_transport *p)
{
    unsigned ours = p->mtu ? p->mtu : 65520;

    if (!p->dev.mtu || p->dev.mtu == p->mtu_told)
        return;
    p->mtu_told = p->dev.mtu;
    ns_tlog(&p->base, p->dev.mtu == ours ? NETSTACK_LOG_DEBUG : NETSTACK_LOG_WARN,
            "the device's MTU is %u (QEMU's host_mtu), the stack's %u%s", p->dev.mtu, ours,
            p->dev.mtu == ours ? "" : ": give both the same");
}

/**
 * read_message() - one read of at most the rest of the current message
 * @p:      the transport
 *
 * Return: 1 handled, 0 nothing to read, -1 the connection ended (closed here)
 */
static int read_message(struct vu_transport *p)
{
    uint8_t buf[NS_VU_HDR + NS_VU_PAYLOAD_MAX];
    union { struct cmsghdr h; char b[CMSG_SPACE(NS_VU_FDS_MAX * sizeof(int))]; } c;
    struct iovec iov = { buf, ns_vu_want(&p->dev) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
                         .msg_controllen = sizeof(c.b) };
    int fds[NS_VU_FDS_MAX];
    size_t nfds = 0;
    uint64_t before = p->dev.failures;
    struct cmsghdr *cm;
    ssize_t n;

    n = recvmsg(p->conn_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    for (cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
        size_t k, got;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (k = 0; k < got && nfds < NS_VU_FDS_MAX; k++)
            memcpy(&fds[nfds++], CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
    }
    if (n <= 0 || (mh.msg_flags & MSG_CTRUNC)) {
        while (nfds)
            close(fds[--nfds]);
        vu_disconnect(p, n < 0 ? strerror(errno) : n == 0 ? "closed" : "too many descriptors");
        return -1;
    }
    if (ns_vu_input(&p->dev, buf, (size_t)n, fds, nfds) < 0) {
        ns_tlog(&p->base, NETSTACK_LOG_WARN, "protocol error: %s", p->dev.why);
        vu_disconnect(p, "protocol error");
        return -1;
    }
    log_failures(p, before);
    check_mtu(p);
    if (p->dev.tx_len &&
        send(p->conn_fd, p->dev.tx, p->dev.tx_len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)p->dev.tx_len) {
        vu_disconnect(p, "the front-end does not read our replies");
        return -1;
    }
    p->dev.tx_len = 0;
    return 1;
}

/**
 * vu_conn_ready() - messages from the front-end
 * @opaque: the transport
 * @fd:     its connection
 * @events: NETSTACK_EV_* bits
 */
static void vu_conn_ready(void *opaque, int fd, uint32_t events)
{
    struct vu_transport *p = opaque;
    unsigned i;

    (void)fd;
    (void)events;
    for (i = 0; i < VU_MSGS; i++)
        if (read_message(p) <= 0)
            return;
}

/**
 * vu_listen_ready() - a front-end is connecting
 * @opaque: the transport
 * @fd:     the listening socket
 * @events: NETSTACK_EV_* bits
 */
static void vu_listen_ready(void *opaque, int fd, uint32_t events)
{
    struct vu_transport *p = opaque;
    int c = netstack_accept(p->base.ns, fd, NULL, NULL);

    (void)events;
    if (c < 0) {
        if (c != -EAGAIN && c != -EINTR && c != -ECONNABORTED && c != -EMFILE)
            ns_tlog(&p->base, NETSTACK_LOG_WARN, "accept: %s", strerror(-c));
        return;
    }
    if (p->conn_fd >= 0) {
        ns_tlog(&p->base, NETSTACK_LOG_WARN, "a second front-end connected: refused, one is served");
        close(c);
        return;
    }
    if (netstack_watch(p->base.ns, c, NETSTACK_EV_IN, vu_conn_ready, p) < 0) {
        close(c);
        return;
    }
    p->conn_fd = c;
    ns_tlog(&p->base, NETSTACK_LOG_INFO, "front-end connected");
}

static int vu_start(struct ns_transport *t)
{
    return netstack_watch(t->ns, vu_of(t)->listen_fd, NETSTACK_EV_IN, vu_listen_ready, t);
}

static void vu_stop(struct ns_transport *t)
{
    struct vu_transport *p = vu_of(t);
    unsigned q;

    for (q = 0; q < NS_VU_QUEUES; q++)
        vu_queue_stop(p, q);
    if (p->conn_fd >= 0)
        netstack_unwatch(t->ns, p->conn_fd);
    netstack_unwatch(t->ns, p->listen_fd);
}

static void vu_free(struct ns_transport *t)
{
    struct vu_transport *p = vu_of(t);

    if (p->rx_dropped || p->tx_dropped)
        ns_tlog(t, NETSTACK_LOG_INFO, "dropped to the guest: %llu; from the guest: %llu",
                (unsigned long long)p->rx_dropped, (unsigned long long)p->tx_dropped);
    ns_vu_reset(&p->dev);
    if (p->conn_fd >= 0)
        close(p->conn_fd);
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    ns_sockfile_remove(&p->file);
    free(p->arena);
    free(p->rx_elems);
    free(p);
}

static const struct ns_transport_ops vu_ops = {
    .start = vu_start,
    .send = vu_send,
    .stop = vu_stop,
    .free = vu_free,
};

int ns_vhost_user_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                       char *err, size_t errlen)
{
    struct vu_transport *p = calloc(1, sizeof(*p));
    uint64_t offered = VU_BASE_FEATURES | (opts->no_offload ? 0 : VU_OFFLOAD_FEATURES);

    if (!p || !(p->arena = malloc(VU_ARENA)) ||
        !(p->rx_elems = calloc(VU_RX_CHAINS, sizeof(*p->rx_elems)))) {
        if (p)
            free(p->arena);
        free(p);
        ns_seterr(err, errlen, "vhost_user_open: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    ns_transport_init(&p->base, &vu_ops, "vhost-user", opts);
    p->conn_fd = -1;
    p->mtu = opts->mtu;
    p->watched[0] = p->watched[1] = -1;
    ns_vu_init(&p->dev, &vu_dev_ops, p, offered);
    p->listen_fd = ns_unix_bind(SOCK_STREAM, opts->path, &p->file, err, errlen);
    if (p->listen_fd < 0 || listen(p->listen_fd, 8) < 0) {
        int rc = p->listen_fd < 0 ? p->listen_fd : -errno;

        if (p->listen_fd >= 0)
            ns_seterr(err, errlen, "listen: %s: %s", opts->path, strerror(errno));
        vu_free(&p->base);
        return rc;
    }
    snprintf(p->base.desc, sizeof(p->base.desc), "vhost-user socket %s", opts->path);
    *out = &p->base;
    return 0;
}
