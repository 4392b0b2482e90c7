/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwip_glue.h - private: lwIP wired to the stack
 */
#ifndef NETSTACK_LWIP_GLUE_H
#define NETSTACK_LWIP_GLUE_H

#include <netinet/in.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

struct netstack;
struct ns_tcp_seg;

/**
 * ns_lwip_start() - bring lwIP up with the guest link as its only netif. Return: 0 or -errno.
 */
int ns_lwip_start(struct netstack *ns);

/**
 * ns_lwip_stop() - abort every TCP connection and remove the netif.
 */
void ns_lwip_stop(struct netstack *ns);

/**
 * ns_tcp_input() - hand a validated TCP segment of either family to lwIP,
 * whatever its destination address. Must not be called from inside an lwIP
 * callback: lwIP keeps the segment being processed in globals.
 */
void ns_tcp_input(struct netstack *ns, const struct ns_tcp_seg *seg);

/**
 * ns_tcp_input_borrow() - ns_tcp_input() that hands lwIP the last @borrow
 * payload bytes by reference (a PBUF_REF pbuf) instead of copying them. Only
 * for an in-order segment of a relayed flow whose payload lies in the input
 * frame (@seg->in_frame): lwIP then passes it straight to the recv callback
 * and keeps no reference of its own; whatever the relay still holds when the
 * input call ends must be copied with ns_lwip_own_pbufs().
 */
void ns_tcp_input_borrow(struct netstack *ns, const struct ns_tcp_seg *seg, size_t borrow);

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

/**
 * ns_lwip_addr() - @a (IPv4 mapped) as lwIP's address of its family.
 */
void ns_lwip_addr(const struct in6_addr *a, ip_addr_t *out);

/**
 * ns_lwip_from_addr() - lwIP's @a as an address of the shared tables (IPv4 mapped).
 */
void ns_lwip_from_addr(const ip_addr_t *a, struct in6_addr *out);

/* TCP without a pcb of ours, for the NAT (lwip_glue.c: lwIP's private headers stay here). */
void ns_lwip_send_rst(const struct in6_addr *local, uint16_t lport, const struct in6_addr *remote,
                      uint16_t rport, uint32_t ack);
void ns_lwip_forget_time_wait(const struct in6_addr *local, uint16_t lport,
                              const struct in6_addr *remote, uint16_t rport);

#endif /* NETSTACK_LWIP_GLUE_H */
