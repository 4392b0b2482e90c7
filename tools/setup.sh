#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# setup.sh - install what netstack builds and tests with, and fetch lwIP's source.
#
# Everything comes from Debian's archive: packages through apt-get, and lwIP as
# Debian's `lwip` source package, fetched with apt's ordinary client but with
# private apt state (a deb-src list in our own folder), so the system's apt
# configuration is never touched. The tarball is checked against a pinned sha256
# and unpacked into third_party/ (git-ignored; lwIP's source is never committed).
#
# Usage: tools/setup.sh [--no-packages]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LWIP_VERSION=2.1.3
LWIP_TARBALL=lwip_${LWIP_VERSION}+dfsg1.orig.tar.xz
LWIP_SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24
LWIP_DEST=$ROOT/third_party/lwip-$LWIP_VERSION

# Build: compiler, cmake, cmocka (unit tests), ldns (DNS messages), jansson,
# libseccomp (netstackd's sandbox), libpcap (captures: written and read with
# libpcap's own pcap code), scdoc (the man pages), libslirp-dev (only the
# header of libslirp's API, which slirp/ implements).
# Tests: the real guest-side clients and tools (busybox udhcpc, ISC dhclient,
# ping, arping, curl, dig; rdisc6 from ndisc6 to read router advertisements
# the way a guest receives them), dnsmasq (the binary only, no system service) as a
# test upstream DNS server, iproute2 for namespaces and ss, procps for sysctl,
# python3 for the transport tests and the NAT tests' servers and clients,
# clang for libFuzzer, valgrind to run the unit suites under memcheck,
# cppcheck for static analysis; for the QEMU test's virtual machine, QEMU
# (qemu-system-x86), Debian's kernel (linux-image-amd64: /boot/vmlinuz-* and
# the virtio-net modules) and cpio to pack its busybox initramfs; tshark to
# read back every capture the stack writes; slirp4netns and QEMU's own
# libslirp0 run on slirp/'s libslirp.so.0 in its tests.
# (tools/bench.sh installs its own: iperf3, wrk, nginx.)
PACKAGES=(build-essential cmake pkg-config libcmocka-dev libldns-dev libjansson-dev libseccomp-dev libpcap-dev libslirp-dev scdoc
          clang libclang-rt-14-dev xz-utils ca-certificates iproute2 busybox udhcpc isc-dhcp-client
          iputils-ping iputils-arping ndisc6 curl procps python3 valgrind cppcheck
          dnsmasq-base bind9-dnsutils qemu-system-x86 linux-image-amd64 cpio tshark slirp4netns)

die() { echo "setup: $*" >&2; exit 1; }

install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}; run as root to install them"
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# find_deb_entry - print "URI SUITE KEYRING" of the system's main Debian entry.
find_deb_entry() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/{u=$2} /^Suites:/{s=$2} /^Signed-By:/{k=$2}
             /^$/{ if (u ~ /debian\/?$/ && s !~ /security/) { print u, s, k; exit } u=s=k="" }
             END{ if (u ~ /debian\/?$/ && s !~ /security/) print u, s, k }' "$f" | head -1
    done | head -1
    if [ -f /etc/apt/sources.list ]; then
        awk '$1=="deb" && $0 !~ /security/ { print $2, $3, ""; exit }' /etc/apt/sources.list
    fi
}

fetch_lwip() {
    if [ -f "$LWIP_DEST/src/Filelists.cmake" ]; then
        return 0
    fi
    local work entry uri suite key
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    entry=$(find_deb_entry | head -1)
    [ -n "$entry" ] || die "no Debian entry found under /etc/apt to derive a deb-src line from"
    read -r uri suite key <<<"$entry"
    mkdir -p "$work/apt/lists/partial" "$work/dl"
    {
        echo "Types: deb-src"
        echo "URIs: $uri"
        echo "Suites: $suite"
        echo "Components: main"
        [ -n "$key" ] && echo "Signed-By: $key"
    } >"$work/apt/netstack-src.sources"
    local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt"
                -o "Dir::State::Lists=$work/apt/lists" -o APT::Sandbox::User=root)
    echo "setup: fetching Debian's lwip source package ($uri $suite)"
    apt-get "${opts[@]}" -qq update >/dev/null || die "apt-get update of the private deb-src list failed"
    # Any Debian revision will do: the upstream tarball is what is pinned.
    (cd "$work/dl" && apt-get "${opts[@]}" -qq source --download-only lwip >/dev/null) ||
        die "apt-get source lwip failed"
    [ -f "$work/dl/$LWIP_TARBALL" ] || die "$LWIP_TARBALL not among the downloaded files: $(ls "$work/dl")"
    echo "$LWIP_SHA256  $work/dl/$LWIP_TARBALL" | sha256sum -c --quiet - ||
        die "$LWIP_TARBALL does not match the pinned sha256"
    mkdir -p "$ROOT/third_party"
    tar -C "$work" -xf "$work/dl/$LWIP_TARBALL"
    rm -rf "$LWIP_DEST"
    mv "$work/lwip-$LWIP_VERSION" "$LWIP_DEST"
    echo "setup: lwIP $LWIP_VERSION unpacked into $LWIP_DEST"
}

[ "${1:-}" = "--no-packages" ] || install_packages
fetch_lwip
