/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwipopts.h - netstack's compile-time configuration of lwIP.
 *
 * lwIP is configured at compile time, so this file is where its behaviour is
 * decided. Only lwIP's TCP is used, for both IPv4 and IPv6: netstack parses
 * Ethernet, ARP, NDP, IPv4 and IPv6 itself, hands TCP segments straight to
 * tcp_input() (any destination address, see netstack/lwip_glue.c), and
 * handles UDP, ICMP, ICMPv6 and DHCP outside lwIP.
 *
 * Memory: pools are backed by malloc (MEMP_MEM_MALLOC) so sizing them for tens
 * of thousands of connections costs nothing until they are used; the limits
 * that bound memory are netstack's own (struct netstack_config), enforced before
 * a pcb is created.
 */
#ifndef NETSTACK_LWIPOPTS_H
#define NETSTACK_LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_TIMERS                 1
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0

/*
 * Memory: libc malloc for the heap and for every pool, through netstack's
 * buffer cache (netstack/bufcache.c), which keeps freed segment-sized blocks
 * for reuse instead of returning them to the kernel page by page.
 */
#define MEM_LIBC_MALLOC             1
#include <stddef.h>
void *ns_buf_alloc(size_t len);
void *ns_buf_calloc(size_t n, size_t len);
void ns_buf_free(void *p);
#define mem_clib_malloc             ns_buf_alloc
#define mem_clib_calloc             ns_buf_calloc
#define mem_clib_free               ns_buf_free
#define MEMP_MEM_MALLOC             1
#define MEM_ALIGNMENT               8
#define MEMP_NUM_TCP_PCB            32768
#define MEMP_NUM_TCP_PCB_LISTEN     1024
#define MEMP_NUM_TCP_SEG            65535
#define MEMP_NUM_SYS_TIMEOUT        16
/*
 * PBUF_POOL is only used by lwIP drivers, never here (input is PBUF_RAM), but
 * its default size follows TCP_MSS and would overflow lwIP's u16 pool sizes.
 */
#define PBUF_POOL_SIZE              16
#define PBUF_POOL_BUFSIZE           1536

/*
 * Protocols: TCP over IPv4 and IPv6. ARP, NDP, ICMP, ICMPv6, UDP and DHCP are
 * netstack's own code; lwIP's IPv6 is built only for TCP's sake (its
 * addresses and ip6_output_if()), so everything in it that would speak on
 * the link by itself is off: neighbour discovery queues and router updates,
 * MLD, address autoconfiguration, fragmentation and reassembly.
 */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   1
#define LWIP_IPV6_MLD               0
#define LWIP_IPV6_AUTOCONFIG        0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_IPV6_DHCP6             0
#define LWIP_IPV6_REASS             0   /* netstack reassembles before lwIP */
#define LWIP_IPV6_FRAG              0   /* segments are cut to the guest's MSS, see tcp_xmit.c */
#define LWIP_ND6_QUEUEING           0
#define LWIP_ND6_ALLOW_RA_UPDATES   0   /* the MTU is the netif's, never an RA's */
#define LWIP_ND6_TCP_REACHABILITY_HINTS 0
#define LWIP_ICMP6                  1   /* required by lwIP's IPv6; never called */
#define LWIP_ARP                    0
#define LWIP_ETHERNET               0
#define LWIP_ICMP                   0
#define LWIP_RAW                    0
#define LWIP_UDP                    0
#define LWIP_DHCP                   0
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0
#define IP_REASSEMBLY               0   /* netstack reassembles before lwIP */
#define IP_FRAG                     0   /* TCP segments never exceed the MTU */
#define IP_FORWARD                  0
#define LWIP_TCP                    1

/*
 * Checksums: lwIP computes and verifies none.
 * - In: netstack validates the IPv4 header checksum, and verifies the TCP
 *   checksum itself before lwIP sees a segment, but only where it can mean
 *   something (netstack/tcp_nat.c): not for a partial checksum a TSO guest never
 *   computed (virtio-net's NEEDS_CSUM), nor on a link that delivers the guest's
 *   bytes unchanged (NETSTACK_LINK_INTEGRITY: every netstackd transport, since
 *   a tap, a unix socket and shared memory are memory copies, not wires).
 * - Out: netstack/tcp_xmit.c fills in both checksums while it copies the
 *   segment into the frame (a copy that happens anyway), or leaves the TCP one
 *   to the receiver where the link takes partial checksums.
 */
#define CHECKSUM_CHECK_IP           0
#define CHECKSUM_CHECK_TCP          0
#define CHECKSUM_GEN_IP             0
#define CHECKSUM_GEN_TCP            0

/*
 * TCP: MSS from the netif MTU (up to 65520 - 40), window scaling. A NAT flow's
 * pcb gets a larger MSS once established (tcp_relay.c: super-segments), which
 * TCP_MSS must allow: tcp_parseopt() clamps the guest's MSS option to it.
 *
 * Window and send buffer: 1 MiB each way. The guest link's bandwidth-delay
 * product is a few hundred KiB even at 20 Gbit/s (tens of microseconds), so
 * 1 MiB keeps a single stream at full speed (measured no slower than 4 MiB)
 * while bounding what one connection holds when either side stops reading;
 * with segments of up to 64 KiB at every MTU, that is 16 to 32 segments on
 * lwIP's queues, never the thousands that 1460-byte segments of a 4 MiB
 * buffer made tcp_output() walk. A flow that cannot send super-segments
 * (a guest MSS under 536) gets a send buffer of 256 segments instead.
 */
#define TCP_MSS                     65480
#define TCP_CALCULATE_EFF_SEND_MSS  1
#define LWIP_WND_SCALE              1
#define TCP_RCV_SCALE               7
#define TCP_WND                     (1024 * 1024)
#define TCP_SND_BUF                 (1024 * 1024)
#define TCP_SND_QUEUELEN            16384
#define TCP_SNDLOWAT                (TCP_SND_BUF / 4)
#define TCP_SNDQUEUELOWAT           (TCP_SND_QUEUELEN / 2)
#define TCP_QUEUE_OOSEQ             1
#define TCP_OOSEQ_MAX_BYTES         TCP_WND
#define TCP_OOSEQ_MAX_PBUFS         256
#define LWIP_TCP_SACK_OUT           1
#define LWIP_TCP_KEEPALIVE          1
#define TCP_LISTEN_BACKLOG          0   /* backlogs are counted by netstack/tcp_pcbs.c */
/*
 * Every pcb netstack binds sets SOF_REUSEADDR, and lwIP honours it only with
 * SO_REUSE. Port conflicts mean nothing here: a NAT listener on any:53 must
 * coexist with the gateway's DNS listener on gateway:53, and a listener
 * closed while unused (tcp_nat.c) must be made again next to the
 * connections it accepted earlier.
 */
#define SO_REUSE                    1
/* One extension argument per pcb: how tcp_pcbs.c learns that lwIP freed one. */
#define LWIP_TCP_PCB_NUM_EXT_ARGS   1
#define LWIP_CALLBACK_API           1
#define LWIP_TCP_TIMESTAMPS         0
/*
 * LAST_ACK lasts 2 * TCP_MSL. The guest link is a virtual wire with no
 * reordering or late duplicates, and the real TIME_WAIT is kept by the host's
 * kernel for the host socket: 2 s instead of 2 minutes. TIME_WAIT pcbs are
 * not kept at all (ns_lwip_reap_time_wait(), lwip_glue.c), so that lwIP's
 * pcb lists stay short under connection churn.
 */
#define TCP_MSL                     1000UL
/*
 * lwIP's sanity check "TCP_SNDLOWAT must be 4*MSS below u16_t overflow" dates
 * from 16-bit send buffers; with LWIP_WND_SCALE the buffer counters are 32-bit
 * and an MSS near 64 KiB always trips it. The other checks it guards hold for
 * the values above: SND_BUF >= 2*MSS, SND_QUEUELEN >= 2*SND_BUF/MSS,
 * SNDLOWAT < SND_BUF, SNDQUEUELOWAT < SND_QUEUELEN, WND >= MSS.
 */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

#define LWIP_NETIF_STATUS_CALLBACK  0
#define LWIP_NETIF_LINK_CALLBACK    0
#define LWIP_NETIF_TX_SINGLE_PBUF   0
#define LWIP_SINGLE_NETIF           1

/* htons() and friends come from libc, which netstack's own files include too. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* netstack keeps its own counters (netstack_get_stats). */
#define LWIP_STATS                  0

#endif /* NETSTACK_LWIPOPTS_H */
