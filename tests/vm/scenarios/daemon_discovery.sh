# daemon_discovery: pmemtierd makes tiers from what discovery finds.
#   fsdax: an xfs mounted -o dax becomes an fsdax tier by itself; a memkind
#          client passing the mount point gets leases there (lease files in
#          the daemon's directory on the DAX mount).
#   kmem:  a devdax device without the opt-in is left untouched (still
#          devdax, node 1 without memory) and reported; with
#          [device daxX.Y] online = yes the daemon onlines it, node 1 gets
#          memory, a kmem tier appears on node 1 and a client's
#          MEMKIND_DAX_KMEM pages land there; the tier's capacity is the
#          memory really onlined (whole 128 MiB blocks), not the device size.
#   Every device shows in tierctl tiers (JSON "devices", human DEVICES)
#   with its state (tier / skipped / onlined) and why it was skipped.
. /vm/lib.sh
vm_begin daemon_discovery
vm_need_discovery_daemon
command -v jq >/dev/null || vm_skip "jq is not in the guest (install jq on the host)"

vm_step "an xfs fsdax namespace mounted -o dax, and a devdax namespace"
nd_init_labels
X=$(nd_create fsdax 1G | json_str blockdev)
D=$(nd_create devdax 1G | json_str chardev)
[ -n "$X" ] && [ -n "$D" ] || vm_fail "namespaces without devices"
mkdir -p /mnt/xfs
vm_run mkfs.xfs -q -f -m reflink=0 /dev/"$X"
vm_run mount -o dax /dev/"$X" /mnt/xfs

vm_step "the daemon, without any opt-in for $D"
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
pmtd_log
T=$("$TIERCTL" -j tiers | jq -r '.tiers[] | select(.backend=="fsdax") | .name' | head -n1)
[ -n "$T" ] || vm_fail "no fsdax tier was made for /dev/$X mounted -o dax on /mnt/xfs"
[ "$(tier_field "$T" dax)" = true ] || vm_fail "tier $T does not say DAX"
tier_field "$T" path | grep -q '^/mnt/xfs' || vm_fail "tier $T is not on /mnt/xfs"

vm_step "without the opt-in $D is untouched and reported"
daxctl list -d "$D" | grep -q '"mode":"devdax"' || vm_fail "$D is no longer devdax without an opt-in"
assert_eq "$(node1_kb)" 0 "node 1 got memory without an opt-in"
"$TIERCTL" -j tiers | jq -e '.tiers[] | select(.backend=="kmem")' >/dev/null &&
	vm_fail "a kmem tier exists without any opt-in"
assert_grep "$D.*online = yes" $PMTD_DIR/log "the log does not say $D needs the opt-in"

vm_step "tierctl tiers lists both devices, with what became of them"
"$TIERCTL" -j tiers | jq '.devices'
assert_eq "$(dev_field "$X" state) $(dev_field "$X" tier) $(dev_field "$X" mode)" \
	"tier $T fsdax" "device $X is not shown as backing tier $T"
assert_eq "$(dev_field "$X" mount) $(dev_field "$X" dax) $(dev_field "$X" fstype)" \
	"/mnt/xfs true xfs" "device $X: mount, dax or fstype wrong"
assert_eq "$(dev_field "$D" state) $(dev_field "$D" mode) $(dev_field "$D" target_node)" \
	"skipped devdax 1" "device $D is not shown as a skipped devdax for node 1"
dev_field "$D" reason | grep -q "online = yes" ||
	vm_fail "device $D: the reason does not say it needs online = yes"
[ "$(dev_field "$D" size)" -gt $((900 << 20)) ] || vm_fail "device $D: size $(dev_field "$D" size)"
assert_eq "$("$TIERCTL" -j status | jq -r '[.devices[].name] | sort | join(" ")')" \
	"$(printf '%s\n' "$X" "$D" | sort | xargs)" "tierctl status does not list both devices"
"$TIERCTL" tiers >/tmp/tiers.txt
cat /tmp/tiers.txt
assert_grep '^DEVICE +NAMESPACE +MODE +SIZE +ONLINE +NODE +STATE +TIER +MOUNT/REASON$' /tmp/tiers.txt
assert_grep "^$X +namespace[0-9.]+ +fsdax +.* tier +$T +/mnt/xfs\$" /tmp/tiers.txt
assert_grep "^$D +namespace[0-9.]+ +devdax +.* skipped +- +.*online = yes" /tmp/tiers.txt

vm_step "a memkind client on the discovered fsdax tier"
client_bg /tmp/c1.out pmem /mnt/xfs 8 60
grep ' /mnt/xfs/' /proc/$CLIENT_PID/maps | tee /tmp/c1.maps
assert_grep ' rw-s .* /mnt/xfs/.*\.pmemtierd-leases/#[0-9]+ \(deleted\)$' /tmp/c1.maps \
	"the lease files are not in the daemon's directory on the DAX mount"
[ "$(tier_field "$T" granted)" -ge $((8 << 20)) ] || vm_fail "tier $T shows nothing granted"
client_end || vm_fail "the client's memory changed under it"
pmtd_stop

vm_step "exclude = $X: no tier for it, and the log says so"
pmtd_start "
[discovery]
enable = yes
exclude = $X

[tier dram]
backend = file
path = @DIR@/tier-dram
capacity = 64M
default = yes
"
"$TIERCTL" -j tiers | jq -e '.tiers[] | select(.backend=="fsdax")' >/dev/null &&
	vm_fail "an excluded device became a tier"
assert_grep "$X: excluded by the config" $PMTD_DIR/log
pmtd_stop

vm_step "[device $X] names the tier and caps it"
pmtd_start "
[discovery]
enable = yes

[device $X]
tier = fastpm
capacity = 100M
default = yes
"
vm_run "$TIERCTL" tiers
assert_eq "$(tier_field fastpm backend) $(tier_field fastpm capacity)" "fsdax 104857600" \
	"[device $X] tier = fastpm, capacity = 100M not applied"
assert_eq "$(tier_field fastpm default)" true "[device $X] default = yes not applied"
pmtd_stop

vm_step "with online = yes the daemon onlines $D on node 1"
pmtd_start "
[discovery]
enable = yes

[device $D]
online = yes

[tier dram]
backend = file
path = @DIR@/tier-dram
capacity = 64M
default = yes
"
vm_run "$TIERCTL" tiers
daxctl list -d "$D" | grep -q '"mode":"system-ram"' || { pmtd_log; vm_fail "$D was not onlined"; }
kb=$(node1_kb)
[ "$kb" -gt $((512 * 1024)) ] || vm_fail "node 1 has $kb kB after onlining"
K=$("$TIERCTL" -j tiers | jq -r '.tiers[] | select(.backend=="kmem") | .name' | head -n1)
[ -n "$K" ] || { pmtd_log; vm_fail "no kmem tier after onlining $D"; }
assert_eq "$(tier_field "$K" numa_node)" 1 "kmem tier $K is not on node 1"

vm_step "the kmem tier's capacity is the memory onlined, not $D's size"
on=$(node1_online_bytes)
echo "node 1: $on bytes online; $D: size $(dev_field "$D" size)"
assert_eq "$(tier_field "$K" capacity)" "$on" "kmem tier $K: capacity is not the $on bytes onlined"
assert_eq "$(dev_field "$D" online_bytes)" "$on" "device $D: online_bytes"
[ "$on" -lt "$(dev_field "$D" size)" ] ||
	vm_fail "expected fewer bytes online ($on) than $D's size (whole blocks)"
assert_eq "$(dev_field "$D" state) $(dev_field "$D" tier) $(dev_field "$D" mode)" \
	"onlined $K system-ram" "device $D is not shown as onlined, backing $K"

vm_step "MEMKIND_DAX_KMEM pages land on node 1"
"$VM_CLIENT" kmem 16 >/tmp/k.out 2>&1
cat /tmp/k.out
assert_grep '^kmem: 16 of 16 MiB allocated; pages=4096 node0=0 node1=4096$' /tmp/k.out

vm_step "a restart finds $D already online and does not touch it again"
pmtd_stop
n=$(wc -l <$PMTD_DIR/log)
pmtd_start "
[discovery]
enable = yes

[device $D]
online = yes
"
[ -n "$("$TIERCTL" -j tiers | jq -r '.tiers[] | select(.backend=="kmem") | .name')" ] ||
	vm_fail "no kmem tier after a restart with $D online"
tail -n +$((n + 1)) $PMTD_DIR/log >/tmp/log2
assert_no_grep "onlined|refused" /tmp/log2 "the restart tried to online $D again"
assert_eq "$(dev_field "$D" state)" tier "device $D (online before this daemon) is not shown as a tier"
pmtd_stop
vm_run umount /mnt/xfs
vm_pass
