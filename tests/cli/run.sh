#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_run: pmemtier-run's command line (usage errors exit 2, --dry-run
# prints the environment it would set), then real programs under it: sort
# on a file tier in standalone mode, and on the daemon's "pmem" tier with
# its lease seen by tierctl while the program runs.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_run_setup

usage_case()
{
	local rc=0 err
	err=$("$RUN" "$@" 2>&1 >/dev/null) || rc=$?
	expect_eq "exit of pmemtier-run $*" "$rc" 2
	expect_match "stderr of pmemtier-run $*" "$err" 'usage: pmemtier-run'
}

usage_case
usage_case --ratio 1 true
usage_case --ratio 0:4 true
usage_case --ratio 1:x true
usage_case --threshold 4X true
usage_case --limit -1 true
usage_case --tier a --dir /tmp true
usage_case --tier 'a,b' true
usage_case --frob true
usage_case --tier
"$RUN" --version | grep -q '^pmemtier-run ' || pmt_fail "--version"

out=$(LD_PRELOAD= "$RUN" --dry-run --tier fast --ratio 1:3 -- prog 'a b' c)
expect_eq "dry-run, ratio" "$out" "LD_PRELOAD=$PMEMTIER_PRELOAD
MEMKIND_MEM_TIERS='KIND:DRAM,RATIO:1;KIND:PMEMTIER,TIER:fast,RATIO:3;POLICY:STATIC_RATIO'
exec prog 'a b' c"
out=$(LD_PRELOAD=/x.so "$RUN" --dry-run --dir /mnt/pmem --threshold 4K \
    --limit 1G --debug ls)
expect_eq "dry-run, threshold" "$out" "LD_PRELOAD='$PMEMTIER_PRELOAD /x.so'
MEMKIND_MEM_TIERS='KIND:DRAM,RATIO:1;KIND:FS_DAX,PATH:/mnt/pmem,PMEM_SIZE_LIMIT:1G,RATIO:4;POLICY:DYNAMIC_THRESHOLD'
MEMKIND_MEM_THRESHOLDS=INIT_VAL:4K,MIN_VAL:4K,MAX_VAL:4K
PMEMTIER_DEBUG=1
exec ls"

# A program that cannot be found: the shell's 127.
rc=0
"$RUN" --dir "$PMT_DIR" /nonexistent/prog 2>/dev/null || rc=$?
expect_eq "exit for a missing program" "$rc" 127

if command -v man >/dev/null; then
	page=$PMEMTIER_SOURCE_DIR/docs/pmemtier-run.1
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 \
	    >/dev/null)
	expect_eq "groff warnings in pmemtier-run.1" "$warn" ""
	text=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$page" 2>/dev/null |
	    sed 's/.\x08//g')
	for opt in $("$RUN" -h 2>&1 | grep -oE -- '--[a-z-]+' | sort -u); do
		expect_match "man page documents $opt" "$text" "$opt"
	done
fi

seq 1 200000 | sort -R >"$PMT_DIR/in.txt"
want=$(sort -n "$PMT_DIR/in.txt" | md5sum)

pmt_note "standalone, a file tier in a directory"
mkdir "$PMT_DIR/files"
got=$(PMEMTIER_MODE=standalone "$RUN" --dir "$PMT_DIR/files" --debug \
    sort -n "$PMT_DIR/in.txt" 2>"$PMT_DIR/sort.log" | md5sum)
expect_eq "sort's output under pmemtier-run" "$got" "$want"
expect_match "bytes on the tier" "$(cat "$PMT_DIR/sort.log")" \
    'tier bytes allocated [1-9][0-9]{5,}'

pmt_note "the program's exit status comes through"
rc=0
"$RUN" --dir "$PMT_DIR/files" sh -c 'exit 7' || rc=$?
expect_eq "exit status" "$rc" 7

pmt_note "daemon tier, lease visible while the program runs"
pmt_daemon_start
"$RUN" --tier pmem --ratio 1:1 /usr/bin/python3 -c '
import sys, time
x = [bytes(1000) for i in range(20000)]
open(sys.argv[1], "w").close()
time.sleep(30)' "$PMT_DIR/ready" &
PMT_PIDS+=($!)
pid=$!
for _ in $(seq 1 100); do
	[ -e "$PMT_DIR/ready" ] && break
	sleep 0.1
done
[ -e "$PMT_DIR/ready" ] || pmt_fail "python3 under pmemtier-run did not start"
PMT_OUT=$("$TIERCTL" -s "$PMT_SOCK" --json leases --pid "$pid")
n=$(printf '%s' "$PMT_OUT" | jq '[.leases[] | select(.tier == "pmem")] |
    length')
[ "$n" -ge 1 ] || pmt_fail "no lease of pid $pid on pmem: $PMT_OUT"
pmt_stop_clients

pmt_note "a quota smaller than the working set: the rest goes to DRAM"
pmt_ctl_ok quota set --uid "$(id -u)" pmem 8M
out=$("$RUN" --tier pmem --ratio 1:4 --debug /usr/bin/python3 -c '
x = [bytes([i % 251]) * 4000 for i in range(20000)]
print(sum(b[0] for b in x))' 2>"$PMT_DIR/quota.log") ||
    pmt_fail "python3 over the quota failed: $(tail -5 "$PMT_DIR/quota.log")"
expect_eq "result over the quota" "$out" \
    "$(python3 -c 'print(sum(i % 251 for i in range(20000)))')"
expect_match "fallbacks to DRAM counted" "$(cat "$PMT_DIR/quota.log")" \
    'fallbacks to DRAM [1-9]'
echo "PASS"
