#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end test of netstackd's --fd transport: an inherited, connected stream
socket with the QEMU framing (4-byte big-endian length, then the frame).

The test makes a socketpair, passes one end to netstackd as fd 3, plays the
VM on the other end (ARP and DHCP), then closes its end: netstackd must exit 0
with an info message, since nothing can reconnect. Also checks that --fd with
a descriptor that is not open, or not a stream socket, is a clear error.

Needs: NETSTACKD=/path/to/netstackd. No root.
"""
import os
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True     # keep tests/e2e free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guestframes import (NETSTACKD, TIMEOUT, Fail, StreamGuest, arp_exchange,  # noqa: E402
                         check, dhcp_exchange, netstackd_ok, read_log, remove_tmp, run_flags)


# --- the daemon ---------------------------------------------------------------

def start_with_fd(log, child_end, extra=()):
    """Start netstackd with @child_end as its fd 3."""
    child_fd = child_end.fileno()

    def as_fd3():
        os.dup2(child_fd, 3)

    return subprocess.Popen([NETSTACKD, "--fd", "3"] + list(extra), stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, pass_fds=(3,),
                            preexec_fn=as_fd3)


def test_bad_fds(tmp):
    print("--fd with a closed descriptor, a non-socket and a datagram socket")
    for args, what in ((["--fd", "57"], "not open"),
                       (["--fd", "0"], "not a stream socket")):
        rc, err = run_flags(args)
        err = err.strip()
        check(rc == 1 and err.startswith("netstackd: fd_open:"),
              "%s (%s): exit 1 with one fd_open line: %r" % (" ".join(args), what, err))
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    log_path = os.path.join(tmp, "dgram.log")
    with open(log_path, "wb") as log:
        p = start_with_fd(log, b)
        rc = p.wait(timeout=TIMEOUT)
    a.close()
    b.close()
    err = read_log(log_path).strip()
    check(rc == 1 and "not a stream socket" in err, "datagram socketpair refused: %r" % err)
    rc = subprocess.run([NETSTACKD, "--fd", "x3"], stdin=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, timeout=10).returncode
    check(rc == 2, "--fd x3 is a usage error (exit 2)")


def main():
    if not netstackd_ok():
        return 1
    tmp = tempfile.mkdtemp(prefix="netstackd-fd-")
    log_path = os.path.join(tmp, "netstackd.log")
    proc = None
    log = open(log_path, "wb")
    try:
        test_bad_fds(tmp)

        print("socketpair end passed as --fd 3")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        proc = start_with_fd(log, theirs, ["-v"])
        theirs.close()
        g = StreamGuest(ours)
        arp_exchange(g, "over --fd 3")
        dhcp_exchange(g, "over --fd 3")
        g.send(b"")     # a zero-length frame is skipped, not fatal
        arp_exchange(g, "after a zero-length frame")
        check(proc.poll() is None, "daemon alive")

        print("closing our end makes netstackd exit 0")
        g.close()
        rc = proc.wait(timeout=TIMEOUT)
        out = read_log(log_path)
        check(rc == 0, "exit code 0 (got %s)" % rc)
        check("fd 3" in out and "exiting" in out, "info message about the closed fd")
        print("PASS")
        return 0
    except Fail as e:
        print("FAIL: " + str(e))
        print("--- netstackd output ---\n" + read_log(log_path)[-4000:])
        return 1
    except subprocess.TimeoutExpired as e:
        print("FAIL: timeout: %s" % e)
        return 1
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        remove_tmp(tmp)


if __name__ == "__main__":
    sys.exit(main())
