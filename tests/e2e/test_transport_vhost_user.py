#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end test of netstackd's --listen-vhost-user transport against a
front-end of our own, written from QEMU's docs/interop/vhost-user.rst and the
virtio 1.x split-ring layout (all little-endian):

  message   u32 request, u32 flags (version 1, 0x4 reply, 0x8 need reply),
            u32 payload size, payload; descriptors as SCM_RIGHTS
  ring      descriptors {u64 addr, u32 len, u16 flags, u16 next}, available
            {u16 flags, u16 idx, u16 ring[num], u16 used_event}, used
            {u16 flags, u16 idx, {u32 id, u32 len} ring[num], u16 avail_event}

The guest's memory is a memfd we map too; the kicks, calls and errors are
eventfds. First the happy path: the handshake (features, protocol features
with REPLY_ACK, memory table, both queues), an ARP request put in the
transmit ring and its reply read from a buffer posted to the receive ring.
Then a hostile guest: an address outside every region, a descriptor loop, a
length of 4 GiB, an available index far ahead, a head beyond the ring, a
readable buffer in the receive ring. Each must stop that ring (counted as
drop_transport_ring, the error eventfd written) and nothing else. Then
hostile messages: a region larger than its file and an unknown request are
refused with a REPLY_ACK failure; a wrong version and an oversized payload
end the connection. After all that, a new connection is served as the first.

Needs: NETSTACKD=/path/to/netstackd, Linux (memfd, eventfd). No root.
"""
import json
import mmap
import os
import select
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True     # keep tests/e2e free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestframes import TIMEOUT, arp_request, check, parse_arp_reply, run_daemon_test  # noqa: E402

MEM_SIZE = 1 << 20
GPA = 0x100000                  # the memory's guest physical address
UVA = 0x7F1000000000            # and its address in the front-end ("QEMU")
NUM = 16
RING = {0: 0x0000, 1: 0x1000}   # each queue's descriptors; available +0x100, used +0x200
RX_BUF, TX_BUF, BUF_SIZE = 0x10000, 0x40000, 4096
HDR = 12                        # struct virtio_net_hdr_mrg_rxbuf

F_MRG_RXBUF, F_EVENT_IDX, F_PROTOCOL, F_VERSION_1 = 1 << 15, 1 << 29, 1 << 30, 1 << 32
P_REPLY_ACK = 1 << 3
D_NEXT, D_WRITE = 1, 2
GET_FEATURES, SET_FEATURES, SET_OWNER, SET_MEM_TABLE = 1, 2, 3, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE = 8, 9, 10
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, SET_VRING_ENABLE = 15, 16, 18


def api_counter(path, name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(path)
    s.sendall(b'{"execute": "get_stats"}\n')
    reply = json.loads(s.makefile().readline())
    s.close()
    return reply["return"]["counters"][name]


class FrontEnd:
    """QEMU's side of one connection, with one guest memory and two queues."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.memfd = os.memfd_create("guest")
        os.ftruncate(self.memfd, MEM_SIZE)
        self.mem = mmap.mmap(self.memfd, MEM_SIZE)
        self.ev = {(q, k): os.eventfd(0, os.EFD_NONBLOCK) for q in (0, 1) for k in ("kick", "call", "err")}

    def close(self):
        self.sock.close()
        self.mem.close()
        os.close(self.memfd)
        for fd in self.ev.values():
            os.close(fd)

    def send(self, request, payload=b"", fds=(), need_reply=False, version=1):
        flags = version | (0x8 if need_reply else 0)
        data = struct.pack("<III", request, flags, len(payload)) + payload
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.sendall(data)

    def recv(self, request):
        hdr = self.recv_exact(12)
        check(len(hdr) == 12, "a reply to request %d" % request)
        req, flags, size = struct.unpack("<III", hdr)
        check(req == request and flags & 0x4, "reply header for %d (got %d, flags %#x)" % (request, req, flags))
        return self.recv_exact(size)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                break
            buf += chunk
        return buf

    def ack(self, request, payload=b"", fds=()):
        """Send with NEED_REPLY; the REPLY_ACK status (0 is success)."""
        self.send(request, payload, fds, need_reply=True)
        return struct.unpack("<Q", self.recv(request))[0]

    def handshake(self):
        self.send(GET_FEATURES)
        offered = struct.unpack("<Q", self.recv(GET_FEATURES))[0]
        want = F_MRG_RXBUF | F_EVENT_IDX | F_PROTOCOL | F_VERSION_1
        check(offered & want == want, "features offered: %#x" % offered)
        self.send(GET_PROTOCOL_FEATURES)
        proto = struct.unpack("<Q", self.recv(GET_PROTOCOL_FEATURES))[0]
        check(proto & P_REPLY_ACK, "REPLY_ACK offered (%#x)" % proto)
        self.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", P_REPLY_ACK))
        self.send(SET_OWNER)
        check(self.ack(SET_FEATURES, struct.pack("<Q", want)) == 0, "SET_FEATURES acked")
        region = struct.pack("<II", 1, 0) + struct.pack("<QQQQ", GPA, MEM_SIZE, UVA, 0)
        check(self.ack(SET_MEM_TABLE, region, [self.memfd]) == 0, "SET_MEM_TABLE acked")
        for q in (0, 1):
            self.setup_queue(q)
            for kind, req in (("kick", SET_VRING_KICK), ("call", SET_VRING_CALL), ("err", SET_VRING_ERR)):
                self.send(req, struct.pack("<Q", q), [self.ev[(q, kind)]])
            check(self.ack(SET_VRING_ENABLE, struct.pack("<II", q, 1)) == 0, "queue %d enabled" % q)

    def setup_queue(self, q):
        """Queue @q from scratch: rings zeroed, size, base 0, addresses (which also
        clears a ring marked broken)."""
        base = RING[q]
        self.mem[base:base + 0x400] = bytes(0x400)
        self.send(SET_VRING_NUM, struct.pack("<II", q, NUM))
        self.send(SET_VRING_BASE, struct.pack("<II", q, 0))
        addr = struct.pack("<IIQQQQ", q, 0, UVA + base, UVA + base + 0x200, UVA + base + 0x100, 0)
        check(self.ack(SET_VRING_ADDR, addr) == 0, "queue %d addresses acked" % q)

    def desc(self, q, i, addr, length, flags=0, nxt=0):
        off = RING[q] + 16 * i
        self.mem[off:off + 16] = struct.pack("<QIHH", addr, length, flags, nxt)

    def make_available(self, q, heads, idx=None):
        avail = RING[q] + 0x100
        cur = struct.unpack("<H", self.mem[avail + 2:avail + 4])[0]
        for k, h in enumerate(heads):
            slot = (cur + k) % NUM
            self.mem[avail + 4 + 2 * slot:avail + 6 + 2 * slot] = struct.pack("<H", h)
        new = cur + len(heads) if idx is None else idx
        self.mem[avail + 2:avail + 4] = struct.pack("<H", new & 0xFFFF)
        os.eventfd_write(self.ev[(q, "kick")], 1)

    def used(self, q):
        """(used idx, [(id, len), ...] so far)."""
        used = RING[q] + 0x200
        idx = struct.unpack("<H", self.mem[used + 2:used + 4])[0]
        return idx, [struct.unpack("<II", self.mem[used + 4 + 8 * (i % NUM):used + 12 + 8 * (i % NUM)])
                     for i in range(idx)]

    def wait_used(self, q, n):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            idx, entries = self.used(q)
            if idx >= n:
                return entries
            time.sleep(0.01)
        return None

    def transmit(self, frame, head=0):
        self.mem[TX_BUF:TX_BUF + HDR + len(frame)] = bytes(HDR) + frame
        self.desc(1, head, GPA + TX_BUF, HDR + len(frame))
        self.make_available(1, [head])

    def post_rx(self, n, flags=D_WRITE):
        for i in range(n):
            self.desc(0, i, GPA + RX_BUF + i * BUF_SIZE, BUF_SIZE, flags)
        self.make_available(0, list(range(n)))

    def err_signalled(self, q):
        r, _, _ = select.select([self.ev[(q, "err")]], [], [], TIMEOUT)
        if not r:
            return False
        os.eventfd_read(self.ev[(q, "err")])
        return True


def arp_through_rings(fe, what):
    fe.post_rx(4)
    fe.transmit(arp_request())
    check(fe.wait_used(1, 1) is not None, what + ": the transmit chain was used")
    got = fe.wait_used(0, 1)
    check(got is not None, what + ": a frame arrived in a receive buffer")
    head, length = got[0]
    buf = RX_BUF + head * BUF_SIZE
    hdr = fe.mem[buf:buf + HDR]
    check(struct.unpack("<H", hdr[10:12])[0] == 1, what + ": num_buffers 1")
    check(parse_arp_reply(fe.mem[buf + HDR:buf + length]) is not None, what + ": the ARP reply")
    print("ok: %s: ARP request through the transmit ring, reply in a receive buffer" % what)


def hostile_rings(fe, api, d):
    """Each case breaks one ring; every one is counted and signalled, none ends netstackd."""
    cases = [
        ("an address outside every region", lambda: (fe.desc(1, 0, 0x10, 64), fe.make_available(1, [0]))),
        ("a descriptor loop", lambda: (fe.desc(1, 0, GPA + TX_BUF, 64, D_NEXT, 1),
                                       fe.desc(1, 1, GPA + TX_BUF, 64, D_NEXT, 0),
                                       fe.make_available(1, [0]))),
        ("a 4 GiB length", lambda: (fe.desc(1, 0, GPA + TX_BUF, 0xFFFFFFFF), fe.make_available(1, [0]))),
        ("an available index far ahead", lambda: (fe.desc(1, 0, GPA + TX_BUF, 64),
                                                  fe.make_available(1, [0], idx=1000))),
        ("a head beyond the ring", lambda: fe.make_available(1, [200])),
    ]
    for what, act in cases:
        before = api_counter(api, "drop_transport_ring")
        fe.setup_queue(1)
        act()
        check(fe.err_signalled(1), what + ": the error eventfd was written")
        check(api_counter(api, "drop_transport_ring") == before + 1, what + ": counted")
        check(d.alive(), what + ": netstackd alive")
        print("ok: %s: the transmit ring stopped, counted, signalled" % what)
    # The receive ring: a buffer the device may only read.
    before = api_counter(api, "drop_transport_ring")
    fe.setup_queue(1)
    fe.setup_queue(0)
    fe.post_rx(2, flags=0)
    fe.transmit(arp_request())
    check(fe.err_signalled(0), "a readable receive buffer: the error eventfd was written")
    check(api_counter(api, "drop_transport_ring") == before + 1, "a readable receive buffer: counted")
    print("ok: a readable receive buffer: the receive ring stopped, counted, signalled")
    check("broke its transmit queue" in d.stderr() and "broke its receive queue" in d.stderr(),
          "the broken rings logged")


def hostile_messages(path, d):
    fe = FrontEnd(path)
    fe.handshake()
    too_big = struct.pack("<II", 1, 0) + struct.pack("<QQQQ", GPA, MEM_SIZE * 4, UVA, 0)
    check(fe.ack(SET_MEM_TABLE, too_big, [fe.memfd]) != 0, "a region larger than its file refused")
    check(fe.ack(99, struct.pack("<Q", 0)) != 0, "an unknown request refused")
    arp_through_rings(fe, "after refused requests")
    fe.send(GET_FEATURES, version=2)
    check(fe.recv_exact(1) == b"", "a wrong protocol version ends the connection")
    fe.close()
    fe = FrontEnd(path)
    fe.sock.sendall(struct.pack("<III", GET_FEATURES, 1, 1 << 20))
    check(fe.recv_exact(1) == b"", "an oversized payload ends the connection")
    fe.close()
    check(d.alive(), "netstackd alive after hostile messages")
    print("ok: refused requests answered, broken framing disconnected")


def test_all(tmp, path, start):
    api = os.path.join(tmp, "api.sock")
    d = start(["--listen-vhost-user", path, "--api-socket", api, "--log-level", "debug"])
    check(d.wait_path(path) and d.wait_path(api) and d.alive(), "daemon listening at %s" % path)
    fe = FrontEnd(path)
    fe.handshake()
    arp_through_rings(fe, "first connection")
    hostile_rings(fe, api, d)
    fe.close()
    hostile_messages(path, d)
    fe = FrontEnd(path)
    fe.handshake()
    arp_through_rings(fe, "a new connection after all that")
    fe.close()
    check(d.alive(), "netstackd still alive")
    d.check_sigterm(path)


def main():
    return run_daemon_test("netstackd-vhost-", test_all)


if __name__ == "__main__":
    sys.exit(main())
