#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_nat_limits.sh - the NAT's limits and the guest going away (natlib.sh).
#
# 1. --max-tcp-connections 10: ten held connections open, the eleventh is
#    refused at once, the ten still exchange data, closing three lets three
#    new ones in, and the limit holds again after; connects the guest abandons
#    before the SYN-ACK free their host socket and their slot.
# 2. --tcp-idle-timeout, --udp-timeout, --icmp-timeout: flows in use live on,
#    idle ones are closed (the server sees it, the descriptors go); with
#    --max-pending-connects 2, six connects to an address nobody answers open
#    at most two host sockets; such a connect ends "unreachable", not hung.
# 3. netstackd under `prlimit --nofile=64`, the guest opening 100 connections:
#    the ones past the descriptors are refused (none hangs), the daemon does
#    not crash, the open ones work, and once they are closed its descriptors
#    return to the idle count and a fresh connection and download work.
# 4. The guest disappears: netstackd on --listen-qemu, the guest's tap joined
#    to it by tapcable.py. With TCP connections, UDP flows and a ping flow
#    open, the cable is killed: within a few seconds netstackd's descriptors
#    are back to the idle count (every host socket of that guest closed), the
#    remote server sees its connections closed, and a new cable is served.
. "$(dirname "$0")/natlib.sh"
need_nat_caps prlimit ping curl

nat_topology
mkdir "$WORK/www"
head -c 20000 /dev/urandom >"$WORK/www/small.bin"
SMALL_SHA=$(sha256sum <"$WORK/www/small.bin" | cut -d' ' -f1)
STATUS=$WORK/hold.status
remote_server hold hold --bind "$REMOTE_IP" --port 9000 --status "$STATUS"
remote_server http http --bind "$REMOTE_IP" --port 8080 --dir "$WORK/www"
remote_server udp udpecho --bind "$REMOTE_IP" --port 7000

server_open() { sed -n 's/^open //p' "$STATUS" 2>/dev/null; }
server_open_is() { [ "$(server_open)" = "$1" ]; }
fds_are() { [ "$(daemon_fds)" -eq "$1" ]; }
small_download() {
    local sum
    sum=$(gcurl "http://$REMOTE_IP:8080/small.bin" | sha256sum | cut -d' ' -f1) || sum="(curl failed)"
    expect_eq "$1" "$sum" "$SMALL_SHA"
}

log "--max-tcp-connections 10"
start_nat --max-tcp-connections 10
start_holder "$REMOTE_IP" 9000 10
r=$HOLD_RESULT
expect_eq "connections opened under the limit" "$(rfield opened "$r")" 10
check "the server holds 10" wait_until 5 server_open_is 10
check "the 11th is refused at once" \
    guestclient connect "$REMOTE_IP" 9000 --expect refused --within 1 --timeout 5
check "... and to another destination too" \
    guestclient connect "$REMOTE_IP" 8080 --expect refused --within 1 --timeout 5
r=$(hold_cmd exchange)
echo "$r"
expect_eq "the 10 held connections still exchange data" "$(rfield ok "$r")" 10
r=$(hold_cmd close 3)
echo "$r"
check "the server sees 3 closed" wait_until 5 server_open_is 7
# netstackd counts a connection until the guest's side is gone too.
sleep 1
r=$(hold_cmd open 3)
echo "$r"
expect_eq "after closing 3, new connections let in" "$(rfield opened "$r")" 3
check "at the limit again: refused at once" \
    guestclient connect "$REMOTE_IP" 9000 --expect refused --within 1 --timeout 5
r=$(hold_cmd exchange)
echo "$r"
expect_eq "all 10 exchange data" "$(rfield ok "$r")" 10
stop_holder
check "the server sees every connection closed" wait_until 5 server_open_is 0
check "10 connects abandoned by the guest before the SYN-ACK" \
    guestclient abandon "$REMOTE_IP" 9000 --n 10
check "... leave no host connection behind" wait_until 3 server_open_is 0
start_holder "$REMOTE_IP" 9000 10
r=$HOLD_RESULT
expect_eq "... nor a slot under the limit: 10 open again" "$(rfield opened "$r")" 10
stop_holder
check "netstackd is still running" daemon_alive
stop_nat

log "idle timeouts and --max-pending-connects"
start_nat --tcp-idle-timeout 2 --udp-timeout 1 --icmp-timeout 1 --max-pending-connects 2
sleep 0.5
idle=$(daemon_fds)
echo "netstackd has $idle descriptors open, idle"
start_holder "$REMOTE_IP" 9000 2
r=$HOLD_RESULT
expect_eq "TCP connections held" "$(rfield opened "$r")" 2
alive=0
for i in 1 2 3 4; do
    sleep 1
    r=$(hold_cmd exchange)
    [ "$(rfield ok "$r")" = 2 ] && alive=$((alive + 1))
done
expect_eq "connections used every second outlive the 2 s idle timeout (exchanges)" "$alive" 4
check "UDP flow" guestclient udp "$REMOTE_IP" 7000 --timeout 3
check "ping flow" gping -c 1 -W 2 "$REMOTE_IP"
check "idle for 2 s: the server sees the connections closed" wait_until 5 server_open_is 0
check "every flow timed out: descriptors back to the idle $idle" wait_until 5 fds_are "$idle"
r=$(hold_cmd exchange)
echo "$r"
expect_eq "the guest's idle connections are gone (exchanges that worked)" "$(rfield ok "$r")" 0
stop_holder
# Nobody has 10.77.0.99: the host's connect()s stay in progress until ARP gives up.
ip netns exec "$GUEST_NS" timeout 20 "$PYTHON" "$CLIENT" hold 10.77.0.99 80 --n 6 --timeout 2 \
    </dev/null >"$WORK/pending.out" 2>&1 &
pending=$!
sleep 1
most=0
for i in $(seq 1 10); do
    n=$(( $(daemon_fds) - idle ))
    [ "$n" -gt "$most" ] && most=$n
    sleep 0.1
done
check "6 connects to a silent address: at most 2 host connects in progress ($most)" \
    test "$most" -le 2 -a "$most" -ge 1
wait "$pending" || true
cat "$WORK/pending.out"
check "the pending host connects end by themselves (ARP gives up)" wait_until 10 fds_are "$idle"
check "a host that does not answer ARP: unreachable, not a hang" \
    guestclient connect 10.77.0.99 80 --expect unreachable --within 6 --timeout 10
check "netstackd is still running" daemon_alive
stop_nat

log "netstackd with 64 file descriptors, the guest opens 100 connections"
NAT_WRAP=(prlimit --nofile=64:64 --)
start_nat
NAT_WRAP=()
sleep 0.5
idle=$(daemon_fds)
echo "netstackd has $idle descriptors open, idle"
HOLD_TIMEOUT=15 start_holder "$REMOTE_IP" 9000 100
r=$HOLD_RESULT
opened=$(rfield opened "$r"); refused=$(rfield refused "$r"); failed=$(rfield failed "$r")
check "some connections opened ($opened)" test "${opened:-0}" -ge 20
check "the ones past the descriptors were refused ($refused)" test "${refused:-0}" -ge 1
check "none hung or failed otherwise ($failed)" test "${failed:-1}" -eq 0
check "netstackd is still running" daemon_alive
r=$(hold_cmd exchange)
echo "$r"
expect_eq "every open connection exchanges data" "$(rfield ok "$r")" "$opened"
stop_holder
check "the server sees every connection closed" wait_until 10 server_open_is 0
check "netstackd's descriptors back to the idle $idle (now $(daemon_fds))" wait_until 10 fds_are "$idle"
check "a fresh connection works" \
    guestclient connect "$REMOTE_IP" 9000 --expect connected --within 2 --timeout 5
small_download "a download after the storm"
check "netstackd is still running" daemon_alive
stop_nat

log "the guest disappears (its transport closes)"
start_nat_qemu
sleep 0.5
idle=$(daemon_fds)
echo "netstackd has $idle descriptors open, no guest"
start_cable
connected=$(daemon_fds)
echo "netstackd has $connected descriptors open with the guest connected"
start_holder "$REMOTE_IP" 9000 20
r=$HOLD_RESULT
expect_eq "TCP connections held" "$(rfield opened "$r")" 20
check "the server holds 20" wait_until 5 server_open_is 20
udp_ok=0
for p in 43001 43002 43003 43004 43005; do
    GC_TIMEOUT=10 guestclient udp "$REMOTE_IP" 7000 --sport $p --timeout 3 >/dev/null &&
        udp_ok=$((udp_ok + 1))
done
expect_eq "UDP flows opened" "$udp_ok" 5
check "ping the remote (an ICMP flow)" gping -c 2 -i 0.2 -W 2 "$REMOTE_IP"
busy=$(daemon_fds)
check "netstackd holds a socket per flow: $busy descriptors >= $connected + 25" \
    test "$busy" -ge $((connected + 25))
t0=$(now_ms)
kill_cable
check "within 3 s netstackd's descriptors are back to the idle $idle" wait_until 3 fds_are "$idle"
echo "    $(daemon_fds) descriptors, $(( $(now_ms) - t0 )) ms after the cable was pulled"
check "the server sees its 20 connections closed" wait_until 3 server_open_is 0
check "netstackd is still running" daemon_alive
stop_holder
start_cable
check "a new cable: a fresh connection works" \
    guestclient connect "$REMOTE_IP" 9000 --expect connected --within 2 --timeout 5
check "a new cable: UDP echo" guestclient udp "$REMOTE_IP" 7000 --timeout 3
small_download "a new cable: download"
kill_cable
check "netstackd is still running" daemon_alive
stop_nat
finish
