/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * live.c - netstack-pcap live: a running netstackd's capture, as it happens
 *
 * Connects to the daemon's control socket (--api-socket), sends
 * {"execute": "pcap_stream"}, reads the one reply line, and from then on
 * copies the connection's bytes, a pcap file header and its records, to
 * stdout or -w FILE until the daemon closes the stream or a signal (SIGINT,
 * SIGTERM, or SIGPIPE when the reader of stdout goes) ends it. The daemon
 * drops records for a reader that falls behind rather than wait for it, so
 * what arrives is always a well-formed capture, possibly with gaps
 * (pcap_stream_dropped in get_stats counts them).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/pcap/live.h"

#define REPLY_MAX 4096

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/**
 * connect_api() - a stream socket connected to @path; -1 with a message
 */
static int connect_api(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "netstack-pcap: %s: socket path too long\n", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "netstack-pcap: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/**
 * write_all() - @n bytes to @fd; -1 when the reader went away or a signal came
 */
static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR && !stop_requested)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/**
 * ask_stream() - send pcap_stream and read its reply line
 * @fd:     the control connection
 * @snaplen: 0 for the daemon's default
 * @rest:   bytes that came after the reply line (the stream's first), REPLY_MAX
 * @nrest:  how many
 * Return: 0, -1 with a message (the daemon's error, if it sent one)
 */
static int ask_stream(int fd, unsigned snaplen, char *rest, size_t *nrest)
{
    char req[128], line[REPLY_MAX + 1];
    size_t have = 0;
    char *nl = NULL;

    if (snaplen)
        snprintf(req, sizeof(req), "{\"execute\":\"pcap_stream\",\"arguments\":{\"snaplen\":%u}}\n",
                 snaplen);
    else
        snprintf(req, sizeof(req), "{\"execute\":\"pcap_stream\"}\n");
    if (write_all(fd, req, strlen(req)) < 0) {
        fprintf(stderr, "netstack-pcap: sending the request: %s\n", strerror(errno));
        return -1;
    }
    while (!nl && have < REPLY_MAX) {
        ssize_t k = read(fd, line + have, REPLY_MAX - have);

        if (k <= 0) {
            fprintf(stderr, "netstack-pcap: the daemon closed the connection before replying\n");
            return -1;
        }
        have += (size_t)k;
        nl = memchr(line, '\n', have);
    }
    if (!nl) {
        fprintf(stderr, "netstack-pcap: no reply line from the daemon\n");
        return -1;
    }
    *nl = '\0';
    if (strncmp(line, "{\"return\"", 9)) {
        fprintf(stderr, "netstack-pcap: the daemon refused: %s\n", line);
        return -1;
    }
    *nrest = have - (size_t)(nl + 1 - line);
    memcpy(rest, nl + 1, *nrest);
    return 0;
}

/**
 * copy_stream() - the connection's bytes to @out until EOF or a signal; 0, or 1 on error
 */
static int copy_stream(int fd, int out, const char *first, size_t nfirst)
{
    static char buf[1 << 16];

    if (write_all(out, first, nfirst) < 0)
        return stop_requested ? 0 : 1;
    while (!stop_requested) {
        ssize_t k = read(fd, buf, sizeof(buf));

        if (k == 0)
            return 0;       /* the daemon stopped */
        if (k < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "netstack-pcap: reading the stream: %s\n", strerror(errno));
            return 1;
        }
        if (write_all(out, buf, (size_t)k) < 0)
            return stop_requested ? 0 : 1;
    }
    return 0;
}

#define LIVE_USAGE \
    "usage: netstack-pcap live SOCKET [-w FILE] [-s SNAPLEN]\n" \
    "  SOCKET      a running netstackd's --api-socket\n" \
    "  -w FILE     write the pcap stream to FILE (default and \"-\": stdout)\n" \
    "  -s SNAPLEN  bytes kept of each frame, 64 to 262144\n"

/**
 * parse_args() - SOCKET [-w FILE] [-s SNAPLEN]
 * Return: 0; 1 when --help was asked (and printed); -1 for a bad command line
 */
static int parse_args(int argc, char **argv, const char **sock, const char **file,
                      unsigned *snaplen)
{
    int i;

    *sock = *file = NULL;
    *snaplen = 0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("%s", LIVE_USAGE);
            return 1;
        } else if (!strcmp(argv[i], "-w") && i + 1 < argc) {
            *file = argv[++i];
        } else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);

            if (*end || v < 64 || v > 262144) {
                fprintf(stderr, "netstack-pcap: -s %s: expected 64 to 262144\n", argv[i]);
                return -1;
            }
            *snaplen = (unsigned)v;
        } else if (argv[i][0] != '-' && !*sock) {
            *sock = argv[i];
        } else {
            fprintf(stderr, "netstack-pcap: live: unexpected argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!*sock) {
        fprintf(stderr, "%s", LIVE_USAGE);
        return -1;
    }
    return 0;
}

int ns_pcap_live_main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_signal };
    const char *sock, *file;
    char first[REPLY_MAX];
    size_t nfirst = 0;
    unsigned snaplen;
    int fd, out = 1, rc;

    rc = parse_args(argc, argv, &sock, &file, &snaplen);
    if (rc)
        return rc < 0 ? 2 : 0;
    if (file && !strcmp(file, "-"))
        file = NULL;        /* "-" is stdout, as for replay's -w */
    if (file && (out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
        fprintf(stderr, "netstack-pcap: %s: %s\n", file, strerror(errno));
        return 2;
    }
    sigaction(SIGINT, &sa, NULL);   /* no SA_RESTART: a blocked read() returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    fd = connect_api(sock);
    if (fd < 0 || ask_stream(fd, snaplen, first, &nfirst) < 0) {
        rc = 1;
    } else {
        rc = copy_stream(fd, out, first, nfirst);
    }
    if (fd >= 0)
        close(fd);
    if (file)
        close(out);
    return rc;
}
