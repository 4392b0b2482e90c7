/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_fwd.c - a host client's TCP connection carried into the guest
 *
 * Theory of Operation: when a forward's listener is readable the client is
 * accepted and lwIP opens the connection to the guest port at once, over the
 * forward's family, from the client's own address and port when the forward
 * preserves the source (a loopback client appears as the host-loopback alias
 * or its IPv6 twin), else from the gateway.
 * The client's socket is not read while that handshake runs. If the guest
 * accepts, the connection is handed to the NAT (ns_tcp_nat_adopt()) and from
 * then on it is an ordinary relayed flow: same relay, limits, counters and
 * teardown as a connection the guest opened. If the guest refuses or never
 * answers, the client's socket is closed with SO_LINGER {1, 0}, so the client
 * gets a reset rather than a connection that stays open with nothing behind.
 *
 * States of a struct fwd_conn: connecting (in the pending list, lwIP's
 * callbacks point at it) until lwIP's connected or error callback; then it is
 * freed either way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/ip_addr.h"
#include "lwip/tcp.h"

#include "ethernet/ipv6.h"
#include "netstack/lwip_glue.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/tcp_flow.h"
#include "portfwd/portfwd.h"

#define FWD_ACCEPTS 16      /* clients accepted per wakeup */

/*
 * struct fwd_conn - a client waiting for the guest to accept
 * @fd:     the accepted client socket
 * @pcb:    lwIP's connection to the guest
 * @key:    the flow's four-tuple as the guest sees it
 */
struct fwd_conn {
    struct netstack *ns;
    int fd;
    struct tcp_pcb *pcb;
    struct tcp_key key;
    uint32_t forward_id;
    struct fwd_conn *next;
};

static struct fwd_conn *pending;    /* lwIP is process-global, so is this list */

/**
 * reset_client() - close @fd so that the client gets a RST.
 */
static void reset_client(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/**
 * unlink_conn() - take @c off the pending list and free it.
 */
static void unlink_conn(struct fwd_conn *c)
{
    struct fwd_conn **pp;

    for (pp = &pending; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    free(c);
}

/**
 * on_connected() - lwIP: the guest accepted; the NAT relays from now on.
 */
static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct fwd_conn *c = arg;
    struct netstack *ns = c->ns;
    int fd = c->fd;

    c->key.dst_port = pcb->local_port;     /* lwIP picked it when not preserved */
    tcp_arg(pcb, NULL);
    tcp_err(pcb, NULL);
    if (ns_tcp_nat_adopt(ns, &c->key, fd, pcb, c->forward_id) < 0) {
        unlink_conn(c);
        reset_client(fd);
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    unlink_conn(c);
    return ERR_OK;
}

/**
 * on_error() - lwIP: the guest refused (RST) or never answered.
 */
static void on_error(void *arg, err_t err)
{
    struct fwd_conn *c = arg;

    if (!c)
        return;
    NS_COUNT(c->ns, tcp_refused);
    reset_client(c->fd);
    unlink_conn(c);
}

/**
 * connect_guest() - start lwIP's connection for client @fd, over the
 * forward's family. Return: 0, -EHOSTUNREACH when the guest's IPv6 address
 * is not known yet, -ENOMEM.
 */
static int connect_guest(struct netstack *ns, struct ns_fwd_port *p, int fd,
                         const struct sockaddr_storage *client)
{
    struct fwd_conn *c;
    struct in6_addr guest, sip;
    ip_addr_t src, dst;
    uint16_t sport;
    int v6;

    if (ns_fwd_guest(ns, p, &guest))
        return -EHOSTUNREACH;
    v6 = !ns_ip6_is_mapped4(&guest);
    ns_fwd_source(ns, client, p->fw->spec.preserve_source, v6, &sip, &sport);
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->pcb = tcp_new_ip_type(v6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
    if (!c->pcb) {
        free(c);
        return -ENOMEM;
    }
    ip_set_option(c->pcb, SOF_REUSEADDR);
    ns_lwip_addr(&sip, &src);
    ns_lwip_addr(&guest, &dst);
    if (tcp_bind(c->pcb, &src, sport) != ERR_OK) {
        tcp_close(c->pcb);
        free(c);
        return -ENOMEM;
    }
    c->ns = ns;
    c->fd = fd;
    c->key = (struct tcp_key){ guest, sip, p->guest_port, sport };
    c->forward_id = p->fw->id;
    tcp_arg(c->pcb, c);
    tcp_err(c->pcb, on_error);
    c->next = pending;
    pending = c;
    if (tcp_connect(c->pcb, &dst, p->guest_port, on_connected) != ERR_OK) {
        tcp_arg(c->pcb, NULL);
        tcp_err(c->pcb, NULL);
        tcp_abort(c->pcb);
        unlink_conn(c);
        return -ENOMEM;
    }
    return 0;
}

void ns_tcp_fwd_accept(struct netstack *ns, struct ns_fwd_port *p)
{
    int i, rc;

    for (i = 0; i < FWD_ACCEPTS; i++) {
        struct sockaddr_storage client;
        socklen_t len = sizeof(client);
        int fd = netstack_accept(ns, p->fd, (struct sockaddr *)&client, &len);

        if (fd < 0)
            return;     /* none pending, or shed for lack of descriptors */
        ns_nat_tcp_tune(fd);
        if (ns_tcp_nat_full(ns)) {
            NS_COUNT(ns, drop_tcp_limit);
            reset_client(fd);
        } else if ((rc = connect_guest(ns, p, fd, &client))) {
            if (rc == -EHOSTUNREACH)
                NS_COUNT(ns, drop_tcp_destination);     /* the guest has no IPv6 address yet */
            else
                NS_COUNT(ns, drop_no_memory);
            reset_client(fd);
        }
    }
}

void ns_tcp_fwd_stop(struct netstack *ns)
{
    while (pending) {
        struct fwd_conn *c = pending;

        tcp_arg(c->pcb, NULL);
        tcp_err(c->pcb, NULL);
        tcp_abort(c->pcb);
        reset_client(c->fd);
        unlink_conn(c);
    }
}
