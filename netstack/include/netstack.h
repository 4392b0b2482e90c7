/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netstack.h - public API of libnetstack, a userspace network for a VM or
 * container guest.
 *
 * The embedder feeds the guest's Ethernet frames in (netstack_input), receives
 * the frames for the guest through a callback (config.send_frames), and drives
 * the stack from its own event loop with one pollable fd, the next timeout and a
 * dispatch call, or lets netstack_run() block.
 *
 * Conventions:
 * - Errors are negative errno values; 0 (or a count) is success.
 * - Addresses in this API are in network byte order (struct in_addr); ports and
 *   sizes are host byte order.
 * - One stack per process: lwIP keeps global state, so a second netstack_new()
 *   while one exists fails with -EBUSY.
 * - Every call must be made from the thread that runs the stack.
 */
#ifndef NETSTACK_H
#define NETSTACK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "netstack_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every call declared here is the library's interface; everything else in
 * libnetstack (lwIP included) is built hidden.
 */
#pragma GCC visibility push(default)

/**
 * netstack_version() - the running library's version, "MAJOR.MINOR.PATCH".
 */
const char *netstack_version(void);

/*
 * Version of struct netstack_config; the struct only ever grows at its end.
 * 2: send_gather. 3: the resource limits. 4: clock_ns, restricted.
 * 5: ipv6_prefix, no_ipv6. 6: dns_aaaa. 7: dns_server, dns_server6,
 * host_loopback6, no_dns, no_dhcp, dhcp_hostname.
 */
#define NETSTACK_CONFIG_VERSION 7

enum netstack_log_level {
    NETSTACK_LOG_DEFAULT = 0,   /* in a config: keep the default (NETSTACK_LOG_INFO) */
    NETSTACK_LOG_ERROR = 1,
    NETSTACK_LOG_WARN = 2,
    NETSTACK_LOG_INFO = 3,
    NETSTACK_LOG_DEBUG = 4,
};

/* How the gateway's DNS server resolves names that are not local. */
enum netstack_dns_mode {
    NETSTACK_DNS_FORWARD = 0,   /* relay to the nameservers of the host's resolv.conf */
    NETSTACK_DNS_HOST = 1,      /* A/AAAA from getaddrinfo(); other types forwarded */
};

/*
 * Whether the gateway's DNS server gives AAAA records for names that are not
 * local. Filtered, an AAAA query is answered at once with no records (NODATA),
 * so a client does not try IPv6 addresses that the host cannot reach.
 */
enum netstack_dns_aaaa {
    NETSTACK_DNS_AAAA_AUTO = 0, /* filtered while the host has no route to global IPv6 */
    NETSTACK_DNS_AAAA_ON = 1,   /* always given */
    NETSTACK_DNS_AAAA_OFF = 2,  /* always filtered */
};

/*
 * struct netstack_offload - what a frame's checksum and size rely on, in the
 * terms of virtio-net's header (struct virtio_net_hdr), so a tap with
 * IFF_VNET_HDR or a virtio backend translates field by field. All zero: a
 * plain frame, complete checksums, no larger than the link MTU.
 * @flags:      NETSTACK_OFFLOAD_F_* (see below)
 * @gso_type:   NETSTACK_GSO_NONE, or the protocol of a super-frame: one TCP
 *              segment of up to 64 KiB that the receiver treats as several
 *              segments of @gso_size payload bytes each (or, UDP_L4, one UDP
 *              header and the payloads of several datagrams)
 * @hdr_len:    Ethernet, IP and TCP header bytes in front of the payload
 * @gso_size:   payload bytes per segment of a super-frame
 * @csum_start, @csum_offset: for F_NEEDS_CSUM, the checksum covers the frame
 *              from byte @csum_start to its end and is stored at
 *              @csum_start + @csum_offset; the field holds the pseudo-header sum
 */
struct netstack_offload {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};

#define NETSTACK_OFFLOAD_F_NEEDS_CSUM 0x1u  /* partial checksum: the receiver completes it */
#define NETSTACK_OFFLOAD_F_DATA_VALID 0x2u  /* the sender vouches for the checksums */

#define NETSTACK_GSO_NONE   0
#define NETSTACK_GSO_TCPV4  1
#define NETSTACK_GSO_TCPV6  4
#define NETSTACK_GSO_UDP_L4 5   /* from the guest only: a train of UDP datagrams of gso_size */

/*
 * One frame handed across the API: a complete Ethernet frame without FCS, and
 * its offload state (zero for a plain frame). Frames to the guest carry
 * offloads only of the kinds netstack_set_offloads() allowed.
 */
struct netstack_frame {
    const void *data;
    size_t len;
    struct netstack_offload offload;
};

/**
 * send_frames() - deliver frames to the guest
 * @opaque: config.opaque
 * @frames: the frames, in order; valid only for the duration of the call
 * @n:      number of frames (at least 1)
 *
 * Return: how many frames, from the first, the transport accepted (0..n). Fewer
 * than @n is backpressure: the stack keeps the rest, queues what it produces
 * next, stops reading from host sockets, and tries again only after the
 * embedder calls netstack_output_ready(). Return a negative errno for a
 * transport that is gone (no guest attached): the frames are dropped and
 * counted, as a switch port with nothing plugged in would.
 */
typedef ssize_t (*netstack_send_frames_fn)(void *opaque, const struct netstack_frame *frames,
                                           size_t n);

/**
 * send_gather() - deliver one frame to the guest now, given in pieces
 * @opaque: config.opaque
 * @iov:    the frame's bytes, in order; valid only for the duration of the call
 * @n:      number of pieces
 * @off:    the frame's offload state
 *
 * Optional. With it, TCP payload goes to the transport straight from where the
 * stack keeps it, without being copied into a frame first. The stack calls it
 * only while nothing is queued for send_frames(), so frames stay in order.
 * Return: 1 if the transport took the frame; 0 if it would block (the stack
 * queues a copy and waits for netstack_output_ready(), as after a short
 * send_frames()); a negative errno when no guest is attached (dropped, counted).
 */
struct iovec;
typedef int (*netstack_send_gather_fn)(void *opaque, const struct iovec *iov, size_t n,
                                       const struct netstack_offload *off);

/**
 * log() - receive one log line (no trailing newline) at or below config.log_level.
 * @opaque: config.opaque
 * @level: the line's level
 * @msg: the line, valid during the call
 */
typedef void (*netstack_log_fn)(void *opaque, enum netstack_log_level level, const char *msg);

/*
 * struct netstack_config - everything the stack is created with
 *
 * Initialise with netstack_config_init(), which sets the version and every
 * default, then change what you need. A zero address or size keeps its default.
 */
struct netstack_config {
    uint32_t version;               /* NETSTACK_CONFIG_VERSION */

    /* Addressing (defaults: 192.168.65.0/24, gateway .1, alias .254, guests from .2) */
    struct in_addr subnet;
    uint8_t prefix_len;
    struct in_addr gateway;         /* router, DHCP server and DNS server */
    struct in_addr host_loopback;   /* alias for the host's 127.0.0.1; may be the gateway
                                       (every port of it but DHCP's and DNS's) */
    int no_host_loopback;           /* nonzero: no alias at all */
    struct in_addr dhcp_first;      /* first address handed out by DHCP */
    uint8_t gateway_mac[6];         /* default 5a:94:ef:e4:0c:dd */
    uint16_t mtu;                   /* default 65520, at least 576 */

    /* DHCP (RFC 2131/2132) */
    uint32_t lease_seconds;         /* default 7200 */
    const char *domain_name;        /* option 15, default "internal"; NULL keeps the default */
    const char *search_domains;     /* option 119, space separated; default "internal" */

    /* Limits: bounded resources whatever the guest sends. */
    uint32_t max_reassembly;        /* concurrent IPv4 datagrams being reassembled, default 64 */
    uint32_t max_tx_queue;          /* frames held while the transport pushes back, default 4096 */
    /* (Every field's zero, or NULL, keeps its default.) */

    /* Callbacks */
    netstack_send_frames_fn send_frames;
    netstack_log_fn log;
    enum netstack_log_level log_level;  /* default NETSTACK_LOG_INFO */
    void *opaque;

    /*
     * NAT: every guest flow becomes a host socket. At a limit, new TCP
     * connections are refused with a RST and the least recently used UDP or
     * ICMP flow is closed; existing flows keep working either way.
     */
    uint32_t max_tcp_connections;   /* default 16384 */
    uint32_t max_pending_connects;  /* host connect()s in progress, default 1024 */
    uint32_t tcp_idle_timeout_ms;   /* 0 (default): established connections never time out */
    uint32_t max_udp_flows;         /* default 4096 */
    uint32_t udp_idle_timeout_ms;   /* default 60000 */
    uint32_t max_icmp_flows;        /* default 256 */
    uint32_t icmp_idle_timeout_ms;  /* default 30000 */

    /*
     * DNS: the gateway answers on UDP and TCP port 53. Local names first
     * (host.internal, gateway.internal, @dns_names, @hosts_file), then either
     * the host's nameservers from @resolv_conf (forward) or, for A and AAAA,
     * the host's own resolver (NETSTACK_DNS_HOST: getaddrinfo on a thread).
     */
    const char *resolv_conf;        /* default "/etc/resolv.conf", re-read when it changes */
    enum netstack_dns_mode dns_mode;    /* default NETSTACK_DNS_FORWARD */
    const char *hosts_file;         /* hosts(5) file of local names; NULL: none */
    const char *const *dns_names;   /* "NAME=IP" entries, NULL-terminated; NULL: none */
    uint32_t dns_timeout_ms;        /* SERVFAIL after this long without an answer, default 4000 */
    uint32_t max_dns_inflight;      /* queries being resolved at once, default 1024 */

    /* Version 2 */
    netstack_send_gather_fn send_gather;    /* optional, NULL: frames go to send_frames */

    /*
     * Version 3: the rest of the resource model (README, "Resource limits").
     * Memory is charged in allocated bytes, not payload. At each limit the
     * answer is stated: RST, drop and count, or the oldest evicted.
     */
    uint32_t max_tx_queue_bytes;    /* bytes of frames held for the guest, default 32 MiB */
    uint32_t max_tcp_half_open;     /* guest handshakes not completed (NAT and gateway
                                       listeners), default 1024; beyond: the oldest reset */
    uint32_t max_tcp_closing;       /* closed connections whose FIN exchange lwIP still
                                       finishes, default 4096; beyond: the oldest reset */
    uint32_t max_tcp_queued_bytes;  /* TCP data held in each direction, all connections,
                                       default 128 MiB; beyond: guest segments dropped,
                                       host sockets not read */
    uint32_t max_dns_tcp_connections;   /* guest TCP connections to gateway:53, default 128;
                                           beyond: the longest idle one is closed */
    uint32_t dns_tcp_idle_timeout_ms;   /* close them after this long idle, default 10000 */

    /*
     * Version 4: the stack's clock, nanoseconds of a monotonic clock; NULL:
     * CLOCK_MONOTONIC. A replay drives it from a capture's timestamps so that
     * timers fire as they did; captures are then stamped with it too.
     */
    uint64_t (*clock_ns)(void *opaque);
    /*
     * Nonzero: the guest's flows open no host socket. TCP connections are
     * refused with a RST, UDP datagrams and pings dropped (drop_tcp_destination,
     * drop_udp_destination, drop_icmp_destination); the gateway's own DHCP
     * and DNS, and port forwards, still work.
     */
    int restricted;

    /*
     * Version 5: IPv6 on the guest's link. Router advertisements give the
     * guest a /64 for SLAAC; the gateway is its ::1 (and the link-local
     * fe80:: address made from @gateway_mac), the host-loopback alias its
     * ::fe. IPv6 needs an MTU of at least 1280: below that it stays off (logged).
     */
    struct in6_addr ipv6_prefix;    /* a /64 with zero host bits, default fd65:65:: */
    int no_ipv6;                    /* nonzero: no IPv6 (its frames count as drop_eth_type) */

    /* Version 6 */
    enum netstack_dns_aaaa dns_aaaa;    /* default NETSTACK_DNS_AAAA_AUTO */

    /*
     * Version 7: the addressing libslirp's users expect (slirp/): a DNS
     * server on an address of its own, the gateway doubling as the alias.
     */
    struct in_addr dns_server;      /* the DNS server on the link, default the gateway */
    struct in6_addr dns_server6;    /* the same over IPv6, in the /64; default its ::1 */
    struct in6_addr host_loopback6; /* the alias's IPv6 twin (the host's ::1), in the
                                       /64; default its ::fe; may be the DNS server's */
    int no_dns;                     /* nonzero: no DNS server (DHCP and RAs name none) */
    int no_dhcp;                    /* nonzero: no DHCP server (drop_dhcp_disabled) */
    const char *dhcp_hostname;      /* DHCP option 12 for the guest; NULL: none */
};

/**
 * netstack_config_init() - fill @cfg with the version and every default.
 * @cfg: the config to fill
 */
void netstack_config_init(struct netstack_config *cfg);

struct netstack;

/**
 * netstack_new() - create the stack
 * @cfg: the configuration; copied (strings too), need not outlive the call
 * @out: the new stack on success
 *
 * Return: 0, -EINVAL for a config that is inconsistent (the log callback says
 * why), -EBUSY if a stack already exists in this process, -ENOMEM.
 */
int netstack_new(const struct netstack_config *cfg, struct netstack **out);

/**
 * netstack_free() - destroy the stack, closing every host socket it owns.
 * After it returns the process may create a new stack.
 * @ns: the stack; NULL is ignored
 */
void netstack_free(struct netstack *ns);

/**
 * netstack_input() - hand one frame from the guest to the stack
 * @ns: the stack
 * @frame: an Ethernet frame, without FCS
 * @len: its length in bytes
 *
 * The stack copies what it keeps: the caller owns @frame before and after.
 * Return: 0 when the frame was processed or dropped-and-counted (a malformed
 * frame is not an error of the call), -EINVAL for a NULL frame.
 */
int netstack_input(struct netstack *ns, const void *frame, size_t len);

/**
 * netstack_input_batch() - netstack_input() for @n frames; returns 0 or -EINVAL.
 * @ns: the stack
 * @frames: the frames, each as netstack_input() takes it, with its offload state
 * @n: how many
 */
int netstack_input_batch(struct netstack *ns, const struct netstack_frame *frames, size_t n);

/**
 * netstack_output_ready() - the transport can take frames again
 * Flushes the queue held since send_frames() pushed back.
 * @ns: the stack
 */
void netstack_output_ready(struct netstack *ns);

/**
 * netstack_link_down() - the guest went away (transport closed)
 * Forgets what was learned about the guest's link (its MAC) and drops frames
 * queued for it. Leases are kept, so a rebooted guest gets its address again.
 * @ns: the stack
 */
void netstack_link_down(struct netstack *ns);

/**
 * netstack_set_offloads() - what the guest link does for the stack
 * @flags: NETSTACK_LINK_* bits; 0 (the state after netstack_new) is a plain
 *         link: complete checksums both ways, frames no larger than the MTU
 *
 * A transport calls this once it knows what its link negotiated (a tap opened
 * with IFF_VNET_HDR, a virtio backend's features) and again when that changes
 * (a new guest connected). With NETSTACK_LINK_TSO4 the stack hands TCP data to
 * the guest as super-frames of up to 64 KiB (gso_type NETSTACK_GSO_TCPV4,
 * gso_size the guest's MSS) whatever the MTU; without it, the same segments are
 * cut to the MTU in software while they are copied. With NETSTACK_LINK_CSUM
 * the TCP checksum is left to the receiver (F_NEEDS_CSUM); without it, it is
 * computed during that copy.
 * Return: 0, -EINVAL for unknown bits (TSO without CSUM, which a virtio
 * receiver cannot take).
 */
#define NETSTACK_LINK_CSUM      0x1u    /* frames to the guest may carry partial checksums */
#define NETSTACK_LINK_TSO4      0x2u    /* ... and TCP/IPv4 super-frames (needs CSUM) */
#define NETSTACK_LINK_TSO6      0x4u    /* ... and TCP/IPv6 super-frames (needs CSUM) */
/*
 * The link delivers the guest's bytes exactly as the guest's kernel wrote
 * them (a tap, a unix socket, shared memory): TCP and UDP checksums of frames
 * that do not vouch for themselves need not be verified. Without this bit
 * they are, and a bad one is dropped and counted.
 */
#define NETSTACK_LINK_INTEGRITY 0x8u
int netstack_set_offloads(struct netstack *ns, uint32_t flags);

/* Event loop ------------------------------------------------------------ */

/**
 * netstack_fd() - a file descriptor that becomes readable when there is work.
 * @ns: the stack
 */
int netstack_fd(const struct netstack *ns);

/**
 * netstack_next_timeout() - milliseconds until a timer is due, -1 for none.
 * @ns: the stack
 */
int netstack_next_timeout(struct netstack *ns);

/**
 * netstack_dispatch() - run ready I/O and due timers without blocking.
 * @ns: the stack
 */
int netstack_dispatch(struct netstack *ns);

/**
 * netstack_run() - dispatch until netstack_stop() is called (from a callback
 * or a signal handler). A stop requested before the call makes it return at
 * once; after it returns, the next call runs again.
 * @ns: the stack
 * Return: 0, or a negative errno if polling failed.
 */
int netstack_run(struct netstack *ns);

/**
 * netstack_stop() - make netstack_run() return; async-signal-safe.
 * Callbacks (send_frames, watches) may call any function of this API except
 * netstack_free(); netstack_input() from inside send_frames is not allowed.
 * @ns: the stack
 */
void netstack_stop(struct netstack *ns);

/**
 * netstack_watch() - run @cb from the stack's loop when @fd is ready
 * @ns:     the stack
 * @fd:     a descriptor the caller owns
 * @events: EPOLLIN/EPOLLOUT-style mask (NETSTACK_EV_*)
 * @cb:     called with @opaque, @fd and the events that happened
 * @opaque: handed to @cb
 *
 * Lets an embedder (netstackd's transports) share the stack's single thread.
 * Calling it again for the same fd changes the mask; netstack_unwatch() before
 * closing the fd. Return: 0 or a negative errno.
 */
#define NETSTACK_EV_IN  0x1u
#define NETSTACK_EV_OUT 0x4u
#define NETSTACK_EV_ERR 0x8u
#define NETSTACK_EV_HUP 0x10u
typedef void (*netstack_watch_fn)(void *opaque, int fd, uint32_t events);
int netstack_watch(struct netstack *ns, int fd, uint32_t events, netstack_watch_fn cb,
                   void *opaque);
int netstack_unwatch(struct netstack *ns, int fd);

/**
 * netstack_accept() - accept4() for a listening socket watched in the stack's loop
 * @ns:         the stack
 * @fd:         the listening socket, non-blocking
 * @addr, @len: as for accept(); may be NULL
 *
 * When the process is out of descriptors, the pending connection is taken
 * with a descriptor the stack keeps in reserve and closed at once (counted as
 * drop_accept_no_fd): the client hears its connection close instead of
 * hanging, and a level-triggered listener does not wake the loop forever.
 * Return: the connection (non-blocking, close-on-exec), or a negative errno:
 * -EAGAIN when none is pending, -EMFILE when one was shed.
 */
int netstack_accept(struct netstack *ns, int fd, struct sockaddr *addr, socklen_t *len);

/* Port forwarding: host ports into the guest ------------------------------ */

enum netstack_proto {
    NETSTACK_PROTO_TCP = 6,
    NETSTACK_PROTO_UDP = 17,
};

/*
 * struct netstack_forward - one forward: connections to @host_addr:@host_port
 * (and the @count - 1 ports after it) on the host go to @guest_addr:@guest_port
 * (and the ports after it) in the guest.
 * @host_addr:  AF_INET or AF_INET6 address to bind (0.0.0.0, ::, 127.0.0.1,
 *              ...), its port the first host port
 * @count:      ports in the range, 0 meaning 1
 * @guest_addr: the guest's address; 0 means the first DHCP lease
 * @preserve_source: the guest sees the client's address and port (a loopback
 *              client as the host-loopback alias, or its IPv6 twin);
 *              otherwise, and for a client of the other family, the gateway's
 * @guest_v6:   reach the guest over IPv6, at @guest_addr6 (@guest_addr unused)
 * @guest_addr6: the guest's IPv6 address; all zero means the address in its
 *              /64 it was last heard from (its SLAAC address, learned from its
 *              own packets when a client comes)
 */
struct netstack_forward {
    enum netstack_proto proto;
    struct sockaddr_storage host_addr;
    uint16_t count;
    struct in_addr guest_addr;
    uint16_t guest_port;
    int preserve_source;
    int guest_v6;
    struct in6_addr guest_addr6;
};

/**
 * netstack_forward_add() - start forwarding; the host socket is bound now
 * @ns: the stack
 * @fw: the forward (copied)
 * @id: set to the forward's handle (never reused while the stack lives)
 * Return: 0, -EADDRINUSE, -EACCES (privileged port), -EINVAL, -ENOMEM.
 */
int netstack_forward_add(struct netstack *ns, const struct netstack_forward *fw, uint32_t *id);

/**
 * netstack_forward_remove() - stop accepting new connections on forward @id;
 * connections already open continue until they end.
 * @ns: the stack
 * @id: what netstack_forward_add() returned
 * Return: 0, -ENOENT.
 */
int netstack_forward_remove(struct netstack *ns, uint32_t id);

/**
 * netstack_forward_parse() - a forward from text, as netstackd's --forward takes
 * it: tcp|udp:[HOSTADDR:]HOSTPORT[-END]:GUESTPORT[,nopreserve] ("tcp:0.0.0.0:8080:80",
 * "tcp:[::]:8000-8009:8000", "udp:5353:53"); the guest address is left 0 (the lease).
 * @spec: the text
 * @fw: filled on success
 * @err: a one-line reason on failure
 * @errlen: its size
 * Return: 0, -EINVAL with a one-line reason in @err.
 */
int netstack_forward_parse(const char *spec, struct netstack_forward *fw, char *err, size_t errlen);

/**
 * netstack_forward_list() - call @cb for each forward, in the order added;
 * stops early and returns what @cb returned if it is not 0.
 * @ns: the stack
 * @cb: called with @opaque, the forward's id and the forward (valid during the call)
 * @opaque: handed to @cb
 */
typedef int (*netstack_forward_fn)(void *opaque, uint32_t id, const struct netstack_forward *fw);
int netstack_forward_list(struct netstack *ns, netstack_forward_fn cb, void *opaque);

/* Live flows ---------------------------------------------------------------- */

/*
 * struct netstack_flow_info - one live TCP or UDP flow
 * @inbound:    0: opened by the guest (the NAT); 1: from a host client
 *              through forward @forward_id
 * @guest_addr, @guest_port: the guest's end (network order, host order)
 * @peer_addr, @peer_port: the other end as the guest sees it: a NAT flow's
 *              destination (the alias for the host's 127.0.0.1; for UDP the
 *              last one the guest sent to, since replies from any are let in),
 *              an inbound flow's client (or the gateway)
 * @state:      "syn_sent", "syn_received", "established", "fin_wait" (the
 *              host side closed), "close_wait" (the guest closed), "closing"
 *              (both), or "active" for UDP; static storage
 * @bytes_from_guest, @bytes_to_guest: payload bytes each way
 * @age_ms, @idle_ms: since the flow was created, and since its last traffic
 * @family:     AF_INET or AF_INET6
 * @guest_addr6, @peer_addr6: both ends for either family (IPv4 as
 *              ::ffff:a.b.c.d); @guest_addr and @peer_addr are 0 for IPv6
 */
struct netstack_flow_info {
    enum netstack_proto proto;
    int inbound;
    uint32_t forward_id;
    struct in_addr guest_addr;
    uint16_t guest_port;
    struct in_addr peer_addr;
    uint16_t peer_port;
    const char *state;
    uint64_t bytes_from_guest, bytes_to_guest;
    uint64_t age_ms, idle_ms;
    int family;
    struct in6_addr guest_addr6, peer_addr6;
};

/**
 * netstack_flow_list() - call @cb for every live TCP and UDP flow; stops
 * early and returns what @cb returned if it is not 0. @cb must not change
 * the stack.
 * @ns: the stack
 * @cb: called with @opaque and the flow (valid during the call)
 * @opaque: handed to @cb
 */
typedef int (*netstack_flow_fn)(void *opaque, const struct netstack_flow_info *flow);
int netstack_flow_list(struct netstack *ns, netstack_flow_fn cb, void *opaque);

/* Neighbours on the guest's link ------------------------------------------ */

/*
 * struct netstack_neighbor_info - one address the stack knows a MAC for
 * (learned from ARP, neighbour discovery and the guest's own packets)
 * @family:  AF_INET or AF_INET6
 * @addr:    the address; IPv4 as ::ffff:a.b.c.d
 * @mac:     its link address
 * @idle_ms: since it was last heard from
 */
struct netstack_neighbor_info {
    int family;
    struct in6_addr addr;
    uint8_t mac[6];
    uint64_t idle_ms;
};

/**
 * netstack_neighbor_list() - call @cb for every known neighbour; stops early
 * and returns what @cb returned if it is not 0. @cb must not change the stack.
 * @ns: the stack
 * @cb: called with @opaque and the neighbour (valid during the call)
 * @opaque: handed to @cb
 */
typedef int (*netstack_neighbor_fn)(void *opaque, const struct netstack_neighbor_info *n);
int netstack_neighbor_list(struct netstack *ns, netstack_neighbor_fn cb, void *opaque);

/* Statistics ------------------------------------------------------------- */

/* Captures ------------------------------------------------------------- */

/*
 * Every frame on the guest link, both directions, as the guest sees it (a
 * super-frame is recorded as the one large frame it is), can be captured to
 * files and to live streams in pcap format, written by libpcap. Capturing
 * costs the data path one copy of each frame into a bounded buffer; a thread
 * of the stack's own writes the files and streams from there. When they cannot
 * keep up, frames are lost from the capture, never from the link, and counted
 * (pcap_dropped, pcap_stream_dropped). With nothing capturing, nothing is paid.
 */

/*
 * struct netstack_pcap_config - a capture to files
 * @path:       the newest file; older ones are @path.1 (the next newest) up
 *              to @path.N-1
 * @file_size:  bytes a file may reach before the next one is started; 0: 64 MiB,
 *              at least 64 KiB
 * @files:      files kept, at most 1000; 0: 4. The capture never takes more
 *              than @files x @file_size bytes of disk.
 * @snaplen:    bytes kept of each frame; 0: 262144 (every frame whole)
 */
struct netstack_pcap_config {
    const char *path;
    uint64_t file_size;
    uint32_t files;
    uint32_t snaplen;
};

#define NETSTACK_PCAP_MAX_STREAMS 8     /* live streams at once */

/**
 * netstack_pcap_start() - start capturing to files
 * The file is created (mode 0640) or truncated before the call returns; the
 * capture holds every frame from then on until netstack_pcap_stop().
 * @ns: the stack
 * @cfg: the files, their size and count, the snap length
 * Return: 0, -EINVAL for a bad @cfg, -EBUSY when a file capture is running, a
 * negative errno when the file cannot be created.
 */
int netstack_pcap_start(struct netstack *ns, const struct netstack_pcap_config *cfg);

/**
 * netstack_pcap_stop() - end the file capture
 * Every frame captured before the call is in the files when it returns.
 * @ns: the stack
 * Return: 0, -ENOENT when no file capture is running.
 */
int netstack_pcap_stop(struct netstack *ns);

/**
 * netstack_pcap_stream() - send a live capture to @fd
 * @ns:      the stack
 * @fd:      a connected socket or a pipe; the stack owns it from now on (it is
 *           closed on error too) and makes it non-blocking
 * @snaplen: as in struct netstack_pcap_config
 *
 * @fd receives a pcap file header, then a record for every frame from then on.
 * A reader that falls behind loses whole records (pcap_stream_dropped), never
 * holds up the stack or the other readers. The stream ends when the reader
 * closes its end, or at netstack_free().
 * Return: 0, -EBUSY for more than NETSTACK_PCAP_MAX_STREAMS, -EINVAL, -ENOMEM.
 */
int netstack_pcap_stream(struct netstack *ns, int fd, uint32_t snaplen);

/*
 * struct netstack_pcap_status - what is being captured
 * @file_active:    a file capture is running; the next four fields describe it
 * @path, @file_size, @files, @snaplen: as started (@path is the stack's copy,
 *                  valid until the capture stops)
 * @file_frames:    frames written to the files since the start
 * @file_bytes:     bytes written to the current file
 * @rotations:      times a new file was started because the current one was full
 * @streams:        live streams connected
 * @dropped:        frames lost from the capture since the stack started
 *                  (the pcap_dropped counter)
 * @stream_dropped: records lost by slow readers (pcap_stream_dropped)
 */
struct netstack_pcap_status {
    int file_active;
    const char *path;
    uint64_t file_size;
    uint32_t files;
    uint32_t snaplen;
    uint64_t file_frames;
    uint64_t file_bytes;
    uint64_t rotations;
    uint32_t streams;
    uint64_t dropped;
    uint64_t stream_dropped;
};

/**
 * netstack_pcap_status() - fill @st. Return: 0, -EINVAL.
 * @ns: the stack
 * @st: filled with the running capture's state
 */
int netstack_pcap_status(struct netstack *ns, struct netstack_pcap_status *st);

/*
 * Counters per protocol and per drop reason. The list only grows at its end;
 * netstack_stat_name() gives each a stable snake_case name.
 */
#define NETSTACK_STATS(X) \
    X(frames_in) X(frames_out) X(bytes_in) X(bytes_out) \
    X(drop_eth_short) X(drop_eth_type) X(drop_eth_not_for_us) X(drop_jumbo) \
    X(arp_in) X(arp_replies) X(drop_arp_malformed) X(drop_arp_ignored) \
    X(ipv4_in) X(drop_ipv4_header) X(drop_ipv4_checksum) X(drop_ipv4_length) \
    X(drop_ipv4_source) X(drop_ipv4_proto) \
    X(frag_in) X(frag_reassembled) X(drop_frag_overlap) X(drop_frag_timeout) \
    X(drop_frag_limit) X(drop_frag_malformed) \
    X(icmp_in) X(icmp_echo_replies) X(drop_icmp_malformed) X(drop_icmp_unhandled) \
    X(dhcp_in) X(dhcp_out) X(drop_dhcp_malformed) \
    X(udp_in) X(drop_udp_malformed) \
    X(tcp_in) X(drop_tcp_malformed) \
    X(drop_tx_no_guest) X(drop_tx_queue_full) X(drop_tx_no_neighbor) X(tx_backpressure) \
    X(drop_transport_empty) X(drop_transport_truncated) X(drop_transport_oversized) \
    X(drop_transport_unbound) X(drop_transport_tx) X(drop_no_memory) \
    X(tcp_connects) X(tcp_established) X(tcp_refused) X(tcp_unreachable) \
    X(tcp_connect_timeouts) X(drop_tcp_limit) X(drop_tcp_destination) \
    X(tcp_resets_from_host) X(tcp_resets_from_guest) X(tcp_bytes_to_host) X(tcp_bytes_to_guest) \
    X(udp_flows_created) X(udp_flows_expired) X(udp_flows_evicted) X(drop_udp_broadcast) \
    X(drop_udp_destination) X(udp_to_host) X(udp_to_guest) X(drop_udp_host_error) \
    X(icmp_echo_forwarded) X(icmp_echo_replies_forwarded) X(icmp_flows_expired) \
    X(icmp_flows_evicted) X(drop_icmp_refused) X(drop_icmp_destination) X(drop_host_socket) \
    X(dns_queries) X(dns_tcp_queries) X(dns_local_answers) X(dns_host_lookups) X(dns_forwarded) \
    X(dns_tcp_retries) X(dns_answers) X(dns_servfail) X(dns_formerr) X(drop_dns_malformed) \
    X(drop_dns_inflight) X(drop_dns_spoofed) X(dns_truncated) \
    X(tso_frames_out) X(gso_segments_out) X(gso_frames_in) X(drop_gso_malformed) \
    X(drop_tcp_checksum) X(drop_udp_checksum) \
    X(drop_tcp_half_open) X(tcp_closing_evicted) X(drop_tcp_memory) \
    X(dns_tcp_evicted) X(dns_tcp_expired) X(drop_accept_no_fd) X(tcp_sendq_full) \
    X(pcap_frames) X(pcap_dropped) X(pcap_stream_dropped) \
    X(ipv6_in) X(drop_ipv6_header) X(drop_ipv6_length) X(drop_ipv6_source) X(drop_ipv6_ext) \
    X(drop_ipv6_frag) X(drop_ipv6_proto) X(drop_ipv6_destination) X(drop_ipv6_multicast) \
    X(icmp6_in) X(icmp6_echo_replies) X(drop_icmp6_malformed) X(drop_icmp6_unhandled) \
    X(ndp_ns_in) X(ndp_na_out) X(ndp_rs_in) X(ndp_ra_out) X(drop_ndp_invalid) \
    X(dhcp6_in) X(dhcp6_replies) X(drop_dhcp6_malformed) X(drop_dhcp6_unhandled) \
    X(icmp6_errors_out) X(dns_aaaa_filtered) X(drop_transport_ring) \
    X(drop_dhcp_disabled)

enum netstack_stat {
#define NETSTACK_STAT_ENUM(name) NETSTACK_STAT_##name,
    NETSTACK_STATS(NETSTACK_STAT_ENUM)
#undef NETSTACK_STAT_ENUM
    NETSTACK_STAT_COUNT
};

/**
 * netstack_count_transport() - add @n to one of the drop_transport_* counters
 * The embedder's transport calls it for frames it had to drop before they
 * reached the stack (an empty or truncated frame, a length out of range, a
 * sender it cannot answer) or after they left it (drop_transport_tx), so that
 * every drop shows up in one place; drop_transport_ring counts the times a
 * guest broke a shared-memory ring's rules (the ring stops until it is reset).
 * @ns: the stack
 * @stat: one of the drop_transport_* counters
 * @n: how many frames
 * Return: 0, -EINVAL for a counter the stack keeps itself.
 */
int netstack_count_transport(struct netstack *ns, enum netstack_stat stat, uint64_t n);

/**
 * netstack_stat_name() - the counter's name, NULL when @stat is out of range.
 * @stat: an enum netstack_stat value
 */
const char *netstack_stat_name(unsigned stat);

/**
 * netstack_get_stats() - copy up to @n counters (indexed by enum netstack_stat)
 * @ns: the stack
 * @counters: where to copy them
 * @n: its length in counters
 * Return: how many were copied (min(n, NETSTACK_STAT_COUNT)).
 */
size_t netstack_get_stats(const struct netstack *ns, uint64_t *counters, size_t n);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* NETSTACK_H */
