/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp.c - UDP from and to the guest
 *
 * Theory of Operation: datagrams are validated (header length against the IP
 * payload, checksum when the sender set one) and dispatched by destination:
 * port 67 on the gateway or broadcast is the DHCP server, port 53 on the
 * gateway the DNS server (dns/server.c), replies to forwarded datagrams go
 * back to their host client (portfwd/udp_fwd.c). Everything else goes to the
 * UDP NAT (udp_nat.c), which sends it from a host socket or counts why not
 * (broadcast, multicast, an address with nothing behind it). A source of
 * 0.0.0.0 is only acceptable for DHCP, while the guest has no address: the
 * NAT could not address a reply to it.
 */
#include <errno.h>
#include <netinet/in.h>

#include "dns/dns.h"
#include "ethernet/checksum.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/dhcp.h"
#include "netstack/dhcp6.h"
#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/udp.h"
#include "portfwd/portfwd.h"

/**
 * udp_csum() - the UDP checksum over pseudo-header, header and data.
 */
static uint16_t udp_csum(uint32_t src, uint32_t dst, const uint8_t *udp, size_t len)
{
    return ns_csum_fold(ns_csum_add(ns_csum_pseudo4(src, dst, IPPROTO_UDP, len), udp, len));
}

/**
 * dhcp_input() - hand a message to the DHCP server and send its reply.
 */
static void dhcp_input(struct netstack *ns, const struct ns_ipv4 *ip, const uint8_t *msg,
                       size_t len)
{
    uint8_t reply[1024];
    struct ns_dhcp_dest dest;
    size_t reply_len = 0;
    enum ns_dhcp_result rc;

    NS_COUNT(ns, dhcp_in);
    rc = ns_dhcp_handle(ns->dhcp, msg, len, ns_now_ms() / 1000, reply, sizeof(reply),
                        &reply_len, &dest);
    if (rc == NS_DHCP_MALFORMED) {
        NS_COUNT(ns, drop_dhcp_malformed);
        return;
    }
    if (rc != NS_DHCP_REPLY)
        return;
    if (!ns_udp_send(ns, dest.mac, ns->link.gateway, DHCP_SERVER_PORT, dest.ip, DHCP_CLIENT_PORT,
                     reply, reply_len))
        NS_COUNT(ns, dhcp_out);
}

#define UDP_GSO_MAX_SEGMENTS 128    /* Linux's UDP_MAX_SEGMENTS: a guest cannot ask for more */

/**
 * dispatch() - one datagram's @data by destination: DHCP, forward replies, DNS, the NAT.
 */
static void dispatch(struct netstack *ns, const void *ipv4, uint16_t sport, uint16_t dport,
                     const uint8_t *data, size_t len)
{
    const struct ns_ipv4 *ip = ipv4;
    struct in6_addr src, dst;

    if (dport == DHCP_SERVER_PORT &&
        (ip->dst == ns->link.gateway || ip->dst == IPV4_BROADCAST || ip->dst == ns->link.broadcast)) {
        if (ns->cfg.no_dhcp)
            NS_COUNT(ns, drop_dhcp_disabled);
        else
            dhcp_input(ns, ip, data, len);
        return;
    }
    if (!ip->src) {
        NS_COUNT(ns, drop_ipv4_source);
        return;
    }
    src = ns_ip6_mapped4(ip->src);
    dst = ns_ip6_mapped4(ip->dst);
    if (ns_udp_fwd_input(ns, &src, &dst, sport, dport, data, len))
        return;     /* a reply to a forwarded datagram */
    if (dport == NS_DNS_PORT && ip->dst == ns->link.dns && !ns->link.no_dns) {
        ns_dns_udp_input(ns, ip, sport, data, len);
        return;
    }
    ns_udp_nat_input(ns, &src, &dst, sport, dport, data, len);
}

/* A datagram's dispatch for one family: @ip is its struct ns_ipv4 or ns_ipv6. */
typedef void (*dispatch_fn)(struct netstack *ns, const void *ip, uint16_t sport, uint16_t dport,
                            const uint8_t *data, size_t len);

/**
 * dispatch_segments() - a USO guest's super-datagram (virtio-net GSO_UDP_L4):
 * its payload (@payload, @plen bytes, the header included) is a train of
 * datagrams of @gso_size bytes each (the last one shorter), all with the one
 * header, as the guest's UDP_SEGMENT socket wrote them. Each goes on alone
 * to @fn, as the guest's kernel would have sent it. The header's length
 * field describes the whole train, or one segment, depending on the sender;
 * the IP length, already checked, is what counts.
 */
static void dispatch_segments(struct netstack *ns, const void *ip, const uint8_t *payload,
                              size_t plen, uint16_t sport, uint16_t dport, uint16_t gso_size,
                              dispatch_fn fn)
{
    const uint8_t *data = payload + UDP_HLEN;
    size_t len = plen - UDP_HLEN, off;

    /* No more datagrams than a kernel builds from one send (UDP_MAX_SEGMENTS). */
    if (!gso_size || (len + gso_size - 1) / gso_size > UDP_GSO_MAX_SEGMENTS) {
        NS_COUNT(ns, drop_gso_malformed);
        return;
    }
    NS_COUNT(ns, gso_frames_in);
    for (off = 0; off < len; off += gso_size)
        fn(ns, ip, sport, dport, data + off, len - off < gso_size ? len - off : gso_size);
}

/* struct udp_hdr - the header's fields (RFC 768) */
struct udp_hdr {
    uint16_t sport, dport, ulen, csum;
};

/**
 * read_header() - the header at the start of @p, @len bytes.
 * Return: 0, or -1 if it is cut short or its length field is below 8.
 */
static int read_header(const uint8_t *p, size_t len, struct udp_hdr *h)
{
    struct ns_reader r;

    ns_reader_init(&r, p, len);
    h->sport = ns_read_be16(&r);
    h->dport = ns_read_be16(&r);
    h->ulen = ns_read_be16(&r);
    h->csum = ns_read_be16(&r);
    return ns_reader_failed(&r) || h->ulen < UDP_HLEN ? -1 : 0;
}

void ns_udp_input(struct netstack *ns, const struct ns_ipv4 *ip)
{
    const struct netstack_offload *o = ns->link.rx_offload;
    int gso = o && o->gso_type == NETSTACK_GSO_UDP_L4;
    struct udp_hdr u;

    NS_COUNT(ns, udp_in);
    if (read_header(ip->payload, ip->payload_len, &u) || (!gso && u.ulen > ip->payload_len)) {
        NS_COUNT(ns, drop_udp_malformed);
        return;
    }
    if (gso) {          /* its checksum is partial by definition */
        dispatch_segments(ns, ip, ip->payload, ip->payload_len, u.sport, u.dport, o->gso_size,
                          dispatch);
        return;
    }
    if (u.csum && !ip->csum_trusted && udp_csum(ip->src, ip->dst, ip->payload, u.ulen) != 0) {
        NS_COUNT(ns, drop_udp_checksum);
        return;
    }
    dispatch(ns, ip, u.sport, u.dport, ip->payload + UDP_HLEN, u.ulen - UDP_HLEN);
}

/**
 * udp6_csum() - the checksum of @ip's datagram of @ulen bytes; 0 when it checks out.
 */
static uint16_t udp6_csum(const struct ns_ipv6 *ip, size_t ulen)
{
    uint32_t sum = ns_csum_pseudo6(ip->src.s6_addr, ip->dst.s6_addr, IPPROTO_UDP, ulen);

    return ns_csum_fold(ns_csum_add(sum, ip->payload, ulen));
}

/**
 * dispatch6() - one IPv6 datagram's @data by destination: forward replies,
 * DNS, DHCPv6, the NAT.
 */
static void dispatch6(struct netstack *ns, const void *ipv6, uint16_t sport, uint16_t dport,
                      const uint8_t *data, size_t len)
{
    const struct ns_ipv6 *ip = ipv6;

    if (ns_udp_fwd_input(ns, &ip->src, &ip->dst, sport, dport, data, len))
        return;     /* a reply to a forwarded datagram */
    if (dport == NS_DNS_PORT && ns_ip6_equal(&ip->dst, &ns->link.dns6) && !ns->link.no_dns)
        ns_dns_udp6_input(ns, ip, sport, data, len);
    else if (dport == DHCP6_SERVER_PORT &&
             (ns_ip6_is_multicast(&ip->dst) || ns_ip6_equal(&ip->dst, &ns->link.gateway6_ll)))
        ns_dhcp6_input(ns, ip, sport, data, len);
    else if (!ns_ip6_is_multicast(&ip->dst))
        ns_udp_nat_input(ns, &ip->src, &ip->dst, sport, dport, data, len);
    else
        NS_COUNT(ns, drop_udp_broadcast);
}

void ns_udp6_input(struct netstack *ns, const struct ns_ipv6 *ip)
{
    const struct netstack_offload *o = ns->link.rx_offload;
    int gso = o && o->gso_type == NETSTACK_GSO_UDP_L4;
    struct udp_hdr u;

    NS_COUNT(ns, udp_in);
    if (read_header(ip->payload, ip->payload_len, &u) || (!gso && u.ulen > ip->payload_len)) {
        NS_COUNT(ns, drop_udp_malformed);
        return;
    }
    if (gso) {          /* its checksum is partial by definition */
        dispatch_segments(ns, ip, ip->payload, ip->payload_len, u.sport, u.dport, o->gso_size,
                          dispatch6);
        return;
    }
    /* Over IPv6 the checksum is mandatory: zero is not "none" (RFC 8200 section 8.1). */
    if (!ip->csum_trusted && (!u.csum || udp6_csum(ip, u.ulen) != 0)) {
        NS_COUNT(ns, drop_udp_checksum);
        return;
    }
    dispatch6(ns, ip, u.sport, u.dport, ip->payload + UDP_HLEN, u.ulen - UDP_HLEN);
}

int ns_udp6_send(struct netstack *ns, const struct in6_addr *src, uint16_t sport,
                 const struct in6_addr *dst, uint16_t dport, const uint8_t *payload, size_t len)
{
    size_t ulen = UDP_HLEN + len;
    uint8_t h[UDP_HLEN], mac[6];
    uint16_t csum;

    if (ulen > 0xffff)
        return -EMSGSIZE;
    if (!ns_neigh6_lookup(&ns->link, dst, mac)) {
        NS_COUNT(ns, drop_tx_no_neighbor);
        return -EHOSTUNREACH;
    }
    ns_store_be16(h, sport);
    ns_store_be16(h + 2, dport);
    ns_store_be16(h + 4, (uint16_t)ulen);
    ns_store_be16(h + 6, 0);
    csum = ns_csum_fold(ns_csum_add(ns_csum_add(ns_csum_pseudo6(src->s6_addr, dst->s6_addr,
                                                                IPPROTO_UDP, ulen),
                                                h, UDP_HLEN),
                                    payload, len));
    ns_store_be16(h + 6, csum ? csum : 0xffff);
    return ns_ipv6_send(&ns->link, mac, src, dst, IPPROTO_UDP, 64, h, UDP_HLEN, payload, len);
}

int ns_udp_send(struct netstack *ns, const uint8_t *dst_mac, uint32_t src, uint16_t sport,
                uint32_t dst, uint16_t dport, const uint8_t *payload, size_t len)
{
    size_t ulen = UDP_HLEN + len;
    uint8_t h[UDP_HLEN];
    uint32_t sum;
    uint16_t csum;

    if (ulen > IPV4_MAX_LEN - IPV4_HLEN)
        return -EMSGSIZE;
    ns_store_be16(h, sport);
    ns_store_be16(h + 2, dport);
    ns_store_be16(h + 4, (uint16_t)ulen);
    ns_store_be16(h + 6, 0);
    sum = ns_csum_add(ns_csum_pseudo4(src, dst, IPPROTO_UDP, ulen), h, UDP_HLEN);
    csum = ns_csum_fold(ns_csum_add(sum, payload, len));
    ns_store_be16(h + 6, csum ? csum : 0xffff);     /* RFC 768: 0 means "no checksum" */
    /* The header and the payload go into the frame directly: no copy first. */
    return ns_ipv4_send_parts(&ns->link, dst_mac, src, dst, IPPROTO_UDP, h, UDP_HLEN, payload, len);
}

/**
 * frames_per_datagram() - frames ns_ipv4_send() needs for @len bytes of IP payload
 * @ns:  the stack (its MTU)
 * @len: IP payload bytes
 * Return: at least 1.
 */
static size_t frames_per_datagram(const struct netstack *ns, size_t len)
{
    /* The IPv6 fragment's (a fixed header and a fragment header): the smaller one. */
    size_t max = ((size_t)ns->cfg.mtu - IPV6_HLEN - 8) & ~(size_t)7;

    return len ? (len + max - 1) / max : 1;
}

/**
 * ns_udp_tx_budget() - how many datagrams a host socket may be read for now
 * without risking the transmit queue (each may be a 65527-byte datagram
 * fragmented to the MTU, IPv6's fragments being the smaller)
 * @ns:  the stack
 * @max: the caller's batch size
 * Return: 1..@max; 0 when the queue holds this dispatch's frames (wait for its
 * flush); -1 when the transport pushed back (pause until resumed).
 */
int ns_udp_tx_budget(const struct netstack *ns, int max)
{
    size_t worst = frames_per_datagram(ns, 0xffff), n;

    if (ns->tx.blocked)
        return -1;
    if (ns_tx_full(&ns->tx))
        return 0;
    n = ns_tx_room(&ns->tx, (size_t)ns->cfg.mtu + 14) / worst;
    if (!n && !ns->tx.count)
        n = 1;      /* a queue smaller than one datagram: the best there is */
    return n > (size_t)max ? max : (int)n;
}
