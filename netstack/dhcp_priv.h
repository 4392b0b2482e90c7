/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_priv.h - private: what the DHCP server's files share
 *
 * dhcp.c decides what to answer (RFC 2131 section 4.3), dhcp_lease.c keeps
 * the lease table, dhcp_msg.c reads client messages and writes replies.
 * None of this is part of the interface in dhcp.h.
 */
#ifndef NETSTACK_DHCP_PRIV_H
#define NETSTACK_DHCP_PRIV_H

#include <stddef.h>
#include <stdint.h>

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

/* Option codes, RFC 2132 and RFC 3397 */
enum dhcp_opt {
    OPT_PAD = 0,
    OPT_SUBNET_MASK = 1,
    OPT_ROUTER = 3,
    OPT_DNS = 6,
    OPT_HOSTNAME = 12,
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
 * dhcp_lease_state_at(), the only place that reads @state for a decision.
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
 * @hostname:   option 12 value, @hostname_len bytes (0: not sent)
 * @search:     option 119 value, RFC 1035 encoded names, @search_len bytes
 * @now:        time of the last message handled, for ns_dhcp_owner()
 * @nleases:    entries in @leases
 * @leases:     the lease table
 */
struct ns_dhcp {
    struct ns_dhcp_config cfg;
    char domain[255];
    size_t domain_len;
    char hostname[63];
    size_t hostname_len;
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

/*
 * Shared between the server's files, each documented where it is defined.
 */

/* dhcp_lease.c: the lease table and time */
uint64_t dhcp_after(uint64_t now, uint64_t secs);
struct lease *dhcp_lease_at(struct ns_dhcp *d, uint32_t ip);
uint32_t dhcp_lease_ip(const struct ns_dhcp *d, const struct lease *l);
enum lease_state dhcp_lease_state_at(const struct lease *l, uint64_t now);
struct lease *dhcp_lease_by_mac(struct ns_dhcp *d, const uint8_t *mac);
struct lease *dhcp_lease_new(struct ns_dhcp *d, uint64_t now);
void dhcp_lease_take(struct ns_dhcp *d, struct lease *l, const uint8_t *mac,
                     enum lease_state state, uint64_t until);
void dhcp_lease_free(struct lease *l, uint64_t now);

/* dhcp_msg.c: the wire format */
int dhcp_parse(const uint8_t *msg, size_t len, struct dhcp_msg *m);
int dhcp_build(const struct ns_dhcp *d, const struct dhcp_msg *m,
               const struct dhcp_answer *a, uint8_t *buf, size_t cap,
               size_t *len);
void dhcp_dest(const struct dhcp_msg *m, const struct dhcp_answer *a,
               struct ns_dhcp_dest *dest);
int dhcp_set_search(struct ns_dhcp *d, const char *list, size_t room);

#endif /* NETSTACK_DHCP_PRIV_H */
