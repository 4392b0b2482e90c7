#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_slirp_qemu.sh - QEMU's own -netdev user, unmodified, on libslirp and
# on netstack's libslirp.so.0 (slirp/), the same checks on both.
#
# QEMU runs in HOST_NS of natlib.sh's topology (its sockets are that
# namespace's), its /etc/resolv.conf naming a dnsmasq in REMOTE_NS (through
# ip-netns's /etc/netns/), with
#   -netdev user,id=n0,hostfwd=tcp:127.0.0.1:FWD_PORT-:8080
# once as Debian built it (the system's libslirp0) and once with
# LD_LIBRARY_PATH at $NETSTACK_SLIRP_DIR. In both runs the guest (qemu/guest.sh's
# busybox, full mode without IPv6) gets 10.0.2.15 with router 10.0.2.2 and
# DNS 10.0.2.3, resolves a name only dnsmasq knows through 10.0.2.3,
# downloads a file from HOST_NS's 127.0.0.1 through 10.0.2.2 (sha256
# checked), and a client on HOST_NS's 127.0.0.1:FWD_PORT reaches busybox
# httpd in the guest through the hostfwd. QEMU's monitor ("info usernet")
# shows which library served: netstack's names itself on its first line.
# QEMU runs under TCG here.
# shellcheck source=natlib.sh
. "$(dirname "$0")/natlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
# The sanitizer build's library carries libFuzzer's instrumentation, whose
# runtime QEMU and slirp4netns do not have: e2e/ runs this on the release build.
[ -z "${NETSTACK_SANITIZED:-}" ] ||
    skip "the fuzzing build's libslirp.so.0 is instrumented for libFuzzer; e2e/test_slirp_qemu covers the release build"
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$DNSMASQ" ] || skip "dnsmasq is not installed (package dnsmasq-base)"
need_nat_caps cpio gzip curl
NETSTACK_SLIRP_DIR=${NETSTACK_SLIRP_DIR:-$(dirname "$NETSTACKD")/lib/slirp}
[ -e "$NETSTACK_SLIRP_DIR/libslirp.so.0" ] || die "no libslirp.so.0 in $NETSTACK_SLIRP_DIR"
[ -e /usr/lib/x86_64-linux-gnu/libslirp.so.0 ] || skip "the system's libslirp0 is not installed"

ZONE=slirp.test
UPSTREAM_NAME=www.$ZONE
UPSTREAM_ADDR=10.77.1.10
HTTP_PORT=18100          # servers.py http on HOST_NS [::]
FWD_PORT=18101           # hostfwd tcp:127.0.0.1:FWD_PORT-:8080
# shellcheck source=qemu/guest.sh
. "$E2E_DIR/qemu/guest.sh"
QEMU_APPEND="nsgw=10.0.2.2 nsalias=10.0.2.2 nsnov6=1"

slirp_cleanup() {
    local rc=$?
    rm -rf "/etc/netns/$HOST_NS"
    (exit "$rc")
    qemu_cleanup
}
trap slirp_cleanup EXIT

GUEST_TOKEN="netstack-slirp-guest-$$-$RANDOM"
T0=$(date +%s)
build_initrd
nat_topology

upstream_dns "$ZONE" "$UPSTREAM_NAME" "$UPSTREAM_ADDR"
# ip netns exec mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf.
mkdir -p "/etc/netns/$HOST_NS"
cp "$WORK/resolv.conf" "/etc/netns/$HOST_NS/resolv.conf"

mkdir -p "$WORK/www"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/www/file"
FILE_SHA=$(sha256sum "$WORK/www/file" | cut -d ' ' -f 1)
host_server http http --bind :: --port "$HTTP_PORT" --dir "$WORK/www"

# usernet - QEMU's "info usernet" through its monitor socket $MON.
usernet() {
    "$PYTHON" - "$MON" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(1)
s.sendall(b"info usernet\n")
out, end = b"", time.time() + 5
while time.time() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        if b"Protocol" in out:
            break
        continue
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace"))
EOF
}

# slirp_run NAME LIBDIR - boot with -netdev user on the libslirp found in
# LIBDIR ("" for the system's), check everything, and print QEMU's usernet.
slirp_run() {
    local name=$1 libdir=$2 t got lease
    MON=$WORK/monitor-$name.sock
    QEMU_WRAP=(ip netns exec "$HOST_NS" env ${libdir:+LD_LIBRARY_PATH=$libdir})
    QEMU_EXTRA=(-monitor "unix:$MON,server=on,wait=off")
    EXPECT_MTU=1500
    rm -f "$WORK/www/release"
    t=$(date +%s)
    boot "$name" full "user,id=n0,hostfwd=tcp:127.0.0.1:$FWD_PORT-:8080"
    if wait_result '^httpd ready' "$BOOT_TIMEOUT"; then
        got=$(in_host curl -sS --noproxy '*' --max-time 30 "http://127.0.0.1:$FWD_PORT/" 2>&1)
        expect_eq "$name: hostfwd 127.0.0.1:$FWD_PORT -> guest httpd :8080" "$got" "$GUEST_TOKEN"
        USERNET=$(usernet)
    else
        echo "FAIL: $name: the guest's httpd did not start"
        FAILED=1
        USERNET=
    fi
    touch "$WORK/www/release"
    finish_boot "$t"
    lease=$(result 'lease ')
    expect_eq "$name: lease" "$(awk '{print $2, $3, $5, $7, $9}' <<<"$lease")" "ok 10.0.2.15 1500 10.0.2.2 10.0.2.3"
    expect_eq "$name: DNS $UPSTREAM_NAME through 10.0.2.3" "$(result "dns $UPSTREAM_NAME")" \
        "dns $UPSTREAM_NAME $UPSTREAM_ADDR"
    expect_eq "$name: download through 10.0.2.2" "$(result 'http ')" \
        "http sha256 $FILE_SHA size $((8 * 1024 * 1024))"
    expect_eq "$name: the guest saw the release" "$(result 'httpd released')" "httpd released"
    echo "    $name: info usernet:"
    sed 's/^/      /' <<<"$USERNET"
}

# 1. The system's libslirp: the reference.
slirp_run libslirp ""
check "libslirp's usernet is not netstack's" eval '! grep -q netstack <<<"$USERNET"'

# 2. netstack's libslirp.so.0, the same QEMU binary.
slirp_run netstack "$NETSTACK_SLIRP_DIR"
check "QEMU ran on netstack's library (info usernet: $(grep -m 1 -o "netstack .* behind the libslirp.*API" <<<"$USERNET"))" \
    grep -q "netstack .* behind the libslirp" <<<"$USERNET"
check "usernet lists the hostfwd" grep -q "TCP\[HOST_FORWARD\] *127.0.0.1 *$FWD_PORT *10.0.2.15 *8080" <<<"$USERNET"
expect_eq "netstack: ping the gateway 10.0.2.2" "$(result 'ping ')" "ping ok"

echo "--- total $(( $(date +%s) - T0 )) s"
finish
