/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack.c - the stack object's lifecycle: configuration, creation, teardown
 *
 * Theory of Operation: netstack_new() takes the caller's configuration by the
 * version it declares (an older caller's struct is shorter), fills every zero
 * with its default, converts the addresses to host order once, checks them,
 * and brings up the parts in dependency order: the event loop, the transmit
 * queue, the DHCP server, the reassembly table, then the modules of
 * modules.c's table (lwIP first). lwIP is process-global, hence one stack per
 * process. Frames in and out are link.c's, statistics stats.c's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethernet/eth.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reasm.h"
#include "netstack/bufcache.h"
#include "netstack/dhcp.h"
#include "netstack/limits.h"
#include "netstack/modules.h"
#include "netstack/stack.h"

static struct netstack *the_stack;     /* lwIP is global: one stack per process */

/* fd65:65::/64, a ULA prefix (RFC 4193) that reads like 192.168.65.0/24 */
static const struct in6_addr default_prefix6 = { .s6_addr = { 0xfd, 0x65, 0, 0x65 } };

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
    cfg->ipv6_prefix = default_prefix6;
}

/**
 * prefix6_ok() - can @p be the guest's /64: unicast, not link-local,
 * loopback or v4-mapped, the low 64 bits zero?
 */
static int prefix6_ok(const struct in6_addr *p)
{
    static const uint8_t zero[8];

    return !ns_ip6_is_multicast(p) && !ns_ip6_is_link_local(p) && !IN6_IS_ADDR_V4MAPPED(p) &&
           !IN6_IS_ADDR_LOOPBACK(p) && !memcmp(p->s6_addr + 8, zero, 8) &&
           memcmp(p->s6_addr, zero, 8);
}

/**
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
    else if ((ns->link.subnet & ~ns->link.netmask) != 0)
        why = "subnet address has host bits set";
    else if (!ns_in_subnet(ns, ns->link.gateway) || ns->link.gateway == ns->link.subnet ||
             ns->link.gateway == ns->link.broadcast)
        why = "gateway is not a host address of the subnet";
    else if (ns->link.host_loopback && (!ns_in_subnet(ns, ns->link.host_loopback) ||
                                   ns->link.host_loopback == ns->link.subnet ||
                                   ns->link.host_loopback == ns->link.broadcast))
        why = "host-loopback alias is not a host address of the subnet";
    else if (!ns_in_subnet(ns, ns->link.dns) || ns->link.dns == ns->link.subnet ||
             ns->link.dns == ns->link.broadcast)
        why = "DNS server is not a host address of the subnet";
    else if (!c->no_ipv6 && (!ns_ipv6_in_prefix(&ns->link, &ns->link.dns6) ||
                             !ns_ipv6_in_prefix(&ns->link, &ns->link.host_loopback6) ||
                             ns_ip6_equal(&ns->link.host_loopback6, &ns->link.gateway6)))
        why = "IPv6 DNS server or alias is not an address of the /64 (the alias not its ::1)";
    else if (!ns_in_subnet(ns, ntohl(c->dhcp_first.s_addr)) ||
             ntohl(c->dhcp_first.s_addr) == ns->link.broadcast)
        why = "first DHCP address is not in the subnet";
    else if (ns_mac_is_multicast(c->gateway_mac))
        why = "gateway MAC is a multicast address";
    else if (c->max_tx_queue_bytes < 2u * 65536)
        why = "the transmit queue must hold at least two 64 KiB frames";
    else if (!c->no_ipv6 && !prefix6_ok(&c->ipv6_prefix))
        why = "IPv6 prefix is not a unicast /64 (global or unique local, host bits zero)";
    else if (c->dns_aaaa > NETSTACK_DNS_AAAA_OFF)
        why = "unknown dns_aaaa mode";
    if (!why)
        return 0;
    ns_log(ns, NETSTACK_LOG_ERROR, "config: %s", why);
    return -EINVAL;
}

/**
 * config_size() - the bytes of struct netstack_config that a caller of @version passed.
 */
static size_t config_size(uint32_t version)
{
    if (version < 2)
        return offsetof(struct netstack_config, send_gather);
    if (version < 3)
        return offsetof(struct netstack_config, max_tx_queue_bytes);
    if (version < 4)
        return offsetof(struct netstack_config, clock_ns);
    if (version < 5)
        return offsetof(struct netstack_config, ipv6_prefix);
    if (version < 6)
        return offsetof(struct netstack_config, dns_aaaa);
    if (version < 7)
        return offsetof(struct netstack_config, dns_server);
    return sizeof(struct netstack_config);
}

/**
 * default_limits() - version 3's limits: a zero (or an older caller) takes the default.
 */
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

/**
 * copy_config() - take @cfg, filling zeros with defaults and copying strings.
 */
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
    if (!ns->cfg.max_reassembly)
        ns->cfg.max_reassembly = def.max_reassembly;
    if (!ns->cfg.max_tx_queue)
        ns->cfg.max_tx_queue = def.max_tx_queue;
    if (ns->cfg.log_level == NETSTACK_LOG_DEFAULT)
        ns->cfg.log_level = def.log_level;
    default_limits(&ns->cfg, &def);
    if (!memcmp(ns->cfg.gateway_mac, "\0\0\0\0\0\0", 6))
        memcpy(ns->cfg.gateway_mac, def.gateway_mac, 6);
    if (ns_ip6_is_unspecified(&ns->cfg.ipv6_prefix))
        ns->cfg.ipv6_prefix = def.ipv6_prefix;
    ns->domain_name = strdup(cfg->domain_name ? cfg->domain_name : def.domain_name);
    ns->search_domains = strdup(cfg->search_domains ? cfg->search_domains : def.search_domains);
    if (ns->cfg.dhcp_hostname && !(ns->dhcp_hostname = strdup(ns->cfg.dhcp_hostname)))
        return -ENOMEM;
    if (!ns->domain_name || !ns->search_domains)
        return -ENOMEM;
    ns->cfg.domain_name = ns->domain_name;
    ns->cfg.search_domains = ns->search_domains;
    ns->cfg.dhcp_hostname = ns->dhcp_hostname;
    return 0;
}

/**
 * derive_addresses6() - the IPv6 addresses from the prefix and the gateway's
 * MAC (modified EUI-64, RFC 4291 appendix A), and whether IPv6 runs at all.
 */
static void derive_addresses6(struct netstack *ns)
{
    const uint8_t *mac = ns->cfg.gateway_mac;
    static const uint8_t ll[8] = { 0xfe, 0x80 };

    ns->link.prefix6 = ns->cfg.ipv6_prefix;
    ns->link.gateway6 = ns->link.prefix6;
    ns->link.gateway6.s6_addr[15] = 1;
    ns->link.host_loopback6 = ns->link.prefix6;
    ns->link.host_loopback6.s6_addr[15] = 0xfe;
    if (!ns_ip6_is_unspecified(&ns->cfg.host_loopback6))
        ns->link.host_loopback6 = ns->cfg.host_loopback6;
    ns->link.dns6 = ns_ip6_is_unspecified(&ns->cfg.dns_server6) ? ns->link.gateway6
                                                                 : ns->cfg.dns_server6;
    memcpy(ns->link.gateway6_ll.s6_addr, ll, 8);
    ns->link.gateway6_ll.s6_addr[8] = mac[0] ^ 0x02;
    ns->link.gateway6_ll.s6_addr[9] = mac[1];
    ns->link.gateway6_ll.s6_addr[10] = mac[2];
    ns->link.gateway6_ll.s6_addr[11] = 0xff;
    ns->link.gateway6_ll.s6_addr[12] = 0xfe;
    memcpy(ns->link.gateway6_ll.s6_addr + 13, mac + 3, 3);
    ns->link.ipv6 = !ns->cfg.no_ipv6 && ns->cfg.mtu >= IPV6_MIN_MTU;
    if (!ns->cfg.no_ipv6 && !ns->link.ipv6)
        ns_log(ns, NETSTACK_LOG_WARN, "config: MTU %u is below IPv6's minimum of %u: no IPv6",
               ns->cfg.mtu, IPV6_MIN_MTU);
    ns->cfg.no_ipv6 = !ns->link.ipv6;
    ns->cfg.host_loopback6 = ns->link.host_loopback6;
    ns->cfg.dns_server6 = ns->link.dns6;
}

/**
 * derive_addresses() - host-order addresses; unset ones from the subnet, also in the copy.
 */
static void derive_addresses(struct netstack *ns)
{
    struct netstack_config *c = &ns->cfg;

    ns->link.up = ns;
    ns->link.stats = ns->stats;
    ns->link.search_domains = ns->search_domains;
    memcpy(ns->link.mac, c->gateway_mac, 6);
    ns->link.mtu = c->mtu;
    ns->link.netmask = 0xffffffffu << (32 - c->prefix_len);
    ns->link.subnet = ntohl(c->subnet.s_addr);
    ns->link.broadcast = (ns->link.subnet & ns->link.netmask) | ~ns->link.netmask;
    ns->link.gateway = c->gateway.s_addr ? ntohl(c->gateway.s_addr) : (ns->link.subnet & ns->link.netmask) + 1;
    if (c->no_host_loopback)
        ns->link.host_loopback = 0;
    else
        ns->link.host_loopback = c->host_loopback.s_addr ? ntohl(c->host_loopback.s_addr)
                                                    : ns->link.broadcast - 1;
    ns->link.dns = c->dns_server.s_addr ? ntohl(c->dns_server.s_addr) : ns->link.gateway;
    ns->link.no_dns = !!c->no_dns;
    if (!c->dhcp_first.s_addr)
        c->dhcp_first.s_addr = htonl((ns->link.subnet & ns->link.netmask) + 2);
    /* The copy says what runs, defaults filled in. */
    c->gateway.s_addr = htonl(ns->link.gateway);
    c->host_loopback.s_addr = htonl(ns->link.host_loopback);
    c->dns_server.s_addr = htonl(ns->link.dns);
    derive_addresses6(ns);
}

/**
 * start_dhcp() - the DHCP server for the whole subnet but our own addresses.
 */
static int start_dhcp(struct netstack *ns)
{
    struct ns_dhcp_config dc = {
        .subnet = ns->link.subnet, .netmask = ns->link.netmask, .server = ns->link.gateway,
        .dns = ns->link.no_dns ? 0 : ns->link.dns,
        .first = ntohl(ns->cfg.dhcp_first.s_addr), .last = ns->link.broadcast - 1,
        .reserved = { ns->link.host_loopback, ns->link.dns },
        .lease_seconds = ns->cfg.lease_seconds, .mtu = ns->cfg.mtu,
        .domain_name = ns->domain_name, .search = ns->search_domains,
        .hostname = ns->dhcp_hostname,
    };

    ns->dhcp = ns_dhcp_new(&dc);
    ns->link.leases = ns->dhcp;
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
    the_stack = ns;
    ns_clock_set(cfg->version >= 4 ? cfg->clock_ns : NULL, cfg->opaque);  /* cleared by free */
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
    ns->link.reasm = ns_reasm_new(ns->cfg.max_reassembly, ns_ipv4_deliver, ns_ipv6_deliver);
    if (!ns->link.reasm) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = ns_modules_start(ns);
    /* The DNS strings were read at its start: the caller's need not outlive this call. */
    ns->cfg.resolv_conf = NULL;
    ns->cfg.hosts_file = NULL;
    ns->cfg.dns_names = NULL;
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
    ns_modules_stop(ns);        /* captures first: nothing the teardown sends is the guest's */
    ns_reasm_free(ns->link.reasm);
    ns_dhcp_free(ns->dhcp);
    ns_tx_fini(&ns->tx);
    ns_buf_trim();
    ns_limits_stop(ns);
    ns_loop_fini(&ns->loop);
    free(ns->domain_name);
    free(ns->search_domains);
    free(ns->dhcp_hostname);
    if (the_stack == ns) {
        the_stack = NULL;
        ns_clock_set(NULL, NULL);
    }
    free(ns);
}
