/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api.h - the control API: slirp4netns-compatible JSON commands on a unix socket
 *
 * Three layers, each usable without the one above it:
 *
 *   ns_api_execute()        one command line in, one reply line out (no I/O)
 *   ns_api_client_input()   a byte stream cut into lines, replies queued, with
 *                           the per-client bounds (line length, unread output)
 *   ns_api_server_*()       the unix socket: accept, read, write, in the
 *                           stack's loop through netstack_watch()
 *
 * The commands reach the stack only through struct ns_api_ops, so an embedder
 * (or a test) can put its own functions behind them; ns_api_netstack_ops calls
 * libnetstack's public API. See api.c for the protocol.
 */
#ifndef NETSTACK_PORTFWD_API_H
#define NETSTACK_PORTFWD_API_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack/include/netstack.h"

#define NS_API_LINE_MAX     (64 * 1024)     /* longest command line, newline excluded */
#define NS_API_OUT_MAX      (1024 * 1024)   /* unread replies before a client is dropped */
#define NS_API_MAX_CLIENTS  64              /* connections at once; more are refused */

/* ns_api_flow_fn - one flow (struct netstack_flow_info); nonzero stops the listing */
typedef netstack_flow_fn ns_api_flow_fn;

/*
 * struct ns_api_ops - what the commands call; @backend is ns_api_new()'s
 * @forward_add, @forward_remove, @forward_list: as netstack_forward_*()
 * @get_stats:  as netstack_get_stats()
 * @flow_list:  every live flow; NULL: list_flows answers "not available"
 * @pcap_start, @pcap_stop, @pcap_status, @pcap_stream: as netstack_pcap_*();
 *              NULL: the command answers "not available"
 */
struct ns_api_ops {
    int (*forward_add)(void *backend, const struct netstack_forward *fw, uint32_t *id);
    int (*forward_remove)(void *backend, uint32_t id);
    int (*forward_list)(void *backend, netstack_forward_fn cb, void *opaque);
    size_t (*get_stats)(void *backend, uint64_t *counters, size_t n);
    int (*flow_list)(void *backend, ns_api_flow_fn cb, void *opaque);
    int (*pcap_start)(void *backend, const struct netstack_pcap_config *cfg);
    int (*pcap_stop)(void *backend);
    int (*pcap_status)(void *backend, struct netstack_pcap_status *st);
    int (*pcap_stream)(void *backend, int fd, uint32_t snaplen);
};

/* The ops for a struct netstack * backend: libnetstack's public calls. */
extern const struct ns_api_ops ns_api_netstack_ops;

struct ns_api;
struct ns_api_client;
struct ns_api_server;

/**
 * ns_api_new() - the protocol state
 * @ops:        what the commands call; must outlive the api
 * @backend:    their first argument
 * @cfg:        the stack's configuration, for get_config; copied (strings too)
 * @out:        the api on success
 * Return: 0, -ENOMEM
 */
int ns_api_new(const struct ns_api_ops *ops, void *backend, const struct netstack_config *cfg,
               struct ns_api **out);
void ns_api_free(struct ns_api *api);

/**
 * ns_api_execute() - run one command
 * @line:   the command, a JSON object, without its newline; need not be
 *          NUL-terminated
 * @len:    its length
 * Return: the reply, one line of JSON without a newline, to free(); NULL only
 * when memory ran out.
 */
char *ns_api_execute(struct ns_api *api, const char *line, size_t len);

/* What ns_api_client_input() asks of the connection */
enum ns_api_verdict {
    NS_API_KEEP = 0,        /* go on reading */
    NS_API_FLUSH_CLOSE,     /* send what is queued (the error line), then close */
    NS_API_DROP,            /* close now: output over NS_API_OUT_MAX, or no memory */
    NS_API_STREAM,          /* send what is queued, then hand the socket to the capture */
};

/**
 * ns_api_client_new() - empty buffers for one connection; NULL: no memory
 */
struct ns_api_client *ns_api_client_new(void);
void ns_api_client_free(struct ns_api_client *c);

/**
 * ns_api_client_input() - bytes the client sent
 * Complete lines are executed in order and their replies queued; a partial
 * line is kept for the next call. A line longer than NS_API_LINE_MAX queues
 * one error and asks for NS_API_FLUSH_CLOSE; input after that is ignored.
 */
enum ns_api_verdict ns_api_client_input(struct ns_api *api, struct ns_api_client *c,
                                        const void *data, size_t len);

/**
 * ns_api_client_output() - the queued reply bytes (*@len of them, maybe 0)
 */
const void *ns_api_client_output(const struct ns_api_client *c, size_t *len);

/**
 * ns_api_client_consume() - @n bytes of the output were written
 */
void ns_api_client_consume(struct ns_api_client *c, size_t n);

/**
 * ns_api_server_start() - listen on a unix stream socket at @path
 * @ns:     the stack whose loop runs the socket (netstack_watch)
 * @api:    the protocol state; not freed by ns_api_server_stop()
 * @path:   the socket file, created with mode 0600; a stale socket there is
 *          replaced, anything else is refused
 * @err:    on failure, "function: cause"
 * Return: 0 or a negative errno with @err set
 */
int ns_api_server_start(struct netstack *ns, struct ns_api *api, const char *path,
                        struct ns_api_server **out, char *err, size_t errlen);

/**
 * ns_api_server_stop() - close every connection and the socket, remove the file
 */
void ns_api_server_stop(struct ns_api_server *srv);

/**
 * ns_api_start() - ns_api_new() with ns_api_netstack_ops, then the server
 * ns_api_stop() undoes both; call it before netstack_free().
 */
int ns_api_start(struct netstack *ns, const struct netstack_config *cfg, const char *path,
                 struct ns_api_server **out, char *err, size_t errlen);
void ns_api_stop(struct ns_api_server *srv);

#endif /* NETSTACK_PORTFWD_API_H */
