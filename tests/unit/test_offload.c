/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_offload.c - checksums, super-segments and offloads on the guest link
 *
 * The guest is played segment by segment with an MSS option, the host side is
 * a real listening socket on 127.0.0.1 reached through the alias. Checked:
 * host data leaves as segments no larger than the guest's MSS, with complete
 * checksums, when the link offers nothing; as TSO super-frames with partial
 * checksums when it offers CSUM and TSO4; super-frames and partial checksums
 * from a TSO guest are taken whatever the MTU; and which checksums are
 * verified on which link.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lwip/pbuf.h"

#include "netstack/lwip_glue.h"
#include "tests/unit/harness.h"

static int listen_fd;
static uint16_t listen_port;

#define SYN 0x02
#define PSH 0x08
#define ACK 0x10
#define GUEST_MSS 1000
#define BIG (64 * 1024)

static uint32_t snd_nxt, rcv_nxt;
static uint16_t gport = 41000;

/**
 * tcp_frame() - a segment from the guest; @csum: 1 complete, 0 left at the pseudo-header sum.
 */
static size_t tcp_frame(uint8_t *f, uint8_t flags, const uint8_t *data, size_t len, int csum)
{
    static uint8_t t[24 + 70000];
    size_t hl = (flags & SYN) ? 24 : 20;

    memset(t, 0, hl);
    put16(t, gport);
    put16(t + 2, listen_port);
    put32(t + 4, snd_nxt);
    put32(t + 8, (flags & ACK) ? rcv_nxt : 0);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = flags;
    put16(t + 14, 65535);
    if (flags & SYN) {
        t[20] = 2;              /* MSS option */
        t[21] = 4;
        put16(t + 22, GUEST_MSS);
    }
    if (len)
        memcpy(t + hl, data, len);
    if (csum)
        put16(t + 16, ns_csum_fold(ns_csum_add(ns_csum_pseudo4(GUEST, ALIAS, IPPROTO_TCP, hl + len),
                                               t, hl + len)));
    else
        put16(t + 16, (uint16_t)~ns_csum_fold(ns_csum_pseudo4(GUEST, ALIAS, IPPROTO_TCP, hl + len)));
    snd_nxt += (uint32_t)len + ((flags & SYN) ? 1 : 0);
    return ipv4_frame(f, GUEST, ALIAS, IPPROTO_TCP, 1, 0, t, hl + len);
}

static void send_plain(struct netstack *ns, uint8_t flags, const uint8_t *data, size_t len)
{
    static uint8_t f[14 + 20 + 24 + 70000];

    netstack_input(ns, f, tcp_frame(f, flags, data, len, 1));
}

/**
 * tcp_of() - captured frame @i if it is a TCP segment to the guest's port, else NULL.
 */
static const uint8_t *tcp_of(size_t i)
{
    const uint8_t *f = captured.frame[i];

    if (captured.len[i] < 54 || get16(f + 12) != 0x0800 || f[23] != IPPROTO_TCP ||
        get16(f + 36) != gport)
        return NULL;
    return f + 34;
}

/**
 * handshake() - SYN with an MSS option, SYN-ACK, ACK; returns the host's socket.
 */
static int handshake(struct netstack *ns)
{
    const uint8_t *t = NULL;
    size_t i;
    int fd;

    gport++;
    snd_nxt = 5000;
    capture_reset();
    send_plain(ns, SYN, NULL, 0);
    run(ns, 50);
    for (i = 0; i < captured.n && !t; i++)
        t = tcp_of(i);
    assert_non_null(t);
    assert_int_equal(t[13] & (SYN | ACK), SYN | ACK);
    rcv_nxt = get32(t + 4) + 1;
    send_plain(ns, ACK, NULL, 0);
    run(ns, 20);
    fd = accept(listen_fd, NULL, NULL);
    assert_true(fd >= 0);
    capture_reset();
    return fd;
}

/**
 * receive() - what the stack sent the guest since the last call, acked
 * @out:        payload, in order, appended at *@got
 * @tso:        frames that were super-frames (checked against the guest's MSS)
 *
 * Every frame's IPv4 checksum must hold; its TCP checksum must hold once
 * completed where the frame says it is partial, and as it is otherwise.
 */
static void receive(struct netstack *ns, uint8_t *out, size_t *got, size_t *tso)
{
    size_t i;

    for (i = 0; i < captured.n; i++) {
        const uint8_t *t = tcp_of(i), *ip = captured.frame[i] + 14;
        const struct netstack_offload *o = &captured.off[i];
        size_t tlen, dlen;
        uint32_t sum;

        if (!t)
            continue;
        tlen = get16(ip + 2) - 20u;
        dlen = tlen - (size_t)(t[12] >> 4) * 4;
        assert_int_equal(ns_csum(ip, 20), 0);
        sum = ns_csum_add(0, t, tlen);
        if (o->flags & NETSTACK_OFFLOAD_F_NEEDS_CSUM) {
            /* The field holds the pseudo-header sum: the rest completes it. */
            assert_int_equal(o->csum_start, 34);
            assert_int_equal(o->csum_offset, 16);
            assert_int_equal(get16(t + 16),
                             (uint16_t)~ns_csum_fold(ns_csum_pseudo4(ALIAS, GUEST, IPPROTO_TCP,
                                                                     tlen)));
            /* As the receiver does: the sum from csum_start, stored at the offset. */
            put16((uint8_t *)t + 16, ns_csum_fold(sum));
            sum = ns_csum_add(0, t, tlen);
        }
        {
            assert_int_equal(ns_csum_fold(sum + ns_csum_pseudo4(ALIAS, GUEST, IPPROTO_TCP, tlen)), 0);
        }
        if (o->gso_type) {
            assert_int_equal(o->gso_type, NETSTACK_GSO_TCPV4);
            assert_int_equal(o->gso_size, GUEST_MSS);
            assert_int_equal(o->hdr_len, 54);
            assert_true(dlen > GUEST_MSS);
            (*tso)++;
        } else {
            assert_true(dlen <= GUEST_MSS);
        }
        if (get32(t + 4) != rcv_nxt)
            continue;
        memcpy(out + *got, t + (t[12] >> 4) * 4, dlen);
        *got += dlen;
        rcv_nxt += (uint32_t)dlen;
    }
    capture_reset();
    send_plain(ns, ACK, NULL, 0);
}

/*
 * The embedder's send_gather(): frames assembled from their pieces into the
 * capture; every @refuse_every-th call would block, and then nothing more is
 * taken until netstack_output_ready() (as a real transport behaves).
 */
static unsigned gather_calls, refuse_every;
static int gather_blocked;

static int capture_gather(void *opaque, const struct iovec *iov, size_t n,
                          const struct netstack_offload *off)
{
    size_t i, len = 0;
    uint8_t *f;

    (void)opaque;
    if (gather_blocked || (refuse_every && ++gather_calls % refuse_every == 0)) {
        gather_blocked = 1;
        return 0;
    }
    if (captured.n >= MAX_CAPTURE)
        return 0;
    for (i = 0; i < n; i++)
        len += iov[i].iov_len;
    f = malloc(len);
    for (len = 0, i = 0; i < n; i++) {
        memcpy(f + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    captured.frame[captured.n] = f;
    captured.len[captured.n] = len;
    captured.off[captured.n++] = *off;
    return 1;
}

/**
 * unblock() - the transport drained: let the stack send again.
 */
static void unblock(struct netstack *ns)
{
    if (gather_blocked) {
        gather_blocked = 0;
        netstack_output_ready(ns);
    }
}

/**
 * download() - @n bytes from the host to the guest; returns how many super-frames carried them.
 */
static size_t download(struct netstack *ns, int fd, size_t n)
{
    static uint8_t want[BIG], got_buf[BIG + 65536];
    size_t i, got = 0, tso = 0, sent = 0;

    for (i = 0; i < n; i++)
        want[i] = (uint8_t)(i * 31 + i / 977);
    for (i = 0; i < 400 && got < n; i++) {
        if (sent < n) {
            ssize_t w = send(fd, want + sent, n - sent, MSG_DONTWAIT);

            if (w > 0)
                sent += (size_t)w;
        }
        run(ns, 5);
        receive(ns, got_buf, &got, &tso);
        unblock(ns);
    }
    assert_int_equal(got, n);
    assert_memory_equal(got_buf, want, n);
    return tso;
}

static int setup(void **state)
{
    *state = stack_with(65520);
    listen_fd = loopback_listener(&listen_port);
    return 0;
}

static int setup_gather(void **state)
{
    struct netstack_config c;
    struct netstack *ns = NULL;

    capture_reset();
    netstack_config_init(&c);
    c.send_frames = capture_send;
    c.send_gather = capture_gather;
    c.log = quiet_log;
    assert_int_equal(netstack_new(&c, &ns), 0);
    gather_calls = 0;
    gather_blocked = 0;
    refuse_every = 3;
    *state = ns;
    listen_fd = loopback_listener(&listen_port);
    return 0;
}

static int teardown(void **state)
{
    stack_done(*state);
    close(listen_fd);
    return 0;
}

/* A plain link: super-segments are cut to the guest's MSS in software. */
static void plain_link_gets_mss_sized_segments(void **state)
{
    struct netstack *ns = *state;
    int fd = handshake(ns);

    assert_int_equal(download(ns, fd, BIG), 0);
    assert_true(counter(ns, NETSTACK_STAT_gso_segments_out) >= BIG / GUEST_MSS);
    assert_int_equal(counter(ns, NETSTACK_STAT_tso_frames_out), 0);
    close(fd);
}

/* CSUM + TSO4: the same bytes as super-frames with partial checksums. */
static void tso_link_gets_super_frames(void **state)
{
    struct netstack *ns = *state;
    int fd;

    assert_int_equal(netstack_set_offloads(ns, NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4), 0);
    fd = handshake(ns);
    assert_true(download(ns, fd, BIG) > 0);
    assert_true(counter(ns, NETSTACK_STAT_tso_frames_out) > 0);
    close(fd);
}

/* CSUM alone: cut in software, checksums left partial. */
static void csum_link_gets_partial_checksums(void **state)
{
    struct netstack *ns = *state;
    int fd;
    size_t i, partial = 0, got = 0, tso = 0;
    uint8_t abc[65536];

    assert_int_equal(netstack_set_offloads(ns, NETSTACK_LINK_CSUM), 0);
    fd = handshake(ns);
    assert_int_equal(send(fd, "abc", 3, 0), 3);
    run(ns, 30);
    for (i = 0; i < captured.n; i++)
        if (tcp_of(i) && (captured.off[i].flags & NETSTACK_OFFLOAD_F_NEEDS_CSUM))
            partial++;
    assert_true(partial >= 1);
    receive(ns, abc, &got, &tso);
    assert_int_equal(got, 3);
    assert_memory_equal(abc, "abc", 3);
    assert_int_equal(download(ns, fd, BIG), 0);
    close(fd);
}

/*
 * send_gather(): the same bytes, handed over from where the stack keeps them,
 * on a plain link (checksums summed in place) and a TSO link, with the
 * transport refusing every third frame (those are queued and sent in order).
 */
static void gathered_frames_keep_order_and_checksums(void **state)
{
    struct netstack *ns = *state;
    int fd = handshake(ns);

    assert_int_equal(download(ns, fd, BIG), 0);
    /* Some frames went straight through, then the refusal queued the rest. */
    assert_true(gather_calls >= 3);
    assert_int_equal(counter(ns, NETSTACK_STAT_tx_backpressure), 1);
    close(fd);
    assert_int_equal(netstack_set_offloads(ns, NETSTACK_LINK_CSUM | NETSTACK_LINK_TSO4), 0);
    refuse_every = 0;       /* all of it through send_gather() */
    fd = handshake(ns);
    assert_true(download(ns, fd, BIG) > 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_tx_backpressure), 1);
    close(fd);
}

static void bad_offload_sets_are_refused(void **state)
{
    struct netstack *ns = *state;

    assert_int_equal(netstack_set_offloads(ns, NETSTACK_LINK_TSO4), -EINVAL);
    assert_int_equal(netstack_set_offloads(ns, 0x100), -EINVAL);
    assert_int_equal(netstack_set_offloads(ns, 0), 0);
}

/* A TSO guest: one 30000-byte segment at MTU 1500 with a partial checksum. */
static void super_frames_from_the_guest_are_taken(void **state)
{
    static uint8_t data[30000], f[14 + 20 + 20 + sizeof(data)], back[sizeof(data)];
    struct netstack *ns = stack_with(1500);
    struct netstack_frame fr = { 0 };
    size_t i, len, got = 0;
    int fd;

    (void)state;
    listen_fd = loopback_listener(&listen_port);
    fd = handshake(ns);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    /* Without offload state, a frame this size is a jumbo frame: dropped. */
    len = tcp_frame(f, ACK | PSH, data, sizeof(data), 0);
    snd_nxt -= sizeof(data);
    netstack_input(ns, f, len);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_jumbo), 1);
    /* As a GSO frame with NEEDS_CSUM, it is one segment for lwIP. */
    fr.data = f;
    fr.len = len;
    fr.offload = (struct netstack_offload){ .flags = NETSTACK_OFFLOAD_F_NEEDS_CSUM,
        .gso_type = NETSTACK_GSO_TCPV4, .hdr_len = 54, .gso_size = 1448, .csum_start = 34,
        .csum_offset = 16 };
    assert_int_equal(netstack_input_batch(ns, &fr, 1), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_gso_frames_in), 1);
    for (i = 0; i < 50 && got < sizeof(back); i++) {
        ssize_t r;

        run(ns, 5);
        r = recv(fd, back + got, sizeof(back) - got, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
    }
    assert_int_equal(got, sizeof(data));
    assert_memory_equal(back, data, sizeof(data));
    /* A GSO claim on anything but TCP is dropped. */
    len = ipv4_frame(f, GUEST, ALIAS, IPPROTO_UDP, 2, 0, data, 3000);
    fr.len = len;
    assert_int_equal(netstack_input_batch(ns, &fr, 1), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_gso_malformed), 1);
    close(fd);
    close(listen_fd);
    stack_done(ns);
}

/* Which checksums are verified: all of them on a plain link, none with INTEGRITY. */
static void checksums_verified_unless_the_link_vouches(void **state)
{
    static uint8_t f[200];
    struct netstack *ns = *state;
    size_t len;
    int fd = handshake(ns);
    char buf[16];

    len = tcp_frame(f, ACK | PSH, (const uint8_t *)"bad", 3, 0);    /* partial: wrong here */
    netstack_input(ns, f, len);
    run(ns, 20);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tcp_checksum), 1);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
    assert_int_equal(netstack_set_offloads(ns, NETSTACK_LINK_INTEGRITY), 0);
    netstack_input(ns, f, len);     /* the same bytes again: now taken */
    run(ns, 20);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 3);
    assert_memory_equal(buf, "bad", 3);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_tcp_checksum), 1);
    close(fd);
}

/*
 * A USO guest's super-datagram (GSO_UDP_L4): one UDP header, 3500 payload
 * bytes, gso_size 1200: the host socket receives three datagrams, 1200, 1200
 * and 1100 bytes, in order. A GSO claim for UDP on a TCP packet is dropped.
 */
static void udp_super_datagrams_are_cut(void **state)
{
    static uint8_t u[8 + 3500], f[14 + 20 + sizeof(u)], got[4096];
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    struct netstack *ns = *state;
    struct netstack_frame fr = { 0 };
    size_t i, sizes[3] = { 1200, 1200, 1100 }, at = 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    for (i = 0; i < 3500; i++)
        u[8 + i] = (uint8_t)(i / 1200 + 'a');
    put16(u, 40000);
    put16(u + 2, ntohs(sa.sin_port));
    put16(u + 4, sizeof(u));
    put16(u + 6, 0x1234);           /* partial: never checked */
    fr.data = f;
    fr.len = ipv4_frame(f, GUEST, ALIAS, IPPROTO_UDP, 5, 0, u, sizeof(u));
    fr.offload = (struct netstack_offload){ .flags = NETSTACK_OFFLOAD_F_NEEDS_CSUM,
        .gso_type = NETSTACK_GSO_UDP_L4, .gso_size = 1200, .hdr_len = 42, .csum_start = 34,
        .csum_offset = 6 };
    assert_int_equal(netstack_input_batch(ns, &fr, 1), 0);
    run(ns, 20);
    for (i = 0; i < 3; i++) {
        ssize_t n = recv(fd, got, sizeof(got), MSG_DONTWAIT);

        assert_int_equal(n, (ssize_t)sizes[i]);
        assert_memory_equal(got, u + 8 + at, sizes[i]);
        at += sizes[i];
    }
    assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), -1);
    assert_int_equal(counter(ns, NETSTACK_STAT_gso_frames_in), 1);
    fr.offload.gso_type = NETSTACK_GSO_TCPV4;       /* a UDP packet claiming TSO */
    assert_int_equal(netstack_input_batch(ns, &fr, 1), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_gso_malformed), 1);
    fr.offload.gso_type = NETSTACK_GSO_UDP_L4;      /* 350 datagrams: more than a kernel makes */
    fr.offload.gso_size = 10;
    assert_int_equal(netstack_input_batch(ns, &fr, 1), 0);
    assert_int_equal(counter(ns, NETSTACK_STAT_drop_gso_malformed), 2);
    assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), -1);
    close(fd);
}

/* Borrowed pbufs in a relay queue become copies in place; the tail follows. */
static void own_pbufs_copies_borrowed_ones(void **state)
{
    uint8_t frame[100];
    struct pbuf *a = pbuf_alloc(PBUF_RAW, 10, PBUF_RAM), *b = pbuf_alloc(PBUF_RAW, 40, PBUF_REF);
    struct pbuf *c = pbuf_alloc(PBUF_RAW, 30, PBUF_REF), *list, *tail = NULL;

    (void)state;
    memset(frame, 'x', sizeof(frame));
    memset(a->payload, 'a', 10);
    b->payload = frame;
    c->payload = frame + 40;
    a->next = b;
    b->next = c;
    list = a;
    assert_int_equal(ns_lwip_own_pbufs(&list, &tail), 0);
    memset(frame, 0, sizeof(frame));    /* the frame goes away */
    assert_ptr_equal(list, a);
    assert_false(PBUF_NEEDS_COPY(a->next) || PBUF_NEEDS_COPY(a->next->next));
    assert_ptr_equal(tail, a->next->next);
    assert_int_equal(a->next->len, 40);
    assert_int_equal(((uint8_t *)a->next->payload)[39], 'x');
    assert_int_equal(tail->len, 30);
    assert_int_equal(((uint8_t *)tail->payload)[0], 'x');
    pbuf_free(list);
}

/**
 * shrink_nat_socket() - the stack's host socket towards @port (this process's
 * own fd) gets a small send buffer, so the relay cannot write all it has.
 */
static void shrink_nat_socket(uint16_t port)
{
    int fd, small = 4096, found = 0;

    for (fd = 3; fd < 1024; fd++) {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);

        if (getpeername(fd, (struct sockaddr *)&sa, &len) || sa.sin_family != AF_INET ||
            ntohs(sa.sin_port) != port)
            continue;
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
        found++;
    }
    assert_int_equal(found, 1);
}

/*
 * A guest's large in-order segments reach lwIP by reference to the input
 * frame, which the embedder reuses (here: the same static buffer, overwritten
 * for every segment). The host does not read and its socket buffers are
 * small, so most bytes are still queued when each input call returns: they
 * must have been copied by then, and the host must read exactly what was sent.
 */
static void borrowed_payload_outlives_its_frame(void **state)
{
    /* 60 KB: within the 64 KiB window of a guest without window scaling. */
    static uint8_t seg[3000], want[20 * sizeof(seg)], got[sizeof(want)];
    struct netstack *ns = *state;
    int fd, small = 4096;
    size_t i, n = 0;

    assert_int_equal(setsockopt(listen_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    fd = handshake(ns);
    shrink_nat_socket(listen_port);
    for (i = 0; i < sizeof(want); i++)
        want[i] = (uint8_t)(i * 7 + i / 3000);
    for (i = 0; i < sizeof(want) / sizeof(seg); i++) {
        memcpy(seg, want + i * sizeof(seg), sizeof(seg));
        send_plain(ns, ACK | PSH, seg, sizeof(seg));
        memset(seg, 0xee, sizeof(seg));     /* the frame's memory is reused */
    }
    /* A few KiB per round trip through the small buffers: up to 20 s. */
    for (i = 0; i < 20000 && n < sizeof(got); i++) {
        ssize_t r = recv(fd, got + n, sizeof(got) - n, MSG_DONTWAIT);

        if (r > 0)
            n += (size_t)r;
        netstack_dispatch(ns);
        if (i % 64 == 0) {
            capture_reset();
            send_plain(ns, ACK, NULL, 0);
        }
    }
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(got, want, sizeof(want));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(plain_link_gets_mss_sized_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(tso_link_gets_super_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(csum_link_gets_partial_checksums, setup, teardown),
        cmocka_unit_test_setup_teardown(gathered_frames_keep_order_and_checksums, setup_gather,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_offload_sets_are_refused, setup, teardown),
        cmocka_unit_test(super_frames_from_the_guest_are_taken),
        cmocka_unit_test_setup_teardown(borrowed_payload_outlives_its_frame, setup, teardown),
        cmocka_unit_test(own_pbufs_copies_borrowed_ones),
        cmocka_unit_test_setup_teardown(udp_super_datagrams_are_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(checksums_verified_unless_the_link_vouches, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
