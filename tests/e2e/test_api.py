#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end test of netstackd's control API (--api-socket PATH).

Starts netstackd with --listen-qemu (no root needed) and --api-socket, then:
the socket file is mode 0600 and replaces a stale one; slirp4netns's
add_hostfwd, list_hostfwd and remove_hostfwd exactly as slirp4netns(1)
documents them (a forwarded host port accepts connections, a removed one
refuses them); a host port already in use is a clear error; bad lines get one
error line each and the connection stays usable; several clients at once;
garbage, half-line, 10 MB, vanishing and never-reading clients while another
client and a guest keep working; the shapes of get_stats, get_config and
list_flows; SIGTERM removes the socket.

Needs: NETSTACKD=/path/to/netstackd. No root. Only 127.0.0.1 on the host.
"""
import json
import os
import socket
import stat
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True     # keep tests/e2e free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestframes import (DEFAULT_GATEWAY_MAC, FIRST_LEASE, GUEST_MAC, TIMEOUT,  # noqa: E402
                         StreamGuest, arp_exchange, check, ip_checksum, run_daemon_test)

LOCALHOST = "127.0.0.1"
ALIAS_IP = "192.168.65.254"         # the host-loopback alias: the host's 127.0.0.1
LINE_MAX = 64 * 1024


class Client:
    """One connection to the API socket: send lines, read reply lines."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)     # blocking: waits while the backlog is full
        self.sock.settimeout(TIMEOUT)
        self.buf = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def line(self):
        """The next reply line, parsed; None if the daemon closed the connection."""
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        raw, self.buf = self.buf.split(b"\n", 1)
        return json.loads(raw)

    def call(self, obj):
        self.send_raw(json.dumps(obj).encode() + b"\n")
        return self.line()

    def closed(self):
        """True if the daemon closes the connection (EOF or reset) within TIMEOUT;
        whatever was still to read is kept in self.buf."""
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
            self.buf += data
        return False

    def close(self):
        self.sock.close()


def free_port():
    s = socket.socket()
    s.bind((LOCALHOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tcp_connects(port):
    """True if a TCP connect() to 127.0.0.1:@port completes."""
    s = socket.socket()
    s.settimeout(TIMEOUT)
    try:
        s.connect((LOCALHOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def error_desc(reply):
    """The desc of an {"error": {"desc": ...}} reply, else None."""
    if isinstance(reply, dict) and list(reply) == ["error"] and \
            isinstance(reply["error"], dict) and isinstance(reply["error"].get("desc"), str):
        return reply["error"]["desc"]
    return None


def wait_api(d, path):
    """Wait until the daemon accepts connections at @path (a stale file may be there first)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and d.alive():
        try:
            c = Client(path)
            c.close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def udp_frame(sport, dst_ip, dport, payload):
    """A UDP datagram from the guest (192.168.65.2:@sport), checksum 0 (RFC 768: none)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(FIRST_LEASE), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return DEFAULT_GATEWAY_MAC + GUEST_MAC + b"\x08\x00" + ip + udp


# --- the checks ----------------------------------------------------------------

def test_socket_file(api):
    print("the socket file: a unix socket with mode 0600")
    st = os.lstat(api)
    check(stat.S_ISSOCK(st.st_mode), "%s is a socket" % api)
    check(stat.S_IMODE(st.st_mode) == 0o600, "mode 0600 (got %o)" % stat.S_IMODE(st.st_mode))


def test_slirp4netns_commands(c):
    print("add_hostfwd, list_hostfwd, remove_hostfwd as slirp4netns documents them")
    port = free_port()
    r = c.call({"execute": "add_hostfwd",
                "arguments": {"proto": "tcp", "host_addr": LOCALHOST, "host_port": port,
                              "guest_addr": FIRST_LEASE, "guest_port": 80}})
    check(isinstance(r, dict) and list(r) == ["return"] and list(r["return"]) == ["id"]
          and isinstance(r["return"]["id"], int), "add_hostfwd -> {\"return\": {\"id\": N}} (%s)" % r)
    fid = r["return"]["id"]
    check(tcp_connects(port), "the forwarded port %d accepts connections" % port)

    r = c.call({"execute": "list_hostfwd"})
    check(isinstance(r, dict) and list(r) == ["return"] and list(r["return"]) == ["entries"],
          "list_hostfwd -> {\"return\": {\"entries\": [...]}}")
    entries = [e for e in r["return"]["entries"] if e.get("id") == fid]
    check(len(entries) == 1, "the new forward is listed once")
    want = {"id": fid, "proto": "tcp", "host_addr": LOCALHOST, "host_port": port,
            "guest_addr": FIRST_LEASE, "guest_port": 80}
    got = {k: entries[0].get(k) for k in want}
    check(got == want, "its entry has slirp4netns's fields and values (%s)" % entries[0])

    r = c.call({"execute": "remove_hostfwd", "arguments": {"id": fid}})
    check(r == {"return": {}}, "remove_hostfwd -> {\"return\": {}} (%s)" % r)
    r = c.call({"execute": "list_hostfwd"})
    check(all(e.get("id") != fid for e in r["return"]["entries"]), "no longer listed")
    check(not tcp_connects(port), "the removed port refuses connections")
    r = c.call({"execute": "remove_hostfwd", "arguments": {"id": fid}})
    check(error_desc(r) is not None and str(fid) in error_desc(r),
          "removing it again is an error naming the id (%s)" % r)

    # Defaults: host_addr 0.0.0.0 would be the slirp4netns default; on this
    # host only 127.0.0.1 is used, so only guest_addr is left out here.
    port = free_port()
    r = c.call({"execute": "add_hostfwd",
                "arguments": {"proto": "udp", "host_addr": LOCALHOST, "host_port": port,
                              "guest_port": 53}})
    check(error_desc(r) is None and isinstance(r["return"]["id"], int),
          "udp add_hostfwd without guest_addr (%s)" % r)
    r2 = c.call({"execute": "remove_hostfwd", "arguments": {"id": r["return"]["id"]}})
    check(r2 == {"return": {}}, "and removed")


def test_port_in_use(c):
    print("a host port already in use: a clear error")
    busy = socket.socket()
    busy.bind((LOCALHOST, 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        r = c.call({"execute": "add_hostfwd",
                    "arguments": {"proto": "tcp", "host_addr": LOCALHOST, "host_port": port,
                                  "guest_port": 80}})
        want = "host_port %d: address already in use" % port
        check(error_desc(r) == want, "desc is %r (got %s)" % (want, r))
    finally:
        busy.close()


BAD_LINES = [
    (b"this is not json\n", "invalid JSON"),
    (b"[1, 2, 3]\n", "expected a JSON object"),
    (b"\"add_hostfwd\"\n", "expected a JSON object"),
    (b"{}\n", "missing \"execute\""),
    (b"{\"arguments\": {}}\n", "missing \"execute\""),
    (b"{\"execute\": \"format_disk\"}\n", "unknown command"),
    (b"{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_port\": \"80\","
     b" \"guest_port\": 80}}\n", "host_port"),
    (b"{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"icmp\", \"host_port\": 80,"
     b" \"guest_port\": 80}}\n", "proto"),
    (b"{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": \"one\"}}\n", "id"),
    (b"{\"execute\": \"remove_hostfwd\", \"arguments\": 5}\n", "arguments"),
    (b"\xff\xfe\xfd\n", "invalid JSON"),
]


def test_bad_lines(c):
    print("bad lines: one error line each, the connection stays open")
    for line, part in BAD_LINES:
        c.send_raw(line)
        r = c.line()
        d = error_desc(r)
        check(d is not None and part in d, "%r -> error mentioning %r (%s)" % (line[:40], part, r))
    r = c.call({"execute": "list_hostfwd"})
    check(error_desc(r) is None and "entries" in r["return"], "the same connection still works")


def test_several_clients(api):
    print("several clients at once, lines interleaved")
    clients = [Client(api) for _ in range(5)]
    half = b"{\"execute\": \"get_con"
    for c in clients:
        c.send_raw(half)
    for i, c in enumerate(reversed(clients)):
        c.send_raw(b"fig\"}\n{\"execute\": \"list_hostfwd\"}\n")
    for i, c in enumerate(clients):
        r1, r2 = c.line(), c.line()
        check(r1 is not None and "subnet" in r1.get("return", {}) and
              r2 is not None and "entries" in r2.get("return", {}),
              "client %d: both replies, in order" % i)
    for c in clients:
        c.close()


def test_too_many_clients(api):
    print("more than 64 clients: the extra one is refused, the others keep working")
    clients = [Client(api) for _ in range(63)]     # and the main test's client
    for c in clients[:2]:
        check(c.call({"execute": "list_hostfwd"}) is not None, "an early client is served")
    extra = Client(api)
    r = extra.line()
    check(error_desc(r) is not None and "too many" in error_desc(r),
          "the 65th gets an error line (%s)" % r)
    extra.close()
    for c in clients:
        c.close()
    time.sleep(0.2)
    c = Client(api)
    check(c.call({"execute": "list_hostfwd"}) is not None, "after they left, new clients are served")
    c.close()


def flood(sock, total):
    """Send @total bytes without a newline; the daemon closes on us midway."""
    chunk = b"x" * 65536
    try:
        while total > 0:
            sock.sendall(chunk[:min(total, len(chunk))])
            total -= len(chunk)
    except OSError:
        pass


def test_abusive_clients(api, guest):
    print("garbage, half-line, 10 MB, vanishing and never-reading clients while one works")
    good = Client(api)
    garbage = Client(api)
    garbage.send_raw(os.urandom(2000).replace(b"\n", b"") + b"\n")
    half = Client(api)
    half.send_raw(b"{\"execute\": \"list_")
    gone = Client(api)
    gone.send_raw(b"{\"execute\": \"add_hostfwd\", \"argum")
    gone.close()
    big = Client(api)
    flooder = threading.Thread(target=flood, args=(big.sock, 10 * 1024 * 1024))
    flooder.start()
    mute = Client(api)
    mute.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    mute_lines = 3000
    try:
        mute.send_raw(b"{\"execute\": \"get_stats\"}\n" * mute_lines)
    except OSError:
        pass

    answered = 0
    for _ in range(20):
        r = good.call({"execute": "get_stats"})
        answered += r is not None and "counters" in r.get("return", {})
    check(answered == 20, "the good client got all 20 answers (%d)" % answered)
    arp_exchange(guest, "guest during the abuse")

    flooder.join(timeout=30)
    check(not flooder.is_alive(), "the 10 MB sender was stopped")
    check(big.closed(), "the 10 MB client was disconnected")
    lines = [ln for ln in big.buf.split(b"\n") if ln]
    check(len(lines) == 1 and "longer than" in (error_desc(json.loads(lines[0])) or ""),
          "it got exactly one error line first (%r)" % big.buf[:200])

    r = garbage.line()
    check(error_desc(r) is not None, "the garbage client got an error line")
    check(garbage.call({"execute": "list_hostfwd"}) is not None, "and is still connected")

    half.send_raw(b"hostfwd\"}\n")
    r = half.line()
    check(r is not None and "entries" in r.get("return", {}), "the half line was completed later")

    check(mute.closed(), "the client that never reads was disconnected")
    got = mute.buf.count(b"\n")
    check(got < mute_lines, "before all %d replies (%d arrived)" % (mute_lines, got))
    for c in (good, garbage, half, big, mute):
        c.close()


def test_stats_and_config(c):
    print("get_stats and get_config shapes")
    r = c.call({"execute": "get_stats"})
    counters = r["return"]["counters"] if error_desc(r) is None else {}
    check(isinstance(counters, dict) and len(counters) >= 80 and
          all(isinstance(v, int) for v in counters.values()),
          "get_stats -> {\"return\": {\"counters\": {...}}}, %d integers" % len(counters))
    check(counters.get("frames_in", 0) >= 1 and counters.get("arp_in", 0) >= 1,
          "frames_in and arp_in count the guest's frames (%s, %s)"
          % (counters.get("frames_in"), counters.get("arp_in")))
    r = c.call({"execute": "get_config"})
    cfg = r.get("return", {})
    check(cfg.get("subnet") == "192.168.65.0/24" and cfg.get("gateway") == "192.168.65.1" and
          cfg.get("host_loopback") == ALIAS_IP and cfg.get("mtu") == 1500,
          "get_config: subnet, gateway, host_loopback, mtu (%s)" % cfg)
    dns = cfg.get("dns", {})
    check(dns.get("mode") == "forward" and isinstance(dns.get("resolv_conf"), str),
          "get_config: dns mode and resolv_conf (%s)" % dns)
    limits = cfg.get("limits", {})
    check(limits.get("max_udp_flows") == 123 and isinstance(limits.get("max_tcp_connections"), int),
          "get_config: limits, as given on the command line (%s)" % limits)


FLOW_FIELDS = {"proto": str, "direction": str, "guest_addr": str, "guest_port": int,
               "peer_addr": str, "peer_port": int, "state": str, "bytes_from_guest": int,
               "bytes_to_guest": int, "age_ms": int, "idle_ms": int}


def test_list_flows(c, guest):
    print("list_flows: a guest UDP flow to the host's 127.0.0.1")
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((LOCALHOST, 0))
    server.settimeout(TIMEOUT)
    port = server.getsockname()[1]
    payload = b"flow-check" * 10
    guest.send(udp_frame(40123, ALIAS_IP, port, payload))
    try:
        data, _ = server.recvfrom(4096)
    finally:
        server.close()
    check(data == payload, "the datagram reached 127.0.0.1:%d" % port)
    r = c.call({"execute": "list_flows"})
    flows = r.get("return", {}).get("flows")
    check(isinstance(flows, list), "list_flows -> {\"return\": {\"flows\": [...]}} (%s)" % r)
    mine = [f for f in flows if f.get("proto") == "udp" and f.get("guest_port") == 40123]
    check(len(mine) == 1, "the flow is listed once")
    f = mine[0]
    check(all(isinstance(f.get(k), t) for k, t in FLOW_FIELDS.items()),
          "it has %s (%s)" % (", ".join(FLOW_FIELDS), f))
    check(f["direction"] == "outbound" and f["guest_addr"] == FIRST_LEASE and
          f["peer_addr"] == ALIAS_IP and f["peer_port"] == port,
          "addresses and ports as the guest sees them")
    check(f["bytes_from_guest"] >= len(payload) and f["age_ms"] >= 0,
          "bytes_from_guest %d counts the payload" % f["bytes_from_guest"])


def body(tmp, path, start):
    api = os.path.join(tmp, "api.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(api)
    stale.close()                    # a socket file nobody listens on

    d = start(["--listen-qemu", path, "--api-socket", api, "--mtu", "1500",
               "--max-udp-flows", "123"])
    check(d.wait_path(path) and wait_api(d, api), "netstackd serves %s (stale file replaced)" % api)
    test_socket_file(api)

    gsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    gsock.connect(path)
    guest = StreamGuest(gsock)
    arp_exchange(guest, "guest")

    c = Client(api)
    test_slirp4netns_commands(c)
    test_port_in_use(c)
    test_bad_lines(c)
    test_several_clients(api)
    test_too_many_clients(api)
    test_abusive_clients(api, guest)
    test_stats_and_config(c)
    test_list_flows(c, guest)
    c.close()
    check(d.alive(), "netstackd is still running")
    guest.close()
    d.check_sigterm(api)


if __name__ == "__main__":
    sys.exit(run_daemon_test("netstack-api-", body))
