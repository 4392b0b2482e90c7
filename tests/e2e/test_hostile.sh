#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_hostile.sh - a hostile guest cannot slow, starve or break netstackd
# (natlib.sh topology; frames from tests/e2e/hostile.py, written onto the
# guest's tap from an address the guest's kernel does not own).
#
# 1. SYN floods at the gateway's DNS listener (50000) and at a host port
#    whose server never accepts (5000): netstackd's RSS grows by less than
#    4 MiB (a pcb per SYN held 7 MiB more), drop_tcp_half_open counts
#    what was reset to make room, and then a real guest
#    connection's round trip is still sub-millisecond class (p50 < 2 ms) and
#    DNS over TCP answers.
# 2. 200000 one-byte segments to a host peer that never reads: RSS grows by
#    less than 8 MiB (queued one pbuf each they would hold ~20 MiB).
# 3. Under prlimit --nofile=64, with the descriptors taken by guest
#    connections: a port-forward client and a control-socket client have
#    their connections closed at once (drop_accept_no_fd), not left hanging,
#    and the daemon stays idle (under 10% of a CPU); once the guest lets go,
#    the control socket answers.
# 4. DNS-over-TCP connections left open, then the guest disappears (its
#    cable unplugged) and comes back: DNS over TCP answers it without
#    evicting anything, because the old connections were closed with the link.
. "$(dirname "$0")/natlib.sh"
need_nat_caps prlimit dig

HOSTILE=$E2E_DIR/hostile.py

hostile() { in_guest timeout 120 "$PYTHON" "$HOSTILE" "$@" --tap "$TAP"; }

# stat NAME - one counter of the running netstackd, from its control socket.
stat() {
    "$PYTHON" - "$WORK/api.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b'{"execute": "get_stats"}\n')
print(json.loads(s.makefile().readline())["return"]["counters"][sys.argv[2]])
PY
}

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$DAEMON_PID/status"; }

# rss_grew_less BEFORE AFTER KB - the RSS bound, unless a sanitizer's own
# memory (shadow, quarantine) makes it meaningless.
rss_grew_less() {
    if [ -n "${NETSTACK_SANITIZED:-}" ]; then
        echo "    (RSS bound not checked: sanitizer build)"
        return
    fi
    check "RSS grew by less than $(($3 / 1024)) MiB" test $(($2 - $1)) -lt "$3"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

# closed_at_once PATH|HOST:PORT - a client connects and its connection must
# end (EOF or reset) within 2 s, without an answer: prints what happened.
closed_at_once() {
    in_host "$PYTHON" - "$1" <<'PY'
import socket, sys, time
t = sys.argv[1]
if ":" in t:
    host, port = t.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(t)
s.settimeout(2)
try:
    s.sendall(b'{"execute": "get_stats"}\n')
    got = s.recv(100)
    print("closed" if not got else "answered")
except (ConnectionResetError, BrokenPipeError):
    print("closed")
except socket.timeout:
    print("hung")
PY
}

nat_topology
mkdir "$WORK/www"
head -c 20000 /dev/urandom >"$WORK/www/small.bin"
host_server hold hold --bind 127.0.0.1 --port 9100
host_server backlog backlog --bind 127.0.0.1 --port 9101
host_server sink sink --bind 127.0.0.1 --port 9102

log "1. SYN floods, then a normal connection"
start_nat --api-socket "$WORK/api.sock"
before=$(rss_kb)
hostile synflood "$GW" 53 --count 50000
hostile synflood "$ALIAS" 9101 --count 5000
sleep 1
check "netstackd survived the floods" daemon_alive
after=$(rss_kb)
echo "    RSS ${before} kB -> ${after} kB"
rss_grew_less "$before" "$after" 4096
reset=$(stat drop_tcp_half_open)
echo "    drop_tcp_half_open=$reset"
check "the oldest handshakes were reset to make room" test "$reset" -gt 0
check "a guest connection's round trip is still sub-millisecond class" \
    guestclient rtt "$ALIAS" 9100 --n 300 --max-p50-us 2000
check "DNS over TCP answers the real guest" \
    in_guest timeout 20 dig +tcp +time=3 +tries=2 +short @"$GW" host.internal
stop_nat

log "2. one-byte segments to a host peer that never reads"
start_nat --api-socket "$WORK/api.sock"
before=$(rss_kb)
out=$(hostile tiny "$ALIAS" 9102 --count 200000) || die "hostile tiny: $out"
echo "    $out"
after=$(rss_kb)
echo "    RSS ${before} kB -> ${after} kB"
check "the stack took the bytes (acked at least 150000)" \
    test "$(sed -n 's/.*acked \([0-9]*\).*/\1/p' <<<"$out")" -ge 150000
rss_grew_less "$before" "$after" 8192
stop_nat

log "3. out of descriptors: listeners shed, the loop stays idle"
# 64 descriptors do not even fit the smallest flow limits (32 of each kind):
# TCP connections and UDP flows together take every one.
NAT_WRAP=(prlimit --nofile=64 --)
start_nat --api-socket "$WORK/api.sock" --forward tcp:127.0.0.1:18080:8080 --udp-timeout 3
NAT_WRAP=()
HOLD_TIMEOUT=5 start_holder "$ALIAS" 9100 40
in_guest "$PYTHON" - "$ALIAS" <<'PY'
import socket, sys
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(40)]
for s in socks:
    s.sendto(b"x", (sys.argv[1], 7000))     # one UDP flow each; nobody need answer
PY
sleep 0.5
# (The counters say it afterwards: the control socket sheds clients now too.)
expect_eq "a port-forward client" "$(closed_at_once 127.0.0.1:18080)" closed
expect_eq "a control-socket client" "$(closed_at_once "$WORK/api.sock")" closed
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
echo "    CPU over 2 s: $((t1 - t0)) ticks"
check "netstackd is idle, not spinning on a pending connection" test $((t1 - t0)) -lt 20
stop_holder     # and the UDP flows expire after 3 s
wait_until 10 eval '[ "$(closed_at_once "$WORK/api.sock")" = answered ]' ||
    die "the control socket does not answer once descriptors are free"
check "the guest's flows had run out of host sockets" test "$(stat drop_host_socket)" -gt 0
check "the shed connections were counted" test "$(stat drop_accept_no_fd)" -ge 2
stop_nat

log "4. DNS over TCP left open, the guest unplugged and back"
start_nat_qemu --api-socket "$WORK/api.sock"
start_cable
# 50 at a time: more handshakes at once than the listener's backlog (64)
# would reset the oldest, which is another test.
HOLD_TIMEOUT=5 start_holder "$GW" 53 50
hold_cmd open 50
HOLD_RESULT=$(hold_cmd open 50)
echo "$HOLD_RESULT"
expect_eq "connections open to gateway:53" "$(rfield open "$HOLD_RESULT")" 150
evicted=$(stat dns_tcp_evicted)
expect_eq "beyond 128, the idlest were closed" "$evicted" 22
kill_cable
stop_holder
start_cable
check "DNS over TCP answers the guest that came back" \
    in_guest timeout 20 dig +tcp +time=3 +tries=2 +short @"$GW" host.internal
expect_eq "nothing had to be evicted: the link's going closed them" \
    "$(stat dns_tcp_evicted)" "$evicted"
kill_cable
stop_nat

finish
