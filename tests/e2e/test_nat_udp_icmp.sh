#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_nat_udp_icmp.sh - the guest's UDP and ping to any address become host
# sockets of netstackd (natlib.sh: servers on the host's 127.0.0.1 through the
# alias 192.168.65.254, and in the "remote" namespace 10.77.0.2).
#
# At MTU 1500: UDP echo with both targets; a 4000-byte datagram both ways
# (fragmented by the guest, and by netstackd towards the guest); full cone (a
# reply from the server's second port reaches the same guest socket); one host
# socket per guest source port (the same host port towards two destinations),
# and that port the guest's own (RFC 4787 port preservation);
# ping to the remote (also 4000 bytes, and two at once), the gateway and the
# alias; ping to an unroutable address gets no reply.
# Then --udp-timeout 2 --max-udp-flows 3 --max-icmp-flows 1: a flow idle for
# more than 3 s expires (udp_flows_expired) and one used within the timeout
# stays; a fourth guest port evicts the least recently used flow
# (udp_flows_evicted) and the most recent one stays; pings still work when
# each one evicts the other's flow.
. "$(dirname "$0")/natlib.sh"
need_nat_caps ping

nat_topology
remote_server udp-remote udpecho --bind "$REMOTE_IP" --port 7000
remote_server udp-remote-cone udpecho --bind "$REMOTE_IP" --port 7010 --second-port 7011
host_server udp-host udpecho --bind 127.0.0.1 --port 7000
host_server udp-host-cone udpecho --bind 127.0.0.1 --port 7010 --second-port 7011

# udp_seen SPORT TARGET PORT - one exchange from guest port SPORT: prints the
# port the server saw (netstackd's host socket), or "none".
udp_seen() {
    local out
    out=$(GC_TIMEOUT=10 guestclient udp "$2" "$3" --size 64 --sport "$1" --timeout 3) || true
    sed -n 's/.* seen=[0-9.]*:\([0-9]*\) .*intact$/\1/p' <<<"$out" | head -1 | grep . || echo none
}

start_nat --mtu 1500
expect_eq "guest MTU" "$(in_guest cat "/sys/class/net/$TAP/mtu")" 1500

for target in "$ALIAS" "$REMOTE_IP"; do
    if [ "$target" = "$ALIAS" ]; then
        what="alias -> host 127.0.0.1"; seen_ip=127.0.0.1
    else
        what="remote"; seen_ip=$HOST_IP
    fi
    log "$what ($target)"
    out=$(GC_TIMEOUT=10 guestclient udp "$target" 7000 --size 100 --timeout 3) || true
    echo "$out"
    check "$what: echo of 100 bytes" grep -q '^ok: udp' <<<"$out"
    check "$what: reply comes from $target:7000" grep -q " from=$target:7000 " <<<"$out"
    check "$what: the server saw netstackd's host socket at $seen_ip" \
        grep -q " seen=$seen_ip:[0-9]* " <<<"$out"
    check "$what: 4000-byte datagram both ways at MTU 1500" \
        guestclient udp "$target" 7000 --size 4000 --timeout 3
    out=$(GC_TIMEOUT=10 guestclient udp "$target" 7010 --size 100 --replies 2 --timeout 3) || true
    echo "$out"
    check "$what: full cone: reply from the server's port 7010" grep -q " from=$target:7010 " <<<"$out"
    check "$what: full cone: reply from the server's other port 7011" \
        grep -q " from=$target:7011 " <<<"$out"
done

log "UDP segmentation offload: one UDP_SEGMENT send, a super-frame on the tap"
if grep -q "UDP segmentation offload" "$NAT_LOG"; then
    check "10000 bytes sent as datagrams of 1400: each echoed intact, in order" \
        guestclient udp "$ALIAS" 7000 --size 10000 --gso-size 1400 --timeout 3
else
    echo "SKIP: this kernel has no UDP segmentation offload on taps (TUN_F_USO4, Linux 6.2)"
fi

log "one host socket per guest source port"
a=$(udp_seen 40100 "$REMOTE_IP" 7000)
b=$(udp_seen 40100 "$ALIAS" 7000)
check "guest port 40100: the same host port towards the remote ($a) and the host ($b)" \
    test "$a" != none -a "$a" = "$b"

log "ping"
check "ping the remote" gping -c 3 -i 0.2 -W 2 "$REMOTE_IP"
check "ping the remote with 4000 bytes (fragmented both ways)" \
    gping -c 2 -i 0.2 -W 2 -s 4000 "$REMOTE_IP"
check "ping the gateway" gping -c 2 -i 0.2 -W 2 "$GW"
check "ping the alias" gping -c 2 -i 0.2 -W 2 "$ALIAS"
gping -c 5 -i 0.2 -W 2 "$REMOTE_IP" >"$WORK/ping1.out" 2>&1 &
p1=$!
gping -c 5 -i 0.2 -W 2 "$REMOTE_IP" >"$WORK/ping2.out" 2>&1 &
p2=$!
r1=0; r2=0
wait $p1 || r1=$?
wait $p2 || r2=$?
cat "$WORK/ping1.out" "$WORK/ping2.out" | grep received || true
check "two pings of the remote at once both get all replies" \
    test "$r1$r2" = 00 -a "$(cat "$WORK/ping1.out" "$WORK/ping2.out" | grep -c ' 5 received')" = 2
check "ping $UNREACHABLE_IP gets no reply" \
    bash -c "! ip netns exec '$GUEST_NS' timeout 10 ping -c 2 -i 0.2 -W 1 -q '$UNREACHABLE_IP' >/dev/null 2>&1"
check "netstackd is still running" daemon_alive
stop_nat

log "--udp-timeout 2 --max-udp-flows 3 --max-icmp-flows 1"
start_nat --mtu 1500 --udp-timeout 2 --max-udp-flows 3 --max-icmp-flows 1 \
    --api-socket "$WORK/api.sock"
p1=$(udp_seen 41000 "$REMOTE_IP" 7000)
expect_eq "the host port is the guest's own (port preservation)" "$p1" 41000
sleep 0.5
p2=$(udp_seen 41000 "$REMOTE_IP" 7000)
expect_eq "a flow used again within the timeout is the same flow" \
    "$(api_stat udp_flows_created) $p2" "1 41000"
sleep 4
p3=$(udp_seen 41000 "$REMOTE_IP" 7000)
expect_eq "after 4 s idle the flow expired, and a new one opened ($p3)" \
    "$(api_stat udp_flows_expired) $(api_stat udp_flows_created)" "1 2"

sleep 3   # every flow above has expired: the table is empty
e1=$(udp_seen 42001 "$REMOTE_IP" 7000)
e2=$(udp_seen 42002 "$REMOTE_IP" 7000)
e3=$(udp_seen 42003 "$REMOTE_IP" 7000)
e4=$(udp_seen 42004 "$REMOTE_IP" 7000)
check "four guest ports, four host ports ($e1 $e2 $e3 $e4)" \
    test "$(printf '%s\n' "$e1" "$e2" "$e3" "$e4" | grep -v none | sort -u | wc -l)" -eq 4
expect_eq "the fourth evicted the least recently used" "$(api_stat udp_flows_evicted)" 1
e1b=$(udp_seen 42001 "$REMOTE_IP" 7000)
expect_eq "the first guest port opens a flow again ($e1b), evicting the next" \
    "$(api_stat udp_flows_evicted)" 2
created=$(api_stat udp_flows_created)
e4b=$(udp_seen 42004 "$REMOTE_IP" 7000)
expect_eq "the most recent flow was kept ($e4, then $e4b)" "$(api_stat udp_flows_created)" "$created"

check "ping the remote (one ICMP flow)" gping -c 2 -i 0.2 -W 2 "$REMOTE_IP"
check "a second ping evicts the first one's flow and works" \
    gping -c 2 -i 0.2 -W 2 "$REMOTE_IP"
check "netstackd is still running" daemon_alive
stop_nat
finish
