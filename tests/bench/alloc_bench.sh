#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs the four alloc_bench binaries on this machine, pmemtier in both
# modes (daemon mode against a private pmemtierd), and prints one table of
# ns per malloc+free pair, pairs/s and the ratios the targets are about.
#
# usage: alloc_bench.sh [-b build-dir] [-n pairs] [-r repeats] [-o data-file]
# The data file (default: none) feeds alloc_bench.gp for the plot.
set -eu

build=${PMEMTIER_BUILD_DIR:-$(pwd)}
pairs=3000000
repeats=5
data=
while getopts b:n:r:o: opt; do
	case $opt in
	b) build=$OPTARG ;;
	n) pairs=$OPTARG ;;
	r) repeats=$OPTARG ;;
	o) data=$OPTARG ;;
	*) echo "usage: $0 [-b build-dir] [-n pairs] [-r repeats] [-o data]" >&2
	   exit 2 ;;
	esac
done
bin=$build/tests/bench
daemon=${PMEMTIERD:-$build/daemon/pmemtierd}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alloc_bench.XXXXXX")
dpid=
cleanup() {
	if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || :; wait "$dpid" || :; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

run() {	# label, env..., binary
	label=$1; shift
	env "$@" -n "$pairs" -r "$repeats" -d "$tmp/pmem" |
	    sed "s/^pmemtier /$label /" >>"$tmp/raw"
}

mkdir -p "$tmp/pmem"
: >"$tmp/raw"
run glibc "$bin/alloc_bench_glibc"
run jemalloc "$bin/alloc_bench_jemalloc"
if [ -x "$bin/alloc_bench_memkind" ]; then
	run memkind-1.14 "$bin/alloc_bench_memkind"
fi
run pmemtier-standalone PMEMTIER_MODE=standalone "$bin/alloc_bench_pmemtier"
if [ -x "$daemon" ]; then
	cat >"$tmp/pmemtierd.conf" <<CONF
[daemon]
socket = $tmp/pmemtierd.sock
state_dir = $tmp/state
[tier pmem]
backend = file
path = $tmp/pmem
capacity = 4G
default = yes
CONF
	"$daemon" -d -f "$tmp/pmemtierd.conf" 2>"$tmp/pmemtierd.log" &
	dpid=$!
	i=0
	while [ ! -S "$tmp/pmemtierd.sock" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	run pmemtier-daemon PMEMTIER_MODE=daemon \
	    PMEMTIER_SOCKET="$tmp/pmemtierd.sock" "$bin/alloc_bench_pmemtier"
fi

# Columns of raw: allocator variant size threads ns/pair pairs/s
awk '
function key(a, v, s, t) { return a "|" v "|" s "|" t }
{ ns[key($1, $2, $3, $4)] = $5; rate[key($1, $2, $3, $4)] = $6; row[NR] = $0 }
END {
	printf "%-20s %-11s %5s %3s %9s %13s %9s %9s %9s\n", "allocator",
	    "free", "size", "thr", "ns/pair", "pairs/s", "vs jemal", "vs mk1.14",
	    "2thr/1thr"
	for (i = 1; i <= NR; i++) {
		split(row[i], f, " ")
		je = ns[key("jemalloc", "free(kind)", f[3], f[4])]
		mk = ns[key("memkind-1.14", f[2], f[3], f[4])]
		one = rate[key(f[1], f[2], f[3], 1)]
		printf "%-20s %-11s %5s %3s %9.2f %13.0f %9s %9s %9s\n", f[1],
		    f[2], f[3], f[4], f[5], f[6],
		    je ? sprintf("%.2fx", f[5] / je) : "-",
		    mk ? sprintf("%.1fx", mk / f[5]) : "-",
		    f[4] == 2 && one ? sprintf("%.2fx", f[6] / one) : "-"
	}
	print ""
	print "vs jemal:  time per pair relative to jemalloc malloc/free (target <= 1.5x)"
	print "vs mk1.14: how many times faster than memkind 1.14, same free variant (target >= 4x)"
	print "2thr/1thr: pairs/s of 2 threads over 1 thread (target >= 1.9x)"
	for (i = 1; i <= NR; i++) {
		split(row[i], f, " ")
		if (f[2] != "free(NULL)")
			continue
		k = ns[key(f[1], "free(kind)", f[3], f[4])]
		if (k)
			printf "free(NULL)/free(kind) %-20s %5s B %d thr: %.3f (target <= 1.05)\n",
			    f[1], f[3], f[4], f[5] / k
	}
}' "$tmp/raw"
if [ -n "$data" ]; then
	cp "$tmp/raw" "$data"
fi
