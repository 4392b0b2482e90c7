#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""report.py - the number crunching of tools/bench.sh (standard library only).

  report.py iperf-tcp FILE    iperf3 -J output -> "Gbit/s bytes" received
  report.py iperf-udp FILE    iperf3 -u -J output -> "received-Gbit/s loss-%"
  report.py wrk FILE          wrk output -> requests/s
  report.py wrk-latency FILE  wrk --latency output -> "p50 p99" in microseconds
  report.py table RESULTS NOTES [options]   the final table

A figure that cannot be read prints the reason on stderr and exits 1; warnings
(wrk socket errors, non-2xx answers) go to stderr with exit 0. bench.sh turns
stderr into notes under the table.
"""
import argparse
import json
import os
import re
import sys

COLUMNS = {
    "loop": "loopback",
    "nsd": "netstackd",
    "nsdnooff": "nsd no-offl",
    "pasta": "pasta",
    "slirp": "slirp4netns",
    "nslib": "nsd libslirp",
}
SHORT = {"pasta": "pasta", "slirp": "slirp"}   # peer names in the ratio cells
PEERS = ("pasta", "slirp")
NETSTACKDS = (("nsd", "nsd"), ("nsdnooff", "no-offl"))

# (key, label, unit, higher_is_better, number format)
ROWS = [
    ("tcp_up_1500", "TCP guest->host, MTU 1500", "Gbit/s", True, "%.2f"),
    ("tcp_down_1500", "TCP host->guest, MTU 1500", "Gbit/s", True, "%.2f"),
    ("tcp_up_65520", "TCP guest->host, MTU 65520", "Gbit/s", True, "%.2f"),
    ("tcp_down_65520", "TCP host->guest, MTU 65520", "Gbit/s", True, "%.2f"),
    ("tcp6_up_1500", "TCP over IPv6 guest->host, MTU 1500", "Gbit/s", True, "%.2f"),
    ("tcp6_down_1500", "TCP over IPv6 host->guest, MTU 1500", "Gbit/s", True, "%.2f"),
    ("tcp6_up_65520", "TCP over IPv6 guest->host, MTU 65520", "Gbit/s", True, "%.2f"),
    ("tcp6_down_65520", "TCP over IPv6 host->guest, MTU 65520", "Gbit/s", True, "%.2f"),
    ("http_ka", "HTTP keep-alive, {conns} conns", "req/s", True, "%.0f"),
    ("http_cc", "HTTP new connection each", "conn/s", True, "%.0f"),
    ("lat_p50", "HTTP latency p50, 1 conn", "us", False, "%.1f"),
    ("lat_p99", "HTTP latency p99, 1 conn", "us", False, "%.1f"),
    ("udp_rx", "UDP guest->host at {udp}", "Gbit/s", True, "%.3f"),
    ("udp_loss", "UDP loss at {udp}", "%", False, "%.2f"),
    ("cpu_1500", "stack CPU per GB, TCP, MTU 1500", "s/GB", False, "%.2f"),
    ("cpu_65520", "stack CPU per GB, TCP, MTU 65520", "s/GB", False, "%.2f"),
    ("rss", "stack peak RSS (VmHWM)", "MiB", False, "%.1f"),
    ("idle_rss_before", "stack RSS, idle, before {idle} conns", "MiB", False, "%.1f"),
    ("idle_rss_after", "stack RSS with {idle} idle conns", "MiB", False, "%.1f"),
    ("idle_per_conn", "RSS per idle connection", "bytes", False, "%.0f"),
    ("idle_up", "TCP guest->host, {idle} idle conns", "Gbit/s", True, "%.2f"),
    ("idle_up_pct", "  ... of the figure without them", "%", True, "%.0f"),
    ("idle_down", "TCP host->guest, {idle} idle conns", "Gbit/s", True, "%.2f"),
    ("idle_down_pct", "  ... of the figure without them", "%", True, "%.0f"),
    ("qemu", "QEMU guest download, MTU 65520 ({qemu} MiB)", "MB/s", True, "%.1f"),
    ("qemu_up", "QEMU guest upload, MTU 65520 ({qemuup} MiB)", "MB/s", True, "%.1f"),
    ("qemu_1500", "QEMU guest download, MTU 1500", "MB/s", True, "%.1f"),
    ("qemu_up_1500", "QEMU guest upload, MTU 1500", "MB/s", True, "%.1f"),
    ("qemu_cpu", "stack CPU per GB, QEMU guest, MTU 65520", "s/GB", False, "%.2f"),
    ("qemu_stream", "  netstackd --listen-qemu: download, 65520", "MB/s", True, "%.1f"),
    ("qemu_stream_up", "  ... upload, 65520", "MB/s", True, "%.1f"),
    ("qemu_stream_1500", "  ... download, 1500", "MB/s", True, "%.1f"),
    ("qemu_stream_up_1500", "  ... upload, 1500", "MB/s", True, "%.1f"),
    ("qemu_stream_cpu", "  ... stack CPU per GB, 65520", "s/GB", False, "%.2f"),
]
QEMU_ROWS = {"qemu", "qemu_up", "qemu_1500", "qemu_up_1500", "qemu_cpu", "qemu_stream",
             "qemu_stream_up", "qemu_stream_1500", "qemu_stream_up_1500", "qemu_stream_cpu"}
IDLE_ROWS = {"idle_rss_before", "idle_rss_after", "idle_per_conn", "idle_up", "idle_up_pct",
             "idle_down", "idle_down_pct"}
NO_CEILING = {"cpu_1500", "cpu_65520", "rss"} | IDLE_ROWS | QEMU_ROWS
MTU_65520_ONLY = {"http_ka", "http_cc", "lat_p50", "lat_p99", "udp_rx", "udp_loss", "rss"} | IDLE_ROWS


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def read_output(path, tool):
    """The text TOOL wrote to PATH, or exit saying it wrote none."""
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        fail("no %s output (%s)" % (tool, e))


def load_iperf(path):
    text = read_output(path, "iperf3")
    try:
        d = json.loads(text)
    except ValueError:
        fail("iperf3 gave no JSON (timed out?): %s" % " ".join(text.split())[:200])
    if "error" in d:
        fail("iperf3: %s" % d["error"])
    return d


def iperf_tcp(path):
    end = load_iperf(path)["end"]
    s = end["sum_received"]
    # The sender's retransmissions (known when the client sends): a lossy
    # path explains a low figure.
    rtx = end.get("sum_sent", {}).get("retransmits")
    secs = end.get("sum_sent", {}).get("seconds") or 1
    if rtx and rtx / secs > 100:
        print("%d TCP retransmissions by the sender (%.0f/s)" % (rtx, rtx / secs), file=sys.stderr)
    print("%.2f %d" % (s["bits_per_second"] / 1e9, s["bytes"]))


def iperf_udp(path):
    end = load_iperf(path)["end"]
    s = end.get("sum_received") or end["sum"]
    loss = end["sum"]["lost_percent"]
    bps = s["bits_per_second"]
    if "sum_received" not in end:  # older iperf3: sender rate, scale by the loss
        bps *= 1 - loss / 100
    print("%.3f %.2f" % (bps / 1e9, loss))


def read_wrk(path):
    text = read_output(path, "wrk")
    for pat in (r"Socket errors:.*", r"Non-2xx or 3xx responses:.*"):
        m = re.search(pat, text)
        if m:
            print("wrk: " + m.group(0).strip(), file=sys.stderr)
    return text


def wrk_rps(path):
    text = read_wrk(path)
    m = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.M)
    if not m:
        fail("wrk: %s" % " ".join(text.split())[:200])
    print("%.0f" % float(m.group(1)))


UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def wrk_latency(path):
    text = read_wrk(path)
    got = {}
    for pct, num, unit in re.findall(r"^\s*(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s|m)\s*$", text, re.M):
        got[pct] = float(num) * UNITS[unit]
    if "50" not in got or "99" not in got:
        fail("wrk --latency: %s" % " ".join(text.split())[:200])
    print("%.1f %.1f" % (got["50"], got["99"]))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def compare(mine, ref, higher):
    """netstackd against a reference, worded so direction is explicit."""
    a, b = num(mine), num(ref)
    if a is None or b is None:
        return "-"
    if a == b:
        return "same"
    if higher:
        if b == 0:
            return "better (ref 0)"
        if a == 0:
            return "worse (0)"
        r = a / b
    else:
        if a == 0:
            return "better (0)"
        if b == 0:
            return "worse (ref 0)"
        r = b / a
    if abs(r - 1) < 0.005:
        return "same"
    return "%.2fx %s" % (r if r > 1 else 1 / r, "better" if r > 1 else "worse")


def not_applicable(key, col):
    """Cells that cannot exist: loopback has no stack process and no QEMU
    guest; the tap offload switch means nothing to QEMU's stream socket; the
    idle connections are measured with the default (offloads) only."""
    return ((col == "loop" and key in NO_CEILING) or (col == "nsdnooff" and key in QEMU_ROWS)
            or (col == "nsdnooff" and key in IDLE_ROWS)
            or (col in PEERS and key.startswith("qemu_stream"))
            or (col in ("slirp", "nslib") and key in ("qemu_cpu", "qemu_stream", "qemu_stream_up",
                                                     "qemu_stream_1500", "qemu_stream_up_1500",
                                                     "qemu_stream_cpu")))


def fmt(v, spec):
    x = num(v)
    return "-" if x is None else spec % x


def ipv6_against_ipv4(cells):
    """netstackd's IPv6 TCP figures as percentages of its IPv4 ones, as text."""
    parts = []
    for mtu in ("1500", "65520"):
        for way, name in (("up", "guest->host"), ("down", "host->guest")):
            a = num(cells.get(("tcp6_%s_%s" % (way, mtu), "nsd")))
            b = num(cells.get(("tcp_%s_%s" % (way, mtu), "nsd")))
            if a is not None and b:
                parts.append("%s MTU %s %.0f%%" % (name, mtu, 100 * a / b))
    return ", ".join(parts)


def qemu_against(cells):
    """netstackd's vhost-user QEMU figures against its stream socket and libslirp, as text."""
    parts = []
    for key, name in (("qemu", "download 65520"), ("qemu_up", "upload 65520"),
                      ("qemu_1500", "download 1500"), ("qemu_up_1500", "upload 1500")):
        vu = num(cells.get((key, "nsd")))
        st = num(cells.get((key.replace("qemu", "qemu_stream", 1), "nsd")))
        sl = num(cells.get((key, "slirp")))
        if vu is None:
            continue
        txt = name
        if st:
            txt += " %.2fx --listen-qemu" % (vu / st)
        if sl:
            txt += ", %.2fx libslirp" % (vu / sl)
        parts.append(txt)
    return "; ".join(parts)


def nslib_against(cells):
    """netstack's libslirp.so.0 against libslirp under the same slirp4netns and QEMU, as text."""
    parts = []
    for key, name in (("tcp_up_1500", "TCP guest->host 1500"), ("tcp_down_1500", "TCP host->guest 1500"),
                      ("tcp_up_65520", "TCP guest->host 65520"),
                      ("tcp_down_65520", "TCP host->guest 65520"), ("http_cc", "new connections"),
                      ("qemu_1500", "QEMU download"), ("qemu_up_1500", "QEMU upload")):
        ours, theirs = num(cells.get((key, "nslib"))), num(cells.get((key, "slirp")))
        if ours is not None and theirs:
            parts.append("%s %.2fx" % (name, ours / theirs))
    return ", ".join(parts)


def table(args):
    cells = {}
    with open(args.results) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[2] not in ("", "-"):
                cells[(parts[0], parts[1])] = parts[2]
    notes = []
    if os.path.exists(args.notes):
        with open(args.notes) as f:
            notes = [l.rstrip("\n") for l in f if l.strip()]
    cols = args.columns.split()
    peers = [c for c in PEERS if c in cols]
    # Ratio columns only for a netstackd variant that has figures.
    mine = [(c, n) for c, n in NETSTACKDS if any(k[1] == c for k in cells)]
    idle = int(args.idle or 0)
    fill = {"conns": args.conns, "udp": args.udp, "qemu": args.qemu, "qemuup": args.qemu_up,
            "idle": "%dk" % (idle // 1000) if idle and idle % 1000 == 0 else str(idle)}

    header = ["measurement", "unit"] + [COLUMNS[c] for c in cols]
    for c, name in mine:
        header += (["%s vs best peer" % name] if peers else []) + ["%s vs loopback" % name]
    rows = []
    for key, label, unit, higher, spec in ROWS:
        if key in QEMU_ROWS and args.qemu == "0":
            continue
        if key in IDLE_ROWS and not idle:
            continue
        label = label.format(**fill)
        if key in MTU_65520_ONLY:
            label += " (65520)"
        row = [label, unit + (" ^" if higher else " v")]
        row += ["n/a" if not_applicable(key, c) else fmt(cells.get((key, c)), spec) for c in cols]
        for c, _ in mine:
            vals = [(num(cells.get((key, p))), p) for p in peers]
            vals = [(v, p) for v, p in vals if v is not None]
            best = None
            if vals:
                best = (max if higher else min)(vals, key=lambda t: t[0])
            m = cells.get((key, c))
            if not peers:
                pass
            elif not_applicable(key, c):
                row.append("n/a")
            elif best is None:
                row.append("-")
            else:
                r = compare(m, best[0], higher)
                row.append(r if r == "-" else "%s (%s)" % (r, SHORT[best[1]]))
            if key in NO_CEILING:
                row.append("n/a")
            else:
                row.append(compare(m, cells.get((key, "loop")), higher))
        rows.append(row)

    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    out = []
    runs = int(args.runs or 1)
    out.append("netstack benchmark: %d CPUs, kernel %s, %s s per measurement, %s"
               % (os.cpu_count(), os.uname().release, args.time,
                  "TCP cells the median of %d runs, the rest one run each" % runs if runs > 1
                  else "one run each"))
    out.append("netstackd: %s" % args.netstackd)
    if args.peers:
        out.append("peers: %s (Debian packages)" % args.peers)
    if args.load:
        out.append("load average (1/5/15 min) at start / end: %s%s" % (args.load,
                   "  (other work on the machine makes single runs noisy)" if any(
                       float(x) > 0.5 for x in args.load.split("/")[0].split()[:1]) else ""))
    out.append("wrk: %s threads, %s connections (keep-alive and new-connection rows); "
               "UDP: iperf3 -u -b %s -l %s" % (args.threads, args.conns, *args.udp.split("/")))
    if args.qemu != "0":
        out.append("QEMU runs under TCG (software emulation, no KVM): its row is bound by "
                   "the emulated guest, not by netstackd alone")
    out.append("")

    def line(r):
        s = r[0].ljust(widths[0]) + "  " + r[1].ljust(widths[1])
        for i in range(2, len(r)):
            s += "  " + r[i].rjust(widths[i])
        return s.rstrip()

    out.append(line(header))
    out.append("-" * len(line(header)))
    out.extend(line(r) for r in rows)
    out.append("")
    out.append("^ higher is better, v lower is better.")
    if peers:
        out.append("\"vs best peer\": netstackd (nsd: with tap offloads, no-offl: --no-offload) against the best of %s in that row (the highest ^ / lowest v figure)."
                   % ", ".join(COLUMNS[p] for p in peers))
    out.append("\"vs loopback\": against the no-stack ceiling; \"N.NNx better/worse\" is the factor in the "
               "good/bad direction (for v rows the inverse of the plain ratio).")
    out.append("Loopback has one TCP figure for both MTU rows (lo's MTU is 65536).")
    v6 = ipv6_against_ipv4(cells)
    if v6:
        out.append("IPv6 rows: netstackd to the alias's twin fd65:65::fe (HOST_NS's ::1), loopback over "
                   "::1; the peers run IPv4 only here. netstackd over IPv6 as a share of its IPv4 "
                   "figure (target: at least 90%%): %s." % v6)
    if idle:
        out.append("Idle rows: %d TCP connections from the guest to HOST_NS's 127.0.0.1, opened after the "
                   "rows above in the same MTU 65520 process and held idle (counted established in the guest "
                   "and at the server); RSS = VmRSS without traffic, before and with them; per connection = "
                   "the difference / %d. The streams ran with them held; \"of the figure without\" = against "
                   "the mean of the same two streams measured right before the connections were opened and right after they were closed. Targets: under 1024 bytes per connection, "
                   "at least 90%%." % (idle, idle))
    if args.qemu != "0":
        out.append("QEMU rows: netstackd over vhost-user (--listen-vhost-user, the guest's RAM shared, "
                   "offloads negotiated), and below it over its stream socket (--listen-qemu)%s; "
                   "transfers timed by the guest's /proc/uptime; CPU per GB = the stack process's "
                   "user+system time over the bytes both ways." % (
                       "; pasta column = passt on -netdev stream (pasta's code), slirp4netns column = QEMU's "
                       "-netdev user (libslirp, as in slirp4netns; MTU 1500 only, so its one figure fills "
                       "both MTUs' rows)" if peers else ""))
        vu = qemu_against(cells)
        if vu:
            out.append("vhost-user against --listen-qemu and libslirp (targets: 2x --listen-qemu at MTU "
                       "1500, 1.5x at 65520, 3x libslirp): %s." % vu)
    if "nslib" in cols:
        out.append("nsd libslirp column: netstack's libslirp.so.0 (slirp/) under the same slirp4netns "
                   "(the TCP, HTTP, UDP and idle rows) and the same QEMU -netdev user (QEMU rows, MTU "
                   "1500 as libslirp's), through LD_LIBRARY_PATH; not counted as a peer. Against "
                   "libslirp in this run: %s." % (nslib_against(cells) or "no pair of figures"))
    if notes:
        out.append("")
        out.append("notes:")
        out.extend("  - " + n for n in notes)
    print("\n".join(out))


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    cmd = sys.argv[1]
    if cmd == "table":
        p = argparse.ArgumentParser(prog="report.py table")
        p.add_argument("results")
        p.add_argument("notes")
        p.add_argument("--columns", required=True)
        for o in ("--time", "--runs", "--conns", "--threads", "--udp", "--qemu", "--qemu-up", "--idle",
                  "--netstackd", "--peers", "--load"):
            p.add_argument(o, default="")
        table(p.parse_args(sys.argv[2:]))
        return
    fns = {"iperf-tcp": iperf_tcp, "iperf-udp": iperf_udp, "wrk": wrk_rps, "wrk-latency": wrk_latency}
    if cmd not in fns:
        fail(__doc__)
    fns[cmd](sys.argv[2])


if __name__ == "__main__":
    main()
