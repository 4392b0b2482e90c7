#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Servers for the NAT end-to-end tests: one process per mode.

Each runs on the "host" side of netstackd (in the host namespace on 127.0.0.1,
reached by the guest through the host-loopback alias, or in the remote
namespace) and prints "ready MODE ADDR:PORT" on stdout once it listens, so a
test can wait for that line instead of polling the port.

Modes:
  http        files from --dir; POST answers the sha256 hex of the body
  halfclose   read until EOF, then send "<sha256 of request> <N>\\n" and N
              bytes derived from that hash (see answer_bytes()), then close
  serverfirst send --send-bytes bytes (answer_bytes("serverfirst", N)), shut
              down the write side, read until EOF, log "got <len> <sha256>"
  reset       send --send-bytes bytes, wait --delay s, close with SO_LINGER
              {1,0} so the peer gets a RST
  expectreset read until EOF or error, log "reset <bytes>" or "eof <bytes>"
  hold        accept and keep connections open, echo what is received; the
              number open is written to --status after every change
  sink        accept and keep connections open, never read from them (a peer
              whose buffers fill), with the smallest receive buffer
  backlog     listen and never accept: the kernel completes handshakes into
              the listen backlog (4096) and holds them there
  udpecho     reply to each datagram with "IP:PORT|" (the source it saw) and
              the payload, from the same socket; with --second-port, also
              from a second socket on that port (full-cone checks)

Standard library only. Usage: servers.py MODE --bind ADDR --port N [options]
"""
import argparse
import hashlib
import http.server
import os
import random
import resource
import socket
import socketserver
import struct
import sys
import threading
import time


def answer_bytes(seed, n):
    """N pseudo-random bytes determined by SEED (a str): both ends derive them."""
    rnd = random.Random(hashlib.sha256(seed.encode()).hexdigest())
    return rnd.randbytes(n)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Log:
    """Append one line per event to a file (flushed at once), if one is given."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, line):
        print(line, flush=True)
        if not self.path:
            return
        with self.lock, open(self.path, "a") as f:
            f.write(line + "\n")


def ready(mode, addr, port):
    print("ready %s %s:%d" % (mode, addr, port), flush=True)


# --- HTTP -----------------------------------------------------------------------

class HTTPHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def copyfile(self, source, outputfile):
        # The headers are written unbuffered already: sendfile the body.
        try:
            self.connection.sendfile(source)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        h = hashlib.sha256()
        left = length
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        body = (h.hexdigest() + "\n").encode()
        if left:
            self.send_error(400, "short body: %d of %d bytes" % (length - left, length))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HTTPServer(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True
    allow_reuse_address = True


def family(addr):
    """The address family of a --bind address: IPv6 for anything with a colon."""
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def run_http(a):
    handler = lambda *args, **kw: HTTPHandler(*args, directory=a.dir, **kw)  # noqa: E731
    HTTPServer.address_family = family(a.bind)
    srv = HTTPServer((a.bind, a.port), handler)
    ready("http", a.bind, srv.server_address[1])
    srv.serve_forever()


# --- plain TCP modes ---------------------------------------------------------------

class TCPServer(socketserver.ThreadingTCPServer):
    request_queue_size = 1024
    daemon_threads = True
    allow_reuse_address = True


def read_all(sock):
    """Read until EOF: (bytes read, sha256 hex)."""
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = sock.recv(1 << 18)
        if not chunk:
            return n, h.hexdigest()
        h.update(chunk)
        n += len(chunk)


def tcp_mode(a, log):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            s = self.request
            peer = "%s:%d" % self.client_address
            try:
                MODES[a.mode](s, peer)
            except OSError as e:
                log.write("%s: error %s" % (peer, e))

    def halfclose(s, peer):
        n, digest = read_all(s)
        answer = answer_bytes(digest, a.answer_bytes)
        s.sendall(("%s %d\n" % (digest, len(answer))).encode() + answer)
        log.write("halfclose %s: read %d bytes, answered %d" % (peer, n, len(answer)))
        s.close()

    def serverfirst(s, peer):
        s.sendall(answer_bytes("serverfirst", a.send_bytes))
        s.shutdown(socket.SHUT_WR)
        n, digest = read_all(s)
        log.write("got %d %s" % (n, digest))
        s.close()

    def reset(s, peer):
        s.sendall(answer_bytes("reset", a.send_bytes))
        time.sleep(a.delay)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        log.write("reset %s after %d bytes" % (peer, a.send_bytes))

    def expectreset(s, peer):
        n = 0
        try:
            while True:
                chunk = s.recv(1 << 18)
                if not chunk:
                    log.write("eof %d" % n)
                    return
                n += len(chunk)
        except ConnectionResetError:
            log.write("reset %d" % n)

    state = {"open": 0}
    lock = threading.Lock()

    def count(delta):
        with lock:
            state["open"] += delta
            if a.status:
                tmp = a.status + ".tmp"
                with open(tmp, "w") as f:
                    f.write("open %d\n" % state["open"])
                os.replace(tmp, a.status)

    def hold(s, peer):
        count(+1)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                s.sendall(chunk)
        except OSError:
            pass
        finally:
            s.close()
            count(-1)

    def sink(s, peer):
        count(+1)
        log.write("sink %s" % peer)
        while True:
            time.sleep(3600)

    MODES = {"halfclose": halfclose, "serverfirst": serverfirst, "reset": reset,
             "expectreset": expectreset, "hold": hold, "sink": sink}
    TCPServer.address_family = family(a.bind)
    srv = TCPServer((a.bind, a.port), Handler, bind_and_activate=False)
    if a.mode == "sink":    # inherited by accepted sockets: little room before they fill
        srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    srv.server_bind()
    srv.server_activate()
    if a.mode == "hold":
        count(0)
    ready(a.mode, a.bind, srv.server_address[1])
    srv.serve_forever()


# --- UDP ---------------------------------------------------------------------------

def run_udpecho(a, log):
    s = socket.socket(family(a.bind), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((a.bind, a.port))
    second = None
    if a.second_port:
        second = socket.socket(family(a.bind), socket.SOCK_DGRAM)
        second.bind((a.bind, a.second_port))
    ready("udpecho", a.bind, s.getsockname()[1])
    while True:
        data, src = s.recvfrom(65535)
        reply = ("%s:%d|" % src[:2]).encode() + data
        reply = reply[:65507]
        if a.verbose:
            log.write("udp from %s:%d, %d bytes" % (src[0], src[1], len(data)))
        try:
            s.sendto(reply, src)
            if second:
                second.sendto(reply, src)
        except OSError as e:
            log.write("udp reply to %s:%d: %s" % (src[0], src[1], e))


def run_backlog(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, a.port))
    s.listen(4096)
    ready("backlog", a.bind, s.getsockname()[1])
    while True:
        time.sleep(3600)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["http", "halfclose", "serverfirst", "reset",
                                    "expectreset", "hold", "sink", "backlog", "udpecho"])
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", default=".", help="http: the directory served")
    p.add_argument("--answer-bytes", type=int, default=4 << 20, help="halfclose")
    p.add_argument("--send-bytes", type=int, default=1 << 20, help="serverfirst, reset")
    p.add_argument("--delay", type=float, default=0.5, help="reset: seconds before the RST")
    p.add_argument("--second-port", type=int, default=0, help="udpecho: also reply from here")
    p.add_argument("--status", help="hold: file holding the number of open connections")
    p.add_argument("--log", help="append one line per event to this file")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args()
    raise_nofile()
    log = Log(a.log)
    if a.mode == "http":
        run_http(a)
    elif a.mode == "udpecho":
        run_udpecho(a, log)
    elif a.mode == "backlog":
        run_backlog(a)
    else:
        tcp_mode(a, log)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
