#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Clients for the NAT end-to-end tests, run inside the guest namespace for
what curl cannot do. Each mode prints what it measured and exits 0 when the
result is the expected one, 1 otherwise.

Modes (HOST PORT are the server's, as the guest addresses it):
  connect HOST PORT --expect connected|refused|unreachable|timeout [--within S]
        one connect(); prints the errno and the time it took
  concurrent HOST PORT --n N --path P --sha256 HEX
        N connections all opened first, then one HTTP GET on each at once;
        every body must have the given sha256
  halfclose HOST PORT --bytes N --answer-bytes M
        send N bytes, shutdown(SHUT_WR), read the whole answer of
        servers.py halfclose and verify it
  serverfirst HOST PORT --expect-bytes N --send-bytes M
        read until the server's FIN (N bytes, verified), then send M bytes and
        shut down; prints "sent <len> <sha256>" for the test to compare with
        the server's log
  expect-reset HOST PORT
        read until the connection fails; success is ECONNRESET
  send-reset HOST PORT --bytes N
        send N bytes, then close with SO_LINGER {1,0} (a RST)
  udp HOST PORT --size N [--sport S] [--replies R] [--gso-size G]
        send one datagram, wait for R replies of servers.py udpecho; prints
        "seen=IP:PORT" (the source the server saw) and "from=IP:PORT" (where
        each reply came from) per reply
  abandon HOST PORT --n N [--sport S]
        N non-blocking connects, each closed at once (before the SYN-ACK: the
        guest answers it with a RST); from ports S, S+1, ... when given
  reuse HOST PORT --n N --sport S
        N HTTP/1.0 GETs one after the other, all from guest port S (the server
        closes first each time); each must connect within --within s
  rtt HOST PORT --n N --max-p50-us U
        one connection to servers.py hold: N one-byte round trips; prints the
        p50 and p99 in microseconds; the p50 must be under U
  hold HOST PORT --n N
        open N connections at once, then obey commands on stdin, one a line:
        "exchange" (a line echoed on every open connection), "close K",
        "open K", "quit"; each answered by one line starting with "result"

Standard library only.
"""
import argparse
import errno
import hashlib
import os
import random
import resource
import selectors
import socket
import struct
import sys
import threading
import time


def answer_bytes(seed, n):
    """The same derivation as servers.py."""
    rnd = random.Random(hashlib.sha256(seed.encode()).hexdigest())
    return rnd.randbytes(n)


def errname(e):
    code = getattr(e, "errno", None)
    if isinstance(e, socket.timeout) or code is None:
        return "ETIMEDOUT (timed out)" if isinstance(e, socket.timeout) else repr(e)
    return "%s (%s)" % (errno.errorcode.get(code, str(code)), os.strerror(code))


def ms_since(t0):
    return (time.monotonic() - t0) * 1000.0


def say(msg):
    print(msg, flush=True)


def family(host):
    """The address family of a numeric HOST: IPv6 for anything with a colon."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect(host, port, timeout, sport=0):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::" if ":" in host else "0.0.0.0", sport))
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 18))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def recv_all(s):
    buf = bytearray()
    while True:
        chunk = s.recv(1 << 18)
        if not chunk:
            return bytes(buf)
        buf += chunk


# --- connect -----------------------------------------------------------------------

EXPECT = {
    "connected": (None,),
    "refused": (errno.ECONNREFUSED,),
    "unreachable": (errno.EHOSTUNREACH, errno.ENETUNREACH),
    "timeout": ("timeout",),
}


def mode_connect(a):
    t0 = time.monotonic()
    got = None
    try:
        s = connect(a.host, a.port, a.timeout, a.sport)
        what = "connected"
        s.close()
    except socket.timeout as e:
        got, what = "timeout", errname(e)
    except OSError as e:
        got, what = e.errno, errname(e)
    ms = ms_since(t0)
    ok = got in EXPECT[a.expect] and (a.within is None or ms <= a.within * 1000)
    say("%s: connect %s:%d: %s after %.0f ms (expected %s%s)" %
        ("ok" if ok else "FAIL", a.host, a.port, what, ms, a.expect,
         "" if a.within is None else " within %.1f s" % a.within))
    return ok


# --- concurrent ----------------------------------------------------------------------

def mode_concurrent(a):
    n = a.n
    socks = [None] * n
    errors = []
    lock = threading.Lock()
    t0 = time.monotonic()
    deadline = t0 + a.timeout

    # Phase 1: open every connection (non-blocking, all at once).
    sel = selectors.DefaultSelector()
    for i in range(n):
        s = socket.socket(family(a.host), socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((a.host, a.port))
        if rc not in (0, errno.EINPROGRESS):
            errors.append("conn %d: connect: %s" % (i, os.strerror(rc)))
            s.close()
            continue
        socks[i] = s
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = sum(1 for s in socks if s)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            i = key.data
            s = socks[i]
            sel.unregister(s)
            pending -= 1
            rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc:
                errors.append("conn %d: connect: %s" % (i, os.strerror(rc)))
                s.close()
                socks[i] = None
    for key in list(sel.get_map().values()):
        errors.append("conn %d: connect timed out" % key.data)
        socks[key.data].close()
        socks[key.data] = None
    sel.close()
    opened = sum(1 for s in socks if s)
    t_open = ms_since(t0)
    say("opened %d of %d connections in %.0f ms" % (opened, n, t_open))

    # Phase 2: one GET on each, all threads released together.
    results = [False] * n
    barrier = threading.Barrier(opened + 1) if opened else None

    def worker(i, s):
        try:
            s.setblocking(True)
            s.settimeout(max(1.0, deadline - time.monotonic()))
            barrier.wait(timeout=30)
            s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (a.path, a.host)).encode())
            resp = recv_all(s)
            head, sep, body = resp.partition(b"\r\n\r\n")
            status = head.split(b"\r\n", 1)[0]
            if not sep or b" 200 " not in status + b" ":
                raise ValueError("bad response %r" % status[:60])
            digest = hashlib.sha256(body).hexdigest()
            if a.sha256 and digest != a.sha256:
                raise ValueError("body of %d bytes has sha256 %s" % (len(body), digest))
            results[i] = True
        except Exception as e:  # noqa: BLE001 - every failure is reported
            with lock:
                errors.append("conn %d: %s" % (i, errname(e) if isinstance(e, OSError) else e))
        finally:
            s.close()

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(socks) if s]
    for t in threads:
        t.start()
    if barrier:
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            errors.append("barrier broken")
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()))
    done = sum(results)
    ok = done == n
    say("%s: %d of %d concurrent connections completed with the right body, %d failed, "
        "%.0f ms in all" % ("ok" if ok else "FAIL", done, n, n - done, ms_since(t0)))
    for e in errors[:10]:
        say("  " + e)
    if len(errors) > 10:
        say("  ... and %d more" % (len(errors) - 10))
    return ok


# --- half-close, resets ---------------------------------------------------------------

def mode_halfclose(a):
    data = os.urandom(a.bytes)
    digest = hashlib.sha256(data).hexdigest()
    t0 = time.monotonic()
    s = connect(a.host, a.port, a.timeout)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    resp = recv_all(s)
    s.close()
    line, _, answer = resp.partition(b"\n")
    fields = line.decode(errors="replace").split()
    problems = []
    if len(fields) != 2:
        problems.append("bad header %r" % line[:100])
    else:
        if fields[0] != digest:
            problems.append("server saw sha256 %s, sent %s" % (fields[0], digest))
        if int(fields[1]) != a.answer_bytes or len(answer) != a.answer_bytes:
            problems.append("answer %d bytes (announced %s), expected %d" %
                            (len(answer), fields[1], a.answer_bytes))
        elif answer != answer_bytes(digest, a.answer_bytes):
            problems.append("answer bytes differ from the expected ones")
    ok = not problems
    say("%s: half-close: sent %d bytes then FIN, server read them all (sha256 %s), "
        "then %d answer bytes arrived intact, %.0f ms" %
        ("ok" if ok else "FAIL", a.bytes, "match" if ok else "?", len(answer), ms_since(t0)))
    for p in problems:
        say("  " + p)
    return ok


def mode_serverfirst(a):
    s = connect(a.host, a.port, a.timeout)
    got = recv_all(s)           # until the server's FIN
    good = got == answer_bytes("serverfirst", a.expect_bytes)
    say("%s: read %d bytes until the server's FIN (expected %d, %s)" %
        ("ok" if good else "FAIL", len(got), a.expect_bytes,
         "intact" if good else "different"))
    data = os.urandom(a.send_bytes)
    s.sendall(data)             # our half is still open
    s.shutdown(socket.SHUT_WR)
    # The server closes once it has read our FIN.
    rest = recv_all(s)
    s.close()
    say("sent %d %s" % (len(data), hashlib.sha256(data).hexdigest()))
    return good and not rest


def mode_expect_reset(a):
    t0 = time.monotonic()
    s = connect(a.host, a.port, a.timeout)
    n = 0
    try:
        while True:
            chunk = s.recv(1 << 18)
            if not chunk:
                say("FAIL: clean EOF after %d bytes, expected a reset" % n)
                return False
            n += len(chunk)
    except ConnectionResetError as e:
        say("ok: %s after %d bytes, %.0f ms" % (errname(e), n, ms_since(t0)))
        return True
    except OSError as e:
        say("FAIL: %s after %d bytes, expected ECONNRESET" % (errname(e), n))
        return False
    finally:
        s.close()


def mode_send_reset(a):
    s = connect(a.host, a.port, a.timeout)
    s.sendall(os.urandom(a.bytes))
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    say("sent %d bytes, then a RST" % a.bytes)
    return True


def mode_abandon(a):
    for i in range(a.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if a.sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", a.sport + i))
        # Should the handshake win the race against close(), a RST (not a FIN
        # and the guest's own TIME_WAIT) ends it: the port is free either way.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.setblocking(False)
        s.connect_ex((a.host, a.port))
        s.close()
    say("abandoned %d connects to %s:%d%s" % (a.n, a.host, a.port,
        " from guest ports %d-%d" % (a.sport, a.sport + a.n - 1) if a.sport else ""))
    return True


def mode_reuse(a):
    within = a.within if a.within is not None else 1.0
    slow = []
    for i in range(a.n):
        # The guest's previous socket on this port may still be closing
        # (LAST_ACK): wait for the port, as a real client would pick another.
        free_by = time.monotonic() + 2.0
        while True:
            t0 = time.monotonic()
            try:
                s = connect(a.host, a.port, a.timeout, a.sport)
                break
            except OSError as e:
                if e.errno == errno.EADDRNOTAVAIL and time.monotonic() < free_by:
                    time.sleep(0.05)
                    continue
                slow.append("#%d: %s after %.0f ms" % (i + 1, errname(e), ms_since(t0)))
                s = None
                break
        if s is None:
            continue
        ms = ms_since(t0)
        if ms > within * 1000:
            slow.append("#%d: connected after %.0f ms" % (i + 1, ms))
        try:
            s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (a.path, a.host)).encode())
            resp = recv_all(s)
            if not resp.startswith(b"HTTP/1.") or b" 200 " not in resp.split(b"\r\n", 1)[0] + b" ":
                slow.append("#%d: bad response %r" % (i + 1, resp[:40]))
        except OSError as e:
            slow.append("#%d: %s" % (i + 1, errname(e)))
        finally:
            s.close()
    ok = not slow
    say("%s: %d GETs in a row from guest port %d, each connected within %.1f s%s" %
        ("ok" if ok else "FAIL", a.n, a.sport, within, "" if ok else ": " + "; ".join(slow)))
    return ok


# --- UDP ------------------------------------------------------------------------------

UDP_SEGMENT = 103      # <netinet/udp.h>: the kernel cuts one send into datagrams


def mode_udp(a):
    s = socket.socket(family(a.host), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("::" if ":" in a.host else "0.0.0.0", a.sport))
    payload = os.urandom(a.size)
    expected = [payload]
    if a.gso_size:
        # One send of SIZE bytes becomes datagrams of GSO_SIZE: a super-frame on a USO link.
        s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, a.gso_size)
        expected = [payload[i:i + a.gso_size] for i in range(0, a.size, a.gso_size)]
        a.replies = len(expected)
    t0 = time.monotonic()
    s.sendto(payload, (a.host, a.port))
    deadline = t0 + a.timeout
    good = 0
    while good < a.replies:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        seen, bar, echoed = data.partition(b"|")
        intact = bar and echoed == expected[min(good, len(expected) - 1)]
        say("reply from=%s:%d seen=%s size=%d %s" %
            (src[0], src[1], seen.decode(errors="replace"), len(echoed),
             "intact" if intact else "CORRUPT"))
        if intact:
            good += 1
    ok = good >= a.replies
    say("%s: udp %d bytes from guest port %d to %s:%d: %d of %d replies, %.0f ms" %
        ("ok" if ok else "FAIL", a.size, s.getsockname()[1], a.host, a.port, good,
         a.replies, ms_since(t0)))
    s.close()
    return ok


# --- hold ---------------------------------------------------------------------------------

def open_many(host, port, k, timeout):
    """Open K connections at once: (sockets, refused, other failures, ms)."""
    t0 = time.monotonic()
    sel = selectors.DefaultSelector()
    socks, refused, failed = [], 0, []
    for _ in range(k):
        try:
            s = socket.socket(family(host), socket.SOCK_STREAM)
        except OSError as e:
            failed.append("socket: " + errname(e))
            continue
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            refused += rc == errno.ECONNREFUSED
            if rc != errno.ECONNREFUSED:
                failed.append(os.strerror(rc))
            s.close()
            continue
        sel.register(s, selectors.EVENT_WRITE)
    deadline = t0 + timeout
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            sel.unregister(s)
            rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc == 0:
                s.setblocking(True)
                s.settimeout(timeout)
                socks.append(s)
            else:
                refused += rc == errno.ECONNREFUSED
                if rc != errno.ECONNREFUSED:
                    failed.append(errno.errorcode.get(rc, str(rc)))
                s.close()
    for key in list(sel.get_map().values()):
        failed.append("ETIMEDOUT")
        key.fileobj.close()
    sel.close()
    return socks, refused, failed, ms_since(t0)


def mode_rtt(a):
    s = connect(a.host, a.port, a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(a.n):
        t0 = time.monotonic()
        s.sendall(b"x")
        if recv_exact(s, 1) != b"x":
            say("FAIL: rtt: wrong echo")
            return False
        times.append((time.monotonic() - t0) * 1e6)
    s.close()
    times.sort()
    p50, p99 = times[len(times) // 2], times[min(len(times) - 1, len(times) * 99 // 100)]
    say("rtt n=%d p50_us=%.0f p99_us=%.0f" % (a.n, p50, p99))
    return p50 < a.max_p50_us


def mode_hold(a):
    socks = []

    def do_open(k):
        new, refused, failed, ms = open_many(a.host, a.port, k, a.timeout)
        socks.extend(new)
        kinds = sorted(set(failed))
        say("result open opened=%d refused=%d failed=%d open=%d ms=%.0f%s" %
            (len(new), refused, len(failed), len(socks), ms,
             (" (" + ",".join(kinds) + ")") if kinds else ""))

    do_open(a.n)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "exchange":
            good, bad = 0, []
            for i, s in enumerate(socks):
                msg = ("ping %d %s\n" % (i, os.urandom(8).hex())).encode()
                try:
                    s.sendall(msg)
                    if recv_exact(s, len(msg)) == msg:
                        good += 1
                    else:
                        bad.append("%d: wrong echo" % i)
                except OSError as e:
                    bad.append("%d: %s" % (i, errname(e)))
            say("result exchange ok=%d failed=%d%s" %
                (good, len(bad), (" (" + "; ".join(bad[:5]) + ")") if bad else ""))
        elif cmd[0] == "close":
            k = min(int(cmd[1]), len(socks))
            for s in socks[:k]:
                s.close()
            del socks[:k]
            say("result close closed=%d open=%d" % (k, len(socks)))
        elif cmd[0] == "open":
            do_open(int(cmd[1]))
        elif cmd[0] == "quit":
            break
        else:
            say("result error unknown command %r" % line.strip())
    for s in socks:
        s.close()
    say("result quit")
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["connect", "concurrent", "halfclose", "serverfirst",
                                    "expect-reset", "send-reset", "abandon", "reuse", "udp",
                                    "rtt", "hold"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds for any one step")
    p.add_argument("--expect", choices=sorted(EXPECT), default="connected")
    p.add_argument("--within", type=float, help="connect: the result must come this fast (s)")
    p.add_argument("--n", type=int, default=1)
    p.add_argument("--path", default="/")
    p.add_argument("--sha256", default="")
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--answer-bytes", type=int, default=4 << 20)
    p.add_argument("--expect-bytes", type=int, default=1 << 20)
    p.add_argument("--send-bytes", type=int, default=1 << 20)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--replies", type=int, default=1)
    p.add_argument("--gso-size", type=int, default=0, help="udp: send with UDP_SEGMENT")
    p.add_argument("--max-p50-us", type=float, default=1000.0, help="rtt: the p50 bound")
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    fn = {"connect": mode_connect, "concurrent": mode_concurrent, "halfclose": mode_halfclose,
          "serverfirst": mode_serverfirst, "expect-reset": mode_expect_reset,
          "send-reset": mode_send_reset, "abandon": mode_abandon, "reuse": mode_reuse,
          "udp": mode_udp, "rtt": mode_rtt, "hold": mode_hold}[a.mode]
    try:
        ok = fn(a)
    except OSError as e:
        say("FAIL: %s %s:%d: %s" % (a.mode, a.host, a.port, errname(e)))
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
