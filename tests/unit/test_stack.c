/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_stack.c - the public API: lifetime, config checks, backpressure, loop
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <valgrind/valgrind.h>

#include "tests/unit/harness.h"

static void one_stack_per_process(void **state)
{
    struct netstack *ns = stack_with(0), *second = NULL;
    struct netstack_config c;

    netstack_config_init(&c);
    c.send_frames = capture_send;
    assert_int_equal(netstack_new(&c, &second), -EBUSY);
    assert_null(second);
    stack_done(ns);
    /* Once freed, a new one can be made (lwIP state was cleaned up). */
    ns = stack_with(0);
    stack_done(ns);
}

static void bad_configs_are_refused(void **state)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    netstack_config_init(&c);
    c.log = quiet_log;
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);           /* no send_frames */
    c.send_frames = capture_send;
    c.mtu = 100;
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    c.mtu = 1500;
    c.prefix_len = 31;
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    c.prefix_len = 24;
    c.gateway.s_addr = htonl(IP(10, 0, 0, 1));                  /* outside the subnet */
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.subnet.s_addr = htonl(IP(192, 168, 65, 7));               /* host bits set */
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    c.version = 99;
    assert_int_equal(netstack_new(&c, &ns), -EINVAL);
    assert_null(ns);
}

static void stat_names_are_stable(void **state)
{
    assert_string_equal(netstack_stat_name(NETSTACK_STAT_frames_in), "frames_in");
    assert_string_equal(netstack_stat_name(NETSTACK_STAT_drop_ipv4_checksum), "drop_ipv4_checksum");
    assert_null(netstack_stat_name(NETSTACK_STAT_COUNT));
}

/**
 * ping() - an echo request to the gateway with sequence @seq.
 */
static void ping(struct netstack *ns, uint16_t seq)
{
    uint8_t f[256], icmp[64];

    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, seq, 0, icmp,
                                     icmp_echo(icmp, 1, seq, 16)));
}

static void backpressure_keeps_order_and_drops_nothing(void **state)
{
    struct netstack *ns = stack_with(0);
    uint16_t seq;
    size_t i;

    captured.accept = 0;            /* the transport is full */
    for (seq = 0; seq < 10; seq++)
        ping(ns, seq);
    assert_int_equal(captured.n, 0);
    assert_true(counter(ns, NETSTACK_STAT_tx_backpressure) >= 1);
    captured.accept = 3;            /* it drains slowly */
    netstack_output_ready(ns);
    assert_int_equal(captured.n, 3);
    captured.accept = -1;
    netstack_output_ready(ns);
    assert_int_equal(captured.n, 10);
    for (i = 0; i < 10; i++)
        assert_int_equal(get16(captured.frame[i] + 34 + 6), i);
    assert_int_equal(counter(ns, NETSTACK_STAT_frames_out), 10);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tx_queue_full), 0);
    stack_done(ns);
}

static void no_guest_and_link_down_drop_and_count(void **state)
{
    struct netstack *ns = stack_with(0);

    captured.gone = 1;
    ping(ns, 1);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tx_no_guest), 1);
    captured.gone = 0;
    captured.accept = 0;
    ping(ns, 2);
    netstack_link_down(ns);         /* frames for a guest that left are dropped */
    captured.accept = -1;
    netstack_output_ready(ns);
    assert_int_equal(captured.n, 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tx_no_guest), 2);
    stack_done(ns);
}

static int pipe_fds[2];
static int reads;

static void on_pipe(void *opaque, int fd, uint32_t events)
{
    struct netstack *ns = opaque;
    char c;

    assert_true(events & NETSTACK_EV_IN);
    assert_int_equal(read(fd, &c, 1), 1);
    if (++reads == 2)
        netstack_stop(ns);
}

static void run_dispatches_watches_until_stopped(void **state)
{
    struct netstack *ns = stack_with(0);

    assert_int_equal(pipe(pipe_fds), 0);
    assert_true(netstack_fd(ns) >= 0);
    assert_int_equal(netstack_watch(ns, pipe_fds[0], NETSTACK_EV_IN, on_pipe, ns), 0);
    assert_int_equal(write(pipe_fds[1], "ab", 2), 2);
    reads = 0;
    assert_int_equal(netstack_run(ns), 0);
    assert_int_equal(reads, 2);
    assert_int_equal(netstack_unwatch(ns, pipe_fds[0]), 0);
    assert_int_equal(netstack_unwatch(ns, pipe_fds[0]), -ENOENT);
    assert_int_equal(write(pipe_fds[1], "c", 1), 1);
    assert_int_equal(netstack_dispatch(ns), 0);     /* unwatched: no callback */
    assert_int_equal(reads, 2);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    assert_int_equal(netstack_watch(ns, -1, NETSTACK_EV_IN, on_pipe, ns), -EINVAL);
    stack_done(ns);
}

static void stop_before_run_is_honoured(void **state)
{
    struct netstack *ns = stack_with(0);

    netstack_stop(ns);              /* e.g. SIGTERM between create and run */
    assert_int_equal(netstack_run(ns), 0);
    assert_int_equal(pipe(pipe_fds), 0);
    assert_int_equal(netstack_watch(ns, pipe_fds[0], NETSTACK_EV_IN, on_pipe, ns), 0);
    assert_int_equal(write(pipe_fds[1], "ab", 2), 2);
    reads = 0;
    assert_int_equal(netstack_run(ns), 0);  /* runs again until the callback stops it */
    assert_int_equal(reads, 2);
    netstack_unwatch(ns, pipe_fds[0]);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    stack_done(ns);
}

static void oversized_frames_are_dropped(void **state)
{
    struct netstack *ns = stack_with(1500);
    static uint8_t big[1600];

    memcpy(big, gw_mac, 6);
    memcpy(big + 6, guest_mac, 6);
    put16(big + 12, 0x0800);
    netstack_input(ns, big, 1514 + 4);              /* MTU plus a VLAN tag: accepted size */
    netstack_input(ns, big, 1514 + 5);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_jumbo), 1);
    assert_int_equal(netstack_input(ns, NULL, 10), -EINVAL);
    stack_done(ns);
}

/**
 * big_ping() - an echo request to the gateway whose reply is a 1442-byte frame.
 */
static void big_ping(struct netstack *ns, uint16_t seq)
{
    uint8_t f[1600], icmp[1500];

    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, seq, 0, icmp,
                                     icmp_echo(icmp, 1, seq, 1400)));
}

static void tx_queue_is_bounded_in_bytes(void **state)
{
    struct netstack_config c;
    struct netstack *ns;
    size_t i, bytes = 0;
    uint16_t seq;

    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = quiet_log;
    c.max_tx_queue_bytes = 128 * 1024;     /* 90 replies; the frame limit (4096) is far */
    assert_int_equal(netstack_new(&c, &ns), 0);
    captured.accept = 0;
    for (seq = 0; seq < 200; seq++)
        big_ping(ns, seq);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tx_queue_full), 200 - 90);
    captured.accept = -1;
    netstack_output_ready(ns);
    assert_int_equal(captured.n, 90);
    for (i = 0; i < captured.n; i++)
        bytes += captured.len[i];
    assert_true(bytes <= c.max_tx_queue_bytes);
    for (i = 0; i < captured.n; i++)    /* the first ones, in order */
        assert_int_equal(get16(captured.frame[i] + 34 + 6), i);
    stack_done(ns);
}

static char last_warning[512];

static void keep_warning(void *opaque, enum netstack_log_level l, const char *msg)
{
    (void)opaque;
    if (l == NETSTACK_LOG_WARN)
        snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

static void flow_limits_fit_the_descriptor_limit(void **state)
{
    struct netstack_config c;
    struct rlimit old, low;
    struct netstack *ns;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 1024;        /* the usual default soft limit */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.log = keep_warning;
    last_warning[0] = '\0';
    assert_int_equal(netstack_new(&c, &ns), 0);
    /* 896 descriptors for 20736 flows: each limit in proportion, ICMP's floor kept. */
    assert_non_null(strstr(last_warning, "max_tcp_connections 16384 -> 707"));
    assert_non_null(strstr(last_warning, "max_udp_flows 4096 -> 176"));
    assert_non_null(strstr(last_warning, "max_icmp_flows 256 -> 32"));
    stack_done(ns);
    /* Limits that fit are left alone. */
    c.max_tcp_connections = 500;
    c.max_udp_flows = 100;
    c.max_icmp_flows = 10;
    last_warning[0] = '\0';
    assert_int_equal(netstack_new(&c, &ns), 0);
    assert_string_equal(last_warning, "");
    stack_done(ns);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

static void accept_sheds_a_connection_without_descriptors(void **state)
{
    struct netstack *ns = stack_with(0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    static int filler[4096];
    int lfd, client, nfill = 0;
    struct rlimit old, low;
    char b;

    if (RUNNING_ON_VALGRIND) {
        /* It keeps descriptors of its own past the limit, and accept() gets one. */
        print_message("skipped under valgrind: its descriptor limit is not the kernel's\n");
        skip();
    }
    lfd = loopback_listener(&sa.sin_port);
    sa.sin_port = htons(sa.sin_port);
    fcntl(lfd, F_SETFL, O_NONBLOCK);
    client = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(client, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)client + 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (nfill < 4096 && (filler[nfill] = dup(client)) >= 0)
        nfill++;
    assert_int_equal(errno, EMFILE);
    assert_int_equal(netstack_accept(ns, lfd, NULL, NULL), -EMFILE);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_accept_no_fd), 1);
    assert_int_equal(netstack_accept(ns, lfd, NULL, NULL), -EAGAIN);    /* nothing pending */
    assert_int_equal(recv(client, &b, 1, 0), 0);    /* the client heard it close */
    while (nfill)
        close(filler[--nfill]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    close(client);
    close(lfd);
    stack_done(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_stack_per_process),
        cmocka_unit_test(bad_configs_are_refused),
        cmocka_unit_test(stat_names_are_stable),
        cmocka_unit_test(backpressure_keeps_order_and_drops_nothing),
        cmocka_unit_test(no_guest_and_link_down_drop_and_count),
        cmocka_unit_test(run_dispatches_watches_until_stopped),
        cmocka_unit_test(stop_before_run_is_honoured),
        cmocka_unit_test(oversized_frames_are_dropped),
        cmocka_unit_test(tx_queue_is_bounded_in_bytes),
        cmocka_unit_test(flow_limits_fit_the_descriptor_limit),
        cmocka_unit_test(accept_sheds_a_connection_without_descriptors),
    };

    return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
