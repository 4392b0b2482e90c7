# shellcheck shell=bash disable=SC2034  # QEMU_WHY, QEMU_PID: read by bench.sh
# qemu.sh - the QEMU part of tools/bench.sh (sourced by it): a Debian kernel
# with a busybox initramfs (the minimal logic of tests/e2e/test_qemu.sh's
# build_initrd, copied so that file stays untouched) boots under TCG against
# netstackd --listen-qemu and downloads one file from HOST_NS's 127.0.0.1
# through the host-loopback alias. Uses natlib.sh's WORK, E2E_DIR and BG_PIDS.

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
    local root=$WORK/initrd bb a lib line mod name
    bb=$(command -v busybox)
    mkdir -p "$root"/{bin,proc,sys,dev,tmp,modules}
    cp "$bb" "$root/bin/busybox"
    # A dynamically linked busybox brings its libraries.
    if ldd "$bb" >/dev/null 2>&1; then
        for lib in $(ldd "$bb" | grep -o '/[^ ]*'); do
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        done
    fi
    for a in $("$bb" --list); do
        [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
    done
    : >"$root/modules.list"
    # modprobe --show-depends lists the modules in load order.
    while read -r line; do
        case "$line" in
        insmod\ *)
            mod=$(awk '{print $2}' <<<"$line")
            name=$(basename "$mod")
            case "$name" in
            *.ko.xz) name=${name%.xz}; xz -dc "$mod" >"$root/modules/$name" ;;
            *.ko.zst) name=${name%.zst}; zstd -qdc "$mod" >"$root/modules/$name" ;;
            *.ko.gz) name=${name%.gz}; gzip -dc "$mod" >"$root/modules/$name" ;;
            *) cp "$mod" "$root/modules/$name" ;;
            esac
            grep -qx "$name" "$root/modules.list" || echo "$name" >>"$root/modules.list"
            ;;
        esac
    done < <(for m in virtio_pci virtio_net; do modprobe -S "$QEMU_KVER" --show-depends "$m" 2>&1 || true; done)
    install -m 755 "$BENCH_DIR/qemu-init" "$root/init"
    install -m 755 "$E2E_DIR/qemu/udhcpc.sh" "$root/udhcpc.sh"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.gz"
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
