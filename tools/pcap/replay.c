/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.c - netstack-pcap replay: a capture's guest frames into a fresh stack
 *
 * Theory of Operation
 *
 * A bug report's capture holds what the guest sent and what the stack
 * answered. Replay feeds the guest's half, in order, to a new stack in this
 * process and writes what this stack answers, so the stack's behaviour can be
 * reproduced and debugged offline. The output capture holds both halves, as
 * the original does: the guest's frames as they were fed, and the answers.
 *
 * - Which frames are the guest's: every frame whose source MAC is not the
 *   stack's (--gateway-mac, default netstack's 5a:94:ef:e4:0c:dd).
 * - The clock is the capture's. The stack runs on config.clock_ns, which is
 *   set to each frame's timestamp before the frame is fed; between two frames
 *   the timers due in the gap run at their due times, and after the last one
 *   the clock runs on to the capture's last timestamp. Answers are stamped
 *   with the clock at the moment the stack sent them.
 * - The host side is taken away, so that nothing leaves the machine and every
 *   outbound connection fails the same way each time: the process moves into
 *   a network namespace of its own with only loopback up (unshare(2); as a
 *   user without privileges, inside a user namespace of its own), where the
 *   host-loopback alias reaches an empty 127.0.0.1 and everything else is
 *   unreachable. Where no namespace can be made, the stack is restricted
 *   (config.restricted): its NAT opens no host socket at all. The log says
 *   which. DNS has no nameserver (resolv.conf is /dev/null): local names are
 *   answered as they were, everything else gets SERVFAIL.
 * - After each frame, the stack's pending host events are run until there are
 *   none: in such a namespace the kernel answers a loopback connect, send or
 *   ping during the system call itself, so their results are there before
 *   the next frame, and two replays of a capture answer frame for frame the
 *   same (tested: tests/e2e/test_pcap.sh).
 * - Offloads: a guest frame larger than the link (a TSO super-frame, as a tap
 *   with offloads captures) is fed as the TCP super-frame it is, with a
 *   partial checksum, and the link is told it carries them; the link vouches
 *   for checksums either way (a capture corrupts nothing on the way).
 *
 * ns_replay_run() is the whole replay on an open capture with no namespace,
 * for the fuzz harness (fuzz/fuzz_pcap_replay.c), which runs it restricted.
 */
#define _GNU_SOURCE     /* unshare() */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ethernet/reader.h"
#include "netstack.h"
#include "tools/pcap/replay.h"

#define SETTLE_ROUNDS   64      /* dispatches after a frame while host events are ready */
#define ETH_HLEN        14
#define TIMER_STEPS     100000  /* timer runs between two frames: 7 hours of lwIP's 250 ms tick */

/**
 * struct replay - one replay
 * @ns:      the stack
 * @o:       the options
 * @now_ns:  the stack's clock (config.clock_ns)
 * @out:     where frames are written, NULL: nowhere
 * @res:     the counts
 */
struct replay {
    struct netstack *ns;
    const struct ns_replay_opts *o;
    uint64_t now_ns;
    pcap_dumper_t *out;
    struct ns_replay_result *res;
};

static uint64_t replay_clock(void *opaque)
{
    return ((const struct replay *)opaque)->now_ns;
}

/**
 * write_frame() - one frame to the output, stamped @ts_ns
 */
static void write_frame(struct replay *r, uint64_t ts_ns, const void *data, size_t len)
{
    struct pcap_pkthdr h = {
        .ts = { .tv_sec = (time_t)(ts_ns / 1000000000u),
                .tv_usec = (suseconds_t)(ts_ns % 1000000000u / 1000) },
        .caplen = (bpf_u_int32)len,
        .len = (bpf_u_int32)len,
    };

    if (r->out)
        pcap_dump((u_char *)r->out, &h, data);
}

/**
 * replay_send() - config.send_frames: the stack's answers go to the output
 */
static ssize_t replay_send(void *opaque, const struct netstack_frame *f, size_t n)
{
    struct replay *r = opaque;
    size_t i;

    for (i = 0; i < n; i++)
        write_frame(r, r->now_ns, f[i].data, f[i].len);
    r->res->answers += n;
    return (ssize_t)n;
}

/**
 * replay_log() - the stack's log lines to stderr
 */
static void replay_log(void *opaque, enum netstack_log_level level, const char *msg)
{
    (void)opaque;
    (void)level;
    if (!((const struct replay *)opaque)->o->quiet)
        fprintf(stderr, "netstack-pcap: replay: %s\n", msg);
}

/**
 * settle() - run what is ready, until the host side has nothing more
 */
static void settle(struct replay *r)
{
    struct pollfd p = { .fd = netstack_fd(r->ns), .events = POLLIN };
    int i;

    netstack_dispatch(r->ns);
    for (i = 0; i < SETTLE_ROUNDS && poll(&p, 1, 0) > 0; i++)
        netstack_dispatch(r->ns);
}

/**
 * advance() - the clock to @to_ns, running the timers due on the way at their times
 */
static void advance(struct replay *r, uint64_t to_ns)
{
    unsigned steps, max = r->o->timer_steps ? r->o->timer_steps : TIMER_STEPS;

    for (steps = 0; steps < max; steps++) {
        int t = netstack_next_timeout(r->ns);
        uint64_t due = r->now_ns + (uint64_t)(t > 0 ? t : 1) * 1000000u;

        if (t < 0 || due > to_ns)
            break;
        r->now_ns = due;
        settle(r);
    }
    if (to_ns > r->now_ns)
        r->now_ns = to_ns;
}

/**
 * ts_of() - a record's timestamp in ns
 */
static uint64_t ts_of(const struct pcap_pkthdr *h)
{
    return (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec * 1000u;
}

/**
 * offload_of() - what a guest frame larger than the link must have come with
 * Return: 1 with @off filled for a TCP/IPv4 super-frame, 0 for anything else.
 */
static int offload_of(const struct replay *r, const uint8_t *data, size_t len,
                      struct netstack_offload *off)
{
    struct ns_reader rd;
    uint16_t type;
    uint8_t vihl, proto;

    if (len <= (size_t)ETH_HLEN + r->o->mtu)
        return 0;
    ns_reader_init(&rd, data, len);
    ns_reader_skip(&rd, 12);                    /* destination and source MAC */
    type = ns_read_be16(&rd);
    vihl = ns_read_u8(&rd);
    ns_reader_skip(&rd, 8);                     /* TOS, total length, id, fragment, TTL */
    proto = ns_read_u8(&rd);
    if (ns_reader_failed(&rd) || type != 0x0800 || proto != 6 || (vihl >> 4) != 4 ||
        (vihl & 15) < 5)
        return 0;
    memset(off, 0, sizeof(*off));
    off->flags = NETSTACK_OFFLOAD_F_NEEDS_CSUM;
    off->gso_type = NETSTACK_GSO_TCPV4;
    off->gso_size = (uint16_t)(r->o->mtu - 40);
    off->csum_start = (uint16_t)(ETH_HLEN + (vihl & 15) * 4);
    off->csum_offset = 16;
    return 1;
}

/**
 * from_guest() - is the frame the guest's (its source MAC is not the stack's)?
 */
static int from_guest(const struct replay *r, const uint8_t *data, size_t len)
{
    return len < 12 || memcmp(data + 6, r->o->gateway_mac, 6) != 0;
}

/**
 * feed() - one guest frame into the stack, at its time
 */
static void feed(struct replay *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
    struct netstack_frame f = { .data = data, .len = h->caplen };

    advance(r, ts_of(h));
    write_frame(r, r->now_ns, data, h->caplen);
    if (offload_of(r, data, h->caplen, &f.offload))
        r->res->super_frames++;
    netstack_input_batch(r->ns, &f, 1);
    r->res->guest_frames++;
    settle(r);
}

/**
 * new_stack() - a stack for the replay, its clock at @start_ns
 * Return: 0, a negative errno (the log said why)
 */
static int new_stack(struct replay *r, uint64_t start_ns, int tso)
{
    struct netstack_config cfg;
    int rc;

    r->now_ns = start_ns;
    netstack_config_init(&cfg);
    cfg.send_frames = replay_send;
    cfg.log = replay_log;
    cfg.log_level = NETSTACK_LOG_ERROR;     /* the limits fitted, no nameserver: expected */
    cfg.opaque = r;
    cfg.clock_ns = replay_clock;
    cfg.resolv_conf = "/dev/null";
    cfg.restricted = r->o->restricted;
    cfg.mtu = r->o->mtu;
    if (r->o->prefix_len) {
        cfg.subnet = r->o->subnet;
        cfg.prefix_len = r->o->prefix_len;
        cfg.gateway.s_addr = htonl(ntohl(cfg.subnet.s_addr) + 1);
        cfg.dhcp_first.s_addr = htonl(ntohl(cfg.subnet.s_addr) + 2);
        cfg.host_loopback.s_addr =
            htonl((ntohl(cfg.subnet.s_addr) | (0xffffffffu >> r->o->prefix_len)) - 1);
    }
    memcpy(cfg.gateway_mac, r->o->gateway_mac, 6);
    rc = netstack_new(&cfg, &r->ns);
    if (rc < 0)
        return rc;
    return netstack_set_offloads(r->ns, NETSTACK_LINK_INTEGRITY |
                                            (tso ? NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4 : 0));
}

int ns_replay_run(pcap_t *in, pcap_dumper_t *out, const struct ns_replay_opts *o,
                  struct ns_replay_result *res, char *err, size_t errlen)
{
    struct replay r = { .o = o, .out = out, .res = res };
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t last = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    if (pcap_datalink(in) != DLT_EN10MB) {
        snprintf(err, errlen, "link type %s, not Ethernet",
                 pcap_datalink_val_to_name(pcap_datalink(in)) ?: "unknown");
        return 2;
    }
    while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
        if (!r.ns && (rc = new_stack(&r, ts_of(h), o->tso)) < 0) {
            snprintf(err, errlen, "the stack did not start: %s", strerror(-rc));
            netstack_free(r.ns);
            return 1;
        }
        if (ts_of(h) > last)
            last = ts_of(h);
        if (from_guest(&r, data, h->caplen))
            feed(&r, h, data);
        else
            res->stack_frames++;
    }
    if (rc == -1)
        snprintf(err, errlen, "%s", pcap_geterr(in));
    if (r.ns) {
        advance(&r, last);
        netstack_free(r.ns);
    }
    return rc == -1 ? 2 : 0;
}

/* ------------------------------------------------------------------------ */
/* The command                                                              */
/* ------------------------------------------------------------------------ */

/**
 * allow_ping() - ping sockets for every group, as the NAT's ICMP uses them; a
 * new namespace starts with none allowed. Best effort: without it a replayed
 * ping to the alias is dropped, the same way each time.
 */
static void allow_ping(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "w");

    if (f) {
        fputs("0 2147483647\n", f);
        fclose(f);
    }
}

/**
 * isolate() - a network namespace of our own with loopback up
 * Return: 0, or -1 when none could be made (the caller restricts the stack)
 */
static int isolate(const char **how)
{
    struct ifreq ifr;
    int fd, rc = -1;

    if (unshare(CLONE_NEWNET) == 0)
        *how = "a private network namespace";
    else if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
        *how = "private user and network namespaces";
    else
        return -1;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    if (fd >= 0)
        close(fd);
    allow_ping();
    return rc;
}

/**
 * scan_tso() - does any guest frame exceed the link (the link had TSO)?
 * Return: 1 yes, 0 no, -1 with @err set when the file cannot be read
 */
static int scan_tso(const char *path, const struct ns_replay_opts *o, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc, tso = 0;
    pcap_t *p = pcap_open_offline(path, perr);

    if (!p) {
        snprintf(err, errlen, "%s", perr);
        return -1;
    }
    if (pcap_datalink(p) != DLT_EN10MB) {
        snprintf(err, errlen, "link type %s, not Ethernet",
                 pcap_datalink_val_to_name(pcap_datalink(p)) ?: "unknown");
        pcap_close(p);
        return -1;
    }
    while ((rc = pcap_next_ex(p, &h, &data)) == 1)
        if (h->caplen > (bpf_u_int32)ETH_HLEN + o->mtu && memcmp(data + 6, o->gateway_mac, 6))
            tso = 1;
    if (rc == -1)
        snprintf(err, errlen, "%s", pcap_geterr(p));
    pcap_close(p);
    return rc == -1 ? -1 : tso;
}

/**
 * parse_mac() - "5a:94:ef:e4:0c:dd"; 0, -1
 */
static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    int i;
    char tail;

    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        return -1;
    for (i = 0; i < 6; i++) {
        if (v[i] > 255)
            return -1;
        mac[i] = (uint8_t)v[i];
    }
    return 0;
}

/**
 * parse_subnet() - "10.0.2.0/24"
 */
static int parse_subnet(const char *s, struct ns_replay_opts *o)
{
    char buf[32], *slash;
    unsigned long p;

    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    slash = strchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    p = strtoul(slash + 1, &slash, 10);
    if (*slash || p < 8 || p > 30 || inet_pton(AF_INET, buf, &o->subnet) != 1)
        return -1;
    o->prefix_len = (uint8_t)p;
    return 0;
}

#define REPLAY_USAGE \
    "usage: netstack-pcap replay IN.pcap [-w OUT.pcap] [--gateway-mac MAC] [--subnet CIDR]\n" \
    "                            [--mtu N] [--restricted]\n" \
    "  -w OUT.pcap        the guest's frames and the stack's answers (\"-\": stdout);\n" \
    "                     without it, only the counts are printed\n" \
    "  --gateway-mac MAC  the capturing stack's MAC (default 5a:94:ef:e4:0c:dd)\n" \
    "  --subnet CIDR      its guest subnet, /8 to /30 (default 192.168.65.0/24)\n" \
    "  --mtu N            its link MTU, 576 to 65520 (default 65520)\n" \
    "  --restricted       no namespace: the stack's NAT opens no host socket\n"

/**
 * parse_args() - the command line
 * Return: 0; 1 when --help was asked (and printed); -1 for a bad one (said)
 */
static int parse_args(int argc, char **argv, const char **in, const char **outp,
                      struct ns_replay_opts *o)
{
    static const uint8_t mac[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };
    int i;

    memset(o, 0, sizeof(*o));
    memcpy(o->gateway_mac, mac, 6);
    o->mtu = 65520;
    *in = *outp = NULL;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("%s", REPLAY_USAGE);
            return 1;
        } else if (!strcmp(a, "-w") && v) {
            *outp = argv[++i];
        } else if (!strcmp(a, "--gateway-mac") && v && !parse_mac(v, o->gateway_mac)) {
            i++;
        } else if (!strcmp(a, "--subnet") && v && !parse_subnet(v, o)) {
            i++;
        } else if (!strcmp(a, "--mtu") && v && (o->mtu = (uint16_t)strtoul(v, &end, 10)) >= 576 &&
                   o->mtu <= 65520 && !*end) {
            i++;
        } else if (!strcmp(a, "--restricted")) {
            o->restricted = 1;
        } else if (a[0] != '-' && !*in) {
            *in = a;
        } else {
            fprintf(stderr, "netstack-pcap: replay: bad argument '%s'%s\n", a,
                    v ? "" : " (or its value is missing)");
            return -1;
        }
    }
    if (!*in) {
        fprintf(stderr, "%s", REPLAY_USAGE);
        return -1;
    }
    return 0;
}

/**
 * open_output() - OUT.pcap, or stdout for "-"; NULL with a message
 */
static pcap_dumper_t *open_output(pcap_t *in, const char *path)
{
    pcap_dumper_t *d = pcap_dump_open(in, path);

    if (!d)
        fprintf(stderr, "netstack-pcap: %s: %s\n", path, pcap_geterr(in));
    return d;
}

int ns_pcap_replay_main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE + 256], perr[PCAP_ERRBUF_SIZE];
    const char *inpath, *outpath, *how = "a restricted stack (no namespace could be made)";
    struct ns_replay_result res;
    struct ns_replay_opts o;
    pcap_dumper_t *out = NULL;
    pcap_t *in;
    int rc;

    rc = parse_args(argc, argv, &inpath, &outpath, &o);
    if (rc)
        return rc < 0 ? 2 : 0;
    rc = scan_tso(inpath, &o, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "netstack-pcap: %s: %s\n", inpath, err);
        return 2;
    }
    o.tso = rc;
    in = pcap_open_offline(inpath, perr);
    if (!in) {
        fprintf(stderr, "netstack-pcap: %s: %s\n", inpath, perr);
        return 2;
    }
    if (outpath && !(out = open_output(in, outpath))) {
        pcap_close(in);
        return 2;
    }
    if (!o.restricted && isolate(&how) < 0) {
        o.restricted = 1;
        how = "a restricted stack (no namespace could be made)";
    } else if (o.restricted) {
        how = "a restricted stack (--restricted)";
    }
    fprintf(stderr, "netstack-pcap: replaying %s in %s%s\n", inpath, how,
            o.tso ? ", with TSO (the capture has super-frames)" : "");
    rc = ns_replay_run(in, out, &o, &res, err, sizeof(err));
    if (out)
        pcap_dump_close(out);
    pcap_close(in);
    if (rc) {
        fprintf(stderr, "netstack-pcap: %s: %s\n", inpath, err);
        return rc;
    }
    fprintf(stderr, "netstack-pcap: %llu guest frames fed (%llu super-frames), %llu answers; "
                    "%llu frames of the original stack not fed\n",
            (unsigned long long)res.guest_frames, (unsigned long long)res.super_frames,
            (unsigned long long)res.answers, (unsigned long long)res.stack_frames);
    return 0;
}
