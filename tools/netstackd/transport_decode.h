/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport_decode.h - the transports' decoders of the guest's bytes, without the socket
 *
 * Everything a guest transport reads from its peer is untrusted: the QEMU
 * stream's 4-byte lengths, vmnet's handshake and 2-byte lengths, the unix
 * datagrams and vfkit's hello. Each backend's I/O path only moves bytes
 * (read(), recvmmsg()) and then calls one of the functions here, which does
 * all the decoding: cuts frames, runs the handshake, drops and counts what is
 * malformed, and hands the frames to the stack. No function here reads,
 * writes or closes a descriptor, so the same code can be fed bytes from
 * anywhere: the fuzz harnesses (fuzz/fuzz_stream.c, fuzz_vmnet.c,
 * fuzz_dgram.c) call exactly what netstackd runs.
 *
 * Precondition for all of them: the transport was started
 * (ns_transport_start()), so there is a stack to hand frames to.
 */
#ifndef NETSTACK_TRANSPORT_DECODE_H
#define NETSTACK_TRANSPORT_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tools/netstackd/transport.h"

struct mmsghdr;     /* <sys/socket.h> declares it only with _GNU_SOURCE */

/**
 * ns_stream_input() - bytes from the guest on a stream transport (QEMU, --fd, vmnet)
 * @s:      the stream (the transport of ns_qemu_open() or ns_vmnet_open())
 * @data:   the bytes; may be s->rx + s->rx_len (read() put them in place, at
 *          most the room left there): then nothing is copied
 * @len:    how many
 *
 * While the handshake is not done its messages are cut from the front and
 * its replies queued in s->tx (the caller writes them); then every complete
 * frame goes to netstack_input_batch(). An incomplete tail stays in s->rx for
 * the next call, shorter than the prefix plus s->rx_max.
 * Return: 0; -EPROTO when the handshake refused the peer (its last words are
 * queued in s->tx: write them, best effort, and close); -EMSGSIZE when a
 * length was out of range (the stream cannot be resynchronised: close).
 * After an error the bytes not yet decoded are discarded.
 */
int ns_stream_input(struct ns_stream *s, const uint8_t *data, size_t len);

/**
 * ns_stream_reset() - forget a connection's half-decoded state: partial
 * frame, handshake progress, bytes owed to the guest; descriptors untouched
 * @s:      the stream
 */
void ns_stream_reset(struct ns_stream *s);

/**
 * ns_dgram_input() - datagrams received on a --listen-dgram transport
 * @t:      the transport of ns_dgram_open()
 * @msgs:   as recvmmsg(MSG_TRUNC) filled them: msg_len is the datagram's
 *          real length (above msg_iov[0].iov_len when cut, MSG_TRUNC then
 *          in msg_flags), msg_name a struct sockaddr_un of msg_namelen bytes
 * @n:      how many
 *
 * Learns the guest's address from each sender (a new one takes the link
 * down), drops and counts datagrams from unbound senders, empty and
 * oversized ones, skips vfkit's "VFKT" hello, and hands the frames to
 * netstack_input_batch() in order.
 */
void ns_dgram_input(struct ns_transport *t, const struct mmsghdr *msgs, size_t n);

#endif /* NETSTACK_TRANSPORT_DECODE_H */
