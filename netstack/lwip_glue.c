/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwip_glue.c - lwIP as the stack's TCP engine
 *
 * Theory of Operation: lwIP is built with NO_SYS=1 and only its TCP, for both
 * families (see port/lwipopts.h). It has one netif, the guest link,
 * addressed as the gateway. Input does not go through ip4_input() or
 * ip6_input(), which would drop every packet not addressed to the netif:
 * ipv4.c and ipv6.c have already validated the header, so here the globals
 * they would have set (ip_data) are filled in and the segment is handed to
 * tcp_input() directly. That is how lwIP terminates TCP for any destination
 * address, which the NAT needs.
 *
 * Output: lwIP calls netif->output (IPv4) or netif->output_ip6 with a
 * complete TCP packet whose checksums it left out; tcp_xmit.c frames it for
 * the guest's MAC, settles the checksums and cuts super-segments, straight
 * from the pbuf chain.
 *
 * Addresses: outside this file the tables keep both families as IPv6
 * addresses, IPv4 mapped (struct ns_tcp_seg); ns_lwip_addr() and
 * ns_lwip_from_addr() convert to and from lwIP's ip_addr_t.
 *
 * lwIP is process-global: ns_lwip_start() runs lwip_init() only once per
 * process, and ns_lwip_stop() aborts every pcb so a later stack starts clean.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "ethernet/eth.h"
#include "ethernet/ipv4.h"
#include "ethernet/ipv6.h"
#include "ethernet/neigh.h"
#include "ethernet/writer.h"
#include "netstack/lwip_glue.h"
#include "netstack/stack.h"
#include "netstack/tcp_pcbs.h"
#include "netstack/tcp_seg.h"
#include "netstack/tcp_xmit.h"

static struct netif guest_netif;
static int lwip_ready;
static int lwip_starved;    /* an output was refused for a full queue */

/**
 * sys_now() - lwIP's clock: monotonic milliseconds (wraps after 49 days, as lwIP expects).
 */
u32_t sys_now(void)
{
    return (u32_t)ns_now_ms();
}

void ns_lwip_addr(const struct in6_addr *a, ip_addr_t *out)
{
    if (ns_ip6_is_mapped4(a)) {
        ip_addr_set_ip4_u32_val(*out, htonl(ns_ip6_get4(a)));
        return;
    }
    IP_SET_TYPE(out, IPADDR_TYPE_V6);
    memcpy(ip_2_ip6(out)->addr, a->s6_addr, 16);
    ip6_addr_clear_zone(ip_2_ip6(out));
}

void ns_lwip_from_addr(const ip_addr_t *a, struct in6_addr *out)
{
    if (IP_IS_V6(a))
        memcpy(out->s6_addr, ip_2_ip6(a)->addr, 16);
    else
        *out = ns_ip6_mapped4(ntohl(ip4_addr_get_u32(ip_2_ip4(a))));
}

/**
 * frame_out() - hand lwIP's packet @p to tcp_xmit.c for the guest at @mac.
 */
static err_t frame_out(struct netstack *ns, struct pbuf *p, const uint8_t mac[6])
{
    struct iovec iov[NS_TCP_XMIT_IOV];
    size_t n = 0;
    struct pbuf *q;
    int rc;

    for (q = p; q && n < NS_TCP_XMIT_IOV; q = q->next)
        if (q->len)
            iov[n++] = (struct iovec){ q->payload, q->len };
    if (q)
        return ERR_BUF;     /* never built by lwIP's TCP: a header pbuf and its data */
    rc = ns_tcp_xmit(ns, mac, iov, n, p->tot_len);
    if (rc == -ENOBUFS) {
        lwip_starved = 1;   /* the segment stays queued in lwIP: see ns_lwip_resume() */
        return ERR_MEM;
    }
    return rc ? ERR_VAL : ERR_OK;
}

/**
 * netif_output() - lwIP's IPv4 output: frame @p for the guest
 * @dst: the packet's destination (every destination is on the guest link)
 */
static err_t netif_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
    struct netstack *ns = netif->state;
    uint8_t mac[6];

    if (ns_ipv4_dst_mac(&ns->link, ntohl(ip4_addr_get_u32(dst)), mac)) {
        NS_COUNT(ns, drop_tx_no_neighbor);
        return ERR_OK;      /* TCP retransmits once ARP has taught us the MAC */
    }
    return frame_out(ns, p, mac);
}

/**
 * netif_output6() - lwIP's IPv6 output: frame @p for the guest
 * The guest's address was learned from the packets that made the
 * connection (ipv6.c learns every source), so an unknown one is a guest
 * that went quiet: dropped, and TCP's retransmission tries again.
 */
static err_t netif_output6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dst)
{
    struct netstack *ns = netif->state;
    struct in6_addr a;
    uint8_t mac[6];

    memcpy(a.s6_addr, dst->addr, 16);
    if (!ns_neigh6_lookup(&ns->link, &a, mac)) {
        NS_COUNT(ns, drop_tx_no_neighbor);
        return ERR_OK;
    }
    return frame_out(ns, p, mac);
}

static err_t netif_setup(struct netif *netif)
{
    struct netstack *ns = netif->state;

    netif->name[0] = 'n';
    netif->name[1] = 's';
    netif->output = netif_output;
    netif->output_ip6 = netif_output6;
    netif->mtu = ns->cfg.mtu;
    netif->flags = NETIF_FLAG_BROADCAST;
    return ERR_OK;
}

int ns_lwip_start(struct netstack *ns)
{
    ip4_addr_t addr, mask, gw;

    if (!lwip_ready) {
        lwip_init();
        lwip_ready = 1;
    }
    if (ns_pcbs_start(ns))
        return -ENOMEM;
    ip4_addr_set_u32(&addr, htonl(ns->link.gateway));
    ip4_addr_set_u32(&mask, htonl(ns->link.netmask));
    ip4_addr_set_u32(&gw, htonl(ns->link.gateway));
    /* ip4_input is lwIP's standard input; it is never called (see above). */
    if (!netif_add(&guest_netif, &addr, &mask, &gw, ns, netif_setup, ip4_input))
        return -ENOMEM;
    netif_set_default(&guest_netif);
    netif_set_link_up(&guest_netif);
    netif_set_up(&guest_netif);
    ns->netif = &guest_netif;
    return 0;
}

/**
 * abort_list() - abort every pcb on one of lwIP's lists.
 */
static void abort_list(struct tcp_pcb **list)
{
    while (*list) {
        struct tcp_pcb *pcb = *list;

        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_poll(pcb, NULL, 0);
        tcp_abort(pcb);
    }
}

void ns_lwip_stop(struct netstack *ns)
{
    if (ns->netif) {
        abort_list(&tcp_active_pcbs);
        abort_list(&tcp_tw_pcbs);
        while (tcp_listen_pcbs.listen_pcbs)
            tcp_close((struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs);
        netif_remove(&guest_netif);
        ns->netif = NULL;
    }
    ns_pcbs_stop(ns);   /* the pcbs' destroy callbacks have run */
}

/**
 * segment_pbuf() - the segment @seg behind its IP header, as a pbuf chain for lwIP
 * @borrow: bytes at the end of the payload to reference rather than copy
 *
 * The IP and TCP headers are always copied (lwIP rewrites them in place).
 * Return: the chain, NULL without memory.
 */
static struct pbuf *segment_pbuf(const struct ns_tcp_seg *seg, size_t borrow)
{
    size_t copy = seg->hdr_len + seg->payload_len - borrow;
    struct pbuf *p, *ref;

    p = pbuf_alloc(PBUF_RAW, (u16_t)copy, PBUF_RAM);
    if (!p)
        return NULL;
    memcpy(p->payload, seg->hdr, seg->hdr_len);
    memcpy((uint8_t *)p->payload + seg->hdr_len, seg->payload, seg->payload_len - borrow);
    if (!borrow)
        return p;
    ref = pbuf_alloc(PBUF_RAW, (u16_t)borrow, PBUF_REF);
    if (!ref) {
        pbuf_free(p);
        return NULL;
    }
    ref->payload = (void *)(seg->payload + seg->payload_len - borrow);
    pbuf_cat(p, ref);
    return p;
}

/**
 * set_current() - the globals ip4_input() or ip6_input() would have set for
 * the packet whose header is at @hdr (NULL: clear them after tcp_input()).
 */
static void set_current(struct netstack *ns, const struct ns_tcp_seg *seg, void *hdr)
{
    ip_data.current_netif = hdr ? ns->netif : NULL;
    ip_data.current_input_netif = ip_data.current_netif;
    ip_data.current_ip4_header = hdr && !seg->v6 ? hdr : NULL;
    ip_data.current_ip6_header = hdr && seg->v6 ? hdr : NULL;
    ip_data.current_ip_header_tot_len = hdr ? (u16_t)seg->hdr_len : 0;
    if (hdr) {
        ns_lwip_addr(&seg->src, &ip_data.current_iphdr_src);
        ns_lwip_addr(&seg->dst, &ip_data.current_iphdr_dest);
    } else {
        ip_addr_set_zero_ip4(&ip_data.current_iphdr_src);
        ip_addr_set_zero_ip4(&ip_data.current_iphdr_dest);
    }
}

void ns_tcp_input(struct netstack *ns, const struct ns_tcp_seg *seg)
{
    ns_tcp_input_borrow(ns, seg, 0);
}

void ns_tcp_input_borrow(struct netstack *ns, const struct ns_tcp_seg *seg, size_t borrow)
{
    struct pbuf *p;
    uint8_t *h;

    NS_COUNT(ns, tcp_in);
    if (seg->hdr_len + seg->payload_len > 0xffff) {   /* only a reassembled datagram can be */
        NS_COUNT(ns, drop_tcp_malformed);
        return;
    }
    p = segment_pbuf(seg, borrow);
    if (!p) {
        NS_COUNT(ns, drop_no_memory);
        return;
    }
    h = p->payload;
    if (seg->v6) {
        /* The extension headers were not copied: TCP follows the fixed header. */
        ns_store_be16(h + 4, (uint16_t)seg->payload_len);
        h[6] = IPPROTO_TCP;
    } else {
        /* A reassembled datagram carries its first fragment's header: make it whole. */
        IPH_LEN_SET((struct ip_hdr *)h, lwip_htons((u16_t)(seg->hdr_len + seg->payload_len)));
        IPH_OFFSET_SET((struct ip_hdr *)h, 0);
    }
    set_current(ns, seg, h);
    pbuf_remove_header(p, seg->hdr_len);
    tcp_input(p, ns->netif);    /* takes ownership of p */
    set_current(ns, seg, NULL);
}

/**
 * ns_lwip_resume() - the transport drained: send what lwIP could not
 * A segment refused by netif_output() stays on its pcb's unsent queue, and
 * nothing in lwIP retries it unless an ACK or a retransmission comes, which
 * for a pcb with nothing unacknowledged never happens. So after a refusal,
 * every pcb with unsent data is given a tcp_output() once the queue has room.
 */
void ns_lwip_resume(struct netstack *ns)
{
    struct tcp_pcb *pcb;

    if (!lwip_starved)
        return;
    lwip_starved = 0;
    for (pcb = tcp_active_pcbs; pcb && !ns_tx_blocked(&ns->tx); pcb = pcb->next)
        if (pcb->unsent)
            tcp_output(pcb);
}

int ns_lwip_own_pbufs(struct pbuf **list, struct pbuf **tail)
{
    struct pbuf **at = list;

    *tail = NULL;
    while (*at) {
        struct pbuf *q = *at, *copy;

        if (PBUF_NEEDS_COPY(q) && q->len) {
            copy = pbuf_alloc(PBUF_RAW, q->len, PBUF_RAM);
            if (!copy)
                return -ENOMEM;
            memcpy(copy->payload, q->payload, q->len);
            copy->next = q->next;
            q->next = NULL;
            pbuf_free(q);
            *at = q = copy;
        }
        *tail = q;
        at = &q->next;
    }
    return 0;
}

/**
 * ns_lwip_reap_time_wait() - free every pcb in TIME_WAIT
 * lwIP looks a segment up by walking its pcb lists, TIME_WAIT's included, so
 * under connection churn (thousands a second, each closed by the host first)
 * the TIME_WAIT list made every new connection's SYN and every close cost a
 * walk over thousands of pcbs. On this link TIME_WAIT protects nothing: the
 * host's kernel keeps the real TIME_WAIT for the host socket, the guest's
 * stack decides for itself when a port may be reused, and the only segment a
 * reaped pcb would have absorbed, a retransmitted FIN after a lost final ACK,
 * can only follow a drop of our own and now gets a RST, which ends the
 * guest's LAST_ACK just the same. tcp_abort() frees a TIME_WAIT pcb without
 * sending anything, and without an error callback: so a pcb whose owner has
 * not let go of it yet (a relayed flow still writing the guest's last bytes
 * to the host socket; callback_arg set) is left alone, to be reaped once the
 * owner has detached it.
 */
void ns_lwip_reap_time_wait(void)
{
    struct tcp_pcb *pcb = tcp_tw_pcbs, *next;

    for (; pcb; pcb = next) {
        next = pcb->next;
        if (!pcb->callback_arg)
            tcp_abort(pcb);
    }
}

void ns_lwip_timers(struct netstack *ns)
{
    sys_check_timeouts();
}

int ns_lwip_next_timeout(struct netstack *ns)
{
    u32_t t;

    /*
     * TCP's is the only lwIP timer that matters, and only while a pcb is
     * active or in TIME_WAIT. The IPv6 neighbour timer lwIP also runs every
     * second does nothing here (lwIP never speaks NDP on this link) and must
     * not wake an idle stack: it runs late, with TCP's, or never.
     */
    if (!tcp_active_pcbs && !tcp_tw_pcbs)
        return -1;
    t = sys_timeouts_sleeptime();

    return t == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? -1 : (int)(t > 60000 ? 60000 : t);
}

/**
 * ns_lwip_send_rst() - a RST from @local:@lport to @remote:@rport, no pcb needed
 * @local:  our side's address (IPv4 mapped)
 * @lport:  its port
 * @remote: the guest's address
 * @rport:  its port
 * @ack:    the acknowledgement number (the refused SYN's sequence + 1)
 */
void ns_lwip_send_rst(const struct in6_addr *local, uint16_t lport, const struct in6_addr *remote,
                      uint16_t rport, uint32_t ack)
{
    ip_addr_t l, r;

    ns_lwip_addr(local, &l);
    ns_lwip_addr(remote, &r);
    tcp_rst(NULL, 0, ack, &l, &r, lport, rport);
}

/**
 * ns_lwip_forget_time_wait() - abort lwIP's TIME_WAIT pcb of that connection, if any
 * @local:  our side's address (IPv4 mapped)
 * @lport:  its port
 * @remote: the guest's address
 * @rport:  its port
 *
 * A TIME_WAIT pcb is freed by tcp_abort() without a RST.
 */
void ns_lwip_forget_time_wait(const struct in6_addr *local, uint16_t lport,
                              const struct in6_addr *remote, uint16_t rport)
{
    struct tcp_pcb *pcb;
    ip_addr_t l, r;

    ns_lwip_addr(local, &l);
    ns_lwip_addr(remote, &r);
    for (pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
        if (pcb->local_port == lport && pcb->remote_port == rport &&
            ip_addr_cmp(&pcb->local_ip, &l) && ip_addr_cmp(&pcb->remote_ip, &r)) {
            tcp_abort(pcb);
            return;
        }
    }
}
