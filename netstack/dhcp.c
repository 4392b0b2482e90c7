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
 * Lease table
 * -----------
 * One struct lease per address from cfg.first to cfg.last, indexed by the
 * address minus cfg.first, so that finding an address is O(1). Addresses that
 * are never handed out (the server, cfg.reserved[], the network and broadcast
 * addresses) are LEASE_EXCLUDED. The table is capped at DHCP_LEASES_MAX
 * entries: a bigger range is cut to its first DHCP_LEASES_MAX addresses.
 *
 * A lease belongs to a client hardware address (chaddr); the client
 * identifier option is not used. An entry remembers the MAC that last held
 * it (@known) even after the lease is released or expires, and that MAC is
 * offered the same address again as long as nobody else took it: a guest that
 * reboots, or comes back after its lease ran out, keeps its address. New
 * clients get never-used addresses first and an address remembered for
 * another MAC only when no never-used one is left, the one released longest
 * ago first. A MAC is remembered on at most one entry (lease_take()).
 *
 * Finding a client's entry is a linear scan (lease_by_mac()); the table is at
 * most DHCP_LEASES_MAX entries and DHCP traffic is a few messages per guest
 * boot, so this is cheaper than keeping a second index right.
 *
 * Time
 * ----
 * Expiry is lazy: an entry stores when its state ends, and lease_state_at()
 * reports an OFFERED, BOUND or DECLINED entry whose time has passed as
 * LEASE_FREE. Nothing runs on a timer. ns_dhcp_owner() has no clock argument
 * and uses the time of the last message handled.
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
 *
 * Not supported: relay agents (a nonzero giaddr gets no reply), RFC 3396 long
 * options (not needed in what we send; in what we read, a repeated option
 * simply replaces the earlier one), and hardware other than Ethernet.
 */

#include <stdlib.h>
#include <string.h>

#include "ethernet/reader.h"
#include "ethernet/writer.h"
#include "netstack/dhcp.h"

/* RFC 2131 section 2, figure 1: the fixed BOOTP part of a message */
#define BOOTREQUEST             1
#define BOOTREPLY               2
#define DHCP_HTYPE_ETHER        1
#define DHCP_HLEN_ETHER         6
#define DHCP_CHADDR_LEN         16
#define DHCP_SNAME_LEN          64
#define DHCP_FILE_LEN           128
#define DHCP_MAGIC              0x63825363  /* RFC 2131 section 3 */
#define DHCP_FLAG_BROADCAST     0x8000      /* RFC 2131 section 2, figure 2 */

#define BOOTP_MIN_LEN           300         /* RFC 1542 section 3.3 */
#define DHCP_REPLY_MAX          548         /* 576 - IPv4 header - UDP header */

/* Fixed part of every OFFER/ACK, options without domain and search list */
#define DHCP_FIXED_REPLY_LEN    (236 + 4 + 3 + 6 + 3 * 6 + 4 * 6 + 4 + 1)

#define DHCP_OFFER_SECONDS      60      /* an OFFER holds its address this long */
#define DHCP_DECLINE_SECONDS    600     /* a DECLINEd address rests this long */
#define DHCP_LEASES_MAX         65536   /* cap on the lease table */
#define DHCP_MTU_MIN            68      /* RFC 2132 section 5.1 */

/* Option codes, RFC 2132 and RFC 3397 */
enum dhcp_opt {
    OPT_PAD = 0,
    OPT_SUBNET_MASK = 1,
    OPT_ROUTER = 3,
    OPT_DNS = 6,
    OPT_DOMAIN_NAME = 15,
    OPT_MTU = 26,
    OPT_BROADCAST = 28,
    OPT_REQUESTED_IP = 50,
    OPT_LEASE_TIME = 51,
    OPT_OVERLOAD = 52,
    OPT_MSG_TYPE = 53,
    OPT_SERVER_ID = 54,
    OPT_RENEWAL_TIME = 58,
    OPT_REBINDING_TIME = 59,
    OPT_DOMAIN_SEARCH = 119,
    OPT_END = 255,
};

/* Option 52 values, RFC 2132 section 9.3 */
#define OVERLOAD_FILE   1
#define OVERLOAD_SNAME  2

/* Option 53 values, RFC 2132 section 9.6 */
enum dhcp_type {
    DHCPDISCOVER = 1,
    DHCPOFFER = 2,
    DHCPREQUEST = 3,
    DHCPDECLINE = 4,
    DHCPACK = 5,
    DHCPNAK = 6,
    DHCPRELEASE = 7,
    DHCPINFORM = 8,
};

/*
 * enum lease_state - what one address of the pool is doing
 * @LEASE_FREE:     may be offered. If @known is set, @mac held it last and
 *                  gets it back first; other clients get it only when no
 *                  never-used address is left. @expires is when it was freed.
 * @LEASE_OFFERED:  in a DHCPOFFER to @mac (RFC 2131 section 4.3.1), reserved
 *                  for it until @expires. A REQUEST from @mac binds it, a
 *                  REQUEST from @mac naming another server frees it.
 * @LEASE_BOUND:    leased to @mac until @expires (DHCPACK sent, section
 *                  4.3.2). Renewed by REQUEST, freed by RELEASE (section
 *                  4.3.4), DECLINE moves it to LEASE_DECLINED (section 4.3.3).
 * @LEASE_DECLINED: a client found the address in use on the link: not
 *                  offered to anyone until @expires; @known is cleared.
 * @LEASE_EXCLUDED: never handed out (server, reserved, network or broadcast
 *                  address); set once by ns_dhcp_new(), never left.
 *
 * OFFERED, BOUND and DECLINED end by themselves at @expires: see
 * lease_state_at(), the only place that reads @state for a decision.
 */
enum lease_state {
    LEASE_FREE = 0,
    LEASE_OFFERED,
    LEASE_BOUND,
    LEASE_DECLINED,
    LEASE_EXCLUDED,
};

/*
 * struct lease - one address of the pool, at index (address - cfg.first)
 * @state:      see enum lease_state
 * @expires:    when @state ends (monotonic seconds), or when it was freed
 * @mac:        client holding it or that held it last, valid if @known
 * @known:      @mac is set
 */
struct lease {
    enum lease_state state;
    uint64_t expires;
    uint8_t mac[6];
    uint8_t known;
};

/*
 * struct ns_dhcp - server state
 * @cfg:        configuration, its string pointers not kept (see below)
 * @domain:     option 15 value, @domain_len bytes (0: not sent)
 * @search:     option 119 value, RFC 1035 encoded names, @search_len bytes
 * @now:        time of the last message handled, for ns_dhcp_owner()
 * @nleases:    entries in @leases
 * @leases:     the lease table
 */
struct ns_dhcp {
    struct ns_dhcp_config cfg;
    char domain[255];
    size_t domain_len;
    uint8_t search[255];
    size_t search_len;
    uint64_t now;
    uint32_t nleases;
    struct lease leases[];
};

/*
 * struct dhcp_msg - what the server uses of a parsed client message
 * @xid, @flags, @ciaddr, @giaddr, @chaddr: BOOTP fields (RFC 2131 section 2)
 * @type:           option 53, 0 if absent
 * @overload:       option 52 (only from the 'options' field)
 * @req_ip:         option 50, 0 if absent
 * @server_id:      option 54, valid if @has_server_id
 * @has_server_id:  option 54 was present
 */
struct dhcp_msg {
    uint32_t xid;
    uint16_t flags;
    uint32_t ciaddr;
    uint32_t giaddr;
    uint8_t chaddr[DHCP_CHADDR_LEN];
    uint8_t type;
    uint8_t overload;
    uint32_t req_ip;
    uint32_t server_id;
    int has_server_id;
};

/*
 * struct dhcp_answer - the reply decided on
 * @type:       DHCPOFFER, DHCPACK or DHCPNAK
 * @yiaddr:     address given, 0 for NAK and INFORM
 * @lease:      send lease time, T1 and T2 (not for INFORM, RFC 2131 4.3.5)
 */
struct dhcp_answer {
    uint8_t type;
    uint32_t yiaddr;
    int lease;
};

/* --- Time and lease table ------------------------------------------------ */

/**
 * after() - a point in time, saturating instead of wrapping
 * @now:    current time
 * @secs:   seconds from now
 *
 * Return: @now + @secs, or UINT64_MAX if that overflows
 */
static uint64_t after(uint64_t now, uint64_t secs)
{
    return now > UINT64_MAX - secs ? UINT64_MAX : now + secs;
}

/**
 * lease_index() - table index of an address
 * @d:      server
 * @ip:     address, host order
 *
 * Return: index into @d->leases, -1 if @ip is outside the pool or excluded
 */
static long lease_index(const struct ns_dhcp *d, uint32_t ip)
{
    uint32_t i = ip - d->cfg.first;

    if (ip < d->cfg.first || i >= d->nleases)
        return -1;
    if (d->leases[i].state == LEASE_EXCLUDED)
        return -1;
    return (long)i;
}

/**
 * lease_at() - entry for an address that may be handed out
 * @d:      server
 * @ip:     address, host order (0 is never in the pool: it is excluded or
 *          below cfg.first, which lies in a subnet with a nonzero mask)
 *
 * Return: the entry, NULL if @ip is not in our pool
 */
static struct lease *lease_at(struct ns_dhcp *d, uint32_t ip)
{
    long i = lease_index(d, ip);

    return i < 0 ? NULL : &d->leases[i];
}

/**
 * lease_ip() - address of a table entry
 * @d:      server
 * @l:      entry of @d->leases
 *
 * Return: the address, host order
 */
static uint32_t lease_ip(const struct ns_dhcp *d, const struct lease *l)
{
    return d->cfg.first + (uint32_t)(l - d->leases);
}

/**
 * lease_state_at() - state of an entry at a given time, expiry applied
 * @l:      entry
 * @now:    current time
 *
 * Return: @l->state, or LEASE_FREE if a timed state has ended
 */
static enum lease_state lease_state_at(const struct lease *l, uint64_t now)
{
    switch (l->state) {
    case LEASE_OFFERED:
    case LEASE_BOUND:
    case LEASE_DECLINED:
        return now >= l->expires ? LEASE_FREE : l->state;
    default:
        return l->state;
    }
}

/**
 * lease_by_mac() - the entry a client holds or held last
 * @d:      server
 * @mac:    client hardware address
 *
 * Return: the entry remembering @mac (at most one does), NULL if none
 */
static struct lease *lease_by_mac(struct ns_dhcp *d, const uint8_t *mac)
{
    uint32_t i;

    for (i = 0; i < d->nleases; i++) {
        struct lease *l = &d->leases[i];

        if (l->known && !memcmp(l->mac, mac, sizeof(l->mac)))
            return l;
    }
    return NULL;
}

/**
 * lease_new() - pick an address for a client the table does not know
 * @d:      server
 * @now:    current time
 *
 * Return: a never-used free entry, else the free entry released longest ago,
 *         NULL if the pool is exhausted
 */
static struct lease *lease_new(struct ns_dhcp *d, uint64_t now)
{
    struct lease *best = NULL;
    uint32_t i;

    for (i = 0; i < d->nleases; i++) {
        struct lease *l = &d->leases[i];

        if (lease_state_at(l, now) != LEASE_FREE)
            continue;
        if (!l->known)
            return l;
        if (!best || l->expires < best->expires)
            best = l;
    }
    return best;
}

/**
 * lease_take() - give an entry to a client
 * @d:      server
 * @l:      entry; the caller checked it is free or already @mac's
 * @mac:    client hardware address
 * @state:  LEASE_OFFERED or LEASE_BOUND
 * @until:  when @state ends
 *
 * Any other entry remembering @mac forgets it (and is freed if still held),
 * so that a MAC is only ever on one entry.
 */
static void lease_take(struct ns_dhcp *d, struct lease *l, const uint8_t *mac,
                       enum lease_state state, uint64_t until)
{
    struct lease *old = lease_by_mac(d, mac);

    if (old && old != l) {
        old->known = 0;
        if (old->state == LEASE_OFFERED || old->state == LEASE_BOUND)
            old->state = LEASE_FREE;
    }
    memcpy(l->mac, mac, sizeof(l->mac));
    l->known = 1;
    l->state = state;
    l->expires = until;
}

/**
 * lease_free() - end an offer or binding, remembering the client
 * @l:      entry
 * @now:    current time
 */
static void lease_free(struct lease *l, uint64_t now)
{
    l->state = LEASE_FREE;
    l->expires = now;
}

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
    uint8_t op, htype, hlen, hops;
    uint32_t yiaddr, siaddr, cookie;
    uint16_t secs;

    if (ns_reader_u8(r, &op) || ns_reader_u8(r, &htype) ||
        ns_reader_u8(r, &hlen) || ns_reader_u8(r, &hops) ||
        ns_reader_be32(r, &m->xid) || ns_reader_be16(r, &secs) ||
        ns_reader_be16(r, &m->flags) || ns_reader_be32(r, &m->ciaddr) ||
        ns_reader_be32(r, &yiaddr) || ns_reader_be32(r, &siaddr) ||
        ns_reader_be32(r, &m->giaddr) ||
        ns_reader_copy(r, m->chaddr, sizeof(m->chaddr)) ||
        ns_reader_sub(r, DHCP_SNAME_LEN, sname) ||
        ns_reader_sub(r, DHCP_FILE_LEN, file) ||
        ns_reader_be32(r, &cookie))
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
static int dhcp_parse(const uint8_t *msg, size_t len, struct dhcp_msg *m)
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
    struct lease *l = lease_by_mac(d, m->chaddr);

    if (!l) {
        l = lease_at(d, m->req_ip);
        if (!l || lease_state_at(l, now) != LEASE_FREE)
            l = lease_new(d, now);
    }
    if (!l)
        return 0;

    if (lease_state_at(l, now) == LEASE_BOUND) {
        /* keep the binding, at least as long as an offer would last */
        if (l->expires < after(now, DHCP_OFFER_SECONDS))
            l->expires = after(now, DHCP_OFFER_SECONDS);
    } else {
        lease_take(d, l, m->chaddr, LEASE_OFFERED, after(now, DHCP_OFFER_SECONDS));
    }

    a->type = DHCPOFFER;
    a->yiaddr = lease_ip(d, l);
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
    struct lease *l = lease_at(d, ip), *mine = lease_by_mac(d, mac);
    enum lease_state st;

    if (!l)
        return NULL;            /* not in our subnet, or not ours to give */
    if (mine && mine != l && lease_state_at(mine, now) != LEASE_FREE)
        return NULL;            /* the client holds a different address */

    st = lease_state_at(l, now);
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
        l = lease_by_mac(d, m->chaddr);
        if (l && lease_state_at(l, now) == LEASE_OFFERED)
            lease_free(l, now);
        return 0;
    }

    l = dhcp_request_lease(d, m->chaddr, ip, now);
    if (!l) {
        a->type = DHCPNAK;
        a->yiaddr = 0;
        return 1;
    }

    lease_take(d, l, m->chaddr, LEASE_BOUND, after(now, d->cfg.lease_seconds));
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
    struct lease *l = lease_at(d, m->req_ip);

    if (dhcp_not_us(d, m) || !l || !l->known ||
        memcmp(l->mac, m->chaddr, sizeof(l->mac)))
        return;
    l->state = LEASE_DECLINED;
    l->known = 0;
    l->expires = after(now, DHCP_DECLINE_SECONDS);
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
    struct lease *l = lease_at(d, m->ciaddr);

    if (dhcp_not_us(d, m) || !l || !l->known ||
        memcmp(l->mac, m->chaddr, sizeof(l->mac)))
        return;
    if (lease_state_at(l, now) != LEASE_FREE)
        lease_free(l, now);
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
 * Subnet mask (1), router (3) and DNS server (6), both the server, broadcast
 * address (28), MTU (26), domain name (15) and domain search list (119,
 * RFC 3397). Their total is bounded by ns_dhcp_new().
 */
static void dhcp_put_config(struct ns_writer *w, const struct ns_dhcp *d)
{
    const struct ns_dhcp_config *c = &d->cfg;

    dhcp_put_u32(w, OPT_SUBNET_MASK, c->netmask);
    dhcp_put_u32(w, OPT_ROUTER, c->server);
    dhcp_put_u32(w, OPT_DNS, c->server);
    dhcp_put_u32(w, OPT_BROADCAST, c->subnet | ~c->netmask);
    if (c->mtu) {
        ns_writer_u8(w, OPT_MTU);
        ns_writer_u8(w, 2);
        ns_writer_be16(w, c->mtu);
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
static int dhcp_build(const struct ns_dhcp *d, const struct dhcp_msg *m,
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
static void dhcp_dest(const struct dhcp_msg *m, const struct dhcp_answer *a,
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
 * dns_name_encode() - write a domain name in RFC 1035 section 3.1 form
 * @name:   name, dotted, one trailing dot allowed, not NUL terminated
 * @len:    its length
 * @w:      writer
 *
 * Labels of 1 to 63 bytes, each behind its length byte, then a zero byte;
 * at most 255 bytes in all. No compression pointers (RFC 1035 section
 * 4.1.4): an uncompressed name is valid in option 119 and simpler to check.
 *
 * Return: 0, -1 for an empty label, a label or name too long
 */
static int dns_name_encode(const char *name, size_t len, struct ns_writer *w)
{
    size_t i = 0;

    if (len && name[len - 1] == '.')
        len--;
    if (!len || len + 2 > 255)
        return -1;

    while (i <= len) {
        size_t start = i;

        while (i < len && name[i] != '.')
            i++;
        if (i == start || i - start > 63)
            return -1;
        ns_writer_u8(w, (uint8_t)(i - start));
        ns_writer_bytes(w, name + start, i - start);
        i++;
    }
    ns_writer_u8(w, 0);
    return 0;
}

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
static int dhcp_set_search(struct ns_dhcp *d, const char *list, size_t room)
{
    const char *p = list ? list : "";
    struct ns_writer nw;
    uint8_t name[255];
    int full = 0;

    d->search_len = 0;
    while (*(p += strspn(p, " \t"))) {
        size_t n = strcspn(p, " \t");

        ns_writer_init(&nw, name, sizeof(name));
        if (dns_name_encode(p, n, &nw) || nw.overflow)
            return -1;
        if (full || nw.len > room - d->search_len) {
            full = 1;
        } else {
            memcpy(d->search + d->search_len, name, nw.len);
            d->search_len += nw.len;
        }
        p += n;
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
 * Return: 0, -1 if the domain name does not fit or a search name is invalid
 */
static int dhcp_set_strings(struct ns_dhcp *d, const struct ns_dhcp_config *c)
{
    size_t used = DHCP_FIXED_REPLY_LEN, room;

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

/**
 * ns_dhcp_owner() - who holds an address
 * @d:      server
 * @ip:     address, host order
 * @mac:    set to the holder's MAC if held (may be NULL)
 *
 * Expiry is judged at the time of the last message handled.
 *
 * Return: 1 if @ip is leased or offered and not expired, else 0
 */
int ns_dhcp_owner(const struct ns_dhcp *d, uint32_t ip, uint8_t mac[6])
{
    enum lease_state st;
    long i;

    if (!d || (i = lease_index(d, ip)) < 0)
        return 0;
    st = lease_state_at(&d->leases[i], d->now);
    if (st != LEASE_OFFERED && st != LEASE_BOUND)
        return 0;
    if (mac)
        memcpy(mac, d->leases[i].mac, 6);
    return 1;
}
