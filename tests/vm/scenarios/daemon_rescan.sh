# daemon_rescan: devices that come and go while the daemon runs.
#   A namespace created and mounted after the daemon started becomes a tier
#   after `tierctl rescan`; another one after SIGHUP. One unmounted and
#   destroyed disappears after a rescan without disturbing a client that
#   holds leases on another tier (its memory keeps its contents).
#   No discovered tier becomes the default without [device] default = yes
#   (pmemtierd.conf(5): the default is the first tier in the file), not at
#   start and not after a rescan.
. /vm/lib.sh
vm_begin daemon_rescan
vm_need_discovery_daemon
command -v jq >/dev/null || vm_skip "jq is not in the guest (install jq on the host)"

# fsdax_tier MOUNT: the name of the fsdax tier on MOUNT, "" if none.
fsdax_tier() {
	"$TIERCTL" -j tiers | jq -r ".tiers[] | select(.backend==\"fsdax\" and (.path | startswith(\"$1\"))) | .name" | head -n1
}
# new_mount NAME SIZE: fsdax namespace, xfs, mounted -o dax on /mnt/NAME.
new_mount() {
	_b=$(nd_create fsdax "$2" | json_str blockdev)
	[ -n "$_b" ] || vm_fail "no block device for $1"
	mkdir -p /mnt/"$1"
	mkfs.xfs -q -f -m reflink=0 /dev/"$_b" || vm_fail "mkfs.xfs /dev/$_b"
	mount -o dax /dev/"$_b" /mnt/"$1" || vm_fail "mount /dev/$_b"
	echo "$_b"
}

vm_step "the daemon starts with one DAX mount"
nd_init_labels
A=$(new_mount a 512M)
pmtd_start "
[discovery]
enable = yes
"
TA=$(fsdax_tier /mnt/a)
[ -n "$TA" ] || { pmtd_log; vm_fail "no tier for /mnt/a at start"; }
no_default() {
	_d=$("$TIERCTL" -j tiers | jq -r '[.tiers[] | select(.default) | .name] | join(" ")')
	[ -z "$_d" ] || vm_fail "$1: discovered tier(s) $_d became the default, none is configured"
}
no_default "at start"

vm_step "a client holds leases on /mnt/a"
client_bg /tmp/ca.out pmem /mnt/a 8 120

vm_step "a namespace made after start appears after tierctl rescan"
B=$(new_mount b 512M)
[ -z "$(fsdax_tier /mnt/b)" ] || vm_fail "/mnt/b became a tier before any rescan"
vm_run "$TIERCTL" rescan
TB=$(fsdax_tier /mnt/b)
[ -n "$TB" ] || { pmtd_log; vm_fail "/mnt/b is not a tier after tierctl rescan"; }
no_default "after tierctl rescan"
assert_eq "$(dev_field "$B" state) $(dev_field "$B" tier)" "tier $TB" \
	"tierctl tiers does not show $B backing $TB after the rescan"
"$VM_CLIENT" pmem /mnt/b 4 >/tmp/cb.out 2>&1 || { cat /tmp/cb.out; vm_fail "no lease on the new tier $TB"; }

vm_step "another appears after SIGHUP"
C=$(new_mount c 512M)
pmtd_hup
has_c() { [ -n "$(fsdax_tier /mnt/c)" ]; }
vm_wait 10 has_c || { pmtd_log; vm_fail "/mnt/c is not a tier after SIGHUP"; }
no_default "after SIGHUP"

vm_step "one unmounted and destroyed disappears; the client on /mnt/a is undisturbed"
# The daemon holds its lease directory open: a plain umount is EBUSY. Detach
# the mount, rescan so the daemon lets go, then the namespace can go.
vm_must_fail umount /mnt/b
vm_run umount -l /mnt/b
vm_run "$TIERCTL" rescan
vm_run "$TIERCTL" tiers
[ -z "$(fsdax_tier /mnt/b)" ] || vm_fail "the tier of the unmounted namespace is still there"
ns=$(ndctl list -N | jq -r ".[] | select(.blockdev==\"$B\") | .dev")
vm_run ndctl destroy-namespace -f "$ns"
vm_run "$TIERCTL" rescan
[ -z "$(fsdax_tier /mnt/b)" ] || vm_fail "the tier of the destroyed namespace came back"
[ -z "$(dev_field "$B" name)" ] || vm_fail "the destroyed $B is still listed as a device"
no_default "after a namespace went"
[ "$(tier_field "$TA" granted)" -ge $((8 << 20)) ] || vm_fail "the leases on $TA were lost by the rescan"
kill -0 $CLIENT_PID || vm_fail "the client on /mnt/a died"
client_end
rc=$?
[ $rc = 0 ] || vm_fail "the client on /mnt/a exited $rc (5: its memory changed)"
pmtd_alive
pmtd_stop
umount /mnt/a
umount /mnt/c
vm_pass
