# SPDX-License-Identifier: BSD-3-Clause
# guest.sh - the QEMU guest of the end-to-end tests, sourced by test_qemu.sh
# and test_vhost_user.sh after natlib.sh: the kernel from /boot, the
# initramfs (initrd.sh, qemu/init), booting it in the background, reading
# the RESULT lines its init prints on the serial console, and the checks
# every boot shares. The caller sets HTTP_PORT, UPSTREAM_NAME and
# GUEST_TOKEN before booting.
# shellcheck source=initrd.sh
. "$E2E_DIR/qemu/initrd.sh"
QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || skip "$QEMU is not installed (package qemu-system-x86)"
GUEST_MAC=52:54:00:12:34:56
BOOT_TIMEOUT=${BOOT_TIMEOUT:-150}
QEMU_PID=
QEMU_RUN=0
SERIAL=
QEMU_MB=256
QEMU_EXTRA=()
QEMU_DEVICE=
QEMU_APPEND=
QEMU_WRAP=()         # a command QEMU runs under, e.g. (ip netns exec NS env ...)
EXPECT_MTU=65520

qemu_cleanup() {
    local rc=$? f
    set +e
    if [ -n "$QEMU_PID" ]; then
        kill -KILL "$QEMU_PID" 2>/dev/null
        wait "$QEMU_PID" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
        for f in "$WORK"/serial-*.log "$WORK"/qemu-*.out "$WORK"/dnsmasq.log; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f"):"
            tr -d '\r' <"$f" | tail -n 80
        done
    fi
    (exit "$rc")
    nat_cleanup
}
trap qemu_cleanup EXIT

# Kernel: the newest /boot/vmlinuz-VERSION with its /lib/modules/VERSION.
KVER=
for f in $(printf '%s\n' /boot/vmlinuz-* | sort -V); do
    v=${f#/boot/vmlinuz-}
    [ -f "/lib/modules/$v/modules.dep" ] && KVER=$v
done
[ -n "$KVER" ] || skip "no kernel in /boot with its modules (package linux-image-amd64)"
VMLINUZ=/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || skip "$VMLINUZ is not readable"
BUSYBOX=${BUSYBOX:-$(command -v busybox)}

# build_initrd - $WORK/initrd.gz: busybox, the virtio-net modules, init.
build_initrd() {
    local root=$WORK/initrd
    qemu_initrd_base "$root" "$KVER" "$BUSYBOX"
    mkdir -p "$root/www"
    echo "--- kernel $KVER, modules: $(tr '\n' ' ' <"$root/modules.list")"
    cp "$E2E_DIR/qemu/init" "$root/init"
    cp "$E2E_DIR/qemu/udhcpc.sh" "$root/udhcpc.sh"
    chmod 755 "$root/init" "$root/udhcpc.sh"
    echo "$GUEST_TOKEN" >"$root/www/index.html"
    qemu_initrd_pack "$root" "$WORK/initrd.gz"
}

# boot NAME MODE NETDEV... - start QEMU in the background with -netdev NETDEV;
# its serial console goes to $WORK/serial-NAME.log ($SERIAL). $QEMU_MB of RAM,
# $QEMU_EXTRA (an array) before the netdev, $QEMU_DEVICE appended to the
# virtio-net-pci options, $QEMU_APPEND to the kernel's command line, QEMU run
# under $QEMU_WRAP (an array).
boot() {
    local name=$1 mode=$2
    shift 2
    QEMU_RUN=$((QEMU_RUN + 1))
    SERIAL=$WORK/serial-$name.log
    : >"$SERIAL"
    echo "--- boot $name: -netdev $*"
    # umask 0: the dgram client socket QEMU binds must be writable by nobody.
    (umask 0; exec "${QEMU_WRAP[@]}" timeout -s KILL "$((BOOT_TIMEOUT + 30))" "$QEMU" -machine q35 -accel tcg \
        -m "$QEMU_MB" "${QEMU_EXTRA[@]}" \
        -nodefaults -display none -monitor none -serial "file:$SERIAL" -no-reboot \
        -kernel "$VMLINUZ" -initrd "$WORK/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 nsmode=$mode nsport=$HTTP_PORT nsname=$UPSTREAM_NAME $QEMU_APPEND" \
        -netdev "$@" -device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC$QEMU_DEVICE") \
        >"$WORK/qemu-$name.out" 2>&1 &
    QEMU_PID=$!
}

# results - the guest's RESULT lines so far, without the console's CRs.
results() { tr -d '\r' <"$SERIAL" | grep -a '^RESULT ' | sed 's/^RESULT //'; }
# result WORD - the last RESULT line starting with WORD (without "RESULT ").
result() { results | grep -a "^$1" | tail -n 1; }

# wait_result REGEX SECONDS - wait for a RESULT line, or for QEMU to exit.
wait_result() {
    local tries=$(( $2 * 5 ))
    while [ "$tries" -gt 0 ]; do
        results | grep -qaE "$1" && return 0
        kill -0 "$QEMU_PID" 2>/dev/null || { results | grep -qaE "$1"; return; }
        sleep 0.2
        tries=$((tries - 1))
    done
    return 1
}

# finish_boot - wait for "done" and for QEMU to power off (killed if it does not).
finish_boot() {
    local t0=$1
    wait_result '^done' "$BOOT_TIMEOUT" || echo "FAIL: the guest did not finish within $BOOT_TIMEOUT s"
    if ! wait_until 20 eval '! kill -0 "$QEMU_PID" 2>/dev/null'; then
        echo "FAIL: QEMU did not exit after the guest powered off"
        FAILED=1
        kill -KILL "$QEMU_PID" 2>/dev/null || true
    fi
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
    echo "    guest results ($(( $(date +%s) - t0 )) s):"
    results | sed 's/^/      /'
}

# check_basic - lease 192.168.65.2 with the MTU ($EXPECT_MTU), ping, DNS for host.internal.
check_basic() {
    local lease
    lease=$(result 'lease ')
    expect_eq "lease address" "$(awk '{print $2 == "ok" ? $3 : "none"}' <<<"$lease")" "$GUEST_IP"
    expect_eq "lease MTU on eth0" "$(awk '{print $5}' <<<"$lease")" "$EXPECT_MTU"
    expect_eq "lease router" "$(awk '{print $7}' <<<"$lease")" "$GW"
    expect_eq "lease DNS server" "$(awk '{print $9}' <<<"$lease")" "$GW"
    expect_eq "guest MAC" "$(awk '{print $11}' <<<"$lease")" "$GUEST_MAC"
    expect_eq "ping the gateway" "$(result 'ping ')" "ping ok"
    expect_eq "DNS host.internal" "$(result 'dns host.internal')" "dns host.internal $ALIAS"
}


# run_as_nobody - netstackd (natlib.sh's launch_nat) as nobody with no
# capabilities, its sockets in $SOCKDIR, a folder nobody owns; $WORK must be
# reachable by nobody. Skips when nobody cannot run $NETSTACKD.
run_as_nobody() {
    chmod 755 "$WORK"
    SOCKDIR=$WORK/sock
    mkdir -p "$SOCKDIR"
    chown nobody:nogroup "$SOCKDIR"
    # shellcheck disable=SC2034  # read by natlib.sh's launch_nat
    NAT_WRAP=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all --)
    setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$NETSTACKD" ||
        skip "$NETSTACKD is not executable by nobody (build it in a folder others can read)"
}
