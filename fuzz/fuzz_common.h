/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_common.h - a stack for the harnesses, created once per process
 *
 * lwIP is process-global, so every input runs on the same stack; state carried
 * from one input to the next (leases, reassembly, lwIP pcbs, NAT flows) is part
 * of what is fuzzed. Frames for the guest are checked for sane sizes and
 * discarded.
 *
 * The NAT turns fuzzed packets into real host sockets sending to whatever
 * address the fuzzer made up, so the stack is created inside a private network
 * namespace with nothing but a loopback that is down: no packet can leave.
 * Without one the harness refuses to run.
 */
#ifndef NETSTACK_FUZZ_COMMON_H
#define NETSTACK_FUZZ_COMMON_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "netstack/include/netstack.h"

#define FUZZ_MTU 1500      /* small MTU: replies to reassembled datagrams get fragmented */

/**
 * fuzz_check() - abort on a frame no guest could take: shorter than an
 * Ethernet header, a plain frame over the MTU, or a super-frame over 64 KiB
 * or with a segment size over the MTU's.
 */
static void fuzz_check(size_t len, const struct netstack_offload *o)
{
    if (len < 14)
        abort();
    if (o->gso_type == NETSTACK_GSO_NONE ? len > 14 + FUZZ_MTU + 4
                                         : len > 14 + 65535 || o->gso_size > FUZZ_MTU - 40 ||
                                               o->hdr_len >= len)
        abort();
}

static ssize_t fuzz_sink(void *opaque, const struct netstack_frame *f, size_t n)
{
    size_t i;

    (void)opaque;
    for (i = 0; i < n; i++)
        fuzz_check(f[i].len, &f[i].offload);
    return (ssize_t)n;
}

/**
 * fuzz_gather() - config.send_gather: the frame's pieces, checked like one frame.
 */
static int fuzz_gather(void *opaque, const struct iovec *iov, size_t n,
                       const struct netstack_offload *off)
{
    size_t i, len = 0;

    (void)opaque;
    for (i = 0; i < n; i++) {
        if (!iov[i].iov_base && iov[i].iov_len)
            abort();
        len += iov[i].iov_len;
    }
    fuzz_check(len, off);
    return 1;
}

/**
 * fuzz_isolate() - move this thread into a new, empty network namespace.
 */
static void fuzz_isolate(void)
{
    if (unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
        return;
    fprintf(stderr, "fuzz: cannot enter a private network namespace (%s); refusing to "
            "send fuzzed traffic on the real network\n", strerror(errno));
    abort();
}

static struct netstack *fuzz_stack(void)
{
    static struct netstack *ns;
    struct netstack_config c;

    if (ns)
        return ns;
    fuzz_isolate();
    netstack_config_init(&c);
    c.send_frames = fuzz_sink;
    c.send_gather = fuzz_gather;
    c.mtu = FUZZ_MTU;
    if (netstack_new(&c, &ns))
        abort();
    return ns;
}

#endif /* NETSTACK_FUZZ_COMMON_H */
