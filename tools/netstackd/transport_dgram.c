/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport_dgram.c - one frame per unix datagram (QEMU -netdev dgram, vfkit)
 *
 * Theory of Operation
 *
 * We bind a datagram socket at PATH. The guest's side binds its own socket
 * somewhere and sends each Ethernet frame as one datagram to PATH; there is no
 * connection, so the guest is whoever sent last: the peer is learned from the
 * source address of each datagram. A VM that restarts and binds a new path
 * (or the same one) is followed; a change of address is a new guest, so the
 * stack is told the link went down in between. A datagram from an unbound
 * socket has no address to answer to: it is dropped and counted, with a
 * warning the first time.
 *
 * Receive: recvmmsg() up to DGRAM_BATCH datagrams per wakeup; then
 * ns_dgram_input() (transport_decode.h, no I/O, so the fuzz harness runs it
 * too) checks each one, follows the sender, and hands the frames to
 * netstack_input_batch() (split where the sender changes).
 *
 * Send, and why two sockets: on Linux, poll() on an unconnected datagram
 * socket says nothing about the receiver, so after sendto() fails with EAGAIN
 * (the guest's receive queue is full) nothing would ever wake us. A socket
 * connect()ed to the peer is different: its EPOLLOUT tracks the peer's
 * receive queue. So frames go out through a second, unbound socket connected
 * to the learned peer (re-created when the peer changes, or when a send finds
 * the peer gone and it has come back at the same path), with sendmmsg().
 * EAGAIN and ENOBUFS are backpressure: report how many went, watch EPOLLOUT,
 * and call netstack_output_ready() when it fires.
 *
 * One kind of peer rejects that: a guest socket that is itself connect()ed
 * to PATH (some VMMs' clients do this) accepts datagrams from PATH only, and
 * connect() or the send fails with EPERM. Then we reply from the bound socket
 * with sendmmsg() to the peer's address. Backpressure still works there, differently: the
 * kernel does not limit the receive queue of a socket connected to the
 * sender, so the datagrams stay charged to our own send buffer, and EAGAIN
 * means that buffer is full; EPOLLOUT on the bound socket says it drained.
 *
 * What the link guarantees: a unix datagram is delivered whole and exactly
 * (NETSTACK_LINK_INTEGRITY, set by ns_transport_init()), so no checksum is
 * verified again; no offloads (no virtio-net header in the datagrams).
 */
#define _GNU_SOURCE /* recvmmsg(), sendmmsg() */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/netstackd/transport.h"
#include "tools/netstackd/transport_decode.h"

#define DGRAM_BATCH     64                  /* datagrams per recvmmsg() / sendmmsg() */
#define DGRAM_SOCKBUF   (4 * 1024 * 1024)   /* asked for, the kernel caps it */

/* How frames reach the peer */
enum dgram_tx_mode {
    DGRAM_TX_CONNECTED,     /* through tx_fd, connected to the peer: EPOLLOUT works */
    DGRAM_TX_FROM_BOUND,    /* peer only takes datagrams from PATH: sendmmsg() on fd */
};

/**
 * struct dgram_transport - a unix datagram transport
 * @base:       shared transport state
 * @fd:         socket bound at the path, receives every frame
 * @file:       the socket file, removed on free
 * @tx_fd:      unbound socket connected to the peer, -1 until needed
 * @mode:       enum dgram_tx_mode for the current peer
 * @peer:       the guest's address, @peer_len bytes; @peer_len 0: no guest yet
 * @peer_gone:  sending found the peer gone; said once per peer
 * @rx:         DGRAM_BATCH receive buffers of NS_TRANSPORT_FRAME_MAX bytes
 * @rxmsg:      recvmmsg() headers, with @rxiov and @rxaddr
 * @txmsg:      sendmmsg() headers, with @txiov
 * @batch:      frames for one netstack_input_batch()
 * @warned_*:   one-time warnings given
 * @drop_*:     datagrams from the guest dropped here
 * @tx_dropped: frames to the guest dropped (too large for the socket, peer gone mid-batch)
 */
struct dgram_transport {
    struct ns_transport base;
    int fd;
    struct ns_sockfile file;
    int tx_fd;
    enum dgram_tx_mode mode;
    struct sockaddr_un peer;
    socklen_t peer_len;
    int peer_gone;
    uint8_t *rx;
    struct mmsghdr rxmsg[DGRAM_BATCH];
    struct iovec rxiov[DGRAM_BATCH];
    struct sockaddr_un rxaddr[DGRAM_BATCH];
    struct mmsghdr txmsg[DGRAM_BATCH];
    struct iovec txiov[DGRAM_BATCH];
    struct netstack_frame batch[DGRAM_BATCH];
    int warned_unbound, warned_range;
    uint64_t drop_unbound, drop_range, drop_empty, tx_dropped;
};

/**
 * dgram_of() - the backend around @t; the base is its first member
 */
static struct dgram_transport *dgram_of(struct ns_transport *t)
{
    return (struct dgram_transport *)t;
}

/**
 * dgram_peer_name() - printable peer address: the path, or "@name" when abstract
 * @a:      address
 * @len:    its length from recvmsg()
 * @buf:    output, at least sizeof(a->sun_path) + 2 bytes
 * @size:   its size
 */
static const char *dgram_peer_name(const struct sockaddr_un *a, socklen_t len, char *buf,
                                   size_t size)
{
    size_t plen = len - offsetof(struct sockaddr_un, sun_path);

    if (a->sun_path[0])
        snprintf(buf, size, "%.*s", (int)strnlen(a->sun_path, plen), a->sun_path);
    else
        snprintf(buf, size, "@%.*s", (int)(plen - 1), a->sun_path + 1);
    return buf;
}

/**
 * dgram_close_tx() - drop the socket connected to the old peer
 * @d:      the transport
 */
static void dgram_close_tx(struct dgram_transport *d)
{
    if (d->tx_fd < 0)
        return;
    if (d->base.ns)
        netstack_unwatch(d->base.ns, d->tx_fd);
    close(d->tx_fd);
    d->tx_fd = -1;
}

/**
 * dgram_set_peer() - the guest now sends from @a: answer there from now on
 * @d:      the transport
 * @a:      the source address of its datagram
 * @len:    length of @a
 *
 * A different address is a different guest (or the same VM restarted): the
 * link goes down in between, which also settles any backpressure the old
 * peer caused.
 */
static void dgram_set_peer(struct dgram_transport *d, const struct sockaddr_un *a, socklen_t len)
{
    char name[sizeof(a->sun_path) + 2];
    int had = d->peer_len != 0;

    dgram_close_tx(d);
    memcpy(&d->peer, a, len);
    d->peer_len = len;
    d->peer_gone = 0;
    d->mode = DGRAM_TX_CONNECTED;
    ns_tlog(&d->base, NETSTACK_LOG_INFO, "%s %s", had ? "guest moved to" : "guest at",
            dgram_peer_name(a, len, name, sizeof(name)));
    if (had)
        ns_transport_link_down(&d->base);
}

/**
 * dgram_check() - is datagram @m one the stack should see?
 * @d:      the transport
 * @m:      the datagram, as recvmmsg() filled it
 *
 * An address longer than a sockaddr_un, or a length past the buffer without
 * MSG_TRUNC, cannot come from the kernel; they are refused all the same, so
 * nothing after this reads beyond what was received.
 * Return: 1 to pass it on, 0 when it was dropped and counted
 */
static int dgram_check(struct dgram_transport *d, const struct mmsghdr *m)
{
    if (m->msg_hdr.msg_namelen <= offsetof(struct sockaddr_un, sun_path) ||
        m->msg_hdr.msg_namelen > sizeof(struct sockaddr_un)) {
        d->drop_unbound++;
        ns_transport_count(&d->base, NETSTACK_STAT_drop_transport_unbound, 1);
        ns_tlog(&d->base, d->warned_unbound ? NETSTACK_LOG_DEBUG : NETSTACK_LOG_WARN,
                "datagram from an unbound socket dropped: the guest must bind its socket "
                "to a path so replies can reach it");
        d->warned_unbound = 1;
        return 0;
    }
    if ((m->msg_hdr.msg_flags & MSG_TRUNC) || m->msg_len > NS_TRANSPORT_FRAME_MAX ||
        m->msg_len > m->msg_hdr.msg_iov[0].iov_len) {
        d->drop_range++;
        ns_transport_count(&d->base, NETSTACK_STAT_drop_transport_oversized, 1);
        ns_tlog(&d->base, d->warned_range ? NETSTACK_LOG_DEBUG : NETSTACK_LOG_WARN,
                "datagram of %u bytes out of range, dropped", m->msg_len);
        d->warned_range = 1;
        return 0;
    }
    if (!m->msg_len) {
        d->drop_empty++;
        ns_transport_count(&d->base, NETSTACK_STAT_drop_transport_empty, 1);
        ns_tlog(&d->base, NETSTACK_LOG_DEBUG, "empty datagram dropped");
        return 0;
    }
    return 1;
}

/**
 * dgram_is_hello() - is datagram @m vfkit's "VFKT" hello?
 * @m:      the datagram, checked by dgram_check()
 *
 * vfkit sends these four bytes first so that the other end learns its address
 * before the guest sends anything; they are not a frame.
 */
static int dgram_is_hello(const struct mmsghdr *m)
{
    return m->msg_len == 4 && !memcmp(m->msg_hdr.msg_iov[0].iov_base, "VFKT", 4);
}

/**
 * dgram_same_peer() - did datagram @m come from the current peer?
 * @d:      the transport
 * @m:      the datagram, checked by dgram_check() (its address fits a sockaddr_un)
 */
static int dgram_same_peer(const struct dgram_transport *d, const struct mmsghdr *m)
{
    socklen_t len = m->msg_hdr.msg_namelen;

    return len == d->peer_len && !memcmp(m->msg_hdr.msg_name, &d->peer, len);
}

static void dgram_fd_ready(void *opaque, int fd, uint32_t events);

/**
 * dgram_watch_fd() - (re)register the bound socket: readable always, writable
 * while replies from it wait for room
 * @d:      the transport
 * @out:    also watch for writability
 * Return: 0 or -errno
 */
static int dgram_watch_fd(struct dgram_transport *d, int out)
{
    uint32_t ev = NETSTACK_EV_IN | (out ? NETSTACK_EV_OUT : 0);
    int rc = netstack_watch(d->base.ns, d->fd, ev, dgram_fd_ready, d);

    if (rc < 0)
        ns_transport_finish(&d->base, NS_TRANSPORT_FAILED, "netstack_watch: %s", strerror(-rc));
    return rc;
}

/**
 * dgram_rx_prepare() - reset the recvmmsg() headers (the kernel overwrites lengths)
 * @d:      the transport
 */
static void dgram_rx_prepare(struct dgram_transport *d)
{
    unsigned i;

    for (i = 0; i < DGRAM_BATCH; i++) {
        d->rxiov[i].iov_base = d->rx + (size_t)i * NS_TRANSPORT_FRAME_MAX;
        d->rxiov[i].iov_len = NS_TRANSPORT_FRAME_MAX;
        memset(&d->rxmsg[i].msg_hdr, 0, sizeof(d->rxmsg[i].msg_hdr));
        d->rxmsg[i].msg_hdr.msg_iov = &d->rxiov[i];
        d->rxmsg[i].msg_hdr.msg_iovlen = 1;
        d->rxmsg[i].msg_hdr.msg_name = &d->rxaddr[i];
        d->rxmsg[i].msg_hdr.msg_namelen = sizeof(d->rxaddr[i]);
    }
}

/**
 * dgram_flush() - hand the frames collected in d->batch to the stack
 * @d:      the transport
 * @nb:     how many; set to 0
 */
static void dgram_flush(struct dgram_transport *d, size_t *nb)
{
    if (*nb)
        netstack_input_batch(d->base.ns, d->batch, *nb);
    *nb = 0;
}

/**
 * ns_dgram_input() - see transport_decode.h
 */
void ns_dgram_input(struct ns_transport *t, const struct mmsghdr *msgs, size_t n)
{
    struct dgram_transport *d = dgram_of(t);
    const struct mmsghdr *m;
    size_t i, nb = 0;

    for (i = 0; i < n; i++) {
        m = &msgs[i];
        if (!dgram_check(d, m))
            continue;
        if (!dgram_same_peer(d, m)) {
            dgram_flush(d, &nb);
            dgram_set_peer(d, m->msg_hdr.msg_name, m->msg_hdr.msg_namelen);
        }
        if (dgram_is_hello(m))
            continue;       /* vfkit's hello: it only introduced the peer */
        if (nb == DGRAM_BATCH)
            dgram_flush(d, &nb);
        d->batch[nb].data = m->msg_hdr.msg_iov[0].iov_base;
        d->batch[nb].len = m->msg_len;
        nb++;
    }
    dgram_flush(d, &nb);
}

/**
 * dgram_fd_ready() - datagrams from the guest; or, replying from the bound
 * socket, room in its send buffer again
 * @opaque: the transport
 * @fd:     the bound socket
 * @events: NETSTACK_EV_* bits
 *
 * One recvmmsg() per wakeup: the socket stays readable if more wait.
 */
static void dgram_fd_ready(void *opaque, int fd, uint32_t events)
{
    struct dgram_transport *d = opaque;
    int n;

    if (events & NETSTACK_EV_OUT) {
        if (dgram_watch_fd(d, 0) == 0)
            ns_transport_unblock(&d->base);
    }
    if (!(events & (NETSTACK_EV_IN | NETSTACK_EV_ERR | NETSTACK_EV_HUP)))
        return;
    dgram_rx_prepare(d);
    n = recvmmsg(fd, d->rxmsg, DGRAM_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            ns_tlog(&d->base, NETSTACK_LOG_WARN, "recvmmsg: %s", strerror(errno));
        return;
    }
    ns_dgram_input(&d->base, d->rxmsg, (size_t)n);
}

/**
 * dgram_tx_ready() - the peer drained its receive queue (EPOLLOUT on tx_fd)
 * @opaque: the transport
 * @fd:     tx_fd
 * @events: NETSTACK_EV_* bits
 */
static void dgram_tx_ready(void *opaque, int fd, uint32_t events)
{
    struct dgram_transport *d = opaque;

    (void)events;
    netstack_unwatch(d->base.ns, fd);   /* watched only while blocked: it is almost always writable */
    ns_transport_unblock(&d->base);
}

/**
 * dgram_tx_connect() - a socket connected to the peer, for sending
 * @d:      the transport, with a peer
 *
 * Return: 0, or -errno from connect() (-ENOENT, -ECONNREFUSED: the peer is gone)
 */
static int dgram_tx_connect(struct dgram_transport *d)
{
    int sz = DGRAM_SOCKBUF;
    int fd, rc;

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    if (connect(fd, (struct sockaddr *)&d->peer, d->peer_len) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    d->tx_fd = fd;
    return 0;
}

/**
 * dgram_block() - the peer's queue is full: wait for it, report backpressure
 * @d:      the transport
 *
 * Return: 0, or -errno when nothing could be set up to wake us (then the
 * caller drops instead of waiting forever)
 */
static int dgram_block(struct dgram_transport *d)
{
    int rc;

    if (d->mode == DGRAM_TX_CONNECTED)
        rc = netstack_watch(d->base.ns, d->tx_fd, NETSTACK_EV_OUT, dgram_tx_ready, d);
    else
        rc = dgram_watch_fd(d, 1);
    if (rc == 0)
        d->base.blocked = 1;
    return rc;
}

/**
 * dgram_use_bound() - the peer takes datagrams from our path only: reply from it
 * @d:      the transport
 *
 * Linux refuses both connect() and sends from another socket with EPERM when
 * the peer's socket is connected to our path.
 */
static void dgram_use_bound(struct dgram_transport *d)
{
    ns_tlog(&d->base, NETSTACK_LOG_INFO, "guest socket is connected to our path: replying from it");
    dgram_close_tx(d);
    d->mode = DGRAM_TX_FROM_BOUND;
}

/**
 * dgram_tx_open() - get ready to send to the current peer
 * @d:      the transport, with a peer
 *
 * Return: 0, or -errno from connect() (-ENOENT, -ECONNREFUSED: the peer is gone)
 */
static int dgram_tx_open(struct dgram_transport *d)
{
    int rc;

    if (d->mode == DGRAM_TX_FROM_BOUND || d->tx_fd >= 0)
        return 0;
    rc = dgram_tx_connect(d);
    if (rc != -EPERM)
        return rc;
    dgram_use_bound(d);
    return 0;
}

/**
 * dgram_send_some() - one sendmmsg() of up to DGRAM_BATCH frames
 * @d:      the transport, with a peer (and tx_fd in DGRAM_TX_CONNECTED)
 * @frames: frames
 * @n:      how many
 *
 * Return: frames sent (at least 1), or -errno for the first one
 */
static int dgram_send_some(struct dgram_transport *d, const struct netstack_frame *frames,
                           size_t n)
{
    int from_bound = d->mode == DGRAM_TX_FROM_BOUND;
    unsigned i, k = n < DGRAM_BATCH ? (unsigned)n : DGRAM_BATCH;
    int r;

    for (i = 0; i < k; i++) {
        d->txiov[i].iov_base = (void *)frames[i].data;
        d->txiov[i].iov_len = frames[i].len;
        memset(&d->txmsg[i].msg_hdr, 0, sizeof(d->txmsg[i].msg_hdr));
        d->txmsg[i].msg_hdr.msg_iov = &d->txiov[i];
        d->txmsg[i].msg_hdr.msg_iovlen = 1;
        if (from_bound) {
            d->txmsg[i].msg_hdr.msg_name = &d->peer;
            d->txmsg[i].msg_hdr.msg_namelen = d->peer_len;
        }
    }
    do
        r = sendmmsg(from_bound ? d->fd : d->tx_fd, d->txmsg, k, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

/**
 * dgram_peer_gone() - no one is at the peer's address; say so once per peer
 * @d:      the transport
 * @err:    the errno that told us
 * Return: -ENOTCONN
 */
static int dgram_peer_gone(struct dgram_transport *d, int err)
{
    char name[sizeof(d->peer.sun_path) + 2];

    if (!d->peer_gone)
        ns_tlog(&d->base, NETSTACK_LOG_INFO, "guest at %s is gone (%s)",
                dgram_peer_name(&d->peer, d->peer_len, name, sizeof(name)), strerror(err));
    d->peer_gone = 1;
    return -ENOTCONN;
}

/**
 * dgram_peer_lost() - a send found no one at the peer's address
 * @d:      the transport
 * @err:    the errno
 *
 * The VM may have restarted at the same path: reconnect once right away.
 * Return: 0 when reconnected, -ENOTCONN otherwise
 */
static int dgram_peer_lost(struct dgram_transport *d, int err)
{
    dgram_close_tx(d);
    if (d->mode == DGRAM_TX_CONNECTED && dgram_tx_open(d) == 0)
        return 0;
    return dgram_peer_gone(d, err);
}

/**
 * dgram_send_error() - act on a send error
 * @d:      the transport
 * @err:    positive errno from sendmmsg() for the first unsent frame
 *
 * Return: 1 to retry, 0 for backpressure, -1 to drop that frame,
 * -ENOTCONN when the peer is gone
 */
static int dgram_send_error(struct dgram_transport *d, int err)
{
    switch (err) {
    case EAGAIN:
    case ENOBUFS:
        return dgram_block(d) == 0 ? 0 : -1;
    case EPERM:
        if (d->mode == DGRAM_TX_FROM_BOUND)
            return -1;
        dgram_use_bound(d);
        return 1;
    case ECONNREFUSED:
    case ENOENT:
    case ENOTCONN:
        return dgram_peer_lost(d, err) == 0 ? 1 : -ENOTCONN;
    case EMSGSIZE:
    default:
        if (ns_tlog_enabled(&d->base, NETSTACK_LOG_DEBUG))
            ns_tlog(&d->base, NETSTACK_LOG_DEBUG, "send to guest: %s, frame dropped",
                    strerror(err));
        return -1;
    }
}

/**
 * dgram_send() - frames to the guest, one datagram each
 * @t:      the transport
 * @frames: frames in order
 * @n:      how many
 *
 * Return: frames accepted; fewer than @n is backpressure; -ENOTCONN without
 * a peer
 */
static ssize_t dgram_send(struct ns_transport *t, const struct netstack_frame *frames, size_t n)
{
    struct dgram_transport *d = dgram_of(t);
    size_t done = 0;
    int r;

    if (!d->peer_len)
        return -ENOTCONN;
    if (t->blocked)
        return 0;
    r = dgram_tx_open(d);
    if (r < 0)
        return dgram_peer_gone(d, -r);
    while (done < n) {
        r = dgram_send_some(d, frames + done, n - done);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        r = dgram_send_error(d, -r);
        if (r == 0)
            return (ssize_t)done;
        if (r == -1) {
            d->tx_dropped++;
            ns_transport_count(&d->base, NETSTACK_STAT_drop_transport_tx, 1);
            done++;
        } else if (r < 0) {
            if (!done)
                return r;
            d->tx_dropped += n - done;  /* no wakeup will come for the rest */
            ns_transport_count(&d->base, NETSTACK_STAT_drop_transport_tx, n - done);
            return (ssize_t)n;
        }
    }
    d->peer_gone = 0;
    return (ssize_t)n;
}

/**
 * dgram_start() - watch the bound socket
 */
static int dgram_start(struct ns_transport *t)
{
    struct dgram_transport *d = dgram_of(t);

    return dgram_watch_fd(d, 0);
}

/**
 * dgram_stop() - leave the stack's loop
 */
static void dgram_stop(struct ns_transport *t)
{
    struct dgram_transport *d = dgram_of(t);

    netstack_unwatch(t->ns, d->fd);
    if (d->tx_fd >= 0)
        netstack_unwatch(t->ns, d->tx_fd);
}

/**
 * dgram_free() - close everything, remove the socket file, say what was dropped
 */
static void dgram_free(struct ns_transport *t)
{
    struct dgram_transport *d = dgram_of(t);

    if (d->drop_unbound || d->drop_range || d->drop_empty || d->tx_dropped)
        ns_tlog(t, NETSTACK_LOG_INFO,
                "dropped from the guest: %llu unbound sender, %llu out-of-range, %llu empty; "
                "to the guest: %llu", (unsigned long long)d->drop_unbound,
                (unsigned long long)d->drop_range, (unsigned long long)d->drop_empty,
                (unsigned long long)d->tx_dropped);
    if (d->fd >= 0)
        close(d->fd);
    if (d->tx_fd >= 0)
        close(d->tx_fd);
    ns_sockfile_remove(&d->file);
    free(d->rx);
    free(d);
}

static const struct ns_transport_ops dgram_ops = {
    .start = dgram_start,
    .send = dgram_send,
    .stop = dgram_stop,
    .free = dgram_free,
};

/**
 * ns_dgram_open() - bind the datagram socket (--listen-dgram PATH)
 * @opts:   NS_TRANSPORT_DGRAM with a path
 * @out:    the transport
 * @err:    on failure, "function: cause"
 * @errlen: size of @err
 * Return: 0 or -errno
 */
int ns_dgram_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                  char *err, size_t errlen)
{
    struct dgram_transport *d = calloc(1, sizeof(*d));
    int sz = DGRAM_SOCKBUF;

    if (!d) {
        ns_seterr(err, errlen, "ns_dgram_open: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    ns_transport_init(&d->base, &dgram_ops, "dgram", opts);
    d->tx_fd = -1;
    d->rx = malloc((size_t)DGRAM_BATCH * NS_TRANSPORT_FRAME_MAX);
    if (!d->rx) {
        ns_seterr(err, errlen, "ns_dgram_open: %s", strerror(ENOMEM));
        d->fd = -1;
        dgram_free(&d->base);
        return -ENOMEM;
    }
    d->fd = ns_unix_bind(SOCK_DGRAM, opts->path, &d->file, err, errlen);
    if (d->fd < 0) {
        int rc = d->fd;

        dgram_free(&d->base);
        return rc;
    }
    /* Room for many full-size frames in flight; best effort. */
    setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    snprintf(d->base.desc, sizeof(d->base.desc), "unix datagram socket %s", opts->path);
    *out = &d->base;
    return 0;
}
