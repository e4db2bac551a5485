# numa_kinds: memkind's static kinds that place memory by NUMA node
# (REGULAR, INTERLEAVE, HIGHEST_CAPACITY*, LOWEST_LATENCY_LOCAL*,
# HIGHEST_BANDWIDTH_LOCAL*, HUGETLB) on a guest whose node 1 has no CPU and,
# once a 3 GiB devdax namespace is onlined as system RAM, more memory than
# node 0 (2 GiB): the largest node is the CPU-less one. numa_probe prints
# per kind what memkind_check_available/get_capacity say, the kernel's
# policy for a block and the nodes the pages are on; it runs against
# libpmemtier and against Debian's libmemkind 1.14, and the lines must be
# the same. Then the expected placements are checked one by one, also with
# the process's own policy preferring node 1 (REGULAR must stay on node 0).
# The guest has no HMAT: the latency and bandwidth kinds are unavailable,
# as memkind reports them. The finer cases (two sockets, HMAT figures,
# ties) are unit tests over sysfs trees (tests/client/test_numa.c).
. /vm/lib.sh
vm_begin numa_kinds
PROBE=${PMEMTIER_BUILD_DIR:-/nonexistent}/tests/vm/numa_probe
CONTROL=${PMEMTIER_BUILD_DIR:-/nonexistent}/tests/vm/numa_probe_memkind
vm_need_prog numa_probe "$PROBE"

vm_step "node 1 (no CPU) gets 3 GiB of the NVDIMM as system RAM"
nd_init_labels
X=$(nd_create devdax 3G | json_str chardev)
[ -n "$X" ] || vm_fail "the devdax namespace has no dax device"
vm_run daxctl reconfigure-device --mode=system-ram "$X"
kb1=$(node1_kb)
echo "node1 MemTotal: ${kb1} kB"
[ "$kb1" -gt 2500000 ] || vm_fail "node 1 has ${kb1} kB, not the 3 GiB onlined"
cat /sys/devices/system/node/node1/distance

vm_step "libpmemtier"
"$PROBE" 16 >/tmp/pmt.txt || vm_fail "numa_probe failed"
cat /tmp/pmt.txt

# line KIND: the probe's line for KIND
line() { grep "^$1 " /tmp/pmt.txt; }
# expect KIND ERE: the line matches
expect() {
	line "$1" | grep -qE -- "$2" ||
		{ vm_fail "$1: expected /$2/"; }
}
vm_step "placements"
# MPOL_BIND=2, MPOL_PREFERRED=1, MPOL_INTERLEAVE=3
expect REGULAR "avail=0 .* mode=2 policy_nodes=0 nodes=0$"
expect INTERLEAVE "avail=0 .* mode=3 policy_nodes=0,1 nodes=0,1$"
expect HIGHEST_CAPACITY "avail=0 .* mode=2 policy_nodes=1 nodes=1$"
expect HIGHEST_CAPACITY_PREFERRED "avail=0 cap=-1 mode=1 policy_nodes=1 nodes=1$"
# Without HMAT, and with every other node as near, hwloc (and so memkind)
# places the CPU-less node nowhere: it is local to no CPU, and the local
# kinds keep to node 0.
expect HIGHEST_CAPACITY_LOCAL "avail=0 .* mode=2 policy_nodes=0 nodes=0$"
expect HIGHEST_CAPACITY_LOCAL_PREFERRED "avail=0 cap=-1 mode=1 policy_nodes=0 nodes=0$"
for k in LOWEST_LATENCY_LOCAL LOWEST_LATENCY_LOCAL_PREFERRED \
    HIGHEST_BANDWIDTH_LOCAL HIGHEST_BANDWIDTH_LOCAL_PREFERRED; do
	expect $k "avail=-20 cap=-1 malloc=null$"
done
expect HUGETLB "avail=-18 cap=0 malloc=null$"
# Capacities are the nodes' MemTotal.
cap0=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node0/meminfo)
expect HIGHEST_CAPACITY "cap=$((kb1 * 1024)) "
expect REGULAR "cap=$((cap0 * 1024)) "
expect INTERLEAVE "cap=$(((cap0 + kb1) * 1024)) "

vm_step "the process prefers node 1: DEFAULT follows, REGULAR stays on node 0"
numactl --preferred=1 "$PROBE" 16 >/tmp/pmt.txt ||
	vm_fail "numa_probe under numactl failed"
cat /tmp/pmt.txt
expect DEFAULT "nodes=1$"
expect REGULAR "mode=2 policy_nodes=0 nodes=0$"

vm_step "the same lines as Debian's libmemkind 1.14"
if [ -x "$CONTROL" ]; then
	"$PROBE" 16 >/tmp/pmt.txt || vm_fail "numa_probe failed"
	"$CONTROL" 16 >/tmp/mk.txt 2>/tmp/mk.err || vm_fail "numa_probe_memkind failed"
	cat /tmp/mk.txt
	diff /tmp/mk.txt /tmp/pmt.txt || vm_fail "libpmemtier and libmemkind differ"
else
	echo "numa_probe_memkind not built (no libmemkind-dev): comparison skipped"
fi
vm_pass
