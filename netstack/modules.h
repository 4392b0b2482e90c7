/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * modules.h - the stack's protocol modules, one table for their lifecycle
 *
 * Each module (lwIP, the TCP, UDP and ICMP NATs, DNS, port forwarding,
 * reassembly, captures) registers the hooks it has in modules.c's table;
 * stack.c and events.c only walk the table. A new protocol adds one entry and
 * nothing else changes.
 */
#ifndef NETSTACK_MODULES_H
#define NETSTACK_MODULES_H

#include <stdint.h>

struct netstack;

/**
 * struct ns_module - what a module does at each point of the stack's life
 * @name:         for messages
 * @start:        at netstack_new(), in table order; 0 or -errno. A failure
 *                stops every module, started or not, so each stop copes with
 *                never having started.
 * @stop:         at netstack_free() (or a failed start), in reverse order
 * @guest_gone:   netstack_link_down(): close what belonged to the guest
 * @timers:       due work at @now_ms, from every dispatch
 * @next_timeout: ms until @timers has work, -1 for none
 * @resume:       the guest takes frames again: read paused host sockets
 *
 * Any hook may be NULL.
 */
struct ns_module {
    const char *name;
    int (*start)(struct netstack *ns);
    void (*stop)(struct netstack *ns);
    void (*guest_gone)(struct netstack *ns);
    void (*timers)(struct netstack *ns, uint64_t now_ms);
    int (*next_timeout)(struct netstack *ns, uint64_t now_ms);
    void (*resume)(struct netstack *ns);
};

int ns_modules_start(struct netstack *ns);
void ns_modules_stop(struct netstack *ns);
void ns_modules_guest_gone(struct netstack *ns);
void ns_modules_timers(struct netstack *ns, uint64_t now_ms);
int ns_modules_next_timeout(struct netstack *ns, uint64_t now_ms);
void ns_modules_resume(struct netstack *ns);

#endif /* NETSTACK_MODULES_H */
