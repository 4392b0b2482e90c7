#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_nat_tcp.sh - the guest's TCP to any address becomes a host socket of
# netstackd. Two targets: servers on the host's 127.0.0.1, reached through the
# host-loopback alias 192.168.65.254, and servers in the "remote" namespace
# (10.77.0.2), reached only through netstackd's routing (natlib.sh).
#
# Both targets: a small and a 100 MB download and a 100 MB upload (sha256
# compared), a half-close exchange (guest FIN first), 200 concurrent
# connections that all complete. Remote: the server half-closes first, a reset
# by the server mid-stream reaches the guest, a reset by the guest reaches the
# server; connects the guest abandons before the SYN-ACK leave nothing behind
# (their ports connect again at once), and one guest port serves GET after GET
# while netstackd's side is the first to close. Errors: a closed port is refused at once, unroutable addresses fail
# with "unreachable" quickly. Then a second netstackd with --no-host-loopback
# and --mtu 1500: the alias is refused, the remote still works at MTU 1500.
# Offloads: by default the tap takes checksum and segmentation offload, and the
# stats show super-frames went both ways at MTU 1500; with --no-offload, at
# MTU 1500 and 65520, the same 100 MB transfers are exact both ways.
. "$(dirname "$0")/natlib.sh"
need_nat_caps curl

BIG_MB=${NAT_TEST_BIG_MB:-100}
nat_topology
mkdir "$WORK/www"
head -c 20000 /dev/urandom >"$WORK/www/small.bin"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WORK/www/big.bin"
SMALL_SHA=$(sha256sum <"$WORK/www/small.bin" | cut -d' ' -f1)
BIG_SHA=$(sha256sum <"$WORK/www/big.bin" | cut -d' ' -f1)

for where in host remote; do
    if [ $where = host ]; then bind=127.0.0.1; else bind=$REMOTE_IP; fi
    start_server "$([ $where = host ] && echo "$HOST_NS" || echo "$REMOTE_NS")" \
        "http-$where" http --bind $bind --port 8080 --dir "$WORK/www"
    start_server "$([ $where = host ] && echo "$HOST_NS" || echo "$REMOTE_NS")" \
        "halfclose-$where" halfclose --bind $bind --port 8081 --answer-bytes 4194304
done
remote_server serverfirst serverfirst --bind $REMOTE_IP --port 8082 --send-bytes 1048576 \
    --log "$WORK/serverfirst.out"
remote_server reset reset --bind $REMOTE_IP --port 8083 --send-bytes 262144 --delay 0.5
remote_server expectreset expectreset --bind $REMOTE_IP --port 8084 --log "$WORK/expectreset.out"

# download NAME URL SHA256 - curl in the guest, body hashed on the fly.
download() {
    local t0 ms sum
    t0=$(now_ms)
    sum=$(gcurl "$2" | sha256sum | cut -d' ' -f1) || sum="(curl failed)"
    ms=$(( $(now_ms) - t0 ))
    expect_eq "$1: sha256 of the body ($ms ms)" "$sum" "$3"
}

# upload NAME URL FILE - POST the file from the guest, the server answers its sha256.
upload() {
    local t0 ms sum want
    want=$(sha256sum <"$3" | cut -d' ' -f1)
    t0=$(now_ms)
    sum=$(gcurl -H 'Expect:' -H 'Content-Type: application/octet-stream' -X POST \
        --upload-file "$3" "$2") || sum="(curl failed)"
    ms=$(( $(now_ms) - t0 ))
    expect_eq "$1: sha256 the server computed ($ms ms)" "$sum" "$want"
}

start_nat
check "netstackd is running" daemon_alive

for target in "$ALIAS" "$REMOTE_IP"; do
    if [ "$target" = "$ALIAS" ]; then what="alias -> host 127.0.0.1"; else what="remote"; fi
    log "$what ($target): downloads, upload, half-close, 200 concurrent connections"
    download "$what: GET small.bin" "http://$target:8080/small.bin" "$SMALL_SHA"
    download "$what: GET big.bin ($BIG_MB MB)" "http://$target:8080/big.bin" "$BIG_SHA"
    upload "$what: POST big.bin ($BIG_MB MB)" "http://$target:8080/upload" "$WORK/www/big.bin"
    check "$what: half-close (guest FIN first, then 4 MB answer)" \
        guestclient halfclose "$target" 8081 --bytes 1048576 --answer-bytes 4194304
    check "$what: 200 concurrent connections" \
        guestclient concurrent "$target" 8080 --n 200 --path /small.bin --sha256 "$SMALL_SHA" \
        --timeout 40
done

log "remote: the server half-closes first"
out=$(guestclient serverfirst "$REMOTE_IP" 8082 --expect-bytes 1048576 --send-bytes 524288) ||
    { echo "$out"; out="FAIL"; }
echo "$out"
sent=$(sed -n 's/^sent //p' <<<"$out")
wait_line "$WORK/serverfirst.out" '^got ' 5 || true
got=$(sed -n 's/^got //p' "$WORK/serverfirst.out" 2>/dev/null | tail -1)
check "guest read the server's data up to its FIN" grep -q '^ok: read' <<<"$out"
expect_eq "server read the guest's data after its own FIN (bytes sha256)" "$got" "$sent"

log "resets"
check "server reset mid-stream: ECONNRESET in the guest" \
    guestclient expect-reset "$REMOTE_IP" 8083
check "guest reset mid-stream: sent" guestclient send-reset "$REMOTE_IP" 8084 --bytes 65536
wait_line "$WORK/expectreset.out" '^(reset|eof) ' 5 || true
expect_eq "the server saw" "$(cut -d' ' -f1 "$WORK/expectreset.out" 2>/dev/null | tail -1)" reset

log "guest ports used again"
check "10 connects abandoned before the SYN-ACK (guest ports 45000-45009)" \
    guestclient abandon "$REMOTE_IP" 8080 --n 10 --sport 45000
sleep 1
reused=0
for p in $(seq 45000 45009); do
    guestclient connect "$REMOTE_IP" 8080 --sport "$p" --expect connected --within 1 \
        --timeout 3 >"$WORK/reuse.out" && reused=$((reused + 1))
    [ "$p" = 45000 ] && cat "$WORK/reuse.out"
done
expect_eq "then connects from the same ports work at once" "$reused" 10
check "5 GETs in a row from one guest port (netstackd's side closes first each time)" \
    guestclient reuse "$REMOTE_IP" 8080 --n 5 --sport 45100 --path /small.bin --within 1 --timeout 5

log "errors: refused at once, unreachable quickly"
check "closed port on the host (alias)" \
    guestclient connect "$ALIAS" 9 --expect refused --within 1 --timeout 5
check "closed port on the remote" \
    guestclient connect "$REMOTE_IP" 9 --expect refused --within 1 --timeout 5
check "$UNREACHABLE_IP (unreachable route)" \
    guestclient connect "$UNREACHABLE_IP" 80 --expect unreachable --within 2 --timeout 5
check "$PROHIBITED_IP (prohibit route)" \
    guestclient connect "$PROHIBITED_IP" 80 --expect unreachable --within 2 --timeout 5
check "$NOROUTE_IP (no route)" \
    guestclient connect "$NOROUTE_IP" 80 --expect unreachable --within 2 --timeout 5
check "netstackd is still running" daemon_alive
download "after the errors: GET small.bin from the remote" \
    "http://$REMOTE_IP:8080/small.bin" "$SMALL_SHA"
stop_nat

log "--no-host-loopback --mtu 1500: the alias is refused like a closed address"
start_nat --no-host-loopback --mtu 1500 --api-socket "$WORK/api.sock"
expect_eq "guest MTU" "$(in_guest cat "/sys/class/net/$TAP/mtu")" 1500
check "the tap negotiated checksum and segmentation offload" \
    grep -qE "checksum(,| and) TCP (and UDP )?segmentation offload" "$NAT_LOG"
check "alias port 8080 (a server listens on the host's 127.0.0.1)" \
    guestclient connect "$ALIAS" 8080 --expect refused --within 1 --timeout 5
download "MTU 1500: GET small.bin from the remote" "http://$REMOTE_IP:8080/small.bin" "$SMALL_SHA"
download "MTU 1500: GET big.bin ($BIG_MB MB) from the remote" \
    "http://$REMOTE_IP:8080/big.bin" "$BIG_SHA"
upload "MTU 1500: POST big.bin ($BIG_MB MB) to the remote" \
    "http://$REMOTE_IP:8080/upload" "$WORK/www/big.bin"
check "MTU 1500: half-close with the remote" \
    guestclient halfclose "$REMOTE_IP" 8081 --bytes 1048576 --answer-bytes 4194304
# 100 MB each way must have used super-frames, not 1500-byte frames.
n=$(api_stat gso_frames_in)
check "MTU 1500: the guest sent TSO super-frames ($n)" test "$n" -gt 1000
n=$(api_stat tso_frames_out)
check "MTU 1500: the guest received TSO super-frames ($n)" test "$n" -gt 1000
stop_nat

for mtu in 1500 65520; do
    log "--no-offload --mtu $mtu: plain frames, the same bytes"
    start_nat --no-offload --mtu "$mtu" --api-socket "$WORK/api.sock"
    download "no offload, MTU $mtu: GET big.bin from the host" "http://$ALIAS:8080/big.bin" "$BIG_SHA"
    upload "no offload, MTU $mtu: POST big.bin to the host" "http://$ALIAS:8080/upload" \
        "$WORK/www/big.bin"
    check "no offload, MTU $mtu: half-close with the remote" \
        guestclient halfclose "$REMOTE_IP" 8081 --bytes 1048576 --answer-bytes 4194304
    expect_eq "no offload, MTU $mtu: super-frames from the guest" "$(api_stat gso_frames_in)" 0
    expect_eq "no offload, MTU $mtu: super-frames to the guest" "$(api_stat tso_frames_out)" 0
    if [ "$mtu" = 1500 ]; then
        n=$(api_stat gso_segments_out)
        check "no offload, MTU 1500: super-segments were cut in software ($n frames)" \
            test "$n" -gt 1000
    fi
    stop_nat
done
finish
