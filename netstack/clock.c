/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock.c - the stack's clock: the embedder's config.clock_ns, or CLOCK_MONOTONIC
 */
#include <stddef.h>
#include <time.h>

#include "netstack/clock.h"

/* lwIP's sys_now() has no stack argument: the one stack's clock it is. */
static uint64_t (*clock_fn)(void *opaque);
static void *clock_opaque;

/**
 * ns_clock_set() - whose clock ns_now_ns() reads from now on
 * @fn:     the embedder's clock (config.clock_ns), NULL for the system's
 * @opaque: passed to @fn
 */
void ns_clock_set(uint64_t (*fn)(void *opaque), void *opaque)
{
    clock_fn = fn;
    clock_opaque = opaque;
}

uint64_t ns_now_ns(void)
{
    struct timespec ts;

    if (clock_fn)
        return clock_fn(clock_opaque);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ns_now_ms(void)
{
    return ns_now_ns() / 1000000;
}
