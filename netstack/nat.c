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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <string.h>

#include "ethernet/ipv4.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

int ns_nat_to_host(const struct netstack *ns, uint32_t dst, uint16_t port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (ns->cfg.restricted)
        return -1;
    if (ns->host_loopback && dst == ns->host_loopback) {
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
        if (!ns->host_loopback)
            return -1;
        a = ns->host_loopback;
    }
    *addr = a;
    return 0;
}

void ns_nat_tcp_tune(int fd)
{
    int one = 1;

    /* The guest's stack already decided segmentation; don't delay it again. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

int ns_nat_tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    ns_nat_tcp_tune(fd);
    return fd;
}
