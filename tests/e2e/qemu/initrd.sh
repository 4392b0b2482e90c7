# SPDX-License-Identifier: BSD-3-Clause
# initrd.sh - the common part of a QEMU guest's initramfs, sourced by
# tests/e2e/test_qemu.sh and tools/bench/qemu.sh: busybox (with its libraries
# when it is dynamically linked) and its applets, and the virtio-net modules
# of kernel KVER in load order, listed in modules.list for the guest's init.

# qemu_initrd_base ROOT KVER BUSYBOX - fill ROOT; the caller adds its /init.
qemu_initrd_base() {
    local root=$1 kver=$2 bb=$3 a lib line mod name
    mkdir -p "$root"/{bin,proc,sys,dev,tmp,modules}
    cp "$bb" "$root/bin/busybox"
    # A dynamically linked busybox (Debian's busybox rather than busybox-static)
    # brings its libraries.
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
    # modprobe --show-depends lists the modules in load order ("builtin X"
    # for those compiled into the kernel).
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
    done < <(for m in virtio_pci virtio_net; do modprobe -S "$kver" --show-depends "$m" 2>&1 || true; done)
}

# qemu_initrd_pack ROOT OUT - ROOT as a gzipped newc cpio archive at OUT.
qemu_initrd_pack() {
    (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}
