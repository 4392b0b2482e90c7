/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * modules.c - the table of protocol modules and the walks over it
 *
 * Order matters twice. Start order: the flow table first (every NAT and
 * forward keeps its flows in it), lwIP (the NATs and DNS create pcbs), then
 * the NATs, DNS, and the forwards that hand connections to the NATs. Stop is the reverse, so captures (last in the table, started only by
 * netstack_pcap_start()) end first and record nothing of the teardown.
 */
#include <stddef.h>

#include "dns/dns.h"
#include "ethernet/ndp.h"
#include "ethernet/reasm.h"
#include "netstack/capture.h"
#include "netstack/flow_index.h"
#include "netstack/lwip_glue.h"
#include "netstack/modules.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "portfwd/portfwd.h"

/* Fragments expire at this granularity, and only while some are pending. */
#define REASM_TICK_MS 1000

static void lwip_timers(struct netstack *ns, uint64_t now_ms)
{
    ns_lwip_timers(ns);
}

static int lwip_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    return ns_lwip_next_timeout(ns);
}

static void reasm_timers(struct netstack *ns, uint64_t now_ms)
{
    if (ns_reasm_pending(ns->link.reasm))
        ns_reasm_expire(&ns->link, now_ms);
}

static int reasm_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    return ns_reasm_pending(ns->link.reasm) ? REASM_TICK_MS : -1;
}

static void ndp_guest_gone(struct netstack *ns)
{
    ns_ndp_guest_gone(&ns->link);
}

static void ndp_timers(struct netstack *ns, uint64_t now_ms)
{
    ns_ndp_timers(&ns->link, now_ms);
}

static int ndp_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    return ns_ndp_next_timeout(&ns->link, now_ms);
}

static const struct ns_module modules[] = {
    { .name = "flow_index", .start = ns_findex_start, .stop = ns_findex_stop },
    { .name = "lwip", .start = ns_lwip_start, .stop = ns_lwip_stop, .timers = lwip_timers,
      .next_timeout = lwip_next_timeout, .resume = ns_lwip_resume },
    { .name = "reassembly", .timers = reasm_timers, .next_timeout = reasm_next_timeout },
    { .name = "ndp", .guest_gone = ndp_guest_gone, .timers = ndp_timers,
      .next_timeout = ndp_next_timeout },
    { .name = "tcp_nat", .start = ns_tcp_nat_start, .stop = ns_tcp_nat_stop,
      .guest_gone = ns_tcp_nat_guest_gone, .timers = ns_tcp_nat_timers,
      .next_timeout = ns_tcp_nat_next_timeout, .resume = ns_tcp_nat_resume },
    { .name = "udp_nat", .start = ns_udp_nat_start, .stop = ns_udp_nat_stop,
      .guest_gone = ns_udp_nat_guest_gone, .timers = ns_udp_nat_timers,
      .next_timeout = ns_udp_nat_next_timeout, .resume = ns_udp_nat_resume },
    { .name = "icmp_nat", .start = ns_icmp_nat_start, .stop = ns_icmp_nat_stop,
      .guest_gone = ns_icmp_nat_guest_gone, .timers = ns_icmp_nat_timers,
      .next_timeout = ns_icmp_nat_next_timeout, .resume = ns_icmp_nat_resume },
    { .name = "dns", .start = ns_dns_start, .stop = ns_dns_stop, .guest_gone = ns_dns_guest_gone,
      .timers = ns_dns_timers, .next_timeout = ns_dns_next_timeout },
    { .name = "portfwd", .start = ns_portfwd_start, .stop = ns_portfwd_stop,
      .guest_gone = ns_portfwd_guest_gone },
    { .name = "udp_fwd", .timers = ns_udp_fwd_timers, .next_timeout = ns_udp_fwd_next_timeout,
      .resume = ns_udp_fwd_resume },
    { .name = "capture", .stop = ns_capture_free },
};

#define NMODULES (sizeof(modules) / sizeof(modules[0]))

int ns_modules_start(struct netstack *ns)
{
    size_t i;
    int rc;

    for (i = 0; i < NMODULES; i++) {
        if (!modules[i].start)
            continue;
        rc = modules[i].start(ns);
        if (rc) {
            ns_log(ns, NETSTACK_LOG_ERROR, "%s: cannot start: error %d", modules[i].name, rc);
            return rc;
        }
    }
    return 0;
}

void ns_modules_stop(struct netstack *ns)
{
    size_t i;

    for (i = NMODULES; i-- > 0;)
        if (modules[i].stop)
            modules[i].stop(ns);
}

void ns_modules_guest_gone(struct netstack *ns)
{
    size_t i;

    for (i = 0; i < NMODULES; i++)
        if (modules[i].guest_gone)
            modules[i].guest_gone(ns);
}

void ns_modules_timers(struct netstack *ns, uint64_t now_ms)
{
    size_t i;

    for (i = 0; i < NMODULES; i++)
        if (modules[i].timers)
            modules[i].timers(ns, now_ms);
}

int ns_modules_next_timeout(struct netstack *ns, uint64_t now_ms)
{
    int t = -1, m;
    size_t i;

    for (i = 0; i < NMODULES; i++) {
        if (!modules[i].next_timeout)
            continue;
        m = modules[i].next_timeout(ns, now_ms);
        if (m >= 0 && (t < 0 || m < t))
            t = m;
    }
    return t;
}

void ns_modules_resume(struct netstack *ns)
{
    size_t i;

    for (i = 0; i < NMODULES; i++)
        if (modules[i].resume)
            modules[i].resume(ns);
}
