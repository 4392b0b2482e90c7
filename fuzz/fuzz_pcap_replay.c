/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pcap_replay.c - netstack-pcap replay on any capture file
 *
 * Input: the bytes of a capture file, opened by libpcap from memory. Its
 * frames from the guest's side go into a fresh, restricted stack (no host
 * sockets: the NAT refuses every flow), on the capture's clock, and the
 * stack's answers are written with libpcap to /dev/null. So a hostile capture
 * reaches libpcap's reader, the replay's clock (timestamps that jump back,
 * forward by years, or stand still) and the whole stack behind it. Between
 * two frames at most FUZZ_TIMER_STEPS timer runs happen, so that a gap of
 * years does not make one input take seconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "tools/pcap/replay.h"

#define FUZZ_TIMER_STEPS 200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t mac[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd };
    char err[PCAP_ERRBUF_SIZE + 256];
    struct ns_replay_opts o = { .mtu = 1500, .restricted = 1, .quiet = 1,
                                .timer_steps = FUZZ_TIMER_STEPS };
    struct ns_replay_result res;
    pcap_dumper_t *out;
    FILE *f;
    pcap_t *p;

    if (!size)
        return 0;
    f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    p = pcap_fopen_offline(f, err);
    if (!p) {
        fclose(f);
        return 0;
    }
    memcpy(o.gateway_mac, mac, 6);
    o.tso = size & 1;       /* both links, chosen by the input */
    /* libpcap declines to write some link types and snap lengths: no output then. */
    out = pcap_dump_open(p, "/dev/null");
    ns_replay_run(p, out, &o, &res, err, sizeof(err));
    if (out)
        pcap_dump_close(out);
    pcap_close(p);
    return 0;
}
