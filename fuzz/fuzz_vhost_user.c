/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_vhost_user.c - the vhost-user message decoder (tools/netstackd/vhost_user.c)
 *
 * Input: [u16 le: N][N bytes (at most 64 KiB): the contents of the shared
 * memory file][the front-end's byte stream]. The stream is fed as netstackd
 * reads it, never past the end of the current message; before the first
 * byte of each message one byte of the input says how many descriptors come
 * with it (0 to 2), each a duplicate of one 64 KiB memfd, so SET_MEM_TABLE
 * maps real memory and SET_VRING_KICK/CALL/ERR get real descriptors. After
 * the stream, every live queue is walked as the transport would (chains
 * read or written whole, given back), then the device is reset: every
 * descriptor it was given must be closed by then, and every mapping gone.
 */
#define _GNU_SOURCE /* memfd_create() */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/netstackd/vhost_user.h"

#define MEM_SIZE 65536
#define MAX_GIVEN 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static int given[MAX_GIVEN];
static size_t ngiven;

static void nop(void *opaque, unsigned q)
{
    (void)opaque;
    (void)q;
}

static const struct ns_vu_ops ops = { .queue_stop = nop, .queue_start = nop };

/**
 * walk() - take every available chain of a live queue, as the transport does
 * @d:      the device
 * @q:      the queue
 */
static void walk(struct ns_vu_dev *d, unsigned q)
{
    static struct ns_vq_elem e;
    struct ns_vq *vq = &d->q[q].vq;
    unsigned i, k;

    if (!ns_vu_live(d, q))
        return;
    for (k = 0; k < 2 * vq->num && ns_vq_pop(vq, &d->mem, &e) > 0; k++) {
        uint32_t len = 0;
        volatile uint8_t sum = 0;

        for (i = 0; !e.oversized && i < e.n_out + e.n_in; i++) {
            if (i >= e.n_out) {
                memset(e.iov[i].iov_base, 0x5a, e.iov[i].iov_len);
                len += (uint32_t)e.iov[i].iov_len;
            } else {
                sum ^= ((const uint8_t *)e.iov[i].iov_base)[e.iov[i].iov_len - 1];
            }
        }
        (void)sum;
        ns_vq_push(vq, e.head, len);
    }
    ns_vq_publish(vq);
    ns_vq_need_call(vq);
    ns_vq_want_kick(vq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ns_vu_dev d;
    size_t memlen, i;
    int fds[2];

    if (memfd < 0 && ((memfd = memfd_create("fuzz", MFD_CLOEXEC)) < 0 ||
                      ftruncate(memfd, MEM_SIZE) < 0))
        abort();
    if (size < 2)
        return 0;
    memlen = (size_t)(data[0] | data[1] << 8);
    data += 2;
    size -= 2;
    if (memlen > size)
        memlen = size;
    if (pwrite(memfd, data, memlen, 0) != (ssize_t)memlen)
        abort();
    data += memlen;
    size -= memlen;
    ns_vu_init(&d, &ops, NULL, ~0ull);
    ngiven = 0;
    while (size) {
        size_t nfds = 0, n;

        if (d.rx_len == 0) {
            nfds = data[0] % 3;
            data++;
            size--;
            for (i = 0; i < nfds; i++) {
                fds[i] = dup(memfd);
                if (fds[i] < 0 || ngiven == MAX_GIVEN)
                    abort();
                given[ngiven++] = fds[i];
            }
            if (!size) {
                ns_vu_input(&d, NULL, 0, fds, nfds);
                break;
            }
        }
        n = ns_vu_want(&d);
        if (n > size || !n)
            n = size;
        if (ns_vu_input(&d, data, n, fds, nfds) < 0)
            break;
        d.tx_len = 0;   /* the replies went out */
        data += n;
        size -= n;
    }
    walk(&d, NS_VU_RX);
    walk(&d, NS_VU_TX);
    ns_vu_reset(&d);
    /* Nothing the front-end gave may outlive the connection. */
    for (i = 0; i < ngiven; i++)
        if (fcntl(given[i], F_GETFD) >= 0)
            abort();
    return 0;
}
