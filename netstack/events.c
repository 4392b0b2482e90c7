/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.c - the embedding loop API: fd, next timeout, dispatch, run, watch
 *
 * Theory of Operation: an embedder either polls netstack_fd() in its own loop
 * and calls netstack_dispatch() when it is readable or netstack_next_timeout()
 * has passed (the c-ares/libuv model), or calls netstack_run(), which is built
 * from exactly those public calls. Dispatch runs ready fd callbacks, then every
 * module's due timers (modules.c), then flushes what they queued for the guest.
 */
#include <errno.h>

#include "netstack/modules.h"
#include "netstack/stack.h"

int netstack_fd(const struct netstack *ns)
{
    return ns->loop.pollfd;
}

int netstack_next_timeout(struct netstack *ns)
{
    return ns_modules_next_timeout(ns, ns_now_ms());
}

/**
 * dispatch_events() - call the callback of each fetched event still watched.
 */
static void dispatch_events(struct netstack *ns, const struct ns_loop_event *ev, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        struct ns_watch *w;

        if ((size_t)ev[i].fd >= ns->loop.nwatch)
            continue;
        w = &ns->loop.watch[ev[i].fd];
        if (w->cb && w->gen == ev[i].gen)   /* not unwatched by an earlier callback */
            w->cb(w->opaque, ev[i].fd, ev[i].events);
    }
}

/**
 * wait_and_dispatch() - one loop iteration, waiting at most @timeout_ms.
 */
static int wait_and_dispatch(struct netstack *ns, int timeout_ms)
{
    struct ns_loop_event ev[64];
    int n = ns_loop_wait(&ns->loop, ev, 64, timeout_ms);

    if (n < 0)
        return n;
    dispatch_events(ns, ev, n);
    ns_modules_timers(ns, ns_now_ms());
    ns_flush(ns);
    return 0;
}

int netstack_dispatch(struct netstack *ns)
{
    return wait_and_dispatch(ns, 0);
}

int netstack_run(struct netstack *ns)
{
    int rc = 0;

    /* A stop requested before the call (a signal during startup) is honoured. */
    while (!ns->loop.stop) {
        rc = wait_and_dispatch(ns, netstack_next_timeout(ns));
        if (rc)
            break;
    }
    ns->loop.stop = 0;      /* the next netstack_run() runs again */
    return rc;
}

void netstack_stop(struct netstack *ns)
{
    ns->loop.stop = 1;
    ns_loop_wake(&ns->loop);
}

int netstack_watch(struct netstack *ns, int fd, uint32_t events, netstack_watch_fn cb,
                   void *opaque)
{
    return ns_loop_set(&ns->loop, fd, events, cb, opaque);
}

int netstack_unwatch(struct netstack *ns, int fd)
{
    return ns_loop_del(&ns->loop, fd);
}
