#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Thousands of malformed frames of every kind, then a well-behaved guest.

netstackd on --listen-qemu; this script is the guest, speaking the stream
framing byte by byte (guestframes.py), so frames of any length reach the
stack, 0 to 60 bytes included. It sends, from a fixed seed:
  - every valid frame kind cut to every length from 0 to 60 and to one byte
    short (ARP, DHCP, ICMP echo, a TCP SYN, a DNS query, a fragment);
  - IPv4 headers whose IHL or total length lies; fragments that overlap,
    that would make a datagram over 64 KiB, and a fragment flood;
  - TCP options that run off the end of the header or have lengths 0 and 1;
  - DHCP options of length zero and an option list with no end;
  - DNS queries whose names loop through compression pointers;
  - thousands of random byte flips of the valid frames.
Then netstackd must be alive, answer DHCP, ARP and ping as before, count the
drops, and, once the flows the frames opened have expired, hold no more
descriptors and little more memory than before.

A flipped byte can make a frame for any address, so netstackd runs in a
network namespace of its own with nothing in it (unshare --net: root), where
no packet can go anywhere, and its DNS forwarder is pointed at 127.0.0.1.
Standard library only.
"""
import json
import os
import random
import socket
import struct
import sys
import time

from guestframes import (DEFAULT_GATEWAY_MAC, FIRST_LEASE, GATEWAY_IP, GUEST_MAC, StreamGuest,
                         arp_exchange, arp_request, check, dhcp_discover, dhcp_exchange,
                         echo_request, ip_checksum, parse_echo_reply, run_daemon_test)

ALIAS_IP = socket.inet_aton("192.168.65.254")
GUEST_IP = socket.inet_aton(FIRST_LEASE)
FLIPS = 4000


def ipv4(proto, payload, dst=GATEWAY_IP, ident=1, frag=0, ihl=5, total=None):
    """An Ethernet frame with an IPv4 header (checksummed) from the guest."""
    opts = b"\x01" * ((ihl - 5) * 4) if ihl > 5 else b""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0,
                      total if total is not None else 20 + len(opts) + len(payload),
                      ident, frag, 64, proto, 0, GUEST_IP, dst) + opts
    hdr = hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]
    return DEFAULT_GATEWAY_MAC + GUEST_MAC + b"\x08\x00" + hdr + payload


def tcp_syn(options=b"", doff=None, dport=80):
    off = doff if doff is not None else 5 + len(options) // 4
    t = struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, off << 4, 0x02, 65535, 0, 0) + options
    pseudo = GUEST_IP + ALIAS_IP + struct.pack("!BBH", 0, 6, len(t))
    t = t[:16] + struct.pack("!H", ip_checksum(pseudo + t)) + t[18:]
    return ipv4(6, t, dst=ALIAS_IP)


def dns_query(name_wire, qdcount=1):
    msg = struct.pack("!HHHHHH", 0x1234, 0x0100, qdcount, 0, 0, 0) + name_wire + b"\0\x01\0\x01"
    udp = struct.pack("!HHHH", 40001, 53, 8 + len(msg), 0) + msg
    return ipv4(17, udp)


def dhcp_with_options(opts):
    """A DISCOVER whose options after the message type are @opts (no end added)."""
    f = bytearray(dhcp_discover(7))
    start = 14 + 20 + 8 + 240
    body = b"\x35\x01\x01" + opts
    f[start:] = body
    f[14 + 2:14 + 4] = struct.pack("!H", len(f) - 14)
    f[14 + 20 + 4:14 + 20 + 6] = struct.pack("!H", len(f) - 34)
    f[14 + 10:14 + 12] = b"\0\0"
    f[14 + 10:14 + 12] = struct.pack("!H", ip_checksum(bytes(f[14:34])))
    return bytes(f)


def valid_frames():
    return [arp_request(), dhcp_discover(1), echo_request(1, 56), tcp_syn(),
            dns_query(b"\x07example\x03com\0"),
            ipv4(17, b"\x9c\x41\x00\x35\x00\x10\x00\x00" + b"x" * 16, frag=0x2000)]


def malformed():
    """Every crafted frame, in a fixed order."""
    rnd = random.Random(10)
    out = []
    for f in valid_frames():
        out += [f[:n] for n in range(0, 61)] + [f[:-1]]
    udp = struct.pack("!HHHH", 40002, 9, 16, 0) + b"y" * 8
    for ihl in (0, 1, 4, 15):
        out.append(ipv4(17, udp, ihl=ihl))
    for total in (0, 19, 21, 10000, 65535):
        out.append(ipv4(17, udp, total=total))
    for i in range(200):        # overlapping fragments of one datagram
        off = rnd.randrange(0, 64)
        out.append(ipv4(17, b"z" * 64, ident=77, frag=0x2000 | off))
    out.append(ipv4(17, b"q" * 1200, ident=78, frag=0x2000 | 8100))    # past 64 KiB
    out.append(ipv4(17, b"q" * 16, ident=78, frag=8189))
    for i in range(500):        # a fragment flood: every one starts a datagram
        out.append(ipv4(17, b"f" * 32, ident=1000 + i, frag=0x2000))
    for opts in (b"\x02\x04\xff", b"\x02\x00\x00\x00", b"\x02\x01\x05\xb4", b"\x03\x03",
                 b"\x08\x0a" + b"\0" * 2, b"\x05\xff" + b"\0" * 2, b"\x01" * 3 + b"\x04"):
        out.append(tcp_syn(opts + b"\0" * (-len(opts) % 4)))
    out.append(tcp_syn(doff=15))            # options claimed past the segment
    out.append(tcp_syn(doff=2))
    for code in (53, 50, 54, 55, 61, 12, 81, 119):
        out.append(dhcp_with_options(bytes([code, 0])))
    out.append(dhcp_with_options(b"\x37\x04\x01\x03"))   # no end option
    out.append(dhcp_with_options(b"\x0c\xf0abc"))        # length past the end
    out.append(dns_query(b"\xc0\x0c"))                  # a name pointing at itself
    out.append(dns_query(b"\x01a\xc0\x0e\x01b\xc0\x0c"))  # two pointing at each other
    out.append(dns_query(b"\x3fx" + b"y" * 62 + b"\0"))  # a label longer than it says
    out.append(dns_query(b"\0", qdcount=200))
    valid = valid_frames()
    for _ in range(FLIPS):
        f = bytearray(rnd.choice(valid))
        for _ in range(rnd.randrange(1, 4)):
            f[rnd.randrange(len(f))] = rnd.randrange(256)
        out.append(bytes(f))
    return out


def api(path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(json.dumps({"execute": cmd}).encode() + b"\n")
    reply = json.loads(s.makefile().readline())
    s.close()
    return reply["return"]


def footprint(pid):
    with open("/proc/%d/status" % pid) as f:
        rss = int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
    return len(os.listdir("/proc/%d/fd" % pid)), rss


def drain(g, seconds):
    """Read and drop what the stack sent, and what it sends for @seconds more."""
    end = time.monotonic() + seconds
    while True:
        got = g.recv_frame(time.monotonic() + 0.005)
        if got is None and time.monotonic() >= end:
            return


def served(g, what):
    dhcp_exchange(g, what)
    arp_exchange(g, what)
    g.send(echo_request(9, 100))
    check(g.wait_for(parse_echo_reply) == (9, 100), what + ": ping of the gateway answered")
    g.send(dns_query(b"\x07example\x03com\0"))  # the forwarder opens its socket once


def body(tmp, path, start):
    apisock = os.path.join(tmp, "api.sock")
    resolv = os.path.join(tmp, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver 127.0.0.1\n")
    d = start(["--listen-qemu", path, "--api-socket", apisock, "--resolv-conf", resolv,
               "--udp-timeout", "1", "--icmp-timeout", "1"], wrap=["unshare", "--net", "--"])
    check(d.wait_path(path) and d.wait_path(apisock), "netstackd listening")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    g = StreamGuest(s)
    served(g, "before")
    drain(g, 0.5)
    fds0, rss0 = footprint(d.proc.pid)
    frames = malformed()
    print("sending %d malformed frames" % len(frames))
    for i, f in enumerate(frames):
        g.send(f)
        if i % 100 == 99:
            drain(g, 0)
    drain(g, 1.0)
    check(d.alive(), "netstackd is alive after %d malformed frames" % len(frames))
    served(g, "after")
    stats = api(apisock, "get_stats")["counters"]
    dropped = sum(v for k, v in stats.items() if k.startswith("drop_"))
    print("  drops counted: %d (%s)" % (dropped, ", ".join(
        "%s=%d" % (k, v) for k, v in sorted(stats.items()) if k.startswith("drop_") and v)))
    check(dropped >= len(frames) // 2, "the bad frames were counted as drops")
    time.sleep(2.5)     # the UDP and ping flows the frames opened expire
    fds1, rss1 = footprint(d.proc.pid)
    print("  descriptors %d -> %d, RSS %d kB -> %d kB" % (fds0, fds1, rss0, rss1))
    check(fds1 == fds0, "no descriptor is left open")
    if os.environ.get("NETSTACK_SANITIZED"):
        print("  (RSS bound not checked: sanitizer build)")
    else:
        check(rss1 - rss0 < 4096, "RSS grew by less than 4 MiB")
    g.close()
    d.check_sigterm(path)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: needs root for a network namespace of netstackd's own")
        sys.exit(77)
    sys.exit(run_daemon_test("netstack-hostile-", body))
