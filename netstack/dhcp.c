/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp.c - netstack's DHCP server (RFC 2131, options RFC 2132 and RFC 3397)
 *
 * Theory of Operation
 * ===================
 *
 * The guest is the only client on a virtual link and this server is the only
 * server on it, so the server is authoritative and keeps everything in memory.
 * ns_dhcp_handle() takes one message's UDP payload, parses it completely
 * through the bounds-checked reader into a struct dhcp_msg, decides what to do
 * (dhcp_dispatch()), updates the lease table and writes the reply through the
 * bounds-checked writer. Parsing never looks at the message again after that,
 * and no pointer into the message is kept.
 *
 * The server is three files sharing the private header dhcp_priv.h:
 *
 * - this one decides what to do with a message (RFC 2131 section 4.3), and
 *   holds the configuration, ns_dhcp_new(), ns_dhcp_free() and
 *   ns_dhcp_handle();
 * - dhcp_lease.c keeps the lease table and its time, and answers
 *   ns_dhcp_owner();
 * - dhcp_msg.c is the wire format: it parses client messages and builds
 *   the replies.
 *
 * Not supported: relay agents (a nonzero giaddr gets no reply), RFC 3396 long
 * options (not needed in what we send; in what we read, a repeated option
 * simply replaces the earlier one), and hardware other than Ethernet.
 */

#include <stdlib.h>
#include <string.h>

#include "netstack/dhcp.h"
#include "netstack/dhcp_priv.h"

#define DHCP_OFFER_SECONDS      60      /* an OFFER holds its address this long */
#define DHCP_DECLINE_SECONDS    600     /* a DECLINEd address rests this long */
#define DHCP_LEASES_MAX         65536   /* cap on the lease table */
#define DHCP_MTU_MIN            68      /* RFC 2132 section 5.1 */

/* --- Message handling (RFC 2131 section 4.3) ----------------------------- */

/**
 * dhcp_not_us() - whether a message names another server
 * @d:      server
 * @m:      message
 *
 * Return: 1 if @m carries a server identifier that is not ours
 */
static int dhcp_not_us(const struct ns_dhcp *d, const struct dhcp_msg *m)
{
    return m->has_server_id && m->server_id != d->cfg.server;
}

/**
 * dhcp_discover() - DHCPDISCOVER: choose an address and offer it
 * @d:      server
 * @m:      message
 * @now:    current time
 * @a:      reply to send
 *
 * RFC 2131 section 4.3.1, in order: the client's current binding, its
 * previous address if still free, the requested address (option 50) if free,
 * a new address.
 *
 * Return: 1 to send @a, 0 if the pool is exhausted
 */
static int dhcp_discover(struct ns_dhcp *d, const struct dhcp_msg *m,
                         uint64_t now, struct dhcp_answer *a)
{
    struct lease *l = dhcp_lease_by_mac(d, m->chaddr);

    if (!l) {
        l = dhcp_lease_at(d, m->req_ip);
        if (!l || dhcp_lease_state_at(l, now) != LEASE_FREE)
            l = dhcp_lease_new(d, now);
    }
    if (!l)
        return 0;

    if (dhcp_lease_state_at(l, now) == LEASE_BOUND) {
        /* keep the binding, at least as long as an offer would last */
        if (l->expires < dhcp_after(now, DHCP_OFFER_SECONDS))
            l->expires = dhcp_after(now, DHCP_OFFER_SECONDS);
    } else {
        dhcp_lease_take(d, l, m->chaddr, LEASE_OFFERED,
                        dhcp_after(now, DHCP_OFFER_SECONDS));
    }

    a->type = DHCPOFFER;
    a->yiaddr = dhcp_lease_ip(d, l);
    a->lease = 1;
    return 1;
}

/**
 * dhcp_request_lease() - the entry a DHCPREQUEST may bind
 * @d:      server
 * @mac:    client
 * @ip:     address the client asks for
 * @now:    current time
 *
 * The address must be in our pool, and free or already this client's; a
 * client that holds another address gets nothing.
 *
 * Return: the entry, NULL if the request must be NAKed
 */
static struct lease *dhcp_request_lease(struct ns_dhcp *d, const uint8_t *mac,
                                        uint32_t ip, uint64_t now)
{
    struct lease *l = dhcp_lease_at(d, ip), *mine = dhcp_lease_by_mac(d, mac);
    enum lease_state st;

    if (!l)
        return NULL;            /* not in our subnet, or not ours to give */
    if (mine && mine != l && dhcp_lease_state_at(mine, now) != LEASE_FREE)
        return NULL;            /* the client holds a different address */

    st = dhcp_lease_state_at(l, now);
    if (st == LEASE_FREE)
        return l;
    if (st == LEASE_OFFERED || st == LEASE_BOUND)
        return l == mine ? l : NULL;
    return NULL;                /* declined */
}

/**
 * dhcp_request() - DHCPREQUEST: bind and ACK, or NAK
 * @d:      server
 * @m:      message
 * @now:    current time
 * @a:      reply to send
 *
 * RFC 2131 section 4.3.2. SELECTING carries our server identifier and the
 * offered address in option 50; INIT-REBOOT has option 50 and no server
 * identifier; RENEWING and REBINDING have the address in ciaddr. A server
 * identifier that is not ours means the client took another server's offer:
 * our offer is withdrawn and nothing is sent. As the only server on the link
 * we answer INIT-REBOOT for a free address with an ACK instead of silence.
 *
 * Return: 1 to send @a, 0 for no reply
 */
static int dhcp_request(struct ns_dhcp *d, const struct dhcp_msg *m,
                        uint64_t now, struct dhcp_answer *a)
{
    uint32_t ip = m->ciaddr ? m->ciaddr : m->req_ip;
    struct lease *l;

    if (dhcp_not_us(d, m)) {
        l = dhcp_lease_by_mac(d, m->chaddr);
        if (l && dhcp_lease_state_at(l, now) == LEASE_OFFERED)
            dhcp_lease_free(l, now);
        return 0;
    }

    l = dhcp_request_lease(d, m->chaddr, ip, now);
    if (!l) {
        a->type = DHCPNAK;
        a->yiaddr = 0;
        return 1;
    }

    dhcp_lease_take(d, l, m->chaddr, LEASE_BOUND,
                    dhcp_after(now, d->cfg.lease_seconds));
    a->type = DHCPACK;
    a->yiaddr = ip;
    a->lease = 1;
    return 1;
}

/**
 * dhcp_decline() - DHCPDECLINE: the client found its address in use
 * @d:      server
 * @m:      message
 * @now:    current time
 *
 * RFC 2131 section 4.3.3: the address (option 50) is marked not available
 * for DHCP_DECLINE_SECONDS, and the client is forgotten, so that its next
 * DISCOVER gets another address.
 */
static void dhcp_decline(struct ns_dhcp *d, const struct dhcp_msg *m, uint64_t now)
{
    struct lease *l = dhcp_lease_at(d, m->req_ip);

    if (dhcp_not_us(d, m) || !l || !l->known ||
        memcmp(l->mac, m->chaddr, sizeof(l->mac)))
        return;
    l->state = LEASE_DECLINED;
    l->known = 0;
    l->expires = dhcp_after(now, DHCP_DECLINE_SECONDS);
}

/**
 * dhcp_release() - DHCPRELEASE: the client gives its address back
 * @d:      server
 * @m:      message
 * @now:    current time
 *
 * RFC 2131 section 4.3.4: the address is in ciaddr. The client stays
 * remembered on the entry and gets the same address next time if it is
 * still free.
 */
static void dhcp_release(struct ns_dhcp *d, const struct dhcp_msg *m, uint64_t now)
{
    struct lease *l = dhcp_lease_at(d, m->ciaddr);

    if (dhcp_not_us(d, m) || !l || !l->known ||
        memcmp(l->mac, m->chaddr, sizeof(l->mac)))
        return;
    if (dhcp_lease_state_at(l, now) != LEASE_FREE)
        dhcp_lease_free(l, now);
}

/**
 * dhcp_dispatch() - act on a parsed message
 * @d:      server
 * @m:      message
 * @now:    current time
 * @a:      reply to send
 *
 * Return: 1 to send @a, 0 for no reply
 */
static int dhcp_dispatch(struct ns_dhcp *d, const struct dhcp_msg *m,
                         uint64_t now, struct dhcp_answer *a)
{
    switch (m->type) {
    case DHCPDISCOVER:
        return dhcp_discover(d, m, now, a);
    case DHCPREQUEST:
        return dhcp_request(d, m, now, a);
    case DHCPDECLINE:
        dhcp_decline(d, m, now);
        return 0;
    case DHCPRELEASE:
        dhcp_release(d, m, now);
        return 0;
    case DHCPINFORM:                /* RFC 2131 4.3.5: no address, no lease */
        a->type = DHCPACK;
        a->yiaddr = 0;
        a->lease = 0;
        return 1;
    default:                        /* server messages, or types we do not serve */
        return 0;
    }
}

/* --- Configuration -------------------------------------------------------- */

/**
 * dhcp_config_ok() - check addresses and numbers of a configuration
 * @c:      configuration
 *
 * Return: 1 if the netmask is contiguous and not /0, the subnet has no host
 *         bits, server, first and last are in it with first <= last, the
 *         lease time is nonzero and the MTU is 0 (not sent) or at least 68
 */
static int dhcp_config_ok(const struct ns_dhcp_config *c)
{
    uint32_t host = ~c->netmask;

    if (!c->netmask || (host & (host + 1)) || (c->subnet & host))
        return 0;
    if ((c->server & c->netmask) != c->subnet ||
        (c->first & c->netmask) != c->subnet ||
        (c->last & c->netmask) != c->subnet || c->first > c->last)
        return 0;
    return c->lease_seconds && (!c->mtu || c->mtu >= DHCP_MTU_MIN);
}

/**
 * dhcp_excluded() - whether an address of the range is never handed out
 * @c:      configuration
 * @ip:     address
 *
 * Return: 1 for the network, broadcast and server addresses and reserved[]
 */
static int dhcp_excluded(const struct ns_dhcp_config *c, uint32_t ip)
{
    size_t i;

    if (ip == c->subnet || ip == (c->subnet | ~c->netmask) || ip == c->server)
        return 1;
    for (i = 0; i < sizeof(c->reserved) / sizeof(c->reserved[0]); i++) {
        if (c->reserved[i] && c->reserved[i] == ip)
            return 1;
    }
    return 0;
}

/**
 * dhcp_set_strings() - copy the domain name and encode the search list
 * @d:      server, @d->cfg set
 * @c:      configuration as given
 *
 * The biggest reply must fit in DHCP_REPLY_MAX: the domain name must fit
 * beside the fixed options, the search list gets what room is left.
 *
 * Return: 0, -1 if the host or domain name does not fit or a search name is invalid
 */
static int dhcp_set_strings(struct ns_dhcp *d, const struct ns_dhcp_config *c)
{
    size_t used = DHCP_FIXED_REPLY_LEN, room;

    if (c->hostname && *c->hostname) {
        d->hostname_len = strnlen(c->hostname, sizeof(d->hostname) + 1);
        if (d->hostname_len > sizeof(d->hostname))
            return -1;
        memcpy(d->hostname, c->hostname, d->hostname_len);
        used += 2 + d->hostname_len;
    }
    if (c->domain_name && *c->domain_name) {
        d->domain_len = strnlen(c->domain_name, sizeof(d->domain) + 1);
        if (d->domain_len > sizeof(d->domain) ||
            used + 2 + d->domain_len > DHCP_REPLY_MAX)
            return -1;
        memcpy(d->domain, c->domain_name, d->domain_len);
        used += 2 + d->domain_len;
    }

    room = DHCP_REPLY_MAX - used >= 2 ? DHCP_REPLY_MAX - used - 2 : 0;
    if (room > sizeof(d->search))
        room = sizeof(d->search);
    return dhcp_set_search(d, c->search, room);
}

/* --- Public interface ----------------------------------------------------- */

/**
 * ns_dhcp_new() - a server with an empty lease table
 * @cfg:    configuration; its strings are copied
 *
 * Return: the server, NULL on a bad configuration or no memory
 */
struct ns_dhcp *ns_dhcp_new(const struct ns_dhcp_config *cfg)
{
    struct ns_dhcp *d;
    uint64_t n;
    uint32_t i;

    if (!cfg || !dhcp_config_ok(cfg))
        return NULL;

    n = (uint64_t)cfg->last - cfg->first + 1;
    if (n > DHCP_LEASES_MAX)
        n = DHCP_LEASES_MAX;
    if (n > (SIZE_MAX - sizeof(*d)) / sizeof(d->leases[0]))
        return NULL;

    d = calloc(1, sizeof(*d) + (size_t)n * sizeof(d->leases[0]));
    if (!d)
        return NULL;

    d->cfg = *cfg;
    d->cfg.domain_name = NULL;
    d->cfg.search = NULL;
    d->cfg.hostname = NULL;
    d->nleases = (uint32_t)n;
    if (dhcp_set_strings(d, cfg)) {
        free(d);
        return NULL;
    }

    for (i = 0; i < d->nleases; i++) {
        if (dhcp_excluded(cfg, cfg->first + i))
            d->leases[i].state = LEASE_EXCLUDED;
    }
    return d;
}

/**
 * ns_dhcp_free() - free a server and its lease table
 * @d:      server, or NULL
 */
void ns_dhcp_free(struct ns_dhcp *d)
{
    free(d);
}

/**
 * ns_dhcp_handle() - process one message from a client
 * @d:          server
 * @msg:        UDP payload as received (untrusted)
 * @len:        its length
 * @now:        monotonic seconds, for lease expiry
 * @reply:      buffer for the reply's UDP payload
 * @cap:        its size (DHCP_REPLY_MAX, 548, is always enough)
 * @reply_len:  set to the reply's length on NS_DHCP_REPLY
 * @dest:       set to where the reply goes on NS_DHCP_REPLY
 *
 * A reply that does not fit in @cap is not sent (NS_DHCP_NO_REPLY) but its
 * effect on the lease table stays, as if it had been lost on the link: the
 * client retransmits.
 *
 * Return: NS_DHCP_REPLY, NS_DHCP_NO_REPLY or NS_DHCP_MALFORMED
 */
enum ns_dhcp_result ns_dhcp_handle(struct ns_dhcp *d, const uint8_t *msg, size_t len,
                                   uint64_t now, uint8_t *reply, size_t cap,
                                   size_t *reply_len, struct ns_dhcp_dest *dest)
{
    struct dhcp_answer a = { 0 };
    struct dhcp_msg m;

    if (!d || !reply_len || !dest)
        return NS_DHCP_MALFORMED;

    d->now = now;
    if (dhcp_parse(msg, len, &m))
        return NS_DHCP_MALFORMED;
    if (m.giaddr)                   /* via a relay agent: not supported */
        return NS_DHCP_NO_REPLY;

    if (!dhcp_dispatch(d, &m, now, &a) ||
        dhcp_build(d, &m, &a, reply, cap, reply_len))
        return NS_DHCP_NO_REPLY;
    dhcp_dest(&m, &a, dest);
    return NS_DHCP_REPLY;
}
