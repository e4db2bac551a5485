#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_unreachable: with no daemon, every command exits 3 and says which
# socket it tried and what to check: no socket file, a stale socket left
# by a killed daemon, and the PMEMTIER_SOCKET / -s precedence.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_setup

unreachable_case()
{
	local sock=$1 hint=$2 rc=0 err
	shift 2
	err=$("$TIERCTL" "$@" 2>&1 >/dev/null) || rc=$?
	expect_eq "exit of tierctl $* ($sock)" "$rc" 3
	expect_match "names the socket" "$err" "at $sock: connect"
	expect_match "says what to check" "$err" "$hint"
}

missing=$PMT_DIR/missing.sock
for cmd in status tiers clients leases "quota list" rescan reload; do
	# shellcheck disable=SC2086
	unreachable_case "$missing" 'is pmemtierd running' -s "$missing" $cmd
done
PMEMTIER_SOCKET=$missing unreachable_case "$missing" 'is pmemtierd running' \
    status
# -s wins over the environment.
PMEMTIER_SOCKET=$PMT_DIR/other.sock unreachable_case "$missing" \
    'is pmemtierd running' -s "$missing" status

# A socket file with no listener: what a crashed daemon leaves behind.
if [ -n "${PMEMTIERD:-}" ] && [ -x "$PMEMTIERD" ]; then
	pmt_config
	pmt_daemon_start
	kill -KILL "$PMT_DAEMON_PID"
	wait "$PMT_DAEMON_PID" 2>/dev/null
	PMT_DAEMON_PID=
	[ -S "$PMT_SOCK" ] || pmt_fail "killed daemon left no socket"
	unreachable_case "$PMT_SOCK" 'nobody listens' -s "$PMT_SOCK" status
else
	echo "note: pmemtierd not built; stale-socket case not run"
fi
