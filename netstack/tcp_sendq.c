/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_sendq.c - host bytes on their way to the guest, without a copy in between
 *
 * Theory of Operation: bytes read from a flow's host socket land in chunks of
 * 64 KiB (from the buffer cache) and are given to lwIP by reference
 * (tcp_write() without TCP_WRITE_FLAG_COPY): lwIP's segments point into the
 * chunks, and the only copy in user space is the one into the guest's frame
 * (tcp_xmit.c). So a chunk must live until lwIP forgets every segment that
 * points into it: until the guest has acknowledged its bytes (lwIP's sent
 * callback, ns_sendq_acked()), or the pcb is gone (aborted, reset).
 *
 * The queue is a list of chunks in stream order; each counts the bytes read
 * into it (@len), given to lwIP (@pushed) and acknowledged (@acked), with
 * acked <= pushed <= len. A chunk is freed as soon as all its bytes are
 * acknowledged, so an idle connection holds none. At most the send buffer's
 * worth (TCP_SND_BUF) is ever read ahead: the relay reads only what
 * tcp_sndbuf() allows.
 */
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/tcp.h"

#include "netstack/bufcache.h"
#include "netstack/stack.h"
#include "netstack/tcp_flow.h"

#define CHUNK_DATA      65536u
#define READ_CHUNKS     4       /* chunks one readv() fills at most: 256 KiB */

/**
 * struct tcp_chunk - a run of host bytes for the guest
 * @next:   the next chunk in stream order
 * @len:    bytes read into @data
 * @pushed: bytes of them lwIP has (by reference)
 * @acked:  bytes of them the guest acknowledged
 * @data:   the bytes
 */
struct tcp_chunk {
    struct tcp_chunk *next;
    uint32_t len, pushed, acked;
    uint8_t data[];
};

_Static_assert(sizeof(struct tcp_chunk) + CHUNK_DATA <= NS_BUF_BIG,
               "a chunk must fit the buffer cache's largest class");

/**
 * chunk_new() - an empty chunk, NULL without memory.
 */
/**
 * charge() - @c (with data) joins or leaves a queue: the NAT's total changes.
 */
static void charge(struct tcp_flow *f, const struct tcp_chunk *c, int join)
{
    size_t cost = ns_buf_size(c);

    if (join)
        f->ns->tcp_nat->sendq_cost += cost;
    else
        f->ns->tcp_nat->sendq_cost -= cost;
}

int ns_sendq_full(const struct netstack *ns)
{
    return ns->tcp_nat->sendq_cost >= ns->cfg.max_tcp_queued_bytes;
}

static struct tcp_chunk *chunk_new(void)
{
    struct tcp_chunk *c = ns_buf_alloc(sizeof(*c) + CHUNK_DATA);

    if (c) {
        c->next = NULL;
        c->len = c->pushed = c->acked = 0;
    }
    return c;
}

ssize_t ns_sendq_read(struct tcp_flow *f, int fd, size_t max)
{
    struct tcp_chunk *fresh[READ_CHUNKS], *tail = f->sendq_tail;
    struct iovec iov[READ_CHUNKS + 1];
    size_t want = 0, k = 0, used, i;
    int n = 0, err;
    ssize_t r;

    if (tail && tail->len < CHUNK_DATA) {
        size_t room = CHUNK_DATA - tail->len;

        iov[n++] = (struct iovec){ tail->data + tail->len, room < max ? room : max };
        want = iov[0].iov_len;
    }
    while (want < max && k < READ_CHUNKS) {
        size_t step = max - want < CHUNK_DATA ? max - want : CHUNK_DATA;

        if (!(fresh[k] = chunk_new()))
            break;
        iov[n++] = (struct iovec){ fresh[k]->data, step };
        want += step;
        k++;
    }
    if (!n)
        return -ENOMEM;
    do
        r = readv(fd, iov, n);
    while (r < 0 && errno == EINTR);
    err = r < 0 ? errno : 0;    /* before the frees below */
    used = r > 0 ? (size_t)r : 0;
    if (tail && tail->len < CHUNK_DATA) {
        size_t take = used < iov[0].iov_len ? used : iov[0].iov_len;

        tail->len += (uint32_t)take;
        used -= take;
    }
    for (i = 0; i < k; i++) {
        size_t take = used < CHUNK_DATA ? used : CHUNK_DATA;

        if (!take) {
            ns_buf_free(fresh[i]);      /* back to the cache: next read takes it again */
            continue;
        }
        fresh[i]->len = (uint32_t)take;
        used -= take;
        charge(f, fresh[i], 1);
        if (f->sendq_tail)
            f->sendq_tail->next = fresh[i];
        else
            f->sendq = fresh[i];
        f->sendq_tail = fresh[i];
    }
    if (r > 0)
        f->unpushed += (size_t)r;
    return r < 0 ? -err : r;
}

int ns_sendq_push(struct tcp_flow *f)
{
    struct tcp_chunk *c;

    for (c = f->sendq; c && f->unpushed; c = c->next) {
        while (c->pushed < c->len) {
            size_t step = c->len - c->pushed, room = tcp_sndbuf(f->pcb);
            u8_t flags;

            if (step > 0xffff)
                step = 0xffff;          /* tcp_write() takes a u16 */
            if (step > room)
                step = room;
            if (!step)
                return 0;
            flags = step < f->unpushed ? TCP_WRITE_FLAG_MORE : 0;
            if (tcp_write(f->pcb, c->data + c->pushed, (u16_t)step, flags) != ERR_OK)
                return 0;               /* lwIP's queue is full: the sent callback retries */
            c->pushed += (uint32_t)step;
            f->unpushed -= step;
        }
    }
    return 0;
}

void ns_sendq_acked(struct tcp_flow *f, size_t n)
{
    while (n && f->sendq) {
        struct tcp_chunk *c = f->sendq;
        size_t k = c->pushed - c->acked;

        if (k > n)
            k = n;
        if (!k)
            break;                      /* lwIP never acks what it was not given */
        c->acked += (uint32_t)k;
        n -= k;
        if (c->acked < c->len)
            continue;                   /* the next ack is for this chunk too */
        f->sendq = c->next;
        if (!f->sendq)
            f->sendq_tail = NULL;
        charge(f, c, 0);
        ns_buf_free(c);
    }
}

void ns_sendq_free(struct tcp_flow *f)
{
    while (f->sendq) {
        struct tcp_chunk *c = f->sendq;

        f->sendq = c->next;
        charge(f, c, 0);
        ns_buf_free(c);
    }
    f->sendq_tail = NULL;
    f->unpushed = 0;
}
