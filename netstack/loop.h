/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loop.h - private: the event loop's polling backend
 *
 * Exactly one backend file implements these (loop_epoll.c on Linux; a kqueue
 * backend would be loop_kqueue.c), so it is the only OS-specific part of the
 * loop. Watches are kept in a table indexed by fd; each registration carries a
 * generation number so an event fetched for an fd that was closed and reused
 * within the same batch is recognised as stale and skipped.
 */
#ifndef NETSTACK_LOOP_H
#define NETSTACK_LOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/include/netstack.h"

struct ns_watch {
    netstack_watch_fn cb;       /* NULL: slot unused */
    void *opaque;
    uint32_t events;
    uint32_t gen;
};

struct ns_loop_event {
    int fd;
    uint32_t gen;
    uint32_t events;            /* NETSTACK_EV_* */
};

struct ns_loop {
    int pollfd;                 /* the backend's fd (epoll), exposed as netstack_fd() */
    int wakefd;                 /* eventfd: wakes a blocked wait for netstack_stop() */
    volatile sig_atomic_t stop;
    struct ns_watch *watch;     /* indexed by fd */
    size_t nwatch;
    uint32_t gen;
};

int ns_loop_init(struct ns_loop *l);
void ns_loop_fini(struct ns_loop *l);
int ns_loop_set(struct ns_loop *l, int fd, uint32_t events, netstack_watch_fn cb, void *opaque);
int ns_loop_del(struct ns_loop *l, int fd);
/**
 * ns_loop_forget() - ns_loop_del() for an fd that is closed at once (no syscall).
 */
void ns_loop_forget(struct ns_loop *l, int fd);
/**
 * ns_loop_wait() - fetch up to @max ready events, waiting at most @timeout_ms (-1: forever).
 */
int ns_loop_wait(struct ns_loop *l, struct ns_loop_event *ev, int max, int timeout_ms);
/**
 * ns_loop_wake() - make a blocked ns_loop_wait() return; async-signal-safe.
 */
void ns_loop_wake(struct ns_loop *l);

#endif /* NETSTACK_LOOP_H */
