/*
 * stack.h - private: the stack object and the helpers every module uses
 *
 * Internally, IPv4 addresses are uint32_t in host byte order (the public API
 * uses struct in_addr, network order); conversion happens once, in stack.c.
 */
#ifndef NETSTACK_STACK_H
#define NETSTACK_STACK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/include/netstack.h"
#include "netstack/loop.h"
#include "netstack/tx.h"

struct ns_dhcp;
struct ns_reasm;
struct netif;
struct ns_tcp_nat;
struct ns_udp_nat;
struct ns_icmp_nat;
struct ns_dns;
struct ns_portfwd;
struct ns_udp_fwd;
struct ns_pcbs;
struct ns_capture;

/* Neighbours on the guest's link, learned from ARP and IPv4 source addresses. */
#define NS_NEIGH_MAX 16

struct ns_neigh {
    uint32_t ip;
    uint8_t mac[6];
    uint64_t seen_ms;
};

struct netstack {
    struct netstack_config cfg;     /* strings below are our own copies */
    char *domain_name;
    char *search_domains;

    uint32_t subnet;                /* host order, as all addresses below */
    uint32_t netmask;
    uint32_t gateway;
    uint32_t host_loopback;         /* 0 when disabled */
    uint32_t broadcast;

    uint32_t offloads;              /* NETSTACK_LINK_*, from netstack_set_offloads() */
    const struct netstack_offload *rx_offload;  /* the frame being parsed; NULL: plain */

    struct ns_neigh neigh[NS_NEIGH_MAX];
    uint16_t ip_id;                 /* identification of our own datagrams */

    uint64_t stats[NETSTACK_STAT_COUNT];

    int reserve_fd;                 /* given up to shed a connection at EMFILE (limits.c) */
    int warned_accept_fds;          /* that was logged */

    struct ns_loop loop;
    struct ns_tx tx;
    struct ns_dhcp *dhcp;
    struct ns_reasm *reasm;
    struct netif *netif;            /* lwIP's view of the guest link */
    struct ns_tcp_nat *tcp_nat;     /* netstack/tcp_nat.c */
    struct ns_udp_nat *udp_nat;     /* netstack/udp_nat.c */
    struct ns_icmp_nat *icmp_nat;   /* netstack/icmp_nat.c */
    struct ns_dns *dns;             /* dns/server.c */
    struct ns_portfwd *portfwd;     /* portfwd/forward.c */
    struct ns_udp_fwd *udp_fwd;     /* portfwd/udp_fwd.c */
    struct ns_pcbs *pcbs;           /* netstack/tcp_pcbs.c */
    struct ns_capture *capture;     /* netstack/capture.c; NULL: nothing captures */
};

#define NS_COUNT(ns, name) ((ns)->stats[NETSTACK_STAT_##name]++)
#define NS_COUNT_N(ns, name, n) ((ns)->stats[NETSTACK_STAT_##name] += (n))

/* ns_log() - log through the embedder's callback, if @level is enabled. */
void ns_log(struct netstack *ns, enum netstack_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ns_flush() - send the queue, resume paused host sockets if it drained (stack.c). */
void ns_flush(struct netstack *ns);

/* ns_now_ns(), ns_now_ms() - the stack's monotonic clock (config.clock_ns, or the system's). */
uint64_t ns_now_ns(void);
uint64_t ns_now_ms(void);

/* ns_in_subnet() - is @ip (host order) inside the guest subnet? */
static inline int ns_in_subnet(const struct netstack *ns, uint32_t ip)
{
    return (ip & ns->netmask) == ns->subnet;
}

/* ns_is_local() - is @ip one of the stack's own addresses (gateway, alias)? */
static inline int ns_is_local(const struct netstack *ns, uint32_t ip)
{
    return ip == ns->gateway || (ns->host_loopback && ip == ns->host_loopback);
}

/* Neighbour table: ethernet/neigh.c */
void ns_neigh_learn(struct netstack *ns, uint32_t ip, const uint8_t mac[6]);
int ns_neigh_lookup(struct netstack *ns, uint32_t ip, uint8_t mac[6]);
void ns_neigh_flush(struct netstack *ns);

#endif /* NETSTACK_STACK_H */
