/*
 * stack.c - the stack object: configuration, lifetime, frames in, statistics
 *
 * Theory of Operation: netstack_new() checks the configuration, converts its
 * addresses to host order once, and brings up the parts in dependency order:
 * the event loop, the transmit queue, the DHCP server, the reassembly table,
 * then lwIP. Frames from the guest enter through netstack_input(), run to
 * completion in ethernet/ (replies are queued, never sent from inside a
 * parser), and the queue is flushed to the transport when the call returns.
 * lwIP is process-global, hence one stack per process.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns.h"
#include "ethernet/eth.h"
#include "ethernet/ipv4.h"
#include "ethernet/reasm.h"
#include "netstack/bufcache.h"
#include "netstack/dhcp.h"
#include "netstack/capture.h"
#include "netstack/limits.h"
#include "netstack/lwip_glue.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "portfwd/portfwd.h"

static struct netstack *the_stack;     /* lwIP is global: one stack per process */

static const char *const stat_names[] = {
#define NETSTACK_STAT_NAME(name) #name,
    NETSTACK_STATS(NETSTACK_STAT_NAME)
#undef NETSTACK_STAT_NAME
};

uint64_t ns_now_ns(void)
{
    struct timespec ts;

    /* lwIP's sys_now() has no stack argument: the one stack's clock it is. */
    if (the_stack && the_stack->cfg.clock_ns)
        return the_stack->cfg.clock_ns(the_stack->cfg.opaque);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ns_now_ms(void)
{
    return ns_now_ns() / 1000000;
}

void ns_log(struct netstack *ns, enum netstack_log_level level, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (!ns->cfg.log || level > ns->cfg.log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ns->cfg.log(ns->cfg.opaque, level, buf);
}

void netstack_config_init(struct netstack_config *cfg)
{
    static const uint8_t mac[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };

    memset(cfg, 0, sizeof(*cfg));
    cfg->version = NETSTACK_CONFIG_VERSION;
    cfg->subnet.s_addr = htonl(0xc0a84100);         /* 192.168.65.0 */
    cfg->prefix_len = 24;
    cfg->gateway.s_addr = htonl(0xc0a84101);        /* .1 */
    cfg->host_loopback.s_addr = htonl(0xc0a841fe);  /* .254 */
    cfg->dhcp_first.s_addr = htonl(0xc0a84102);     /* .2 */
    memcpy(cfg->gateway_mac, mac, 6);
    cfg->mtu = 65520;
    cfg->lease_seconds = 7200;
    cfg->domain_name = "internal";
    cfg->search_domains = "internal";
    cfg->max_reassembly = 64;
    cfg->max_tx_queue = 4096;
    cfg->max_tcp_connections = 16384;
    cfg->max_pending_connects = 1024;
    cfg->max_udp_flows = 4096;
    cfg->udp_idle_timeout_ms = 60000;
    cfg->max_icmp_flows = 256;
    cfg->icmp_idle_timeout_ms = 30000;
    cfg->resolv_conf = "/etc/resolv.conf";
    cfg->dns_timeout_ms = 4000;
    cfg->max_dns_inflight = 1024;
    cfg->log_level = NETSTACK_LOG_INFO;
    cfg->max_tx_queue_bytes = 32u << 20;
    cfg->max_tcp_half_open = 1024;
    cfg->max_tcp_closing = 4096;
    cfg->max_tcp_queued_bytes = 128u << 20;
    cfg->max_dns_tcp_connections = 128;
    cfg->dns_tcp_idle_timeout_ms = 10000;
}

/*
 * check_config() - reject what cannot work, saying why through the log
 * Return: 0 or -EINVAL.
 */
static int check_config(struct netstack *ns)
{
    const struct netstack_config *c = &ns->cfg;
    const char *why = NULL;

    if (c->version < 1 || c->version > NETSTACK_CONFIG_VERSION)
        why = "unknown config version";
    else if (!c->send_frames)
        why = "no send_frames callback";
    else if (c->mtu < 576 || c->mtu > 65520)
        why = "MTU must be 576 to 65520";
    else if ((ns->subnet & ~ns->netmask) != 0)
        why = "subnet address has host bits set";
    else if (!ns_in_subnet(ns, ns->gateway) || ns->gateway == ns->subnet ||
             ns->gateway == ns->broadcast)
        why = "gateway is not a host address of the subnet";
    else if (ns->host_loopback && (!ns_in_subnet(ns, ns->host_loopback) ||
                                   ns->host_loopback == ns->gateway ||
                                   ns->host_loopback == ns->broadcast))
        why = "host-loopback alias is not a free host address of the subnet";
    else if (!ns_in_subnet(ns, ntohl(c->dhcp_first.s_addr)) ||
             ntohl(c->dhcp_first.s_addr) == ns->broadcast)
        why = "first DHCP address is not in the subnet";
    else if (ns_mac_is_multicast(c->gateway_mac))
        why = "gateway MAC is a multicast address";
    else if (!c->max_tx_queue || !c->max_reassembly)
        why = "queue limits must be at least 1";
    else if (c->max_tx_queue_bytes < 2u * 65536)
        why = "the transmit queue must hold at least two 64 KiB frames";
    if (!why)
        return 0;
    ns_log(ns, NETSTACK_LOG_ERROR, "config: %s", why);
    return -EINVAL;
}

/* config_size() - the bytes of struct netstack_config that a caller of @version passed. */
static size_t config_size(uint32_t version)
{
    if (version < 2)
        return offsetof(struct netstack_config, send_gather);
    if (version < 3)
        return offsetof(struct netstack_config, max_tx_queue_bytes);
    if (version < 4)
        return offsetof(struct netstack_config, clock_ns);
    return sizeof(struct netstack_config);
}

/* default_limits() - version 3's limits: a zero (or an older caller) takes the default. */
static void default_limits(struct netstack_config *c, const struct netstack_config *def)
{
    if (!c->max_tx_queue_bytes)
        c->max_tx_queue_bytes = def->max_tx_queue_bytes;
    if (!c->max_tcp_half_open)
        c->max_tcp_half_open = def->max_tcp_half_open;
    if (!c->max_tcp_closing)
        c->max_tcp_closing = def->max_tcp_closing;
    if (!c->max_tcp_queued_bytes)
        c->max_tcp_queued_bytes = def->max_tcp_queued_bytes;
    if (!c->max_dns_tcp_connections)
        c->max_dns_tcp_connections = def->max_dns_tcp_connections;
    if (!c->dns_tcp_idle_timeout_ms)
        c->dns_tcp_idle_timeout_ms = def->dns_tcp_idle_timeout_ms;
}

/* copy_config() - take @cfg, filling zeros with defaults and copying strings. */
static int copy_config(struct netstack *ns, const struct netstack_config *cfg)
{
    struct netstack_config def;

    netstack_config_init(&def);
    /* A caller built against an older header passed a shorter struct. */
    memcpy(&ns->cfg, cfg, config_size(cfg->version));
    if (!ns->cfg.subnet.s_addr)
        ns->cfg.subnet = def.subnet;
    if (!ns->cfg.prefix_len)
        ns->cfg.prefix_len = def.prefix_len;
    if (!ns->cfg.mtu)
        ns->cfg.mtu = def.mtu;
    if (!ns->cfg.lease_seconds)
        ns->cfg.lease_seconds = def.lease_seconds;
    if (!ns->cfg.max_tcp_connections)
        ns->cfg.max_tcp_connections = def.max_tcp_connections;
    if (!ns->cfg.max_pending_connects)
        ns->cfg.max_pending_connects = def.max_pending_connects;
    if (!ns->cfg.max_udp_flows)
        ns->cfg.max_udp_flows = def.max_udp_flows;
    if (!ns->cfg.udp_idle_timeout_ms)
        ns->cfg.udp_idle_timeout_ms = def.udp_idle_timeout_ms;
    if (!ns->cfg.max_icmp_flows)
        ns->cfg.max_icmp_flows = def.max_icmp_flows;
    if (!ns->cfg.icmp_idle_timeout_ms)
        ns->cfg.icmp_idle_timeout_ms = def.icmp_idle_timeout_ms;
    if (!ns->cfg.resolv_conf)
        ns->cfg.resolv_conf = def.resolv_conf;
    if (!ns->cfg.dns_timeout_ms)
        ns->cfg.dns_timeout_ms = def.dns_timeout_ms;
    if (!ns->cfg.max_dns_inflight)
        ns->cfg.max_dns_inflight = def.max_dns_inflight;
    default_limits(&ns->cfg, &def);
    if (!memcmp(ns->cfg.gateway_mac, "\0\0\0\0\0\0", 6))
        memcpy(ns->cfg.gateway_mac, def.gateway_mac, 6);
    ns->domain_name = strdup(cfg->domain_name ? cfg->domain_name : def.domain_name);
    ns->search_domains = strdup(cfg->search_domains ? cfg->search_domains : def.search_domains);
    if (!ns->domain_name || !ns->search_domains)
        return -ENOMEM;
    ns->cfg.domain_name = ns->domain_name;
    ns->cfg.search_domains = ns->search_domains;
    return 0;
}

/* derive_addresses() - host-order addresses; unset ones from the subnet. */
static void derive_addresses(struct netstack *ns)
{
    struct netstack_config *c = &ns->cfg;

    ns->netmask = 0xffffffffu << (32 - c->prefix_len);
    ns->subnet = ntohl(c->subnet.s_addr);
    ns->broadcast = (ns->subnet & ns->netmask) | ~ns->netmask;
    ns->gateway = c->gateway.s_addr ? ntohl(c->gateway.s_addr) : (ns->subnet & ns->netmask) + 1;
    if (c->no_host_loopback)
        ns->host_loopback = 0;
    else
        ns->host_loopback = c->host_loopback.s_addr ? ntohl(c->host_loopback.s_addr)
                                                    : ns->broadcast - 1;
    if (!c->dhcp_first.s_addr)
        c->dhcp_first.s_addr = htonl((ns->subnet & ns->netmask) + 2);
}

/* start_dhcp() - the DHCP server for the whole subnet but our own addresses. */
static int start_dhcp(struct netstack *ns)
{
    struct ns_dhcp_config dc = {
        .subnet = ns->subnet, .netmask = ns->netmask, .server = ns->gateway,
        .first = ntohl(ns->cfg.dhcp_first.s_addr), .last = ns->broadcast - 1,
        .reserved = { ns->host_loopback }, .lease_seconds = ns->cfg.lease_seconds,
        .mtu = ns->cfg.mtu, .domain_name = ns->domain_name, .search = ns->search_domains,
    };

    ns->dhcp = ns_dhcp_new(&dc);
    return ns->dhcp ? 0 : -ENOMEM;
}

int netstack_new(const struct netstack_config *cfg, struct netstack **out)
{
    struct netstack *ns;
    int rc;

    if (!cfg || !out)
        return -EINVAL;
    if (the_stack)
        return -EBUSY;
    ns = calloc(1, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    ns->loop.pollfd = ns->loop.wakefd = ns->reserve_fd = -1;
    the_stack = ns;     /* from here on, its clock is the stack's; netstack_free() clears it */
    rc = copy_config(ns, cfg);
    if (rc)
        goto fail;
    if (ns->cfg.prefix_len < 8 || ns->cfg.prefix_len > 30) {
        ns_log(ns, NETSTACK_LOG_ERROR, "config: subnet prefix must be /8 to /30");
        rc = -EINVAL;   /* checked first: the masks below shift by it */
        goto fail;
    }
    derive_addresses(ns);
    rc = check_config(ns);
    if (rc)
        goto fail;
    ns_limits_fit(ns);
    if ((rc = ns_loop_init(&ns->loop)) || (rc = ns_limits_start(ns)) ||
        (rc = ns_tx_init(&ns->tx, ns->cfg.max_tx_queue, ns->cfg.max_tx_queue_bytes)) ||
        (rc = start_dhcp(ns)))
        goto fail;
    ns->reasm = ns_reasm_new(ns->cfg.max_reassembly, ns_ipv4_deliver);
    if (!ns->reasm) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = ns_lwip_start(ns);
    if (rc)
        goto fail;
    rc = ns_nat_start(ns);
    if (rc)
        goto fail;
    rc = ns_dns_start(ns);
    /* The DNS strings were read there: the caller's need not outlive this call. */
    ns->cfg.resolv_conf = NULL;
    ns->cfg.hosts_file = NULL;
    ns->cfg.dns_names = NULL;
    if (rc)
        goto fail;
    rc = ns_portfwd_start(ns);
    if (rc)
        goto fail;
    *out = ns;
    return 0;
fail:
    netstack_free(ns);
    return rc;
}

void netstack_free(struct netstack *ns)
{
    if (!ns)
        return;
    ns_capture_free(ns);        /* first: nothing the teardown sends is the guest's */
    ns_portfwd_stop(ns);
    ns_dns_stop(ns);
    ns_nat_stop(ns);
    ns_lwip_stop(ns);
    ns_reasm_free(ns->reasm);
    ns_dhcp_free(ns->dhcp);
    ns_tx_fini(&ns->tx);
    ns_buf_trim();
    ns_limits_stop(ns);
    ns_loop_fini(&ns->loop);
    free(ns->domain_name);
    free(ns->search_domains);
    if (the_stack == ns)
        the_stack = NULL;
    free(ns);
}

int netstack_input(struct netstack *ns, const void *frame, size_t len)
{
    if (!ns || !frame)
        return -EINVAL;
    ns_capture(ns, frame, len);
    ns_eth_input(ns, frame, len);
    ns_flush(ns);
    return 0;
}

/* offloaded() - does @o say anything (a plain frame's is all zero)? */
static int offloaded(const struct netstack_offload *o)
{
    return o->flags || o->gso_type;
}

int netstack_input_batch(struct netstack *ns, const struct netstack_frame *frames, size_t n)
{
    size_t i;

    if (!ns || (!frames && n))
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (!frames[i].data)
            continue;
        ns->rx_offload = offloaded(&frames[i].offload) ? &frames[i].offload : NULL;
        ns_capture(ns, frames[i].data, frames[i].len);
        ns_eth_input(ns, frames[i].data, frames[i].len);
    }
    ns->rx_offload = NULL;
    ns_flush(ns);
    return 0;
}

int netstack_set_offloads(struct netstack *ns, uint32_t flags)
{
    const uint32_t known = NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4 | NETSTACK_LINK_TSO6 |
                           NETSTACK_LINK_INTEGRITY;

    if (!ns || (flags & ~known))
        return -EINVAL;
    /* virtio-net: a GSO frame's checksum is always partial (VIRTIO_NET_F_HOST_TSO4 needs CSUM). */
    if ((flags & (NETSTACK_LINK_TSO4 | NETSTACK_LINK_TSO6)) && !(flags & NETSTACK_LINK_CSUM))
        return -EINVAL;
    ns->offloads = flags;
    return 0;
}

/*
 * ns_flush() - end of a batch: write the guest's TCP data to the host, hand the
 * queue to the transport, then let paused host sockets be read again if it
 * took everything. Producers pause whenever the queue is
 * full, also when the transport has not pushed back yet (it only sees the
 * queue here), so resuming cannot wait for netstack_output_ready() alone.
 */
void ns_flush(struct netstack *ns)
{
    ns_tcp_nat_flush(ns);       /* guest data of this batch to the host sockets */
    ns_lwip_reap_time_wait();
    ns_tx_flush(ns);
    if (!ns_tx_blocked(&ns->tx)) {
        ns_nat_resume(ns);
        ns_tx_flush(ns);
    }
    ns_capture_kick(ns);
}

void netstack_output_ready(struct netstack *ns)
{
    ns->tx.blocked = 0;
    ns_flush(ns);
}

void netstack_link_down(struct netstack *ns)
{
    ns_nat_guest_gone(ns);      /* every host socket of the guest is closed */
    ns_dns_guest_gone(ns);      /* and its connections to the gateway's DNS */
    ns_portfwd_guest_gone(ns);  /* and forwarded clients still waiting for it */
    ns_neigh_flush(ns);
    ns_tx_drop_all(ns);
}

int netstack_count_transport(struct netstack *ns, enum netstack_stat stat, uint64_t n)
{
    if (!ns || stat < NETSTACK_STAT_drop_transport_empty || stat > NETSTACK_STAT_drop_transport_tx)
        return -EINVAL;
    ns->stats[stat] += n;
    return 0;
}

const char *netstack_stat_name(unsigned stat)
{
    return stat < NETSTACK_STAT_COUNT ? stat_names[stat] : NULL;
}

size_t netstack_get_stats(const struct netstack *ns, uint64_t *counters, size_t n)
{
    if (n > NETSTACK_STAT_COUNT)
        n = NETSTACK_STAT_COUNT;
    memcpy(counters, ns->stats, n * sizeof(*counters));
    ns_capture_fold(ns, counters, n);
    return n;
}
