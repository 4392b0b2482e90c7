#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_ipv6_link.sh - the guest's kernel configures IPv6 from netstackd's
# router advertisements: a SLAAC address in fd65:65::/64 that passes
# duplicate address detection, the prefix on-link and a default route via
# the gateway's link-local address; rdisc6 reads the
# advertisement's prefix, MTU, lifetime, DNS server and search list, and
# dig asks that server over IPv6; dhclient -6 -S gets the same from
# stateless DHCPv6; ping -6 reaches the gateway (global
# and link-local) and the host-loopback alias; DAD fails for the gateway's own
# address and passes for a free one. Then --ipv6-prefix (with --mtu: the
# advertised MTU is the one the guest uses, and a ping larger than it is
# reassembled and answered in fragments) and --no-ipv6.
. "$(dirname "$0")/lib.sh"
need_guest_caps
[ -d /proc/sys/net/ipv6 ] || skip "the kernel has no IPv6"
for tool in ping rdisc6 dig dhclient; do
    command -v $tool >/dev/null || skip "$tool is not installed"
done
GW_LL=fe80::5894:efff:fee4:cdd

# The guest's tap accepts router advertisements and autoconfigures (set
# before the link comes up, so its first solicitation already counts). Its
# MTU is raised to 65520 as a virtio-net guest knows its device's maximum:
# the kernel takes an advertised MTU only up to the device's.
# shellcheck disable=SC2034  # read by lib.sh's start_guest
GUEST_SYSCTLS="net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.default.accept_ra=1
    net.ipv6.conf.default.autoconf=1 net.ipv6.conf.default.accept_dad=1"
# shellcheck disable=SC2034
TAP_MTU=65520

stop_guest() {
    kill -TERM "$DAEMON_PID"
    wait "$DAEMON_PID" || true
    DAEMON_PID=
    ip netns del "$GUEST_NS"
}

# slaac_addr PREFIX/64 - the guest's autoconfigured address in that prefix
# (empty while none, or while it is still tentative).
slaac_addr() {
    in_guest ip -6 -o addr show dev "$TAP" to "$1" scope global -tentative 2>/dev/null |
        awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

# wait_slaac PREFIX - up to 15 s for that address (RS delay, DAD's second).
wait_slaac() {
    for _ in $(seq 1 150); do
        [ -n "$(slaac_addr "$1")" ] && return 0
        sleep 0.1
    done
    return 1
}

# addr_flags ADDR - the flags ip prints for one of the guest's addresses.
addr_flags() { in_guest ip -6 -o addr show dev "$TAP" | awk -v a="$1/" 'index($4, a) == 1' ; }

log "default prefix"
start_guest
check "SLAAC address in fd65:65::/64 after DAD" wait_slaac fd65:65::/64
addr=$(slaac_addr fd65:65::/64)
log "guest address $addr"
check "the address is a /64" grep -q "$addr/64" <<<"$(addr_flags "$addr")"
routes=$(in_guest ip -6 route show dev "$TAP")
check "the prefix is on-link, for its valid lifetime" grep -qE "^fd65:65::/64 .*expires" <<<"$routes"
check "a default route via the gateway" grep -qE "^default via $GW_LL .*expires" <<<"$routes"
ra=$(in_guest rdisc6 -1 -w 2000 -r 3 "$TAP" 2>&1 || true)
check "rdisc6: prefix" grep -q "Prefix *: fd65:65::/64" <<<"$ra"
check "rdisc6: MTU 65520" grep -qE "MTU *: *65520 bytes" <<<"$ra"
expect_eq "the guest's IPv6 MTU" "$(in_guest cat /proc/sys/net/ipv6/conf/$TAP/mtu)" 65520
check "rdisc6: router lifetime 600 s" grep -qE "Router lifetime *: *600 " <<<"$ra"
check "rdisc6: from the gateway's link-local address" grep -q "from $GW_LL" <<<"$ra"
check "rdisc6: the gateway as DNS server (RDNSS)" grep -qE "Recursive DNS server *: fd65:65::1" <<<"$ra"
check "rdisc6: the search domain (DNSSL)" grep -qE "DNS search list *: internal" <<<"$ra"
expect_eq "dig AAAA host.internal @fd65:65::1" \
    "$(in_guest timeout 10 dig @fd65:65::1 +time=2 +tries=1 +short AAAA host.internal 2>&1)" fd65:65::fe
expect_eq "dig A gateway.internal @fd65:65::1" \
    "$(in_guest timeout 10 dig @fd65:65::1 +time=2 +tries=1 +short gateway.internal 2>&1)" 192.168.65.1
check "ping -6 gateway" in_guest ping -6 -c 3 -i 0.2 -W 2 -q fd65:65::1
check "ping -6 gateway, 60000 bytes" in_guest ping -6 -c 2 -i 0.2 -W 2 -q -s 60000 fd65:65::1
check "ping -6 host-loopback alias" in_guest ping -6 -c 2 -i 0.2 -W 2 -q fd65:65::fe
check "ping -6 gateway's link-local address" in_guest ping -6 -c 2 -i 0.2 -W 2 -q "$GW_LL%$TAP"
nd=$(in_guest ip -6 neigh show dev "$TAP" fd65:65::1)
check "the gateway's MAC resolved by NDP ($nd)" grep -qi "lladdr $GW_MAC" <<<"$nd"
log "stateless DHCPv6: dhclient -6 -S (Information-request)"
cat >"$WORK/dhclient6.conf" <<CONF
request dhcp6.name-servers, dhcp6.domain-search;
CONF
# dhclient runs its script with a clean environment: the output path is written in.
cat >"$WORK/dhclient6-script.sh" <<SCRIPT
#!/bin/sh
env | grep '^new_\\|^reason=' >>"$WORK/dhclient6.env"
exit 0
SCRIPT
chmod +x "$WORK/dhclient6-script.sh"
check "dhclient -6 -S got a reply" in_guest timeout 30 dhclient -6 -S -1 -v -cf "$WORK/dhclient6.conf" \
    -sf "$WORK/dhclient6-script.sh" -lf "$WORK/dhclient6.leases" -pf "$WORK/dhclient6.pid" "$TAP"
expect_eq "DHCPv6 DNS server" "$(env_get "$WORK/dhclient6.env" new_dhcp6_name_servers)" fd65:65::1
expect_eq "DHCPv6 search list" "$(env_get "$WORK/dhclient6.env" new_dhcp6_domain_search)" "internal."
in_guest ip -6 addr add fd65:65::1/64 dev "$TAP"
in_guest ip -6 addr add fd65:65::99/64 dev "$TAP"
sleep 3
check "DAD fails for the gateway's address" grep -q dadfailed <<<"$(addr_flags fd65:65::1)"
flags=$(addr_flags fd65:65::99)
check "DAD passes for a free address ($flags)" bash -c "[ -n '$flags' ] && ! grep -qE 'tentative|dadfailed' <<<'$flags'"
stop_guest

log "--ipv6-prefix 2001:db8:65::/64 --mtu 9000"
start_guest --ipv6-prefix 2001:db8:65::/64 --mtu 9000
check "SLAAC address in 2001:db8:65::/64" wait_slaac 2001:db8:65::/64
expect_eq "the guest's IPv6 MTU, from the advertisement" \
    "$(in_guest cat /proc/sys/net/ipv6/conf/$TAP/mtu)" 9000
check "ping -6 that prefix's gateway" in_guest ping -6 -c 2 -i 0.2 -W 2 -q 2001:db8:65::1
check "ping -6 with 20000 bytes: fragmented both ways" \
    in_guest ping -6 -c 2 -i 0.2 -W 2 -q -s 20000 2001:db8:65::1
stop_guest

log "--no-ipv6"
start_guest --no-ipv6
out=$(in_guest rdisc6 -1 -w 1000 -r 2 "$TAP" 2>&1 || true)
check "no router advertisement" bash -c "! grep -q Prefix <<<'$out'"
check "no IPv6 address beyond link-local" test -z "$(in_guest ip -6 -o addr show dev "$TAP" scope global)"
check "the gateway does not answer ping -6" bash -c "! ip netns exec $GUEST_NS ping -6 -c 1 -W 1 -q $GW_LL%$TAP >/dev/null 2>&1"
finish
