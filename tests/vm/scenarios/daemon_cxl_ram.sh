# vm-machine: cxl
# daemon_cxl_ram: a volatile (ram) CXL region becomes a kmem tier through
# the same path as hmem dax devices. QEMU 7.2's cxl-type3 has persistent
# memory only (volatile-memdev came in QEMU 8.0) and Linux 6.1 cannot make
# ram regions (cxl create-region -t ram says "not supported yet", creates
# nothing and exits 0), so on this harness the scenario skips, saying so;
# the decisions for ram regions are unit-tested (vm_unit_discovery_cxl).
# Where the device has ram capacity and a ram region exists, it checks
# that the daemon lists the region with its dax devices.
. /vm/lib.sh
vm_begin daemon_cxl_ram
vm_need_cxl

ram=$(cxl list -m mem0 | json_str ram_size)
cxl list -m mem0 | grep -q '"ram_size"' ||
	vm_skip "mem0 has no volatile capacity: QEMU 7.2 emulates persistent CXL memory only (volatile-memdev needs QEMU 8.0) and Linux 6.1 cannot create ram regions; ram regions are covered by vm_unit_discovery_cxl"
cxl create-region -m -t ram -d decoder0.0 -w 1 mem0
R=$(cxl list -R | json_str region)
[ -n "$R" ] || vm_skip "cxl create-region -t ram made nothing on this kernel ($(uname -r)); ram size $ram"
pmtd_start "
[discovery]
enable = yes
"
vm_run "$TIERCTL" tiers
assert_eq "$(cxl_field "$R" mode)" ram \
	"region $R is not shown as a ram region"
[ -n "$(cxl_field "$R" devices)" ] ||
	vm_fail "no dax device listed under ram region $R"
pmtd_stop
vm_pass
