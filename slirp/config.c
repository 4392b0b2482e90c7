/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.c - a SlirpConfig as a netstack_config
 *
 * libslirp's addressing maps onto netstack's: vhost (10.0.2.2) is the
 * gateway and, unless disable_host_loopback, also the alias for the host's
 * loopback; vnameserver (10.0.2.3) is the DNS server's own address;
 * vdhcp_start the first lease. Only the fields of the caller's config version
 * are read: an older caller passed a shorter struct. What netstack does not
 * do (TFTP and BOOTP files, the "emulation" of old protocols, an outbound
 * address) fails the creation with a line saying so, rather than running
 * without it.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "slirp/config.h"
#include "slirp/slirp_priv.h"

#define SLIRP_MTU_DEFAULT 1500  /* libslirp's IF_MTU_DEFAULT */

/**
 * prefix_len() - the length of a contiguous netmask, -1 if it is not one.
 * @mask: network order
 */
static int prefix_len(struct in_addr mask)
{
    uint32_t m = ntohl(mask.s_addr), host = ~m;

    if (host & (host + 1))
        return -1;
    return 32 - __builtin_popcount(host);
}

/**
 * join_search() - libslirp's NULL-terminated vdnssearch as one space-separated string
 * @names: the list, NULL for none
 * Return: a malloc'ed string ("" for none), NULL without memory.
 */
static char *join_search(const char **names)
{
    size_t n = 1, i;
    char *s;

    for (i = 0; names && names[i]; i++)
        n += strlen(names[i]) + 1;
    if (!(s = calloc(1, n)))
        return NULL;
    for (i = 0; names && names[i]; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, names[i]);
    }
    return s;
}

/**
 * unsupported() - the first field of @c that netstack cannot serve, or NULL.
 * @c: the caller's config
 */
static const char *unsupported(const SlirpConfig *c)
{
    if (!c->in_enabled)
        return "IPv4 cannot be turned off (in_enabled = false)";
    if (c->tftp_path || c->tftp_server_name || c->bootfile)
        return "TFTP and BOOTP file serving (tftp=, tftp-server-name=, bootfile=) are not implemented";
    if (c->enable_emu)
        return "the emulation of old protocols (enable_emu) is not implemented";
    if (c->in6_enabled && c->vprefix_len != 64)
        return "IPv6 needs a /64 prefix";
    if (c->if_mtu > 65520)
        return "if_mtu above 65520";
    if (c->version >= 2 && (c->outbound_addr || c->outbound_addr6))
        return "an outbound address (outbound_addr, outbound_addr6) is not implemented";
    return NULL;
}

int slirp_make_config(const SlirpConfig *c, struct netstack_config *nc, char **search)
{
    const char *why = unsupported(c);
    int plen = prefix_len(c->vnetmask);
    uint32_t host = ntohl(c->vhost.s_addr);

    if (!why && (plen < 0 || !host))
        why = "vnetmask is not a netmask, or vhost is 0.0.0.0";
    if (why) {
        slirp_log("%s", why);
        return -1;
    }
    netstack_config_init(nc);
    nc->subnet.s_addr = c->vnetwork.s_addr & c->vnetmask.s_addr;
    nc->prefix_len = (uint8_t)plen;
    nc->gateway = c->vhost;
    nc->host_loopback = c->vhost;
    nc->no_host_loopback = c->disable_host_loopback;
    nc->dns_server = c->vnameserver;
    nc->dhcp_first = c->vdhcp_start;
    nc->mtu = c->if_mtu ? (uint16_t)c->if_mtu : SLIRP_MTU_DEFAULT;
    nc->restricted = c->restricted;
    /* libslirp's gateway MAC: 52:55 and the gateway's address */
    nc->gateway_mac[0] = 0x52;
    nc->gateway_mac[1] = 0x55;
    memcpy(nc->gateway_mac + 2, &c->vhost.s_addr, 4);
    nc->domain_name = c->vdomainname ? c->vdomainname : "";
    nc->dhcp_hostname = c->vhostname;
    nc->no_ipv6 = !c->in6_enabled;
    if (c->in6_enabled) {
        nc->ipv6_prefix = c->vprefix_addr6;
        memset(nc->ipv6_prefix.s6_addr + 8, 0, 8);
        nc->host_loopback6 = c->vhost6;
        nc->dns_server6 = c->vnameserver6;
    }
    nc->no_dns = c->version >= 3 && c->disable_dns;
    nc->no_dhcp = c->version >= 4 && c->disable_dhcp;
    if (!(*search = join_search(c->vdnssearch)))
        return -1;
    nc->search_domains = *search;
    return 0;
}
