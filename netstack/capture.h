/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.h - private: the guest link's frames copied to pcap files and streams
 *
 * The data path calls ns_capture() for every frame the guest sent (as it
 * arrived) and every frame the transport took for the guest (as it left).
 * With nothing capturing that is one pointer test; see capture.c for the rest.
 */
#ifndef NETSTACK_CAPTURE_H
#define NETSTACK_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "netstack/stack.h"

/**
 * ns_capture_on() - is anything capturing? (relaxed: a frame more or less at a switch)
 */
int ns_capture_on(const struct netstack *ns);

/**
 * ns_capture_copy() - record one frame given in @n pieces (the stack's thread only).
 */
void ns_capture_copy(struct netstack *ns, const struct iovec *iov, size_t n);

/**
 * ns_capture() - record one frame, if anything captures.
 */
static inline void ns_capture(struct netstack *ns, const void *data, size_t len)
{
    if (ns->capture && ns_capture_on(ns)) {
        struct iovec v = { (void *)data, len };

        ns_capture_copy(ns, &v, 1);
    }
}

/**
 * ns_capture_kick() - end of a batch: wake the writer for what was recorded.
 */
void ns_capture_kick(struct netstack *ns);

/**
 * ns_capture_fold() - add the writer's counters to @counters (netstack_get_stats).
 */
void ns_capture_fold(const struct netstack *ns, uint64_t *counters, size_t n);

/**
 * ns_capture_free() - stop every capture, write what is buffered, end the writer.
 */
void ns_capture_free(struct netstack *ns);

#endif /* NETSTACK_CAPTURE_H */
