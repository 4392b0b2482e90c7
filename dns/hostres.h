/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostres.h - private: A and AAAA from the host's own resolver (--dns-mode host)
 *
 * getaddrinfo() runs on worker threads, so /etc/hosts, NSS modules and VPN
 * split-DNS agents answer exactly as they would for a program on the host,
 * and the stack's single-threaded event loop never waits for them. Results
 * come back to the loop thread through an eventfd watched by the loop.
 */
#ifndef NETSTACK_DNS_HOSTRES_H
#define NETSTACK_DNS_HOSTRES_H

#include <stdint.h>

#include "dns/msg.h"

struct ns_loop;
struct ns_hostres;

/*
 * What the host's resolver said about a name (both families are always asked):
 * FOUND        it has addresses: @addrs holds all of them, IPv4 and IPv6 (each
 *              once, at most NS_DNS_ADDRS_MAX per family). The caller answers
 *              NODATA when the family it was asked for is empty.
 * NODATA       the name exists but has neither IPv4 nor IPv6 addresses
 *              (EAI_NODATA): @addrs is empty, the answer is NOERROR without records
 * NXDOMAIN     the name does not exist (EAI_NONAME), or is a numeric address
 *              rather than a name
 * FAIL         the resolver could not tell (EAI_AGAIN, EAI_FAIL, anything else):
 *              SERVFAIL
 */
enum ns_hostres_status {
    NS_HOSTRES_FOUND = 0,
    NS_HOSTRES_NODATA = 1,
    NS_HOSTRES_NXDOMAIN = 2,
    NS_HOSTRES_FAIL = 3,
};

/* done() runs in the loop thread; @addrs valid only during the call (NULL unless FOUND or NODATA) */
typedef void (*ns_hostres_done_fn)(void *opaque, uint64_t tag, enum ns_hostres_status st,
                                   const struct ns_dns_addrs *addrs);

/**
 * ns_hostres_new() - start @threads worker threads and watch the completion
 * eventfd in @loop
 * @max_pending: lookups accepted at once (queued, running, or finished but not
 *               yet delivered by done())
 * @done:        called in the loop thread, from the loop's dispatch, once per
 *               lookup that was neither cancelled nor freed
 * Return: the resolver, NULL on failure (errno set).
 */
struct ns_hostres *ns_hostres_new(struct ns_loop *loop, unsigned threads, unsigned max_pending,
                                  ns_hostres_done_fn done, void *opaque);

/**
 * ns_hostres_lookup() - resolve @name (presentation form, no trailing dot) and
 * report it through done() with @tag. Tags are the caller's: several lookups
 * may share one, and ns_hostres_cancel() then cancels them all.
 * Return: 0 queued, -EAGAIN at max_pending, -ENOMEM, -EINVAL for a name longer
 * than NS_DNS_NAME_MAX. On error done() is never called for it.
 */
int ns_hostres_lookup(struct ns_hostres *h, uint64_t tag, const char *name);

/**
 * ns_hostres_cancel() - done() will not be called for @tag; safe while a
 * worker is inside getaddrinfo() for it (the result is dropped when it
 * returns, and until then the lookup still counts against max_pending).
 * May be called from done().
 */
void ns_hostres_cancel(struct ns_hostres *h, uint64_t tag);

/**
 * ns_hostres_free() - cancel everything, stop and join the threads, unwatch
 * and close the eventfd. Waits for lookups the workers are inside (at most
 * the host resolver's own timeout). May be called from done(). NULL is a no-op.
 */
void ns_hostres_free(struct ns_hostres *h);

#endif /* NETSTACK_DNS_HOSTRES_H */
