/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pcap_summary.c - libFuzzer harness for `netstack-pcap summary`
 * (tools/pcap/summary.c)
 *
 * Each input is a whole capture file (pcap or pcapng), read by libpcap from
 * memory, so the fuzzer controls the file headers, every record's lengths
 * and timestamps and every frame's bytes. The summary takes in all of it and
 * writes both reports; everything is freed, so LeakSanitizer sees any leak.
 * Seeds: fuzz/corpus/pcap_summary/, written by fuzz/make_pcap_seeds.py.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <pcap/pcap.h>

#include "tools/pcap/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errbuf[PCAP_ERRBUF_SIZE], err[256];
    struct ns_summary *s;
    char *out = NULL;
    size_t out_len = 0;
    FILE *in, *sink;
    pcap_t *p;

    if (!size)
        return 0;               /* fmemopen() refuses an empty buffer */
    in = fmemopen((void *)data, size, "rb");
    if (!in)
        return 0;
    p = pcap_fopen_offline(in, errbuf);
    if (!p) {
        fclose(in);             /* not closed by libpcap on failure */
        return 0;
    }
    s = ns_summary_new();
    if (!s)
        abort();
    ns_summary_read(s, p, err, sizeof(err));
    pcap_close(p);              /* closes @in */

    sink = open_memstream(&out, &out_len);
    if (!sink)
        abort();
    if (ns_summary_print(s, sink, 0) || ns_summary_print(s, sink, 1))
        abort();                /* only out of memory or a write error may fail */
    fclose(sink);
    free(out);
    ns_summary_free(s);
    return 0;
}
