/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_index.c - the stack's one table of flows, by family and five-tuple
 *
 * Theory of Operation: see flow_index.h for what is kept. The buckets are
 * sized once, when the stack starts, for every flow its limits allow (TCP
 * connections, UDP and ICMP flows, and the two nodes of each forwarded UDP
 * flow), so chains stay short without ever rehashing; calloc()'s fresh pages
 * cost nothing until used. The hash folds the key's five 64-bit words with
 * a multiply and a shift (Fibonacci hashing), starting from a random seed, so
 * a guest cannot aim its flows at one bucket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "netstack/flow_index.h"
#include "netstack/stack.h"

#define FINDEX_MIN_BUCKETS 64
#define FINDEX_MAX_BUCKETS (1u << 20)

/**
 * bucket_of() - the bucket of @k.
 */
static struct ns_fnode **bucket_of(const struct ns_flow_index *x, const struct ns_fkey *k)
{
    uint64_t w[sizeof(*k) / 8], h = x->seed;
    size_t i;

    memcpy(w, k, sizeof(w));
    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    return &x->bucket[(size_t)(h >> 16) & (x->nbucket - 1)];
}

struct ns_fnode *ns_findex_find(const struct netstack *ns, const struct ns_fkey *k)
{
    const struct ns_flow_index *x = ns->findex;
    struct ns_fnode *n;

    for (n = x ? *bucket_of(x, k) : NULL; n; n = n->next)
        if (!memcmp(&n->key, k, sizeof(*k)))
            return n;
    return NULL;
}

void ns_findex_insert(struct netstack *ns, struct ns_fnode *n)
{
    struct ns_flow_index *x = ns->findex;
    struct ns_fnode **b = bucket_of(x, &n->key);

    NS_ASSERT(!n->pprev);   /* inserted twice would corrupt the chain */
    n->next = *b;
    if (*b)
        (*b)->pprev = &n->next;
    *b = n;
    n->pprev = b;
    x->count++;
}

void ns_findex_remove(struct netstack *ns, struct ns_fnode *n)
{
    if (!n->pprev)
        return;
    *n->pprev = n->next;
    if (n->next)
        n->next->pprev = n->pprev;
    n->next = NULL;
    n->pprev = NULL;
    ns->findex->count--;
}

int ns_findex_start(struct netstack *ns)
{
    const struct netstack_config *c = &ns->cfg;
    struct ns_flow_index *x = calloc(1, sizeof(*x));
    uint64_t want = (uint64_t)c->max_tcp_connections + 3ull * c->max_udp_flows +
                    c->max_icmp_flows;

    if (!x)
        return -ENOMEM;
    for (x->nbucket = FINDEX_MIN_BUCKETS; x->nbucket < want && x->nbucket < FINDEX_MAX_BUCKETS;)
        x->nbucket *= 2;
    x->bucket = calloc(x->nbucket, sizeof(*x->bucket));
    if (!x->bucket) {
        free(x);
        return -ENOMEM;
    }
    if (getrandom(&x->seed, sizeof(x->seed), GRND_NONBLOCK) != sizeof(x->seed))
        x->seed = ns_now_ms() ^ (uint64_t)(uintptr_t)x;     /* weaker, still per stack */
    ns->findex = x;
    return 0;
}

void ns_findex_stop(struct netstack *ns)
{
    struct ns_flow_index *x = ns->findex;

    if (!x)
        return;
    NS_ASSERT(!x->count);   /* every module removed its flows when it stopped */
    free(x->bucket);
    free(x);
    ns->findex = NULL;
}
