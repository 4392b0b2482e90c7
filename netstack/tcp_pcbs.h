/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_pcbs.h - private: lwIP pcbs counted against the resource limits (tcp_pcbs.c)
 */
#ifndef NETSTACK_TCP_PCBS_H
#define NETSTACK_TCP_PCBS_H

#include <stddef.h>

#include "lwip/tcp.h"

struct netstack;

/**
 * ns_pcbs_start() - the counts, and lwIP's extension argument id. Return: 0, -1.
 */
int ns_pcbs_start(struct netstack *ns);

/**
 * ns_pcbs_stop() - after lwIP's pcbs are gone.
 */
void ns_pcbs_stop(struct netstack *ns);

/**
 * ns_pcbs_ext_id() - the extension argument id every counted pcb carries.
 */
u8_t ns_pcbs_ext_id(void);

/**
 * ns_pcbs_listen() - let listener @lpcb hold at most @max half-open pcbs
 * (and all listeners with the NAT's handshakes at most max_tcp_half_open)
 * Return: 0, -1 when every backlog slot is taken (a stack has a few listeners).
 */
int ns_pcbs_listen(struct netstack *ns, struct tcp_pcb *lpcb, size_t max);

/**
 * ns_pcbs_untag() - @pcb no longer counts anywhere: its destroy callback is cleared.
 */
void ns_pcbs_untag(struct tcp_pcb *pcb);

/**
 * ns_pcbs_accepted() - from an accept callback: @pcb is no longer half-open.
 */
void ns_pcbs_accepted(struct tcp_pcb *pcb);

/**
 * ns_pcbs_close() - tcp_close() a pcb whose callbacks are cleared, and let
 * lwIP finish its FIN exchange, within max_tcp_closing (the oldest is reset)
 * Return: 0, or -1 if it had to be aborted instead (an lwIP callback that
 * closed its own pcb must then return ERR_ABRT).
 */
int ns_pcbs_close(struct netstack *ns, struct tcp_pcb *pcb);

/**
 * ns_pcbs_half_open() - half-open pcbs of the counted listeners (not the NAT's).
 */
size_t ns_pcbs_half_open(const struct netstack *ns);

#endif /* NETSTACK_TCP_PCBS_H */
