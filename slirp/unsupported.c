/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * unsupported.c - libslirp's calls netstack does not serve: guest forwards
 * to a command, a unix socket or the embedder (QEMU's guestfwd=), and the
 * state saved for migration. Each returns libslirp's failure value and says
 * so once on stderr; none pretends to have done its work.
 */
#include "slirp/slirp_priv.h"

/* NETSTACK_SLIRP_STATE_VERSION: libslirp 4.7's, so a caller's checks agree. */
#define NETSTACK_SLIRP_STATE_VERSION 4

enum { ONCE_GUESTFWD, ONCE_STATE_SAVE, ONCE_STATE_LOAD, ONCE_N };

/**
 * once() - log @what the first time it is asked for.
 */
static void once(int which, const char *what)
{
    static int said[ONCE_N];

    if (!said[which]++)
        slirp_log("%s: not implemented", what);
}

int slirp_add_exec(Slirp *s, const char *cmdline, struct in_addr *guest_addr, int guest_port)
{
    (void)s, (void)cmdline, (void)guest_addr, (void)guest_port;
    once(ONCE_GUESTFWD, "guest forwards (guestfwd=, exec, unix sockets)");
    return -1;
}

int slirp_add_unix(Slirp *s, const char *unixsock, struct in_addr *guest_addr, int guest_port)
{
    (void)s, (void)unixsock, (void)guest_addr, (void)guest_port;
    once(ONCE_GUESTFWD, "guest forwards (guestfwd=, exec, unix sockets)");
    return -1;
}

int slirp_add_guestfwd(Slirp *s, SlirpWriteCb write_cb, void *opaque, struct in_addr *guest_addr,
                       int guest_port)
{
    (void)s, (void)write_cb, (void)opaque, (void)guest_addr, (void)guest_port;
    once(ONCE_GUESTFWD, "guest forwards (guestfwd=, exec, unix sockets)");
    return -1;
}

int slirp_remove_guestfwd(Slirp *s, struct in_addr guest_addr, int guest_port)
{
    (void)s, (void)guest_addr, (void)guest_port;
    return -1;  /* none can exist */
}

size_t slirp_socket_can_recv(Slirp *s, struct in_addr guest_addr, int guest_port)
{
    (void)s, (void)guest_addr, (void)guest_port;
    return 0;   /* no guest forward to receive */
}

void slirp_socket_recv(Slirp *s, struct in_addr guest_addr, int guest_port, const uint8_t *buf,
                       int size)
{
    (void)s, (void)guest_addr, (void)guest_port, (void)buf, (void)size;
    once(ONCE_GUESTFWD, "guest forwards (guestfwd=, exec, unix sockets)");
}

void slirp_state_save(Slirp *s, SlirpWriteCb write_cb, void *opaque)
{
    (void)s, (void)write_cb, (void)opaque;
    once(ONCE_STATE_SAVE, "saving the network's state for migration (nothing was written: "
                          "the guest's connections will not survive the move)");
}

int slirp_state_version(void)
{
    return NETSTACK_SLIRP_STATE_VERSION;
}

int slirp_state_load(Slirp *s, int version_id, SlirpReadCb read_cb, void *opaque)
{
    (void)s, (void)version_id, (void)read_cb, (void)opaque;
    once(ONCE_STATE_LOAD, "loading a migrated network state");
    return -1;
}
