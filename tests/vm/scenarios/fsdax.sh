# fsdax: discovery finds fsdax namespaces, where they are mounted and
# whether DAX is really in effect there, and says what to do when not.
#   pmem A: ext4, mount -o dax            -> usable, dax=1
#   pmem B: xfs -m reflink=0, mount -o dax -> usable, dax=1; with dax=inode
#           new files get no DAX (skipped) until the directory has the
#           DAX attribute; read-only mount -> skipped
#   pmem C: not mounted                    -> skipped "not mounted"
#   pmem D: ext4 mounted without dax       -> skipped "without DAX"
. /vm/lib.sh
vm_begin fsdax
vm_need_prog discovery_probe "$VM_PROBE"
P=$VM_PROBE

# probe_line NAME: the "dev NAME ..." line of a fresh scan.
probe_line() {
	"$P" >/tmp/scan.txt || { cat /tmp/scan.txt; vm_fail "discovery_probe failed"; }
	grep "^dev $1 " /tmp/scan.txt
}
# expect NAME ERE [WHY]: the device's line matches ERE.
expect() {
	_l=$(probe_line "$1")
	echo "$_l"
	echo "$_l" | grep -qE -- "$2" || { cat /tmp/scan.txt; vm_fail "${3:-$1: expected /$2/}"; }
}

vm_step "label-less raw namespace: reported, skipped, with what to do"
expect namespace0.0 'kind=other mode=raw .*state=skipped reason=.*raw mode has no DAX; to use it: ndctl create-namespace'

vm_step "four fsdax namespaces"
nd_init_labels
A=$(nd_create fsdax 1G | json_str blockdev)
B=$(nd_create fsdax 1G xfsns | json_str blockdev)
C=$(nd_create fsdax 512M | json_str blockdev)
D=$(nd_create fsdax 512M | json_str blockdev)
echo "blockdevs: A=$A B=$B C=$C D=$D"
[ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] && [ -n "$D" ] || vm_fail "a namespace has no block device"
vm_run "$P"
expect "$C" 'kind=fsdax mode=fsdax .* state=skipped reason=.* is not mounted' \
	"an unmounted namespace must be skipped as not mounted"
expect "$B" 'tier=xfsns$' "the namespace name must be the default tier name"

vm_step "mkfs.ext4 and mkfs.xfs -m reflink=0; mount -o dax"
mkdir -p /mnt/ext4 /mnt/xfs /mnt/nodax
vm_run mkfs.ext4 -q -F -b 4096 /dev/"$A"
vm_run mkfs.xfs -q -f -m reflink=0 /dev/"$B"
vm_run mkfs.ext4 -q -F -b 4096 /dev/"$D"
vm_run mount -o dax /dev/"$A" /mnt/ext4
vm_run mount -o dax /dev/"$B" /mnt/xfs
vm_run mount /dev/"$D" /mnt/nodax
grep -E '/mnt/(ext4|xfs|nodax) ' /proc/self/mountinfo

vm_step "DAX mounts are usable tiers"
expect "$A" "size=[0-9]+ .* mount=/mnt/ext4 fstype=ext4 dax=1 .* state=usable( |$)"
expect "$B" "mount=/mnt/xfs fstype=xfs dax=1 .* state=usable( |$)"
expect "$D" "mount=/mnt/nodax fstype=ext4 dax=0 .*state=skipped reason=.*without DAX: remount it with -o dax" \
	"a mount without dax must be reported as such"
expect "$C" 'state=skipped reason=.* is not mounted'

vm_step "the DAX probe tells DAX from non-DAX"
vm_run "$P" dax /mnt/ext4
vm_run "$P" dax /mnt/xfs
vm_must_fail "$P" dax /mnt/nodax
vm_must_fail "$P" dax /tmp

vm_step "a bind mount of a subdirectory does not hide the real mount"
mkdir -p /mnt/ext4/sub /mnt/bind
vm_run mount --bind /mnt/ext4/sub /mnt/bind
expect "$A" "mount=/mnt/ext4 fstype=ext4 dax=1"
vm_run umount /mnt/bind

vm_step "xfs with dax=inode: files get DAX only from the directory attribute"
vm_run umount /mnt/xfs
vm_run mount -o dax=inode /dev/"$B" /mnt/xfs
expect "$B" "mount=/mnt/xfs fstype=xfs dax=0 .*state=skipped reason=.*without DAX: remount it with -o dax .*chattr \\+x" \
	"dax=inode without the attribute must be skipped"
if command -v xfs_io >/dev/null; then
	vm_run xfs_io -c 'chattr +x' /mnt/xfs
	expect "$B" "mount=/mnt/xfs fstype=xfs dax=1 .* state=usable" \
		"dax=inode with the attribute on the root directory must be usable"
fi

vm_step "read-only mount"
vm_run umount /mnt/xfs
vm_run mount -o dax,ro /dev/"$B" /mnt/xfs
expect "$B" "state=skipped reason=.*mounted read-only"

vm_step "unmounting makes it skipped again"
vm_run umount /mnt/xfs
expect "$B" 'state=skipped reason=.* is not mounted'
expect "$A" "state=usable"

vm_run umount /mnt/ext4
vm_run umount /mnt/nodax
vm_pass
