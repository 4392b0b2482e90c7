/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipv4.h - private: IPv4 input validation, demultiplexing and output (RFC 791)
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Identification        |Flags|      Fragment Offset    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Source Address                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination Address                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Options                    |    Padding    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#ifndef NETSTACK_IPV4_H
#define NETSTACK_IPV4_H

#include <stddef.h>
#include <stdint.h>

struct ns_link;
struct ns_reader;

#define IPV4_HLEN       20
#define IPV4_MAX_LEN    65535
#define IPV4_MF         0x2000
#define IPV4_DF         0x4000
#define IPV4_OFFMASK    0x1fff
#define IPV4_BROADCAST  0xffffffffu

/* A validated IPv4 packet (or a reassembled datagram). Pointers are into checked buffers. */
struct ns_ipv4 {
    uint32_t src, dst;              /* host order */
    uint16_t id;
    uint16_t frag;                  /* flags and offset field */
    uint8_t proto;
    uint8_t ttl;
    const uint8_t *hdr;             /* the header as received (the first fragment's) */
    size_t hdr_len;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *src_mac;
    /*
     * The transport vouches for the TCP/UDP checksum, or it is partial (a
     * TSO/checksum-offloading guest never computed it): do not verify it.
     */
    uint8_t csum_trusted;
    /*
     * @payload points into the frame of the current netstack_input*() call,
     * which stays valid until that call returns (not a reassembly buffer).
     */
    uint8_t in_frame;
};

/* Why ns_ipv4_parse() rejected a packet; each maps to a drop counter. */
enum ns_ipv4_verdict {
    NS_IPV4_OK = 0,
    NS_IPV4_BAD_HEADER,             /* too short, version, IHL */
    NS_IPV4_BAD_LENGTH,             /* total length vs header and received bytes */
    NS_IPV4_BAD_CHECKSUM,
    NS_IPV4_BAD_SOURCE,             /* multicast, broadcast or loopback source */
};

/**
 * ns_ipv4_parse() - validate the header of the packet in @r
 * Fills @ip (payload trimmed to the total length: Ethernet padding is dropped).
 */
enum ns_ipv4_verdict ns_ipv4_parse(struct ns_reader *r, struct ns_ipv4 *ip);

/**
 * ns_ipv4_input() - one IPv4 packet from the guest: validate, reassemble, dispatch.
 */
void ns_ipv4_input(struct ns_link *lk, const uint8_t src_mac[6], struct ns_reader *r);

/**
 * ns_ipv4_deliver() - dispatch a complete datagram by protocol.
 */
void ns_ipv4_deliver(struct ns_link *lk, const struct ns_ipv4 *ip);

/**
 * ns_ipv4_send() - send a datagram to the guest, fragmented to the link MTU
 * @dst_mac: the link address, or NULL to look @dst up (broadcast for the
 *           broadcast addresses); an unknown neighbour triggers an ARP request
 *           and the datagram is dropped (counted as drop_tx_no_neighbor)
 * Return: 0, or a negative errno when nothing was queued.
 */
int ns_ipv4_send(struct ns_link *lk, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                 uint8_t proto, const uint8_t *payload, size_t len);

/**
 * ns_ipv4_send_parts() - ns_ipv4_send() for a payload made of a header
 * (@hdr, @hlen bytes) and the data after it, copied straight into the frames
 */
int ns_ipv4_send_parts(struct ns_link *lk, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                       uint8_t proto, const uint8_t *hdr, size_t hlen, const uint8_t *data,
                       size_t dlen);

/**
 * ns_ipv4_dst_mac() - the link address for @dst. Return: 0, -1 if unknown (ARP sent).
 */
int ns_ipv4_dst_mac(struct ns_link *lk, uint32_t dst, uint8_t mac[6]);

#endif /* NETSTACK_IPV4_H */
