/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_transport.h - a netstackd guest transport on the fuzz stack, for the
 * harnesses of the transports' decoders (fuzz_stream.c, fuzz_vmnet.c,
 * fuzz_dgram.c)
 *
 * The transport is opened and started the way netstackd does it, so its
 * decoder (tools/netstackd/transport_decode.h) runs with the very state the daemon
 * gives it; the harness then feeds the decoder directly instead of through
 * the socket. Frames it cuts go into the real stack of fuzz_common.h.
 * Every log line is formatted (at debug level) and thrown away, so the
 * messages about malformed input are exercised too.
 */
#ifndef NETSTACK_FUZZ_TRANSPORT_H
#define NETSTACK_FUZZ_TRANSPORT_H

#include <stdlib.h>
#include <unistd.h>

#include "tools/netstackd/transport.h"
#include "tools/netstackd/transport_decode.h"
#include "fuzz/fuzz_common.h"

/**
 * fuzz_log() - ns_transport_opts.log: formatted by the transport, then dropped
 */
static void fuzz_log(void *opaque, enum netstack_log_level level, const char *msg)
{
    (void)opaque;
    (void)level;
    (void)msg;
}

/**
 * fuzz_transport() - open @o's transport and start it on the fuzz stack
 * @o:      kind and parameters; for a kind that binds a socket file, @path
 *          is set here to one in a new temporary folder, and both are
 *          removed once bound: no peer can ever connect, the harness is the
 *          only source of bytes
 *
 * Aborts on failure: a harness without its transport tests nothing.
 * Return: the started transport
 */
static struct ns_transport *fuzz_transport(struct ns_transport_opts *o)
{
    char dir[] = "/tmp/netstack-fuzz-XXXXXX", path[sizeof(dir) + 16], err[256];
    struct netstack *ns = fuzz_stack();
    struct ns_transport *t;

    o->log = fuzz_log;
    o->log_level = NETSTACK_LOG_DEBUG;
    if (o->kind != NS_TRANSPORT_FD) {
        if (!mkdtemp(dir))
            abort();
        snprintf(path, sizeof(path), "%s/sock", dir);
        o->path = path;
    }
    if (ns_transport_open(o, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz: %s\n", err);
        abort();
    }
    if (o->kind != NS_TRANSPORT_FD) {
        unlink(path);
        rmdir(dir);
        o->path = NULL;
    }
    if (ns_transport_start(t, ns) < 0)
        abort();
    return t;
}

/**
 * fuzz_stream_feed() - one input as one new connection of a stream transport
 * @s:      the stream (QEMU stream or vmnet)
 * @data:   [1 byte: bytes per read(), 0 for all at once][what the guest writes]
 * @size:   length of @data
 *
 * Reads of a fixed size split prefixes, handshake messages and frames at
 * every offset, as short reads do. Stops where the daemon would close the
 * connection. Checks what ns_stream_input() promises: one of its results,
 * and an undecoded tail shorter than a prefix plus the largest frame.
 * Return: the last ns_stream_input() result
 */
static inline int fuzz_stream_feed(struct ns_stream *s, const uint8_t *data, size_t size)
{
    size_t chunk, n;
    int rc = 0;

    ns_stream_reset(s);
    if (!size)
        return 0;
    chunk = data[0] ? data[0] : size - 1;
    data++;
    size--;
    while (size && rc == 0) {
        n = size < chunk ? size : chunk;
        rc = ns_stream_input(s, data, n);
        if (rc != 0 && rc != -EMSGSIZE && !(rc == -EPROTO && s->proto->handshake))
            abort();
        if (s->rx_len >= s->proto->hdr_len + s->rx_max)
            abort();
        data += n;
        size -= n;
    }
    return rc;
}

#endif /* NETSTACK_FUZZ_TRANSPORT_H */
