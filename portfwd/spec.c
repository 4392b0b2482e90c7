/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spec.c - forward specifications as text:
 * PROTO:[HOSTADDR:]HOSTPORT[-END]:[GUESTADDR:]GUESTPORT[,nopreserve]
 *
 * The command line's --forward, e.g. "tcp:0.0.0.0:8080:80",
 * "udp:127.0.0.1:5353:53", "tcp:[::]:8000-8009:8000", "tcp:2222:22,nopreserve",
 * "tcp:[::]:8080:[::]:80". The host address defaults to 0.0.0.0; IPv6
 * addresses are bracketed. The guest address defaults to the first DHCP
 * lease; an IPv6 one reaches the guest over IPv6, [::] at the address the
 * guest uses in its /64. A range maps to as many consecutive guest ports.
 * ",nopreserve" makes the guest see the gateway instead of the client's
 * address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/include/netstack.h"

/**
 * port_of() - a decimal port 1..65535 at @s, ending at @end. Return: the port, 0 if bad.
 */
static unsigned port_of(const char *s, const char **end)
{
    unsigned long v;
    char *e;

    if (*s < '0' || *s > '9')
        return 0;
    v = strtoul(s, &e, 10);
    *end = e;
    return v >= 1 && v <= 65535 ? (unsigned)v : 0;
}

/**
 * host_addr() - the bracketed or dotted host address at the start of @s; moves past its ':'.
 */
static int host_addr(const char **s, struct sockaddr_storage *ss)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    char buf[INET6_ADDRSTRLEN];
    const char *p = *s, *e;
    size_t n;

    memset(ss, 0, sizeof(*ss));
    ss->ss_family = AF_INET;
    if (*p == '[') {
        e = strchr(p, ']');
        if (!e || e[1] != ':' || (size_t)(e - p - 1) >= sizeof(buf))
            return -1;
        memcpy(buf, p + 1, (size_t)(e - p - 1));
        buf[e - p - 1] = '\0';
        ss->ss_family = AF_INET6;
        *s = e + 2;
        return inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1 ? 0 : -1;
    }
    e = strchr(p, ':');
    n = e ? (size_t)(e - p) : 0;
    if (!e || !strchr(e + 1, ':') || !memchr(p, '.', n))
        return 0;       /* no address given: 0.0.0.0 */
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *s = e + 1;
    return inet_pton(AF_INET, buf, &sin->sin_addr) == 1 ? 0 : -1;
}

/**
 * guest_addr() - an optional guest address at @s ("[v6]:" or "a.b.c.d:"); moves past its ':'.
 * Return: 0 (nothing there is no error), -1 for an address that does not parse.
 */
static int guest_addr(const char **s, struct netstack_forward *fw)
{
    struct sockaddr_storage ss;
    const char *p = *s, *e = strchr(p, ':');
    char buf[INET_ADDRSTRLEN];

    if (*p == '[') {
        if (host_addr(s, &ss))
            return -1;
        fw->guest_v6 = 1;
        fw->guest_addr6 = ((struct sockaddr_in6 *)&ss)->sin6_addr;
        return 0;
    }
    if (!e || !memchr(p, '.', (size_t)(e - p)))
        return 0;
    if ((size_t)(e - p) >= sizeof(buf))
        return -1;
    memcpy(buf, p, (size_t)(e - p));
    buf[e - p] = '\0';
    *s = e + 1;
    return inet_pton(AF_INET, buf, &fw->guest_addr) == 1 ? 0 : -1;
}

int netstack_forward_parse(const char *spec, struct netstack_forward *fw, char *err, size_t errlen)
{
    const char *s = spec, *e;
    unsigned first, last, guest;

    memset(fw, 0, sizeof(*fw));
    fw->preserve_source = 1;
    if (!strncmp(s, "tcp:", 4))
        fw->proto = NETSTACK_PROTO_TCP;
    else if (!strncmp(s, "udp:", 4))
        fw->proto = NETSTACK_PROTO_UDP;
    else
        goto bad;
    s += 4;
    if (host_addr(&s, &fw->host_addr))
        goto bad;
    first = last = port_of(s, &e);
    if (first && *e == '-')
        last = port_of(e + 1, &e);
    if (!first || !last || last < first || *e != ':')
        goto bad;
    s = e + 1;
    if (guest_addr(&s, fw))
        goto bad;
    guest = port_of(s, &e);
    if (!guest || guest + (last - first) > 65535)
        goto bad;
    if (!strcmp(e, ",nopreserve"))
        fw->preserve_source = 0;
    else if (*e)
        goto bad;
    if (fw->host_addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&fw->host_addr)->sin6_port = htons((uint16_t)first);
    else
        ((struct sockaddr_in *)&fw->host_addr)->sin_port = htons((uint16_t)first);
    fw->count = (uint16_t)(last - first + 1);
    fw->guest_port = (uint16_t)guest;
    return 0;
bad:
    snprintf(err, errlen, "expected tcp|udp:[HOSTADDR:]HOSTPORT[-END]:[GUESTADDR:]GUESTPORT"
             "[,nopreserve], e.g. tcp:0.0.0.0:8080:80 or tcp:[::]:8080:[::]:80");
    return -EINVAL;
}
