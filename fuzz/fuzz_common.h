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

#include "netstack/include/netstack.h"

static ssize_t fuzz_sink(void *opaque, const struct netstack_frame *f, size_t n)
{
    size_t i;

    (void)opaque;
    for (i = 0; i < n; i++)
        if (f[i].len < 14 || f[i].len > 14 + 65520)
            abort();    /* the stack built a frame no transport could carry */
    return (ssize_t)n;
}

/* fuzz_isolate() - move this thread into a new, empty network namespace. */
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
    c.mtu = 1500;       /* small MTU: replies to reassembled datagrams get fragmented */
    if (netstack_new(&c, &ns))
        abort();
    return ns;
}

#endif /* NETSTACK_FUZZ_COMMON_H */
