#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_sandbox.sh - netstackd's sandbox (tools/netstackd/sandbox.c), on running daemons
# started as root (natlib.sh topology; upstream DNS is dnsmasq in REMOTE_NS).
#
# By default, serving a tap with a control socket in a root-only (0700)
# folder: /proc/PID/status says seccomp filter mode (2), no_new_privs, every
# uid and gid nobody's, no supplementary group and only CAP_NET_BIND_SERVICE;
# the guest still gets its DHCP lease, DNS answers from upstream (and from the
# new server once resolv.conf is replaced: nobody re-reads it), TCP to a
# remote web server and ping replies (a ping socket opened as nobody); a
# forward to host port 80 added at runtime through the API works; SIGTERM
# exits 0, and the cleaner (root, netstackd-clean) has removed the API socket
# from the 0700 folder. The same for --listen-qemu's socket. --runas
# UID:GID runs as those. A --resolv-conf nobody cannot read keeps root with a
# warning, and with --runas nobody it is a startup error; --listen-dgram keeps
# root; --no-sandbox gives seccomp mode 0 and no no_new_privs. That a system
# call outside the allow-list ends netstackd with its line is
# tests/unit/test_sandbox.c's.
. "$(dirname "$0")/natlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root: the sandbox switches users only when started as root"
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$DNSMASQ" ] || skip "dnsmasq is not installed (package dnsmasq-base)"
need_nat_caps curl dig
NOBODY_UID=$(id -u nobody 2>/dev/null) || skip "no user nobody on this system"
NOBODY_GID=$(id -g nobody)
ZONE=test.example
REMOTE2_IP=10.77.0.3
CAP_NET_BIND_SERVICE=0000000000000400

# status FIELD - netstackd's /proc/PID/status value(s) for FIELD, one space apart.
status() { awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$DAEMON_PID/status"; }
# confined UID GID CAPEFF - the checks every sandboxed daemon passes.
confined() {
    expect_eq "Seccomp" "$(status Seccomp)" 2
    expect_eq "NoNewPrivs" "$(status NoNewPrivs)" 1
    expect_eq "Uid (real, effective, saved, fs)" "$(status Uid)" "$1 $1 $1 $1"
    expect_eq "Gid (real, effective, saved, fs)" "$(status Gid)" "$2 $2 $2 $2"
    [ "$1" = 0 ] && return 0
    expect_eq "Groups" "$(status Groups)" ""
    expect_eq "CapEff" "$(status CapEff)" "$3"
    expect_eq "CapPrm" "$(status CapPrm)" "$3"
}
# logged REGEX - the current netstackd's log has a line matching REGEX.
logged() { grep -qE -- "$1" "$NAT_LOG"; }
# gdig [dig args...] - the answer's data from the gateway's DNS server, bounded.
gdig() { in_guest timeout 20 dig "@$GW" +time=2 +tries=1 +short "$@" 2>&1 || true; }
# set_resolv SERVER - replace $WORK/resolv.conf by rename, readable by all.
set_resolv() {
    printf 'nameserver %s\n' "$1" >"$WORK/resolv.conf.new"
    chmod 644 "$WORK/resolv.conf.new"
    mv -f "$WORK/resolv.conf.new" "$WORK/resolv.conf"
}
# start_dnsmasq ADDRESS WWW - dnsmasq on ADDRESS:53 answering www.$ZONE with WWW.
start_dnsmasq() {
    ip netns exec "$REMOTE_NS" "$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts \
        --conf-file=/dev/null --listen-address="$1" --bind-interfaces --port 53 --user=root \
        --pid-file="$WORK/dnsmasq-$1.pid" --local="/$ZONE/" --host-record="www.$ZONE,$2" \
        >"$WORK/dnsmasq-$1.out" 2>&1 &
    BG_PIDS+=($!)
    wait_until 10 eval "in_host dig @$1 +time=1 +tries=1 +short www.$ZONE 2>/dev/null | grep -qx $2" ||
        die "dnsmasq on $1 did not start: $(cat "$WORK/dnsmasq-$1.out")"
}
# api JSON - one control API command; prints the reply line.
api() {
    "$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())' "$SOCKDIR/api.sock" "$1"
}
# cleaner_pid - the pid of netstackd's cleaner child, if it has one.
cleaner_pid() { ps -o pid=,comm= --ppid "$DAEMON_PID" | awk '$2 == "netstackd-clean" { print $1 }'; }

nat_topology
ip -n "$REMOTE_NS" addr add "$REMOTE2_IP/24" dev veth0
start_dnsmasq "$REMOTE_IP" 10.77.1.10
start_dnsmasq "$REMOTE2_IP" 10.77.2.10
mkdir -p "$WORK/www"
echo "through the sandbox" >"$WORK/www/small.txt"
remote_server web http --bind "$REMOTE_IP" --port 8080 --dir "$WORK/www"
start_server "$GUEST_NS" guestweb http --bind 0.0.0.0 --port 8080 --dir "$WORK/www"

# nobody may reach $WORK/resolv.conf (0711: search only), not the sockets'
# folder nor $WORK/private (0700, root's).
chmod 711 "$WORK"
SOCKDIR=$WORK/sock
PRIVATE=$WORK/private
mkdir -m 700 "$SOCKDIR" "$PRIVATE"
set_resolv "$REMOTE_IP"

log "default: started as root, switched to nobody"
start_nat --resolv-conf "$WORK/resolv.conf" --api-socket "$SOCKDIR/api.sock"
check "the log says it runs as nobody" logged "sandbox: running as nobody \\(uid $NOBODY_UID, gid $NOBODY_GID\\)"
confined "$NOBODY_UID" "$NOBODY_GID" "$CAP_NET_BIND_SERVICE"
CLEANER=$(cleaner_pid)
check "a cleaner child runs as root ($CLEANER)" test -n "$CLEANER" -a "$(ps -o user= -p "${CLEANER:-1}" | tr -d ' ')" = root
expect_eq "DNS forwarded upstream" "$(gdig "www.$ZONE")" 10.77.1.10
set_resolv "$REMOTE2_IP"
sleep 1.5
expect_eq "DNS follows the replaced resolv.conf" "$(gdig "www.$ZONE")" 10.77.2.10
expect_eq "TCP to a remote web server" \
    "$(gcurl "http://$REMOTE_IP:8080/small.txt" 2>&1)" "through the sandbox"
check "ping to a remote host (ping socket as nobody)" gping -c 2 -i 0.3 -W 2 "$REMOTE_IP"
out=$(api '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": 80, "guest_port": 8080}}')
check "add_hostfwd to host port 80 at runtime ($out)" grep -q '"return"' <<<"$out"
expect_eq "GET through the runtime forward on port 80" \
    "$(in_host timeout 20 curl -sS --noproxy '*' http://127.0.0.1:80/small.txt 2>&1)" "through the sandbox"
check "netstackd is still running" daemon_alive
stop_nat
check "the API socket in the 0700 folder is removed" test ! -e "$SOCKDIR/api.sock"
check "the cleaner is gone" eval '! kill -0 "${CLEANER:-0}" 2>/dev/null'
set_resolv "$REMOTE_IP"

log "--listen-qemu in the 0700 folder"
launch_nat --listen-qemu "$SOCKDIR/qemu.sock"
wait_until 5 test -S "$SOCKDIR/qemu.sock" || die "netstackd did not create $SOCKDIR/qemu.sock"
wait_until 5 logged "sandbox: running as" || die "no sandbox line: $(cat "$NAT_LOG")"
confined "$NOBODY_UID" "$NOBODY_GID" 0000000000000000
stop_nat
check "the QEMU socket in the 0700 folder is removed" test ! -e "$SOCKDIR/qemu.sock"

log "--runas 4242:4343"
start_nat --runas 4242:4343
confined 4242 4343 0000000000000000
check "ping to a remote host as gid 4343" gping -c 1 -W 2 "$REMOTE_IP"
stop_nat

log "a resolv.conf nobody cannot read"
printf 'nameserver %s\n' "$REMOTE_IP" >"$PRIVATE/resolv.conf"
start_nat --resolv-conf "$PRIVATE/resolv.conf"
check "root is kept, with a warning" \
    logged "warn: sandbox: staying root: nobody cannot read $PRIVATE/resolv.conf \\(Permission denied\\)"
confined 0 0
expect_eq "DNS still forwarded upstream" "$(gdig "www.$ZONE")" 10.77.1.10
stop_nat
rc=0
out=$(in_host timeout 10 "$NETSTACKD" --listen-qemu "$SOCKDIR/refused.sock" \
    --resolv-conf "$PRIVATE/resolv.conf" --runas nobody 2>&1) || rc=$?
expect_eq "with --runas nobody it is a startup error: exit status" "$rc" 1
check "... naming the file ($out)" \
    grep -q "netstackd: sandbox: --runas nobody: nobody cannot read $PRIVATE/resolv.conf" <<<"$out"
check "... and the socket file is removed" test ! -e "$SOCKDIR/refused.sock"

log "--listen-dgram keeps root"
launch_nat --listen-dgram "$SOCKDIR/dgram.sock"
wait_until 5 logged "sandbox: staying root: with --listen-dgram" || die "no sandbox line: $(cat "$NAT_LOG")"
confined 0 0
stop_nat
check "the datagram socket is removed" test ! -e "$SOCKDIR/dgram.sock"

log "--no-sandbox"
start_nat --no-sandbox
expect_eq "Seccomp" "$(status Seccomp)" 0
expect_eq "NoNewPrivs" "$(status NoNewPrivs)" 0
expect_eq "Uid" "$(status Uid)" "0 0 0 0"
stop_nat
rc=0
out=$(in_host "$NETSTACKD" --tap tap9 --no-sandbox --runas nobody 2>&1) || rc=$?
expect_eq "--no-sandbox with --runas: usage error" "$rc" 2

finish
