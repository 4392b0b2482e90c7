/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config.c - the versioned config and the stable statistics names
 *
 * An embedder built against an older netstack.h passes a shorter struct
 * netstack_config: the stack must read only the bytes that version declares
 * (each older struct here is a heap block of exactly that size, so the
 * memcheck/ run of this suite flags any read past it) and take the default
 * for everything newer. Every field's zero keeps its default. Statistics
 * names are an interface too (netstackd's stats, monitoring that scrapes
 * them): they only ever grow at the end, checked against stat_names.txt.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>

#include "netstack/stack.h"
#include "tests/unit/harness.h"

#ifndef NETSTACK_SOURCE_DIR
#error "NETSTACK_SOURCE_DIR must name the source tree (CMakeLists.txt sets it)"
#endif

/* The size of the struct each version of the header declared. */
static size_t declared_size(uint32_t version)
{
    switch (version) {
    case 1:
        return offsetof(struct netstack_config, send_gather);
    case 2:
        return offsetof(struct netstack_config, max_tx_queue_bytes);
    case 3:
        return offsetof(struct netstack_config, clock_ns);
    case 4:
        return offsetof(struct netstack_config, ipv6_prefix);
    case 5:
        return offsetof(struct netstack_config, dns_aaaa);
    case 6:
        return offsetof(struct netstack_config, dns_server);
    default:
        return sizeof(struct netstack_config);
    }
}

/*
 * Every scalar field that has a default, so a test can compare them one by
 * one; the flow limits, fitted to RLIMIT_NOFILE, are FITTED_FIELDS.
 */
#define DEFAULTED_FIELDS(X) \
    X(subnet.s_addr) X(prefix_len) X(gateway.s_addr) X(host_loopback.s_addr) \
    X(dhcp_first.s_addr) X(mtu) X(lease_seconds) X(max_reassembly) X(max_tx_queue) \
    X(log_level) X(max_pending_connects) \
    X(udp_idle_timeout_ms) X(icmp_idle_timeout_ms) X(dns_timeout_ms) \
    X(max_dns_inflight) X(max_tx_queue_bytes) X(max_tcp_half_open) X(max_tcp_closing) \
    X(max_tcp_queued_bytes) X(max_dns_tcp_connections) X(dns_tcp_idle_timeout_ms)
#define FITTED_FIELDS(X) X(max_tcp_connections) X(max_udp_flows) X(max_icmp_flows)

/*
 * The flow limits are fitted to RLIMIT_NOFILE (limits.c); raised to the hard
 * limit first, they keep their defaults wherever that is large enough.
 */
static int fds_fit_defaults(void)
{
    struct rlimit r;

    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    return getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur >= 32768;
}

/**
 * differs() - the first field of @ns's config that is not the default, NULL if none.
 */
static const char *differs(const struct netstack *ns)
{
    static char why[128];
    struct netstack_config def;
    int fit = fds_fit_defaults();

    netstack_config_init(&def);
#define CHECK(field) \
    if ((uint64_t)ns->cfg.field != (uint64_t)def.field) { \
        snprintf(why, sizeof(why), "%s is %llu, default %llu", #field, \
                 (unsigned long long)ns->cfg.field, (unsigned long long)def.field); \
        return why; \
    }
    DEFAULTED_FIELDS(CHECK)
    if (fit) {
        FITTED_FIELDS(CHECK)
    }
#undef CHECK
    if (memcmp(ns->cfg.gateway_mac, def.gateway_mac, 6))
        return "gateway_mac";
    /* (resolv_conf was read at start; the stack keeps no caller's string after it.) */
    if (strcmp(ns->cfg.domain_name, def.domain_name) ||
        strcmp(ns->cfg.search_domains, def.search_domains))
        return "a string";
    if (ns->cfg.dns_mode != def.dns_mode || ns->cfg.no_host_loopback ||
        ns->cfg.tcp_idle_timeout_ms || ns->cfg.restricted || ns->cfg.clock_ns ||
        ns->cfg.hosts_file || ns->cfg.no_dns || ns->cfg.no_dhcp || ns->cfg.dhcp_hostname)
        return "a field whose default is zero";
    if (ns->link.dns != ns->link.gateway || ns->cfg.dns_server.s_addr != htonl(ns->link.gateway) ||
        memcmp(&ns->link.dns6, &ns->link.gateway6, 16) || ns->link.host_loopback6.s6_addr[15] != 0xfe)
        return "the DNS server (the gateway) or the alias's IPv6 twin (::fe)";
    if (ns->link.gateway != IP(192, 168, 65, 1) || ns->link.host_loopback != IP(192, 168, 65, 254))
        return "the derived addresses";
    if (memcmp(&ns->cfg.ipv6_prefix, &def.ipv6_prefix, 16) || ns->cfg.no_ipv6 || !ns->link.ipv6)
        return "IPv6 (fd65:65::/64, on)";
    return NULL;
}

/**
 * expect_defaults() - free @ns, then fail if it did not run with the defaults.
 */
static void expect_defaults(struct netstack *ns)
{
    const char *why = differs(ns);

    stack_done(ns);
    if (why)
        fail_msg("not the default: %s", why);
}

static void zero_keeps_every_default(void **state)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    capture_reset();
    memset(&c, 0, sizeof(c));
    c.version = NETSTACK_CONFIG_VERSION;
    c.send_frames = capture_send;
    assert_int_equal(netstack_new(&c, &ns), 0);
    expect_defaults(ns);
}

/* An older caller: its struct ends where its version's did, on the heap. */
static void older_callers_get_defaults_for_the_rest(void **state)
{
    uint32_t v;

    for (v = 1; v < NETSTACK_CONFIG_VERSION; v++) {
        size_t size = declared_size(v);
        struct netstack_config full;
        struct netstack_config *old = malloc(size);
        struct netstack *ns = NULL;

        assert_non_null(old);
        capture_reset();
        netstack_config_init(&full);
        full.version = v;
        full.send_frames = capture_send;
        full.log = quiet_log;
        memcpy(old, &full, size);
        assert_int_equal(netstack_new(old, &ns), 0);
        free(old);          /* the stack keeps no pointer into it */
        assert_int_equal(ns->cfg.version, v);
        expect_defaults(ns);
    }
}

static void unknown_versions_are_refused(void **state)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.version = 0;
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    c.version = NETSTACK_CONFIG_VERSION + 1;
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    assert_null(ns);
}

/*
 * The committed list is the names in order. A renamed, removed or moved
 * counter fails here; a new one is appended to the header and to the list.
 */
static void stat_names_only_grow_at_the_end(void **state)
{
    FILE *f = fopen(NETSTACK_SOURCE_DIR "/tests/unit/stat_names.txt", "r");
    char line[128];
    unsigned i = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (!netstack_stat_name(i))
            fail_msg("stat_names.txt has %s at %u, the header has only %u counters", line, i,
                     (unsigned)NETSTACK_STAT_COUNT);
        if (strcmp(netstack_stat_name(i), line))
            fail_msg("counter %u is %s, stat_names.txt says %s: names only grow at the end", i,
                     netstack_stat_name(i), line);
        i++;
    }
    fclose(f);
    if (i != NETSTACK_STAT_COUNT)
        fail_msg("%u counters, stat_names.txt lists %u: append the new names to it",
                 (unsigned)NETSTACK_STAT_COUNT, i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_keeps_every_default),
        cmocka_unit_test(older_callers_get_defaults_for_the_rest),
        cmocka_unit_test(unknown_versions_are_refused),
        cmocka_unit_test(stat_names_only_grow_at_the_end),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
