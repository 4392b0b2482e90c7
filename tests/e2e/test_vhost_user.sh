#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_vhost_user.sh - netstackd as the vhost-user back-end of a real QEMU guest.
#
# The guest of test_qemu.sh (qemu/guest.sh), with its RAM in a shared memfd
# and -netdev vhost-user on netstackd's --listen-vhost-user socket: frames
# move through the virtio rings in the guest's memory. netstackd runs in
# HOST_NS of natlib.sh's topology as nobody with no capabilities.
#   1. MTU 65520: DHCP lease, ping, DNS (host.internal and a --dns-name), a
#      100 MB download from HOST_NS's 127.0.0.1 through the host-loopback
#      alias and a 100 MB upload to it (sha256 both), over IPv6 a SLAAC
#      address, ping -6 and the download again through fd65:65::fe, and a
#      --forward'ed port reaching busybox httpd in the guest.
#   2. Reboot: QEMU again on the same socket: lease, ping, DNS.
#   3. QEMU killed (SIGKILL) while the guest runs: netstackd unmaps the
#      guest's memory and closes what the guest had open (its descriptors
#      back to the count before any QEMU came), then serves a new QEMU.
#   4. netstackd restarted under a running QEMU whose chardev has
#      reconnect=1: QEMU connects to the new one and sets the rings up
#      again; the guest, still on its old lease, fetches from the host and
#      pings the gateway.
#   5. MTU 1500 (a new netstackd): the transfers again, with checksum and
#      segmentation offload negotiated: the stack took TCP super-frames
#      from the guest (gso_frames_in) and gave it some (tso_frames_out).
# QEMU runs under TCG here. Debian's QEMU 7.2 crashes under TCG when vhost
# starts with MSI-X (in msix_set_vector_notifiers), so the device gets
# vectors=0: legacy interrupts, the same rings.
# shellcheck source=natlib.sh
. "$(dirname "$0")/natlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
need_nat_caps cpio gzip setpriv modprobe curl

UPSTREAM_NAME=www.vhost.test
UPSTREAM_ADDR=10.77.1.10
HTTP_PORT=18090          # servers.py http on HOST_NS [::] (GET files, POST sha256)
FWD_PORT=18091           # netstackd --forward tcp:127.0.0.1:FWD_PORT:8080
BIG_MB=${VHOST_TEST_MB:-100}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
# shellcheck source=qemu/guest.sh
. "$E2E_DIR/qemu/guest.sh"
QEMU_MB=512
QEMU_EXTRA=(-object "memory-backend-memfd,id=mem,size=${QEMU_MB}M,share=on" -numa node,memdev=mem)
QEMU_APPEND="nsupmb=$BIG_MB"

[ -x "$NETSTACKD" ] || die "no netstackd at $NETSTACKD"
GUEST_TOKEN="netstack-vhost-guest-$$-$RANDOM"
T0=$(date +%s)
build_initrd
nat_topology

run_as_nobody

mkdir -p "$WORK/www"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WORK/www/file"
FILE_SHA=$(sha256sum "$WORK/www/file" | cut -d ' ' -f 1)
host_server http http --bind :: --port "$HTTP_PORT" --dir "$WORK/www"

VU_SOCK=$SOCKDIR/ns.vhost
API_SOCK=$SOCKDIR/api.sock      # natlib.sh's api talks to it
# start_vhost_nat ARGS... - netstackd on $VU_SOCK with its control socket.
start_vhost_nat() {
    rm -f "$API_SOCK"
    launch_nat --listen-vhost-user "$VU_SOCK" --api-socket "$API_SOCK" \
        --dns-name "$UPSTREAM_NAME=$UPSTREAM_ADDR" --forward "tcp:127.0.0.1:$FWD_PORT:8080" "$@"
    wait_until 5 test -S "$VU_SOCK" || die "netstackd did not create $VU_SOCK: $(cat "$NAT_LOG")"
    wait_until 5 test -S "$API_SOCK" || die "no control socket: $(cat "$NAT_LOG")"
}

# boot_vhost NAME MODE - QEMU on $VU_SOCK, the device's MTU $EXPECT_MTU.
boot_vhost() {
    QEMU_DEVICE=",vectors=0,host_mtu=$EXPECT_MTU"
    boot "$1" "$2" vhost-user,id=n0,chardev=c0 -chardev "socket,id=c0,path=$VU_SOCK"
}

# full_run NAME - a guest in full mode: every transfer, the forward, the checks.
full_run() {
    local t got
    rm -f "$WORK/www/release"
    t=$(date +%s)
    boot_vhost "$1" full
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
    expect_eq "DNS $UPSTREAM_NAME (--dns-name)" "$(result "dns $UPSTREAM_NAME")" "dns $UPSTREAM_NAME $UPSTREAM_ADDR"
    expect_eq "$BIG_MB MB download through $ALIAS" "$(result 'http ')" \
        "http sha256 $FILE_SHA size $((BIG_MB * 1024 * 1024))"
    check "$BIG_MB MB upload through $ALIAS ($(result 'upload '))" \
        awk -v n=$((BIG_MB * 1024 * 1024)) '$1 == "upload" && $2 == "sha256" && $3 == $7 && $5 == n { ok = 1 } END { exit !ok }' \
        <<<"$(result 'upload ')"
    check "SLAAC address in fd65:65::/64 ($(result 'slaac '))" grep -q '^slaac fd650065' <<<"$(result 'slaac ')"
    expect_eq "ping -6 the gateway" "$(result 'ping6 ')" "ping6 ok"
    expect_eq "download over IPv6 through fd65:65::fe" "$(result 'http6 ')" \
        "http6 sha256 $FILE_SHA size $((BIG_MB * 1024 * 1024))"
    expect_eq "the guest saw the release" "$(result 'httpd released')" "httpd released"
}

# basic_run NAME - a guest in basic mode: lease, ping, DNS.
basic_run() {
    local t
    t=$(date +%s)
    boot_vhost "$1" basic
    finish_boot "$t"
    check_basic
}

# 1. MTU 65520.
start_vhost_nat
expect_eq "netstackd runs as" "$(ps -o user= -p "$DAEMON_PID" | tr -d ' ')" nobody
FDS0=$(daemon_fds)
full_run full-65520
check "the upload crossed the transmit ring (bytes_in $(api_stat bytes_in))" \
    test "$(api_stat bytes_in)" -gt $((BIG_MB * 1024 * 1024))
expect_eq "no ring broken" "$(api_stat drop_transport_ring)" 0

# 2. Reboot on the same socket.
check "netstackd still running after the guest powered off" daemon_alive
basic_run reboot

# 3. QEMU killed while the guest is up; then a new QEMU.
t=$(date +%s)
boot_vhost killed basic
wait_result '^lease ' "$BOOT_TIMEOUT" || echo "FAIL: no lease before the kill"
kill -KILL "$QEMU_PID"
wait "$QEMU_PID" 2>/dev/null || true
QEMU_PID=
check "netstackd saw the front-end go" wait_line "$NAT_LOG" 'front-end disconnected' 10
check "netstackd still running after QEMU was killed" daemon_alive
check "the guest's memory is unmapped" \
    wait_until 5 eval '! grep -q memfd: "/proc/$DAEMON_PID/maps"'
check "netstackd's descriptors back to $FDS0 (now $(daemon_fds))" \
    wait_until 10 eval '[ "$(daemon_fds)" -eq "$FDS0" ]'
basic_run after-kill
stop_nat

# 4. A new netstackd under a running QEMU (-chardev ...,reconnect=1).
start_vhost_nat
t=$(date +%s)
rm -f "$WORK/www/again"
QEMU_DEVICE=",vectors=0,host_mtu=$EXPECT_MTU"
boot reconnect reconnect vhost-user,id=n0,chardev=c0 -chardev "socket,id=c0,path=$VU_SOCK,reconnect=1"
wait_result '^dns host.internal' "$BOOT_TIMEOUT" || echo "FAIL: the guest did not come up before the restart"
stop_nat
check "QEMU still running without its back-end" kill -0 "$QEMU_PID"
start_vhost_nat
touch "$WORK/www/again"
finish_boot "$t"
check_basic
check "the guest fetched through the new netstackd ($(result 'again '))" grep -q '^again ok' <<<"$(result 'again ')"
expect_eq "ping after the restart" "$(result 'reping')" "reping ok"
check "the new netstackd saw the guest's bytes (bytes_in $(api_stat bytes_in))" test "$(api_stat bytes_in)" -gt 0
stop_nat

# 5. MTU 1500, offloads both ways.
EXPECT_MTU=1500
start_vhost_nat --mtu 1500
full_run full-1500
check "super-frames from the guest at MTU 1500 (gso_frames_in $(api_stat gso_frames_in))" \
    test "$(api_stat gso_frames_in)" -gt 0
check "super-frames to the guest at MTU 1500 (tso_frames_out $(api_stat tso_frames_out))" \
    test "$(api_stat tso_frames_out)" -gt 0
expect_eq "no ring broken" "$(api_stat drop_transport_ring)" 0
stop_nat

echo "--- total $(( $(date +%s) - T0 )) s"
finish
