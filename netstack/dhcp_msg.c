/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_msg.c - netstack's DHCP server: the message format (RFC 2131
 * section 2, options RFC 2132 and RFC 3397)
 *
 * Theory of Operation
 * ===================
 *
 * Parsing
 * -------
 * dhcp_parse() reads a whole client message through the bounds-checked
 * reader into a struct dhcp_msg: the fixed BOOTP part, then the option areas
 * in the order of RFC 2131 section 4.1. A field or option that runs past
 * what was received makes the message malformed.
 *
 * Replies
 * -------
 * Every OFFER and ACK carries the full set of options the stack's guests
 * need (see dhcp_put_config()), whatever the parameter request list says:
 * udhcpc and dhclient both accept options they did not ask for. The reply
 * always fits in DHCP_REPLY_MAX (548) bytes, the UDP payload of the 576-byte
 * datagram every client must accept (RFC 2131 section 2), so option 57 is not
 * needed: ns_dhcp_new() rejects a domain name that would not fit, and keeps
 * only the search domains that fit, in order. Replies are padded to the
 * 300-byte BOOTP minimum (RFC 1542 section 3.3) that some clients insist on.
 */

#include <string.h>

#include "ethernet/reader.h"
#include "ethernet/namelist.h"
#include "ethernet/writer.h"
#include "netstack/dhcp.h"
#include "netstack/dhcp_priv.h"

/* --- Parsing (RFC 2131 section 2, RFC 2132) ------------------------------ */

/**
 * dhcp_parse_header() - read and check the fixed BOOTP part
 * @r:      reader at the start of the message
 * @m:      fields are stored here
 * @sname:  set to a reader over the 'sname' field
 * @file:   set to a reader over the 'file' field
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
 *  +---------------+---------------+---------------+---------------+
 *  |                            xid (4)                            |
 *  +-------------------------------+-------------------------------+
 *  |           secs (2)            |           flags (2)           |
 *  +-------------------------------+-------------------------------+
 *  |          ciaddr (4), yiaddr (4), siaddr (4), giaddr (4)       |
 *  +---------------------------------------------------------------+
 *  |   chaddr (16), sname (64), file (128), magic cookie (4)       |
 *  +---------------------------------------------------------------+
 *  |                          options (variable)                   |
 *  +---------------------------------------------------------------+
 *
 * Return: 0, -1 if truncated, not a BOOTREQUEST, not Ethernet or no cookie
 */
static int dhcp_parse_header(struct ns_reader *r, struct dhcp_msg *m,
                             struct ns_reader *sname, struct ns_reader *file)
{
    uint8_t op, htype, hlen;
    uint32_t cookie;

    op = ns_read_u8(r);
    htype = ns_read_u8(r);
    hlen = ns_read_u8(r);
    ns_reader_skip(r, 1);                           /* hops */
    m->xid = ns_read_be32(r);
    ns_reader_skip(r, 2);                           /* secs */
    m->flags = ns_read_be16(r);
    m->ciaddr = ns_read_be32(r);
    ns_reader_skip(r, 4 + 4);                       /* yiaddr, siaddr */
    m->giaddr = ns_read_be32(r);
    ns_reader_copy(r, m->chaddr, sizeof(m->chaddr));
    ns_reader_sub(r, DHCP_SNAME_LEN, sname);
    ns_reader_sub(r, DHCP_FILE_LEN, file);
    cookie = ns_read_be32(r);
    if (ns_reader_failed(r))
        return -1;

    if (op != BOOTREQUEST || htype != DHCP_HTYPE_ETHER ||
        hlen != DHCP_HLEN_ETHER || cookie != DHCP_MAGIC)
        return -1;
    return 0;
}

/**
 * dhcp_parse_option() - take in one option the server uses
 * @code:   option code
 * @o:      reader over exactly the option's value
 * @m:      message being parsed
 * @primary:   the option is in the 'options' field, not in 'file' or 'sname'
 *
 * Return: 0, -1 if an option we use has the wrong length or value
 */
static int dhcp_parse_option(uint8_t code, struct ns_reader *o,
                             struct dhcp_msg *m, int primary)
{
    size_t len = ns_reader_left(o);

    switch (code) {
    case OPT_MSG_TYPE:                              /* RFC 2132 9.6 */
        return len == 1 ? ns_reader_u8(o, &m->type) : -1;
    case OPT_REQUESTED_IP:                          /* RFC 2132 9.1 */
        return len == 4 ? ns_reader_be32(o, &m->req_ip) : -1;
    case OPT_SERVER_ID:                             /* RFC 2132 9.7 */
        m->has_server_id = 1;
        return len == 4 ? ns_reader_be32(o, &m->server_id) : -1;
    case OPT_OVERLOAD:                              /* RFC 2132 9.3 */
        if (len != 1)
            return -1;
        if (!primary)      /* only meaningful in 'options' (RFC 2131 4.1) */
            return 0;
        if (ns_reader_u8(o, &m->overload) || m->overload < 1 || m->overload > 3)
            return -1;
        return 0;
    default:
        return 0;
    }
}

/**
 * dhcp_parse_options() - walk one option area
 * @r:      reader over the area ('options' to the end of the message, or
 *          exactly the 'file' or 'sname' field)
 * @m:      message being parsed
 * @primary:   @r is the 'options' field
 *
 * Pad (0) and end (255) have no length byte; every other option has a
 * length byte that must be there and a value that must fit in what is left
 * (RFC 2132 section 2). An area that runs out right after an option, without
 * an end option, is accepted.
 *
 * Return: 0, -1 if an option runs past the area or is invalid
 */
static int dhcp_parse_options(struct ns_reader *r, struct dhcp_msg *m, int primary)
{
    struct ns_reader o;
    uint8_t code, len;

    while (!ns_reader_u8(r, &code)) {
        if (code == OPT_PAD)
            continue;
        if (code == OPT_END)
            return 0;
        if (ns_reader_u8(r, &len) || ns_reader_sub(r, len, &o))
            return -1;
        if (dhcp_parse_option(code, &o, m, primary))
            return -1;
    }
    return 0;
}

/**
 * dhcp_mac_ok() - whether chaddr can identify a client
 * @mac:    chaddr
 *
 * Return: 1 for a unicast, nonzero Ethernet address, else 0
 */
static int dhcp_mac_ok(const uint8_t *mac)
{
    static const uint8_t zero[6];

    return !(mac[0] & 1) && memcmp(mac, zero, sizeof(zero));
}

/**
 * dhcp_parse() - parse and validate a client message
 * @msg:    message (untrusted)
 * @len:    its length
 * @m:      result
 *
 * Return: 0, -1 if the message is malformed
 */
int dhcp_parse(const uint8_t *msg, size_t len, struct dhcp_msg *m)
{
    struct ns_reader r, sname, file;

    memset(m, 0, sizeof(*m));
    ns_reader_init(&r, msg, len);
    if (dhcp_parse_header(&r, m, &sname, &file) || dhcp_parse_options(&r, m, 1))
        return -1;

    /* RFC 2131 section 4.1: 'options' first, then 'file', then 'sname' */
    if ((m->overload & OVERLOAD_FILE) && dhcp_parse_options(&file, m, 0))
        return -1;
    if ((m->overload & OVERLOAD_SNAME) && dhcp_parse_options(&sname, m, 0))
        return -1;

    if (!m->type || !dhcp_mac_ok(m->chaddr))
        return -1;
    return 0;
}

/* --- Building replies (RFC 2131 section 4.3.1, table 3) ------------------ */

/**
 * dhcp_put_u32() - write an option with a 32-bit value
 * @w:      writer
 * @code:   option code
 * @v:      value (address or seconds), host order
 */
static void dhcp_put_u32(struct ns_writer *w, uint8_t code, uint32_t v)
{
    ns_writer_u8(w, code);
    ns_writer_u8(w, 4);
    ns_writer_be32(w, v);
}

/**
 * dhcp_put_header() - write the fixed BOOTP part of a reply
 * @w:      writer
 * @m:      request
 * @a:      reply
 *
 * xid, flags, giaddr and chaddr are copied; ciaddr is copied into an ACK
 * and zero otherwise (table 3); siaddr, sname and file are zero.
 */
static void dhcp_put_header(struct ns_writer *w, const struct dhcp_msg *m,
                            const struct dhcp_answer *a)
{
    ns_writer_u8(w, BOOTREPLY);
    ns_writer_u8(w, DHCP_HTYPE_ETHER);
    ns_writer_u8(w, DHCP_HLEN_ETHER);
    ns_writer_u8(w, 0);                             /* hops */
    ns_writer_be32(w, m->xid);
    ns_writer_be16(w, 0);                           /* secs */
    ns_writer_be16(w, m->flags);
    ns_writer_be32(w, a->type == DHCPACK ? m->ciaddr : 0);
    ns_writer_be32(w, a->yiaddr);
    ns_writer_be32(w, 0);                           /* siaddr */
    ns_writer_be32(w, m->giaddr);
    ns_writer_bytes(w, m->chaddr, sizeof(m->chaddr));
    ns_writer_zero(w, DHCP_SNAME_LEN + DHCP_FILE_LEN);
    ns_writer_be32(w, DHCP_MAGIC);
}

/**
 * dhcp_put_config() - write the options that configure the client
 * @w:      writer
 * @d:      server
 *
 * Subnet mask (1), router (3, the server), DNS server (6, when there is
 * one), broadcast address (28), MTU (26), host name (12), domain name (15)
 * and domain search list (119, RFC 3397). Their total is bounded by
 * ns_dhcp_new().
 */
static void dhcp_put_config(struct ns_writer *w, const struct ns_dhcp *d)
{
    const struct ns_dhcp_config *c = &d->cfg;

    dhcp_put_u32(w, OPT_SUBNET_MASK, c->netmask);
    dhcp_put_u32(w, OPT_ROUTER, c->server);
    if (c->dns)
        dhcp_put_u32(w, OPT_DNS, c->dns);
    dhcp_put_u32(w, OPT_BROADCAST, c->subnet | ~c->netmask);
    if (c->mtu) {
        ns_writer_u8(w, OPT_MTU);
        ns_writer_u8(w, 2);
        ns_writer_be16(w, c->mtu);
    }
    if (d->hostname_len) {
        ns_writer_u8(w, OPT_HOSTNAME);
        ns_writer_u8(w, (uint8_t)d->hostname_len);
        ns_writer_bytes(w, d->hostname, d->hostname_len);
    }
    if (d->domain_len) {
        ns_writer_u8(w, OPT_DOMAIN_NAME);
        ns_writer_u8(w, (uint8_t)d->domain_len);
        ns_writer_bytes(w, d->domain, d->domain_len);
    }
    if (d->search_len) {
        ns_writer_u8(w, OPT_DOMAIN_SEARCH);
        ns_writer_u8(w, (uint8_t)d->search_len);
        ns_writer_bytes(w, d->search, d->search_len);
    }
}

/**
 * dhcp_put_options() - write the options of a reply, end option included
 * @w:      writer
 * @d:      server
 * @a:      reply
 *
 * A NAK carries only the message type and server identifier (table 3).
 * Lease time (51), T1 (58, half the lease) and T2 (59, 7/8 of it, RFC 2131
 * section 4.4.5) are left out of the ACK to an INFORM.
 */
static void dhcp_put_options(struct ns_writer *w, const struct ns_dhcp *d,
                             const struct dhcp_answer *a)
{
    uint64_t lease = d->cfg.lease_seconds;

    ns_writer_u8(w, OPT_MSG_TYPE);
    ns_writer_u8(w, 1);
    ns_writer_u8(w, a->type);
    dhcp_put_u32(w, OPT_SERVER_ID, d->cfg.server);
    if (a->type != DHCPNAK) {
        if (a->lease) {
            dhcp_put_u32(w, OPT_LEASE_TIME, (uint32_t)lease);
            dhcp_put_u32(w, OPT_RENEWAL_TIME, (uint32_t)(lease / 2));
            dhcp_put_u32(w, OPT_REBINDING_TIME, (uint32_t)(lease * 7 / 8));
        }
        dhcp_put_config(w, d);
    }
    ns_writer_u8(w, OPT_END);
}

/**
 * dhcp_build() - write a whole reply
 * @d:          server
 * @m:          request
 * @a:          reply
 * @buf:        output buffer
 * @cap:        its size
 * @len:        set to the reply length
 *
 * Return: 0, -1 if @cap is too small
 */
int dhcp_build(const struct ns_dhcp *d, const struct dhcp_msg *m,
               const struct dhcp_answer *a, uint8_t *buf, size_t cap,
               size_t *len)
{
    struct ns_writer w;

    ns_writer_init(&w, buf, cap);
    dhcp_put_header(&w, m, a);
    dhcp_put_options(&w, d, a);
    if (w.len < BOOTP_MIN_LEN)
        ns_writer_zero(&w, BOOTP_MIN_LEN - w.len);
    if (w.overflow)
        return -1;
    *len = w.len;
    return 0;
}

/**
 * dhcp_dest() - where a reply goes, RFC 2131 section 4.1
 * @m:      request (giaddr is zero: relays are not served)
 * @a:      reply
 * @dest:   result
 *
 * A NAK is broadcast. Otherwise a client with an address (ciaddr: RENEWING,
 * INFORM) gets unicast there; a client that set the broadcast flag, or is
 * given no address, gets a broadcast; anything else is unicast to yiaddr at
 * chaddr.
 */
void dhcp_dest(const struct dhcp_msg *m, const struct dhcp_answer *a,
               struct ns_dhcp_dest *dest)
{
    if (a->type == DHCPNAK ||
        (!m->ciaddr && ((m->flags & DHCP_FLAG_BROADCAST) || !a->yiaddr))) {
        dest->ip = 0xffffffff;
        memset(dest->mac, 0xff, sizeof(dest->mac));
        return;
    }
    dest->ip = m->ciaddr ? m->ciaddr : a->yiaddr;
    memcpy(dest->mac, m->chaddr, sizeof(dest->mac));
}

/* --- Search list (RFC 3397, names RFC 1035 section 3.1) ------------------ */

/**
 * dhcp_set_search() - encode the search list for option 119
 * @d:      server
 * @list:   names separated by spaces or tabs, NULL or "" for none
 * @room:   bytes available for the encoded list
 *
 * RFC 3397 section 2: the names one after another. Names are kept in order
 * while they fit in @room; the rest are left out (but must still be valid).
 *
 * Return: 0, -1 if a name is invalid
 */
int dhcp_set_search(struct ns_dhcp *d, const char *list, size_t room)
{
    if (room > sizeof(d->search))
        room = sizeof(d->search);
    return ns_namelist_encode(list, d->search, room, &d->search_len);
}
