/*
 * nat.c - address mapping shared by the NAT modules, and their lifecycle
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
#include "netstack/lwip_glue.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "portfwd/portfwd.h"

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

int ns_nat_start(struct netstack *ns)
{
    int rc = ns_tcp_nat_start(ns);

    if (!rc)
        rc = ns_udp_nat_start(ns);
    if (!rc)
        rc = ns_icmp_nat_start(ns);
    return rc;      /* on failure netstack_new() calls ns_nat_stop(), which copes */
}

void ns_nat_stop(struct netstack *ns)
{
    ns_tcp_nat_stop(ns);
    ns_udp_nat_stop(ns);
    ns_icmp_nat_stop(ns);
}

void ns_nat_guest_gone(struct netstack *ns)
{
    ns_tcp_nat_guest_gone(ns);
    ns_udp_nat_guest_gone(ns);
    ns_icmp_nat_guest_gone(ns);
}

void ns_nat_timers(struct netstack *ns, uint64_t now_ms)
{
    ns_tcp_nat_timers(ns, now_ms);
    ns_udp_nat_timers(ns, now_ms);
    ns_icmp_nat_timers(ns, now_ms);
    ns_udp_fwd_timers(ns, now_ms);      /* forwarded UDP flows expire like the NAT's */
}

/* min_timeout() - the sooner of two timeouts, -1 meaning none. */
static int min_timeout(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

int ns_nat_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    int t = -1;

    t = min_timeout(t, ns_tcp_nat_next_timeout(ns, now_ms));
    t = min_timeout(t, ns_udp_nat_next_timeout(ns, now_ms));
    t = min_timeout(t, ns_icmp_nat_next_timeout(ns, now_ms));
    t = min_timeout(t, ns_udp_fwd_next_timeout(ns, now_ms));
    return t;
}

void ns_nat_resume(struct netstack *ns)
{
    ns_lwip_resume(ns);
    ns_tcp_nat_resume(ns);
    ns_udp_nat_resume(ns);
    ns_icmp_nat_resume(ns);
    ns_udp_fwd_resume(ns);
}
