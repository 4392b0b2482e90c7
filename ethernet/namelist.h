/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * namelist.h - a list of domain names in RFC 1035 wire form, as DHCP's
 * domain search option (119, RFC 3397), DHCPv6's domain list (24, RFC 8415)
 * and NDP's DNSSL option (31, RFC 8106) all carry it
 */
#ifndef NETSTACK_NAMELIST_H
#define NETSTACK_NAMELIST_H

#include <stddef.h>
#include <stdint.h>

/**
 * ns_namelist_encode() - encode space- or tab-separated domain names
 * @list: the names, NULL or "" for none
 * @out:  where the encoded names go, one after another
 * @room: bytes available at @out
 * @len:  set to the bytes written
 *
 * Each name becomes labels of 1 to 63 bytes behind their length bytes and
 * a zero byte, without compression pointers (simpler to check, and valid in
 * every option above). Names are kept in order while they fit in @room; the
 * rest are left out, but must still be valid.
 * Return: 0, -1 if a name is empty, has an empty label or is too long.
 */
int ns_namelist_encode(const char *list, uint8_t *out, size_t room, size_t *len);

#endif /* NETSTACK_NAMELIST_H */
