#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make_seeds.py - write the seed corpora for fuzz_frame, fuzz_ipv4, fuzz_ipv6, fuzz_dhcp6, fuzz_arp,
fuzz_offload, the transports' decoders (fuzz_stream, fuzz_vmnet, fuzz_dgram,
fuzz_vhost_user and its ring walker fuzz_virtq) and the control API (fuzz_api).

Seeds are well-formed packets a guest really sends (ARP, ping, fragmented ping,
TCP SYN, DHCP DISCOVER; for IPv6 router and neighbour solicitations, a DAD
probe, ping, an MLD report behind Hop-by-Hop options) so the fuzzer starts past the header checks; for the
transports, those frames in each framing after a real handshake (vmnet's
VMN3T init and connect command, vfkit's hello) plus each malformed case the
decoder must refuse; for the API, every command with valid and invalid
arguments.
Usage: fuzz/make_seeds.py [OUTDIR]   (default: fuzz/corpus next to this file)
"""
import json
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


GUEST6 = bytes.fromhex("fd650065000000005054" "00fffe123456")
GUEST_LL = bytes.fromhex("fe800000000000005054" "00fffe123456")
GW6 = bytes.fromhex("fd650065000000000000" "000000000001")
UNSPEC6 = b"\0" * 16
ALL_ROUTERS = bytes.fromhex("ff020000000000000000" "000000000002")
MLD_ROUTERS = bytes.fromhex("ff020000000000000000" "000000000016")


def solicited_node(a):
    return bytes.fromhex("ff020000000000000000" "0001ff") + a[13:]


def ipv6(src, dst, nh, payload, hop=64, ext=b"", first=None):
    h = struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(payload), first if ext else nh, hop, src, dst)
    return h + ext + payload


def icmp6(src, dst, body, hop=255, ext=b"", first=None):
    pseudo = src + dst + struct.pack("!IxxxB", len(body), 58)
    body = body[:2] + struct.pack("!H", csum(pseudo + body[:2] + b"\0\0" + body[4:])) + body[4:]
    return ipv6(src, dst, 58, body, hop, ext, first)


def ipv6_seeds():
    lla = b"\x01\x01" + GUEST_MAC
    ns_gw = struct.pack("!BBHI16s", 135, 0, 0, 0, GW6) + lla
    ping = struct.pack("!BBHHH", 128, 0, 0, 0x1234, 1) + bytes(range(56))
    router_alert = bytes([58, 0, 5, 2, 0, 0, 1, 0])
    return {
        "router_solicit": icmp6(GUEST_LL, ALL_ROUTERS, struct.pack("!BBHI", 133, 0, 0, 0) + lla),
        "neighbor_solicit": icmp6(GUEST_LL, solicited_node(GW6), ns_gw),
        "dad_probe": icmp6(UNSPEC6, solicited_node(GUEST6), struct.pack("!BBHI16s", 135, 0, 0, 0, GUEST6)),
        "ping_gateway": icmp6(GUEST6, GW6, ping, 64),
        "mld_report": icmp6(GUEST_LL, MLD_ROUTERS, struct.pack("!BBHHH", 143, 0, 0, 0, 0), 1,
                            router_alert, 0),
        "first_fragment": icmp6(GUEST6, GW6, ping, 64, bytes([58, 0, 0, 1, 0, 0, 0, 7]), 44),
    }


DHCP6_SERVERS = bytes.fromhex("ff020000000000000000" "000000010002")


def dhcp6_option(code, data):
    return struct.pack("!HH", code, len(data)) + data


def dhcp6_seeds():
    client = dhcp6_option(1, struct.pack("!HHI", 1, 1, 0x2A2B2C2D) + GUEST_MAC)
    common = client + dhcp6_option(8, b"\0\0") + dhcp6_option(6, struct.pack("!HH", 23, 24))
    server = dhcp6_option(2, struct.pack("!HH", 3, 1) + GW_MAC)
    ia_na = dhcp6_option(3, struct.pack("!III", 1, 0, 0))
    return {
        "information_request": b"\x0b\x0a\x0b\x0c" + common,
        "information_request_to_us": b"\x0b\x0a\x0b\x0d" + common + server,
        "solicit": b"\x01\x01\x02\x03" + common + ia_na,
        "information_request_ia": b"\x0b\x01\x02\x04" + common + ia_na,
    }


def udp6(src, dst, sport, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = src + dst + struct.pack("!IxxxB", len(u), 17)
    s = csum(pseudo + u) or 0xFFFF
    return ipv6(src, dst, 17, u[:6] + struct.pack("!H", s) + u[8:], 1)


def arp(tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, GUEST_MAC, GUEST, b"\0" * 6, tpa)


def eth(dst, typ, payload):
    return dst + GUEST_MAC + struct.pack("!H", typ) + payload


def qemu_stream(frames, read_size=0):
    """fuzz_stream's input: the read size, then 4-byte big-endian lengths and frames."""
    return bytes([read_size]) + b"".join(struct.pack("!I", len(f)) + f for f in frames)


VMNET_UUID = b"6f1e7c30-1f55-4d3e-9a0b-2c4d5e6f7a8b"


def vmnet_init(magic=b"VMN3T", version=22):
    """The client's 49-byte init: magic, version (u32 LE), 40-byte commit id."""
    return magic + struct.pack("<I", version) + b"0123456789abcdef0123456789abcdef01234567"


def vmnet_command(kind=1, uuid=VMNET_UUID, ip=0):
    """The client's 41-byte command: type, 36-byte UUID, IPv4 (u32 LE)."""
    return bytes([kind]) + uuid + struct.pack("<I", ip)


def vmnet_stream(frames, read_size=0, init=None, command=None):
    """fuzz_vmnet's input: the read size, the handshake, 2-byte LE lengths and frames."""
    hello = (init if init is not None else vmnet_init()) + \
        (command if command is not None else vmnet_command())
    return bytes([read_size]) + hello + b"".join(struct.pack("<H", len(f)) + f for f in frames)


def dgram_record(data, sender=0, cut=False, end=False, name=None):
    """One fuzz_dgram record: how (sender, cut, end of batch), [name], length, datagram."""
    how = sender | (0x08 if cut else 0) | (0x10 if end else 0)
    extra = bytes([len(name)]) + name if sender == 7 else b""
    return bytes([how]) + extra + struct.pack("!H", len(data)) + data


def api_lines(*objs):
    """fuzz_api's input: one JSON text per line (strings are sent as they are)."""
    return b"".join((o if isinstance(o, bytes) else json.dumps(o).encode()) + b"\n" for o in objs)


def hostfwd(**args):
    return {"execute": "add_hostfwd", "arguments": args}


def api_seeds():
    tcp = dict(proto="tcp", host_addr="127.0.0.1", host_port=18080, guest_port=80)
    return {
        "add_list_remove": api_lines(hostfwd(**tcp), {"execute": "list_hostfwd"},
                                     {"execute": "remove_hostfwd", "arguments": {"id": 1}},
                                     {"execute": "list_hostfwd"}),
        "add_udp_range": api_lines(hostfwd(proto="udp", host_addr="127.0.0.1", host_port=15353,
                                           host_port_end=15355, guest_addr="192.168.65.2",
                                           guest_port=5353, preserve_source=False),
                                   {"execute": "list_hostfwd"}),
        "add_ipv6_loopback": api_lines(hostfwd(proto="tcp", host_addr="::1", host_port=18443,
                                               guest_port=443), {"execute": "list_hostfwd"}),
        "add_twice": api_lines(hostfwd(**tcp), hostfwd(**tcp)),
        "add_any_address": api_lines(hostfwd(proto="tcp", host_port=8080, guest_port=80)),
        "add_bad_arguments": api_lines(
            hostfwd(host_port=8080, guest_port=80),
            hostfwd(proto="sctp", host_addr="127.0.0.1", host_port=8080, guest_port=80),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=0, guest_port=80),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=70000, guest_port=80),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port="80", guest_port=80),
            hostfwd(proto="tcp", host_addr="localhost", host_port=8080, guest_port=80),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=8080, guest_addr="10.0.0.2",
                    guest_port=80),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=8080, guest_addr="fe80::1",
                    guest_port=80),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=8080, guest_port=80,
                    preserve_source="yes"),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=8080, guest_port=80, extra=1),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=8080, host_port_end=8000,
                    guest_port=80),
            hostfwd(proto="tcp", host_addr="127.0.0.1", host_port=65000, host_port_end=65010,
                    guest_port=65530)),
        "remove_bad": api_lines({"execute": "remove_hostfwd", "arguments": {"id": 999999}},
                                {"execute": "remove_hostfwd", "arguments": {"id": 0}},
                                {"execute": "remove_hostfwd", "arguments": {"id": "1"}},
                                {"execute": "remove_hostfwd"}),
        "ours": api_lines({"execute": "get_stats"}, {"execute": "get_config"},
                          {"execute": "list_flows"}, {"execute": "get_config", "arguments": {}}),
        "ours_with_arguments": api_lines({"execute": "get_stats", "arguments": {"x": 1}},
                                         {"execute": "list_flows", "arguments": []}),
        "not_commands": api_lines(b'{"execute": "reboot"}', b"[1, 2]", b'"list_hostfwd"',
                                  b'{"execute": 5}', b"{}", b'{"execute": "list_hostfwd"',
                                  b'{"execute": "list_hostfwd", "execute": "get_stats"}',
                                  b"\xff\xfe{", b"", b"  \t", b'{"execute": "get_stats"}\r',
                                  b'{"execute": "get_config", "id": 7}'),
        # Regression: a description cut inside a UTF-8 sequence ("%.64s") made
        # the error reply fail, and the client was dropped without a reply.
        "regress_utf8_cut_desc": api_lines(
            b'{"execute": "' + b"a" * 63 + "\u00e9".encode() + b'"}',
            hostfwd(proto="tcp", host_port=1, guest_port=1, host_addr="a" + "\u00e9" * 40)),
    }


# --- vhost-user and the split virtqueue ------------------------------------------

VU_UVA = 0x7F0000000000         # the front-end's address of the shared memory
VQ_GPA = 0x10000                # fuzz_virtq's region in guest physical memory


def vq_desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def vq_image(num, descs, avail, used_at, size):
    """A descriptor table, an available ring (idx = len(avail)) and room for the used ring."""
    img = bytearray(size)
    for i, d in enumerate(descs):
        img[16 * i:16 * i + 16] = d
    a = 16 * num
    img[a:a + 4] = struct.pack("<HH", 0, len(avail))
    for i, h in enumerate(avail):
        img[a + 4 + 2 * i:a + 6 + 2 * i] = struct.pack("<H", h)
    return bytes(img[:used_at + 6 + 8 * num])


def virtq_seeds():
    num = 8
    used = (16 * num + 6 + 2 * num + 3) & ~3
    buf = VQ_GPA + 0x1000
    tx = [vq_desc(buf, 12, 1, 1), vq_desc(buf + 12, 1500), vq_desc(buf + 0x800, 60)]
    rx = [vq_desc(buf, 2048, 2), vq_desc(buf + 0x800, 2048, 2 | 1, 2), vq_desc(buf + 0x1000, 100, 2)]
    loop = [vq_desc(buf, 64, 1, 1), vq_desc(buf + 64, 64, 1, 0)]
    outside = [vq_desc(0x100000, 64)]
    return {
        "transmit_two_chains": bytes([3 | 0x10, 0, 0]) + vq_image(num, tx, [0, 2], used, 0x2000),
        "receive_event_idx": bytes([3 | 0x10 | 0x20, 0, 0]) + vq_image(num, rx, [0, 1], used, 0x2000),
        "receive_give_back": bytes([3 | 0x20 | 0x40, 0, 0]) + vq_image(num, rx, [0, 1, 0], used, 0x2000),
        "loop": bytes([3, 0, 0]) + vq_image(num, loop, [0], used, 0x2000),
        "outside_region": bytes([3, 0, 0]) + vq_image(num, outside, [0], used, 0x2000),
        "index_beyond_ring": bytes([3, 0, 0]) + vq_image(num, tx, [9], used, 0x2000),
        "avail_far_ahead": bytes([3, 0xF0, 0xFF]) + vq_image(num, tx, [0, 2], used, 0x2000),
    }


def vu_msg(request, payload=b"", nfds=0, need_reply=False):
    """One record of fuzz_vhost_user: the descriptor count, then the message."""
    return bytes([nfds]) + struct.pack("<III", request, 1 | (8 if need_reply else 0), len(payload)) + payload


def vu_queue_setup(q, base, num=8):
    desc, avail, used = base, base + 0x100, base + 0x200
    return (vu_msg(8, struct.pack("<II", q, num)) + vu_msg(10, struct.pack("<II", q, 0)) +
            vu_msg(9, struct.pack("<IIQQQQ", q, 0, VU_UVA + desc, VU_UVA + used, VU_UVA + avail, 0)) +
            vu_msg(12, struct.pack("<Q", q), 1) + vu_msg(13, struct.pack("<Q", q), 1) +
            vu_msg(18, struct.pack("<II", q, 1), need_reply=True))


def vhost_user_seeds():
    features = (1 << 0) | (1 << 1) | (1 << 7) | (1 << 11) | (1 << 15) | (1 << 29) | (1 << 30) | (1 << 32)
    mem = bytearray(0x3000)
    rx = vq_image(8, [vq_desc(0x2000, 2048, 2)], [0], 0x200, 0x400)
    tx = vq_image(8, [vq_desc(0x2800, 12, 1, 1), vq_desc(0x2810, 60)], [0], 0x200, 0x400)
    mem[0:len(rx)] = rx
    mem[0x1000:0x1000 + len(tx)] = tx
    image = struct.pack("<H", len(mem)) + bytes(mem)
    hello = (vu_msg(1) + vu_msg(15) + vu_msg(16, struct.pack("<Q", (1 << 3) | (1 << 4))) + vu_msg(3) +
             vu_msg(2, struct.pack("<Q", features), need_reply=True) +
             vu_msg(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 0x10000, VU_UVA, 0), 1, True))
    running = hello + vu_queue_setup(0, 0) + vu_queue_setup(1, 0x1000) + vu_msg(20, struct.pack("<Q", 1500))
    return {
        "qemu_start": image + running,
        "qemu_start_stop": image + running + vu_msg(11, struct.pack("<II", 0, 0)) +
                           vu_msg(11, struct.pack("<II", 1, 0)) + vu_msg(4),
        "region_past_file": image + hello[:-(12 + 8 + 32 + 1)] +
                            vu_msg(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 1 << 30, VU_UVA, 0), 1),
        "bad_queue_index": image + hello + vu_msg(8, struct.pack("<II", 7, 8)) + vu_msg(8, struct.pack("<II", 0, 7)),
        "unsupported_and_bad_version": image + vu_msg(6, struct.pack("<Q", 0), need_reply=True) +
                                       b"\0" + struct.pack("<III", 1, 2, 0),
        "payload_too_large": image + b"\0" + struct.pack("<III", 5, 1, 1 << 20),
    }


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
    seeds["ipv6"] = ipv6_seeds()
    seeds["dhcp6"] = dhcp6_seeds()
    seeds["ipv6"]["dhcp6_information_request"] = udp6(GUEST_LL, DHCP6_SERVERS, 546, 547,
                                                      seeds["dhcp6"]["information_request"])
    frames = {name: eth(GW_MAC, 0x0800, p) for name, p in packets.items()}
    frames["arp"] = eth(BCAST, 0x0806, arp(GW))
    frames["dhcp_discover"] = eth(BCAST, 0x0800, packets["dhcp_discover"])
    seq = b"".join(struct.pack("!H", len(eth(GW_MAC, 0x0800, f))) + eth(GW_MAC, 0x0800, f) for f in frags)
    seeds["frame"] = {name: struct.pack("!H", len(f)) + f for name, f in frames.items()}
    seeds["frame"]["fragmented_ping"] = seq
    big6 = struct.pack("!BBHHH", 128, 0, 0, 0x4321, 1) + bytes(range(256)) * 12
    big6 = icmp6(GUEST6, GW6, big6, 64)[40:]        # the message, checksum filled in
    frags6 = [ipv6(GUEST6, GW6, 44, big6[o:o + 1448], 64,
                   struct.pack("!BBHI", 58, 0, o | (1 if o + 1448 < len(big6) else 0), 77), 44)[:40 + 8] +
              big6[o:o + 1448] for o in range(0, len(big6), 1448)]
    frags6 = [f[:4] + struct.pack("!H", len(f) - 40) + f[6:] for f in frags6]
    seeds["frame"]["ipv6_fragmented_ping"] = b"".join(
        struct.pack("!H", 14 + len(f)) + GW_MAC + GUEST_MAC + struct.pack("!H", 0x86DD) + f for f in frags6)
    for name, p in seeds["ipv6"].items():
        dst_mac = b"\x33\x33" + p[36:40] if p[24] == 0xFF else GW_MAC
        f = dst_mac + GUEST_MAC + struct.pack("!H", 0x86DD) + p
        seeds["frame"]["ipv6_" + name] = struct.pack("!H", len(f)) + f
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
    eth_frames = [frames["arp"], frames["dhcp_discover"], frames["ping"]]
    frag_frames = [eth(GW_MAC, 0x0800, f) for f in frags]
    seeds["stream"] = {
        "arp_dhcp_ping": qemu_stream(eth_frames),
        "short_reads": qemu_stream(eth_frames, 7),
        "fragmented_ping": qemu_stream(frag_frames, 100),
        "zero_length": qemu_stream([b"", frames["ping"]]),
        "truncated": qemu_stream([frames["ping"]])[:60],
        "length_out_of_range": qemu_stream([frames["ping"]]) + struct.pack("!I", 0x10000 + 18) +
                               b"\0" * 64,
        "runt_frame": qemu_stream([b"\x01\x02\x03"]),
    }
    seeds["vmnet"] = {
        "handshake_dhcp_ping": vmnet_stream(eth_frames),
        "handshake_short_reads": vmnet_stream(eth_frames, 5),
        "handshake_only": vmnet_stream([]),
        "preferred_ip_any_uuid": vmnet_stream([frames["ping"]], command=vmnet_command(
            8, b"\0" * 36, 0xC0A84102)),
        "zero_length": vmnet_stream([b"", frames["ping"]]),
        "length_out_of_range": vmnet_stream([frames["ping"]]) + struct.pack("<H", 1551) +
                               b"\0" * 64,
        "bad_magic": vmnet_stream([], init=vmnet_init(b"VMNET")),
        "bad_version": vmnet_stream([], init=vmnet_init(version=21)),
        "unknown_command": vmnet_stream([], command=vmnet_command(2)),
        "invalid_uuid": vmnet_stream([], command=vmnet_command(uuid=b"x" * 36)),
        "init_only": vmnet_stream([], command=b"")[:30],
    }
    seeds["dgram"] = {
        "vfkit_hello_then_frames": dgram_record(b"VFKT", 2) + b"".join(
            dgram_record(f, 2) for f in eth_frames),
        "qemu_dgram": b"".join(dgram_record(f, 0, end=True) for f in eth_frames),
        "fragmented_ping": b"".join(dgram_record(f, 0) for f in frag_frames),
        "peer_moves": dgram_record(frames["arp"], 0) + dgram_record(frames["ping"], 1) +
                      dgram_record(frames["ping"], 3) + dgram_record(frames["ping"], 4, end=True) +
                      dgram_record(frames["ping"], 5),
        "dropped": dgram_record(frames["ping"], 6) + dgram_record(b"", 0) +
                   dgram_record(frames["ping"], 0, cut=True) + dgram_record(frames["ping"], 0),
        "named_peers": dgram_record(frames["ping"], 7, name=b"/run/user/501/vm.sock\0") +
                       dgram_record(frames["ping"], 7, name=b"\0abstract\xff\x01") +
                       dgram_record(frames["ping"], 7, name=b""),
    }
    seeds["api"] = api_seeds()
    seeds["virtq"] = virtq_seeds()
    seeds["vhost_user"] = vhost_user_seeds()
    for kind, items in seeds.items():
        os.makedirs(os.path.join(out, kind), exist_ok=True)
        for name, data in items.items():
            with open(os.path.join(out, kind, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
