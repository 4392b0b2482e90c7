#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A hostile guest: frames written straight onto the guest's link.

Run inside the guest namespace (`ip netns exec`), on the tap netstackd
serves. Frames go out through an AF_PACKET socket from an address the guest's
kernel does not own (SRC_IP, SRC_MAC), so the kernel never answers netstackd's
replies with resets of its own: what the stack holds is what this script made
it hold. Standard library only.

Modes:
  synflood DST PORT --count N
        N SYNs from N source ports, never completed
  tiny DST PORT --count N
        one handshake, then N bytes in segments of one byte each (to a peer
        that never reads), resent from the last ACK like TCP; prints
        "sent S acked A" (segments sent, bytes the stack acknowledged)

Usage: hostile.py MODE DST PORT --tap NAME [--count N] [--src-ip IP]
"""
import argparse
import random
import select
import socket
import struct
import sys
import time

from guestframes import ip_checksum

SRC_MAC = bytes.fromhex("020000660001")
GATEWAY_MAC = bytes.fromhex("5a94efe40cdd")
SYN, RST, PSH, ACK = 0x02, 0x04, 0x08, 0x10
BURST = 500            # tiny: segments sent before waiting for their ACK


class Link:
    """Raw frames on the tap, from SRC_MAC/src_ip."""

    def __init__(self, tap, src_ip):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind((tap, 0))
        self.src = socket.inet_aton(src_ip)
        self.ident = random.randrange(65536)

    def tcp(self, dst, sport, dport, seq, ack, flags, data=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
        pseudo = self.src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", ip_checksum(pseudo + tcp)) + tcp[18:]
        self.ident = (self.ident + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), self.ident, 0, 64, 6, 0,
                         self.src, dst)
        ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
        self.sock.send(GATEWAY_MAC + SRC_MAC + b"\x08\x00" + ip + tcp)

    def replies(self, dport, timeout):
        """TCP segments to us on @dport: yields (seq, ack, flags) until @timeout s pass."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return
            f = self.sock.recv(70000)
            if len(f) < 54 or f[0:6] != SRC_MAC or f[12:14] != b"\x08\x00" or f[23] != 6:
                continue
            ihl = (f[14] & 15) * 4
            t = f[14 + ihl:]
            if f[30:34] != self.src or len(t) < 20 or struct.unpack("!H", t[2:4])[0] != dport:
                continue
            seq, ack = struct.unpack("!II", t[4:12])
            yield seq, ack, t[13]


def synflood(a, link, dst):
    for i in range(a.count):
        link.tcp(dst, 20000 + i % 40000, a.port, random.randrange(1 << 32), 0, SYN)
    print("sent %d" % a.count)
    return 0


def handshake(link, dst, sport, dport):
    """SYN, wait for the SYN-ACK, ACK. Return: (our next seq, the stack's next seq)."""
    seq = 1000
    link.tcp(dst, sport, dport, seq, 0, SYN)
    for rseq, rack, flags in link.replies(sport, 5):
        if flags & (SYN | ACK) == SYN | ACK and rack == seq + 1:
            link.tcp(dst, sport, dport, seq + 1, rseq + 1, ACK)
            return seq + 1, rseq + 1
    raise SystemExit("no SYN-ACK from %s:%d" % (socket.inet_ntoa(dst), dport))


def tiny(a, link, dst):
    """Bursts of BURST segments, each burst resent from the last byte acked
    (the tap drops what its queue cannot hold), until the stack took all."""
    sport = random.randrange(30000, 60000)
    seq, rnxt = handshake(link, dst, sport, a.port)
    acked = sent = stalls = 0
    while acked < a.count and stalls < 20:
        end = min(acked + BURST, a.count)
        for i in range(acked, end):
            link.tcp(dst, sport, a.port, seq + i, rnxt, ACK | PSH, bytes([i & 0xFF]))
        sent += end - acked
        before = acked
        for _, rack, flags in link.replies(sport, 0.5):
            if flags & RST:
                raise SystemExit("the stack reset the connection")
            acked = max(acked, (rack - seq) & 0xFFFFFFFF)
            if acked >= end:
                break
        stalls = stalls + 1 if acked == before else 0
    print("sent %d acked %d" % (sent, acked))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["synflood", "tiny"])
    p.add_argument("dst")
    p.add_argument("port", type=int)
    p.add_argument("--tap", required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--src-ip", default="192.168.65.77")
    a = p.parse_args()
    link = Link(a.tap, a.src_ip)
    dst = socket.inet_aton(a.dst)
    return {"synflood": synflood, "tiny": tiny}[a.mode](a, link, dst)


if __name__ == "__main__":
    sys.exit(main())
