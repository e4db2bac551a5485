# daemon_kmem: a devdax namespace onlined as system RAM through
# discovery_online_kmem (node 1, memory-less until then) backs a kmem tier
# named in the config; a memkind client's MEMKIND_DAX_KMEM pages all land
# on node 1 while its ordinary malloc does not; the lease is a memfd, not a
# file; the memory goes back when the client ends.
. /vm/lib.sh
vm_begin daemon_kmem
vm_need_daemon
vm_need_prog discovery_probe "$VM_PROBE"
command -v jq >/dev/null || vm_skip "jq is not in the guest (install jq on the host)"

vm_step "devdax namespace onlined as movable system RAM on node 1"
nd_init_labels
D=$(nd_create devdax 1G | json_str chardev)
[ -n "$D" ] || vm_fail "no dax device"
vm_run "$VM_PROBE" online "$D"
node1_free() { sed -n 's/.*MemFree: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node1/meminfo; }
# memfd pages are shmem: the node's Shmem counter follows the leases exactly,
# where MemFree also moves with per-cpu page lists and other allocations.
node1_shmem() { sed -n 's/.*Shmem: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node1/meminfo; }
shmem_back() { [ "$(node1_shmem)" -le $((shmem0 + 1024)) ]; }
free1=$(node1_free)
echo "node1 MemFree: $free1 kB"
[ "$free1" -gt $((256 * 1024)) ] || vm_fail "node 1 has only $free1 kB free after onlining"

vm_step "pmemtierd with a kmem tier on node 1"
pmtd_start "
[tier pmem]
backend = file
path = @DIR@/tier-pmem
capacity = 64M
default = yes

[tier nvkmem]
backend = kmem
node = 1
capacity = 256M
"
vm_run "$TIERCTL" tiers
"$TIERCTL" -j tiers >/tmp/tiers.json
[ "$(jq -r '.tiers[] | select(.name=="nvkmem") | "\(.backend) \(.numa_node)"' /tmp/tiers.json)" = "kmem 1" ] ||
	{ cat /tmp/tiers.json; vm_fail "tier nvkmem is not a kmem tier on node 1"; }

vm_step "MEMKIND_DAX_KMEM pages land on node 1"
shmem0=$(node1_shmem)
client_bg /tmp/k1.out kmem 32 60
assert_grep '^kmem: 32 of 32 MiB allocated; pages=8192 node0=0 node1=8192$' /tmp/k1.out \
	"MEMKIND_DAX_KMEM pages are not all on node 1"
grep -E 'memfd|pmemtier' /proc/$CLIENT_PID/maps | head -5 | tee /tmp/k1.maps
assert_grep ' rw-s .*/memfd:' /tmp/k1.maps "the kmem lease is not a shared memfd mapping"
g=$("$TIERCTL" -j tiers | jq -r '.tiers[] | select(.name=="nvkmem") | .granted')
[ "$g" -ge $((32 << 20)) ] || vm_fail "tier nvkmem shows $g bytes granted"
vm_run "$TIERCTL" status
during=$(node1_free)
echo "node1 MemFree with the client: $during kB"
[ $((free1 - during)) -ge $((30 * 1024)) ] || vm_fail "node 1 lost only $((free1 - during)) kB to a 32 MiB client"
shmem1=$(node1_shmem)
echo "node1 Shmem: $shmem0 kB before the client, $shmem1 kB with it"
[ $((shmem1 - shmem0)) -ge $((32 * 1024)) ] ||
	vm_fail "node 1's shmem grew by only $((shmem1 - shmem0)) kB for a 32 MiB kmem client"

vm_step "the client's memory goes back when it ends"
client_end
vm_wait 10 granted_is nvkmem 0 ||
	vm_fail "tier nvkmem still shows $(tier_field nvkmem granted) bytes granted after the client ended"
vm_wait 10 shmem_back ||
	vm_fail "node 1 still holds $(($(node1_shmem) - shmem0)) kB of shmem after the 32 MiB client ended"
echo "node1 Shmem after: $(node1_shmem) kB; MemFree after: $(node1_free) kB"
pmtd_alive
pmtd_stop
vm_pass
