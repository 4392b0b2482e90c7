/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport_stream.c - length-prefixed frames over a unix stream socket
 *
 * Theory of Operation
 *
 * The QEMU stream (transport_qemu.c) and vmnet (transport_vmnet.c) backends
 * carry Ethernet frames the same way, each behind a length prefix:
 *
 *     +----------------+------------------------+-----
 *     | len (hdr_len)  | Ethernet frame, no FCS | next len ...
 *     +----------------+------------------------+-----
 *
 * and differ only in the prefix (struct ns_stream_proto: its size and byte
 * order), the limits, and vmnet's handshake before the first frame. This file
 * is everything else.
 *
 * Connections: either an inherited, connected socket (--fd: nothing can
 * reconnect, so when it closes the transport finishes), or a listening socket
 * serving one guest at a time. A new connection replaces the current one (a
 * VM that rebooted reconnects before we notice the old connection is dead),
 * and after a disconnect we keep listening.
 *
 * Receive: read in large chunks into one buffer, then decode with
 * ns_stream_input() (transport_decode.h), which touches no descriptor so the
 * fuzz harnesses run it too: while the backend's handshake is not done, its
 * hook cuts the handshake messages from the front and queues its replies
 * (so a client that sends its handshake and first frames in one write is
 * served); then every complete frame is cut out and handed to
 * netstack_input_batch() by pointer (the stack copies what it keeps), and the
 * incomplete tail moves to the front. A length of 0 is dropped and counted; a
 * length above s->rx_max means the stream is garbage or desynchronised and
 * there is no way to find the next frame boundary, so the connection is
 * closed with a warning. A handshake that refuses its peer has its last
 * words sent (one non-blocking attempt) and the connection closed. A
 * connection that ends inside a frame counts one truncated frame. Frames
 * shorter than an Ethernet header are passed on: the stack counts them
 * (drop_eth_short).
 *
 * Send: one writev() carries many frames (a prefix iovec and the frame iovec
 * each). If the socket takes only part of it, the frame cut in the middle is
 * copied whole-remainder into the transmit buffer (the stream must stay in
 * sync, so a frame once started must be finished), that frame counts as
 * accepted, the following ones do not, and we wait for EPOLLOUT:
 * backpressure. When the remainder is written we call netstack_output_ready()
 * and the stack hands us its queue again. Handshake replies go through the
 * same transmit buffer.
 *
 * A write error (EPIPE, ECONNRESET) shuts the socket down: the read side then
 * sees the end of the stream and does the disconnect, from the event loop
 * rather than from inside the stack's send callback.
 *
 * What the link guarantees: a unix stream socket delivers the peer's bytes
 * exactly (NETSTACK_LINK_INTEGRITY, set by ns_transport_init()), so the
 * stack verifies no TCP or UDP checksum of these frames; the framing carries
 * no virtio-net header, so there are no offloads: the guest (QEMU's
 * virtio-net without a vnet-header peer) sends complete checksums and
 * frames within the MTU, and gets the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tools/netstackd/transport.h"
#include "tools/netstackd/transport_decode.h"

#define STREAM_RXBUF    (512 * 1024)    /* bytes read per read() at most */
#define STREAM_READS    8               /* read()s per wakeup: fairness to host sockets */
#define STREAM_SOCKBUF  (4 * 1024 * 1024)   /* asked for, the kernel caps it */

/**
 * stream_of() - the stream around @t; the base is its first member
 */
static struct ns_stream *stream_of(struct ns_transport *t)
{
    return (struct ns_stream *)t;
}

static void stream_conn_ready(void *opaque, int fd, uint32_t events);

/**
 * stream_get_len() - read a length prefix
 * @s:      the stream
 * @p:      s->proto->hdr_len bytes; the caller checked they were received
 */
static uint32_t stream_get_len(const struct ns_stream *s, const uint8_t *p)
{
    unsigned i, n = s->proto->hdr_len;
    uint32_t v = 0;

    for (i = 0; i < n; i++)
        v |= (uint32_t)p[s->proto->big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
    return v;
}

/**
 * stream_put_len() - write a length prefix
 * @s:      the stream
 * @p:      s->proto->hdr_len bytes of room
 * @len:    the length, describable by the prefix (at most s->proto->tx_max)
 */
static void stream_put_len(const struct ns_stream *s, uint8_t *p, size_t len)
{
    unsigned i, n = s->proto->hdr_len;

    for (i = 0; i < n; i++)
        p[s->proto->big_endian ? i : n - 1 - i] = (uint8_t)(len >> (8 * (n - 1 - i)));
}

/**
 * stream_watch_conn() - (re)register the connection: readable always, writable
 * only while bytes are owed to the guest (a partly written frame, a handshake
 * reply, or backpressure)
 * @s:      the stream, with a connection
 * @out:    also watch for writability
 *
 * A failure here leaves the guest unserved: the transport finishes.
 * Return: 0 or -errno
 */
static int stream_watch_conn(struct ns_stream *s, int out)
{
    uint32_t ev = NETSTACK_EV_IN | (out ? NETSTACK_EV_OUT : 0);
    int rc;

    rc = netstack_watch(s->base.ns, s->conn_fd, ev, stream_conn_ready, s);
    if (rc < 0)
        ns_transport_finish(&s->base, NS_TRANSPORT_FAILED, "netstack_watch: %s", strerror(-rc));
    return rc;
}

/**
 * ns_stream_reset() - see transport_decode.h
 */
void ns_stream_reset(struct ns_stream *s)
{
    s->framing = !s->proto->handshake;
    s->step = 0;
    s->rx_len = 0;
    s->tx_len = s->tx_off = 0;
    s->broken = 0;
}

/**
 * ns_stream_close_conn() - forget the connection, and what was half read or written on it
 * @s:      the stream, with a connection
 */
void ns_stream_close_conn(struct ns_stream *s)
{
    if (s->base.ns)
        netstack_unwatch(s->base.ns, s->conn_fd);
    close(s->conn_fd);
    s->conn_fd = -1;
    ns_stream_reset(s);
}

/**
 * stream_disconnect() - the guest's connection ended
 * @s:      the stream, with a connection
 * @why:    for the log: "closed by the guest", a strerror(), ...
 *
 * A connection that ends during the handshake never was a link: the backend
 * logs it. Bytes left in the receive buffer are a frame cut short: count it.
 * For an inherited connection this is the end of the transport; otherwise the
 * link goes down and we wait for the guest to connect again.
 */
static void stream_disconnect(struct ns_stream *s, const char *why)
{
    if (!s->framing) {
        s->proto->handshake_ended(s, why);
        ns_stream_close_conn(s);
        return;
    }
    if (s->rx_len) {
        s->drop_truncated++;
        ns_transport_count(&s->base, NETSTACK_STAT_drop_transport_truncated, 1);
        ns_tlog(&s->base, NETSTACK_LOG_DEBUG, "connection ended inside a frame (%zu bytes), dropped",
                s->rx_len);
    }
    ns_stream_close_conn(s);
    if (s->inherited) {
        ns_transport_finish(&s->base, NS_TRANSPORT_CLOSED, "connection %s", why);
        return;
    }
    ns_tlog(&s->base, NETSTACK_LOG_INFO, "guest disconnected (%s), waiting for a new connection",
            why);
    ns_transport_link_down(&s->base);
}

/**
 * stream_parse() - the handshake, then every complete frame in the receive buffer
 * @s:      the stream
 *
 * Leaves the incomplete tail (under hdr_len + rx_max bytes) at the start of
 * the buffer; after an error, nothing.
 * Return: 0, -EPROTO when the handshake refused the peer, -EMSGSIZE for a
 * length out of range
 */
static int stream_parse(struct ns_stream *s)
{
    const size_t hdr = s->proto->hdr_len;
    size_t off = 0, nb = 0;
    int bad = 0;
    uint32_t len;

    if (!s->framing && s->proto->handshake(s, &off) < 0) {
        s->rx_len = 0;
        return -EPROTO;
    }
    while (s->framing && s->rx_len - off >= hdr) {
        len = stream_get_len(s, s->rx + off);
        if (len == 0) {
            s->drop_zero++;
            ns_transport_count(&s->base, NETSTACK_STAT_drop_transport_empty, 1);
            ns_tlog(&s->base, NETSTACK_LOG_DEBUG, "zero-length frame dropped");
            off += hdr;
            continue;
        }
        if (len > s->rx_max) {
            s->drop_range++;
            ns_transport_count(&s->base, NETSTACK_STAT_drop_transport_oversized, 1);
            if (s->proto->names_max)
                ns_tlog(&s->base, NETSTACK_LOG_WARN,
                        "frame length %u above the maximum packet size %u, closing connection",
                        len, (unsigned)s->rx_max);
            else
                ns_tlog(&s->base, NETSTACK_LOG_WARN,
                        "frame length %u out of range, closing connection", len);
            bad = 1;
            break;
        }
        if (s->rx_len - off - hdr < len)
            break;
        s->batch[nb].data = s->rx + off + hdr;
        s->batch[nb].len = len;
        off += hdr + len;
        if (++nb == NS_STREAM_BATCH) {
            netstack_input_batch(s->base.ns, s->batch, nb);
            nb = 0;
        }
    }
    /* Frames before a bad length were well formed: the guest gets them. */
    if (nb)
        netstack_input_batch(s->base.ns, s->batch, nb);
    if (bad) {
        s->rx_len = 0;  /* garbage, not a truncated frame */
        return -EMSGSIZE;
    }
    memmove(s->rx, s->rx + off, s->rx_len - off);
    s->rx_len -= off;
    return 0;
}

/**
 * ns_stream_input() - see transport_decode.h
 */
int ns_stream_input(struct ns_stream *s, const uint8_t *data, size_t len)
{
    size_t take;
    int rc;

    while (len) {
        /* Never 0: stream_parse() leaves less than hdr_len + rx_max. */
        take = STREAM_RXBUF - s->rx_len;
        if (take > len)
            take = len;
        if (data != s->rx + s->rx_len)
            memcpy(s->rx + s->rx_len, data, take);
        s->rx_len += take;
        rc = stream_parse(s);
        if (rc < 0)
            return rc;
        data += take;
        len -= take;
    }
    return 0;
}

/**
 * stream_flush_tx() - write what is owed to the guest
 * @s:      the stream, with a connection
 *
 * Return: 0 when nothing is left, -EAGAIN when some is, other -errno on a
 * write error
 */
static int stream_flush_tx(struct ns_stream *s)
{
    ssize_t n;

    while (s->tx_len) {
        if (s->proto->nosignal)
            n = send(s->conn_fd, s->tx + s->tx_off, s->tx_len, MSG_NOSIGNAL);
        else
            n = write(s->conn_fd, s->tx + s->tx_off, s->tx_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        s->tx_off += (size_t)n;
        s->tx_len -= (size_t)n;
    }
    s->tx_off = 0;
    return 0;
}

/**
 * stream_write_failed() - a write to the guest failed for good
 * @s:      the stream, with a connection
 * @err:    the errno
 *
 * Shut the socket down instead of closing it here: we may be inside the
 * stack's send callback. The read side sees the end of the stream next and
 * disconnects from the event loop.
 */
static void stream_write_failed(struct ns_stream *s, int err)
{
    ns_tlog(&s->base, NETSTACK_LOG_INFO, "write to the guest failed: %s", strerror(err));
    s->broken = 1;
    s->tx_len = s->tx_off = 0;
    shutdown(s->conn_fd, SHUT_RDWR);
}

/**
 * stream_reject() - the handshake refused the peer: its last words, then close
 * @s:      the stream, with a connection
 *
 * What is queued (our init reply may still be there, before the refusal)
 * gets one non-blocking attempt: nothing to do if it does not fit.
 */
static void stream_reject(struct ns_stream *s)
{
    ssize_t w;

    if (s->tx_len) {
        w = send(s->conn_fd, s->tx + s->tx_off, s->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    ns_stream_close_conn(s);
}

/**
 * stream_read() - read what the guest sent: handshake messages, then frames
 * @s:      the stream, with a connection
 *
 * A short read means the socket is drained; otherwise read again, up to
 * STREAM_READS times so a guest sending flat out leaves the loop some time for
 * host sockets (the fd stays readable and we come back).
 */
static void stream_read(struct ns_stream *s)
{
    size_t room;
    ssize_t n;
    int i, rc, was;

    for (i = 0; i < STREAM_READS && s->conn_fd >= 0; i++) {
        room = STREAM_RXBUF - s->rx_len;
        n = read(s->conn_fd, s->rx + s->rx_len, room);
        if (n == 0) {
            stream_disconnect(s, "closed by the guest");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                stream_disconnect(s, strerror(errno));
            return;
        }
        was = s->framing;
        rc = ns_stream_input(s, s->rx + s->rx_len, (size_t)n);
        if (rc == -EPROTO) {
            stream_reject(s);
            return;
        }
        if (rc < 0) {
            if (s->inherited)
                ns_transport_finish(&s->base, NS_TRANSPORT_FAILED,
                                    "stream_read: frame length out of range on fd %d", s->conn_fd);
            stream_disconnect(s, "bad frame length");
            return;
        }
        if (!was && s->tx_len) {    /* handshake replies to send */
            rc = stream_flush_tx(s);
            if (rc == -EAGAIN)
                rc = stream_watch_conn(s, 1);
            else if (rc < 0)
                stream_write_failed(s, -rc);
            if (rc < 0)
                return;
        }
        if ((size_t)n < room)
            return;
    }
}

/**
 * stream_keep_tail() - keep the unwritten part of a frame a writev() cut
 * @s:      the stream, transmit buffer empty
 * @f:      the frame, at most proto->tx_max bytes
 * @done:   bytes of prefix + frame already written, less than hdr_len + f->len
 */
static void stream_keep_tail(struct ns_stream *s, const struct netstack_frame *f, size_t done)
{
    const size_t hdr_len = s->proto->hdr_len;
    uint8_t hdr[NS_STREAM_HDR_MAX];
    size_t n = 0;

    stream_put_len(s, hdr, f->len);
    if (done < hdr_len) {
        memcpy(s->tx, hdr + done, hdr_len - done);
        n = hdr_len - done;
        done = hdr_len;
    }
    memcpy(s->tx + n, (const uint8_t *)f->data + (done - hdr_len), f->len - (done - hdr_len));
    s->tx_off = 0;
    s->tx_len = n + f->len - (done - hdr_len);
}

/**
 * stream_build_iov() - fill the writev() vector from @frames
 * @s:      the stream
 * @frames: frames to send
 * @n:      how many
 *
 * Stops before a frame the prefix cannot describe or the transmit buffer
 * could not hold (stream_send() drops it).
 * Return: number of frames in the vector
 */
static size_t stream_build_iov(struct ns_stream *s, const struct netstack_frame *frames, size_t n)
{
    size_t k;

    for (k = 0; k < n && k < NS_STREAM_TX_BATCH; k++) {
        if (frames[k].len > s->proto->tx_max)
            break;
        stream_put_len(s, s->hdr[k], frames[k].len);
        s->iov[2 * k].iov_base = s->hdr[k];
        s->iov[2 * k].iov_len = s->proto->hdr_len;
        s->iov[2 * k + 1].iov_base = (void *)frames[k].data;
        s->iov[2 * k + 1].iov_len = frames[k].len;
    }
    return k;
}

/**
 * stream_account() - how many of @k frames a writev() of @w bytes completed
 * @s:      the stream
 * @frames: the frames of the writev()
 * @k:      how many were in it
 * @w:      bytes written
 *
 * A frame written in part is completed later from the transmit buffer, so it
 * counts as accepted.
 * Return: frames accepted
 */
static size_t stream_account(struct ns_stream *s, const struct netstack_frame *frames,
                             size_t k, size_t w)
{
    size_t i, flen;

    for (i = 0; i < k && w; i++) {
        flen = s->proto->hdr_len + frames[i].len;
        if (w < flen) {
            stream_keep_tail(s, &frames[i], w);
            return i + 1;
        }
        w -= flen;
    }
    return i;
}

/**
 * stream_send() - frames to the guest, as many per writev() as fit
 * @t:      the transport
 * @frames: frames in order
 * @n:      how many
 *
 * Return: frames accepted; fewer than @n is backpressure (EPOLLOUT watched);
 * -ENOTCONN with no guest or before the handshake completed, -errno after a
 * write error with nothing written
 */
static ssize_t stream_send(struct ns_transport *t, const struct netstack_frame *frames, size_t n)
{
    struct ns_stream *s = stream_of(t);
    size_t done = 0, k, acc;
    ssize_t w;
    int rc;

    if (s->conn_fd < 0 || s->broken || !s->framing)
        return -ENOTCONN;
    rc = stream_flush_tx(s);
    if (rc == -EAGAIN)
        goto blocked;
    if (rc < 0)
        goto failed;

    while (done < n) {
        k = stream_build_iov(s, frames + done, n - done);
        if (!k) {           /* oversized frame: nobody could take it */
            s->tx_dropped++;
            ns_transport_count(&s->base, NETSTACK_STAT_drop_transport_tx, 1);
            done++;
            continue;
        }
        w = writev(s->conn_fd, s->iov, (int)(2 * k));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            goto blocked;
        if (w < 0) {
            rc = -errno;
            goto failed;
        }
        acc = stream_account(s, frames + done, k, (size_t)w);
        done += acc;
        if (acc < k || s->tx_len)
            goto blocked;
    }
    return (ssize_t)n;

blocked:
    if (done < n)
        t->blocked = 1;
    stream_watch_conn(s, 1);
    return (ssize_t)done;

failed:
    stream_write_failed(s, -rc);
    if (!done)
        return rc;
    s->tx_dropped += n - done;  /* the stack must not wait for a wakeup that cannot come */
    ns_transport_count(&s->base, NETSTACK_STAT_drop_transport_tx, n - done);
    return (ssize_t)n;
}

/**
 * stream_conn_ready() - event on the guest's connection
 * @opaque: the stream
 * @fd:     the connection
 * @events: NETSTACK_EV_* bits
 */
static void stream_conn_ready(void *opaque, int fd, uint32_t events)
{
    struct ns_stream *s = opaque;
    int rc;

    if (fd != s->conn_fd)
        return;
    if (events & (NETSTACK_EV_IN | NETSTACK_EV_HUP | NETSTACK_EV_ERR))
        stream_read(s);
    if (s->conn_fd < 0 || !(events & NETSTACK_EV_OUT))
        return;
    rc = stream_flush_tx(s);
    if (rc == -EAGAIN)
        return;
    if (rc < 0) {
        stream_write_failed(s, -rc);
        return;
    }
    if (stream_watch_conn(s, 0) == 0)
        ns_transport_unblock(&s->base);
}

/**
 * stream_adopt() - make @fd the guest's connection, replacing any current one
 * @s:      the stream
 * @fd:     a new, non-blocking connection; its handshake, if any, starts now
 *
 * Replacing a connection that carried frames takes the link down; one still
 * in its handshake never was a link.
 */
static void stream_adopt(struct ns_stream *s, int fd)
{
    int sz = STREAM_SOCKBUF;
    int was;

    if (s->conn_fd >= 0) {
        ns_tlog(&s->base, NETSTACK_LOG_INFO, "new connection replaces the current guest");
        was = s->framing;
        ns_stream_close_conn(s);
        if (was)
            ns_transport_link_down(&s->base);
    } else {
        ns_tlog(&s->base, s->proto->connect_level, "%s", s->proto->connect_msg);
    }
    /* Bigger buffers: fewer wakeups per frame at 64 KiB frames; best effort. */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    s->conn_fd = fd;
    stream_watch_conn(s, 0);
}

/**
 * stream_listen_ready() - a guest is connecting
 * @opaque: the stream
 * @fd:     the listening socket
 * @events: NETSTACK_EV_* bits
 */
static void stream_listen_ready(void *opaque, int fd, uint32_t events)
{
    struct ns_stream *s = opaque;
    int c;

    (void)events;
    /* Out of descriptors, the connection is closed at once (and counted). */
    c = netstack_accept(s->base.ns, fd, NULL, NULL);
    if (c >= 0)
        stream_adopt(s, c);
    else if (c != -EAGAIN && c != -EINTR && c != -ECONNABORTED && c != -EMFILE)
        ns_tlog(&s->base, NETSTACK_LOG_WARN, "accept: %s", strerror(-c));
}

/**
 * stream_start() - watch the listening socket, or the inherited connection
 * @t:      the transport
 * Return: 0 or -errno
 */
static int stream_start(struct ns_transport *t)
{
    struct ns_stream *s = stream_of(t);

    if (s->inherited)
        return stream_watch_conn(s, 0);
    return netstack_watch(t->ns, s->listen_fd, NETSTACK_EV_IN, stream_listen_ready, s);
}

/**
 * stream_stop() - leave the stack's loop
 */
static void stream_stop(struct ns_transport *t)
{
    struct ns_stream *s = stream_of(t);

    if (s->conn_fd >= 0)
        netstack_unwatch(t->ns, s->conn_fd);
    if (s->listen_fd >= 0)
        netstack_unwatch(t->ns, s->listen_fd);
}

/**
 * stream_free() - the ns_transport_ops entry for ns_stream_free()
 */
static void stream_free(struct ns_transport *t)
{
    ns_stream_free(stream_of(t));
}

static const struct ns_transport_ops stream_ops = {
    .start = stream_start,
    .send = stream_send,
    .stop = stream_stop,
    .free = stream_free,
};

/**
 * ns_stream_free() - close everything, remove the socket file, say what was
 * dropped, and free the backend around @s (allocated with @s at its start)
 * @s:      the stream
 */
void ns_stream_free(struct ns_stream *s)
{
    if (s->drop_zero || s->drop_truncated || s->drop_range || s->tx_dropped)
        ns_tlog(&s->base, NETSTACK_LOG_INFO,
                "dropped from the guest: %llu zero-length, %llu truncated, %llu out-of-range; "
                "to the guest: %llu", (unsigned long long)s->drop_zero,
                (unsigned long long)s->drop_truncated, (unsigned long long)s->drop_range,
                (unsigned long long)s->tx_dropped);
    if (s->conn_fd >= 0)
        close(s->conn_fd);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    ns_sockfile_remove(&s->file);
    free(s->rx);
    free(s->tx);
    free(s);
}

/**
 * ns_stream_init() - set up a zeroed stream: no sockets yet, buffers allocated
 * @s:      the stream, at the start of a calloc()ed backend
 * @proto:  the wire format, static
 * @name:   prefix of the log lines
 * @opts:   the transport options
 *
 * On failure the caller still frees @s with ns_stream_free().
 * Return: 0 or -ENOMEM
 */
int ns_stream_init(struct ns_stream *s, const struct ns_stream_proto *proto, const char *name,
                   const struct ns_transport_opts *opts)
{
    ns_transport_init(&s->base, &stream_ops, name, opts);
    s->proto = proto;
    s->listen_fd = s->conn_fd = -1;
    s->framing = !proto->handshake;
    s->rx_max = NS_TRANSPORT_FRAME_MAX;
    s->rx = malloc(STREAM_RXBUF);
    s->tx = malloc(proto->txbuf);
    return s->rx && s->tx ? 0 : -ENOMEM;
}

/**
 * ns_stream_listen() - listen on @path
 * @s:      the stream
 * @path:   socket path
 * @err:    error message buffer
 * @errlen: its size
 * Return: 0 or -errno
 */
int ns_stream_listen(struct ns_stream *s, const char *path, char *err, size_t errlen)
{
    int fd = ns_unix_bind(SOCK_STREAM, path, &s->file, err, errlen);
    int rc;

    if (fd < 0)
        return fd;
    s->listen_fd = fd;
    if (listen(fd, 8) < 0) {
        rc = -errno;
        ns_seterr(err, errlen, "listen: %s: %s", path, strerror(errno));
        return rc;
    }
    return 0;
}
