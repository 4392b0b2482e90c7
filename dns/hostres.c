/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostres.c - A and AAAA from the host's own resolver, on worker threads
 *
 * Theory of Operation: a lookup is a job. ns_hostres_lookup() (loop thread)
 * appends it to the work queue and signals the condition variable; a worker
 * takes it off, calls getaddrinfo() without holding the lock, and appends the
 * result to the completion queue, then writes the eventfd. The eventfd is a
 * watch in the stack's loop: its callback (loop thread) takes the finished
 * jobs one at a time and calls done() for each. One mutex guards both queues,
 * the jobs' cancelled flags and the counters; done() is always called with it
 * released, so done() may start, cancel or free.
 *
 * A job is in exactly one place, and counts against max_pending in all three:
 *   queued     on h->queue: cancel unlinks and frees it
 *   running    in a worker's slot h->running[i]: cancel sets ->cancelled, and
 *              the worker frees it when getaddrinfo() returns
 *   finished   on h->done_q: cancel unlinks and frees it; the loop delivers it
 *
 * Worker threads block every signal, so the process's signal handlers (the
 * daemon's SIGTERM) keep running in the loop thread.
 *
 * getaddrinfo() is asked for AF_UNSPEC and SOCK_STREAM (one entry per
 * address rather than one per socket type), without AI_ADDRCONFIG: the guest
 * asks for a family whatever the host's own connectivity is.
 */
#define _GNU_SOURCE /* EAI_NODATA */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/hostres.h"
#include "netstack/loop.h"

struct job {
    struct job *next;
    uint64_t tag;
    int cancelled;              /* running: drop the result */
    enum ns_hostres_status st;
    struct ns_dns_addrs addrs;
    char name[NS_DNS_NAME_MAX + 1];
};

struct ns_hostres {
    struct ns_loop *loop;
    ns_hostres_done_fn done;
    void *opaque;
    int efd;                    /* eventfd: a worker finished a job */

    pthread_mutex_t mu;
    pthread_cond_t cv;          /* work queued, or stop */
    struct job *queue, **queue_tail;
    struct job *done_q, **done_tail;
    struct job **running;       /* [nthreads]: the job each worker is inside */
    unsigned pending, max_pending;
    int stop;

    pthread_t *threads;
    unsigned nthreads;          /* started */
    int delivering;             /* the loop callback is calling done() */
    int freed;                  /* ns_hostres_free() ran inside done() */
};

/* worker_arg - what a thread is started with: its resolver and slot. */
struct worker_arg {
    struct ns_hostres *h;
    unsigned slot;
};

/**
 * add_addr() - append @ai's address to @a unless it is there or the family is full.
 */
static void add_addr(struct ns_dns_addrs *a, const struct addrinfo *ai)
{
    unsigned i;

    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
        const struct in_addr *v = &((const struct sockaddr_in *)ai->ai_addr)->sin_addr;

        for (i = 0; i < a->n4; i++)
            if (!memcmp(&a->v4[i], v, sizeof(*v)))
                return;
        if (a->n4 < NS_DNS_ADDRS_MAX)
            a->v4[a->n4++] = *v;
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
        const struct in6_addr *v = &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

        for (i = 0; i < a->n6; i++)
            if (!memcmp(&a->v6[i], v, sizeof(*v)))
                return;
        if (a->n6 < NS_DNS_ADDRS_MAX)
            a->v6[a->n6++] = *v;
    }
}

/**
 * is_numeric() - does getaddrinfo() read @name as an address literal
 * ("10.0.0.1", and also inet_aton()'s "10.1" or "0x7f.1")? It would return
 * that address without any lookup, where a DNS server knows no such name.
 */
static int is_numeric(const char *name)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_NUMERICHOST };
    struct addrinfo *res = NULL;

    if (getaddrinfo(name, NULL, &hints, &res))
        return 0;
    freeaddrinfo(res);
    return 1;
}

/**
 * resolve() - run getaddrinfo() for @j and set its status and addresses.
 */
static void resolve(struct job *j)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL, *ai;
    int rc;

    memset(&j->addrs, 0, sizeof(j->addrs));
    if (!j->name[0] || is_numeric(j->name)) {
        j->st = NS_HOSTRES_NXDOMAIN;
        return;
    }
    rc = getaddrinfo(j->name, NULL, &hints, &res);
    switch (rc) {
    case 0:
        for (ai = res; ai; ai = ai->ai_next)
            add_addr(&j->addrs, ai);
        freeaddrinfo(res);
        /* Only families other than IPv4 and IPv6: nothing to answer with. */
        j->st = j->addrs.n4 || j->addrs.n6 ? NS_HOSTRES_FOUND : NS_HOSTRES_NODATA;
        break;
    case EAI_NONAME:
        j->st = NS_HOSTRES_NXDOMAIN;
        break;
#ifdef EAI_NODATA
    case EAI_NODATA:        /* glibc: the name is known, it has no address */
        j->st = NS_HOSTRES_NODATA;
        break;
#endif
    default:                /* EAI_AGAIN, EAI_FAIL, EAI_MEMORY, EAI_SYSTEM, ... */
        j->st = NS_HOSTRES_FAIL;
        break;
    }
}

/**
 * worker() - thread body: take a job, resolve it unlocked, post the result.
 */
static void *worker(void *arg)
{
    struct worker_arg *wa = arg;
    struct ns_hostres *h = wa->h;
    unsigned slot = wa->slot;
    uint64_t one = 1;
    struct job *j;
    ssize_t wr;

    free(wa);
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->stop && !h->queue)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->stop)
            break;
        j = h->queue;
        h->queue = j->next;
        if (!h->queue)
            h->queue_tail = &h->queue;
        h->running[slot] = j;
        pthread_mutex_unlock(&h->mu);

        resolve(j);

        pthread_mutex_lock(&h->mu);
        h->running[slot] = NULL;
        if (j->cancelled || h->stop) {
            h->pending--;
            free(j);
            continue;
        }
        j->next = NULL;
        *h->done_tail = j;
        h->done_tail = &j->next;
        /* Fails only with the counter at its maximum: readable already. */
        wr = write(h->efd, &one, sizeof(one));
        (void)wr;
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/**
 * unlink_tag() - free every job tagged @tag on the list at @head. Return: how many.
 */
static unsigned unlink_tag(struct job **head, struct job ***tail, uint64_t tag)
{
    struct job **pp = head;
    unsigned n = 0;

    while (*pp) {
        struct job *j = *pp;

        if (j->tag == tag) {
            *pp = j->next;
            free(j);
            n++;
        } else {
            pp = &j->next;
        }
    }
    *tail = pp;                 /* the last job's ->next, or @head when empty */
    return n;
}

/**
 * free_list() - free a whole list. Return: how many.
 */
static unsigned free_list(struct job **head, struct job ***tail)
{
    struct job *j;
    unsigned n = 0;

    while ((j = *head)) {
        *head = j->next;
        free(j);
        n++;
    }
    *tail = head;
    return n;
}

/**
 * on_event() - loop callback for the eventfd: deliver every finished job.
 * One at a time, unlocked during done(), so done() may cancel a job that is
 * still waiting here, start new ones, or free the resolver.
 */
static void on_event(void *opaque, int fd, uint32_t events)
{
    struct ns_hostres *h = opaque;
    uint64_t v;
    struct job *j;
    /* EAGAIN: an earlier call already delivered what this wake-up announced. */
    ssize_t rd = read(fd, &v, sizeof(v));

    (void)rd;
    h->delivering = 1;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        j = h->done_q;
        if (j) {
            h->done_q = j->next;
            if (!h->done_q)
                h->done_tail = &h->done_q;
            h->pending--;
        }
        pthread_mutex_unlock(&h->mu);
        if (!j)
            break;
        h->done(h->opaque, j->tag, j->st,
                j->st == NS_HOSTRES_FOUND || j->st == NS_HOSTRES_NODATA ? &j->addrs : NULL);
        free(j);
        if (h->freed) {
            free(h);
            return;
        }
    }
    h->delivering = 0;
}

/**
 * stop_threads() - tell the workers to stop and join the ones started.
 */
static void stop_threads(struct ns_hostres *h)
{
    unsigned i;

    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    for (i = 0; i < h->nthreads; i++)
        pthread_join(h->threads[i], NULL);
    h->nthreads = 0;
}

/**
 * ns_hostres_new() - the resolver, its eventfd watched in @loop, @threads
 * workers started (see hostres.h)
 * Return: the resolver, or NULL with errno set.
 */
struct ns_hostres *ns_hostres_new(struct ns_loop *loop, unsigned threads, unsigned max_pending,
                                  ns_hostres_done_fn done, void *opaque)
{
    struct ns_hostres *h;
    sigset_t all, old;
    int rc;

    if (!loop || !done || !threads || !max_pending) {
        errno = EINVAL;
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->loop = loop;
    h->done = done;
    h->opaque = opaque;
    h->max_pending = max_pending;
    h->queue_tail = &h->queue;
    h->done_tail = &h->done_q;
    h->efd = -1;
    if (pthread_mutex_init(&h->mu, NULL)) {
        free(h);
        errno = ENOMEM;
        return NULL;
    }
    if (pthread_cond_init(&h->cv, NULL)) {
        pthread_mutex_destroy(&h->mu);
        free(h);
        errno = ENOMEM;
        return NULL;
    }
    h->threads = calloc(threads, sizeof(*h->threads));
    h->running = calloc(threads, sizeof(*h->running));
    if (!h->threads || !h->running) {
        rc = -ENOMEM;
        goto fail;
    }
    h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->efd < 0) {
        rc = -errno;
        goto fail;
    }
    rc = ns_loop_set(loop, h->efd, NETSTACK_EV_IN, on_event, h);
    if (rc)
        goto fail;

    /*
     * The workers inherit a mask blocking every signal but SIGSYS, so that a
     * system call an embedder's seccomp filter refuses in getaddrinfo() is
     * reported by its handler (netstackd's names the call) rather than
     * killing the process without a word.
     */
    sigfillset(&all);
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (; h->nthreads < threads; h->nthreads++) {
        struct worker_arg *wa = malloc(sizeof(*wa));

        if (!wa) {
            rc = -ENOMEM;
            break;
        }
        wa->h = h;
        wa->slot = h->nthreads;
        rc = -pthread_create(&h->threads[h->nthreads], NULL, worker, wa);
        if (rc) {
            free(wa);
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        goto fail;
    return h;

fail:
    ns_hostres_free(h);
    errno = -rc;
    return NULL;
}

/**
 * ns_hostres_lookup() - queue a job for @name (loop thread)
 * Return: 0, -EINVAL, -ENOMEM or -EAGAIN (max_pending jobs exist).
 */
int ns_hostres_lookup(struct ns_hostres *h, uint64_t tag, const char *name)
{
    size_t len = strlen(name);
    struct job *j;

    if (len > NS_DNS_NAME_MAX)
        return -EINVAL;
    j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->tag = tag;
    memcpy(j->name, name, len + 1);
    pthread_mutex_lock(&h->mu);
    if (h->pending >= h->max_pending) {
        pthread_mutex_unlock(&h->mu);
        free(j);
        return -EAGAIN;
    }
    h->pending++;
    *h->queue_tail = j;
    h->queue_tail = &j->next;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return 0;
}

/**
 * ns_hostres_cancel() - drop every job tagged @tag, wherever it is (loop thread).
 */
void ns_hostres_cancel(struct ns_hostres *h, uint64_t tag)
{
    unsigned i, n;

    pthread_mutex_lock(&h->mu);
    n = unlink_tag(&h->queue, &h->queue_tail, tag);
    n += unlink_tag(&h->done_q, &h->done_tail, tag);
    h->pending -= n;
    /* Running ones stay counted until their worker drops them. */
    for (i = 0; i < h->nthreads; i++)
        if (h->running[i] && h->running[i]->tag == tag)
            h->running[i]->cancelled = 1;
    pthread_mutex_unlock(&h->mu);
}

/**
 * ns_hostres_free() - join the workers, free every job, unwatch the eventfd
 * (loop thread). Called from done(), it leaves freeing @h itself to
 * on_event(), which is still using it.
 */
void ns_hostres_free(struct ns_hostres *h)
{
    if (!h)
        return;
    stop_threads(h);            /* running jobs are freed by their workers */
    free_list(&h->queue, &h->queue_tail);
    free_list(&h->done_q, &h->done_tail);
    h->pending = 0;
    if (h->efd >= 0) {
        ns_loop_del(h->loop, h->efd);
        close(h->efd);
        h->efd = -1;
    }
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h->threads);
    free(h->running);
    if (h->delivering)
        h->freed = 1;           /* on_event() frees @h when done() returns */
    else
        free(h);
}
