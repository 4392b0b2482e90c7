#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_pcap.sh - captures of the guest link, read back by tshark, and
# netstack-pcap's live, summary and replay on them (natlib.sh topology, the
# real guest kernel in GUEST_NS, netstackd sandboxed as nobody).
#
# 1. --pcap from the start: a DHCP lease, ARP, DNS (an answer from the
#    gateway's local names, an NXDOMAIN from dnsmasq in REMOTE_NS), pings, an
#    HTTP download, a refused connection and an unanswered SYN (10.77.0.99 is
#    on REMOTE_NS's link but nobody: the host's connect waits for ARP). tshark
#    finds every kind of exchange in the file; summary reports them.
# 2. pcap_start/pcap_stop through the control socket hold exactly the traffic
#    of that interval: one connection inside, none of those before or after.
# 3. Rotation: 3 files of 8 MB during a 100 MB download; the total stays under
#    the limit, every file reads whole, the newest holds the last frames.
# 4. A live stream (netstack-pcap live | tshark -r -) while a download runs;
#    a stalled reader (connected, reading nothing) loses records, counted,
#    and the download runs at least at half its speed without any capture.
# 5. replay of the DHCP + DNS + ping + refused-TCP capture of (1) twice gives
#    the same file, frame for frame, with the stack's answers in it.
# 6. Damaged input: a truncated capture, garbage, another link type: one line
#    and exit status 2; a pcapng copy is read.
. "$(dirname "$0")/natlib.sh"
need_nat_caps curl
command -v tshark >/dev/null || skip "tshark is not installed"
command -v dig >/dev/null || skip "dig is not installed (package bind9-dnsutils)"
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$DNSMASQ" ] || skip "dnsmasq is not installed (package dnsmasq-base)"
PCAPTOOL=${NETSTACK_BUILD:-$ROOT/build}/netstack-pcap
[ -x "$PCAPTOOL" ] || { echo "FAIL: no netstack-pcap at $PCAPTOOL"; exit 1; }

SILENT_IP=10.77.0.99
BIG_MB=${PCAP_TEST_BIG_MB:-100}
API=$WORK/api.sock
# The daemon runs as nobody: its capture folder must be one nobody can write.
chmod 711 "$WORK"
CAPS=$WORK/caps
mkdir -m 777 "$CAPS"

nat_topology
mkdir "$WORK/www"
head -c 200000 /dev/urandom >"$WORK/www/small.bin"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WORK/www/big.bin"
host_server http http --bind 127.0.0.1 --port 8080 --dir "$WORK/www"
ip netns exec "$REMOTE_NS" "$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts \
    --conf-file=/dev/null --listen-address="$REMOTE_IP" --bind-interfaces --port 53 \
    --user=root --pid-file="$WORK/dnsmasq.pid" --local=/test.example/ \
    --address=/www.test.example/10.77.0.2 >"$WORK/dnsmasq.out" 2>&1 &
BG_PIDS+=($!)
printf 'nameserver %s\n' "$REMOTE_IP" >"$WORK/resolv.conf"
chmod 644 "$WORK/resolv.conf"
wait_until 10 eval "in_host dig @$REMOTE_IP +time=1 +tries=1 www.test.example | grep -q 'status: NOERROR'" ||
    die "dnsmasq did not start: $(cat "$WORK/dnsmasq.out")"

# api JSON - one control command's reply line.
api() {
    "$PYTHON" - "$API" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())
PY
}
# counter NAME - one counter of the running netstackd.
counter() { api '{"execute":"get_stats"}' | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['return']['counters']['$1'])"; }
# frames FILE FILTER - how many frames of FILE tshark matches with FILTER.
frames() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
# reads_whole FILE - tshark reads FILE to its end without complaint.
reads_whole() { tshark -r "$1" >/dev/null 2>"$WORK/tshark.err" && ! grep -qi "cut short\|appears to be damaged\|corrupt" "$WORK/tshark.err"; }
# download URL - seconds a guest download takes (curl's time_total), sha256 checked by the caller.
download() { gcurl -o "$WORK/got.bin" -w '%{time_total}\n' "$1"; }

log "1. --pcap from the start"
CAP=$CAPS/start.pcap
start_nat --api-socket "$API" --resolv-conf "$WORK/resolv.conf" --pcap "$CAP"
in_guest dig "@$GW" +time=2 +tries=1 +short host.internal >"$WORK/dig1.out" || true
in_guest dig "@$GW" +time=2 +tries=1 nosuch.test.example >"$WORK/dig2.out" || true
expect_eq "host.internal through the gateway" "$(cat "$WORK/dig1.out")" "$ALIAS"
check "nosuch.test.example is NXDOMAIN" grep -q "status: NXDOMAIN" "$WORK/dig2.out"
gping -c 2 "$ALIAS" >/dev/null || die "no ping answer from the alias"
gcurl -o "$WORK/got.bin" "http://$ALIAS:8080/small.bin" || die "small download failed"
check "small download intact" cmp -s "$WORK/got.bin" "$WORK/www/small.bin"
check "a closed port is refused" eval "! gcurl -o /dev/null http://$ALIAS:1/ 2>/dev/null"
in_guest timeout 5 curl -s --noproxy '*' --max-time 1 -o /dev/null "http://$SILENT_IP/" || true
api '{"execute":"pcap_status"}' >"$WORK/status1.json"
check "pcap_status names the file" grep -q "\"path\":\"$CAP\"" "$WORK/status1.json"
api '{"execute":"pcap_stop"}' >/dev/null
check "tshark reads the capture whole" reads_whole "$CAP"
for f in "dhcp.option.dhcp == 5" "arp.opcode == 2" "dns.flags.rcode == 3" \
    "dns.a == $ALIAS" "icmp.type == 0" "http.request" "tcp.flags.reset == 1" \
    "tcp.flags.syn == 1 && ip.dst == $SILENT_IP"; do
    n=$(frames "$CAP" "$f")
    check "the capture has '$f' ($n frames)" test "$n" -gt 0
done
cp "$CAP" "$WORK/exchange.pcap"
"$PCAPTOOL" summary --json "$CAP" >"$WORK/summary.json" 2>"$WORK/summary.err" ||
    { echo "FAIL: summary exited $?: $(cat "$WORK/summary.err")"; FAILED=1; }
"$PYTHON" - "$WORK/summary.json" "$GUEST_FIXED_MAC" "$GUEST_IP" "$ALIAS" "$SILENT_IP" <<'PY' || FAILED=1
import json, sys
s = json.load(open(sys.argv[1]))
mac, ip, alias, silent = sys.argv[2:]
text = json.dumps(s)
def check(what, ok):
    print(("ok: " if ok else "FAIL: ") + "summary: " + what)
    return ok
ok = True
ok &= check("the guest's MAC " + mac, s["guest"]["mac"] == mac)
ok &= check("the lease " + ip, ip in json.dumps(s["guest"]))
flows = s["flows"]
ok &= check("a refused connection to port 1",
            any(f.get("end") == "refused" and str(f.get("peer", "")).endswith(":1") for f in flows))
ok &= check("an unanswered SYN to " + silent,
            any(f.get("end") == "unanswered SYN" and silent in str(f.get("peer")) for f in flows))
ok &= check("the HTTP download's bytes",
            any(f.get("proto") == "tcp" and f.get("bytes_peer_to_guest", 0) >= 200000 for f in flows))
dns = s["dns"]["transactions"] if isinstance(s["dns"], dict) else s["dns"]
ok &= check("NXDOMAIN for nosuch.test.example",
            any("nosuch.test.example" in t.get("name", "") and t.get("rcode") == "NXDOMAIN" for t in dns))
ok &= check("host.internal answered " + alias,
            any("host.internal" in t.get("name", "") and alias in json.dumps(t) for t in dns))
sys.exit(0 if ok else 1)
PY
"$PCAPTOOL" summary "$CAP" >"$WORK/summary.txt" 2>&1
check "the text summary names the guest" grep -qi "$GUEST_FIXED_MAC" "$WORK/summary.txt"

log "2. pcap_start and pcap_stop through the control socket"
CAP2=$CAPS/interval.pcap
gcurl -o /dev/null "http://$ALIAS:8080/small.bin?before" || die "download before failed"
expect_eq "pcap_start" "$(api "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"$CAP2\"}}")" '{"return":{}}'
check "a second pcap_start is refused" eval "api '{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"$CAPS/x.pcap\"}}' | grep -q already"
gcurl -o /dev/null "http://$ALIAS:8080/small.bin?inside" || die "download inside failed"
expect_eq "pcap_stop" "$(api '{"execute":"pcap_stop"}')" '{"return":{}}'
gcurl -o /dev/null "http://$ALIAS:8080/small.bin?after" || die "download after failed"
expect_eq "connections opened in the interval" "$(frames "$CAP2" "tcp.flags.syn == 1 && tcp.flags.ack == 0")" 1
expect_eq "requests in the interval" "$(tshark -r "$CAP2" -Y http.request -T fields -e http.request.uri 2>/dev/null)" "/small.bin?inside"

log "3. rotation during a $BIG_MB MB download"
CAP3=$CAPS/rot.pcap
expect_eq "pcap_start with rotation" \
    "$(api "{\"execute\":\"pcap_start\",\"arguments\":{\"path\":\"$CAP3\",\"size_mb\":8,\"files\":3}}")" '{"return":{}}'
download "http://$ALIAS:8080/big.bin" >/dev/null || die "big download failed"
check "big download intact" cmp -s "$WORK/got.bin" "$WORK/www/big.bin"
api '{"execute":"pcap_status"}' >"$WORK/status3.json"
api '{"execute":"pcap_stop"}' >/dev/null
total=$(cat "$CAP3" "$CAP3".* | wc -c)
check "3 files kept, no 4th" eval "[ -f $CAP3 ] && [ -f $CAP3.1 ] && [ -f $CAP3.2 ] && [ ! -e $CAP3.3 ]"
check "total $total bytes <= 3 x 8 MiB" test "$total" -le $((3 * 8 * 1024 * 1024))
for f in "$CAP3" "$CAP3.1" "$CAP3.2"; do
    size=$(wc -c <"$f")
    check "$(basename "$f") ($size bytes) under 8 MiB and whole" eval "[ $size -le $((8 * 1024 * 1024)) ] && reads_whole $f"
done
check "the newest file ends with the download's last frames" \
    test "$(frames "$CAP3" "tcp.flags.fin == 1")" -ge 1
check "rotations counted" grep -qE '"rotations":([5-9]|[1-9][0-9])' "$WORK/status3.json"

log "4. live streams"
"$PCAPTOOL" live "$API" 2>"$WORK/live.err" | tshark -r - -Y http.request -T fields -e http.request.uri \
    >"$WORK/live.out" 2>/dev/null &
LIVE_PID=$!
BG_PIDS+=($LIVE_PID)
wait_until 5 eval "api '{\"execute\":\"pcap_status\"}' | grep -q '\"streams\":1'" || die "the live stream did not start"
gcurl -o /dev/null "http://$ALIAS:8080/small.bin?live" || die "download during live failed"
pkill -INT -f "netstack-pcap live $API" || true
wait_until 5 eval "! kill -0 $LIVE_PID 2>/dev/null" || true
expect_eq "tshark saw the request through the live stream" "$(cat "$WORK/live.out")" "/small.bin?live"
wait_until 5 eval "api '{\"execute\":\"pcap_status\"}' | grep -q '\"streams\":0'" ||
    { echo "FAIL: the stream was not closed after its reader left"; FAILED=1; }

base=$(download "http://$ALIAS:8080/big.bin") || die "baseline download failed"
"$PYTHON" - "$API" "$WORK/stalled.ready" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b'{"execute":"pcap_stream"}\n')
open(sys.argv[2], "w").write("ready\n")
time.sleep(120)     # connected, reading nothing
PY
STALL_PID=$!
BG_PIDS+=($STALL_PID)
wait_until 5 test -f "$WORK/stalled.ready" || die "the stalled reader did not connect"
drop0=$(counter pcap_stream_dropped)
stalled=$(download "http://$ALIAS:8080/big.bin") || die "download with a stalled reader failed"
check "big download intact with a stalled reader" cmp -s "$WORK/got.bin" "$WORK/www/big.bin"
drop1=$(counter pcap_stream_dropped)
echo "measured: $BIG_MB MB in $base s without a capture, $stalled s with a stalled reader; $((drop1 - drop0)) records lost by it"
check "records lost by the stalled reader are counted" test "$drop1" -gt "$drop0"
check "a stalled reader does not slow the download below half ($stalled s vs $base s)" \
    "$PYTHON" -c "import sys; sys.exit(0 if $stalled <= 2 * $base + 0.5 else 1)"
check "the daemon is still serving" daemon_alive
kill "$STALL_PID" 2>/dev/null || true
stop_nat

log "5. replay of the DHCP, DNS, ping and refused TCP exchange"
"$PCAPTOOL" replay "$WORK/exchange.pcap" -w "$WORK/replay1.pcap" 2>"$WORK/replay1.err" ||
    { echo "FAIL: replay exited $?: $(cat "$WORK/replay1.err")"; FAILED=1; }
"$PCAPTOOL" replay "$WORK/exchange.pcap" -w "$WORK/replay2.pcap" 2>"$WORK/replay2.err" ||
    { echo "FAIL: second replay exited $?"; FAILED=1; }
check "two replays give the same answers, frame for frame" cmp -s "$WORK/replay1.pcap" "$WORK/replay2.pcap"
check "the replay ran in a private namespace" grep -q "private network namespace" "$WORK/replay1.err"
for f in "dhcp.option.dhcp == 5" "arp.opcode == 2" "dns.a == $ALIAS" "icmp.type == 0" \
    "tcp.flags.reset == 1 && tcp.srcport == 1"; do
    check "the replay answered '$f'" test "$(frames "$WORK/replay1.pcap" "$f")" -gt 0
done
cat "$WORK/replay1.err"

log "6. damaged captures"
head -c 1000 "$WORK/exchange.pcap" >"$WORK/truncated.pcap"
head -c 4096 /dev/urandom >"$WORK/garbage.pcap"
tshark -r "$WORK/exchange.pcap" -F pcapng -w "$WORK/exchange.pcapng" 2>/dev/null
"$PYTHON" - "$WORK/raw.pcap" <<'PY'
import struct, sys
# a pcap of link type 101 (raw IP) holding one 20-byte record
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101) +
                              struct.pack("<IIII", 0, 0, 20, 20) + bytes(20))
PY
for f in truncated garbage raw; do
    for cmd in summary replay; do
        rc=0
        "$PCAPTOOL" $cmd "$WORK/$f.pcap" >/dev/null 2>"$WORK/$cmd-$f.err" || rc=$?
        expect_eq "$cmd of a $f capture exits" "$rc" 2
        expect_eq "$cmd of a $f capture: lines saying why" "$(wc -l <"$WORK/$cmd-$f.err" | tr -d ' ')" 1
    done
done
check "summary reads a pcapng copy" "$PCAPTOOL" summary "$WORK/exchange.pcapng"
finish
