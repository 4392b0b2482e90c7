/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp6.c - stateless DHCPv6: Information-request answered (RFC 8415)
 *
 * Theory of Operation: the message is read through the checked reader, every
 * option walked to the end before anything is answered. The server's DUID is
 * a DUID-LL of the gateway's MAC (RFC 8415 section 11.4): stable across
 * restarts, as a client that remembers its server expects. The Reply goes to
 * the client's source address and port from the gateway's link-local address
 * and carries the client's ID back, the gateway as DNS server, the search
 * domains and an information refresh time, so that a changed configuration
 * reaches the guest within the hour without an advertisement.
 */
#include <string.h>

#include "ethernet/ipv6.h"
#include "ethernet/namelist.h"
#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/dhcp6.h"
#include "netstack/stack.h"
#include "netstack/udp.h"

#define MSG_INFORMATION_REQUEST 11
#define MSG_REPLY               7

#define OPT_CLIENTID            1
#define OPT_SERVERID            2
#define OPT_IA_NA               3
#define OPT_IA_TA               4
#define OPT_IA_PD               25
#define OPT_DNS_SERVERS         23
#define OPT_DOMAIN_LIST         24
#define OPT_INFO_REFRESH_TIME   32

#define DUID_MAX                130     /* type (2) and at most 128 bytes, section 11.1 */
#define INFO_REFRESH_S          3600

/**
 * server_duid() - our DUID-LL (type 3, hardware type 1 = Ethernet, the MAC); 10 bytes.
 */
static void server_duid(const struct netstack *ns, uint8_t duid[10])
{
    ns_store_be16(duid, 3);
    ns_store_be16(duid + 2, 1);
    memcpy(duid + 4, ns->cfg.gateway_mac, 6);
}

/*
 * struct request - what the reply depends on
 * @type:     the message type
 * @xid:      the transaction ID, 3 bytes
 * @client:   the Client Identifier option's data, @client_len bytes (0: none)
 * @other_server: a Server Identifier that is not ours was present
 * @asks_addresses: an IA_NA, IA_TA or IA_PD option was present
 */
struct request {
    uint8_t type;
    const uint8_t *xid;
    const uint8_t *client;
    size_t client_len;
    int other_server;
    int asks_addresses;
};

/**
 * parse() - read @msg into @q. Return: 0, or NS_DHCP6_MALFORMED.
 */
static int parse(const struct netstack *ns, const uint8_t *msg, size_t len, struct request *q)
{
    struct ns_reader r;
    uint8_t duid[10];

    memset(q, 0, sizeof(*q));
    server_duid(ns, duid);
    ns_reader_init(&r, msg, len);
    q->type = ns_read_u8(&r);
    q->xid = ns_reader_get(&r, 3);
    while (!ns_reader_failed(&r) && ns_reader_left(&r)) {
        uint16_t code = ns_read_be16(&r), olen = ns_read_be16(&r);
        const uint8_t *data = ns_reader_get(&r, olen);

        if (ns_reader_failed(&r))
            break;
        switch (code) {
        case OPT_CLIENTID:
            if (olen < 2 || olen > DUID_MAX || q->client)
                return NS_DHCP6_MALFORMED;
            q->client = data;
            q->client_len = olen;
            break;
        case OPT_SERVERID:
            if (olen != sizeof(duid) || memcmp(data, duid, sizeof(duid)))
                q->other_server = 1;
            break;
        case OPT_IA_NA:
        case OPT_IA_TA:
        case OPT_IA_PD:
            q->asks_addresses = 1;
            break;
        default:
            break;  /* option request, elapsed time, vendor options: not needed */
        }
    }
    return ns_reader_failed(&r) ? NS_DHCP6_MALFORMED : 0;
}

int ns_dhcp6_reply(struct netstack *ns, const uint8_t *msg, size_t len, uint8_t *out,
                   size_t cap)
{
    uint8_t duid[10], names[256];
    struct ns_writer w;
    struct request q;
    size_t n;

    if (parse(ns, msg, len, &q))
        return NS_DHCP6_MALFORMED;
    if (q.type != MSG_INFORMATION_REQUEST || q.other_server || q.asks_addresses)
        return NS_DHCP6_UNHANDLED;
    server_duid(ns, duid);
    ns_writer_init(&w, out, cap);
    ns_writer_u8(&w, MSG_REPLY);
    ns_writer_bytes(&w, q.xid, 3);
    ns_writer_be16(&w, OPT_SERVERID);
    ns_writer_be16(&w, sizeof(duid));
    ns_writer_bytes(&w, duid, sizeof(duid));
    if (q.client) {
        ns_writer_be16(&w, OPT_CLIENTID);
        ns_writer_be16(&w, (uint16_t)q.client_len);
        ns_writer_bytes(&w, q.client, q.client_len);
    }
    if (!ns->link.no_dns) {
        ns_writer_be16(&w, OPT_DNS_SERVERS);
        ns_writer_be16(&w, 16);
        ns_writer_bytes(&w, ns->link.dns6.s6_addr, 16);
    }
    if (!ns_namelist_encode(ns->search_domains, names, sizeof(names), &n) && n) {
        ns_writer_be16(&w, OPT_DOMAIN_LIST);
        ns_writer_be16(&w, (uint16_t)n);
        ns_writer_bytes(&w, names, n);
    }
    ns_writer_be16(&w, OPT_INFO_REFRESH_TIME);
    ns_writer_be16(&w, 4);
    ns_writer_be32(&w, INFO_REFRESH_S);
    return w.overflow ? NS_DHCP6_MALFORMED : (int)w.len;
}

void ns_dhcp6_input(struct netstack *ns, const struct ns_ipv6 *ip, uint16_t sport,
                    const uint8_t *msg, size_t len)
{
    uint8_t out[DHCP6_MSG_MAX];
    int n;

    NS_COUNT(ns, dhcp6_in);
    n = ns_dhcp6_reply(ns, msg, len, out, sizeof(out));
    if (n == NS_DHCP6_MALFORMED) {
        NS_COUNT(ns, drop_dhcp6_malformed);
        return;
    }
    if (n == NS_DHCP6_UNHANDLED) {
        NS_COUNT(ns, drop_dhcp6_unhandled);
        return;
    }
    if (!ns_udp6_send(ns, &ns->link.gateway6_ll, DHCP6_SERVER_PORT, &ip->src, sport, out, (size_t)n))
        NS_COUNT(ns, dhcp6_replies);
}
