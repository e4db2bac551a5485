# boot: the harness's guest is what the other scenarios rely on: the
# NVDIMM region with its label area, the drivers loaded, a module tree
# libkmod can use, and the build tree's programs running with their
# libraries.
. /vm/lib.sh
vm_begin boot

vm_step "NVDIMM region present, ndctl sees it"
[ -e /sys/bus/nd/devices/region0 ] || vm_fail "no region0"
ndctl list -R >/tmp/r.json || vm_fail "ndctl list failed"
cat /tmp/r.json
assert_grep '"dev":"region0"' /tmp/r.json
assert_grep '"size":4[0-9]{9}' /tmp/r.json "region0 is not the 4 GiB NVDIMM"
ndctl list -D >/tmp/d.json || vm_fail "ndctl list -D failed"
assert_grep '"dev":"nmem0"' /tmp/d.json

vm_step "drivers loaded, module index present"
lsmod >/tmp/lsmod.txt
for m in nfit nd_pmem dax_pmem device_dax kmem xfs; do
	assert_grep "^$m " /tmp/lsmod.txt "module $m not loaded"
done
[ -s /lib/modules/"$(uname -r)"/modules.dep ] || vm_fail "no modules.dep for $(uname -r)"

vm_step "the build tree's programs run in the guest"
[ -n "${PMEMTIER_BUILD_DIR:-}" ] || vm_skip "PMEMTIER_BUILD_DIR not set"
vm_need_prog discovery_probe "$VM_PROBE"
vm_run "$VM_PROBE"
vm_pass
