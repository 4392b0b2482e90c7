# SPDX-License-Identifier: BSD-3-Clause
"""Frames a guest sends and the parsers of the stack's replies, shared by the
transport tests (tests/e2e/test_transport_*.py).

Besides the frames (ARP, DHCP, ICMP echo) it holds what those tests have in
common around them: the check() that reports each step, the QEMU stream
framing, the ARP and DHCP exchanges with the gateway, and starting, watching
and stopping netstackd. Standard library only.
"""
import os
import random
import signal
import socket
import struct
import subprocess
import tempfile
import time

NETSTACKD = os.environ.get("NETSTACKD", "")
GUEST_MAC = bytes.fromhex("525400123456")
GATEWAY_IP = socket.inet_aton("192.168.65.1")
FIRST_LEASE = "192.168.65.2"
DEFAULT_GATEWAY_MAC = bytes.fromhex("5a94efe40cdd")
TIMEOUT = 5.0


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print("  ok: " + what)


# --- frames -------------------------------------------------------------------

def arp_request(mac=GUEST_MAC, target=GATEWAY_IP):
    """Who has @target? From @mac, sender IP 0.0.0.0 (a probe, RFC 5227)."""
    eth = b"\xff" * 6 + mac + b"\x08\x06"
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + b"\0" * 4 + b"\0" * 6 + target
    return eth + arp


def parse_arp_reply(frame, mac=GUEST_MAC, target=GATEWAY_IP):
    """Return the sender MAC of an ARP reply for @target to @mac, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
    if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 2):
        return None
    sha, spa, tha = frame[22:28], frame[28:32], frame[32:38]
    if spa != target or tha != mac or frame[0:6] != mac or frame[6:12] != sha:
        return None
    return sha


def ip_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def dhcp_discover(xid, mac=GUEST_MAC):
    """A broadcast DHCPDISCOVER (RFC 2131), UDP 68 -> 67, valid IPv4 checksum."""
    bootp = struct.pack("!BBBBIHH", 1, 1, 6, 0, xid, 0, 0x8000)
    bootp += b"\0" * 16 + mac + b"\0" * 10 + b"\0" * 192
    bootp += b"\x63\x82\x53\x63"                       # magic cookie
    bootp += b"\x35\x01\x01"                           # DHCPDISCOVER
    bootp += b"\x37\x04\x01\x03\x06\x1a"               # subnet, router, DNS, MTU
    bootp += b"\xff"
    bootp += b"\0" * (300 - len(bootp)) if len(bootp) < 300 else b""
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     b"\0" * 4, b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return b"\xff" * 6 + mac + b"\x08\x00" + ip + udp


def parse_dhcp(frame, xid):
    """Return (message type, yiaddr) of a DHCP reply with @xid, else None."""
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 17 or len(ip) < ihl + 8 + 240:
        return None
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    if (sport, dport) != (67, 68):
        return None
    bootp = ip[ihl + 8:]
    if bootp[0] != 2 or struct.unpack("!I", bootp[4:8])[0] != xid:
        return None
    if bootp[236:240] != b"\x63\x82\x53\x63":
        return None
    yiaddr = socket.inet_ntoa(bootp[16:20])
    opts, i, mtype = bootp[240:], 0, None
    while i < len(opts) and opts[i] != 255:
        if opts[i] == 0:
            i += 1
            continue
        if i + 1 >= len(opts):
            break
        code, length = opts[i], opts[i + 1]
        if code == 53 and length >= 1:
            mtype = opts[i + 2]
        i += 2 + length
    return mtype, yiaddr


def echo_request(seq, size, mac=GUEST_MAC):
    """ICMP echo request from 192.168.65.2 to the gateway with @size bytes of data."""
    data = bytes([seq & 0xFF]) * size
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + data
    icmp = icmp[:2] + struct.pack("!H", ip_checksum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0, 64, 1, 0,
                     socket.inet_aton(FIRST_LEASE), GATEWAY_IP)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return DEFAULT_GATEWAY_MAC + mac + b"\x08\x00" + ip + icmp


def parse_echo_reply(frame):
    """Return (seq, data length) of an ICMP echo reply whose data is intact, else None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 1:
        return None
    ihl = (frame[14] & 0x0F) * 4
    icmp = frame[14 + ihl:]
    if icmp[0] != 0 or struct.unpack("!H", icmp[4:6])[0] != 0x4242:
        return None
    seq = struct.unpack("!H", icmp[6:8])[0]
    data = icmp[8:]
    if data != bytes([seq & 0xFF]) * len(data):
        return None
    return seq, len(data)


# --- sockets -----------------------------------------------------------------

def recv_before(sock, deadline, size):
    """One recv() of up to @size bytes on @sock, or None once @deadline has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    sock.settimeout(left)
    try:
        return sock.recv(size)
    except socket.timeout:
        return None


class GuestEnd:
    """The VM end of a transport, on socket self.sock: a subclass gives
    send(frame) and recv_frame(deadline), the next frame or None."""

    def wait_for(self, match):
        """First frame for which match(frame) is not None, within TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            frame = self.recv_frame(deadline)
            if frame is None:
                return None
            got = match(frame)
            if got is not None:
                return got

    def close(self):
        self.sock.close()


# --- QEMU stream framing ------------------------------------------------------

def frame_bytes(frame):
    return struct.pack("!I", len(frame)) + frame


class StreamGuest(GuestEnd):
    """The VM end of a connected stream socket: 4-byte big-endian length, then the frame."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(TIMEOUT)
        self.buf = b""

    def send(self, frame):
        self.sock.sendall(frame_bytes(frame))

    def recv_frame(self, deadline):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack("!I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return frame
            data = recv_before(self.sock, deadline, 65536)
            if not data:
                return None
            self.buf += data

    def closed_by_peer(self):
        """True if the daemon closes this connection within TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
        return False


# --- exchanges with the gateway ----------------------------------------------

def arp_exchange(g, what):
    """Guest @g (anything with send() and wait_for()) asks for the gateway's MAC."""
    g.send(arp_request())
    mac = g.wait_for(parse_arp_reply)
    check(mac is not None, what + ": ARP reply for 192.168.65.1")
    check(mac == DEFAULT_GATEWAY_MAC, what + ": gateway MAC is %s" % mac.hex(":"))


def dhcp_exchange(g, what):
    """Guest @g sends a DHCPDISCOVER and must be offered the first lease."""
    xid = random.getrandbits(32)
    g.send(dhcp_discover(xid))
    got = g.wait_for(lambda f: parse_dhcp(f, xid))
    check(got is not None, what + ": DHCP reply to DISCOVER (xid %08x)" % xid)
    check(got == (2, FIRST_LEASE), what + ": DHCPOFFER of %s (got type %s, %s)"
          % (FIRST_LEASE, got[0], got[1]))


# --- the daemon ---------------------------------------------------------------

def netstackd_ok():
    """True if NETSTACKD names an executable; otherwise say so and return False."""
    if not NETSTACKD or not os.access(NETSTACKD, os.X_OK):
        print("NETSTACKD must point to the netstackd binary")
        return False
    return True


def read_log(path):
    with open(path, "rb") as f:
        return f.read().decode(errors="replace")


def run_flags(args):
    """Run netstackd with @args; return (exit code, stderr)."""
    p = subprocess.run([NETSTACKD] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    return p.returncode, p.stderr.decode(errors="replace")


class Daemon:
    """netstackd started with @args (under the command @wrap, if any), its
    output logged to netstackd.log in @tmp."""

    def __init__(self, tmp, args, wrap=()):
        self.log_path = os.path.join(tmp, "netstackd.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(list(wrap) + [NETSTACKD] + args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def stderr(self):
        return read_log(self.log_path)

    def alive(self):
        return self.proc.poll() is None

    def wait_path(self, path):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(path):
                return True
            if not self.alive():
                return False
            time.sleep(0.02)
        return False

    def check_sigterm(self, path):
        """SIGTERM must make the daemon exit 0 and remove its socket at @path."""
        print("SIGTERM: clean exit, socket removed")
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=TIMEOUT)
        check(rc == 0, "exit code 0 after SIGTERM (got %s)" % rc)
        check(not os.path.exists(path), "socket file removed")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def remove_tmp(tmp):
    """Remove the test's temporary directory @tmp and the files in it."""
    for name in os.listdir(tmp):
        try:
            os.unlink(os.path.join(tmp, name))
        except OSError:
            pass
    os.rmdir(tmp)


def run_daemon_test(prefix, body):
    """The main() of a test of netstackd serving a socket at <tmp>/vm.sock.

    Makes a temporary directory named @prefix..., then calls
    body(tmp, path, start): @path is <tmp>/vm.sock and start(args, wrap=())
    starts netstackd with @args (under the command @wrap) and returns its
    Daemon. Prints PASS if body returns,
    FAIL (with the output of the last daemon started) if a check fails or a
    wait times out. Kills the daemons left running, removes the directory and
    returns the exit code.
    """
    if not netstackd_ok():
        return 1
    tmp = tempfile.mkdtemp(prefix=prefix)
    path = os.path.join(tmp, "vm.sock")
    daemons = []

    def start(args, wrap=()):
        daemons.append(Daemon(tmp, args, wrap))
        return daemons[-1]

    try:
        body(tmp, path, start)
        print("PASS")
        return 0
    except Fail as e:
        print("FAIL: " + str(e))
        if daemons:
            print("--- netstackd output ---\n" + daemons[-1].stderr()[-4000:])
        return 1
    except subprocess.TimeoutExpired as e:
        print("FAIL: timeout: %s" % e)
        return 1
    finally:
        for d in daemons:
            d.kill()
        remove_tmp(tmp)
