# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034  # QEMU_WHY, QEMU_PID: read by bench.sh
# qemu.sh - the QEMU part of tools/bench.sh (sourced by it): a Debian kernel
# with a busybox initramfs (built as tests/e2e/test_qemu.sh builds its own,
# with tests/e2e/qemu/initrd.sh) boots under TCG against netstackd
# --listen-qemu and downloads one file from HOST_NS's 127.0.0.1 through the
# host-loopback alias. Uses natlib.sh's WORK, E2E_DIR and BG_PIDS.

# shellcheck source=../../tests/e2e/qemu/initrd.sh
. "$E2E_DIR/qemu/initrd.sh"

QEMU=${QEMU:-qemu-system-x86_64}
QEMU_PID=
QEMU_KVER=
QEMU_WHY=

# qemu_check - sets QEMU_KVER (the newest kernel in /boot with its modules)
# and QEMU_WHY (why the QEMU figure cannot be taken here; empty if it can).
qemu_check() {
    local f v t
    QEMU_WHY=
    command -v "$QEMU" >/dev/null || { QEMU_WHY="$QEMU is not installed (qemu-system-x86)"; return; }
    for t in busybox cpio gzip modprobe; do
        command -v "$t" >/dev/null || { QEMU_WHY="$t is not installed"; return; }
    done
    for f in $(printf '%s\n' /boot/vmlinuz-* | sort -V); do
        v=${f#/boot/vmlinuz-}
        [ -r "$f" ] && [ -f "/lib/modules/$v/modules.dep" ] && QEMU_KVER=$v
    done
    [ -n "$QEMU_KVER" ] || QEMU_WHY="no readable kernel in /boot with its modules (linux-image-amd64)"
}

# qemu_build_initrd - $WORK/initrd.gz: busybox, virtio-net modules, our init.
qemu_build_initrd() {
    local root=$WORK/initrd
    qemu_initrd_base "$root" "$QEMU_KVER" "$(command -v busybox)"
    install -m 755 "$BENCH_DIR/qemu-init" "$root/init"
    install -m 755 "$E2E_DIR/qemu/udhcpc.sh" "$root/udhcpc.sh"
    qemu_initrd_pack "$root" "$WORK/initrd.gz"
}

# qemu_download NETDEV URL BYTES TIMEOUT - boot the guest in HOST_NS with
# -netdev NETDEV (id n0), let it fetch URL; prints MB/s, or "- reason".
# Bounded by TIMEOUT+60 s.
qemu_download() {
    local netdev=$1 url=$2 bytes=$3 limit=$4 serial=$WORK/serial-bench.log res got cs
    : >"$serial"
    ip netns exec "$HOST_NS" timeout -s KILL "$((limit + 60))" "$QEMU" -machine q35 -accel tcg -m 256 \
        -nodefaults -display none -monitor none -serial "file:$serial" -no-reboot \
        -kernel "/boot/vmlinuz-$QEMU_KVER" -initrd "$WORK/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 nsurl=$url nstimeout=$limit" \
        -netdev "$netdev" -device virtio-net-pci,netdev=n0 >"$WORK/qemu.out" 2>&1 &
    QEMU_PID=$!
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
    res=$(tr -d '\r' <"$serial" | grep -a '^RESULT ' | sed 's/^RESULT //')
    got=$(sed -n 's/^dl \([0-9]*\) \([0-9]*\)$/\1/p' <<<"$res")
    cs=$(sed -n 's/^dl \([0-9]*\) \([0-9]*\)$/\2/p' <<<"$res")
    if [ -z "$got" ]; then
        echo "- guest: $(tr '\n' ';' <<<"$res" | head -c 200)$(tail -c 200 "$WORK/qemu.out" | tr '\n' ' ')"
    elif [ "$got" -ne "$bytes" ]; then
        echo "- guest got $got of $bytes bytes within ${limit} s"
    else
        awk -v b="$got" -v cs="$cs" 'BEGIN { if (cs > 0) printf "%.1f\n", b / 1e6 / (cs / 100); else print "- too fast to time" }'
    fi
}
