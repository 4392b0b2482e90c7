/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_portfwd.c - forward specifications, and the table of forwards:
 * add binds at once, a busy port is an error, remove closes the port,
 * list reports in order, handles are not reused
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"

static uint16_t port_of(const struct netstack_forward *fw)
{
    return fw->host_addr.ss_family == AF_INET
               ? ntohs(((const struct sockaddr_in *)&fw->host_addr)->sin_port)
               : ntohs(((const struct sockaddr_in6 *)&fw->host_addr)->sin6_port);
}

static void specs(void **state)
{
    struct netstack_forward fw;
    char err[200];
    static const char *const bad[] = {
        "", "tcp", "tcp:", "sctp:80:80", "tcp:80", "tcp:0:80", "tcp:80:0", "tcp:70000:80",
        "tcp:1.2.3:80:80", "tcp:[::1:80:80", "tcp:[zz]:80:80", "tcp:90-80:80",
        "tcp:65535-65536:1", "tcp:8000-8010:65530", "tcp:80:80,preserve", "tcp:80:80x",
        "tcp:80:[::1:80", "tcp:80:[zz]:80", "tcp:80:1.2.3:80", "tcp:80:[::]:", "tcp:80:[::]80",
    };
    static const struct in6_addr guest6 = { .s6_addr = { 0xfd, 0x65, 0, 0x65, [15] = 2 } };
    size_t i;

    assert_int_equal(netstack_forward_parse("tcp:0.0.0.0:8080:80", &fw, err, sizeof(err)), 0);
    assert_int_equal(fw.proto, NETSTACK_PROTO_TCP);
    assert_int_equal(fw.host_addr.ss_family, AF_INET);
    assert_int_equal(port_of(&fw), 8080);
    assert_int_equal(fw.guest_port, 80);
    assert_int_equal(fw.count, 1);
    assert_true(fw.preserve_source);
    assert_int_equal(netstack_forward_parse("udp:5353:53,nopreserve", &fw, err, sizeof(err)), 0);
    assert_int_equal(fw.proto, NETSTACK_PROTO_UDP);
    assert_int_equal(((struct sockaddr_in *)&fw.host_addr)->sin_addr.s_addr, 0);
    assert_false(fw.preserve_source);
    assert_int_equal(netstack_forward_parse("tcp:[::]:8000-8009:9000", &fw, err, sizeof(err)), 0);
    assert_int_equal(fw.host_addr.ss_family, AF_INET6);
    assert_int_equal(port_of(&fw), 8000);
    assert_int_equal(fw.count, 10);
    assert_int_equal(fw.guest_port, 9000);
    assert_false(fw.guest_v6);
    /* A guest address: IPv4, or IPv6 (over IPv6; [::]: the one the guest uses) */
    assert_int_equal(netstack_forward_parse("tcp:8080:192.168.65.9:80", &fw, err, sizeof(err)), 0);
    assert_int_equal(fw.guest_addr.s_addr, htonl(0xc0a84109));
    assert_int_equal(fw.guest_port, 80);
    assert_false(fw.guest_v6);
    assert_int_equal(netstack_forward_parse("tcp:[::]:8080:[::]:80", &fw, err, sizeof(err)), 0);
    assert_true(fw.guest_v6);
    assert_true(IN6_IS_ADDR_UNSPECIFIED(&fw.guest_addr6));
    assert_int_equal(fw.guest_port, 80);
    assert_int_equal(netstack_forward_parse("udp:0.0.0.0:53:[fd65:65::2]:5353,nopreserve", &fw,
                                            err, sizeof(err)), 0);
    assert_true(fw.guest_v6);
    assert_memory_equal(&fw.guest_addr6, &guest6, 16);
    assert_int_equal(fw.guest_port, 5353);
    assert_false(fw.preserve_source);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (netstack_forward_parse(bad[i], &fw, err, sizeof(err)) != -EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_true(strlen(err) > 10);
    }
}

/**
 * connect_refused() - does a TCP connect to 127.0.0.1:@port get ECONNREFUSED?
 */
static int connect_refused(uint16_t port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED;
    close(fd);
    return rc;
}

/**
 * free_port() - a loopback TCP port nobody uses right now.
 */
static uint16_t free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static int count_cb(void *opaque, uint32_t id, const struct netstack_forward *fw)
{
    uint32_t *ids = opaque;

    ids[++ids[0]] = id;
    return 0;
}

static void add_remove_list(void **state)
{
    struct netstack *ns = stack_with(0);
    struct netstack_forward fw;
    uint32_t a, b, c, ids[8] = { 0 };
    uint16_t p1 = free_port(), p2 = free_port();
    char spec[64], err[200];

    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u:80", p1);
    assert_int_equal(netstack_forward_parse(spec, &fw, err, sizeof(err)), 0);
    assert_int_equal(netstack_forward_add(ns, &fw, &a), 0);
    assert_false(connect_refused(p1));              /* bound and listening now */
    assert_int_equal(netstack_forward_add(ns, &fw, &b), -EADDRINUSE);
    snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u:53", p2);
    assert_int_equal(netstack_forward_parse(spec, &fw, err, sizeof(err)), 0);
    assert_int_equal(netstack_forward_add(ns, &fw, &b), 0);
    assert_int_not_equal(a, b);
    assert_int_equal(netstack_forward_list(ns, count_cb, ids), 0);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], a);
    assert_int_equal(ids[2], b);
    assert_int_equal(netstack_forward_remove(ns, a), 0);
    assert_true(connect_refused(p1));               /* no new connections */
    assert_int_equal(netstack_forward_remove(ns, a), -ENOENT);
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u:80", p1);
    assert_int_equal(netstack_forward_parse(spec, &fw, err, sizeof(err)), 0);
    assert_int_equal(netstack_forward_add(ns, &fw, &c), 0);
    assert_true(c != a && c != b);                  /* handles are not reused */
    fw.guest_addr.s_addr = htonl(GW);               /* the gateway is no guest */
    assert_int_equal(netstack_forward_add(ns, &fw, &a), -EINVAL);
    stack_done(ns);
    assert_true(connect_refused(p1));               /* freed with the stack */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(specs),
        cmocka_unit_test(add_remove_list),
    };

    return cmocka_run_group_tests_name("portfwd", tests, NULL, NULL);
}
