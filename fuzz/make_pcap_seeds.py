#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make_pcap_seeds.py - write the seed corpus for fuzz_pcap_summary.

Each seed is a small capture file of a guest's link to netstack, as the
summary reads them: a DHCP exchange, TCP connections that end every way the
report knows (FINs, refused, reset, unanswered SYN, still open, with a
retransmission and zero windows), DNS over UDP and TCP (compression, NXDOMAIN,
an unanswered query, two messages in one segment, one split over two), ARP,
ICMP echo and a port unreachable quoting a flow, fragments, IPv6, one frame
for each malformed reason and frames cut by the snap length. The same traffic
also comes as pcapng, as a nanosecond pcap, and cut mid-record.
Only the standard library is used; checksums are left zero (the summary never
checks them). Usage: fuzz/make_pcap_seeds.py [OUTDIR]
(default: fuzz/corpus/pcap_summary next to this file)
"""
import os
import struct
import sys

GW_MAC = bytes.fromhex("5a94efe40cdd")
GUEST_MAC = bytes.fromhex("525400123456")
BCAST = b"\xff" * 6
GUEST = bytes([192, 168, 65, 2])
GW = bytes([192, 168, 65, 1])
ZERO = bytes(4)
ALL = b"\xff" * 4
PEER = bytes([93, 184, 216, 34])
PEER2 = bytes([10, 0, 0, 1])

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def eth(src, dst, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, frag=0, total=None):
    n = 20 + len(payload) if total is None else total
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, n, 1, frag, 64, proto, 0, src, dst) + payload


def from_guest(src, dst, proto, payload, **kw):
    return eth(GUEST_MAC, GW_MAC, 0x0800, ipv4(src, dst, proto, payload, **kw))


def from_stack(src, dst, proto, payload, **kw):
    return eth(GW_MAC, GUEST_MAC, 0x0800, ipv4(src, dst, proto, payload, **kw))


def tcp(sport, dport, seq, ack, flags, data=b"", win=64240):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, win, 0, 0) + data


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


class Conn:
    """A TCP connection between the guest and a peer, tracking both sequences."""

    def __init__(self, frames, gport, peer, pport):
        self.frames, self.gport, self.peer, self.pport = frames, gport, peer, pport
        self.gseq, self.pseq = 1000, 50000

    def guest(self, flags, data=b"", win=64240):
        seg = tcp(self.gport, self.pport, self.gseq, self.pseq, flags, data, win)
        self.frames.append(from_guest(GUEST, self.peer, 6, seg))
        self.gseq += len(data) + (1 if flags & (SYN | FIN) else 0)

    def peer_(self, flags, data=b"", win=65535):
        seg = tcp(self.pport, self.gport, self.pseq, self.gseq, flags, data, win)
        self.frames.append(from_stack(self.peer, GUEST, 6, seg))
        self.pseq += len(data) + (1 if flags & (SYN | FIN) else 0)

    def handshake(self):
        self.guest(SYN)
        self.peer_(SYN | ACK)
        self.guest(ACK)


def dhcp(op, mtype, yiaddr=ZERO, server=False):
    m = struct.pack("!BBBBIHH4s4s4s4s", op, 1, 6, 0, 0x12345678, 0, 0, ZERO, yiaddr, ZERO, ZERO)
    m += GUEST_MAC + bytes(10) + bytes(64) + bytes(128) + struct.pack("!I", 0x63825363)
    m += bytes([53, 1, mtype])
    if server:
        m += bytes([54, 4]) + GW + bytes([51, 4]) + struct.pack("!I", 3600)
        m += bytes([1, 4, 255, 255, 255, 0, 3, 4]) + GW + bytes([6, 4]) + GW
    return m + b"\xff"


def dhcp_frames():
    out = []
    for mtype in (1, 2, 3, 5):
        client = mtype in (1, 3)
        if client:
            msg = dhcp(1, mtype)
            out.append(eth(GUEST_MAC, BCAST, 0x0800, ipv4(ZERO, ALL, 17, udp(68, 67, msg))))
        else:
            msg = dhcp(2, mtype, GUEST, server=True)
            out.append(eth(GW_MAC, BCAST, 0x0800, ipv4(GW, ALL, 17, udp(67, 68, msg))))
    return out


def name(n):
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\0"


def dns(ident, qname, qtype, response=False, rcode=0, answers=()):
    flags = (0x8180 | rcode) if response else 0x0100
    m = struct.pack("!HHHHHH", ident, flags, 1, len(answers), 0, 0) + name(qname)
    m += struct.pack("!HH", qtype, 1)
    for rtype, rdata in answers:
        m += struct.pack("!HHHIH", 0xC00C, rtype, 1, 300, len(rdata)) + rdata
    return m


def tcp_frames():
    f = []
    c = Conn(f, 40000, PEER, 80)
    c.handshake()
    c.guest(PSH | ACK, b"GET / HTTP/1.1\r\n\r\n")
    c.peer_(ACK, b"x" * 600)
    c.pseq -= 600
    c.peer_(ACK, b"x" * 600)                    # a retransmission
    c.guest(ACK, win=0)                         # a zero window
    c.guest(ACK)
    c.guest(FIN | ACK)
    c.peer_(FIN | ACK)
    c.guest(ACK)
    r = Conn(f, 40001, PEER2, 443)
    r.guest(SYN)
    r.peer_(RST | ACK, win=0)                   # refused
    u = Conn(f, 40002, PEER2, 8080)
    u.guest(SYN)
    u.gseq -= 1
    u.guest(SYN)                                # unanswered, twice
    p = Conn(f, 40003, PEER, 443)
    p.handshake()
    p.guest(ACK, b"y" * 3000)                   # bigger than the MTU: a super-frame
    p.peer_(RST)                                # reset by the peer
    o = Conn(f, 40004, PEER, 22)
    o.handshake()
    o.guest(ACK, b"z" * 10)                     # still open
    return f


def dns_frames():
    f = []
    cname = bytes([4]) + b"edge" + struct.pack("!H", 0xC010)
    q = dns(0xABCD, "www.example.com", 1)
    a = dns(0xABCD, "www.example.com", 1, True, 0,
            [(5, cname), (1, bytes([93, 184, 216, 34])), (1, bytes([93, 184, 216, 35]))])
    f.append(from_guest(GUEST, GW, 17, udp(5000, 53, q)))
    f.append(from_stack(GW, GUEST, 17, udp(53, 5000, a)))
    f.append(from_guest(GUEST, GW, 17, udp(5001, 53, dns(0x1111, "nx.example.com", 28))))
    f.append(from_stack(GW, GUEST, 17, udp(53, 5001, dns(0x1111, "nx.example.com", 28, True, 3))))
    f.append(from_guest(GUEST, GW, 17, udp(5002, 53, dns(0x2222, "lost.example.com", 1))))
    f.append(from_guest(GUEST, GW, 17, udp(5003, 53, dns(0x3333, "4.3.2.1.in-addr.arpa", 12))))
    ptr = dns(0x3333, "4.3.2.1.in-addr.arpa", 12, True, 0, [(12, name("host.example"))])
    f.append(from_stack(GW, GUEST, 17, udp(53, 5003, ptr)))
    c = Conn(f, 41000, GW, 53)
    c.handshake()
    q1, q2 = dns(1, "one.example", 1), dns(2, "two.example", 16)
    c.guest(PSH | ACK, struct.pack("!H", len(q1)) + q1 + struct.pack("!H", len(q2)) + q2)
    big = dns(1, "one.example", 1, True, 0, [(1, bytes([1, 2, 3, i])) for i in range(40)])
    msg = struct.pack("!H", len(big)) + big
    c.peer_(ACK, msg[:300])
    c.peer_(PSH | ACK, msg[300:])               # split over two segments
    a2 = dns(2, "two.example", 16, True, 2)
    c.peer_(PSH | ACK, struct.pack("!H", len(a2)) + a2)
    c.guest(FIN | ACK)
    c.peer_(FIN | ACK)
    return f


def arp(op, sha, spa, tha, tpa, src, dst):
    return eth(src, dst, 0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa)


def misc_frames():
    """Returns (frames, snap): snap maps a frame's index to its captured length."""
    f, snap = [], {}
    f.append(arp(1, GUEST_MAC, GUEST, bytes(6), GW, GUEST_MAC, BCAST))
    f.append(arp(2, GW_MAC, GW, GUEST_MAC, GUEST, GW_MAC, GUEST_MAC))
    f.append(arp(2, GW_MAC, bytes([192, 168, 65, 254]), GUEST_MAC, GUEST, GW_MAC, GUEST_MAC))
    echo = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + bytes(range(32))
    f.append(from_guest(GUEST, bytes([8, 8, 8, 8]), 1, echo))
    f.append(from_stack(bytes([8, 8, 8, 8]), GUEST, 1, b"\0" + echo[1:]))
    dgram = udp(9000, 9999, b"hello")
    f.append(from_guest(GUEST, PEER2, 17, dgram))
    quoted = ipv4(GUEST, PEER2, 17, dgram)[:28]
    f.append(from_stack(PEER2, GUEST, 1, struct.pack("!BBHI", 3, 3, 0, 0) + quoted))
    f.append(from_stack(GW, GUEST, 1, struct.pack("!BBHI", 11, 0, 0, 0) + quoted))
    f.append(from_guest(GUEST, PEER, 17, bytes(24), frag=0x2000))          # a first fragment
    f.append(from_guest(GUEST, PEER, 17, bytes(16), frag=3))
    f.append(eth(GUEST_MAC, GW_MAC, 0x86DD, bytes(40)))                     # IPv6
    # malformed, one per reason
    f.append(bytes(10))                                                     # drop_eth_short
    f.append(eth(GUEST_MAC, GW_MAC, 0x88CC, bytes(46)))                     # drop_eth_type
    f.append(eth(GUEST_MAC, BCAST, 0x0806, struct.pack("!HHBBH", 6, 0x0800, 6, 4, 1) + bytes(20)))
    f.append(eth(GUEST_MAC, GW_MAC, 0x0800, bytes([0x65]) + bytes(39)))    # drop_ipv4_header
    f.append(from_guest(GUEST, PEER, 17, bytes(20), total=1000))          # drop_ipv4_length
    f.append(from_guest(GUEST, PEER, 17, struct.pack("!HHHH", 1, 2, 4, 0)))  # drop_udp_malformed
    f.append(from_guest(GUEST, PEER, 6, struct.pack("!HHIIBB", 1, 2, 0, 0, 0x40, 2) + bytes(6)))
    f.append(from_guest(GUEST, PEER, 1, bytes(4)))                          # drop_icmp_malformed
    bad = bytearray(dhcp(1, 1))
    bad[236:240] = b"\1\2\3\4"
    f.append(eth(GUEST_MAC, BCAST, 0x0800, ipv4(ZERO, ALL, 17, udp(68, 67, bytes(bad)))))
    loop = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + struct.pack("!HHH", 0xC00C, 1, 1)
    f.append(from_guest(GUEST, GW, 17, udp(7000, 53, loop)))                 # drop_dns_malformed
    # cut by the snap length
    snap[len(f)] = 14 + 20 + 20 + 8
    f.append(from_guest(GUEST, PEER, 6, tcp(40005, 80, 1, 1, ACK, b"w" * 400)))
    snap[len(f)] = 14 + 20 + 8 + 20
    f.append(from_stack(GW, GUEST, 17, udp(53, 5000, dns(0xABCD, "www.example.com", 1, True, 0,
                                                         [(1, bytes(4))]))))
    return f, snap


def pcap(frames, snap=None, nsec=False, snaplen=65535):
    snap = snap or {}
    out = struct.pack("<IHHiIII", 0xA1B23C4D if nsec else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)
    for i, fr in enumerate(frames):
        cap = snap.get(i, len(fr))
        frac = i * 1250 * (1000 if nsec else 1)
        sec, sub = 1700000000 + i // 100, frac % (10**9 if nsec else 10**6)
        out += struct.pack("<IIII", sec, sub, cap, len(fr))
        out += fr[:cap]
    return out


def pcapng(frames):
    def block(btype, body):
        body += bytes(-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 65535))
    for i, fr in enumerate(frames):
        ts = 1700000000 * 10**6 + i * 1000
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(fr), len(fr)) + fr)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "pcap_summary")
    os.makedirs(outdir, exist_ok=True)
    misc, snap = misc_frames()
    seeds = {
        "dhcp.pcap": pcap(dhcp_frames()),
        "tcp.pcap": pcap(tcp_frames()),
        "dns.pcap": pcap(dns_frames()),
        "misc.pcap": pcap(misc, snap),
        "dhcp_dns.pcapng": pcapng(dhcp_frames() + dns_frames()[:4]),
        "tcp_nsec.pcap": pcap(tcp_frames()[:9], nsec=True),
        "truncated.pcap": pcap(dhcp_frames())[:-30],
    }
    for fname, data in seeds.items():
        with open(os.path.join(outdir, fname), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
