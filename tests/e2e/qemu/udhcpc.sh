#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# udhcpc.sh - the QEMU test guest's udhcpc script: configures eth0 from the
# lease (address, prefix, MTU, default route) and writes it to /lease.env.
# shellcheck disable=SC2154  # interface, ip, mask, mtu, router, dns from udhcpc
case "$1" in
deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    for gw in $router; do
        ip route add default via "$gw" dev "$interface"
        break
    done
    {
        echo "ip=$ip"
        echo "mtu=$mtu"
        echo "router=\"$router\""
        echo "dns=\"$dns\""
    } >/lease.env
    ;;
esac
exit 0
