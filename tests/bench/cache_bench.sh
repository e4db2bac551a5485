#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs cache_bench (see cache_bench.c) for memkind 1.14 (when built) and
# libpmemtier in standalone mode and against a private pmemtierd, and
# prints their tables one after the other.
#
# usage: cache_bench.sh [-b build-dir] [-n objects] [-i idle-seconds] [-a]
# -a: also memkind with its background threads on, and libpmemtier with
# its background purge off (what it did before it had one).
set -eu

build=${PMEMTIER_BUILD_DIR:-$(pwd)}
args=
all=
while getopts b:n:i:a opt; do
	case $opt in
	b) build=$OPTARG ;;
	n) args="$args -n $OPTARG" ;;
	i) args="$args -i $OPTARG" ;;
	a) all=1 ;;
	*) echo "usage: $0 [-b build-dir] [-n objects] [-i idle-seconds] [-a]" >&2
	   exit 2 ;;
	esac
done
bin=$build/tests/bench
daemon=${PMEMTIERD:-$build/daemon/pmemtierd}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cache_bench.XXXXXX")
dpid=
cleanup() {
	if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || :; wait "$dpid" || :; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/pmem"

if [ -x "$bin/cache_bench_memkind" ]; then
	echo "== memkind 1.14"
	# shellcheck disable=SC2086
	"$bin/cache_bench_memkind" -d "$tmp/pmem" $args
	if [ -n "$all" ]; then
		echo "== memkind 1.14, memkind_set_bg_threads(true)"
		# shellcheck disable=SC2086
		"$bin/cache_bench_memkind" -d "$tmp/pmem" -g on $args
	fi
fi
echo "== libpmemtier, standalone"
# shellcheck disable=SC2086
PMEMTIER_MODE=standalone "$bin/cache_bench_pmemtier" -d "$tmp/pmem" $args
if [ -n "$all" ]; then
	echo "== libpmemtier, standalone, memkind_set_bg_threads(false)"
	# shellcheck disable=SC2086
	PMEMTIER_MODE=standalone "$bin/cache_bench_pmemtier" -d "$tmp/pmem" \
	    -g off $args
fi
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
	echo "== libpmemtier, daemon"
	# shellcheck disable=SC2086
	PMEMTIER_MODE=daemon PMEMTIER_SOCKET="$tmp/pmemtierd.sock" \
	    "$bin/cache_bench_pmemtier" -d "$tmp/pmem" $args
fi
echo
echo "ns/op: the allocator calls of the phase only; phase/op: ns per object"
echo "of the whole phase, with the first writes of what it stored; live: bytes"
echo "asked for and not freed; file: st_blocks of this process's kind files;"
echo "granted and physical: the daemon's TierInfo for the tier (physical:"
echo "admins only)."
