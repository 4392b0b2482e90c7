#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A "cable" between a tap device and netstackd's --listen-qemu socket.

Creates (or opens) the tap NAME, inside the network namespace /run/netns/NS
when --netns is given (or run it under `ip netns exec NS`), connects to the
unix stream socket PATH and relays frames both ways: one read of the tap is
one frame, sent as a 4-byte big-endian length and the frame. Killing this
process is a guest disappearing (its transport closes) while netstackd keeps
running; starting it again is the guest coming back.

Prints "ready TAP PATH" once both ends are open. Exits when either end closes.
Standard library only.

Usage: tapcable.py --tap NAME --socket PATH [--netns NS] [--connect-timeout S]
"""
import argparse
import ctypes
import errno
import fcntl
import os
import socket
import struct
import sys
import threading
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
MAX_FRAME = 65550          # 65535-byte IP packet + Ethernet header, with margin


def enter_netns(name):
    path = name if name.startswith("/") else "/run/netns/" + name
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    return fd


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tap", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--netns")
    p.add_argument("--connect-timeout", type=float, default=5.0)
    a = p.parse_args()

    if a.netns:
        enter_netns(a.netns)
    tap = open_tap(a.tap)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + a.connect_timeout
    while True:
        try:
            sock.connect(a.socket)
            break
        except OSError as e:
            if time.monotonic() > deadline or e.errno not in (errno.ENOENT, errno.ECONNREFUSED):
                print("tapcable: connect %s: %s" % (a.socket, e), file=sys.stderr, flush=True)
                sys.exit(1)
            time.sleep(0.05)
    print("ready %s %s" % (a.tap, a.socket), flush=True)

    done = threading.Event()
    counts = {"to_daemon": 0, "to_tap": 0, "tap_write_errors": 0}

    def tap_to_socket():
        try:
            while True:
                frame = os.read(tap, MAX_FRAME)
                if not frame:
                    break
                sock.sendall(struct.pack(">I", len(frame)) + frame)
                counts["to_daemon"] += 1
        except OSError as e:
            print("tapcable: tap -> socket: %s" % e, file=sys.stderr, flush=True)
        finally:
            done.set()

    def socket_to_tap():
        try:
            while True:
                head = recv_exact(sock, 4)
                if head is None:
                    break
                frame = recv_exact(sock, struct.unpack(">I", head)[0])
                if frame is None:
                    break
                try:
                    os.write(tap, frame)
                    counts["to_tap"] += 1
                except OSError as e:
                    # A tap that is down refuses frames (EIO): drop, as a cable would.
                    if e.errno not in (errno.EIO, errno.EINVAL, errno.ENOBUFS):
                        raise
                    counts["tap_write_errors"] += 1
        except OSError as e:
            print("tapcable: socket -> tap: %s" % e, file=sys.stderr, flush=True)
        finally:
            done.set()

    for fn in (tap_to_socket, socket_to_tap):
        threading.Thread(target=fn, daemon=True).start()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    print("tapcable: closed (%d frames to netstackd, %d to the tap, %d tap write errors)" %
          (counts["to_daemon"], counts["to_tap"], counts["tap_write_errors"]), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
