/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_dgram.c - unix datagrams (--listen-dgram, QEMU dgram, vfkit) into the whole stack
 *
 * Input: records [1 byte: how][sender][2-byte big-endian length][datagram];
 * a short tail is one last record. "how":
 *   bits 0-2   the sender: 0-5 fixed addresses (paths, abstract names, one
 *              path given without its NUL), 6 an unbound socket (no
 *              address), 7 an address from the input, in the record's
 *              sender field: [1 byte n][n bytes of sun_path], n up to 108
 *              (the field is empty for 0-6)
 *   bit 3      the kernel cut it: the datagram was larger than the buffer
 *              (msg_len past it, MSG_TRUNC)
 *   bit 4      last of a recvmmsg() batch (a batch also ends after 64)
 * vfkit's hello is the 4-byte datagram "VFKT". The peer the transport learnt
 * and the stack's state carry over from one input to the next.
 *
 * The transport is netstackd's --listen-dgram, its socket file removed at
 * once so no real peer can send; the records are handed as recvmmsg() fills
 * them to ns_dgram_input(), the decoder its read path calls.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h, struct mmsghdr */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fuzz/fuzz_transport.h"

#define BATCH       64      /* recvmmsg() vector of the transport */
#define HOW_SENDER  0x07
#define HOW_CUT     0x08
#define HOW_END     0x10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * struct batch - one recvmmsg() result being built
 * @msg, @iov, @addr: as the kernel fills them
 * @n:      datagrams in it
 */
struct batch {
    struct mmsghdr msg[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_un addr[BATCH];
    size_t n;
};

/**
 * fuzz_dgram() - the --listen-dgram transport, opened once per process
 */
static struct ns_transport *fuzz_dgram(void)
{
    static struct ns_transport *t;
    struct ns_transport_opts o = { .kind = NS_TRANSPORT_DGRAM };

    if (!t)
        t = fuzz_transport(&o);
    return t;
}

/**
 * set_sender() - the source address of a datagram, as recvmsg() reports it
 * @a:      filled
 * @sel:    HOW_SENDER bits
 * @p, @left: the input, for sender 7; advanced past what it takes
 * Return: msg_namelen
 */
static socklen_t set_sender(struct sockaddr_un *a, unsigned sel, const uint8_t **p, size_t *left)
{
    static const char *const paths[] = { "/run/vm0.sock", "/run/vm1.sock",
                                         "/tmp/vfkit-501.sock" };
    static const char *const abstract[] = { "vm0", "vm1" };
    const size_t base = offsetof(struct sockaddr_un, sun_path);
    size_t n;

    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    switch (sel) {
    case 0: case 1: case 2:
        strcpy(a->sun_path, paths[sel]);
        return (socklen_t)(base + strlen(paths[sel]) + 1);
    case 3: case 4:
        strcpy(a->sun_path + 1, abstract[sel - 3]);
        return (socklen_t)(base + 1 + strlen(abstract[sel - 3]));
    case 5:
        strcpy(a->sun_path, paths[0]);
        return (socklen_t)(base + strlen(paths[0]));
    case 6:
        return 0;
    default:
        n = *left ? **p : 0;
        if (*left) {
            (*p)++;
            (*left)--;
        }
        if (n > sizeof(a->sun_path))
            n = sizeof(a->sun_path);
        if (n > *left)
            n = *left;
        memcpy(a->sun_path, *p, n);
        *p += n;
        *left -= n;
        return (socklen_t)(base + n);
    }
}

/**
 * flush() - the batch is what one recvmmsg() returned: decode it
 */
static void flush(struct ns_transport *t, struct batch *b)
{
    if (b->n)
        ns_dgram_input(t, b->msg, b->n);
    b->n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ns_transport *t = fuzz_dgram();
    static struct batch b;
    struct mmsghdr *m;
    size_t len;
    unsigned how;

    while (size) {
        how = data[0];
        data++;
        size--;
        m = &b.msg[b.n];
        memset(m, 0, sizeof(*m));
        m->msg_hdr.msg_name = &b.addr[b.n];
        m->msg_hdr.msg_namelen = set_sender(&b.addr[b.n], how & HOW_SENDER, &data, &size);
        len = size >= 2 ? (size_t)(data[0] << 8 | data[1]) : 0;
        data += size >= 2 ? 2 : size;
        size -= size >= 2 ? 2 : size;
        if (len > size)
            len = size;
        b.iov[b.n].iov_base = (void *)data;    /* the decoder only reads it */
        b.iov[b.n].iov_len = len;
        m->msg_hdr.msg_iov = &b.iov[b.n];
        m->msg_hdr.msg_iovlen = 1;
        m->msg_len = (unsigned)len;
        if (how & HOW_CUT) {
            m->msg_len = (unsigned)(NS_TRANSPORT_FRAME_MAX + 1 + len);
            m->msg_hdr.msg_flags = MSG_TRUNC;
        }
        data += len;
        size -= len;
        if (++b.n == BATCH || (how & HOW_END))
            flush(t, &b);
    }
    flush(t, &b);
    netstack_dispatch(t->ns);
    return 0;
}
