# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers of the system_ tests on top of tests/cli/lib.sh: an install into
# a private DESTDIR, and cgroup v2 directories that are removed again.

. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh" || exit 1

PMT_CG_ROOT=
PMT_CG_MNT=

# The prefix the build was configured with (the units carry its paths).
pmt_prefix()
{
	sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' \
	    "$PMEMTIER_BUILD_DIR/CMakeCache.txt"
}

# pmt_install: `cmake --install` of the build into $PMT_DIR/dest; sets
# DEST (the DESTDIR) and PREFIX for the caller.
# shellcheck disable=SC2034
pmt_install()
{
	[ -f "$PMEMTIER_BUILD_DIR/CMakeCache.txt" ] ||
	    pmt_skip "no build tree at PMEMTIER_BUILD_DIR"
	DEST=$PMT_DIR/dest
	PREFIX=$(pmt_prefix)
	DESTDIR=$DEST cmake --install "$PMEMTIER_BUILD_DIR" \
	    >"$PMT_DIR/install.log" 2>&1 ||
	    pmt_fail "cmake --install failed: $(tail -5 "$PMT_DIR/install.log")"
}

# pmt_cgroup_setup: a private cgroup v2 directory to create children in;
# skips the test where cgroup v2 is not mounted or not writable.
pmt_cgroup_setup()
{
	local mnt
	mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$mnt" ] || pmt_skip "no cgroup2 filesystem mounted"
	grep -q '^0::' /proc/self/cgroup ||
	    pmt_skip "/proc/self/cgroup has no cgroup v2 (0::) line"
	PMT_CG_MNT=$mnt
	PMT_CG_ROOT=/pmt-test-$$
	mkdir "$mnt$PMT_CG_ROOT" 2>/dev/null || {
		PMT_CG_ROOT=
		pmt_skip "cannot create a cgroup under $mnt (not writable here)"
	}
}

# pmt_cgroup VAR NAME: creates $PMT_CG_ROOT/NAME and stores its v2 path
# (as /proc/PID/cgroup shows it) in VAR.
pmt_cgroup()
{
	mkdir "$PMT_CG_MNT$PMT_CG_ROOT/$2" || pmt_fail "mkdir cgroup $2"
	printf -v "$1" '%s' "$PMT_CG_ROOT/$2"
}

# Removes the test's cgroup tree, deepest first, once its processes are
# gone (the clients have been stopped by then; a cgroup empties a moment
# after its last process exits).
pmt_cgroup_cleanup()
{
	local top=$PMT_CG_MNT$PMT_CG_ROOT
	[ -n "$PMT_CG_ROOT" ] && [ -d "$top" ] || return 0
	for _ in $(seq 1 50); do
		find "$top" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$top" ] || return 0
		sleep 0.1
	done
	echo "warning: could not remove $top" >&2
}

# The process-killing part of pmt_cleanup must run before the cgroups go.
pmt_sys_cleanup()
{
	local rc=$?
	trap - EXIT
	pmt_stop_clients
	pmt_cgroup_cleanup
	(exit "$rc")
	pmt_cleanup
}

pmt_sys_setup()
{
	pmt_setup
	trap pmt_sys_cleanup EXIT
}
