# daemon_fsdax: pmemtierd serves fsdax tiers from real DAX mounts (xfs and
# ext4 on emulated NVDIMM namespaces, tiers named in the config); a memkind
# program allocates through it with its lease files on the DAX mount;
# tierctl shows the tier and the client; quota refusal works there and the
# daemon keeps serving; memkind_check_dax_path tells DAX from non-DAX.
. /vm/lib.sh
vm_begin daemon_fsdax
vm_need_daemon
command -v jq >/dev/null || vm_skip "jq is not in the guest (install jq on the host)"

vm_step "two fsdax namespaces: xfs and ext4, mounted -o dax"
nd_init_labels
X=$(nd_create fsdax 1G | json_str blockdev)
E=$(nd_create fsdax 1G | json_str blockdev)
mkdir -p /mnt/xfs /mnt/ext4
vm_run mkfs.xfs -q -f -m reflink=0 /dev/"$X"
vm_run mkfs.ext4 -q -F -b 4096 /dev/"$E"
vm_run mount -o dax /dev/"$X" /mnt/xfs
vm_run mount -o dax /dev/"$E" /mnt/ext4

vm_step "memkind_check_dax_path answers truthfully"
vm_run "$VM_CLIENT" checkdax /mnt/xfs
vm_run "$VM_CLIENT" checkdax /mnt/ext4
vm_must_fail "$VM_CLIENT" checkdax /tmp

vm_step "pmemtierd with fsdax tiers on both mounts and a 48 MiB quota"
pmtd_start "
[tier pmx]
backend = fsdax
path = /mnt/xfs/pmemtierd
capacity = 512M
default = yes

[tier pme]
backend = fsdax
path = /mnt/ext4/pmemtierd
capacity = 256M

[quota everyone]
default = yes
tier = *
limit = 48M
"
vm_run "$TIERCTL" tiers
"$TIERCTL" -j tiers >/tmp/tiers.json || vm_fail "tierctl -j tiers failed"
[ "$(jq -r '.tiers[] | select(.name=="pmx") | "\(.backend) \(.dax) \(.path)"' /tmp/tiers.json)" = \
  "fsdax true /mnt/xfs/pmemtierd" ] || { cat /tmp/tiers.json; vm_fail "tier pmx is not an fsdax tier with DAX on /mnt/xfs"; }
[ "$(jq -r '.tiers[] | select(.name=="pme") | "\(.backend) \(.dax)"' /tmp/tiers.json)" = "fsdax true" ] ||
	{ cat /tmp/tiers.json; vm_fail "tier pme is not an fsdax tier with DAX"; }

vm_step "a memkind client allocates on the xfs DAX mount through the daemon"
client_bg /tmp/c1.out pmem /mnt/xfs 16 60
assert_grep '^pmem: 16 of 16 MiB allocated' /tmp/c1.out
grep ' /mnt/xfs/' /proc/$CLIENT_PID/maps | tee /tmp/c1.maps
assert_grep '^[0-9a-f-]+ rw-s .* /mnt/xfs/pmemtierd/\.pmemtierd-leases/#[0-9]+ \(deleted\)$' /tmp/c1.maps \
	"the client's lease mappings are not files in the daemon's directory on the DAX mount"
assert_no_grep ' /mnt/ext4/' /proc/$CLIENT_PID/maps "a pmx lease landed on the ext4 tier"

vm_step "tierctl status shows the tier and the client"
vm_run "$TIERCTL" status
"$TIERCTL" -j status >/tmp/status.json || vm_fail "tierctl -j status failed"
g=$(jq -r '.tiers[] | select(.name=="pmx") | .granted' /tmp/status.json)
[ "$g" -ge $((16 << 20)) ] || vm_fail "tier pmx shows $g bytes granted with a 16 MiB client"
n=$(jq -r ".clients[] | select(.pid==$CLIENT_PID) | .leases" /tmp/status.json)
[ "${n:-0}" -ge 1 ] || { cat /tmp/status.json; vm_fail "client $CLIENT_PID not shown with its leases"; }
"$TIERCTL" -j leases >/tmp/leases.json
[ "$(jq -r "[.leases[] | select(.pid==$CLIENT_PID) | .tier] | unique | join(\",\")" /tmp/leases.json)" = pmx ] ||
	{ cat /tmp/leases.json; vm_fail "the client's leases are not all on tier pmx"; }

vm_step "the ext4 DAX tier serves too"
"$VM_CLIENT" pmem /mnt/ext4 8 >/tmp/c2.out 2>&1 || { cat /tmp/c2.out; pmtd_log; vm_fail "allocation on /mnt/ext4 failed"; }
cat /tmp/c2.out

vm_step "quota: a client going past 48 MiB gets NULL, the daemon says why and keeps serving"
"$VM_CLIENT" pmem /mnt/xfs 64 >/tmp/c3.out 2>&1
rc=$?
cat /tmp/c3.out
[ $rc = 3 ] || { pmtd_log; vm_fail "a 64 MiB client under a 48 MiB quota (16 MiB held) exited $rc, not 3 (NULL)"; }
assert_grep 'lease refused: quota exceeded on tier pmx' $PMTD_DIR/log
pmtd_alive
client_end
"$VM_CLIENT" pmem /mnt/xfs 16 >/tmp/c4.out 2>&1 || { cat /tmp/c4.out; pmtd_log; vm_fail "no lease after the quota refusal"; }

vm_step "leases end with their client: nothing granted, nothing left on the mount"
vm_wait 10 all_granted_zero || { "$TIERCTL" tiers; vm_fail "bytes still granted after every client ended"; }
ls -la /mnt/xfs/pmemtierd/.pmemtierd-leases
[ -z "$(ls -A /mnt/xfs/pmemtierd/.pmemtierd-leases)" ] || vm_fail "files left in the lease directory"
pmtd_stop
vm_run umount /mnt/xfs
vm_run umount /mnt/ext4
vm_pass
