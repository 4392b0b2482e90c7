/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport_tap.c - a tap device, optionally inside another network namespace
 *
 * Theory of Operation
 *
 * The guest is a kernel: whatever sends through the tap interface NAME (a
 * container's network namespace, a VM's tap backend). netstackd opens
 * /dev/net/tun with IFF_TAP | IFF_NO_PI, so each read() is one Ethernet frame
 * and each write() injects one; the device is created if it does not exist.
 * Bringing it up and configuring addresses is the guest side's business.
 *
 * With --netns PATH the device must live in that namespace, while netstackd's
 * host sockets must stay in ours (they are how the guest's traffic reaches
 * the world). A tun fd stays bound to the namespace it was created in, so we
 * setns() into PATH, open and attach the device, and setns() back to the
 * namespace we saved from /proc/self/ns/net. This is safe only because the
 * daemon is single-threaded: setns() switches the calling thread.
 *
 * Receive: up to TAP_BATCH read()s per wakeup into one arena, then one
 * netstack_input_batch(). Send: one write() per frame (a tap has no batched
 * write); EAGAIN is backpressure, watched with EPOLLOUT. Other write errors
 * (EIO while the interface is down) drop the frame: the stack's "no guest"
 * answer when nothing at all got through, otherwise counted here.
 *
 * Offloads (unless --no-offload): the device is opened with IFF_VNET_HDR, so
 * every frame either way is preceded by a struct virtio_net_hdr (legacy
 * layout, native byte order), and TUNSETOFFLOAD tells the kernel that we take
 * partial checksums (TUN_F_CSUM), TCP super-frames of both families
 * (TUN_F_TSO4, TUN_F_TSO6) and, where the kernel has it (6.2 and later), UDP
 * segmentation offload (TUN_F_USO4, TUN_F_USO6: a UDP_SEGMENT socket's
 * train of datagrams in one frame). The guest's interface then sends TCP
 * segments of up to 64 KiB whatever its MTU,
 * with checksums it never computed, and takes the same from us: the header
 * is translated field by field to and from struct netstack_offload, and the
 * stack is told (NETSTACK_LINK_CSUM, _TSO4, _TSO6) only what the kernel
 * accepted. A kernel that refuses TSO gets checksum offload alone; one that
 * refuses that, or IFF_VNET_HDR itself, gets plain frames.
 *
 * What the link guarantees: a tap is a memory copy from the guest's kernel, so
 * a frame arrives exactly as that kernel built it (NETSTACK_LINK_INTEGRITY):
 * nothing on the way can corrupt it, and checksums are not verified again.
 */
#define _GNU_SOURCE /* setns() */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tools/netstackd/transport.h"
#include "tools/netstackd/vnet_hdr.h"

#define TAP_BATCH   64                      /* frames read per wakeup */
#define TAP_VNET    sizeof(struct virtio_net_hdr)
#define TAP_READ    (TAP_VNET + NS_TRANSPORT_FRAME_MAX)   /* largest read() */
#define TAP_ARENA   (1024 * 1024 + TAP_READ)
#define TAP_GATHER_IOV 66                   /* virtio_net_hdr, frame header, payload pieces */

/* UDP segmentation offload (Linux 6.2); older headers lack the names. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#define TUN_DEV     "/dev/net/tun"

/**
 * struct tap_transport - a tap transport
 * @base:       shared transport state
 * @fd:         the tun/tap queue
 * @ifname:     interface name
 * @arena:      receive buffer, frames read back to back
 * @batch:      frames for one netstack_input_batch()
 * @tx_dropped: frames to the guest dropped on a write error
 * @warned_tx:  a write error was reported once
 * @vnet:       frames carry a virtio_net_hdr (IFF_VNET_HDR)
 */
struct tap_transport {
    struct ns_transport base;
    int fd;
    int vnet;
    char ifname[IFNAMSIZ];
    uint8_t *arena;
    struct netstack_frame batch[TAP_BATCH];
    uint64_t tx_dropped;
    int warned_tx;
};

/**
 * tap_of() - the backend around @t; the base is its first member
 */
static struct tap_transport *tap_of(struct ns_transport *t)
{
    return (struct tap_transport *)t;
}

static void tap_ready(void *opaque, int fd, uint32_t events);

/**
 * tap_watch() - (re)register the device: readable always, writable while blocked
 * @p:      the transport
 * @out:    also watch for writability
 *
 * A failure leaves the guest unserved: the transport finishes.
 * Return: 0 or -errno
 */
static int tap_watch(struct tap_transport *p, int out)
{
    uint32_t ev = NETSTACK_EV_IN | (out ? NETSTACK_EV_OUT : 0);
    int rc = netstack_watch(p->base.ns, p->fd, ev, tap_ready, p);

    if (rc < 0)
        ns_transport_finish(&p->base, NS_TRANSPORT_FAILED, "netstack_watch: %s", strerror(-rc));
    return rc;
}

/**
 * tap_ready() - frames from the guest, or room for frames to it
 * @opaque: the transport
 * @fd:     the tap fd
 * @events: NETSTACK_EV_* bits
 */
static void tap_ready(void *opaque, int fd, uint32_t events)
{
    struct tap_transport *p = opaque;
    size_t off = 0, nb = 0;
    ssize_t n;

    if (events & NETSTACK_EV_OUT && p->base.blocked) {
        if (tap_watch(p, 0) == 0)
            ns_transport_unblock(&p->base);
    }
    if (!(events & (NETSTACK_EV_IN | NETSTACK_EV_ERR | NETSTACK_EV_HUP)))
        return;
    while (nb < TAP_BATCH && TAP_ARENA - off >= TAP_READ) {
        size_t skip = p->vnet ? TAP_VNET : 0;

        n = read(fd, p->arena + off, TAP_READ);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            ns_transport_finish(&p->base, NS_TRANSPORT_FAILED, "tap_read: %s: %s", p->ifname,
                                n < 0 ? strerror(errno) : "device closed");
            break;
        }
        if ((size_t)n <= skip) {
            ns_transport_count(&p->base, NETSTACK_STAT_drop_transport_truncated, 1);
            continue;
        }
        p->batch[nb] = (struct netstack_frame){ .data = p->arena + off + skip,
                                                .len = (size_t)n - skip };
        if (p->vnet)
            ns_vnet_hdr_to_offload(p->arena + off, 0, &p->batch[nb].offload);
        nb++;
        off += (size_t)n;
    }
    if (nb)
        netstack_input_batch(p->base.ns, p->batch, nb);
}

/**
 * tap_send() - frames to the guest, one write() each
 * @t:      the transport
 * @frames: frames in order
 * @n:      how many
 *
 * Return: frames accepted; fewer than @n is backpressure; -errno when the
 * very first write fails for another reason (interface down: no guest)
 */
static ssize_t tap_send(struct ns_transport *t, const struct netstack_frame *frames, size_t n)
{
    struct tap_transport *p = tap_of(t);
    size_t i;
    ssize_t w;

    for (i = 0; i < n; i++) {
        struct virtio_net_hdr v;
        struct iovec iov[2] = { { &v, sizeof(v) }, { (void *)frames[i].data, frames[i].len } };

        if (p->vnet)
            ns_vnet_hdr_from_offload(&frames[i].offload, 0, (uint8_t *)&v);
        do
            w = p->vnet ? writev(p->fd, iov, 2) : write(p->fd, frames[i].data, frames[i].len);
        while (w < 0 && errno == EINTR);
        if (w >= 0)
            continue;
        if (errno == EAGAIN) {
            if (tap_watch(p, 1) < 0)
                break;
            t->blocked = 1;
            return (ssize_t)i;
        }
        if (!i)
            return -errno;
        if (!p->warned_tx)
            ns_tlog(t, NETSTACK_LOG_WARN, "write to %s: %s, frames dropped", p->ifname,
                    strerror(errno));
        p->warned_tx = 1;
        break;
    }
    p->tx_dropped += n - i;     /* after an error: nothing would wake us for these */
    ns_transport_count(&p->base, NETSTACK_STAT_drop_transport_tx, n - i);
    return (ssize_t)n;
}

/**
 * tap_send_gather() - one frame to the guest from its pieces, one writev()
 * @t:      the transport
 * @iov:    the frame
 * @n:      its pieces
 * @off:    its offload state
 *
 * Return: 1 written (or dropped on an error other than EAGAIN, counted as in
 * tap_send()), 0 on EAGAIN: the device is watched for room and the stack
 * queues the frame; -errno for an error while nothing at all could be written
 */
static int tap_send_gather(struct ns_transport *t, const struct iovec *iov, size_t n,
                           const struct netstack_offload *off)
{
    struct tap_transport *p = tap_of(t);
    struct iovec v[TAP_GATHER_IOV];
    struct virtio_net_hdr h;
    size_t k = 0, i;
    ssize_t w;

    if (n + 1 > TAP_GATHER_IOV)
        return 0;               /* the stack copies it into one frame instead */
    if (p->vnet) {
        ns_vnet_hdr_from_offload(off, 0, (uint8_t *)&h);
        v[k++] = (struct iovec){ &h, sizeof(h) };
    }
    for (i = 0; i < n; i++)
        v[k++] = iov[i];
    do
        w = writev(p->fd, v, (int)k);
    while (w < 0 && errno == EINTR);
    if (w >= 0)
        return 1;
    if (errno == EAGAIN) {
        if (tap_watch(p, 1) == 0)
            t->blocked = 1;
        return 0;
    }
    if (!p->warned_tx)
        ns_tlog(t, NETSTACK_LOG_WARN, "write to %s: %s, frames dropped", p->ifname,
                strerror(errno));
    p->warned_tx = 1;
    p->tx_dropped++;
    ns_transport_count(&p->base, NETSTACK_STAT_drop_transport_tx, 1);
    return 1;
}

/**
 * tap_start() - watch the device
 */
static int tap_start(struct ns_transport *t)
{
    return tap_watch(tap_of(t), 0);
}

/**
 * tap_stop() - leave the stack's loop
 */
static void tap_stop(struct ns_transport *t)
{
    netstack_unwatch(t->ns, tap_of(t)->fd);
}

/**
 * tap_free() - close the device (a non-persistent tap disappears with it)
 */
static void tap_free(struct ns_transport *t)
{
    struct tap_transport *p = tap_of(t);

    if (p->tx_dropped)
        ns_tlog(t, NETSTACK_LOG_INFO, "dropped to the guest: %llu",
                (unsigned long long)p->tx_dropped);
    if (p->fd >= 0)
        close(p->fd);
    free(p->arena);
    free(p);
}

static const struct ns_transport_ops tap_ops = {
    .start = tap_start,
    .send = tap_send,
    .send_gather = tap_send_gather,
    .stop = tap_stop,
    .free = tap_free,
};

/**
 * tap_attach() - open /dev/net/tun and attach it to tap NAME, in the current namespace
 * @name:   interface name, shorter than IFNAMSIZ (checked by the caller)
 * @vnet:   in: ask for IFF_VNET_HDR; out: whether the device has it
 * @err:    error message buffer
 * @errlen: its size
 * Return: the fd, or -errno with @err set
 */
static int tap_attach(const char *name, int *vnet, char *err, size_t errlen)
{
    struct ifreq ifr;
    int fd, rc;

    fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
            ns_seterr(err, errlen, "tap_open: no %s (%s): load the tun module or "
                                "create the device node", TUN_DEV, strerror(errno));
        else if (errno == EACCES || errno == EPERM)
            ns_seterr(err, errlen, "tap_open: %s: %s: --tap needs CAP_NET_ADMIN",
                                TUN_DEV, strerror(errno));
        else
            ns_seterr(err, errlen, "tap_open: %s: %s", TUN_DEV, strerror(errno));
        return rc;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (*vnet ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    rc = ioctl(fd, TUNSETIFF, &ifr);
    if (rc < 0 && *vnet && errno == EINVAL) {
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;    /* a kernel without vnet headers */
        *vnet = 0;
        rc = ioctl(fd, TUNSETIFF, &ifr);
    }
    if (rc < 0) {
        rc = -errno;
        if (errno == EPERM || errno == EACCES)
            ns_seterr(err, errlen, "tap_open: TUNSETIFF %s: %s: --tap needs "
                                "CAP_NET_ADMIN", name, strerror(errno));
        else if (errno == EBUSY)
            ns_seterr(err, errlen, "tap_open: TUNSETIFF %s: %s: the device is in "
                                "use, or is not a tap", name, strerror(errno));
        else
            ns_seterr(err, errlen, "tap_open: TUNSETIFF %s: %s", name,
                                strerror(errno));
        close(fd);
        return rc;
    }
    return fd;
}

/**
 * tap_attach_in() - tap_attach() inside the network namespace at @netns
 * @name:   interface name
 * @netns:  namespace file (/run/netns/X, /proc/PID/ns/net)
 * @vnet:   as for tap_attach()
 * @err:    error message buffer
 * @errlen: its size
 *
 * Always returns to the namespace we started in; if that fails we would keep
 * running where our host sockets must not be, so it is an error too.
 * Return: the fd, or -errno with @err set
 */
static int tap_attach_in(const char *name, const char *netns, int *vnet, char *err,
                         size_t errlen)
{
    int target, saved, fd, rc;

    target = open(netns, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
        rc = -errno;
        ns_seterr(err, errlen, "tap_open: --netns %s: %s", netns, strerror(errno));
        return rc;
    }
    saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) {
        rc = -errno;
        ns_seterr(err, errlen, "tap_open: /proc/self/ns/net: %s", strerror(errno));
        close(target);
        return rc;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
        rc = -errno;
        if (errno == EINVAL)
            ns_seterr(err, errlen, "tap_open: --netns %s is not a network namespace",
                                netns);
        else
            ns_seterr(err, errlen, "tap_open: setns %s: %s%s", netns,
                                strerror(errno), errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
        fd = rc;
        goto out;
    }
    fd = tap_attach(name, vnet, err, errlen);
    if (setns(saved, CLONE_NEWNET) < 0) {
        rc = -errno;
        ns_seterr(err, errlen, "tap_open: setns back to our namespace: %s",
                            strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = rc;
    }
out:
    close(saved);
    close(target);
    return fd;
}

/**
 * tap_offloads() - ask the kernel for what the stack can take, best first
 * @p:      the transport, opened with IFF_VNET_HDR
 *
 * Sets @p->base.link to what was accepted; the outcome is logged, since it
 * decides how fast an MTU 1500 guest can go.
 */
static void tap_offloads(struct tap_transport *p)
{
    static const struct {
        unsigned tun;
        uint32_t link;
        const char *what;
    } tries[] = {
        /* The kernel takes USO for both families or neither. */
        { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
          NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4 | NETSTACK_LINK_TSO6,
          "checksum, TCP and UDP segmentation offload" },
        { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
          NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4 | NETSTACK_LINK_TSO6,
          "checksum and TCP segmentation offload" },
        { TUN_F_CSUM, NETSTACK_LINK_CSUM, "checksum offload only" },
        { 0, 0, "no offloads" },
    };
    size_t i;

    for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        if (ioctl(p->fd, TUNSETOFFLOAD, (unsigned long)tries[i].tun) < 0)
            continue;
        p->base.link |= tries[i].link;
        /* Without TSO an MTU 1500 guest is slow: worth a warning; USO is a bonus. */
        ns_tlog(&p->base, i > 1 ? NETSTACK_LOG_WARN : NETSTACK_LOG_INFO, "%s: %s%s", p->ifname,
                tries[i].what, i ? " (the kernel refused more)" : "");
        return;
    }
    ns_tlog(&p->base, NETSTACK_LOG_WARN, "%s: TUNSETOFFLOAD: %s: no offloads", p->ifname,
            strerror(errno));
}

/**
 * ns_tap_open() - open tap NAME, in --netns PATH if given
 * @opts:   NS_TRANSPORT_TAP with path = interface name, netns optional
 * @out:    the transport
 * @err:    on failure, "function: cause"
 * @errlen: size of @err
 * Return: 0 or -errno
 */
int ns_tap_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                char *err, size_t errlen)
{
    struct tap_transport *p;

    if (!opts->path || !*opts->path || strlen(opts->path) >= IFNAMSIZ) {
        ns_seterr(err, errlen, "tap_open: interface name must be 1 to %d characters",
                            IFNAMSIZ - 1);
        return -EINVAL;
    }
    p = calloc(1, sizeof(*p));
    if (!p || !(p->arena = malloc(TAP_ARENA))) {
        free(p);
        ns_seterr(err, errlen, "tap_open: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    ns_transport_init(&p->base, &tap_ops, "tap", opts);
    snprintf(p->ifname, sizeof(p->ifname), "%s", opts->path);
    p->vnet = !opts->no_offload;
    if (opts->netns)
        p->fd = tap_attach_in(opts->path, opts->netns, &p->vnet, err, errlen);
    else
        p->fd = tap_attach(opts->path, &p->vnet, err, errlen);
    if (p->fd < 0) {
        int rc = p->fd;

        tap_free(&p->base);
        return rc;
    }
    if (p->vnet)
        tap_offloads(p);
    snprintf(p->base.desc, sizeof(p->base.desc), "tap %s%s%s", opts->path,
             opts->netns ? " in network namespace " : "", opts->netns ? opts->netns : "");
    *out = &p->base;
    return 0;
}
