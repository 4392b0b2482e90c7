#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_dns.sh - the gateway's DNS server, from a real guest with dig, against
# real upstream servers (natlib.sh topology; dnsmasq in REMOTE_NS).
#
# Upstream: dnsmasq at 10.77.0.2 serves the zone test.example (A, AAAA, MX,
# TXT, SRV, PTR, a CNAME chain, NXDOMAIN for other names in the zone, and a
# TXT set of about 3 KB); a second dnsmasq at 10.77.0.3 gives another
# address for www.test.example. netstackd's --resolv-conf names the first.
#
# Forward mode: every record type relayed; the big TXT set arrives whole over
# UDP with EDNS (netstackd retries over TCP when dnsmasq truncates at its
# 1232-byte limit), whole without EDNS (the guest gets TC and retries over TCP
# to the gateway), truncated with +ignore; dig +tcp; the local names
# host.internal, gateway.internal, --dns-name and --hosts with NODATA for
# AAAA, never seen by dnsmasq; 2000 distinct queries at 100 in flight all
# answered; resolv.conf replaced to name the second server and the next query
# goes there; both servers stopped, and an upstream that never answers, give
# SERVFAIL in less than 6 s.
# AAAA (--dns-aaaa): given while the host routes IPv6; in the default auto
# mode NODATA at once, never asked upstream, once its IPv6 default route
# goes (local names keep theirs); on and off override either way.
# Host mode (--dns-mode host): A and AAAA from getaddrinfo() in HOST_NS
# (whose /etc/resolv.conf and /etc/hosts come from /etc/netns/HOST_NS/, as
# ip netns exec arranges), NODATA and NXDOMAIN as the host resolver says, MX
# forwarded, local names still local.
. "$(dirname "$0")/natlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$DNSMASQ" ] || skip "dnsmasq is not installed (package dnsmasq-base)"
command -v dig >/dev/null || skip "dig is not installed (package bind9-dnsutils)"
need_nat_caps

ZONE=test.example
REMOTE2_IP=10.77.0.3
SILENT_IP=10.77.0.99           # on the link, but nobody: queries go unanswered
BIG_N=40                       # TXT records of big.test.example, about 3 KB
NETNS_ETC=/etc/netns/$HOST_NS
NETNS_DIR_CREATED=0
DNSMASQ_PID=()

# dns_cleanup() - remove what this test put in /etc/netns, then natlib's cleanup.
dns_cleanup() {
    local rc=$? f
    set +e                      # (exit "$rc") below must not end the trap
    if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
        for f in "$WORK"/dnsmasq-*.out "$WORK"/dnsmasq-*.log; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f") (last 30 lines):"
            tail -n 30 "$f"
        done
    fi
    rm -rf "$NETNS_ETC"
    [ "$NETNS_DIR_CREATED" = 1 ] && rmdir /etc/netns 2>/dev/null
    (exit "$rc")
    nat_cleanup
}
trap dns_cleanup EXIT

# start_dnsmasq N ADDRESS [options...] - dnsmasq N in REMOTE_NS on ADDRESS:53,
# log in $WORK/dnsmasq-N.log; waits until it answers.
start_dnsmasq() {
    local n=$1 addr=$2
    shift 2
    : >"$WORK/dnsmasq-$n.log"
    ip netns exec "$REMOTE_NS" "$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts \
        --conf-file=/dev/null --listen-address="$addr" --bind-interfaces --port 53 \
        --user=root --log-queries --log-facility="$WORK/dnsmasq-$n.log" \
        --pid-file="$WORK/dnsmasq-$n.pid" --local="/$ZONE/" "$@" \
        >"$WORK/dnsmasq-$n.out" 2>&1 &
    DNSMASQ_PID[n]=$!
    BG_PIDS+=($!)
    wait_until 10 eval "in_host dig @$addr +time=1 +tries=1 ready.$ZONE 2>/dev/null | grep -q 'status: NXDOMAIN'" ||
        die "dnsmasq $n did not start: $(cat "$WORK/dnsmasq-$n.out" "$WORK/dnsmasq-$n.log")"
}

# stop_dnsmasq N - SIGTERM dnsmasq N and wait for it.
stop_dnsmasq() {
    local p=${DNSMASQ_PID[$1]}
    kill -TERM "$p" 2>/dev/null || true
    wait_until 5 eval "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

# gdig [dig args...] - dig in the guest at the gateway, bounded.
gdig() { in_guest timeout 20 dig "@$GW" +time=2 +tries=1 "$@" 2>&1 || true; }
# ans [dig args...] - the answer's data, one record a line (+short).
ans() { gdig +short "$@"; }
# status / ancount [dig args...] - the response's RCODE / answer count ("" if none).
status() { gdig "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | tail -1; }
ancount() { gdig "$@" | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p' | tail -1; }
# nodata NAME [type] - NOERROR with an empty answer section.
nodata() {
    local out
    out=$(gdig "$@")
    grep -q 'status: NOERROR,' <<<"$out" && grep -q 'ANSWER: 0,' <<<"$out"
}
# logged N REGEX - dnsmasq N's query log has a line matching REGEX.
logged() { grep -qE -- "$2" "$WORK/dnsmasq-$1.log"; }

# set_resolv SERVER - replace $WORK/resolv.conf (a new file renamed over it).
set_resolv() {
    printf 'nameserver %s\n' "$1" >"$WORK/resolv.conf.new"
    mv -f "$WORK/resolv.conf.new" "$WORK/resolv.conf"
}

# servfail_ms NAME - query NAME with a long client timeout; prints
# "STATUS MILLISECONDS".
servfail_ms() {
    local t0 t1 st
    t0=$(now_ms)
    st=$(in_guest timeout 30 dig "@$GW" +time=15 +tries=1 "$1" 2>&1 |
         sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | tail -1) || true
    t1=$(now_ms)
    echo "${st:-none} $((t1 - t0))"
}

# local_names - what every mode answers itself.
local_names() {
    expect_eq "A host.internal" "$(ans host.internal)" "$ALIAS"
    expect_eq "A gateway.internal" "$(ans gateway.internal)" "$GW"
    expect_eq "AAAA host.internal" "$(ans AAAA host.internal)" fd65:65::fe
    expect_eq "AAAA gateway.internal" "$(ans AAAA gateway.internal)" fd65:65::1
    expect_eq "A foo.local (--dns-name)" "$(ans foo.local)" 10.1.2.3
    check "AAAA foo.local: NODATA" nodata AAAA foo.local
    expect_eq "A hosted.$ZONE (--hosts)" "$(ans "hosted.$ZONE")" 10.9.8.7
    expect_eq "A alias of a --hosts entry" "$(ans hosted-alias)" 10.9.8.7
    expect_eq "A HOST.INTERNAL (case-insensitive)" "$(ans HOST.INTERNAL)" "$ALIAS"
}

# no_local_upstream N - dnsmasq N never saw a local name.
never_logged() { ! grep -qiE 'query\[[A-Z]+\] (host\.internal|gateway\.internal|foo\.local|hosted)' "$1"; }
no_local_upstream() { check "dnsmasq $1 never saw a local name" never_logged "$WORK/dnsmasq-$1.log"; }
# has_tc DIG_OUTPUT - the response's flags include TC.
has_tc() { grep -qE 'flags:[^;]* tc[ ;]' <<<"$1"; }
no_tc() { ! has_tc "$1"; }

# The 2000-query burst: a UDP client in the guest, 100 queries in flight,
# each retried at most twice after 2 s without an answer.
cat >"$WORK/burst.py" <<'EOF'
import os, select, socket, struct, sys, time
server, n, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def query(i):
    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    for label in ("q%d" % i, "burst", "test", "example"):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((server, 53))
todo, sent, tries = list(range(n - 1, -1, -1)), {}, {}
ok = bad = failed = retries = 0
deadline = time.monotonic() + 120
while (todo or sent) and time.monotonic() < deadline:
    while todo and len(sent) < window:
        i = todo.pop()
        s.send(query(i))
        sent[i] = time.monotonic()
        tries[i] = tries.get(i, 0) + 1
    if select.select([s], [], [], 0.1)[0]:
        while True:
            try:
                m = s.recv(4096, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if len(m) < 12:
                continue
            i, flags, qd, an = struct.unpack(">HHHH", m[:8])
            if i not in sent:
                continue
            del sent[i]
            if flags & 0x8000 and flags & 0xf == 0 and an >= 1:
                ok += 1
            else:
                bad += 1
    now = time.monotonic()
    for i, t in list(sent.items()):
        if now - t > 2:
            del sent[i]
            if tries[i] > 2:
                failed += 1
            else:
                retries += 1
                todo.append(i)
print("burst n=%d answered=%d bad=%d failed=%d retries=%d unfinished=%d"
      % (n, ok, bad, failed, retries, len(sent) + len(todo)))
EOF

nat_topology
ip -n "$REMOTE_NS" addr add "$REMOTE2_IP/24" dev veth0
# A dual-stack host: an IPv6 default route (via the remote), so AAAA records
# are given in the default --dns-aaaa auto mode.
ip -n "$HOST_NS" -6 addr add 2001:db8:77::1/64 dev veth0 nodad
ip -n "$REMOTE_NS" -6 addr add 2001:db8:77::2/64 dev veth0 nodad
ip -n "$HOST_NS" -6 route add default via 2001:db8:77::2 dev veth0
big=()
for i in $(seq -w 1 "$BIG_N"); do
    big+=("--txt-record=big.$ZONE,record-$i-abcdefghijklmnopqrstuvwxyz-0123456789-ABCDEFGHIJKLMNOP")
done
start_dnsmasq 1 "$REMOTE_IP" \
    --host-record="www.$ZONE,10.77.1.10,2001:db8::10" \
    --host-record="v4only.$ZONE,10.77.1.12" \
    --address="/burst.$ZONE/10.77.3.3" \
    --mx-host="$ZONE,mail.$ZONE,10" \
    --txt-record="txt.$ZONE,hello world" \
    --srv-host="_sip._udp.$ZONE,sip.$ZONE,5060,10,20" \
    --cname="alias.$ZONE,alias2.$ZONE" --cname="alias2.$ZONE,www.$ZONE" \
    --ptr-record="7.1.77.10.in-addr.arpa,ptr.$ZONE" \
    "${big[@]}"
start_dnsmasq 2 "$REMOTE2_IP" --host-record="www.$ZONE,10.77.2.10"

set_resolv "$REMOTE_IP"
printf '# a hosts(5) file\n10.9.8.7\thosted.%s hosted-alias\n' "$ZONE" >"$WORK/hosts"
LOCAL_ARGS=(--dns-name foo.local=10.1.2.3 --hosts "$WORK/hosts")

log "forward mode"
start_nat --resolv-conf "$WORK/resolv.conf" "${LOCAL_ARGS[@]}"

expect_eq "A www" "$(ans "www.$ZONE")" 10.77.1.10
expect_eq "AAAA www" "$(ans AAAA "www.$ZONE")" 2001:db8::10
expect_eq "MX" "$(ans MX "$ZONE")" "10 mail.$ZONE."
expect_eq "TXT" "$(ans TXT "txt.$ZONE")" '"hello world"'
expect_eq "SRV" "$(ans SRV "_sip._udp.$ZONE")" "10 20 5060 sip.$ZONE."
expect_eq "PTR 10.77.1.7" "$(ans -x 10.77.1.7)" "ptr.$ZONE."
expect_eq "CNAME chain" "$(ans "alias.$ZONE" | tr '\n' ' ')" "alias2.$ZONE. www.$ZONE. 10.77.1.10 "
expect_eq "NXDOMAIN" "$(status "missing.$ZONE")" NXDOMAIN
check "A of a name with only MX: NODATA" nodata A "$ZONE"
check "AAAA of a name with only A: NODATA" nodata AAAA "v4only.$ZONE"
expect_eq "A www over TCP (dig +tcp)" "$(ans +tcp "www.$ZONE")" 10.77.1.10
expect_eq "MX over TCP (dig +tcp)" "$(ans +tcp MX "$ZONE")" "10 mail.$ZONE."
# Over IPv6 to the gateway's address, once the guest has one (SLAAC).
# shellcheck disable=SC2016  # expanded by eval
wait_until 15 eval '[ -n "$(in_guest ip -6 -o addr show dev "$TAP" to fd65:65::/64 scope global -tentative)" ]' ||
    echo "FAIL: no SLAAC address in the guest for the IPv6 queries"
dig6() { in_guest timeout 20 dig @fd65:65::1 +time=2 +tries=1 +short "$@" 2>&1 || true; }
expect_eq "A www, asked over IPv6" "$(dig6 "www.$ZONE")" 10.77.1.10
expect_eq "AAAA www, asked over IPv6" "$(dig6 AAAA "www.$ZONE")" 2001:db8::10
expect_eq "AAAA host.internal, asked over IPv6" "$(dig6 AAAA host.internal)" fd65:65::fe

# Several queries on one TCP connection, all sent before any answer is read
# (RFC 7766 pipelining): every answer must come back, matched by ID.
cat >"$WORK/pipeline.py" <<'PY'
import socket, struct, sys
gw, zone = sys.argv[1], sys.argv[2]
def query(qid, name, qtype):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)
names = [("www." + zone, 1), (zone, 15), ("host.internal", 1), ("missing." + zone, 1)]
s = socket.create_connection((gw, 53), timeout=10)
s.sendall(b"".join(struct.pack("!H", len(m)) + m
                   for m in (query(100 + i, n, t) for i, (n, t) in enumerate(names))))
def recv_exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("connection closed after %d answers" % len(seen))
        b += c
    return b
seen = {}
while len(seen) < len(names):
    (n,) = struct.unpack("!H", recv_exact(2))
    m = recv_exact(n)
    qid, flags = struct.unpack("!HH", m[:4])
    seen[qid] = flags & 0xF
print(" ".join("%d:%d" % (k, seen[k]) for k in sorted(seen)))
PY
out=$(in_guest timeout 20 "$PYTHON" "$WORK/pipeline.py" "$GW" "$ZONE" 2>&1) || true
expect_eq "4 pipelined queries on one TCP connection (id:rcode)" "$out" "100:0 101:0 102:0 103:3"

log "a TXT set of about 3 KB"
out=$(gdig TXT "big.$ZONE" +bufsize=4096 +ignore)
echo "$out" | grep -E 'flags:|MSG SIZE' | sed 's/^/    /' || true
expect_eq "EDNS 4096 over UDP: all records (netstackd retried upstream over TCP)" \
    "$(sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p' <<<"$out")" "$BIG_N"
check "EDNS 4096 over UDP: the answer is not truncated" no_tc "$out"
expect_eq "EDNS 4096 over UDP: distinct records" \
    "$(grep -c "^big\.$ZONE\..*TXT.*\"record-" <<<"$out")" "$BIG_N"
out=$(gdig TXT "big.$ZONE" +noedns)
echo "$out" | grep -E 'Truncated|flags:|MSG SIZE' | sed 's/^/    /' || true
check "no EDNS: truncated over UDP, then retried over TCP" grep -q 'Truncated, retrying in TCP' <<<"$out"
expect_eq "no EDNS: all records after the TCP retry" \
    "$(sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p' <<<"$out" | tail -1)" "$BIG_N"
out=$(gdig TXT "big.$ZONE" +noedns +ignore)
check "no EDNS, +ignore: the UDP answer has TC set" has_tc "$out"
size=$(sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p' <<<"$out")
check "no EDNS, +ignore: the UDP answer fits in 512 bytes (${size:-none})" test "${size:-99999}" -le 512
expect_eq "dig +tcp: all records" "$(ancount +tcp TXT "big.$ZONE")" "$BIG_N"

log "local names"
local_names
no_local_upstream 1

log "a burst of 2000 queries"
out=$(in_guest timeout 150 "$PYTHON" "$WORK/burst.py" "$GW" 2000 100 2>&1) || true
echo "    $out"
expect_eq "burst: answered" "$(sed -n 's/.* answered=\([0-9]*\).*/\1/p' <<<"$out")" 2000
check "netstackd is still running" daemon_alive

log "resolv.conf rewritten to name $REMOTE2_IP"
set_resolv "$REMOTE2_IP"
sleep 1.5
expect_eq "A www follows the new resolv.conf" "$(ans "www.$ZONE")" 10.77.2.10
check "the second dnsmasq was asked" logged 2 "query\\[A\\] www\\.$ZONE from $HOST_IP"

log "upstream gone"
stop_dnsmasq 1
stop_dnsmasq 2
read -r st ms <<<"$(servfail_ms "www.$ZONE")"
echo "    both servers stopped: $st after $ms ms"
expect_eq "both servers stopped: status" "$st" SERVFAIL
check "both servers stopped: SERVFAIL in less than 6 s ($ms ms)" test "$ms" -lt 6000
set_resolv "$SILENT_IP"
sleep 1.5
read -r st ms <<<"$(servfail_ms "silent.$ZONE")"
echo "    a server that never answers: $st after $ms ms"
expect_eq "a server that never answers: status" "$st" SERVFAIL
check "a server that never answers: SERVFAIL in less than 6 s ($ms ms)" test "$ms" -lt 6000
expect_eq "local names need no upstream" "$(ans host.internal)" "$ALIAS"
check "netstackd is still running" daemon_alive
stop_nat

log "AAAA records and the host's IPv6 route (--dns-aaaa)"
start_dnsmasq 1 "$REMOTE_IP" --host-record="www.$ZONE,10.77.1.10,2001:db8::10"
set_resolv "$REMOTE_IP"
start_nat --resolv-conf "$WORK/resolv.conf" --api-socket "$WORK/api.sock"
expect_eq "auto, the host routes IPv6: AAAA www" "$(ans AAAA "www.$ZONE")" 2001:db8::10
ip -n "$HOST_NS" -6 route del default
sleep 5.5       # whether the host routes IPv6 is looked up again every 5 s
: >"$WORK/dnsmasq-1.log"
check "auto, no IPv6 route on the host: AAAA www is NODATA" nodata AAAA "www.$ZONE"
check "... answered without asking upstream" bash -c "! grep -q 'query\[AAAA\] www' '$WORK/dnsmasq-1.log'"
expect_eq "... and A still answered" "$(ans "www.$ZONE")" 10.77.1.10
expect_eq "... and the local names keep their AAAA" "$(ans AAAA host.internal)" fd65:65::fe
check "... counted as dns_aaaa_filtered" test "$(api_stat dns_aaaa_filtered)" -ge 1
stop_nat
start_nat --resolv-conf "$WORK/resolv.conf" --dns-aaaa on
expect_eq "on, no IPv6 route on the host: AAAA www" "$(ans AAAA "www.$ZONE")" 2001:db8::10
stop_nat
ip -n "$HOST_NS" -6 route add default via 2001:db8:77::2 dev veth0
start_nat --resolv-conf "$WORK/resolv.conf" --dns-aaaa off
check "off, the host routes IPv6: AAAA www is NODATA" nodata AAAA "www.$ZONE"
stop_nat
stop_dnsmasq 1

log "host mode (--dns-mode host)"
# ip netns exec bind-mounts /etc/netns/HOST_NS/* over /etc/* for netstackd:
# getaddrinfo() there reads these.
[ -d /etc/netns ] || NETNS_DIR_CREATED=1
mkdir -p "$NETNS_ETC"
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$REMOTE_IP" >"$NETNS_ETC/resolv.conf"
printf '127.0.0.1\tlocalhost\n10.5.5.5\tviahosts.%s\n' "$ZONE" >"$NETNS_ETC/hosts"
expect_eq "HOST_NS sees the test's resolv.conf" \
    "$(in_host sed -n 's/^nameserver //p' /etc/resolv.conf)" "$REMOTE_IP"
start_dnsmasq 1 "$REMOTE_IP" \
    --host-record="www.$ZONE,10.77.1.10,2001:db8::10" \
    --host-record="hostonly.$ZONE,10.77.1.20" \
    --host-record="v4only.$ZONE,10.77.1.12" \
    --mx-host="$ZONE,mail.$ZONE,10"
set_resolv "$REMOTE_IP"
start_nat --dns-mode host --resolv-conf "$WORK/resolv.conf" "${LOCAL_ARGS[@]}"

expect_eq "A www" "$(ans "www.$ZONE")" 10.77.1.10
expect_eq "AAAA www" "$(ans AAAA "www.$ZONE")" 2001:db8::10
expect_eq "A hostonly" "$(ans "hostonly.$ZONE")" 10.77.1.20
# getaddrinfo(AF_UNSPEC) asks for both families; forwarding an A query would not.
check "the A query became getaddrinfo's A and AAAA upstream" \
    logged 1 "query\\[AAAA\\] hostonly\\.$ZONE from $HOST_IP"
expect_eq "A from HOST_NS's /etc/hosts (only the host resolver knows it)" \
    "$(ans "viahosts.$ZONE")" 10.5.5.5
check "AAAA of a name with only A: NODATA" nodata AAAA "v4only.$ZONE"
check "A of a name with only MX: NODATA" nodata A "$ZONE"
expect_eq "NXDOMAIN" "$(status "missing.$ZONE")" NXDOMAIN
expect_eq "MX (forwarded)" "$(ans MX "$ZONE")" "10 mail.$ZONE."
expect_eq "A www over TCP (dig +tcp)" "$(ans +tcp "www.$ZONE")" 10.77.1.10
local_names
no_local_upstream 1
check "netstackd is still running" daemon_alive
stop_nat
finish
