/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.h - a SlirpConfig as a netstack_config (config.c)
 */
#ifndef NETSTACK_SLIRP_CONFIG_H
#define NETSTACK_SLIRP_CONFIG_H

#include <libslirp.h>
#include <netstack.h>

/**
 * slirp_make_config() - fill @nc from @c; callbacks are the caller's to set
 * @c:      the embedder's config, its version already checked
 * @nc:     filled, from netstack_config_init() on
 * @search: set to the search list @nc points to, for the caller to free
 * Return: 0, -1 for a config netstack cannot serve (logged).
 */
int slirp_make_config(const SlirpConfig *c, struct netstack_config *nc, char **search);

#endif /* NETSTACK_SLIRP_CONFIG_H */
