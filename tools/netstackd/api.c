/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api.c - the control API: slirp4netns-compatible JSON commands on a unix socket
 *
 * Theory of Operation
 *
 * A client connects to the unix stream socket (netstackd --api-socket PATH)
 * and writes commands, one JSON object per line; each line gets exactly one
 * reply line, in order. The framing and the three forwarding commands are
 * slirp4netns's (slirp4netns(1), "API SOCKET"), so tooling written for it
 * (rootlesskit's port driver, podman) works unchanged:
 *
 *   {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "0.0.0.0",
 *    "host_port": 8080, "guest_addr": "192.168.65.2", "guest_port": 80}}
 *                                          -> {"return": {"id": 1}}
 *   {"execute": "list_hostfwd"}            -> {"return": {"entries": [{"id": 1, ...}]}}
 *   {"execute": "remove_hostfwd", "arguments": {"id": 1}}
 *                                          -> {"return": {}}
 *   anything that fails                    -> {"error": {"desc": "..."}}
 *
 * add_hostfwd also takes "preserve_source" (boolean, default true) and
 * "host_port_end" (a range host_port..host_port_end onto guest_port...), and
 * list_hostfwd reports both. Ours besides: get_stats (every counter by its
 * netstack_stat_name()), get_config (what the stack was created with),
 * list_flows (every live TCP and UDP flow), and the captures: pcap_start
 * ("path", "size_mb", "files", "snaplen", as netstackd's --pcap flags),
 * pcap_stop, pcap_status, and pcap_stream ("snaplen"), whose reply line is
 * the last line on that connection: from then on it carries a live capture in
 * pcap format, and nothing the client sends is read.
 *
 * JSON is parsed and written by jansson (RFC 8259); nothing here looks inside
 * a line except to find its end. Arguments are checked strictly: a missing or
 * mistyped one, or one this command does not know, is an error naming it.
 * Keys other than "execute" and "arguments" at the top level are ignored, as
 * slirp4netns does.
 *
 * Bounds, per client: a line may be NS_API_LINE_MAX bytes; a longer one gets
 * one error line and the connection is closed once that line is written. A
 * client that does not read its replies is dropped when more than
 * NS_API_OUT_MAX bytes of them are waiting. At most NS_API_MAX_CLIENTS
 * connections at once. A partial line waits for the rest; a client that goes
 * away mid-line is simply forgotten; a client that shuts down its sending
 * side still gets the replies to the lines it sent.
 *
 * Everything runs in the stack's thread: the listening socket and every
 * connection are non-blocking and registered with netstack_watch(), so a slow
 * or hostile client never holds up traffic, and commands take effect between
 * two dispatches of the loop, never in the middle of one.
 *
 * Layers (see api.h): ns_api_execute() is one command with no I/O;
 * ns_api_client_*() cut a byte stream into lines and queue replies; the
 * server moves bytes between sockets and clients. The first two are what the
 * unit tests drive.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "tools/netstackd/unixsock.h"
#include "tools/netstackd/api.h"

#define DESC_MAX        256     /* an error's description */
#define READ_CHUNK      16384   /* bytes read from a client at a time */
#define READS_PER_EVENT 8       /* then the loop serves the others */
#define LISTEN_BACKLOG  16
#define MTU_DEFAULT     65520u

/**
 * struct ns_api - the protocol state shared by every client
 * @ops:        what the commands call
 * @backend:    their first argument
 * @cfg:        a copy of the stack's configuration, for get_config
 * @resolv_conf: our copy of @cfg.resolv_conf (the struct's pointer aims here)
 * @hosts_file: our copy of @cfg.hosts_file
 * @stream_asked: the command just run was pcap_stream: the connection turns
 *              into a capture stream of @stream_snaplen after its reply
 */
struct ns_api {
    const struct ns_api_ops *ops;
    void *backend;
    struct netstack_config cfg;
    char *resolv_conf;
    char *hosts_file;
    int stream_asked;
    uint32_t stream_snaplen;
};

/**
 * struct ns_api_client - one connection's buffers
 * @in:         the line being received (NS_API_LINE_MAX bytes)
 * @inlen:      bytes of it so far
 * @out:        replies not yet written, from @outoff to @outlen
 * @outoff:     first unwritten byte
 * @outlen:     end of the queued bytes
 * @outcap:     size of @out
 * @closing:    no more input is read (oversize line, or the client's EOF)
 * @streaming:  pcap_stream was accepted: once the reply is written, the
 *              socket becomes a capture stream of @snaplen (NS_API_STREAM)
 */
struct ns_api_client {
    char *in;
    size_t inlen;
    char *out;
    size_t outoff, outlen, outcap;
    int closing;
    int streaming;
    uint32_t snaplen;
};

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * dump_reply() - @obj as one compact JSON line (no newline); takes @obj
 * Return: the text to free(), NULL if memory ran out
 */
static char *dump_reply(json_t *obj)
{
    char *s = NULL;

    if (obj)
        s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return s;
}

/**
 * reply_error() - {"error": {"desc": @desc}}
 * @desc:   the description, NUL-terminated
 *
 * Descriptions quote the client's text cut to a length ("%.64s", DESC_MAX,
 * jansson's own error text), and a cut can split a UTF-8 sequence. jansson
 * refuses such a string, and the client would get no reply at all (dropped
 * as if memory ran out), so a description that is not valid UTF-8 is sent
 * with its non-ASCII bytes replaced by '?'.
 * Return: the reply text to free(), NULL if memory ran out
 */
static char *reply_error(const char *desc)
{
    json_t *text = json_string(desc);
    char safe[DESC_MAX];
    size_t i;

    if (!text) {
        snprintf(safe, sizeof(safe), "%s", desc);
        for (i = 0; safe[i]; i++)
            if ((unsigned char)safe[i] >= 0x80)
                safe[i] = '?';
        text = json_string(safe);
    }
    if (!text)
        return NULL;
    return dump_reply(json_pack("{s:{s:o}}", "error", "desc", text));
}

/**
 * reply_return() - {"return": @ret}; takes @ret
 */
static char *reply_return(json_t *ret)
{
    if (!ret)
        return NULL;
    return dump_reply(json_pack("{s:o}", "return", ret));
}

/**
 * set_desc() - printf into an error description
 * @desc:   DESC_MAX bytes
 * @fmt:    printf style
 */
static void __attribute__((format(printf, 2, 3))) set_desc(char *desc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, DESC_MAX, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Arguments: checked one by one, every error names the argument            */
/* ------------------------------------------------------------------------ */

/**
 * struct cmd - one command being run
 * @api:    the api
 * @name:   the command's name, for messages
 * @args:   its "arguments" object (an empty one when absent)
 * @desc:   the error description, when a step fails
 */
struct cmd {
    struct ns_api *api;
    const char *name;
    json_t *args;
    char desc[DESC_MAX];
};

/**
 * check_known_args() - every key of @c->args is in @known
 * @known:  NULL-terminated names
 * Return: 0, -1 with the description set
 */
static int check_known_args(struct cmd *c, const char *const *known)
{
    const char *key, *const *k;
    json_t *v;

    json_object_foreach(c->args, key, v) {
        for (k = known; *k && strcmp(*k, key); k++)
            ;
        if (!*k) {
            set_desc(c->desc, "%s: unknown argument \"%s\"", c->name, key);
            return -1;
        }
    }
    return 0;
}

/**
 * arg_uint() - an integer argument in [@min, @max]
 * @key:    its name
 * @dflt:   the value when absent; negative: the argument is required
 * @out:    the value
 * Return: 0, -1 with the description set
 */
static int arg_uint(struct cmd *c, const char *key, long long dflt, long long min, long long max,
                    long long *out)
{
    json_t *v = json_object_get(c->args, key);

    if (!v && dflt >= 0) {
        *out = dflt;
        return 0;
    }
    if (!v) {
        set_desc(c->desc, "%s: missing argument \"%s\"", c->name, key);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        set_desc(c->desc, "%s: \"%s\" must be an integer from %lld to %lld", c->name, key,
                 min, max);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

/**
 * arg_string() - a string argument
 * @key:    its name
 * @dflt:   the value when absent; NULL: the argument is required
 * Return: the string (owned by @c->args or @dflt), NULL with the description set
 */
static const char *arg_string(struct cmd *c, const char *key, const char *dflt)
{
    json_t *v = json_object_get(c->args, key);

    if (!v && dflt)
        return dflt;
    if (!v) {
        set_desc(c->desc, "%s: missing argument \"%s\"", c->name, key);
        return NULL;
    }
    if (!json_is_string(v)) {
        set_desc(c->desc, "%s: \"%s\" must be a string", c->name, key);
        return NULL;
    }
    return json_string_value(v);
}

/**
 * arg_bool() - a boolean argument
 * @dflt:   the value when absent
 * @out:    0 or 1
 * Return: 0, -1 with the description set
 */
static int arg_bool(struct cmd *c, const char *key, int dflt, int *out)
{
    json_t *v = json_object_get(c->args, key);

    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_boolean(v)) {
        set_desc(c->desc, "%s: \"%s\" must be true or false", c->name, key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Addresses                                                                */
/* ------------------------------------------------------------------------ */

/**
 * parse_host_addr() - "0.0.0.0", "127.0.0.1", "::" ... with @port into @ss
 * Return: 0, -1 if @s is neither an IPv4 nor an IPv6 address
 */
static int parse_host_addr(const char *s, uint16_t port, struct sockaddr_storage *ss)
{
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        return 0;
    }
    return -1;
}

/**
 * format_host_addr() - the address and port of @ss
 * @buf:    INET6_ADDRSTRLEN bytes
 * @port:   the port, host order
 */
static void format_host_addr(const struct sockaddr_storage *ss, char *buf, uint16_t *port)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

    if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &sin6->sin6_addr, buf, INET6_ADDRSTRLEN);
        *port = ntohs(sin6->sin6_port);
    } else {
        inet_ntop(AF_INET, &sin->sin_addr, buf, INET6_ADDRSTRLEN);
        *port = ntohs(sin->sin_port);
    }
}

/**
 * json_ipv4() - a network-order IPv4 address as a JSON string
 */
static json_t *json_ipv4(struct in_addr a)
{
    char buf[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a, buf, sizeof(buf));
    return json_string(buf);
}

/**
 * json_u64() - a counter as a JSON integer (jansson's are signed 64 bits)
 */
static json_t *json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/**
 * proto_name() - "tcp" or "udp"
 */
static const char *proto_name(enum netstack_proto p)
{
    return p == NETSTACK_PROTO_UDP ? "udp" : "tcp";
}

/* ------------------------------------------------------------------------ */
/* add_hostfwd, list_hostfwd, remove_hostfwd (slirp4netns)                  */
/* ------------------------------------------------------------------------ */

/**
 * hostfwd_spec() - the arguments of add_hostfwd as a struct netstack_forward
 * @fw:     filled
 * Return: 0, -1 with the description set
 */
static int hostfwd_spec(struct cmd *c, struct netstack_forward *fw)
{
    static const char *const known[] = { "proto", "host_addr", "host_port", "host_port_end",
                                         "guest_addr", "guest_port", "preserve_source", NULL };
    long long hport, hend, gport;
    const char *proto, *haddr, *gaddr;

    memset(fw, 0, sizeof(*fw));
    if (check_known_args(c, known) < 0 || !(proto = arg_string(c, "proto", NULL)) ||
        !(haddr = arg_string(c, "host_addr", "0.0.0.0")) ||
        !(gaddr = arg_string(c, "guest_addr", "")) ||
        arg_uint(c, "host_port", -1, 1, 65535, &hport) < 0 ||
        arg_uint(c, "host_port_end", hport, hport, 65535, &hend) < 0 ||
        arg_uint(c, "guest_port", -1, 1, 65535, &gport) < 0 ||
        arg_bool(c, "preserve_source", 1, &fw->preserve_source) < 0)
        return -1;
    if (!strcmp(proto, "tcp")) {
        fw->proto = NETSTACK_PROTO_TCP;
    } else if (!strcmp(proto, "udp")) {
        fw->proto = NETSTACK_PROTO_UDP;
    } else {
        set_desc(c->desc, "%s: \"proto\" must be \"tcp\" or \"udp\"", c->name);
        return -1;
    }
    if (parse_host_addr(haddr, (uint16_t)hport, &fw->host_addr) < 0) {
        set_desc(c->desc, "%s: \"host_addr\" %.64s is not an IPv4 or IPv6 address", c->name,
                 haddr);
        return -1;
    }
    if (*gaddr && inet_pton(AF_INET, gaddr, &fw->guest_addr) != 1) {
        /* An IPv6 guest address reaches the guest over IPv6 ("::": the one it uses). */
        if (inet_pton(AF_INET6, gaddr, &fw->guest_addr6) != 1) {
            set_desc(c->desc, "%s: \"guest_addr\" %.64s is not an IPv4 or IPv6 address",
                     c->name, gaddr);
            return -1;
        }
        fw->guest_v6 = 1;
    }
    if (gport + (hend - hport) > 65535) {
        set_desc(c->desc, "%s: the range of %lld ports from guest_port %lld passes 65535",
                 c->name, hend - hport + 1, gport);
        return -1;
    }
    fw->count = (uint16_t)(hend - hport + 1);
    fw->guest_port = (uint16_t)gport;
    return 0;
}

/**
 * describe_add_error() - the description of netstack_forward_add()'s @rc
 * @fw:     the forward that failed
 */
static void describe_add_error(struct cmd *c, const struct netstack_forward *fw, int rc)
{
    char addr[INET6_ADDRSTRLEN], ports[16];
    uint16_t port;

    format_host_addr(&fw->host_addr, addr, &port);
    if (fw->count > 1)
        snprintf(ports, sizeof(ports), "%u-%u", port, port + fw->count - 1u);
    else
        snprintf(ports, sizeof(ports), "%u", port);
    if (rc == -EADDRINUSE)
        set_desc(c->desc, "host_port %s: address already in use", ports);
    else if (rc == -EACCES)
        set_desc(c->desc, "host_port %s: permission denied (a privileged port?)", ports);
    else if (rc == -EADDRNOTAVAIL)
        set_desc(c->desc, "host_addr %s: not an address of this host", addr);
    else
        set_desc(c->desc, "%s: %s:%s: %s", c->name, addr, ports, strerror(-rc));
}

/**
 * cmd_add_hostfwd() - {"id": N}
 */
static json_t *cmd_add_hostfwd(struct cmd *c)
{
    struct netstack_forward fw;
    uint32_t id = 0;
    int rc;

    if (hostfwd_spec(c, &fw) < 0)
        return NULL;
    rc = c->api->ops->forward_add(c->api->backend, &fw, &id);
    if (rc < 0) {
        describe_add_error(c, &fw, rc);
        return NULL;
    }
    return json_pack("{s:I}", "id", (json_int_t)id);
}

/**
 * hostfwd_entry() - netstack_forward_list() callback: append one entry to @opaque
 */
static int hostfwd_entry(void *opaque, uint32_t id, const struct netstack_forward *fw)
{
    char addr[INET6_ADDRSTRLEN], gaddr[INET6_ADDRSTRLEN];
    json_t *e;
    uint16_t port;

    format_host_addr(&fw->host_addr, addr, &port);
    if (fw->guest_v6)
        inet_ntop(AF_INET6, &fw->guest_addr6, gaddr, sizeof(gaddr));
    else
        inet_ntop(AF_INET, &fw->guest_addr, gaddr, sizeof(gaddr));
    e = json_pack("{s:I, s:s, s:s, s:i, s:s, s:i, s:b}", "id", (json_int_t)id,
                  "proto", proto_name(fw->proto), "host_addr", addr, "host_port", (int)port,
                  "guest_addr", gaddr, "guest_port", (int)fw->guest_port,
                  "preserve_source", fw->preserve_source != 0);
    if (e && fw->count > 1)
        json_object_set_new(e, "host_port_end", json_integer(port + fw->count - 1));
    if (!e || json_array_append_new(opaque, e) < 0)
        return -ENOMEM;
    return 0;
}

/**
 * cmd_list_hostfwd() - {"entries": [...]} in the order added
 */
static json_t *cmd_list_hostfwd(struct cmd *c)
{
    json_t *entries = json_array();
    int rc;

    if (!entries)
        return NULL;
    rc = c->api->ops->forward_list(c->api->backend, hostfwd_entry, entries);
    if (rc < 0) {
        json_decref(entries);
        set_desc(c->desc, "%s: %s", c->name, strerror(-rc));
        return NULL;
    }
    return json_pack("{s:o}", "entries", entries);
}

/**
 * cmd_remove_hostfwd() - {}
 */
static json_t *cmd_remove_hostfwd(struct cmd *c)
{
    static const char *const known[] = { "id", NULL };
    long long id;
    int rc;

    if (check_known_args(c, known) < 0 || arg_uint(c, "id", -1, 1, UINT32_MAX, &id) < 0)
        return NULL;
    rc = c->api->ops->forward_remove(c->api->backend, (uint32_t)id);
    if (rc == -ENOENT) {
        set_desc(c->desc, "%s: no forward with id %lld", c->name, id);
        return NULL;
    }
    if (rc < 0) {
        set_desc(c->desc, "%s: %s", c->name, strerror(-rc));
        return NULL;
    }
    return json_object();
}

/* ------------------------------------------------------------------------ */
/* get_stats, get_config, list_flows                                        */
/* ------------------------------------------------------------------------ */

/**
 * cmd_get_stats() - {"counters": {"frames_in": N, ...}}, every counter
 */
static json_t *cmd_get_stats(struct cmd *c)
{
    uint64_t counters[NETSTACK_STAT_COUNT];
    json_t *obj = json_object();
    size_t i, n;

    if (!obj)
        return NULL;
    n = c->api->ops->get_stats(c->api->backend, counters, NETSTACK_STAT_COUNT);
    for (i = 0; i < n && i < NETSTACK_STAT_COUNT; i++) {
        const char *name = netstack_stat_name((unsigned)i);

        if (name && json_object_set_new(obj, name, json_u64(counters[i])) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return json_pack("{s:o}", "counters", obj);
}

/**
 * config_limits() - the resource limits of @cfg
 */
static json_t *config_limits(const struct netstack_config *cfg)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "max_tcp_connections", (json_int_t)cfg->max_tcp_connections,
                     "max_pending_connects", (json_int_t)cfg->max_pending_connects,
                     "tcp_idle_timeout_ms", (json_int_t)cfg->tcp_idle_timeout_ms,
                     "max_udp_flows", (json_int_t)cfg->max_udp_flows,
                     "udp_idle_timeout_ms", (json_int_t)cfg->udp_idle_timeout_ms,
                     "max_icmp_flows", (json_int_t)cfg->max_icmp_flows,
                     "icmp_idle_timeout_ms", (json_int_t)cfg->icmp_idle_timeout_ms,
                     "max_dns_inflight", (json_int_t)cfg->max_dns_inflight,
                     "max_reassembly", (json_int_t)cfg->max_reassembly,
                     "max_tx_queue", (json_int_t)cfg->max_tx_queue);
}

/**
 * config_dns() - the DNS server's settings of @cfg
 */
static json_t *config_dns(const struct netstack_config *cfg)
{
    static const char *const aaaa[] = { "auto", "on", "off" };

    return json_pack("{s:s, s:s, s:s?, s:s?, s:I}",
                     "mode", cfg->dns_mode == NETSTACK_DNS_HOST ? "host" : "forward",
                     "aaaa", cfg->dns_aaaa <= NETSTACK_DNS_AAAA_OFF ? aaaa[cfg->dns_aaaa] : "?",
                     "resolv_conf", cfg->resolv_conf, "hosts_file", cfg->hosts_file,
                     "timeout_ms", (json_int_t)cfg->dns_timeout_ms);
}

/**
 * cmd_get_config() - addressing, MTU, DNS and limits, as the stack was created
 */
static json_t *cmd_get_config(struct cmd *c)
{
    const struct netstack_config *cfg = &c->api->cfg;
    char subnet[INET_ADDRSTRLEN + 4];
    json_t *lo;

    inet_ntop(AF_INET, &cfg->subnet, subnet, INET_ADDRSTRLEN);
    snprintf(subnet + strlen(subnet), 5, "/%u", cfg->prefix_len);
    lo = cfg->no_host_loopback ? json_null() : json_ipv4(cfg->host_loopback);
    return json_pack("{s:s, s:o, s:o, s:o, s:i, s:o, s:o, s:s}", "subnet", subnet,
                     "gateway", json_ipv4(cfg->gateway), "dhcp_first", json_ipv4(cfg->dhcp_first),
                     "host_loopback", lo, "mtu", cfg->mtu ? (int)cfg->mtu : (int)MTU_DEFAULT,
                     "dns", config_dns(cfg), "limits", config_limits(cfg),
                     "version", netstack_version());
}

/**
 * json_flow_addr() - one end of a flow as a JSON string in its family's notation
 * @a4, @a6: that end as struct netstack_flow_info keeps it for each family
 */
static json_t *json_flow_addr(const struct netstack_flow_info *f, struct in_addr a4,
                              const struct in6_addr *a6)
{
    char buf[INET6_ADDRSTRLEN];

    if (f->family != AF_INET6)
        return json_ipv4(a4);
    inet_ntop(AF_INET6, a6, buf, sizeof(buf));
    return json_string(buf);
}

/**
 * flow_entry() - flow_list callback: append one flow to @opaque
 */
static int flow_entry(void *opaque, const struct netstack_flow_info *f)
{
    json_t *e;

    e = json_pack("{s:s, s:s, s:o, s:i, s:o, s:i, s:s, s:o, s:o, s:o, s:o}",
                  "proto", proto_name(f->proto), "direction", f->inbound ? "inbound" : "outbound",
                  "guest_addr", json_flow_addr(f, f->guest_addr, &f->guest_addr6),
                  "guest_port", (int)f->guest_port,
                  "peer_addr", json_flow_addr(f, f->peer_addr, &f->peer_addr6),
                  "peer_port", (int)f->peer_port,
                  "state", f->state ? f->state : "unknown",
                  "bytes_from_guest", json_u64(f->bytes_from_guest),
                  "bytes_to_guest", json_u64(f->bytes_to_guest),
                  "age_ms", json_u64(f->age_ms), "idle_ms", json_u64(f->idle_ms));
    if (e && f->inbound)
        json_object_set_new(e, "forward_id", json_integer(f->forward_id));
    if (!e || json_array_append_new(opaque, e) < 0)
        return -ENOMEM;
    return 0;
}

/**
 * cmd_list_flows() - {"flows": [...]}
 */
static json_t *cmd_list_flows(struct cmd *c)
{
    json_t *flows;
    int rc;

    if (!c->api->ops->flow_list) {
        set_desc(c->desc, "%s: not available", c->name);
        return NULL;
    }
    flows = json_array();
    if (!flows)
        return NULL;
    rc = c->api->ops->flow_list(c->api->backend, flow_entry, flows);
    if (rc < 0) {
        json_decref(flows);
        set_desc(c->desc, "%s: %s", c->name, strerror(-rc));
        return NULL;
    }
    return json_pack("{s:o}", "flows", flows);
}

/* ------------------------------------------------------------------------ */
/* Captures                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * cmd_pcap_start() - {} once the file is created; the arguments are netstackd's --pcap*
 */
static json_t *cmd_pcap_start(struct cmd *c)
{
    static const char *const known[] = { "path", "size_mb", "files", "snaplen", NULL };
    struct netstack_pcap_config pc = { 0 };
    long long size, files, snap;
    int rc;

    if (!c->api->ops->pcap_start) {
        set_desc(c->desc, "%s: not available", c->name);
        return NULL;
    }
    if (check_known_args(c, known) < 0 || !(pc.path = arg_string(c, "path", NULL)) ||
        arg_uint(c, "size_mb", 64, 1, 1u << 20, &size) < 0 ||
        arg_uint(c, "files", 4, 1, 1000, &files) < 0 ||
        arg_uint(c, "snaplen", 262144, 64, 262144, &snap) < 0)
        return NULL;
    pc.file_size = (uint64_t)size << 20;
    pc.files = (uint32_t)files;
    pc.snaplen = (uint32_t)snap;
    rc = c->api->ops->pcap_start(c->api->backend, &pc);
    if (rc < 0) {
        set_desc(c->desc, "%s: %s: %s", c->name, pc.path,
                 rc == -EBUSY ? "a capture is already running (pcap_stop first)" : strerror(-rc));
        return NULL;
    }
    return json_object();
}

/**
 * cmd_pcap_stop() - {} once every frame captured so far is in the files
 */
static json_t *cmd_pcap_stop(struct cmd *c)
{
    int rc = c->api->ops->pcap_stop ? c->api->ops->pcap_stop(c->api->backend) : -ENOSYS;

    if (rc < 0) {
        set_desc(c->desc, "%s: %s", c->name,
                 rc == -ENOENT ? "no capture is running" : strerror(-rc));
        return NULL;
    }
    return json_object();
}

/**
 * cmd_pcap_status() - {"file": {...} or null, "streams": N, "dropped": N, ...}
 */
static json_t *cmd_pcap_status(struct cmd *c)
{
    struct netstack_pcap_status st;
    json_t *file = NULL;
    int rc = c->api->ops->pcap_status ? c->api->ops->pcap_status(c->api->backend, &st) : -ENOSYS;

    if (rc < 0) {
        set_desc(c->desc, "%s: %s", c->name, strerror(-rc));
        return NULL;
    }
    if (st.file_active)
        file = json_pack("{s:s, s:o, s:i, s:i, s:o, s:o, s:o}", "path", st.path,
                         "size_mb", json_u64(st.file_size >> 20), "files", (int)st.files,
                         "snaplen", (int)st.snaplen, "frames", json_u64(st.file_frames),
                         "bytes", json_u64(st.file_bytes), "rotations", json_u64(st.rotations));
    return json_pack("{s:o, s:i, s:o, s:o}", "file", file ? file : json_null(),
                     "streams", (int)st.streams, "dropped", json_u64(st.dropped),
                     "stream_dropped", json_u64(st.stream_dropped));
}

/**
 * cmd_pcap_stream() - {}, then the connection carries a pcap stream instead of replies
 */
static json_t *cmd_pcap_stream(struct cmd *c)
{
    static const char *const known[] = { "snaplen", NULL };
    struct netstack_pcap_status st;
    long long snap;

    if (!c->api->ops->pcap_stream) {
        set_desc(c->desc, "%s: not available", c->name);
        return NULL;
    }
    if (check_known_args(c, known) < 0 || arg_uint(c, "snaplen", 262144, 64, 262144, &snap) < 0)
        return NULL;
    if (c->api->ops->pcap_status && c->api->ops->pcap_status(c->api->backend, &st) == 0 &&
        st.streams >= NETSTACK_PCAP_MAX_STREAMS) {
        set_desc(c->desc, "%s: %d streams already", c->name, NETSTACK_PCAP_MAX_STREAMS);
        return NULL;
    }
    c->api->stream_asked = 1;
    c->api->stream_snaplen = (uint32_t)snap;
    return json_object();
}

/* ------------------------------------------------------------------------ */
/* One line                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * struct command - a command's name and handler
 * @name:   the "execute" value
 * @run:    the "return" value, or NULL with @c->desc set (or empty: no memory)
 * @noargs: takes no arguments: any given are an error
 */
static const struct command {
    const char *name;
    json_t *(*run)(struct cmd *c);
    int noargs;
} commands[] = {
    { "add_hostfwd", cmd_add_hostfwd, 0 },
    { "list_hostfwd", cmd_list_hostfwd, 1 },
    { "remove_hostfwd", cmd_remove_hostfwd, 0 },
    { "get_stats", cmd_get_stats, 1 },
    { "get_config", cmd_get_config, 1 },
    { "list_flows", cmd_list_flows, 1 },
    { "pcap_start", cmd_pcap_start, 0 },
    { "pcap_stop", cmd_pcap_stop, 1 },
    { "pcap_status", cmd_pcap_status, 1 },
    { "pcap_stream", cmd_pcap_stream, 0 },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/**
 * find_command() - the command a request names
 * @req:    the parsed line, an object
 * @desc:   on failure, why
 * Return: the command, NULL with @desc set
 */
static const struct command *find_command(json_t *req, char *desc)
{
    json_t *ex = json_object_get(req, "execute");
    size_t i;

    if (!json_is_string(ex)) {
        set_desc(desc, "missing \"execute\": expected {\"execute\": \"COMMAND\", ...}");
        return NULL;
    }
    for (i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, json_string_value(ex)))
            return &commands[i];
    set_desc(desc, "unknown command \"%.64s\"", json_string_value(ex));
    return NULL;
}

/**
 * run_request() - check "arguments" and run the command @req names
 * @req:    the parsed line, an object
 * Return: the reply text, NULL if memory ran out
 */
static char *run_request(struct ns_api *api, json_t *req)
{
    struct cmd c = { .api = api };
    const struct command *cmd = find_command(req, c.desc);
    json_t *args, *ret;

    if (!cmd)
        return reply_error(c.desc);
    c.name = cmd->name;
    args = json_object_get(req, "arguments");
    if (args && !json_is_object(args)) {
        set_desc(c.desc, "%s: \"arguments\" must be an object", c.name);
        return reply_error(c.desc);
    }
    if (args && cmd->noargs && json_object_size(args)) {
        set_desc(c.desc, "%s: takes no arguments", c.name);
        return reply_error(c.desc);
    }
    c.args = args ? json_incref(args) : json_object();
    if (!c.args)
        return NULL;
    ret = cmd->run(&c);
    json_decref(c.args);
    if (ret)
        return reply_return(ret);
    if (!c.desc[0])
        set_desc(c.desc, "%s: out of memory", c.name);
    return reply_error(c.desc);
}

char *ns_api_execute(struct ns_api *api, const char *line, size_t len)
{
    char desc[DESC_MAX];
    json_error_t jerr;
    json_t *req;
    char *reply;

    req = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        set_desc(desc, "invalid JSON at column %d: %s", jerr.column, jerr.text);
        return reply_error(desc);
    }
    if (!json_is_object(req)) {
        json_decref(req);
        return reply_error("expected a JSON object, one per line");
    }
    reply = run_request(api, req);
    json_decref(req);
    return reply;
}

/* ------------------------------------------------------------------------ */
/* The protocol state                                                       */
/* ------------------------------------------------------------------------ */

int ns_api_new(const struct ns_api_ops *ops, void *backend, const struct netstack_config *cfg,
               struct ns_api **out)
{
    struct ns_api *api = calloc(1, sizeof(*api));

    *out = NULL;
    if (!api)
        return -ENOMEM;
    api->ops = ops;
    api->backend = backend;
    api->cfg = *cfg;
    /* Only the strings get_config reports are kept; the others would dangle. */
    api->cfg.domain_name = api->cfg.search_domains = NULL;
    api->cfg.dns_names = NULL;
    api->resolv_conf = cfg->resolv_conf ? strdup(cfg->resolv_conf) : NULL;
    api->hosts_file = cfg->hosts_file ? strdup(cfg->hosts_file) : NULL;
    if ((cfg->resolv_conf && !api->resolv_conf) || (cfg->hosts_file && !api->hosts_file)) {
        ns_api_free(api);
        return -ENOMEM;
    }
    api->cfg.resolv_conf = api->resolv_conf;
    api->cfg.hosts_file = api->hosts_file;
    *out = api;
    return 0;
}

void ns_api_free(struct ns_api *api)
{
    if (!api)
        return;
    free(api->resolv_conf);
    free(api->hosts_file);
    free(api);
}

/* ------------------------------------------------------------------------ */
/* A client's byte stream                                                   */
/* ------------------------------------------------------------------------ */

struct ns_api_client *ns_api_client_new(void)
{
    struct ns_api_client *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->in = malloc(NS_API_LINE_MAX);
    if (!c->in) {
        free(c);
        return NULL;
    }
    return c;
}

void ns_api_client_free(struct ns_api_client *c)
{
    if (!c)
        return;
    free(c->in);
    free(c->out);
    free(c);
}

/**
 * queue_output() - append @len bytes and a newline to @c's output
 * Return: 0, -1 if memory ran out
 */
static int queue_output(struct ns_api_client *c, const char *s, size_t len)
{
    size_t need, cap;
    char *p;

    if (c->outoff) {            /* keep the unwritten bytes at the start */
        memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
        c->outlen -= c->outoff;
        c->outoff = 0;
    }
    need = c->outlen + len + 1;
    if (need > c->outcap) {
        cap = c->outcap ? c->outcap : 4096;
        while (cap < need)
            cap *= 2;
        p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, s, len);
    c->out[c->outlen + len] = '\n';
    c->outlen = need;
    return 0;
}

/**
 * queue_reply() - queue @reply (taken) as one line
 * Return: NS_API_KEEP, or NS_API_DROP when memory ran out or the client has
 * more than NS_API_OUT_MAX bytes unread
 */
static enum ns_api_verdict queue_reply(struct ns_api_client *c, char *reply)
{
    int rc = reply ? queue_output(c, reply, strlen(reply)) : -1;

    free(reply);
    if (rc < 0 || c->outlen - c->outoff > NS_API_OUT_MAX)
        return NS_API_DROP;
    return NS_API_KEEP;
}

/**
 * run_line() - the line in @c->in is complete: execute it, queue the reply
 * An empty line (or one of blanks) is skipped; a CR before the LF is dropped,
 * for clients that end lines with CRLF.
 */
static enum ns_api_verdict run_line(struct ns_api *api, struct ns_api_client *c)
{
    size_t len = c->inlen, i;
    enum ns_api_verdict v;

    c->inlen = 0;
    if (len && c->in[len - 1] == '\r')
        len--;
    for (i = 0; i < len && strchr(" \t\r", c->in[i]); i++)
        ;
    if (i == len)
        return NS_API_KEEP;
    api->stream_asked = 0;
    v = queue_reply(c, ns_api_execute(api, c->in, len));
    if (v == NS_API_KEEP && api->stream_asked) {
        c->streaming = 1;       /* what the client sent after this line is not read */
        c->snaplen = api->stream_snaplen;
        return NS_API_STREAM;
    }
    return v;
}

enum ns_api_verdict ns_api_client_input(struct ns_api *api, struct ns_api_client *c,
                                        const void *data, size_t len)
{
    const char *p = data, *nl;
    enum ns_api_verdict v;
    size_t take;

    if (c->streaming)
        return NS_API_STREAM;
    if (c->closing)
        return NS_API_FLUSH_CLOSE;
    while (len) {
        nl = memchr(p, '\n', len);
        take = nl ? (size_t)(nl - p) : len;
        if (take > NS_API_LINE_MAX - c->inlen) {
            c->closing = 1;
            c->inlen = 0;
            v = queue_reply(c, reply_error("line longer than 65536 bytes; closing the connection"));
            return v == NS_API_KEEP ? NS_API_FLUSH_CLOSE : v;
        }
        memcpy(c->in + c->inlen, p, take);
        c->inlen += take;
        if (!nl)
            break;
        p += take + 1;
        len -= take + 1;
        v = run_line(api, c);
        if (v != NS_API_KEEP)
            return v;
    }
    return NS_API_KEEP;
}

const void *ns_api_client_output(const struct ns_api_client *c, size_t *len)
{
    *len = c->outlen - c->outoff;
    return c->out ? c->out + c->outoff : NULL;
}

void ns_api_client_consume(struct ns_api_client *c, size_t n)
{
    if (n > c->outlen - c->outoff)
        n = c->outlen - c->outoff;
    c->outoff += n;
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = 0;
}

/* ------------------------------------------------------------------------ */
/* The socket                                                               */
/* ------------------------------------------------------------------------ */

/**
 * struct api_conn - one accepted connection
 * @srv:    the server
 * @fd:     the socket, non-blocking
 * @client: its buffers
 * @events: the mask it is watched with
 * @next:   next connection
 */
struct api_conn {
    struct ns_api_server *srv;
    int fd;
    struct ns_api_client *client;
    uint32_t events;
    struct api_conn *next;
};

/**
 * struct ns_api_server - the listening socket and its connections
 * @ns:     the stack whose loop runs them
 * @api:    the protocol state
 * @own_api: @api was made by ns_api_start() and is freed with the server
 * @fd:     the listening socket
 * @file:   the socket file, removed at the end only if it is still ours
 * @conns:  the connections
 * @nconns: how many
 */
struct ns_api_server {
    struct netstack *ns;
    struct ns_api *api;
    int own_api;
    int fd;
    struct ns_sockfile file;
    struct api_conn *conns;
    unsigned nconns;
};

/**
 * conn_close() - unregister, close and forget @conn
 */
static void conn_close(struct api_conn *conn)
{
    struct ns_api_server *srv = conn->srv;
    struct api_conn **pp;

    for (pp = &srv->conns; *pp && *pp != conn; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = conn->next;
    srv->nconns--;
    if (conn->fd >= 0) {
        netstack_unwatch(srv->ns, conn->fd);
        close(conn->fd);
    }
    ns_api_client_free(conn->client);
    free(conn);
}

/**
 * conn_stream() - the reply to pcap_stream is written: the socket goes to the
 * stack as a capture stream, the connection is forgotten without closing it
 */
static void conn_stream(struct api_conn *conn)
{
    struct ns_api_server *srv = conn->srv;
    int fd = conn->fd;

    netstack_unwatch(srv->ns, fd);
    conn->fd = -1;
    /* It cannot be refused for number: pcap_stream checked that. */
    srv->api->ops->pcap_stream(srv->api->backend, fd, conn->client->snaplen);
    conn_close(conn);
}

/**
 * conn_read() - read what @conn sent and run its complete lines
 * Return: the verdict; EOF from the client is NS_API_FLUSH_CLOSE
 */
static enum ns_api_verdict conn_read(struct api_conn *conn)
{
    enum ns_api_verdict v = NS_API_KEEP;
    char buf[READ_CHUNK];
    ssize_t n;
    int i;

    for (i = 0; i < READS_PER_EVENT && v == NS_API_KEEP; i++) {
        n = read(conn->fd, buf, sizeof(buf));
        if (n == 0)
            return NS_API_FLUSH_CLOSE;      /* a partial line is dropped with it */
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? NS_API_KEEP : NS_API_DROP;
        v = ns_api_client_input(conn->srv->api, conn->client, buf, (size_t)n);
    }
    return v;
}

/**
 * conn_flush() - write queued replies until done or the socket is full
 * Return: 0, -1 if the connection failed
 */
static int conn_flush(struct api_conn *conn)
{
    const void *p;
    size_t len;
    ssize_t n;

    for (;;) {
        p = ns_api_client_output(conn->client, &len);
        if (!len)
            return 0;
        n = send(conn->fd, p, len, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        ns_api_client_consume(conn->client, (size_t)n);
    }
}

/**
 * conn_ready() - netstack_watch() callback of a connection
 * @opaque: the struct api_conn
 * @fd:     its socket
 * @events: NETSTACK_EV_*
 *
 * Reads (unless closing), writes what is queued, then watches for what is
 * needed next: input, room for output, or nothing more (closed).
 */
static void conn_ready(void *opaque, int fd, uint32_t events)
{
    struct api_conn *conn = opaque;
    enum ns_api_verdict v = NS_API_KEEP;
    uint32_t want;
    size_t pending;

    (void)fd;
    if (!conn->client->closing && !conn->client->streaming &&
        (events & (NETSTACK_EV_IN | NETSTACK_EV_HUP | NETSTACK_EV_ERR)))
        v = conn_read(conn);
    if (v == NS_API_FLUSH_CLOSE)
        conn->client->closing = 1;
    if (v == NS_API_DROP || conn_flush(conn) < 0) {
        conn_close(conn);
        return;
    }
    ns_api_client_output(conn->client, &pending);
    if (conn->client->streaming && !pending) {
        conn_stream(conn);
        return;
    }
    if (conn->client->closing && !pending) {
        conn_close(conn);
        return;
    }
    want = (conn->client->closing || conn->client->streaming ? 0 : NETSTACK_EV_IN) |
           (pending ? NETSTACK_EV_OUT : 0);
    if (want != conn->events && netstack_watch(conn->srv->ns, conn->fd, want, conn_ready, conn) == 0)
        conn->events = want;
}

/**
 * refuse() - a connection over NS_API_MAX_CLIENTS: one error line, closed
 */
static void refuse(int fd)
{
    static const char msg[] = "{\"error\":{\"desc\":\"too many clients\"}}\n";

    (void)!send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

/**
 * conn_add() - start serving the accepted socket @fd
 * Return: 0, -1 (and @fd closed) if it could not be set up
 */
static int conn_add(struct ns_api_server *srv, int fd)
{
    struct api_conn *conn = calloc(1, sizeof(*conn));

    if (conn)
        conn->client = ns_api_client_new();
    if (!conn || !conn->client ||
        netstack_watch(srv->ns, fd, NETSTACK_EV_IN, conn_ready, conn) < 0) {
        if (conn)
            ns_api_client_free(conn->client);
        free(conn);
        close(fd);
        return -1;
    }
    conn->srv = srv;
    conn->fd = fd;
    conn->events = NETSTACK_EV_IN;
    conn->next = srv->conns;
    srv->conns = conn;
    srv->nconns++;
    return 0;
}

/**
 * accept_ready() - netstack_watch() callback of the listening socket
 * @opaque: the server
 * @fd:     the listening socket
 * @events: NETSTACK_EV_*
 */
static void accept_ready(void *opaque, int fd, uint32_t events)
{
    struct ns_api_server *srv = opaque;
    int c;

    (void)events;
    for (;;) {
        c = netstack_accept(srv->ns, fd, NULL, NULL);
        if (c < 0)
            return;     /* EAGAIN, or shed for lack of descriptors (counted) */
        if (srv->nconns >= NS_API_MAX_CLIENTS)
            refuse(c);
        else
            conn_add(srv, c);
    }
}

/**
 * listen_unix() - a non-blocking listening socket at @path, mode 0600
 *
 * The mode is set by the umask around bind(), so the file never exists with
 * wider permissions. umask is per process: nothing else may create files
 * concurrently (netstack is single-threaded; its resolver thread creates none).
 * Return: the fd, or a negative errno with @err set
 */
static int listen_unix(const char *path, struct ns_sockfile *file, char *err, size_t errlen)
{
    mode_t old = umask(0177);
    int fd = ns_unix_bind(SOCK_STREAM, path, file, err, errlen), rc;

    umask(old);
    if (fd < 0)
        return fd;
    if (listen(fd, LISTEN_BACKLOG) < 0) {
        rc = -errno;
        ns_seterr(err, errlen, "listen: %s: %s", path, strerror(-rc));
        close(fd);
        ns_sockfile_remove(file);
        return rc;
    }
    return fd;
}

int ns_api_server_start(struct netstack *ns, struct ns_api *api, const char *path,
                        struct ns_api_server **out, char *err, size_t errlen)
{
    struct ns_api_server *srv;
    int fd, rc;

    *out = NULL;
    srv = calloc(1, sizeof(*srv));
    if (!srv) {
        ns_seterr(err, errlen, "ns_api_server_start: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    fd = listen_unix(path, &srv->file, err, errlen);
    if (fd < 0) {
        free(srv);
        return fd;
    }
    srv->ns = ns;
    srv->api = api;
    srv->fd = fd;
    rc = netstack_watch(ns, fd, NETSTACK_EV_IN, accept_ready, srv);
    if (rc < 0) {
        ns_seterr(err, errlen, "netstack_watch: %s", strerror(-rc));
        goto fail;
    }
    *out = srv;
    return 0;
fail:
    close(fd);
    ns_sockfile_remove(&srv->file);
    free(srv);
    return rc;
}

void ns_api_server_stop(struct ns_api_server *srv)
{
    if (!srv)
        return;
    while (srv->conns)
        conn_close(srv->conns);
    netstack_unwatch(srv->ns, srv->fd);
    close(srv->fd);
    ns_sockfile_remove(&srv->file);     /* only if it is still ours */
    if (srv->own_api)
        ns_api_free(srv->api);
    free(srv);
}

/* ------------------------------------------------------------------------ */
/* libnetstack behind the commands                                          */
/* ------------------------------------------------------------------------ */

static int netstack_ops_add(void *backend, const struct netstack_forward *fw, uint32_t *id)
{
    return netstack_forward_add(backend, fw, id);
}

static int netstack_ops_remove(void *backend, uint32_t id)
{
    return netstack_forward_remove(backend, id);
}

static int netstack_ops_list(void *backend, netstack_forward_fn cb, void *opaque)
{
    return netstack_forward_list(backend, cb, opaque);
}

static size_t netstack_ops_stats(void *backend, uint64_t *counters, size_t n)
{
    return netstack_get_stats(backend, counters, n);
}

static int netstack_ops_flows(void *backend, ns_api_flow_fn cb, void *opaque)
{
    return netstack_flow_list(backend, cb, opaque);
}

static int netstack_ops_pcap_start(void *backend, const struct netstack_pcap_config *cfg)
{
    return netstack_pcap_start(backend, cfg);
}

static int netstack_ops_pcap_stop(void *backend)
{
    return netstack_pcap_stop(backend);
}

static int netstack_ops_pcap_status(void *backend, struct netstack_pcap_status *st)
{
    return netstack_pcap_status(backend, st);
}

static int netstack_ops_pcap_stream(void *backend, int fd, uint32_t snaplen)
{
    return netstack_pcap_stream(backend, fd, snaplen);
}

const struct ns_api_ops ns_api_netstack_ops = {
    .forward_add = netstack_ops_add,
    .forward_remove = netstack_ops_remove,
    .forward_list = netstack_ops_list,
    .get_stats = netstack_ops_stats,
    .flow_list = netstack_ops_flows,
    .pcap_start = netstack_ops_pcap_start,
    .pcap_stop = netstack_ops_pcap_stop,
    .pcap_status = netstack_ops_pcap_status,
    .pcap_stream = netstack_ops_pcap_stream,
};

int ns_api_start(struct netstack *ns, const struct netstack_config *cfg, const char *path,
                 struct ns_api_server **out, char *err, size_t errlen)
{
    struct ns_api *api;
    int rc;

    *out = NULL;
    rc = ns_api_new(&ns_api_netstack_ops, ns, cfg, &api);
    if (rc < 0) {
        ns_seterr(err, errlen, "ns_api_new: %s", strerror(-rc));
        return rc;
    }
    rc = ns_api_server_start(ns, api, path, out, err, errlen);
    if (rc < 0) {
        ns_api_free(api);
        return rc;
    }
    (*out)->own_api = 1;
    return 0;
}

void ns_api_stop(struct ns_api_server *srv)
{
    ns_api_server_stop(srv);
}
