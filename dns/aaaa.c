/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aaaa.c - whether the DNS server gives AAAA records (cfg.dns_aaaa)
 *
 * Theory of Operation: a client given an AAAA record tries IPv6 first. When
 * the host itself cannot reach global IPv6 (no IPv6 default route, a VPN that
 * carries only IPv4) every such attempt fails, and clients without a fast
 * fallback stall. So in the default mode (NETSTACK_DNS_AAAA_AUTO) an AAAA
 * query for a name that is not local is answered at once with no records
 * (NODATA) while the host has no route to global IPv6, as a host resolver
 * with AI_ADDRCONFIG would decide. The local names (host.internal) keep
 * theirs: the alias's IPv6 twin is always reachable.
 *
 * Whether the host routes IPv6 is asked of the host's own routing table:
 * connect() on a UDP socket looks the route up and sends nothing
 * (ns_nat_host_routes_ipv6()). The answer is kept for AAAA_RECHECK_MS, so a
 * VPN coming up or going down is followed within seconds.
 */
#include "dns/server_priv.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

#define AAAA_RECHECK_MS 5000

int ns_dns_filter_aaaa(struct netstack *ns)
{
    struct ns_dns *d = ns->dns;
    uint64_t now = ns_now_ms();

    if (ns->cfg.dns_aaaa != NETSTACK_DNS_AAAA_AUTO)
        return ns->cfg.dns_aaaa == NETSTACK_DNS_AAAA_OFF;
    if (!d->route6_checked || now - d->route6_ms >= AAAA_RECHECK_MS) {
        d->route6 = ns_nat_host_routes_ipv6();
        d->route6_ms = now;
        d->route6_checked = 1;
    }
    return !d->route6;
}
