/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet_hdr.c - struct virtio_net_hdr to and from struct netstack_offload
 */
#include <endian.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "tools/netstackd/vnet_hdr.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

_Static_assert(sizeof(struct virtio_net_hdr) == NS_VNET_HDR_LEN, "virtio_net_hdr layout");

static uint16_t get16(uint16_t v, int le)
{
    return le ? le16toh(v) : v;
}

static uint16_t put16(uint16_t v, int le)
{
    return le ? htole16(v) : v;
}

/**
 * gso_to_stack() - virtio's GSO type as the stack's
 * @gso_type:   the header's, ECN bit included
 */
static uint8_t gso_to_stack(uint8_t gso_type)
{
    switch (gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return NETSTACK_GSO_NONE;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        return NETSTACK_GSO_TCPV4;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        return NETSTACK_GSO_TCPV6;
    case VIRTIO_NET_HDR_GSO_UDP_L4:
        return NETSTACK_GSO_UDP_L4;
    default:
        return 0xff;    /* not one we negotiated: the stack drops it */
    }
}

void ns_vnet_hdr_to_offload(const uint8_t *hdr, int le, struct netstack_offload *o)
{
    struct virtio_net_hdr v;

    memcpy(&v, hdr, sizeof(v));
    o->flags = (uint8_t)((v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM ? NETSTACK_OFFLOAD_F_NEEDS_CSUM : 0) |
                         (v.flags & VIRTIO_NET_HDR_F_DATA_VALID ? NETSTACK_OFFLOAD_F_DATA_VALID : 0));
    o->gso_type = gso_to_stack(v.gso_type);
    o->hdr_len = get16(v.hdr_len, le);
    o->gso_size = get16(v.gso_size, le);
    o->csum_start = get16(v.csum_start, le);
    o->csum_offset = get16(v.csum_offset, le);
}

void ns_vnet_hdr_from_offload(const struct netstack_offload *o, int le, uint8_t *hdr)
{
    struct virtio_net_hdr v;

    memset(&v, 0, sizeof(v));
    if (o->flags & NETSTACK_OFFLOAD_F_NEEDS_CSUM)
        v.flags |= VIRTIO_NET_HDR_F_NEEDS_CSUM;
    if (o->flags & NETSTACK_OFFLOAD_F_DATA_VALID)
        v.flags |= VIRTIO_NET_HDR_F_DATA_VALID;
    if (o->gso_type == NETSTACK_GSO_TCPV4)
        v.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    else if (o->gso_type == NETSTACK_GSO_TCPV6)
        v.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    v.hdr_len = put16(o->hdr_len, le);
    v.gso_size = put16(o->gso_size, le);
    v.csum_start = put16(o->csum_start, le);
    v.csum_offset = put16(o->csum_offset, le);
    memcpy(hdr, &v, sizeof(v));
}
