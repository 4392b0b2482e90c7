/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost_user.h - the back-end side of the vhost-user protocol for one virtio-net device
 *
 * QEMU (the front-end) connects to a unix socket and describes the device
 * in messages (docs/interop/vhost-user.rst): which features were
 * negotiated, the guest's memory (file descriptors to map), where each
 * virtqueue's rings are, and the eventfds for kicks (guest to us) and calls
 * (us to the guest). This file is the decoder and state of that dialogue,
 * without the socket (it maps the memory regions itself, each checked
 * against the size of its file): ns_vu_input() takes the bytes and descriptors read
 * from it, in any pieces, and queues replies in the device's @tx buffer, so
 * the fuzz harness feeds it exactly what netstackd does. Every field of
 * every message is untrusted: sizes, indices, region tables and ring
 * addresses are checked before use; a message the protocol cannot recover
 * from (a wrong version, an impossible size) ends the connection.
 *
 * The frames themselves move through the virtqueues (virtq.h) in
 * transport_vhost_user.c, which the device tells, through its ops, before
 * and after anything about a queue changes.
 */
#ifndef NETSTACK_VHOST_USER_H
#define NETSTACK_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

#include "tools/netstackd/guest_mem.h"
#include "tools/netstackd/virtq.h"

#define NS_VU_QUEUES        2       /* receive (0) and transmit (1): one queue pair */
#define NS_VU_RX            0
#define NS_VU_TX            1
#define NS_VU_HDR           12      /* request, flags, size */
#define NS_VU_PAYLOAD_MAX   4096    /* larger than any message we accept */
#define NS_VU_FDS_MAX       8       /* descriptors one message may carry */

/* Feature bits (virtio 1.x and vhost-user). */
#define NS_VIRTIO_NET_F_CSUM        0
#define NS_VIRTIO_NET_F_GUEST_CSUM  1
#define NS_VIRTIO_NET_F_MTU         3
#define NS_VIRTIO_NET_F_GUEST_TSO4  7
#define NS_VIRTIO_NET_F_GUEST_TSO6  8
#define NS_VIRTIO_NET_F_HOST_TSO4   11
#define NS_VIRTIO_NET_F_HOST_TSO6   12
#define NS_VIRTIO_NET_F_MRG_RXBUF   15
#define NS_VIRTIO_RING_F_EVENT_IDX  29
#define NS_VHOST_USER_F_PROTOCOL_FEATURES 30
#define NS_VIRTIO_F_VERSION_1       32

#define NS_VU_PROTOCOL_F_REPLY_ACK  3
#define NS_VU_PROTOCOL_F_NET_MTU    4

/**
 * struct ns_vu_queue - a virtqueue and its eventfds
 * @vq:         the rings
 * @kick_fd:    the guest kicks it when it made chains available; -1: none
 * @call_fd:    we write it to interrupt the guest; -1: none
 * @err_fd:     we write it when the guest broke the ring; -1: none
 * @enabled:    SET_VRING_ENABLE (on from the start without protocol features)
 * @started:    its kick was given and GET_VRING_BASE has not stopped it
 */
struct ns_vu_queue {
    struct ns_vq vq;
    int kick_fd, call_fd, err_fd;
    int enabled;
    int started;
};

/**
 * struct ns_vu_ops - what the device tells its transport
 * @queue_stop: queue @q is about to change (its fds, rings, memory or
 *              state): stop using it, stop watching its kick fd
 * @queue_start: queue @q may be used again (called only when ns_vu_live())
 */
struct ns_vu_ops {
    void (*queue_stop)(void *opaque, unsigned q);
    void (*queue_start)(void *opaque, unsigned q);
};

/**
 * struct ns_vu_dev - one front-end connection's device state
 * @ops, @opaque: the transport
 * @offered:    feature bits we offer (GET_FEATURES)
 * @features:   those the front-end acked (SET_FEATURES)
 * @protocol:   protocol features acked
 * @owner:      SET_OWNER was received
 * @mtu:        the MTU QEMU configured (NET_SET_MTU), 0 when none
 * @hdr_len:    bytes of the virtio-net header in front of each frame
 * @mem:        the guest's memory
 * @q:          receive and transmit queues
 * @rx, @rx_len: the message being received
 * @fds, @nfds: descriptors received for it
 * @tx, @tx_len: replies to send
 * @unsupported: requests refused because we do not implement them
 * @failures:   requests refused (those included); @why says why the last was
 * @why:        the reason of the last failure, for the log
 */
struct ns_vu_dev {
    const struct ns_vu_ops *ops;
    void *opaque;
    uint64_t offered;
    uint64_t features;
    uint64_t protocol;
    int owner;
    unsigned mtu;
    unsigned hdr_len;
    struct ns_gmem mem;
    struct ns_vu_queue q[NS_VU_QUEUES];
    uint8_t rx[NS_VU_HDR + NS_VU_PAYLOAD_MAX];
    size_t rx_len;
    int fds[NS_VU_FDS_MAX];
    size_t nfds;
    uint8_t tx[1024];
    size_t tx_len;
    uint64_t unsupported;
    uint64_t failures;
    char why[160];
};

/**
 * ns_vu_init() - a device with nothing negotiated yet
 * @d:      the device
 * @ops:    the transport's hooks
 * @opaque: handed to them
 * @offered: the feature bits to offer
 */
void ns_vu_init(struct ns_vu_dev *d, const struct ns_vu_ops *ops, void *opaque,
                uint64_t offered);

/**
 * ns_vu_input() - bytes (and descriptors) read from the front-end's socket
 * @d:      the device
 * @data:   the bytes, any part of one or more messages
 * @len:    how many
 * @fds:    descriptors received with them; the device owns them now (closes
 *          what no message keeps)
 * @nfds:   how many
 *
 * Complete messages are handled in order, replies appended to @d->tx.
 * Return: 0, or -EPROTO when the connection cannot go on (@d->why says why;
 * the caller closes it and calls ns_vu_reset()).
 */
int ns_vu_input(struct ns_vu_dev *d, const uint8_t *data, size_t len, const int *fds,
                size_t nfds);

/**
 * ns_vu_want() - bytes still missing from the message being received
 * @d:      the device
 *
 * Reading no more than this keeps each read within one message, so the
 * descriptors a read returns are that message's.
 */
size_t ns_vu_want(const struct ns_vu_dev *d);

/**
 * ns_vu_live() - may queue @q carry frames?
 * @d:      the device
 * @q:      NS_VU_RX or NS_VU_TX
 */
int ns_vu_live(const struct ns_vu_dev *d, unsigned q);

/**
 * ns_vu_reset() - forget the connection: unmap the memory, close every
 * descriptor, queues back to unconfigured; the transport is told first
 * @d:      the device
 */
void ns_vu_reset(struct ns_vu_dev *d);

/**
 * ns_vu_has() - was feature @bit negotiated?
 * @d:      the device
 * @bit:    a feature bit number
 */
static inline int ns_vu_has(const struct ns_vu_dev *d, unsigned bit)
{
    return !!(d->features & (1ull << bit));
}

#endif /* NETSTACK_VHOST_USER_H */
