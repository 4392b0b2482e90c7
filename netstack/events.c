/*
 * events.c - the embedding loop API: fd, next timeout, dispatch, run, watch
 *
 * Theory of Operation: an embedder either polls netstack_fd() in its own loop
 * and calls netstack_dispatch() when it is readable or netstack_next_timeout()
 * has passed (the c-ares/libuv model), or calls netstack_run(), which is built
 * from exactly those public calls. Dispatch runs ready fd callbacks, then due
 * timers (lwIP's, fragment expiry), then flushes what they queued for the guest.
 */
#include <errno.h>

#include "dns/dns.h"
#include "ethernet/reasm.h"
#include "netstack/lwip_glue.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

#define REASM_TICK_MS 1000

int netstack_fd(const struct netstack *ns)
{
    return ns->loop.pollfd;
}

int netstack_next_timeout(struct netstack *ns)
{
    uint64_t now = ns_now_ms();
    int t = ns_lwip_next_timeout(ns), n = ns_nat_next_timeout(ns, now);
    int d = ns_dns_next_timeout(ns, now);

    if (ns_reasm_pending(ns->reasm) && (t < 0 || t > REASM_TICK_MS))
        t = REASM_TICK_MS;
    if (n >= 0 && (t < 0 || n < t))
        t = n;
    if (d >= 0 && (t < 0 || d < t))
        t = d;
    return t;
}

/* run_timers() - everything time-driven that is due. */
static void run_timers(struct netstack *ns)
{
    uint64_t now = ns_now_ms();

    ns_lwip_timers(ns);
    if (ns_reasm_pending(ns->reasm))
        ns_reasm_expire(ns, now);
    ns_nat_timers(ns, now);
    ns_dns_timers(ns, now);
}

/* dispatch_events() - call the callback of each fetched event still watched. */
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

/* wait_and_dispatch() - one loop iteration, waiting at most @timeout_ms. */
static int wait_and_dispatch(struct netstack *ns, int timeout_ms)
{
    struct ns_loop_event ev[64];
    int n = ns_loop_wait(&ns->loop, ev, 64, timeout_ms);

    if (n < 0)
        return n;
    dispatch_events(ns, ev, n);
    run_timers(ns);
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
