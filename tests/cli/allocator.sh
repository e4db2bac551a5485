#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_allocator: a real libpmemtier application (memkind API, daemon mode)
# shows in tierctl status with its leases and with the usage its allocator
# reported: allocated bytes at least what it allocated, per kind and tier,
# in the JSON and in the human ALLOCATED column.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${KIND_CLIENT:-}" ] || pmt_skip "pmt_kind_client not built (no libpmemtier)"
pmt_setup
pmt_config
pmt_daemon_start

MiB=$((1 << 20))
PMEMTIER_SOCKET=$PMT_SOCK PMEMTIER_MODE=daemon \
    "$KIND_CLIENT" "$PMT_DIR/tier-pmem" 24 $MiB >"$PMT_DIR/K.out" \
    2>"$PMT_DIR/K.log" &
K=$!
PMT_PIDS+=("$K")
for _ in $(seq 1 100); do
	grep -q '^ready$' "$PMT_DIR/K.out" && break
	kill -0 "$K" 2>/dev/null || pmt_fail "client exited: $(cat "$PMT_DIR/K.log")"
	sleep 0.05
done

C=".clients[] | select(.pid == $K)"
# Usage comes as the library's answer to the daemon's query, the next time
# the application calls into it: poll until the report covers everything.
for _ in $(seq 1 30); do
	pmt_ctl_ok -j status
	alloc=$(printf '%s' "$PMT_OUT" | jq "[$C | .allocated] | add // 0")
	[ "$alloc" -ge $((24 * MiB)) ] && break
	sleep 0.1
done
expect_eq "one client entry" "$(printf '%s' "$PMT_OUT" | jq "[$C] | length")" 1
expect_match "client_name" "$(printf '%s' "$PMT_OUT" | jq -r "$C | .client_name")" \
    '^libpmemtier'
leases=$(printf '%s' "$PMT_OUT" | jq "$C | .leases")
granted=$(printf '%s' "$PMT_OUT" | jq "$C | .granted")
alloc=$(printf '%s' "$PMT_OUT" | jq "$C | .allocated")
[ "$leases" -ge 1 ] || pmt_fail "no lease held: $leases"
[ "$granted" -ge $((24 * MiB)) ] || pmt_fail "granted $granted < 24 MiB"
[ "$alloc" -ge $((24 * MiB)) ] ||
    pmt_fail "reported allocated $alloc < 24 MiB (usage: $(printf '%s' \
    "$PMT_OUT" | jq -c "$C | .usage"))"
[ "$alloc" -le "$granted" ] || pmt_fail "allocated $alloc > granted $granted"
echo "ok: $leases leases, granted $granted, allocated $alloc"
expect_eq "usage tier" "$(printf '%s' "$PMT_OUT" | jq -r "[$C | .usage[].tier] | unique | join(\",\")")" pmem
pmt_ctl_ok -j leases --pid "$K"
expect_eq "leases listed" "$(printf '%s' "$PMT_OUT" | jq '.leases | length')" "$leases"
expect_eq "lease sizes add up" \
    "$(printf '%s' "$PMT_OUT" | jq '[.leases[].size] | add')" "$granted"

pmt_ctl_ok clients --pid "$K"
expect_match "human: allocated column filled" "$PMT_OUT" \
    "^ *[0-9]+ +$K +pmt_kind_client +0 +0 +$leases +[0-9.]+[KMG]iB +[^ ]+ +[0-9.]+[KMG]iB +[0-9.]+[KMG]iB "
