/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat.c - address mapping and host socket set-up shared by the NAT modules
 *
 * Theory of Operation: the guest sees one flat subnet. Its own addresses (the
 * gateway) are answered inside the stack; the host-loopback alias stands for
 * the host's 127.0.0.1; every address outside the subnet is the host's to
 * reach through an ordinary socket, so it follows the host's routes, VPN and
 * firewall. Other addresses inside the subnet have nothing behind them (only
 * guests live there, and guests reach each other on their own link), and
 * broadcast, multicast, "this network" and loopback destinations are never
 * sent anywhere.
 *
 * IPv6 follows the same rules: the guest's /64 and the link-local addresses
 * are its link, the alias's twin stands for the host's ::1, and every other
 * unicast address is the host's to reach. The tables shared by both families
 * keep IPv4 addresses mapped (::ffff:a.b.c.d); an IPv6 packet addressed to a
 * mapped address would pass for IPv4, so it is never forwarded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

int ns_nat_to_host(const struct netstack *ns, uint32_t dst, uint16_t port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (ns->cfg.restricted)
        return -1;
    if (ns->link.host_loopback && dst == ns->link.host_loopback) {
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return 0;
    }
    if (ns_in_subnet(ns, dst) || dst == IPV4_BROADCAST || (dst >> 28) == 0xe ||
        (dst >> 28) == 0xf || (dst >> 24) == 0 || (dst >> 24) == 127)
        return -1;
    sa->sin_addr.s_addr = htonl(dst);
    return 0;
}

int ns_nat_from_host(const struct netstack *ns, const struct sockaddr_in *sa, uint32_t *addr)
{
    uint32_t a = ntohl(sa->sin_addr.s_addr);

    if ((a >> 24) == 127) {
        if (!ns->link.host_loopback)
            return -1;
        a = ns->link.host_loopback;
    }
    *addr = a;
    return 0;
}

/**
 * forwardable6() - may a guest's IPv6 packet to @dst leave through the host?
 */
static int forwardable6(const struct netstack *ns, const struct in6_addr *dst)
{
    return !ns_ip6_is_unspecified(dst) && !IN6_IS_ADDR_LOOPBACK(dst) &&
           !ns_ip6_is_multicast(dst) && !ns_ip6_is_mapped4(dst) &&
           !IN6_IS_ADDR_V4COMPAT(dst) && !ns_ip6_is_link_local(dst) &&
           !IN6_IS_ADDR_SITELOCAL(dst) && !ns_ipv6_in_prefix(&ns->link, dst);
}

int ns_nat_to_host_addr(const struct netstack *ns, const struct in6_addr *dst, uint16_t port,
                        union ns_sockaddr *sa, socklen_t *len)
{
    memset(sa, 0, sizeof(*sa));
    if (ns_ip6_is_mapped4(dst)) {
        *len = sizeof(sa->in);
        return ns_nat_to_host(ns, ns_ip6_get4(dst), port, &sa->in);
    }
    *len = sizeof(sa->in6);
    sa->in6.sin6_family = AF_INET6;
    sa->in6.sin6_port = htons(port);
    if (ns->cfg.restricted || !ns->link.ipv6)
        return -1;
    if (ns->link.host_loopback && ns_ip6_equal(dst, &ns->link.host_loopback6)) {
        sa->in6.sin6_addr = in6addr_loopback;
        return 0;
    }
    if (!forwardable6(ns, dst))
        return -1;
    sa->in6.sin6_addr = *dst;
    return 0;
}

int ns_nat_from_host_addr(const struct netstack *ns, const union ns_sockaddr *sa,
                          struct in6_addr *addr)
{
    uint32_t a;

    if (sa->sa.sa_family == AF_INET) {
        if (ns_nat_from_host(ns, &sa->in, &a))
            return -1;
        *addr = ns_ip6_mapped4(a);
        return 0;
    }
    if (sa->sa.sa_family != AF_INET6 || !ns->link.ipv6)
        return -1;
    if (IN6_IS_ADDR_LOOPBACK(&sa->in6.sin6_addr)) {
        if (!ns->link.host_loopback)
            return -1;
        *addr = ns->link.host_loopback6;
        return 0;
    }
    *addr = sa->in6.sin6_addr;
    return 0;
}

int ns_nat_hidden_source(const struct netstack *ns, const struct in6_addr *a)
{
    if (ns_ip6_is_mapped4(a))
        return ns_in_subnet(ns, ns_ip6_get4(a)) && ns_ip6_get4(a) != ns->link.host_loopback;
    return (ns_ipv6_in_prefix(&ns->link, a) || ns_ip6_is_link_local(a)) &&
           !(ns->link.host_loopback && ns_ip6_equal(a, &ns->link.host_loopback6));
}

int ns_nat_host_routes_ipv6(void)
{
    /* 2001:db8::/32 is for documentation: routed by a default route, never by a real one. */
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(53),
                               .sin6_addr = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } } };
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;     /* a lookup: nothing is sent */
    close(fd);
    return ok;
}

void ns_nat_tcp_tune(int fd)
{
    int one = 1;

    /* The guest's stack already decided segmentation; don't delay it again. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

int ns_nat_tcp_socket(int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    ns_nat_tcp_tune(fd);
    return fd;
}
