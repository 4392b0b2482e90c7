/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport.h - netstackd's guest transports: how frames get in and out of the VM
 *
 * A transport owns the file descriptors that connect netstackd to its guest
 * (a QEMU stream socket, a unix datagram socket, a tap device, an inherited
 * fd, a vhost-user socket and the eventfds and guest memory it brings) and talks to the stack only through the public API:
 *
 *   guest -> netstack_input_batch()         frames read from the guest
 *   stack -> ns_transport_send()            installed as config.send_frames
 *   netstack_output_ready()                 the guest can take frames again
 *   netstack_link_down()                    the guest went away
 *   netstack_watch() / netstack_unwatch()   the transport's fds in the stack's loop
 *
 * Lifetime, in this order:
 *
 *   ns_transport_open()    create sockets / open the device; nothing runs yet,
 *                          so a bad path fails before the stack exists
 *   netstack_new()         with send_frames = ns_transport_send, opaque = t
 *   ns_transport_start()   register the fds in the stack's loop
 *   netstack_run()         ... until netstack_stop(), or the transport ends
 *   ns_transport_stop()    unregister; ns_transport_send() returns -ENOTCONN from now on
 *   netstack_free()        may still call ns_transport_send(): harmless
 *   ns_transport_free()    close everything, unlink socket files
 *
 * Transports never exit the process. A transport that cannot go on (the --fd
 * peer closed, the tap device vanished) calls netstack_stop() and records why;
 * netstackd reads that with ns_transport_end() and decides the exit code.
 *
 * The first part of this header is what netstackd uses; the second part is
 * shared by the transport_*.c backends only.
 */
#ifndef NETSTACK_TRANSPORT_H
#define NETSTACK_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "netstack.h"
#include "tools/netstackd/unixsock.h"

enum ns_transport_kind {
    NS_TRANSPORT_QEMU,      /* --listen-qemu PATH: stream socket, 4-byte BE length + frame */
    NS_TRANSPORT_FD,        /* --fd N: connected stream socket, same framing */
    NS_TRANSPORT_DGRAM,     /* --listen-dgram PATH: one frame per datagram */
    NS_TRANSPORT_TAP,       /* --tap NAME [--netns PATH]: tap device */
    NS_TRANSPORT_VMNET,     /* --listen-vmnet PATH: hyperkit virtio-vpnkit, 2-byte LE length */
    NS_TRANSPORT_VHOST_USER, /* --listen-vhost-user PATH: QEMU's vhost-user, virtqueues in shared memory */
};

/* Largest frame accepted from a guest: a 64 KiB IP packet plus Ethernet and VLAN headers. */
#define NS_TRANSPORT_FRAME_MAX (65535 + 18)

struct ns_transport_opts {
    enum ns_transport_kind kind;
    const char *path;       /* socket path (QEMU, DGRAM, VMNET, VHOST_USER) or interface name (TAP) */
    const char *netns;      /* TAP: network namespace file, NULL for our own */
    int fd;                 /* FD: the connected stream socket */
    unsigned mtu;           /* VMNET: the MTU announced to the guest, 0 for the default */
    netstack_log_fn log;    /* where the transport's messages go, may be NULL */
    void *log_opaque;
    enum netstack_log_level log_level;
    int no_offload;         /* TAP: plain frames only, no IFF_VNET_HDR; VHOST_USER: no
                               checksum or TSO features offered (--no-offload) */
};

/* How a transport finished, see ns_transport_end() */
enum ns_transport_state {
    NS_TRANSPORT_RUNNING = 0,   /* still serving (or stopped from outside) */
    NS_TRANSPORT_CLOSED,        /* the guest side closed for good: a clean end */
    NS_TRANSPORT_FAILED,        /* an error nothing can recover from */
};

struct ns_transport;

int ns_transport_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                      char *err, size_t errlen);
int ns_transport_start(struct ns_transport *t, struct netstack *ns);
ssize_t ns_transport_send(void *opaque, const struct netstack_frame *frames, size_t n);
int ns_transport_send_gather(void *opaque, const struct iovec *iov, size_t n,
                             const struct netstack_offload *off);
int ns_transport_can_gather(const struct ns_transport *t);
void ns_transport_stop(struct ns_transport *t);
void ns_transport_free(struct ns_transport *t);
const char *ns_transport_describe(const struct ns_transport *t);
enum ns_transport_state ns_transport_end(const struct ns_transport *t, const char **why);

/* ---------------------------------------------------------------------------
 * For the backends (transport_*.c) only
 */

/**
 * struct ns_transport_ops - what a backend implements
 * @start:  register its fds with netstack_watch(); t->ns is set. Return: 0 or -errno
 * @send:   config.send_frames, only called while started (t->ns set)
 * @send_gather: optional, config.send_gather: one frame in pieces, written now
 *          or refused (0) with the same backpressure as a short @send
 * @stop:   netstack_unwatch() everything; t->ns is still set
 * @free:   close fds, unlink files, free the backend; t->ns is NULL
 */
struct ns_transport_ops {
    int (*start)(struct ns_transport *t);
    ssize_t (*send)(struct ns_transport *t, const struct netstack_frame *frames, size_t n);
    int (*send_gather)(struct ns_transport *t, const struct iovec *iov, size_t n,
                       const struct netstack_offload *off);
    void (*stop)(struct ns_transport *t);
    void (*free)(struct ns_transport *t);
};

/**
 * struct ns_transport - state every backend embeds as its first member
 * @ops:        the backend
 * @name:       prefix of its log lines ("qemu", "fd", "dgram", "tap", "vmnet")
 * @desc:       what it serves, for netstackd's startup line
 * @ns:         the stack, between start and stop; NULL otherwise
 * @log:        log callback, its opaque and level
 * @link:       NETSTACK_LINK_* the link provides, given to the stack at start;
 *              ns_transport_init() sets INTEGRITY (every backend's link is a
 *              memory copy of the guest's own bytes), a backend adds offloads
 * @blocked:    send() reported backpressure and netstack_output_ready() is owed
 * @state:      see enum ns_transport_state
 * @why:        for CLOSED and FAILED, "function: cause"
 */
struct ns_transport {
    const struct ns_transport_ops *ops;
    const char *name;
    char desc[160];
    struct netstack *ns;
    netstack_log_fn log;
    void *log_opaque;
    enum netstack_log_level log_level;
    uint32_t link;
    int blocked;
    enum ns_transport_state state;
    char why[160];
};

void ns_transport_init(struct ns_transport *t, const struct ns_transport_ops *ops,
                       const char *name, const struct ns_transport_opts *opts);
int ns_tlog_enabled(const struct ns_transport *t, enum netstack_log_level level);
void ns_tlog(const struct ns_transport *t, enum netstack_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ns_transport_finish(struct ns_transport *t, enum ns_transport_state state,
                         const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ns_transport_unblock(struct ns_transport *t);
void ns_transport_count(struct ns_transport *t, enum netstack_stat stat, uint64_t n);
void ns_transport_link_down(struct ns_transport *t);

/*
 * Length-prefixed stream transports (transport_stream.c), shared by the QEMU
 * stream (4-byte big-endian prefix) and vmnet (2-byte little-endian prefix,
 * after a handshake) backends. A backend embeds struct ns_stream as its first
 * member and describes its wire format with a struct ns_stream_proto.
 */

#define NS_STREAM_HDR_MAX   4       /* longest length prefix */
#define NS_STREAM_BATCH     128     /* frames per netstack_input_batch() */
#define NS_STREAM_TX_BATCH  256     /* frames per writev(), 2 iovecs each, under IOV_MAX */

struct ns_stream;

/**
 * struct ns_stream_proto - a stream backend's wire format and connection rules
 * @hdr_len:        bytes of the length prefix, 1 to NS_STREAM_HDR_MAX
 * @big_endian:     byte order of the prefix
 * @nosignal:       write with send(MSG_NOSIGNAL) instead of write()
 * @tx_max:         largest frame a prefix can describe; larger ones are dropped
 * @txbuf:          size of the transmit buffer: at least @hdr_len + @tx_max,
 *                  plus whatever @handshake queues
 * @names_max:      the peer was told the largest frame: the warning about a
 *                  length above it names the maximum
 * @connect_level:  level of @connect_msg
 * @connect_msg:    logged when a connection arrives and none is current
 * @handshake:      NULL, or cuts handshake messages from the front of s->rx
 *                  while !s->framing, advancing *@off past each one, queueing
 *                  its replies in s->tx and setting s->framing when frames
 *                  may flow. No I/O: it is part of ns_stream_input(). Return:
 *                  0 (done or waiting for more bytes), -EPROTO when it refuses
 *                  the peer (last words queued in s->tx; the caller sends
 *                  them and closes the connection)
 * @handshake_ended: with @handshake: the connection ended before s->framing,
 *                  for the log; the connection is closed afterwards
 */
struct ns_stream_proto {
    unsigned hdr_len;
    int big_endian;
    int nosignal;
    size_t tx_max;
    size_t txbuf;
    int names_max;
    enum netstack_log_level connect_level;
    const char *connect_msg;
    int (*handshake)(struct ns_stream *s, size_t *off);
    void (*handshake_ended)(struct ns_stream *s, const char *why);
};

/**
 * struct ns_stream - a length-prefixed stream transport
 * @base:       shared transport state
 * @proto:      the wire format
 * @listen_fd:  listening socket, -1 for an inherited connection
 * @conn_fd:    the guest's connection, -1 when none
 * @inherited:  the connection came from our parent (--fd), nothing can follow it
 * @framing:    frames flow both ways (the handshake, if any, is done)
 * @step:       handshake progress, for proto->handshake; 0 on a new connection
 * @broken:     a write failed; no more sends, the read side will close
 * @file:       the socket file, removed on free
 * @rx_max:     largest frame length accepted from the guest
 * @rx:         receive buffer, @rx_len bytes valid
 * @tx:         bytes owed to the guest (handshake replies, the tail of a frame
 *              a partial write cut): @tx_len bytes from @tx_off
 * @batch:      frames cut out of @rx for one netstack_input_batch()
 * @hdr:        length prefixes of the frames in one writev()
 * @iov:        the writev() vector
 * @drop_*:     frames from the guest dropped here, before the stack sees them
 * @tx_dropped: frames to the guest dropped (oversized, or after a write error)
 */
struct ns_stream {
    struct ns_transport base;
    const struct ns_stream_proto *proto;
    int listen_fd;
    int conn_fd;
    int inherited;
    int framing;
    unsigned step;
    int broken;
    struct ns_sockfile file;
    size_t rx_max;
    uint8_t *rx;
    size_t rx_len;
    uint8_t *tx;
    size_t tx_off, tx_len;
    struct netstack_frame batch[NS_STREAM_BATCH];
    uint8_t hdr[NS_STREAM_TX_BATCH][NS_STREAM_HDR_MAX];
    struct iovec iov[2 * NS_STREAM_TX_BATCH];
    uint64_t drop_zero, drop_truncated, drop_range, tx_dropped;
};

int ns_stream_init(struct ns_stream *s, const struct ns_stream_proto *proto, const char *name,
                   const struct ns_transport_opts *opts);
int ns_stream_listen(struct ns_stream *s, const char *path, char *err, size_t errlen);
void ns_stream_close_conn(struct ns_stream *s);
void ns_stream_free(struct ns_stream *s);

int ns_qemu_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                 char *err, size_t errlen);
int ns_dgram_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                  char *err, size_t errlen);
int ns_tap_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                char *err, size_t errlen);
int ns_vmnet_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                  char *err, size_t errlen);
int ns_vhost_user_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                       char *err, size_t errlen);

#endif /* NETSTACK_TRANSPORT_H */
