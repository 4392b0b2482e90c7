/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture_priv.h - private to capture.c (the stack's side) and
 * capture_writer.c (the writer thread's side)
 */
#ifndef NETSTACK_CAPTURE_PRIV_H
#define NETSTACK_CAPTURE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "netstack/include/netstack.h"

#define NS_CAPTURE_RING      (8u << 20)     /* bytes of frames waiting for the writer */
#define NS_CAPTURE_STREAM_BUF (2u << 20)    /* bytes waiting for one live reader */
#define NS_CAPTURE_SNAPLEN   262144u        /* tcpdump's default: every frame whole */
#define NS_CAPTURE_FILE_SIZE (64ull << 20)
#define NS_CAPTURE_FILE_MIN  (64ull << 10)
#define NS_CAPTURE_FILES     4u
#define NS_CAPTURE_FILES_MAX 1000u

/*
 * struct ns_capture_rec - one frame in the ring, followed by its bytes
 * @size:   bytes of the record with its header, a multiple of 8; 0 marks
 *          the end of the ring's contiguous space (the next record is at 0)
 * @caplen: bytes that follow
 * @len:    the frame's length on the link
 * @ts_ns:  when it was seen, ns since the epoch (or of config.clock_ns)
 */
struct ns_capture_rec {
    uint32_t size;
    uint32_t caplen;
    uint32_t len;
    uint32_t pad;
    uint64_t ts_ns;
};

/* struct ns_capture_file - the file sink (the writer's) */
struct ns_capture_file {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    char *path;
    uint64_t size;
    uint32_t files;
    uint32_t snaplen;
};

/*
 * struct ns_capture_stream - one live reader (the writer's)
 * @buf:    a pcap byte stream not yet sent, from @off to @len; libpcap's
 *          dumper writes into it through a stdio cookie
 */
struct ns_capture_stream {
    int fd;
    uint32_t snaplen;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint8_t *buf;
    size_t off, len;
};

enum ns_capture_op { NS_CAP_NONE, NS_CAP_START, NS_CAP_STOP, NS_CAP_STREAM, NS_CAP_QUIT };

/*
 * struct ns_capture - the shared state
 *
 * The ring is single-producer (the stack's thread), single-consumer (the
 * writer): @head is only written by the stack, @tail only by the writer.
 * @waiting:  the writer is about to sleep, or sleeps: wake it through @wakefd
 * @active:   sinks open (file + streams): the data path copies only when > 0
 * @snaplen:  the largest snap length of the open sinks
 * @kick:     frames were recorded since the last wakeup (stack's thread only)
 * @lock, @done: a command (@op, @arg, @rc) from the stack's thread; it waits
 *            for @done while the writer runs it
 * @file_frames ... @failed: the writer's counters and the error that ended
 *            the file capture (it then stops writing; pcap_stop still ends it)
 */
struct ns_capture {
    uint8_t *ring;
    _Atomic uint64_t head, tail;
    _Atomic int waiting;
    _Atomic int active;
    _Atomic uint32_t snaplen;
    int kick;
    int wakefd;
    pthread_t thread;

    pthread_mutex_t lock;
    pthread_cond_t done;
    enum ns_capture_op op;
    const void *arg;
    int rc;

    struct ns_capture_file file;    /* the writer's: file.dumper != NULL while it writes */
    int file_started;               /* the stack's: between pcap_start and pcap_stop */
    struct netstack_pcap_config file_cfg;   /* the stack's copy, for the status */
    struct ns_capture_stream streams[NETSTACK_PCAP_MAX_STREAMS];
    _Atomic uint32_t nstreams;

    _Atomic uint64_t file_frames, file_bytes, rotations, stream_dropped;
    _Atomic int failed;             /* errno that ended the file capture, 0: none */
    int failed_logged;
};

/**
 * ns_capture_writer() - the writer thread (capture_writer.c)
 */
void *ns_capture_writer(void *arg);

#endif /* NETSTACK_CAPTURE_PRIV_H */
