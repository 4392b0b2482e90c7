#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# demo.sh - the README's main job: build netstack, then attach a throw-away
# guest (a network namespace whose only interface is a tap device) to
# netstackd, let the guest's own DHCP client get a lease, ping the gateway, and
# fetch a page from a web server on the host's 127.0.0.1 through the
# host-loopback alias: the guest's TCP becomes an ordinary socket of netstackd.
# Needs root (namespaces and tap devices); everything is removed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates a network namespace and a tap device)" >&2; exit 1; }
tools/setup.sh
echo "demo: building"
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build build -j"$(nproc)"; } >/tmp/netstack-demo-build.log 2>&1; then
    cat /tmp/netstack-demo-build.log >&2
    exit 1
fi

NS=netstack-demo-$$
WORK=$(mktemp -d /tmp/netstack-demo.XXXXXX)
PID=
WEB=
cleanup() {
    # a killed process's status must not stop the cleanup (set -e)
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    [ -n "$WEB" ] && kill "$WEB" 2>/dev/null && wait "$WEB" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo
echo "== 1. A guest: network namespace '$NS' with a tap device 'eth0' served by netstackd"
ip netns add "$NS"
ip -n "$NS" link set lo up
build/netstackd --tap eth0 --netns "/run/netns/$NS" 2>"$WORK/netstackd.log" &
PID=$!
for _ in $(seq 1 50); do ip -n "$NS" link show eth0 >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$NS" link set eth0 up
sed 's/^/   /' "$WORK/netstackd.log"

echo
echo "== 2. The guest asks for an address with busybox udhcpc (DHCP)"
ip netns exec "$NS" env OUT="$WORK/lease" busybox udhcpc -i eth0 -f -q -n -t 5 -T 1 \
    -O mtu -O search -O domain -s "$ROOT/tests/e2e/udhcpc-script.sh" 2>&1 | sed 's/^/   /'
while IFS='=' read -r k v; do
    case $k in ip|subnet|router|dns|domain|search|mtu|lease) printf '   %-8s %s\n' "$k" "$v";; esac
done <"$WORK/lease"
echo
ip -n "$NS" -4 addr show eth0 | sed 's/^/   /'
ip -n "$NS" route | sed 's/^/   /'

echo
echo "== 3. The guest pings its gateway"
ip netns exec "$NS" ping -c 3 -i 0.3 192.168.65.1 | sed 's/^/   /'

echo
echo "== 4. The guest resolves the gateway's MAC with arping"
ip netns exec "$NS" arping -c 1 -I eth0 192.168.65.1 | sed 's/^/   /'
echo
echo "== 5. The guest fetches a page from a web server on the host's 127.0.0.1"
mkdir -p "$WORK/www"
echo "<h1>Hello from the host, $(hostname)</h1>" >"$WORK/www/index.html"
python3 -m http.server 8931 --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/web.log" 2>&1 &
WEB=$!
for _ in $(seq 1 50); do
    python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8931), 0.2)' 2>/dev/null && break
    sleep 0.1
done
echo "   host:  python3 -m http.server 8931 --bind 127.0.0.1"
echo "   guest: curl http://192.168.65.254:8931/   (192.168.65.254 is the host-loopback alias)"
ip netns exec "$NS" curl -sS --max-time 10 http://192.168.65.254:8931/ | sed 's/^/   /'
echo
echo "demo: done; the namespace, netstackd and the web server are removed"
