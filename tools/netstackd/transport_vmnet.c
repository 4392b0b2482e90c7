/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport_vmnet.c - hyperkit's virtio-vpnkit protocol over a unix stream socket
 *
 * Theory of Operation
 *
 * hyperkit's `-s N:0,virtio-vpnkit,path=PATH` device connects to a unix
 * stream socket and speaks the "vmnet" protocol vpnkit serves (vpnkit
 * src/hostnet/vmnet.ml, hyperkit src/lib/pci_virtio_net_vpnkit.c). All
 * integers are little-endian. The client talks first:
 *
 *   client -> server   init, 49 bytes
 *       0      5            9                                        49
 *       +------+------------+-----------------------------------------+
 *       |VMN3T | version u32| commit id, 40 ASCII bytes, no NUL        |
 *       +------+------------+-----------------------------------------+
 *   server -> client   init, 49 bytes, same layout: our magic, 22, our commit
 *
 *   client -> server   command, 41 bytes
 *       0      1                                     37            41
 *       +------+-------------------------------------+-------------+
 *       | type | UUID, 36 ASCII bytes (8-4-4-4-12)   | IPv4 u32    |
 *       +------+-------------------------------------+-------------+
 *       type 1: ethernet connect (the IPv4 field is padding, zero);
 *       type 8: ethernet connect with a preferred IPv4 address (the u32
 *       holds the address with its first octet in the top byte).
 *       A UUID of 36 NUL bytes asks the server to pick one.
 *
 *   server -> client   response, 258 bytes
 *       0      1         3         5       11                     258
 *       +------+---------+---------+-------+-----------------------+
 *       |  1   | MTU u16 | max pkt | MAC   | zero                  |
 *       +------+---------+---------+-------+-----------------------+
 *       or type 2 (disconnect): a length byte and that many bytes of
 *       reason, then zero.
 *
 *   then, both ways, until the connection closes:
 *       +----------+------------------------+-----
 *       | len u16  | Ethernet frame, no FCS | next len ...
 *       +----------+------------------------+-----
 *
 * Only version 22 is served (the version hyperkit sends and vpnkit serves).
 * A client asking for another one gets our init message, so it can see the
 * version we speak, and the connection is closed. Bad magic closes the
 * connection at once; an unknown command or a malformed UUID gets a
 * disconnect response with the reason first. Each of these logs one warning;
 * the daemon keeps listening.
 *
 * The MAC in the response is derived from the UUID (FNV-1a, then the
 * locally administered bit set and the multicast bit cleared), so a VM that
 * keeps its UUID keeps its MAC, and with it its DHCP lease, across reboots.
 * The MTU is netstackd's; the maximum packet size is the MTU plus 50 (as
 * vpnkit announces it), capped at what a 16-bit length can carry. The
 * preferred IPv4 address is logged, not honoured: the guest gets its address
 * from our DHCP server.
 *
 * The connection handling, receive and send paths are transport_stream.c's,
 * shared with --listen-qemu: one guest at a time, a new connection replaces
 * the current one, after a disconnect we keep listening. This file is the
 * handshake (its hook, which does no I/O: it queues its replies and says
 * when to refuse the client; transport_stream.c writes and closes) and the
 * prefix. Everything read goes into one receive buffer; the handshake
 * messages are cut from its front while the connection is in the INIT or
 * COMMAND state (so a client that sends its init, command and first frames
 * in one write is served), then frames are cut out and handed to
 * netstack_input_batch() in batches. A length of 0 is dropped and counted;
 * a length above the maximum packet size we announced closes the connection
 * with a warning (the stream cannot be resynchronised). Handshake replies
 * and the tail of a frame cut by a partial write share one transmit buffer;
 * while it is not empty we wait for EPOLLOUT and the stack is told to wait
 * (backpressure), then netstack_output_ready().
 *
 * What the link guarantees: as for every stream transport, the guest's bytes
 * arrive exactly (NETSTACK_LINK_INTEGRITY); vpnkit's protocol has no
 * offloads.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "tools/netstackd/transport.h"

#define VMNET_MAGIC         "VMN3T"
#define VMNET_MAGIC_LEN     5
#define VMNET_VERSION       22u
#define VMNET_COMMIT_LEN    40
#define VMNET_INIT_LEN      (VMNET_MAGIC_LEN + 4 + VMNET_COMMIT_LEN)   /* 49 */
#define VMNET_UUID_LEN      36
#define VMNET_CMD_LEN       (1 + VMNET_UUID_LEN + 4)                   /* 41 */
#define VMNET_RESP_LEN      258     /* 1 + the larger union member: 1 + 256 reason bytes */
#define VMNET_CMD_ETHERNET  1
#define VMNET_CMD_PREFERRED 8
#define VMNET_RESP_VIF      1
#define VMNET_RESP_DISCONNECT 2
#define VMNET_COMMIT        "0000000000000000000000000000000000000000"  /* 40 ASCII bytes */

#define VMNET_HDR           2
#define VMNET_LEN_MAX       65535u          /* what a 16-bit length can say */
#define VMNET_MTU_DEFAULT   65520u          /* the stack's default when opts->mtu is 0 */
#define VMNET_TXBUF         (VMNET_HDR + VMNET_LEN_MAX + VMNET_INIT_LEN + VMNET_RESP_LEN)

_Static_assert(VMNET_INIT_LEN == 49 && VMNET_CMD_LEN == 41, "vmnet message sizes");

/*
 * enum vmnet_step - where a connection is in the handshake (ns_stream.step)
 * while frames do not flow yet (!ns_stream.framing); ns_transport_send()
 * returns -ENOTCONN in both
 * @VMNET_INIT:     waiting for the client's 49-byte init; nothing sent yet
 * @VMNET_COMMAND:  our init sent (or queued); waiting for the 41-byte command
 *
 * Once the VIF response is sent (or queued), ns_stream.framing is set and
 * frames flow both ways.
 */
enum vmnet_step {
    VMNET_INIT,
    VMNET_COMMAND,
};

/**
 * struct vmnet_transport - a vmnet (virtio-vpnkit) transport
 * @s:      the stream; s.rx_max is the announced max packet size, also the
 *          largest frame accepted; s.tx also carries the handshake replies
 * @mtu:    announced in the VIF response
 */
struct vmnet_transport {
    struct ns_stream s;
    unsigned mtu;
};

/**
 * vmnet_of() - the backend around @s; the stream is its first member
 */
static struct vmnet_transport *vmnet_of(struct ns_stream *s)
{
    return (struct vmnet_transport *)s;
}

/**
 * vmnet_le32() - read a little-endian u32
 * @p:      4 bytes; the caller checked they were received
 */
static uint32_t vmnet_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/**
 * vmnet_put_le16() - write a little-endian u16
 * @p:      2 bytes of room
 * @v:      the value
 */
static void vmnet_put_le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/**
 * vmnet_handshake_ended() - a connection ended before the handshake completed
 * @s:      the stream, with a connection, !s->framing
 * @why:    for the log: "closed by the guest", a strerror(), ...
 *
 * It never was a link: one warning, no link down.
 */
static void vmnet_handshake_ended(struct ns_stream *s, const char *why)
{
    ns_tlog(&s->base, NETSTACK_LOG_WARN, "handshake incomplete: connection %s while "
            "waiting for the %s (%zu of %d bytes received)", why,
            s->step == VMNET_INIT ? "init message" : "command", s->rx_len,
            s->step == VMNET_INIT ? VMNET_INIT_LEN : VMNET_CMD_LEN);
}

/**
 * vmnet_queue() - append handshake bytes to what is owed to the guest
 * @s:      the stream
 * @p:      the bytes
 * @n:      how many; the transmit buffer always has room for the two
 *          handshake replies (nothing else is queued before frames flow)
 */
static void vmnet_queue(struct ns_stream *s, const uint8_t *p, size_t n)
{
    if (s->tx_off) {
        memmove(s->tx, s->tx + s->tx_off, s->tx_len);
        s->tx_off = 0;
    }
    if (n > VMNET_TXBUF - s->tx_len)
        return;     /* cannot happen, see above */
    memcpy(s->tx + s->tx_len, p, n);
    s->tx_len += n;
}

/**
 * vmnet_reject() - refuse a client during the handshake: one warning, the
 * last words queued; transport_stream.c sends them (one non-blocking
 * attempt, not retried) and closes the connection
 * @s:      the stream, with a connection in INIT or COMMAND
 * @reply:  bytes to write before closing, after anything still queued
 *          (NULL for none)
 * @n:      their length
 * @fmt:    the warning, printf style
 * Return: -EPROTO, for the handshake hook to return
 */
static int vmnet_reject(struct ns_stream *s, const uint8_t *reply, size_t n,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int vmnet_reject(struct ns_stream *s, const uint8_t *reply, size_t n,
                        const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ns_tlog(&s->base, NETSTACK_LOG_WARN, "%s, connection closed", msg);
    if (reply)
        vmnet_queue(s, reply, n);
    return -EPROTO;
}

/**
 * vmnet_init_msg() - build our 49-byte init message
 * @buf:    VMNET_INIT_LEN bytes
 */
static void vmnet_init_msg(uint8_t *buf)
{
    memcpy(buf, VMNET_MAGIC, VMNET_MAGIC_LEN);
    buf[5] = (uint8_t)VMNET_VERSION;
    buf[6] = (uint8_t)(VMNET_VERSION >> 8);
    buf[7] = (uint8_t)(VMNET_VERSION >> 16);
    buf[8] = (uint8_t)(VMNET_VERSION >> 24);
    memcpy(buf + 9, VMNET_COMMIT, VMNET_COMMIT_LEN);
}

/**
 * vmnet_printable() - copy up to @n bytes of untrusted @p for a log line
 * @out:    at least 4 * @n + 1 bytes
 * @p:      the bytes
 * @n:      how many
 */
static void vmnet_printable(char *out, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            *out++ = (char)p[i];
        else
            out += sprintf(out, "\\x%02x", p[i]);
    }
    *out = '\0';
}

/**
 * vmnet_handle_init() - the client's init message
 * @s:      the stream, step VMNET_INIT
 * @m:      VMNET_INIT_LEN bytes, received
 * Return: 0, or -EPROTO when the client is refused
 */
static int vmnet_handle_init(struct ns_stream *s, const uint8_t *m)
{
    uint8_t ours[VMNET_INIT_LEN];
    char text[4 * VMNET_MAGIC_LEN + 1];
    uint32_t version = vmnet_le32(m + VMNET_MAGIC_LEN);

    vmnet_init_msg(ours);
    if (memcmp(m, VMNET_MAGIC, VMNET_MAGIC_LEN)) {
        vmnet_printable(text, m, VMNET_MAGIC_LEN);
        return vmnet_reject(s, NULL, 0, "bad magic \"%s\" in the init message (want \"%s\")",
                            text, VMNET_MAGIC);
    }
    if (version != VMNET_VERSION)
        return vmnet_reject(s, ours, sizeof(ours), "client asks for protocol version %u, "
                            "only %u is served", version, VMNET_VERSION);
    vmnet_queue(s, ours, sizeof(ours));
    s->step = VMNET_COMMAND;
    return 0;
}

/**
 * vmnet_uuid_ok() - is @u 36 NUL bytes, or a UUID in 8-4-4-4-12 hex form?
 * @u:      VMNET_UUID_LEN bytes
 * @zero:   set when all bytes are NUL (the server picks the UUID)
 */
static int vmnet_uuid_ok(const uint8_t *u, int *zero)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    int i, nul = 0;

    for (i = 0; i < VMNET_UUID_LEN; i++)
        nul += !u[i];
    *zero = nul == VMNET_UUID_LEN;
    if (*zero)
        return 1;
    for (i = 0; i < VMNET_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return 0;
        } else if (!u[i] || !strchr(hex, u[i])) {
            return 0;
        }
    }
    return 1;
}

/**
 * vmnet_mac() - a stable, locally administered unicast MAC for a UUID
 * @u:      VMNET_UUID_LEN bytes, validated; case does not matter
 * @mac:    6 bytes out
 */
static void vmnet_mac(const uint8_t *u, uint8_t *mac)
{
    uint64_t h = 14695981039346656037ull;  /* FNV-1a, 64 bits */
    int i;

    for (i = 0; i < VMNET_UUID_LEN; i++) {
        uint8_t c = u[i];

        if (c >= 'A' && c <= 'F')
            c = (uint8_t)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211ull;
    }
    for (i = 0; i < 6; i++)
        mac[i] = (uint8_t)(h >> (8 * i));
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

/**
 * vmnet_disconnect_msg() - build a 258-byte disconnect response
 * @buf:    VMNET_RESP_LEN bytes
 * @reason: why, truncated to 255 bytes
 */
static void vmnet_disconnect_msg(uint8_t *buf, const char *reason)
{
    size_t n = strlen(reason);

    if (n > 255)
        n = 255;
    memset(buf, 0, VMNET_RESP_LEN);
    buf[0] = VMNET_RESP_DISCONNECT;
    buf[1] = (uint8_t)n;
    memcpy(buf + 2, reason, n);
}

/**
 * vmnet_handle_command() - the client's command: answer a connect with the VIF
 * @s:      the stream, step VMNET_COMMAND
 * @m:      VMNET_CMD_LEN bytes, received
 * Return: 0, or -EPROTO when the client is refused
 */
static int vmnet_handle_command(struct ns_stream *s, const uint8_t *m)
{
    uint8_t resp[VMNET_RESP_LEN], mac[6], rnd[VMNET_UUID_LEN];
    char text[4 * VMNET_UUID_LEN + 1], reason[64];
    const uint8_t *uuid = m + 1;
    uint32_t ip = vmnet_le32(m + 1 + VMNET_UUID_LEN);
    int zero, i;

    if (m[0] != VMNET_CMD_ETHERNET && m[0] != VMNET_CMD_PREFERRED) {
        snprintf(reason, sizeof(reason), "unknown command %u", m[0]);
        vmnet_disconnect_msg(resp, reason);
        return vmnet_reject(s, resp, sizeof(resp),
                            "unknown command %u (want %u or %u: ethernet connect)", m[0],
                            VMNET_CMD_ETHERNET, VMNET_CMD_PREFERRED);
    }
    if (!vmnet_uuid_ok(uuid, &zero)) {
        vmnet_printable(text, uuid, VMNET_UUID_LEN);
        vmnet_disconnect_msg(resp, "invalid UUID");
        return vmnet_reject(s, resp, sizeof(resp), "invalid UUID \"%s\" in the command", text);
    }
    if (zero) {     /* the client leaves the choice to us: a random one, like vpnkit */
        if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
            memset(rnd, (int)time(NULL), sizeof(rnd));
        for (i = 0; i < VMNET_UUID_LEN; i++)
            rnd[i] = (uint8_t)"0123456789abcdef"[rnd[i] & 15];
        rnd[8] = rnd[13] = rnd[18] = rnd[23] = '-';
        uuid = rnd;
    }
    vmnet_mac(uuid, mac);
    vmnet_printable(text, uuid, VMNET_UUID_LEN);
    ns_tlog(&s->base, NETSTACK_LOG_INFO, "guest %s%s connected: MAC %02x:%02x:%02x:%02x:%02x:%02x, "
            "MTU %u", text, zero ? " (chosen by us)" : "", mac[0], mac[1], mac[2], mac[3],
            mac[4], mac[5], vmnet_of(s)->mtu);
    if (m[0] == VMNET_CMD_PREFERRED || ip)
        ns_tlog(&s->base, NETSTACK_LOG_INFO, "preferred IPv4 %u.%u.%u.%u not honoured: the guest "
                "gets its address by DHCP", (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 0xff),
                (unsigned)(ip >> 8 & 0xff), (unsigned)(ip & 0xff));
    memset(resp, 0, sizeof(resp));
    resp[0] = VMNET_RESP_VIF;
    vmnet_put_le16(resp + 1, vmnet_of(s)->mtu);
    vmnet_put_le16(resp + 3, (unsigned)s->rx_max);
    memcpy(resp + 5, mac, sizeof(mac));
    vmnet_queue(s, resp, sizeof(resp));
    s->framing = 1;
    return 0;
}

/**
 * vmnet_handshake() - cut handshake messages from the front of the receive buffer
 * @s:      the stream, with a connection
 * @off:    in: where unparsed bytes start; out: after the messages consumed
 * Return: 0 (done, or waiting for more bytes), -EPROTO when the client is
 * refused (the reply queued; the connection is to be closed)
 */
static int vmnet_handshake(struct ns_stream *s, size_t *off)
{
    while (!s->framing) {
        size_t need = s->step == VMNET_INIT ? VMNET_INIT_LEN : VMNET_CMD_LEN;
        int rc;

        if (s->rx_len - *off < need)
            return 0;
        if (s->step == VMNET_INIT)
            rc = vmnet_handle_init(s, s->rx + *off);
        else
            rc = vmnet_handle_command(s, s->rx + *off);
        if (rc < 0)
            return rc;
        *off += need;
    }
    return 0;
}

/*
 * The wire format: a 2-byte little-endian length after the handshake; frames
 * up to the maximum packet size we announced.
 */
static const struct ns_stream_proto vmnet_proto = {
    .hdr_len = VMNET_HDR,
    .big_endian = 0,
    .nosignal = 1,
    .tx_max = VMNET_LEN_MAX,
    .txbuf = VMNET_TXBUF,
    .names_max = 1,
    .connect_level = NETSTACK_LOG_DEBUG,
    .connect_msg = "client connected, waiting for its init message",
    .handshake = vmnet_handshake,
    .handshake_ended = vmnet_handshake_ended,
};

/**
 * ns_vmnet_open() - open a vmnet transport (--listen-vmnet PATH)
 * @opts:   NS_TRANSPORT_VMNET with a path; mtu 0 for the stack's default
 * @out:    the transport
 * @err:    on failure, "function: cause"
 * @errlen: size of @err
 * Return: 0 or -errno
 */
int ns_vmnet_open(const struct ns_transport_opts *opts, struct ns_transport **out,
                  char *err, size_t errlen)
{
    struct vmnet_transport *v = calloc(1, sizeof(*v));
    int rc;

    if (!v) {
        ns_seterr(err, errlen, "ns_vmnet_open: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    rc = ns_stream_init(&v->s, &vmnet_proto, "vmnet", opts);
    v->mtu = opts->mtu ? opts->mtu : VMNET_MTU_DEFAULT;
    v->s.rx_max = v->mtu + 50 > VMNET_LEN_MAX ? VMNET_LEN_MAX : v->mtu + 50;
    if (rc < 0) {
        ns_seterr(err, errlen, "ns_vmnet_open: %s", strerror(ENOMEM));
        goto fail;
    }
    rc = ns_stream_listen(&v->s, opts->path, err, errlen);
    if (rc < 0)
        goto fail;
    snprintf(v->s.base.desc, sizeof(v->s.base.desc), "vmnet (hyperkit virtio-vpnkit) socket %s",
             opts->path);
    *out = &v->s.base;
    return 0;

fail:
    ns_stream_free(&v->s);
    return rc;
}
