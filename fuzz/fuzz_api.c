/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_api.c - the control API's commands (--api-socket) against a real stack
 *
 * Input: the bytes a client writes on the API socket (JSON objects, one per
 * line), given to ns_api_client_input(), the dispatcher the socket's read
 * path calls, in two reads cut in the middle, so a line split across reads
 * is joined as on the socket. Checked: every reply is one line holding a
 * JSON object with exactly "return" or "error", and the client is dropped
 * only when its unread replies pass NS_API_OUT_MAX (ns_api_execute() may
 * fail only when memory runs out).
 *
 * The commands reach the stack through ns_api_netstack_ops, so add_hostfwd
 * binds real host sockets. Two guards keep that harmless: the harness runs in
 * the private network namespace of fuzz_common.h (its loopback brought up,
 * so IPv6 forwards can bind ::1 too), and a forward is refused with -EPERM
 * unless it binds 127.0.0.1 or ::1, at most FUZZ_API_PORTS ports (a range
 * of 65535 binds per input would make the fuzzer crawl). After each input
 * every forward is removed and the process must hold exactly the
 * descriptors it held before it: libFuzzer runs millions of inputs, and a
 * leak of one per input would exhaust them. pcap_start writes to a scratch
 * file of the harness's whatever path the input names, and is stopped after
 * each input.
 */
#define _GNU_SOURCE /* unshare() in fuzz_common.h */
#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz/fuzz_common.h"
#include "tools/netstackd/api.h"

#define FUZZ_API_PORTS  4       /* host ports one forward may bind here */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * allowed() - may the harness bind @fw? Loopback only, a few ports.
 */
static int allowed(const struct netstack_forward *fw)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&fw->host_addr;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&fw->host_addr;

    if (fw->count > FUZZ_API_PORTS)
        return 0;
    if (fw->host_addr.ss_family == AF_INET)
        return sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    if (fw->host_addr.ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    return 0;
}

/**
 * fuzz_forward_add() - ns_api_ops.forward_add: libnetstack's, behind allowed()
 */
static int fuzz_forward_add(void *backend, const struct netstack_forward *fw, uint32_t *id)
{
    if (!allowed(fw))
        return -EPERM;
    return ns_api_netstack_ops.forward_add(backend, fw, id);
}

/**
 * fuzz_pcap_start() - ns_api_ops.pcap_start: libnetstack's, but always into
 * the harness's own scratch file, whatever path the input names
 */
static char scratch_pcap[64];

static int fuzz_pcap_start(void *backend, const struct netstack_pcap_config *cfg)
{
    struct netstack_pcap_config c = *cfg;

    c.path = scratch_pcap;
    return ns_api_netstack_ops.pcap_start(backend, &c);
}

/**
 * loopback_up() - bring up "lo" of the private namespace, best effort
 */
static void loopback_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
}

/**
 * fuzz_api() - the protocol state on the fuzz stack, made once per process
 */
static struct ns_api *fuzz_api(void)
{
    static struct ns_api_ops ops;
    static struct ns_api *api;
    struct netstack_config c;
    struct netstack *ns;

    if (api)
        return api;
    ns = fuzz_stack();      /* enters the private namespace first */
    loopback_up();
    ops = ns_api_netstack_ops;
    ops.forward_add = fuzz_forward_add;
    ops.pcap_start = fuzz_pcap_start;
    snprintf(scratch_pcap, sizeof(scratch_pcap), "/tmp/fuzz_api.%d.pcap", (int)getpid());
    /* The capture's writer and its eventfd live as long as the stack: made now,
     * so that the descriptor count below does not see them appear. */
    {
        struct netstack_pcap_config pc = { .path = scratch_pcap };

        if (netstack_pcap_start(ns, &pc) < 0 || netstack_pcap_stop(ns) < 0)
            abort();
    }
    netstack_config_init(&c);
    c.mtu = FUZZ_MTU;
    if (ns_api_new(&ops, ns, &c, &api) < 0)
        abort();
    return api;
}

/**
 * count_fds() - descriptors the process holds (plus a constant: the listing's own)
 */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (!d)
        abort();
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/**
 * first_forward() - netstack_forward_list() callback: the first id, then stop
 */
static int first_forward(void *opaque, uint32_t id, const struct netstack_forward *fw)
{
    (void)fw;
    *(uint32_t *)opaque = id;
    return 1;
}

/**
 * remove_forwards() - whatever the input added, gone before the next one
 */
static void remove_forwards(struct netstack *ns)
{
    uint32_t id;

    while (netstack_forward_list(ns, first_forward, &id) == 1)
        if (netstack_forward_remove(ns, id) < 0)
            abort();
}

/**
 * check_reply() - one reply line: an object with exactly "return" or "error"
 */
static void check_reply(const char *line, size_t len)
{
    json_t *r = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *err = json_object_get(r, "error");

    if (!json_is_object(r) || json_object_size(r) != 1)
        abort();
    if (!json_object_get(r, "return") &&
        !(json_is_object(err) && json_is_string(json_object_get(err, "desc"))))
        abort();
    json_decref(r);
}

/**
 * check_output() - every queued reply is a whole line; then they are "written"
 */
static void check_output(struct ns_api_client *c)
{
    size_t len, total;
    const char *p = ns_api_client_output(c, &total), *nl;

    for (len = total; len; len -= (size_t)(nl - p) + 1, p = nl + 1) {
        nl = memchr(p, '\n', len);
        if (!nl)
            abort();
        check_reply(p, (size_t)(nl - p));
    }
    ns_api_client_consume(c, total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ns_api *api = fuzz_api();
    struct netstack *ns = fuzz_stack();
    struct ns_api_client *c = ns_api_client_new();
    enum ns_api_verdict v;
    int fds = count_fds();
    size_t pending;

    if (!c)
        abort();
    v = ns_api_client_input(api, c, data, size / 2);
    if (v == NS_API_KEEP)
        v = ns_api_client_input(api, c, data + size / 2, size - size / 2);
    ns_api_client_output(c, &pending);
    if (v == NS_API_DROP && pending <= NS_API_OUT_MAX)
        abort();        /* a reply failed without memory running out */
    check_output(c);
    ns_api_client_free(c);
    netstack_dispatch(ns);
    remove_forwards(ns);
    netstack_pcap_stop(ns);     /* -ENOENT when the input started none */
    if (count_fds() != fds) {
        fprintf(stderr, "fuzz_api: %d descriptors before the input, %d after\n", fds,
                count_fds());
        abort();
    }
    return 0;
}
