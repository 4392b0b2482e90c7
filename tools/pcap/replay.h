/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.h - netstack-pcap replay: a capture's guest frames into a fresh stack
 */
#ifndef NETSTACK_TOOLS_PCAP_REPLAY_H
#define NETSTACK_TOOLS_PCAP_REPLAY_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

/*
 * struct ns_replay_opts - how the capture was made
 * @gateway_mac: the stack's MAC: frames from any other are the guest's
 * @subnet, @prefix_len: the guest subnet (prefix 0: netstack's default)
 * @mtu:         the link MTU
 * @tso:         the link carried TSO super-frames (the stack may send them too)
 * @restricted:  no host sockets at all (config.restricted)
 * @quiet:       no log lines from the stack
 * @timer_steps: timer runs between two frames at most (0: 100000); past it
 *               the clock jumps to the next frame and due timers run once
 */
struct ns_replay_opts {
    uint8_t gateway_mac[6];
    struct in_addr subnet;
    uint8_t prefix_len;
    uint16_t mtu;
    int tso;
    int restricted;
    int quiet;
    unsigned timer_steps;
};

/* struct ns_replay_result - frames fed, answered, and the capture's own answers skipped */
struct ns_replay_result {
    uint64_t guest_frames;
    uint64_t super_frames;
    uint64_t answers;
    uint64_t stack_frames;
};

/**
 * ns_replay_run() - replay the open capture @in into a new stack
 * @out:    where the guest's frames and the answers go, NULL: nowhere
 * @err:    on failure, why
 * Return: 0; 1 when the stack did not start; 2 for a capture that is not
 * Ethernet or is truncated or corrupt (what was read before is replayed).
 */
int ns_replay_run(pcap_t *in, pcap_dumper_t *out, const struct ns_replay_opts *o,
                  struct ns_replay_result *res, char *err, size_t errlen);

/**
 * ns_pcap_replay_main() - `replay IN.pcap [-w OUT.pcap] ...`; argv[0] is "replay"
 */
int ns_pcap_replay_main(int argc, char **argv);

#endif /* NETSTACK_TOOLS_PCAP_REPLAY_H */
