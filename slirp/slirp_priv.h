/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * slirp_priv.h - libslirp's API on netstack (slirp/): the state behind one
 * Slirp handle, shared by the files of the layer
 *
 * The layer is a client of netstack's public API only. libslirp's types come
 * from the system's <libslirp.h> (Debian's libslirp-dev), so the structures
 * QEMU and slirp4netns pass are laid out exactly as they were compiled with.
 */
#ifndef NETSTACK_SLIRP_PRIV_H
#define NETSTACK_SLIRP_PRIV_H

#include <libslirp.h>
#include <netstack.h>

/*
 * struct Slirp - one stack behind libslirp's handle
 * @ns:         the netstack
 * @cb:         the embedder's callbacks; fields its config version lacks are NULL
 * @opaque:     handed to every callback
 * @timer:      the embedder's timer that wakes the stack at its next deadline
 * @timer_ms:   when @timer is set to fire (the embedder's clock, ms), -1: not set
 * @poll_idx:   netstack_fd()'s index in the embedder's poll set, -1: not added
 * @dhcp_start: the first lease, the guest of a forward that names none
 * @errors:     the guest-error counters already reported
 * @errors_ms:  when they were last compared
 */
struct Slirp {
    struct netstack *ns;
    SlirpCb cb;
    void *opaque;
    void *timer;
    int64_t timer_ms;
    int poll_idx;
    struct in_addr dhcp_start;
    uint64_t errors;
    int64_t errors_ms;
};

/**
 * slirp_log() - one line on stderr, as libslirp's own warnings go there
 * @fmt: printf format
 */
void slirp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * slirp_now_ms() - the embedder's clock (SlirpCb.clock_get_ns) in milliseconds
 * @s: the handle
 */
int64_t slirp_now_ms(const Slirp *s);

#endif /* NETSTACK_SLIRP_PRIV_H */
