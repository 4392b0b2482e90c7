/* SPDX-License-Identifier: BSD-3-Clause */
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
 * Reading, writing, backpressure and the connection rules are
 * transport_stream.c's; this file gives it the wire format above (a length
 * above NS_TRANSPORT_FRAME_MAX closes the connection: the stream cannot be
 * resynchronised) and opens the socket one of the two ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tools/netstackd/transport.h"

#define QEMU_HDR        4

/* The wire format: a 4-byte big-endian length, any frame we could receive. */
static const struct ns_stream_proto qemu_proto = {
    .hdr_len = QEMU_HDR,
    .big_endian = 1,
    .tx_max = NS_TRANSPORT_FRAME_MAX,
    .txbuf = QEMU_HDR + NS_TRANSPORT_FRAME_MAX,
    .connect_level = NETSTACK_LOG_INFO,
    .connect_msg = "guest connected",
};

/**
 * qemu_open_listen() - listen on @path
 * @q:      the transport
 * @path:   socket path
 * @err:    error message buffer
 * @errlen: its size
 * Return: 0 or -errno
 */
static int qemu_open_listen(struct ns_stream *q, const char *path, char *err, size_t errlen)
{
    int rc = ns_stream_listen(q, path, err, errlen);

    if (rc < 0)
        return rc;
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
static int qemu_open_fd(struct ns_stream *q, int fd, char *err, size_t errlen)
{
    int type = 0;
    socklen_t len = sizeof(type);

    if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
        ns_seterr(err, errlen, "fd_open: fd %d: %s", fd, strerror(fd < 0 ? EBADF : errno));
        return -EBADF;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        ns_seterr(err, errlen, "fd_open: fd %d is not a stream socket", fd);
        return -ENOTSOCK;
    }
    if (ns_set_nonblock(fd) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        ns_seterr(err, errlen, "fd_open: fd %d: %s", fd, strerror(errno));
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
    struct ns_stream *q = calloc(1, sizeof(*q));
    int rc;

    if (!q) {
        ns_seterr(err, errlen, "ns_qemu_open: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    if (ns_stream_init(q, &qemu_proto, opts->kind == NS_TRANSPORT_FD ? "fd" : "qemu", opts) < 0) {
        ns_seterr(err, errlen, "ns_qemu_open: %s", strerror(ENOMEM));
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
    ns_stream_free(q);
    return rc;
}
