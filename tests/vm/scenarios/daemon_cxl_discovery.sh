# vm-machine: cxl
# daemon_cxl_discovery: pmemtierd sees the emulated CXL Type-3 device
# through libcxl and shows it in tierctl tiers / status (JSON "cxl",
# human CXL section), as it goes through an operator's hands:
#   * at start: memdev mem0 (512 MiB pmem, no ram) with no region is a
#     candidate whose reason names the command, root decoder decoder0.0
#     (the 4 GiB window, ram and pmem capable) is listed;
#   * after cxl create-region by hand and a rescan: region0 (pmem,
#     committed, enabled) lacks a namespace and says so; mem0 is in it;
#   * after ndctl create-namespace -m devdax and a rescan: region0 is
#     usable with dax0.0 under it, and the device dax0.0 in the devices
#     list says which CXL region it comes from;
#   * after cxl disable-region and a rescan: region0 is skipped with what
#     to do; after cxl enable-region, libnvdimm's region is still
#     disabled and that is reported;
#   * after cxl destroy-region mem0 is a candidate again and a new region
#     can be made on it (teardown leaves the device reusable).
#   The daemon changes nothing on the device throughout.
. /vm/lib.sh
vm_begin daemon_cxl_discovery
vm_need_cxl

vm_step "the daemon at start, the device untouched"
pmtd_start "
[discovery]
enable = yes

[tier dram]
backend = file
path = @DIR@/tier-dram
capacity = 64M
default = yes
"
vm_run "$TIERCTL" tiers
"$TIERCTL" -j tiers | jq -M '.cxl'
assert_eq "$("$TIERCTL" -j tiers | jq -r '[.cxl[] | .kind + ":" + .name] | join(" ")')" \
	"memdev:mem0 decoder:decoder0.0" "tierctl does not list exactly mem0 and decoder0.0"
assert_eq "$(cxl_field mem0 pmem_size) $(cxl_field mem0 ram_size) $(cxl_field mem0 mode)" \
	"536870912 0 pmem" "mem0: sizes or mode"
assert_eq "$(cxl_field mem0 state) $(cxl_field mem0 enabled) $(cxl_field mem0 decoders) $(cxl_field mem0 regions)" \
	"candidate true decoder0.0 " "mem0: state, enabled, decoders or regions"
[ -n "$(cxl_field mem0 host)" ] && [ "$(cxl_field mem0 port)" = port1 ] ||
	vm_fail "mem0: host '$(cxl_field mem0 host)' or port '$(cxl_field mem0 port)'"
cxl_field mem0 reason | grep -q 'cxl create-region -m -t pmem -d decoder0.0 mem0' ||
	vm_fail "mem0: the reason does not say how to make a region"
assert_eq "$(cxl_field decoder0.0 size) $(cxl_field decoder0.0 mode) $(cxl_field decoder0.0 bus)" \
	"4294967296 ram,pmem root0" "decoder0.0: size, capabilities or bus"
assert_eq "$("$TIERCTL" -j status | jq -r '.cxl_total')" 2 "tierctl status: cxl_total"
"$TIERCTL" tiers >/tmp/tiers.txt
assert_grep '^CXL +KIND +MODE +SIZE +NODE +STATE +WHERE/REASON$' /tmp/tiers.txt
assert_grep '^mem0 +memdev +pmem +512MiB +- +candidate +no region: ' /tmp/tiers.txt
assert_grep '^decoder0.0 +decoder +ram,pmem +4GiB +- +- +window on root0$' /tmp/tiers.txt
assert_grep 'cxl memdev mem0 .*state=candidate' $PMTD_DIR/log "the log does not show mem0"
cxl list -R | grep -q region && vm_fail "a region exists though nothing asked for one"

vm_step "a region made by hand, without a namespace yet"
vm_run cxl create-region -m -t pmem -d decoder0.0 -w 1 mem0
vm_run "$TIERCTL" rescan
vm_run "$TIERCTL" tiers
assert_eq "$(cxl_field region0 mode) $(cxl_field region0 size) $(cxl_field region0 committed) $(cxl_field region0 enabled)" \
	"pmem 536870912 true true" "region0: mode, size, committed or enabled"
assert_eq "$(cxl_field region0 decoder) $(cxl_field region0 memdevs) $(cxl_field region0 target_node)" \
	"decoder0.0 mem0 1" "region0: decoder, memdevs or target node"
assert_eq "$(cxl_field region0 state) $(cxl_field mem0 state) $(cxl_field mem0 regions)" \
	"candidate usable region0" "region0 / mem0 states"
ND=$(cxl_field region0 nd_region)
[ -n "$ND" ] || vm_fail "region0: no libnvdimm region found"
cxl_field region0 reason | grep -q "ndctl create-namespace -r $ND -m devdax" ||
	vm_fail "region0: the reason does not say how to make a namespace"

vm_step "a devdax namespace on it"
D=$(ndctl create-namespace -m devdax -r "$ND" -s 128M | json_str chardev)
[ -n "$D" ] || vm_fail "no dax device from ndctl create-namespace"
pmtd_hup
vm_run "$TIERCTL" tiers
assert_eq "$(cxl_field region0 state) $(cxl_field region0 devices)" "usable $D" \
	"region0 is not usable with $D under it"
assert_eq "$(dev_field "$D" cxl_region) $(dev_field "$D" mode) $(dev_field "$D" target_node)" \
	"region0 devdax 1" "device $D does not say it comes from CXL region0"
"$TIERCTL" tiers | grep -E "^$D .*\[cxl region0\]$" >/dev/null ||
	vm_fail "the DEVICES row of $D does not name CXL region0"
daxctl list -d "$D" | grep -q '"mode":"devdax"' || vm_fail "$D changed mode without an opt-in"

vm_step "the region disabled"
vm_run ndctl disable-namespace all
vm_run cxl disable-region region0
vm_run "$TIERCTL" rescan
vm_run "$TIERCTL" tiers
assert_eq "$(cxl_field region0 state) $(cxl_field region0 enabled)" "skipped false" \
	"region0: state after cxl disable-region"
assert_eq "$(cxl_field region0 reason)" "region0 is disabled: cxl enable-region region0, then rescan" \
	"region0: reason after cxl disable-region"
assert_grep 'cxl region region0 .*state=skipped' $PMTD_DIR/log "the log does not report region0 disabled"

vm_step "re-enabled: libnvdimm's region comes back disabled, and is reported"
vm_run cxl enable-region region0
vm_run "$TIERCTL" rescan
vm_run "$TIERCTL" tiers
ND=$(cxl_field region0 nd_region)
assert_eq "$(cxl_field region0 state) $(cxl_field region0 enabled)" "skipped true" \
	"region0: state after cxl enable-region"
cxl_field region0 reason | grep -q "ndctl enable-region $ND" ||
	vm_fail "region0: the reason does not say to enable libnvdimm's region $ND"

vm_step "teardown leaves the device reusable"
vm_run cxl disable-region region0
vm_run cxl destroy-region region0
vm_run "$TIERCTL" rescan
assert_eq "$("$TIERCTL" -j tiers | jq -r '[.cxl[] | .kind + ":" + .name] | join(" ")')" \
	"memdev:mem0 decoder:decoder0.0" "a region is still listed after cxl destroy-region"
assert_eq "$(cxl_field mem0 state) $(cxl_field mem0 regions)" "candidate " \
	"mem0 is not a candidate again after its region was destroyed"
R=$(cxl create-region -m -t pmem -d decoder0.0 -w 1 mem0 | json_str region)
[ -n "$R" ] || vm_fail "cxl create-region on mem0 failed after teardown"
vm_run "$TIERCTL" rescan
vm_run "$TIERCTL" tiers
assert_eq "$(cxl_field "$R" committed) $(cxl_field "$R" enabled) $(cxl_field mem0 regions)" \
	"true true $R" "the re-created region $R"
# The old namespace's labels are still on the device (it was disabled,
# not destroyed): Linux 6.1 leaves libnvdimm's region disabled, and the
# daemon must say so rather than offer a namespace it cannot have.
[ "$(cxl_field "$R" state)" != usable ] || vm_fail "$R usable with stale labels"
pmtd_alive
pmtd_stop
vm_pass
