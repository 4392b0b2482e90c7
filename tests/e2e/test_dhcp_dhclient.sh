#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_dhcp_dhclient.sh - ISC dhclient in a guest namespace gets a full lease
# (with its DAD-style ARP checks), and the same address again from scratch.
. "$(dirname "$0")/lib.sh"
need_guest_caps
command -v dhclient >/dev/null || skip "isc-dhcp-client is not installed"

cat >"$WORK/dhclient.conf" <<CONF
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,
        domain-search, interface-mtu;
timeout 20;
CONF
# dhclient runs its script with a clean environment: the output path is written in.
cat >"$WORK/dhclient-script.sh" <<SCRIPT
#!/bin/sh
# Record what dhclient received; configure the interface on BOUND.
env | grep '^new_\\|^reason=' >>"$WORK/dhclient.env"
if [ "\$reason" = BOUND ] || [ "\$reason" = REBOOT ]; then
    ip addr add "\$new_ip_address/\$new_subnet_mask" dev "\$interface"
    [ -n "\$new_interface_mtu" ] && ip link set dev "\$interface" mtu "\$new_interface_mtu"
fi
exit 0
SCRIPT
chmod +x "$WORK/dhclient-script.sh"

# dhclient_lease() - one dhclient run with its own, fresh state files.
dhclient_lease() {
    in_guest timeout 60 dhclient -1 -v -cf "$WORK/dhclient.conf" \
        -sf "$WORK/dhclient-script.sh" -lf "$WORK/dhclient.leases.$1" -pf "$WORK/dhclient.pid" \
        "$TAP" >"$WORK/dhclient.log" 2>&1
}

start_guest --mtu 1500
log "dhclient in the guest"
check "dhclient obtained a lease" dhclient_lease 1
E=$WORK/dhclient.env
expect_eq "reason" "$(env_get "$E" reason)" BOUND
expect_eq "address" "$(env_get "$E" new_ip_address)" 192.168.65.2
expect_eq "subnet mask" "$(env_get "$E" new_subnet_mask)" 255.255.255.0
expect_eq "router" "$(env_get "$E" new_routers)" "$GW"
expect_eq "DNS server" "$(env_get "$E" new_domain_name_servers)" "$GW"
expect_eq "MTU" "$(env_get "$E" new_interface_mtu)" 1500
expect_eq "domain" "$(env_get "$E" new_domain_name)" internal
expect_eq "search list" "$(env_get "$E" new_domain_search)" "internal."
expect_eq "server id" "$(env_get "$E" new_dhcp_server_identifier)" "$GW"
expect_eq "lease time" "$(env_get "$E" new_dhcp_lease_time)" 7200
if [ "$FAILED" -ne 0 ]; then cat "$WORK/dhclient.log"; fi

log "guest reboot: new dhclient with no lease file"
in_guest dhclient -x -pf "$WORK/dhclient.pid" >/dev/null 2>&1 || true
in_guest ip addr flush dev "$TAP"
rm -f "$E"
check "second lease" dhclient_lease 2
expect_eq "same address after reboot" "$(env_get "$E" new_ip_address)" 192.168.65.2
finish
