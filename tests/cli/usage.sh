#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_usage: a malformed command line exits 2 with the usage on stderr and
# never contacts a daemon; -h and --version exit 0.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_setup
# A socket path nobody listens on: a usage error must win over "not
# reachable" (exit 3), proving tierctl checks the line before connecting.
export PMEMTIER_SOCKET=$PMT_DIR/none.sock

usage_case()
{
	local rc=0 err
	err=$("$TIERCTL" "$@" 2>&1 >/dev/null) || rc=$?
	expect_eq "exit of tierctl $*" "$rc" 2
	expect_match "stderr of tierctl $*" "$err" '^usage: tierctl'
}

usage_case
usage_case frobnicate
usage_case status extra
usage_case --no-such-option status
usage_case status --pid
usage_case status --pid 123
usage_case leases --pid notapid
usage_case leases --pid 1 --pid 2
usage_case tiers --uid 0
usage_case quota
usage_case quota frob
usage_case quota list extra
usage_case quota set pmem 1G
usage_case quota set --uid 0 --gid 0 pmem 1G
usage_case quota set --uid 0 pmem
usage_case quota set --uid 0 pmem 12Q
usage_case quota set --uid 0 pmem -5
usage_case quota set --uid 0 pmem 99999999999T
usage_case quota set --uid no-such-user-pmt pmem 1G
usage_case quota set --cgroup relative/path pmem 1G
usage_case quota unset --default
usage_case quota unset --default pmem extra
usage_case rescan now
usage_case reload --default

out=$("$TIERCTL" -h) || pmt_fail "tierctl -h exited $?"
expect_match "tierctl -h" "$out" '^usage: tierctl'
expect_match "tierctl -h lists commands" "$out" '^  quota +set SELECTOR TIER SIZE'
out=$("$TIERCTL" --version) || pmt_fail "tierctl --version exited $?"
expect_match "tierctl --version" "$out" '^tierctl [0-9]+\.[0-9]+\.[0-9]+$'
