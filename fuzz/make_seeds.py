#!/usr/bin/env python3
"""make_seeds.py - write the seed corpora for fuzz_frame, fuzz_ipv4 and fuzz_arp.

Seeds are well-formed packets a guest really sends (ARP, ping, fragmented ping,
TCP SYN, DHCP DISCOVER) so the fuzzer starts past the header checks.
Usage: fuzz/make_seeds.py [OUTDIR]   (default: fuzz/corpus next to this file)
"""
import os
import struct
import sys

GW_MAC = bytes.fromhex("5a94efe40cdd")
GUEST_MAC = bytes.fromhex("525400123456")
BCAST = b"\xff" * 6
GUEST = bytes([192, 168, 65, 2])
GW = bytes([192, 168, 65, 1])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def icmp_echo(n):
    data = bytes(i & 0xFF for i in range(n))
    m = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def tcp_syn(src, dst, dport):
    t = struct.pack("!HHIIBBHHH", 40000, dport, 1000, 0, 5 << 4, 2, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(t))
    return t[:16] + struct.pack("!H", csum(pseudo + t)) + t[18:]


def tcp_seg(src, dst, dport, flags, seq, data=b"", mss=None, partial=False):
    opt = struct.pack("!BBH", 2, 4, mss) if mss else b""
    t = struct.pack("!HHIIBBHHH", 40000, dport, seq, 1, (5 + len(opt) // 4) << 4, flags, 64240, 0, 0)
    t += opt + data
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(t))
    if partial:     # the pseudo-header sum only, as a checksum-offloading guest leaves it
        s = sum(struct.unpack("!6H", pseudo))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return t[:16] + struct.pack("!H", s) + t[18:]
    return t[:16] + struct.pack("!H", csum(pseudo + t)) + t[18:]


def offload_frame(frame, flags=0, gso_type=0, gso_size=0):
    """One record of fuzz_offload's input: offload state, length, frame."""
    return struct.pack("!BBHH", flags, gso_type, gso_size, len(frame)) + frame


def dhcp_discover():
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x1234, 0, 0x8000,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, GUEST_MAC + b"\0" * 10,
                        b"", b"")
    opts = b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\x37\x04\x01\x03\x06\x1a" + b"\xff"
    payload = bootp + opts
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    return ipv4(b"\0" * 4, b"\xff" * 4, 17, udp)


def arp(tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, GUEST_MAC, GUEST, b"\0" * 6, tpa)


def eth(dst, typ, payload):
    return dst + GUEST_MAC + struct.pack("!H", typ) + payload


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    big = icmp_echo(3000)
    frags = [ipv4(GUEST, GW, 1, big[0:1480], 9, 0x2000), ipv4(GUEST, GW, 1, big[1480:2960], 9, 0x2000 | 185),
             ipv4(GUEST, GW, 1, big[2960:], 9, 370)]
    packets = {
        "ping": ipv4(GUEST, GW, 1, icmp_echo(56)),
        "tcp_syn": ipv4(GUEST, GW, 6, tcp_syn(GUEST, GW, 80)),
        "dhcp_discover": dhcp_discover(),
        "frag0": frags[0], "frag1": frags[1], "frag2": frags[2],
    }
    seeds = {"ipv4": packets, "arp": {"gateway": arp(GW), "alias": arp(bytes([192, 168, 65, 254]))}}
    frames = {name: eth(GW_MAC, 0x0800, p) for name, p in packets.items()}
    frames["arp"] = eth(BCAST, 0x0806, arp(GW))
    frames["dhcp_discover"] = eth(BCAST, 0x0800, packets["dhcp_discover"])
    seq = b"".join(struct.pack("!H", len(eth(GW_MAC, 0x0800, f))) + eth(GW_MAC, 0x0800, f) for f in frags)
    seeds["frame"] = {name: struct.pack("!H", len(f)) + f for name, f in frames.items()}
    seeds["frame"]["fragmented_ping"] = seq
    alias = bytes([192, 168, 65, 254])
    syn = eth(GW_MAC, 0x0800, ipv4(GUEST, alias, 6, tcp_seg(GUEST, alias, 80, 0x02, 1000, mss=1460)))
    ack = eth(GW_MAC, 0x0800, ipv4(GUEST, alias, 6, tcp_seg(GUEST, alias, 80, 0x10, 1001)))
    sup = eth(GW_MAC, 0x0800, ipv4(GUEST, alias, 6, tcp_seg(GUEST, alias, 80, 0x18, 1001,
                                                             bytes(range(256)) * 100, partial=True)))
    seeds["offload"] = {
        "tso_link_super_frame": b"\x0b" + offload_frame(syn) + offload_frame(ack) +
                                offload_frame(sup, 1, 1, 1448),
        "plain_link_partial": b"\x00" + offload_frame(syn) + offload_frame(ack, 1),
        "csum_link_ping": b"\x01" + offload_frame(frames["ping"], 2),
    }
    for kind, items in seeds.items():
        os.makedirs(os.path.join(out, kind), exist_ok=True)
        for name, data in items.items():
            with open(os.path.join(out, kind, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
