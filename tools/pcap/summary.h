/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * summary.h - `netstack-pcap summary`: a report of what happened on a guest's
 * Ethernet link to netstack, from one capture or several (rotated) files
 *
 * The engine takes frames one at a time, as libpcap gives them, and keeps
 * bounded state: the two sides of the link (guest and stack), every TCP, UDP
 * and ICMP echo flow, DNS transactions, DHCP exchanges and anomalies. Nothing
 * it is given is trusted; a frame is never kept after ns_summary_frame()
 * returns. The report is written by ns_summary_print(), as text or as one
 * JSON object, and can be written any number of times.
 */
#ifndef NETSTACK_PCAP_SUMMARY_H
#define NETSTACK_PCAP_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include <pcap/pcap.h>

/* Exit status of ns_pcap_summary_main() for a bad command line or capture file. */
#define NS_PCAP_SUMMARY_EXIT_USAGE  2

struct ns_summary;

/**
 * ns_summary_new() - an empty summary. Return: it, NULL if out of memory.
 */
struct ns_summary *ns_summary_new(void);

/**
 * ns_summary_free() - free @s and everything it holds (NULL is fine).
 */
void ns_summary_free(struct ns_summary *s);

/**
 * ns_summary_frame() - take in one Ethernet frame
 * @s:      summary
 * @ts:     its capture timestamp
 * @data:   the captured bytes (untrusted), only read during the call
 * @caplen: how many were captured
 * @len:    the frame's length on the wire; above @caplen when the snap
 *          length cut it (a @len below @caplen is taken as @caplen)
 *
 * Never fails: a frame that does not parse is counted under its reason, and
 * state that would pass the bounds is counted as untracked instead.
 */
void ns_summary_frame(struct ns_summary *s, const struct timeval *ts, const uint8_t *data,
                      size_t caplen, size_t len);

/**
 * ns_summary_print() - write the report
 * @s:      summary
 * @out:    stream to write it to
 * @json:   0 for the plain-text report (sections Guest, Flows, DNS, Anomalies,
 *          Totals), nonzero for one JSON object with the keys "guest",
 *          "flows", "dns", "anomalies" and "totals"
 *
 * Return: 0, -1 if out of memory or writing failed
 */
int ns_summary_print(struct ns_summary *s, FILE *out, int json);

/**
 * ns_summary_read() - read a whole capture from @p into @s
 * @s:      summary
 * @p:      an offline capture (pcap_open_offline() or pcap_fopen_offline());
 *          still the caller's to close
 * @err:    buffer for a one-line reason on failure
 * @errlen: its size
 *
 * Return: 0, -1 if the link type is not Ethernet (DLT_EN10MB) or libpcap
 * reports the file truncated or corrupt. Frames read before an error stay in @s.
 */
int ns_summary_read(struct ns_summary *s, pcap_t *p, char *err, size_t errlen);

/**
 * ns_pcap_summary_main() - `netstack-pcap summary [--json] FILE...`
 * @argc:   argument count
 * @argv:   argv[0] is the subcommand's name ("summary"), then the user's
 *          arguments
 *
 * The files are read in the order given, as one capture (rotated files:
 * FILE.2 FILE.1 FILE), and the report goes to stdout.
 *
 * Return: the exit status: 0; NS_PCAP_SUMMARY_EXIT_USAGE (2) for a bad
 * command line, or a file that cannot be opened or read, is truncated or
 * corrupt, or is not an Ethernet capture, with one line on stderr naming the
 * file (and nothing on stdout); 1 if the report cannot be written
 */
int ns_pcap_summary_main(int argc, char **argv);

#endif /* NETSTACK_PCAP_SUMMARY_H */
