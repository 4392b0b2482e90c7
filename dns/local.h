/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * local.h - private: names the stack answers itself, never sent upstream
 *
 * host.internal and gateway.internal, --dns-name NAME=IP entries, and the
 * entries of a hosts file (--hosts PATH, /etc/hosts format). Lookups are
 * case-insensitive and ignore a trailing dot.
 */
#ifndef NETSTACK_DNS_LOCAL_H
#define NETSTACK_DNS_LOCAL_H

#include "dns/msg.h"

struct ns_dns_local;

struct ns_dns_local *ns_dns_local_new(void);
void ns_dns_local_free(struct ns_dns_local *l);

/**
 * ns_dns_local_add() - one name and address
 * @family: AF_INET or AF_INET6; @addr: struct in_addr / in6_addr
 * Return: 0, -EINVAL for a bad name, -ENOMEM.
 */
int ns_dns_local_add(struct ns_dns_local *l, const char *name, int family, const void *addr);

/**
 * ns_dns_local_add_spec() - "NAME=IP" (IPv4 or IPv6), as --dns-name gives it
 * Return: 0, -EINVAL for a malformed spec.
 */
int ns_dns_local_add_spec(struct ns_dns_local *l, const char *spec);

/**
 * ns_dns_local_load_hosts() - add every entry of a hosts file (comments,
 * blank lines, aliases handled; malformed lines skipped and counted).
 * Return: the number of names added, or -errno if the file cannot be read.
 */
int ns_dns_local_load_hosts(struct ns_dns_local *l, const char *path);

/**
 * ns_dns_local_lookup() - is @name local?
 * Return: 1 with @out filled (possibly with no address of the family the
 * guest asked for: that is NODATA), 0 if the name is not local.
 */
int ns_dns_local_lookup(const struct ns_dns_local *l, const char *name, struct ns_dns_addrs *out);

#endif /* NETSTACK_DNS_LOCAL_H */
