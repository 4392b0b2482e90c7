/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loop_epoll.c - the event loop's Linux backend: epoll plus an eventfd
 *
 * Theory of Operation: the stack, its host sockets and the embedder's transport
 * fds (netstack_watch) all live in one epoll set, whose fd is what the
 * embedder polls. An eventfd in the set lets netstack_stop() interrupt a wait
 * from a signal handler. Level-triggered, so a callback that leaves data
 * unread (to apply backpressure) is simply called again later.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "netstack/loop.h"

/**
 * to_epoll() - NETSTACK_EV_* to EPOLL* (the values match, but say so once here).
 */
static uint32_t to_epoll(uint32_t ev)
{
    return (ev & NETSTACK_EV_IN ? EPOLLIN : 0) | (ev & NETSTACK_EV_OUT ? EPOLLOUT : 0);
}

static uint32_t from_epoll(uint32_t ev)
{
    return (ev & EPOLLIN ? NETSTACK_EV_IN : 0) | (ev & EPOLLOUT ? NETSTACK_EV_OUT : 0) |
           (ev & EPOLLERR ? NETSTACK_EV_ERR : 0) | (ev & (EPOLLHUP | EPOLLRDHUP) ? NETSTACK_EV_HUP : 0);
}

/**
 * ns_loop_init() - create the epoll set and the wake eventfd
 * Return: 0 or a negative errno.
 */
int ns_loop_init(struct ns_loop *l)
{
    struct epoll_event ev = { .events = EPOLLIN };

    memset(l, 0, sizeof(*l));
    l->pollfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->pollfd < 0)
        return -errno;
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wakefd < 0)
        goto fail;
    ev.data.u64 = (uint64_t)(uint32_t)l->wakefd;    /* generation 0 is never a watch's */
    if (epoll_ctl(l->pollfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
        goto fail;
    return 0;
fail:
    {
        int err = -errno;

        ns_loop_fini(l);
        return err;
    }
}

void ns_loop_fini(struct ns_loop *l)
{
    if (l->wakefd > 0)
        close(l->wakefd);
    if (l->pollfd > 0)
        close(l->pollfd);
    free(l->watch);
    memset(l, 0, sizeof(*l));
    l->pollfd = l->wakefd = -1;
}

/**
 * grow() - make the watch table hold index @fd. Return: 0 or -ENOMEM.
 */
static int grow(struct ns_loop *l, int fd)
{
    size_t n = l->nwatch ? l->nwatch : 64;
    struct ns_watch *w;

    while (n <= (size_t)fd)
        n *= 2;
    if (n == l->nwatch)
        return 0;
    w = realloc(l->watch, n * sizeof(*w));
    if (!w)
        return -ENOMEM;
    memset(w + l->nwatch, 0, (n - l->nwatch) * sizeof(*w));
    l->watch = w;
    l->nwatch = n;
    return 0;
}

/**
 * ns_loop_set() - add @fd, or change its mask and callback
 * Return: 0 or a negative errno.
 */
int ns_loop_set(struct ns_loop *l, int fd, uint32_t events, netstack_watch_fn cb, void *opaque)
{
    struct epoll_event ev = { 0 };
    struct ns_watch *w;
    int op, rc;

    if (fd < 0 || !cb || fd == l->wakefd || fd == l->pollfd)
        return -EINVAL;
    rc = grow(l, fd);
    if (rc)
        return rc;
    w = &l->watch[fd];
    op = w->cb ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (!w->cb) {
        if (++l->gen == 0)
            l->gen = 1;
        w->gen = l->gen;
    }
    ev.events = to_epoll(events);
    ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
    if (epoll_ctl(l->pollfd, op, fd, &ev) < 0)
        return -errno;
    w->cb = cb;
    w->opaque = opaque;
    w->events = events;
    return 0;
}

/**
 * ns_loop_del() - stop watching @fd. Return: 0, -ENOENT if it was not watched.
 */
int ns_loop_del(struct ns_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nwatch || !l->watch[fd].cb)
        return -ENOENT;
    /* The fd may already be closed (then the kernel dropped it from the set). */
    epoll_ctl(l->pollfd, EPOLL_CTL_DEL, fd, NULL);
    l->watch[fd].cb = NULL;
    l->watch[fd].opaque = NULL;
    return 0;
}

/**
 * ns_loop_forget() - stop watching @fd, which the caller closes right after
 * close() takes a socket out of every epoll set by itself (we never dup our
 * sockets, so the set's reference is the last one), so the EPOLL_CTL_DEL a
 * short-lived connection would pay for is skipped.
 */
void ns_loop_forget(struct ns_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nwatch)
        return;
    l->watch[fd].cb = NULL;
    l->watch[fd].opaque = NULL;
}

/**
 * ns_loop_wait() - wait for events
 * Return: number of events stored in @ev, or a negative errno (EINTR is 0).
 */
int ns_loop_wait(struct ns_loop *l, struct ns_loop_event *ev, int max, int timeout_ms)
{
    struct epoll_event eev[64];
    int n, i, out = 0;

    if (max > 64)
        max = 64;
    n = epoll_wait(l->pollfd, eev, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (i = 0; i < n; i++) {
        int fd = (int)(uint32_t)eev[i].data.u64;
        uint32_t gen = (uint32_t)(eev[i].data.u64 >> 32);

        if (fd == l->wakefd && gen == 0) {
            uint64_t v;

            if (read(l->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                return -errno;
            continue;
        }
        ev[out].fd = fd;
        ev[out].gen = gen;
        ev[out].events = from_epoll(eev[i].events);
        out++;
    }
    return out;
}

void ns_loop_wake(struct ns_loop *l)
{
    uint64_t one = 1;
    ssize_t rc = write(l->wakefd, &one, sizeof(one));

    (void)rc;   /* a full counter already means "awake" */
}
