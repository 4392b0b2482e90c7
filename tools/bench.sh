#!/bin/bash
# bench.sh - throughput and connection rate of a guest through netstackd,
# next to the same measurements on plain loopback (no netstack).
#
# Topology (tests/e2e/natlib.sh): netstackd runs in a throw-away "host"
# network namespace, the guest is another namespace whose only interface is
# the tap netstackd serves. The servers listen on the host namespace's
# 127.0.0.1 and the guest reaches them through the host-loopback alias
# 192.168.65.254. Nothing is sent to any address outside these namespaces.
#
#   iperf3   guest -> host and host -> guest (-R), at MTU 1500 and 65520
#   wrk      against nginx (a generated config: `return 200`), keep-alive
#            requests/s, and new connections/s ("Connection: close")
#   reference: the same iperf3 and wrk inside the host namespace on 127.0.0.1
#
# Needs root (namespaces, tap). Installs iperf3, wrk and nginx with apt-get
# if they are missing. Builds build/netstackd if there is none.
#
# Usage: tools/bench.sh [--time SECONDS] [--connections N] [--threads N]
#        (NETSTACKD=/path/to/netstackd to measure another build)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=10
CONNS=50
THREADS=2
while [ $# -gt 0 ]; do
    case $1 in
    --time) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
case $DURATION$CONNS$THREADS in *[!0-9]*) echo "bench: numbers expected" >&2; exit 2 ;; esac

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces, tap)" >&2; exit 1; }

# install_missing - apt-get install the tools that are not there yet.
install_missing() {
    local want=() pkg
    command -v iperf3 >/dev/null || want+=(iperf3)
    command -v wrk >/dev/null || want+=(wrk)
    if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ]; then
        if apt-cache policy nginx-light 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            want+=(nginx-light)
        else
            want+=(nginx)
        fi
    fi
    [ ${#want[@]} -eq 0 ] && return 0
    for pkg in "${want[@]}"; do
        if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            echo "bench: updating the package lists to find $pkg"
            apt-get update -qq
            break
        fi
    done
    echo "bench: installing ${want[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
}
install_missing
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ -z "${NETSTACKD:-}" ]; then
    NETSTACKD=$ROOT/build/netstackd
    if [ ! -x "$NETSTACKD" ]; then
        echo "bench: building $NETSTACKD"
        cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$ROOT/build" -j"$(nproc)" --target netstackd >/dev/null
    fi
fi
export NETSTACKD
NAT_LOG_LEVEL=warn
# shellcheck source=../tests/e2e/natlib.sh
. "$ROOT/tests/e2e/natlib.sh"
need_nat_caps iperf3 wrk
nat_topology

IPERF_PORT=5201
HTTP_PORT=8081

# nginx in the host namespace, everything it writes in $WORK.
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$HTTP_PORT backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
EOF
ip netns exec "$HOST_NS" "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" \
    -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
BG_PIDS+=($!)
ip netns exec "$HOST_NS" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >"$WORK/iperf3-server.log" 2>&1 &
BG_PIDS+=($!)
wait_port "$HOST_NS" tcp "$HTTP_PORT" 10 || die "nginx did not start: $(cat "$WORK/nginx/error.log")"
wait_port "$HOST_NS" tcp "$IPERF_PORT" 10 || die "iperf3 -s did not start"

# iperf_gbps NS TARGET [-R] - one iperf3 run; prints Gbit/s received, or "-".
iperf_gbps() {
    local ns=$1 target=$2
    shift 2
    ip netns exec "$ns" timeout $((DURATION + 30)) iperf3 -c "$target" -p "$IPERF_PORT" \
        -t "$DURATION" -J "$@" >"$WORK/iperf.json" 2>&1 || true
    "$PYTHON" - "$WORK/iperf.json" <<'EOF' || echo "-"
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    sys.exit(1)
print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
EOF
}

# wrk_rps NS URL [wrk args] - requests/s of one wrk run, or "-".
wrk_rps() {
    local ns=$1 url=$2
    shift 2
    ip netns exec "$ns" timeout $((DURATION + 30)) wrk -t "$THREADS" -c "$CONNS" \
        -d "${DURATION}s" "$@" "$url" >"$WORK/wrk.out" 2>&1 || true
    local rps
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk.out")
    if [ -n "$rps" ]; then printf '%.0f\n' "$rps"; else echo "-"; fi
    if grep -q 'Socket errors' "$WORK/wrk.out"; then
        grep 'Socket errors' "$WORK/wrk.out" | sed 's/^ */    wrk: /' >&2
    fi
}

declare -A R
echo "bench: $DURATION s per run; reference on loopback in the host namespace"
R[ref_up]=$(iperf_gbps "$HOST_NS" 127.0.0.1)
R[ref_down]=$(iperf_gbps "$HOST_NS" 127.0.0.1 -R)
R[ref_ka]=$(wrk_rps "$HOST_NS" "http://127.0.0.1:$HTTP_PORT/")
R[ref_cc]=$(wrk_rps "$HOST_NS" "http://127.0.0.1:$HTTP_PORT/" -H "Connection: close")

for mtu in 1500 65520; do
    echo "bench: through netstackd at MTU $mtu"
    start_nat --mtu "$mtu"
    R[up_$mtu]=$(iperf_gbps "$GUEST_NS" "$ALIAS")
    R[down_$mtu]=$(iperf_gbps "$GUEST_NS" "$ALIAS" -R)
    if [ "$mtu" = 65520 ]; then
        R[ka]=$(wrk_rps "$GUEST_NS" "http://$ALIAS:$HTTP_PORT/")
        R[cc]=$(wrk_rps "$GUEST_NS" "http://$ALIAS:$HTTP_PORT/" -H "Connection: close")
    fi
    daemon_alive || echo "bench: netstackd died during the MTU $mtu runs"
    stop_nat >/dev/null
done

# ratio A B - A as a percentage of B.
ratio() {
    case "$1$2" in *-*|"") echo "-"; return ;; esac
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%\n", 100 * a / b; else print "-" }'
}

echo
echo "netstack benchmark ($(nproc) CPUs, $DURATION s per run; wrk: $THREADS threads, $CONNS connections)"
printf '%-40s %14s %14s %7s\n' "" "netstackd" "loopback" "ratio"
row() { printf '%-40s %14s %14s %7s\n' "$1" "$2 $4" "$3 $4" "$(ratio "$2" "$3")"; }
row "TCP guest -> host, MTU 1500" "${R[up_1500]}" "${R[ref_up]}" "Gbit/s"
row "TCP host -> guest, MTU 1500" "${R[down_1500]}" "${R[ref_down]}" "Gbit/s"
row "TCP guest -> host, MTU 65520" "${R[up_65520]}" "${R[ref_up]}" "Gbit/s"
row "TCP host -> guest, MTU 65520" "${R[down_65520]}" "${R[ref_down]}" "Gbit/s"
row "HTTP keep-alive (MTU 65520)" "${R[ka]}" "${R[ref_ka]}" "req/s"
row "HTTP new connection each (MTU 65520)" "${R[cc]}" "${R[ref_cc]}" "conn/s"
