# SPDX-License-Identifier: BSD-3-Clause
# natlib.sh - the NAT end-to-end tests' topology, sourced by tests (it sources
# lib.sh itself). Three throw-away network namespaces, so no packet of a test
# ever leaves the machine:
#
#   GUEST_NS   the guest: tap0, served by netstackd; DHCP lease 192.168.65.2,
#              default route via the gateway 192.168.65.1
#   HOST_NS    where netstackd runs, so its sockets are this namespace's: lo
#              (127.0.0.1, reached by the guest through the host-loopback
#              alias 192.168.65.254), veth0 10.77.0.1/24 to REMOTE_NS,
#              "unreachable" 203.0.113.0/24 and "prohibit" 198.51.100.0/24
#              routes (they fail locally: nothing is sent), no default route
#              (192.0.2.x: network unreachable), and ping sockets allowed
#              (net.ipv4.ping_group_range)
#   REMOTE_NS  the "internet": veth0 10.77.0.2/24, reachable from the guest
#              only through netstackd's host sockets
#
# Tests call need_nat_caps, nat_topology, start_nat [netstackd args...] (or
# start_nat_qemu + start_cable for a guest that can be unplugged), start
# servers with host_server / remote_server, run clients with guestclient and
# gcurl, and rely on the EXIT trap (nat_cleanup) to kill everything and delete
# the namespaces, on failure too. Exit code 77 is "skipped".

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

HOST_NS=$GUEST_NS-host
REMOTE_NS=$GUEST_NS-remote
HOST_IP=10.77.0.1
REMOTE_IP=10.77.0.2
UNREACHABLE_IP=203.0.113.7     # "unreachable" route: EHOSTUNREACH on the host
PROHIBITED_IP=198.51.100.7     # "prohibit" route: EACCES on the host
NOROUTE_IP=192.0.2.7           # no route at all: ENETUNREACH on the host
GUEST_IP=192.168.65.2
GUEST_FIXED_MAC=02:00:00:65:00:02
# Debian's interpreter when there is one (no version-manager shims in the way).
if [ -z "${PYTHON:-}" ]; then
    if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
SERVERS=$E2E_DIR/servers.py
CLIENT=$E2E_DIR/guestclient.py
NAT_LOG_LEVEL=${NAT_LOG_LEVEL:-info}
NAT_WRAP=()          # a command netstackd is started under, e.g. (prlimit --nofile=64 --)
NAT_RUN=0
NAT_LOG=
CABLE_PID=
CABLE_RUN=0
BG_PIDS=()

die() { echo "FAIL: $*"; FAILED=1; exit 1; }
in_host() { ip netns exec "$HOST_NS" "$@"; }
in_remote() { ip netns exec "$REMOTE_NS" "$@"; }

# guestclient() - tests/e2e/guestclient.py in the guest, bounded by $GC_TIMEOUT s.
guestclient() { in_guest timeout "${GC_TIMEOUT:-60}" "$PYTHON" "$CLIENT" "$@"; }

# gcurl() - curl in the guest, never through a proxy, bounded in time.
gcurl() { in_guest timeout 150 curl -sS --noproxy '*' --max-time 140 "$@"; }

# gping() - ping from the guest (bounded); prints only ping's summary line.
gping() {
    local out rc=0
    out=$(in_guest timeout 15 ping -q "$@" 2>&1) || rc=$?
    grep -E 'transmitted|ping:' <<<"$out" | sed 's/^/    /' || true
    return "$rc"
}

# now_ms() - a monotonic-enough clock in milliseconds.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_until() - poll a command every 0.1 s: wait_until SECONDS command...
wait_until() {
    local tries=$(( $1 * 10 ))
    shift
    while [ "$tries" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# wait_line() - wait until FILE has a line matching REGEX: wait_line FILE REGEX SECONDS
wait_line() { wait_until "$3" grep -qE -- "$2" "$1"; }

# wait_port() - wait until something listens: wait_port NS tcp|udp PORT SECONDS
wait_port() {
    local flag=-Hltn
    [ "$2" = udp ] && flag=-Hlun
    wait_until "$4" bash -c "ip netns exec '$1' ss $flag 'sport = :$3' | grep -q ."
}

# need_nat_caps() - skip unless we can build the topology: need_nat_caps [extra tools...]
need_nat_caps() {
    need_guest_caps
    local t
    for t in busybox ss sysctl timeout sha256sum "$PYTHON" "$@"; do
        command -v "$t" >/dev/null || skip "$t is not installed (tools/setup.sh installs it)"
    done
    ip netns add "$HOST_NS-probe" 2>/dev/null || skip "cannot create network namespaces here"
    if ! ip -n "$HOST_NS-probe" link add veth0 type veth peer name veth1 2>/dev/null; then
        ip netns del "$HOST_NS-probe"
        skip "no veth support in this kernel"
    fi
    ip netns del "$HOST_NS-probe"
}

# nat_topology() - create the three namespaces and the link HOST_NS <-> REMOTE_NS.
nat_topology() {
    ip netns add "$GUEST_NS"
    ip netns add "$HOST_NS"
    ip netns add "$REMOTE_NS"
    in_guest ip link set lo up
    in_host ip link set lo up
    in_remote ip link set lo up
    ip -n "$HOST_NS" link add veth0 type veth peer name veth0 netns "$REMOTE_NS"
    ip -n "$HOST_NS" addr add "$HOST_IP/24" dev veth0
    ip -n "$REMOTE_NS" addr add "$REMOTE_IP/24" dev veth0
    ip -n "$HOST_NS" link set veth0 up
    ip -n "$REMOTE_NS" link set veth0 up
    ip -n "$HOST_NS" route add unreachable 203.0.113.0/24
    ip -n "$HOST_NS" route add prohibit 198.51.100.0/24
    in_host sysctl -qw net.ipv4.ping_group_range="0 2147483647"
    wait_until 5 in_host ping -c 1 -W 1 -q "$REMOTE_IP" >/dev/null ||
        die "the veth link between $HOST_NS and $REMOTE_NS does not work"
}

# upstream_dns ZONE NAME ADDR - dnsmasq in REMOTE_NS on $REMOTE_IP:53, the
# only server of ZONE, answering NAME with ADDR (queries logged to
# $WORK/dnsmasq.log); $WORK/resolv.conf names it, readable by anyone.
upstream_dns() {
    ip netns exec "$REMOTE_NS" "${DNSMASQ:-/usr/sbin/dnsmasq}" --keep-in-foreground --no-resolv \
        --no-hosts --conf-file=/dev/null --listen-address="$REMOTE_IP" --bind-interfaces --port 53 \
        --user=root --log-queries --log-facility="$WORK/dnsmasq.log" --pid-file="$WORK/dnsmasq.pid" \
        --local="/$1/" --host-record="$2,$3" >"$WORK/dnsmasq.out" 2>&1 &
    BG_PIDS+=($!)
    wait_port "$REMOTE_NS" udp 53 10 || die "dnsmasq did not start: $(cat "$WORK/dnsmasq.out")"
    printf 'nameserver %s\n' "$REMOTE_IP" >"$WORK/resolv.conf"
    chmod 644 "$WORK/resolv.conf"
}

# guest_lease() - bring the guest's tap up and get a DHCP lease, checked.
guest_lease() {
    in_guest ip link set "$TAP" address "$GUEST_FIXED_MAC"
    in_guest ip link set "$TAP" up
    rm -f "$WORK/udhcpc.env"
    udhcpc_lease || { cat "$WORK/udhcpc.log"; return 1; }
    [ "$(env_get "$WORK/udhcpc.env" ip)" = "$GUEST_IP" ] ||
        { echo "lease: got '$(env_get "$WORK/udhcpc.env" ip)', expected $GUEST_IP"; return 1; }
}

# launch_nat() - start netstackd in HOST_NS with the given arguments (no transport
# wait): sets DAEMON_PID and NAT_LOG. $NAT_WRAP is prepended.
launch_nat() {
    NAT_RUN=$((NAT_RUN + 1))
    NAT_LOG=$WORK/netstackd-$NAT_RUN.log
    echo "--- netstackd $* (log: netstackd-$NAT_RUN.log)"
    ip netns exec "$HOST_NS" "${NAT_WRAP[@]}" "$NETSTACKD" --log-level "$NAT_LOG_LEVEL" "$@" \
        >"$NAT_LOG" 2>&1 &
    DAEMON_PID=$!
}

# start_nat() - netstackd in HOST_NS serving tap0 in GUEST_NS, then a lease.
start_nat() {
    launch_nat --tap "$TAP" --netns "/run/netns/$GUEST_NS" "$@"
    wait_until 5 in_guest ip link show "$TAP" >/dev/null 2>&1 ||
        die "netstackd did not create $TAP in the guest: $(tail -5 "$NAT_LOG")"
    guest_lease || die "no DHCP lease from netstackd"
}

# start_nat_qemu() - netstackd in HOST_NS on --listen-qemu $WORK/qemu.sock.
start_nat_qemu() {
    QEMU_SOCK=$WORK/qemu.sock
    launch_nat --listen-qemu "$QEMU_SOCK" "$@"
    wait_until 5 test -S "$QEMU_SOCK" || die "netstackd did not create $QEMU_SOCK"
}

# start_cable() - tapcable.py: tap0 in GUEST_NS <-> $QEMU_SOCK, then a lease.
start_cable() {
    CABLE_RUN=$((CABLE_RUN + 1))
    local log=$WORK/cable-$CABLE_RUN.log
    # Not through in_guest: $! must be the cable's own pid (ip netns exec execs it).
    ip netns exec "$GUEST_NS" "$PYTHON" "$E2E_DIR/tapcable.py" --tap "$TAP" --socket "$QEMU_SOCK" >"$log" 2>&1 &
    CABLE_PID=$!
    wait_line "$log" '^ready' 10 || die "tapcable did not start: $(cat "$log")"
    guest_lease || die "no DHCP lease through the cable"
}

# kill_cable() - the guest disappears: its transport connection closes.
kill_cable() {
    [ -n "$CABLE_PID" ] || return 0
    kill -KILL "$CABLE_PID" 2>/dev/null || true
    wait "$CABLE_PID" 2>/dev/null || true
    CABLE_PID=
}

# stop_nat() - SIGTERM netstackd, check it stops cleanly, wait for the tap to go.
stop_nat() {
    [ -n "$DAEMON_PID" ] || return 0
    local rc=0
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    if ! wait_until 5 eval '! kill -0 "$DAEMON_PID" 2>/dev/null'; then
        echo "FAIL: netstackd did not stop within 5 s of SIGTERM"
        FAILED=1
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
    fi
    wait "$DAEMON_PID" 2>/dev/null || rc=$?
    expect_eq "netstackd exit status after SIGTERM" "$rc" 0
    DAEMON_PID=
    wait_until 3 eval '! in_guest ip link show "$TAP" >/dev/null 2>&1' || true
}

# daemon_alive() - netstackd is still running.
daemon_alive() { [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; }

# daemon_fds() - how many file descriptors netstackd has open.
daemon_fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }

# api CMD - one command on the control socket of the running netstackd
# (started with --api-socket "$WORK/api.sock"); prints the reply's "return"
# value as JSON.
api() {
    "$PYTHON" - "${API_SOCK:-$WORK/api.sock}" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(json.dumps({"execute": sys.argv[2]}).encode() + b"\n")
print(json.dumps(json.loads(s.makefile().readline())["return"]))
PY
}

# api_stat NAME - one counter of the running netstackd (see api).
api_stat() {
    api get_stats | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# start_server() - servers.py in a namespace: start_server NS NAME MODE [args...]
# Waits for its "ready" line; its output is $WORK/srv-NAME.log.
start_server() {
    local ns=$1 name=$2
    shift 2
    ip netns exec "$ns" "$PYTHON" "$SERVERS" "$@" >"$WORK/srv-$name.log" 2>&1 &
    BG_PIDS+=($!)
    wait_line "$WORK/srv-$name.log" '^ready ' 15 ||
        die "server $name ($*) did not start: $(cat "$WORK/srv-$name.log")"
}
host_server() { start_server "$HOST_NS" "$@"; }
remote_server() { start_server "$REMOTE_NS" "$@"; }

# start_holder HOST PORT N - "guestclient.py hold" in the guest, in the
# background, opening N connections; driven with hold_cmd through a fifo on
# fd 5. Sets HOLD_RESULT to its first result line ("result open opened=..")
# and prints it; call it directly, not in $(...).
start_holder() {
    HOLD_RUN=$((${HOLD_RUN:-0} + 1))
    HOLD_OUT=$WORK/hold-$HOLD_RUN.out
    local fifo=$WORK/hold-$HOLD_RUN.ctl
    mkfifo "$fifo"
    exec 5<>"$fifo"
    ip netns exec "$GUEST_NS" "$PYTHON" "$CLIENT" hold "$1" "$2" --n "$3" --timeout "${HOLD_TIMEOUT:-10}" \
        <"$fifo" >"$HOLD_OUT" 2>&1 5>&- &
    HOLD_PID=$!
    BG_PIDS+=("$HOLD_PID")
    wait_line "$HOLD_OUT" '^result open' 60 || die "the holder did not report: $(cat "$HOLD_OUT")"
    HOLD_RESULT=$(grep '^result' "$HOLD_OUT" | tail -1)
    echo "$HOLD_RESULT"
}

# hold_cmd CMD... - one command to the holder; prints its result line.
hold_cmd() {
    local n
    n=$(grep -c '^result' "$HOLD_OUT" || true)
    echo "$*" >&5
    if ! wait_until 60 eval '[ "$(grep -c "^result" "$HOLD_OUT")" -gt '"$n"' ]'; then
        echo "result timeout (no answer to '$*')"
        return 0
    fi
    grep '^result' "$HOLD_OUT" | tail -1
}

# stop_holder - ask the holder to close everything and quit (killed if it does not).
stop_holder() {
    [ -n "${HOLD_PID:-}" ] || return 0
    echo quit >&5 2>/dev/null || true
    wait_until 5 eval '! kill -0 "$HOLD_PID" 2>/dev/null' || kill -KILL "$HOLD_PID" 2>/dev/null || true
    wait "$HOLD_PID" 2>/dev/null || true
    exec 5>&-
    HOLD_PID=
}

# rfield NAME LINE - the number after NAME= in a holder's result line ("" if none).
rfield() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }

nat_cleanup() {
    local rc=$? p ns f
    set +e
    [ -n "$CABLE_PID" ] && kill -KILL "$CABLE_PID" 2>/dev/null
    for p in "${BG_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        wait_until 3 eval '! kill -0 "$DAEMON_PID" 2>/dev/null' || kill -KILL "$DAEMON_PID"
    fi
    for ns in "$GUEST_NS" "$HOST_NS" "$REMOTE_NS"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
        for f in "$WORK"/netstackd-*.log "$WORK"/srv-*.log "$WORK"/cable-*.log; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f") (last 60 lines):"
            tail -n 60 "$f"
        done
    fi
    rm -rf "$WORK"
    return "$rc"
}
trap nat_cleanup EXIT
