/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtq.c - the split virtqueue: taking chains, giving them back, notifications
 *
 * Layout (all little-endian): a descriptor is { u64 addr; u32 len; u16 flags;
 * u16 next; }; the available ring { u16 flags; u16 idx; u16 ring[num]; u16
 * used_event; }; the used ring { u16 flags; u16 idx; { u32 id; u32 len; }
 * ring[num]; u16 avail_event; }. The indices run freely modulo 2^16.
 *
 * Ordering: the guest writes ring entries, then its index; we read its index
 * with acquire semantics before the entries. We write used entries, then our
 * index with release semantics. Before reading the guest's event index or
 * flags to decide on a notification, a full fence, so that our index (or
 * event index) store is not reordered after that load: either the guest sees
 * our update or we see its request.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "tools/netstackd/virtq.h"

#define DESC_F_NEXT     1
#define DESC_F_WRITE    2
#define DESC_F_INDIRECT 4
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

_Static_assert(sizeof(struct desc) == 16, "descriptor layout");

static uint16_t ld16(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
}

static uint16_t ld16_acquire(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE));
}

static void st16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELAXED);
}

size_t ns_vq_ring_bytes(unsigned num, int used)
{
    return 4 + (size_t)num * (used ? 8 : 2) + 2;
}

/**
 * broken() - the guest broke a rule of the ring: stop using it
 * @vq:     the queue
 * @why:    which rule, for the log
 *
 * Return: -EIO
 */
static int broken(struct ns_vq *vq, const char *why)
{
    if (!vq->broken)
        vq->why = why;
    vq->broken = 1;
    return -EIO;
}

int ns_vq_map(struct ns_vq *vq, const struct ns_gmem *m)
{
    vq->desc = ns_gmem_uva(m, vq->desc_uva, (uint64_t)vq->num * 16);
    vq->avail = ns_gmem_uva(m, vq->avail_uva, ns_vq_ring_bytes(vq->num, 0));
    vq->used = ns_gmem_uva(m, vq->used_uva, ns_vq_ring_bytes(vq->num, 1));
    if (!vq->num || !vq->desc || !vq->avail || !vq->used) {
        vq->desc = vq->avail = vq->used = NULL;
        broken(vq, "a ring outside every memory region");
        return -EINVAL;
    }
    /* The spec's alignments, which our loads and stores of the indices need. */
    if (((uintptr_t)vq->desc & 15) || ((uintptr_t)vq->avail & 1) || ((uintptr_t)vq->used & 3)) {
        vq->desc = vq->avail = vq->used = NULL;
        broken(vq, "a misaligned ring");
        return -EINVAL;
    }
    return 0;
}

/**
 * add_piece() - one descriptor of a chain into @e
 * @vq:     the queue
 * @m:      the memory table
 * @e:      the element being filled
 * @d:      the descriptor, already copied out of guest memory
 *
 * Return: 0, or -EIO (broken).
 */
static int add_piece(struct ns_vq *vq, const struct ns_gmem *m, struct ns_vq_elem *e,
                     const struct desc *d)
{
    int writable = !!(d->flags & DESC_F_WRITE);
    uint64_t len = le32toh(d->len);
    void *p;

    if (d->flags & DESC_F_INDIRECT)
        return broken(vq, "an indirect descriptor (not negotiated)");
    if (!writable && e->n_in)
        return broken(vq, "a readable descriptor after a writable one");
    if (!len)
        return 0;
    p = ns_gmem_gpa(m, le64toh(d->addr), len);
    if (!p)
        return broken(vq, "a descriptor outside every memory region");
    if (e->n_out + e->n_in == NS_VQ_MAX_IOV) {
        e->oversized = 1;   /* still walked to the end: the chain must be sound */
        return 0;
    }
    e->iov[e->n_out + e->n_in] = (struct iovec){ p, (size_t)len };
    if (writable) {
        e->n_in++;
        e->in_len += (size_t)len;
    } else {
        e->n_out++;
        e->out_len += (size_t)len;
    }
    return 0;
}

int ns_vq_pop(struct ns_vq *vq, const struct ns_gmem *m, struct ns_vq_elem *e)
{
    uint16_t avail_idx, i;
    unsigned count = 0;
    struct desc d;

    if (vq->broken || !vq->avail)
        return vq->broken ? -EIO : 0;
    avail_idx = ld16_acquire(vq->avail + 2);
    if (avail_idx == vq->last_avail)
        return 0;
    if ((uint16_t)(avail_idx - vq->last_avail) > vq->num)
        return broken(vq, "an available index more than the ring ahead");
    i = ld16(vq->avail + 4 + 2 * (vq->last_avail & (vq->num - 1)));
    memset(e, 0, offsetof(struct ns_vq_elem, iov));
    e->head = i;
    for (;;) {
        if (i >= vq->num)
            return broken(vq, "a descriptor index beyond the ring");
        if (++count > vq->num)
            return broken(vq, "a descriptor chain longer than the ring (a loop)");
        memcpy(&d, vq->desc + 16 * (size_t)i, sizeof(d));
        d.flags = le16toh(d.flags);
        if (add_piece(vq, m, e, &d))
            return -EIO;
        if (!(d.flags & DESC_F_NEXT))
            break;
        i = le16toh(d.next);
    }
    vq->last_avail++;
    return 1;
}

void ns_vq_unpop(struct ns_vq *vq, unsigned n)
{
    vq->last_avail = (uint16_t)(vq->last_avail - n);
}

void ns_vq_push(struct ns_vq *vq, uint16_t head, uint32_t len)
{
    uint8_t *u = vq->used + 4 + 8 * (size_t)(vq->used_idx & (vq->num - 1));
    uint32_t id = htole32(head), l = htole32(len);

    memcpy(u, &id, 4);
    memcpy(u + 4, &l, 4);
    vq->used_idx++;
}

void ns_vq_publish(struct ns_vq *vq)
{
    __atomic_store_n((uint16_t *)(void *)(vq->used + 2), htole16(vq->used_idx), __ATOMIC_RELEASE);
}

int ns_vq_need_call(struct ns_vq *vq)
{
    uint16_t old = vq->signalled, now = vq->used_idx, ev;

    if (!vq->used || old == now)
        return 0;
    vq->signalled = now;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx)
        return !(ld16(vq->avail) & AVAIL_F_NO_INTERRUPT);
    ev = ld16(vq->avail + 4 + 2 * (size_t)vq->num);
    /* virtio's vring_need_event(): did @now step past @ev since @old? */
    return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

int ns_vq_want_kick(struct ns_vq *vq)
{
    if (!vq->used || vq->broken)
        return 0;
    /*
     * The guest kicks when its index passes the event index. Not our next
     * entry but its current index: a receive queue may hold chains too few
     * for the frame at hand, and then only the next ones it adds help.
     */
    if (vq->event_idx)
        st16(vq->used + 4 + 8 * (size_t)vq->num, ld16_acquire(vq->avail + 2));
    else
        st16(vq->used, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return ld16(vq->avail + 2) != vq->last_avail;
}
