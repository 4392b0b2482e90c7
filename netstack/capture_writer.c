/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture_writer.c - the capture's writer thread: ring to pcap files and streams
 *
 * Theory of Operation
 *
 * The thread takes frames from the ring (capture.c) in order and writes each
 * to the open sinks with libpcap's pcap_dump():
 *
 * - The file sink rotates: before a record would take the current file past
 *   its size, the file is closed, path.N-2 ... path.1 and path move up one
 *   name (path.N-1 falls off) and path is created again, so the capture never
 *   holds more than files x size bytes and the newest frames are always in
 *   path. The stdio buffer is flushed whenever the ring runs empty, so a
 *   reader of path sees whole records. A write or create error ends the file
 *   capture (the stack's thread logs it); the link is not affected.
 * - A stream sink is a non-blocking socket (or pipe) with a bounded buffer
 *   that libpcap's dumper writes into through a stdio cookie. A record goes
 *   into the buffer whole or not at all (pcap_stream_dropped), so a slow
 *   reader sees fewer frames, never a broken stream, and never slows the
 *   others. A reader that closes its end, or whose socket fails, is dropped.
 *
 * The thread sleeps in poll() on the wake eventfd and its streams. Before it
 * sleeps it sets @waiting and looks at the ring once more, so the stack's
 * thread either sees @waiting and writes the eventfd, or its frame is seen.
 */
#define _GNU_SOURCE     /* fopencookie() */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netstack/capture_priv.h"

#define DRAIN_BATCH 64      /* records between two sends to the streams */

/* ------------------------------------------------------------------------ */
/* The file sink                                                            */
/* ------------------------------------------------------------------------ */

/**
 * open_file() - create (or truncate) @f->path and start a pcap file in it
 * Return: 0, a negative errno.
 */
static int open_file(struct ns_capture_file *f)
{
    FILE *fp;
    int fd;

    fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -errno;
    fp = fdopen(fd, "wb");
    if (!fp) {
        close(fd);
        return -ENOMEM;
    }
    f->dumper = pcap_dump_fopen(f->dead, fp);
    if (!f->dumper) {
        fclose(fp);
        return -EIO;
    }
    return 0;
}

/**
 * close_file() - flush and close the current file; -EIO if anything was lost
 */
static int close_file(struct ns_capture_file *f)
{
    int rc = 0;

    if (!f->dumper)
        return 0;
    if (pcap_dump_flush(f->dumper) < 0)
        rc = -EIO;
    pcap_dump_close(f->dumper);
    f->dumper = NULL;
    return rc;
}

/**
 * shift_names() - path.N-2 -> path.N-1, ..., path -> path.1
 */
static void shift_names(const struct ns_capture_file *f)
{
    char from[PATH_MAX], to[PATH_MAX];
    uint32_t i;

    for (i = f->files - 1; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof(from), "%s", f->path);
        else
            snprintf(from, sizeof(from), "%s.%u", f->path, i - 1);
        snprintf(to, sizeof(to), "%s.%u", f->path, i);
        /* A name missing (fewer rotations so far) is fine. */
        (void)rename(from, to);
    }
}

/**
 * rotate() - the current file is full: start the next one
 * With one file only, the file starts over.
 * Return: 0, a negative errno.
 */
static int rotate(struct ns_capture *c)
{
    struct ns_capture_file *f = &c->file;
    int rc = close_file(f);

    if (rc)
        return rc;
    if (f->files > 1)
        shift_names(f);
    atomic_fetch_add(&c->rotations, 1);
    rc = open_file(f);
    atomic_store(&c->file_bytes, f->dumper ? (uint64_t)pcap_dump_ftell64(f->dumper) : 0);
    return rc;
}

/**
 * file_fail() - a write or create failed: stop writing, keep the settings
 */
static void file_fail(struct ns_capture *c, int err)
{
    close_file(&c->file);
    atomic_store(&c->failed, err ? -err : EIO);
}

/**
 * file_write() - one record to the file sink, rotating first if it is full
 */
static void file_write(struct ns_capture *c, const struct pcap_pkthdr *h, const uint8_t *data)
{
    struct ns_capture_file *f = &c->file;
    uint32_t caplen = h->caplen < f->snaplen ? h->caplen : f->snaplen;
    struct pcap_pkthdr hh = *h;
    uint64_t size = atomic_load_explicit(&c->file_bytes, memory_order_relaxed);
    int rc;

    hh.caplen = caplen;
    /* Each file gets at least one record, so a record bigger than a file still goes. */
    if (size + 16 + caplen > f->size && size > 24) {
        rc = rotate(c);
        if (rc) {
            file_fail(c, rc);
            return;
        }
        size = atomic_load_explicit(&c->file_bytes, memory_order_relaxed);
    }
    pcap_dump((u_char *)f->dumper, &hh, data);
    atomic_store_explicit(&c->file_bytes, size + 16 + caplen, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->file_frames, 1, memory_order_relaxed);
}

/**
 * file_start() - the START command: open @cfg's file with its settings
 * Return: 0, a negative errno (nothing is left open).
 */
static int file_start(struct ns_capture *c, const struct netstack_pcap_config *cfg)
{
    struct ns_capture_file *f = &c->file;
    int rc;

    f->path = strdup(cfg->path);
    f->dead = pcap_open_dead(DLT_EN10MB, (int)cfg->snaplen);
    if (!f->path || !f->dead) {
        rc = -ENOMEM;
        goto fail;
    }
    f->size = cfg->file_size;
    f->files = cfg->files;
    f->snaplen = cfg->snaplen;
    rc = open_file(f);
    if (rc)
        goto fail;
    atomic_store(&c->file_frames, 0);
    atomic_store(&c->rotations, 0);
    atomic_store(&c->file_bytes, (uint64_t)pcap_dump_ftell64(f->dumper));
    atomic_store(&c->failed, 0);
    return 0;
fail:
    if (f->dead)
        pcap_close(f->dead);
    free(f->path);
    memset(f, 0, sizeof(*f));
    return rc;
}

/**
 * file_stop() - the STOP command: write what is buffered, forget the settings
 */
static int file_stop(struct ns_capture *c)
{
    struct ns_capture_file *f = &c->file;
    int rc = close_file(f);

    if (f->dead)
        pcap_close(f->dead);
    free(f->path);
    memset(f, 0, sizeof(*f));
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Stream sinks                                                             */
/* ------------------------------------------------------------------------ */

/**
 * stream_put() - the stdio cookie's write: append to the stream's buffer
 */
static ssize_t stream_put(void *cookie, const char *buf, size_t n)
{
    struct ns_capture_stream *s = cookie;

    if (n > NS_CAPTURE_STREAM_BUF - s->len)
        return 0;       /* stream_write() checked the room: cannot happen */
    memcpy(s->buf + s->len, buf, n);
    s->len += n;
    return (ssize_t)n;
}

/**
 * stream_close() - forget stream @i, closing its socket
 */
static void stream_close(struct ns_capture *c, uint32_t i)
{
    struct ns_capture_stream *s = &c->streams[i];
    uint32_t n = atomic_load(&c->nstreams);

    if (s->dumper)
        pcap_dump_close(s->dumper);     /* closes the cookie stream, not @fd */
    if (s->dead)
        pcap_close(s->dead);
    close(s->fd);
    free(s->buf);
    c->streams[i] = c->streams[n - 1];
    memset(&c->streams[n - 1], 0, sizeof(c->streams[n - 1]));
    atomic_store(&c->nstreams, n - 1);
}

/**
 * stream_open() - the STREAM command: take over the reader's socket
 * Return: 0, a negative errno (the socket is closed then).
 */
static int stream_open(struct ns_capture *c, const struct ns_capture_stream *req)
{
    static const cookie_io_functions_t io = { .write = stream_put };
    uint32_t n = atomic_load(&c->nstreams);
    struct ns_capture_stream *s;
    FILE *fp;
    int fl;

    if (n >= NETSTACK_PCAP_MAX_STREAMS) {
        close(req->fd);
        return -EBUSY;
    }
    s = &c->streams[n];
    *s = *req;
    fl = fcntl(s->fd, F_GETFL);
    s->buf = malloc(NS_CAPTURE_STREAM_BUF);
    s->dead = pcap_open_dead(DLT_EN10MB, (int)s->snaplen);
    fp = s->buf && s->dead ? fopencookie(s, "w", io) : NULL;
    if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0 || !fp ||
        setvbuf(fp, NULL, _IONBF, 0) != 0 || !(s->dumper = pcap_dump_fopen(s->dead, fp))) {
        if (fp && !s->dumper)
            fclose(fp);
        atomic_store(&c->nstreams, n + 1);
        stream_close(c, n);
        return fl < 0 ? -EBADF : -ENOMEM;
    }
    atomic_store(&c->nstreams, n + 1);
    return 0;
}

/**
 * stream_write() - one record into stream @s's buffer, whole, or counted as lost
 */
static void stream_write(struct ns_capture *c, struct ns_capture_stream *s,
                         const struct pcap_pkthdr *h, const uint8_t *data)
{
    struct pcap_pkthdr hh = *h;

    hh.caplen = h->caplen < s->snaplen ? h->caplen : s->snaplen;
    if (s->off && s->len + 16 + hh.caplen > NS_CAPTURE_STREAM_BUF) {
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (s->len + 16 + hh.caplen > NS_CAPTURE_STREAM_BUF) {
        atomic_fetch_add_explicit(&c->stream_dropped, 1, memory_order_relaxed);
        return;
    }
    pcap_dump((u_char *)s->dumper, &hh, data);
}

/**
 * stream_send() - write what stream @s holds, without blocking
 * Return: 0, -1 when the reader is gone.
 */
static int stream_send(struct ns_capture_stream *s)
{
    while (s->off < s->len) {
        ssize_t k = send(s->fd, s->buf + s->off, s->len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (k < 0 && errno == ENOTSOCK)
            k = write(s->fd, s->buf + s->off, s->len - s->off);    /* a pipe */
        if (k < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        s->off += (size_t)k;
    }
    s->off = s->len = 0;
    return 0;
}

/**
 * reader_gone() - the reader closed its end (or sent something: drained)
 */
static int reader_gone(int fd)
{
    char junk[256];
    ssize_t k = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);

    if (k < 0 && errno == ENOTSOCK)
        return 0;       /* a pipe's reader leaves with POLLERR */
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR);
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * update_sinks() - what the stack's side copies: anything at all, and how much of a frame
 */
static void update_sinks(struct ns_capture *c)
{
    uint32_t snap = c->file.dumper ? c->file.snaplen : 0, i, n = atomic_load(&c->nstreams);

    for (i = 0; i < n; i++)
        if (c->streams[i].snaplen > snap)
            snap = c->streams[i].snaplen;
    atomic_store(&c->snaplen, snap);
    atomic_store(&c->active, (c->file.dumper ? 1 : 0) + (int)n);
}

/**
 * deliver() - one record to every sink
 */
static void deliver(struct ns_capture *c, const struct ns_capture_rec *r)
{
    struct pcap_pkthdr h = {
        .ts = { .tv_sec = (time_t)(r->ts_ns / 1000000000u),
                .tv_usec = (suseconds_t)(r->ts_ns % 1000000000u / 1000) },
        .caplen = r->caplen,
        .len = r->len,
    };
    const uint8_t *data = (const uint8_t *)(r + 1);
    uint32_t i, n = atomic_load(&c->nstreams);

    if (c->file.dumper)
        file_write(c, &h, data);
    for (i = 0; i < n; i++)
        stream_write(c, &c->streams[i], &h, data);
}

/**
 * drain() - write up to DRAIN_BATCH records from the ring
 * Return: how many there were (0: the ring is empty).
 */
static unsigned drain(struct ns_capture *c)
{
    uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&c->head, memory_order_acquire);
    unsigned n = 0;

    while (tail != head && n < DRAIN_BATCH) {
        const struct ns_capture_rec *r = (const void *)(c->ring + tail % NS_CAPTURE_RING);

        if (r->size == 0) {
            tail += NS_CAPTURE_RING - tail % NS_CAPTURE_RING;
        } else {
            deliver(c, r);
            tail += r->size;
            n++;
        }
        atomic_store_explicit(&c->tail, tail, memory_order_release);
        if (tail == head)
            head = atomic_load_explicit(&c->head, memory_order_acquire);
    }
    return n;
}

/**
 * send_streams() - what the streams hold, to their readers, without blocking
 */
static void send_streams(struct ns_capture *c)
{
    uint32_t i;

    for (i = 0; i < atomic_load(&c->nstreams);) {
        if (stream_send(&c->streams[i]) < 0)
            stream_close(c, i);
        else
            i++;
    }
}

/**
 * flush_file() - the file's stdio buffer to the file, so a reader sees whole records
 */
static void flush_file(struct ns_capture *c)
{
    if (c->file.dumper && pcap_dump_flush(c->file.dumper) < 0)
        file_fail(c, -EIO);
}

/**
 * run_command() - the stack's thread's command, once the ring is written
 * Return: 0 to go on, 1 to end the thread.
 */
static int run_command(struct ns_capture *c)
{
    int quit = 0, rc = 0;

    pthread_mutex_lock(&c->lock);
    if (c->op == NS_CAP_NONE) {
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    /*
     * The ring may have filled since the writer last found it empty: the
     * frames recorded before the command go first. The stack's thread waits
     * for the command, so nothing is added meanwhile.
     */
    while (drain(c))
        ;
    switch (c->op) {
    case NS_CAP_NONE:
        break;
    case NS_CAP_START:
        rc = file_start(c, c->arg);
        break;
    case NS_CAP_STOP:
        rc = file_stop(c);
        break;
    case NS_CAP_STREAM:
        rc = stream_open(c, c->arg);
        break;
    case NS_CAP_QUIT:
        file_stop(c);
        send_streams(c);    /* what the readers can still take, without waiting */
        while (atomic_load(&c->nstreams))
            stream_close(c, 0);
        quit = 1;
        break;
    }
    update_sinks(c);
    c->rc = rc;
    c->op = NS_CAP_NONE;
    pthread_cond_signal(&c->done);
    pthread_mutex_unlock(&c->lock);
    return quit;
}

/**
 * command_pending() - has the stack's thread asked for something?
 */
static int command_pending(struct ns_capture *c)
{
    int op;

    pthread_mutex_lock(&c->lock);
    op = c->op;
    pthread_mutex_unlock(&c->lock);
    return op != NS_CAP_NONE;
}

/**
 * sleep_until_work() - poll the wake eventfd and the streams; drop the readers gone
 */
static void sleep_until_work(struct ns_capture *c)
{
    struct pollfd p[1 + NETSTACK_PCAP_MAX_STREAMS];
    uint32_t i, n = atomic_load(&c->nstreams);
    uint64_t junk;

    p[0] = (struct pollfd){ .fd = c->wakefd, .events = POLLIN };
    for (i = 0; i < n; i++) {
        const struct ns_capture_stream *s = &c->streams[i];

        p[1 + i] = (struct pollfd){ .fd = s->fd, .events = POLLIN | (s->off < s->len ? POLLOUT : 0) };
    }
    atomic_store(&c->waiting, 1);
    if (atomic_load(&c->head) == atomic_load(&c->tail) && !command_pending(c) &&
        poll(p, 1 + n, -1) > 0) {
        if (p[0].revents & POLLIN)
            (void)!read(c->wakefd, &junk, sizeof(junk));
        for (i = n; i-- > 0;)   /* from the end: closing moves the last one into @i */
            if ((p[1 + i].revents & (POLLERR | POLLHUP | POLLNVAL)) ||
                ((p[1 + i].revents & POLLIN) && reader_gone(p[1 + i].fd)))
                stream_close(c, i);
        update_sinks(c);
    }
    atomic_store(&c->waiting, 0);
}

void *ns_capture_writer(void *arg)
{
    struct ns_capture *c = arg;

    for (;;) {
        unsigned n = drain(c);

        send_streams(c);
        if (n)
            continue;       /* a command waits for an empty ring */
        flush_file(c);
        update_sinks(c);
        if (run_command(c))
            return NULL;
        sleep_until_work(c);
    }
}
