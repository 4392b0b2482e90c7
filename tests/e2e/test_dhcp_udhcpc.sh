#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_dhcp_udhcpc.sh - busybox udhcpc in a guest namespace gets a full lease,
# and gets the same address again after a "reboot" (a new udhcpc, no state).
. "$(dirname "$0")/lib.sh"
need_guest_caps
command -v busybox >/dev/null || skip "busybox is not installed"

start_guest --mtu 9000
log "udhcpc in the guest"
check "udhcpc obtained a lease" udhcpc_lease
E=$WORK/udhcpc.env
expect_eq "address" "$(env_get "$E" ip)" 192.168.65.2
expect_eq "subnet mask" "$(env_get "$E" subnet)" 255.255.255.0
expect_eq "router" "$(env_get "$E" router)" "$GW"
expect_eq "DNS server" "$(env_get "$E" dns)" "$GW"
expect_eq "server id" "$(env_get "$E" serverid)" "$GW"
expect_eq "MTU (option 26)" "$(env_get "$E" mtu)" 9000
expect_eq "domain (option 15)" "$(env_get "$E" domain)" internal
expect_eq "search list (option 119)" "$(env_get "$E" search)" internal
expect_eq "lease time" "$(env_get "$E" lease)" 7200
expect_eq "interface MTU applied" "$(in_guest cat /sys/class/net/$TAP/mtu)" 9000
check "address configured in the guest" \
    bash -c "ip netns exec $GUEST_NS ip -4 addr show $TAP | grep -q 'inet 192.168.65.2/24'"

log "guest reboot: forget everything, ask again"
in_guest ip addr flush dev "$TAP"
rm -f "$E"
check "second lease" udhcpc_lease
expect_eq "same address after reboot" "$(env_get "$E" ip)" 192.168.65.2
finish
