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
 * Connections are handled like --listen-qemu: one guest at a time, a new
 * connection replaces the current one, after a disconnect we keep listening.
 * Everything read goes into one receive buffer; the handshake messages are
 * cut from its front while the connection is in the INIT or COMMAND state
 * (so a client that sends its init, command and first frames in one write is
 * served), then frames are cut out and handed to netstack_input_batch() in
 * batches. A length of 0 is dropped and counted; a length above the maximum
 * packet size we announced closes the connection with a warning (the stream
 * cannot be resynchronised). Handshake replies and the tail of a frame cut by
 * a partial write share one transmit buffer; while it is not empty we wait
 * for EPOLLOUT and the stack is told to wait (backpressure), then
 * netstack_output_ready().
 */
#define _GNU_SOURCE /* accept4() */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ethernet/transport.h"

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
#define VMNET_RXBUF         (512 * 1024)
#define VMNET_READS         8
#define VMNET_BATCH         128
#define VMNET_TX_BATCH      256
#define VMNET_TXBUF         (VMNET_HDR + VMNET_LEN_MAX + VMNET_INIT_LEN + VMNET_RESP_LEN)
#define VMNET_SOCKBUF       (4 * 1024 * 1024)

_Static_assert(VMNET_INIT_LEN == 49 && VMNET_CMD_LEN == 41, "vmnet message sizes");

/*
 * enum vmnet_state - where a connection is in the protocol
 * @VMNET_INIT:     waiting for the client's 49-byte init; nothing sent yet;
 *                  ns_transport_send() returns -ENOTCONN
 * @VMNET_COMMAND:  our init sent (or queued); waiting for the 41-byte
 *                  command; still -ENOTCONN
 * @VMNET_FRAMES:   the VIF response sent (or queued); frames flow both ways
 */
enum vmnet_state {
    VMNET_INIT,
    VMNET_COMMAND,
    VMNET_FRAMES,
};

/**
 * struct vmnet_transport - a vmnet (virtio-vpnkit) transport
 * @base:       shared transport state
 * @listen_fd:  listening socket
 * @conn_fd:    the guest's connection, -1 when none
 * @state:      protocol state of @conn_fd
 * @broken:     a write failed; no more sends, the read side will close
 * @reserve_fd: spare descriptor given up when accept() hits the fd limit
 * @file:       the socket file, removed on free
 * @mtu:        announced in the VIF response
 * @max_pkt:    announced max packet size, also the largest frame accepted
 * @rx:         receive buffer, @rx_len bytes valid
 * @tx:         bytes owed to the guest (handshake replies, the tail of a
 *              frame a partial write cut): @tx_len bytes from @tx_off
 * @batch:      frames cut out of @rx for one netstack_input_batch()
 * @hdr:        length prefixes of the frames in one writev()
 * @iov:        the writev() vector
 * @drop_*:     frames from the guest dropped here, before the stack sees them
 * @tx_dropped: frames to the guest dropped (oversized, or after a write error)
 */
struct vmnet_transport {
    struct ns_transport base;
    int listen_fd;
    int conn_fd;
    enum vmnet_state state;
    int broken;
    int reserve_fd;
    struct ns_sockfile file;
    unsigned mtu, max_pkt;
    uint8_t *rx;
    size_t rx_len;
    uint8_t *tx;
    size_t tx_off, tx_len;
    struct netstack_frame batch[VMNET_BATCH];
    uint8_t hdr[VMNET_TX_BATCH][VMNET_HDR];
    struct iovec iov[2 * VMNET_TX_BATCH];
    uint64_t drop_zero, drop_truncated, drop_range, tx_dropped;
};

/* vmnet_of() - the backend around @t; the base is its first member */
static struct vmnet_transport *vmnet_of(struct ns_transport *t)
{
    return (struct vmnet_transport *)t;
}

static void vmnet_conn_ready(void *opaque, int fd, uint32_t events);

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
 * vmnet_watch_conn() - (re)register the connection: readable always, writable
 * only while bytes are owed to the guest
 * @v:      the transport, with a connection
 * @out:    also watch for writability
 * Return: 0 or -errno
 */
static int vmnet_watch_conn(struct vmnet_transport *v, int out)
{
    uint32_t ev = NETSTACK_EV_IN | (out ? NETSTACK_EV_OUT : 0);
    int rc;

    rc = netstack_watch(v->base.ns, v->conn_fd, ev, vmnet_conn_ready, v);
    if (rc < 0)
        ns_transport_finish(&v->base, NS_TRANSPORT_FAILED, "netstack_watch: %s", strerror(-rc));
    return rc;
}

/**
 * vmnet_close_conn() - forget the connection and what was half read or written on it
 * @v:      the transport, with a connection
 */
static void vmnet_close_conn(struct vmnet_transport *v)
{
    if (v->base.ns)
        netstack_unwatch(v->base.ns, v->conn_fd);
    close(v->conn_fd);
    v->conn_fd = -1;
    v->state = VMNET_INIT;
    v->rx_len = 0;
    v->tx_len = v->tx_off = 0;
    v->broken = 0;
}

/**
 * vmnet_disconnect() - the guest's connection ended
 * @v:      the transport, with a connection
 * @why:    for the log: "closed by the guest", a strerror(), ...
 *
 * A connection that ends before the handshake completed is logged as such
 * and never was a link; one that ends inside a frame counts a truncated frame.
 */
static void vmnet_disconnect(struct vmnet_transport *v, const char *why)
{
    enum vmnet_state was = v->state;

    if (was != VMNET_FRAMES) {
        ns_tlog(&v->base, NETSTACK_LOG_WARN, "handshake incomplete: connection %s while "
                "waiting for the %s (%zu of %d bytes received)", why,
                was == VMNET_INIT ? "init message" : "command", v->rx_len,
                was == VMNET_INIT ? VMNET_INIT_LEN : VMNET_CMD_LEN);
        vmnet_close_conn(v);
        return;
    }
    if (v->rx_len) {
        v->drop_truncated++;
        ns_transport_count(&v->base, NETSTACK_STAT_drop_transport_truncated, 1);
        ns_tlog(&v->base, NETSTACK_LOG_DEBUG, "connection ended inside a frame (%zu bytes), dropped",
                v->rx_len);
    }
    vmnet_close_conn(v);
    ns_tlog(&v->base, NETSTACK_LOG_INFO, "guest disconnected (%s), waiting for a new connection",
            why);
    ns_transport_link_down(&v->base);
}

/**
 * vmnet_queue() - append handshake bytes to what is owed to the guest
 * @v:      the transport
 * @p:      the bytes
 * @n:      how many; the transmit buffer always has room for the two
 *          handshake replies (nothing else is queued before VMNET_FRAMES)
 */
static void vmnet_queue(struct vmnet_transport *v, const uint8_t *p, size_t n)
{
    if (v->tx_off) {
        memmove(v->tx, v->tx + v->tx_off, v->tx_len);
        v->tx_off = 0;
    }
    if (n > VMNET_TXBUF - v->tx_len)
        return;     /* cannot happen, see above */
    memcpy(v->tx + v->tx_len, p, n);
    v->tx_len += n;
}

/**
 * vmnet_reject() - refuse a client during the handshake: best-effort last
 * words, one warning, the connection closed
 * @v:      the transport, with a connection in INIT or COMMAND
 * @reply:  bytes to write before closing, after anything still queued
 *          (NULL for none); one non-blocking attempt, not retried
 * @n:      their length
 * @fmt:    the warning, printf style
 */
static void vmnet_reject(struct vmnet_transport *v, const uint8_t *reply, size_t n,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void vmnet_reject(struct vmnet_transport *v, const uint8_t *reply, size_t n,
                         const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    ssize_t w;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ns_tlog(&v->base, NETSTACK_LOG_WARN, "%s, connection closed", msg);
    if (reply)
        vmnet_queue(v, reply, n);
    if (v->tx_len) {    /* our init reply may still be queued before @reply */
        w = send(v->conn_fd, v->tx + v->tx_off, v->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;        /* last words: nothing to do if they do not fit */
    }
    vmnet_close_conn(v);
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
 * @v:      the transport, state VMNET_INIT
 * @m:      VMNET_INIT_LEN bytes, received
 * Return: 0, or -1 when the connection was closed
 */
static int vmnet_handle_init(struct vmnet_transport *v, const uint8_t *m)
{
    uint8_t ours[VMNET_INIT_LEN];
    char text[4 * VMNET_MAGIC_LEN + 1];
    uint32_t version = vmnet_le32(m + VMNET_MAGIC_LEN);

    vmnet_init_msg(ours);
    if (memcmp(m, VMNET_MAGIC, VMNET_MAGIC_LEN)) {
        vmnet_printable(text, m, VMNET_MAGIC_LEN);
        vmnet_reject(v, NULL, 0, "bad magic \"%s\" in the init message (want \"%s\")", text,
                     VMNET_MAGIC);
        return -1;
    }
    if (version != VMNET_VERSION) {
        vmnet_reject(v, ours, sizeof(ours), "client asks for protocol version %u, "
                     "only %u is served", version, VMNET_VERSION);
        return -1;
    }
    vmnet_queue(v, ours, sizeof(ours));
    v->state = VMNET_COMMAND;
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
 * @v:      the transport, state VMNET_COMMAND
 * @m:      VMNET_CMD_LEN bytes, received
 * Return: 0, or -1 when the connection was closed
 */
static int vmnet_handle_command(struct vmnet_transport *v, const uint8_t *m)
{
    uint8_t resp[VMNET_RESP_LEN], mac[6], rnd[VMNET_UUID_LEN];
    char text[4 * VMNET_UUID_LEN + 1], reason[64];
    const uint8_t *uuid = m + 1;
    uint32_t ip = vmnet_le32(m + 1 + VMNET_UUID_LEN);
    int zero, i;

    if (m[0] != VMNET_CMD_ETHERNET && m[0] != VMNET_CMD_PREFERRED) {
        snprintf(reason, sizeof(reason), "unknown command %u", m[0]);
        vmnet_disconnect_msg(resp, reason);
        vmnet_reject(v, resp, sizeof(resp), "unknown command %u (want %u or %u: ethernet connect)",
                     m[0], VMNET_CMD_ETHERNET, VMNET_CMD_PREFERRED);
        return -1;
    }
    if (!vmnet_uuid_ok(uuid, &zero)) {
        vmnet_printable(text, uuid, VMNET_UUID_LEN);
        vmnet_disconnect_msg(resp, "invalid UUID");
        vmnet_reject(v, resp, sizeof(resp), "invalid UUID \"%s\" in the command", text);
        return -1;
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
    ns_tlog(&v->base, NETSTACK_LOG_INFO, "guest %s%s connected: MAC %02x:%02x:%02x:%02x:%02x:%02x, "
            "MTU %u", text, zero ? " (chosen by us)" : "", mac[0], mac[1], mac[2], mac[3],
            mac[4], mac[5], v->mtu);
    if (m[0] == VMNET_CMD_PREFERRED || ip)
        ns_tlog(&v->base, NETSTACK_LOG_INFO, "preferred IPv4 %u.%u.%u.%u not honoured: the guest "
                "gets its address by DHCP", (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 0xff),
                (unsigned)(ip >> 8 & 0xff), (unsigned)(ip & 0xff));
    memset(resp, 0, sizeof(resp));
    resp[0] = VMNET_RESP_VIF;
    vmnet_put_le16(resp + 1, v->mtu);
    vmnet_put_le16(resp + 3, v->max_pkt);
    memcpy(resp + 5, mac, sizeof(mac));
    vmnet_queue(v, resp, sizeof(resp));
    v->state = VMNET_FRAMES;
    return 0;
}

/**
 * vmnet_handshake() - cut handshake messages from the front of the receive buffer
 * @v:      the transport, with a connection
 * @off:    in: where unparsed bytes start; out: after the messages consumed
 * Return: 0 (done, or waiting for more bytes), -1 when the connection was closed
 */
static int vmnet_handshake(struct vmnet_transport *v, size_t *off)
{
    while (v->state != VMNET_FRAMES) {
        size_t need = v->state == VMNET_INIT ? VMNET_INIT_LEN : VMNET_CMD_LEN;
        int rc;

        if (v->rx_len - *off < need)
            return 0;
        if (v->state == VMNET_INIT)
            rc = vmnet_handle_init(v, v->rx + *off);
        else
            rc = vmnet_handle_command(v, v->rx + *off);
        if (rc < 0)
            return -1;
        *off += need;
    }
    return 0;
}

/**
 * vmnet_parse() - the handshake, then every complete frame in the receive buffer
 * @v:      the transport
 *
 * Leaves the incomplete tail at the start of the buffer.
 * Return: 0, -1 when the connection was closed (handshake) or must be (bad length)
 */
static int vmnet_parse(struct vmnet_transport *v)
{
    size_t off = 0, nb = 0;
    int bad = 0;
    unsigned len;

    if (vmnet_handshake(v, &off) < 0)
        return -1;
    while (v->state == VMNET_FRAMES && v->rx_len - off >= VMNET_HDR) {
        len = (unsigned)v->rx[off] | (unsigned)v->rx[off + 1] << 8;
        if (len == 0) {
            v->drop_zero++;
            ns_transport_count(&v->base, NETSTACK_STAT_drop_transport_empty, 1);
            ns_tlog(&v->base, NETSTACK_LOG_DEBUG, "zero-length frame dropped");
            off += VMNET_HDR;
            continue;
        }
        if (len > v->max_pkt) {
            v->drop_range++;
            ns_transport_count(&v->base, NETSTACK_STAT_drop_transport_oversized, 1);
            ns_tlog(&v->base, NETSTACK_LOG_WARN,
                    "frame length %u above the maximum packet size %u, closing connection",
                    len, v->max_pkt);
            bad = 1;
            break;
        }
        if (v->rx_len - off - VMNET_HDR < len)
            break;
        v->batch[nb].data = v->rx + off + VMNET_HDR;
        v->batch[nb].len = len;
        off += VMNET_HDR + len;
        if (++nb == VMNET_BATCH) {
            netstack_input_batch(v->base.ns, v->batch, nb);
            nb = 0;
        }
    }
    if (nb)
        netstack_input_batch(v->base.ns, v->batch, nb);
    if (bad) {
        v->rx_len = 0;
        return -1;
    }
    memmove(v->rx, v->rx + off, v->rx_len - off);
    v->rx_len -= off;
    return 0;
}

static int vmnet_flush_tx(struct vmnet_transport *v);
static void vmnet_write_failed(struct vmnet_transport *v, int err);

/**
 * vmnet_read() - read what the guest sent: handshake messages, then frames
 * @v:      the transport, with a connection
 */
static void vmnet_read(struct vmnet_transport *v)
{
    enum vmnet_state was;
    size_t room;
    ssize_t n;
    int i, rc;

    for (i = 0; i < VMNET_READS && v->conn_fd >= 0; i++) {
        room = VMNET_RXBUF - v->rx_len;
        n = read(v->conn_fd, v->rx + v->rx_len, room);
        if (n == 0) {
            vmnet_disconnect(v, "closed by the guest");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                vmnet_disconnect(v, strerror(errno));
            return;
        }
        v->rx_len += (size_t)n;
        was = v->state;
        if (vmnet_parse(v) < 0) {
            if (v->conn_fd >= 0)
                vmnet_disconnect(v, "bad frame length");
            return;
        }
        if (was != VMNET_FRAMES && v->tx_len) {    /* handshake replies to send */
            rc = vmnet_flush_tx(v);
            if (rc == -EAGAIN)
                rc = vmnet_watch_conn(v, 1);
            else if (rc < 0)
                vmnet_write_failed(v, -rc);
            if (rc < 0)
                return;
        }
        if ((size_t)n < room)
            return;
    }
}

/**
 * vmnet_flush_tx() - write what is owed to the guest
 * @v:      the transport, with a connection
 * Return: 0 when nothing is left, -EAGAIN when some is, other -errno on error
 */
static int vmnet_flush_tx(struct vmnet_transport *v)
{
    ssize_t n;

    while (v->tx_len) {
        n = send(v->conn_fd, v->tx + v->tx_off, v->tx_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        v->tx_off += (size_t)n;
        v->tx_len -= (size_t)n;
    }
    v->tx_off = 0;
    return 0;
}

/**
 * vmnet_write_failed() - a write to the guest failed for good
 * @v:      the transport, with a connection
 * @err:    the errno
 *
 * Shut the socket down rather than close it: we may be inside the stack's
 * send callback. The read side sees the end of the stream and disconnects.
 */
static void vmnet_write_failed(struct vmnet_transport *v, int err)
{
    ns_tlog(&v->base, NETSTACK_LOG_INFO, "write to the guest failed: %s", strerror(err));
    v->broken = 1;
    v->tx_len = v->tx_off = 0;
    shutdown(v->conn_fd, SHUT_RDWR);
}

/**
 * vmnet_keep_tail() - keep the unwritten part of a frame a writev() cut
 * @v:      the transport, transmit buffer empty
 * @f:      the frame, at most VMNET_LEN_MAX bytes
 * @done:   bytes of prefix + frame already written, less than 2 + f->len
 */
static void vmnet_keep_tail(struct vmnet_transport *v, const struct netstack_frame *f, size_t done)
{
    uint8_t hdr[VMNET_HDR];
    size_t n = 0;

    vmnet_put_le16(hdr, (unsigned)f->len);
    if (done < VMNET_HDR) {
        memcpy(v->tx, hdr + done, VMNET_HDR - done);
        n = VMNET_HDR - done;
        done = VMNET_HDR;
    }
    memcpy(v->tx + n, (const uint8_t *)f->data + (done - VMNET_HDR), f->len - (done - VMNET_HDR));
    v->tx_off = 0;
    v->tx_len = n + f->len - (done - VMNET_HDR);
}

/**
 * vmnet_build_iov() - fill the writev() vector from @frames
 * @v:      the transport
 * @frames: frames to send
 * @n:      how many
 *
 * Stops before a frame a 16-bit length cannot describe (vmnet_send() drops it).
 * Return: number of frames in the vector
 */
static size_t vmnet_build_iov(struct vmnet_transport *v, const struct netstack_frame *frames,
                              size_t n)
{
    size_t k;

    for (k = 0; k < n && k < VMNET_TX_BATCH; k++) {
        if (frames[k].len > VMNET_LEN_MAX)
            break;
        vmnet_put_le16(v->hdr[k], (unsigned)frames[k].len);
        v->iov[2 * k].iov_base = v->hdr[k];
        v->iov[2 * k].iov_len = VMNET_HDR;
        v->iov[2 * k + 1].iov_base = (void *)frames[k].data;
        v->iov[2 * k + 1].iov_len = frames[k].len;
    }
    return k;
}

/**
 * vmnet_account() - how many of @k frames a writev() of @w bytes completed
 * @v:      the transport
 * @frames: the frames of the writev()
 * @k:      how many were in it
 * @w:      bytes written
 *
 * A frame written in part is completed later from the transmit buffer, so it
 * counts as accepted.
 * Return: frames accepted
 */
static size_t vmnet_account(struct vmnet_transport *v, const struct netstack_frame *frames,
                            size_t k, size_t w)
{
    size_t i, flen;

    for (i = 0; i < k && w; i++) {
        flen = VMNET_HDR + frames[i].len;
        if (w < flen) {
            vmnet_keep_tail(v, &frames[i], w);
            return i + 1;
        }
        w -= flen;
    }
    return i;
}

/**
 * vmnet_send() - frames to the guest, as many per writev() as fit
 * @t:      the transport
 * @frames: frames in order
 * @n:      how many
 *
 * Return: frames accepted; fewer than @n is backpressure (EPOLLOUT watched);
 * -ENOTCONN with no guest or before the handshake completed, -errno after a
 * write error with nothing written
 */
static ssize_t vmnet_send(struct ns_transport *t, const struct netstack_frame *frames, size_t n)
{
    struct vmnet_transport *v = vmnet_of(t);
    size_t done = 0, k, acc;
    ssize_t w;
    int rc;

    if (v->conn_fd < 0 || v->broken || v->state != VMNET_FRAMES)
        return -ENOTCONN;
    rc = vmnet_flush_tx(v);
    if (rc == -EAGAIN)
        goto blocked;
    if (rc < 0)
        goto failed;

    while (done < n) {
        k = vmnet_build_iov(v, frames + done, n - done);
        if (!k) {
            v->tx_dropped++;
            ns_transport_count(&v->base, NETSTACK_STAT_drop_transport_tx, 1);
            done++;
            continue;
        }
        w = writev(v->conn_fd, v->iov, (int)(2 * k));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            goto blocked;
        if (w < 0) {
            rc = -errno;
            goto failed;
        }
        acc = vmnet_account(v, frames + done, k, (size_t)w);
        done += acc;
        if (acc < k || v->tx_len)
            goto blocked;
    }
    return (ssize_t)n;

blocked:
    if (done < n)
        t->blocked = 1;
    vmnet_watch_conn(v, 1);
    return (ssize_t)done;

failed:
    vmnet_write_failed(v, -rc);
    if (!done)
        return rc;
    v->tx_dropped += n - done;
    ns_transport_count(&v->base, NETSTACK_STAT_drop_transport_tx, n - done);
    return (ssize_t)n;
}

/**
 * vmnet_conn_ready() - event on the guest's connection
 * @opaque: the transport
 * @fd:     the connection
 * @events: NETSTACK_EV_* bits
 */
static void vmnet_conn_ready(void *opaque, int fd, uint32_t events)
{
    struct vmnet_transport *v = opaque;
    int rc;

    if (fd != v->conn_fd)
        return;
    if (events & (NETSTACK_EV_IN | NETSTACK_EV_HUP | NETSTACK_EV_ERR))
        vmnet_read(v);
    if (v->conn_fd < 0 || !(events & NETSTACK_EV_OUT))
        return;
    rc = vmnet_flush_tx(v);
    if (rc == -EAGAIN)
        return;
    if (rc < 0) {
        vmnet_write_failed(v, -rc);
        return;
    }
    if (vmnet_watch_conn(v, 0) == 0)
        ns_transport_unblock(&v->base);
}

/**
 * vmnet_accept_reserve() - accept() when out of descriptors: drop the connection
 * @v:      the transport
 */
static void vmnet_accept_reserve(struct vmnet_transport *v)
{
    int fd;

    ns_tlog(&v->base, NETSTACK_LOG_WARN, "out of file descriptors, refusing a guest connection");
    if (v->reserve_fd < 0)
        return;
    close(v->reserve_fd);
    fd = accept(v->listen_fd, NULL, NULL);
    if (fd >= 0)
        close(fd);
    v->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/**
 * vmnet_adopt() - make @fd the guest's connection, replacing any current one
 * @v:      the transport
 * @fd:     a new, non-blocking connection; its handshake starts now
 */
static void vmnet_adopt(struct vmnet_transport *v, int fd)
{
    int sz = VMNET_SOCKBUF;

    if (v->conn_fd >= 0) {
        ns_tlog(&v->base, NETSTACK_LOG_INFO, "new connection replaces the current guest");
        if (v->state == VMNET_FRAMES) {
            vmnet_close_conn(v);
            ns_transport_link_down(&v->base);
        } else {
            vmnet_close_conn(v);
        }
    } else {
        ns_tlog(&v->base, NETSTACK_LOG_DEBUG, "client connected, waiting for its init message");
    }
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    v->conn_fd = fd;
    v->state = VMNET_INIT;
    vmnet_watch_conn(v, 0);
}

/**
 * vmnet_listen_ready() - a client is connecting
 * @opaque: the transport
 * @fd:     the listening socket
 * @events: NETSTACK_EV_* bits
 */
static void vmnet_listen_ready(void *opaque, int fd, uint32_t events)
{
    struct vmnet_transport *v = opaque;
    int c;

    (void)events;
    c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
        vmnet_adopt(v, c);
        return;
    }
    if (errno == EMFILE || errno == ENFILE)
        vmnet_accept_reserve(v);
    else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        ns_tlog(&v->base, NETSTACK_LOG_WARN, "accept: %s", strerror(errno));
}

/* vmnet_start() - watch the listening socket */
static int vmnet_start(struct ns_transport *t)
{
    struct vmnet_transport *v = vmnet_of(t);

    return netstack_watch(t->ns, v->listen_fd, NETSTACK_EV_IN, vmnet_listen_ready, v);
}

/* vmnet_stop() - leave the stack's loop */
static void vmnet_stop(struct ns_transport *t)
{
    struct vmnet_transport *v = vmnet_of(t);

    if (v->conn_fd >= 0)
        netstack_unwatch(t->ns, v->conn_fd);
    if (v->listen_fd >= 0)
        netstack_unwatch(t->ns, v->listen_fd);
}

/* vmnet_free() - close everything, remove the socket file, say what was dropped */
static void vmnet_free(struct ns_transport *t)
{
    struct vmnet_transport *v = vmnet_of(t);

    if (v->drop_zero || v->drop_truncated || v->drop_range || v->tx_dropped)
        ns_tlog(t, NETSTACK_LOG_INFO,
                "dropped from the guest: %llu zero-length, %llu truncated, %llu out-of-range; "
                "to the guest: %llu", (unsigned long long)v->drop_zero,
                (unsigned long long)v->drop_truncated, (unsigned long long)v->drop_range,
                (unsigned long long)v->tx_dropped);
    if (v->conn_fd >= 0)
        close(v->conn_fd);
    if (v->listen_fd >= 0)
        close(v->listen_fd);
    if (v->reserve_fd >= 0)
        close(v->reserve_fd);
    ns_sockfile_remove(&v->file);
    free(v->rx);
    free(v->tx);
    free(v);
}

static const struct ns_transport_ops vmnet_ops = {
    .start = vmnet_start,
    .send = vmnet_send,
    .stop = vmnet_stop,
    .free = vmnet_free,
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
    int fd, rc;

    if (!v) {
        ns_transport_seterr(err, errlen, "ns_vmnet_open: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    ns_transport_init(&v->base, &vmnet_ops, "vmnet", opts);
    v->listen_fd = v->conn_fd = -1;
    v->mtu = opts->mtu ? opts->mtu : VMNET_MTU_DEFAULT;
    v->max_pkt = v->mtu + 50 > VMNET_LEN_MAX ? VMNET_LEN_MAX : v->mtu + 50;
    v->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    v->rx = malloc(VMNET_RXBUF);
    v->tx = malloc(VMNET_TXBUF);
    if (!v->rx || !v->tx) {
        ns_transport_seterr(err, errlen, "ns_vmnet_open: %s", strerror(ENOMEM));
        rc = -ENOMEM;
        goto fail;
    }
    fd = ns_unix_bind(SOCK_STREAM, opts->path, &v->file, err, errlen);
    if (fd < 0) {
        rc = fd;
        goto fail;
    }
    v->listen_fd = fd;
    if (listen(fd, 8) < 0) {
        rc = -errno;
        ns_transport_seterr(err, errlen, "listen: %s: %s", opts->path, strerror(errno));
        goto fail;
    }
    snprintf(v->base.desc, sizeof(v->base.desc), "vmnet (hyperkit virtio-vpnkit) socket %s",
             opts->path);
    *out = &v->base;
    return 0;

fail:
    vmnet_free(&v->base);
    return rc;
}
