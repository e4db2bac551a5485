#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_redis: Debian's redis-server, unmodified, under pmemtier-run on a
# real daemon's "pmem" tier at 1:4. redis-benchmark stores values of 1 KiB
# and 16 KiB with a BGSAVE (a fork child reading the heap) during the run;
# then redis-cli reads back keys written before, the dump checks out, the
# server's leases show in tierctl with its pid, and the tier holds 80% of
# redis' heap within 10% (the daemon's usage report against redis'
# used_memory). Then a quota smaller than the working set: the rest goes
# to DRAM and redis answers every command.
. "$(dirname "$0")/../cli/lib.sh" || exit 1
for t in redis-server redis-cli redis-benchmark; do
	command -v $t >/dev/null || pmt_skip "$t not installed (redis-server, redis-tools)"
done
pmt_run_setup
pmt_daemon_start

RSOCK=$PMT_DIR/redis.sock
REDIS_PID=

rcli()
{
	redis-cli -s "$RSOCK" "$@"
}

# redis_start [pmemtier-run options]: redis on a unix socket, no saving
# unless asked.
redis_start()
{
	"$RUN" --tier pmem "$@" -- redis-server --port 0 \
	    --unixsocket "$RSOCK" --save '' --appendonly no \
	    --dir "$PMT_DIR" >>"$PMT_DIR/redis.log" 2>&1 &
	REDIS_PID=$!
	PMT_PIDS+=("$REDIS_PID")
	for _ in $(seq 1 100); do
		[ "$(rcli ping 2>/dev/null)" = PONG ] && return 0
		kill -0 "$REDIS_PID" 2>/dev/null ||
		    pmt_fail "redis-server under pmemtier-run exited"
		sleep 0.1
	done
	pmt_fail "redis-server did not answer within 10 s"
}

redis_stop()
{
	rcli shutdown nosave >/dev/null 2>&1
	wait "$REDIS_PID"
	REDIS_PID=
	PMT_PIDS=()
}

# Keys with known values, then checked.
fill_known()
{
	for i in $(seq 1 500); do
		echo "SET known:$i value-$i-$(printf '%0*d' $((i * 7)) 0)"
	done | rcli >/dev/null
}

check_known()
{
	local i bad=0
	for i in 1 2 77 250 499 500; do
		[ "$(rcli get "known:$i")" = \
		    "value-$i-$(printf '%0*d' $((i * 7)) 0)" ] || bad=$((bad + 1))
	done
	expect_eq "$1: known keys read back" "$bad" 0
}

pmt_note "redis at DRAM:pmem 1:4, benchmark with a BGSAVE"
redis_start --ratio 1:4
fill_known
redis-benchmark -s "$RSOCK" -t set,get -n 20000 -r 5000 -d 1024 -q \
    >"$PMT_DIR/bench1.txt" 2>&1 || pmt_fail "redis-benchmark (1 KiB) failed"
redis-benchmark -s "$RSOCK" -t set,get -n 20000 -r 5000 -d 16384 -q \
    >"$PMT_DIR/bench2.txt" 2>&1 &
bench=$!
sleep 0.3
expect_eq "BGSAVE accepted" "$(rcli bgsave)" "Background saving started"
wait "$bench" || pmt_fail "redis-benchmark (16 KiB) failed"
for _ in $(seq 1 100); do
	[ "$(rcli info persistence | tr -d '\r' |
	    sed -n 's/^rdb_bgsave_in_progress://p')" = 0 ] && break
	sleep 0.1
done
expect_eq "BGSAVE status" "$(rcli info persistence | tr -d '\r' |
    sed -n 's/^rdb_last_bgsave_status://p')" ok
if command -v redis-check-rdb >/dev/null; then
	redis-check-rdb "$PMT_DIR/dump.rdb" >"$PMT_DIR/check.txt" 2>&1 ||
	    pmt_fail "redis-check-rdb: $(tail -3 "$PMT_DIR/check.txt")"
fi
check_known "after the benchmark"
n=$(rcli dbsize)
[ "$n" -gt 5000 ] || pmt_fail "only $n keys after the benchmark"

pmt_expect_program_leases "$REDIS_PID" redis-server

# The usage report is sent when leases change or the daemon asks; give it
# a moment after the last write.
sleep 1
tier=$(pmt_tier_allocated "$REDIS_PID")
used=$(rcli info memory | tr -d '\r' | sed -n 's/^used_memory://p')
pmt_note "tier allocated $tier of used_memory $used"
awk -v t="$tier" -v u="$used" 'BEGIN { f = t / u;
    exit !(f > 0.8 * 0.9 && f < 0.8 * 1.1) }' ||
    pmt_fail "tier share $tier/$used is not 80% within 10%"
redis_stop

pmt_note "a 16M quota under a working set of some 100 MB"
pmt_ctl_ok quota set --uid "$(id -u)" pmem 16M
rm -f "$PMT_DIR/dump.rdb"
redis_start --ratio 1:4 --debug
fill_known
redis-benchmark -s "$RSOCK" -t set,get -n 20000 -r 5000 -d 16384 -q \
    >"$PMT_DIR/bench3.txt" 2>&1 || pmt_fail "redis-benchmark over quota failed"
if grep -qi error "$PMT_DIR/bench3.txt"; then
	pmt_fail "redis-benchmark saw errors: $(grep -i error \
	    "$PMT_DIR/bench3.txt" | head -3)"
fi
check_known "over the quota"
tier=$(pmt_tier_allocated "$REDIS_PID")
[ "$tier" -le $((16 << 20)) ] || pmt_fail "tier holds $tier, over the quota"
used=$(rcli info memory | tr -d '\r' | sed -n 's/^used_memory://p')
[ "$used" -gt $((64 << 20)) ] || pmt_fail "redis holds only $used bytes"
# The refusals reach tierctl with the next usage report, sent when a
# lease comes or goes: FLUSHALL frees the tier's blocks, whose leases go
# back once purged.
check_known "over the quota, before FLUSHALL"
rcli flushall >/dev/null
refused=0
for _ in $(seq 1 50); do
	refused=$("$TIERCTL" -s "$PMT_SOCK" --json clients --pid "$REDIS_PID" |
	    jq '[.clients[].usage[]? | .refused] | add // 0')
	[ "$refused" -gt 0 ] && break
	rcli set "poke:$RANDOM" "$(head -c 20000 /dev/zero | tr '\0' x)" \
	    >/dev/null
	sleep 0.2
done
[ "$refused" -gt 0 ] || pmt_fail "no refusals in tierctl clients"
pmt_note "tierctl clients: $refused allocations refused by the tier"
redis_stop
expect_match "fallbacks to DRAM counted" "$(cat "$PMT_DIR/redis.log")" \
    'fallbacks to DRAM [1-9]'
echo "PASS"
