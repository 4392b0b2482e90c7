/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * link.c - the guest link: frames in, the flush after each batch, offloads,
 * the neighbours it knows, the guest going away
 *
 * Frames from the guest run to completion in ethernet/ (replies are queued,
 * never sent from inside a parser), and the queue is flushed to the transport
 * when the call returns.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "ethernet/eth.h"
#include "ethernet/ipv6.h"
#include "netstack/capture.h"
#include "netstack/clock.h"
#include "netstack/lwip_glue.h"
#include "netstack/modules.h"
#include "netstack/nat.h"
#include "netstack/stack.h"

int netstack_input(struct netstack *ns, const void *frame, size_t len)
{
    if (!ns || !frame)
        return -EINVAL;
    ns_capture(ns, frame, len);
    ns_eth_input(&ns->link, frame, len);
    ns_flush(ns);
    return 0;
}

/**
 * offloaded() - does @o say anything (a plain frame's is all zero)?
 */
static int offloaded(const struct netstack_offload *o)
{
    return o->flags || o->gso_type;
}

int netstack_input_batch(struct netstack *ns, const struct netstack_frame *frames, size_t n)
{
    size_t i;

    if (!ns || (!frames && n))
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (!frames[i].data)
            continue;
        ns->link.rx_offload = offloaded(&frames[i].offload) ? &frames[i].offload : NULL;
        ns_capture(ns, frames[i].data, frames[i].len);
        ns_eth_input(&ns->link, frames[i].data, frames[i].len);
    }
    ns->link.rx_offload = NULL;
    ns_flush(ns);
    return 0;
}

int netstack_set_offloads(struct netstack *ns, uint32_t flags)
{
    const uint32_t known = NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4 | NETSTACK_LINK_TSO6 |
                           NETSTACK_LINK_INTEGRITY;

    if (!ns || (flags & ~known))
        return -EINVAL;
    /* virtio-net: a GSO frame's checksum is always partial (VIRTIO_NET_F_HOST_TSO4 needs CSUM). */
    if ((flags & (NETSTACK_LINK_TSO4 | NETSTACK_LINK_TSO6)) && !(flags & NETSTACK_LINK_CSUM))
        return -EINVAL;
    ns->link.offloads = flags;
    return 0;
}

/**
 * ns_flush() - end of a batch: write the guest's TCP data to the host, hand the
 * queue to the transport, then let paused host sockets be read again if it
 * took everything. Producers pause whenever the queue is
 * full, also when the transport has not pushed back yet (it only sees the
 * queue here), so resuming cannot wait for netstack_output_ready() alone.
 */
void ns_flush(struct netstack *ns)
{
    ns_tcp_nat_flush(ns);       /* guest data of this batch to the host sockets */
    ns_lwip_reap_time_wait();
    ns_tx_flush(ns);
    if (!ns_tx_blocked(&ns->tx)) {
        ns_modules_resume(ns);
        ns_tx_flush(ns);
    }
    ns_capture_kick(ns);
}

void netstack_output_ready(struct netstack *ns)
{
    ns->tx.blocked = 0;
    ns_flush(ns);
}

void netstack_link_down(struct netstack *ns)
{
    ns_modules_guest_gone(ns);  /* every host socket and connection of the guest closed */
    ns_neigh_flush(&ns->link);
    ns_tx_drop_all(ns);
}

int netstack_neighbor_list(struct netstack *ns, netstack_neighbor_fn cb, void *opaque)
{
    struct netstack_neighbor_info info;
    uint64_t now = ns_now_ms();
    unsigned i;
    int rc;

    if (!ns || !cb)
        return -EINVAL;
    for (i = 0; i < NS_NEIGH_MAX; i++) {
        const struct ns_neigh *n = &ns->link.neigh[i];

        if (!n->seen_ms)
            continue;   /* a free slot */
        memset(&info, 0, sizeof(info));
        info.family = ns_ip6_is_mapped4(&n->addr) ? AF_INET : AF_INET6;
        info.addr = n->addr;
        memcpy(info.mac, n->mac, 6);
        info.idle_ms = now > n->seen_ms ? now - n->seen_ms : 0;
        if ((rc = cb(opaque, &info)))
            return rc;
    }
    return 0;
}
