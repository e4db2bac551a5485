# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Shared by the cli_ and system_ shell tests: a private directory, a real
# pmemtierd on a socket in it, test clients holding leases (pmt_leaser),
# assertions, and a cleanup that leaves no process, file or socket behind.
#
# The caller sets LEASER (path of pmt_leaser) before sourcing when it needs
# clients. ctest passes PMEMTIERD and TIERCTL in the environment.

set -u

# The tests find the tree from their own place when ctest did not say.
PMEMTIER_SOURCE_DIR=${PMEMTIER_SOURCE_DIR:-$(cd "$(dirname \
    "${BASH_SOURCE[0]}")/../.." && pwd)}

PMT_DIR=
PMT_SOCK=
PMT_DAEMON_PID=
PMT_PIDS=()

pmt_skip()
{
	echo "SKIP: $*"
	exit 77
}

pmt_fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

pmt_note()
{
	echo "--- $*"
}

# expect_eq WHAT GOT WANT
expect_eq()
{
	if [ "$2" != "$3" ]; then
		pmt_fail "$1: got '$2', want '$3'"
	fi
	echo "ok: $1 = $3"
}

# expect_match WHAT TEXT EXTENDED-REGEX
expect_match()
{
	if ! printf '%s\n' "$2" | grep -Eq -- "$3"; then
		printf '%s\n' "$2" >&2
		pmt_fail "$1: no line matches /$3/"
	fi
	echo "ok: $1 matches /$3/"
}

# jq_eq WHAT FILTER WANT: FILTER (jq -r) over the last tierctl output.
jq_eq()
{
	expect_eq "$1" "$(printf '%s' "$PMT_OUT" | jq -r "$2")" "$3"
}

pmt_need_tools()
{
	[ -n "${TIERCTL:-}" ] && [ -x "$TIERCTL" ] ||
	    pmt_skip "tierctl is not built (TIERCTL unset)"
	command -v jq >/dev/null || pmt_skip "jq is not installed"
}

pmt_need_daemon()
{
	[ -n "${PMEMTIERD:-}" ] && [ -x "$PMEMTIERD" ] ||
	    pmt_skip "pmemtierd is not built (PMEMTIERD unset)"
}

# pmt_tier_allocated PID: bytes PID's kinds hold on the "pmem" tier, as
# its last usage report says.
pmt_tier_allocated()
{
	"$TIERCTL" -s "$PMT_SOCK" --json clients --pid "$1" |
	    jq '[.clients[].usage[]? | select(.tier == "pmem") |
		.allocated] | add // 0'
}

# pmt_expect_program_leases PID COMM: PID holds leases, all on "pmem",
# and tierctl names the client COMM.
pmt_expect_program_leases()
{
	local n
	PMT_OUT=$("$TIERCTL" -s "$PMT_SOCK" --json leases --pid "$1")
	jq_eq "$2's leases are on pmem" \
	    '[.leases[] | select(.tier != "pmem")] | length' 0
	n=$(printf '%s' "$PMT_OUT" | jq '.leases | length')
	[ "$n" -ge 1 ] || pmt_fail "no lease of $2 ($1) in tierctl leases"
	PMT_OUT=$("$TIERCTL" -s "$PMT_SOCK" --json clients --pid "$1")
	jq_eq "the client is $2" '.clients[0].comm' "$2"
}

# The tests of programs under pmemtier-run: skips unless pmemtier-run
# ($RUN), the preload library it names, the tools and the daemon are
# there, then sets up and points PMEMTIER_SOCKET at the test's socket.
pmt_run_setup()
{
	[ -n "${RUN:-}" ] && [ -x "$RUN" ] || pmt_skip "pmemtier-run is not built"
	[ -n "${PMEMTIER_PRELOAD:-}" ] && [ -f "$PMEMTIER_PRELOAD" ] ||
	    pmt_skip "libpmemtier-preload.so is not built"
	pmt_need_tools
	pmt_need_daemon
	pmt_setup
	export PMEMTIER_SOCKET=$PMT_SOCK
}

# Signals every client first, then reaps them: a client wrapped in a pid
# namespace (unshare ignores SIGTERM) ends only when its inner process
# does, and that one is in the list too.
pmt_stop_clients()
{
	local p
	for p in "${PMT_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PMT_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	PMT_PIDS=()
}

pmt_cleanup()
{
	local rc=$? p
	trap - EXIT
	pmt_stop_clients
	if ! pmt_daemon_stop && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$PMT_DIR" ]; then
		for p in "$PMT_DIR"/*.log; do
			[ -s "$p" ] || continue
			echo "--- $p:" >&2
			tail -n 40 "$p" >&2
		done
	fi
	[ -n "$PMT_DIR" ] && rm -rf "$PMT_DIR"
	exit "$rc"
}

# pmt_setup: a private directory, world-traversable so that a test running
# a client as another uid reaches the socket.
pmt_setup()
{
	PMT_DIR=$(mktemp -d /tmp/pmt-test.XXXXXX) || exit 1
	chmod 0755 "$PMT_DIR"
	PMT_SOCK=$PMT_DIR/pmemtierd.sock
	mkdir -p "$PMT_DIR/state" "$PMT_DIR/tier-pmem"
	trap pmt_cleanup EXIT
	trap 'exit 1' INT TERM
}

# pmt_config [EXTRA_INI]: the testd configuration (tests/lib/testd.h),
# with EXTRA_INI appended.
# shellcheck disable=SC2120
pmt_config()
{
	cat >"$PMT_DIR/pmemtierd.conf" <<-EOF
	[daemon]
	socket = $PMT_SOCK
	socket_mode = 0666
	state_dir = $PMT_DIR/state
	log_level = debug

	[tier pmem]
	backend = file
	path = $PMT_DIR/tier-pmem
	capacity = 1G
	default = yes

	[tier kmem]
	backend = kmem
	node = 0
	capacity = 256M
	EOF
	if [ $# -gt 0 ]; then
		printf '%s\n' "$1" >>"$PMT_DIR/pmemtierd.conf"
	fi
}

# Waits until a daemon answers on the socket (tierctl exits 3 until then).
pmt_wait_socket()
{
	for _ in $(seq 1 100); do
		if [ -S "$PMT_SOCK" ]; then
			"$TIERCTL" -s "$PMT_SOCK" tiers >/dev/null 2>&1
			[ $? -ne 3 ] && return 0
		fi
		if [ -n "$PMT_DAEMON_PID" ] &&
		    ! kill -0 "$PMT_DAEMON_PID" 2>/dev/null; then
			pmt_fail "pmemtierd exited during start-up"
		fi
		sleep 0.1
	done
	pmt_fail "pmemtierd did not answer on $PMT_SOCK within 10 s"
}

# pmt_daemon_start: runs pmemtierd on the written config.
pmt_daemon_start()
{
	[ -f "$PMT_DIR/pmemtierd.conf" ] || pmt_config
	"$PMEMTIERD" -d -f "$PMT_DIR/pmemtierd.conf" \
	    2>>"$PMT_DIR/pmemtierd.log" &
	PMT_DAEMON_PID=$!
	pmt_wait_socket
}

# pmt_daemon_stop: SIGTERM; the daemon must be gone within 10 s with exit
# status 0 (a clean shutdown). Returns 1, after saying why, otherwise.
pmt_daemon_stop()
{
	local st=0
	[ -n "$PMT_DAEMON_PID" ] || return 0
	kill -TERM "$PMT_DAEMON_PID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$PMT_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PMT_DAEMON_PID" 2>/dev/null; then
		kill -KILL "$PMT_DAEMON_PID"
		wait "$PMT_DAEMON_PID" 2>/dev/null
		PMT_DAEMON_PID=
		echo "FAIL: pmemtierd ignored SIGTERM" >&2
		return 1
	fi
	wait "$PMT_DAEMON_PID" 2>/dev/null || st=$?
	PMT_DAEMON_PID=
	if [ "$st" -ne 0 ]; then
		echo "FAIL: pmemtierd exited with status $st on SIGTERM" >&2
		return 1
	fi
	return 0
}

# pmt_leaser VAR [PREFIX...] -- [LEASER_ARGS...]: starts a client that
# holds leases (PREFIX runs it, e.g. "setpriv --reuid 65534"), waits until
# it has them, and stores its pid in VAR and its output in
# $PMT_DIR/VAR.out. The client is killed by pmt_cleanup.
pmt_leaser()
{
	local var=$1 pid prefix=()
	shift
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		prefix+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	"${prefix[@]}" "$LEASER" -s "$PMT_SOCK" "$@" >"$PMT_DIR/$var.out" \
	    2>"$PMT_DIR/$var.log" &
	pid=$!
	PMT_PIDS+=("$pid")
	for _ in $(seq 1 100); do
		grep -q '^ready$' "$PMT_DIR/$var.out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null ||
		    pmt_fail "client $var exited: $(cat "$PMT_DIR/$var.out" \
		    "$PMT_DIR/$var.log")"
		sleep 0.05
	done
	grep -q '^refused' "$PMT_DIR/$var.out" &&
	    pmt_fail "client $var was refused: $(cat "$PMT_DIR/$var.out")"
	printf -v "$var" '%s' "$pid"
}

# pmt_try_grant [PREFIX...] -- [LEASER_ARGS...]: one client asks for a
# lease and exits; prints "granted" or the refusal's error code.
pmt_try_grant()
{
	local prefix=() out
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		prefix+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	out=$("${prefix[@]}" "$LEASER" -s "$PMT_SOCK" -x "$@" 2>&1)
	case $out in
	*"refused "*) printf '%s\n' "$out" | awk '/^refused/ { print $2 }' ;;
	*"lease "*) echo granted ;;
	*) echo "error: $out" ;;
	esac
}

# pmt_leaser_stop PID: ends one client (its leases go with its connection).
pmt_leaser_stop()
{
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# pmt_ctl [PREFIX...] -- ARGS: runs tierctl on the test socket, stdout in
# $PMT_OUT, stderr in $PMT_ERR, exit status in $PMT_RC. A daemon that
# answers ERROR_UNSUPPORTED lacks the feature: the test is skipped.
pmt_ctl()
{
	local prefix=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		prefix+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	PMT_RC=0
	"${prefix[@]}" "$TIERCTL" -s "$PMT_SOCK" "$@" >"$PMT_DIR/ctl.out" \
	    2>"$PMT_DIR/ctl.err" || PMT_RC=$?
	PMT_OUT=$(cat "$PMT_DIR/ctl.out")
	PMT_ERR=$(cat "$PMT_DIR/ctl.err")
	if [ "$PMT_RC" -eq 1 ] && grep -q ERROR_UNSUPPORTED "$PMT_DIR/ctl.err"
	then
		pmt_skip "daemon lacks '$*': $PMT_ERR"
	fi
}

# pmt_ctl_ok ARGS: pmt_ctl that must succeed.
pmt_ctl_ok()
{
	pmt_ctl -- "$@"
	[ "$PMT_RC" -eq 0 ] ||
	    pmt_fail "tierctl $* exited $PMT_RC: $PMT_ERR"
}
