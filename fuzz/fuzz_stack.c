/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_stack.c - the whole stack, fed a sequence of guest frames, clock ticks
 * and host-side events
 *
 * Unlike fuzz_frame, each input gets a stack of its own (netstack_new() ...
 * netstack_free()), its host sockets are faked at the socket boundary
 * (fake_host.c: nothing reaches the network) and its clock only moves when
 * the input says so. So an input can take a TCP connection through connect
 * before accept, lwIP's handshake, the relay both ways and a FIN or RST from
 * either side; open, expire and evict UDP and ICMP flows; forward a DNS
 * query and answer it, over UDP or, truncated, over TCP; and make the
 * transport push back. The same input always does the same thing.
 *
 * Input format: two configuration bytes, then records until the input ends
 * (a record cut short by the end uses zeros for what is missing).
 *
 *   config[0] bit 0  MTU 65520 (else 1500)
 *             bit 1  netstack_set_offloads(NETSTACK_LINK_CSUM)
 *             bit 2  ... and NETSTACK_LINK_TSO4
 *             bit 3  ... and NETSTACK_LINK_INTEGRITY
 *             bit 4  no send_gather callback (every frame is copied)
 *             bit 5  ping sockets are refused (the NAT falls back to raw ICMP)
 *             bit 6  raw ICMP sockets are refused too
 *             bit 7  small limits: 4 TCP connections, 2 pending connects, 2 UDP
 *                    and 2 ICMP flows, 2 DNS queries, 16 frames of transmit
 *                    queue, 2 reassemblies, short idle and DNS timeouts
 *   config[1] bit 0  no host-loopback alias
 *             bit 1  the host's resolv.conf has no nameserver
 *             bit 2  established TCP connections time out after 30 s idle
 *             bit 3  local names from --dns-name entries and a hosts file
 *
 *   record    one byte: the operation in its low 4 bits, ARG in its high 4,
 *             then the operation's operands (u16 are big-endian):
 *   0 FRAME   [offload: 10 bytes if ARG bit 1] len:u16 frame:len
 *             a frame from the guest. ARG bit 0: recompute its IPv4 header
 *             checksum and, unless it is a fragment, its TCP, UDP or ICMP
 *             checksum first. ARG bit 1: the frame carries offload state,
 *             struct netstack_offload field by field (flags:u8 gso_type:u8
 *             hdr_len:u16 gso_size:u16 csum_start:u16 csum_offset:u16).
 *             ARG bit 2: hold it; held frames go to the stack in one
 *             netstack_input_batch() with the next frame that is not held
 *   1 CLOCK   n:u16   the clock advances (n + 1) * 1, 10, 250 or 10000 ms
 *             (ARG & 3); the loop wakes at every timeout on the way, as
 *             netstack_run() would
 *   2 CONNECT sock:u8 res:u8   socket SOCK's connect() in progress ends:
 *             res % 10 is success, ECONNREFUSED, ETIMEDOUT, ENETUNREACH,
 *             EHOSTUNREACH, EACCES, EPERM, EHOSTDOWN, ECONNRESET, EADDRNOTAVAIL
 *   3 DATA    sock:u8 len:u16 bytes:len   the host peer sends these bytes; a
 *             datagram comes from (ARG & 3) the peer the stack last sent to,
 *             another remote, 127.0.0.1, an address in the guest's subnet.
 *             To a raw ICMP socket: the IPv4 packet the host received
 *   4 EOF     sock:u8   the TCP peer shuts down its side (UDP: an empty datagram)
 *   5 ERROR   sock:u8 e:u8   the socket fails: e % 8 is ECONNRESET, EPIPE,
 *             ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ENOBUFS, EIO
 *             (a connect in progress fails with it)
 *   6 DRAIN   sock:u8 n:u16   the TCP peer reads up to n bytes (0: all it can)
 *   7 REPLY   sock:u8 len:u16 bytes:len   the peer answers what the stack last
 *             sent it: a nameserver (destination port 53; the bytes are the
 *             answer count, then answer records; ARG is FAKE_REPLY_TC,
 *             _BAD_ID and the _RCODE bits), an ICMP echo responder, or a UDP
 *             or TCP echo server (the bytes are appended)
 *   8 LINKDOWN   netstack_link_down()
 *   9 SINK    the transport, from now on (ARG & 3): takes every frame, takes
 *             none (pushes back), takes one per call, is gone (-EPIPE)
 *  10 READY   netstack_output_ready()
 *  11 MODE    by ARG: 0 the next socket() fails with EMFILE; 1 the next
 *             connect() succeeds at once; 2 fails at once with ECONNREFUSED;
 *             3 with ENETUNREACH; 4 the next datagram send fails with ENOBUFS;
 *             5 with EHOSTUNREACH; others nothing
 *  12 OFFLOADS   netstack_set_offloads(ARG)
 *  13-15 nothing but the dispatch below
 *
 * SOCK numbers the host sockets in the order the stack opened them during
 * this input, modulo their count; a closed one stands for the next one still
 * open. After every record except a held frame the loop runs once
 * (netstack_dispatch()), as it does when woken. lwIP's initial sequence
 * number is FAKE_TCP_ISS (fake_host.h), so an input can acknowledge the
 * stack's SYN-ACK. The seed corpus (fuzz/corpus/stack/) comes from
 * fuzz/capture_seeds.py.
 *
 * The clock needs no seam in the library: ns_now_ms() and lwIP's sys_now()
 * read clock_gettime(CLOCK_MONOTONIC), which fake_host.c answers. The host's
 * resolv.conf and hosts file are in memory. Not reached on purpose: the DNS
 * host-resolver mode (getaddrinfo() on worker threads, whose timing no input
 * decides) and port forwarding (lwIP chooses the sequence numbers of the
 * connections it opens itself, which an input could not acknowledge).
 *
 * Checked on the way: every frame to the guest fits the link (as in
 * fuzz_common.h), comes from the gateway's MAC, carries only offloads the
 * link allowed, and on a plain link has correct IPv4, TCP, UDP and ICMP
 * checksums; fake_host.c checks the host side. After netstack_free() no host
 * socket may be left open and the process has exactly the descriptors it
 * had before netstack_new().
 */
#define _GNU_SOURCE /* memfd_create() */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/timeouts.h"

#include "fuzz/fake_host.h"
#include "netstack/include/netstack.h"

#define SMALL_MTU       1500
#define BIG_MTU         65520
#define BATCH_MAX       32      /* held frames per netstack_input_batch() */
#define WAKEUPS_MAX     4096    /* loop wakeups per input while the clock advances */
#define GATHER_MAX      (14 + 65535 + 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t gateway_mac[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };

/* The transport's answer to frames (SINK). */
enum sink_mode { SINK_ALL, SINK_NONE, SINK_ONE, SINK_GONE };

static enum sink_mode sink_mode;
static unsigned mtu;
static uint32_t offloads_ever;      /* every NETSTACK_LINK_* allowed during this input */
static unsigned wakeups;
static int tracing;

/* struct cursor - the unread part of the input; reads past its end give zeros. */
struct cursor {
    const uint8_t *p;
    size_t n;
};

static uint8_t get_u8(struct cursor *c)
{
    uint8_t v = 0;

    if (c->n) {
        v = *c->p++;
        c->n--;
    }
    return v;
}

static uint16_t get_u16(struct cursor *c)
{
    uint16_t hi = get_u8(c);

    return (uint16_t)(hi << 8 | get_u8(c));
}

/**
 * get_bytes() - up to @len bytes; *@got says how many there were.
 */
static const uint8_t *get_bytes(struct cursor *c, size_t len, size_t *got)
{
    const uint8_t *p = c->p;

    if (len > c->n)
        len = c->n;
    c->p += len;
    c->n -= len;
    *got = len;
    return p;
}

/* --- Checksums (RFC 1071) ---------------------------------------------------- */

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/**
 * l4_sum() - the checksum of the TCP, UDP or ICMP message @l4 of an IPv4
 * packet with header @ip, its checksum field counted as it is
 */
static uint16_t l4_sum(const uint8_t *ip, const uint8_t *l4, size_t len)
{
    uint32_t sum = 0;

    if (ip[9] != 1) {   /* TCP and UDP cover a pseudo-header */
        sum = sum16(sum, ip + 12, 8);
        sum += ip[9];
        sum += (uint32_t)len;
    }
    return fold(sum16(sum, l4, len));
}

/**
 * csum_field() - where the checksum of protocol @proto is in its header, -1 if none.
 */
static int csum_field(uint8_t proto, size_t len)
{
    if (proto == 6 && len >= 20)
        return 16;
    if (proto == 17 && len >= 8)
        return 6;
    if (proto == 1 && len >= 4)
        return 2;
    return -1;
}

/**
 * ipv4_parts() - an unfragmented-or-not IPv4 packet in an Ethernet frame
 * @l4, @l4_len: its payload, when the header and total length fit
 * Return: the IPv4 header, NULL if the frame carries none that fits.
 */
static uint8_t *ipv4_parts(uint8_t *f, size_t len, uint8_t **l4, size_t *l4_len, int *fragment)
{
    uint8_t *ip = f + 14;
    size_t hl, tot;

    if (len < 34 || f[12] != 0x08 || f[13] != 0x00 || (ip[0] >> 4) != 4)
        return NULL;
    hl = (size_t)(ip[0] & 15) * 4;
    tot = (size_t)(ip[2] << 8 | ip[3]);
    if (hl < 20 || tot < hl || 14 + tot > len)
        return NULL;
    *l4 = ip + hl;
    *l4_len = tot - hl;
    *fragment = (ip[6] & 0x3f) || ip[7];
    return ip;
}

/**
 * fix_checksums() - make the checksums of a guest frame right (FRAME with ARG bit 0).
 */
static void fix_checksums(uint8_t *f, size_t len)
{
    uint8_t *ip, *l4;
    size_t l4_len, hl;
    int frag, at;
    uint16_t c;

    ip = ipv4_parts(f, len, &l4, &l4_len, &frag);
    if (!ip)
        return;
    hl = (size_t)(l4 - ip);
    ip[10] = ip[11] = 0;
    c = fold(sum16(0, ip, hl));
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    at = csum_field(ip[9], l4_len);
    if (frag || at < 0)
        return;
    l4[at] = l4[at + 1] = 0;
    c = l4_sum(ip, l4, l4_len);
    if (ip[9] == 17 && !c)
        c = 0xffff;     /* RFC 768: zero means "no checksum" */
    l4[at] = (uint8_t)(c >> 8);
    l4[at + 1] = (uint8_t)c;
}

/* --- Frames to the guest ----------------------------------------------------------- */

/**
 * bad_frame() - a frame to the guest broke a rule: say which, and abort.
 */
static void bad_frame(const char *why, size_t len) __attribute__((noreturn));
static void bad_frame(const char *why, size_t len)
{
    fprintf(stderr, "fuzz_stack: a %zu-byte frame to the guest %s\n", len, why);
    abort();
}

/**
 * check_frame() - abort on a frame the guest's link could not take (see the top).
 */
static void check_frame(uint8_t *f, size_t len, const struct netstack_offload *o)
{
    uint8_t *ip, *l4;
    size_t l4_len;
    int frag, at;

    if (len < 14)
        bad_frame("is shorter than an Ethernet header", len);
    if (memcmp(f + 6, gateway_mac, 6))
        bad_frame("does not come from the gateway's MAC", len);
    if (o->gso_type == NETSTACK_GSO_NONE ? len > 14 + mtu + 4
                                         : len > 14 + 65535 || o->gso_size > mtu - 40 ||
                                               o->hdr_len >= len)
        bad_frame("does not fit the link", len);
    if ((o->gso_type != NETSTACK_GSO_NONE && !(offloads_ever & NETSTACK_LINK_TSO4)) ||
        ((o->flags & NETSTACK_OFFLOAD_F_NEEDS_CSUM) && !(offloads_ever & NETSTACK_LINK_CSUM)))
        bad_frame("carries an offload the link did not allow", len);
    if (o->flags || o->gso_type)
        return;
    ip = ipv4_parts(f, len, &l4, &l4_len, &frag);
    if (!ip)
        return;
    if (fold(sum16(0, ip, (size_t)(l4 - ip))) != 0)
        bad_frame("has a bad IPv4 header checksum", len);
    at = csum_field(ip[9], l4_len);
    if (frag || at < 0 || (ip[9] == 17 && !l4[at] && !l4[at + 1]))
        return;
    if (l4_sum(ip, l4, l4_len) != 0)
        bad_frame("has a bad TCP, UDP or ICMP checksum on a plain link", len);
}

/**
 * trace_frame() - one line about a frame, when FUZZ_STACK_TRACE is set.
 */
static void trace_frame(const char *dir, uint8_t *f, size_t len)
{
    uint8_t *ip, *l4;
    size_t l4_len;
    int frag;

    if (!tracing)
        return;
    ip = ipv4_parts(f, len, &l4, &l4_len, &frag);
    fprintf(stderr, "[%llu ms] %s: %zu bytes", (unsigned long long)fake_host_now_ms(), dir, len);
    if (ip)
        fprintf(stderr, " proto %u %u.%u.%u.%u > %u.%u.%u.%u", ip[9], ip[12], ip[13], ip[14],
                ip[15], ip[16], ip[17], ip[18], ip[19]);
    if (ip && !frag && ip[9] == 6 && l4_len >= 20)
        fprintf(stderr, " %u > %u flags %#x seq %u ack %u len %zu", l4[0] << 8 | l4[1],
                l4[2] << 8 | l4[3], l4[13],
                (unsigned)((uint32_t)l4[4] << 24 | l4[5] << 16 | l4[6] << 8 | l4[7]),
                (unsigned)((uint32_t)l4[8] << 24 | l4[9] << 16 | l4[10] << 8 | l4[11]),
                l4_len - (size_t)(l4[12] >> 4) * 4);
    else if (ip && !frag && ip[9] == 17 && l4_len >= 8)
        fprintf(stderr, " %u > %u len %zu", l4[0] << 8 | l4[1], l4[2] << 8 | l4[3], l4_len - 8);
    else if (ip && !frag && ip[9] == 1 && l4_len >= 4)
        fprintf(stderr, " type %u code %u", l4[0], l4[1]);
    fputc('\n', stderr);
}

/**
 * trace_stats() - the counters that moved, when FUZZ_STACK_TRACE is set.
 */
static void trace_stats(struct netstack *ns)
{
    uint64_t v[NETSTACK_STAT_COUNT];
    size_t i, n;

    if (!tracing)
        return;
    n = netstack_get_stats(ns, v, NETSTACK_STAT_COUNT);
    for (i = 0; i < n; i++)
        if (v[i])
            fprintf(stderr, "stat %s %llu\n", netstack_stat_name((unsigned)i),
                    (unsigned long long)v[i]);
}

static ssize_t sink(void *opaque, const struct netstack_frame *frames, size_t n)
{
    static uint8_t buf[GATHER_MAX];
    size_t i;

    (void)opaque;
    for (i = 0; i < n; i++) {
        if (frames[i].len > sizeof(buf))
            bad_frame("is larger than any link takes", frames[i].len);
        memcpy(buf, frames[i].data, frames[i].len);
        check_frame(buf, frames[i].len, &frames[i].offload);
        trace_frame("to guest", buf, frames[i].len);
    }
    switch (sink_mode) {
    case SINK_NONE:
        return 0;
    case SINK_ONE:
        return 1;
    case SINK_GONE:
        return -EPIPE;
    default:
        return (ssize_t)n;
    }
}

static int gather(void *opaque, const struct iovec *iov, size_t n,
                  const struct netstack_offload *off)
{
    static uint8_t buf[GATHER_MAX];
    size_t i, len = 0;

    (void)opaque;
    for (i = 0; i < n; i++) {
        if ((!iov[i].iov_base && iov[i].iov_len) || iov[i].iov_len > sizeof(buf) - len)
            bad_frame("is given in pieces that cannot be read", len + iov[i].iov_len);
        if (iov[i].iov_len)
            memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    check_frame(buf, len, off);
    trace_frame("to guest", buf, len);
    return sink_mode == SINK_GONE ? -EPIPE : sink_mode == SINK_NONE ? 0 : 1;
}

static void log_line(void *opaque, enum netstack_log_level level, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "[%llu ms] stack(%d): %s\n", (unsigned long long)fake_host_now_ms(), level,
            msg);
}

/* --- The host's files ---------------------------------------------------------- */

enum host_file { RESOLV_CONF, RESOLV_CONF_EMPTY, HOSTS, HOST_FILES };

/**
 * host_file() - the path of one of the host's files, kept in memory (made
 * once per process, before any input counts descriptors)
 */
static const char *host_file(enum host_file which)
{
    static char path[HOST_FILES][64];
    static const char *const text[HOST_FILES] = {
        "nameserver 192.0.2.53\nnameserver 2001:db8::53\n",
        "# being rewritten: no nameserver yet\n",
        ("# hosts(5)\n203.0.113.5\tprinter.lan printer\n10.1.2.3 build.internal\n"
         "fd00::7 v6only.internal\nnot-an-address bad.internal\n"),
    };
    int fd;

    if (path[which][0])
        return path[which];
    fd = memfd_create("netstack-host-file", MFD_CLOEXEC);
    if (fd < 0 || write(fd, text[which], strlen(text[which])) < 0)
        abort();
    snprintf(path[which], sizeof(path[which]), "/proc/self/fd/%d", fd);
    return path[which];
}

/**
 * count_fds() - descriptors open in this process.
 */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        abort();
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;       /* the directory's own */
}

/* --- Driving the stack ---------------------------------------------------------- */

/**
 * advance() - let @ms pass, waking the loop at each timeout on the way.
 */
static void advance(struct netstack *ns, uint64_t ms)
{
    while (ms) {
        int t = netstack_next_timeout(ns);
        uint64_t step = ms;

        if (t >= 0 && (uint64_t)t < ms && wakeups < WAKEUPS_MAX) {
            step = t ? (uint64_t)t : 1;
            wakeups++;
        }
        fake_host_advance(step);
        ms -= step;
        netstack_dispatch(ns);
    }
}

/* struct batch - frames held for one netstack_input_batch() */
struct batch {
    struct netstack_frame f[BATCH_MAX];
    size_t n;
};

static void batch_flush(struct netstack *ns, struct batch *b)
{
    size_t i;

    if (!b->n)
        return;
    if (b->n == 1 && !b->f[0].offload.flags && !b->f[0].offload.gso_type)
        netstack_input(ns, b->f[0].data, b->f[0].len);
    else
        netstack_input_batch(ns, b->f, b->n);
    for (i = 0; i < b->n; i++)
        free((void *)b->f[i].data);
    b->n = 0;
}

/**
 * frame_record() - read one FRAME record into @b
 * Return: 1 if it is held for the next one.
 */
static int frame_record(struct cursor *c, unsigned arg, struct batch *b)
{
    struct netstack_frame *f = &b->f[b->n];
    const uint8_t *p;
    uint8_t *copy;
    size_t len;

    memset(f, 0, sizeof(*f));
    if (arg & 2) {
        f->offload.flags = get_u8(c);
        f->offload.gso_type = get_u8(c);
        f->offload.hdr_len = get_u16(c);
        f->offload.gso_size = get_u16(c);
        f->offload.csum_start = get_u16(c);
        f->offload.csum_offset = get_u16(c);
    }
    len = get_u16(c);
    p = get_bytes(c, len, &len);
    /* Exactly @len bytes, so that AddressSanitizer sees a read past the end. */
    copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    if (len)
        memcpy(copy, p, len);
    if (arg & 1)
        fix_checksums(copy, len);
    trace_frame("from guest", copy, len);
    f->data = copy;
    f->len = len;
    b->n++;
    return (arg & 4) && b->n < BATCH_MAX;
}

static const int connect_errors[10] = {
    0, ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH, EACCES, EPERM, EHOSTDOWN,
    ECONNRESET, EADDRNOTAVAIL,
};

static const int socket_errors[8] = {
    ECONNRESET, EPIPE, ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ENOBUFS, EIO,
};

/**
 * host_record() - the operands and action of a record aimed at a host socket.
 */
static void host_record(struct cursor *c, unsigned op, unsigned arg)
{
    struct fake_sock *s = fake_host_pick(get_u8(c));
    const uint8_t *p;
    size_t len;
    uint8_t v;

    switch (op) {
    case 2:
        v = get_u8(c);
        if (s)
            fake_host_connect_done(s, connect_errors[v % 10]);
        break;
    case 3:
        len = get_u16(c);
        p = get_bytes(c, len, &len);
        if (s)
            fake_host_data(s, p, len, (enum fake_source)(arg & 3));
        break;
    case 4:
        if (s)
            fake_host_eof(s);
        break;
    case 5:
        v = get_u8(c);
        if (s)
            fake_host_error(s, socket_errors[v % 8]);
        break;
    case 6:
        len = get_u16(c);
        if (s)
            fake_host_drain(s, len);
        break;
    case 7:
        len = get_u16(c);
        p = get_bytes(c, len, &len);
        if (s)
            fake_host_reply(s, arg, p, len);
        break;
    }
}

static void mode_record(unsigned arg)
{
    switch (arg) {
    case 0:
        fake_host_fail_socket();
        break;
    case 1:
        fake_host_set_connect(FAKE_CONNECT_NOW, 0);
        break;
    case 2:
        fake_host_set_connect(FAKE_CONNECT_FAIL, ECONNREFUSED);
        break;
    case 3:
        fake_host_set_connect(FAKE_CONNECT_FAIL, ENETUNREACH);
        break;
    case 4:
        fake_host_fail_send(ENOBUFS);
        break;
    case 5:
        fake_host_fail_send(EHOSTUNREACH);
        break;
    }
}

/**
 * link_flags() - NETSTACK_LINK_* from config[0].
 */
static uint32_t link_flags(uint8_t cfg)
{
    uint32_t f = 0;

    if (cfg & 0x02)
        f |= NETSTACK_LINK_CSUM;
    if (cfg & 0x04)
        f |= NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4;
    if (cfg & 0x08)
        f |= NETSTACK_LINK_INTEGRITY;
    return f;
}

static const char *const local_names[] = {
    "db.internal=10.0.0.5", "files.example.test=192.0.2.80", "v6.internal=fd00::5", NULL,
};

/**
 * new_stack() - a stack configured by the input's two configuration bytes.
 */
static struct netstack *new_stack(uint8_t cfg0, uint8_t cfg1)
{
    struct netstack_config c;
    struct netstack *ns;

    netstack_config_init(&c);
    c.send_frames = sink;
    c.send_gather = cfg0 & 0x10 ? NULL : gather;
    c.mtu = (uint16_t)mtu;
    c.resolv_conf = host_file(cfg1 & 0x02 ? RESOLV_CONF_EMPTY : RESOLV_CONF);
    if (cfg1 & 0x08) {
        c.dns_names = local_names;
        c.hosts_file = host_file(HOSTS);
    }
    if (tracing) {
        c.log = log_line;
        c.log_level = NETSTACK_LOG_DEBUG;
    }
    if (cfg0 & 0x80) {
        c.max_tcp_connections = 4;
        c.max_pending_connects = 2;
        c.max_udp_flows = 2;
        c.max_icmp_flows = 2;
        c.max_dns_inflight = 2;
        c.max_tx_queue = 16;
        c.max_reassembly = 2;
        c.udp_idle_timeout_ms = 5000;
        c.icmp_idle_timeout_ms = 3000;
        c.dns_timeout_ms = 2500;
    }
    c.no_host_loopback = cfg1 & 0x01;
    if (cfg1 & 0x04)
        c.tcp_idle_timeout_ms = 30000;
    if (netstack_new(&c, &ns))
        abort();
    return ns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t units[4] = { 1, 10, 250, 10000 };
    struct cursor c = { data, size };
    struct fake_config fc = { 0 };
    struct batch b = { .n = 0 };
    uint8_t cfg0 = get_u8(&c), cfg1 = get_u8(&c);
    struct netstack *ns;
    int fds;

    tracing = getenv("FUZZ_STACK_TRACE") != NULL;
    host_file(RESOLV_CONF);
    host_file(RESOLV_CONF_EMPTY);
    host_file(HOSTS);
    mtu = cfg0 & 0x01 ? BIG_MTU : SMALL_MTU;
    sink_mode = SINK_ALL;
    wakeups = 0;
    offloads_ever = link_flags(cfg0);
    fc.ping_refused = !!(cfg0 & 0x20);
    fc.raw_refused = !!(cfg0 & 0x40);
    fc.loopback_ok = !(cfg1 & 0x01);
    fc.subnet = 0xc0a84100;     /* the default 192.168.65.0/24 */
    fc.netmask = 0xffffff00;
    fds = count_fds();
    fake_host_begin(&fc);
    ns = new_stack(cfg0, cfg1);
    /*
     * lwIP's tcp_tmr() runs its slow timer every other call, counted in a
     * static: one more call if needed puts every input in the same phase.
     */
    fake_host_tcp_tmr_even();
    netstack_output_ready(ns);  /* forget a refused output of an earlier stack */
    if (netstack_set_offloads(ns, offloads_ever))
        abort();
    while (c.n) {
        uint8_t rec = get_u8(&c);
        unsigned op = rec & 15, arg = rec >> 4;

        if (op != 0)
            batch_flush(ns, &b);    /* held frames came first */
        switch (op) {
        case 0:
            if (frame_record(&c, arg, &b))
                continue;       /* held: no dispatch until the batch goes in */
            batch_flush(ns, &b);
            break;
        case 1:
            advance(ns, ((uint64_t)get_u16(&c) + 1) * units[arg & 3]);
            continue;
        case 2: case 3: case 4: case 5: case 6: case 7:
            host_record(&c, op, arg);
            break;
        case 8:
            netstack_link_down(ns);
            break;
        case 9:
            sink_mode = (enum sink_mode)(arg & 3);
            break;
        case 10:
            netstack_output_ready(ns);
            break;
        case 11:
            mode_record(arg);
            break;
        case 12:
            if (!netstack_set_offloads(ns, arg))
                offloads_ever |= arg;
            break;
        default:
            break;
        }
        netstack_dispatch(ns);
    }
    batch_flush(ns, &b);
    netstack_dispatch(ns);
    trace_stats(ns);
    netstack_free(ns);
    /*
     * lwIP's TCP timer outlives its pcbs (process-global, like lwIP): once
     * due it finds none and stops, freeing its timeout, so that the next
     * input starts with no timer running and nothing allocated.
     */
    fake_host_advance(1000);
    sys_check_timeouts();
    fake_host_end();
    if (count_fds() != fds) {
        fprintf(stderr, "fuzz_stack: %d descriptors open after netstack_free(), %d before\n",
                count_fds(), fds);
        abort();
    }
    return 0;
}
