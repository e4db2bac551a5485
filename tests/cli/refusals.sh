#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_refusals: a client looping on refused allocations must not flood the
# daemon's log (one did with ~4,500 "lease refused" lines). Per connection
# the first 5 refusals are logged in full, the rest are counted and summed
# up in one line per interval (10 s) and when the connection closes.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
pmt_setup
pmt_config
pmt_daemon_start
LOG=$PMT_DIR/pmemtierd.log

# wait_log PATTERN: up to 5 s for a line matching PATTERN (the daemon logs
# a connection's summary when it sees the close).
wait_log()
{
	for _ in $(seq 1 50); do
		grep -Eq -- "$1" "$LOG" && return 0
		sleep 0.1
	done
	return 1
}

# count PATTERN: lines of the log matching PATTERN.
count()
{
	grep -Ec -- "$1" "$LOG"
}

pmt_note "200 refusals in a row on one connection"
# 2G is more than the pmem tier's whole capacity: every request is refused.
"$LEASER" -s "$PMT_SOCK" -t pmem -z 2G -n 200 -k -x >"$PMT_DIR/flood.out" &
flood=$!
wait "$flood"
expect_eq "refusals the client saw" \
    "$(grep -c '^refused ERROR_NO_SPACE' "$PMT_DIR/flood.out")" 200
wait_log "pid $flood .*more lines not logged" ||
    pmt_fail "no summary line for pid $flood after it closed"
expect_eq "refusals logged in full" "$(count "pid $flood .*lease refused")" 5
expect_eq "summary lines" "$(count "pid $flood .*more lines not logged")" 1
expect_match "the summary counts the rest" "$(cat "$LOG")" \
    "pid $flood .*: 195 more lines not logged in the last [0-9]+ s \\(last: ERROR_NO_SPACE\\)\$"
expect_match "the first refusal says why" "$(cat "$LOG")" \
    "pid $flood .*lease refused: lease of 2 GiB is larger than tier pmem's whole capacity"

pmt_note "a second connection has its own budget"
"$LEASER" -s "$PMT_SOCK" -t pmem -z 2G -n 3 -k -x >/dev/null &
few=$!
wait "$few"
sleep 0.5
expect_eq "3 refusals, all logged" "$(count "pid $few .*lease refused")" 3
expect_eq "no summary for 3 refusals" "$(count "pid $few .*more lines not logged")" 0

pmt_note "one summary per interval while refusals go on"
# 11 refusals, 11 s of quiet, then one more: the summary of the first
# interval (6 not logged) comes with the 12th refusal, which starts the
# next interval, summed up at close.
"$LEASER" -s "$PMT_SOCK" -t pmem -z 2G -n 12 -k -p 11 -x >/dev/null &
slow=$!
sleep 5
expect_eq "logged before the pause" "$(count "pid $slow .*lease refused")" 5
expect_eq "no summary during the pause" \
    "$(count "pid $slow .*more lines not logged")" 0
wait "$slow"
wait_log "pid $slow .*: 1 more lines not logged" ||
    pmt_fail "no summary at close for pid $slow"
expect_eq "summary lines for pid $slow" \
    "$(count "pid $slow .*more lines not logged")" 2
expect_match "first interval's summary" "$(cat "$LOG")" \
    "pid $slow .*: 6 more lines not logged in the last 1[0-9] s"
expect_eq "still 5 lines in full" "$(count "pid $slow .*lease refused")" 5
