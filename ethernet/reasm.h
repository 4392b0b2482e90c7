/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reasm.h - private: bounded IPv4 fragment reassembly (RFC 791 section 3.2, RFC 815)
 */
#ifndef NETSTACK_REASM_H
#define NETSTACK_REASM_H

#include <stddef.h>
#include <stdint.h>

struct netstack;
struct ns_ipv4;

#define NS_REASM_TIMEOUT_MS 15000   /* RFC 791's suggested lower bound of 15 s */

/**
 * ns_reasm_new() - a table reassembling at most @max datagrams at once.
 * @deliver is called with each complete datagram.
 */
struct ns_reasm *ns_reasm_new(size_t max,
                              void (*deliver)(struct netstack *ns, const struct ns_ipv4 *ip));
void ns_reasm_free(struct ns_reasm *t);

/**
 * ns_reasm_input() - add one fragment; delivers the datagram if it is now complete.
 */
void ns_reasm_input(struct netstack *ns, const struct ns_ipv4 *frag);

/**
 * ns_reasm_expire() - drop datagrams older than the timeout.
 */
void ns_reasm_expire(struct netstack *ns, uint64_t now_ms);

/**
 * ns_reasm_pending() - datagrams being reassembled (0: no timer needed).
 */
size_t ns_reasm_pending(const struct ns_reasm *t);

#endif /* NETSTACK_REASM_H */
