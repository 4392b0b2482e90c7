#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end test of netstackd's --listen-qemu transport (QEMU -netdev stream).

Plays the VM side of the socket: 4-byte big-endian length, then the frame.
Checks that bad input (garbage, truncated frames, length 0, length 70000,
junk frames) never takes the daemon down, that a fresh connection gets ARP
and DHCP answers, that a VM reconnecting (reboot) is served again, that the
daemon survives backpressure with the framing intact, and that SIGTERM is a
clean exit that removes the socket. Also checks command-line errors.

Needs: NETSTACKD=/path/to/netstackd. No root.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True     # keep tests/e2e free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestframes import (TIMEOUT, StreamGuest, arp_exchange, arp_request, check,  # noqa: E402
                         dhcp_exchange, echo_request, frame_bytes, parse_arp_reply,
                         parse_dhcp, parse_echo_reply, run_daemon_test, run_flags)


class Guest(StreamGuest):
    """The VM end of a --listen-qemu connection."""

    def __init__(self, path):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(path)
        super().__init__(sock)


def test_bad_flags(tmp):
    print("bad command lines exit 2 with one line naming the problem")
    sock = os.path.join(tmp, "flags.sock")
    cases = [
        (["--listen-qemu", sock, "--mtu", "abc"], "--mtu"),
        (["--listen-qemu", sock, "--mtu", "70000"], "--mtu"),
        (["--listen-qemu", sock, "--subnet", "10.0.0.0/33"], "--subnet"),
        (["--listen-qemu", sock, "--subnet", "10.0.0"], "--subnet"),
        (["--listen-qemu", sock, "--ipv6-prefix", "fd00::1/64"], "--ipv6-prefix"),
        (["--listen-qemu", sock, "--ipv6-prefix", "fd00::/48"], "--ipv6-prefix"),
        (["--listen-qemu", sock, "--ipv6-prefix", "10.0.0.0"], "--ipv6-prefix"),
        (["--listen-qemu", sock, "--ipv6-prefix", "ff02::/64"], "--ipv6-prefix"),
        (["--listen-qemu", sock, "--ipv6-prefix", "fe80::/64"], "--ipv6-prefix"),
        (["--mtu", "1500"], "transport"),
        (["--listen-qemu", sock, "--listen-dgram", sock], "transport"),
        (["--listen-qemu", sock, "--no-such-flag"], "--no-such-flag"),
        (["--listen-qemu", sock, "--log-level", "loud"], "--log-level"),
        (["--listen-qemu"], "--listen-qemu"),
    ]
    for args, word in cases:
        rc, err = run_flags(args)
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc == 2, "%s: exit code 2 (got %s)" % (" ".join(args), rc))
        check(len(lines) == 1 and word in lines[0],
              "%s: one line mentioning %s: %r" % (" ".join(args), word, err.strip()))
    check(not os.path.exists(sock), "no socket file left by a bad command line")
    rc, out = run_flags(["--version"])
    check(rc == 0, "--version exits 0")
    rc, _ = run_flags(["--help"])
    check(rc == 0, "--help exits 0")

    print("a path that exists and is not a socket is refused")
    regular = os.path.join(tmp, "regular-file")
    with open(regular, "w") as f:
        f.write("not a socket\n")
    rc, err = run_flags(["--listen-qemu", regular])
    check(rc == 1 and "not a socket" in err, "exit 1, 'not a socket': %r" % err.strip())
    check(os.path.isfile(regular), "the regular file is untouched")


def test_bad_input(path, d):
    print("garbage bytes: the connection is closed, the daemon lives")
    g = Guest(path)
    g.sock.sendall(b"\xde\xad\xbe\xef" + os.urandom(60))
    check(g.closed_by_peer(), "daemon closed the garbage connection")
    g.close()
    check(d.alive(), "daemon alive after garbage")

    print("a frame truncated by closing mid-frame")
    g = Guest(path)
    g.sock.sendall(struct.pack("!I", 100) + b"\x01" * 50)
    g.close()
    time.sleep(0.2)
    check(d.alive(), "daemon alive after a truncated frame")

    print("length prefix 0 is skipped, the stream stays in sync")
    g = Guest(path)
    g.sock.sendall(b"\0\0\0\0" * 3)
    arp_exchange(g, "after three zero-length frames")
    g.close()

    print("length prefix 70000: warning and the connection is closed")
    g = Guest(path)
    g.sock.sendall(struct.pack("!I", 70000) + b"\0" * 1000)
    check(g.closed_by_peer(), "daemon closed the connection")
    g.close()
    check(d.alive(), "daemon alive after length 70000")

    print("random junk frames of valid length, including runts under 14 bytes")
    g = Guest(path)
    rnd = random.Random(1234)
    junk = b"".join(frame_bytes(os.urandom(rnd.choice([1, 5, 13, 14, 60, 100, 1514, 9000])))
                    for _ in range(300))
    g.sock.sendall(junk)
    arp_exchange(g, "after 300 junk frames on the same connection")
    g.close()
    check(d.alive(), "daemon alive after junk frames")


def test_backpressure(path, d):
    print("backpressure: 20000 ARP requests, replies read late, framing intact")
    g = Guest(path)
    req = frame_bytes(arp_request()) * 20000
    sender = threading.Thread(target=g.sock.sendall, args=(req,))
    sender.start()
    time.sleep(1.0)     # let the daemon fill the socket and push back
    n = bad = 0
    deadline = time.monotonic() + TIMEOUT
    while True:
        f = g.recv_frame(min(deadline, time.monotonic() + 1.0))
        if f is None:
            break
        n += 1
        if parse_arp_reply(f) is None:
            bad += 1
    sender.join(TIMEOUT)
    check(not sender.is_alive(), "all requests were read by the daemon")
    check(n > 1000, "many replies arrived (%d)" % n)
    check(bad == 0, "every frame parsed as an ARP reply (%d bad)" % bad)
    arp_exchange(g, "after backpressure")
    g.close()

    print("backpressure with 60000-byte frames: 300 pings, replies read late")
    g = Guest(path)
    dhcp_exchange(g, "before the ping flood")
    req = b"".join(frame_bytes(echo_request(seq, 60000)) for seq in range(300))
    sender = threading.Thread(target=g.sock.sendall, args=(req,))
    sender.start()
    time.sleep(1.0)
    seqs, bad = [], 0
    deadline = time.monotonic() + 3 * TIMEOUT
    while len(seqs) < 300:
        f = g.recv_frame(min(deadline, time.monotonic() + 2.0))
        if f is None:
            break
        got = parse_echo_reply(f)
        if got is None:
            bad += parse_arp_reply(f) is None and parse_dhcp(f, 0) is None
            continue
        seqs.append(got[0])
        if got[1] != 60000:
            bad += 1
    sender.join(TIMEOUT)
    check(not sender.is_alive(), "all requests were read by the daemon")
    check(seqs == list(range(300)), "300 echo replies, in order (got %d)" % len(seqs))
    check(bad == 0, "every reply intact (%d bad)" % bad)
    arp_exchange(g, "after the ping flood")
    g.close()


def test_serving(path, d):
    print("a new connection gets ARP and DHCP answers")
    g = Guest(path)
    arp_exchange(g, "fresh connection")
    dhcp_exchange(g, "fresh connection")
    g.close()
    check(d.alive(), "daemon alive")

    for i in (1, 2):
        print("reconnect %d (VM reboot)" % i)
        time.sleep(0.1)
        g = Guest(path)
        arp_exchange(g, "reconnect %d" % i)
        dhcp_exchange(g, "reconnect %d" % i)
        g.close()

    print("a second connection replaces the first")
    a = Guest(path)
    arp_exchange(a, "first connection")
    b = Guest(path)
    arp_exchange(b, "second connection")
    check(a.closed_by_peer(), "first connection closed by the daemon")
    a.close()
    b.close()


def test_all(tmp, path, start):
    test_bad_flags(tmp)

    print("a stale socket file at the path is replaced")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()
    d = start(["--listen-qemu", path, "--log-level", "debug"])
    check(d.wait_path(path) and d.alive(), "daemon listening at %s" % path)
    time.sleep(0.2)
    check("serving qemu stream socket" in d.stderr(), "startup line logged")

    test_bad_input(path, d)
    test_serving(path, d)
    test_backpressure(path, d)

    check(d.alive(), "daemon still alive")
    err = d.stderr()
    check("qemu: frame length 70000 out of range, closing connection" in err,
          "stderr has the out-of-range warning")
    check("ended inside a frame" in err, "the truncated frame was noticed (debug log)")
    check("zero-length frame dropped" in err, "the zero-length frames were noticed (debug log)")

    d.check_sigterm(path)


def main():
    return run_daemon_test("netstackd-qemu-", test_all)


if __name__ == "__main__":
    sys.exit(main())
