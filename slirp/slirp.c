/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * slirp.c - libslirp's lifecycle and event loop on netstack
 *
 * The embedder owns the loop, as with libslirp: slirp_pollfds_fill() adds
 * the stack's one descriptor (netstack_fd(), an epoll set holding every host
 * socket) and shortens the embedder's timeout to the stack's next deadline;
 * slirp_pollfds_poll() runs what is ready. One embedder timer, armed for the
 * same deadline, wakes the stack too when the embedder sleeps on something
 * else. Frames to the guest go to send_packet one by one; that callback may
 * drop (libslirp's contract), and TCP recovers as from a lossy link.
 * The clock is the embedder's (QEMU's virtual clock: the stack's timers stop
 * with a paused VM, as libslirp's do).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slirp/config.h"
#include "slirp/slirp_priv.h"

#define GUEST_ERROR_CHECK_MS 1000   /* how often the drop counters are compared */

void slirp_log(const char *fmt, ...)
{
    va_list ap;

    fputs("netstack (libslirp API): ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int64_t slirp_now_ms(const Slirp *s)
{
    return s->cb.clock_get_ns(s->opaque) / 1000000;
}

static uint64_t stack_clock_ns(void *opaque)
{
    const Slirp *s = opaque;
    int64_t ns = s->cb.clock_get_ns(s->opaque);

    return ns > 0 ? (uint64_t)ns : 0;
}

static ssize_t send_frames(void *opaque, const struct netstack_frame *f, size_t n)
{
    Slirp *s = opaque;
    size_t i;

    for (i = 0; i < n; i++)
        s->cb.send_packet(f[i].data, f[i].len, s->opaque);
    return (ssize_t)n;
}

static void stack_log(void *opaque, enum netstack_log_level level, const char *msg)
{
    (void)opaque;
    (void)level;
    slirp_log("%s", msg);
}

/**
 * copy_callbacks() - the embedder's callbacks, those of its version only.
 * Return: 0, -1 without the ones every embedder must give (logged).
 */
static int copy_callbacks(Slirp *s, const SlirpCb *cb, uint32_t version)
{
    memset(&s->cb, 0, sizeof(s->cb));
    memcpy(&s->cb, cb, offsetof(SlirpCb, init_completed));
    if (version >= 4) {
        s->cb.init_completed = cb->init_completed;
        s->cb.timer_new_opaque = cb->timer_new_opaque;
    }
    if (!s->cb.send_packet || !s->cb.clock_get_ns) {
        slirp_log("send_packet and clock_get_ns are required");
        return -1;
    }
    return 0;
}

static void timer_fired(void *opaque)
{
    Slirp *s = opaque;

    s->timer_ms = -1;
    netstack_dispatch(s->ns);
}

/**
 * make_timer() - the embedder's timer for the stack's deadlines, if it gives timers.
 */
static void make_timer(Slirp *s)
{
    s->timer_ms = -1;
    if (s->cb.timer_new_opaque)
        s->timer = s->cb.timer_new_opaque(SLIRP_TIMER_RA, s, s->opaque);
    else if (s->cb.timer_new)
        s->timer = s->cb.timer_new(timer_fired, s, s->opaque);
}

Slirp *slirp_new(const SlirpConfig *cfg, const SlirpCb *callbacks, void *opaque)
{
    struct netstack_config nc;
    char *search = NULL;
    Slirp *s;
    int rc;

    if (!cfg || !callbacks || cfg->version < SLIRP_CONFIG_VERSION_MIN ||
        cfg->version > SLIRP_CONFIG_VERSION_MAX) {
        slirp_log("no config, no callbacks, or a config version other than %d to %d",
                  SLIRP_CONFIG_VERSION_MIN, SLIRP_CONFIG_VERSION_MAX);
        return NULL;
    }
    if (!(s = calloc(1, sizeof(*s))))
        return NULL;
    s->opaque = opaque;
    s->poll_idx = -1;
    s->dhcp_start = cfg->vdhcp_start;
    if (copy_callbacks(s, callbacks, cfg->version) || slirp_make_config(cfg, &nc, &search))
        goto fail;
    nc.send_frames = send_frames;
    nc.log = stack_log;
    nc.log_level = NETSTACK_LOG_ERROR;  /* libslirp prints nothing of its own while it works */
    nc.clock_ns = stack_clock_ns;
    nc.opaque = s;
    rc = netstack_new(&nc, &s->ns);
    free(search);
    search = NULL;
    if (rc) {
        slirp_log(rc == -EBUSY ? "one stack per process: this one already has a slirp instance"
                               : "the stack could not start: %s", strerror(-rc));
        goto fail;
    }
    s->errors_ms = slirp_now_ms(s);
    if (s->cb.init_completed)
        s->cb.init_completed(s, s->opaque);
    make_timer(s);
    if (s->cb.register_poll_fd)
        s->cb.register_poll_fd(netstack_fd(s->ns), s->opaque);
    return s;
fail:
    free(search);
    free(s);
    return NULL;
}

Slirp *slirp_init(int restricted, bool in_enabled, struct in_addr vnetwork,
                  struct in_addr vnetmask, struct in_addr vhost, bool in6_enabled,
                  struct in6_addr vprefix_addr6, uint8_t vprefix_len, struct in6_addr vhost6,
                  const char *vhostname, const char *tftp_server_name, const char *tftp_path,
                  const char *bootfile, struct in_addr vdhcp_start, struct in_addr vnameserver,
                  struct in6_addr vnameserver6, const char **vdnssearch,
                  const char *vdomainname, const SlirpCb *callbacks, void *opaque)
{
    SlirpConfig cfg = {
        .version = 1, .restricted = restricted, .in_enabled = in_enabled,
        .vnetwork = vnetwork, .vnetmask = vnetmask, .vhost = vhost,
        .in6_enabled = in6_enabled, .vprefix_addr6 = vprefix_addr6,
        .vprefix_len = vprefix_len, .vhost6 = vhost6, .vhostname = vhostname,
        .tftp_server_name = tftp_server_name, .tftp_path = tftp_path, .bootfile = bootfile,
        .vdhcp_start = vdhcp_start, .vnameserver = vnameserver, .vnameserver6 = vnameserver6,
        .vdnssearch = vdnssearch, .vdomainname = vdomainname,
    };

    return slirp_new(&cfg, callbacks, opaque);
}

void slirp_cleanup(Slirp *s)
{
    if (!s)
        return;
    if (s->cb.unregister_poll_fd)
        s->cb.unregister_poll_fd(netstack_fd(s->ns), s->opaque);
    if (s->timer && s->cb.timer_free)
        s->cb.timer_free(s->timer, s->opaque);
    netstack_free(s->ns);
    free(s);
}

void slirp_input(Slirp *s, const uint8_t *pkt, int pkt_len)
{
    if (s && pkt && pkt_len > 0)
        netstack_input(s->ns, pkt, (size_t)pkt_len);
}

/**
 * arm_timer() - the embedder's timer at the stack's next deadline, @ms from now.
 */
static void arm_timer(Slirp *s, int ms)
{
    int64_t due;

    if (!s->timer || !s->cb.timer_mod || ms < 0)
        return;
    due = slirp_now_ms(s) + ms;
    /*
     * Already set to fire no later. The stack's milliseconds and the
     * embedder's round at different points, so the same deadline may come
     * out one earlier: that is not a new one.
     */
    if (s->timer_ms >= 0 && s->timer_ms <= due + 1)
        return;
    s->timer_ms = due;
    s->cb.timer_mod(s->timer, due, s->opaque);
}

void slirp_pollfds_fill(Slirp *s, uint32_t *timeout, SlirpAddPollCb add_poll, void *opaque)
{
    int ms;

    if (!s || !add_poll)
        return;
    s->poll_idx = add_poll(netstack_fd(s->ns), SLIRP_POLL_IN, opaque);
    ms = netstack_next_timeout(s->ns);
    if (ms >= 0 && timeout && (uint32_t)ms < *timeout)
        *timeout = (uint32_t)ms;
    arm_timer(s, ms);
}

/**
 * report_guest_errors() - what the guest sent that the stack dropped as
 * malformed since the last report, through guest_error, once a second at most.
 */
static void report_guest_errors(Slirp *s)
{
    uint64_t c[NETSTACK_STAT_COUNT], bad = 0;
    int64_t now = slirp_now_ms(s);
    char msg[160];
    unsigned i;

    if (!s->cb.guest_error || now - s->errors_ms < GUEST_ERROR_CHECK_MS)
        return;
    s->errors_ms = now;
    netstack_get_stats(s->ns, c, NETSTACK_STAT_COUNT);
    for (i = 0; i < NETSTACK_STAT_COUNT; i++)
        if (!strncmp(netstack_stat_name(i), "drop_", 5) &&
            (strstr(netstack_stat_name(i), "malformed") || strstr(netstack_stat_name(i), "checksum")))
            bad += c[i];
    if (bad > s->errors) {
        snprintf(msg, sizeof(msg), "netstack: %llu malformed frames from the guest dropped",
                 (unsigned long long)(bad - s->errors));
        s->cb.guest_error(msg, s->opaque);
    }
    s->errors = bad;
}

void slirp_pollfds_poll(Slirp *s, int select_error, SlirpGetREventsCb get_revents, void *opaque)
{
    int ready = 0;

    if (!s)
        return;
    if (!select_error && s->poll_idx >= 0 && get_revents)
        ready = get_revents(s->poll_idx, opaque) & (SLIRP_POLL_IN | SLIRP_POLL_ERR | SLIRP_POLL_HUP);
    s->poll_idx = -1;
    if (ready || netstack_next_timeout(s->ns) == 0)
        netstack_dispatch(s->ns);
    report_guest_errors(s);
}

void slirp_handle_timer(Slirp *s, SlirpTimerId id, void *cb_opaque)
{
    (void)cb_opaque;
    if (!s || id != SLIRP_TIMER_RA)
        return;
    timer_fired(s);
}

const char *slirp_version_string(void)
{
    static char v[64];

    if (!v[0])
        snprintf(v, sizeof(v), "%s-netstack-%s", SLIRP_VERSION_STRING, netstack_version());
    return v;
}
