#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""idle.py - the idle-connection measurement of tools/bench.sh (standard library only).

  idle.py serve ADDR PORT
        accept connections and keep them open (one epoll loop, no thread per
        connection); what a peer sends is read and dropped, a peer's close
        closes its socket. Prints "ready ADDR:PORT" once it listens.
  idle.py hold HOST PORT --n N [--batch B] [--timeout S] [--max-hold S]
        open N TCP connections, B at a time (each batch finishes its
        handshakes before the next starts, so a stack's limit on connects in
        progress is not hit), retrying refused ones until --timeout; prints
        "result opened=K refused=R failed=F ms=T" and keeps them open and
        idle until SIGTERM/SIGINT or --max-hold seconds, then closes them all
        and prints "result closed=K".

Both raise their soft descriptor limit to the hard one; run them under
prlimit --nofile=... for more.
"""
import argparse
import errno
import os
import resource
import select
import signal
import socket
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(8192)
    ls.setblocking(False)
    ep = select.epoll()
    ep.register(ls.fileno(), select.EPOLLIN)
    conns = {}
    print("ready %s:%d" % (a.host, ls.getsockname()[1]), flush=True)
    while True:
        for fd, ev in ep.poll(1.0):
            if fd == ls.fileno():
                while True:
                    try:
                        s, _ = ls.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:   # EMFILE: leave it in the backlog
                        print("accept: %s" % e, file=sys.stderr, flush=True)
                        break
                    s.setblocking(False)
                    conns[s.fileno()] = s
                    ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
                continue
            s = conns.get(fd)
            if s is None:
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                ep.unregister(fd)
                del conns[fd]
                s.close()


def open_batch(host, port, k, timeout):
    """K non-blocking connects, waited for: (sockets, refused, other failures)."""
    ep = select.epoll()
    pending, ok, refused, failed = {}, [], 0, []
    for _ in range(k):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as e:
            failed.append(errno.errorcode.get(e.errno, str(e.errno)))
            break
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc == 0:
            ok.append(s)
        elif rc == errno.EINPROGRESS:
            pending[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLOUT)
        else:
            refused += rc == errno.ECONNREFUSED
            if rc != errno.ECONNREFUSED:
                failed.append(errno.errorcode.get(rc, str(rc)))
            s.close()
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for fd, _ in ep.poll(max(0.0, deadline - time.monotonic())):
            s = pending.pop(fd)
            ep.unregister(fd)
            rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc == 0:
                ok.append(s)
            else:
                refused += rc == errno.ECONNREFUSED
                if rc != errno.ECONNREFUSED:
                    failed.append(errno.errorcode.get(rc, str(rc)))
                s.close()
    for s in pending.values():
        failed.append("ETIMEDOUT")
        s.close()
    ep.close()
    return ok, refused, failed


def hold(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    t0 = time.monotonic()
    deadline = t0 + a.timeout
    socks, refused, failed = [], 0, []
    while len(socks) < a.n and time.monotonic() < deadline and not stop:
        want = min(a.batch, a.n - len(socks))
        new, r, f = open_batch(a.host, a.port, want, max(0.5, min(10.0, deadline - time.monotonic())))
        socks.extend(new)
        refused += r
        failed.extend(f)
        if f and "EMFILE" in f:
            break
        if len(new) < want:          # refused or timed out: give the stack a moment
            time.sleep(0.2)
    kinds = sorted(set(failed))
    print("result opened=%d refused=%d failed=%d ms=%.0f%s" %
          (len(socks), refused, len(failed), (time.monotonic() - t0) * 1000,
           (" (" + ",".join(kinds) + ")") if kinds else ""), flush=True)
    end = time.monotonic() + a.max_hold
    while not stop and time.monotonic() < end:
        time.sleep(0.5)
    for s in socks:
        s.close()
    print("result closed=%d" % len(socks), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["serve", "hold"])
    p.add_argument("host", help="serve: the address to listen on; hold: to connect to")
    p.add_argument("port", type=int)
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--timeout", type=float, default=60.0, help="hold: seconds to open them all")
    p.add_argument("--max-hold", type=float, default=600.0, help="hold: close them after S s anyway")
    a = p.parse_args()
    raise_nofile()
    if a.mode == "serve":
        serve(a)
    else:
        hold(a)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
