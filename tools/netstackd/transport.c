/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport.c - what every guest transport shares: the factory and the dispatch
 *
 * Theory of Operation
 *
 * The generic half of a transport: dispatch from the public calls in
 * transport.h to the backend's ops, the log helper that prefixes each line with
 * the backend's name, the end-of-service record netstackd reads after the loop
 * returns. (The unix socket chores two backends and the control API need are
 * unixsock.c's.)
 *
 * Backpressure bookkeeping lives here too. When a backend's send() returns
 * fewer frames than it was given, it sets t->blocked and waits for writability;
 * whatever makes the guest able to take frames again (the fd became writable,
 * a new guest replaced the one that pushed back) goes through
 * ns_transport_unblock(), so netstack_output_ready() is called exactly once
 * per episode and the stack never waits for a wakeup that cannot come.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/netstackd/transport.h"

/**
 * ns_transport_init() - fill the part of a transport every backend shares
 * @t:      the embedded base
 * @ops:    the backend
 * @name:   log prefix, a string constant
 * @opts:   the options it was opened with (for the log callback)
 */
void ns_transport_init(struct ns_transport *t, const struct ns_transport_ops *ops,
                       const char *name, const struct ns_transport_opts *opts)
{
    memset(t, 0, sizeof(*t));
    t->ops = ops;
    t->name = name;
    t->log = opts->log;
    t->log_opaque = opts->log_opaque;
    t->log_level = opts->log_level;
    t->link = NETSTACK_LINK_INTEGRITY;
}

/**
 * ns_tlog_enabled() - would a line at @level be printed?
 * Lets a hot path skip formatting a debug line nobody reads.
 */
int ns_tlog_enabled(const struct ns_transport *t, enum netstack_log_level level)
{
    return t->log && level <= t->log_level;
}

/**
 * ns_tlog() - log one line, prefixed with the backend's name
 * @t:      the transport
 * @level:  its level; dropped when above the configured one
 * @fmt:    printf style, no trailing newline
 */
void ns_tlog(const struct ns_transport *t, enum netstack_log_level level, const char *fmt, ...)
{
    char msg[512];
    int n;
    va_list ap;

    if (!ns_tlog_enabled(t, level))
        return;
    n = snprintf(msg, sizeof(msg), "%s: ", t->name);
    if (n < 0 || (size_t)n >= sizeof(msg))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    t->log(t->log_opaque, level, msg);
}

/**
 * ns_transport_finish() - the transport cannot serve any more: stop the loop
 * @t:      the transport
 * @state:  NS_TRANSPORT_CLOSED (clean end) or NS_TRANSPORT_FAILED
 * @fmt:    why, "function: cause" for failures
 *
 * Only the first reason is kept: it is the cause, later ones are consequences.
 */
void ns_transport_finish(struct ns_transport *t, enum ns_transport_state state,
                         const char *fmt, ...)
{
    va_list ap;

    if (t->state != NS_TRANSPORT_RUNNING)
        return;
    t->state = state;
    va_start(ap, fmt);
    vsnprintf(t->why, sizeof(t->why), fmt, ap);
    va_end(ap);
    if (t->ns)
        netstack_stop(t->ns);
}

/**
 * ns_transport_unblock() - settle a backpressure episode, if one is open
 * @t:      the transport
 *
 * Call after the backend's own state says it can take frames (or that there
 * is no guest, in which case the stack's retry drops the frames and counts
 * them). Clear the flag first: output_ready() re-enters send(), which may
 * block again.
 */
void ns_transport_unblock(struct ns_transport *t)
{
    if (!t->blocked || !t->ns)
        return;
    t->blocked = 0;
    netstack_output_ready(t->ns);
}

/**
 * ns_transport_link_down() - the guest went away
 * @t:      the transport
 *
 * Tells the stack, then closes any backpressure episode: the frames the stack
 * was holding for the old guest are gone, and it must not keep waiting for a
 * writability that only the old guest could have signalled.
 */
void ns_transport_link_down(struct ns_transport *t)
{
    if (!t->ns)
        return;
    netstack_link_down(t->ns);
    ns_transport_unblock(t);
}

/**
 * ns_transport_open() - open the transport @opts describes
 * @opts:   kind and its parameters
 * @out:    the transport on success
 * @err:    on failure, "function: cause" for netstackd to print
 * @errlen: size of @err
 *
 * Return: 0 or -errno
 */
int ns_transport_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                      char *err, size_t errlen)
{
    switch (opts->kind) {
    case NS_TRANSPORT_QEMU:
    case NS_TRANSPORT_FD:
        return ns_qemu_open(opts, out, err, errlen);
    case NS_TRANSPORT_DGRAM:
        return ns_dgram_open(opts, out, err, errlen);
    case NS_TRANSPORT_TAP:
        return ns_tap_open(opts, out, err, errlen);
    case NS_TRANSPORT_VMNET:
        return ns_vmnet_open(opts, out, err, errlen);
    case NS_TRANSPORT_VHOST_USER:
        return ns_vhost_user_open(opts, out, err, errlen);
    }
    ns_seterr(err, errlen, "ns_transport_open: unknown transport %d", (int)opts->kind);
    return -EINVAL;
}

/**
 * ns_transport_start() - start serving the guest from @ns's loop
 * Return: 0 or -errno
 */
int ns_transport_start(struct ns_transport *t, struct netstack *ns)
{
    int rc;

    t->ns = ns;
    rc = netstack_set_offloads(ns, t->link);
    if (rc == 0)
        rc = t->ops->start(t);
    if (rc < 0)
        t->ns = NULL;
    return rc;
}

/**
 * ns_transport_send() - config.send_frames: frames from the stack to the guest
 * @opaque: the transport
 * @frames: frames in order
 * @n:      how many
 *
 * Return: frames accepted (fewer than @n: backpressure), or -ENOTCONN when
 * not started or no guest is attached
 */
ssize_t ns_transport_send(void *opaque, const struct netstack_frame *frames, size_t n)
{
    struct ns_transport *t = opaque;

    if (!t || !t->ns)
        return -ENOTCONN;
    return t->ops->send(t, frames, n);
}

/**
 * ns_transport_send_gather() - config.send_gather: one frame in pieces, now
 * @opaque: the transport
 * @iov:    the frame's pieces
 * @n:      how many
 * @off:    its offload state
 *
 * Return: 1 taken, 0 would block (the transport owes netstack_output_ready()),
 * -ENOTCONN when not started or no guest is attached
 */
int ns_transport_send_gather(void *opaque, const struct iovec *iov, size_t n,
                             const struct netstack_offload *off)
{
    struct ns_transport *t = opaque;

    if (!t || !t->ns || !t->ops->send_gather)
        return -ENOTCONN;
    return t->ops->send_gather(t, iov, n, off);
}

/**
 * ns_transport_can_gather() - does the backend take frames in pieces?
 * Return: nonzero if config.send_gather may be ns_transport_send_gather
 */
int ns_transport_can_gather(const struct ns_transport *t)
{
    return t->ops->send_gather != NULL;
}

/**
 * ns_transport_stop() - unregister from the stack's loop; idempotent
 */
void ns_transport_stop(struct ns_transport *t)
{
    if (!t || !t->ns)
        return;
    t->ops->stop(t);
    t->ns = NULL;
    t->blocked = 0;
}

/**
 * ns_transport_free() - close the transport and free it; NULL is fine
 * Stops it first if the caller did not.
 */
void ns_transport_free(struct ns_transport *t)
{
    if (!t)
        return;
    ns_transport_stop(t);
    t->ops->free(t);
}

/**
 * ns_transport_describe() - "qemu stream socket /run/vm.sock" and the like
 */
const char *ns_transport_describe(const struct ns_transport *t)
{
    return t->desc;
}

/**
 * ns_transport_end() - how the transport finished
 * @t:      the transport
 * @why:    for CLOSED and FAILED, set to the reason; may be NULL
 */
enum ns_transport_state ns_transport_end(const struct ns_transport *t, const char **why)
{
    if (why)
        *why = t->why;
    return t->state;
}

/**
 * ns_transport_count() - count a drop the transport made in the stack's statistics
 * @t:      the transport
 * @stat:   one of NETSTACK_STAT_drop_transport_*
 * @n:      how many frames
 *
 * Before start and after stop there is no stack: the backend's own counters,
 * logged when it is freed, still have them.
 */
void ns_transport_count(struct ns_transport *t, enum netstack_stat stat, uint64_t n)
{
    if (t->ns && n)
        netstack_count_transport(t->ns, stat, n);
}
