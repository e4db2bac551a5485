#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_k8s_example: the configuration in docs/examples/k8s (the
# DaemonSet's ConfigMap) is accepted by pmemtierd, and its quota rules do
# what docs/containers.md says on a cgroup tree shaped like the kubelet's
# (systemd driver): one bucket per pod, shared by the pod's containers,
# for Burstable and Guaranteed pods alike. The tree is built under the
# test's own cgroup (the rules' /kubepods.slice prefix is moved there) and
# the limits are scaled from GiB to MiB; everything else is the file as
# shipped.
. "$(dirname "$0")/syslib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
yaml=$PMEMTIER_SOURCE_DIR/docs/examples/k8s/pmemtierd-daemonset.yaml
[ -f "$yaml" ] || pmt_skip "no $yaml"
pmt_sys_setup
pmt_cgroup_setup

# The ConfigMap's pmemtierd.conf, as a pod would see it.
awk '/pmemtierd.conf: \|/ { on = 1; next }
    on && /^    / { sub(/^    /, ""); print; next }
    on && /^[^ ]/ { on = 0 }' "$yaml" >"$PMT_DIR/k8s.conf"
grep -q '^\[quota ' "$PMT_DIR/k8s.conf" || pmt_fail "no quota rule in $yaml"

# Only what cannot exist here is changed: paths, the group, the fsdax tier
# (a file tier here), the cgroup prefix and the unit of the limits.
sed -e "s|^socket = .*|socket = $PMT_SOCK|" \
    -e "s|^socket_mode = .*|socket_mode = 0666|" \
    -e "s|^socket_group = .*|socket_group = root|" \
    -e "s|^state_dir = .*|state_dir = $PMT_DIR/state|" \
    -e "s|^backend = fsdax|backend = file|" \
    -e "s|^path = .*|path = $PMT_DIR/tier-pmem|" \
    -e "s|^cgroup = /kubepods.slice|cgroup = $PMT_CG_ROOT/kubepods.slice|" \
    -e "s|^limit = \([0-9]*\)G|limit = \1M|" \
    "$PMT_DIR/k8s.conf" >"$PMT_DIR/pmemtierd.conf"
"$PMEMTIERD" -n -f "$PMT_DIR/pmemtierd.conf" >"$PMT_DIR/check.log" 2>&1 ||
    pmt_fail "pmemtierd -n rejects the example: $(cat "$PMT_DIR/check.log")"
pmt_daemon_start

pmt_ctl_ok -j quota list
expect_eq "example rules loaded" \
    "$(printf '%s' "$PMT_OUT" | jq -r '[.rules[] | "\(.type) \(.tier) \(.limit) \(.origin)"] | unique | join(",")')" \
    "cgroup pmem $((8 << 20)) config"
expect_eq "example rule count" "$(printf '%s' "$PMT_OUT" | jq '.rules | length')" 2

# The kubelet's tree: two Burstable pods with two containers each, one
# Guaranteed pod.
K=kubepods.slice
B=$K/kubepods-burstable.slice
mkdir -p "$PMT_CG_MNT$PMT_CG_ROOT/$B" || pmt_fail "mkdir $B"
for c in \
    "$B/kubepods-burstable-pod11111111_aaaa.slice/cri-containerd-c1.scope" \
    "$B/kubepods-burstable-pod11111111_aaaa.slice/cri-containerd-c2.scope" \
    "$B/kubepods-burstable-pod22222222_bbbb.slice/cri-containerd-c3.scope" \
    "$K/kubepods-pod33333333_cccc.slice/cri-containerd-c4.scope"; do
	mkdir -p "$PMT_CG_MNT$PMT_CG_ROOT/$c" || pmt_fail "mkdir $c"
done
cg()
{
	case $1 in
	c1|c2) echo "$PMT_CG_ROOT/$B/kubepods-burstable-pod11111111_aaaa.slice/cri-containerd-$1.scope" ;;
	c3) echo "$PMT_CG_ROOT/$B/kubepods-burstable-pod22222222_bbbb.slice/cri-containerd-$1.scope" ;;
	c4) echo "$PMT_CG_ROOT/$K/kubepods-pod33333333_cccc.slice/cri-containerd-$1.scope" ;;
	esac
}
in_cg()
{
	IN_CG=(bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"'
	    "$PMT_CG_MNT$(cg "$1")")
}
try_grant()
{
	in_cg "$1"
	pmt_try_grant "${IN_CG[@]}" -- -t pmem -z "$2"
}

in_cg c1
pmt_leaser C1 "${IN_CG[@]}" -- -t pmem -z 6M -n 1 -l c1
expect_eq "pod 1, other container: shares the pod's 8M" \
    "$(try_grant c2 4M)" ERROR_QUOTA
expect_eq "pod 1, other container: within the pod's 8M" \
    "$(try_grant c2 2M)" granted
expect_eq "pod 2 (Burstable): its own 8M" "$(try_grant c3 6M)" granted
in_cg c4
pmt_leaser C4 "${IN_CG[@]}" -- -t pmem -z 8M -n 1 -l c4
expect_eq "pod 3 (Guaranteed): limited too" "$(try_grant c4 4K)" ERROR_QUOTA
pmt_ctl_ok -j clients --pid "$C1"
expect_eq "client's principal is its container cgroup" \
    "$(printf '%s' "$PMT_OUT" | jq -r '.clients[0].cgroup')" "$(cg c1)"
