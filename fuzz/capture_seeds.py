#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""capture_seeds.py - the seed corpus of fuzz_stack, recorded from real guests.

Each seed is one end-to-end session, as tests/e2e run them: a real Linux
guest (the kernel's network stack in a network namespace made here, on a tap
device served by netstackd) gets a DHCP lease and then does one thing (see
SESSIONS): a TCP exchange with the host through the host-loopback alias, a
bulk one at MTU 65520, a refused connect, a reset from either side, a UDP
exchange, a fragmented one, a ping beyond the gateway, DNS queries over UDP
(local names too) and over TCP, answers the upstream truncates. netstackd
runs in a second namespace made here, whose loopback holds the servers (an
echo server, a resetting server, a UDP echo and a nameserver, all in this
file) and the "remote" address the guest pings. No packet leaves those two
namespaces. A few more seeds replay a recording with other configuration
bytes (see VARIANTS).

Recording: an AF_PACKET socket on the guest's tap sees every frame both ways
(PACKET_OUTGOING: the guest's). netstackd runs with --no-offload so that the
guest's frames are plain, with complete checksums.

Conversion to fuzz_stack's input format (see the top of fuzz/fuzz_stack.c):
the guest's frames become FRAME records in order (with the checksum-fixing
bit, since their ACK numbers are rewritten), and what the host did is read
off the stack's frames to the guest, becoming the host-side records that
make the harness's fake host do the same: a SYN-ACK means the connect
succeeded, a RST to a SYN that it was refused, payload from the stack is
data the host peer sent, a FIN its shutdown, a RST a reset; a UDP datagram
or an echo reply from beyond the gateway is the peer's answer; the guest's
DNS answer for a name that is not local means the nameserver answered first,
with what answer() here gives for that query (over TCP too if it truncated).
The host peer reads the guest's TCP data as it comes (DRAIN records).
The time between frames becomes CLOCK records. Host sockets are numbered in
the order the stack opens them, which the conversion follows (a new TCP
connection, UDP source port or ping identifier, the first forwarded DNS
query, a TCP retry after a truncated answer). lwIP's initial sequence number
in the harness is FAKE_TCP_ISS, so the guest's ACK numbers are rebased from
the recorded connection's to it.

Usage: fuzz/capture_seeds.py [--netstackd PATH] [--check FUZZER] [--session NAME]...
[OUTDIR] (default OUTDIR: fuzz/corpus/stack next to this file; netstackd:
$NETSTACKD or build/netstackd, as tests/e2e use). Needs root (network
namespaces, a tap), iproute2, busybox (udhcpc, arping) and ping. --check runs
the harness on every seed and fails unless each reached what its session
did (the counters it prints with FUZZ_STACK_TRACE).
"""
import argparse
import errno
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from make_seeds import csum  # one Internet checksum for both seed scripts

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
E2E = os.path.join(ROOT, "tests", "e2e")

GW = "192.168.65.1"
ALIAS = "192.168.65.254"
GUEST_MAC = "02:00:00:65:00:02"
REMOTE = "10.77.0.2"            # an address of the host namespace: pinged through the NAT
TAP = "tap0"
FAKE_TCP_ISS = 0x01000000       # fuzz/fake_host.h
ECHO_PORT, CLOSED_PORT, RESET_PORT, UDP_PORT = 8080, 8081, 8082, 5353
ZONE = "example.test"
PACKET_OUTGOING = 4

# --- Small wire helpers ---------------------------------------------------------


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def dns_skip_name(m, i):
    """Offset after the (possibly compressed) name at @i of message @m."""
    while i < len(m):
        n = m[i]
        if n & 0xC0:
            return i + 2
        i += 1 + n
        if n == 0:
            return i
    raise ValueError("name runs past the message")


def dns_read_name(m, i):
    labels, hops = [], 0
    while i < len(m) and hops < 32:
        n = m[i]
        if n & 0xC0:
            i = (n & 0x3F) << 8 | m[i + 1]
            hops += 1
            continue
        if n == 0:
            break
        labels.append(m[i + 1:i + 1 + n].decode(errors="replace"))
        i += 1 + n
    return ".".join(labels).lower()


def dns_query(qid, name, qtype=1, edns=0):
    m = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0) + dns_name(name)
    m += struct.pack("!HH", qtype, 1)
    if edns:
        m += b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    return m


# --- The host's servers (run in the host namespace) ----------------------------------


def answer(query, over_tcp):
    """The nameserver: A for names of ZONE, TXT for big.ZONE (truncated over UDP)."""
    qid, flags = struct.unpack("!HH", query[:4])
    end = dns_skip_name(query, 12) + 4
    name = dns_read_name(query, 12)
    qtype = struct.unpack("!H", query[end - 4:end - 2])[0]
    rcode, records = 0, []
    if not name.endswith(ZONE):
        rcode = 5                                       # REFUSED: not ours
    elif name.startswith("big."):
        if not over_tcp:                                # TC: ask again over TCP
            return struct.pack("!HHHHHH", qid, 0x8380 | (flags & 0x0100), 1, 0, 0, 0) + \
                query[12:end]
        for i in range(6):                              # about 700 bytes: more than 512
            txt = ("record %d of a set too big for a plain UDP answer " % i).encode() * 2
            records.append(struct.pack("!HHHIH", 0xC00C, 16, 1, 60, len(txt) + 1) +
                           bytes([len(txt)]) + txt)
    elif name.startswith("www.") and qtype == 1:
        records.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("192.0.2.10"))
    elif not name.startswith("www."):
        rcode = 3                                       # NXDOMAIN
    hdr = struct.pack("!HHHHHH", qid, 0x8580 | (flags & 0x0100) | rcode, 1, len(records), 0, 0)
    return hdr + query[12:end] + b"".join(records)


def serve():
    """--serve: every server on 127.0.0.1, then "ready"; runs until killed."""
    def listener(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        return s

    def echo(c):
        with c:
            try:
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    c.sendall(d)
            except ConnectionResetError:
                pass                    # the guest's reset, in tcp_guest_reset

    def resetting(c):
        c.sendall(b"bye\n")
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()

    def dns_tcp(c):
        with c:
            buf = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
                while len(buf) >= 2 and len(buf) >= 2 + (buf[0] << 8 | buf[1]):
                    n = buf[0] << 8 | buf[1]
                    a = answer(buf[2:2 + n], True)
                    c.sendall(struct.pack("!H", len(a)) + a)
                    buf = buf[2 + n:]

    def accept_loop(s, handler):
        while True:
            c, _ = s.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()

    def udp_loop(s, handler):
        while True:
            d, peer = s.recvfrom(65536)
            r = handler(d)
            if r is not None:
                s.sendto(r, peer)

    for port, handler in ((ECHO_PORT, echo), (RESET_PORT, resetting), (53, dns_tcp)):
        threading.Thread(target=accept_loop, args=(listener(port), handler), daemon=True).start()
    for port, handler in ((UDP_PORT, lambda d: d), (53, lambda d: answer(d, False))):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", port))
        threading.Thread(target=udp_loop, args=(u, handler), daemon=True).start()
    print("ready", flush=True)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])


# --- The recorder (run in the guest namespace) ---------------------------------------


def record(tap, out):
    """--record: every frame on @tap, both ways, to @out until SIGTERM."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((tap, 0))
    s.settimeout(0.1)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    with open(out, "wb") as f:
        print("ready", flush=True)
        while not stop:
            try:
                frame, addr = s.recvfrom(65600)
            except (socket.timeout, InterruptedError):
                continue
            except OSError as e:
                if e.errno == errno.ENETDOWN:   # bound before the guest brings the link up
                    continue
                raise
            f.write(struct.pack("!QBI", time.monotonic_ns(), addr[2] == PACKET_OUTGOING,
                                len(frame)) + frame)
            f.flush()


# --- The guest's clients (run in the guest namespace) ---------------------------------


def tcp_queries(queries):
    """DNS queries (id, name, type) over one TCP connection to the gateway, each answered."""
    c = socket.create_connection((GW, 53), timeout=5)
    for qid, name, qtype in queries:
        q = dns_query(qid, name, qtype)
        c.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", c.recv(2))[0]
        while n:
            n -= len(c.recv(n))
    c.close()


def client(mode):
    """--client MODE: what the guest does once it has its lease."""
    if mode == "dhcp_arp":
        for target in (GW, ALIAS):
            subprocess.run(["busybox", "arping", "-c", "1", "-w", "1", "-I", TAP, target],
                           stdout=subprocess.DEVNULL, check=False)
    elif mode in ("tcp_echo", "tcp_guest_reset", "tcp_bulk"):
        c = socket.create_connection((ALIAS, ECHO_PORT), timeout=5)
        msg = b"hello through the host-loopback alias\n"
        if mode == "tcp_bulk":
            msg = bytes(i * 7 & 0xFF for i in range(BULK))
        c.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += c.recv(65536)
        if mode == "tcp_guest_reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            return
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        c.close()
    elif mode == "tcp_refused":
        try:
            socket.create_connection((ALIAS, CLOSED_PORT), timeout=5)
        except ConnectionRefusedError:
            pass
    elif mode == "tcp_host_reset":
        c = socket.create_connection((ALIAS, RESET_PORT), timeout=5)
        try:
            while c.recv(65536):
                pass
        except ConnectionResetError:
            pass
        c.close()
    elif mode in ("udp_echo", "udp_fragmented"):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(3)
        msg = b"a datagram for the host" if mode == "udp_echo" else bytes(range(256)) * 12
        u.sendto(msg, (ALIAS, UDP_PORT))
        u.recvfrom(65536)
    elif mode == "ping":
        for target, n in ((GW, "1"), (REMOTE, "2")):
            subprocess.run(["ping", "-c", n, "-i", "0.2", "-W", "2", "-q", target],
                           stdout=subprocess.DEVNULL, check=False)
    elif mode == "dns_udp":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        for qid, name, edns in ((0x1001, "www." + ZONE, 0), (0x1002, "host.internal", 0),
                                (0x1003, "nothing." + ZONE, 1232), (0x1004, "db.internal", 0),
                                (0x1005, "printer.lan", 0)):
            u.sendto(dns_query(qid, name, edns=edns), (GW, 53))
            u.recvfrom(65536)
    elif mode == "dns_tcp":
        tcp_queries(((0x3001, "www." + ZONE, 1), (0x3002, "gateway.internal", 1)))
    elif mode == "dns_truncated":
        # With EDNS the whole set fits the answer the guest takes; without, the
        # gateway answers TC and the guest asks again over TCP, as resolvers do.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        u.sendto(dns_query(0x2001, "big." + ZONE, 16, 1232), (GW, 53))
        u.recvfrom(65536)
        u.sendto(dns_query(0x2002, "big." + ZONE, 16), (GW, 53))
        if not u.recvfrom(65536)[0][2] & 0x02:
            raise SystemExit("the gateway did not truncate a 700-byte answer to a plain query")
        tcp_queries(((0x2002, "big." + ZONE, 16),))
    else:
        raise SystemExit("unknown client mode " + mode)


# tcp_bulk's bytes each way: segments past TCP_BORROW_MIN at MTU 65520, and more
# than the fake host's socket buffer takes at once
BULK = 10000

# Names the gateway answers itself: netstackd's built-in ones, and for
# dns_udp those of --dns-name and --hosts, the same as fuzz_stack's local
# names (its config[1] bit 3).
LOCAL_NAMES = {"host.internal", "gateway.internal", "db.internal", "printer.lan"}
LOCAL_ARGS = ["--dns-name", "db.internal=10.0.0.5", "--hosts", "HOSTS"]
HOSTS = "203.0.113.5\tprinter.lan printer\n"

SESSIONS = {
    # name: (netstackd's MTU, what the harness must have counted replaying the seed)
    "dhcp_arp": (1500, {"dhcp_in": 2, "arp_replies": 1}),
    "tcp_echo": (1500, {"tcp_established": 1, "tcp_bytes_to_host": 38, "tcp_bytes_to_guest": 38}),
    "tcp_bulk": (65520, {"tcp_established": 1, "tcp_bytes_to_host": BULK,
                         "tcp_bytes_to_guest": BULK}),
    "tcp_refused": (1500, {"tcp_refused": 1}),
    "tcp_host_reset": (1500, {"tcp_established": 1, "tcp_resets_from_host": 1}),
    "tcp_guest_reset": (1500, {"tcp_established": 1, "tcp_resets_from_guest": 1}),
    "udp_echo": (1500, {"udp_to_host": 1, "udp_to_guest": 1}),
    "udp_fragmented": (1500, {"frag_reassembled": 1, "udp_to_host": 1, "udp_to_guest": 1}),
    "ping": (1500, {"icmp_echo_replies": 1, "icmp_echo_replies_forwarded": 2}),
    "dns_udp": (1500, {"dns_forwarded": 2, "dns_local_answers": 3, "dns_answers": 2}),
    "dns_tcp": (1500, {"dns_tcp_queries": 2, "dns_forwarded": 1, "dns_answers": 1}),
    "dns_truncated": (1500, {"dns_tcp_retries": 3, "dns_truncated": 1, "dns_tcp_queries": 1,
                             "dns_answers": 3}),
}

# Seeds made from a session's recording another way: the same guest on a link
# with TSO, with the small limits, with ping sockets refused (the raw-socket
# fallback); and tcp_bulk with a host peer that reads only at the end, so
# the guest's upload is still being written when both FINs are through
# (lwIP's LAST_ACK ends with ERR_CLSD: the upload must still reach the host,
# then a FIN, not a reset).
# name: (session, configuration bytes, prompt host reads, what to count or None: the session's)
VARIANTS = {
    "tcp_echo_tso": ("tcp_echo", b"\x06\x00", True, None),
    "tcp_bulk_integrity": ("tcp_bulk", b"\x09\x00", True, None),
    "tcp_bulk_slow_reader": ("tcp_bulk", b"\x01\x00", False,
                             {"tcp_established": 1, "tcp_bytes_to_host": BULK}),
    "udp_echo_limits": ("udp_echo", b"\x80\x00", True, None),
    "ping_raw": ("ping", b"\x20\x00", True, None),
    "dns_udp_limits": ("dns_udp", b"\x80\x08", True, None),
}

# --- Conversion ---------------------------------------------------------------------


class Seed:
    """fuzz_stack records, in order; see the top of fuzz/fuzz_stack.c."""

    def __init__(self, config=b"\0\0"):
        self.out = bytearray(config)
        self.ms = 0

    def clock_to(self, ms):
        gap = ms - self.ms
        while gap > 0:
            for arg, unit in ((0, 1), (1, 10), (2, 250), (3, 10000)):
                if gap <= 65536 * unit:
                    n = max(1, gap // unit)
                    break
            self.out += bytes([0x01 | arg << 4]) + struct.pack("!H", n - 1)
            gap -= n * unit
            self.ms += n * unit

    def frame(self, f):
        self.out += b"\x10" + struct.pack("!H", len(f)) + f     # with its checksums fixed

    def connect(self, sock, res):
        self.out += bytes([0x02, sock & 255, res])

    def data(self, sock, b, src=0):
        self.out += bytes([0x03 | src << 4, sock & 255]) + struct.pack("!H", len(b)) + b

    def eof(self, sock):
        self.out += bytes([0x04, sock & 255])

    def error(self, sock, e):
        self.out += bytes([0x05, sock & 255, e])

    def drain(self, sock):
        self.out += bytes([0x06, sock & 255, 0, 0])

    def reply(self, sock, flags=0, extra=b""):
        self.out += bytes([0x07 | flags << 4, sock & 255]) + struct.pack("!H", len(extra)) + extra


def ip4(b):
    return socket.inet_ntoa(bytes(b))


def parse(frame):
    """The IPv4 parts of an Ethernet frame, None for anything else."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    ihl = (frame[14] & 15) * 4
    tot = struct.unpack("!H", frame[16:18])[0]
    p = {"ihl": ihl, "proto": frame[23], "src": ip4(frame[26:30]), "dst": ip4(frame[30:34]),
         "frag": struct.unpack("!H", frame[20:22])[0] & 0x3FFF, "l4": 14 + ihl,
         "end": min(14 + tot, len(frame)), "ipid": struct.unpack("!H", frame[18:20])[0]}
    l4 = frame[p["l4"]:p["end"]]
    p["data"] = bytes(l4)
    if p["frag"] & 0x1FFF:
        return p                                        # a later fragment: no header of its own
    if p["proto"] in (6, 17) and len(l4) >= 8:
        p["sport"], p["dport"] = struct.unpack("!HH", l4[:4])
    if p["proto"] == 6 and len(l4) >= 20:
        p["seq"], p["ack"] = struct.unpack("!II", l4[4:12])
        p["flags"] = l4[13]
        p["payload"] = bytes(l4[(l4[12] >> 4) * 4:])
    elif p["proto"] == 17:
        p["payload"] = bytes(l4[8:])
    elif p["proto"] == 1 and len(l4) >= 8:
        p["type"], p["id"] = l4[0], struct.unpack("!H", l4[4:6])[0]
    return p


def rebase_acks(frame, p, isn):
    """The guest's frame with its ACK (and SACK edges) moved from @isn to FAKE_TCP_ISS."""
    f = bytearray(frame)
    t = p["l4"]
    move = lambda v: (v - isn + FAKE_TCP_ISS) & 0xFFFFFFFF
    if p["flags"] & 0x10:
        struct.pack_into("!I", f, t + 8, move(p["ack"]))
    i, end = t + 20, t + (f[t + 12] >> 4) * 4
    while i < end and f[i] != 0:                        # SACK blocks (RFC 2018) are ACK numbers too
        if f[i] == 1:
            i += 1
            continue
        if i + 1 >= end or f[i + 1] < 2:
            break
        if f[i] == 5:
            for j in range(i + 2, i + f[i + 1], 4):
                struct.pack_into("!I", f, j, move(struct.unpack_from("!I", f, j)[0]))
        i += f[i + 1]
    seg = bytes(f[t:p["end"]])
    seg = seg[:16] + b"\0\0" + seg[18:]
    pseudo = bytes(f[26:34]) + struct.pack("!BBH", 0, 6, len(seg))
    struct.pack_into("!H", f, t + 16, csum(pseudo + seg))
    return bytes(f)


def local(addr):
    return addr == GW or addr == ALIAS


def outside(addr):
    return addr.startswith("192.168.65.") and addr != ALIAS


def answer_records(m):
    """(rcode, the answer count and records) of a DNS answer, for a REPLY record."""
    qd, an = struct.unpack("!HH", m[4:8])
    i = 12
    for _ in range(qd):
        i = dns_skip_name(m, i) + 4
    start = i
    for _ in range(an):
        i = dns_skip_name(m, i)
        i += 10 + struct.unpack("!H", m[i + 8:i + 10])[0]
    return m[3] & 15, bytes([an]) + m[start:i]


RCODE_ARG = {0: 0, 3: 1, 2: 2, 5: 3}                    # fake_host.c's rcode table


def messages(stream, take):
    """Call @take for each DNS message of a TCP stream (RFC 1035 4.2.2); Return: the rest."""
    while len(stream) >= 2 and len(stream) >= 2 + (stream[0] << 8 | stream[1]):
        n = stream[0] << 8 | stream[1]
        take(stream[2:2 + n])
        stream = stream[2 + n:]
    return stream


def reassemble(pieces, p):
    """The UDP datagram @p completes, reassembled (RFC 791), or None while incomplete."""
    if not p["frag"]:
        return p
    got = pieces.setdefault((p["src"], p["ipid"]), {})
    got[(p["frag"] & 0x1FFF) * 8] = p
    last = [q for q in got.values() if not q["frag"] & 0x2000]
    data, first = b"", got.get(0)
    for off in sorted(got):
        if off != len(data):
            return None
        data += got[off]["data"]
    if not last or not first or "sport" not in first:
        return None
    del pieces[(p["src"], p["ipid"])]
    return dict(first, payload=data[8:], frag=0)


def convert(frames, config=b"\0\0", prompt=True):
    """A recorded session (time_ns, from_guest, frame) as fuzz_stack input.

    @prompt: the host peer reads what the guest sends as it arrives, as the
    recorded servers did (the stack writes a few KiB at a time to the fake
    host's socket, so several reads); otherwise only at the end of the
    session.
    """
    seed = Seed(config)
    pieces = {}
    t0 = frames[0][0] if frames else 0
    nsock = 0
    tcp = {}            # (guest port, dst, dst port) -> flow
    gw53 = {}           # DNS over TCP to the gateway: guest port -> {isn, rx}
    udp = {}            # guest port -> socket
    icmp = {}           # echo identifier -> socket
    dns = {"sock": None, "pending": {}}

    def dns_query_seen(m):
        if len(m) < 13 or dns_read_name(m, 12) in LOCAL_NAMES:
            return      # answered by the gateway itself
        if dns["sock"] is None:
            nonlocal nsock
            dns["sock"] = nsock
            nsock += 1
        dns["pending"][struct.unpack("!H", m[:2])[0]] = m

    def dns_answer_seen(m):
        """The guest got its answer: the nameserver answered (what answer() said) first."""
        nonlocal nsock
        q = dns["pending"].pop(struct.unpack("!H", m[:2])[0], None)
        if q is None:
            return
        up = answer(q, False)
        if up[2] & 0x02:                # truncated: the stack asked again over TCP
            seed.reply(dns["sock"], 0x1)
            retry = nsock
            nsock += 1
            seed.connect(retry, 0)
            rcode, extra = answer_records(answer(q, True))
            seed.reply(retry, RCODE_ARG.get(rcode, 2) << 2, extra)
        else:
            rcode, extra = answer_records(up)
            seed.reply(dns["sock"], RCODE_ARG.get(rcode, 2) << 2, extra)

    for t, from_guest, frame in frames:
        seed.clock_to((t - t0) // 1000000)
        p = parse(frame)
        if from_guest:
            if p and p["proto"] == 6 and "flags" in p:
                if p["dst"] == GW and p["dport"] == 53:
                    flow = gw53.setdefault(p["sport"], {"isn": None, "rx": b"", "tx": b""})
                    if flow["isn"] is not None:
                        frame = rebase_acks(frame, p, flow["isn"])
                    flow["tx"] = messages(flow["tx"] + p["payload"], dns_query_seen)
                    seed.frame(frame)
                    continue
                key = (p["sport"], p["dst"], p["dport"])
                flow = tcp.get(key)
                if (p["flags"] & 0x17) == 0x02 and (not flow or flow["done"]) and \
                        not outside(p["dst"]) and p["dst"] != GW:
                    flow = tcp[key] = {"sock": nsock, "isn": None, "sent": None, "fin": False,
                                       "done": False}
                    nsock += 1
                if flow and flow["isn"] is not None:
                    frame = rebase_acks(frame, p, flow["isn"])
                seed.frame(frame)
                if flow and p["payload"] and prompt:
                    for _ in range(len(p["payload"]) // 4096 + 2):
                        seed.drain(flow["sock"])
                if flow and p["flags"] & 0x04:
                    flow["done"] = True
            elif p and p["proto"] == 17 and "sport" in p:
                if p["dport"] == 53 and p["dst"] == GW:
                    dns_query_seen(p["payload"])
                elif p["dport"] != 67 and not outside(p["dst"]) and p["dst"] != GW and \
                        p["sport"] not in udp:
                    udp[p["sport"]] = nsock
                    nsock += 1
                seed.frame(frame)
            elif p and p["proto"] == 1 and p.get("type") == 8 and not local(p["dst"]) and \
                    not outside(p["dst"]):
                if p["id"] not in icmp:
                    icmp[p["id"]] = nsock
                    nsock += 1
                seed.frame(frame)
            else:
                seed.frame(frame)
            continue
        # The stack's frames to the guest: what did the host do?
        if not p:
            continue
        if p["proto"] == 6 and "flags" in p:
            if p["src"] == GW and p["sport"] == 53:
                flow = gw53.get(p["dport"])
                if not flow:
                    continue
                if p["flags"] & 0x02:
                    flow["isn"] = p["seq"]
                flow["rx"] = messages(flow["rx"] + p["payload"], dns_answer_seen)
                continue
            flow = tcp.get((p["dport"], p["src"], p["sport"]))
            if not flow or flow["done"]:
                continue
            if flow["isn"] is None:
                if (p["flags"] & 0x12) == 0x12:
                    seed.connect(flow["sock"], 0)
                    flow["isn"] = p["seq"]
                    flow["sent"] = (p["seq"] + 1) & 0xFFFFFFFF
                elif p["flags"] & 0x04:
                    seed.connect(flow["sock"], 1)       # ECONNREFUSED
                    flow["done"] = True
                continue
            new = (flow["sent"] - p["seq"]) & 0xFFFFFFFF
            if p["payload"] and new < len(p["payload"]):
                seed.data(flow["sock"], p["payload"][new:])
                flow["sent"] = (p["seq"] + len(p["payload"])) & 0xFFFFFFFF
            if p["flags"] & 0x04:
                seed.error(flow["sock"], 0)             # ECONNRESET
                flow["done"] = True
            elif p["flags"] & 0x01 and not flow["fin"]:
                seed.eof(flow["sock"])
                flow["fin"] = True
        elif p["proto"] == 17 and (p["frag"] or "sport" in p):
            p = reassemble(pieces, p)
            if not p:
                continue
            if p["src"] == GW and p["sport"] == 53:
                dns_answer_seen(p["payload"])
            elif p["dport"] in udp:
                seed.data(udp[p["dport"]], p["payload"])
        elif p["proto"] == 1 and p.get("type") == 0 and p["id"] in icmp and not local(p["src"]):
            seed.reply(icmp[p["id"]])
    for flow in tcp.values():           # the host peer reads whatever is left
        for _ in range(16):
            seed.drain(flow["sock"])
    return bytes(seed.out)


def read_recording(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i + 13 <= len(data):
        t, out, n = struct.unpack("!QBI", data[i:i + 13])
        frames.append((t, bool(out), data[i + 13:i + 13 + n]))
        i += 13 + n
    return frames


# --- Orchestration -------------------------------------------------------------------


def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, **kw)


def wait_for(what, pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise SystemExit("timed out waiting for " + what)


def wait_ready(proc, what):
    line = proc.stdout.readline()
    if not line.startswith(b"ready"):
        raise SystemExit(what + " did not start: " + line.decode(errors="replace"))


class Topology:
    """The guest and host namespaces, the host's servers; removed on exit."""

    def __init__(self, netstackd, work):
        self.netstackd, self.work = netstackd, work
        tag = "netstack-seeds-%d" % os.getpid()
        self.guest, self.host = tag, tag + "-host"
        self.procs = []
        try:
            self.setup()
        except BaseException:
            self.close()
            raise

    def setup(self):
        for ns in (self.guest, self.host):
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        self.in_guest("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        self.in_guest("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        # The "remote": an address of the host namespace itself, answering ping.
        run("ip", "-n", self.host, "addr", "add", REMOTE + "/32", "dev", "lo")
        self.in_host("sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
        servers = self.spawn(self.host, [sys.executable, __file__, "--serve"])
        wait_ready(servers, "the servers")
        self.resolv = os.path.join(self.work, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("nameserver 127.0.0.1\n")
        self.hosts = os.path.join(self.work, "hosts")
        with open(self.hosts, "w") as f:
            f.write(HOSTS)

    def in_guest(self, *cmd, **kw):
        return run("ip", "netns", "exec", self.guest, *cmd, **kw)

    def in_host(self, *cmd, **kw):
        return run("ip", "netns", "exec", self.host, *cmd, **kw)

    def spawn(self, ns, cmd, stdout=subprocess.PIPE, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=stdout, **kw)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def session(self, mode, mtu):
        """One netstackd, one lease, one client run: the recorded frames."""
        log = open(os.path.join(self.work, mode + ".log"), "wb")
        extra = [self.hosts if a == "HOSTS" else a for a in LOCAL_ARGS] if mode == "dns_udp" else []
        daemon = self.spawn(self.host, [self.netstackd, "--tap", TAP, "--netns",
                                        "/run/netns/" + self.guest, "--no-offload", "--mtu",
                                        str(mtu), "--resolv-conf", self.resolv, "--log-level",
                                        "debug"] + extra, stdout=log, stderr=log)
        present = lambda: subprocess.run(["ip", "-n", self.guest, "link", "show", TAP],
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL).returncode == 0
        wait_for("netstackd's tap", present, 10)
        rec_path = os.path.join(self.work, mode + ".rec")
        rec = self.spawn(self.guest, [sys.executable, __file__, "--record", TAP, rec_path])
        wait_ready(rec, "the recorder")
        try:
            run("ip", "-n", self.guest, "link", "set", TAP, "address", GUEST_MAC)
            run("ip", "-n", self.guest, "link", "set", TAP, "up")
            env = dict(os.environ, OUT=os.path.join(self.work, mode + ".lease"))
            self.in_guest("busybox", "udhcpc", "-i", TAP, "-f", "-q", "-n", "-t", "5", "-T", "1",
                          "-s", os.path.join(E2E, "udhcpc-script.sh"), env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.in_guest(sys.executable, __file__, "--client", mode, timeout=30)
            time.sleep(0.5)         # the last ACKs and FINs
        finally:
            self.stop(rec)
            self.stop(daemon)
            log.close()
        return read_recording(rec_path)

    def close(self):
        for p in list(self.procs):
            self.stop(p)
        for ns in (self.guest, self.host):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def check(fuzzer, path, want):
    """Replay @path in the harness; Return: the counters that fell short of @want."""
    r = subprocess.run([fuzzer, path], env=dict(os.environ, FUZZ_STACK_TRACE="1"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    stats = {}
    for line in r.stderr.decode(errors="replace").splitlines():
        if line.startswith("stat "):
            _, name, value = line.split()
            stats[name] = int(value)
    if r.returncode:
        return {"exit status": r.returncode}
    return {k: stats.get(k, 0) for k, v in want.items() if stats.get(k, 0) < v}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", default=os.path.join(HERE, "corpus", "stack"))
    ap.add_argument("--netstackd", default=os.environ.get("NETSTACKD",
                                                          os.path.join(ROOT, "build", "netstackd")))
    ap.add_argument("--check", metavar="FUZZER", help="replay each seed in fuzz_stack")
    ap.add_argument("--session", action="append", help="only these sessions")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--record", nargs=2, metavar=("TAP", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--client", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        return serve()
    if a.record:
        return record(*a.record)
    if a.client:
        return client(a.client)
    if os.geteuid() != 0:
        raise SystemExit("capture_seeds.py needs root: it creates network namespaces and a tap")
    if not os.access(a.netstackd, os.X_OK):
        raise SystemExit("no netstackd at %s (build it, or pass --netstackd)" % a.netstackd)
    os.makedirs(a.outdir, exist_ok=True)
    failed = []
    with tempfile.TemporaryDirectory(prefix="netstack-seeds.") as work:
        topo = Topology(a.netstackd, work)
        try:
            for mode in a.session or SESSIONS:
                mtu, want = SESSIONS[mode]
                frames = topo.session(mode, mtu)
                config = bytes([0x01 if mtu > 1500 else 0, 0x08 if mode == "dns_udp" else 0])
                seeds = {mode: (convert(frames, config), want)}
                seeds.update({v: (convert(frames, cfg, prompt), vwant or want)
                              for v, (base, cfg, prompt, vwant) in VARIANTS.items()
                              if base == mode})
                for name, (seed, expect) in seeds.items():
                    path = os.path.join(a.outdir, name)
                    with open(path, "wb") as f:
                        f.write(seed)
                    print("%s: %d frames recorded, %d-byte seed" % (name, len(frames), len(seed)))
                    short = check(a.check, path, expect) if a.check else None
                    if short:
                        failed.append(name)
                        print("  replay fell short: %s" % short)
        finally:
            topo.close()
    if failed:
        raise SystemExit("seeds that do not replay: " + " ".join(failed))


if __name__ == "__main__":
    main()
