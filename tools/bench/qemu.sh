# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034  # QEMU_WHY, QEMU_PID: read by bench.sh
# qemu.sh - the QEMU part of tools/bench.sh (sourced by it): a Debian kernel
# with a busybox initramfs (built as tests/e2e/test_qemu.sh builds its own,
# with tests/e2e/qemu/initrd.sh) boots under TCG and downloads one file from
# HOST_NS's 127.0.0.1 through the
# host-loopback alias, and uploads one, through each QEMU netdev the
# benchmark compares (--listen-qemu, --listen-vhost-user, passt, QEMU's own
# libslirp). Uses natlib.sh's WORK, E2E_DIR and BG_PIDS.

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

# qemu_rate RESULTS KIND BYTES LIMIT - "KIND BYTES CS" of the guest's RESULT
# lines as MB/s, or "- reason".
qemu_rate() {
    local res=$1 kind=$2 bytes=$3 limit=$4 got cs
    got=$(sed -n "s/^$kind \([0-9]*\) \([0-9]*\)$/\1/p" <<<"$res")
    cs=$(sed -n "s/^$kind \([0-9]*\) \([0-9]*\)$/\2/p" <<<"$res")
    if [ -z "$got" ]; then
        echo "- guest: $(grep -a "^$kind" <<<"$res" | head -c 200)"
    elif [ "$got" -ne "$bytes" ]; then
        echo "- guest moved $got of $bytes bytes within ${limit} s"
    else
        awk -v b="$got" -v cs="$cs" 'BEGIN { if (cs > 0) printf "%.1f\n", b / 1e6 / (cs / 100); else print "- too fast to time" }'
    fi
}

QEMU_ENV=()     # NAME=VALUE pairs QEMU runs with (qemu_stack sets them)

# qemu_transfer URL BYTES UPURL UPBYTES TIMEOUT QEMU_ARGS... - boot the guest
# in HOST_NS (with $QEMU_ENV) and QEMU_ARGS (its -netdev with id n0 and its -device), let it
# fetch URL and, if UPURL is set, POST UPBYTES there; prints "DL UL" (MB/s
# each, or "-" with the reason in $WORK/qemu-why). The guest has 512 MiB in a
# shared memfd (vhost-user needs it; the other netdevs do not mind), the same
# for every column. Bounded by 2 * TIMEOUT + 60 s.
qemu_transfer() {
    local url=$1 bytes=$2 upurl=$3 upbytes=$4 limit=$5 serial=$WORK/serial-bench.log res dl ul
    shift 5
    : >"$serial"
    ip netns exec "$HOST_NS" env "${QEMU_ENV[@]}" timeout -s KILL "$((2 * limit + 60))" "$QEMU" -machine q35 -accel tcg \
        -m 512 -object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \
        -nodefaults -display none -monitor none -serial "file:$serial" -no-reboot \
        -kernel "/boot/vmlinuz-$QEMU_KVER" -initrd "$WORK/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 nsurl=$url nstimeout=$limit nsupurl=$upurl nsupmib=$((upbytes / 1048576))" \
        "$@" >"$WORK/qemu.out" 2>&1 &
    QEMU_PID=$!
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
    res=$(tr -d '\r' <"$serial" | grep -a '^RESULT ' | sed 's/^RESULT //')
    dl=$(qemu_rate "$res" dl "$bytes" "$limit")
    ul=-
    [ -n "$upurl" ] && ul=$(qemu_rate "$res" ul "$upbytes" "$limit")
    : >"$WORK/qemu-why"
    case $dl in -*) echo "download ${dl#- }$(tail -c 200 "$WORK/qemu.out" | tr '\n' ' ')" >>"$WORK/qemu-why"; dl=- ;; esac
    case $ul in -?*) echo "upload ${ul#- }" >>"$WORK/qemu-why"; ul=- ;; esac
    echo "$dl $ul"
}
