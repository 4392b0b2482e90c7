/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - netstackd, the standalone daemon: libnetstack plus one guest transport
 *
 * Theory of Operation
 *
 * netstackd parses its command line, opens the one transport asked for
 * (tools/netstackd/transport_*.c), creates the stack with the transport's send
 * function as config.send_frames, registers the transport's fds in the
 * stack's loop, confines itself (tools/netstackd/sandbox.c: another user, a seccomp
 * allow-list) and runs that loop until a signal or the transport ends it.
 * Everything happens in this one thread (the host resolver's workers aside).
 *
 * The command line is an interface other programs script against (see
 * DESIGN.md, "netstackd contract"): option names are stable. Bad usage is one
 * line on stderr naming the option and the problem, and exit code 2. Runtime
 * failures are "netstackd: <function>: <cause>" and exit code 1. A clean stop
 * (SIGTERM, SIGINT, or the --fd peer closing) exits 0 after the stack is freed
 * and the socket files are removed.
 *
 * This is the only code in the project allowed to exit the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tools/netstackd/transport.h"
#include "netstack.h"
#include "tools/netstackd/api.h"
#include "tools/netstackd/sandbox.h"

#define DEFAULT_SUBNET  "192.168.65.0/24"
#define MTU_MIN         576u
#define MTU_MAX         65520u
#define PREFIX_MIN      8u      /* the library's range */
#define PREFIX_MAX      30u
#define IFNAME_MAX      15      /* IFNAMSIZ - 1 */
#define N_LIMIT_OPTIONS 13      /* entries of limits[] below */
#define MAX_DNS_NAMES   256     /* --dns-name entries */
#define MAX_FORWARDS    256     /* --forward entries */

/**
 * struct options - the parsed command line
 * @topts:      the transport and its parameters
 * @have_tport: how many transport options were given (exactly one is valid)
 * @tport_flag: the first transport option, for messages
 * @mtu:        link MTU, 0 for the stack's default
 * @subnet:     network address, host order
 * @prefix:     prefix length
 * @subnet_arg: --subnet as given, for messages
 * @no_host_loopback: no alias for the host's 127.0.0.1
 * @ipv6_prefix: --ipv6-prefix, parsed; @ipv6_prefix_set: it was given
 * @no_ipv6:    --no-ipv6
 * @level:      log level
 * @limit:      NAT limits given on the command line, in the config's unit
 * @limit_set:  which of @limit were given
 * @forwards:   --forward specifications, checked, added once the stack runs
 * @resolv_conf, @hosts, @dns_mode, @dns_aaaa, @dns_names, @dns_timeout: the
 *              DNS server's --resolv-conf, --hosts, --dns-mode, --dns-aaaa,
 *              --dns-name (NULL-terminated) and --dns-timeout (seconds, 0: default)
 * @api_socket: --api-socket, the control socket's path, or NULL
 * @no_sandbox: --no-sandbox
 * @runas:      --runas, parsed; @runas_set: it was given
 * @pcap:       --pcap FILE (path NULL: none) and its --pcap-* settings
 * @pcap_tuned: one of those settings was given
 */
struct options {
    struct ns_transport_opts topts;
    int have_tport;
    const char *tport_flag;
    unsigned mtu;
    uint32_t subnet;
    unsigned prefix;
    const char *subnet_arg;
    int no_host_loopback;
    struct in6_addr ipv6_prefix;
    int ipv6_prefix_set;
    int no_ipv6;
    int level;
    uint32_t limit[N_LIMIT_OPTIONS];
    int limit_set[N_LIMIT_OPTIONS];
    const char *resolv_conf;
    const char *hosts;
    int dns_mode;
    int dns_aaaa;
    const char *dns_names[MAX_DNS_NAMES + 1];
    unsigned n_dns_names;
    unsigned dns_timeout;
    const char *api_socket;
    const char *forwards[MAX_FORWARDS];
    unsigned n_forwards;
    int no_sandbox;
    struct sandbox_user runas;
    int runas_set;
    struct netstack_pcap_config pcap;
    int pcap_tuned;
};

/* The stack, for the signal handler; set once it exists. */
static struct netstack *volatile daemon_ns;
static volatile sig_atomic_t daemon_stop_requested;
static enum netstack_log_level daemon_level = NETSTACK_LOG_INFO;

static const char *const level_names[] = {
    [NETSTACK_LOG_ERROR] = "error", [NETSTACK_LOG_WARN] = "warn",
    [NETSTACK_LOG_INFO] = "info", [NETSTACK_LOG_DEBUG] = "debug",
};

/**
 * die() - print "netstackd: <message>" and exit 1
 * @fmt:    "function: cause", printf style
 */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "netstackd: %s\n", msg);
    exit(1);
}

/**
 * usage_error() - one line naming the bad option and the problem, exit 2
 * @fmt:    printf style, no trailing newline
 */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "netstackd: %s (try --help)\n", msg);
    exit(2);
}

/**
 * log_line() - the stack's and the transports' log callback: one line to stderr
 * @opaque: unused
 * @level:  the line's level; above the configured one it is dropped
 * @msg:    the message, no newline
 *
 * Formatted first and written with one call, so lines never interleave.
 */
static void log_line(void *opaque, enum netstack_log_level level, const char *msg)
{
    char line[1024];

    (void)opaque;
    if (level > daemon_level)
        return;
    if (level < NETSTACK_LOG_ERROR || level > NETSTACK_LOG_DEBUG)
        level = NETSTACK_LOG_DEBUG;
    snprintf(line, sizeof(line), "netstackd: %s: %s\n", level_names[level], msg);
    fputs(line, stderr);
}

/**
 * dlog() - the daemon's own messages, through log_line()
 * @level:  level
 * @fmt:    printf style
 */
static void __attribute__((format(printf, 2, 3))) dlog(enum netstack_log_level level,
                                                        const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    if (level > daemon_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_line(NULL, level, msg);
}

/**
 * usage() - --help: every option, and the framing of each transport
 */
static void usage(void)
{
    printf(
"Usage: netstackd TRANSPORT [OPTIONS]\n"
"\n"
"A userspace network for one VM or container: the gateway answers ARP, DHCP,\n"
"DNS and ping; the guest's TCP (through lwIP), UDP and ping to any address\n"
"become ordinary sockets of this process; host ports can be forwarded into\n"
"the guest. Served to the guest over exactly one of these transports:\n"
"\n"
"  --listen-qemu PATH   listen on a unix stream socket at PATH (QEMU\n"
"                       -netdev stream,addr.type=unix). Each frame is a 4-byte\n"
"                       big-endian length, then the Ethernet frame (no FCS).\n"
"                       One guest at a time: a new connection replaces the\n"
"                       current one; after a disconnect the daemon keeps\n"
"                       listening, so a rebooted VM reconnects.\n"
"  --fd N               an already connected stream socket inherited as fd N,\n"
"                       with the same framing as --listen-qemu. netstackd exits\n"
"                       (status 0) when the peer closes it.\n"
"  --listen-dgram PATH  bind a unix datagram socket at PATH (QEMU -netdev dgram,\n"
"                       vfkit). One Ethernet frame per datagram. The guest must\n"
"                       send from a bound socket: replies go to the source\n"
"                       address of the last datagram received.\n"
"  --listen-vmnet PATH  listen on a unix stream socket at PATH for hyperkit's\n"
"                       virtio-vpnkit device (-s N:0,virtio-vpnkit,path=PATH):\n"
"                       the VMN3T handshake (version 22), then each frame is a\n"
"                       2-byte little-endian length and the Ethernet frame.\n"
"                       The guest's MAC is derived from its UUID. One guest at\n"
"                       a time, reconnects served as with --listen-qemu.\n"
"  --listen-vhost-user PATH\n"
"                       listen on a unix stream socket at PATH as a vhost-user\n"
"                       back-end for QEMU's -netdev vhost-user (the guest's RAM\n"
"                       must be shared: memory-backend-memfd,share=on). Frames\n"
"                       move through the virtio rings in the guest's memory,\n"
"                       with checksum and TCP segmentation offload both ways.\n"
"                       One QEMU at a time; after it quits the next is served.\n"
"  --tap NAME           a tap device (IFF_TAP, no packet information header):\n"
"                       one frame per read/write. Created if it does not exist;\n"
"                       the guest side brings it up. Needs CAP_NET_ADMIN.\n"
"  --netns PATH         with --tap: open the device inside the network namespace\n"
"                       at PATH (/run/netns/NAME, /proc/PID/ns/net); netstackd\n"
"                       itself stays in its own namespace.\n"
"  --no-offload         with --tap: plain frames, no virtio-net header. By\n"
"                       default the tap takes checksum and TCP segmentation\n"
"                       offload (IFF_VNET_HDR, TUNSETOFFLOAD), so TCP moves in\n"
"                       64 KiB super-frames whatever the MTU. For a vhost-user\n"
"                       guest: offer it no checksum or segmentation offload\n"
"\n"
"Options:\n"
"  --mtu N              link MTU, %u to %u (default 65520; sent by DHCP)\n"
"  --subnet CIDR        guest subnet, prefix /%u to /%u (default %s).\n"
"                       The gateway (router, DHCP and DNS server) is the first\n"
"                       address, DHCP leases start at the second, and the\n"
"                       host-loopback alias is the last usable one (.254 for a /24)\n"
"  --no-host-loopback   no alias for the host's 127.0.0.1 (nor for ::1)\n"
"  --ipv6-prefix P/64   the guest's IPv6 prefix, offered by router\n"
"                       advertisements for SLAAC (default fd65:65::/64); the\n"
"                       gateway is its ::1, the host-loopback alias its ::fe\n"
"  --no-ipv6            no IPv6 on the guest's link\n"
"\n"
"NAT limits (at a limit new TCP connections get a RST and the least recently\n"
"used UDP or ICMP flow is closed; existing flows keep working):\n"
"  --max-tcp-connections N   concurrent guest TCP connections (default 16384)\n"
"  --max-pending-connects N  host connect()s in progress (default 1024)\n"
"  --tcp-idle-timeout S      close established connections idle S seconds\n"
"                            (default 0: never)\n"
"  --max-udp-flows N         UDP flows, one host socket each (default 4096)\n"
"  --udp-timeout S           close a UDP flow idle S seconds (default 60)\n"
"  --max-icmp-flows N        ping flows (default 256)\n"
"  --icmp-timeout S          close a ping flow idle S seconds (default 30)\n"
"\n"
"Resource limits (README, \"Resource limits\": what each bound answers):\n"
"  --max-tcp-half-open N     handshakes the guest has not completed; beyond,\n"
"                            the oldest is reset (default 1024)\n"
"  --max-tcp-closing N       closed connections still exchanging FINs; beyond,\n"
"                            the oldest is reset (default 4096)\n"
"  --max-tcp-queued-mb N     TCP data held each way, in memory: beyond, guest\n"
"                            segments are dropped and host sockets wait\n"
"                            (default 128)\n"
"  --max-tx-queue-mb N       frames held for a slow guest (default 32)\n"
"  --max-dns-tcp N           guest TCP connections to the gateway's DNS; beyond,\n"
"                            the longest idle is closed (default 128)\n"
"  --dns-tcp-timeout S       close those idle S seconds (default 10)\n"
"  The flow limits are lowered to fit RLIMIT_NOFILE (raised to its hard limit\n"
"  first), and the log says so.\n"
"\n"
"DNS (the gateway answers on UDP and TCP port 53):\n"
"  --resolv-conf PATH   the host's nameservers (default /etc/resolv.conf),\n"
"                       re-read whenever the file changes\n"
"  --dns-mode MODE      forward (default): relay queries to those nameservers;\n"
"                       host: answer A and AAAA with the host's own resolver\n"
"                       (getaddrinfo: /etc/hosts, NSS, VPN split DNS), forward\n"
"                       every other type\n"
"  --dns-aaaa MODE      auto (default): no AAAA records for outside names while\n"
"                       the host has no IPv6 route; on: always; off: never\n"
"  --dns-name NAME=IP   answer NAME locally (repeatable); host.internal and\n"
"                       gateway.internal always are\n"
"  --hosts PATH         answer the names of a hosts(5) file locally\n"
"  --dns-timeout S      SERVFAIL after S seconds without an answer (default 4)\n"
"\n"
"Port forwarding (host ports into the guest; repeatable):\n"
"  --forward PROTO:[HOSTADDR:]HOSTPORT[-END]:[GUESTADDR:]GUESTPORT[,nopreserve]\n"
"                       e.g. tcp:0.0.0.0:8080:80, udp:127.0.0.1:5353:53,\n"
"                       tcp:[::]:8000-8009:8000; an IPv6 GUESTADDR reaches\n"
"                       the guest over IPv6 ([::]: the address it uses),\n"
"                       e.g. tcp:[::]:8080:[::]:80. The guest sees the\n"
"                       client's address (a loopback client as the\n"
"                       host-loopback alias) unless ,nopreserve is given; a\n"
"                       guest that refuses the port makes the client see a reset\n"
"\n"
"Control:\n"
"  --api-socket PATH    a unix socket (mode 0600) taking JSON commands, one\n"
"                       object per line, one reply line each: slirp4netns's\n"
"                       add_hostfwd, list_hostfwd, remove_hostfwd, and\n"
"                       get_stats, get_config, list_flows, pcap_start,\n"
"                       pcap_stop, pcap_status, pcap_stream\n"
"\n"
"Capture (every frame on the guest link, both directions, in pcap format;\n"
"also started and stopped at runtime through --api-socket):\n"
"  --pcap FILE          capture to FILE; when it is full it becomes FILE.1,\n"
"                       FILE.1 becomes FILE.2 and so on\n"
"  --pcap-size MB       megabytes per file (default 64)\n"
"  --pcap-files N       files kept, FILE included (default 4): at most N x MB\n"
"  --pcap-snaplen N     bytes kept of each frame (default 262144: all)\n"
"                       A disk that cannot keep up loses frames from the\n"
"                       capture, never from the link (counted: pcap_dropped)\n"
"\n"
"Sandbox (on by default, once the transport and the sockets are open: a\n"
"seccomp allow-list of system calls and no_new_privs):\n"
"  --runas USER         started as root, run as USER once everything is open:\n"
"                       a name or a UID, with :GROUP or :GID if not its own\n"
"                       (default nobody), keeping only CAP_NET_BIND_SERVICE\n"
"                       with --api-socket (add_hostfwd below port 1024).\n"
"                       Without --runas, root is kept, and the log says why,\n"
"                       with --listen-dgram (replies go to the guest's own\n"
"                       socket, which USER must be able to write) and when\n"
"                       nobody cannot read --resolv-conf. --runas root keeps\n"
"                       root\n"
"  --no-sandbox         none of it, for debugging (valgrind, for one).\n"
"                       Otherwise a system call outside the allow-list ends\n"
"                       netstackd (exit status 1) with a line naming it\n"
"\n"
"  --log-level LEVEL    error, warn, info (default) or debug\n"
"  -v, --verbose        one level more verbose; repeatable\n"
"  -h, --help           this help\n"
"  --version            print the version\n"
"\n"
"Logs go to stderr as \"netstackd: LEVEL: message\". SIGTERM or SIGINT stops the\n"
"daemon cleanly (exit 0) and removes its socket files. Exit status: 0 clean\n"
"stop, 1 runtime error, 2 bad command line.\n",
        MTU_MIN, MTU_MAX, PREFIX_MIN, PREFIX_MAX, DEFAULT_SUBNET);
}

/**
 * parse_uint() - a whole decimal string, nothing else
 * @s:      the string
 * @max:    largest accepted value
 * @out:    the value
 * Return: 0, -1 if @s is not a number up to @max
 */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

/**
 * parse_subnet() - --subnet A.B.C.D/N
 * @o:      options to fill
 * @arg:    the value
 */
static void parse_subnet(struct options *o, const char *arg)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(arg, '/');
    struct in_addr a;
    unsigned long prefix;
    uint32_t mask, host;

    if (!slash || (size_t)(slash - arg) >= sizeof(addr))
        usage_error("--subnet %s: expected ADDRESS/PREFIX, e.g. %s", arg, DEFAULT_SUBNET);
    memcpy(addr, arg, (size_t)(slash - arg));
    addr[slash - arg] = '\0';
    if (inet_pton(AF_INET, addr, &a) != 1)
        usage_error("--subnet %s: '%s' is not an IPv4 address", arg, addr);
    if (parse_uint(slash + 1, UINT_MAX, &prefix) < 0 || prefix < PREFIX_MIN ||
        prefix > PREFIX_MAX)
        usage_error("--subnet %s: prefix length must be a number from %d to %d", arg,
                    PREFIX_MIN, PREFIX_MAX);
    host = ntohl(a.s_addr);
    mask = ~0u << (32 - prefix);
    if (host & ~mask) {
        a.s_addr = htonl(host & mask);
        inet_ntop(AF_INET, &a, addr, sizeof(addr));
        usage_error("--subnet %s: host bits are set; did you mean %s/%lu?", arg, addr, prefix);
    }
    o->subnet = host;
    o->prefix = (unsigned)prefix;
    o->subnet_arg = arg;
}

/**
 * parse_ipv6_prefix() - --ipv6-prefix ADDRESS[/64]
 * @o:      options
 * @arg:    the value
 */
static void parse_ipv6_prefix(struct options *o, const char *arg)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = strchr(arg, '/');
    size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
    static const uint8_t zero[8];

    if (n >= sizeof(addr))
        usage_error("--ipv6-prefix %s: expected an IPv6 /64, e.g. fd65:65::/64", arg);
    memcpy(addr, arg, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET6, addr, &o->ipv6_prefix) != 1)
        usage_error("--ipv6-prefix %s: '%s' is not an IPv6 address", arg, addr);
    if (slash && strcmp(slash, "/64"))
        usage_error("--ipv6-prefix %s: the prefix must be a /64 (SLAAC needs one)", arg);
    if (memcmp(o->ipv6_prefix.s6_addr + 8, zero, 8))
        usage_error("--ipv6-prefix %s: host bits (the last 64) are set", arg);
    if (o->ipv6_prefix.s6_addr[0] == 0xff || IN6_IS_ADDR_LINKLOCAL(&o->ipv6_prefix) ||
        !memcmp(o->ipv6_prefix.s6_addr, zero, 8))
        usage_error("--ipv6-prefix %s: not a unicast prefix (global or unique local)", arg);
    o->ipv6_prefix_set = 1;
}

/**
 * parse_level() - --log-level NAME
 * @arg:    the value
 * Return: the level
 */
static int parse_level(const char *arg)
{
    int i;

    for (i = NETSTACK_LOG_ERROR; i <= NETSTACK_LOG_DEBUG; i++)
        if (!strcmp(arg, level_names[i]))
            return i;
    usage_error("--log-level %s: expected error, warn, info or debug", arg);
}

/**
 * set_transport() - record a transport option; a second one is an error
 * @o:      options
 * @kind:   which transport
 * @flag:   the option's name, for messages
 * @arg:    its value
 */
static void set_transport(struct options *o, enum ns_transport_kind kind, const char *flag,
                          const char *arg)
{
    unsigned long fd;

    if (o->have_tport++)
        usage_error("%s: only one transport can be given (already have %s)", flag,
                    o->tport_flag);
    o->tport_flag = flag;
    o->topts.kind = kind;
    if (!*arg)
        usage_error("%s: the value is empty", flag);
    if (kind == NS_TRANSPORT_FD) {
        if (parse_uint(arg, INT_MAX, &fd) < 0)
            usage_error("--fd %s: expected a file descriptor number", arg);
        o->topts.fd = (int)fd;
        return;
    }
    if (kind == NS_TRANSPORT_TAP && strlen(arg) > IFNAME_MAX)
        usage_error("--tap %s: interface names are at most %d characters", arg, IFNAME_MAX);
    o->topts.path = arg;
}

enum {
    OPT_LISTEN_QEMU = 256, OPT_LISTEN_DGRAM, OPT_TAP, OPT_NETNS, OPT_FD, OPT_MTU, OPT_SUBNET,
    OPT_NO_HOST_LOOPBACK, OPT_NO_OFFLOAD, OPT_LOG_LEVEL, OPT_VERSION, OPT_RESOLV_CONF, OPT_DNS_MODE,
    OPT_DNS_NAME, OPT_HOSTS, OPT_DNS_TIMEOUT, OPT_FORWARD, OPT_API_SOCKET, OPT_LISTEN_VMNET,
    OPT_NO_SANDBOX, OPT_RUNAS, OPT_PCAP, OPT_PCAP_SIZE, OPT_PCAP_FILES, OPT_PCAP_SNAPLEN,
    OPT_IPV6_PREFIX, OPT_NO_IPV6, OPT_DNS_AAAA, OPT_LISTEN_VHOST_USER,
    OPT_LIMIT,      /* last: the NAT limit options are OPT_LIMIT + their index */
};

/**
 * struct limit - a NAT limit option: a number copied into the stack's config
 * @name:   the option, without "--"
 * @min:    smallest value accepted
 * @max:    largest value accepted
 * @scale:  multiplier into the config's unit (1000: seconds to ms)
 * @field:  offset of the uint32_t in struct netstack_config
 */
struct limit {
    const char *name;
    uint32_t min, max, scale;
    size_t field;
};

#define LIMIT(opt, lo, hi, mul, f) { opt, lo, hi, mul, offsetof(struct netstack_config, f) }
static const struct limit limits[] = {
    LIMIT("max-tcp-connections", 1, 1000000, 1, max_tcp_connections),
    LIMIT("max-pending-connects", 1, 100000, 1, max_pending_connects),
    LIMIT("tcp-idle-timeout", 0, 604800, 1000, tcp_idle_timeout_ms),
    LIMIT("max-udp-flows", 1, 1000000, 1, max_udp_flows),
    LIMIT("udp-timeout", 1, 86400, 1000, udp_idle_timeout_ms),
    LIMIT("max-icmp-flows", 1, 65536, 1, max_icmp_flows),
    LIMIT("icmp-timeout", 1, 86400, 1000, icmp_idle_timeout_ms),
    LIMIT("max-tcp-half-open", 1, 1000000, 1, max_tcp_half_open),
    LIMIT("max-tcp-closing", 1, 1000000, 1, max_tcp_closing),
    LIMIT("max-tcp-queued-mb", 1, 4095, 1u << 20, max_tcp_queued_bytes),
    LIMIT("max-tx-queue-mb", 1, 1024, 1u << 20, max_tx_queue_bytes),
    LIMIT("max-dns-tcp", 1, 65536, 1, max_dns_tcp_connections),
    LIMIT("dns-tcp-timeout", 1, 3600, 1000, dns_tcp_idle_timeout_ms),
};
#define NLIMITS (sizeof(limits) / sizeof(limits[0]))
_Static_assert(NLIMITS == N_LIMIT_OPTIONS, "limits[] and N_LIMIT_OPTIONS disagree");

static const struct option long_options[] = {
    { "listen-qemu", required_argument, NULL, OPT_LISTEN_QEMU },
    { "listen-dgram", required_argument, NULL, OPT_LISTEN_DGRAM },
    { "listen-vmnet", required_argument, NULL, OPT_LISTEN_VMNET },
    { "listen-vhost-user", required_argument, NULL, OPT_LISTEN_VHOST_USER },
    { "tap", required_argument, NULL, OPT_TAP },
    { "netns", required_argument, NULL, OPT_NETNS },
    { "fd", required_argument, NULL, OPT_FD },
    { "mtu", required_argument, NULL, OPT_MTU },
    { "subnet", required_argument, NULL, OPT_SUBNET },
    { "no-host-loopback", no_argument, NULL, OPT_NO_HOST_LOOPBACK },
    { "ipv6-prefix", required_argument, NULL, OPT_IPV6_PREFIX },
    { "no-ipv6", no_argument, NULL, OPT_NO_IPV6 },
    { "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { "max-tcp-connections", required_argument, NULL, OPT_LIMIT + 0 },
    { "max-pending-connects", required_argument, NULL, OPT_LIMIT + 1 },
    { "tcp-idle-timeout", required_argument, NULL, OPT_LIMIT + 2 },
    { "max-udp-flows", required_argument, NULL, OPT_LIMIT + 3 },
    { "udp-timeout", required_argument, NULL, OPT_LIMIT + 4 },
    { "max-icmp-flows", required_argument, NULL, OPT_LIMIT + 5 },
    { "icmp-timeout", required_argument, NULL, OPT_LIMIT + 6 },
    { "max-tcp-half-open", required_argument, NULL, OPT_LIMIT + 7 },
    { "max-tcp-closing", required_argument, NULL, OPT_LIMIT + 8 },
    { "max-tcp-queued-mb", required_argument, NULL, OPT_LIMIT + 9 },
    { "max-tx-queue-mb", required_argument, NULL, OPT_LIMIT + 10 },
    { "max-dns-tcp", required_argument, NULL, OPT_LIMIT + 11 },
    { "dns-tcp-timeout", required_argument, NULL, OPT_LIMIT + 12 },
    { "resolv-conf", required_argument, NULL, OPT_RESOLV_CONF },
    { "dns-mode", required_argument, NULL, OPT_DNS_MODE },
    { "dns-aaaa", required_argument, NULL, OPT_DNS_AAAA },
    { "dns-name", required_argument, NULL, OPT_DNS_NAME },
    { "hosts", required_argument, NULL, OPT_HOSTS },
    { "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },
    { "forward", required_argument, NULL, OPT_FORWARD },
    { "api-socket", required_argument, NULL, OPT_API_SOCKET },
    { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
    { "runas", required_argument, NULL, OPT_RUNAS },
    { "pcap", required_argument, NULL, OPT_PCAP },
    { "pcap-size", required_argument, NULL, OPT_PCAP_SIZE },
    { "pcap-files", required_argument, NULL, OPT_PCAP_FILES },
    { "pcap-snaplen", required_argument, NULL, OPT_PCAP_SNAPLEN },
    { NULL, 0, NULL, 0 },
};

/**
 * bad_option() - getopt_long() rejected argv[optind - 1]
 * @argv:   the arguments
 * @c:      what getopt_long() returned, '?' or ':'
 *
 * getopt's own messages are off (opterr = 0) so the error stays one line.
 */
static void __attribute__((noreturn)) bad_option(char *const argv[], int c)
{
    const char *arg = argv[optind - 1];

    if (c == ':')
        usage_error("%s: missing value", arg);
    if (optopt && optopt < 256 && arg[0] == '-' && arg[1] != '-')
        usage_error("unknown option '-%c'", optopt);
    usage_error("unknown option '%s'", arg);
}

/**
 * parse_limit() - a NAT limit option's value
 * @o:      options
 * @l:      which limit
 * @arg:    the value
 */
static void parse_limit(struct options *o, const struct limit *l, const char *arg)
{
    unsigned long v;

    if (parse_uint(arg, UINT_MAX, &v) < 0 || v < l->min || v > l->max)
        usage_error("--%s %s: expected a number from %u to %u", l->name, arg, l->min, l->max);
    o->limit[l - limits] = (uint32_t)v * l->scale;
    o->limit_set[l - limits] = 1;
}

/**
 * parse_dns_option() - one of the DNS server's options
 * @o:      options
 * @c:      which
 * @arg:    its value
 */
static void parse_dns_option(struct options *o, int c, const char *arg)
{
    unsigned long v;

    if (!*arg)
        usage_error("DNS option: the value is empty");
    if (c == OPT_RESOLV_CONF) {
        o->resolv_conf = arg;
    } else if (c == OPT_HOSTS) {
        o->hosts = arg;
    } else if (c == OPT_DNS_MODE) {
        if (!strcmp(arg, "forward"))
            o->dns_mode = NETSTACK_DNS_FORWARD;
        else if (!strcmp(arg, "host"))
            o->dns_mode = NETSTACK_DNS_HOST;
        else
            usage_error("--dns-mode %s: expected forward or host", arg);
    } else if (c == OPT_DNS_AAAA) {
        if (!strcmp(arg, "auto"))
            o->dns_aaaa = NETSTACK_DNS_AAAA_AUTO;
        else if (!strcmp(arg, "on"))
            o->dns_aaaa = NETSTACK_DNS_AAAA_ON;
        else if (!strcmp(arg, "off"))
            o->dns_aaaa = NETSTACK_DNS_AAAA_OFF;
        else
            usage_error("--dns-aaaa %s: expected auto, on or off", arg);
    } else if (c == OPT_DNS_NAME) {
        if (!strchr(arg, '=') || arg[0] == '=')
            usage_error("--dns-name %s: expected NAME=ADDRESS", arg);
        if (o->n_dns_names == MAX_DNS_NAMES)
            usage_error("--dns-name: at most %d entries", MAX_DNS_NAMES);
        o->dns_names[o->n_dns_names++] = arg;
    } else if (c == OPT_DNS_TIMEOUT) {
        if (parse_uint(arg, 60, &v) < 0 || v < 1)
            usage_error("--dns-timeout %s: expected seconds from 1 to 60", arg);
        o->dns_timeout = (unsigned)v;
    }
}

/**
 * parse_forward() - check one --forward now; it is added once the stack runs
 * @o:      options
 * @arg:    the specification
 */
static void parse_forward(struct options *o, const char *arg)
{
    struct netstack_forward fw;
    char why[160];

    if (netstack_forward_parse(arg, &fw, why, sizeof(why)) < 0)
        usage_error("--forward %s: %s", arg, why);
    if (o->n_forwards == MAX_FORWARDS)
        usage_error("--forward: at most %d entries", MAX_FORWARDS);
    o->forwards[o->n_forwards++] = arg;
}

/**
 * add_forwards() - bind every --forward; a port that cannot be bound is fatal
 * @o:      options
 * @ns:     the stack
 * @err:    a message for die() on failure
 * Return: 0, or -1 with @err set
 */
static int add_forwards(const struct options *o, struct netstack *ns, char *err, size_t len)
{
    struct netstack_forward fw;
    uint32_t id;
    unsigned i;
    int rc;

    for (i = 0; i < o->n_forwards; i++) {
        netstack_forward_parse(o->forwards[i], &fw, err, len);
        rc = netstack_forward_add(ns, &fw, &id);
        if (rc < 0) {
            snprintf(err, len, "netstack_forward_add: --forward %s: %s", o->forwards[i],
                     rc == -EADDRINUSE ? "host port already in use" : strerror(-rc));
            return -1;
        }
    }
    return 0;
}

/**
 * parse_runas() - --runas USER|UID[:GROUP|:GID], looked up now
 * @o:      options
 * @arg:    the value
 */
static void parse_runas(struct options *o, const char *arg)
{
    char why[160];

    if (sandbox_parse_user(arg, &o->runas, why, sizeof(why)) < 0)
        usage_error("%s", why);
    o->runas_set = 1;
}

/**
 * parse_pcap_option() - --pcap FILE and its --pcap-size, --pcap-files, --pcap-snaplen
 * @o:      options
 * @c:      the option
 * @arg:    its value
 */
static void parse_pcap_option(struct options *o, int c, const char *arg)
{
    unsigned long v = 0;

    if (c == OPT_PCAP) {
        if (!*arg)
            usage_error("--pcap: the value is empty");
        o->pcap.path = arg;
        return;
    }
    if (c == OPT_PCAP_SIZE && (parse_uint(arg, 1ul << 20, &v) < 0 || !v))
        usage_error("--pcap-size %s: expected megabytes from 1 to 1048576", arg);
    if (c == OPT_PCAP_FILES && (parse_uint(arg, 1000, &v) < 0 || !v))
        usage_error("--pcap-files %s: expected a number from 1 to 1000", arg);
    if (c == OPT_PCAP_SNAPLEN && (parse_uint(arg, 262144, &v) < 0 || v < 64))
        usage_error("--pcap-snaplen %s: expected a number from 64 to 262144", arg);
    if (c == OPT_PCAP_SIZE)
        o->pcap.file_size = (uint64_t)v << 20;
    else if (c == OPT_PCAP_FILES)
        o->pcap.files = (uint32_t)v;
    else
        o->pcap.snaplen = (uint32_t)v;
    o->pcap_tuned = 1;
}

/**
 * parse_option() - apply one option getopt_long() returned
 * @o:      options
 * @c:      the option
 * @arg:    its value, if any
 * @verbose: count of -v, incremented here
 */
static void parse_option(struct options *o, int c, const char *arg, int *verbose)
{
    unsigned long v;

    switch (c) {
    case OPT_LISTEN_QEMU:
        set_transport(o, NS_TRANSPORT_QEMU, "--listen-qemu", arg);
        break;
    case OPT_LISTEN_DGRAM:
        set_transport(o, NS_TRANSPORT_DGRAM, "--listen-dgram", arg);
        break;
    case OPT_LISTEN_VMNET:
        set_transport(o, NS_TRANSPORT_VMNET, "--listen-vmnet", arg);
        break;
    case OPT_LISTEN_VHOST_USER:
        set_transport(o, NS_TRANSPORT_VHOST_USER, "--listen-vhost-user", arg);
        break;
    case OPT_TAP:
        set_transport(o, NS_TRANSPORT_TAP, "--tap", arg);
        break;
    case OPT_FD:
        set_transport(o, NS_TRANSPORT_FD, "--fd", arg);
        break;
    case OPT_NETNS:
        if (!*arg)
            usage_error("--netns: the value is empty");
        o->topts.netns = arg;
        break;
    case OPT_MTU:
        if (parse_uint(arg, UINT_MAX, &v) < 0 || v < MTU_MIN || v > MTU_MAX)
            usage_error("--mtu %s: expected a number from %d to %d", arg, MTU_MIN, MTU_MAX);
        o->mtu = (unsigned)v;
        break;
    case OPT_SUBNET:
        parse_subnet(o, arg);
        break;
    case OPT_RESOLV_CONF:
    case OPT_HOSTS:
    case OPT_DNS_MODE:
    case OPT_DNS_AAAA:
    case OPT_DNS_NAME:
    case OPT_DNS_TIMEOUT:
        parse_dns_option(o, c, arg);
        break;
    case OPT_API_SOCKET:
        if (!*arg)
            usage_error("--api-socket: the value is empty");
        o->api_socket = arg;
        break;
    case OPT_FORWARD:
        parse_forward(o, arg);
        break;
    case OPT_NO_SANDBOX:
        o->no_sandbox = 1;
        break;
    case OPT_RUNAS:
        parse_runas(o, arg);
        break;
    case OPT_PCAP:
    case OPT_PCAP_SIZE:
    case OPT_PCAP_FILES:
    case OPT_PCAP_SNAPLEN:
        parse_pcap_option(o, c, arg);
        break;
    case OPT_NO_OFFLOAD:
        o->topts.no_offload = 1;
        break;
    case OPT_NO_HOST_LOOPBACK:
        o->no_host_loopback = 1;
        break;
    case OPT_IPV6_PREFIX:
        parse_ipv6_prefix(o, arg);
        break;
    case OPT_NO_IPV6:
        o->no_ipv6 = 1;
        break;
    case OPT_LOG_LEVEL:
        o->level = parse_level(arg);
        break;
    case 'v':
        (*verbose)++;
        break;
    default:
        if (c >= OPT_LIMIT && c < OPT_LIMIT + (int)NLIMITS)
            parse_limit(o, &limits[c - OPT_LIMIT], arg);
        break;
    case 'h':
        usage();
        exit(0);
    case OPT_VERSION:
        printf("netstackd %s\n", netstack_version());
        exit(0);
    }
}

/**
 * check_options() - what no single option can check on its own
 * @o:      options
 */
static void check_options(const struct options *o)
{
    if (!o->have_tport)
        usage_error("no transport: give one of --listen-qemu PATH, --listen-dgram PATH, "
                    "--listen-vmnet PATH, --listen-vhost-user PATH, --tap NAME, --fd N");
    if (o->topts.netns && o->topts.kind != NS_TRANSPORT_TAP)
        usage_error("--netns %s: only valid with --tap", o->topts.netns);
    if (o->no_sandbox && o->runas_set)
        usage_error("--runas %s: no effect with --no-sandbox", o->runas.name);
    if (o->pcap_tuned && !o->pcap.path)
        usage_error("--pcap-size, --pcap-files and --pcap-snaplen need --pcap FILE");
    /* A /30 has two usable addresses: the gateway and one guest. */
    if (o->prefix == PREFIX_MAX && !o->no_host_loopback)
        usage_error("--subnet %s: no room for the gateway, a guest and the host-loopback "
                    "alias; use a /29 or larger, or --no-host-loopback", o->subnet_arg);
}

/**
 * parse_args() - the command line into @o
 * @o:      options, filled
 * @argc:   argument count
 * @argv:   arguments
 */
static void parse_args(struct options *o, int argc, char *argv[])
{
    int c, verbose = 0;

    memset(o, 0, sizeof(*o));
    o->level = NETSTACK_LOG_INFO;
    o->topts.fd = -1;
    parse_subnet(o, DEFAULT_SUBNET);
    o->subnet_arg = DEFAULT_SUBNET;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hv", long_options, NULL)) != -1) {
        if (c == '?' || c == ':')
            bad_option(argv, c);
        parse_option(o, c, optarg, &verbose);
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    check_options(o);
    o->level += verbose;
    if (o->level > NETSTACK_LOG_DEBUG)
        o->level = NETSTACK_LOG_DEBUG;
}

/**
 * addr() - a host-order IPv4 address as struct in_addr
 */
static struct in_addr addr(uint32_t host)
{
    struct in_addr a = { .s_addr = htonl(host) };

    return a;
}

/**
 * fill_config() - the stack's configuration from the options
 * @o:      options
 * @t:      the transport, send_frames' opaque
 * @cfg:    filled
 *
 * Gateway first address, DHCP from the second, host-loopback alias the last
 * usable one (the address below broadcast).
 */
static void fill_config(const struct options *o, struct ns_transport *t,
                        struct netstack_config *cfg)
{
    uint32_t mask = ~0u << (32 - o->prefix);
    size_t i;

    netstack_config_init(cfg);
    cfg->subnet = addr(o->subnet);
    cfg->prefix_len = (uint8_t)o->prefix;
    cfg->gateway = addr(o->subnet + 1);
    cfg->dhcp_first = addr(o->subnet + 2);
    cfg->host_loopback = addr((o->subnet | ~mask) - 1);
    cfg->no_host_loopback = o->no_host_loopback;
    if (o->ipv6_prefix_set)
        cfg->ipv6_prefix = o->ipv6_prefix;
    cfg->no_ipv6 = o->no_ipv6;
    if (o->resolv_conf)
        cfg->resolv_conf = o->resolv_conf;
    cfg->hosts_file = o->hosts;
    cfg->dns_mode = (enum netstack_dns_mode)o->dns_mode;
    cfg->dns_aaaa = (enum netstack_dns_aaaa)o->dns_aaaa;
    cfg->dns_names = o->n_dns_names ? o->dns_names : NULL;
    if (o->dns_timeout)
        cfg->dns_timeout_ms = o->dns_timeout * 1000;
    if (o->mtu)
        cfg->mtu = (uint16_t)o->mtu;
    for (i = 0; i < NLIMITS; i++)
        if (o->limit_set[i])
            memcpy((char *)cfg + limits[i].field, &o->limit[i], sizeof(uint32_t));
    cfg->send_frames = ns_transport_send;
    if (ns_transport_can_gather(t))
        cfg->send_gather = ns_transport_send_gather;
    cfg->opaque = t;
    cfg->log = log_line;
    cfg->log_level = daemon_level;
}

/**
 * log_startup() - the info line: transport, subnet, gateway, alias, MTU
 * @t:      the transport
 * @cfg:    the stack's configuration
 */
static void log_startup(const struct ns_transport *t, const struct netstack_config *cfg)
{
    char net[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], lo[INET_ADDRSTRLEN];
    char v6[INET6_ADDRSTRLEN + 16] = "IPv6 off";

    inet_ntop(AF_INET, &cfg->subnet, net, sizeof(net));
    inet_ntop(AF_INET, &cfg->gateway, gw, sizeof(gw));
    if (cfg->no_host_loopback)
        snprintf(lo, sizeof(lo), "off");
    else
        inet_ntop(AF_INET, &cfg->host_loopback, lo, sizeof(lo));
    if (!cfg->no_ipv6) {
        memcpy(v6, "IPv6 ", 5);
        inet_ntop(AF_INET6, &cfg->ipv6_prefix, v6 + 5, INET6_ADDRSTRLEN);
        strcat(v6, "/64");
    }
    dlog(NETSTACK_LOG_INFO, "serving %s: subnet %s/%u, gateway %s, host loopback %s, %s, MTU %u",
         ns_transport_describe(t), net, cfg->prefix_len, gw, lo, v6,
         cfg->mtu ? cfg->mtu : MTU_MAX);
}

/**
 * on_signal() - SIGTERM, SIGINT: stop the loop; async-signal-safe
 * @sig:    the signal
 */
static void on_signal(int sig)
{
    struct netstack *ns = daemon_ns;

    (void)sig;
    daemon_stop_requested = 1;
    if (ns)
        netstack_stop(ns);
}

/**
 * setup_signals() - clean stop on SIGTERM/SIGINT; a dead peer is EPIPE, not SIGPIPE
 */
static void setup_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        die("sigaction: %s", strerror(errno));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        die("sigaction: %s", strerror(errno));
}

/**
 * raise_nofile() - the soft descriptor limit up to the hard one
 *
 * Every guest flow holds a host socket, and the default soft limit (1024)
 * fits far fewer than the default flow limits; the stack fits its limits to
 * whatever is left (and logs it), so failing here is only a warning.
 */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        dlog(NETSTACK_LOG_WARN, "setrlimit(RLIMIT_NOFILE, %llu): %s",
             (unsigned long long)rl.rlim_max, strerror(errno));
}

/**
 * confine() - the sandbox (tools/netstackd/sandbox.c), now that everything that needs
 * privileges is open: what the daemon still does at runtime decides how
 * @o:      options
 * @cfg:    the stack's configuration, for the resolv.conf it follows
 * @err:    a message for die() on failure
 * @len:    its size
 * Return: 0 or -errno
 */
static int confine(const struct options *o, const struct netstack_config *cfg, char *err,
                   size_t len)
{
    struct sandbox_opts so;

    memset(&so, 0, sizeof(so));
    so.off = o->no_sandbox;
    so.runas = o->runas_set ? &o->runas : NULL;
    so.resolv_conf = cfg->resolv_conf;
    if (o->topts.kind != NS_TRANSPORT_TAP && o->topts.kind != NS_TRANSPORT_FD)
        so.files[so.n_files++] = o->topts.path;
    if (o->api_socket)
        so.files[so.n_files++] = o->api_socket;
    so.runtime_peers = o->topts.kind == NS_TRANSPORT_DGRAM;
    so.runtime_binds = o->api_socket != NULL;
    so.host_resolver = o->dns_mode == NETSTACK_DNS_HOST;
    so.log = log_line;
    so.level = daemon_level;
    return sandbox_enter(&so, err, len);
}

/**
 * start_capture() - --pcap FILE, once the daemon runs as who it will stay
 * @o:      options
 * @ns:     the stack
 * @err:    a message for die() on failure
 * @len:    its size
 * Return: 0 or -errno
 */
static int start_capture(const struct options *o, struct netstack *ns, char *err, size_t len)
{
    int rc;

    if (!o->pcap.path)
        return 0;
    rc = netstack_pcap_start(ns, &o->pcap);
    if (rc < 0)
        snprintf(err, len, "--pcap %s: %s%s", o->pcap.path, strerror(-rc),
                 rc == -EACCES && geteuid() ? " (the daemon's user must be able to create it)" : "");
    return rc;
}

/**
 * serve() - run the stack until a signal or the transport ends
 * @ns:     the stack
 * @t:      the transport, started
 * Return: the exit status
 */
static int serve(struct netstack *ns, struct ns_transport *t)
{
    const char *why;
    int rc = 0;

    daemon_ns = ns;
    if (!daemon_stop_requested)
        rc = netstack_run(ns);
    daemon_ns = NULL;
    ns_transport_stop(t);
    if (rc < 0) {
        fprintf(stderr, "netstackd: netstack_run: %s\n", strerror(-rc));
        return 1;
    }
    switch (ns_transport_end(t, &why)) {
    case NS_TRANSPORT_FAILED:
        fprintf(stderr, "netstackd: %s\n", why);
        return 1;
    case NS_TRANSPORT_CLOSED:
        dlog(NETSTACK_LOG_INFO, "%s: %s; exiting", ns_transport_describe(t), why);
        return 0;
    case NS_TRANSPORT_RUNNING:
        break;
    }
    dlog(NETSTACK_LOG_INFO, "stopping");
    return 0;
}

/**
 * main() - parse, open the transport, create the stack, serve, clean up
 * @argc:   argument count
 * @argv:   arguments
 *
 * Return: 0 clean stop, 1 runtime error (2, bad usage, exits from parse_args())
 */
/**
 * log_stats() - at debug level, every counter that is not zero, on one line
 * @ns:     the stack
 */
static void log_stats(const struct netstack *ns)
{
    uint64_t c[NETSTACK_STAT_COUNT];
    char line[4096];
    size_t i, n = netstack_get_stats(ns, c, NETSTACK_STAT_COUNT), used = 0;

    if (daemon_level < NETSTACK_LOG_DEBUG)
        return;
    line[0] = '\0';
    for (i = 0; i < n && used < sizeof(line); i++) {
        if (c[i])
            used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%llu",
                                     netstack_stat_name((unsigned)i), (unsigned long long)c[i]);
    }
    log_line(NULL, NETSTACK_LOG_DEBUG, *line ? line + 1 : "no traffic");
}

int main(int argc, char *argv[])
{
    struct netstack_config cfg;
    struct ns_api_server *api = NULL;
    struct ns_transport *t;
    struct netstack *ns;
    struct options o;
    char err[512];
    int rc;

    parse_args(&o, argc, argv);
    daemon_level = (enum netstack_log_level)o.level;
    setup_signals();
    raise_nofile();

    o.topts.log = log_line;
    o.topts.mtu = o.mtu;
    o.topts.log_level = daemon_level;
    if (ns_transport_open(&o.topts, &t, err, sizeof(err)) < 0)
        die("%s", err);

    fill_config(&o, t, &cfg);
    rc = netstack_new(&cfg, &ns);
    if (rc < 0) {
        ns_transport_free(t);
        die("netstack_new: %s", strerror(-rc));
    }
    rc = ns_transport_start(t, ns);
    if (rc < 0) {
        snprintf(err, sizeof(err), "ns_transport_start: %s: %s", ns_transport_describe(t),
                 strerror(-rc));
        netstack_free(ns);
        ns_transport_free(t);
        die("%s", err);
    }
    if (add_forwards(&o, ns, err, sizeof(err)) < 0) {
        ns_transport_stop(t);   /* it unwatches its fds: before the stack goes */
        netstack_free(ns);
        ns_transport_free(t);
        die("%s", err);
    }
    log_startup(t, &cfg);
    if (o.api_socket && ns_api_start(ns, &cfg, o.api_socket, &api, err, sizeof(err)) < 0) {
        ns_transport_stop(t);
        netstack_free(ns);
        ns_transport_free(t);
        die("%s", err);
    }
    /* After the sandbox: the user the daemon runs as creates the capture's files. */
    if (confine(&o, &cfg, err, sizeof(err)) < 0 || start_capture(&o, ns, err, sizeof(err)) < 0) {
        ns_api_stop(api);
        ns_transport_stop(t);
        netstack_free(ns);
        ns_transport_free(t);
        die("%s", err);
    }

    rc = serve(ns, t);
    ns_api_stop(api);
    log_stats(ns);
    netstack_free(ns);
    ns_transport_free(t);
    return rc;
}
