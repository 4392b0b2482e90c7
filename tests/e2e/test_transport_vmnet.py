#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end test of netstackd's --listen-vmnet transport (hyperkit virtio-vpnkit).

Plays hyperkit's side of the socket, written from the protocol description
(all integers little-endian):

  client -> init     "VMN3T", u32 version (22), 40-byte commit id    49 bytes
  server -> init     the same layout                                 49 bytes
  client -> command  u8 type (1 connect, 8 connect with preferred
                     IPv4), 36-byte UUID, u32 IPv4                   41 bytes
  server -> response u8 1, u16 MTU, u16 max packet size, 6-byte MAC,
                     zero padding (or u8 2, u8 len, reason)          258 bytes
  then frames both ways: u16 length, Ethernet frame

Checks the replies field by field, ARP and DHCP over the 2-byte framing, a
stable locally administered MAC per UUID, reconnects (VM reboot), that bad
handshakes (bad magic, wrong version, truncated init or command, unknown
command) and bad frame lengths close only that connection with a log line,
that backpressure keeps the framing intact, and that SIGTERM is a clean exit
that removes the socket.

Needs: NETSTACKD=/path/to/netstackd. No root.
"""
import os
import socket
import struct
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True     # keep tests/e2e free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestframes import (TIMEOUT, StreamGuest, arp_exchange, arp_request, check,  # noqa: E402
                         dhcp_exchange, parse_arp_reply, recv_before, run_daemon_test,
                         run_flags)

MAGIC = b"VMN3T"
VERSION = 22
COMMIT = b"c" * 40
INIT_LEN, CMD_LEN, RESP_LEN = 49, 41, 258
CMD_ETHERNET, CMD_PREFERRED_IPV4 = 1, 8
MTU = 1500


def init_msg(magic=MAGIC, version=VERSION):
    return magic + struct.pack("<I", version) + COMMIT


def command(uid, kind=CMD_ETHERNET, ip=0):
    return struct.pack("<B", kind) + uid + struct.pack("<I", ip)


def vmnet_frame(frame):
    return struct.pack("<H", len(frame)) + frame


def recv_exact(sock, n):
    """@n bytes from @sock, or fewer if it closes or TIMEOUT passes."""
    deadline = time.monotonic() + TIMEOUT
    buf = b""
    while len(buf) < n:
        data = recv_before(sock, deadline, n - len(buf))
        if not data:
            break
        buf += data
    return buf


class Client(StreamGuest):
    """hyperkit's end of a --listen-vmnet connection, before and after the handshake."""

    def __init__(self, path):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(path)
        super().__init__(sock)

    def handshake(self, uid, kind=CMD_ETHERNET, ip=0):
        """The whole handshake; returns (init reply, VIF response), checked for size."""
        self.sock.sendall(init_msg())
        init = recv_exact(self.sock, INIT_LEN)
        check(len(init) == INIT_LEN, "init reply is %d bytes (got %d)" % (INIT_LEN, len(init)))
        self.sock.sendall(command(uid, kind, ip))
        resp = recv_exact(self.sock, RESP_LEN)
        check(len(resp) == RESP_LEN, "response is %d bytes (got %d)" % (RESP_LEN, len(resp)))
        return init, resp

    def send(self, frame):
        self.sock.sendall(vmnet_frame(frame))

    def recv_frame(self, deadline):
        while True:
            if len(self.buf) >= 2:
                n = struct.unpack("<H", self.buf[:2])[0]
                if len(self.buf) >= 2 + n:
                    frame, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
                    return frame
            data = recv_before(self.sock, deadline, 65536)
            if not data:
                return None
            self.buf += data


def new_uuid():
    return str(uuid.uuid4()).encode()


def parse_vif(resp):
    """(status, mtu, max packet size, mac) of a 258-byte response."""
    status, mtu, max_pkt = struct.unpack("<BHH", resp[:5])
    return status, mtu, max_pkt, resp[5:11]


def connect_ok(path, what, uid=None, kind=CMD_ETHERNET, ip=0, mtu=MTU):
    """A good client: handshake checked, ARP and DHCP answered. Returns (client, mac)."""
    g = Client(path)
    init, resp = g.handshake(uid or new_uuid(), kind, ip)
    check(init[:5] == MAGIC, what + ": init reply magic VMN3T")
    check(struct.unpack("<I", init[5:9])[0] == VERSION,
          what + ": init reply version 22 (got %d)" % struct.unpack("<I", init[5:9])[0])
    status, got_mtu, max_pkt, mac = parse_vif(resp)
    check(status == 1, what + ": response status 1, VIF (got %d)" % status)
    check(got_mtu == mtu, what + ": MTU %d (got %d)" % (mtu, got_mtu))
    check(max_pkt >= min(mtu + 14, 65535),
          what + ": max packet size %d holds an MTU-sized frame" % max_pkt)
    check(mac[0] & 2 and not mac[0] & 1,
          what + ": MAC %s locally administered, unicast" % mac.hex(":"))
    check(resp[11:] == bytes(RESP_LEN - 11), what + ": padding is zero")
    arp_exchange(g, what)
    dhcp_exchange(g, what)
    return g, mac


def test_bad_flags(tmp):
    print("bad command lines exit 2 with one line naming the problem")
    sock = os.path.join(tmp, "flags.sock")
    for args, word in [(["--listen-vmnet"], "--listen-vmnet"),
                       (["--listen-vmnet", ""], "--listen-vmnet"),
                       (["--listen-vmnet", sock, "--listen-qemu", sock], "transport")]:
        rc, err = run_flags(args)
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc == 2, "%s: exit code 2 (got %s)" % (" ".join(args), rc))
        check(len(lines) == 1 and word in lines[0],
              "%s: one line mentioning %s: %r" % (" ".join(args), word, err.strip()))
    check(not os.path.exists(sock), "no socket file left by a bad command line")
    rc, out = run_flags(["--help"])
    check(rc == 0, "--help exits 0")


def rejected(path, d, what, data, log, reply_len=0, half_close=False, after_init=False):
    """A client sends @data; the daemon must close the connection (after
    @reply_len bytes of reply), log @log, and stay alive for a good client."""
    print(what)
    g = Client(path)
    if after_init:
        g.sock.sendall(init_msg())
        check(len(recv_exact(g.sock, INIT_LEN)) == INIT_LEN, what + ": init reply")
    g.sock.sendall(data)
    if half_close:
        g.sock.shutdown(socket.SHUT_WR)
    reply = recv_exact(g.sock, reply_len) if reply_len else b""
    check(len(reply) == reply_len, what + ": %d reply bytes first (got %d)"
          % (reply_len, len(reply)))
    check(g.closed_by_peer(), what + ": connection closed by the daemon")
    g.close()
    time.sleep(0.1)
    check(d.alive(), what + ": daemon alive")
    check(log in d.stderr(), what + ": log line %r" % log)
    good, _ = connect_ok(path, what + ", then a good client")
    good.close()
    return reply


def test_bad_handshakes(path, d):
    rejected(path, d, "bad magic", init_msg(magic=b"VMN4T"), "vmnet: bad magic \"VMN4T\"")

    reply = rejected(path, d, "wrong version 21: our init, then closed", init_msg(version=21),
                     "vmnet: client asks for protocol version 21", reply_len=INIT_LEN)
    check(reply[:5] == MAGIC and struct.unpack("<I", reply[5:9])[0] == VERSION,
          "wrong version: the reply says VMN3T version 22")

    rejected(path, d, "truncated init (20 of 49 bytes, then EOF)", init_msg()[:20],
             "vmnet: handshake incomplete: connection closed by the guest while "
             "waiting for the init message (20 of 49 bytes received)", half_close=True)

    rejected(path, d, "truncated command (10 of 41 bytes, then EOF)",
             command(new_uuid())[:10],
             "vmnet: handshake incomplete: connection closed by the guest while "
             "waiting for the command (10 of 41 bytes received)",
             half_close=True, after_init=True)

    reply = rejected(path, d, "unknown command 7: disconnect response, then closed",
                     command(new_uuid(), kind=7), "vmnet: unknown command 7",
                     reply_len=RESP_LEN, after_init=True)
    check(reply[0] == 2 and b"unknown command" in reply[2:2 + reply[1]],
          "unknown command: response type 2 with the reason")

    rejected(path, d, "malformed UUID", command(b"x" * 36), "vmnet: invalid UUID",
             reply_len=RESP_LEN, after_init=True)

    print("connection closed before sending anything")
    g = Client(path)
    g.close()
    time.sleep(0.1)
    check(d.alive(), "daemon alive")


def test_serving(path, d):
    uid = new_uuid()
    print("a valid handshake, then ARP and DHCP over the 2-byte framing")
    g, mac = connect_ok(path, "first boot", uid)
    g.close()

    for i in (1, 2):
        print("reconnect %d with the same UUID (VM reboot)" % i)
        time.sleep(0.1)
        g, mac2 = connect_ok(path, "reboot %d" % i, uid)
        check(mac2 == mac, "reboot %d: same MAC %s" % (i, mac.hex(":")))
        g.close()

    print("the UUID's case does not change the MAC; another UUID gets another MAC")
    g, mac2 = connect_ok(path, "upper-case UUID", uid.upper())
    check(mac2 == mac, "same MAC for the upper-case UUID")
    g.close()
    g, mac3 = connect_ok(path, "another UUID")
    check(mac3 != mac, "different MAC for a different UUID")
    g.close()

    print("preferred IPv4 command (8) and a UUID of NULs are served")
    g, _ = connect_ok(path, "preferred IPv4", kind=CMD_PREFERRED_IPV4,
                      ip=struct.unpack("!I", socket.inet_aton("192.168.65.9"))[0])
    g.close()
    check("preferred IPv4 192.168.65.9" in d.stderr(), "preferred address logged")
    g, _ = connect_ok(path, "NUL UUID", uid=bytes(36))
    g.close()

    print("init, command and a frame in one write")
    g = Client(path)
    g.sock.sendall(init_msg() + command(uid) + vmnet_frame(arp_request()))
    check(len(recv_exact(g.sock, INIT_LEN + RESP_LEN)) == INIT_LEN + RESP_LEN,
          "both replies arrived")
    check(g.wait_for(parse_arp_reply) is not None, "ARP reply to the frame sent with the handshake")
    g.close()

    print("zero-length frames are skipped, the stream stays in sync")
    g, _ = connect_ok(path, "before zero-length frames", uid)
    g.sock.sendall(b"\0\0" * 3)
    arp_exchange(g, "after three zero-length frames")
    g.close()

    print("a frame length above the maximum packet size closes the connection")
    g, _ = connect_ok(path, "before an oversized length", uid)
    g.sock.sendall(struct.pack("<H", 2000) + b"\0" * 100)
    check(g.closed_by_peer(), "daemon closed the connection")
    g.close()
    check(d.alive(), "daemon alive after length 2000")
    check("vmnet: frame length 2000 above the maximum packet size" in d.stderr(),
          "out-of-range length logged")

    print("a second connection replaces the first")
    a, _ = connect_ok(path, "first connection", uid)
    b, _ = connect_ok(path, "second connection", uid)
    check(a.closed_by_peer(), "first connection closed by the daemon")
    a.close()
    b.close()


def test_backpressure(path, d):
    print("backpressure: 20000 ARP requests, replies read late, framing intact")
    g, _ = connect_ok(path, "before the flood")
    sender = threading.Thread(target=g.sock.sendall,
                              args=(vmnet_frame(arp_request()) * 20000,))
    sender.start()
    time.sleep(1.0)     # let the daemon fill the socket and push back
    n = bad = 0
    while True:
        f = g.recv_frame(time.monotonic() + 1.0)
        if f is None:
            break
        n += 1
        bad += parse_arp_reply(f) is None
    sender.join(TIMEOUT)
    check(not sender.is_alive(), "all requests were read by the daemon")
    check(n > 1000, "many replies arrived (%d)" % n)
    check(bad == 0, "every frame parsed as an ARP reply (%d bad)" % bad)
    arp_exchange(g, "after backpressure")
    g.close()


def test_all(tmp, path, start):
    test_bad_flags(tmp)

    d = start(["--listen-vmnet", path, "--mtu", str(MTU), "--log-level", "debug"])
    check(d.wait_path(path) and d.alive(), "daemon listening at %s" % path)
    time.sleep(0.2)
    check("serving vmnet" in d.stderr(), "startup line logged")

    test_serving(path, d)
    test_bad_handshakes(path, d)
    test_backpressure(path, d)
    check(d.alive(), "daemon still alive")
    d.check_sigterm(path)

    print("default MTU: 65520 announced")
    d = start(["--listen-vmnet", path])
    check(d.wait_path(path) and d.alive(), "daemon listening at %s" % path)
    g, _ = connect_ok(path, "default MTU", mtu=65520)
    g.close()
    d.check_sigterm(path)


def main():
    return run_daemon_test("netstackd-vmnet-", test_all)


if __name__ == "__main__":
    sys.exit(main())
