/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * info.c - slirp_connection_info() and slirp_neighbor_info(): the stack's
 * forwards, flows and neighbours as text (QEMU's "info usernet")
 *
 * The first line names the implementation, so that a user (and the tests)
 * can tell this library from libslirp. Each string is malloc'ed; the caller
 * frees it (QEMU with g_free(), which is free()).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slirp/slirp_priv.h"

/* A growing string; on failure of memory it keeps what it had. */
struct text {
    FILE *f;
    char *buf;
    size_t len;
};

static int text_open(struct text *t)
{
    t->buf = NULL;
    t->f = open_memstream(&t->buf, &t->len);
    return t->f ? 0 : -1;
}

static char *text_close(struct text *t)
{
    fclose(t->f);
    return t->buf;
}

/**
 * addr_text() - @a (IPv4 as ::ffff:a.b.c.d) as libslirp prints it, into @buf.
 */
static const char *addr_text(const struct in6_addr *a, char *buf, size_t len)
{
    if (IN6_IS_ADDR_V4MAPPED(a))
        return inet_ntop(AF_INET, a->s6_addr + 12, buf, (socklen_t)len);
    return inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

static int forward_row(void *opaque, uint32_t id, const struct netstack_forward *fw)
{
    struct text *t = opaque;
    char h[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
    const struct sockaddr_in *h4 = (const void *)&fw->host_addr;
    const struct sockaddr_in6 *h6 = (const void *)&fw->host_addr;
    int v4 = fw->host_addr.ss_family == AF_INET;

    (void)id;
    inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? (const void *)&h4->sin_addr : (const void *)&h6->sin6_addr,
              h, sizeof(h));
    inet_ntop(fw->guest_v6 ? AF_INET6 : AF_INET,
              fw->guest_v6 ? (const void *)&fw->guest_addr6 : (const void *)&fw->guest_addr,
              g, sizeof(g));
    fprintf(t->f, "  %-18s %15s %5u %15s %5u\n",
            fw->proto == NETSTACK_PROTO_UDP ? "UDP[HOST_FORWARD]" : "TCP[HOST_FORWARD]", h,
            ntohs(v4 ? h4->sin_port : h6->sin6_port), g, fw->guest_port);
    return 0;
}

static int flow_row(void *opaque, const struct netstack_flow_info *fl)
{
    struct text *t = opaque;
    char state[32], proto[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    size_t i;

    for (i = 0; fl->state[i] && i < sizeof(state) - 1; i++)
        state[i] = (char)toupper((unsigned char)fl->state[i]);
    state[i] = 0;
    snprintf(proto, sizeof(proto), "%s[%s]", fl->proto == NETSTACK_PROTO_UDP ? "UDP" : "TCP", state);
    /* The side that opened the flow is the source, as in libslirp's table. */
    addr_text(fl->inbound ? &fl->peer_addr6 : &fl->guest_addr6, src, sizeof(src));
    addr_text(fl->inbound ? &fl->guest_addr6 : &fl->peer_addr6, dst, sizeof(dst));
    fprintf(t->f, "  %-18s %15s %5u %15s %5u %10llu %10llu\n", proto, src,
            fl->inbound ? fl->peer_port : fl->guest_port, dst,
            fl->inbound ? fl->guest_port : fl->peer_port,
            (unsigned long long)fl->bytes_from_guest, (unsigned long long)fl->bytes_to_guest);
    return 0;
}

char *slirp_connection_info(Slirp *s)
{
    struct text t;

    if (!s || text_open(&t))
        return NULL;
    fprintf(t.f, "  netstack %s behind the libslirp %s API\n", netstack_version(),
            SLIRP_VERSION_STRING);
    fprintf(t.f, "  %-18s %15s %5s %15s %5s %10s %10s\n", "Protocol[State]", "Source Address",
            "Port", "Dest. Address", "Port", "FromGuest", "ToGuest");
    netstack_forward_list(s->ns, forward_row, &t);
    netstack_flow_list(s->ns, flow_row, &t);
    return text_close(&t);
}

static int neighbor_row(void *opaque, const struct netstack_neighbor_info *n)
{
    struct text *t = opaque;
    char a[INET6_ADDRSTRLEN];

    fprintf(t->f, "  %-9s %02x:%02x:%02x:%02x:%02x:%02x  %s\n",
            n->family == AF_INET ? "ARP" : "NDP", n->mac[0], n->mac[1], n->mac[2], n->mac[3],
            n->mac[4], n->mac[5], addr_text(&n->addr, a, sizeof(a)));
    return 0;
}

char *slirp_neighbor_info(Slirp *s)
{
    struct text t;

    if (!s || text_open(&t))
        return NULL;
    fprintf(t.f, "  %-9s %-18s %s\n", "Table", "MAC Address", "IP Address");
    netstack_neighbor_list(s->ns, neighbor_row, &t);
    return text_close(&t);
}
