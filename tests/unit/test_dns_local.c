/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dns_local.c - unit tests for the local names (dns/local.c)
 *
 * Names added directly, through "NAME=IP" specs and from hosts files written
 * to a temporary directory, then looked up in other letter cases and with a
 * trailing dot. A name with only one family must still be local, so that the
 * other family gets NODATA.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/local.h"

/* --- Helpers --------------------------------------------------------------- */

static struct in_addr v4(const char *s)
{
    struct in_addr a;

    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a;
}

static struct in6_addr v6(const char *s)
{
    struct in6_addr a;

    assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
    return a;
}

/* has4() / has6() - is @s among the addresses? */
static int has4(const struct ns_dns_addrs *a, const char *s)
{
    struct in_addr want = v4(s);
    unsigned i;

    for (i = 0; i < a->n4; i++) {
        if (a->v4[i].s_addr == want.s_addr)
            return 1;
    }
    return 0;
}

static int has6(const struct ns_dns_addrs *a, const char *s)
{
    struct in6_addr want = v6(s);
    unsigned i;

    for (i = 0; i < a->n6; i++) {
        if (!memcmp(&a->v6[i], &want, sizeof(want)))
            return 1;
    }
    return 0;
}

static int setup(void **state)
{
    *state = ns_dns_local_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ns_dns_local_free(*state);
    return 0;
}

/**
 * hosts_file() - write @text to a temporary file; its path in @path.
 */
static void hosts_file(char *path, size_t cap, const char *text)
{
    FILE *f;
    int fd;

    snprintf(path, cap, "/tmp/test_dns_local.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* --- Tests ----------------------------------------------------------------- */

static void test_add_lookup(void **state)
{
    struct ns_dns_local *l = *state;
    struct in6_addr a6 = v6("fd00::fe");
    struct in_addr a4 = v4("192.168.65.254");
    struct ns_dns_addrs out;

    assert_int_equal(ns_dns_local_add(l, "host.internal", AF_INET, &a4), 0);
    assert_int_equal(ns_dns_local_add(l, "host.internal", AF_INET6, &a6), 0);
    assert_int_equal(ns_dns_local_lookup(l, "host.internal", &out), 1);
    assert_int_equal(out.n4, 1);
    assert_int_equal(out.n6, 1);
    assert_true(has4(&out, "192.168.65.254"));
    assert_true(has6(&out, "fd00::fe"));

    /* case and the trailing dot, both ways round */
    assert_int_equal(ns_dns_local_lookup(l, "HOST.Internal.", &out), 1);
    assert_int_equal(out.n4, 1);
    assert_int_equal(ns_dns_local_add(l, "Gateway.INTERNAL.", AF_INET, &a4), 0);
    assert_int_equal(ns_dns_local_lookup(l, "gateway.internal", &out), 1);

    /* not local */
    assert_int_equal(ns_dns_local_lookup(l, "internal", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "x.host.internal", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "host.internal..", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, ".", &out), 0);
}

static void test_one_family(void **state)
{
    struct ns_dns_local *l = *state;
    struct in_addr a4 = v4("10.0.0.7");
    struct ns_dns_addrs out;

    assert_int_equal(ns_dns_local_add(l, "v4only.internal", AF_INET, &a4), 0);
    memset(&out, 0xff, sizeof(out));
    assert_int_equal(ns_dns_local_lookup(l, "v4only.internal", &out), 1);
    assert_int_equal(out.n4, 1);
    assert_int_equal(out.n6, 0);        /* AAAA: NODATA, not NXDOMAIN */
}

static void test_duplicates_and_limit(void **state)
{
    struct ns_dns_local *l = *state;
    struct ns_dns_addrs out;
    struct in_addr a;
    unsigned i;

    for (i = 0; i < NS_DNS_ADDRS_MAX + 5; i++) {
        a.s_addr = htonl(0x0a000001 + i);
        assert_int_equal(ns_dns_local_add(l, "many", AF_INET, &a), 0);
        assert_int_equal(ns_dns_local_add(l, "MANY", AF_INET, &a), 0);
    }
    assert_int_equal(ns_dns_local_lookup(l, "many", &out), 1);
    assert_int_equal(out.n4, NS_DNS_ADDRS_MAX);
    assert_true(has4(&out, "10.0.0.1"));
    assert_int_equal(out.n6, 0);
}

static void test_bad_names(void **state)
{
    static const char *bad[] = {
        "", ".", "..", "a..b", ".a", "a b", "a/b", "a\\.b", "caf\xc3\xa9", "a*",
        NULL,
    };
    struct ns_dns_local *l = *state;
    struct in_addr a4 = v4("10.0.0.1");
    char name[300];
    unsigned i;

    for (i = 0; bad[i]; i++)
        assert_int_equal(ns_dns_local_add(l, bad[i], AF_INET, &a4), -EINVAL);
    assert_int_equal(ns_dns_local_add(l, NULL, AF_INET, &a4), -EINVAL);
    assert_int_equal(ns_dns_local_add(l, "ok", AF_UNIX, &a4), -EINVAL);

    /* labels of 63 and 64 */
    memset(name, 'a', 63);
    strcpy(name + 63, ".x");
    assert_int_equal(ns_dns_local_add(l, name, AF_INET, &a4), 0);
    memset(name, 'a', 64);
    strcpy(name + 64, ".x");
    assert_int_equal(ns_dns_local_add(l, name, AF_INET, &a4), -EINVAL);

    /* 253 characters, and 254 */
    for (i = 0; i < 253; i++)
        name[i] = (i % 2) ? '.' : 'b';
    name[253] = '\0';
    assert_int_equal(ns_dns_local_add(l, name, AF_INET, &a4), 0);
    name[253] = '.';
    name[254] = '\0';
    assert_int_equal(ns_dns_local_add(l, name, AF_INET, &a4), 0);   /* trailing dot */
    name[254] = 'c';
    name[255] = '\0';
    assert_int_equal(ns_dns_local_add(l, name, AF_INET, &a4), -EINVAL);

    /* hyphen, underscore, digits are fine */
    assert_int_equal(ns_dns_local_add(l, "_srv-1.my_host-2.internal", AF_INET, &a4), 0);
}

static void test_many_names(void **state)
{
    struct ns_dns_local *l = *state;
    struct ns_dns_addrs out;
    struct in_addr a;
    char name[32];
    unsigned i;

    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "n%u.example", i);
        a.s_addr = htonl(i);
        assert_int_equal(ns_dns_local_add(l, name, AF_INET, &a), 0);
    }
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "N%u.EXAMPLE.", i);
        assert_int_equal(ns_dns_local_lookup(l, name, &out), 1);
        assert_int_equal(out.n4, 1);
        assert_int_equal(ntohl(out.v4[0].s_addr), i);
    }
    assert_int_equal(ns_dns_local_lookup(l, "n5000.example", &out), 0);
}

static void test_specs(void **state)
{
    static const char *bad[] = {
        "", "=", "name", "name=", "=10.0.0.1", "name=10.0.0", "name=10.0.0.256",
        "name=::g", "bad name=10.0.0.1", "name=10.0.0.1 ", "name=[10.0.0.1", "a..b=::1",
        "name=fe80::1%lo", NULL,
    };
    struct ns_dns_local *l = *state;
    struct ns_dns_addrs out;
    unsigned i;

    assert_int_equal(ns_dns_local_add_spec(l, "db.test=10.1.2.3"), 0);
    assert_int_equal(ns_dns_local_add_spec(l, "DB.test.=fd00::db"), 0);
    assert_int_equal(ns_dns_local_add_spec(l, "loop6=[::1]"), 0);
    assert_int_equal(ns_dns_local_lookup(l, "db.test", &out), 1);
    assert_true(has4(&out, "10.1.2.3"));
    assert_true(has6(&out, "fd00::db"));
    assert_int_equal(ns_dns_local_lookup(l, "loop6", &out), 1);
    assert_int_equal(out.n4, 0);
    assert_true(has6(&out, "::1"));

    for (i = 0; bad[i]; i++)
        assert_int_equal(ns_dns_local_add_spec(l, bad[i]), -EINVAL);
    assert_int_equal(ns_dns_local_add_spec(l, NULL), -EINVAL);
    assert_int_equal(ns_dns_local_lookup(l, "name", &out), 0);
}

static void test_hosts_file(void **state)
{
    static const char text[] =
        "# /etc/hosts\n"
        "127.0.0.1\tlocalhost\n"
        "::1     localhost ip6-localhost ip6-loopback\n"
        "\n"
        "   \t  \n"
        "10.0.0.5 web.lan web www.LAN. # a comment after the names\n"
        "10.0.0.6 db.lan\t\tdb\r\n"
        "fd00::6 db.lan\n"
        "  # indented comment 10.0.0.9 commented.lan\n"
        "999.1.1.1 badaddr.lan\n"
        "10.0.0.7\n"
        "notanaddress name.lan\n"
        "10.0.0.8 good.lan bad..name also.lan\n"
        "fe80::1%eth0 scoped.lan\n"
        "10.0.0.10 last.lan";            /* no final newline */
    struct ns_dns_local *l = *state;
    struct ns_dns_addrs out;
    char path[64];

    hosts_file(path, sizeof(path), text);
    /* localhost x2, ip6-localhost, ip6-loopback, web.lan, web, www.lan,
     * db.lan, db, db.lan, good.lan, also.lan, last.lan */
    assert_int_equal(ns_dns_local_load_hosts(l, path), 13);
    unlink(path);

    assert_int_equal(ns_dns_local_lookup(l, "localhost", &out), 1);
    assert_true(has4(&out, "127.0.0.1"));
    assert_true(has6(&out, "::1"));
    assert_int_equal(ns_dns_local_lookup(l, "ip6-loopback", &out), 1);
    assert_int_equal(out.n4, 0);
    assert_int_equal(out.n6, 1);
    assert_int_equal(ns_dns_local_lookup(l, "WWW.lan", &out), 1);
    assert_true(has4(&out, "10.0.0.5"));
    assert_int_equal(ns_dns_local_lookup(l, "web", &out), 1);
    assert_int_equal(ns_dns_local_lookup(l, "db.lan", &out), 1);
    assert_true(has4(&out, "10.0.0.6"));
    assert_true(has6(&out, "fd00::6"));
    assert_int_equal(ns_dns_local_lookup(l, "db", &out), 1);
    assert_int_equal(out.n6, 0);
    assert_int_equal(ns_dns_local_lookup(l, "good.lan", &out), 1);
    assert_int_equal(ns_dns_local_lookup(l, "also.lan", &out), 1);
    assert_int_equal(ns_dns_local_lookup(l, "last.lan", &out), 1);
    assert_true(has4(&out, "10.0.0.10"));

    assert_int_equal(ns_dns_local_lookup(l, "commented.lan", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "badaddr.lan", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "name.lan", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "scoped.lan", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "notanaddress", &out), 0);
    assert_int_equal(ns_dns_local_lookup(l, "comment", &out), 0);
}

static void test_hosts_missing_and_empty(void **state)
{
    struct ns_dns_local *l = *state;
    char path[64];

    assert_int_equal(ns_dns_local_load_hosts(l, "/nonexistent/hosts"), -ENOENT);
    hosts_file(path, sizeof(path), "");
    assert_int_equal(ns_dns_local_load_hosts(l, path), 0);
    unlink(path);
    hosts_file(path, sizeof(path), "# nothing\n\n");
    assert_int_equal(ns_dns_local_load_hosts(l, path), 0);
    unlink(path);
}

/* A line far longer than any buffer, and bytes that are not text. */
static void test_hosts_long_line(void **state)
{
    struct ns_dns_local *l = *state;
    struct ns_dns_addrs out;
    char *text, path[64];
    size_t i, n = 100000;

    text = malloc(n + 64);
    assert_non_null(text);
    strcpy(text, "10.0.0.1 ");
    for (i = 9; i < n; i++)
        text[i] = (char)('a' + i % 26);
    strcpy(text + n, " \x01\xff ok.lan\n10.0.0.2 next.lan\n");
    hosts_file(path, sizeof(path), text);
    free(text);
    assert_int_equal(ns_dns_local_load_hosts(l, path), 2);
    unlink(path);
    assert_int_equal(ns_dns_local_lookup(l, "ok.lan", &out), 1);
    assert_int_equal(ns_dns_local_lookup(l, "next.lan", &out), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_family, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_specs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts_missing_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts_long_line, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
