/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_flow.h - private: one guest TCP connection and its host socket
 *
 * Shared by tcp_nat.c (the table, connect before accept, limits, lifecycle)
 * and tcp_relay.c (moving bytes and FIN/RST between lwIP and the host socket).
 */
#ifndef NETSTACK_TCP_FLOW_H
#define NETSTACK_TCP_FLOW_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "netstack/flow_index.h"

struct netstack;
struct pbuf;
struct tcp_pcb;
struct tcp_chunk;

/*
 * enum tcp_flow_state - where a guest connection is
 * @FLOW_CONNECTING: the guest's SYN is held (@syn) while the host connect()
 *                   runs; the host fd is watched for writability. SYN
 *                   retransmits are absorbed; no lwIP pcb exists. Ends in
 *                   ACCEPTING (connected), or the flow is freed after a RST,
 *                   an ICMP unreachable or silence was sent for the outcome.
 * @FLOW_ACCEPTING:  the host is connected; the held SYN was given to lwIP's
 *                   listener for the port, which answered SYN-ACK. Waiting
 *                   for lwIP's accept (the guest's ACK). The host fd is not
 *                   read yet. A guest that never completes the handshake is
 *                   given up after TCP_ACCEPT_TIMEOUT_MS.
 * @FLOW_RELAYING:   @pcb is attached: bytes, FIN and RST are relayed both
 *                   ways (tcp_relay.c). Half-closed directions are recorded
 *                   in @guest_fin / @host_fin; when both are closed and the
 *                   guest's data is all written, the flow is freed and lwIP
 *                   finishes the pcb's FIN exchange on its own.
 */
enum tcp_flow_state {
    FLOW_CONNECTING,
    FLOW_ACCEPTING,
    FLOW_RELAYING,
};

/*
 * The four-tuple as the guest sees it: addresses of either family, IPv4
 * mapped (::ffff:a.b.c.d, so a key says its family), ports in host order.
 */
struct tcp_key {
    struct in6_addr guest, dst;
    uint16_t guest_port, dst_port;
};

/*
 * struct tcp_flow - one connection
 * @key:        addresses and ports, as the guest sees them
 * @state:      see enum tcp_flow_state
 * @fd:         the host socket
 * @pcb:        lwIP's side, FLOW_RELAYING only
 * @syn:        the held SYN datagram (IP header and TCP segment), CONNECTING only
 * @syn_len, @syn_hlen: its length and IP header length
 * @since_ms:   when the current state began, or the last activity when relaying
 * @to_host:    guest data not yet written to the host: pbufs linked by ->next
 *              (not pbuf_cat(): a u16 tot_len cannot describe a full window)
 * @to_host_tail: its last pbuf, @to_host_len its bytes
 * @to_host_cost: the memory its pbufs hold (ns_buf_size()), charged to the
 *              flow and to the NAT's @queued_cost
 * @coal, @coal_end: the pbuf at @to_host_tail that small segments are copied
 *              into (tcp_relay.c), and the end of its room; NULL when none
 * @sendq, @sendq_tail: host bytes read for the guest, in chunks lwIP points
 *              into until the guest acknowledges them (tcp_sendq.c)
 * @unpushed:   bytes of them not given to lwIP yet (its send buffer was full)
 * @guest_fin:  the guest sent FIN (shut down writing)
 * @host_fin:   the host peer closed its side (read returned 0)
 * @shut_host:  shutdown(SHUT_WR) was done on the host socket
 * @fin_sent:   tcp_shutdown() queued our FIN to the guest
 * @paused:     reading the host socket stopped because the transport pushed back
 * @sndbuf_wait: reading stopped until lwIP's send buffer has room again
 * @events:     events the host fd is watched for (0: not in the loop)
 * @ns:         the stack, for lwIP callbacks whose argument is the flow
 * @node:       the flow's place in the stack's flow table (flow_index.h)
 * @prev, @next: the list of all flows
 * @pnext:      next in the list of paused flows
 * @guest_mss:  the MSS the guest announced, when @pcb sends super-segments
 *              cut to it (tcp_xmit.c); 0 when its segments go out as they are
 * @dirty:      guest data or FIN arrived and waits for the end of the input batch
 * @borrowed:   @to_host may hold pbufs that point into this input batch's
 *              frames (ns_tcp_input_borrow()): they are copied, or written,
 *              before the batch ends (the flow is dirty too)
 * @dnext:      next in the list of dirty flows
 * @syn_pcb:    ACCEPTING only: lwIP's half-open pcb for the replayed SYN, once
 *              its listener took it (tagged with the flow, see tcp_nat.c);
 *              NULL when lwIP has not, or has freed it
 * @isn:        the guest's initial sequence number, to refuse it with a RST
 * @half_open:  on the half-open FIFO (CONNECTING or ACCEPTING)
 * @ho_prev, @ho_next: that FIFO, oldest first
 */
struct tcp_flow {
    struct tcp_key key;
    enum tcp_flow_state state;
    int fd;
    struct tcp_pcb *pcb;
    uint8_t *syn;
    size_t syn_len, syn_hlen;
    uint64_t since_ms;
    struct pbuf *to_host, *to_host_tail;
    size_t to_host_len, to_host_cost;
    struct pbuf *coal;
    uint8_t *coal_end;
    struct tcp_chunk *sendq, *sendq_tail;
    size_t unpushed;
    uint8_t guest_fin, host_fin, shut_host, fin_sent, paused, sndbuf_wait;
    uint32_t events;
    struct netstack *ns;
    uint64_t created_ms;            /* for list_flows */
    uint64_t bytes_to_host, bytes_to_guest;
    uint32_t forward_id;            /* inbound through this forward; 0: the guest opened it */
    uint16_t guest_mss;
    struct ns_fnode node;
    struct tcp_flow *prev, *next;
    struct tcp_flow *pnext;
    uint8_t dirty;
    uint8_t borrowed;
    struct tcp_flow *dnext;
    struct tcp_pcb *syn_pcb;
    uint32_t isn;
    uint8_t half_open;
    struct tcp_flow *ho_prev, *ho_next;
};

/*
 * struct ns_tcp_nat - the TCP half of the NAT (its flows are found by
 * four-tuple in the stack's flow table, netstack/flow_index.h)
 * @all:        every flow, newest first
 * @paused:     flows whose host socket is not read while the transport pushes back
 * @dirty:      flows with guest data to write at the end of the input batch
 * @count:      flows (any state), against cfg.max_tcp_connections
 * @connecting: flows in FLOW_CONNECTING, against cfg.max_pending_connects
 * @accepting:  flows in FLOW_ACCEPTING (they need the timer)
 * @queued_cost: memory held by guest data waiting for host sockets, all flows,
 *              against cfg.max_tcp_queued_bytes
 * @sendq_cost: memory held by host data until the guest acknowledges it, all
 *              flows, against the same limit
 * @ho_oldest, @ho_newest: flows in CONNECTING or ACCEPTING, oldest first:
 *              the first to go when max_tcp_half_open is reached
 * @listener:   lwIP listener per destination port (65536 entries), created on
 *              demand and closed once unused for a while (tcp_nat.c)
 * @listener_users: flows in FLOW_ACCEPTING per port, which need its listener
 * @listener_idle_ms: when a port's listener was last left without users
 * @nlisteners: listeners open
 * @last_tick_ms: when the timer last walked the flows
 * @warned_fds: the "out of file descriptors" warning was logged
 */
struct ns_tcp_nat {
    struct tcp_flow *all;
    struct tcp_flow *paused;
    struct tcp_flow *dirty;
    size_t count, connecting, accepting;
    size_t queued_cost, sendq_cost;
    struct tcp_flow *ho_oldest, *ho_newest;
    struct tcp_pcb **listener;
    uint32_t *listener_users;
    uint32_t *listener_idle_ms;
    size_t nlisteners;
    uint64_t last_tick_ms;
    int warned_fds;
};

/* tcp_nat.c */
void ns_tcp_flow_free(struct netstack *ns, struct tcp_flow *f, int reset_host);
void ns_tcp_flow_watch(struct netstack *ns, struct tcp_flow *f, uint32_t events);
void ns_tcp_flow_pause(struct netstack *ns, struct tcp_flow *f);
void ns_tcp_flow_mark_dirty(struct netstack *ns, struct tcp_flow *f);

/*
 * tcp_sendq.c: host bytes for the guest, referenced by lwIP until acknowledged
 * ns_sendq_read() - read up to @max bytes from @fd onto the queue.
 *      Return: bytes read, 0 at end of stream, -errno (-EAGAIN: nothing now).
 * ns_sendq_push() - give lwIP what its send buffer takes of the unpushed bytes.
 * ns_sendq_acked() - the guest acknowledged @n more bytes: free what is done.
 * ns_sendq_free() - free every chunk. Only once lwIP holds no segment of the
 *      flow's any more (the pcb was aborted or reset, or all was acknowledged).
 */
ssize_t ns_sendq_read(struct tcp_flow *f, int fd, size_t max);
/**
 * ns_sendq_full() - do all flows' queues hold cfg.max_tcp_queued_bytes?
 */
int ns_sendq_full(const struct netstack *ns);
int ns_sendq_push(struct tcp_flow *f);
void ns_sendq_acked(struct tcp_flow *f, size_t n);
void ns_sendq_free(struct tcp_flow *f);

/* tcp_relay.c */
/**
 * ns_tcp_relay_over_budget() - would more guest data for @f go beyond what
 * its queue (two windows' worth of memory) or all queues
 * (cfg.max_tcp_queued_bytes) may hold? A flow whose queue is empty is never
 * refused: its data is written to the host at the end of the batch.
 */
int ns_tcp_relay_over_budget(const struct netstack *ns, const struct tcp_flow *f);
void ns_tcp_relay_uncharge(struct netstack *ns, struct tcp_flow *f);
void ns_tcp_relay_attach(struct netstack *ns, struct tcp_flow *f, struct tcp_pcb *pcb);
void ns_tcp_relay_abort(struct netstack *ns, struct tcp_flow *f);
void ns_tcp_relay_host_ready(struct netstack *ns, struct tcp_flow *f, uint32_t events);
void ns_tcp_relay_rewatch(struct netstack *ns, struct tcp_flow *f);
void ns_tcp_relay_flush(struct netstack *ns, struct tcp_flow *f);

#endif /* NETSTACK_TCP_FLOW_H */
