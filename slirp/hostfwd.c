/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostfwd.c - libslirp's host forwards as netstack forwards
 *
 * A forward is found again by what libslirp's callers name it by: the
 * protocol and the host address and port. As in libslirp, a client on the
 * host's loopback reaches the guest from the gateway's address (vhost) and
 * any other client from its own. An IPv6 host address of :: without
 * SLIRP_HOSTFWD_V6ONLY takes IPv4 clients too: netstack binds the families
 * apart, so that is two netstack forwards, added and removed together.
 */
#include <arpa/inet.h>
#include <string.h>

#include "slirp/slirp_priv.h"

struct find {
    enum netstack_proto proto;
    struct sockaddr_storage host;
    uint32_t id;
};

/**
 * same_host() - is @a the host address and port @b names?
 */
static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
    const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
    return a6->sin6_port == b6->sin6_port &&
           !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}

static int find_cb(void *opaque, uint32_t id, const struct netstack_forward *fw)
{
    struct find *f = opaque;

    if (fw->proto != f->proto || !same_host(&fw->host_addr, &f->host))
        return 0;
    f->id = id;
    return 1;
}

/**
 * remove_one() - remove the forward of @proto on @host. Return: 0, -1 if none.
 */
static int remove_one(Slirp *s, enum netstack_proto proto, const struct sockaddr_storage *host)
{
    struct find f = { .proto = proto, .host = *host };

    if (netstack_forward_list(s->ns, find_cb, &f) != 1)
        return -1;
    return netstack_forward_remove(s->ns, f.id) ? -1 : 0;
}

/**
 * take_addr() - a caller's sockaddr into @ss. Return: 0, -1 for a family or length we cannot take.
 */
static int take_addr(struct sockaddr_storage *ss, const struct sockaddr *sa, socklen_t len)
{
    memset(ss, 0, sizeof(*ss));
    if (!sa || (sa->sa_family == AF_INET && len < (socklen_t)sizeof(struct sockaddr_in)) ||
        (sa->sa_family == AF_INET6 && len < (socklen_t)sizeof(struct sockaddr_in6)) ||
        (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return -1;
    memcpy(ss, sa, sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                            : sizeof(struct sockaddr_in6));
    return 0;
}

/**
 * dual_twin() - for [::]:port without V6ONLY, 0.0.0.0:port in @v4. Return: 1 if so.
 */
static int dual_twin(const struct sockaddr_storage *host, int flags, struct sockaddr_storage *v4)
{
    const struct sockaddr_in6 *h6 = (const void *)host;
    struct sockaddr_in *t = (void *)v4;

    if (host->ss_family != AF_INET6 || (flags & SLIRP_HOSTFWD_V6ONLY) ||
        !IN6_IS_ADDR_UNSPECIFIED(&h6->sin6_addr))
        return 0;
    memset(v4, 0, sizeof(*v4));
    t->sin_family = AF_INET;
    t->sin_port = h6->sin6_port;
    return 1;
}

/**
 * add_one() - one netstack forward. Return: 0, -1 (logged).
 */
static int add_one(Slirp *s, const struct netstack_forward *fw)
{
    uint32_t id;
    int rc = netstack_forward_add(s->ns, fw, &id);

    if (rc)
        slirp_log("host forward not added: %s", strerror(-rc));
    return rc ? -1 : 0;
}

int slirp_add_hostxfwd(Slirp *s, const struct sockaddr *haddr, socklen_t haddrlen,
                       const struct sockaddr *gaddr, socklen_t gaddrlen, int flags)
{
    struct netstack_forward fw = { .preserve_source = 1 };
    struct sockaddr_storage g, twin;

    if (!s || take_addr(&fw.host_addr, haddr, haddrlen) || take_addr(&g, gaddr, gaddrlen))
        return -1;
    fw.proto = (flags & SLIRP_HOSTFWD_UDP) ? NETSTACK_PROTO_UDP : NETSTACK_PROTO_TCP;
    if (g.ss_family == AF_INET) {
        fw.guest_addr = ((struct sockaddr_in *)&g)->sin_addr;
        fw.guest_port = ntohs(((struct sockaddr_in *)&g)->sin_port);
        if (!fw.guest_addr.s_addr)
            fw.guest_addr = s->dhcp_start;  /* libslirp's default guest */
    } else {
        fw.guest_v6 = 1;
        fw.guest_addr6 = ((struct sockaddr_in6 *)&g)->sin6_addr;
        fw.guest_port = ntohs(((struct sockaddr_in6 *)&g)->sin6_port);
    }
    if (add_one(s, &fw))
        return -1;
    if (dual_twin(&fw.host_addr, flags, &twin)) {
        struct sockaddr_storage v6 = fw.host_addr;

        fw.host_addr = twin;
        if (add_one(s, &fw)) {
            remove_one(s, fw.proto, &v6);
            return -1;
        }
    }
    return 0;
}

int slirp_remove_hostxfwd(Slirp *s, const struct sockaddr *haddr, socklen_t haddrlen, int flags)
{
    enum netstack_proto proto = (flags & SLIRP_HOSTFWD_UDP) ? NETSTACK_PROTO_UDP
                                                            : NETSTACK_PROTO_TCP;
    struct sockaddr_storage h, twin;
    int rc;

    if (!s || take_addr(&h, haddr, haddrlen))
        return -1;
    rc = remove_one(s, proto, &h);
    if (!rc && dual_twin(&h, flags, &twin))
        remove_one(s, proto, &twin);
    return rc;
}

int slirp_add_hostfwd(Slirp *s, int is_udp, struct in_addr host_addr, int host_port,
                      struct in_addr guest_addr, int guest_port)
{
    struct sockaddr_in h = { .sin_family = AF_INET, .sin_addr = host_addr };
    struct sockaddr_in g = { .sin_family = AF_INET, .sin_addr = guest_addr };

    if (host_port < 0 || host_port > 65535 || guest_port < 0 || guest_port > 65535)
        return -1;
    h.sin_port = htons((uint16_t)host_port);
    g.sin_port = htons((uint16_t)guest_port);
    return slirp_add_hostxfwd(s, (struct sockaddr *)&h, sizeof(h), (struct sockaddr *)&g,
                              sizeof(g), is_udp ? SLIRP_HOSTFWD_UDP : 0);
}

int slirp_remove_hostfwd(Slirp *s, int is_udp, struct in_addr host_addr, int host_port)
{
    struct sockaddr_in h = { .sin_family = AF_INET, .sin_addr = host_addr };

    if (host_port < 0 || host_port > 65535)
        return -1;
    h.sin_port = htons((uint16_t)host_port);
    return slirp_remove_hostxfwd(s, (struct sockaddr *)&h, sizeof(h),
                                 is_udp ? SLIRP_HOSTFWD_UDP : 0);
}
