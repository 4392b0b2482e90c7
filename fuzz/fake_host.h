/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_host.h - the host side of the stack, faked at the socket boundary
 *
 * For fuzz_stack.c: the stack's calls to socket(), connect(), the read and
 * write families, close(), epoll_ctl() and the monotonic clock are
 * redirected here by the linker (-Wl,--wrap=NAME, see the fuzz section of
 * CMakeLists.txt), so that the stack runs unchanged while every host socket
 * is one end of a unix socketpair whose other end the harness plays. No
 * AF_INET or AF_INET6 socket is ever created: nothing can leave the process.
 * fake_host.c explains how each call is modelled.
 */
#ifndef NETSTACK_FAKE_HOST_H
#define NETSTACK_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>

/* What a fake host socket stands for. */
enum fake_kind {
    FAKE_TCP,       /* SOCK_STREAM: a NAT connection or a DNS retry over TCP */
    FAKE_UDP,       /* SOCK_DGRAM: a UDP flow or an upstream DNS socket */
    FAKE_PING,      /* SOCK_DGRAM, IPPROTO_ICMP: an unprivileged ping socket */
    FAKE_RAW,       /* SOCK_RAW, IPPROTO_ICMP */
};

/* Where a datagram the host delivers comes from (fake_host_data()). */
enum fake_source {
    FAKE_SRC_PEER,      /* the address the stack last sent to */
    FAKE_SRC_OTHER,     /* another remote (a full-cone NAT must let it in) */
    FAKE_SRC_LOOPBACK,  /* 127.0.0.1, the port the stack last sent to */
    FAKE_SRC_SUBNET,    /* an address in the guest's subnet (must be dropped) */
};

/* How the next connect() ends (fake_host_set_connect()). */
enum fake_connect_mode {
    FAKE_CONNECT_PENDING,   /* EINPROGRESS; fake_host_connect_done() decides */
    FAKE_CONNECT_NOW,       /* returns 0 at once, as for a loopback peer */
    FAKE_CONNECT_FAIL,      /* fails at once with the errno given */
};

/*
 * struct fake_config - the host's answers that stay the same for one input
 * @ping_refused:   ping sockets are not allowed (net.ipv4.ping_group_range)
 * @raw_refused:    raw ICMP sockets are not allowed either (no CAP_NET_RAW)
 * @loopback_ok:    the stack may address 127.0.0.1 (its host-loopback alias is on)
 * @subnet, @netmask: the guest's subnet, host order: never a host destination
 */
struct fake_config {
    int ping_refused;
    int raw_refused;
    int loopback_ok;
    uint32_t subnet, netmask;
};

struct fake_sock;

/*
 * lwIP's initial sequence number for every connection the guest opens, so
 * that an input can acknowledge the stack's SYN-ACK: the stack's first byte
 * is FAKE_TCP_ISS + 1.
 */
#define FAKE_TCP_ISS 0x01000000u

/**
 * fake_host_begin() - start an input: no fake socket exists, every mode is
 * back to its default, the random sources restart from a fixed seed
 */
void fake_host_begin(const struct fake_config *cfg);

/**
 * fake_host_end() - the stack was freed: abort if it left a fake socket open
 * (a leaked host socket), then close the harness's ends
 */
void fake_host_end(void);

/**
 * fake_host_pick() - socket @n in creation order, or the next one still open; NULL if none.
 */
struct fake_sock *fake_host_pick(unsigned n);

/* The host's side of the events an input chooses. */
void fake_host_connect_done(struct fake_sock *s, int err);
void fake_host_data(struct fake_sock *s, const uint8_t *data, size_t len, enum fake_source src);
void fake_host_eof(struct fake_sock *s);
void fake_host_error(struct fake_sock *s, int err);
void fake_host_drain(struct fake_sock *s, size_t max);
/**
 * fake_host_reply() - the peer answers what the stack last sent it: a DNS
 * server (destination port 53), an ICMP echo responder, a UDP or TCP echo
 * @flags:  FAKE_REPLY_* for a DNS answer
 * @extra:  bytes appended: a DNS answer's count (first byte) and records
 */
#define FAKE_REPLY_TC       0x1     /* DNS: truncated, ask again over TCP */
#define FAKE_REPLY_BAD_ID   0x2     /* DNS: an ID the stack did not send */
#define FAKE_REPLY_RCODE    0xc     /* DNS: NOERROR, NXDOMAIN, SERVFAIL or REFUSED */
void fake_host_reply(struct fake_sock *s, unsigned flags, const uint8_t *extra, size_t len);

/**
 * fake_host_set_connect() - how the next connect() ends.
 */
void fake_host_set_connect(enum fake_connect_mode mode, int err);
/**
 * fake_host_fail_socket() - the next socket() fails with EMFILE.
 */
void fake_host_fail_socket(void);
/**
 * fake_host_fail_send() - the next datagram sent fails with @err.
 */
void fake_host_fail_send(int err);

/* The clock the stack reads (CLOCK_MONOTONIC); it never goes back, across inputs too. */
uint64_t fake_host_now_ms(void);
void fake_host_advance(uint64_t ms);

/**
 * fake_host_tcp_tmr_even() - make the number of lwIP TCP timer runs even
 * lwIP's tcp_tmr() runs its slow timer every second call, counted in a static
 * it never resets; one extra call on an idle lwIP makes each input start in
 * the same phase.
 */
void fake_host_tcp_tmr_even(void);

#endif /* NETSTACK_FAKE_HOST_H */
