/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h - messages through the embedder's log callback, and the invariants
 * debug builds check
 */
#ifndef NETSTACK_LOG_H
#define NETSTACK_LOG_H

#include <stdio.h>
#include <stdlib.h>

#include "netstack/include/netstack.h"

/**
 * ns_log() - log through the embedder's callback, if @level is enabled
 * @ns:    the stack (its config has the callback and the level)
 * @level: the message's level
 * @fmt:   printf style, no trailing newline
 */
void ns_log(struct netstack *ns, enum netstack_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * NS_ASSERT() - an invariant a header states (a flow paused twice, a list
 * entry unlinked twice), checked in debug builds (the fuzzing build among
 * them) and compiled out where NDEBUG is set. A broken one aborts at once,
 * before the corruption it would cause is far from its cause.
 * @cond: what must hold
 */
#ifdef NDEBUG
#define NS_ASSERT(cond) ((void)0)
#else
#define NS_ASSERT(cond) \
    ((cond) ? (void)0 : ns_assert_failed(#cond, __FILE__, __LINE__, __func__))
#endif

static inline void __attribute__((noreturn, cold))
ns_assert_failed(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "netstack: %s:%d: %s: invariant broken: %s\n", file, line, func, cond);
    abort();
}

#endif /* NETSTACK_LOG_H */
