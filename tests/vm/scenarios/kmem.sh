# kmem: devdax namespaces are reported as kmem candidates and left alone by
# a scan; discovery_online_kmem refuses cleanly (unknown device, kernel
# auto-online policy, device busy, kmem driver missing) leaving the device
# in devdax mode, and onlines it otherwise: node 1 (memory-less, owns the
# NVDIMM) gains memory, movable by default, ZONE_NORMAL on request.
. /vm/lib.sh
vm_begin kmem
vm_need_prog discovery_probe "$VM_PROBE"
P=$VM_PROBE
NODE1=/sys/devices/system/node/node1

probe_line() {
	"$P" >/tmp/scan.txt || { cat /tmp/scan.txt; vm_fail "discovery_probe failed"; }
	grep "^dev $1 " /tmp/scan.txt
}
expect() {
	_l=$(probe_line "$1")
	echo "$_l"
	echo "$_l" | grep -qE -- "$2" || { cat /tmp/scan.txt; vm_fail "${3:-$1: expected /$2/}"; }
}
# expect_devdax DEV: still an enabled devdax device, as it was.
expect_devdax() {
	daxctl list -d "$1" >/tmp/dl.json 2>&1
	assert_grep '"mode":"devdax"' /tmp/dl.json "$1 is no longer in devdax mode"
	assert_no_grep '"state":"disabled"' /tmp/dl.json "$1 was left disabled"
	expect "$1" "kind=devdax mode=devdax .*state=candidate"
}
# online DEV ERRNO|ok [normal]
online() {
	_want=$2
	"$P" online "$1" ${3:-} >/tmp/online.txt 2>&1
	_rc=$?
	cat /tmp/online.txt
	if [ "$_want" = ok ]; then
		[ $_rc = 0 ] || vm_fail "onlining $1 failed"
	else
		[ $_rc != 0 ] || vm_fail "onlining $1 succeeded but must be refused ($_want)"
		assert_grep "^online: $_want: $1: refused: " /tmp/online.txt
	fi
}

vm_step "two devdax namespaces"
nd_init_labels
X=$(nd_create devdax 1G | json_str chardev)
Y=$(nd_create devdax 512M | json_str chardev)
echo "dax devices: X=$X Y=$Y"
[ -n "$X" ] && [ -n "$Y" ] || vm_fail "a devdax namespace has no dax device"
kb0=$(node1_kb)
echo "node1 MemTotal before: ${kb0} kB"
assert_eq "$kb0" 0 "node 1 has memory before anything was onlined"

vm_step "a scan reports them as candidates and changes nothing"
expect "$X" "kind=devdax mode=devdax ns=namespace0\.[0-9] region=region0 size=[0-9]+ .*target_node=1 .*state=candidate reason=.*online = yes" \
	"a devdax device must be a candidate naming the opt-in"
expect_devdax "$Y"
assert_eq "$(node1_kb)" 0 "a scan onlined memory"

vm_step "refused: unknown device"
online dax9.9 ENODEV

vm_step "refused: the kernel auto-onlines memory"
cat /sys/devices/system/memory/auto_online_blocks
echo online >/sys/devices/system/memory/auto_online_blocks
online "$X" EBUSY
assert_grep 'auto-onlines' /tmp/online.txt
echo offline >/sys/devices/system/memory/auto_online_blocks
expect_devdax "$X"

vm_step "refused: device busy (a process has it open)"
sleep 60 </dev/"$Y" &
holder=$!
vm_wait 5 holds_open $holder "$Y" || vm_fail "the holder did not open /dev/$Y"
online "$Y" EBUSY
assert_grep "process $holder has it open" /tmp/online.txt
kill $holder
wait $holder 2>/dev/null
expect_devdax "$Y"

vm_step "kmem driver missing (unloaded, module file gone): refused before any change"
ko=$(sed -n 's|^\(.*/dax/kmem\.ko\):.*|\1|p' /lib/modules/"$(uname -r)"/modules.dep)
[ -n "$ko" ] || vm_fail "kmem not in modules.dep"
rmmod kmem || vm_fail "cannot unload kmem"
mv /lib/modules/"$(uname -r)"/"$ko" /tmp/kmem.ko
online "$X" ENOENT
assert_grep "kmem driver is not available" /tmp/online.txt
expect_devdax "$X"

vm_step "kmem module that fails to load: enabling fails after the disable, device restored"
# A module file that is there but not a module gets past every check
# before the first change: this is the restore path. libdaxctl 76.1 leaks
# its libkmod context when the insert fails, hence no leak check here.
echo "not a module" >/lib/modules/"$(uname -r)"/"$ko"
ASAN_OPTIONS=detect_leaks=0 "$P" online "$X" >/tmp/online.txt 2>&1 &&
	vm_fail "onlining with a broken kmem module succeeded"
cat /tmp/online.txt
assert_grep "enabling system-ram mode failed" /tmp/online.txt
expect_devdax "$X"
mv /tmp/kmem.ko /lib/modules/"$(uname -r)"/"$ko"

vm_step "online $X: movable memory on node 1"
online "$X" ok
assert_grep "^online: node=1: $X: [0-9]+ of [0-9]+ memory blocks \([0-9]+ MiB\) online movable on node 1" /tmp/online.txt
kb1=$(node1_kb)
echo "node1 MemTotal after: ${kb1} kB"
[ "$kb1" -ge $((512 * 1024)) ] || vm_fail "node 1 has ${kb1} kB after onlining 1 GiB"
grep -q 'Node 1 MemFree' $NODE1/meminfo || vm_fail "no node1 meminfo"
expect "$X" "kind=kmem mode=system-ram .*target_node=1 .*blocks=([0-9]+)/\\1 online=[1-9][0-9]* movable=1 state=usable tier=kmem-node1" \
	"$X: all its blocks must be online, movable"
# online counts whole 128 MiB blocks, which is what node 1 gained.
ob=$(probe_line "$X" | sed -n 's/.* online=\([0-9]*\) .*/\1/p')
bl=$(probe_line "$X" | sed -n 's/.* blocks=\([0-9]*\)\/.*/\1/p')
assert_eq "$ob" $((bl * 134217728)) "online=$ob is not $bl blocks of 128 MiB"
assert_eq "$((ob / 1024))" "$kb1" "node 1 gained ${kb1} kB, discovery says $ob bytes online"
daxctl list -d "$X" | grep -q '"mode":"system-ram"' || vm_fail "daxctl does not see $X in system-ram mode"
numactl -H | grep '^node 1 size'

vm_step "memory of a process bound to node 1 lands there, and only then"
numactl --membind=1 "$P" touch 32 >/tmp/touch.txt || vm_fail "touch under --membind=1 failed"
cat /tmp/touch.txt
assert_grep '^touch: pages=8192 node0=0 node1=8192$' /tmp/touch.txt
"$P" touch 32 >/tmp/touch.txt || vm_fail "touch failed"
cat /tmp/touch.txt
assert_grep '^touch: pages=8192 node0=8192 node1=0$' /tmp/touch.txt

vm_step "online again: nothing to do, fine even under an auto-online policy"
echo online >/sys/devices/system/memory/auto_online_blocks
online "$X" ok
echo offline >/sys/devices/system/memory/auto_online_blocks

vm_step "online $Y into ZONE_NORMAL on request"
online "$Y" ok normal
expect "$Y" "kind=kmem mode=system-ram .*blocks=([0-9]+)/\\1 online=[1-9][0-9]* movable=0 state=usable"
[ "$(node1_kb)" -gt "$kb1" ] || vm_fail "node 1 did not grow after onlining $Y"
vm_pass
