/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * embed.c - a complete embedder of libnetstack in one file, using only the
 * public API: what a hypervisor frontend with an event loop of its own does.
 *
 *   usage: embed SOCKET_PATH [FORWARD]
 *          embed /tmp/ns.sock tcp:127.0.0.1:8080:80
 *   guest: qemu-system-x86_64 ... -device virtio-net-pci,netdev=n0 \
 *            -netdev stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/ns.sock
 *
 * One guest at a time connects to SOCKET_PATH and speaks QEMU's stream
 * framing: every Ethernet frame behind its length, 4 bytes big-endian. The
 * stack is driven from our own poll loop: netstack_fd() is one descriptor
 * among ours, netstack_next_timeout() bounds the wait, netstack_dispatch()
 * does the stack's work. netstack_run() would own the thread instead.
 *
 * Build against an installed libnetstack with
 *   cc -o embed embed.c $(pkg-config --cflags --libs netstack)
 * or with CMake through CMakeLists.txt next to this file.
 */
#define _GNU_SOURCE             /* ppoll(), accept4() */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <netstack.h>

#define MAX_FRAME   (14 + 65535)        /* the largest IP packet in an Ethernet frame */
#define BUF_SIZE    (256 * 1024)        /* each way; must hold 4 + MAX_FRAME */

static struct netstack *ns;
static volatile sig_atomic_t stopping;
static int guest = -1;                  /* the connected guest, -1 when none */
static int guest_broken;                /* a write failed; dropped from the loop, not mid-callback */
static int owe_ready;                   /* send_frames() pushed back: netstack_output_ready() due */
static uint8_t rx[BUF_SIZE], tx[BUF_SIZE];
static size_t rx_len, tx_len, tx_sent;  /* tx[tx_sent, tx_len) is still to be written */

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void on_log(void *opaque, enum netstack_log_level level, const char *msg)
{
    (void)opaque;
    (void)level;
    fprintf(stderr, "netstack: %s\n", msg);
}

/* Write what the socket takes now; the rest waits for POLLOUT. Never blocks. */
static void flush_tx(void)
{
    while (tx_sent < tx_len) {
        ssize_t n = send(guest, tx + tx_sent, tx_len - tx_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                guest_broken = 1;
            break;
        }
        tx_sent += (size_t)n;
    }
    memmove(tx, tx + tx_sent, tx_len - tx_sent);
    tx_len -= tx_sent;
    tx_sent = 0;
}

/*
 * Frames only ever enter tx whole, so the stream stays in sync whatever a
 * write cuts. Accepting fewer than @n is the library's backpressure: it keeps
 * the rest (and stops reading host sockets) until netstack_output_ready().
 */
static ssize_t send_frames(void *opaque, const struct netstack_frame *f, size_t n)
{
    size_t i;

    (void)opaque;
    if (guest < 0 || guest_broken)
        return -ENOTCONN;       /* dropped and counted, like an unplugged cable */
    for (i = 0; i < n; i++) {
        if (tx_len + 4 + f[i].len > sizeof(tx))
            flush_tx();
        if (guest_broken || tx_len + 4 + f[i].len > sizeof(tx))
            break;
        tx[tx_len++] = (uint8_t)(f[i].len >> 24);
        tx[tx_len++] = (uint8_t)(f[i].len >> 16);
        tx[tx_len++] = (uint8_t)(f[i].len >> 8);
        tx[tx_len++] = (uint8_t)f[i].len;
        memcpy(tx + tx_len, f[i].data, f[i].len);
        tx_len += f[i].len;
    }
    flush_tx();
    if (i < n)
        owe_ready = 1;
    return (ssize_t)i;
}

static void drop_guest(const char *why)
{
    close(guest);
    guest = -1;
    guest_broken = 0;
    rx_len = tx_len = tx_sent = 0;
    netstack_link_down(ns);
    /* The stack waits for a writability only the old guest could signal: end the wait. */
    if (owe_ready) {
        owe_ready = 0;
        netstack_output_ready(ns);
    }
    printf("guest gone (%s)\n", why);
}

/* Hand every complete frame to the stack; keep a partial one for the next read. */
static void read_guest(void)
{
    size_t off = 0;
    ssize_t n = read(guest, rx + rx_len, sizeof(rx) - rx_len);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop_guest(n == 0 ? "closed" : strerror(errno));
        return;
    }
    if (n < 0)
        return;
    rx_len += (size_t)n;
    while (rx_len - off >= 4) {
        uint32_t len = (uint32_t)rx[off] << 24 | (uint32_t)rx[off + 1] << 16 |
                       (uint32_t)rx[off + 2] << 8 | rx[off + 3];
        if (len > MAX_FRAME) {
            /* No way to find the next frame boundary: the stream is garbage. */
            drop_guest("bad frame length");
            return;
        }
        if (rx_len - off - 4 < len)
            break;
        if (len)
            netstack_input(ns, rx + off + 4, len);
        off += 4 + len;
    }
    memmove(rx, rx + off, rx_len - off);
    rx_len -= off;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "embed: %s: path too long\n", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    /* A socket left by a killed run would make bind() fail; anything else is not ours. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 1) < 0) {
        fprintf(stderr, "embed: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int add_forward(const char *spec)
{
    struct netstack_forward fw;
    char err[128];
    uint32_t id;
    int rc;

    if (netstack_forward_parse(spec, &fw, err, sizeof(err)) < 0) {
        fprintf(stderr, "embed: forward %s: %s\n", spec, err);
        return -1;
    }
    rc = netstack_forward_add(ns, &fw, &id);
    if (rc < 0) {
        fprintf(stderr, "embed: forward %s: %s\n", spec, strerror(-rc));
        return -1;
    }
    printf("forward added: %s (id %u)\n", spec, id);
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_signal };
    struct netstack_config cfg;
    sigset_t block, unblocked;
    int lfd, rc, status = 1;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SOCKET_PATH [FORWARD]  (e.g. tcp:127.0.0.1:8080:80)\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);   /* one event a line, also into a pipe or a log file */

    /*
     * The signals are blocked except inside ppoll(), which unblocks them
     * atomically: one that arrives just before the wait still ends it,
     * whatever the timeout (-1 when no timer is due).
     */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &unblocked);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    netstack_config_init(&cfg);
    cfg.send_frames = send_frames;
    cfg.log = on_log;
    rc = netstack_new(&cfg, &ns);
    if (rc < 0) {
        fprintf(stderr, "embed: netstack_new: %s\n", strerror(-rc));
        return 1;
    }
    /* A unix socket delivers the guest's bytes exactly: no checksum to verify. */
    netstack_set_offloads(ns, NETSTACK_LINK_INTEGRITY);
    lfd = listen_unix(argv[1]);
    if (lfd < 0)
        goto out;
    if (argc == 3 && add_forward(argv[2]) < 0)
        goto out_unlink;
    printf("listening on %s (libnetstack %s)\n", argv[1], netstack_version());

    while (!stopping) {
        /* Cleared first: output_ready() calls send_frames() again, which may push back again. */
        if (owe_ready && !tx_len) {
            owe_ready = 0;
            netstack_output_ready(ns);
        }
        if (guest_broken)
            drop_guest("write failed");

        /* Not accepting while a guest is connected: the next one waits in the backlog. */
        struct pollfd p[3] = {
            { .fd = guest < 0 ? lfd : -1, .events = POLLIN },
            { .fd = guest, .events = POLLIN | (tx_len ? POLLOUT : 0) },
            { .fd = netstack_fd(ns), .events = POLLIN },
        };
        int ms = netstack_next_timeout(ns);
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        if (ppoll(p, 3, ms < 0 ? NULL : &ts, &unblocked) < 0) {
            if (errno == EINTR)
                continue;
            perror("embed: ppoll");
            goto out_unlink;
        }
        if (guest >= 0 && (p[1].revents & POLLOUT))
            flush_tx();
        if (guest >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            read_guest();
        if (p[0].revents & POLLIN) {
            guest = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (guest >= 0)
                printf("guest connected\n");
        }
        /* Also when netstack_fd() is not readable: due timers run here too. */
        rc = netstack_dispatch(ns);
        if (rc < 0) {
            fprintf(stderr, "embed: netstack_dispatch: %s\n", strerror(-rc));
            goto out_unlink;
        }
    }
    printf("stopping\n");
    status = 0;
out_unlink:
    close(lfd);
    unlink(argv[1]);
out:
    if (guest >= 0)
        close(guest);
    netstack_free(ns);
    return status;
}
