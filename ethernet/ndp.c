/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ndp.c - IPv6 neighbour and router discovery for the guest (RFC 4861, 4862)
 *
 * Theory of Operation: the gateway is the guest's only IPv6 neighbour that
 * is not the guest itself. Every message is validated as RFC 4861 sections
 * 6.1 and 7.1 say (hop limit 255, so it cannot have come from off the link;
 * code 0; options whole and of nonzero length; the DAD forms with source ::)
 * and counted as drop_ndp_invalid otherwise.
 *
 * - Neighbour solicitations are answered for the stack's own addresses
 *   (the gateway's global and link-local, the host-loopback alias) and for
 *   nothing else: an address of the prefix the stack does not own may be a
 *   guest's, so its duplicate address detection (a probe from ::) always
 *   passes, and a guest defending its address is never contradicted. A
 *   probe for one of our own addresses is answered to all nodes, which is
 *   how the guest learns it is taken.
 * - Router solicitations get a router advertisement at once, unicast to the
 *   solicitor (or to all nodes when it asked from ::); once the guest has
 *   spoken IPv6, unsolicited ones follow, three at MAX_INITIAL_RTR_ADVERT_
 *   INTERVAL and then every NDP_RA_INTERVAL_MS, until the guest goes away.
 * - The advertisement carries the gateway's MAC, the link MTU and the /64
 *   with the on-link and autonomous flags, so the guest configures its
 *   address by SLAAC and reaches the gateway and the alias on-link; and the
 *   gateway as DNS server with the search domains (RDNSS and DNSSL, RFC
 *   8106: the DNS server answers on the gateway's IPv6 address), and the O
 *   flag, for guests that ask stateless DHCPv6 for those instead. The
 *   gateway is the guest's default router (router lifetime
 *   NDP_ROUTER_LIFETIME_S): TCP, UDP and ping to any IPv6 address go
 *   through the NAT.
 * - What the guest says about itself (a source or target link-layer address
 *   option) is learned into the neighbour table, like every IPv6 source, and
 *   so is the target of its duplicate address detection: the address it is
 *   about to take.
 */
#include <string.h>

#include "ethernet/eth.h"
#include "ethernet/icmp6.h"
#include "ethernet/ipv6.h"
#include "ethernet/namelist.h"
#include "ethernet/ndp.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "ethernet/link.h"
#include "netstack/clock.h"
#include "netstack/counters.h"
#include "netstack/log.h"
#include "netstack/tx.h"

#define NDP_HOP_LIMIT           255
#define NDP_OPT_SOURCE_LLA      1
#define NDP_OPT_TARGET_LLA      2
#define NDP_OPT_PREFIX          3
#define NDP_OPT_MTU             5
#define NDP_OPT_RDNSS           25      /* RFC 8106 */
#define NDP_OPT_DNSSL           31

#define NA_FLAG_ROUTER          0x80
#define NA_FLAG_SOLICITED       0x40
#define NA_FLAG_OVERRIDE        0x20
#define RA_FLAG_OTHER           0x40    /* stateless DHCPv6 has DNS and domains */
#define PIO_FLAG_ONLINK         0x80
#define PIO_FLAG_AUTONOMOUS     0x40

/* RFC 4861 section 6.2.1 allows 4 to 1800 s; the guest solicits anyway. */
#define NDP_RA_INTERVAL_MS      200000
#define NDP_INITIAL_RAS         3
#define NDP_INITIAL_INTERVAL_MS 16000   /* MAX_INITIAL_RTR_ADVERT_INTERVAL */
/* RFC 4861 section 6.2.1's AdvDefaultLifetime: 3 x MaxRtrAdvInterval. */
#define NDP_ROUTER_LIFETIME_S   (3 * NDP_RA_INTERVAL_MS / 1000)
#define NDP_PREFIX_VALID_S      86400   /* RFC 4861's defaults: 30 days, 7 days */
#define NDP_PREFIX_PREFERRED_S  14400   /* shorter: a changed prefix takes hours, not days */
#define NDP_CUR_HOP_LIMIT       64
/* RFC 8106 section 5.1: at least 3 times MaxRtrAdvInterval, so one lost advertisement costs nothing. */
#define NDP_DNS_LIFETIME_S      (3 * NDP_RA_INTERVAL_MS / 1000)
#define NDP_RA_MAX              512     /* the advertisement, DNSSL included */

static const struct in6_addr all_nodes = { .s6_addr = { 0xff, 0x02, [15] = 1 } };

/**
 * scan_options() - check the options at @r and find a link-layer address
 * @want: NDP_OPT_SOURCE_LLA or NDP_OPT_TARGET_LLA
 * @lla:  set to that option's MAC, NULL if there is none
 *
 * Return: 0 when every option is whole with a nonzero length, -1 if not.
 */
static int scan_options(struct ns_reader *r, uint8_t want, const uint8_t **lla)
{
    *lla = NULL;
    while (ns_reader_left(r)) {
        uint8_t type = ns_read_u8(r), units = ns_read_u8(r);
        const uint8_t *body;

        if (ns_reader_failed(r) || units == 0)
            return -1;
        body = ns_reader_get(r, (size_t)units * 8 - 2);
        if (!body)
            return -1;
        if (type == want && units == 1)
            *lla = body;
    }
    return 0;
}

/**
 * send_icmp6() - checksum message @m and send it from @src at hop limit 255
 * @to: the message it answers, whose sender gets it; NULL: to all nodes
 *
 * Return: 0 or -errno from ns_ipv6_send().
 */
static int send_icmp6(struct ns_link *lk, const struct ns_ipv6 *to, const struct in6_addr *src,
                      uint8_t *m, size_t len)
{
    const struct in6_addr *dst = to ? &to->src : &all_nodes;
    uint8_t mac[6];

    if (to)
        memcpy(mac, to->src_mac, 6);
    else
        ns_ipv6_multicast_mac(dst, mac);
    ns_store_be16(m + 2, 0);
    ns_store_be16(m + 2, ns_icmp6_checksum(src, dst, m, len, NULL, 0));
    return ns_ipv6_send(lk, mac, src, dst, IPV6_NH_ICMPV6, NDP_HOP_LIMIT, m, len, NULL, 0);
}

/**
 * advertise() - a neighbour advertisement for our address @target
 * @to: the solicitation to answer, NULL for an unsolicited one to all nodes
 */
static void advertise(struct ns_link *lk, const struct in6_addr *target,
                      const struct ns_ipv6 *to)
{
    uint8_t m[32];
    struct ns_writer w;

    ns_writer_init(&w, m, sizeof(m));
    ns_writer_u8(&w, ICMP6_NEIGHBOR_ADVERT);
    ns_writer_u8(&w, 0);
    ns_writer_be16(&w, 0);
    ns_writer_u8(&w, NA_FLAG_ROUTER | NA_FLAG_OVERRIDE | (to ? NA_FLAG_SOLICITED : 0));
    ns_writer_zero(&w, 3);
    ns_writer_bytes(&w, target->s6_addr, 16);
    ns_writer_u8(&w, NDP_OPT_TARGET_LLA);
    ns_writer_u8(&w, 1);
    ns_writer_bytes(&w, lk->mac, 6);
    if (!send_icmp6(lk, to, target, m, w.len))
        NS_COUNT(lk, ndp_na_out);
}

/**
 * put_dnssl() - the DNS search list option: the search domains in DNS wire
 * form, padded to a multiple of 8 bytes; none if there are no domains (or
 * none fits).
 */
static void put_dnssl(struct ns_link *lk, struct ns_writer *w)
{
    uint8_t names[256];
    size_t n, len, pad;

    if (ns_namelist_encode(lk->search_domains, names, sizeof(names), &n) || !n)
        return;
    len = 8 + n;
    pad = (8 - len % 8) % 8;
    ns_writer_u8(w, NDP_OPT_DNSSL);
    ns_writer_u8(w, (uint8_t)((len + pad) / 8));
    ns_writer_be16(w, 0);
    ns_writer_be32(w, NDP_DNS_LIFETIME_S);
    ns_writer_bytes(w, names, n);
    ns_writer_zero(w, pad);
}

/**
 * send_ra() - a router advertisement
 * @to: the solicitation to answer, NULL for one to all nodes
 */
static void send_ra(struct ns_link *lk, const struct ns_ipv6 *to)
{
    uint8_t m[NDP_RA_MAX];
    struct ns_writer w;

    ns_writer_init(&w, m, sizeof(m));
    ns_writer_u8(&w, ICMP6_ROUTER_ADVERT);
    ns_writer_u8(&w, 0);
    ns_writer_be16(&w, 0);
    ns_writer_u8(&w, NDP_CUR_HOP_LIMIT);
    ns_writer_u8(&w, RA_FLAG_OTHER);    /* not M: addresses by SLAAC, not DHCPv6 */
    ns_writer_be16(&w, NDP_ROUTER_LIFETIME_S);
    ns_writer_be32(&w, 0);          /* reachable time, retransmission timer: unspecified */
    ns_writer_be32(&w, 0);
    ns_writer_u8(&w, NDP_OPT_SOURCE_LLA);
    ns_writer_u8(&w, 1);
    ns_writer_bytes(&w, lk->mac, 6);
    ns_writer_u8(&w, NDP_OPT_MTU);
    ns_writer_u8(&w, 1);
    ns_writer_be16(&w, 0);
    ns_writer_be32(&w, lk->mtu);
    ns_writer_u8(&w, NDP_OPT_PREFIX);
    ns_writer_u8(&w, 4);
    ns_writer_u8(&w, 64);
    ns_writer_u8(&w, PIO_FLAG_ONLINK | PIO_FLAG_AUTONOMOUS);
    ns_writer_be32(&w, NDP_PREFIX_VALID_S);
    ns_writer_be32(&w, NDP_PREFIX_PREFERRED_S);
    ns_writer_be32(&w, 0);
    ns_writer_bytes(&w, lk->prefix6.s6_addr, 16);
    if (!lk->no_dns) {
        ns_writer_u8(&w, NDP_OPT_RDNSS);
        ns_writer_u8(&w, 3);
        ns_writer_be16(&w, 0);
        ns_writer_be32(&w, NDP_DNS_LIFETIME_S);
        ns_writer_bytes(&w, lk->dns6.s6_addr, 16);
    }
    put_dnssl(lk, &w);
    /* RFC 4861 section 6.1.2: from the router's link-local address. */
    if (!send_icmp6(lk, to, &lk->gateway6_ll, m, w.len))
        NS_COUNT(lk, ndp_ra_out);
}

/**
 * neighbor_solicit() - answer a solicitation whose target is ours.
 */
static void neighbor_solicit(struct ns_link *lk, const struct ns_ipv6 *ip,
                             struct ns_reader *r)
{
    int dad = ns_ip6_is_unspecified(&ip->src);
    const uint8_t *lla;
    struct in6_addr target;

    NS_COUNT(lk, ndp_ns_in);
    ns_reader_skip(r, 4);           /* reserved */
    ns_reader_copy(r, &target, sizeof(target));
    if (ns_reader_failed(r) || ns_ip6_is_multicast(&target) ||
        scan_options(r, NDP_OPT_SOURCE_LLA, &lla) ||
        (dad && (lla || !ns_ip6_solicited_node(&ip->dst, &target)))) {
        NS_COUNT(lk, drop_ndp_invalid);
        return;
    }
    if (lla && !dad)
        ns_neigh6_learn(lk, &ip->src, lla);
    if (ns_ipv6_is_local(lk, &target))
        advertise(lk, &target, dad ? NULL : ip);
    else if (dad)
        /*
         * The guest is about to take @target (SLAAC): known from now on, so a
         * forward into the guest over IPv6 finds it before the guest has
         * sent anything from it. A duplicate's owner would answer, not us.
         */
        ns_neigh6_learn(lk, &target, ip->src_mac);
}

/**
 * neighbor_advert() - the guest announces or confirms an address of its own.
 */
static void neighbor_advert(struct ns_link *lk, const struct ns_ipv6 *ip,
                            struct ns_reader *r)
{
    uint8_t flags = ns_read_u8(r);
    const uint8_t *lla;
    struct in6_addr target;

    ns_reader_skip(r, 3);
    ns_reader_copy(r, &target, sizeof(target));
    if (ns_reader_failed(r) || ns_ip6_is_multicast(&target) ||
        (ns_ip6_is_multicast(&ip->dst) && (flags & NA_FLAG_SOLICITED)) ||
        scan_options(r, NDP_OPT_TARGET_LLA, &lla)) {
        NS_COUNT(lk, drop_ndp_invalid);
        return;
    }
    if (ns_ipv6_is_local(lk, &target)) {
        /* Ours are ours: a guest claiming one is misconfigured, nothing changes. */
        NS_COUNT(lk, drop_ndp_invalid);
        if (!lk->warned_ndp_claim)
            ns_log(lk->up, NETSTACK_LOG_WARN, "ndp: the guest advertises one of the stack's own "
                   "IPv6 addresses (logged once; counted as drop_ndp_invalid)");
        lk->warned_ndp_claim = 1;
        return;
    }
    ns_neigh6_learn(lk, &target, lla ? lla : ip->src_mac);
}

/**
 * router_solicit() - answer with a router advertisement.
 */
static void router_solicit(struct ns_link *lk, const struct ns_ipv6 *ip, struct ns_reader *r)
{
    const uint8_t *lla;

    NS_COUNT(lk, ndp_rs_in);
    ns_reader_skip(r, 4);           /* reserved */
    if (ns_reader_failed(r) || scan_options(r, NDP_OPT_SOURCE_LLA, &lla) ||
        (lla && ns_ip6_is_unspecified(&ip->src))) {
        NS_COUNT(lk, drop_ndp_invalid);
        return;
    }
    if (lla)
        ns_neigh6_learn(lk, &ip->src, lla);
    send_ra(lk, ns_ip6_is_unspecified(&ip->src) ? NULL : ip);
}

void ns_ndp_input(struct ns_link *lk, const struct ns_ipv6 *ip)
{
    struct ns_reader r;
    uint8_t type, code;

    ns_reader_init(&r, ip->payload, ip->payload_len);
    type = ns_read_u8(&r);
    code = ns_read_u8(&r);
    ns_reader_skip(&r, 2);          /* checksum, checked by icmp6.c */
    if (ns_reader_failed(&r) || code != 0 || ip->hop_limit != NDP_HOP_LIMIT) {
        NS_COUNT(lk, drop_ndp_invalid);
        return;
    }
    switch (type) {
    case ICMP6_NEIGHBOR_SOLICIT:
        neighbor_solicit(lk, ip, &r);
        break;
    case ICMP6_NEIGHBOR_ADVERT:
        neighbor_advert(lk, ip, &r);
        break;
    case ICMP6_ROUTER_SOLICIT:
        router_solicit(lk, ip, &r);
        break;
    default:
        NS_COUNT(lk, drop_icmp6_unhandled);
        break;
    }
}

void ns_ndp_guest_seen(struct ns_link *lk)
{
    if (lk->ra_next_ms)
        return;
    lk->ra_initial = NDP_INITIAL_RAS;
    lk->ra_next_ms = ns_now_ms() + NDP_INITIAL_INTERVAL_MS;
}

void ns_ndp_guest_gone(struct ns_link *lk)
{
    lk->ra_next_ms = 0;
}

void ns_ndp_timers(struct ns_link *lk, uint64_t now_ms)
{
    if (!lk->ra_next_ms || now_ms < lk->ra_next_ms)
        return;
    send_ra(lk, NULL);
    if (lk->ra_initial)
        lk->ra_initial--;
    lk->ra_next_ms = now_ms + (lk->ra_initial ? NDP_INITIAL_INTERVAL_MS : NDP_RA_INTERVAL_MS);
}

int ns_ndp_next_timeout(struct ns_link *lk, uint64_t now_ms)
{
    if (!lk->ra_next_ms)
        return -1;
    return lk->ra_next_ms > now_ms ? (int)(lk->ra_next_ms - now_ms) : 0;
}
