/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forward.c - the table of port forwards and their host sockets
 *
 * Theory of Operation: a forward publishes a guest port on the host, like
 * `docker run -p`: for each host port of its range a socket is bound at once
 * (so a port in use is an error of the add call, not a surprise later) and
 * watched in the stack's loop. A readable TCP listener goes to tcp_fwd.c,
 * which opens the connection into the guest with lwIP before the client gets
 * anything; a readable UDP socket goes to udp_fwd.c. Removing a forward closes
 * its sockets, so new clients are refused, while the TCP connections it
 * already started go on until they end: they belong to the NAT's table. (UDP
 * flows share the forward's socket, so they end with it.)
 * Forwards are identified by handles that are never reused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ethernet/ipv6.h"
#include "ethernet/neigh.h"
#include "netstack/stack.h"
#include "portfwd/portfwd.h"

#define FWD_BACKLOG 128

/*
 * struct ns_portfwd - the forwards of the stack
 * @list:       forwards in the order added
 * @next_id:    the next handle
 */
struct ns_portfwd {
    struct ns_fwd *list;
    uint32_t next_id;
};

int ns_fwd_guest(struct netstack *ns, const struct ns_fwd_port *p, struct in6_addr *out)
{
    if (!ns_ip6_is_unspecified(&p->guest)) {
        *out = p->guest;
        return 0;
    }
    return ns_neigh6_guest(&ns->link, out) ? 0 : -1;
}

void ns_fwd_source(const struct netstack *ns, const struct sockaddr_storage *client, int preserve,
                   int v6, struct in6_addr *ip, uint16_t *port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)client;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)client;
    uint32_t a;

    *ip = v6 ? ns->link.gateway6 : ns_ip6_mapped4(ns->link.gateway);
    *port = 0;
    if (!preserve)
        return;
    if (!v6 && client->ss_family == AF_INET) {
        a = ntohl(sin->sin_addr.s_addr);
        *port = ntohs(sin->sin_port);
        if ((a >> 24) == 127)   /* a client on the host's loopback */
            a = ns->link.host_loopback ? ns->link.host_loopback : ns->link.gateway;
        *ip = ns_ip6_mapped4(a);
    } else if (v6 && client->ss_family == AF_INET6 &&
               !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
               !ns_ip6_is_link_local(&sin6->sin6_addr)) {
        *port = ntohs(sin6->sin6_port);
        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
            *ip = ns->link.host_loopback ? ns->link.host_loopback6 : ns->link.gateway6;
        else
            *ip = sin6->sin6_addr;
    }
}

/**
 * on_port() - the loop: a forward's host socket is readable.
 */
static void on_port(void *opaque, int fd, uint32_t events)
{
    struct ns_fwd_port *p = opaque;
    struct netstack *ns = p->fw->ns;

    if (p->fw->spec.proto == NETSTACK_PROTO_TCP)
        ns_tcp_fwd_accept(ns, p);
    else
        ns_udp_fwd_readable(ns, p);
}

/**
 * guest_of() - the guest address @fw sends to (IPv4 mapped; all zero: an
 * IPv6 address learned per client). Return: 0, -EINVAL for an address that is
 * not a guest's (outside its subnet or /64, the stack's own, IPv6 off).
 */
static int guest_of(const struct netstack *ns, const struct netstack_forward *fw,
                    struct in6_addr *guest)
{
    uint32_t g;

    if (fw->guest_v6) {
        *guest = fw->guest_addr6;
        if (!ns->link.ipv6 || (!ns_ip6_is_unspecified(guest) &&
                          (!ns_ipv6_in_prefix(&ns->link, guest) || ns_ipv6_is_local(&ns->link, guest))))
            return -EINVAL;
        return 0;
    }
    g = fw->guest_addr.s_addr ? ntohl(fw->guest_addr.s_addr) : ntohl(ns->cfg.dhcp_first.s_addr);
    if (!ns_in_subnet(ns, g) || ns_is_local(ns, g))
        return -EINVAL;
    *guest = ns_ip6_mapped4(g);
    return 0;
}

/**
 * check_spec() - reject what cannot be forwarded. Return: 0 or -EINVAL.
 */
static int check_spec(const struct netstack_forward *fw)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&fw->host_addr;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&fw->host_addr;
    unsigned count = fw->count ? fw->count : 1;
    unsigned port;

    if (fw->proto != NETSTACK_PROTO_TCP && fw->proto != NETSTACK_PROTO_UDP)
        return -EINVAL;
    if (fw->host_addr.ss_family == AF_INET)
        port = ntohs(sin->sin_port);
    else if (fw->host_addr.ss_family == AF_INET6)
        port = ntohs(sin6->sin6_port);
    else
        return -EINVAL;
    if (!port || !fw->guest_port || port + count - 1 > 65535 ||
        (unsigned)fw->guest_port + count - 1 > 65535)
        return -EINVAL;
    return 0;
}

/**
 * bind_port() - the host socket for host port @port of @fw. Return: the fd or -errno.
 */
static int bind_port(const struct netstack_forward *fw, uint16_t port)
{
    struct sockaddr_storage sa = fw->host_addr;
    int one = 1, type = fw->proto == NETSTACK_PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
    int fd = socket(sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;
    socklen_t len;

    if (fd < 0)
        return -errno;
    if (sa.ss_family == AF_INET) {
        ((struct sockaddr_in *)&sa)->sin_port = htons(port);
        len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
        len = sizeof(struct sockaddr_in6);
        /* [::] and 0.0.0.0 are separate forwards, as with two -p options */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, len) < 0 ||
        (type == SOCK_STREAM && listen(fd, FWD_BACKLOG) < 0)) {
        err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/**
 * close_ports() - close every host socket of @f (UDP flows of a port go first).
 */
static void close_ports(struct netstack *ns, struct ns_fwd *f)
{
    while (f->ports) {
        struct ns_fwd_port *p = f->ports;

        f->ports = p->next;
        if (f->spec.proto == NETSTACK_PROTO_UDP)
            ns_udp_fwd_port_closed(ns, p);
        ns_loop_del(&ns->loop, p->fd);
        close(p->fd);
        free(p);
    }
}

/**
 * open_ports() - bind and watch every port of @f. Return: 0 or -errno (none left open).
 */
static int open_ports(struct netstack *ns, struct ns_fwd *f, uint16_t first,
                      const struct in6_addr *guest)
{
    unsigned i, count = f->spec.count ? f->spec.count : 1;
    struct ns_fwd_port **tail = &f->ports;

    for (i = 0; i < count; i++) {
        struct ns_fwd_port *p = calloc(1, sizeof(*p));
        int fd = p ? bind_port(&f->spec, (uint16_t)(first + i)) : -ENOMEM;

        if (fd < 0 || ns_loop_set(&ns->loop, fd, NETSTACK_EV_IN, on_port, p) < 0) {
            if (fd >= 0)
                close(fd);
            free(p);
            close_ports(ns, f);
            return fd < 0 ? fd : -ENOMEM;
        }
        p->fw = f;
        p->fd = fd;
        p->guest = *guest;
        p->guest_port = (uint16_t)(f->spec.guest_port + i);
        *tail = p;
        tail = &p->next;
    }
    return 0;
}

int netstack_forward_add(struct netstack *ns, const struct netstack_forward *fw, uint32_t *id)
{
    struct ns_portfwd *pf;
    struct ns_fwd *f, **tail;
    struct in6_addr guest;
    char where[INET6_ADDRSTRLEN + 16] = "";
    uint16_t first;
    int rc;

    if (!ns || !fw || !id || check_spec(fw) || guest_of(ns, fw, &guest))
        return -EINVAL;
    pf = ns->portfwd;
    first = fw->host_addr.ss_family == AF_INET
                ? ntohs(((const struct sockaddr_in *)&fw->host_addr)->sin_port)
                : ntohs(((const struct sockaddr_in6 *)&fw->host_addr)->sin6_port);
    f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->ns = ns;
    f->spec = *fw;
    rc = open_ports(ns, f, first, &guest);
    if (rc) {
        free(f);
        return rc;
    }
    f->id = pf->next_id++;
    for (tail = &pf->list; *tail; tail = &(*tail)->next)
        ;
    *tail = f;
    *id = f->id;
    if (fw->guest_v6) {
        char a[INET6_ADDRSTRLEN] = "its learned address";

        if (!ns_ip6_is_unspecified(&guest))
            inet_ntop(AF_INET6, &guest, a, sizeof(a));
        snprintf(where, sizeof(where), " over IPv6 (%s)", a);
    }
    ns_log(ns, NETSTACK_LOG_INFO, "forward %u: %s host port %u%s to guest port %u%s", f->id,
           fw->proto == NETSTACK_PROTO_TCP ? "tcp" : "udp", first,
           fw->count > 1 ? " (range)" : "", fw->guest_port, where);
    return 0;
}

int netstack_forward_remove(struct netstack *ns, uint32_t id)
{
    struct ns_fwd **pp, *f;

    for (pp = &ns->portfwd->list; (f = *pp); pp = &f->next) {
        if (f->id != id)
            continue;
        *pp = f->next;
        close_ports(ns, f);
        free(f);
        return 0;
    }
    return -ENOENT;
}

int netstack_forward_list(struct netstack *ns, netstack_forward_fn cb, void *opaque)
{
    struct ns_fwd *f;
    int rc;

    for (f = ns->portfwd->list; f; f = f->next) {
        rc = cb(opaque, f->id, &f->spec);
        if (rc)
            return rc;
    }
    return 0;
}

int ns_portfwd_start(struct netstack *ns)
{
    ns->portfwd = calloc(1, sizeof(*ns->portfwd));
    if (!ns->portfwd)
        return -ENOMEM;
    ns->portfwd->next_id = 1;
    return ns_udp_fwd_start(ns);
}

void ns_portfwd_guest_gone(struct netstack *ns)
{
    ns_tcp_fwd_stop(ns);
    ns_udp_fwd_guest_gone(ns);
}

void ns_portfwd_stop(struct netstack *ns)
{
    if (!ns->portfwd)
        return;
    while (ns->portfwd->list)
        netstack_forward_remove(ns, ns->portfwd->list->id);
    ns_tcp_fwd_stop(ns);
    ns_udp_fwd_stop(ns);
    free(ns->portfwd);
    ns->portfwd = NULL;
}
