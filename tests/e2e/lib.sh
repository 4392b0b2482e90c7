# SPDX-License-Identifier: BSD-3-Clause
# lib.sh - shared by the end-to-end tests: a throw-away guest network namespace
# whose only interface is a tap device served by netstackd.
#
# The guest is the real Linux kernel's network stack inside that namespace; the
# clients (udhcpc, dhclient, ping, arping) are the real Debian binaries.
# Traffic stays inside the namespace and netstackd: no other address is used.
#
# Sourced by tests; they call need_guest_caps, start_guest [netstackd args...],
# and rely on the EXIT trap for cleanup. Exit code 77 is "skipped".

set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
NETSTACKD=${NETSTACKD:-$ROOT/build/netstackd}
GW=192.168.65.1
ALIAS=192.168.65.254
GW_MAC=5a:94:ef:e4:0c:dd
TAP=tap0
WORK=$(mktemp -d /tmp/netstack-e2e.XXXXXX)
GUEST_NS=netstack-e2e-$$
DAEMON_PID=
FAILED=0

skip() { echo "SKIP: $*"; exit 77; }
log() { echo "--- $*"; }

# check() - record one assertion: check "description" command...
check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what"
        FAILED=1
    fi
}

# expect_eq() - check "description" ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then
        echo "ok: $1 = $3"
    else
        echo "FAIL: $1: got '$2', expected '$3'"
        FAILED=1
    fi
}

need_guest_caps() {
    [ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace and a tap device"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun"
    command -v ip >/dev/null || skip "iproute2 is not installed"
    ip netns add "$GUEST_NS-probe" 2>/dev/null || skip "cannot create network namespaces here"
    ip netns del "$GUEST_NS-probe"
    [ -x "$NETSTACKD" ] || { echo "FAIL: no netstackd at $NETSTACKD"; exit 1; }
}

cleanup() {
    local rc=$?
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    ip netns pids "$GUEST_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$GUEST_NS" 2>/dev/null || true
    if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
        echo "--- netstackd log:"
        cat "$WORK/netstackd.log" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# in_guest() - run a command inside the guest namespace.
in_guest() { ip netns exec "$GUEST_NS" "$@"; }

# start_guest() - create the namespace, start netstackd on its tap, bring the link up.
# GUEST_SYSCTLS (assignments, set in the namespace before the tap exists) and
# TAP_MTU (the tap's MTU as it comes up) shape the guest.
start_guest() {
    ip netns add "$GUEST_NS"
    in_guest ip link set lo up
    # shellcheck disable=SC2086  # one word per assignment
    [ -z "${GUEST_SYSCTLS:-}" ] || in_guest sysctl -qw $GUEST_SYSCTLS
    "$NETSTACKD" --tap "$TAP" --netns "/run/netns/$GUEST_NS" --log-level debug "$@" \
        >"$WORK/netstackd.log" 2>&1 &
    DAEMON_PID=$!
    local i
    for i in $(seq 1 50); do
        in_guest ip link show "$TAP" >/dev/null 2>&1 && break
        kill -0 "$DAEMON_PID" 2>/dev/null || { echo "FAIL: netstackd exited"; exit 1; }
        sleep 0.1
    done
    in_guest ip link set "$TAP" ${TAP_MTU:+mtu "$TAP_MTU"} up
}

# guest_mac() - the guest interface's MAC.
guest_mac() { in_guest cat "/sys/class/net/$TAP/address"; }

# udhcpc_lease() - run busybox udhcpc in the guest; its script configures the
# interface and writes the received options to $WORK/udhcpc.env.
udhcpc_lease() {
    in_guest env OUT="$WORK/udhcpc.env" busybox udhcpc -i "$TAP" -f -q -n -t 5 -T 1 \
        -O mtu -O search -O domain -s "$E2E_DIR/udhcpc-script.sh" >"$WORK/udhcpc.log" 2>&1
}

# env_get() - the value of VAR in an env file: env_get FILE VAR
env_get() { [ -f "$1" ] && sed -n "s/^$2=//p" "$1" | tail -1 || true; }

finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "RESULT: FAIL"
        exit 1
    fi
    echo "RESULT: PASS"
}
