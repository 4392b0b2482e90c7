/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reasm.h - private: bounded fragment reassembly, IPv4 (RFC 791 section 3.2,
 * RFC 815) and IPv6 (RFC 8200 section 4.5)
 */
#ifndef NETSTACK_REASM_H
#define NETSTACK_REASM_H

#include <stddef.h>
#include <stdint.h>

struct ns_link;
struct ns_ipv4;
struct ns_ipv6;

#define NS_REASM_TIMEOUT_MS 15000   /* RFC 791's suggested lower bound of 15 s */

/**
 * ns_reasm_new() - a table reassembling at most @max datagrams at once, of
 * both families. @deliver (IPv4) or @deliver6 is called with each complete one.
 */
struct ns_reasm *ns_reasm_new(size_t max,
                              void (*deliver)(struct ns_link *lk, const struct ns_ipv4 *ip),
                              void (*deliver6)(struct ns_link *lk, const struct ns_ipv6 *ip));
void ns_reasm_free(struct ns_reasm *t);

/**
 * ns_reasm_input() - add one fragment; delivers the datagram if it is now complete.
 */
void ns_reasm_input(struct ns_link *lk, const struct ns_ipv4 *frag);

/**
 * ns_reasm_input6() - the same for an IPv6 fragment: @frag's payload is
 * what follows its fragment header, @frag->proto that header's Next Header.
 */
void ns_reasm_input6(struct ns_link *lk, const struct ns_ipv6 *frag);

/**
 * ns_reasm_expire() - drop datagrams older than the timeout.
 */
void ns_reasm_expire(struct ns_link *lk, uint64_t now_ms);

/**
 * ns_reasm_pending() - datagrams being reassembled (0: no timer needed).
 */
size_t ns_reasm_pending(const struct ns_reasm *t);

#endif /* NETSTACK_REASM_H */
