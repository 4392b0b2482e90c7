/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_vmnet.c - hyperkit's vmnet protocol (--listen-vmnet) into the whole stack
 *
 * Input: [1 byte: bytes per read(), 0 for one read][what a client writes:
 * the 49-byte VMN3T init, the 41-byte command, then 2-byte little-endian
 * lengths and frames]. Each input is a new connection, with its own
 * handshake; the stack's state carries over, as in fuzz_frame.c.
 *
 * The transport is netstackd's --listen-vmnet with --mtu 1500, its socket
 * file removed at once so no real client can connect; the bytes go through
 * ns_stream_input(), the decoder its read path calls after each read(), with
 * the handshake hook. The replies the handshake queues are checked: once
 * frames flow, our init message and the VIF response, with the MTU, the
 * maximum packet size and a locally administered unicast MAC.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz/fuzz_transport.h"

#define VMNET_INIT_LEN  49
#define VMNET_RESP_LEN  258

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * fuzz_vmnet() - the --listen-vmnet transport, opened once per process
 */
static struct ns_stream *fuzz_vmnet(void)
{
    static struct ns_transport *t;
    struct ns_transport_opts o = { .kind = NS_TRANSPORT_VMNET, .mtu = FUZZ_MTU };

    if (!t)
        t = fuzz_transport(&o);
    return (struct ns_stream *)t;
}

/**
 * le16() - a little-endian u16 of the replies
 */
static unsigned le16(const uint8_t *p)
{
    return p[0] | (unsigned)p[1] << 8;
}

/**
 * check_replies() - frames flow: the guest must have been told what it needs
 */
static void check_replies(const struct ns_stream *s)
{
    const uint8_t *init = s->tx + s->tx_off, *vif = init + VMNET_INIT_LEN;

    if (s->tx_len != VMNET_INIT_LEN + VMNET_RESP_LEN || memcmp(init, "VMN3T", 5) ||
        init[5] != 22 || init[6] || init[7] || init[8])
        abort();
    if (vif[0] != 1 || le16(vif + 1) != FUZZ_MTU || le16(vif + 3) != s->rx_max ||
        (vif[5] & 3) != 2)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ns_stream *s = fuzz_vmnet();

    fuzz_stream_feed(s, data, size);
    if (s->framing)
        check_replies(s);
    netstack_dispatch(s->base.ns);
    return 0;
}
