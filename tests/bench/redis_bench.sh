#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# redis-benchmark throughput of Debian's redis-server under pmemtier-run
# (DRAM:pmem 1:4 on a private pmemtierd's file tier) as a ratio to the same
# redis without it, in the same run: the two servers are measured in turn,
# ROUNDS times, and the median of each is compared.
#
# usage: redis_bench.sh [-b build-dir] [-n requests] [-r rounds] [-t dir] [-d]
# -t: the file tier's directory (default: a private one under $TMPDIR; a
#     tmpfs such as /dev/shm leaves out the filesystem's writeback)
# -d: also the preload with DRAM as its only tier (its own cost alone)
set -eu

build=${PMEMTIER_BUILD_DIR:-$(pwd)}
n=100000
rounds=3
tierdir=
dram_only=
while getopts b:n:r:t:d opt; do
	case $opt in
	b) build=$OPTARG ;;
	n) n=$OPTARG ;;
	r) rounds=$OPTARG ;;
	t) tierdir=$OPTARG ;;
	d) dram_only=1 ;;
	*) echo "usage: $0 [-b build-dir] [-n requests] [-r rounds] [-t dir] [-d]" >&2
	   exit 2 ;;
	esac
done
for t in redis-server redis-benchmark redis-cli; do
	command -v $t >/dev/null || { echo "$t not installed" >&2; exit 77; }
done
run=$build/cmd/pmemtier-run
export PMEMTIER_PRELOAD=$build/client/preload/libpmemtier-preload.so
daemon=${PMEMTIERD:-$build/daemon/pmemtierd}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/redis_bench.XXXXXX")
mkdir "$tmp/tier" "$tmp/state"
[ -n "$tierdir" ] || tierdir=$tmp/tier
dpid= rpid=
cleanup() {
	[ -z "$rpid" ] || kill "$rpid" 2>/dev/null || true
	[ -z "$dpid" ] || kill "$dpid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cat >"$tmp/d.conf" <<CONF
[daemon]
socket = $tmp/d.sock
state_dir = $tmp/state

[tier pmem]
backend = file
path = $tierdir
capacity = 8G
default = yes
CONF
"$daemon" -d -f "$tmp/d.conf" 2>"$tmp/d.log" &
dpid=$!
for _ in $(seq 1 100); do [ -S "$tmp/d.sock" ] && break; sleep 0.1; done
export PMEMTIER_SOCKET=$tmp/d.sock

# bench WRAPPER...: one round, prints "SET GET" requests per second.
bench() {
	local sock=$tmp/r.sock set get
	rm -f "$sock"
	"$@" redis-server --port 0 --unixsocket "$sock" --save '' \
	    --appendonly no --dir "$tmp" >"$tmp/r.log" 2>&1 &
	rpid=$!
	for _ in $(seq 1 100); do
		[ "$(redis-cli -s "$sock" ping 2>/dev/null)" = PONG ] && break
		sleep 0.1
	done
	# Values of 1 to 16 KiB: -d 4096 for the sizes between.
	out=$(redis-benchmark -s "$sock" -t set,get -n "$n" -r 100000 \
	    -d 4096 --csv 2>/dev/null)
	set=$(printf '%s\n' "$out" | awk -F'"' '$2 == "SET" { print $4 }')
	get=$(printf '%s\n' "$out" | awk -F'"' '$2 == "GET" { print $4 }')
	redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1 || true
	wait "$rpid" 2>/dev/null || true
	rpid=
	echo "$set $get"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$tmp/plain.txt" ; : >"$tmp/tiered.txt" ; : >"$tmp/dram.txt"
for r in $(seq 1 "$rounds"); do
	bench env >>"$tmp/plain.txt"
	bench "$run" --tier pmem --ratio 1:4 -- >>"$tmp/tiered.txt"
	[ -z "$dram_only" ] || bench env LD_PRELOAD="$PMEMTIER_PRELOAD" \
	    MEMKIND_MEM_TIERS="KIND:DRAM,RATIO:1;POLICY:STATIC_RATIO" \
	    >>"$tmp/dram.txt"
done
ps=$(cut -d' ' -f1 "$tmp/plain.txt" | median)
pg=$(cut -d' ' -f2 "$tmp/plain.txt" | median)
ts=$(cut -d' ' -f1 "$tmp/tiered.txt" | median)
tg=$(cut -d' ' -f2 "$tmp/tiered.txt" | median)
printf '%-6s %12s %12s %7s\n' op plain pmemtier-run ratio
awk -v a="$ps" -v b="$ts" 'BEGIN { printf "%-6s %12.0f %12.0f %7.2f\n", "SET", a, b, b / a }'
awk -v a="$pg" -v b="$tg" 'BEGIN { printf "%-6s %12.0f %12.0f %7.2f\n", "GET", a, b, b / a }'
if [ -n "$dram_only" ]; then
	ds=$(cut -d' ' -f1 "$tmp/dram.txt" | median)
	dg=$(cut -d' ' -f2 "$tmp/dram.txt" | median)
	awk -v a="$ps" -v b="$ds" 'BEGIN { printf "%-6s %12.0f %12.0f %7.2f  (preload, DRAM only)\n", "SET", a, b, b / a }'
	awk -v a="$pg" -v b="$dg" 'BEGIN { printf "%-6s %12.0f %12.0f %7.2f  (preload, DRAM only)\n", "GET", a, b, b / a }'
fi
