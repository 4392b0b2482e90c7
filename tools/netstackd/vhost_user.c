/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost_user.c - the vhost-user messages a virtio-net back-end needs
 *
 * Theory of Operation
 *
 * A message is a 12-byte header (request, flags, payload size; the
 * protocol's byte order is the host's, little-endian on every machine we
 * build for) and its payload; descriptors travel with it as SCM_RIGHTS.
 * ns_vu_input() gathers the bytes of one message, then decodes the payload
 * through the checked reader and applies it. Requests that have an answer
 * (GET_*) get one; with VHOST_USER_PROTOCOL_F_REPLY_ACK negotiated, any
 * other request that asks for it (the NEED_REPLY flag) gets a u64 status, 0
 * for success. Requests we do not implement (migration logging, postcopy,
 * inflight tracking, configuration space, memory slots: none of them
 * offered) are refused with a failure status when one is asked for, and
 * counted; they do not end the connection.
 *
 * Queues: a queue carries frames once its size, ring addresses and kick fd
 * were given, the memory holding its rings is mapped, and it is enabled
 * (SET_VRING_ENABLE, or from the start when protocol features were not
 * negotiated); GET_VRING_BASE stops it and answers where it stopped. Before
 * anything about a queue changes, the transport is told to stop using it
 * (ops->queue_stop), and afterwards, if the queue is live, to start again.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ethernet/reader.h"
#include "tools/netstackd/vhost_user.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vhost-user's byte order is the host's; this decoder reads it as little-endian"
#endif

enum {
    GET_FEATURES = 1, SET_FEATURES = 2, SET_OWNER = 3, RESET_OWNER = 4, SET_MEM_TABLE = 5,
    SET_VRING_NUM = 8, SET_VRING_ADDR = 9, SET_VRING_BASE = 10, GET_VRING_BASE = 11,
    SET_VRING_KICK = 12, SET_VRING_CALL = 13, SET_VRING_ERR = 14, GET_PROTOCOL_FEATURES = 15,
    SET_PROTOCOL_FEATURES = 16, GET_QUEUE_NUM = 17, SET_VRING_ENABLE = 18, SEND_RARP = 19,
    NET_SET_MTU = 20,
};

#define FLAG_VERSION    0x1u
#define FLAG_VERSION_MASK 0x3u
#define FLAG_REPLY      0x4u
#define FLAG_NEED_REPLY 0x8u
#define VRING_NOFD      0x100u      /* in a SET_VRING_KICK/CALL/ERR payload: no descriptor */
#define VRING_IDX_MASK  0xffu
#define PROTOCOL_OFFERED ((1ull << NS_VU_PROTOCOL_F_REPLY_ACK) | (1ull << NS_VU_PROTOCOL_F_NET_MTU))

/**
 * struct msg - the message being handled
 * @request, @flags: from its header
 * @r:      its payload
 * @fds, @nfds: the descriptors it came with; a handler that keeps one sets
 *          its slot to -1, the rest are closed afterwards
 */
struct msg {
    uint32_t request, flags;
    struct ns_reader r;
    int *fds;
    size_t nfds;
};

/**
 * fail() - a request could not be carried out: say why, for the log
 * @d:      the device
 * @fmt:    printf-style reason
 *
 * Return: -EINVAL, the status a handler returns for it
 */
static int fail(struct ns_vu_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ns_vu_dev *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->why, sizeof(d->why), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void ns_vu_init(struct ns_vu_dev *d, const struct ns_vu_ops *ops, void *opaque,
                uint64_t offered)
{
    unsigned i;

    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->opaque = opaque;
    d->offered = offered;
    d->hdr_len = 10;
    for (i = 0; i < NS_VU_QUEUES; i++)
        d->q[i].kick_fd = d->q[i].call_fd = d->q[i].err_fd = -1;
}

int ns_vu_live(const struct ns_vu_dev *d, unsigned q)
{
    const struct ns_vu_queue *vq = &d->q[q];

    return vq->started && vq->enabled && vq->kick_fd >= 0 && vq->vq.used && !vq->vq.broken;
}

/**
 * queue_try_map() - map a started queue's rings (after its kick, or new memory)
 * @d:      the device
 * @q:      the queue
 */
static void queue_try_map(struct ns_vu_dev *d, unsigned q)
{
    struct ns_vq *vq = &d->q[q].vq;

    if (!d->q[q].started || vq->broken || ns_vq_map(vq, &d->mem))
        return;
    /* Where the used ring stands: what a previous back-end (or we) left. */
    vq->used_idx = vq->signalled = le16toh(*(volatile uint16_t *)(void *)(vq->used + 2));
}

/* Around every change of queue @q: the transport lets go of it, then takes it up again. */
static void queue_stop(struct ns_vu_dev *d, unsigned q)
{
    d->ops->queue_stop(d->opaque, q);
}

static void queue_start(struct ns_vu_dev *d, unsigned q)
{
    if (ns_vu_live(d, q))
        d->ops->queue_start(d->opaque, q);
}

/**
 * unmap_all() - let go of the guest's memory (the queues are stopped or unmapped)
 * @d:      the device
 */
static void unmap_all(struct ns_vu_dev *d)
{
    unsigned i;

    for (i = 0; i < d->mem.n; i++)
        munmap(d->mem.r[i].map, d->mem.r[i].map_len);
    d->mem.n = 0;
}

/**
 * queue_reset() - queue @q back to unconfigured, its descriptors closed
 * @d:      the device
 * @q:      the queue
 */
static void queue_reset(struct ns_vu_dev *d, unsigned q)
{
    struct ns_vu_queue *vq = &d->q[q];

    queue_stop(d, q);
    close_fd(&vq->kick_fd);
    close_fd(&vq->call_fd);
    close_fd(&vq->err_fd);
    memset(&vq->vq, 0, sizeof(vq->vq));
    vq->enabled = vq->started = 0;
}

void ns_vu_reset(struct ns_vu_dev *d)
{
    size_t i;

    for (i = 0; i < NS_VU_QUEUES; i++)
        queue_reset(d, (unsigned)i);
    unmap_all(d);
    for (i = 0; i < d->nfds; i++)
        close_fd(&d->fds[i]);
    d->nfds = d->rx_len = d->tx_len = 0;
    d->features = d->protocol = 0;
    d->owner = 0;
    d->mtu = 0;
    d->hdr_len = 10;
}

/**
 * reply() - queue an answer to @m
 * @d:      the device
 * @m:      the request
 * @payload: its bytes
 * @len:    how many (at most 64 here)
 */
static void reply(struct ns_vu_dev *d, const struct msg *m, const void *payload, uint32_t len)
{
    uint32_t hdr[3] = { m->request, FLAG_VERSION | FLAG_REPLY, len };

    if (d->tx_len + sizeof(hdr) + len > sizeof(d->tx))
        return;     /* cannot happen: one reply per message, drained after each read */
    memcpy(d->tx + d->tx_len, hdr, sizeof(hdr));
    memcpy(d->tx + d->tx_len + sizeof(hdr), payload, len);
    d->tx_len += sizeof(hdr) + len;
}

static void reply_u64(struct ns_vu_dev *d, const struct msg *m, uint64_t v)
{
    reply(d, m, &v, sizeof(v));
}

/**
 * ring_index() - the queue a payload names, checked against the queues we have
 * @d:      the device
 * @idx:    the index read from the payload
 * @q:      set to it
 *
 * Return: 0, -EINVAL
 */
static int ring_index(struct ns_vu_dev *d, uint32_t idx, unsigned *q)
{
    if (idx >= NS_VU_QUEUES)
        return fail(d, "queue %u: this device has %u", idx, NS_VU_QUEUES);
    *q = idx;
    return 0;
}

static int set_features(struct ns_vu_dev *d, struct msg *m)
{
    uint64_t f = ns_read_le64(&m->r);
    unsigned i;

    if (ns_reader_failed(&m->r))
        return fail(d, "SET_FEATURES: short payload");
    if (f & ~d->offered)
        return fail(d, "SET_FEATURES: %#llx was not offered", (unsigned long long)(f & ~d->offered));
    d->features = f;
    d->hdr_len = ns_vu_has(d, NS_VIRTIO_F_VERSION_1) || ns_vu_has(d, NS_VIRTIO_NET_F_MRG_RXBUF)
                 ? 12 : 10;
    for (i = 0; i < NS_VU_QUEUES; i++) {
        queue_stop(d, i);
        d->q[i].vq.event_idx = ns_vu_has(d, NS_VIRTIO_RING_F_EVENT_IDX);
        queue_start(d, i);
    }
    return 0;
}

/**
 * map_region() - one region of a SET_MEM_TABLE, mapped into @r
 * @d:      the device
 * @m:      the message, its reader at the region
 * @fd:     the region's descriptor
 * @r:      filled in
 *
 * Return: 0, -EINVAL
 */
static int map_region(struct ns_vu_dev *d, struct msg *m, int fd, struct ns_gmem_region *r)
{
    uint64_t gpa = ns_read_le64(&m->r), size = ns_read_le64(&m->r);
    uint64_t uva = ns_read_le64(&m->r), offset = ns_read_le64(&m->r);
    struct stat st;
    void *p;

    if (ns_reader_failed(&m->r))
        return fail(d, "SET_MEM_TABLE: short payload");
    if (!size || size > SIZE_MAX / 2 || offset > SIZE_MAX / 2 || gpa + size < gpa ||
        uva + size < uva)
        return fail(d, "SET_MEM_TABLE: a region of %llu bytes at offset %llu",
                    (unsigned long long)size, (unsigned long long)offset);
    /* Past the file's end a mapping faults (SIGBUS): the region must be backed. */
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < size + offset)
        return fail(d, "SET_MEM_TABLE: a region of %llu bytes at offset %llu in a file of %lld",
                    (unsigned long long)size, (unsigned long long)offset,
                    (long long)(fstat(fd, &st) < 0 ? -1 : st.st_size));
    p = mmap(NULL, (size_t)(size + offset), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
             fd, 0);
    if (p == MAP_FAILED)
        return fail(d, "SET_MEM_TABLE: mmap of %llu bytes: %s", (unsigned long long)(size + offset),
                    strerror(errno));
    *r = (struct ns_gmem_region){ .gpa = gpa, .size = size, .uva = uva,
                                  .host = (uint8_t *)p + offset, .map = p,
                                  .map_len = (size_t)(size + offset) };
    return 0;
}

static int set_mem_table(struct ns_vu_dev *d, struct msg *m)
{
    uint32_t n = ns_read_le32(&m->r);
    struct ns_gmem mem = { 0 };
    unsigned i;
    int rc = 0;

    ns_reader_skip(&m->r, 4);
    if (ns_reader_failed(&m->r) || n > NS_GMEM_REGIONS || ns_reader_left(&m->r) != 32 * (size_t)n)
        return fail(d, "SET_MEM_TABLE: %u regions in a payload of the wrong size", n);
    if (m->nfds != n)
        return fail(d, "SET_MEM_TABLE: %u regions with %zu descriptors", n, m->nfds);
    for (i = 0; i < n && !rc; i++)
        if (!(rc = map_region(d, m, m->fds[i], &mem.r[i])))
            mem.n = i + 1;
    if (rc) {
        for (i = 0; i < mem.n; i++)
            munmap(mem.r[i].map, mem.r[i].map_len);
        return rc;
    }
    /* The mapping keeps the memory; the descriptors are closed with the message's. */
    for (i = 0; i < NS_VU_QUEUES; i++)
        queue_stop(d, i);
    unmap_all(d);
    d->mem = mem;
    for (i = 0; i < NS_VU_QUEUES; i++) {
        queue_try_map(d, i);
        queue_start(d, i);
    }
    return 0;
}

static int set_vring_num(struct ns_vu_dev *d, struct msg *m)
{
    uint32_t idx = ns_read_le32(&m->r), num = ns_read_le32(&m->r);
    unsigned q = 0;

    if (ns_reader_failed(&m->r))
        return fail(d, "SET_VRING_NUM: short payload");
    if (ring_index(d, idx, &q))
        return -EINVAL;
    if (!num || num > NS_VQ_MAX_SIZE || (num & (num - 1)))
        return fail(d, "SET_VRING_NUM: %u entries (a power of 2 up to %u)", num, NS_VQ_MAX_SIZE);
    queue_stop(d, q);
    d->q[q].vq.num = num;
    /* Mapped again with the new size at the next kick. */
    d->q[q].vq.desc = d->q[q].vq.avail = d->q[q].vq.used = NULL;
    return 0;
}

static int set_vring_addr(struct ns_vu_dev *d, struct msg *m)
{
    uint32_t idx = ns_read_le32(&m->r);
    uint64_t desc, used, avail;
    struct ns_vq *vq;
    unsigned q = 0;

    ns_reader_skip(&m->r, 4);   /* flags: logging, which we never offered */
    desc = ns_read_le64(&m->r);
    used = ns_read_le64(&m->r);
    avail = ns_read_le64(&m->r);
    if (ns_reader_failed(&m->r))
        return fail(d, "SET_VRING_ADDR: short payload");
    if (ring_index(d, idx, &q))
        return -EINVAL;
    queue_stop(d, q);
    vq = &d->q[q].vq;
    vq->desc_uva = desc;
    vq->used_uva = used;
    vq->avail_uva = avail;
    vq->desc = vq->avail = vq->used = NULL;
    vq->broken = 0;     /* set up again: a ring the guest broke may be used anew */
    queue_try_map(d, q);
    queue_start(d, q);
    return 0;
}

static int set_vring_base(struct ns_vu_dev *d, struct msg *m)
{
    uint32_t idx = ns_read_le32(&m->r), base = ns_read_le32(&m->r);
    unsigned q = 0;

    if (ns_reader_failed(&m->r))
        return fail(d, "SET_VRING_BASE: short payload");
    if (ring_index(d, idx, &q))
        return -EINVAL;
    if (base > 0xffff)
        return fail(d, "SET_VRING_BASE: %u is not a split ring's index", base);
    queue_stop(d, q);
    d->q[q].vq.last_avail = (uint16_t)base;
    queue_start(d, q);
    return 0;
}

static int get_vring_base(struct ns_vu_dev *d, struct msg *m)
{
    uint32_t idx = ns_read_le32(&m->r), state[2];
    unsigned q = 0;

    if (ns_reader_failed(&m->r))
        return fail(d, "GET_VRING_BASE: short payload");
    if (ring_index(d, idx, &q))
        return -EINVAL;
    queue_stop(d, q);
    d->q[q].started = 0;
    /* A stopped ring's kick is given again before it restarts. */
    close_fd(&d->q[q].kick_fd);
    state[0] = idx;
    state[1] = d->q[q].vq.last_avail;
    reply(d, m, state, sizeof(state));
    return 0;
}

/**
 * set_vring_fd() - SET_VRING_KICK, _CALL and _ERR: a queue's eventfd
 * @d:      the device
 * @m:      the message
 *
 * A kick starts the queue. Without a descriptor (VRING_NOFD) a call or error
 * eventfd is simply absent; a kick without one would mean polling the ring,
 * which we do not do.
 * Return: 0, -EINVAL
 */
static int set_vring_fd(struct ns_vu_dev *d, struct msg *m)
{
    uint64_t v = ns_read_le64(&m->r);
    int nofd = !!(v & VRING_NOFD), *slot;
    struct ns_vu_queue *vq;
    unsigned q = 0;

    if (ns_reader_failed(&m->r))
        return fail(d, "SET_VRING_KICK/CALL/ERR: short payload");
    if (ring_index(d, (uint32_t)(v & VRING_IDX_MASK), &q))
        return -EINVAL;
    if (m->nfds != (nofd ? 0u : 1u))
        return fail(d, "SET_VRING_KICK/CALL/ERR: %zu descriptors", m->nfds);
    if (nofd && m->request == SET_VRING_KICK)
        return fail(d, "SET_VRING_KICK without a descriptor: polling is not supported");
    vq = &d->q[q];
    slot = m->request == SET_VRING_KICK ? &vq->kick_fd
         : m->request == SET_VRING_CALL ? &vq->call_fd : &vq->err_fd;
    queue_stop(d, q);
    close_fd(slot);
    if (!nofd) {
        *slot = m->fds[0];
        m->fds[0] = -1;
    }
    if (m->request == SET_VRING_KICK) {
        vq->started = 1;
        if (!(d->features & (1ull << NS_VHOST_USER_F_PROTOCOL_FEATURES)))
            vq->enabled = 1;
        queue_try_map(d, q);
    }
    queue_start(d, q);
    return 0;
}

static int set_protocol_features(struct ns_vu_dev *d, struct msg *m)
{
    uint64_t f = ns_read_le64(&m->r);

    if (ns_reader_failed(&m->r))
        return fail(d, "SET_PROTOCOL_FEATURES: short payload");
    if (f & ~PROTOCOL_OFFERED)
        return fail(d, "SET_PROTOCOL_FEATURES: %#llx was not offered",
                    (unsigned long long)(f & ~PROTOCOL_OFFERED));
    d->protocol = f;
    return 0;
}

static int set_vring_enable(struct ns_vu_dev *d, struct msg *m)
{
    uint32_t idx = ns_read_le32(&m->r), on = ns_read_le32(&m->r);
    unsigned q = 0;

    if (ns_reader_failed(&m->r))
        return fail(d, "SET_VRING_ENABLE: short payload");
    if (ring_index(d, idx, &q))
        return -EINVAL;
    queue_stop(d, q);
    d->q[q].enabled = !!on;
    queue_start(d, q);
    return 0;
}

static int net_set_mtu(struct ns_vu_dev *d, struct msg *m)
{
    uint64_t mtu = ns_read_le64(&m->r);

    if (ns_reader_failed(&m->r))
        return fail(d, "NET_SET_MTU: short payload");
    if (mtu < 68 || mtu > 65535)
        return fail(d, "NET_SET_MTU: %llu", (unsigned long long)mtu);
    d->mtu = (unsigned)mtu;
    return 0;
}

/**
 * handle() - apply one complete message
 * @d:      the device
 * @m:      the message
 *
 * Return: 0 or -EINVAL (a status for REPLY_ACK; the connection goes on)
 */
static int handle(struct ns_vu_dev *d, struct msg *m)
{
    switch (m->request) {
    case GET_FEATURES:
        reply_u64(d, m, d->offered);
        return 0;
    case SET_FEATURES:
        return set_features(d, m);
    case SET_OWNER:
        d->owner = 1;
        return 0;
    case RESET_OWNER:
        ns_vu_reset(d);
        return 0;
    case SET_MEM_TABLE:
        return set_mem_table(d, m);
    case SET_VRING_NUM:
        return set_vring_num(d, m);
    case SET_VRING_ADDR:
        return set_vring_addr(d, m);
    case SET_VRING_BASE:
        return set_vring_base(d, m);
    case GET_VRING_BASE:
        return get_vring_base(d, m);
    case SET_VRING_KICK:
    case SET_VRING_CALL:
    case SET_VRING_ERR:
        return set_vring_fd(d, m);
    case GET_PROTOCOL_FEATURES:
        reply_u64(d, m, PROTOCOL_OFFERED);
        return 0;
    case SET_PROTOCOL_FEATURES:
        return set_protocol_features(d, m);
    case GET_QUEUE_NUM:
        reply_u64(d, m, 1);
        return 0;
    case SET_VRING_ENABLE:
        return set_vring_enable(d, m);
    case SEND_RARP:
        return 0;       /* the stack learns the guest's MAC from its first frame */
    case NET_SET_MTU:
        return net_set_mtu(d, m);
    default:
        d->unsupported++;
        return fail(d, "request %u is not supported", m->request);
    }
}

/**
 * has_reply() - does @request answer by itself (so REPLY_ACK adds nothing)?
 */
static int has_reply(uint32_t request)
{
    return request == GET_FEATURES || request == GET_PROTOCOL_FEATURES ||
           request == GET_VRING_BASE || request == GET_QUEUE_NUM;
}

/**
 * dispatch() - the message in @d->rx is complete: handle it
 * @d:      the device
 * @size:   its payload's length
 */
static void dispatch(struct ns_vu_dev *d, uint32_t size)
{
    struct msg m;
    size_t i;
    int rc;

    memcpy(&m.request, d->rx, 4);
    memcpy(&m.flags, d->rx + 4, 4);
    ns_reader_init(&m.r, d->rx + NS_VU_HDR, size);
    m.fds = d->fds;
    m.nfds = d->nfds;
    rc = handle(d, &m);
    if (rc)
        d->failures++;
    if ((m.flags & FLAG_NEED_REPLY) && (d->protocol & (1ull << NS_VU_PROTOCOL_F_REPLY_ACK)) &&
        !has_reply(m.request))
        reply_u64(d, &m, rc ? 1 : 0);
    for (i = 0; i < d->nfds; i++)
        close_fd(&d->fds[i]);
    d->nfds = 0;
    d->rx_len = 0;
}

size_t ns_vu_want(const struct ns_vu_dev *d)
{
    uint32_t size;

    if (d->rx_len < NS_VU_HDR)
        return NS_VU_HDR - d->rx_len;
    memcpy(&size, d->rx + 8, 4);
    return size <= NS_VU_PAYLOAD_MAX ? NS_VU_HDR + size - d->rx_len : 0;
}

/**
 * take_fds() - descriptors that came with the bytes: the message's, up to a limit
 * @d:      the device
 * @fds:    them
 * @nfds:   how many
 *
 * Return: 0, -EPROTO when a message brings more than NS_VU_FDS_MAX (all closed)
 */
static int take_fds(struct ns_vu_dev *d, const int *fds, size_t nfds)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < nfds; i++) {
        if (d->nfds < NS_VU_FDS_MAX) {
            d->fds[d->nfds++] = fds[i];
        } else {
            close(fds[i]);
            rc = -EPROTO;
        }
    }
    if (rc)
        snprintf(d->why, sizeof(d->why), "a message with more than %d descriptors", NS_VU_FDS_MAX);
    return rc;
}

int ns_vu_input(struct ns_vu_dev *d, const uint8_t *data, size_t len, const int *fds,
                size_t nfds)
{
    if (take_fds(d, fds, nfds))
        return -EPROTO;
    while (len) {
        size_t want = ns_vu_want(d), n;
        uint32_t flags, size;

        if (!want) {
            snprintf(d->why, sizeof(d->why), "a message with a payload above %d bytes",
                     NS_VU_PAYLOAD_MAX);
            return -EPROTO;
        }
        n = len < want ? len : want;
        memcpy(d->rx + d->rx_len, data, n);
        d->rx_len += n;
        data += n;
        len -= n;
        if (d->rx_len < NS_VU_HDR)
            continue;
        memcpy(&flags, d->rx + 4, 4);
        memcpy(&size, d->rx + 8, 4);
        if ((flags & FLAG_VERSION_MASK) != FLAG_VERSION) {
            snprintf(d->why, sizeof(d->why), "protocol version %u (we speak 1)",
                     flags & FLAG_VERSION_MASK);
            return -EPROTO;
        }
        if (size > NS_VU_PAYLOAD_MAX) {
            snprintf(d->why, sizeof(d->why), "a message with a payload of %u bytes", size);
            return -EPROTO;
        }
        if (d->rx_len == NS_VU_HDR + size)
            dispatch(d, size);
    }
    return 0;
}
