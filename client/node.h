/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA nodes as sysfs and /proc describe them, read without libnuma, and
 * the nodes each of memkind's NUMA-policy kinds binds its memory to:
 *
 *   MEMKIND_REGULAR               bind to the nodes that have CPUs
 *   MEMKIND_INTERLEAVE            interleave over the process's allowed nodes
 *   MEMKIND_HIGHEST_CAPACITY      bind to the node(s) of the largest MemTotal
 *   ..._PREFERRED                 prefer that node; unavailable on a tie
 *   ..._LOCAL[_PREFERRED]         per CPU: among the nodes local to the CPU's
 *   MEMKIND_LOWEST_LATENCY_LOCAL*   node, the one of the largest capacity
 *   MEMKIND_HIGHEST_BANDWIDTH_LOCAL*  (a tie goes to the farther node), the
 *                                 lowest latency or the highest bandwidth
 *                                 (HMAT; a tie goes to the smaller node)
 *
 * as memkind 1.14 chooses them (memkind asks hwloc; the same sysfs files
 * are read here). A node is local to a CPU node when its locality is the
 * same set of CPUs, as hwloc works it out: a node's own CPUs; for a
 * CPU-less node, the CPUs of its HMAT initiators, else of the nodes
 * nearest to it by the distance table (unless every other node is as
 * near), else none.
 *
 * The decisions are pure functions of a loaded topology, so that tests
 * can load one from a tree of files shaped like /sys/devices/system/node.
 */
#ifndef PMT_NODE_H
#define PMT_NODE_H

#include <stdint.h>
#include <sys/types.h>

#define PMT_NODE_MAX		1024
#define PMT_NODE_WORDS		(PMT_NODE_MAX / 64)

enum pmt_node_set {
	PMT_NODES_ALLOWED,	/* the process's Mems_allowed (DEFAULT) */
	PMT_NODES_WITH_CPUS,	/* nodes that have CPUs (REGULAR) */
};

enum pmt_numa_policy {
	PMT_NUMA_NONE,
	PMT_NUMA_REGULAR,
	PMT_NUMA_INTERLEAVE,
	PMT_NUMA_HICAP,
	PMT_NUMA_HICAP_PREF,
	PMT_NUMA_HICAP_LOCAL,
	PMT_NUMA_HICAP_LOCAL_PREF,
	PMT_NUMA_LOLAT_LOCAL,
	PMT_NUMA_LOLAT_LOCAL_PREF,
	PMT_NUMA_HIBW_LOCAL,
	PMT_NUMA_HIBW_LOCAL_PREF,
};

/* The kernel's MPOL_* modes (<numaif.h> is libnuma's). */
#define PMT_MPOL_PREFERRED	1
#define PMT_MPOL_BIND		2
#define PMT_MPOL_INTERLEAVE	3

struct pmt_nodemask {
	uint64_t	w[PMT_NODE_WORDS];
};

struct pmt_topo;

/*
 * Reads dir (shaped like /sys/devices/system/node) and the allowed nodes
 * (a kernel list such as "0-1", or NULL for every node). NULL when dir has
 * no node or memory is short.
 */
struct pmt_topo	*pmt_topo_load(const char *dir, const char *allowed);
void		 pmt_topo_free(struct pmt_topo *t);

/*
 * The nodes and MPOL mode of a policy as seen from cpu (only the _LOCAL
 * policies look at it). 0, or memkind's code for why the kind is not
 * available: MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE when no node qualifies
 * (or, for HIGHEST_CAPACITY_PREFERRED, several do).
 */
int	 pmt_topo_policy(const struct pmt_topo *t, enum pmt_numa_policy p,
	    int cpu, struct pmt_nodemask *nodes, int *mode);
/* 0 when the policy finds nodes for every CPU node, else as above. */
int	 pmt_topo_check(const struct pmt_topo *t, enum pmt_numa_policy p);
/* Sum of the MemTotal of the nodes, in bytes. */
ssize_t	 pmt_topo_capacity(const struct pmt_topo *t,
	    const struct pmt_nodemask *nodes);

/* The machine's topology, read once; NULL without NUMA sysfs. */
const struct pmt_topo *pmt_topo_system(void);

/*
 * Applies the policy to [addr, addr + len), for the calling thread's CPU.
 * 0 or memkind's error code (MEMKIND_ERROR_MBIND when the kernel refuses).
 */
int	 pmt_numa_bind(enum pmt_numa_policy p, void *addr, size_t len);

/*
 * Sum of MemTotal of the nodes the policy uses now (this CPU's), or -1
 * (also for the _PREFERRED policies, as memkind).
 */
ssize_t	 pmt_numa_capacity(enum pmt_numa_policy p);

/* Sum of MemTotal of the set's nodes in bytes, or -1 if unreadable. */
ssize_t	pmt_node_capacity(enum pmt_node_set set);

#endif /* PMT_NODE_H */
