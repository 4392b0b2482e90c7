/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock.h - the stack's monotonic clock: config.clock_ns when the embedder
 * gave one (replay, tests), else the system's CLOCK_MONOTONIC
 */
#ifndef NETSTACK_CLOCK_H
#define NETSTACK_CLOCK_H

#include <stdint.h>

/**
 * ns_now_ns() - the stack's clock in nanoseconds
 * Return: nanoseconds since an arbitrary start
 */
uint64_t ns_now_ns(void);

/**
 * ns_now_ms() - the stack's clock in milliseconds, what timers compare with
 * Return: milliseconds since an arbitrary start
 */
uint64_t ns_now_ms(void);

/**
 * ns_clock_set() - clock.c: the clock ns_now_ns() reads (stack.c, at new and free).
 */
void ns_clock_set(uint64_t (*fn)(void *opaque), void *opaque);

#endif /* NETSTACK_CLOCK_H */
