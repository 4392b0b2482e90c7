/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tx.c - frames to the guest: a bounded FIFO flushed to send_frames() in batches
 *
 * Theory of Operation: producers reserve a frame buffer (ns_tx_alloc), write the
 * frame into it and commit it. Nothing is sent while the stack is inside an
 * input or dispatch call; at the end of the call ns_tx_flush() hands the queue
 * to the embedder up to 64 frames at a time, so a burst of lwIP segments costs
 * one transport call (one writev or sendmmsg) rather than one per frame. A
 * short count from send_frames() means backpressure: the rest stays queued and
 * `blocked` is set until netstack_output_ready().
 *
 * Frame buffers come from the buffer cache (bufcache.c), so a stream of 64 KiB
 * frames reuses the same few blocks instead of faulting in fresh pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "netstack/bufcache.h"
#include "netstack/capture.h"
#include "netstack/stack.h"

#define TX_BATCH 64
#define TX_GATHER_IOV 65        /* a frame's header and its payload's pieces */

int ns_tx_init(struct ns_tx *tx, size_t cap, size_t max_bytes)
{
    tx->ring = calloc(cap, sizeof(*tx->ring));
    if (!tx->ring)
        return -ENOMEM;
    tx->cap = cap;
    tx->max_bytes = max_bytes;
    tx->head = tx->count = tx->bytes = 0;
    tx->blocked = 0;
    return 0;
}

/**
 * pop() - free the @n oldest frames.
 */
static void pop(struct ns_tx *tx, size_t n)
{
    while (n-- && tx->count) {
        ns_buf_free(tx->ring[tx->head].data);
        tx->ring[tx->head].data = NULL;
        tx->bytes -= tx->ring[tx->head].len;
        tx->head = (tx->head + 1) % tx->cap;
        tx->count--;
    }
}

void ns_tx_fini(struct ns_tx *tx)
{
    if (tx->ring)
        pop(tx, tx->count);
    free(tx->ring);
    tx->ring = NULL;
    tx->cap = 0;
}

uint8_t *ns_tx_alloc(struct netstack *ns, size_t len)
{
    uint8_t *p;

    /* An empty queue takes any one frame, whatever the byte limit. */
    if (ns->tx.count >= ns->tx.cap ||
        (ns->tx.count && ns->tx.bytes + len > ns->tx.max_bytes)) {
        NS_COUNT(ns, drop_tx_queue_full);
        return NULL;
    }
    p = ns_buf_alloc(len ? len : 1);
    if (!p)
        NS_COUNT(ns, drop_no_memory);
    return p;
}

void ns_tx_commit_offload(struct netstack *ns, uint8_t *frame, size_t len,
                          const struct netstack_offload *off)
{
    struct ns_tx *tx = &ns->tx;
    struct ns_tx_frame *slot;

    if (tx->count >= tx->cap) {     /* ns_tx_alloc checked, but stay safe */
        ns_buf_free(frame);
        NS_COUNT(ns, drop_tx_queue_full);
        return;
    }
    slot = &tx->ring[(tx->head + tx->count) % tx->cap];
    *slot = (struct ns_tx_frame){ .data = frame, .len = len };
    if (off)
        slot->offload = *off;
    tx->count++;
    tx->bytes += len;
}

void ns_tx_commit(struct netstack *ns, uint8_t *frame, size_t len)
{
    ns_tx_commit_offload(ns, frame, len, NULL);
}

void ns_tx_abort(struct netstack *ns, uint8_t *frame)
{
    (void)ns;
    ns_buf_free(frame);
}

void ns_tx_drop_all(struct netstack *ns)
{
    NS_COUNT_N(ns, drop_tx_no_guest, ns->tx.count);
    pop(&ns->tx, ns->tx.count);
    ns->tx.blocked = 0;
}

int ns_tx_direct(const struct netstack *ns)
{
    return ns->cfg.send_gather && !ns->tx.count && !ns->tx.blocked;
}

int ns_tx_send_gather(struct netstack *ns, const uint8_t *hdr, size_t hlen,
                      const struct iovec *iov, size_t n, const struct netstack_offload *off)
{
    struct iovec v[TX_GATHER_IOV];
    size_t i, len = hlen;
    int rc;

    if (n + 1 > TX_GATHER_IOV)
        return -EAGAIN;         /* too many pieces: the copy has no limit */
    v[0] = (struct iovec){ (void *)hdr, hlen };
    for (i = 0; i < n; i++) {
        v[i + 1] = iov[i];
        len += iov[i].iov_len;
    }
    rc = ns->cfg.send_gather(ns->cfg.opaque, v, n + 1, off);
    if (rc > 0 && ns->capture && ns_capture_on(ns))
        ns_capture_copy(ns, v, n + 1);
    if (rc == 0) {
        ns->tx.blocked = 1;
        NS_COUNT(ns, tx_backpressure);
        return -EAGAIN;
    }
    if (rc < 0) {
        NS_COUNT(ns, drop_tx_no_guest);
        return 0;
    }
    NS_COUNT(ns, frames_out);
    NS_COUNT_N(ns, bytes_out, len);
    return 0;
}

/**
 * send_batch() - offer up to TX_BATCH frames from the head to the transport
 * Return: frames accepted, or a negative errno when no guest is attached.
 */
static ssize_t send_batch(struct netstack *ns)
{
    struct netstack_frame f[TX_BATCH];
    struct ns_tx *tx = &ns->tx;
    size_t n = 0, i;
    ssize_t rc;

    while (n < TX_BATCH && n < tx->count) {
        i = (tx->head + n) % tx->cap;
        f[n].data = tx->ring[i].data;
        f[n].len = tx->ring[i].len;
        f[n].offload = tx->ring[i].offload;
        n++;
    }
    rc = ns->cfg.send_frames(ns->cfg.opaque, f, n);
    if (rc > (ssize_t)n)
        rc = (ssize_t)n;
    for (i = 0; rc > 0 && i < (size_t)rc; i++) {
        NS_COUNT(ns, frames_out);
        NS_COUNT_N(ns, bytes_out, f[i].len);
        ns_capture(ns, f[i].data, f[i].len);
    }
    return rc;
}

void ns_tx_flush(struct netstack *ns)
{
    struct ns_tx *tx = &ns->tx;
    ssize_t rc;

    while (tx->count && !tx->blocked) {
        size_t offered = tx->count < TX_BATCH ? tx->count : TX_BATCH;

        rc = send_batch(ns);
        if (rc < 0) {
            ns_tx_drop_all(ns);
            return;
        }
        pop(tx, (size_t)rc);
        if ((size_t)rc < offered) {
            tx->blocked = 1;
            NS_COUNT(ns, tx_backpressure);
        }
    }
}
