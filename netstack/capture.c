/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.c - the guest link's frames copied to pcap files and live streams
 *
 * Theory of Operation
 *
 * A capture must never slow the link beyond copying the frame, so the stack's
 * thread does only that: every frame the guest sent, and every frame the
 * transport took for the guest, is copied (up to the snap length) with its
 * timestamp into a ring of NS_CAPTURE_RING bytes. A writer thread of our own
 * (capture_writer.c) empties the ring into the files and the live streams,
 * through libpcap's dumper. When the ring is full the frame is dropped from
 * the capture and counted (pcap_dropped); the link never waits for a disk or a
 * reader. The writer is woken once per batch of the stack (ns_capture_kick()
 * from ns_flush()), and only when it sleeps, so a busy capture costs no system
 * call per frame on the stack's side.
 *
 * Starting and stopping are commands the stack's thread hands to the writer
 * and waits for: the writer first writes everything already in the ring, then
 * runs the command. As the stack's thread records nothing while it waits, a
 * capture started and stopped by two calls holds exactly the frames between
 * them.
 *
 * With nothing capturing, ns->capture is NULL (or its sinks are all closed)
 * and the data path tests one pointer (and one relaxed atomic).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "netstack/capture.h"
#include "netstack/capture_priv.h"

int ns_capture_on(const struct netstack *ns)
{
    return atomic_load_explicit(&ns->capture->active, memory_order_relaxed) > 0;
}

/**
 * now_ns() - the capture's timestamp: wall-clock time, or the embedder's clock
 */
static uint64_t now_ns(const struct netstack *ns)
{
    struct timespec ts;

    if (ns->cfg.clock_ns)
        return ns->cfg.clock_ns(ns->cfg.opaque);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/**
 * reserve() - room for a record of @need bytes at the ring's head
 * @c:      the capture
 * @need:   bytes, a multiple of 8
 * Return: where to write it, NULL when the ring is full. A record never wraps:
 * the space left at the end is marked skipped (size 0) and the record goes to 0.
 */
static struct ns_capture_rec *reserve(struct ns_capture *c, uint32_t need)
{
    uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
    uint64_t at = head % NS_CAPTURE_RING, room = NS_CAPTURE_RING - (head - tail);
    uint64_t end = NS_CAPTURE_RING - at;

    if (end < need) {
        if (room < end + need)
            return NULL;
        ((struct ns_capture_rec *)(c->ring + at))->size = 0;
        atomic_store_explicit(&c->head, head + end, memory_order_release);
        return (struct ns_capture_rec *)c->ring;
    }
    if (room < need)
        return NULL;
    return (struct ns_capture_rec *)(c->ring + at);
}

void ns_capture_copy(struct netstack *ns, const struct iovec *iov, size_t n)
{
    struct ns_capture *c = ns->capture;
    uint32_t snap = atomic_load_explicit(&c->snaplen, memory_order_relaxed);
    size_t len = 0, caplen, i, off = 0;
    struct ns_capture_rec *r;
    uint32_t size;
    uint8_t *p;

    for (i = 0; i < n; i++)
        len += iov[i].iov_len;
    caplen = len < snap ? len : snap;
    size = (uint32_t)((sizeof(*r) + caplen + 7) & ~(size_t)7);
    r = reserve(c, size);
    if (!r) {
        NS_COUNT(ns, pcap_dropped);
        return;
    }
    r->size = size;
    r->caplen = (uint32_t)caplen;
    r->len = (uint32_t)len;
    r->ts_ns = now_ns(ns);
    p = (uint8_t *)(r + 1);
    for (i = 0; i < n && off < caplen; i++) {
        size_t k = iov[i].iov_len < caplen - off ? iov[i].iov_len : caplen - off;

        memcpy(p + off, iov[i].iov_base, k);
        off += k;
    }
    /* reserve() left the head at @r (past a skipped end): publish the record. */
    atomic_store_explicit(&c->head, atomic_load_explicit(&c->head, memory_order_relaxed) + r->size,
                          memory_order_release);
    NS_COUNT(ns, pcap_frames);
    c->kick = 1;
}

/**
 * wake() - let a sleeping writer know there is work
 */
static void wake(struct ns_capture *c)
{
    uint64_t one = 1;

    if (write(c->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return;     /* an eventfd write fails only at its counter's limit: woken anyway */
}

void ns_capture_kick(struct netstack *ns)
{
    struct ns_capture *c = ns->capture;
    int err;

    if (!c)
        return;
    if (c->kick) {
        c->kick = 0;
        if (atomic_exchange(&c->waiting, 0))
            wake(c);
    }
    err = atomic_load_explicit(&c->failed, memory_order_relaxed);
    if (err && !c->failed_logged) {
        c->failed_logged = 1;
        ns_log(ns, NETSTACK_LOG_ERROR, "capture: writing %s failed (%s); the file capture stopped",
               c->file_started ? c->file_cfg.path : "the capture file", strerror(err));
    }
}

/**
 * command() - have the writer run @op on @arg, after what the ring holds
 * Return: the writer's result.
 */
static int command(struct ns_capture *c, enum ns_capture_op op, const void *arg)
{
    int rc;

    pthread_mutex_lock(&c->lock);
    c->op = op;
    c->arg = arg;
    wake(c);
    while (c->op != NS_CAP_NONE)
        pthread_cond_wait(&c->done, &c->lock);
    rc = c->rc;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/**
 * capture_new() - the shared state and its writer thread, on first use
 */
static int capture_new(struct netstack *ns)
{
    struct ns_capture *c;
    int rc;

    if (ns->capture)
        return 0;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->ring = malloc(NS_CAPTURE_RING);
    c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!c->ring || c->wakefd < 0) {
        rc = c->ring ? -errno : -ENOMEM;
        goto fail;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->done, NULL);
    rc = -pthread_create(&c->thread, NULL, ns_capture_writer, c);
    if (rc) {
        pthread_cond_destroy(&c->done);
        pthread_mutex_destroy(&c->lock);
        goto fail;
    }
    ns->capture = c;
    return 0;
fail:
    if (c->wakefd >= 0)
        close(c->wakefd);
    free(c->ring);
    free(c);
    return rc;
}

/**
 * check_pcap_config() - @cfg with its defaults filled in, or -EINVAL
 */
static int check_pcap_config(const struct netstack_pcap_config *cfg, struct netstack_pcap_config *out)
{
    if (!cfg || !cfg->path || !cfg->path[0])
        return -EINVAL;
    *out = *cfg;
    if (!out->file_size)
        out->file_size = NS_CAPTURE_FILE_SIZE;
    if (!out->files)
        out->files = NS_CAPTURE_FILES;
    if (!out->snaplen || out->snaplen > NS_CAPTURE_SNAPLEN)
        out->snaplen = NS_CAPTURE_SNAPLEN;
    if (out->file_size < NS_CAPTURE_FILE_MIN || out->files > NS_CAPTURE_FILES_MAX)
        return -EINVAL;
    return 0;
}

int netstack_pcap_start(struct netstack *ns, const struct netstack_pcap_config *cfg)
{
    struct netstack_pcap_config c;
    int rc;

    if (!ns || check_pcap_config(cfg, &c) < 0)
        return -EINVAL;
    rc = capture_new(ns);
    if (rc)
        return rc;
    if (ns->capture->file_started)
        return -EBUSY;
    rc = command(ns->capture, NS_CAP_START, &c);
    if (!rc) {
        struct ns_capture *cap = ns->capture;

        cap->file_cfg = c;
        cap->file_cfg.path = cap->file.path;    /* the writer's copy lives until the stop */
        cap->file_started = 1;
        cap->failed_logged = 0;
        ns_log(ns, NETSTACK_LOG_INFO, "capture: to %s (%u files of %llu bytes, snap length %u)",
               c.path, c.files, (unsigned long long)c.file_size, c.snaplen);
    }
    return rc;
}

int netstack_pcap_stop(struct netstack *ns)
{
    if (!ns)
        return -EINVAL;
    if (!ns->capture || !ns->capture->file_started)
        return -ENOENT;
    ns_log(ns, NETSTACK_LOG_INFO, "capture: to %s stopped", ns->capture->file_cfg.path);
    ns->capture->file_started = 0;
    return command(ns->capture, NS_CAP_STOP, NULL);
}

int netstack_pcap_stream(struct netstack *ns, int fd, uint32_t snaplen)
{
    struct ns_capture_stream s = { .fd = fd, .snaplen = snaplen };
    int rc;

    if (!ns || fd < 0) {
        if (fd >= 0)
            close(fd);
        return -EINVAL;
    }
    if (!s.snaplen || s.snaplen > NS_CAPTURE_SNAPLEN)
        s.snaplen = NS_CAPTURE_SNAPLEN;
    rc = capture_new(ns);
    if (!rc)
        rc = command(ns->capture, NS_CAP_STREAM, &s);   /* the writer owns @fd now */
    else
        close(fd);
    return rc;
}

int netstack_pcap_status(struct netstack *ns, struct netstack_pcap_status *st)
{
    const struct ns_capture *c;

    if (!ns || !st)
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    st->dropped = ns->stats[NETSTACK_STAT_pcap_dropped];
    c = ns->capture;
    if (!c)
        return 0;
    if (c->file_started && !atomic_load(&c->failed)) {
        st->file_active = 1;
        st->path = c->file_cfg.path;
        st->file_size = c->file_cfg.file_size;
        st->files = c->file_cfg.files;
        st->snaplen = c->file_cfg.snaplen;
    }
    st->file_frames = atomic_load(&c->file_frames);
    st->file_bytes = atomic_load(&c->file_bytes);
    st->rotations = atomic_load(&c->rotations);
    st->streams = atomic_load(&c->nstreams);
    st->stream_dropped = atomic_load(&c->stream_dropped);
    return 0;
}

void ns_capture_fold(const struct netstack *ns, uint64_t *counters, size_t n)
{
    if (ns->capture && n > NETSTACK_STAT_pcap_stream_dropped)
        counters[NETSTACK_STAT_pcap_stream_dropped] += atomic_load(&ns->capture->stream_dropped);
}

void ns_capture_free(struct netstack *ns)
{
    struct ns_capture *c = ns->capture;

    if (!c)
        return;
    command(c, NS_CAP_QUIT, NULL);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->lock);
    close(c->wakefd);
    free(c->ring);
    free(c);
    ns->capture = NULL;
}
