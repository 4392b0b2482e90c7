/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_xmit.h - private: lwIP's TCP packets to the guest (tcp_xmit.c)
 */
#ifndef NETSTACK_TCP_XMIT_H
#define NETSTACK_TCP_XMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct netstack;

/* Most pieces a packet from lwIP comes in (a header pbuf and its data pbufs). */
#define NS_TCP_XMIT_IOV 64

/**
 * ns_tcp_xmit() - frame one TCP packet (IPv4 or IPv6) from lwIP for the guest at @mac
 * @iov, @niov: the packet (IP header first) as a scatter list, at most
 *              NS_TCP_XMIT_IOV pieces; valid only during the call
 * @total:      its length, which must equal the length its IP header says
 *
 * Settles both checksums, and cuts a super-segment to the guest's MSS unless
 * the link takes TSO super-frames (see the theory of operation).
 * Return: 0; -ENOBUFS when the transmit queue or memory cannot take the whole
 * packet now (nothing of it counts as sent); -EINVAL for a packet that is not
 * TCP over IPv4 or IPv6.
 */
int ns_tcp_xmit(struct netstack *ns, const uint8_t mac[6], const struct iovec *iov, size_t niov,
                size_t total);

#endif /* NETSTACK_TCP_XMIT_H */
