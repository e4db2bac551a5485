# daemon_badstate: devices in states the daemon must refuse, with a clear
# message, while it keeps serving its other tiers.
#   an fsdax namespace mounted without dax: no tier, the log says
#     "without DAX: remount it with -o dax";
#   a devdax device opted in but held open by a process: not onlined,
#     "device busy", still devdax; after the holder is gone a rescan
#     onlines it;
#   the kernel auto-onlining memory: onlining refused, "auto-onlines".
# Each refusal is also what tierctl tiers shows for the device (state
# skipped and the reason), and what the device line of the log says
# (not the "needs online = yes" of a device without the opt-in).
. /vm/lib.sh
vm_begin daemon_badstate
vm_need_discovery_daemon
command -v jq >/dev/null || vm_skip "jq is not in the guest (install jq on the host)"

vm_step "an ext4 fsdax mount without dax and two devdax devices"
nd_init_labels
N=$(nd_create fsdax 512M | json_str blockdev)
D=$(nd_create devdax 512M | json_str chardev)
E=$(nd_create devdax 512M | json_str chardev)
mkdir -p /mnt/nodax
vm_run mkfs.ext4 -q -F -b 4096 /dev/"$N"
vm_run mount /dev/"$N" /mnt/nodax

vm_step "the daemon, with $D opted in but held open by a process"
sleep 300 </dev/"$D" &
holder=$!
vm_wait 5 holds_open $holder "$D" || vm_fail "the holder did not open /dev/$D"
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
pmtd_log

vm_step "no tier on the mount without dax, and the log says why"
"$TIERCTL" -j tiers | jq -e '.tiers[] | select(.path != null and (.path | startswith("/mnt/nodax")))' >/dev/null &&
	vm_fail "a tier was made on a mount without DAX"
assert_grep "$N.*without DAX: remount it with -o dax" $PMTD_DIR/log
"$TIERCTL" -j tiers | jq -c ".devices[] | select(.name==\"$N\")"
assert_eq "$(dev_field "$N" state) $(dev_field "$N" mount) $(dev_field "$N" dax)" \
	"skipped /mnt/nodax false" "tierctl tiers does not show $N skipped on /mnt/nodax"
dev_field "$N" reason | grep -q "without DAX: remount it with -o dax" ||
	vm_fail "tierctl tiers does not say why $N was skipped"

vm_step "$D busy: refused, left in devdax mode"
assert_grep "$D: refused: device busy: process $holder" $PMTD_DIR/log
assert_grep "rescan: $D kind=devdax .*reason=$D: refused: device busy: process $holder" \
	$PMTD_DIR/log "the device line of $D does not give the refusal"
assert_no_grep "rescan: $D kind=.*online = yes" $PMTD_DIR/log \
	"the device line of $D asks for the online = yes it has"
assert_eq "$(dev_field "$D" state)" skipped "tierctl tiers: $D is not skipped"
dev_field "$D" reason | grep -q "^$D: refused: device busy: process $holder" ||
	vm_fail "tierctl tiers does not give $D's refusal: $(dev_field "$D" reason)"
daxctl list -d "$D" | grep -q '"mode":"devdax"' || vm_fail "$D was changed while busy"
assert_eq "$(node1_kb)" 0 "memory was onlined from a busy device"

vm_step "the daemon keeps serving"
"$VM_CLIENT" pmem /run/pmtd/tier-dram 4 >/tmp/c.out 2>&1 || { cat /tmp/c.out; pmtd_log; vm_fail "no lease on the dram tier"; }
pmtd_alive

vm_step "holder gone: a rescan onlines $D"
kill $holder
wait $holder 2>/dev/null
vm_run "$TIERCTL" rescan
daxctl list -d "$D" | grep -q '"mode":"system-ram"' || { pmtd_log; vm_fail "$D not onlined after the holder left"; }
[ "$("$TIERCTL" -j tiers | jq -r '.tiers[] | select(.backend=="kmem") | .numa_node')" = 1 ] ||
	{ pmtd_log; vm_fail "no kmem tier on node 1 after $D was onlined"; }
K=$("$TIERCTL" -j tiers | jq -r '.tiers[] | select(.backend=="kmem") | .name')
assert_eq "$(dev_field "$D" state) $(dev_field "$D" tier) $(dev_field "$D" reason)" \
	"onlined $K " "tierctl tiers does not show $D onlined as tier $K"
"$TIERCTL" tiers >/tmp/tiers.txt
cat /tmp/tiers.txt
assert_grep "^$D +namespace[0-9.]+ +system-ram +.* onlined +$K " /tmp/tiers.txt
assert_grep "^$N +namespace[0-9.]+ +fsdax +.* skipped +- +.*without DAX" /tmp/tiers.txt

vm_step "auto-online policy: $E's onlining refused"
echo online >/sys/devices/system/memory/auto_online_blocks
pmtd_stop
pmtd_start "
[discovery]
enable = yes

[device $E]
online = yes
"
assert_grep "$E: refused: the kernel auto-onlines" $PMTD_DIR/log
assert_grep "rescan: $E kind=devdax .*reason=$E: refused: the kernel auto-onlines" \
	$PMTD_DIR/log "the device line of $E does not give the refusal"
dev_field "$E" reason | grep -q "^$E: refused: the kernel auto-onlines" ||
	vm_fail "tierctl tiers does not give $E's refusal: $(dev_field "$E" reason)"
daxctl list -d "$E" | grep -q '"mode":"devdax"' || vm_fail "$E was changed under an auto-online policy"
pmtd_alive
echo offline >/sys/devices/system/memory/auto_online_blocks
pmtd_stop
umount /mnt/nodax
vm_pass
