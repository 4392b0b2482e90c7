/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dns_hostres.c - the host-resolver engine: getaddrinfo() on worker
 * threads, results delivered through a real event loop
 *
 * "localhost" comes from /etc/hosts, so those tests need no network. What
 * only a DNS server can say (NXDOMAIN, NODATA, SERVFAIL, a slow answer) is
 * tried in a forked child inside a private network and mount namespace: lo
 * up, a small DNS server of the test's own on 127.0.0.1:53, and a temporary
 * resolv.conf naming it bind-mounted over /etc/resolv.conf, so not one query
 * leaves the machine. Those tests need root and are skipped without it.
 */
#define _GNU_SOURCE /* unshare() */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns/hostres.h"
#include "netstack/loop.h"
#include "tests/unit/harness.h"

#define MAX_RESULTS 1024
#define WAIT_MS 5000

struct result {
    uint64_t tag;
    enum ns_hostres_status st;
    int has_addrs;
    struct ns_dns_addrs a;
};

static struct ns_loop loop;
static struct ns_hostres *hr;
static struct result results[MAX_RESULTS];
static unsigned nresults;
static uint64_t cancel_on, cancel_what;     /* done(cancel_on) cancels cancel_what */
static unsigned free_at;                    /* the free_at-th done() frees the resolver */

/**
 * on_done() - record a result; cancel or free from inside done() when asked.
 */
static void on_done(void *opaque, uint64_t tag, enum ns_hostres_status st,
                    const struct ns_dns_addrs *a)
{
    struct result *r;

    (void)opaque;
    if (nresults < MAX_RESULTS) {
        r = &results[nresults];
        r->tag = tag;
        r->st = st;
        r->has_addrs = a != NULL;
        if (a)
            r->a = *a;
    }
    nresults++;
    if (cancel_on && tag == cancel_on)
        ns_hostres_cancel(hr, cancel_what);
    if (free_at && nresults == free_at) {
        ns_hostres_free(hr);
        hr = NULL;
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/**
 * run_loop() - dispatch the loop until @want results arrived or @ms passed.
 * Return: the number of results.
 */
static unsigned run_loop(unsigned want, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    struct ns_loop_event ev[64];
    int n, i;

    while (nresults < want) {
        uint64_t now = now_ms();

        if (now >= end)
            break;
        n = ns_loop_wait(&loop, ev, 64, (int)(end - now));
        if (n < 0)
            break;
        for (i = 0; i < n; i++) {
            struct ns_watch *w;

            if ((size_t)ev[i].fd >= loop.nwatch)
                continue;
            w = &loop.watch[ev[i].fd];
            if (w->cb && w->gen == ev[i].gen)
                w->cb(w->opaque, ev[i].fd, ev[i].events);
        }
    }
    return nresults;
}

/**
 * find() - the result for @tag, NULL if none; fails if it came more than once.
 */
static const struct result *find(uint64_t tag)
{
    const struct result *r = NULL;
    unsigned i;

    for (i = 0; i < nresults && i < MAX_RESULTS; i++) {
        if (results[i].tag == tag) {
            assert_null(r);
            r = &results[i];
        }
    }
    return r;
}

/* has_v4() / has_v6() - is @text among the addresses? */
static int has_v4(const struct ns_dns_addrs *a, const char *text)
{
    struct in_addr v;
    unsigned i;

    assert_int_equal(inet_pton(AF_INET, text, &v), 1);
    for (i = 0; i < a->n4; i++)
        if (!memcmp(&a->v4[i], &v, sizeof(v)))
            return 1;
    return 0;
}

static int has_v6(const struct ns_dns_addrs *a, const char *text)
{
    struct in6_addr v;
    unsigned i;

    assert_int_equal(inet_pton(AF_INET6, text, &v), 1);
    for (i = 0; i < a->n6; i++)
        if (!memcmp(&a->v6[i], &v, sizeof(v)))
            return 1;
    return 0;
}

/**
 * distinct() - no address appears twice in @a.
 */
static int distinct(const struct ns_dns_addrs *a)
{
    unsigned i, j;

    for (i = 0; i < a->n4; i++)
        for (j = i + 1; j < a->n4; j++)
            if (!memcmp(&a->v4[i], &a->v4[j], sizeof(a->v4[i])))
                return 0;
    for (i = 0; i < a->n6; i++)
        for (j = i + 1; j < a->n6; j++)
            if (!memcmp(&a->v6[i], &a->v6[j], sizeof(a->v6[i])))
                return 0;
    return 1;
}

static int setup(void **state)
{
    (void)state;
    nresults = 0;
    cancel_on = cancel_what = 0;
    free_at = 0;
    hr = NULL;
    return ns_loop_init(&loop);
}

static int teardown(void **state)
{
    (void)state;
    ns_hostres_free(hr);
    hr = NULL;
    /* The eventfd is unwatched: nothing of the resolver is left in the loop. */
    for (size_t i = 0; i < loop.nwatch; i++)
        assert_null(loop.watch[i].cb);
    ns_loop_fini(&loop);
    return 0;
}

static void localhost_is_found(void **state)
{
    const struct result *r;

    hr = ns_hostres_new(&loop, 2, 8, on_done, NULL);
    assert_non_null(hr);
    assert_int_equal(ns_hostres_lookup(hr, 7, "localhost"), 0);
    assert_int_equal(run_loop(1, WAIT_MS), 1);
    r = find(7);
    assert_non_null(r);
    assert_int_equal(r->st, NS_HOSTRES_FOUND);
    assert_true(r->has_addrs);
    assert_true(has_v4(&r->a, "127.0.0.1") || has_v6(&r->a, "::1"));
    assert_true(distinct(&r->a));
}

static void numbers_and_bad_names_are_not_looked_up(void **state)
{
    char longname[NS_DNS_NAME_MAX + 2];

    hr = ns_hostres_new(&loop, 1, 8, on_done, NULL);
    assert_non_null(hr);
    /* An address literal is no name: getaddrinfo() would echo it back. */
    assert_int_equal(ns_hostres_lookup(hr, 1, "127.0.0.1"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 2, "10.1"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 3, ""), 0);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(ns_hostres_lookup(hr, 4, longname), -EINVAL);
    assert_int_equal(run_loop(3, WAIT_MS), 3);
    for (uint64_t t = 1; t <= 3; t++) {
        assert_non_null(find(t));
        assert_int_equal(find(t)->st, NS_HOSTRES_NXDOMAIN);
        assert_false(find(t)->has_addrs);
    }
    run_loop(4, 100);
    assert_int_equal(nresults, 3);
}

static void bad_arguments_to_new(void **state)
{
    assert_null(ns_hostres_new(&loop, 0, 8, on_done, NULL));
    assert_null(ns_hostres_new(&loop, 1, 0, on_done, NULL));
    assert_null(ns_hostres_new(&loop, 1, 8, NULL, NULL));
}

/* Finished but undelivered lookups still count: the bound is on memory too. */
static void max_pending_gives_eagain(void **state)
{
    hr = ns_hostres_new(&loop, 1, 2, on_done, NULL);
    assert_non_null(hr);
    assert_int_equal(ns_hostres_lookup(hr, 1, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 2, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 3, "localhost"), -EAGAIN);
    usleep(200 * 1000);
    assert_int_equal(ns_hostres_lookup(hr, 3, "localhost"), -EAGAIN);
    assert_int_equal(run_loop(2, WAIT_MS), 2);
    assert_null(find(3));
    assert_int_equal(ns_hostres_lookup(hr, 3, "localhost"), 0);
    assert_int_equal(run_loop(3, WAIT_MS), 3);
    assert_int_equal(find(3)->st, NS_HOSTRES_FOUND);
    /* A cancelled, undelivered lookup frees its place. */
    assert_int_equal(ns_hostres_lookup(hr, 4, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 5, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 6, "localhost"), -EAGAIN);
    usleep(200 * 1000);         /* both finished, waiting for the loop */
    ns_hostres_cancel(hr, 4);
    assert_int_equal(ns_hostres_lookup(hr, 6, "localhost"), 0);
    assert_int_equal(run_loop(5, WAIT_MS), 5);
    assert_null(find(4));
    assert_non_null(find(5));
    assert_non_null(find(6));
}

static void cancelled_lookups_are_never_reported(void **state)
{
    hr = ns_hostres_new(&loop, 1, 16, on_done, NULL);
    assert_non_null(hr);
    for (uint64_t t = 1; t <= 6; t++)
        assert_int_equal(ns_hostres_lookup(hr, t, "localhost"), 0);
    ns_hostres_cancel(hr, 2);   /* queued, or running by now */
    ns_hostres_cancel(hr, 5);   /* queued */
    usleep(300 * 1000);
    ns_hostres_cancel(hr, 6);   /* finished, not yet delivered */
    ns_hostres_cancel(hr, 99);  /* unknown: nothing happens */
    assert_int_equal(run_loop(3, WAIT_MS), 3);
    run_loop(4, 300);
    assert_int_equal(nresults, 3);
    assert_non_null(find(1));
    assert_non_null(find(3));
    assert_non_null(find(4));
}

/* Several lookups may share a tag; cancel takes them all. */
static void cancel_takes_every_lookup_of_a_tag(void **state)
{
    hr = ns_hostres_new(&loop, 2, 16, on_done, NULL);
    assert_non_null(hr);
    assert_int_equal(ns_hostres_lookup(hr, 1, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 9, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 9, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, 2, "localhost"), 0);
    ns_hostres_cancel(hr, 9);
    assert_int_equal(run_loop(2, WAIT_MS), 2);
    run_loop(3, 300);
    assert_int_equal(nresults, 2);
    assert_non_null(find(1));
    assert_non_null(find(2));
}

static void cancel_from_done(void **state)
{
    hr = ns_hostres_new(&loop, 1, 16, on_done, NULL);
    assert_non_null(hr);
    for (uint64_t t = 1; t <= 3; t++)
        assert_int_equal(ns_hostres_lookup(hr, t, "localhost"), 0);
    usleep(300 * 1000);         /* all three finished: one loop callback delivers them */
    cancel_on = 1;
    cancel_what = 2;
    assert_int_equal(run_loop(2, WAIT_MS), 2);
    run_loop(3, 300);
    assert_int_equal(nresults, 2);
    assert_non_null(find(1));
    assert_null(find(2));
    assert_non_null(find(3));
}

static void free_from_done(void **state)
{
    hr = ns_hostres_new(&loop, 2, 64, on_done, NULL);
    assert_non_null(hr);
    for (uint64_t t = 1; t <= 20; t++)
        assert_int_equal(ns_hostres_lookup(hr, t, "localhost"), 0);
    usleep(300 * 1000);         /* all finished: one loop callback would deliver them all */
    free_at = 1;
    run_loop(2, 500);
    assert_null(hr);
    assert_int_equal(nresults, 1);
}

static void free_with_lookups_in_flight(void **state)
{
    hr = ns_hostres_new(&loop, 4, 256, on_done, NULL);
    assert_non_null(hr);
    for (uint64_t t = 1; t <= 64; t++)
        assert_int_equal(ns_hostres_lookup(hr, t, "localhost"), 0);
    ns_hostres_free(hr);        /* queued, running and finished ones alike */
    hr = NULL;
    run_loop(1, 200);
    assert_int_equal(nresults, 0);

    hr = ns_hostres_new(&loop, 2, 256, on_done, NULL);
    assert_non_null(hr);
    for (uint64_t t = 1; t <= 16; t++)
        assert_int_equal(ns_hostres_lookup(hr, t, "localhost"), 0);
    usleep(200 * 1000);         /* all finished, none delivered */
    ns_hostres_free(hr);
    hr = NULL;
    run_loop(1, 200);
    assert_int_equal(nresults, 0);
}

static void many_concurrent_lookups(void **state)
{
    const unsigned n = 600;

    hr = ns_hostres_new(&loop, 8, n, on_done, NULL);
    assert_non_null(hr);
    for (uint64_t t = 1; t <= n; t++)
        assert_int_equal(ns_hostres_lookup(hr, t, "localhost"), 0);
    assert_int_equal(ns_hostres_lookup(hr, n + 1, "localhost"), -EAGAIN);
    assert_int_equal(run_loop(n, 30000), n);
    for (uint64_t t = 1; t <= n; t++) {
        const struct result *r = find(t);

        assert_non_null(r);
        assert_int_equal(r->st, NS_HOSTRES_FOUND);
    }
    run_loop(n + 1, 100);
    assert_int_equal(nresults, n);
}

/*
 * In a private network namespace, answered by the test's own DNS server.
 * The first label of the question picks the answer:
 *   nx      NXDOMAIN
 *   nodata  NOERROR, no records, for any type
 *   fail    SERVFAIL
 *   v4      A 192.0.2.1; AAAA: NODATA
 *   both    A 192.0.2.2, 192.0.2.3, 192.0.2.2 again; AAAA 2001:db8::2
 *   many    A 10.0.0.1 ... 10.0.0.40 (more than NS_DNS_ADDRS_MAX)
 *   slow    as v4, 600 ms late
 */

#define CHILD_CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
            _exit(1); \
        } \
    } while (0)

static int dns_fd = -1;
static pthread_t dns_thread;
static atomic_int dns_stop;

/**
 * put_rr() - append a record for the question's name (pointer to offset 12).
 */
static size_t put_rr(uint8_t *p, uint16_t type, const void *rdata, uint16_t rdlen)
{
    p[0] = 0xc0;
    p[1] = 12;
    p[2] = (uint8_t)(type >> 8);
    p[3] = (uint8_t)type;
    p[4] = 0;
    p[5] = 1;                                   /* IN */
    p[6] = p[7] = p[8] = 0;
    p[9] = 60;                                  /* TTL */
    p[10] = (uint8_t)(rdlen >> 8);
    p[11] = (uint8_t)rdlen;
    memcpy(p + 12, rdata, rdlen);
    return 12 + (size_t)rdlen;
}

/**
 * answer() - build the reply to @q (@qlen bytes) in @out. Return: its length, 0 to ignore.
 */
static size_t answer(const uint8_t *q, size_t qlen, uint8_t *out, int *delay)
{
    char label[64];
    size_t off = 12, end, len;
    uint16_t qtype, an = 0;
    uint8_t rcode = 0;

    *delay = 0;
    if (qlen < 12 + 5 || q[12] == 0 || q[12] > 63 || (size_t)q[12] + 13 > qlen)
        return 0;
    memcpy(label, q + 13, q[12]);
    label[q[12]] = '\0';
    while (off < qlen && q[off] && q[off] <= 63)
        off += 1 + (size_t)q[off];
    if (off + 5 > qlen || q[off])
        return 0;
    end = off + 5;
    qtype = (uint16_t)(q[off + 1] << 8 | q[off + 2]);
    memcpy(out, q, end);
    out[2] = 0x84 | (q[2] & 0x01);              /* QR, AA, RD echoed */
    out[3] = 0x80;                              /* RA */
    out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
    len = end;
    if (!strcmp(label, "nx")) {
        rcode = 3;
    } else if (!strcmp(label, "fail")) {
        rcode = 2;
    } else if (!strcmp(label, "v4") || !strcmp(label, "slow")) {
        static const uint8_t a[4] = { 192, 0, 2, 1 };

        if (qtype == 1) {
            len += put_rr(out + len, 1, a, 4);
            an = 1;
        }
        *delay = !strcmp(label, "slow");
    } else if (!strcmp(label, "both")) {
        static const uint8_t a2[4] = { 192, 0, 2, 2 }, a3[4] = { 192, 0, 2, 3 };
        struct in6_addr v6;

        inet_pton(AF_INET6, "2001:db8::2", &v6);
        if (qtype == 1) {
            len += put_rr(out + len, 1, a2, 4);
            len += put_rr(out + len, 1, a3, 4);
            len += put_rr(out + len, 1, a2, 4);
            an = 3;
        } else if (qtype == 28) {
            len += put_rr(out + len, 28, &v6, 16);
            an = 1;
        }
    } else if (!strcmp(label, "many")) {
        if (qtype == 1) {
            for (uint8_t i = 1; i <= 40; i++) {
                uint8_t a[4] = { 10, 0, 0, i };

                len += put_rr(out + len, 1, a, 4);
            }
            an = 40;
        }
    } else if (!strcmp(label, "silent")) {
        return 0;                               /* a server that never answers */
    } else if (strcmp(label, "nodata")) {
        rcode = 3;
    }
    out[3] |= rcode;
    out[7] = (uint8_t)an;
    return len;
}

/**
 * dns_server() - thread: answer UDP queries on 127.0.0.1:53 until dns_stop.
 */
static void *dns_server(void *arg)
{
    uint8_t q[512], out[2048];
    struct sockaddr_in from;
    socklen_t fl;
    ssize_t n;
    size_t len;
    int delay;

    (void)arg;
    while (!dns_stop) {
        struct pollfd p = { .fd = dns_fd, .events = POLLIN };

        if (poll(&p, 1, 100) <= 0)
            continue;
        fl = sizeof(from);
        n = recvfrom(dns_fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            continue;
        len = answer(q, (size_t)n, out, &delay);
        if (!len)
            continue;
        if (delay)
            usleep(300 * 1000);
        sendto(dns_fd, out, len, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

/**
 * child_setup() - private network and mount namespaces, lo up, the test's DNS
 * server, and a resolv.conf naming only it over /etc/resolv.conf.
 * Return: 0, or -1 (printed) if the namespaces cannot be had here.
 */
static int child_setup(void)
{
    static const char conf[] = "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n";
    char path[] = "/tmp/test_dns_hostres.XXXXXX";
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
    struct ifreq ifr;
    int s, fd;

    if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
        printf("cannot unshare the network and mount namespaces: %s\n", strerror(errno));
        return -1;
    }
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL)) {
        printf("cannot make the mounts private: %s\n", strerror(errno));
        return -1;
    }
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHILD_CHECK(s >= 0);
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    CHILD_CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags |= IFF_UP;
    CHILD_CHECK(ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
    close(s);

    fd = mkstemp(path);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(write(fd, conf, sizeof(conf) - 1) == (ssize_t)(sizeof(conf) - 1));
    close(fd);
    if (mount(path, "/etc/resolv.conf", "none", MS_BIND, NULL)) {
        printf("cannot bind-mount over /etc/resolv.conf: %s\n", strerror(errno));
        unlink(path);
        return -1;
    }
    unlink(path);       /* the mount keeps it, and it goes with the namespace */

    dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHILD_CHECK(dns_fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHILD_CHECK(bind(dns_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHILD_CHECK(pthread_create(&dns_thread, NULL, dns_server, NULL) == 0);
    return 0;
}

/**
 * child_answers() - each kind of answer maps to its status.
 */
static void child_answers(void)
{
    const struct result *r;

    CHILD_CHECK(ns_loop_init(&loop) == 0);
    hr = ns_hostres_new(&loop, 3, 16, on_done, NULL);
    CHILD_CHECK(hr);
    CHILD_CHECK(ns_hostres_lookup(hr, 1, "nx.test.invalid") == 0);
    CHILD_CHECK(ns_hostres_lookup(hr, 2, "nodata.test.invalid") == 0);
    CHILD_CHECK(ns_hostres_lookup(hr, 3, "fail.test.invalid") == 0);
    CHILD_CHECK(ns_hostres_lookup(hr, 4, "v4.test.invalid") == 0);
    CHILD_CHECK(ns_hostres_lookup(hr, 5, "both.test.invalid") == 0);
    CHILD_CHECK(ns_hostres_lookup(hr, 6, "many.test.invalid") == 0);
    CHILD_CHECK(run_loop(6, 15000) == 6);

    CHILD_CHECK((r = find(1)) && r->st == NS_HOSTRES_NXDOMAIN && !r->has_addrs);
    CHILD_CHECK((r = find(2)) && r->st == NS_HOSTRES_NODATA && r->has_addrs);
    CHILD_CHECK(r->a.n4 == 0 && r->a.n6 == 0);
    CHILD_CHECK((r = find(3)) && r->st == NS_HOSTRES_FAIL && !r->has_addrs);
    CHILD_CHECK((r = find(4)) && r->st == NS_HOSTRES_FOUND && r->has_addrs);
    CHILD_CHECK(r->a.n4 == 1 && r->a.n6 == 0 && has_v4(&r->a, "192.0.2.1"));
    CHILD_CHECK((r = find(5)) && r->st == NS_HOSTRES_FOUND);
    CHILD_CHECK(r->a.n4 == 2 && has_v4(&r->a, "192.0.2.2") && has_v4(&r->a, "192.0.2.3"));
    CHILD_CHECK(r->a.n6 == 1 && has_v6(&r->a, "2001:db8::2"));
    CHILD_CHECK((r = find(6)) && r->st == NS_HOSTRES_FOUND);
    CHILD_CHECK(r->a.n4 == NS_DNS_ADDRS_MAX && r->a.n6 == 0 && distinct(&r->a));

    /* Cancelled while a worker waits inside getaddrinfo(): dropped when it returns. */
    nresults = 0;
    CHILD_CHECK(ns_hostres_lookup(hr, 10, "slow.test.invalid") == 0);
    CHILD_CHECK(ns_hostres_lookup(hr, 11, "slow.test.invalid") == 0);
    usleep(100 * 1000);
    ns_hostres_cancel(hr, 10);
    CHILD_CHECK(run_loop(1, 10000) == 1);
    CHILD_CHECK(find(11) && find(11)->st == NS_HOSTRES_FOUND);
    run_loop(2, 1000);
    CHILD_CHECK(nresults == 1);

    /* Freed while a worker waits inside getaddrinfo(): joined, nothing reported. */
    nresults = 0;
    CHILD_CHECK(ns_hostres_lookup(hr, 12, "slow.test.invalid") == 0);
    usleep(100 * 1000);
    ns_hostres_free(hr);
    hr = NULL;
    run_loop(1, 200);
    CHILD_CHECK(nresults == 0);
    ns_loop_fini(&loop);
    dns_stop = 1;
    CHILD_CHECK(pthread_join(dns_thread, NULL) == 0);
    close(dns_fd);
}

/**
 * guest_query() - a guest's A query for @name (one label and a suffix) to the gateway.
 */
static void guest_query(struct netstack *ns, const char *label, const char *suffix)
{
    uint8_t m[128] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 }, f[256];
    size_t n = 12, len;
    const char *parts[2] = { label, suffix }, *p;
    int i;

    for (i = 0; i < 2; i++) {
        for (p = parts[i]; *p; p += len + (p[len] == '.')) {
            len = strcspn(p, ".");
            m[n++] = (uint8_t)len;
            memcpy(m + n, p, len);
            n += len;
        }
    }
    m[n++] = 0;
    put16(m + n, 1);            /* A */
    put16(m + n + 2, 1);        /* IN */
    n += 4;
    memmove(m + 8, m, n);       /* behind a UDP header, checksum 0: none */
    put16(m, 40000);
    put16(m + 2, 53);
    put16(m + 4, (uint16_t)(8 + n));
    put16(m + 6, 0);
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_UDP, 1, 0, m, 8 + n));
}

/**
 * child_server_deadline() - the stack's DNS server in host mode: a lookup
 * the host's resolver sits on (its own timeout here is 2 s) is answered
 * SERVFAIL at the stack's deadline, not the resolver's.
 */
static void child_server_deadline(void)
{
    struct netstack_config c;
    struct netstack *ns;
    uint64_t t0;

    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.dns_mode = NETSTACK_DNS_HOST;
    c.dns_timeout_ms = 300;
    CHILD_CHECK(netstack_new(&c, &ns) == 0);
    t0 = now_ms();
    guest_query(ns, "silent", "test.invalid");
    while (!captured.n && now_ms() - t0 < 3000) {
        struct pollfd p = { .fd = netstack_fd(ns), .events = POLLIN };

        poll(&p, 1, 20);
        netstack_dispatch(ns);
    }
    CHILD_CHECK(captured.n == 1);
    CHILD_CHECK((captured.frame[0][14 + 20 + 8 + 3] & 0x0f) == 2);     /* SERVFAIL */
    CHILD_CHECK(now_ms() - t0 < 1500);
    netstack_free(ns);
    capture_reset();
}

static void answers_from_a_dns_server(void **state)
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (child_setup()) {
            fflush(NULL);
            _exit(77);
        }
        child_server_deadline();
        child_answers();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    /*
     * The forked test first, while the process has no other thread: a child
     * forked later inherits glibc's cache of joined threads' stacks, which
     * valgrind would report as possibly lost in the child.
     */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(answers_from_a_dns_server, setup, teardown),
        cmocka_unit_test_setup_teardown(localhost_is_found, setup, teardown),
        cmocka_unit_test_setup_teardown(numbers_and_bad_names_are_not_looked_up, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_to_new, setup, teardown),
        cmocka_unit_test_setup_teardown(max_pending_gives_eagain, setup, teardown),
        cmocka_unit_test_setup_teardown(cancelled_lookups_are_never_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_takes_every_lookup_of_a_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_from_done, setup, teardown),
        cmocka_unit_test_setup_teardown(free_from_done, setup, teardown),
        cmocka_unit_test_setup_teardown(free_with_lookups_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(many_concurrent_lookups, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
