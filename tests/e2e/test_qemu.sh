#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_qemu.sh - netstackd as the network of a real QEMU virtual machine.
#
# The guest is built here from Debian packages only: the linux-image-amd64
# kernel (/boot/vmlinuz-VERSION) and an initramfs holding /bin/busybox with its
# applet links, the virtio-net modules of that kernel with their dependencies
# (decompressed when they are .ko.xz/.ko.zst), and qemu/init + qemu/udhcpc.sh.
# QEMU runs it with software emulation (TCG, no KVM needed); the guest reports
# each check as a "RESULT ..." line on its serial console, which the test reads.
#
# netstackd runs in HOST_NS of natlib.sh's topology as nobody with no
# capabilities (setpriv), its upstream DNS server a dnsmasq in REMOTE_NS:
#   1. -netdev stream to --listen-qemu: DHCP lease 192.168.65.2 with MTU
#      65520, ping the gateway, DNS for host.internal (local) and for a name
#      only dnsmasq knows, a 5 MB download from a web server on HOST_NS's
#      127.0.0.1 through the host-loopback alias (sha256 checked); over IPv6
#      a SLAAC address, ping -6 the gateway and the same download from
#      HOST_NS's ::1 through the alias's twin fd65:65::fe; and a --forward'ed
#      port of HOST_NS reaching busybox httpd in the guest.
#   2. Reboot: QEMU starts again on the same socket, netstackd still running:
#      the same lease, ping, DNS.
#   3. -netdev dgram to --listen-dgram (a new netstackd): lease and ping.
# shellcheck source=natlib.sh
. "$(dirname "$0")/natlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$DNSMASQ" ] || skip "dnsmasq is not installed (package dnsmasq-base)"
need_nat_caps cpio gzip setpriv modprobe curl

ZONE=test.example
UPSTREAM_NAME=www.$ZONE
UPSTREAM_ADDR=10.77.1.10
HTTP_PORT=18080          # python http.server on HOST_NS 127.0.0.1 and ::1
FWD_PORT=18081           # netstackd --forward tcp:127.0.0.1:FWD_PORT:8080
# shellcheck source=qemu/guest.sh
. "$E2E_DIR/qemu/guest.sh"

[ -x "$NETSTACKD" ] || die "no netstackd at $NETSTACKD"
GUEST_TOKEN="netstack-qemu-guest-$$-$RANDOM"
T0=$(date +%s)
build_initrd
nat_topology

run_as_nobody

# Upstream DNS: dnsmasq in REMOTE_NS knows $UPSTREAM_NAME.
upstream_dns "$ZONE" "$UPSTREAM_NAME" "$UPSTREAM_ADDR"

# The host's web server: 5 MB of random bytes on HOST_NS's 127.0.0.1 and ::1
# (http.server binds [::] dual-stack).
mkdir -p "$WORK/www"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$WORK/www/file"
FILE_SHA=$(sha256sum "$WORK/www/file" | cut -d ' ' -f 1)
ip netns exec "$HOST_NS" "$PYTHON" -m http.server --bind :: --directory "$WORK/www" "$HTTP_PORT" \
    >"$WORK/srv-http.log" 2>&1 &
BG_PIDS+=($!)
wait_port "$HOST_NS" tcp "$HTTP_PORT" 10 || die "http.server did not start: $(cat "$WORK/srv-http.log")"

# 1. -netdev stream.
start_nat_qemu_at() {
    QEMU_SOCK=$SOCKDIR/qemu.sock
    launch_nat --listen-qemu "$QEMU_SOCK" "$@"
    wait_until 5 test -S "$QEMU_SOCK" || die "netstackd did not create $QEMU_SOCK: $(cat "$NAT_LOG")"
}
start_nat_qemu_at --resolv-conf "$WORK/resolv.conf" --forward "tcp:127.0.0.1:$FWD_PORT:8080"
expect_eq "netstackd runs as" "$(ps -o user= -p "$DAEMON_PID" | tr -d ' ')" nobody
expect_eq "netstackd effective capabilities" "$(awk '/^CapEff/{print $2}' "/proc/$DAEMON_PID/status")" 0000000000000000

t=$(date +%s)
boot stream full stream,id=n0,server=off,addr.type=unix,addr.path="$QEMU_SOCK"
if wait_result '^(httpd |done)' "$BOOT_TIMEOUT" && [ -n "$(result 'httpd ready')" ]; then
    got=$(in_host timeout 30 curl -sS --noproxy '*' --max-time 10 --retry 3 --retry-connrefused \
        "http://127.0.0.1:$FWD_PORT/index.html" 2>&1) || true
    expect_eq "forwarded port 127.0.0.1:$FWD_PORT -> guest httpd :8080" "$got" "$GUEST_TOKEN"
else
    echo "FAIL: the guest's httpd did not start"
    FAILED=1
fi
touch "$WORK/www/release"
finish_boot "$t"
check_basic
expect_eq "DNS $UPSTREAM_NAME (upstream dnsmasq)" "$(result "dns $UPSTREAM_NAME")" "dns $UPSTREAM_NAME $UPSTREAM_ADDR"
expect_eq "HTTP download through $ALIAS" "$(result 'http ')" "http sha256 $FILE_SHA size $((5 * 1024 * 1024))"
check "SLAAC address in fd65:65::/64 ($(result 'slaac '))" grep -q '^slaac fd650065' <<<"$(result 'slaac ')"
expect_eq "ping -6 the gateway" "$(result 'ping6 ')" "ping6 ok"
expect_eq "HTTP download over IPv6 through fd65:65::fe" "$(result 'http6 ')" \
    "http6 sha256 $FILE_SHA size $((5 * 1024 * 1024))"
expect_eq "the guest saw the release" "$(result 'httpd released')" "httpd released"
check "dnsmasq answered netstackd for $UPSTREAM_NAME" \
    grep -q "query\[A\] $UPSTREAM_NAME from $HOST_IP" "$WORK/dnsmasq.log"

# 2. Reboot: QEMU again on the same socket, the same netstackd.
rm -f "$WORK/www/release"
check "netstackd still running after the guest powered off" daemon_alive
t=$(date +%s)
boot reboot basic stream,id=n0,server=off,addr.type=unix,addr.path="$QEMU_SOCK"
finish_boot "$t"
check_basic
check "netstackd still running after the second guest" daemon_alive
stop_nat

# 3. -netdev dgram, against a new netstackd on --listen-dgram.
DGRAM_SOCK=$SOCKDIR/ns.dgram
launch_nat --listen-dgram "$DGRAM_SOCK" --resolv-conf "$WORK/resolv.conf"
wait_until 5 test -S "$DGRAM_SOCK" || die "netstackd did not create $DGRAM_SOCK: $(cat "$NAT_LOG")"
rm -f "$SOCKDIR/qemu-client.sock"
t=$(date +%s)
boot dgram basic dgram,id=n0,local.type=unix,"local.path=$SOCKDIR/qemu-client.sock,remote.type=unix,remote.path=$DGRAM_SOCK"
finish_boot "$t"
check_basic
stop_nat

echo "--- total $(( $(date +%s) - T0 )) s"
finish
