#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_link.sh - a guest with a DHCP lease uses its link: ping the gateway and
# the host-loopback alias (small, jumbo, and fragmented), arping resolves the
# gateway, and TCP to a closed gateway port is refused at once.
# Runs twice: at the default MTU (65520) and at 1500.
. "$(dirname "$0")/lib.sh"
need_guest_caps
for tool in busybox ping arping; do
    command -v $tool >/dev/null || skip "$tool is not installed"
done

# link_checks() - everything a guest at MTU $1 does, with a ping of $2 bytes.
link_checks() {
    local mtu=$1 big=$2 out t0 t1
    check "lease at MTU $mtu" udhcpc_lease
    expect_eq "guest MTU" "$(in_guest cat /sys/class/net/$TAP/mtu)" "$mtu"
    check "ping gateway" in_guest ping -c 3 -i 0.2 -W 2 -q "$GW"
    check "ping host-loopback alias" in_guest ping -c 2 -i 0.2 -W 2 -q "$ALIAS"
    check "ping gateway with $big bytes" in_guest ping -c 2 -i 0.2 -W 2 -q -s "$big" "$GW"
    out=$(in_guest arping -c 2 -w 3 -I "$TAP" "$GW" 2>&1 || true)
    check "arping resolves the gateway to $GW_MAC" \
        grep -qi "reply from $GW \[$GW_MAC\]" <<<"$out"
    t0=$(date +%s%N)
    # bash's /dev/tcp reports connect()'s own error text, unlike curl.
    out=$(in_guest timeout 5 bash -c "exec 3<>/dev/tcp/$GW/81" 2>&1 || true)
    t1=$(date +%s%N)
    check "TCP to a closed gateway port is refused" grep -q "Connection refused" <<<"$out"
    check "... at once ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 1000
}

start_guest
log "default MTU"
link_checks 65520 60000
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
ip netns del "$GUEST_NS"

start_guest --mtu 1500
log "MTU 1500: a 4000-byte ping is fragmented both ways"
rm -f "$WORK/udhcpc.env"
link_checks 1500 4000
finish
