/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tx.h - private: the queue of frames on their way to the guest
 *
 * Every frame for the guest (ARP and ICMP replies, DHCP, lwIP's TCP output) is
 * appended here and handed to the embedder's send_frames() in batches when the
 * current input or dispatch call ends. When the transport pushes back, the
 * queue keeps the frames, in order, until netstack_output_ready(): frames are
 * never dropped because the guest is slow, only when the queue limit is hit
 * (which producers avoid by checking ns_tx_blocked() before producing).
 */
#ifndef NETSTACK_TX_H
#define NETSTACK_TX_H

#include <stddef.h>
#include <stdint.h>

#include "netstack/include/netstack.h"

struct netstack;

struct ns_tx_frame {
    uint8_t *data;
    size_t len;
    struct netstack_offload offload;
};

struct ns_tx {
    struct ns_tx_frame *ring;
    size_t cap;             /* ring slots (the configured limit) */
    size_t head;            /* oldest frame */
    size_t count;
    size_t bytes;           /* of the queued frames */
    size_t max_bytes;       /* the configured limit on @bytes */
    int blocked;            /* the transport pushed back; wait for output_ready */
};

/**
 * ns_tx_init() - a queue of at most @cap frames and @max_bytes bytes. Return: 0, -ENOMEM.
 */
int ns_tx_init(struct ns_tx *tx, size_t cap, size_t max_bytes);
void ns_tx_fini(struct ns_tx *tx);

/**
 * ns_tx_alloc() - a buffer for a frame of up to @len bytes, to be filled and
 * queued with ns_tx_commit(). Return: NULL when the queue is full (counted as
 * drop_tx_queue_full) or memory ran out (drop_no_memory).
 */
uint8_t *ns_tx_alloc(struct netstack *ns, size_t len);

/**
 * ns_tx_commit() - queue the frame from ns_tx_alloc(), now @len bytes long.
 */
void ns_tx_commit(struct netstack *ns, uint8_t *frame, size_t len);

/**
 * ns_tx_commit_offload() - ns_tx_commit() for a frame with offload state (copied).
 */
void ns_tx_commit_offload(struct netstack *ns, uint8_t *frame, size_t len,
                          const struct netstack_offload *off);

/**
 * ns_tx_full() - is either limit of the queue reached?
 */
static inline int ns_tx_full(const struct ns_tx *tx)
{
    return tx->count >= tx->cap || tx->bytes >= tx->max_bytes;
}

/**
 * ns_tx_room() - how many more frames of up to @frame_len bytes the queue can
 * hold now, by both of its limits
 */
static inline size_t ns_tx_room(const struct ns_tx *tx, size_t frame_len)
{
    size_t frames = tx->count < tx->cap ? tx->cap - tx->count : 0;
    size_t by_bytes = tx->bytes < tx->max_bytes ? (tx->max_bytes - tx->bytes) / frame_len : 0;

    return frames < by_bytes ? frames : by_bytes;
}

/**
 * ns_tx_direct() - may a frame skip the queue (ns_tx_send_gather())? Only with
 * an embedder's send_gather(), and only while nothing is queued or blocked,
 * so that frames leave in the order they were made.
 */
int ns_tx_direct(const struct netstack *ns);

/**
 * ns_tx_send_gather() - hand one frame, @hdr then the pieces @iov, to
 * send_gather() now; only when ns_tx_direct() said so
 * Return: 0 when it is dealt with (taken, or dropped and counted because no
 * guest is attached); -EAGAIN when the caller must queue a copy of the frame
 * instead: the transport would block (the queue is now marked blocked), or
 * the frame has more pieces than one call carries.
 */
struct iovec;
int ns_tx_send_gather(struct netstack *ns, const uint8_t *hdr, size_t hlen,
                      const struct iovec *iov, size_t n, const struct netstack_offload *off);

/**
 * ns_tx_abort() - give back a buffer from ns_tx_alloc() that will not be queued.
 */
void ns_tx_abort(struct netstack *ns, uint8_t *frame);

/**
 * ns_tx_flush() - hand queued frames to the transport until it pushes back.
 */
void ns_tx_flush(struct netstack *ns);

/**
 * ns_tx_drop_all() - forget every queued frame (the guest went away).
 */
void ns_tx_drop_all(struct netstack *ns);

/**
 * ns_tx_blocked() - is the transport pushing back (producers should pause)?
 */
static inline int ns_tx_blocked(const struct ns_tx *tx)
{
    return tx->blocked || ns_tx_full(tx);
}

#endif /* NETSTACK_TX_H */
