#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench.sh - netstackd next to the other userspace stacks (pasta, slirp4netns)
# and to plain loopback, from one run, printed as one table.
#
# Topology (tests/e2e/natlib.sh): the stacks run one at a time in a
# throw-away "host" network namespace (HOST_NS), so their host sockets are
# that namespace's; each (stack, MTU) gets a new, empty guest namespace with a
# tap the stack creates in it. The servers (iperf3 -s, nginx) listen on
# HOST_NS's 127.0.0.1 and the guest reaches them through the stack's
# host-loopback mapping:
#   netstackd    --tap tap0 --netns /run/netns/GUEST, DHCP lease; 192.168.65.254
#   pasta        --config-net --netns /run/netns/GUEST; its gateway 10.77.0.254
#                (pasta maps the gateway address to the host's loopback)
#   slirp4netns  --netns-type=path /run/netns/GUEST tap0 --configure; 10.0.2.2
#   nsd libslirp the same slirp4netns on netstack's libslirp.so.0 (slirp/),
#                through LD_LIBRARY_PATH; not a peer: netstack under their API
# Nothing is sent to any address outside these namespaces.
#
# Measured (--time seconds each):
#   TCP      iperf3, one stream, guest -> host and host -> guest (-R), MTU 1500
#            and 65520; netstackd with tap offloads and with --no-offload.
#            Each TCP cell (these, the loopback's and the idle rows') is the
#            median of --runs runs, the two directions alternating, because a
#            single run on a small shared machine moves by 20-30%; a cell
#            whose runs spread by more than 25% gets a note with all of them.
#            The other rows are one run each
#   IPv6     netstackd's two TCP directions again over IPv6 at both MTUs (the
#            guest's SLAAC address to the alias's twin fd65:65::fe, which is
#            HOST_NS's ::1), and loopback's over ::1, next to the IPv4 rows
#            (target: within 10% of them); the peers run IPv4 only here
#   at MTU 65520: HTTP keep-alive requests/s and new connections/s (wrk
#            against nginx `return 200`, the latter "Connection: close"),
#            request/response latency p50/p99 (wrk --latency, 1 connection,
#            keep-alive), UDP received rate and loss at a fixed offered rate
#            (iperf3 -u -b 1G -l 1400, guest -> host)
#   stack    peak RSS (VmHWM of the MTU 65520 process, read before stopping
#            it) and CPU seconds (utime+stime) per GB moved by the TCP runs
#   idle     at MTU 65520, after the figures above (and the peak RSS): the
#            stack's VmRSS with the guest attached and no traffic, then the
#            guest opens 10,000 TCP connections to a server on HOST_NS's
#            127.0.0.1 (tools/bench/idle.py, 256 at a time, all counted
#            established in the guest with ss and at the server) and keeps
#            them idle; VmRSS again -> RSS per idle connection (bytes; target
#            under 1 KiB); with them held, the two iperf3 streams again, as a
#            percentage of the figures without them (target: at least 90%),
#            which are the mean of the streams measured right before they
#            were opened and right after they were closed (counted back to 0
#            at the server), so a drift of the machine's load cancels. For every
#            stack (a peer that cannot hold them gets "-" and a note). The
#            stacks, server and guest client run under prlimit --nofile=N,
#            N = 65536 or the hard limit this shell may grant, if lower
#   ceiling  the same iperf3/wrk inside HOST_NS on 127.0.0.1, no stack
#   QEMU     a Debian kernel + busybox guest under TCG (software emulation,
#            no KVM) downloads a 256 MiB file from nginx on HOST_NS's
#            127.0.0.1 and uploads 64 MiB to it (MB/s, timed in the guest),
#            at MTU 65520 and 1500, through netstackd --listen-vhost-user
#            and --listen-qemu (192.168.65.254); as peers passt (pasta's
#            code) on -netdev stream and QEMU's -netdev user (libslirp,
#            10.0.2.2, MTU 1500 only)
# Ratios: netstackd against the best peer (pasta, slirp4netns; the highest
# figure, or the lowest for latency, loss, RSS and CPU/GB) and against the
# loopback ceiling, worded "N.NNx better" or "N.NNx worse".
#
# Needs root. Installs iperf3, wrk, nginx, passt (pasta) and slirp4netns with
# apt-get if missing. Builds build/netstackd if there is none.
#
# Usage: tools/bench.sh [--time SECONDS] [--runs N] [--connections N] [--threads N]
#                       [--quick] [--no-qemu] [--no-peers] [--no-idle]
#   --time S         seconds per measurement (default 10)
#   --runs N         runs per TCP cell, the median kept (default 3)
#   --connections N  wrk connections for the req/s and conn/s runs (default 50)
#   --threads N      wrk threads (default 2)
#   --quick          smoke run: 3 s per measurement and 1 run per TCP cell
#                    (unless --time/--runs), a 64 MiB QEMU download
#   --no-qemu        skip the QEMU guest
#   --no-peers       measure netstackd and loopback only
#   --no-idle        skip the 10,000 idle connections
#   NETSTACKD=/path/to/netstackd  measure another build (it is copied first)
# Progress goes to stderr, the table to stdout. Exit status 0 once the table
# is printed (missing cells are explained in its notes), 1 if netstackd gave
# no figure at all, 2 for a bad command line.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=$ROOT/tools/bench
DURATION=10
RUNS=3
RUNS_SET=0
CONNS=50
THREADS=2
QUICK=0
TIME_SET=0
WITH_QEMU=1
WITH_PEERS=1
WITH_IDLE=1
while [ $# -gt 0 ]; do
    case $1 in
    --time) DURATION=${2:-}; TIME_SET=1; shift 2 || shift ;;
    --runs) RUNS=${2:-}; RUNS_SET=1; shift 2 || shift ;;
    --connections) CONNS=${2:-}; shift 2 || shift ;;
    --threads) THREADS=${2:-}; shift 2 || shift ;;
    --quick) QUICK=1; shift ;;
    --no-qemu) WITH_QEMU=0; shift ;;
    --no-peers) WITH_PEERS=0; shift ;;
    --no-idle) WITH_IDLE=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[ "$QUICK" = 1 ] && [ "$TIME_SET" = 0 ] && DURATION=3
[ "$QUICK" = 1 ] && [ "$RUNS_SET" = 0 ] && RUNS=1
for n in "$DURATION" "$RUNS" "$CONNS" "$THREADS"; do
    case $n in ''|*[!0-9]*) echo "bench: --time, --runs, --connections and --threads take whole numbers" >&2; exit 2 ;; esac
done
if [ "$DURATION" -eq 0 ] || [ "$RUNS" -eq 0 ] || [ "$CONNS" -eq 0 ] || [ "$THREADS" -eq 0 ]; then
    echo "bench: --time, --runs, --connections and --threads must be positive" >&2
    exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces, tap)" >&2; exit 1; }

IPERF_PORT=5201
IPERF6_PORT=5202         # iperf3 -s on HOST_NS's ::1, for the IPv6 rows
ALIAS6=fd65:65::fe       # netstackd's twin of the alias: HOST_NS's ::1
HTTP_PORT=8081
UDP_RATE=1G
UDP_LEN=1400
QEMU_MIB=$([ "$QUICK" = 1 ] && echo 64 || echo 256)
QEMU_LIMIT=$([ "$QUICK" = 1 ] && echo 60 || echo 150)
QEMU_UP_MIB=64           # the guest's upload (it holds the file in RAM, and wget a copy)
PASTA_GW=10.77.0.254     # pasta's gateway, mapped to HOST_NS's 127.0.0.1
SLIRP_HOST=10.0.2.2      # slirp4netns's default host-loopback address
IDLE_N=10000             # idle connections
IDLE_PORT=5301           # tools/bench/idle.py serve, on HOST_NS's 127.0.0.1
IDLE_OPEN_LIMIT=60       # seconds to open them all
# Descriptors for the stacks, the idle server and the guest's client: 65536,
# or the hard limit if lower (without CAP_SYS_RESOURCE it cannot be raised).
IDLE_NOFILE=$(ulimit -Hn)
case $IDLE_NOFILE in unlimited|*[!0-9]*) IDLE_NOFILE=65536 ;; esac
[ "$IDLE_NOFILE" -gt 65536 ] && IDLE_NOFILE=65536
STACK_WRAP=(prlimit "--nofile=$IDLE_NOFILE:$IDLE_NOFILE" --)

# say - progress on stderr (the table goes to stdout).
say() { echo "bench: $*" >&2; }

# pkg_available PKG - Debian has a candidate for PKG.
pkg_available() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }

# install_missing - apt-get install the tools that are not there yet.
install_missing() {
    local want=() pkg
    command -v iperf3 >/dev/null || want+=(iperf3)
    command -v wrk >/dev/null || want+=(wrk)
    if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ]; then
        if pkg_available nginx-light; then want+=(nginx-light); else want+=(nginx); fi
    fi
    if [ "$WITH_PEERS" = 1 ]; then
        command -v pasta >/dev/null || want+=(passt)
        command -v slirp4netns >/dev/null || want+=(slirp4netns)
    fi
    [ ${#want[@]} -eq 0 ] && return 0
    for pkg in "${want[@]}"; do
        if ! pkg_available "$pkg"; then
            say "updating the package lists to find $pkg"
            apt-get update -qq
            break
        fi
    done
    say "installing ${want[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
}

# ensure_netstackd - build build/netstackd unless NETSTACKD names one.
ensure_netstackd() {
    [ -n "${NETSTACKD:-}" ] && return 0
    NETSTACKD=$ROOT/build/netstackd
    [ -x "$NETSTACKD" ] && return 0
    say "building $NETSTACKD"
    cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" -j"$(nproc)" --target netstackd >/dev/null
}

install_missing
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ensure_netstackd
export NETSTACKD
# shellcheck disable=SC2034  # read by natlib.sh's launch_nat
NAT_LOG_LEVEL=warn
# shellcheck disable=SC2034  # read by natlib.sh's launch_nat
NAT_WRAP=("${STACK_WRAP[@]}")
# shellcheck source=../tests/e2e/natlib.sh
. "$ROOT/tests/e2e/natlib.sh"
# shellcheck source=bench/qemu.sh
. "$BENCH_DIR/qemu.sh"
need_nat_caps iperf3 wrk
RESULTS=$WORK/results.tsv
NOTES=$WORK/notes.txt
: >"$RESULTS"
: >"$NOTES"
STACK_PID=          # the running stack process (netstackd, pasta, slirp4netns)
STACK_LOG=
TARGET=             # the address of HOST_NS's 127.0.0.1 as the guest sees it
IPERF_SRV_PID=
IPERF6_SRV_PID=

# bench_cleanup - kill what this script started, then natlib's cleanup
# (servers, namespaces, $WORK).
bench_cleanup() {
    local rc=$?
    set +e
    [ -n "$QEMU_PID" ] && kill -TERM "$QEMU_PID" 2>/dev/null && wait "$QEMU_PID" 2>/dev/null
    if [ -n "$STACK_PID" ] && [ "$STACK_PID" != "${DAEMON_PID:-}" ]; then
        kill -KILL "$STACK_PID" 2>/dev/null
        wait "$STACK_PID" 2>/dev/null
    fi
    (exit "$rc")
    nat_cleanup
}
trap bench_cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'exit 143' TERM

# The commit of the measured build: of the checkout it sits in (a worktree of
# an older commit, say), else of this one.
NSD_COMMIT=$(git -C "$(dirname "$NETSTACKD")" describe --always --dirty 2>/dev/null ||
    git -C "$ROOT" describe --always --dirty 2>/dev/null || echo "?")
# A private copy, so a rebuild of build/netstackd during the run changes nothing.
cp "$NETSTACKD" "$WORK/netstackd"
# ... and of its libslirp.so.0 (slirp/), for the "nsd libslirp" column.
NSLIB_DIR=
if [ -e "$(dirname "$NETSTACKD")/lib/slirp/libslirp.so.0" ]; then
    NSLIB_DIR=$WORK/nslib
    mkdir -p "$NSLIB_DIR"
    cp -L "$(dirname "$NETSTACKD")/lib/slirp/libslirp.so.0" "$NSLIB_DIR/"
fi
NETSTACKD=$WORK/netstackd
NO_OFFLOAD=0
# (Not "--help | grep -q": under pipefail, grep quitting early can SIGPIPE
# netstackd and fail the pipeline.)
grep -q -- --no-offload <<<"$("$NETSTACKD" --help 2>&1 || true)" && NO_OFFLOAD=1

# record KEY COLUMN VALUE - one table cell.
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
# note TEXT - a line under the table explaining a missing or odd cell.
note() { echo "$*" >>"$NOTES"; say "note: $*"; }

# cpu_ticks PID - utime+stime of a process, in clock ticks (empty if gone).
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || true; }
# vm_hwm_mib PID - peak resident set size of a process, MiB.
vm_hwm_mib() { awk '/^VmHWM:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true; }
# vm_rss_kib PID - current resident set size of a process, KiB.
vm_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# start_http_servers - nginx (return 200, and /files/ for QEMU) in HOST_NS.
start_http_servers() {
    mkdir -p "$WORK/nginx" "$WORK/www"
    chmod 755 "$WORK" "$WORK/www"     # nginx's workers (not root) read www/
    cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 1000000;
    sendfile on;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$HTTP_PORT backlog=4096;
        location /files/ { alias $WORK/www/; }
        location /upload { client_max_body_size 0; return 200 "ok\n"; }
        location / { return 200 "ok\n"; }
    }
}
EOF
    ip netns exec "$HOST_NS" "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" \
        -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
    BG_PIDS+=($!)
    wait_port "$HOST_NS" tcp "$HTTP_PORT" 10 || die "nginx did not start: $(cat "$WORK/nginx/error.log")"
}

# restart_iperf_server - a fresh iperf3 -s on HOST_NS's 127.0.0.1 (a run that
# broke off cannot leave it stuck for the next stack).
restart_iperf_server() {
    if [ -n "$IPERF_SRV_PID" ]; then
        kill -KILL "$IPERF_SRV_PID" 2>/dev/null || true
        wait "$IPERF_SRV_PID" 2>/dev/null || true
    fi
    if [ -n "$IPERF6_SRV_PID" ]; then
        kill -KILL "$IPERF6_SRV_PID" 2>/dev/null || true
        wait "$IPERF6_SRV_PID" 2>/dev/null || true
    fi
    ip netns exec "$HOST_NS" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >"$WORK/iperf3-server.log" 2>&1 &
    IPERF_SRV_PID=$!
    BG_PIDS+=("$IPERF_SRV_PID")
    ip netns exec "$HOST_NS" iperf3 -s -B ::1 -p "$IPERF6_PORT" >"$WORK/iperf3-server6.log" 2>&1 &
    IPERF6_SRV_PID=$!
    BG_PIDS+=("$IPERF6_SRV_PID")
    wait_port "$HOST_NS" tcp "$IPERF_PORT" 10 || die "iperf3 -s did not start"
    wait_port "$HOST_NS" tcp "$IPERF6_PORT" 10 || die "iperf3 -s -B ::1 did not start"
}

# fresh_guest - delete the guest namespace and create a new, empty one.
fresh_guest() {
    ip netns pids "$GUEST_NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$GUEST_NS" 2>/dev/null || true
    ip netns add "$GUEST_NS"
    in_guest ip link set lo up
    # SLAAC on the tap a stack makes (the kernel's defaults, said explicitly).
    in_guest sysctl -qw net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.default.accept_ra=1 \
        net.ipv6.conf.default.autoconf=1
}

# guest_slaac - the guest has a global IPv6 address in fd65:65::/64 (DAD done).
guest_slaac() {
    in_guest ip -6 -o addr show dev "$TAP" to fd65:65::/64 scope global -tentative 2>/dev/null |
        grep -q inet6
}

# guest_ready MTU - tap0 in the guest is up with an IPv4 address and the MTU.
guest_ready() {
    in_guest ip -4 -o addr show dev "$TAP" 2>/dev/null | grep -q inet &&
        [ "$(in_guest cat "/sys/class/net/$TAP/mtu" 2>/dev/null)" = "$1" ]
}

# start_stack COLUMN MTU - start one stack on a fresh guest; sets STACK_PID,
# STACK_LOG and TARGET. Returns 1 (with a note) if it does not come up.
start_stack() {
    local col=$1 mtu=$2
    fresh_guest
    restart_iperf_server
    STACK_LOG=$WORK/$col-$mtu.log
    case $col in
    nsd|nsdnooff)
        local extra=()
        [ "$col" = nsdnooff ] && extra=(--no-offload)
        launch_nat --tap "$TAP" --netns "/run/netns/$GUEST_NS" --mtu "$mtu" "${extra[@]}" >/dev/null
        STACK_PID=$DAEMON_PID
        STACK_LOG=$NAT_LOG
        TARGET=$ALIAS
        if ! wait_until 5 in_guest ip link show "$TAP" >/dev/null 2>&1 || ! guest_lease >/dev/null; then
            note "$col MTU $mtu: netstackd did not serve the guest$(daemon_alive || echo " (it exited)"): $(tail -3 "$STACK_LOG" | tr '\n' ' ')"
            stop_stack
            return 1
        fi
        ;;
    pasta)
        # -f: stay in the foreground (our child); --runas 0:0: as nobody it
        # cannot join the namespace; -i/-a/-n/-g: HOST_NS has no default route
        # to copy them from.
        ip netns exec "$HOST_NS" "${STACK_WRAP[@]}" pasta -f -q -4 --runas 0:0 --config-net -I "$TAP" \
            -i veth0 -a "$HOST_IP" -n 24 -g "$PASTA_GW" -m "$mtu" \
            -t none -u none -T none -U none --netns "/run/netns/$GUEST_NS" >"$STACK_LOG" 2>&1 &
        STACK_PID=$!
        TARGET=$PASTA_GW
        ;;
    slirp | nslib)
        # nslib: the same slirp4netns on netstack's libslirp.so.0.
        local env=()
        [ "$col" = nslib ] && env=(env "LD_LIBRARY_PATH=$NSLIB_DIR")
        ip netns exec "$HOST_NS" "${STACK_WRAP[@]}" "${env[@]}" slirp4netns --netns-type=path --configure \
            --mtu="$mtu" "/run/netns/$GUEST_NS" "$TAP" >"$STACK_LOG" 2>&1 &
        STACK_PID=$!
        TARGET=$SLIRP_HOST
        ;;
    esac
    if ! wait_until 10 guest_ready "$mtu"; then
        note "$col MTU $mtu: no configured $TAP with MTU $mtu in the guest: $(grep -v syslog "$STACK_LOG" | tail -3 | tr '\n' ' ')"
        stop_stack
        return 1
    fi
}

# stop_stack - stop the running stack (netstackd through natlib's stop_nat,
# which checks its clean exit).
stop_stack() {
    [ -n "$STACK_PID" ] || return 0
    if [ "$STACK_PID" = "${DAEMON_PID:-}" ]; then
        stop_nat >/dev/null
    else
        kill -TERM "$STACK_PID" 2>/dev/null || true
        # shellcheck disable=SC2016  # expanded by eval
        wait_until 5 eval '! kill -0 "$STACK_PID" 2>/dev/null' || kill -KILL "$STACK_PID" 2>/dev/null || true
        wait "$STACK_PID" 2>/dev/null || true
    fi
    STACK_PID=
}

# parse WHAT KIND FILE - tools/bench/report.py's figures from one client's
# output ("-" if none); what it complains about becomes a note.
parse() {
    local what=$1 v
    v=$("$PYTHON" "$BENCH_DIR/report.py" "$2" "$3" 2>"$WORK/why") || v=-
    [ -s "$WORK/why" ] && note "$what: $(tr '\n' ' ' <"$WORK/why" | head -c 300)"
    echo "$v"
}

# iperf_json NS ARGS... - one iperf3 client run, JSON in $WORK/iperf.json.
iperf_json() {
    local ns=$1
    shift
    ip netns exec "$ns" timeout $((DURATION + 30)) iperf3 -p "$IPERF_PORT" -t "$DURATION" -J "$@" \
        >"$WORK/iperf.json" 2>&1 || true
}

# iperf_tcp WHAT NS TARGET [-R] - one TCP stream; prints "Gbit/s bytes" received.
iperf_tcp() {
    local what=$1 ns=$2 target=$3
    shift 3
    iperf_json "$ns" -c "$target" "$@"
    parse "$what" iperf-tcp "$WORK/iperf.json"
}

# iperf_udp WHAT NS TARGET - UDP at $UDP_RATE; prints "received-Gbit/s loss-%".
iperf_udp() {
    iperf_json "$2" -c "$3" -u -b "$UDP_RATE" -l "$UDP_LEN"
    parse "$1" iperf-udp "$WORK/iperf.json"
}

# run_wrk NS URL ARGS... - one wrk run, output in $WORK/wrk.out.
run_wrk() {
    local ns=$1 url=$2
    shift 2
    ip netns exec "$ns" timeout $((DURATION + 30)) wrk -d "${DURATION}s" "$@" "$url" \
        >"$WORK/wrk.out" 2>&1 || true
}

# wrk_rps WHAT NS URL [wrk args] - requests/s with $CONNS connections.
wrk_rps() {
    local what=$1 ns=$2 url=$3
    shift 3
    run_wrk "$ns" "$url" -t "$THREADS" -c "$CONNS" "$@"
    parse "$what" wrk "$WORK/wrk.out"
}

# wrk_latency WHAT NS URL - "p50 p99" latency (µs) of 1 keep-alive connection.
wrk_latency() {
    run_wrk "$2" "$3" -t 1 -c 1 --latency
    parse "$1" wrk-latency "$WORK/wrk.out"
}

# median_of WHAT GBITS... - the median of one cell's runs ("-" if none gave a
# figure); a note when they spread by more than 25%, with every run in order.
median_of() {
    local what=$1 sorted m
    shift
    [ $# -gt 0 ] || { echo -; return 0; }
    sorted=$(printf '%s\n' "$@" | sort -g | tr '\n' ' ')
    m=$(awk -v s="$sorted" 'BEGIN { n = split(s, v, " ")
        if (n % 2) print v[(n + 1) / 2]; else printf "%.2f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }')
    if awk -v s="$sorted" 'BEGIN { n = split(s, v, " "); exit !(v[1] > 0 && v[n] > 1.25 * v[1]) }'; then
        note "$what: the runs spread by more than 25% ($*; median $m Gbit/s)"
    fi
    echo "$m"
}

# tcp_pair WHAT NS TARGET - $RUNS iperf3 runs each way, alternating (guest ->
# host, then host -> guest, so drift in the machine's load hits both alike);
# prints "UP DOWN BYTES": each direction's median Gbit/s and the bytes all the
# runs received.
tcp_pair() {
    local what=$1 ns=$2 target=$3 i r ups=() downs=() bytes=0
    for ((i = 0; i < RUNS; i++)); do
        r=$(iperf_tcp "$what TCP guest->host" "$ns" "$target")
        if [ "$r" != - ]; then ups+=("${r%% *}"); bytes=$((bytes + ${r##* })); fi
        r=$(iperf_tcp "$what TCP host->guest" "$ns" "$target" -R)
        if [ "$r" != - ]; then downs+=("${r%% *}"); bytes=$((bytes + ${r##* })); fi
    done
    echo "$(median_of "$what TCP guest->host" "${ups[@]}") $(median_of "$what TCP host->guest" "${downs[@]}") $bytes"
}

# measure_tcp COL NS MTU - the two iperf3 directions; records Gbit/s, and
# CPU s/GB when a stack process runs.
measure_tcp() {
    local col=$1 ns=$2 mtu=$3 t0='' t1='' up down bytes
    [ -n "$STACK_PID" ] && t0=$(cpu_ticks "$STACK_PID")
    read -r up down bytes <<<"$(tcp_pair "$col MTU $mtu" "$ns" "$TARGET")"
    [ -n "$STACK_PID" ] && t1=$(cpu_ticks "$STACK_PID")
    record "tcp_up_$mtu" "$col" "$up"
    record "tcp_down_$mtu" "$col" "$down"
    say "$col MTU $mtu: TCP guest->host $up, host->guest $down Gbit/s (median of $RUNS)"
    if [ -n "$t0" ] && [ -n "$t1" ] && [ "$up" != - ] && [ "$down" != - ] && [ "$bytes" -gt 0 ]; then
        record "cpu_$mtu" "$col" "$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
            -v b="$bytes" 'BEGIN { printf "%.2f\n", t / hz / (b / 1e9) }')"
    fi
}

# measure_tcp6 COL NS MTU TARGET - the two iperf3 directions over IPv6, to
# HOST_NS's ::1 server (through TARGET); records Gbit/s in the tcp6_* rows.
measure_tcp6() {
    local col=$1 ns=$2 mtu=$3 up down bytes
    read -r up down bytes <<<"$(IPERF_PORT=$IPERF6_PORT tcp_pair "$col MTU $mtu IPv6" "$ns" "$4")"
    record "tcp6_up_$mtu" "$col" "$up"
    record "tcp6_down_$mtu" "$col" "$down"
    say "$col MTU $mtu IPv6: TCP guest->host $up, host->guest $down Gbit/s (median of $RUNS)"
}

# measure_65520 COL NS - the MTU 65520-only figures: HTTP, latency, UDP.
measure_65520() {
    local col=$1 ns=$2 url="http://$TARGET:$HTTP_PORT/" ka cc lat udp
    ka=$(wrk_rps "$col HTTP keep-alive" "$ns" "$url")
    cc=$(wrk_rps "$col HTTP Connection: close" "$ns" "$url" -H "Connection: close")
    lat=$(wrk_latency "$col latency" "$ns" "$url")
    udp=$(iperf_udp "$col UDP" "$ns" "$TARGET")
    record http_ka "$col" "$ka"
    record http_cc "$col" "$cc"
    record lat_p50 "$col" "${lat%% *}"
    record lat_p99 "$col" "${lat##* }"
    record udp_rx "$col" "${udp%% *}"
    record udp_loss "$col" "${udp##* }"
    say "$col: keep-alive $ka req/s, close $cc conn/s, latency p50/p99 $lat us, UDP Gbit/s loss% $udp"
}

# start_idle_server - tools/bench/idle.py serve on HOST_NS's 127.0.0.1:$IDLE_PORT
# (one epoll loop holding every connection; it serves all the stacks).
start_idle_server() {
    ip netns exec "$HOST_NS" "${STACK_WRAP[@]}" "$PYTHON" "$BENCH_DIR/idle.py" serve \
        127.0.0.1 "$IDLE_PORT" >"$WORK/idle-server.log" 2>&1 &
    BG_PIDS+=($!)
    wait_line "$WORK/idle-server.log" '^ready' 10 ||
        die "idle.py serve did not start: $(cat "$WORK/idle-server.log")"
}

# stack_fds PID - "; the stack has N descriptors open (limit L)", or that it exited.
stack_fds() {
    if kill -0 "$1" 2>/dev/null; then
        echo "; the stack has $(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) descriptors open (limit $(awk '/^Max open files/ { print $4 }' "/proc/$1/limits"))"
    else
        echo "; the stack exited"
    fi
}

# est_count NS FILTER - established TCP connections in NS that match an ss filter.
est_count() { ip netns exec "$1" ss -Htn state established "$2" 2>/dev/null | wc -l; }
guest_idle() { est_count "$GUEST_NS" "( dport = :$IDLE_PORT )"; }
server_idle() { est_count "$HOST_NS" "( sport = :$IDLE_PORT )"; }

# close_idle PID COL - stop the holder (it closes its connections), wait for
# the server to see them all closed.
close_idle() {
    local pid=$1 col=$2 t0
    t0=$(now_ms)
    kill -TERM "$pid" 2>/dev/null || true
    # shellcheck disable=SC2016  # expanded by eval
    wait_until 15 eval '! kill -0 "$pid" 2>/dev/null' || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # shellcheck disable=SC2016
    if wait_until 30 eval '[ "$(server_idle)" -eq 0 ]'; then
        say "$col: the idle connections closed, all gone at the server after $(( $(now_ms) - t0 )) ms"
    else
        note "$col: $(server_idle) of the $IDLE_N idle connections still open at the server 30 s after the guest closed them"
    fi
}

# mean2 A B - the mean of two figures, or the one that is a number ("-" if neither).
mean2() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) printf "%.2f\n", (a + b) / 2
        else if (a ~ /^[0-9.]+$/) print a; else if (b ~ /^[0-9.]+$/) print b; else print "-" }'
}

# measure_idle COL - $IDLE_N idle connections from the guest to HOST_NS's
# 127.0.0.1 through the running stack: its RSS before and with them, and the
# two iperf3 streams with them held, against the mean of the same two
# measured right before the connections were opened and right after they
# were closed (the machine's load drifts within minutes; bracketing cancels
# a steady drift).
measure_idle() {
    local col=$1 out=$WORK/idle-$1.out pid before after r ng nh up down k bytes
    local base_up base_down after_up after_down
    local hold_max=$((IDLE_OPEN_LIMIT + 4 * RUNS * (DURATION + 30) + 120))
    for k in idle_rss_before idle_rss_after idle_per_conn idle_up idle_up_pct idle_down idle_down_pct; do
        record "$k" "$col" -
    done
    read -r base_up base_down bytes <<<"$(tcp_pair "$col MTU 65520, before the idle ones" "$GUEST_NS" "$TARGET")"
    before=$(vm_rss_kib "$STACK_PID")
    say "$col: opening $IDLE_N idle connections (stack RSS $((before / 1024)) MiB)"
    ip netns exec "$GUEST_NS" "${STACK_WRAP[@]}" "$PYTHON" "$BENCH_DIR/idle.py" hold "$TARGET" "$IDLE_PORT" \
        --n "$IDLE_N" --timeout "$IDLE_OPEN_LIMIT" --max-hold "$hold_max" >"$out" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    wait_line "$out" '^result opened' $((IDLE_OPEN_LIMIT + 20)) || true
    r=$(grep -m1 '^result opened' "$out" || echo "no report from the client: $(tail -2 "$out" | tr '\n' ' ')")
    # shellcheck disable=SC2016  # expanded by eval
    wait_until 10 eval '[ "$(guest_idle)" -ge "$IDLE_N" ] && [ "$(server_idle)" -ge "$IDLE_N" ]' || true
    ng=$(guest_idle)
    nh=$(server_idle)
    say "$col: $r; established: $ng in the guest, $nh at the server"
    if [ "$ng" -lt "$IDLE_N" ] || [ "$nh" -lt "$IDLE_N" ] || ! kill -0 "$STACK_PID" 2>/dev/null; then
        note "$col: cannot hold $IDLE_N idle connections: $ng established in the guest, $nh at the server (${r#result })$(stack_fds "$STACK_PID")"
        close_idle "$pid" "$col"
        return 0
    fi
    sleep 2    # let the stack settle (timers, deferred frees) before reading its RSS
    after=$(vm_rss_kib "$STACK_PID")
    record idle_rss_before "$col" "$(awk -v k="$before" 'BEGIN { printf "%.1f\n", k / 1024 }')"
    record idle_rss_after "$col" "$(awk -v k="$after" 'BEGIN { printf "%.1f\n", k / 1024 }')"
    record idle_per_conn "$col" "$(awk -v a="$after" -v b="$before" -v n="$IDLE_N" 'BEGIN { printf "%.0f\n", (a - b) * 1024 / n }')"
    say "$col: RSS $before KiB -> $after KiB with $IDLE_N idle connections"
    read -r up down bytes <<<"$(tcp_pair "$col MTU 65520, $IDLE_N idle" "$GUEST_NS" "$TARGET")"
    ng=$(guest_idle)
    [ "$ng" -ge "$IDLE_N" ] || note "$col: only $ng of the $IDLE_N idle connections still established in the guest after the streams"
    close_idle "$pid" "$col"
    read -r after_up after_down bytes <<<"$(tcp_pair "$col MTU 65520, after the idle ones" "$GUEST_NS" "$TARGET")"
    record idle_up "$col" "$up"
    record idle_down "$col" "$down"
    record idle_up_pct "$col" "$(pct "$up" "$(mean2 "$base_up" "$after_up")")"
    record idle_down_pct "$col" "$(pct "$down" "$(mean2 "$base_down" "$after_down")")"
    say "$col: with $IDLE_N idle connections TCP guest->host $up, host->guest $down Gbit/s (without, before and after: $base_up and $after_up, $base_down and $after_down)"
}

# cell KEY COL - a recorded figure (the last one; empty if none).
cell() { grep -P "^$1\t$2\t" "$RESULTS" | tail -1 | cut -f3; }
# pct A B - A as a percentage of B ("-" unless both are numbers, B > 0).
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.0f\n", 100 * a / b; else print "-" }'; }

# bench_loopback - the ceiling: the clients in HOST_NS against 127.0.0.1
# (one figure for both MTU rows: loopback's own MTU is 65536).
bench_loopback() {
    say "loopback ceiling in HOST_NS"
    restart_iperf_server
    TARGET=127.0.0.1
    measure_tcp loop "$HOST_NS" 1500
    record tcp_up_65520 loop "$(grep -P '^tcp_up_1500\tloop\t' "$RESULTS" | cut -f3)"
    record tcp_down_65520 loop "$(grep -P '^tcp_down_1500\tloop\t' "$RESULTS" | cut -f3)"
    measure_tcp6 loop "$HOST_NS" 1500 ::1
    record tcp6_up_65520 loop "$(grep -P '^tcp6_up_1500\tloop\t' "$RESULTS" | cut -f3)"
    record tcp6_down_65520 loop "$(grep -P '^tcp6_down_1500\tloop\t' "$RESULTS" | cut -f3)"
    measure_65520 loop "$HOST_NS"
}

# bench_stack COL - one stack at both MTUs, each on a fresh guest namespace.
bench_stack() {
    local col=$1 mtu
    for mtu in 1500 65520; do
        say "$col at MTU $mtu"
        start_stack "$col" "$mtu" || continue
        measure_tcp "$col" "$GUEST_NS" "$mtu"
        if [ "$col" = nsd ]; then
            if wait_until 15 guest_slaac; then
                measure_tcp6 "$col" "$GUEST_NS" "$mtu" "$ALIAS6"
            else
                note "$col MTU $mtu: no SLAAC address in the guest, no IPv6 rows"
            fi
        fi
        if [ "$mtu" = 65520 ]; then
            measure_65520 "$col" "$GUEST_NS"
            record rss "$col" "$(vm_hwm_mib "$STACK_PID")"
            [ "$WITH_IDLE" = 1 ] && [ "$col" != nsdnooff ] && measure_idle "$col"
        fi
        kill -0 "$STACK_PID" 2>/dev/null || note "$col died during the MTU $mtu runs: $(tail -3 "$STACK_LOG" | tr '\n' ' ')"
        stop_stack
    done
}

# qemu_stack COL MTU - start the QEMU-facing stack for a column: sets
# STACK_PID, QEMU_ARGS (the -netdev/-device pair) and TARGET. Columns: nsd
# (netstackd --listen-vhost-user), nsdstream (netstackd --listen-qemu), pasta
# (passt on -netdev stream), slirp (QEMU's own -netdev user), nslib (the
# same on netstack's libslirp.so.0). Returns 1 (noted) on failure.
qemu_stack() {
    local col=$1 mtu=$2 sock=$WORK/qemu-$1.sock
    local dev="virtio-net-pci,netdev=n0,host_mtu=$mtu"
    STACK_LOG=$WORK/qemu-$col-$mtu.log
    QEMU_ENV=()
    QEMU_ARGS=(-netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$sock" -device "$dev")
    case $col in
    nsd | nsdstream)
        if [ "$col" = nsd ]; then
            launch_nat --listen-vhost-user "$sock" --mtu "$mtu" >/dev/null
            # TCG and Debian's QEMU 7.2: vhost with MSI-X crashes QEMU (README).
            QEMU_ARGS=(-chardev "socket,id=c0,path=$sock" -netdev vhost-user,id=n0,chardev=c0
                       -device "$dev,vectors=0")
        else
            launch_nat --listen-qemu "$sock" --mtu "$mtu" >/dev/null
        fi
        STACK_PID=$DAEMON_PID
        STACK_LOG=$NAT_LOG
        TARGET=$ALIAS
        ;;
    pasta)
        # passt: pasta's code behind a socket, QEMU's -netdev stream speaks its framing.
        ip netns exec "$HOST_NS" passt -f -q -4 -1 --runas 0:0 -i veth0 -a "$HOST_IP" -n 24 \
            -g "$PASTA_GW" -m "$mtu" -t none -u none -s "$sock" >"$STACK_LOG" 2>&1 &
        STACK_PID=$!
        TARGET=$PASTA_GW
        ;;
    slirp | nslib)
        # QEMU's own -netdev user is libslirp, as in slirp4netns (MTU 1500 only).
        [ "$col" = nslib ] && QEMU_ENV=("LD_LIBRARY_PATH=$NSLIB_DIR")
        STACK_PID=
        QEMU_ARGS=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0)
        TARGET=$SLIRP_HOST
        return 0
        ;;
    esac
    if ! wait_until 5 test -S "$sock"; then
        note "QEMU $col: no socket $sock: $(grep -v syslog "$STACK_LOG" | tail -3 | tr '\n' ' ')"
        stop_stack
        return 1
    fi
}

# qemu_cell COL MTU - one boot: record the download and upload rows of COL
# at MTU (and, at 65520, the stack's CPU per GB moved).
qemu_cell() {
    local col=$1 mtu=$2 row=qemu sfx="" rcol=$1 v dl ul t0 t1 cpu
    # netstackd's stream socket has rows of its own, in netstackd's column.
    [ "$col" = nsdstream ] && row=qemu_stream rcol=nsd
    [ "$mtu" = 1500 ] && sfx=_1500
    say "QEMU (TCG) guest through $col, MTU $mtu: $QEMU_MIB MiB down, $QEMU_UP_MIB MiB up"
    qemu_stack "$col" "$mtu" || return 0
    t0= t1=
    [ -z "$STACK_PID" ] || t0=$(cpu_ticks "$STACK_PID")
    v=$(qemu_transfer "http://$TARGET:$HTTP_PORT/files/blob" $((QEMU_MIB * 1024 * 1024)) \
        "http://$TARGET:$HTTP_PORT/upload" $((QEMU_UP_MIB * 1024 * 1024)) "$QEMU_LIMIT" "${QEMU_ARGS[@]}")
    [ -z "$STACK_PID" ] || t1=$(cpu_ticks "$STACK_PID")
    stop_stack
    read -r dl ul <<<"$v"
    [ -s "$WORK/qemu-why" ] && note "QEMU $col MTU $mtu: $(tr '\n' ';' <"$WORK/qemu-why")"
    [ "$dl" != - ] && record "$row$sfx" "$rcol" "$dl"
    [ "$ul" != - ] && record "${row}_up$sfx" "$rcol" "$ul"
    if [ "$mtu" = 65520 ] && [ -n "$t0" ] && [ -n "$t1" ] && [ "$dl" != - ] && [ "$ul" != - ]; then
        cpu=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v mb=$((QEMU_MIB + QEMU_UP_MIB)) \
            'BEGIN { printf "%.2f", t / hz / (mb * 1048576 / 1e9) }')
        record "${row}_cpu" "$rcol" "$cpu"
    fi
    say "QEMU $col MTU $mtu: down $dl, up $ul MB/s"
}

# bench_qemu - the QEMU guest's download and upload through netstackd over
# vhost-user and over its stream socket, and through passt and QEMU's libslirp.
bench_qemu() {
    local col mtu cols=(nsd nsdstream)
    qemu_check
    if [ -n "$QEMU_WHY" ]; then note "QEMU skipped: $QEMU_WHY"; return 0; fi
    [ "$WITH_PEERS" = 1 ] && cols+=(pasta)
    qemu_build_initrd
    truncate -s "${QEMU_MIB}M" "$WORK/www/blob"
    chmod 644 "$WORK/www/blob"
    for mtu in 65520 1500; do
        for col in "${cols[@]}"; do
            qemu_cell "$col" "$mtu"
        done
    done
    if [ "$WITH_PEERS" = 1 ]; then
        # libslirp has MTU 1500 only: one boot, its figures in both MTUs' rows.
        for col in slirp ${NSLIB_DIR:+nslib}; do
            qemu_cell "$col" 1500
            { grep -P "^qemu(_up)?_1500\t$col\t" "$RESULTS" || true; } | sed 's/_1500\t/\t/' >>"$RESULTS"
        done
    fi
}

# print_table - the table and its notes (tools/bench/report.py).
print_table() {
    local cols=(loop nsd nsdnooff)
    [ "$WITH_PEERS" = 1 ] && cols+=(pasta slirp)
    [ "$WITH_PEERS" = 1 ] && [ -n "$NSLIB_DIR" ] && cols+=(nslib)
    "$PYTHON" "$BENCH_DIR/report.py" table "$RESULTS" "$NOTES" \
        --columns "${cols[*]}" --time "$DURATION" --runs "$RUNS" --conns "$CONNS" --threads "$THREADS" \
        --udp "$UDP_RATE/$UDP_LEN" --idle "$([ "$WITH_IDLE" = 1 ] && echo "$IDLE_N" || echo 0)" --qemu "$([ "$WITH_QEMU" = 1 ] && echo "$QEMU_MIB" || echo 0)" --qemu-up "$QEMU_UP_MIB" \
        --load "$LOAD_START / $(cut -d ' ' -f 1-3 /proc/loadavg)" \
        --netstackd "$("$NETSTACKD" --version 2>&1 | head -1) ($NSD_COMMIT)" \
        --peers "$([ "$WITH_PEERS" = 1 ] && echo "pasta $(dpkg-query -W -f '${Version}' passt 2>/dev/null), slirp4netns $(dpkg-query -W -f '${Version}' slirp4netns 2>/dev/null)")"
}

LOAD_START=$(cut -d ' ' -f 1-3 /proc/loadavg)
nat_topology
start_http_servers
[ "$WITH_IDLE" = 1 ] && start_idle_server
say "$DURATION s per measurement; netstackd $NETSTACKD (copy of the given build)"
bench_loopback
bench_stack nsd
if [ "$NO_OFFLOAD" = 1 ]; then
    bench_stack nsdnooff
else
    note "netstackd (no offload): this netstackd has no --no-offload flag yet (netstackd --help)"
fi
if [ "$WITH_PEERS" = 1 ]; then
    bench_stack pasta
    bench_stack slirp
    if [ -n "$NSLIB_DIR" ]; then
        bench_stack nslib
    else
        note "nsd libslirp: no lib/slirp/libslirp.so.0 next to $NETSTACKD"
    fi
fi
if [ "$WITH_QEMU" = 1 ]; then bench_qemu; fi
print_table
# A table without a single netstackd figure means netstackd is broken: fail.
grep -qP '\tnsd\t[0-9]' "$RESULTS" || { say "no figure at all from netstackd"; exit 1; }
