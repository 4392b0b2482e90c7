/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwip_glue.h - private: lwIP wired to the stack
 */
#ifndef NETSTACK_LWIP_GLUE_H
#define NETSTACK_LWIP_GLUE_H

struct netstack;
struct ns_ipv4;

/**
 * ns_lwip_start() - bring lwIP up with the guest link as its only netif. Return: 0 or -errno.
 */
int ns_lwip_start(struct netstack *ns);

/**
 * ns_lwip_stop() - abort every TCP connection and remove the netif.
 */
void ns_lwip_stop(struct netstack *ns);

/**
 * ns_tcp_input() - hand a validated TCP datagram to lwIP, whatever its
 * destination address. Must not be called from inside an lwIP callback: lwIP
 * keeps the segment being processed in globals.
 */
void ns_tcp_input(struct netstack *ns, const struct ns_ipv4 *ip);

/**
 * ns_tcp_input_borrow() - ns_tcp_input() that hands lwIP the last @borrow
 * payload bytes by reference (a PBUF_REF pbuf) instead of copying them. Only
 * for an in-order segment of a relayed flow whose payload lies in the input
 * frame (@ip->in_frame): lwIP then passes it straight to the recv callback
 * and keeps no reference of its own; whatever the relay still holds when the
 * input call ends must be copied with ns_lwip_own_pbufs().
 */
void ns_tcp_input_borrow(struct netstack *ns, const struct ns_ipv4 *ip, size_t borrow);

/**
 * ns_lwip_own_pbufs() - replace every borrowed pbuf in the ->next-linked
 * @list by a copy, in place, and set @tail to the list's last pbuf.
 * Return: 0, -ENOMEM part way: the rest is still borrowed and the caller
 * must drop the list (and its flow) before the input call returns.
 */
struct pbuf;
int ns_lwip_own_pbufs(struct pbuf **list, struct pbuf **tail);

/**
 * ns_lwip_resume() - after backpressure: output what lwIP was refused.
 */
void ns_lwip_resume(struct netstack *ns);

/**
 * ns_lwip_reap_time_wait() - free lwIP's TIME_WAIT pcbs (end of every batch).
 */
void ns_lwip_reap_time_wait(void);

/**
 * ns_lwip_timers() - run lwIP's due timers.
 */
void ns_lwip_timers(struct netstack *ns);

/**
 * ns_lwip_next_timeout() - ms until lwIP's next timer, -1 for none.
 */
int ns_lwip_next_timeout(struct netstack *ns);

/* TCP without a pcb of ours, for the NAT (lwip_glue.c: lwIP's private headers stay here). */
void ns_lwip_send_rst(uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport,
                      uint32_t ack);
void ns_lwip_forget_time_wait(uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport);

#endif /* NETSTACK_LWIP_GLUE_H */
