# vm-machine: cxl
# daemon_cxl_kmem: the daemon provisions the emulated CXL Type-3 device,
# opt-in per device, and serves it as a KMEM tier.
#   * without region = pmem in [device mem0] it touches nothing;
#   * with [device mem0] region = pmem, online = yes it makes a pmem region
#     on mem0 (libcxl), a devdax namespace named mem0 on it, onlines its
#     dax device as system RAM on node 1, and serves a kmem tier "mem0";
#     a memkind client's MEMKIND_DAX_KMEM pages land on node 1 and keep
#     what was written (the check that catches a host bridge whose
#     decoder was never committed: QEMU then drops every access);
#   * a restart finds the region and the onlined memory and adopts them:
#     no second region, nothing onlined again;
#   * tierctl shows the region as provisioned by the daemon.
# Data is kept to 4 MiB: the emulated device runs at 1-3 MB/s.
. /vm/lib.sh
vm_begin daemon_cxl_kmem
vm_need_cxl

DRAM="
[tier dram]
backend = file
path = @DIR@/tier-dram
capacity = 64M
default = yes
"
# mem0 opted in: a pmem region made, onlined as a kmem tier.
CONF="
[discovery]
enable = yes

[device mem0]
region = pmem
online = yes
$DRAM"

vm_step "[device mem0] without region = pmem: nothing is made"
pmtd_start "
[discovery]
enable = yes

[device mem0]
online = yes
$DRAM"
assert_eq "$(nregions)" 0 "a region was made without region = pmem"
assert_eq "$(cxl_field mem0 state)" candidate "mem0 is not a candidate"
pmtd_stop

vm_step "region = pmem: region, namespace, onlined, kmem tier"
pmtd_start "$CONF"
vm_run "$TIERCTL" tiers
pmtd_log
assert_eq "$(nregions)" 1 "the daemon did not make exactly one region"
R=$(cxl_field mem0 regions)
[ -n "$R" ] || vm_fail "mem0 is in no region"
assert_eq "$(cxl_field "$R" provisioned) $(cxl_field "$R" state) $(cxl_field "$R" committed)" \
	"true usable true" "region $R: provisioned, state, committed"
D=$(cxl_field "$R" devices)
[ -n "$D" ] || vm_fail "no device under $R"
assert_eq "$(dev_field "$D" state) $(dev_field "$D" mode) $(dev_field "$D" cxl_region) $(dev_field "$D" namespace_name)" \
	"onlined system-ram $R mem0" "device $D: state, mode, CXL region or namespace name"
assert_eq "$(tier_field mem0 backend) $(tier_field mem0 numa_node)" "kmem 1" \
	"no kmem tier mem0 on node 1"
on=$(node1_online_bytes)
[ "$on" -gt 0 ] || vm_fail "node 1 has no memory online"
assert_eq "$(tier_field mem0 capacity)" "$on" "tier mem0: capacity is not the $on bytes online"
assert_grep "mem0: made pmem region $R" $PMTD_DIR/log "the log does not say the region was made"

vm_step "a memkind client's MEMKIND_DAX_KMEM pages land on node 1, intact"
"$VM_CLIENT" kmem 4 >/tmp/k.out 2>&1
rc=$?
cat /tmp/k.out
assert_eq "$rc" 0 "vm_client kmem exited $rc (5: the memory did not keep what was written)"
assert_grep '^kmem: 4 of 4 MiB allocated; pages=1024 node0=0 node1=1024$' /tmp/k.out

vm_step "a restart adopts the region and the memory"
pmtd_stop
n=$(wc -l <$PMTD_DIR/log)
pmtd_start "$CONF"
tail -n +$((n + 1)) $PMTD_DIR/log >/tmp/log2
assert_eq "$(nregions)" 1 "a restart made another region"
assert_no_grep "made pmem region|made devdax|onlined" /tmp/log2 "the restart changed the device again"
assert_grep "region $R exists and is used as it is" /tmp/log2 "the restart does not say it adopts $R"
assert_eq "$(cxl_field "$R" state) $(cxl_field "$R" provisioned)" "usable false" \
	"after a restart $R: state, provisioned (this daemon did not make it)"
assert_eq "$(tier_field mem0 backend) $(tier_field mem0 numa_node)" "kmem 1" \
	"no kmem tier mem0 after a restart"
pmtd_stop
vm_pass
