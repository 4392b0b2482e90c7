/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_host.c - the host side of the stack, faked at the socket boundary
 *
 * Theory of Operation: fuzz_stack is linked with -Wl,--wrap=NAME for every
 * call the stack makes on a host socket, so that the stack's own object
 * files call __wrap_NAME() here instead of libc (the harness's own calls go
 * to __real_NAME() explicitly). While an input runs (fake_host_begin() to
 * fake_host_end()):
 * - socket(AF_INET or AF_INET6, ...) never reaches the kernel's network: it
 *   returns one end of a unix socketpair (SOCK_STREAM for TCP, SOCK_DGRAM for
 *   UDP and ICMP) and the harness keeps the other end, so the descriptor is a
 *   real one that the stack's epoll loop waits on. Any other family is
 *   refused. Nothing the fuzzer makes up can leave the process.
 * - TCP: connect() starts "in progress" (or ends at once, as the input
 *   chose). Until fake_host_connect_done(), EPOLLOUT is withheld from the
 *   stack's epoll registration, as the kernel withholds writability from a
 *   connecting socket; then the registration is restored and
 *   getsockopt(SO_ERROR) reports the outcome. From then on reads and writes
 *   are the unix socket's own: partial writes and EAGAIN when the host peer
 *   does not read (the stack's end has a small send buffer, so backpressure
 *   comes after a few KiB), end of stream after the peer's shutdown. A reset
 *   is an error the next read or write reports, then end of stream (reads)
 *   and EPIPE (writes), as for a reset kernel socket.
 * - Datagrams the stack sends (sendto) are checked against the NAT's rules
 *   (never to the guest's subnet, broadcast, multicast, 0.0.0.0, nor to
 *   loopback unless the host-loopback alias is on) and kept as the socket's
 *   "last" datagram: a reply is built from it. Datagrams for the stack are
 *   written by the harness with their source address in front
 *   (FAKE_ADDR_LEN bytes, a struct sockaddr_in or _in6), which the receive
 *   calls strip into msg_name. A datagram whose address family is AF_UNSPEC
 *   only wakes the stack up to read an error, and is skipped.
 * - CLOCK_MONOTONIC (and its variants) is a counter the input advances.
 * - getrandom() and arc4random() restart from a fixed seed at every input,
 *   and lwIP's initial sequence number is FAKE_TCP_ISS, so that the same
 *   input always makes the stack do the same thing.
 * Outside an input every wrapped call goes straight to libc: libFuzzer's own
 * file and stdio calls pass through untouched.
 *
 * Calls the stack must never make are fatal (abort with a message), so the
 * fuzzer reports them: a destination the NAT must not use, the stack closing
 * the harness's end of a socketpair (a double close), a host socket still
 * open after netstack_free(). The pairs are non-blocking whatever the stack
 * asked for, as its loop needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/fake_host.h"

#define FAKE_MAX        128     /* sockets per input; socket() fails with EMFILE beyond */
#define FAKE_ADDR_LEN   sizeof(struct sockaddr_in6)     /* source address before a datagram */
#define FAKE_IOV_MAX    64      /* pieces of one receive the stack may pass */
#define FAKE_SNDBUF     4096    /* the stack's end of a TCP pair: backpressure after a few KiB */
#define FAKE_DGRAM_MAX  65535
#define FAKE_PING_ID    0x4242  /* the identifier a ping socket puts in its requests */

/*
 * struct fake_sock - one host socket of the stack
 * @fd:         the stack's end of the pair
 * @peer:       the harness's end
 * @family:     AF_INET or AF_INET6, as the stack asked
 * @kind:       see enum fake_kind
 * @open:       the stack has not closed @fd yet
 * @connecting: TCP connect() in progress: EPOLLOUT withheld
 * @connected:  TCP connect() succeeded
 * @failed:     TCP connect() failed (@so_error until read)
 * @so_error:   what getsockopt(SO_ERROR) reports next
 * @error:      an error the next read (or TCP write) reports
 * @reset:      TCP: the connection was reset, the error already reported
 * @eof:        TCP: the host peer shut down its side
 * @watched:    @fd is in the stack's epoll set, registered as @want on @epfd
 * @dst:        the address connected or last sent to, @dst_len bytes (0: none)
 * @last:       the last datagram the stack sent, @last_len bytes
 */
struct fake_sock {
    int fd, peer;
    int family;
    enum fake_kind kind;
    int open;
    int connecting, connected, failed;
    int so_error;
    int error;
    int reset;
    int eof;
    int watched, epfd;
    struct epoll_event want;
    struct sockaddr_storage dst;
    socklen_t dst_len;
    uint8_t *last;
    size_t last_len;
};

/* libc's functions, under the names --wrap gives them. */
int __real_socket(int domain, int type, int protocol);
int __real_connect(int fd, const struct sockaddr *sa, socklen_t len);
int __real_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int __real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int __real_close(int fd);
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
ssize_t __real_read(int fd, void *buf, size_t len);
ssize_t __real_write(int fd, const void *buf, size_t len);
ssize_t __real_readv(int fd, const struct iovec *iov, int n);
ssize_t __real_writev(int fd, const struct iovec *iov, int n);
ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
ssize_t __real_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                        socklen_t *fromlen);
ssize_t __real_recvmsg(int fd, struct msghdr *msg, int flags);
int __real_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags, struct timespec *t);
ssize_t __real_send(int fd, const void *buf, size_t len, int flags);
ssize_t __real_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                      socklen_t tolen);
ssize_t __real_sendmsg(int fd, const struct msghdr *msg, int flags);
int __real_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags);
ssize_t __real___read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __real___recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __real___recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                              struct sockaddr *from, socklen_t *fromlen);
int __real_clock_gettime(clockid_t id, struct timespec *ts);
ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);
uint32_t __real_arc4random(void);
void __real_arc4random_buf(void *buf, size_t len);
uint32_t __real_arc4random_uniform(uint32_t bound);
void __real_tcp_tmr(void);

/* What the stack calls instead. */
int __wrap_socket(int domain, int type, int protocol);
int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int __wrap_close(int fd);
int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
ssize_t __wrap_read(int fd, void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len);
ssize_t __wrap_readv(int fd, const struct iovec *iov, int n);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int n);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                        socklen_t *fromlen);
ssize_t __wrap_recvmsg(int fd, struct msghdr *msg, int flags);
int __wrap_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags, struct timespec *t);
ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags);
ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                      socklen_t tolen);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags);
int __wrap_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags);
ssize_t __wrap___read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __wrap___recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __wrap___recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                              struct sockaddr *from, socklen_t *fromlen);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);
uint32_t __wrap_arc4random(void);
void __wrap_arc4random_buf(void *buf, size_t len);
uint32_t __wrap_arc4random_uniform(uint32_t bound);
struct tcp_pcb;
uint32_t __wrap_tcp_next_iss(struct tcp_pcb *pcb);
void __wrap_tcp_tmr(void);

static struct fake_sock socks[FAKE_MAX];
static unsigned nsocks;             /* created during this input, open or closed */
static int active;                  /* an input is running: calls are faked */
static int tracing = -1;            /* FUZZ_STACK_TRACE set: print what happens */
static struct fake_config config;
static enum fake_connect_mode connect_mode;
static int connect_err, fail_socket, fail_send;
static uint64_t clock_ms = 1000000; /* well past 0: "never happened" timestamps are old */
static uint64_t rng_state;
static unsigned long tcp_tmr_runs;

/**
 * die() - the stack did something it must never do: say what, and abort.
 */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("fake_host: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/**
 * trace() - one line about the host side, when FUZZ_STACK_TRACE is set.
 */
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    va_list ap;

    if (tracing < 0)
        tracing = getenv("FUZZ_STACK_TRACE") != NULL;
    if (!tracing)
        return;
    fprintf(stderr, "[%llu ms] host: ", (unsigned long long)clock_ms);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/**
 * find() - the open fake socket whose stack end is @fd, NULL if @fd is not one.
 */
static struct fake_sock *find(int fd)
{
    unsigned i;

    if (!active || fd < 0)
        return NULL;
    for (i = 0; i < nsocks; i++)
        if (socks[i].open && socks[i].fd == fd)
            return &socks[i];
    return NULL;
}

/**
 * index_of() - @s's number in creation order, for traces.
 */
static unsigned index_of(const struct fake_sock *s)
{
    return (unsigned)(s - socks);
}

static const char *kind_name(enum fake_kind k)
{
    static const char *const names[] = { "tcp", "udp", "ping", "raw" };

    return names[k];
}

/**
 * next_random() - splitmix64: the same sequence for every input.
 */
static uint64_t next_random(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* --- The NAT's rules for host destinations ---------------------------------- */

/**
 * check_destination() - abort unless the stack may send to @sa from @s
 * The host-loopback alias is the only way to 127.0.0.1; the guest's own
 * subnet, broadcast, multicast and "this network" are never forwarded
 * (netstack/nat.c, ns_nat_to_host()).
 */
static void check_destination(const struct fake_sock *s, const struct sockaddr *sa,
                              socklen_t len)
{
    if (!sa)
        die("socket %u: no destination address", index_of(s));
    if (sa->sa_family != s->family)
        die("socket %u: address family %d on a socket of family %d", index_of(s),
            sa->sa_family, s->family);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const void *)sa;
        uint32_t a = ntohl(sin->sin_addr.s_addr);

        if (len < sizeof(*sin))
            die("socket %u: address length %u", index_of(s), (unsigned)len);
        if ((a & config.netmask) == config.subnet || a == 0xffffffffu || (a >> 28) == 0xe ||
            (a >> 28) == 0xf || (a >> 24) == 0)
            die("socket %u: sent to %u.%u.%u.%u, which the NAT never forwards", index_of(s),
                a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
        if ((a >> 24) == 127 && (!config.loopback_ok || a != 0x7f000001))
            die("socket %u: sent to %u.%u.%u.%u without the host-loopback alias", index_of(s),
                a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    } else if (len < sizeof(struct sockaddr_in6)) {
        die("socket %u: IPv6 address length %u", index_of(s), (unsigned)len);
    }
}

/**
 * remember_dst() - @sa becomes where replies to @s come from.
 */
static void remember_dst(struct fake_sock *s, const struct sockaddr *sa, socklen_t len)
{
    if (len > sizeof(s->dst))
        len = sizeof(s->dst);
    memcpy(&s->dst, sa, len);
    s->dst_len = len;
}

/**
 * dst_port() - the port @s last sent to, 0 for none.
 */
static uint16_t dst_port(const struct fake_sock *s)
{
    if (!s->dst_len)
        return 0;
    if (s->dst.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&s->dst)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&s->dst)->sin_port);
}

/* --- Sockets ------------------------------------------------------------------ */

int __wrap_socket(int domain, int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), sv[2], size = FAKE_SNDBUF;
    struct fake_sock *s;
    enum fake_kind kind;

    if (!active || domain == AF_UNIX)
        return __real_socket(domain, type, protocol);
    if (domain != AF_INET && domain != AF_INET6) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        kind = FAKE_TCP;
    else if (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        kind = FAKE_UDP;
    else if (base == SOCK_DGRAM && protocol == IPPROTO_ICMP && domain == AF_INET)
        kind = FAKE_PING;
    else if (base == SOCK_RAW && protocol == IPPROTO_ICMP && domain == AF_INET)
        kind = FAKE_RAW;
    else {
        errno = EPROTONOSUPPORT;
        return -1;
    }
    if ((kind == FAKE_PING && config.ping_refused) || (kind == FAKE_RAW && config.raw_refused)) {
        errno = kind == FAKE_PING ? EACCES : EPERM;
        return -1;
    }
    if (fail_socket || nsocks == FAKE_MAX) {
        fail_socket = 0;
        errno = EMFILE;
        return -1;
    }
    if (socketpair(AF_UNIX, (kind == FAKE_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
                   SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    if (kind == FAKE_TCP)
        __real_setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    s = &socks[nsocks++];
    memset(s, 0, sizeof(*s));
    s->fd = sv[0];
    s->peer = sv[1];
    s->family = domain;
    s->kind = kind;
    s->open = 1;
    trace("socket %u: %s%s (fd %d)", index_of(s), kind_name(kind),
          domain == AF_INET6 ? "6" : "", s->fd);
    return s->fd;
}

/**
 * rewatch() - give the stack's epoll registration of @s back what it asked for.
 */
static void rewatch(struct fake_sock *s)
{
    if (s->watched && __real_epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->fd, &s->want) < 0)
        die("socket %u: epoll_ctl(MOD): %s", index_of(s), strerror(errno));
}

int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct fake_sock *s = find(fd);
    enum fake_connect_mode mode = connect_mode;

    if (!s)
        return __real_connect(fd, sa, len);
    check_destination(s, sa, len);
    remember_dst(s, sa, len);
    if (s->kind != FAKE_TCP)
        return 0;       /* a connected datagram socket: only the default destination */
    if (s->connecting || s->failed) {
        errno = EALREADY;
        return -1;
    }
    if (s->connected) {
        errno = EISCONN;
        return -1;
    }
    connect_mode = FAKE_CONNECT_PENDING;
    trace("socket %u: connect, %s", index_of(s), mode == FAKE_CONNECT_PENDING ? "in progress" :
          mode == FAKE_CONNECT_NOW ? "connected at once" : strerror(connect_err));
    switch (mode) {
    case FAKE_CONNECT_NOW:
        s->connected = 1;
        return 0;
    case FAKE_CONNECT_FAIL:
        s->failed = 1;
        errno = connect_err;
        return -1;
    default:
        s->connecting = 1;
        errno = EINPROGRESS;
        return -1;
    }
}

int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    struct fake_sock *s = find(fd);

    if (!s || level != SOL_SOCKET || name != SO_ERROR)
        return __real_getsockopt(fd, level, name, val, len);
    if (!val || !len || *len < sizeof(int)) {
        errno = EINVAL;
        return -1;
    }
    /* The kernel says 0 while a connect runs; the stack only asks once it is writable. */
    *(int *)val = s->so_error;
    *len = sizeof(int);
    s->so_error = 0;
    return 0;
}

int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct fake_sock *s = find(fd);

    if (!s)
        return __real_setsockopt(fd, level, name, val, len);
    if (!val || len < sizeof(int)) {
        errno = EINVAL;
        return -1;
    }
    if (level == SOL_SOCKET && name == SO_LINGER && len >= sizeof(struct linger) &&
        ((const struct linger *)val)->l_onoff && !((const struct linger *)val)->l_linger)
        trace("socket %u: the stack resets the connection (SO_LINGER {1, 0})", index_of(s));
    /* TCP and IP options, keepalives, SO_LINGER: the host's business, not the pair's. */
    if (level != SOL_SOCKET || name == SO_KEEPALIVE || name == SO_LINGER)
        return 0;
    return __real_setsockopt(fd, level, name, val, len);
}

int __wrap_close(int fd)
{
    struct fake_sock *s = find(fd);
    unsigned i;

    if (s) {
        trace("socket %u: closed by the stack", index_of(s));
        s->open = 0;
        s->watched = 0;
        __real_close(s->peer);
        s->peer = -1;
    } else if (active && fd >= 0) {
        for (i = 0; i < nsocks; i++)
            if (socks[i].open && socks[i].peer == fd)
                die("close(%d): that is the host's end of socket %u; the stack closed a "
                    "descriptor twice", fd, i);
    }
    return __real_close(fd);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct fake_sock *s = find(fd);
    struct epoll_event e;
    int rc;

    if (!s)
        return __real_epoll_ctl(epfd, op, fd, ev);
    if (op == EPOLL_CTL_DEL) {
        rc = __real_epoll_ctl(epfd, op, fd, ev);
        if (!rc)
            s->watched = 0;
        return rc;
    }
    s->want = *ev;
    s->epfd = epfd;
    e = *ev;
    if (s->connecting)
        e.events &= ~(uint32_t)EPOLLOUT;   /* a connecting socket is not writable */
    rc = __real_epoll_ctl(epfd, op, fd, &e);
    if (!rc)
        s->watched = 1;
    return rc;
}

/* --- Receiving ------------------------------------------------------------------ */

/**
 * stream_recv() - TCP: the pair's bytes, after any error and not before connected.
 */
static ssize_t stream_recv(struct fake_sock *s, struct iovec *iov, size_t n, int flags)
{
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };

    if (s->error) {
        errno = s->error;
        s->error = 0;
        s->reset = 1;
        return -1;
    }
    if (s->reset)
        return 0;
    if (s->connecting) {
        errno = EAGAIN;
        return -1;
    }
    if (!s->connected) {
        errno = ENOTCONN;
        return -1;
    }
    return __real_recvmsg(s->fd, &mh, flags & (MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL));
}

/**
 * dgram_recv() - one datagram: its source address into @msg->msg_name, the
 * rest into @msg->msg_iov; a pending error first.
 */
static ssize_t dgram_recv(struct fake_sock *s, struct msghdr *msg, int flags)
{
    struct sockaddr_storage from;
    struct iovec iov[1 + FAKE_IOV_MAX];
    struct msghdr mh;
    socklen_t alen;
    ssize_t n;

    if (msg->msg_iovlen > FAKE_IOV_MAX)
        die("socket %u: a receive in %zu pieces", index_of(s), (size_t)msg->msg_iovlen);
    if (s->error) {
        errno = s->error;
        s->error = 0;
        return -1;
    }
    do {
        memset(&mh, 0, sizeof(mh));
        memset(&from, 0, sizeof(from));
        iov[0] = (struct iovec){ &from, FAKE_ADDR_LEN };
        if (msg->msg_iovlen)
            memcpy(iov + 1, msg->msg_iov, msg->msg_iovlen * sizeof(*iov));
        mh.msg_iov = iov;
        mh.msg_iovlen = 1 + msg->msg_iovlen;
        n = __real_recvmsg(s->fd, &mh, (flags & MSG_PEEK) | MSG_DONTWAIT);
        if (n < 0)
            return -1;
        if ((size_t)n < FAKE_ADDR_LEN)
            die("socket %u: a datagram without its address", index_of(s));
    } while (from.ss_family == AF_UNSPEC);      /* a wake-up for an error already reported */
    alen = from.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (msg->msg_name)
        memcpy(msg->msg_name, &from, msg->msg_namelen < alen ? msg->msg_namelen : alen);
    msg->msg_namelen = alen;
    msg->msg_controllen = 0;
    msg->msg_flags = mh.msg_flags;
    return n - (ssize_t)FAKE_ADDR_LEN;
}

/**
 * fake_recvmsg() - recvmsg() on a fake socket of any kind.
 */
static ssize_t fake_recvmsg(struct fake_sock *s, struct msghdr *msg, int flags)
{
    if (s->kind == FAKE_TCP) {
        msg->msg_namelen = 0;
        msg->msg_controllen = 0;
        msg->msg_flags = 0;
        return stream_recv(s, msg->msg_iov, msg->msg_iovlen, flags);
    }
    return dgram_recv(s, msg, flags);
}

/**
 * fake_recv() - the calls with one buffer and an optional source address.
 */
static ssize_t fake_recv(struct fake_sock *s, void *buf, size_t len, int flags,
                         struct sockaddr *from, socklen_t *fromlen)
{
    struct iovec iov = { buf, len };
    struct msghdr msg = { .msg_name = from, .msg_namelen = fromlen ? *fromlen : 0,
                          .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n = fake_recvmsg(s, &msg, flags);

    if (n >= 0 && fromlen)
        *fromlen = msg.msg_namelen;
    return n;
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
    struct fake_sock *s = find(fd);

    return s ? fake_recv(s, buf, len, 0, NULL, NULL) : __real_read(fd, buf, len);
}

ssize_t __wrap___read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    struct fake_sock *s = find(fd);

    if (!s)
        return __real___read_chk(fd, buf, len, buflen);
    if (len > buflen)
        die("read(%d) of %zu bytes into %zu", fd, len, buflen);
    return fake_recv(s, buf, len, 0, NULL, NULL);
}

ssize_t __wrap_readv(int fd, const struct iovec *iov, int n)
{
    struct fake_sock *s = find(fd);
    struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };

    if (!s)
        return __real_readv(fd, iov, n);
    if (n < 0) {
        errno = EINVAL;
        return -1;
    }
    return fake_recvmsg(s, &msg, 0);
}

ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
    struct fake_sock *s = find(fd);

    return s ? fake_recv(s, buf, len, flags, NULL, NULL) : __real_recv(fd, buf, len, flags);
}

ssize_t __wrap___recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    struct fake_sock *s = find(fd);

    if (!s)
        return __real___recv_chk(fd, buf, len, buflen, flags);
    if (len > buflen)
        die("recv(%d) of %zu bytes into %zu", fd, len, buflen);
    return fake_recv(s, buf, len, flags, NULL, NULL);
}

ssize_t __wrap_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                        socklen_t *fromlen)
{
    struct fake_sock *s = find(fd);

    if (!s)
        return __real_recvfrom(fd, buf, len, flags, from, fromlen);
    return fake_recv(s, buf, len, flags, from, fromlen);
}

ssize_t __wrap___recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                              struct sockaddr *from, socklen_t *fromlen)
{
    struct fake_sock *s = find(fd);

    if (!s)
        return __real___recvfrom_chk(fd, buf, len, buflen, flags, from, fromlen);
    if (len > buflen)
        die("recvfrom(%d) of %zu bytes into %zu", fd, len, buflen);
    return fake_recv(s, buf, len, flags, from, fromlen);
}

ssize_t __wrap_recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct fake_sock *s = find(fd);

    return s ? fake_recvmsg(s, msg, flags) : __real_recvmsg(fd, msg, flags);
}

int __wrap_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags, struct timespec *t)
{
    struct fake_sock *s = find(fd);
    unsigned int i;
    ssize_t got;

    if (!s)
        return __real_recvmmsg(fd, vec, n, flags, t);
    for (i = 0; i < n; i++) {
        if (i && s->error)
            break;      /* the kernel reports it at the next call */
        got = fake_recvmsg(s, &vec[i].msg_hdr, flags);
        if (got < 0)
            return i ? (int)i : -1;
        vec[i].msg_len = (unsigned int)got;
    }
    return (int)n;
}

/* --- Sending ------------------------------------------------------------------- */

/**
 * stream_send() - TCP: onto the pair, once connected, unless reset.
 */
static ssize_t stream_send(struct fake_sock *s, const struct iovec *iov, size_t n, int flags)
{
    struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };

    if (s->error) {
        errno = s->error;
        s->error = 0;
        s->reset = 1;
        return -1;
    }
    if (s->reset || s->failed) {
        errno = EPIPE;
        return -1;
    }
    if (s->connecting) {
        errno = EAGAIN;
        return -1;
    }
    if (!s->connected) {
        errno = ENOTCONN;
        return -1;
    }
    return __real_sendmsg(s->fd, &mh, (flags & (MSG_DONTWAIT | MSG_MORE)) | MSG_NOSIGNAL);
}

/**
 * dgram_send() - a datagram to @to (or the connected address): checked, then kept.
 */
static ssize_t dgram_send(struct fake_sock *s, const struct iovec *iov, size_t n,
                          const struct sockaddr *to, socklen_t tolen)
{
    size_t len = 0, i, off = 0;
    uint8_t *p;

    for (i = 0; i < n; i++)
        len += iov[i].iov_len;
    if (to) {
        check_destination(s, to, tolen);
        remember_dst(s, to, tolen);
    } else if (!s->dst_len) {
        errno = EDESTADDRREQ;
        return -1;
    }
    if (fail_send) {
        errno = fail_send;
        fail_send = 0;
        return -1;
    }
    if (len > FAKE_DGRAM_MAX - (s->kind == FAKE_UDP ? 28 : 20)) {
        errno = EMSGSIZE;
        return -1;
    }
    if (s->kind == FAKE_PING && (len < 8 || !n || !iov[0].iov_len ||
                                 ((const uint8_t *)iov[0].iov_base)[0] != 8)) {
        errno = EINVAL;     /* a ping socket sends echo requests only */
        return -1;
    }
    p = realloc(s->last, len ? len : 1);
    if (!p)
        die("out of memory");
    for (i = 0; i < n; i++) {
        if (iov[i].iov_len)
            memcpy(p + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    s->last = p;
    s->last_len = len;
    trace("socket %u: %zu-byte datagram to port %u", index_of(s), len, dst_port(s));
    return (ssize_t)len;
}

/**
 * fake_sendmsg() - sendmsg() on a fake socket of any kind.
 */
static ssize_t fake_sendmsg(struct fake_sock *s, const struct msghdr *msg, int flags)
{
    if (s->kind == FAKE_TCP)
        return stream_send(s, msg->msg_iov, msg->msg_iovlen, flags);
    return dgram_send(s, msg->msg_iov, msg->msg_iovlen, msg->msg_name, msg->msg_namelen);
}

static ssize_t fake_send(struct fake_sock *s, const void *buf, size_t len, int flags,
                         const struct sockaddr *to, socklen_t tolen)
{
    struct iovec iov = { (void *)buf, len };
    struct msghdr msg = { .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov,
                          .msg_iovlen = 1 };

    return fake_sendmsg(s, &msg, flags);
}

ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
    struct fake_sock *s = find(fd);

    return s ? fake_send(s, buf, len, 0, NULL, 0) : __real_write(fd, buf, len);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
    struct fake_sock *s = find(fd);
    struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };

    if (!s)
        return __real_writev(fd, iov, n);
    if (n < 0) {
        errno = EINVAL;
        return -1;
    }
    return fake_sendmsg(s, &msg, 0);
}

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags)
{
    struct fake_sock *s = find(fd);

    return s ? fake_send(s, buf, len, flags, NULL, 0) : __real_send(fd, buf, len, flags);
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                      socklen_t tolen)
{
    struct fake_sock *s = find(fd);

    if (!s)
        return __real_sendto(fd, buf, len, flags, to, tolen);
    return fake_send(s, buf, len, flags, s->kind == FAKE_TCP ? NULL : to, tolen);
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct fake_sock *s = find(fd);

    return s ? fake_sendmsg(s, msg, flags) : __real_sendmsg(fd, msg, flags);
}

int __wrap_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
    struct fake_sock *s = find(fd);
    unsigned int i;
    ssize_t sent;

    if (!s)
        return __real_sendmmsg(fd, vec, n, flags);
    for (i = 0; i < n; i++) {
        sent = fake_sendmsg(s, &vec[i].msg_hdr, flags);
        if (sent < 0)
            return i ? (int)i : -1;
        vec[i].msg_len = (unsigned int)sent;
    }
    return (int)n;
}

/* --- Clock and randomness ----------------------------------------------------- */

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
    if (!active || (id != CLOCK_MONOTONIC && id != CLOCK_MONOTONIC_COARSE &&
                    id != CLOCK_MONOTONIC_RAW && id != CLOCK_BOOTTIME))
        return __real_clock_gettime(id, ts);
    ts->tv_sec = (time_t)(clock_ms / 1000);
    ts->tv_nsec = (long)(clock_ms % 1000) * 1000000;
    return 0;
}

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
    uint8_t *p = buf;
    size_t i;

    if (!active)
        return __real_getrandom(buf, len, flags);
    for (i = 0; i < len; i++)
        p[i] = (uint8_t)next_random();
    return (ssize_t)len;
}

uint32_t __wrap_arc4random(void)
{
    return active ? (uint32_t)next_random() : __real_arc4random();
}

void __wrap_arc4random_buf(void *buf, size_t len)
{
    if (!active) {
        __real_arc4random_buf(buf, len);
        return;
    }
    __wrap_getrandom(buf, len, 0);
}

uint32_t __wrap_arc4random_uniform(uint32_t bound)
{
    if (!active)
        return __real_arc4random_uniform(bound);
    return bound ? (uint32_t)(next_random() % bound) : 0;
}

/* lwIP's initial sequence number for connections the guest opens: FAKE_TCP_ISS. */
uint32_t __wrap_tcp_next_iss(struct tcp_pcb *pcb)
{
    (void)pcb;
    return FAKE_TCP_ISS;
}

void __wrap_tcp_tmr(void)
{
    tcp_tmr_runs++;
    __real_tcp_tmr();
}

void fake_host_tcp_tmr_even(void)
{
    if (tcp_tmr_runs & 1)
        __wrap_tcp_tmr();
}

uint64_t fake_host_now_ms(void)
{
    return clock_ms;
}

void fake_host_advance(uint64_t ms)
{
    clock_ms += ms;
}

/* --- The input's life ------------------------------------------------------------ */

void fake_host_begin(const struct fake_config *cfg)
{
    static int once;

    if (!once) {
        signal(SIGPIPE, SIG_IGN);   /* as netstackd: EPIPE, not a signal */
        once = 1;
    }
    config = *cfg;
    nsocks = 0;
    connect_mode = FAKE_CONNECT_PENDING;
    connect_err = fail_socket = fail_send = 0;
    rng_state = 0x6e657473746b;
    active = 1;
}

void fake_host_end(void)
{
    unsigned i;

    for (i = 0; i < nsocks; i++) {
        if (socks[i].open)
            die("socket %u (%s) still open after netstack_free()", i, kind_name(socks[i].kind));
        free(socks[i].last);
        socks[i].last = NULL;
    }
    nsocks = 0;
    active = 0;
}

struct fake_sock *fake_host_pick(unsigned n)
{
    unsigned i, k;

    if (!nsocks)
        return NULL;
    for (i = 0; i < nsocks; i++) {
        k = (n + i) % nsocks;
        if (socks[k].open)
            return &socks[k];
    }
    return NULL;
}

void fake_host_set_connect(enum fake_connect_mode mode, int err)
{
    connect_mode = mode;
    connect_err = err;
}

void fake_host_fail_socket(void)
{
    fail_socket = 1;
}

void fake_host_fail_send(int err)
{
    fail_send = err;
}

/* --- What the host does ------------------------------------------------------------ */

void fake_host_connect_done(struct fake_sock *s, int err)
{
    if (s->kind != FAKE_TCP || !s->connecting)
        return;
    trace("socket %u: connect %s", index_of(s), err ? strerror(err) : "succeeded");
    s->connecting = 0;
    if (err) {
        s->failed = 1;
        s->so_error = err;
    } else {
        s->connected = 1;
    }
    rewatch(s);
}

/**
 * source() - the address a datagram for @s comes from
 * Return: its length.
 */
static socklen_t source(const struct fake_sock *s, enum fake_source src,
                        struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (src == FAKE_SRC_PEER && s->dst_len) {
        memcpy(out, &s->dst, s->dst_len);
        return s->dst_len;
    }
    if (s->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (void *)out;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(src == FAKE_SRC_PEER ? 53 : 5353);
        sin6->sin6_addr.s6_addr[0] = 0x20;      /* 2001:db8::99, documentation space */
        sin6->sin6_addr.s6_addr[1] = 0x01;
        sin6->sin6_addr.s6_addr[2] = 0x0d;
        sin6->sin6_addr.s6_addr[3] = 0xb8;
        sin6->sin6_addr.s6_addr[15] = src == FAKE_SRC_LOOPBACK ? 1 : 0x99;
        if (src == FAKE_SRC_LOOPBACK)
            memset(sin6->sin6_addr.s6_addr, 0, 15);     /* ::1 */
        return sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (void *)out;
        uint16_t port = dst_port(s) ? dst_port(s) : 7;

        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        switch (src) {
        case FAKE_SRC_PEER:
            sin->sin_addr.s_addr = htonl(0xc0000201);      /* 192.0.2.1 */
            break;
        case FAKE_SRC_OTHER:
            sin->sin_addr.s_addr = htonl(0xc6336409);      /* 198.51.100.9 */
            sin->sin_port = htons(3478);
            break;
        case FAKE_SRC_LOOPBACK:
            sin->sin_addr.s_addr = htonl(0x7f000001);
            break;
        case FAKE_SRC_SUBNET:
            sin->sin_addr.s_addr = htonl(config.subnet | 7);
            break;
        }
        return sizeof(*sin);
    }
}

/**
 * deliver() - one datagram from @from to the stack's end of @s.
 */
static void deliver(struct fake_sock *s, const struct sockaddr_storage *from, const uint8_t *data,
                    size_t len)
{
    uint8_t addr[FAKE_ADDR_LEN] = { 0 };
    struct iovec iov[2] = { { addr, sizeof(addr) }, { (void *)data, len } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

    memcpy(addr, from, sizeof(addr));
    /* A full receive queue drops it, as the host kernel would. */
    if (__real_sendmsg(s->peer, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        trace("socket %u: datagram for the stack dropped (%s)", index_of(s), strerror(errno));
}

void fake_host_data(struct fake_sock *s, const uint8_t *data, size_t len, enum fake_source src)
{
    struct sockaddr_storage from;
    ssize_t n;

    if (s->kind != FAKE_TCP) {
        source(s, src, &from);
        trace("socket %u: %zu-byte datagram for the stack", index_of(s), len);
        deliver(s, &from, data, len);
        return;
    }
    if (!s->connected || s->eof || s->reset || !len)
        return;
    n = __real_send(s->peer, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    trace("socket %u: %zd of %zu bytes for the stack", index_of(s), n, len);
}

void fake_host_eof(struct fake_sock *s)
{
    struct sockaddr_storage from;

    if (s->kind != FAKE_TCP) {
        source(s, FAKE_SRC_PEER, &from);
        deliver(s, &from, NULL, 0);     /* UDP has no end: an empty datagram instead */
        return;
    }
    if (!s->connected || s->eof)
        return;
    trace("socket %u: the host peer shuts down its side", index_of(s));
    s->eof = 1;
    shutdown(s->peer, SHUT_WR);
}

void fake_host_error(struct fake_sock *s, int err)
{
    struct sockaddr_storage wake = { .ss_family = AF_UNSPEC };

    if (s->kind == FAKE_TCP && s->connecting) {
        fake_host_connect_done(s, err);
        return;
    }
    if (s->kind == FAKE_TCP && (!s->connected || s->reset))
        return;
    trace("socket %u: error %s", index_of(s), strerror(err));
    s->error = err;
    if (s->kind == FAKE_TCP)
        shutdown(s->peer, SHUT_WR);     /* readable, as a reset socket is */
    else
        deliver(s, &wake, NULL, 0);
}

void fake_host_drain(struct fake_sock *s, size_t max)
{
    uint8_t buf[16384];
    size_t done = 0;
    ssize_t n;

    if (s->kind != FAKE_TCP)
        return;
    while (!max || done < max) {
        size_t want = max && max - done < sizeof(buf) ? max - done : sizeof(buf);

        n = __real_recv(s->peer, buf, want, MSG_DONTWAIT);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    trace("socket %u: the host peer read %zu bytes", index_of(s), done);
}

/* --- Replies ------------------------------------------------------------------------ */

/**
 * csum() - the Internet checksum (RFC 1071) of @len bytes.
 */
static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/**
 * dns_answer() - an answer to the query @q from a nameserver: the question
 * repeated, the records the input gave (@extra: their count, then the records)
 * Return: its length in @out, 0 if @q has no readable question.
 */
static size_t dns_answer(const uint8_t *q, size_t qlen, unsigned flags, const uint8_t *extra,
                         size_t elen, uint8_t *out, size_t max)
{
    static const uint8_t rcodes[4] = { 0, 3, 2, 5 };
    size_t end = 12, len;

    if (qlen < 12)
        return 0;
    while (end < qlen && q[end] && !(q[end] & 0xc0))
        end += (size_t)q[end] + 1;
    end += end < qlen && (q[end] & 0xc0) ? 2 : 1;
    end += 4;               /* type and class */
    if (end > qlen || end > max)
        return 0;
    memcpy(out, q, end);
    out[2] = (uint8_t)(0x80 | (q[2] & 0x79) | (flags & FAKE_REPLY_TC ? 0x02 : 0));
    out[3] = (uint8_t)(0x80 | rcodes[(flags & FAKE_REPLY_RCODE) >> 2]);
    if (flags & FAKE_REPLY_BAD_ID)
        out[0] ^= 0x80;
    out[4] = 0;
    out[5] = 1;
    out[6] = 0;
    out[7] = elen ? extra[0] : 0;
    memset(out + 8, 0, 4);
    len = end;
    if (elen > 1) {
        if (elen - 1 > max - len)
            elen = max - len + 1;
        memcpy(out + len, extra + 1, elen - 1);
        len += elen - 1;
    }
    return len;
}

/**
 * echo_reply() - an ICMP echo reply to the request @req, for a ping or raw socket.
 */
static size_t echo_reply(const struct fake_sock *s, const uint8_t *req, size_t rlen,
                         const uint8_t *extra, size_t elen, uint8_t *out, size_t max)
{
    size_t ip = s->kind == FAKE_RAW ? 20 : 0, len;
    uint32_t src = 0;

    if (rlen < 8 || ip + rlen > max)
        return 0;
    if (elen > max - ip - rlen)
        elen = max - ip - rlen;
    memcpy(out + ip, req, rlen);
    if (elen)
        memcpy(out + ip + rlen, extra, elen);
    len = rlen + elen;
    out[ip] = 0;            /* echo reply */
    out[ip + 1] = 0;
    if (s->kind == FAKE_PING) {
        out[4] = FAKE_PING_ID >> 8;     /* the ping socket's identifier, not the guest's */
        out[5] = FAKE_PING_ID & 0xff;
    }
    out[ip + 2] = out[ip + 3] = 0;
    {
        uint16_t c = csum(out + ip, len);

        out[ip + 2] = (uint8_t)(c >> 8);
        out[ip + 3] = (uint8_t)c;
    }
    if (!ip)
        return len;
    if (s->dst_len && s->dst.ss_family == AF_INET)
        src = ntohl(((const struct sockaddr_in *)&s->dst)->sin_addr.s_addr);
    memset(out, 0, 20);
    out[0] = 0x45;
    out[2] = (uint8_t)((len + 20) >> 8);
    out[3] = (uint8_t)(len + 20);
    out[8] = 64;
    out[9] = IPPROTO_ICMP;
    out[12] = (uint8_t)(src >> 24);
    out[13] = (uint8_t)(src >> 16);
    out[14] = (uint8_t)(src >> 8);
    out[15] = (uint8_t)src;
    out[16] = 10;           /* the host: 10.0.2.15 */
    out[19] = 15;
    out[17] = 0;
    out[18] = 2;
    {
        uint16_t c = csum(out, 20);

        out[10] = (uint8_t)(c >> 8);
        out[11] = (uint8_t)c;
    }
    return len + 20;
}

void fake_host_reply(struct fake_sock *s, unsigned flags, const uint8_t *extra, size_t len)
{
    static uint8_t in[65536], out[65536 + 2];
    struct sockaddr_storage from;
    size_t n = 0, have = 0;
    ssize_t got;

    if (s->kind == FAKE_TCP) {
        if (!s->connected || s->eof || s->reset)
            return;
        while (have < sizeof(in) &&
               (got = __real_recv(s->peer, in + have, sizeof(in) - have, MSG_DONTWAIT)) > 0)
            have += (size_t)got;
        if (dst_port(s) == 53) {    /* DNS over TCP: each message after its 2-byte length */
            size_t qlen = have >= 2 ? (size_t)(in[0] << 8 | in[1]) : 0;

            if (qlen > have - 2 || !qlen)
                return;
            n = dns_answer(in + 2, qlen, flags, extra, len, out + 2, 65535);
            if (!n)
                return;
            out[0] = (uint8_t)(n >> 8);
            out[1] = (uint8_t)n;
            n += 2;
        } else {                    /* an echo server */
            if (len > sizeof(out) - have)
                len = sizeof(out) - have;
            memcpy(out, in, have);
            if (len)
                memcpy(out + have, extra, len);
            n = have + len;
        }
        trace("socket %u: the host peer answers %zu bytes", index_of(s), n);
        if (n)
            __real_send(s->peer, out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        return;
    }
    if (!s->last_len && s->kind != FAKE_UDP)
        return;
    if (s->kind == FAKE_PING || s->kind == FAKE_RAW)
        n = echo_reply(s, s->last, s->last_len, extra, len, out, FAKE_DGRAM_MAX);
    else if (dst_port(s) == 53)
        n = dns_answer(s->last, s->last_len, flags, extra, len, out, FAKE_DGRAM_MAX - 28);
    else if (s->last_len + len <= FAKE_DGRAM_MAX - 28) {   /* a UDP echo server */
        if (s->last_len)
            memcpy(out, s->last, s->last_len);
        if (len)
            memcpy(out + s->last_len, extra, len);
        n = s->last_len + len;
    }
    if (!n && (s->kind != FAKE_UDP || dst_port(s) == 53))
        return;
    source(s, FAKE_SRC_PEER, &from);
    trace("socket %u: the peer answers with %zu bytes", index_of(s), n);
    deliver(s, &from, out, n);
}
