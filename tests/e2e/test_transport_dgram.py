#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end test of netstackd's --listen-dgram transport (one frame per datagram).

Plays the VM side: a unix datagram socket bound to its own path, sending to the
daemon's path. Checks ARP and DHCP answers, that a VM restarted at a new path
(or at the same path again) is followed, that a guest socket connect()ed to
the daemon's path is answered, that datagrams from an unbound socket, empty
and oversized datagrams are dropped without harm, and that SIGTERM is a clean
exit that removes the socket.

Needs: NETSTACKD=/path/to/netstackd. No root.
"""
import os
import random
import re
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True     # keep tests/e2e free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestframes import (TIMEOUT, GuestEnd, arp_exchange, arp_request, check,  # noqa: E402
                         dhcp_exchange, echo_request, parse_arp_reply, parse_echo_reply,
                         recv_before, run_daemon_test)


# --- unix datagram framing ---------------------------------------------------

class Guest(GuestEnd):
    """The VM end: a datagram socket bound at @own, talking to the daemon at @path."""

    def __init__(self, own, path, connect=False):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if own:
            self.sock.bind(own)
        if connect:
            self.sock.connect(path)
        self.connected = connect

    def send(self, frame):
        if self.connected:
            self.sock.send(frame)
        else:
            self.sock.sendto(frame, self.path)

    def recv_frame(self, deadline):
        """The next datagram, or None once @deadline has passed."""
        return recv_before(self.sock, deadline, 70000)


def flood(g, what, n=3000):
    """@n ARP requests sent while we do not read: the daemon must push back, not drop."""
    print(what + ": %d ARP requests, replies read late" % n)
    sender = threading.Thread(target=lambda: [g.send(arp_request()) for _ in range(n)])
    sender.start()
    time.sleep(1.0)
    got = 0
    while got < n:
        mac = g.wait_for(parse_arp_reply)
        if mac is None:
            break
        got += 1
    sender.join(TIMEOUT)
    check(not sender.is_alive(), what + ": all requests sent")
    check(got == n, what + ": %d of %d replies arrived" % (got, n))


def ping_flood(g, what, n=150, size=60000):
    """@n pings of @size bytes to the gateway, replies read late: more than any socket buffer."""
    print(what + ": %d pings of %d bytes, replies read late" % (n, size))
    sender = threading.Thread(target=lambda: [g.send(echo_request(s, size)) for s in range(n)])
    sender.start()
    time.sleep(1.0)
    seqs = []
    while len(seqs) < n:
        got = g.wait_for(parse_echo_reply)
        if got is None:
            break
        seqs.append(got[0])
        if got[1] != size:
            break
    sender.join(TIMEOUT)
    check(not sender.is_alive(), what + ": all requests sent")
    check(seqs == list(range(n)), what + ": %d of %d replies, in order, intact" % (len(seqs), n))


def run_tests(tmp, path, d):
    print("a datagram from an unbound socket is dropped with a warning")
    g = Guest(None, path)
    g.send(arp_request())
    g.close()
    time.sleep(0.3)
    check(d.alive(), "daemon alive")
    check("unbound socket" in d.stderr(), "warning about the unbound sender logged")

    print("first VM, bound at a.sock: ARP and DHCP")
    a_path = os.path.join(tmp, "a.sock")
    g = Guest(a_path, path)
    arp_exchange(g, "a.sock")
    dhcp_exchange(g, "a.sock")

    print("empty and oversized datagrams are dropped, the guest is still served")
    g.send(b"")
    g.send(b"\x01" * 70000)
    g.send(os.urandom(13))
    for _ in range(100):
        g.send(os.urandom(random.choice([14, 60, 1500])))
    arp_exchange(g, "a.sock after junk")
    check(d.alive(), "daemon alive after junk")
    check("datagram of 70000 bytes out of range" in d.stderr(), "oversized datagram logged")
    flood(g, "backpressure")
    ping_flood(g, "backpressure, large frames")
    g.close()
    os.unlink(a_path)

    print("vfkit: a VFKT hello first, then frames from the same socket")
    v_path = os.path.join(tmp, "vfkit.sock")
    g = Guest(v_path, path)
    g.send(b"VFKT")
    arp_exchange(g, "vfkit.sock after its hello")
    g.close()
    os.unlink(v_path)

    print("VM restarted at a different path, b.sock: served again")
    b_path = os.path.join(tmp, "b.sock")
    g = Guest(b_path, path)
    arp_exchange(g, "b.sock")
    dhcp_exchange(g, "b.sock")
    g.close()
    os.unlink(b_path)

    print("VM restarted at the first path again, a.sock")
    g = Guest(a_path, path)
    arp_exchange(g, "a.sock again")
    dhcp_exchange(g, "a.sock again")
    g.close()
    os.unlink(a_path)

    print("a guest socket connect()ed to the daemon's path")
    c_path = os.path.join(tmp, "c.sock")
    g = Guest(c_path, path, connect=True)
    arp_exchange(g, "connected c.sock")
    dhcp_exchange(g, "connected c.sock")
    flood(g, "backpressure to a connected guest")
    ping_flood(g, "backpressure to a connected guest, large frames")
    g.close()
    os.unlink(c_path)

    print("back to an unconnected guest at b.sock")
    g = Guest(b_path, path)
    arp_exchange(g, "b.sock after the connected guest")
    g.close()
    os.unlink(b_path)


def test_all(tmp, path, start):
    d = start(["--listen-dgram", path, "-v"])
    check(d.wait_path(path) and d.alive(), "daemon bound at %s" % path)

    run_tests(tmp, path, d)
    check(d.alive(), "daemon still alive")

    d.check_sigterm(path)
    # The counters netstackd logs at exit (debug level): of everything sent,
    # only the one 13-byte junk frame is too short for Ethernet. vfkit's
    # 4-byte hello must not have reached the stack as a frame.
    m = re.search(r"drop_eth_short=(\d+)", d.stderr())
    check(m is not None and m.group(1) == "1",
          "only the 13-byte junk frame counted as too short, not the VFKT hello (%s)"
          % (m.group(0) if m else "no counter"))


def main():
    return run_daemon_test("netstackd-dgram-", test_all)


if __name__ == "__main__":
    sys.exit(main())
