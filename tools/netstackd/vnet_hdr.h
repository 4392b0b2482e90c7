/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet_hdr.h - the virtio-net header in front of a frame, as the stack's offload state
 *
 * A tap opened with IFF_VNET_HDR and a vhost-user virtio-net device both put
 * a struct virtio_net_hdr before every frame, each way: one translation,
 * field by field, to and from struct netstack_offload, shared by both. The
 * header's fields are little-endian for a VERSION_1 virtio device and native
 * for a legacy tap header; @le says which (the same on x86).
 */
#ifndef NETSTACK_VNET_HDR_H
#define NETSTACK_VNET_HDR_H

#include <stdint.h>

#include "netstack.h"

/* struct virtio_net_hdr; the mergeable-buffers layout adds num_buffers (le16). */
#define NS_VNET_HDR_LEN     10
#define NS_VNET_HDR_MRG_LEN 12

/**
 * ns_vnet_hdr_to_offload() - the header a frame from the guest carries
 * @hdr:    NS_VNET_HDR_LEN bytes, any alignment
 * @le:     the fields are little-endian (else native)
 * @o:      filled in; a GSO type the stack does not know becomes 0xff, which
 *          the stack drops and counts
 */
void ns_vnet_hdr_to_offload(const uint8_t *hdr, int le, struct netstack_offload *o);

/**
 * ns_vnet_hdr_from_offload() - the header for a frame to the guest
 * @o:      the frame's offload state
 * @le:     write the fields little-endian (else native)
 * @hdr:    NS_VNET_HDR_LEN bytes filled in
 */
void ns_vnet_hdr_from_offload(const struct netstack_offload *o, int le, uint8_t *hdr);

#endif /* NETSTACK_VNET_HDR_H */
