/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtq.h - a split virtqueue (virtio 1.x, section 2.7) in the guest's memory
 *
 * The guest driver owns the descriptor table and the available ring, the
 * device (we) the used ring; all three live in guest memory that the guest
 * can change at any moment. So every field is read once into a local copy
 * before it is checked and used, and everything the guest controls is
 * checked against the ring size and the memory table before use: an
 * available index more than the ring size ahead, a head or next index beyond
 * the ring, a chain longer than the ring (a loop), an indirect descriptor
 * (never negotiated), a readable descriptor after a writable one, or an
 * address range outside every mapped region. Any of these marks the queue
 * broken, as the virtio spec's "device needs reset" does: nothing more is
 * taken from it until it is set up again, and nothing outside the mapped
 * regions is ever touched.
 *
 * Notifications are suppressed both ways: with VIRTIO_RING_F_EVENT_IDX the
 * guest kicks only when its available index passes the event index we
 * publish, and we call (interrupt) only when our used index passes the one
 * it publishes; without it, the rings' flags do the same more coarsely.
 */
#ifndef NETSTACK_VIRTQ_H
#define NETSTACK_VIRTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tools/netstackd/guest_mem.h"

#define NS_VQ_MAX_SIZE  32768   /* the spec's largest queue */
#define NS_VQ_MAX_IOV   64      /* descriptors of one chain we take; longer chains are dropped */

/**
 * struct ns_vq - one virtqueue
 * @num:        ring size, a power of 2; 0 until set
 * @desc_uva, @avail_uva, @used_uva: the rings in the front-end's address space
 * @desc, @avail, @used: the same, mapped (ns_vq_map()); NULL when not
 * @last_avail: the next available entry to take
 * @used_idx:   the next used entry to fill; the guest sees it at ns_vq_publish()
 * @signalled:  @used_idx when we last decided whether to call the guest
 * @event_idx:  VIRTIO_RING_F_EVENT_IDX was negotiated
 * @broken:     the guest broke the ring's rules; @why says how
 */
struct ns_vq {
    unsigned num;
    uint64_t desc_uva, avail_uva, used_uva;
    uint8_t *desc, *avail, *used;
    uint16_t last_avail;
    uint16_t used_idx;
    uint16_t signalled;
    int event_idx;
    int broken;
    const char *why;
};

/**
 * struct ns_vq_elem - one descriptor chain taken from the available ring
 * @head:       its first descriptor, to give back in the used ring
 * @n_out:      readable (driver to device) pieces, first in @iov
 * @n_in:       writable (device to driver) pieces, after them
 * @out_len, @in_len: their bytes
 * @oversized:  more than NS_VQ_MAX_IOV descriptors: not described in @iov;
 *              give it back unused
 * @iov:        the pieces, pointing into the mapped guest memory
 */
struct ns_vq_elem {
    uint16_t head;
    unsigned n_out, n_in;
    size_t out_len, in_len;
    int oversized;
    struct iovec iov[NS_VQ_MAX_IOV];
};

/**
 * ns_vq_map() - translate the ring addresses through the memory table
 * @vq:     a queue with @num and the three addresses set
 * @m:      the memory table
 *
 * Return: 0, -EINVAL when a ring is not inside one region (the queue is
 * marked broken).
 */
int ns_vq_map(struct ns_vq *vq, const struct ns_gmem *m);

/**
 * ns_vq_pop() - take the next available descriptor chain
 * @vq:     a mapped queue
 * @m:      the memory table its descriptors point into
 * @e:      filled in
 *
 * Return: 1 with @e filled, 0 when nothing is available, -EIO when the queue
 * is (now) broken.
 */
int ns_vq_pop(struct ns_vq *vq, const struct ns_gmem *m, struct ns_vq_elem *e);

/**
 * ns_vq_unpop() - give back the last @n chains taken, not yet used
 * @vq:     the queue
 * @n:      how many
 */
void ns_vq_unpop(struct ns_vq *vq, unsigned n);

/**
 * ns_vq_push() - put a chain in the used ring; the guest sees it at ns_vq_publish()
 * @vq:     the queue
 * @head:   the chain's ns_vq_elem.head
 * @len:    bytes written into its writable pieces
 */
void ns_vq_push(struct ns_vq *vq, uint16_t head, uint32_t len);

/**
 * ns_vq_publish() - make the pushed entries visible to the guest
 * @vq:     the queue
 */
void ns_vq_publish(struct ns_vq *vq);

/**
 * ns_vq_need_call() - does the guest want an interrupt for what was published?
 * @vq:     the queue
 *
 * Return: 1 if the guest asked to be told of the entries published since the
 * last call of this function, else 0.
 */
int ns_vq_need_call(struct ns_vq *vq);

/**
 * ns_vq_want_kick() - ask the guest to kick when it adds chains to those it offers now
 * @vq:     the queue
 *
 * Return: 1 when chains are already available (no kick will come for them:
 * take them now), else 0.
 */
int ns_vq_want_kick(struct ns_vq *vq);

/**
 * ns_vq_ring_bytes() - bytes of the available or used ring of @num entries
 * @num:    ring size
 * @used:   the used ring (8-byte entries) rather than the available one
 */
size_t ns_vq_ring_bytes(unsigned num, int used);

#endif /* NETSTACK_VIRTQ_H */
