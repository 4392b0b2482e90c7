#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_embed.sh - libnetstack as an embedder gets it (natlib.sh topology, the
# real guest kernel in GUEST_NS):
#
# 1. `cmake --install` of the build into a prefix: the libraries, headers,
#    pkg-config and find_package() files are there, and libnetstack.so and
#    libnetstack.a define no global symbol but netstack_*.
# 2. examples/embed.c built against that prefix only: with pkg-config, with
#    find_package(netstack) (examples/CMakeLists.txt), and with the static
#    archive and `pkg-config --static`.
# 3. Each build serves a guest in HOST_NS, joined to it by tapcable.py: a DHCP
#    lease, a ping of the gateway, a download from 127.0.0.1 of HOST_NS through
#    the host-loopback alias and, through the forward the example adds, a
#    host client served by the guest; sha256 checked both ways. The CMake build
#    also sees its guest leave and come back. SIGTERM ends each one cleanly.
. "$(dirname "$0")/natlib.sh"
# The sanitizer build's library carries libFuzzer's coverage instrumentation,
# whose runtime only a fuzz harness links: an ordinary embedder cannot link it.
# The release build's run (e2e/test_embed) is the embedder's view.
[ -z "${NETSTACK_SANITIZED:-}" ] ||
    skip "the fuzzing build's libnetstack is instrumented for libFuzzer; e2e/test_embed covers the installed library"
need_nat_caps curl
for t in cmake cc nm readelf pkg-config; do
    command -v "$t" >/dev/null || skip "$t is not installed"
done
BUILD=${NETSTACK_BUILD:-$ROOT/build}
[ -f "$BUILD/CMakeCache.txt" ] || { echo "FAIL: no CMake build at $BUILD (set NETSTACK_BUILD)"; exit 1; }

EXAMPLE=$ROOT/examples
PREFIX=$WORK/prefix
LIBDIR=$PREFIX/$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
FWD_PORT=8080
HTTP_PORT=8000
HELLO="hello from the guest, through the example's forward"

# Build logs too are shown when the test fails; nat_cleanup does the rest.
embed_cleanup() {
    local rc=$? f
    set +e
    if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
        for f in "$WORK"/embed-*.log "$WORK"/build-*.log "$WORK"/install.log; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f") (last 40 lines):"
            tail -n 40 "$f"
        done
    fi
    (exit "$rc")    # nat_cleanup takes the test's status from $?
    nat_cleanup
}
trap embed_cleanup EXIT

log "1. cmake --install into $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 || die "cmake --install failed"
VERSION=$(sed -n 's/^#define NETSTACK_VERSION_STRING "\(.*\)"/\1/p' "$PREFIX/include/netstack_version.h")
for f in "$LIBDIR/libnetstack.so" "$LIBDIR/libnetstack.so.${VERSION%%.*}" "$LIBDIR/libnetstack.so.$VERSION" \
    "$LIBDIR/libnetstack.a" "$PREFIX/include/netstack.h" "$PREFIX/include/netstack_version.h" \
    "$LIBDIR/pkgconfig/netstack.pc" "$LIBDIR/cmake/netstack/netstackConfig.cmake" \
    "$PREFIX/bin/netstackd" "$PREFIX/bin/netstack-pcap"; do
    check "installed ${f#"$PREFIX"/}" test -e "$f"
done

# only_netstack WHAT NAMES - NAMES (one a line) are all netstack_*; else list the others.
only_netstack() {
    local others n
    n=$(grep -c '^netstack_' <<<"$2" || true)
    others=$(grep -v '^netstack_' <<<"$2" || true)
    if [ "$n" -lt 20 ] || [ -n "$others" ]; then
        echo "FAIL: $1: $n netstack_* symbols, and these others:"
        sed 's/^/    /' <<<"$others"
        FAILED=1
    else
        echo "ok: $1: only netstack_* ($n symbols)"
    fi
}
# nm -D names versioned symbols netstack_new@@NETSTACK_0.1; the node itself is an A symbol.
only_netstack "libnetstack.so exports" "$(nm -D --defined-only "$LIBDIR/libnetstack.so" |
    awk '{print $NF}' | sed 's/@.*//' | grep -v '^NETSTACK_[0-9.]*$')"
only_netstack "libnetstack.a's global symbols" "$(nm -g --defined-only "$LIBDIR/libnetstack.a" |
    awk 'NF == 3 {print $3}')"

log "2. examples/embed.c against the installed package"
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
expect_eq "netstack.pc's prefix is where it was installed" \
    "$(realpath -m "$(pkg-config --variable=prefix netstack)")" "$PREFIX"
# shellcheck disable=SC2046  # pkg-config's flags are words
cc -Wall -Wextra -Werror -o "$WORK/embed-pc" "$EXAMPLE/embed.c" $(pkg-config --cflags --libs netstack) \
    -Wl,-rpath,"$LIBDIR" >"$WORK/build-pc.log" 2>&1 || die "pkg-config build failed"
echo "ok: built with pkg-config: $(pkg-config --cflags --libs netstack)"
{ cmake -S "$EXAMPLE" -B "$WORK/ex" -DCMAKE_PREFIX_PATH="$PREFIX" && cmake --build "$WORK/ex"; } \
    >"$WORK/build-cmake.log" 2>&1 || die "CMake build failed"
{ cmake -S "$EXAMPLE" -B "$WORK/ex-static" -DCMAKE_PREFIX_PATH="$PREFIX" -DEMBED_STATIC=ON &&
    cmake --build "$WORK/ex-static"; } >"$WORK/build-cmake-static.log" 2>&1 ||
    die "CMake build with COMPONENTS static failed"
check "find_package(netstack COMPONENTS static) links no libnetstack.so" \
    eval '! readelf -d "$WORK/ex-static/embed" | grep -q libnetstack'
expect_eq "find_package(netstack) found" "$(sed -n 's/^netstack_DIR:PATH=//p' "$WORK/ex/CMakeCache.txt")" \
    "$LIBDIR/cmake/netstack"
# The archive satisfies every netstack_* reference before -lnetstack is reached;
# --as-needed (the default of some toolchains only) keeps that -lnetstack from
# adding libnetstack.so as a dependency anyway.
# link_static LIBS... - embed-static from the archive and LIBS.
link_static() {
    # shellcheck disable=SC2046
    cc -o "$WORK/embed-static" "$EXAMPLE/embed.c" $(pkg-config --cflags netstack) "$LIBDIR/libnetstack.a" \
        -Wl,--as-needed "$@" >"$WORK/build-static.log" 2>&1
}
read -ra static_libs <<<"$(pkg-config --static --libs netstack)"
link_static "${static_libs[@]}" || die "static build with pkg-config --static failed"
echo "ok: built statically with: ${static_libs[*]}"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
check "embed-pc needs libnetstack.so.${VERSION%%.*} ($(needed "$WORK/embed-pc"))" \
    grep -qw "libnetstack.so.${VERSION%%.*}" <<<"$(needed "$WORK/embed-pc")"
check "the CMake build needs libnetstack.so.${VERSION%%.*} ($(needed "$WORK/ex/embed"))" \
    grep -qw "libnetstack.so.${VERSION%%.*}" <<<"$(needed "$WORK/ex/embed")"
check "... and finds it through its RUNPATH" grep -q "$LIBDIR" <<<"$(readelf -d "$WORK/ex/embed")"
no_libnetstack() { ! grep -q libnetstack <<<"$(needed "$1")"; }
check "embed-static needs no libnetstack.so ($(needed "$WORK/embed-static"))" no_libnetstack "$WORK/embed-static"

log "3. each build serves a guest"
nat_topology
mkdir "$WORK/www" "$WORK/guestwww"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/www/file.bin"
FILE_SUM=$(sha256sum <"$WORK/www/file.bin" | cut -d' ' -f1)
cp "$WORK/www/file.bin" "$WORK/guestwww/file.bin"
echo "$HELLO" >"$WORK/guestwww/hello.txt"
host_server http http --bind 127.0.0.1 --port "$HTTP_PORT" --dir "$WORK/www"
start_server "$GUEST_NS" guestweb http --bind 0.0.0.0 --port 80 --dir "$WORK/guestwww"

# serve NAME BINARY [replug] - BINARY as the embedder in HOST_NS, with a guest
# on its socket; replug: the guest also leaves and connects again.
serve() {
    local name=$1 bin=$2 elog=$WORK/embed-$1.log rc=0 t0
    t0=$(now_ms)
    echo "--- $name: $bin"
    QEMU_SOCK=$WORK/$name.sock
    # $! is the embedder's own pid: ip netns exec execs it.
    ip netns exec "$HOST_NS" env -u LD_LIBRARY_PATH "$bin" "$QEMU_SOCK" "tcp:127.0.0.1:$FWD_PORT:80" \
        >"$elog" 2>&1 &
    DAEMON_PID=$!
    wait_line "$elog" '^listening on' 5 || die "$name did not start: $(cat "$elog")"
    check "$name reports the forward" grep -q "^forward added: tcp:127.0.0.1:$FWD_PORT:80" "$elog"
    start_cable
    echo "ok: $name: DHCP lease $GUEST_IP"
    check "$name reports the guest" wait_line "$elog" '^guest connected' 2
    if [ "${3:-}" = replug ]; then
        kill_cable
        check "$name reports the guest gone" wait_line "$elog" '^guest gone' 3
        start_cable
        echo "ok: $name: the guest came back and got its lease again"
    fi
    check "$name: the guest pings the gateway" gping -c 2 -i 0.2 -W 2 "$GW"
    # Each transfer takes well under a second: short bounds keep a broken build's run short.
    gcurl --max-time 10 -o "$WORK/got.bin" "http://$ALIAS:$HTTP_PORT/file.bin" ||
        echo "FAIL: $name: download failed"
    expect_eq "$name: sha256 of 8 MiB from the host's 127.0.0.1 through $ALIAS" \
        "$(sha256sum <"$WORK/got.bin" | cut -d' ' -f1)" "$FILE_SUM"
    expect_eq "$name: a host client through the forward" \
        "$(in_host timeout 10 curl -sS --noproxy '*' --max-time 5 "http://127.0.0.1:$FWD_PORT/hello.txt")" "$HELLO"
    expect_eq "$name: sha256 of 8 MiB from the guest through the forward" \
        "$(in_host timeout 15 curl -sS --noproxy '*' --max-time 10 "http://127.0.0.1:$FWD_PORT/file.bin" |
            sha256sum | cut -d' ' -f1)" "$FILE_SUM"
    rm -f "$WORK/got.bin"
    kill -TERM "$DAEMON_PID"
    wait_until 5 eval '! kill -0 "$DAEMON_PID" 2>/dev/null' || kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" || rc=$?
    DAEMON_PID=
    expect_eq "$name: exit status after SIGTERM" "$rc" 0
    check "$name: its socket is removed" test ! -e "$QEMU_SOCK"
    kill_cable
    echo "    $name: $(( $(now_ms) - t0 )) ms"
}
serve cmake "$WORK/ex/embed" replug
serve pkg-config "$WORK/embed-pc"
serve static "$WORK/embed-static"
echo "elapsed: $SECONDS s"
finish
