/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - netstack-pcap: the guest link's captures, live, summarised, replayed
 *
 *   netstack-pcap live SOCKET [-w FILE] [-s SNAPLEN]
 *   netstack-pcap summary [--json] FILE...
 *   netstack-pcap replay IN.pcap [-w OUT.pcap] [--gateway-mac MAC] [--subnet CIDR]
 *                        [--mtu N] [--restricted]
 *
 * Exit status: 0; 1 when the work failed (the daemon went away, the stack
 * could not start); 2 for a bad command line or an unreadable capture.
 */
#include <stdio.h>
#include <string.h>

#include "netstack/include/netstack.h"
#include "tools/pcap/live.h"
#include "tools/pcap/replay.h"
#include "tools/pcap/summary.h"

static void usage(FILE *to)
{
    fputs("usage: netstack-pcap live SOCKET [-w FILE] [-s SNAPLEN]\n"
          "       netstack-pcap summary [--json] FILE...\n"
          "       netstack-pcap replay IN.pcap [-w OUT.pcap] [--gateway-mac MAC] [--subnet CIDR]\n"
          "                            [--mtu N] [--restricted]\n"
          "       netstack-pcap -h|--help | --version | COMMAND --help\n"
          "  live     stream a running netstackd's capture (its --api-socket) to\n"
          "           FILE or stdout, as pcap, until interrupted\n"
          "  summary  the guest, its flows, DNS and anomalies in captures\n"
          "           (rotated files oldest first: FILE.2 FILE.1 FILE)\n"
          "  replay   feed a capture's guest frames to a fresh stack, offline,\n"
          "           and write its answers (with the guest's frames) as pcap;\n"
          "           the stack's addresses as in the capture or as given\n"
          "  FILE or OUT.pcap \"-\" is stdout\n",
          to);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("netstack-pcap %s\n", netstack_version());
        return 0;
    }
    if (!strcmp(argv[1], "live"))
        return ns_pcap_live_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "summary"))
        return ns_pcap_summary_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "replay"))
        return ns_pcap_replay_main(argc - 1, argv + 1);
    fprintf(stderr, "netstack-pcap: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
