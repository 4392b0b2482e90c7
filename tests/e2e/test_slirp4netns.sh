#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_slirp4netns.sh - Debian's slirp4netns, unmodified, on libslirp and on
# netstack's libslirp.so.0 (slirp/), the same checks on both.
#
# slirp4netns runs in HOST_NS of natlib.sh's topology (its host sockets are
# that namespace's; its /etc/resolv.conf names a dnsmasq in REMOTE_NS through
# ip-netns's /etc/netns/) and configures tap0 in GUEST_NS:
#   slirp4netns --configure --mtu 65520 --enable-ipv6 --netns-type=path --api-socket ...
# In each run: tap0 has 10.0.2.100/24 with a default route via 10.0.2.2;
# curl in GUEST_NS fetches a file from HOST_NS's 127.0.0.1 through 10.0.2.2
# (sha256 checked), and over IPv6 from HOST_NS's ::1 through fd00::2;
# dig resolves a name only dnsmasq knows through 10.0.2.3; the API socket's
# add_hostfwd makes HOST_NS's 127.0.0.1:FWD_PORT reach a web server in
# GUEST_NS, and remove_hostfwd closes it again. Then, with
# --disable-host-loopback, 10.0.2.2 refuses what would reach the host's
# loopback while DNS still answers. The library that served is named by
# slirp4netns --version (slirp_version_string()).
# shellcheck source=natlib.sh
. "$(dirname "$0")/natlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
# The sanitizer build's library carries libFuzzer's instrumentation, whose
# runtime QEMU and slirp4netns do not have: e2e/ runs this on the release build.
[ -z "${NETSTACK_SANITIZED:-}" ] ||
    skip "the fuzzing build's libslirp.so.0 is instrumented for libFuzzer; e2e/test_slirp4netns covers the release build"
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$DNSMASQ" ] || skip "dnsmasq is not installed (package dnsmasq-base)"
SLIRP4NETNS=${SLIRP4NETNS:-$(command -v slirp4netns)}
[ -n "$SLIRP4NETNS" ] || skip "slirp4netns is not installed (package slirp4netns)"
need_nat_caps curl dig
NETSTACK_SLIRP_DIR=${NETSTACK_SLIRP_DIR:-$(dirname "$NETSTACKD")/lib/slirp}
[ -e "$NETSTACK_SLIRP_DIR/libslirp.so.0" ] || die "no libslirp.so.0 in $NETSTACK_SLIRP_DIR"

ZONE=slirp.test
UPSTREAM_NAME=www.$ZONE
UPSTREAM_ADDR=10.77.1.10
HTTP_PORT=18110          # servers.py http on HOST_NS [::]
FWD_PORT=18111           # add_hostfwd 127.0.0.1:FWD_PORT -> 10.0.2.100:8080
SIZE=$((32 * 1024 * 1024))
S4N_PID=

slirp_cleanup() {
    local rc=$?
    [ -n "$S4N_PID" ] && kill -KILL "$S4N_PID" 2>/dev/null
    rm -rf "/etc/netns/$HOST_NS"
    (exit "$rc")
    nat_cleanup
}
trap slirp_cleanup EXIT

nat_topology
upstream_dns "$ZONE" "$UPSTREAM_NAME" "$UPSTREAM_ADDR"
mkdir -p "/etc/netns/$HOST_NS"
cp "$WORK/resolv.conf" "/etc/netns/$HOST_NS/resolv.conf"

mkdir -p "$WORK/www" "$WORK/guestwww"
head -c "$SIZE" /dev/urandom >"$WORK/www/file"
FILE_SHA=$(sha256sum "$WORK/www/file" | cut -d ' ' -f 1)
host_server http http --bind :: --port "$HTTP_PORT" --dir "$WORK/www"
TOKEN="netstack-slirp4netns-$$-$RANDOM"
echo "$TOKEN" >"$WORK/guestwww/token"
in_guest "$PYTHON" -m http.server --bind 0.0.0.0 --directory "$WORK/guestwww" 8080 \
    >"$WORK/srv-guest.log" 2>&1 &
BG_PIDS+=($!)
wait_port "$GUEST_NS" tcp 8080 10 || die "the guest's web server did not start"

# s4n_api JSON - one request on slirp4netns's API socket; prints the answer.
s4n_api() {
    "$PYTHON" - "$WORK/s4n-api.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(out.decode(errors="replace"))
EOF
}

# s4n_start NAME LIBDIR ARGS... - slirp4netns on the libslirp found in LIBDIR
# ("" for the system's) into GUEST_NS with ARGS; waits for tap0's address.
s4n_start() {
    local name=$1 libdir=$2 log=$WORK/slirp4netns-$1.log
    local env=(env ${libdir:+LD_LIBRARY_PATH=$libdir})
    shift 2
    S4N_VERSION=$(ip netns exec "$HOST_NS" "${env[@]}" "$SLIRP4NETNS" --version)
    echo "--- $name: slirp4netns $* ($(tr '\n' ' ' <<<"$S4N_VERSION"))"
    rm -f "$WORK/s4n-api.sock"
    ip netns exec "$HOST_NS" "${env[@]}" "$SLIRP4NETNS" --configure --mtu 65520 "$@" \
        --netns-type=path --api-socket "$WORK/s4n-api.sock" "/run/netns/$GUEST_NS" tap0 >"$log" 2>&1 &
    S4N_PID=$!
    check "$name: tap0 configured with 10.0.2.100/24" \
        wait_until 10 eval 'in_guest ip -4 addr show tap0 2>/dev/null | grep -q "inet 10.0.2.100/24"'
}

# s4n_stop - stop slirp4netns; its tap goes with it.
s4n_stop() {
    kill -TERM "$S4N_PID" 2>/dev/null
    wait "$S4N_PID" 2>/dev/null || true
    S4N_PID=
    wait_until 5 eval '! in_guest ip link show tap0 >/dev/null 2>&1' || true
}

# s4n_run NAME LIBDIR - every check of the default run, then it is stopped.
s4n_run() {
    local name=$1 got id
    s4n_start "$name" "$2" --enable-ipv6
    wait_until 5 test -S "$WORK/s4n-api.sock" || echo "FAIL: $name: no API socket: $(cat "$log")"
    expect_eq "$name: default route" "$(in_guest ip -4 route show default | awk '{print $3}')" 10.0.2.2
    got=$(gcurl -o - "http://10.0.2.2:$HTTP_PORT/file" | sha256sum | cut -d ' ' -f 1)
    expect_eq "$name: $((SIZE >> 20)) MB through 10.0.2.2 (sha256)" "$got" "$FILE_SHA"
    wait_until 10 eval 'in_guest ip -6 addr show tap0 | grep -q "inet6 fd00::.*global" && ! in_guest ip -6 addr show tap0 | grep -q tentative' || true
    got=$(gcurl -g -o - "http://[fd00::2]:$HTTP_PORT/file" | sha256sum | cut -d ' ' -f 1)
    expect_eq "$name: the same over IPv6 through fd00::2 (HOST_NS's ::1)" "$got" "$FILE_SHA"
    expect_eq "$name: DNS $UPSTREAM_NAME through 10.0.2.3" \
        "$(in_guest dig +short +time=3 +tries=2 @10.0.2.3 "$UPSTREAM_NAME" A)" "$UPSTREAM_ADDR"
    got=$(s4n_api "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": $FWD_PORT, \"guest_port\": 8080}}")
    id=$(sed -n 's/.*"id": *\([0-9]*\).*/\1/p' <<<"$got")
    check "$name: add_hostfwd answered an id ($got)" test -n "$id"
    expect_eq "$name: 127.0.0.1:$FWD_PORT -> the namespace's server" \
        "$(in_host curl -sS --noproxy '*' --max-time 20 "http://127.0.0.1:$FWD_PORT/token" 2>&1)" "$TOKEN"
    got=$(s4n_api "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": ${id:-0}}}")
    check "$name: remove_hostfwd ($got)" grep -q '"return"' <<<"$got"
    check "$name: the forward is closed" eval '! in_host curl -s --noproxy "*" --max-time 5 "http://127.0.0.1:$FWD_PORT/token" >/dev/null'
    s4n_stop
}

# s4n_noloop NAME LIBDIR - --disable-host-loopback: 10.0.2.2 reaches no
# host loopback port, DNS still answers.
s4n_noloop() {
    local name=$1-noloopback
    s4n_start "$name" "$2" --disable-host-loopback
    check "$name: 10.0.2.2:$HTTP_PORT refused" \
        eval '! in_guest curl -s --noproxy "*" --max-time 10 -o /dev/null "http://10.0.2.2:$HTTP_PORT/file"'
    expect_eq "$name: DNS through 10.0.2.3" \
        "$(in_guest dig +short +time=3 +tries=2 @10.0.2.3 "$UPSTREAM_NAME" A)" "$UPSTREAM_ADDR"
    s4n_stop
}

s4n_run libslirp ""
check "the system's library served ($(grep libslirp: <<<"$S4N_VERSION"))" eval '! grep -q netstack <<<"$S4N_VERSION"'
s4n_noloop libslirp ""
s4n_run netstack "$NETSTACK_SLIRP_DIR"
check "netstack's library served ($(grep libslirp: <<<"$S4N_VERSION"))" grep -q "libslirp: .*netstack" <<<"$S4N_VERSION"
s4n_noloop netstack "$NETSTACK_SLIRP_DIR"
finish
