#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_nat_ipv6.sh - the guest's TCP, UDP and ping over IPv6 become host IPv6
# sockets of netstackd, on the paths IPv4's take (natlib.sh's namespaces, with
# IPv6 added: the host namespace has ::1 and 2001:db8:77::1 on the veth, the
# remote 2001:db8:77::2, reachable from the guest only through netstackd).
#
# The guest configures its address and default route from the router
# advertisements. Two targets: a server on the host's ::1 reached through the
# alias's twin fd65:65::fe, and one in the remote namespace: a small and a
# 100 MB download and a 100 MB upload, sha256 compared, and 100 concurrent
# connections; UDP out and back, fragmented, from a second remote port, and a
# UDP_SEGMENT train; ping -6 the remote through ping sockets. Forwards into
# the guest over IPv6 (tcp:[::]:P:[::]:P, udp too), working at once after
# SLAAC: 100 MB out of the guest, the client's address preserved (the host's
# ::1 as the alias's twin) or the gateway's. DNS over TCP on the gateway's
# IPv6 address. Failures as the host saw them, at once: a closed port is
# refused, an "unreachable" route gives EHOSTUNREACH and no route at all
# ENETUNREACH (ICMPv6 destination unreachable). The stats count the IPv6
# connections and list_flows shows them with their IPv6 addresses. Then
# MTU 1500: with the tap's offloads, TSO6 super-frames go both ways; without
# them, super-segments are cut to the guest's MSS; 100 MB exact either way.
. "$(dirname "$0")/natlib.sh"
need_nat_caps curl dig
[ -d /proc/sys/net/ipv6 ] || skip "the kernel has no IPv6"

BIG_MB=${NAT_TEST_BIG_MB:-100}
HOST6=2001:db8:77::1
REMOTE6=2001:db8:77::2
ALIAS6=fd65:65::fe
GW_LL=fe80::5894:efff:fee4:cdd

nat_topology
in_host ip -6 addr add "$HOST6/64" dev veth0 nodad
in_remote ip -6 addr add "$REMOTE6/64" dev veth0 nodad
in_host ip -6 route add unreachable 2001:db8:dead::/48
wait_until 5 in_host ping -6 -c 1 -W 1 -q "$REMOTE6" >/dev/null ||
    die "IPv6 between $HOST_NS and $REMOTE_NS does not work"
in_guest sysctl -qw net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.default.accept_ra=1 \
    net.ipv6.conf.default.autoconf=1 net.ipv6.conf.default.accept_dad=1

mkdir "$WORK/www"
head -c 20000 /dev/urandom >"$WORK/www/small.bin"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WORK/www/big.bin"
SMALL_SHA=$(sha256sum <"$WORK/www/small.bin" | cut -d' ' -f1)
BIG_SHA=$(sha256sum <"$WORK/www/big.bin" | cut -d' ' -f1)
host_server http-host http --bind ::1 --port 8080 --dir "$WORK/www"
remote_server http-remote http --bind "$REMOTE6" --port 8080 --dir "$WORK/www"
host_server udp-host udpecho --bind ::1 --port 7000
host_server udp-host-cone udpecho --bind ::1 --port 7010 --second-port 7011
remote_server udp-remote udpecho --bind "$REMOTE6" --port 7000
remote_server udp-remote-cone udpecho --bind "$REMOTE6" --port 7010 --second-port 7011
# In the guest, for the forwards: a web server, one that tells each client the
# address it saw, a UDP echo.
start_server "$GUEST_NS" http-guest http --bind :: --port 80 --dir "$WORK/www"
cat >"$WORK/peer6.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 81))
s.listen(64)
print("ready peer", flush=True)
while True:
    c, a = s.accept()
    c.sendall(("peer=%s\n" % a[0]).encode())
    c.close()
PY
ip netns exec "$GUEST_NS" "$PYTHON" "$WORK/peer6.py" >"$WORK/peer6.log" 2>&1 &
BG_PIDS+=($!)
wait_line "$WORK/peer6.log" ready 10 || die "the guest's peer server did not start"
start_server "$GUEST_NS" udp-guest udpecho --bind :: --port 5300

# slaac_addr - the guest's global address in fd65:65::/64, once DAD passed.
# peer_seen NS HOST PORT - from namespace NS, what the guest's peer server saw.
peer_seen() {
    ip netns exec "$1" timeout 20 "$PYTHON" -c 'import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print(c.makefile().readline().strip())' "$2" "$3" 2>&1
}

slaac_addr() {
    in_guest ip -6 -o addr show dev "$TAP" to fd65:65::/64 scope global -tentative 2>/dev/null |
        awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

download() {
    local sum
    sum=$(gcurl -g "$2" | sha256sum | cut -d' ' -f1) || sum="(curl failed)"
    expect_eq "$1: sha256 of the body" "$sum" "$3"
}

upload() {
    local sum want
    want=$(sha256sum <"$3" | cut -d' ' -f1)
    sum=$(gcurl -g -H 'Expect:' -H 'Content-Type: application/octet-stream' -X POST \
        --upload-file "$3" "$2") || sum="(curl failed)"
    expect_eq "$1: sha256 the server computed" "$sum" "$want"
}

# connect_error URL - curl's error for a connect that fails, and how long it took.
connect_error() {
    local t0 out
    t0=$(now_ms)
    out=$(in_guest timeout 20 curl -sS -g --noproxy '*' --max-time 15 "$1" 2>&1 >/dev/null) || true
    echo "$out ($(( $(now_ms) - t0 )) ms)"
}

start_nat --api-socket "$WORK/api.sock" --forward "tcp:[::]:18080:[::]:80" \
    --forward "tcp:[::]:18081:[::]:81" --forward "tcp:[::]:18082:[::]:81,nopreserve" \
    --forward "udp:[::]:15353:[::]:5300"
wait_until 15 bash -c "[ -n \"\$(ip netns exec $GUEST_NS ip -6 -o addr show dev $TAP to fd65:65::/64 \
    scope global -tentative)\" ]" || die "no SLAAC address in the guest"
addr6=$(slaac_addr)
log "guest address $addr6"
check "the default route is the gateway's, from the router advertisement" \
    wait_until 5 bash -c "ip netns exec $GUEST_NS ip -6 route show default | grep -q 'via $GW_LL'"
# The forward finds the guest's address from its duplicate address detection,
# before the guest has sent anything from it.
expect_eq "a forward over IPv6 works at once" "$(peer_seen "$HOST_NS" ::1 18081)" "peer=$ALIAS6"

for target in "[$ALIAS6]" "[$REMOTE6]"; do
    if [ "$target" = "[$ALIAS6]" ]; then what="alias $ALIAS6 -> host ::1"; else what="remote $REMOTE6"; fi
    log "$what: downloads, upload, 100 concurrent connections"
    download "$what: GET small.bin" "http://$target:8080/small.bin" "$SMALL_SHA"
    download "$what: GET big.bin ($BIG_MB MB)" "http://$target:8080/big.bin" "$BIG_SHA"
    upload "$what: POST big.bin ($BIG_MB MB)" "http://$target:8080/upload" "$WORK/www/big.bin"
    check "$what: 100 concurrent connections" \
        guestclient concurrent "${target//[\[\]]/}" 8080 --n 100 --path /small.bin \
        --sha256 "$SMALL_SHA" --timeout 40
done

log "UDP over IPv6: one host socket per guest port, replies from any remote port"
for target in "$ALIAS6" "$REMOTE6"; do
    check "udp to $target: out and back" \
        guestclient udp "$target" 7000 --size 100 --timeout 3
    check "udp to $target: 4000 bytes, fragmented both ways" \
        guestclient udp "$target" 7000 --size 4000 --timeout 3
    check "udp to $target: replies from a second remote port (endpoint-independent filtering)" \
        guestclient udp "$target" 7010 --size 100 --replies 2 --timeout 3
done
check "udp to the remote: a UDP_SEGMENT train cut into datagrams (USO over IPv6)" \
    guestclient udp "$REMOTE6" 7000 --size 10000 --gso-size 1400 --timeout 3

log "ping -6 beyond the gateway, through ping sockets"
check "ping -6 the remote" gping -6 -c 3 -i 0.2 -W 2 "$REMOTE6"
check "ping -6 the remote, 3000 bytes (fragmented both ways)" \
    gping -6 -c 2 -i 0.2 -W 2 -s 3000 "$REMOTE6"
check "icmp_echo_replies_forwarded counts them" test "$(api_stat icmp_echo_replies_forwarded)" -ge 5
check "ping -6 to a host with no route gets no reply" bash -c "! gping -6 -c 1 -W 1 2001:db8:99::7"

log "forwards into the guest over IPv6 (tcp:[::]:PORT:[::]:PORT)"
sum=$(in_host timeout 120 curl -sS -g --noproxy '*' "http://[::1]:18080/big.bin" | sha256sum | cut -d' ' -f1)
expect_eq "$BIG_MB MB from the guest through [::1]:18080, sha256" "$sum" "$BIG_SHA"
sum=$(in_remote timeout 60 curl -sS -g --noproxy '*' "http://[$HOST6]:18080/small.bin" | sha256sum | cut -d' ' -f1)
expect_eq "from the remote host through [$HOST6]:18080" "$sum" "$SMALL_SHA"
out=$(peer_seen "$REMOTE_NS" "$HOST6" 18081)
expect_eq "preserve_source: a remote client is itself" "$out" "peer=$REMOTE6"
out=$(peer_seen "$HOST_NS" ::1 18081)
expect_eq "preserve_source: a loopback client is the alias's twin" "$out" "peer=$ALIAS6"
out=$(peer_seen "$HOST_NS" ::1 18082)
expect_eq "no preserve_source: the gateway" "$out" "peer=fd65:65::1"
udpx6='import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"via-forward", (sys.argv[1], int(sys.argv[2])))
print(s.recvfrom(65535)[0].decode(errors="replace"))'
out=$(in_remote timeout 10 "$PYTHON" -c "$udpx6" "$HOST6" 15353 2>&1)
check "UDP from the remote host, seen as itself ($out)" grep -q "^$REMOTE6:[0-9]*|via-forward" <<<"$out"
out=$(in_host timeout 10 "$PYTHON" -c "$udpx6" ::1 15353 2>&1)
check "UDP from the host's ::1, seen as the alias's twin ($out)" grep -q "^$ALIAS6:[0-9]*|via-forward" <<<"$out"

log "DNS over TCP on the gateway's IPv6 address"
expect_eq "dig +tcp AAAA host.internal @fd65:65::1" \
    "$(in_guest timeout 10 dig +tcp @fd65:65::1 +time=2 +tries=1 +short AAAA host.internal 2>&1)" \
    "$ALIAS6"

log "failures, as the host saw them"
check "a closed port is refused at once" \
    guestclient connect "$REMOTE6" 8099 --expect refused --within 1 --timeout 5
out=$(guestclient connect 2001:db8:dead::7 80 --expect unreachable --within 2 --timeout 5) || true
echo "$out"
check "an unreachable route: EHOSTUNREACH, at once" grep -q "^ok: .*EHOSTUNREACH" <<<"$out"
out=$(guestclient connect 2001:db8:99::7 80 --expect unreachable --within 2 --timeout 5) || true
echo "$out"
check "no route at all: ENETUNREACH, at once" grep -q "^ok: .*ENETUNREACH" <<<"$out"

log "counters and flows"
check "tcp_established counts the IPv6 connections" test "$(api_stat tcp_established)" -ge 206
check "icmp6_errors_out counts the two unreachables" test "$(api_stat icmp6_errors_out)" -ge 2
(sleep 15 | guestclient hold "$REMOTE6" 8080 --n 1 --timeout 10 >"$WORK/hold.out" 2>&1) &
BG_PIDS+=($!)
wait_line "$WORK/hold.out" '^result open' 20 || true
flows=$(api list_flows)
check "list_flows shows the guest's IPv6 address and the remote's" \
    "$PYTHON" -c "
import json, sys
f = json.loads(sys.argv[1])['flows']
sys.exit(0 if any(x.get('guest_addr') == '$addr6' and x.get('peer_addr') == '$REMOTE6'
                  for x in f) else 1)" "$flows"

stop_nat

# at_mtu1500 ARGS... - a netstackd at MTU 1500: 100 MB each way to the remote,
# and what the offload counters moved by.
at_mtu1500() {
    start_nat --api-socket "$WORK/api.sock" --mtu 1500 "$@"
    wait_until 15 bash -c "[ -n \"\$(ip netns exec $GUEST_NS ip -6 -o addr show dev $TAP \
        to fd65:65::/64 scope global -tentative)\" ]" || die "no SLAAC address in the guest"
    wait_until 5 bash -c "ip netns exec $GUEST_NS ip -6 route show default | grep -q ." ||
        die "no default route in the guest"
    download "MTU 1500 $*: GET big.bin" "http://[$REMOTE6]:8080/big.bin" "$BIG_SHA"
    upload "MTU 1500 $*: POST big.bin" "http://[$REMOTE6]:8080/upload" "$WORK/www/big.bin"
    echo "    gso_frames_in=$(api_stat gso_frames_in) tso_frames_out=$(api_stat tso_frames_out)" \
        "gso_segments_out=$(api_stat gso_segments_out)"
}

log "MTU 1500 with offloads: TSO6 super-frames both ways"
at_mtu1500
check "the guest sent TSO6 super-frames" test "$(api_stat gso_frames_in)" -gt 0
check "super-frames went to the guest" test "$(api_stat tso_frames_out)" -gt 0
stop_nat
log "MTU 1500 without offloads: super-segments cut to the guest's MSS in software"
at_mtu1500 --no-offload
check "segments were cut in software" test "$(api_stat gso_segments_out)" -gt 0
stop_nat
finish
