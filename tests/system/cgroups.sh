#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_cgroups: a cgroup is a principal. Processes placed in two cgroups
# created for the test get separate quotas (set with tierctl, by cgroup
# path) and show as separate principals in tierctl status; processes of one
# cgroup share its quota; one glob rule (as for Kubernetes pods) gives each
# matching cgroup its own bucket, shared with the cgroups below it.
. "$(dirname "$0")/syslib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
pmt_sys_setup
pmt_cgroup_setup
pmt_cgroup A a
pmt_cgroup B b
pmt_cgroup C pod-c
pmt_cgroup D pod-d
pmt_cgroup E pod-c/inner
pmt_config
pmt_daemon_start

# in_cg CGROUP: a command prefix that moves the process into CGROUP first.
in_cg()
{
	IN_CG=(bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"'
	    "$PMT_CG_MNT$1")
}

# try_grant CGROUP SIZE: "granted" or the refusal's code.
try_grant()
{
	in_cg "$1"
	pmt_try_grant "${IN_CG[@]}" -- -t pmem -z "$2"
}

pmt_ctl_ok quota set --cgroup "$A" pmem 8M
pmt_ctl_ok quota set --cgroup "$B" pmem 16M
pmt_ctl_ok quota set --cgroup "$PMT_CG_ROOT/pod-*" pmem 1M

in_cg "$A"
pmt_leaser A1 "${IN_CG[@]}" -- -t pmem -z 8M -n 1 -l a1
expect_eq "A: another process over A's 8M" "$(try_grant "$A" 4K)" ERROR_QUOTA
in_cg "$B"
pmt_leaser B1 "${IN_CG[@]}" -- -t pmem -z 12M -n 1 -l b1
expect_eq "B: 4M more within B's 16M" "$(try_grant "$B" 4M)" granted
expect_eq "B: 8M more over B's 16M" "$(try_grant "$B" 8M)" ERROR_QUOTA
expect_eq "the test's own cgroup is unlimited" \
    "$(try_grant "$(sed -n 's/^0:://p' /proc/self/cgroup)" 64M)" granted

# One glob rule, one bucket per matching cgroup.
in_cg "$C"
pmt_leaser C1 "${IN_CG[@]}" -- -t pmem -z 1M -n 1 -l c1
expect_eq "pod-c: over the glob's 1M" "$(try_grant "$C" 4K)" ERROR_QUOTA
expect_eq "pod-d: its own 1M bucket" "$(try_grant "$D" 1M)" granted
# A process in a cgroup below pod-c (a container of the pod) matches the
# rule through its ancestor and shares pod-c's bucket.
expect_eq "pod-c/inner: shares pod-c's full 1M" "$(try_grant "$E" 4K)" \
    ERROR_QUOTA

pmt_ctl_ok -j status
jq_cg()
{
	printf '%s' "$PMT_OUT" | jq -r ".clients[] | select(.pid == $1) | .cgroup"
}
expect_eq "A1's principal" "$(jq_cg "$A1")" "$A"
expect_eq "B1's principal" "$(jq_cg "$B1")" "$B"
expect_eq "C1's principal" "$(jq_cg "$C1")" "$C"
pmt_ctl_ok -j leases --cgroup "$PMT_CG_ROOT"
expect_eq "leases under the test's cgroups" \
    "$(printf '%s' "$PMT_OUT" | jq -r '[.leases[].label] | sort | join(",")')" \
    "a1,b1,c1"
pmt_ctl_ok -j leases --cgroup "$A"
expect_eq "leases of A only" \
    "$(printf '%s' "$PMT_OUT" | jq -r '[.leases[].label] | join(",")')" a1
pmt_ctl_ok clients --cgroup "$B"
expect_match "human: B's client row" "$PMT_OUT" " $B1 +pmt_leaser .* $B\$"
