/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_stream.c - the QEMU stream framing (--listen-qemu, --fd) into the whole stack
 *
 * Input: [1 byte: bytes per read(), 0 for one read][the stream a guest
 * writes: 4-byte big-endian length, frame, next length ...]. Each input is a
 * new connection: a partial frame left at the end of one is dropped, as a
 * reconnect drops it; the stack's state carries over, as in fuzz_frame.c.
 *
 * The transport is netstackd's --fd N, opened on one end of a socketpair
 * nobody writes to; the bytes go through ns_stream_input(), the decoder its
 * read path calls after each read().
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fuzz/fuzz_transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * fuzz_qemu() - the --fd transport, opened once per process
 */
static struct ns_stream *fuzz_qemu(void)
{
    static struct ns_transport *t;
    struct ns_transport_opts o = { .kind = NS_TRANSPORT_FD };
    int sv[2];

    if (t)
        return (struct ns_stream *)t;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    o.fd = sv[0];       /* sv[1], the guest's end, stays open and silent */
    t = fuzz_transport(&o);
    return (struct ns_stream *)t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ns_stream *s = fuzz_qemu();

    fuzz_stream_feed(s, data, size);
    netstack_dispatch(s->base.ns);
    return 0;
}
