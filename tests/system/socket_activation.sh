#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_socket_activation: pmemtierd started the way pmemtierd.socket
# starts it. systemd-socket-activate listens on the socket (as systemd
# would); no daemon runs until the first client connects; then pmemtierd
# takes the listening socket (sd_listen_fds), answers tierctl and grants a
# lease; later clients reach the same daemon.
. "$(dirname "$0")/syslib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
command -v systemd-socket-activate >/dev/null ||
    pmt_skip "systemd-socket-activate not installed (package systemd)"
pmt_sys_setup
pmt_config

systemd-socket-activate --seqpacket -l "$PMT_SOCK" \
    "$PMEMTIERD" -d -f "$PMT_DIR/pmemtierd.conf" \
    2>>"$PMT_DIR/pmemtierd.log" &
PMT_DAEMON_PID=$!

for _ in $(seq 1 100); do
	[ -S "$PMT_SOCK" ] && break
	sleep 0.05
done
[ -S "$PMT_SOCK" ] || pmt_fail "systemd-socket-activate did not listen"
comm=$(cat "/proc/$PMT_DAEMON_PID/comm")
[ "$comm" = pmemtierd ] &&
    pmt_fail "pmemtierd runs before any client connected"
echo "ok: only the activator ($comm) runs before the first client"

# The first connection starts the daemon; tierctl waits for its Welcome.
pmt_ctl_ok -j status
expect_eq "process after first connection" \
    "$(cat "/proc/$PMT_DAEMON_PID/comm")" pmemtierd
expect_eq "status socket" "$(printf '%s' "$PMT_OUT" | jq -r .daemon.socket)" \
    "$PMT_SOCK"
grep -q 'using the socket passed by systemd' "$PMT_DIR/pmemtierd.log" ||
    pmt_fail "daemon did not take the socket from the activator"

pmt_leaser A -- -t pmem -z 2M -n 1 -l activated
pmt_ctl_ok -j leases --pid "$A"
expect_eq "lease through the activated socket" \
    "$(printf '%s' "$PMT_OUT" | jq -r '.leases[0].size')" $((2 << 20))
pmt_leaser_stop "$A"
echo "ok: socket activation serves tierctl and leases"
