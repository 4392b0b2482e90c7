/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * limits.h - private: the resource model's helpers (limits.c)
 */
#ifndef NETSTACK_LIMITS_H
#define NETSTACK_LIMITS_H

struct netstack;

/**
 * ns_limits_fit() - lower the flow limits to what RLIMIT_NOFILE allows, logging it.
 */
void ns_limits_fit(struct netstack *ns);

/**
 * ns_limits_start() - take the reserve descriptor (after the loop). Return: 0 or -errno.
 */
int ns_limits_start(struct netstack *ns);

/**
 * ns_limits_stop() - give it back.
 */
void ns_limits_stop(struct netstack *ns);

#endif /* NETSTACK_LIMITS_H */
