/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * live.h - netstack-pcap live: a running netstackd's capture, as it happens
 */
#ifndef NETSTACK_TOOLS_PCAP_LIVE_H
#define NETSTACK_TOOLS_PCAP_LIVE_H

/**
 * ns_pcap_live_main() - `live SOCKET [-w FILE] [-s SNAPLEN]`; argv[0] is "live"
 */
int ns_pcap_live_main(int argc, char **argv);

#endif /* NETSTACK_TOOLS_PCAP_LIVE_H */
