/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_pcbs.c - the lwIP pcbs a guest can make the stack hold, counted
 *
 * Theory of Operation: lwIP allocates a pcb for every SYN a listener takes,
 * and keeps a closed connection's pcb until its FIN exchange is over, with
 * no limit of its own (its pools are malloc-backed, port/lwipopts.h). Both
 * are the guest's to multiply, and every pcb lengthens the lists lwIP walks
 * for each segment, so both are bounded here. lwIP's per-pcb extension
 * argument (LWIP_TCP_PCB_NUM_EXT_ARGS) is the hook: its passive_open
 * callback sees each SYN a listener is about to answer, and its destroy
 * callback runs whenever lwIP frees a pcb, whatever the reason (timeout,
 * RST, abort), so the counts cannot drift.
 *
 * - Half-open: a listener given a backlog (ns_pcbs_listen()) keeps its
 *   half-open pcbs in a FIFO. When a SYN arrives with the backlog full, or
 *   with max_tcp_half_open reached over all listeners and the NAT, the oldest
 *   of them is reset to make room (drop_tcp_half_open), as a SYN queue that
 *   drops its oldest entry would: a flood then costs the flood, while a
 *   client that completes its handshake in time is served. A pcb stops
 *   counting when accepted (ns_pcbs_accepted()) or freed. The NAT's
 *   listeners tag their pcbs themselves (tcp_nat.c): each belongs to a flow.
 * - Closing: ns_pcbs_close() closes a pcb its owner has let go of; lwIP
 *   finishes the FIN exchange alone while the pcb waits in a FIFO. Beyond
 *   max_tcp_closing the oldest is reset (tcp_closing_evicted): both
 *   applications are done with that connection already.
 */
#include <stdlib.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "netstack/nat.h"
#include "netstack/stack.h"
#include "netstack/tcp_pcbs.h"

#define BACKLOGS 4      /* counted listeners per stack (the gateway's DNS has one) */

struct fifo;

/* One pcb in a FIFO; the pcb's extension argument points here. */
struct entry {
    struct tcp_pcb *pcb;
    struct fifo *fifo;
    struct entry *prev, *next;
};

/*
 * struct fifo - pcbs oldest first, the first to go at a limit
 * Kept by this module, not by the listener's owner: lwIP frees a listener's
 * pcbs only when the stack stops, after its modules.
 */
struct fifo {
    struct netstack *ns;
    struct entry *oldest, *newest;
    size_t count, max;
};

/*
 * struct ns_pcbs - the counts
 * @closing:    closed connections finishing their FIN exchange
 * @backlog:    the counted listeners' half-open pcbs, @nbacklogs in use
 */
struct ns_pcbs {
    struct fifo closing;
    struct fifo backlog[BACKLOGS];
    size_t nbacklogs;
};

static u8_t ext_id = LWIP_TCP_PCB_NUM_EXT_ARG_ID_INVALID;

/* lwIP takes no NULL table: an untagged pcb has this one. */
static const struct tcp_ext_arg_callbacks untagged_cbs = { NULL, NULL };

u8_t ns_pcbs_ext_id(void)
{
    return ext_id;
}

void ns_pcbs_untag(struct tcp_pcb *pcb)
{
    tcp_ext_arg_set_callbacks(pcb, ext_id, &untagged_cbs);
    tcp_ext_arg_set(pcb, ext_id, NULL);
}

/* --- The FIFO ------------------------------------------------------------ */

/**
 * entry_unlink() - take @e out of its FIFO and free it.
 */
static void entry_unlink(struct entry *e)
{
    struct fifo *q = e->fifo;

    if (e->prev)
        e->prev->next = e->next;
    else
        q->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        q->newest = e->prev;
    q->count--;
    free(e);
}

/**
 * entry_freed() - destroy callback of a pcb in a FIFO: lwIP is done with it.
 */
static void entry_freed(u8_t id, void *data)
{
    (void)id;
    entry_unlink(data);
}

static const struct tcp_ext_arg_callbacks entry_cbs = { entry_freed, NULL };

/**
 * fifo_add() - @pcb is the newest of @q. Return: 0, -1 without memory.
 */
static int fifo_add(struct fifo *q, struct tcp_pcb *pcb)
{
    struct entry *e = calloc(1, sizeof(*e));

    if (!e)
        return -1;
    e->pcb = pcb;
    e->fifo = q;
    e->prev = q->newest;
    if (q->newest)
        q->newest->next = e;
    else
        q->oldest = e;
    q->newest = e;
    q->count++;
    tcp_ext_arg_set_callbacks(pcb, ext_id, &entry_cbs);
    tcp_ext_arg_set(pcb, ext_id, e);
    return 0;
}

/**
 * fifo_reset_oldest() - reset @q's oldest pcb; its destroy callback unlinks it.
 */
static void fifo_reset_oldest(struct fifo *q)
{
    tcp_abort(q->oldest->pcb);
}

/* --- Half-open ---------------------------------------------------------- */

/**
 * admit() - passive_open callback of a counted listener: a SYN is about to be answered.
 */
static err_t admit(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
    struct fifo *b = lpcb->ext_args[id].data;
    struct netstack *ns = b->ns;

    while (b->oldest && (b->count >= b->max ||
                         b->count + ns_tcp_nat_half_open(ns) >= ns->cfg.max_tcp_half_open)) {
        NS_COUNT(ns, drop_tcp_half_open);
        fifo_reset_oldest(b);
    }
    if (b->count + ns_tcp_nat_half_open(ns) >= ns->cfg.max_tcp_half_open) {
        NS_COUNT(ns, drop_tcp_half_open);   /* the NAT's handshakes hold them all */
        return ERR_MEM;     /* lwIP frees @cpcb and answers nothing */
    }
    if (fifo_add(b, cpcb)) {
        NS_COUNT(ns, drop_no_memory);
        return ERR_MEM;
    }
    return ERR_OK;
}

static const struct tcp_ext_arg_callbacks listen_cbs = { NULL, admit };

int ns_pcbs_listen(struct netstack *ns, struct tcp_pcb *lpcb, size_t max)
{
    struct ns_pcbs *p = ns->pcbs;
    struct fifo *b;

    if (p->nbacklogs == BACKLOGS)
        return -1;
    b = &p->backlog[p->nbacklogs++];
    *b = (struct fifo){ .ns = ns, .max = max };
    tcp_ext_arg_set_callbacks(lpcb, ext_id, &listen_cbs);
    tcp_ext_arg_set(lpcb, ext_id, b);
    return 0;
}

void ns_pcbs_accepted(struct tcp_pcb *pcb)
{
    struct entry *e = tcp_ext_arg_get(pcb, ext_id);

    if (pcb->ext_args[ext_id].callbacks != &entry_cbs)
        return;
    entry_unlink(e);
    ns_pcbs_untag(pcb);
}

/* --- Closing ------------------------------------------------------------ */

int ns_pcbs_close(struct netstack *ns, struct tcp_pcb *pcb)
{
    struct fifo *q = &ns->pcbs->closing;

    while (q->oldest && q->count >= ns->cfg.max_tcp_closing) {
        NS_COUNT(ns, tcp_closing_evicted);
        fifo_reset_oldest(q);
    }
    /* Queued before the close, which may free the pcb at once. */
    if (fifo_add(q, pcb)) {
        NS_COUNT(ns, drop_no_memory);
        tcp_abort(pcb);
        return -1;
    }
    if (tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
        return -1;
    }
    return 0;
}

size_t ns_pcbs_half_open(const struct netstack *ns)
{
    size_t i, n = 0;

    for (i = 0; ns->pcbs && i < ns->pcbs->nbacklogs; i++)
        n += ns->pcbs->backlog[i].count;
    return n;
}

/* --- Lifecycle ------------------------------------------------------------ */

int ns_pcbs_start(struct netstack *ns)
{
    struct ns_pcbs *p = calloc(1, sizeof(*p));

    if (!p)
        return -1;
    if (ext_id == LWIP_TCP_PCB_NUM_EXT_ARG_ID_INVALID)
        ext_id = tcp_ext_arg_alloc_id();    /* process-wide, like lwIP */
    p->closing.ns = ns;
    ns->pcbs = p;
    return 0;
}

/**
 * fifo_forget() - drop the entries of pcbs that outlived lwIP's stop (none should).
 */
static void fifo_forget(struct fifo *q)
{
    while (q->oldest)
        entry_unlink(q->oldest);
}

void ns_pcbs_stop(struct netstack *ns)
{
    struct ns_pcbs *p = ns->pcbs;
    size_t i;

    if (!p)
        return;
    fifo_forget(&p->closing);
    for (i = 0; i < p->nbacklogs; i++)
        fifo_forget(&p->backlog[i]);
    free(p);
    ns->pcbs = NULL;
}
