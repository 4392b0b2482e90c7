#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# udhcpc-script.sh - udhcpc's event script for the tests: configure the
# interface like a distribution's default script (address, route, MTU) and
# write every option received to $OUT for the test to check.
case "$1" in
bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$mask" broadcast "${broadcast:-+}" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    {
        echo "event=$1"
        echo "ip=$ip"
        echo "mask=$mask"
        echo "subnet=$subnet"
        echo "router=$router"
        echo "dns=$dns"
        echo "domain=$domain"
        echo "search=$search"
        echo "mtu=$mtu"
        echo "lease=$lease"
        echo "serverid=$serverid"
        echo "broadcast=$broadcast"
    } >>"$OUT"
    ;;
deconfig)
    ip -4 addr flush dev "$interface"
    ;;
esac
exit 0
