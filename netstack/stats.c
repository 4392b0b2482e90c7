/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.c - the statistics an embedder reads, and the transports' own counters
 */
#include <errno.h>
#include <string.h>

#include "netstack/capture.h"
#include "netstack/stack.h"

static const char *const stat_names[] = {
#define NETSTACK_STAT_NAME(name) #name,
    NETSTACK_STATS(NETSTACK_STAT_NAME)
#undef NETSTACK_STAT_NAME
};

int netstack_count_transport(struct netstack *ns, enum netstack_stat stat, uint64_t n)
{
    if (!ns || ((stat < NETSTACK_STAT_drop_transport_empty || stat > NETSTACK_STAT_drop_transport_tx) &&
                stat != NETSTACK_STAT_drop_transport_ring))
        return -EINVAL;
    ns->stats[stat] += n;
    return 0;
}

const char *netstack_stat_name(unsigned stat)
{
    return stat < NETSTACK_STAT_COUNT ? stat_names[stat] : NULL;
}

size_t netstack_get_stats(const struct netstack *ns, uint64_t *counters, size_t n)
{
    if (n > NETSTACK_STAT_COUNT)
        n = NETSTACK_STAT_COUNT;
    memcpy(counters, ns->stats, n * sizeof(*counters));
    ns_capture_fold(ns, counters, n);
    return n;
}
