/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * counters.h - bump the stack's statistics (netstack.h's NETSTACK_STATS)
 *
 * Macros, so the hot paths pay one increment; they need the stack object's
 * definition (netstack/stack.h) where they are used.
 */
#ifndef NETSTACK_COUNTERS_H
#define NETSTACK_COUNTERS_H

#define NS_COUNT(ns, name) ((ns)->stats[NETSTACK_STAT_##name]++)
#define NS_COUNT_N(ns, name, n) ((ns)->stats[NETSTACK_STAT_##name] += (n))

#endif /* NETSTACK_COUNTERS_H */
