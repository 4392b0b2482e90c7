/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_api.c - the control API (tools/netstackd/api.c): commands, line framing, bounds
 *
 * The commands run against fake ops (an in-memory forward table) so every
 * argument the API hands to netstack_forward_add() can be checked; the server
 * tests at the end use a real stack's loop and a real unix socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <jansson.h>

#include "tools/netstackd/api.h"
#include "tests/unit/harness.h"

#define MAX_FAKE_FWD 8

/* The fake backend: what was added, and what the next add returns. */
static struct fake {
    struct netstack_forward fw[MAX_FAKE_FWD];
    uint32_t id[MAX_FAKE_FWD];
    size_t n;
    uint32_t next_id;
    int add_rc;
    uint64_t stats[NETSTACK_STAT_COUNT];
} fake;

static int fake_add(void *backend, const struct netstack_forward *fw, uint32_t *id)
{
    assert_ptr_equal(backend, &fake);
    if (fake.add_rc)
        return fake.add_rc;
    assert_true(fake.n < MAX_FAKE_FWD);
    fake.fw[fake.n] = *fw;
    fake.id[fake.n++] = *id = ++fake.next_id;
    return 0;
}

static int fake_remove(void *backend, uint32_t id)
{
    size_t i;

    for (i = 0; i < fake.n; i++) {
        if (fake.id[i] != id)
            continue;
        memmove(&fake.fw[i], &fake.fw[i + 1], (fake.n - i - 1) * sizeof(fake.fw[0]));
        memmove(&fake.id[i], &fake.id[i + 1], (fake.n - i - 1) * sizeof(fake.id[0]));
        fake.n--;
        return 0;
    }
    return -ENOENT;
}

static int fake_list(void *backend, netstack_forward_fn cb, void *opaque)
{
    size_t i;
    int rc;

    for (i = 0; i < fake.n; i++)
        if ((rc = cb(opaque, fake.id[i], &fake.fw[i])) != 0)
            return rc;
    return 0;
}

static size_t fake_stats(void *backend, uint64_t *c, size_t n)
{
    size_t k = n < NETSTACK_STAT_COUNT ? n : NETSTACK_STAT_COUNT;

    memcpy(c, fake.stats, k * sizeof(*c));
    return k;
}

static int fake_flows(void *backend, ns_api_flow_fn cb, void *opaque)
{
    struct netstack_flow_info f = {
        .proto = NETSTACK_PROTO_TCP, .inbound = 1, .forward_id = 3,
        .guest_addr.s_addr = htonl(GUEST), .guest_port = 80,
        .peer_addr.s_addr = htonl(ALIAS), .peer_port = 40000, .state = "established",
        .bytes_from_guest = 1234, .bytes_to_guest = 5678, .age_ms = 1500, .idle_ms = 20,
    };
    int rc = cb(opaque, &f);

    if (rc)
        return rc;
    f.proto = NETSTACK_PROTO_UDP;
    f.inbound = 0;
    f.state = "active";
    return cb(opaque, &f);
}

static const struct ns_api_ops fake_ops = {
    .forward_add = fake_add, .forward_remove = fake_remove, .forward_list = fake_list,
    .get_stats = fake_stats, .flow_list = NULL,
};

/* The fake capture: what pcap_start was given, and what the next call returns. */
static struct netstack_pcap_config fake_pcap;
static char fake_pcap_path[64];     /* the command's string lives only during the call */
static int fake_pcap_rc;

static int fake_pcap_start(void *backend, const struct netstack_pcap_config *cfg)
{
    fake_pcap = *cfg;
    snprintf(fake_pcap_path, sizeof(fake_pcap_path), "%s", cfg->path);
    fake_pcap.path = fake_pcap_path;
    return fake_pcap_rc;
}

static int fake_pcap_stop(void *backend)
{
    return fake_pcap_rc;
}

static int fake_pcap_status(void *backend, struct netstack_pcap_status *st)
{
    memset(st, 0, sizeof(*st));
    st->file_active = 1;
    st->path = "/tmp/x.pcap";
    st->file_size = 8u << 20;
    st->files = 3;
    st->snaplen = 1500;
    st->file_frames = 42;
    st->rotations = 2;
    st->streams = 1;
    st->dropped = 7;
    return 0;
}

static const struct ns_api_ops fake_ops_pcap = {
    .forward_add = fake_add, .forward_remove = fake_remove, .forward_list = fake_list,
    .get_stats = fake_stats, .pcap_start = fake_pcap_start, .pcap_stop = fake_pcap_stop,
    .pcap_status = fake_pcap_status,
};

static const struct ns_api_ops fake_ops_flows = {
    .forward_add = fake_add, .forward_remove = fake_remove, .forward_list = fake_list,
    .get_stats = fake_stats, .flow_list = fake_flows,
};

static struct ns_api *new_api(const struct ns_api_ops *ops)
{
    struct netstack_config cfg;
    struct ns_api *api;

    memset(&fake, 0, sizeof(fake));
    netstack_config_init(&cfg);
    assert_int_equal(ns_api_new(ops, &fake, &cfg, &api), 0);
    return api;
}

static int setup(void **state)
{
    *state = new_api(&fake_ops);
    return 0;
}

static int teardown(void **state)
{
    ns_api_free(*state);
    return 0;
}

/**
 * exec() - run @line (placed before an unreadable page, no NUL after it) and
 * return the reply, to free().
 */
static char *exec(struct ns_api *api, const char *line)
{
    const char *g = (const char *)guarded(line, strlen(line));
    char *reply = ns_api_execute(api, g, strlen(line));

    unguard();
    assert_non_null(reply);
    assert_null(strchr(reply, '\n'));
    return reply;
}

/**
 * expect_reply() - @line's reply is exactly @want
 */
static void expect_reply(struct ns_api *api, const char *line, const char *want)
{
    char *reply = exec(api, line);

    assert_string_equal(reply, want);
    free(reply);
}

/**
 * expect_error() - @line's reply is {"error":{"desc":D}}, D containing @part
 */
static void expect_error(struct ns_api *api, const char *line, const char *part)
{
    char *reply = exec(api, line);
    json_t *j = json_loads(reply, 0, NULL);
    const char *desc = NULL;

    assert_non_null(j);
    assert_int_equal(json_unpack(j, "{s:{s:s}}", "error", "desc", &desc), 0);
    assert_int_equal(json_object_size(j), 1);
    if (!strstr(desc, part))
        fail_msg("reply to %s: desc \"%s\" lacks \"%s\"", line, desc, part);
    json_decref(j);
    free(reply);
}

/**
 * exec_return() - @line's reply parsed, its "return" value (to json_decref)
 */
static json_t *exec_return(struct ns_api *api, const char *line)
{
    char *reply = exec(api, line);
    json_t *j = json_loads(reply, 0, NULL), *ret;

    assert_non_null(j);
    ret = json_object_get(j, "return");
    if (!ret)
        fail_msg("reply to %s: %s", line, reply);
    json_incref(ret);
    json_decref(j);
    free(reply);
    return ret;
}

static uint16_t fw_port(const struct netstack_forward *fw)
{
    if (fw->host_addr.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&fw->host_addr)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&fw->host_addr)->sin_port);
}

/* ------------------------------------------------------------------------ */

static void add_hostfwd_as_slirp4netns_documents(void **state)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&fake.fw[0].host_addr;

    expect_reply(*state, "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", "
                 "\"host_addr\": \"0.0.0.0\", \"host_port\": 8080, \"guest_addr\": \"10.0.2.100\", "
                 "\"guest_port\": 80}}", "{\"return\":{\"id\":1}}");
    assert_int_equal(fake.n, 1);
    assert_int_equal(fake.fw[0].proto, NETSTACK_PROTO_TCP);
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(sin->sin_addr.s_addr, htonl(0));
    assert_int_equal(fw_port(&fake.fw[0]), 8080);
    assert_int_equal(fake.fw[0].guest_addr.s_addr, htonl(IP(10, 0, 2, 100)));
    assert_int_equal(fake.fw[0].guest_port, 80);
    assert_int_equal(fake.fw[0].count, 1);
    assert_int_equal(fake.fw[0].preserve_source, 1);
}

static void add_hostfwd_defaults_and_extensions(void **state)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&fake.fw[2].host_addr;

    /* host_addr and guest_addr left out: 0.0.0.0 and the guest's lease (0) */
    expect_reply(*state, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\","
                 "\"host_port\":5353,\"guest_port\":53}}", "{\"return\":{\"id\":1}}");
    assert_int_equal(fake.fw[0].proto, NETSTACK_PROTO_UDP);
    assert_int_equal(fake.fw[0].host_addr.ss_family, AF_INET);
    assert_int_equal(fake.fw[0].guest_addr.s_addr, 0);
    /* a range, without preserve_source */
    expect_reply(*state, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                 "\"host_addr\":\"127.0.0.1\",\"host_port\":9000,\"host_port_end\":9009,"
                 "\"guest_port\":7000,\"preserve_source\":false}}", "{\"return\":{\"id\":2}}");
    assert_int_equal(fake.fw[1].count, 10);
    assert_int_equal(fw_port(&fake.fw[1]), 9000);
    assert_int_equal(fake.fw[1].guest_port, 7000);
    assert_int_equal(fake.fw[1].preserve_source, 0);
    /* IPv6 on the host side */
    expect_reply(*state, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                 "\"host_addr\":\"::\",\"host_port\":8443,\"guest_port\":443}}",
                 "{\"return\":{\"id\":3}}");
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_int_equal(fw_port(&fake.fw[2]), 8443);
    assert_int_equal(fake.fw[2].guest_v6, 0);
    /* and on the guest's: "::" is the address the guest uses */
    expect_reply(*state, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                 "\"host_addr\":\"::\",\"host_port\":8444,\"guest_addr\":\"::\","
                 "\"guest_port\":443}}", "{\"return\":{\"id\":4}}");
    assert_int_equal(fake.fw[3].guest_v6, 1);
    assert_true(IN6_IS_ADDR_UNSPECIFIED(&fake.fw[3].guest_addr6));
}

static void list_and_remove_hostfwd(void **state)
{
    json_t *ret, *e;

    ret = exec_return(*state, "{\"execute\": \"list_hostfwd\"}");
    assert_int_equal(json_array_size(json_object_get(ret, "entries")), 0);
    json_decref(ret);

    free(exec(*state, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
              "\"host_addr\":\"0.0.0.0\",\"host_port\":8080,\"guest_addr\":\"10.0.2.100\","
              "\"guest_port\":80}}"));
    free(exec(*state, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\","
              "\"host_port\":6000,\"host_port_end\":6001,\"guest_port\":60}}"));
    ret = exec_return(*state, "{\"execute\": \"list_hostfwd\"}");
    assert_int_equal(json_array_size(json_object_get(ret, "entries")), 2);
    e = json_array_get(json_object_get(ret, "entries"), 0);
    assert_int_equal(json_integer_value(json_object_get(e, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "proto")), "tcp");
    assert_string_equal(json_string_value(json_object_get(e, "host_addr")), "0.0.0.0");
    assert_int_equal(json_integer_value(json_object_get(e, "host_port")), 8080);
    assert_string_equal(json_string_value(json_object_get(e, "guest_addr")), "10.0.2.100");
    assert_int_equal(json_integer_value(json_object_get(e, "guest_port")), 80);
    assert_true(json_is_true(json_object_get(e, "preserve_source")));
    assert_null(json_object_get(e, "host_port_end"));
    e = json_array_get(json_object_get(ret, "entries"), 1);
    assert_string_equal(json_string_value(json_object_get(e, "proto")), "udp");
    assert_string_equal(json_string_value(json_object_get(e, "guest_addr")), "0.0.0.0");
    assert_int_equal(json_integer_value(json_object_get(e, "host_port_end")), 6001);
    json_decref(ret);

    expect_reply(*state, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 1}}",
                 "{\"return\":{}}");
    expect_error(*state, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 1}}",
                 "remove_hostfwd: no forward with id 1");
    ret = exec_return(*state, "{\"execute\": \"list_hostfwd\"}");
    assert_int_equal(json_array_size(json_object_get(ret, "entries")), 1);
    json_decref(ret);
}

static void bad_lines_get_one_error_each(void **state)
{
    expect_error(*state, "hello", "invalid JSON");
    expect_error(*state, "{\"execute\":", "invalid JSON");
    expect_error(*state, "{\"execute\":\"list_hostfwd\"} trailing", "invalid JSON");
    expect_error(*state, "\xff\xfe", "invalid JSON");
    expect_error(*state, "[1, 2]", "expected a JSON object");
    expect_error(*state, "42", "expected a JSON object");
    expect_error(*state, "\"add_hostfwd\"", "expected a JSON object");
    expect_error(*state, "{}", "missing \"execute\"");
    expect_error(*state, "{\"execute\": 3}", "missing \"execute\"");
    expect_error(*state, "{\"execute\": \"reboot\"}", "unknown command \"reboot\"");
    expect_error(*state, "{\"execute\":\"list_hostfwd\",\"execute\":\"x\"}", "invalid JSON");
    expect_error(*state, "{\"execute\": \"remove_hostfwd\", \"arguments\": [1]}",
                 "\"arguments\" must be an object");
    expect_error(*state, "{\"execute\": \"list_hostfwd\", \"arguments\": {\"id\": 1}}",
                 "list_hostfwd: takes no arguments");
    expect_error(*state, "{\"execute\": \"remove_hostfwd\"}", "missing argument \"id\"");
    expect_error(*state, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": \"1\"}}",
                 "\"id\" must be an integer");
    expect_error(*state, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 1.5}}",
                 "\"id\" must be an integer");
    /* Nothing reached the backend. */
    assert_int_equal(fake.n, 0);
}

static void bad_add_hostfwd_arguments(void **state)
{
    static const struct {
        const char *args, *desc;
    } cases[] = {
        { "{\"host_port\":80,\"guest_port\":80}", "missing argument \"proto\"" },
        { "{\"proto\":\"sctp\",\"host_port\":80,\"guest_port\":80}", "\"proto\" must be" },
        { "{\"proto\":6,\"host_port\":80,\"guest_port\":80}", "\"proto\" must be a string" },
        { "{\"proto\":\"tcp\",\"guest_port\":80}", "missing argument \"host_port\"" },
        { "{\"proto\":\"tcp\",\"host_port\":\"80\",\"guest_port\":80}", "\"host_port\" must be" },
        { "{\"proto\":\"tcp\",\"host_port\":0,\"guest_port\":80}", "\"host_port\" must be" },
        { "{\"proto\":\"tcp\",\"host_port\":65536,\"guest_port\":80}", "\"host_port\" must be" },
        { "{\"proto\":\"tcp\",\"host_port\":80}", "missing argument \"guest_port\"" },
        { "{\"proto\":\"tcp\",\"host_port\":80,\"guest_port\":-1}", "\"guest_port\" must be" },
        { "{\"proto\":\"tcp\",\"host_port\":80,\"guest_port\":80,\"host_addr\":\"localhost\"}",
          "\"host_addr\" localhost is not" },
        { "{\"proto\":\"tcp\",\"host_port\":80,\"guest_port\":80,\"host_addr\":null}",
          "\"host_addr\" must be a string" },
        { "{\"proto\":\"tcp\",\"host_port\":80,\"guest_port\":80,\"guest_addr\":\"guest\"}",
          "\"guest_addr\" guest is not an IPv4 or IPv6 address" },
        { "{\"proto\":\"tcp\",\"host_port\":80,\"guest_port\":80,\"preserve_source\":1}",
          "\"preserve_source\" must be true or false" },
        { "{\"proto\":\"tcp\",\"host_port\":80,\"host_port_end\":79,\"guest_port\":80}",
          "\"host_port_end\" must be an integer from 80" },
        { "{\"proto\":\"tcp\",\"host_port\":1000,\"host_port_end\":1010,\"guest_port\":65530}",
          "passes 65535" },
        { "{\"proto\":\"tcp\",\"host_port\":80,\"guest_port\":80,\"hostport\":1}",
          "unknown argument \"hostport\"" },
    };
    char line[512];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), "{\"execute\":\"add_hostfwd\",\"arguments\":%s}",
                 cases[i].args);
        expect_error(*state, line, cases[i].desc);
    }
    assert_int_equal(fake.n, 0);
}

static void add_errors_from_the_stack_are_explained(void **state)
{
    const char *add = "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                      "\"host_port\":8080,\"guest_port\":80}}";

    fake.add_rc = -EADDRINUSE;
    expect_error(*state, add, "host_port 8080: address already in use");
    expect_error(*state, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                 "\"host_port\":8080,\"host_port_end\":8082,\"guest_port\":80}}",
                 "host_port 8080-8082: address already in use");
    fake.add_rc = -EACCES;
    expect_error(*state, add, "host_port 8080: permission denied");
    fake.add_rc = -EADDRNOTAVAIL;
    expect_error(*state, add, "host_addr 0.0.0.0");
    fake.add_rc = -ENOMEM;
    expect_error(*state, add, "add_hostfwd: 0.0.0.0:8080: ");
}

static void get_stats_has_every_counter(void **state)
{
    json_t *ret, *counters;
    unsigned i;

    for (i = 0; i < NETSTACK_STAT_COUNT; i++)
        fake.stats[i] = 1000u + i;
    fake.stats[NETSTACK_STAT_bytes_in] = (uint64_t)1 << 40;
    ret = exec_return(*state, "{\"execute\": \"get_stats\"}");
    counters = json_object_get(ret, "counters");
    assert_int_equal(json_object_size(counters), NETSTACK_STAT_COUNT);
    for (i = 0; i < NETSTACK_STAT_COUNT; i++) {
        json_t *v = json_object_get(counters, netstack_stat_name(i));

        assert_non_null(v);
        if (i != NETSTACK_STAT_bytes_in)
            assert_int_equal(json_integer_value(v), 1000 + i);
    }
    assert_int_equal(json_integer_value(json_object_get(counters, "bytes_in")),
                     (json_int_t)1 << 40);
    json_decref(ret);
}

static void get_config_reports_the_config(void **state)
{
    struct netstack_config cfg;
    struct ns_api *api;
    json_t *ret;

    ret = exec_return(*state, "{\"execute\": \"get_config\"}");
    assert_string_equal(json_string_value(json_object_get(ret, "subnet")), "192.168.65.0/24");
    assert_string_equal(json_string_value(json_object_get(ret, "gateway")), "192.168.65.1");
    assert_string_equal(json_string_value(json_object_get(ret, "host_loopback")),
                        "192.168.65.254");
    assert_int_equal(json_integer_value(json_object_get(ret, "mtu")), 65520);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ret, "dns"), "mode")),
                        "forward");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ret, "dns"),
                                                          "resolv_conf")), "/etc/resolv.conf");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ret, "limits"),
                                                        "max_tcp_connections")), 16384);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ret, "limits"),
                                                        "udp_idle_timeout_ms")), 60000);
    json_decref(ret);

    /* No alias: null. The strings are copied: the caller's may go away. */
    netstack_config_init(&cfg);
    cfg.no_host_loopback = 1;
    cfg.mtu = 1500;
    cfg.dns_mode = NETSTACK_DNS_HOST;
    cfg.resolv_conf = strdup("/tmp/resolv.test");
    assert_int_equal(ns_api_new(&fake_ops, &fake, &cfg, &api), 0);
    free((char *)cfg.resolv_conf);
    ret = exec_return(api, "{\"execute\": \"get_config\"}");
    assert_true(json_is_null(json_object_get(ret, "host_loopback")));
    assert_int_equal(json_integer_value(json_object_get(ret, "mtu")), 1500);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ret, "dns"), "mode")),
                        "host");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ret, "dns"),
                                                          "resolv_conf")), "/tmp/resolv.test");
    json_decref(ret);
    ns_api_free(api);
}

static void list_flows_shape(void **state)
{
    struct ns_api *api;
    json_t *ret, *f;

    expect_error(*state, "{\"execute\": \"list_flows\"}", "list_flows: not available");

    api = new_api(&fake_ops_flows);
    ret = exec_return(api, "{\"execute\": \"list_flows\"}");
    assert_int_equal(json_array_size(json_object_get(ret, "flows")), 2);
    f = json_array_get(json_object_get(ret, "flows"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "proto")), "tcp");
    assert_string_equal(json_string_value(json_object_get(f, "direction")), "inbound");
    assert_int_equal(json_integer_value(json_object_get(f, "forward_id")), 3);
    assert_string_equal(json_string_value(json_object_get(f, "guest_addr")), "192.168.65.2");
    assert_int_equal(json_integer_value(json_object_get(f, "guest_port")), 80);
    assert_string_equal(json_string_value(json_object_get(f, "peer_addr")), "192.168.65.254");
    assert_int_equal(json_integer_value(json_object_get(f, "peer_port")), 40000);
    assert_string_equal(json_string_value(json_object_get(f, "state")), "established");
    assert_int_equal(json_integer_value(json_object_get(f, "bytes_from_guest")), 1234);
    assert_int_equal(json_integer_value(json_object_get(f, "bytes_to_guest")), 5678);
    assert_int_equal(json_integer_value(json_object_get(f, "age_ms")), 1500);
    assert_int_equal(json_integer_value(json_object_get(f, "idle_ms")), 20);
    f = json_array_get(json_object_get(ret, "flows"), 1);
    assert_string_equal(json_string_value(json_object_get(f, "direction")), "outbound");
    assert_null(json_object_get(f, "forward_id"));
    json_decref(ret);
    ns_api_free(api);
}

/* ------------------------------------------------------------------------ */
/* The byte stream                                                          */
/* ------------------------------------------------------------------------ */

/**
 * take_output() - the client's queued output as a string (to free()), consumed
 */
static char *take_output(struct ns_api_client *c)
{
    size_t len;
    const void *p = ns_api_client_output(c, &len);
    char *s = malloc(len + 1);

    assert_non_null(s);
    if (len)
        memcpy(s, p, len);
    s[len] = '\0';
    ns_api_client_consume(c, len);
    return s;
}

static void expect_output(struct ns_api_client *c, const char *want)
{
    char *s = take_output(c);

    assert_string_equal(s, want);
    free(s);
}

static enum ns_api_verdict input_str(struct ns_api *api, struct ns_api_client *c,
                                     const char *s)
{
    return ns_api_client_input(api, c, s, strlen(s));
}

static void partial_lines_wait_for_the_rest(void **state)
{
    static const char cmd[] = "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 7}}\n";
    struct ns_api_client *c = ns_api_client_new();
    size_t i;

    assert_non_null(c);
    /* One byte at a time: nothing until the newline. */
    for (i = 0; i < sizeof(cmd) - 1; i++) {
        assert_int_equal(ns_api_client_input(*state, c, cmd + i, 1), NS_API_KEEP);
        expect_output(c, i == sizeof(cmd) - 2
                      ? "{\"error\":{\"desc\":\"remove_hostfwd: no forward with id 7\"}}\n" : "");
    }
    /* Two commands and half of a third in one chunk; CRLF; blank lines skipped. */
    assert_int_equal(input_str(*state, c, "{\"execute\":\"list_hostfwd\"}\r\n\n   \n"
                               "{\"execute\":\"nope\"}\n{\"exec"), NS_API_KEEP);
    expect_output(c, "{\"return\":{\"entries\":[]}}\n"
                     "{\"error\":{\"desc\":\"unknown command \\\"nope\\\"\"}}\n");
    assert_int_equal(input_str(*state, c, "ute\":\"list_hostfwd\"}\n"), NS_API_KEEP);
    expect_output(c, "{\"return\":{\"entries\":[]}}\n");
    ns_api_client_free(c);
}

static void oversize_line_is_an_error_then_close(void **state)
{
    struct ns_api_client *c = ns_api_client_new();
    char *big = malloc(NS_API_LINE_MAX + 2);
    char *out;
    size_t i;

    assert_non_null(c);
    assert_non_null(big);
    /* Exactly NS_API_LINE_MAX bytes is a line (bad JSON here), not a disconnect. */
    memset(big, ' ', NS_API_LINE_MAX);
    big[0] = 'x';
    big[NS_API_LINE_MAX] = '\n';
    assert_int_equal(ns_api_client_input(*state, c, big, NS_API_LINE_MAX + 1), NS_API_KEEP);
    out = take_output(c);
    assert_non_null(strstr(out, "invalid JSON"));
    free(out);
    /* 10 MB without a newline, in 64 KiB chunks: one error, then close. */
    memset(big, 'a', NS_API_LINE_MAX + 1);
    assert_int_equal(ns_api_client_input(*state, c, big, 1000), NS_API_KEEP);
    assert_int_equal(ns_api_client_input(*state, c, big, NS_API_LINE_MAX), NS_API_FLUSH_CLOSE);
    for (i = 0; i < 160; i++)
        assert_int_equal(ns_api_client_input(*state, c, big, NS_API_LINE_MAX), NS_API_FLUSH_CLOSE);
    assert_int_equal(ns_api_client_input(*state, c, "{\"execute\":\"list_hostfwd\"}\n", 27),
                     NS_API_FLUSH_CLOSE);
    expect_output(c, "{\"error\":{\"desc\":\"line longer than 65536 bytes; "
                     "closing the connection\"}}\n");
    free(big);
    ns_api_client_free(c);
}

static void unread_output_is_bounded(void **state)
{
    static const char cmd[] = "{\"execute\":\"get_stats\"}\n";
    struct ns_api_client *c = ns_api_client_new();
    enum ns_api_verdict v = NS_API_KEEP;
    size_t len, sent = 0;

    assert_non_null(c);
    while (v == NS_API_KEEP && sent < 100000) {
        v = ns_api_client_input(*state, c, cmd, sizeof(cmd) - 1);
        sent++;
    }
    assert_int_equal(v, NS_API_DROP);
    ns_api_client_output(c, &len);
    assert_true(len > NS_API_OUT_MAX);
    assert_true(len < NS_API_OUT_MAX + 16384);
    /* Partly consumed output keeps its order. */
    ns_api_client_consume(c, 5);
    ns_api_client_output(c, &len);
    assert_true(len > NS_API_OUT_MAX - 5);
    ns_api_client_free(c);
}

static void pcap_commands_check_their_arguments(void **state)
{
    struct ns_api *api = new_api(&fake_ops_pcap);
    json_t *r;

    expect_error(*state, "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"/x\"}}",
                 "not available");
    expect_error(api, "{\"execute\":\"pcap_start\"}", "missing argument \"path\"");
    expect_error(api, "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"/x\",\"size_mb\":0}}",
                 "\"size_mb\" must be an integer from 1");
    expect_error(api, "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"/x\",\"files\":1001}}",
                 "\"files\"");
    expect_error(api, "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"/x\",\"rotate\":1}}",
                 "unknown argument \"rotate\"");
    expect_reply(api, "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"/x\",\"size_mb\":8,"
                      "\"files\":3,\"snaplen\":1500}}", "{\"return\":{}}");
    assert_string_equal(fake_pcap.path, "/x");
    assert_int_equal(fake_pcap.file_size, 8u << 20);
    assert_int_equal(fake_pcap.files, 3);
    assert_int_equal(fake_pcap.snaplen, 1500);
    fake_pcap_rc = -EBUSY;
    expect_error(api, "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"/x\"}}", "already running");
    fake_pcap_rc = -ENOENT;
    expect_error(api, "{\"execute\":\"pcap_stop\"}", "no capture is running");
    fake_pcap_rc = 0;
    expect_reply(api, "{\"execute\":\"pcap_stop\"}", "{\"return\":{}}");
    r = exec_return(api, "{\"execute\":\"pcap_status\"}");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "file"), "path")),
                        "/tmp/x.pcap");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "file"), "size_mb")), 8);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "file"), "frames")), 42);
    assert_int_equal(json_integer_value(json_object_get(r, "streams")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "dropped")), 7);
    json_decref(r);
    expect_error(api, "{\"execute\":\"pcap_stream\"}", "not available");
    ns_api_free(api);
}

/* ------------------------------------------------------------------------ */
/* The server, on a real stack's loop                                       */
/* ------------------------------------------------------------------------ */

static void sock_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/tmp/test_api.%d.%s", (int)getpid(), name);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    return fd;
}

/**
 * read_reply() - run the loop until @fd has a line; return it (static)
 */
static const char *read_reply(struct netstack *ns, int fd)
{
    static char buf[4096];
    size_t got = 0;
    ssize_t n;
    int i;

    for (i = 0; i < 200 && !memchr(buf, '\n', got); i++) {
        run(ns, 10);
        n = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0)
            break;
    }
    buf[got] = '\0';
    return buf;
}

static void server_socket_file_and_clients(void **state)
{
    struct netstack *ns = stack_with(0);
    struct ns_api_server *srv;
    char path[108], err[256];
    struct stat st;
    int fd, a, b;

    sock_path(path, sizeof(path), "sock");
    /* A stale socket is replaced; mode 0600 whatever the umask. */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };

        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
        unlink(path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
        close(fd);
    }
    umask(0);
    assert_int_equal(ns_api_server_start(ns, *state, path, &srv, err, sizeof(err)), 0);
    umask(022);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);

    a = connect_to(path);
    b = connect_to(path);
    assert_int_equal(send(a, "{\"execute\":\"list_hostfwd\"", 25, 0), 25);   /* half */
    assert_int_equal(send(b, "nonsense\n", 9, 0), 9);
    assert_non_null(strstr(read_reply(ns, b), "invalid JSON"));
    assert_int_equal(send(a, "}\n", 2, 0), 2);
    assert_string_equal(read_reply(ns, a), "{\"return\":{\"entries\":[]}}\n");
    /* b still works after its error; a half-closed client still gets its reply. */
    assert_int_equal(send(b, "{\"execute\":\"list_flows\"}\n", 25, 0), 25);
    assert_int_equal(shutdown(b, SHUT_WR), 0);
    assert_non_null(strstr(read_reply(ns, b), "not available"));   /* fake ops: no flows */
    assert_string_equal(read_reply(ns, b), "");     /* then closed */
    close(b);
    close(a);

    ns_api_server_stop(srv);
    assert_int_equal(stat(path, &st), -1);
    stack_done(ns);
}

static void server_refuses_to_replace_a_file(void **state)
{
    struct netstack *ns = stack_with(0);
    struct ns_api_server *srv;
    char path[108], err[256];
    int fd;

    sock_path(path, sizeof(path), "file");
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ns_api_server_start(ns, *state, path, &srv, err, sizeof(err)), -EEXIST);
    assert_null(srv);
    assert_non_null(strstr(err, "not a socket"));
    assert_int_equal(access(path, F_OK), 0);
    unlink(path);
    stack_done(ns);
}

/**
 * read_some() - run the loop until @fd has at least @want bytes; how many it had
 */
static size_t read_some(struct netstack *ns, int fd, uint8_t *buf, size_t cap, size_t want)
{
    size_t got = 0;
    ssize_t n;
    int i;

    for (i = 0; i < 200 && got < want; i++) {
        run(ns, 10);
        n = recv(fd, buf + got, cap - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0)
            break;
    }
    return got;
}

static void pcap_stream_turns_the_connection_into_a_capture(void **state)
{
    static const char req[] = "{\"execute\":\"pcap_stream\"}\n{\"execute\":\"list_hostfwd\"}\n";
    struct netstack *ns = stack_with(0);
    struct netstack_config cfg;
    struct ns_api_server *srv;
    char path[108], err[256];
    uint8_t buf[4096], f[256], icmp[64];
    uint32_t magic = 0xa1b2c3d4;
    size_t got;
    int fd;

    sock_path(path, sizeof(path), "pcap");
    netstack_config_init(&cfg);
    assert_int_equal(ns_api_start(ns, &cfg, path, &srv, err, sizeof(err)), 0);
    fd = connect_to(path);
    assert_int_equal(send(fd, req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);
    got = read_some(ns, fd, buf, sizeof(buf), 14 + 24);
    /* The reply, then a pcap file header (libpcap's, in host order), no more JSON. */
    assert_true(got >= 14 + 24);
    assert_memory_equal(buf, "{\"return\":{}}\n", 14);
    assert_memory_equal(buf + 14, &magic, 4);
    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, 1, 0, icmp, icmp_echo(icmp, 1, 1, 16)));
    got = read_some(ns, fd, buf, sizeof(buf), 2 * (16 + 58));
    assert_int_equal(got, 2 * (16 + 58));   /* the request and the reply, as records */
    assert_int_equal(((uint32_t *)(void *)buf)[2], 58);    /* caplen of the first */
    close(fd);
    ns_api_stop(srv);
    stack_done(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(add_hostfwd_as_slirp4netns_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(add_hostfwd_defaults_and_extensions, setup, teardown),
        cmocka_unit_test_setup_teardown(list_and_remove_hostfwd, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_lines_get_one_error_each, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_add_hostfwd_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(add_errors_from_the_stack_are_explained, setup, teardown),
        cmocka_unit_test_setup_teardown(get_stats_has_every_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(get_config_reports_the_config, setup, teardown),
        cmocka_unit_test_setup_teardown(list_flows_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(partial_lines_wait_for_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(oversize_line_is_an_error_then_close, setup, teardown),
        cmocka_unit_test_setup_teardown(unread_output_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(server_socket_file_and_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(server_refuses_to_replace_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(pcap_commands_check_their_arguments, setup, teardown),
        cmocka_unit_test(pcap_stream_turns_the_connection_into_a_capture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
