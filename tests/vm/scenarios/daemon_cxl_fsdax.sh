# vm-machine: cxl
# daemon_cxl_fsdax: a CXL region an admin made beforehand is adopted, not
# re-made, and an fsdax namespace on it serves an fsdax tier.
#   * the admin: cxl create-region on mem0, an fsdax namespace, ext4 with
#     4 KiB blocks (a small device defaults to 1 KiB blocks and then
#     refuses DAX), mounted -o dax;
#   * the daemon, with [device mem0] region = pmem: the region is used as
#     it is (still one region, not provisioned by the daemon, no new
#     namespace since it has one), the fsdax device under it names its CXL
#     region, and an fsdax tier serves the mount;
#   * a memkind program (memkind_create_pmem on the mount) gets its memory
#     there, the lease files are in the daemon's directory on the DAX
#     mount, and the memory keeps what was written (4 MiB: the emulated
#     device runs at 1-3 MB/s).
. /vm/lib.sh
vm_begin daemon_cxl_fsdax
vm_need_cxl

vm_step "the admin's region, fsdax namespace and DAX mount"
R=$(cxl create-region -m -t pmem -d decoder0.0 -w 1 mem0 | json_str region)
[ -n "$R" ] || vm_fail "cxl create-region failed"
ND=$(ndctl list -R | json_str dev)
[ -n "$ND" ] || vm_fail "no libnvdimm region over $R"
B=$(ndctl create-namespace -m fsdax -r "$ND" | json_str blockdev)
[ -n "$B" ] || vm_fail "no fsdax block device"
vm_run mkfs.ext4 -q -F -b 4096 /dev/"$B"
mkdir -p /mnt/cxl
vm_run mount -o dax /dev/"$B" /mnt/cxl

vm_step "the daemon adopts $R as it is and serves the mount"
pmtd_start "
[discovery]
enable = yes

[device mem0]
region = pmem
"
vm_run "$TIERCTL" tiers
assert_eq "$(nregions)" 1 "the daemon made another region on mem0"
assert_eq "$(ndctl list -N -r "$ND" | grep -c '"dev":')" 1 "the daemon added a namespace to $R"
assert_eq "$(cxl_field "$R" state) $(cxl_field "$R" provisioned) $(cxl_field "$R" devices)" \
	"usable false $B" "region $R: state, provisioned, devices"
assert_grep "mem0: region $R exists and is used as it is" $PMTD_DIR/log
assert_no_grep "made pmem region|made devdax" $PMTD_DIR/log "the daemon changed the device"
assert_eq "$(dev_field "$B" cxl_region) $(dev_field "$B" mode) $(dev_field "$B" mount)" \
	"$R fsdax /mnt/cxl" "device $B: CXL region, mode or mount"
T=$(dev_field "$B" tier)
[ -n "$T" ] || { pmtd_log; vm_fail "no tier for /dev/$B on /mnt/cxl: $(dev_field "$B" reason)"; }
assert_eq "$(tier_field "$T" backend) $(tier_field "$T" dax)" "fsdax true" "tier $T"

vm_step "a memkind program on the CXL-backed fsdax tier"
client_bg /tmp/c1.out pmem /mnt/cxl 4 60
grep ' /mnt/cxl/' /proc/$CLIENT_PID/maps | tee /tmp/c1.maps
assert_grep ' rw-s .* /mnt/cxl/.*\.pmemtierd-leases/#[0-9]+ \(deleted\)$' /tmp/c1.maps \
	"the lease files are not in the daemon's directory on the DAX mount"
[ "$(tier_field "$T" granted)" -ge $((4 << 20)) ] || vm_fail "tier $T shows nothing granted"
assert_grep '^pmem: 4 of 4 MiB allocated on /mnt/cxl$' /tmp/c1.out
client_end || vm_fail "the client's memory on the CXL device changed under it"
pmtd_stop
vm_run umount /mnt/cxl
vm_pass
