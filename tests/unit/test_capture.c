/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_capture.c - captures of the guest link: files, rotation, live streams
 *
 * Every capture is read back with libpcap, as tshark or any other reader
 * would read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include "harness.h"

/**
 * ping() - an echo request to the gateway with sequence @seq and @len bytes of data
 */
static void ping(struct netstack *ns, uint16_t seq, size_t len)
{
    uint8_t f[2048], icmp[1600];

    netstack_input(ns, f, ipv4_frame(f, GUEST, GW, IPPROTO_ICMP, seq, 0, icmp,
                                     icmp_echo(icmp, 1, seq, len)));
}

/**
 * tmp_path() - a fresh path in a new temporary folder
 */
static void tmp_path(char *buf, size_t len, const char *name)
{
    char dir[] = "/tmp/test_capture.XXXXXX";

    assert_non_null(mkdtemp(dir));
    snprintf(buf, len, "%s/%s", dir, name);
}

/**
 * echo_seq() - the ICMP sequence number of an echo frame from ipv4_frame()
 */
static uint16_t echo_seq(const uint8_t *f)
{
    return get16(f + 14 + 20 + 6);
}

/**
 * read_capture() - every record of the pcap file @path
 * @seqs:   the ICMP sequence of each record, up to @max
 * @from_guest: per record, 1 when its source MAC is the guest's
 * Return: the number of records; the file must read to its end without error
 */
static int read_capture(const char *path, uint16_t *seqs, int *from_guest, int max)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0, rc;
    pcap_t *p = pcap_open_offline(path, err);

    assert_non_null(p);
    assert_int_equal(pcap_datalink(p), DLT_EN10MB);
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        assert_int_equal(h->caplen, h->len);
        if (n < max) {
            seqs[n] = h->caplen >= 42 ? echo_seq(d) : 0;
            from_guest[n] = !memcmp(d + 6, guest_mac, 6);
        }
        n++;
    }
    assert_int_equal(rc, PCAP_ERROR_BREAK);     /* the end, not a truncated record */
    pcap_close(p);
    return n;
}

static void file_holds_exactly_the_interval(void **state)
{
    struct netstack_pcap_config pc = { 0 };
    struct netstack_pcap_status st;
    struct netstack *ns = stack_with(0);
    uint16_t seqs[32];
    int guest[32], i, n;
    char path[256];

    tmp_path(path, sizeof(path), "cap.pcap");
    pc.path = path;
    for (i = 0; i < 3; i++)
        ping(ns, (uint16_t)i, 16);
    assert_int_equal(netstack_pcap_start(ns, &pc), 0);
    assert_int_equal(netstack_pcap_start(ns, &pc), -EBUSY);
    for (i = 10; i < 15; i++)
        ping(ns, (uint16_t)i, 16);
    assert_int_equal(netstack_pcap_status(ns, &st), 0);
    assert_true(st.file_active);
    assert_string_equal(st.path, path);
    assert_int_equal(st.files, 4);
    assert_int_equal(st.file_size, 64u << 20);
    assert_int_equal(netstack_pcap_stop(ns), 0);
    assert_int_equal(netstack_pcap_stop(ns), -ENOENT);
    for (i = 20; i < 22; i++)
        ping(ns, (uint16_t)i, 16);

    n = read_capture(path, seqs, guest, 32);
    assert_int_equal(n, 10);    /* five requests and their replies, nothing else */
    for (i = 0; i < n; i++) {
        assert_int_equal(seqs[i], 10 + i / 2);
        assert_int_equal(guest[i], i % 2 == 0);
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_pcap_frames), 10);
    assert_int_equal(counter(ns, NETSTACK_STAT_pcap_dropped), 0);
    assert_int_equal(netstack_pcap_status(ns, &st), 0);
    assert_false(st.file_active);
    stack_done(ns);
}

/**
 * file_size() - bytes of @path, -1 when it does not exist
 */
static long long file_size(const char *path)
{
    struct stat s;

    return stat(path, &s) == 0 ? (long long)s.st_size : -1;
}

static void rotation_keeps_the_total_bounded(void **state)
{
    struct netstack_pcap_config pc = { .file_size = 64 << 10, .files = 3 };
    struct netstack_pcap_status st;
    struct netstack *ns = stack_with(0);
    char path[256], name[300];
    uint16_t seqs[256];
    int guest[256], i, n;
    long long total = 0;

    tmp_path(path, sizeof(path), "rot.pcap");
    pc.path = path;
    assert_int_equal(netstack_pcap_start(ns, &pc), 0);
    for (i = 0; i < 400; i++)
        ping(ns, (uint16_t)i, 1000);    /* 800 frames of 1042 bytes: 13 files' worth */
    assert_int_equal(netstack_pcap_stop(ns), 0);
    assert_int_equal(netstack_pcap_status(ns, &st), 0);     /* the counts outlive the stop */
    assert_true(st.rotations >= 10);
    assert_int_equal(st.file_frames, 800);
    for (i = 0; i < 4; i++) {
        if (i)
            snprintf(name, sizeof(name), "%s.%d", path, i);
        else
            snprintf(name, sizeof(name), "%s", path);
        if (i == 3) {
            assert_int_equal(file_size(name), -1);     /* .3 fell off */
            break;
        }
        assert_true(file_size(name) > 0);
        assert_true(file_size(name) <= 64 << 10);
        total += file_size(name);
        n = read_capture(name, seqs, guest, 256);       /* each file is whole */
        assert_true(n > (i ? 55 : 0));                  /* the older ones full: 61 fit */
    }
    assert_true(total <= 3 * (64 << 10));
    /* The newest file ends with the last reply. */
    n = read_capture(path, seqs, guest, 256);
    assert_int_equal(seqs[n - 1], 399);
    assert_false(guest[n - 1]);
    stack_done(ns);
}

/**
 * read_stream() - what arrives on @fd until it has been quiet for 300 ms
 * Return: the bytes (to free()), their number in *@len
 */
static uint8_t *read_stream(int fd, size_t *len)
{
    size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t k;

    *len = 0;
    while (poll(&p, 1, 300) > 0) {
        if (*len == cap)
            buf = realloc(buf, cap *= 2);
        k = read(fd, buf + *len, cap - *len);
        if (k <= 0)
            break;
        *len += (size_t)k;
    }
    return buf;
}

/**
 * count_records() - records in a pcap byte stream, which must parse whole
 */
static int count_records(const uint8_t *buf, size_t len)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0, rc;
    FILE *f = fmemopen((void *)buf, len, "r");
    pcap_t *p;

    assert_non_null(f);
    p = pcap_fopen_offline(f, err);
    assert_non_null(p);
    while ((rc = pcap_next_ex(p, &h, &d)) == 1)
        n++;
    assert_int_equal(rc, PCAP_ERROR_BREAK);
    pcap_close(p);      /* closes @f */
    return n;
}

static void stream_carries_header_and_records(void **state)
{
    struct netstack *ns = stack_with(0);
    struct netstack_pcap_status st;
    uint8_t *buf;
    size_t len;
    int sv[2], i;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(netstack_pcap_stream(ns, sv[0], 0), 0);
    for (i = 0; i < 3; i++)
        ping(ns, (uint16_t)i, 16);
    buf = read_stream(sv[1], &len);
    assert_int_equal(count_records(buf, len), 6);
    free(buf);
    /* The reader leaves: the stream is closed and forgotten. */
    close(sv[1]);
    for (i = 0; i < 100; i++) {
        ping(ns, (uint16_t)i, 16);      /* the writer sees the hang-up when it wakes */
        assert_int_equal(netstack_pcap_status(ns, &st), 0);
        if (!st.streams)
            break;
        usleep(10000);
    }
    assert_int_equal(st.streams, 0);
    stack_done(ns);
}

static void slow_reader_loses_whole_records_only(void **state)
{
    struct netstack *ns = stack_with(0);
    int sv[2], i, small = 4096, n;
    uint64_t frames, dropped, lost;
    uint8_t *buf;
    size_t len;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    assert_int_equal(netstack_pcap_stream(ns, sv[0], 0), 0);
    /* 6000 frames, 6.3 MB, into a reader that reads nothing meanwhile. */
    for (i = 0; i < 3000; i++) {
        ping(ns, (uint16_t)i, 1000);
        capture_reset();    /* only the counters matter here */
    }
    assert_int_equal(counter(ns, NETSTACK_STAT_icmp_echo_replies), 3000);   /* the link lost nothing */
    buf = read_stream(sv[1], &len);
    n = count_records(buf, len);
    free(buf);
    frames = counter(ns, NETSTACK_STAT_pcap_frames);
    dropped = counter(ns, NETSTACK_STAT_pcap_stream_dropped);
    lost = counter(ns, NETSTACK_STAT_pcap_dropped);
    assert_true(dropped > 0);
    assert_true(n > 0);
    assert_int_equal((uint64_t)n + dropped, frames);
    assert_int_equal(frames + lost, 6000);
    close(sv[1]);
    stack_done(ns);
}

static void streams_are_bounded(void **state)
{
    struct netstack *ns = stack_with(0);
    int sv[NETSTACK_PCAP_MAX_STREAMS + 1][2], i;

    for (i = 0; i <= NETSTACK_PCAP_MAX_STREAMS; i++)
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]), 0);
    for (i = 0; i < NETSTACK_PCAP_MAX_STREAMS; i++)
        assert_int_equal(netstack_pcap_stream(ns, sv[i][0], 0), 0);
    assert_int_equal(netstack_pcap_stream(ns, sv[i][0], 0), -EBUSY);
    assert_int_equal(fcntl(sv[i][0], F_GETFD), -1);     /* refused, and closed */
    stack_done(ns);     /* closes the others */
    for (i = 0; i < NETSTACK_PCAP_MAX_STREAMS; i++) {
        char c;

        assert_int_equal(fcntl(sv[i][0], F_GETFD), -1);
        assert_true(read(sv[i][1], &c, 1) >= 0);        /* header or EOF, never a hang */
        close(sv[i][1]);
    }
    close(sv[i][1]);
}

static void bad_captures_are_refused(void **state)
{
    struct netstack_pcap_config pc = { 0 };
    struct netstack *ns = stack_with(0);
    char path[256];

    assert_int_equal(netstack_pcap_start(ns, &pc), -EINVAL);    /* no path */
    tmp_path(path, sizeof(path), "x.pcap");
    pc.path = path;
    pc.file_size = 1000;
    assert_int_equal(netstack_pcap_start(ns, &pc), -EINVAL);    /* under 64 KiB */
    pc.file_size = 0;
    pc.files = 1001;
    assert_int_equal(netstack_pcap_start(ns, &pc), -EINVAL);
    pc.files = 0;
    pc.path = "/nonexistent/dir/x.pcap";
    assert_int_equal(netstack_pcap_start(ns, &pc), -ENOENT);
    assert_int_equal(netstack_pcap_stop(ns), -ENOENT);
    assert_int_equal(netstack_pcap_stream(ns, -1, 0), -EINVAL);
    stack_done(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_holds_exactly_the_interval),
        cmocka_unit_test(rotation_keeps_the_total_bounded),
        cmocka_unit_test(stream_carries_header_and_records),
        cmocka_unit_test(slow_reader_loses_whole_records_only),
        cmocka_unit_test(streams_are_bounded),
        cmocka_unit_test(bad_captures_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
