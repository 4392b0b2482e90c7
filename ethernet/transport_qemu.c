/*
 * transport_qemu.c - QEMU's `-netdev stream` framing over a unix stream socket
 *
 * Theory of Operation
 *
 * Wire format (QEMU net/stream.c, also libkrun, krunvm, passt's --fd):
 *
 *     0               4                        4 + len
 *     +---------------+------------------------+-----
 *     | len (u32, BE) | Ethernet frame, no FCS | next len ...
 *     +---------------+------------------------+-----
 *
 * Two ways to get the connection:
 * - --listen-qemu PATH: we listen on PATH and serve one guest at a time. A new
 *   connection replaces the current one (a VM that rebooted reconnects before
 *   we notice the old connection is dead), and after a disconnect we keep
 *   listening, so the same daemon serves the VM again after a reboot.
 * - --fd N: an inherited, already connected socket. Nothing can reconnect, so
 *   when it closes the transport finishes and netstackd exits.
 *
 * Receive: read in large chunks into one buffer and cut out every complete
 * frame in it, handing them to netstack_input_batch() by pointer (the stack
 * copies what it keeps), then move the incomplete tail to the front. A length
 * of 0 is dropped and counted; a length above NS_TRANSPORT_FRAME_MAX means the
 * stream is garbage or desynchronised and there is no way to find the next
 * frame boundary, so the connection is closed with a warning. A connection
 * that ends inside a frame counts one truncated frame. Frames shorter than an
 * Ethernet header are passed on: the stack counts them (drop_eth_short).
 *
 * Send: one writev() carries many frames (a 4-byte prefix iovec and the frame
 * iovec each). If the socket takes only part of it, the frame cut in the
 * middle is copied whole-remainder into a buffer of one maximum frame (the
 * stream must stay in sync, so a frame once started must be finished), that
 * frame counts as accepted, the following ones do not, and we wait for
 * EPOLLOUT: backpressure. When the remainder is written we call
 * netstack_output_ready() and the stack hands us its queue again.
 *
 * A write error (EPIPE, ECONNRESET) shuts the socket down: the read side then
 * sees the end of the stream and does the disconnect, from the event loop
 * rather than from inside the stack's send callback.
 */
#define _GNU_SOURCE /* accept4() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ethernet/transport.h"

#define QEMU_HDR        4
#define QEMU_RXBUF      (512 * 1024)    /* bytes read per read() at most */
#define QEMU_READS      8               /* read()s per wakeup: fairness to host sockets */
#define QEMU_BATCH      128             /* frames per netstack_input_batch() */
#define QEMU_TX_BATCH   256             /* frames per writev(), 2 iovecs each, under IOV_MAX */
#define QEMU_SOCKBUF    (4 * 1024 * 1024)   /* asked for, the kernel caps it */

/**
 * struct qemu_transport - a QEMU stream transport
 * @base:       shared transport state
 * @listen_fd:  listening socket, -1 for --fd
 * @conn_fd:    the guest's connection, -1 when none
 * @inherited:  --fd: the connection came from our parent, nothing can follow it
 * @broken:     a write failed; no more sends, the read side will close
 * @reserve_fd: spare descriptor given up when accept() hits the fd limit
 * @file:       the socket file, removed on free
 * @rx:         receive buffer, @rx_len bytes valid (one incomplete frame at most
 *              after parsing)
 * @tx:         unwritten tail of a frame cut by a partial write: @tx_len bytes from @tx_off
 * @batch:      frames cut out of @rx for one netstack_input_batch()
 * @hdr:        length prefixes of the frames in one writev()
 * @iov:        the writev() vector
 * @drop_*:     frames from the guest dropped here, before the stack sees them
 * @tx_dropped: frames to the guest dropped (oversized, or after a write error)
 */
struct qemu_transport {
    struct ns_transport base;
    int listen_fd;
    int conn_fd;
    int inherited;
    int broken;
    int reserve_fd;
    struct ns_sockfile file;
    uint8_t *rx;
    size_t rx_len;
    uint8_t *tx;
    size_t tx_off, tx_len;
    struct netstack_frame batch[QEMU_BATCH];
    uint8_t hdr[QEMU_TX_BATCH][QEMU_HDR];
    struct iovec iov[2 * QEMU_TX_BATCH];
    uint64_t drop_zero, drop_truncated, drop_range, tx_dropped;
};

/* qemu_of() - the backend around @t; the base is its first member */
static struct qemu_transport *qemu_of(struct ns_transport *t)
{
    return (struct qemu_transport *)t;
}

static void qemu_conn_ready(void *opaque, int fd, uint32_t events);

/**
 * qemu_watch_conn() - (re)register the connection: readable always, writable
 * only while we wait to write (a partly written frame, or backpressure)
 * @q:      the transport, with a connection
 * @out:    also watch for writability
 *
 * A failure here leaves the guest unserved: the transport finishes.
 * Return: 0 or -errno
 */
static int qemu_watch_conn(struct qemu_transport *q, int out)
{
    uint32_t ev = NETSTACK_EV_IN | (out ? NETSTACK_EV_OUT : 0);
    int rc;

    rc = netstack_watch(q->base.ns, q->conn_fd, ev, qemu_conn_ready, q);
    if (rc < 0)
        ns_transport_finish(&q->base, NS_TRANSPORT_FAILED, "netstack_watch: %s", strerror(-rc));
    return rc;
}

/**
 * qemu_close_conn() - forget the connection, and what was half read or written on it
 * @q:      the transport, with a connection
 */
static void qemu_close_conn(struct qemu_transport *q)
{
    if (q->base.ns)
        netstack_unwatch(q->base.ns, q->conn_fd);
    close(q->conn_fd);
    q->conn_fd = -1;
    q->rx_len = 0;
    q->tx_len = q->tx_off = 0;
    q->broken = 0;
}

/**
 * qemu_disconnect() - the guest's connection ended
 * @q:      the transport, with a connection
 * @why:    for the log: "closed by the guest", a strerror(), ...
 *
 * Bytes left in the receive buffer are a frame cut short: count it. With
 * --fd this is the end of the transport; otherwise the link goes down and we
 * wait for the guest to connect again.
 */
static void qemu_disconnect(struct qemu_transport *q, const char *why)
{
    if (q->rx_len) {
        q->drop_truncated++;
        ns_transport_count(&q->base, NETSTACK_STAT_drop_transport_truncated, 1);
        ns_tlog(&q->base, NETSTACK_LOG_DEBUG, "connection ended inside a frame (%zu bytes), dropped",
                q->rx_len);
    }
    qemu_close_conn(q);
    if (q->inherited) {
        ns_transport_finish(&q->base, NS_TRANSPORT_CLOSED, "connection %s", why);
        return;
    }
    ns_tlog(&q->base, NETSTACK_LOG_INFO, "guest disconnected (%s), waiting for a new connection",
            why);
    ns_transport_link_down(&q->base);
}

/**
 * qemu_be32() - read a big-endian length prefix
 * @p:      4 bytes; the caller checked they were received
 */
static uint32_t qemu_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/**
 * qemu_parse() - hand every complete frame in the receive buffer to the stack
 * @q:      the transport
 *
 * Leaves the incomplete tail (under 4 + NS_TRANSPORT_FRAME_MAX bytes) at the
 * start of the buffer.
 * Return: 0, or -1 when a length is out of range and the stream must be dropped
 */
static int qemu_parse(struct qemu_transport *q)
{
    size_t off = 0, nb = 0;
    int bad = 0;
    uint32_t len;

    while (q->rx_len - off >= QEMU_HDR) {
        len = qemu_be32(q->rx + off);
        if (len == 0) {
            q->drop_zero++;
            ns_transport_count(&q->base, NETSTACK_STAT_drop_transport_empty, 1);
            ns_tlog(&q->base, NETSTACK_LOG_DEBUG, "zero-length frame dropped");
            off += QEMU_HDR;
            continue;
        }
        if (len > NS_TRANSPORT_FRAME_MAX) {
            q->drop_range++;
            ns_transport_count(&q->base, NETSTACK_STAT_drop_transport_oversized, 1);
            ns_tlog(&q->base, NETSTACK_LOG_WARN,
                    "frame length %u out of range, closing connection", len);
            bad = 1;
            break;
        }
        if (q->rx_len - off - QEMU_HDR < len)
            break;
        q->batch[nb].data = q->rx + off + QEMU_HDR;
        q->batch[nb].len = len;
        off += QEMU_HDR + len;
        if (++nb == QEMU_BATCH) {
            netstack_input_batch(q->base.ns, q->batch, nb);
            nb = 0;
        }
    }
    /* Frames before a bad length were well formed: the guest gets them. */
    if (nb)
        netstack_input_batch(q->base.ns, q->batch, nb);
    if (bad) {
        q->rx_len = 0;  /* garbage, not a truncated frame */
        return -1;
    }
    memmove(q->rx, q->rx + off, q->rx_len - off);
    q->rx_len -= off;
    return 0;
}

/**
 * qemu_read() - read what the guest sent and pass its frames on
 * @q:      the transport, with a connection
 *
 * A short read means the socket is drained; otherwise read again, up to
 * QEMU_READS times so a guest sending flat out leaves the loop some time for
 * host sockets (the fd stays readable and we come back).
 */
static void qemu_read(struct qemu_transport *q)
{
    size_t room;
    ssize_t n;
    int i;

    for (i = 0; i < QEMU_READS && q->conn_fd >= 0; i++) {
        room = QEMU_RXBUF - q->rx_len;
        n = read(q->conn_fd, q->rx + q->rx_len, room);
        if (n == 0) {
            qemu_disconnect(q, "closed by the guest");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                qemu_disconnect(q, strerror(errno));
            return;
        }
        q->rx_len += (size_t)n;
        if (qemu_parse(q) < 0) {
            if (q->inherited)
                ns_transport_finish(&q->base, NS_TRANSPORT_FAILED,
                                    "qemu_read: frame length out of range on fd %d", q->conn_fd);
            qemu_disconnect(q, "bad frame length");
            return;
        }
        if ((size_t)n < room)
            return;
    }
}

/**
 * qemu_flush_tx() - write the rest of a frame a partial write cut
 * @q:      the transport, with a connection
 *
 * Return: 0 when nothing is left, -EAGAIN when some is, other -errno on a
 * write error
 */
static int qemu_flush_tx(struct qemu_transport *q)
{
    ssize_t n;

    while (q->tx_len) {
        n = write(q->conn_fd, q->tx + q->tx_off, q->tx_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        q->tx_off += (size_t)n;
        q->tx_len -= (size_t)n;
    }
    q->tx_off = 0;
    return 0;
}

/**
 * qemu_write_failed() - a write to the guest failed for good
 * @q:      the transport, with a connection
 * @err:    the errno
 *
 * Shut the socket down instead of closing it here: we are inside the stack's
 * send callback. The read side sees the end of the stream next and
 * disconnects from the event loop.
 */
static void qemu_write_failed(struct qemu_transport *q, int err)
{
    ns_tlog(&q->base, NETSTACK_LOG_INFO, "write to the guest failed: %s", strerror(err));
    q->broken = 1;
    q->tx_len = q->tx_off = 0;
    shutdown(q->conn_fd, SHUT_RDWR);
}

/**
 * qemu_keep_tail() - keep the unwritten part of a frame a writev() cut
 * @q:      the transport
 * @f:      the frame
 * @done:   bytes of prefix + frame already written, less than 4 + f->len
 */
static void qemu_keep_tail(struct qemu_transport *q, const struct netstack_frame *f, size_t done)
{
    uint8_t hdr[QEMU_HDR] = { (uint8_t)(f->len >> 24), (uint8_t)(f->len >> 16),
                              (uint8_t)(f->len >> 8), (uint8_t)f->len };
    size_t n = 0;

    if (done < QEMU_HDR) {
        memcpy(q->tx, hdr + done, QEMU_HDR - done);
        n = QEMU_HDR - done;
        done = QEMU_HDR;
    }
    memcpy(q->tx + n, (const uint8_t *)f->data + (done - QEMU_HDR), f->len - (done - QEMU_HDR));
    q->tx_off = 0;
    q->tx_len = n + f->len - (done - QEMU_HDR);
}

/**
 * qemu_build_iov() - fill the writev() vector from @frames
 * @q:      the transport
 * @frames: frames to send
 * @n:      how many
 *
 * Stops before a frame too large for the tail buffer (never produced by a
 * stack with MTU <= 65520; qemu_send() drops it).
 * Return: number of frames in the vector
 */
static size_t qemu_build_iov(struct qemu_transport *q, const struct netstack_frame *frames,
                             size_t n)
{
    size_t k;

    for (k = 0; k < n && k < QEMU_TX_BATCH; k++) {
        if (frames[k].len > NS_TRANSPORT_FRAME_MAX)
            break;
        q->hdr[k][0] = (uint8_t)(frames[k].len >> 24);
        q->hdr[k][1] = (uint8_t)(frames[k].len >> 16);
        q->hdr[k][2] = (uint8_t)(frames[k].len >> 8);
        q->hdr[k][3] = (uint8_t)frames[k].len;
        q->iov[2 * k].iov_base = q->hdr[k];
        q->iov[2 * k].iov_len = QEMU_HDR;
        q->iov[2 * k + 1].iov_base = (void *)frames[k].data;
        q->iov[2 * k + 1].iov_len = frames[k].len;
    }
    return k;
}

/**
 * qemu_account() - how many of @k frames a writev() of @w bytes completed
 * @q:      the transport
 * @frames: the frames of the writev()
 * @k:      how many were in it
 * @w:      bytes written
 *
 * A frame written in part is completed later from the tail buffer, so it
 * counts as accepted.
 * Return: frames accepted
 */
static size_t qemu_account(struct qemu_transport *q, const struct netstack_frame *frames,
                           size_t k, size_t w)
{
    size_t i, flen;

    for (i = 0; i < k && w; i++) {
        flen = QEMU_HDR + frames[i].len;
        if (w < flen) {
            qemu_keep_tail(q, &frames[i], w);
            return i + 1;
        }
        w -= flen;
    }
    return i;
}

/**
 * qemu_send() - frames to the guest, as many per writev() as fit
 * @t:      the transport
 * @frames: frames in order
 * @n:      how many
 *
 * Return: frames accepted; fewer than @n is backpressure (EPOLLOUT watched);
 * -ENOTCONN with no guest, -errno after a write error with nothing written
 */
static ssize_t qemu_send(struct ns_transport *t, const struct netstack_frame *frames, size_t n)
{
    struct qemu_transport *q = qemu_of(t);
    size_t done = 0, k, acc;
    ssize_t w;
    int rc;

    if (q->conn_fd < 0 || q->broken)
        return -ENOTCONN;
    rc = qemu_flush_tx(q);
    if (rc == -EAGAIN)
        goto blocked;
    if (rc < 0)
        goto failed;

    while (done < n) {
        k = qemu_build_iov(q, frames + done, n - done);
        if (!k) {           /* oversized frame: nobody could take it */
            q->tx_dropped++;
            ns_transport_count(&q->base, NETSTACK_STAT_drop_transport_tx, 1);
            done++;
            continue;
        }
        w = writev(q->conn_fd, q->iov, (int)(2 * k));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            goto blocked;
        if (w < 0) {
            rc = -errno;
            goto failed;
        }
        acc = qemu_account(q, frames + done, k, (size_t)w);
        done += acc;
        if (acc < k || q->tx_len)
            goto blocked;
    }
    return (ssize_t)n;

blocked:
    if (done < n)
        t->blocked = 1;
    qemu_watch_conn(q, 1);
    return (ssize_t)done;

failed:
    qemu_write_failed(q, -rc);
    if (!done)
        return rc;
    q->tx_dropped += n - done;  /* the stack must not wait for a wakeup that cannot come */
    ns_transport_count(&q->base, NETSTACK_STAT_drop_transport_tx, n - done);
    return (ssize_t)n;
}

/**
 * qemu_conn_ready() - event on the guest's connection
 * @opaque: the transport
 * @fd:     the connection
 * @events: NETSTACK_EV_* bits
 */
static void qemu_conn_ready(void *opaque, int fd, uint32_t events)
{
    struct qemu_transport *q = opaque;
    int rc;

    if (fd != q->conn_fd)
        return;
    if (events & (NETSTACK_EV_IN | NETSTACK_EV_HUP | NETSTACK_EV_ERR))
        qemu_read(q);
    if (q->conn_fd < 0 || !(events & NETSTACK_EV_OUT))
        return;
    rc = qemu_flush_tx(q);
    if (rc == -EAGAIN)
        return;
    if (rc < 0) {
        qemu_write_failed(q, -rc);
        return;
    }
    if (qemu_watch_conn(q, 0) == 0)
        ns_transport_unblock(&q->base);
}

/**
 * qemu_accept_reserve() - accept() when out of descriptors: drop the connection
 * @q:      the transport
 *
 * With level-triggered polling an unaccepted connection wakes us forever, so
 * give up the spare descriptor, accept and close the connection, and take the
 * spare back.
 */
static void qemu_accept_reserve(struct qemu_transport *q)
{
    int fd;

    ns_tlog(&q->base, NETSTACK_LOG_WARN, "out of file descriptors, refusing a guest connection");
    if (q->reserve_fd < 0)
        return;
    close(q->reserve_fd);
    fd = accept(q->listen_fd, NULL, NULL);
    if (fd >= 0)
        close(fd);
    q->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/**
 * qemu_adopt() - make @fd the guest's connection, replacing any current one
 * @q:      the transport
 * @fd:     a new, non-blocking connection
 */
static void qemu_adopt(struct qemu_transport *q, int fd)
{
    int sz = QEMU_SOCKBUF;

    if (q->conn_fd >= 0) {
        ns_tlog(&q->base, NETSTACK_LOG_INFO, "new connection replaces the current guest");
        qemu_close_conn(q);
        ns_transport_link_down(&q->base);
    } else {
        ns_tlog(&q->base, NETSTACK_LOG_INFO, "guest connected");
    }
    /* Bigger buffers: fewer wakeups per frame at 64 KiB frames; best effort. */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    q->conn_fd = fd;
    qemu_watch_conn(q, 0);
}

/**
 * qemu_listen_ready() - a guest is connecting
 * @opaque: the transport
 * @fd:     the listening socket
 * @events: NETSTACK_EV_* bits
 */
static void qemu_listen_ready(void *opaque, int fd, uint32_t events)
{
    struct qemu_transport *q = opaque;
    int c;

    (void)events;
    c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
        qemu_adopt(q, c);
        return;
    }
    if (errno == EMFILE || errno == ENFILE)
        qemu_accept_reserve(q);
    else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        ns_tlog(&q->base, NETSTACK_LOG_WARN, "accept: %s", strerror(errno));
}

/**
 * qemu_start() - watch the listening socket, or the inherited connection
 * @t:      the transport
 * Return: 0 or -errno
 */
static int qemu_start(struct ns_transport *t)
{
    struct qemu_transport *q = qemu_of(t);

    if (q->inherited)
        return qemu_watch_conn(q, 0);
    return netstack_watch(t->ns, q->listen_fd, NETSTACK_EV_IN, qemu_listen_ready, q);
}

/* qemu_stop() - leave the stack's loop */
static void qemu_stop(struct ns_transport *t)
{
    struct qemu_transport *q = qemu_of(t);

    if (q->conn_fd >= 0)
        netstack_unwatch(t->ns, q->conn_fd);
    if (q->listen_fd >= 0)
        netstack_unwatch(t->ns, q->listen_fd);
}

/* qemu_free() - close everything, remove the socket file, say what was dropped */
static void qemu_free(struct ns_transport *t)
{
    struct qemu_transport *q = qemu_of(t);

    if (q->drop_zero || q->drop_truncated || q->drop_range || q->tx_dropped)
        ns_tlog(t, NETSTACK_LOG_INFO,
                "dropped from the guest: %llu zero-length, %llu truncated, %llu out-of-range; "
                "to the guest: %llu", (unsigned long long)q->drop_zero,
                (unsigned long long)q->drop_truncated, (unsigned long long)q->drop_range,
                (unsigned long long)q->tx_dropped);
    if (q->conn_fd >= 0)
        close(q->conn_fd);
    if (q->listen_fd >= 0)
        close(q->listen_fd);
    if (q->reserve_fd >= 0)
        close(q->reserve_fd);
    ns_sockfile_remove(&q->file);
    free(q->rx);
    free(q->tx);
    free(q);
}

static const struct ns_transport_ops qemu_ops = {
    .start = qemu_start,
    .send = qemu_send,
    .stop = qemu_stop,
    .free = qemu_free,
};

/**
 * qemu_open_listen() - listen on @path
 * @q:      the transport
 * @path:   socket path
 * @err:    error message buffer
 * @errlen: its size
 * Return: 0 or -errno
 */
static int qemu_open_listen(struct qemu_transport *q, const char *path, char *err, size_t errlen)
{
    int fd = ns_unix_bind(SOCK_STREAM, path, &q->file, err, errlen);

    if (fd < 0)
        return fd;
    q->listen_fd = fd;
    if (listen(fd, 8) < 0) {
        ns_transport_seterr(err, errlen, "listen: %s: %s", path, strerror(errno));
        return -errno;
    }
    snprintf(q->base.desc, sizeof(q->base.desc), "qemu stream socket %s", path);
    return 0;
}

/**
 * qemu_open_fd() - take over an inherited, connected stream socket
 * @q:      the transport
 * @fd:     the descriptor
 * @err:    error message buffer
 * @errlen: its size
 * Return: 0 or -errno
 */
static int qemu_open_fd(struct qemu_transport *q, int fd, char *err, size_t errlen)
{
    int type = 0;
    socklen_t len = sizeof(type);

    if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
        ns_transport_seterr(err, errlen, "fd_open: fd %d: %s", fd, strerror(fd < 0 ? EBADF : errno));
        return -EBADF;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        ns_transport_seterr(err, errlen, "fd_open: fd %d is not a stream socket", fd);
        return -ENOTSOCK;
    }
    if (ns_set_nonblock(fd) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        ns_transport_seterr(err, errlen, "fd_open: fd %d: %s", fd, strerror(errno));
        return -errno;
    }
    q->inherited = 1;
    q->conn_fd = fd;
    snprintf(q->base.desc, sizeof(q->base.desc), "qemu stream on fd %d", fd);
    return 0;
}

/**
 * ns_qemu_open() - open a QEMU stream transport (--listen-qemu or --fd)
 * @opts:   NS_TRANSPORT_QEMU with a path, or NS_TRANSPORT_FD with an fd
 * @out:    the transport
 * @err:    on failure, "function: cause"
 * @errlen: size of @err
 * Return: 0 or -errno
 */
int ns_qemu_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                 char *err, size_t errlen)
{
    struct qemu_transport *q = calloc(1, sizeof(*q));
    int rc;

    if (!q) {
        ns_transport_seterr(err, errlen, "ns_qemu_open: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    ns_transport_init(&q->base, &qemu_ops, opts->kind == NS_TRANSPORT_FD ? "fd" : "qemu", opts);
    q->listen_fd = q->conn_fd = -1;
    q->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    q->rx = malloc(QEMU_RXBUF);
    q->tx = malloc(QEMU_HDR + NS_TRANSPORT_FRAME_MAX);
    if (!q->rx || !q->tx) {
        ns_transport_seterr(err, errlen, "ns_qemu_open: %s", strerror(ENOMEM));
        rc = -ENOMEM;
        goto fail;
    }
    if (opts->kind == NS_TRANSPORT_FD)
        rc = qemu_open_fd(q, opts->fd, err, errlen);
    else
        rc = qemu_open_listen(q, opts->path, err, errlen);
    if (rc < 0)
        goto fail;
    *out = &q->base;
    return 0;

fail:
    qemu_free(&q->base);
    return rc;
}
