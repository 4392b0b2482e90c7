#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_portfwd.sh - host ports forwarded into the guest with --forward
#
# netstackd runs in HOST_NS with forwards to servers in GUEST_NS; clients run
# in HOST_NS (on its loopback and its veth address) and in REMOTE_NS. Checked:
# a page and a 100 MB file (sha256) through a forward, 100 concurrent clients,
# the address the guest server sees with and without preserve_source, a
# refused guest port resetting the client, and a host port already in use.
. "$(dirname "$0")/natlib.sh"
need_nat_caps
command -v curl >/dev/null || skip "curl is not installed"
nat_topology

mkdir -p "$WORK/www"
echo "hello through the forward" >"$WORK/www/small.txt"
head -c 100M /dev/urandom >"$WORK/www/big.bin"
BIG_SUM=$(sha256sum <"$WORK/www/big.bin" | cut -d' ' -f1)

# peer.py - a guest server that tells each client the address it saw.
cat >"$WORK/peer.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(64)
print("ready peer", flush=True)
while True:
    c, a = s.accept()
    c.sendall(("peer=%s:%d\n" % a).encode())
    c.close()
PY
# client.py - connect, read until EOF; prints the data or the error.
cat >"$WORK/client.py" <<'PY'
import socket, sys, time
t0 = time.monotonic()
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    data = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        data += b
    print(data.decode().strip() or "eof")
except OSError as e:
    print("error %s %d ms" % (type(e).__name__, (time.monotonic() - t0) * 1000))
PY
# many.py - N concurrent GETs of a small file; prints how many got it right.
cat >"$WORK/many.py" <<'PY'
import sys, threading, urllib.request
url, n, want = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read()
ok = []
def get():
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            ok.append(r.read() == want)
    except OSError:
        ok.append(False)
ts = [threading.Thread(target=get) for _ in range(n)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sum(ok))
PY

hclient() { in_host timeout 20 "$PYTHON" "$WORK/client.py" "$@" 2>&1; }

# A host port in use: a static forward on it is a clear startup error.
in_host "$PYTHON" -c 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 8090)); s.listen(); print("bound", flush=True); time.sleep(60)' \
    >"$WORK/busy.log" 2>&1 &
BG_PIDS+=($!)
wait_line "$WORK/busy.log" bound 10 || die "could not occupy port 8090"
out=$(in_host timeout 10 "$NETSTACKD" --listen-qemu "$WORK/busy.sock" --forward tcp:0.0.0.0:8090:80 2>&1) &&
    rc=0 || rc=$?
expect_eq "netstackd with a forward on a busy port exits" "$rc" 1
check "... saying the port is in use ($out)" grep -qi "in use" <<<"$out"

start_server "$GUEST_NS" web http --bind 0.0.0.0 --port 80 --dir "$WORK/www"
ip netns exec "$GUEST_NS" "$PYTHON" "$WORK/peer.py" 81 >"$WORK/peer.log" 2>&1 &
BG_PIDS+=($!)
wait_line "$WORK/peer.log" ready 10 || die "peer server did not start"

start_server "$GUEST_NS" udp udpecho --bind 0.0.0.0 --port 5300
start_nat --forward udp:0.0.0.0:5353:5300 --forward udp:0.0.0.0:5354:5300,nopreserve \
    --forward tcp:0.0.0.0:8080:80 --forward tcp:0.0.0.0:8081:81 \
    --forward tcp:0.0.0.0:8082:81,nopreserve --forward tcp:0.0.0.0:8083:83 \
    --forward "tcp:[::1]:8084:80" --api-socket "$WORK/api.sock"

log "TCP forwards"
expect_eq "GET through 127.0.0.1:8080" \
    "$(in_host timeout 20 curl -sS --noproxy '*' http://127.0.0.1:8080/small.txt)" \
    "hello through the forward"
expect_eq "GET through [::1]:8084 (IPv6 host side)" \
    "$(in_host timeout 20 curl -sS --noproxy '*' 'http://[::1]:8084/small.txt')" \
    "hello through the forward"
sum=$(in_host timeout 120 curl -sS --noproxy '*' http://127.0.0.1:8080/big.bin | sha256sum | cut -d' ' -f1)
expect_eq "100 MB through the forward, sha256" "$sum" "$BIG_SUM"
expect_eq "GET from the remote host through $HOST_IP:8080" \
    "$(in_remote timeout 20 curl -sS --noproxy '*' "http://$HOST_IP:8080/small.txt")" \
    "hello through the forward"
expect_eq "100 concurrent clients all served" \
    "$(in_host timeout 120 "$PYTHON" "$WORK/many.py" http://127.0.0.1:8080/small.txt 100 "$WORK/www/small.txt")" 100

log "the address the guest sees"
out=$(in_remote timeout 20 "$PYTHON" "$WORK/client.py" "$HOST_IP" 8081 2>&1)
check "preserve_source: a remote client is itself ($out)" grep -q "^peer=$REMOTE_IP:" <<<"$out"
out=$(hclient 127.0.0.1 8081)
check "preserve_source: a loopback client is the alias ($out)" grep -q "^peer=$ALIAS:" <<<"$out"
out=$(hclient 127.0.0.1 8082)
check "no preserve_source: the gateway ($out)" grep -q "^peer=$GW:" <<<"$out"

log "UDP forwards"
# udpx.py - one datagram to HOST:PORT, print the reply (the echo server puts
# the source it saw in front of the payload).
cat >"$WORK/udpx.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recvfrom(65535)[0].decode(errors="replace"))
except OSError as e:
    print("error %s" % e)
PY
out=$(in_host timeout 10 "$PYTHON" "$WORK/udpx.py" 127.0.0.1 5353 ping-udp 2>&1)
check "UDP round trip, the guest sees the alias ($out)" grep -q "^$ALIAS:[0-9]*|ping-udp" <<<"$out"
out=$(in_remote timeout 10 "$PYTHON" "$WORK/udpx.py" "$HOST_IP" 5353 from-remote 2>&1)
check "UDP from the remote host, seen as itself ($out)" grep -q "^$REMOTE_IP:[0-9]*|from-remote" <<<"$out"
out=$(in_host timeout 10 "$PYTHON" "$WORK/udpx.py" 127.0.0.1 5354 hidden 2>&1)
check "UDP without preserve_source: the gateway ($out)" grep -q "^$GW:[0-9]*|hidden" <<<"$out"

log "forwards added and removed at runtime, while traffic flows"
# api.py - one control API command (JSON) on the socket; prints the reply line.
cat >"$WORK/api.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())
PY
api() { "$PYTHON" "$WORK/api.py" "$WORK/api.sock" "$1"; }
out=$(api '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": 8085, "guest_port": 80}}')
id=$(sed -n 's/.*"id": *\([0-9]*\).*/\1/p' <<<"$out")
check "add_hostfwd at runtime ($out)" test -n "$id"
# A slow 100 MB download through the new forward, in the background.
in_host timeout 120 curl -sS --noproxy '*' --limit-rate 25M http://127.0.0.1:8085/big.bin \
    -o "$WORK/slow.bin" 2>"$WORK/slow.err" &
SLOW=$!
sleep 1
expect_eq "meanwhile, another forward serves" \
    "$(in_host timeout 20 curl -sS --noproxy '*' http://127.0.0.1:8080/small.txt)" \
    "hello through the forward"
out=$(api "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": $id}}")
expect_eq "remove_hostfwd while its download runs" "$out" '{"return":{}}'
out=$(hclient 127.0.0.1 8085)
check "a new connection to the removed forward is refused ($out)" grep -q "ConnectionRefusedError" <<<"$out"
wait "$SLOW" && rc=0 || rc=$?
expect_eq "the download started before the removal completes" "$rc" 0
expect_eq "... intact (sha256)" "$(sha256sum <"$WORK/slow.bin" | cut -d' ' -f1)" "$BIG_SUM"

log "a guest port nobody listens on"
out=$(hclient 127.0.0.1 8083)
check "the client is reset ($out)" grep -q "^error ConnectionResetError" <<<"$out"
ms=$(sed -n 's/.* \([0-9]*\) ms$/\1/p' <<<"$out")
check "... at once (${ms:-?} ms)" test "${ms:-99999}" -lt 2000
check "netstackd is still running" daemon_alive
stop_nat
finish
