/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * version.c - which library is running, for an embedder built against other
 * headers (NETSTACK_VERSION_* are the headers' version).
 */
#include "netstack/include/netstack.h"

const char *netstack_version(void)
{
    return NETSTACK_VERSION_STRING;
}
