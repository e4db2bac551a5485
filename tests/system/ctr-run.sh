#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ctr-run.sh CGROUP_DIR SOCKET_DIR COMMAND...: runs COMMAND the way a
# container runtime would: in the cgroup CGROUP_DIR (a cgroup v2
# directory), in new mount, pid and cgroup namespaces with its own /proc,
# with SOCKET_DIR bind-mounted at /mnt/run and hidden at its own path. A
# client inside reaches pmemtierd only as /mnt/run/pmemtierd.sock, and sees
# its cgroup as "/" and itself as pid 1: none of that is what the daemon
# must go by.
set -eu
if [ "${1:-}" = --inner ]; then
	sockdir=$2
	shift 2
	mount -t tmpfs pmt-ctr /mnt
	mkdir /mnt/run
	mount --bind "$sockdir" /mnt/run
	mount -t tmpfs pmt-hide "$sockdir"
	exec "$@"
fi
cg=$1
sockdir=$2
shift 2
echo $$ >"$cg/cgroup.procs"
exec unshare --mount --pid --cgroup --fork --kill-child --mount-proc \
    --propagation private "$0" --inner "$sockdir" "$@"
