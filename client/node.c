/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "node.h"
#include "include/pmemtier/memkind.h"

#define NODE_SYSFS	"/sys/devices/system/node"
#define CPU_MAX		8192
#define CPU_WORDS	(CPU_MAX / 64)

struct topo_node {
	bool			 present;
	bool			 has_cpu;
	bool			 has_init;	/* HMAT initiators listed */
	int64_t			 mem;		/* MemTotal, bytes */
	uint64_t		 latency;	/* HMAT, ns; 0 unknown */
	uint64_t		 bandwidth;	/* HMAT, MB/s; 0 unknown */
	uint64_t		 cpus[CPU_WORDS];
	uint64_t		 locality[CPU_WORDS];
	struct pmt_nodemask	 initiators;
	int			*dist;		/* to node j; -1 unknown */
};

struct pmt_topo {
	int			 n;		/* highest node id + 1 */
	struct topo_node	*node;
	struct pmt_nodemask	 allowed;
	uint64_t		 all_cpus[CPU_WORDS];
};

static inline bool
bit_test(const uint64_t *w, int i)
{
	return (w[i / 64] >> (i % 64)) & 1;
}

static inline void
bit_set(uint64_t *w, int i)
{
	w[i / 64] |= 1ULL << (i % 64);
}

/* Marks the members of a kernel list ("0-3,8") in w (nbits wide). */
static int
list_parse(const char *s, uint64_t *w, int nbits)
{
	char	*end;
	long	 lo, hi;

	while (*s != '\0' && *s != '\n') {
		lo = strtol(s, &end, 10);
		if (end == s || lo < 0 || lo >= nbits)
			return -1;
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			hi = strtol(s, &end, 10);
			if (end == s || hi < lo || hi >= nbits)
				return -1;
		}
		for (; lo <= hi; lo++)
			bit_set(w, (int)lo);
		s = end;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* The first line of a file, or of the line holding key (after it). */
static int
read_line(const char *path, const char *key, char *buf, size_t len)
{
	char	 line[1024], *v;
	FILE	*f;
	int	 rc = -1;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((v = strstr(line, key)) == NULL)
			continue;
		v += strlen(key);
		v += strspn(v, " \t");
		snprintf(buf, len, "%s", v);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static uint64_t
read_u64(const char *dir, int id, const char *name)
{
	char	path[512], val[64];

	snprintf(path, sizeof(path), "%s/node%d/%s", dir, id, name);
	if (read_line(path, "", val, sizeof(val)) != 0)
		return 0;
	return strtoull(val, NULL, 10);
}

/* The mean of a read and a write figure, or whichever is known. */
static uint64_t
mean_known(uint64_t r, uint64_t w)
{
	if (r != 0 && w != 0)
		return (r + w) / 2;
	return r != 0 ? r : w;
}

/* One HMAT figure: the mean of read and write where both are known. */
static uint64_t
node_read_figure(const char *dir, int id, const char *cls, const char *what)
{
	char	name[64];
	uint64_t r, w;

	snprintf(name, sizeof(name), "%s/initiators/read_%s", cls, what);
	r = read_u64(dir, id, name);
	snprintf(name, sizeof(name), "%s/initiators/write_%s", cls, what);
	w = read_u64(dir, id, name);
	return mean_known(r, w);
}

/*
 * HMAT: the initiators of the best access class (access0, as hwloc reads
 * them) and the figures of the CPU initiators' class (access1) where the
 * kernel has it, else access0's.
 */
static void
node_read_hmat(const char *dir, int id, struct topo_node *nd)
{
	char		 path[512];
	struct dirent	*e;
	DIR		*d;
	int		 init;

	snprintf(path, sizeof(path), "%s/node%d/access0/initiators", dir, id);
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (sscanf(e->d_name, "node%d", &init) == 1 && init >= 0 &&
		    init < PMT_NODE_MAX) {
			bit_set(nd->initiators.w, init);
			nd->has_init = true;
		}
	closedir(d);
	if ((nd->latency = node_read_figure(dir, id, "access1",
	    "latency")) == 0)
		nd->latency = node_read_figure(dir, id, "access0", "latency");
	if ((nd->bandwidth = node_read_figure(dir, id, "access1",
	    "bandwidth")) == 0)
		nd->bandwidth = node_read_figure(dir, id, "access0",
		    "bandwidth");
}

static int
node_read(const char *dir, struct pmt_topo *t, int id)
{
	struct topo_node	*nd = &t->node[id];
	char			 path[512], val[1024];

	nd->present = true;
	snprintf(path, sizeof(path), "%s/node%d/cpulist", dir, id);
	if (read_line(path, "", val, sizeof(val)) == 0 &&
	    list_parse(val, nd->cpus, CPU_MAX) != 0)
		return -1;
	for (int w = 0; w < CPU_WORDS; w++) {
		nd->has_cpu |= nd->cpus[w] != 0;
		t->all_cpus[w] |= nd->cpus[w];
	}
	/* "Node 0 MemTotal:  10708728 kB" */
	snprintf(path, sizeof(path), "%s/node%d/meminfo", dir, id);
	if (read_line(path, "MemTotal:", val, sizeof(val)) == 0)
		nd->mem = strtoll(val, NULL, 10) * 1024;
	node_read_hmat(dir, id, nd);
	return 0;
}

/* A node's distance file lists the distances to the nodes in id order. */
static int
node_read_distances(const char *dir, struct pmt_topo *t, int id)
{
	struct topo_node	*nd = &t->node[id];
	char			 path[512], val[4096], *s, *end;
	long			 d;
	int			 j;

	if ((nd->dist = malloc(sizeof(int) * (size_t)t->n)) == NULL)
		return -1;
	for (j = 0; j < t->n; j++)
		nd->dist[j] = -1;
	snprintf(path, sizeof(path), "%s/node%d/distance", dir, id);
	if (read_line(path, "", val, sizeof(val)) != 0)
		return 0;
	s = val;
	for (j = 0; j < t->n; j++) {
		if (!t->node[j].present)
			continue;
		d = strtol(s, &end, 10);
		if (end == s)
			break;
		nd->dist[j] = (int)d;
		s = end;
	}
	return 0;
}

/*
 * Where a node counts as local, as hwloc places it: a node with CPUs at
 * its CPUs; a CPU-less one at its HMAT initiators' CPUs (access0), else
 * at the CPUs of the nodes nearest to it by the distance table, provided
 * they are nearer than itself and not all the other nodes are that near
 * (so on a machine of one CPU node and one CPU-less node, nowhere); else
 * nowhere: local to no CPU node.
 */
static void
node_locality(struct pmt_topo *t, int id)
{
	struct topo_node	*nd = &t->node[id];
	int			 j, w, min = -1, nb = 0, others = 0;

	if (nd->has_cpu) {
		memcpy(nd->locality, nd->cpus, sizeof(nd->locality));
		return;
	}
	if (nd->has_init) {
		for (j = 0; j < t->n; j++)
			if (bit_test(nd->initiators.w, j) && t->node[j].present)
				for (w = 0; w < CPU_WORDS; w++)
					nd->locality[w] |= t->node[j].cpus[w];
		for (w = 0; w < CPU_WORDS; w++)
			if (nd->locality[w] != 0)
				return;
	}
	for (j = 0; j < t->n; j++) {
		if (j == id || !t->node[j].present)
			continue;
		others++;
		if (nd->dist[j] < 0)
			return;
		if (min < 0 || nd->dist[j] < min) {
			min = nd->dist[j];
			nb = 1;
		} else if (nd->dist[j] == min)
			nb++;
	}
	if (min < 0 || min <= nd->dist[id] || nb == others)
		return;
	for (j = 0; j < t->n; j++)
		if (j != id && t->node[j].present && nd->dist[j] == min)
			for (w = 0; w < CPU_WORDS; w++)
				nd->locality[w] |= t->node[j].cpus[w];
}

void
pmt_topo_free(struct pmt_topo *t)
{
	int	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->node[i].dist);
	free(t->node);
	free(t);
}

struct pmt_topo *
pmt_topo_load(const char *dir, const char *allowed)
{
	struct pmt_topo	*t;
	struct dirent	*e;
	DIR		*d;
	int		 id, i, hi = -1;

	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL)
		if (sscanf(e->d_name, "node%d", &id) == 1 && id >= 0 &&
		    id < PMT_NODE_MAX && id > hi)
			hi = id;
	if (hi < 0 || (t = calloc(1, sizeof(*t))) == NULL) {
		closedir(d);
		return NULL;
	}
	t->n = hi + 1;
	if ((t->node = calloc((size_t)t->n, sizeof(*t->node))) == NULL)
		goto fail;
	rewinddir(d);
	while ((e = readdir(d)) != NULL)
		if (sscanf(e->d_name, "node%d", &id) == 1 && id >= 0 &&
		    id < t->n && node_read(dir, t, id) != 0)
			goto fail;
	closedir(d);
	d = NULL;
	for (i = 0; i < t->n; i++)
		if (t->node[i].present && node_read_distances(dir, t, i) != 0)
			goto fail;
	for (i = 0; i < t->n; i++)
		if (t->node[i].present)
			node_locality(t, i);
	if (allowed == NULL || list_parse(allowed, t->allowed.w,
	    PMT_NODE_MAX) != 0)
		for (i = 0; i < t->n; i++)
			if (t->node[i].present)
				bit_set(t->allowed.w, i);
	return t;
fail:
	if (d != NULL)
		closedir(d);
	pmt_topo_free(t);
	return NULL;
}

static bool
nodes_empty(const struct pmt_nodemask *m)
{
	for (int w = 0; w < PMT_NODE_WORDS; w++)
		if (m->w[w] != 0)
			return false;
	return true;
}

static int
nodes_weight(const struct pmt_nodemask *m)
{
	int	n = 0;

	for (int w = 0; w < PMT_NODE_WORDS; w++)
		n += __builtin_popcountll(m->w[w]);
	return n;
}

enum local_attr { ATTR_CAPACITY, ATTR_LATENCY, ATTR_BANDWIDTH };

/*
 * Among the nodes local to the CPU node init, the one best in attr, as
 * memkind (through hwloc) picks it. -1 if none qualifies.
 */
static int
topo_local_best(const struct pmt_topo *t, int init, enum local_attr attr)
{
	const struct topo_node	*in = &t->node[init], *nd;
	uint64_t		 v, best = 0;
	int64_t			 tie = 0;
	int			 j, pick = -1;

	for (j = 0; j < t->n; j++) {
		nd = &t->node[j];
		if (!nd->present || memcmp(nd->locality, in->cpus,
		    sizeof(nd->locality)) != 0)
			continue;
		if (attr == ATTR_CAPACITY) {
			/* Capacity first; on a tie the farther node. */
			if (nd->mem <= 0)
				continue;
			if (pick < 0 || (uint64_t)nd->mem > best ||
			    ((uint64_t)nd->mem == best &&
			    in->dist[j] > tie)) {
				best = (uint64_t)nd->mem;
				tie = in->dist[j];
				pick = j;
			}
			continue;
		}
		/* A figure for this initiator; on a tie the smaller node. */
		if (!nd->has_init || !bit_test(nd->initiators.w, init))
			continue;
		v = attr == ATTR_LATENCY ? nd->latency : nd->bandwidth;
		if (v == 0)
			continue;
		if (pick < 0 ||
		    (attr == ATTR_LATENCY ? v < best : v > best) ||
		    (v == best && nd->mem < tie)) {
			best = v;
			tie = nd->mem;
			pick = j;
		}
	}
	return pick;
}

static enum local_attr
policy_attr(enum pmt_numa_policy p)
{
	switch (p) {
	case PMT_NUMA_LOLAT_LOCAL:
	case PMT_NUMA_LOLAT_LOCAL_PREF:
		return ATTR_LATENCY;
	case PMT_NUMA_HIBW_LOCAL:
	case PMT_NUMA_HIBW_LOCAL_PREF:
		return ATTR_BANDWIDTH;
	default:
		return ATTR_CAPACITY;
	}
}

static bool
policy_local(enum pmt_numa_policy p)
{
	return p >= PMT_NUMA_HICAP_LOCAL;
}

static bool
policy_preferred(enum pmt_numa_policy p)
{
	return p == PMT_NUMA_HICAP_PREF || p == PMT_NUMA_HICAP_LOCAL_PREF ||
	    p == PMT_NUMA_LOLAT_LOCAL_PREF || p == PMT_NUMA_HIBW_LOCAL_PREF;
}

int
pmt_topo_policy(const struct pmt_topo *t, enum pmt_numa_policy p, int cpu,
    struct pmt_nodemask *nodes, int *mode)
{
	int64_t	best = 0;
	int	i, init = -1;

	memset(nodes, 0, sizeof(*nodes));
	*mode = p == PMT_NUMA_INTERLEAVE ? PMT_MPOL_INTERLEAVE :
	    policy_preferred(p) ? PMT_MPOL_PREFERRED : PMT_MPOL_BIND;
	if (t == NULL || p == PMT_NUMA_NONE)
		return MEMKIND_ERROR_UNAVAILABLE;
	for (i = 0; i < t->n; i++) {
		const struct topo_node *nd = &t->node[i];

		if (!nd->present)
			continue;
		switch (p) {
		case PMT_NUMA_REGULAR:
			if (nd->has_cpu)
				bit_set(nodes->w, i);
			break;
		case PMT_NUMA_INTERLEAVE:
			if (nd->mem > 0 && bit_test(t->allowed.w, i))
				bit_set(nodes->w, i);
			break;
		case PMT_NUMA_HICAP:
		case PMT_NUMA_HICAP_PREF:
			if (nd->mem <= 0 || nd->mem < best)
				break;
			if (nd->mem > best)
				memset(nodes, 0, sizeof(*nodes));
			best = nd->mem;
			bit_set(nodes->w, i);
			break;
		default:
			if (nd->has_cpu && cpu >= 0 && cpu < CPU_MAX &&
			    bit_test(nd->cpus, cpu))
				init = i;
			break;
		}
	}
	if (policy_local(p) && init >= 0 &&
	    (i = topo_local_best(t, init, policy_attr(p))) >= 0)
		bit_set(nodes->w, i);
	if (nodes_empty(nodes) ||
	    (p == PMT_NUMA_HICAP_PREF && nodes_weight(nodes) > 1))
		return MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE;
	return 0;
}

int
pmt_topo_check(const struct pmt_topo *t, enum pmt_numa_policy p)
{
	struct pmt_nodemask	nodes;
	int			i, mode;

	if (t == NULL)
		return MEMKIND_ERROR_UNAVAILABLE;
	if (!policy_local(p))
		return pmt_topo_policy(t, p, -1, &nodes, &mode);
	/* memkind refuses the kind if any CPU node has no such node. */
	for (i = 0; i < t->n; i++)
		if (t->node[i].present && t->node[i].has_cpu &&
		    topo_local_best(t, i, policy_attr(p)) < 0)
			return MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE;
	return 0;
}

ssize_t
pmt_topo_capacity(const struct pmt_topo *t, const struct pmt_nodemask *nodes)
{
	ssize_t	sum = 0;
	int	i;

	for (i = 0; i < t->n; i++)
		if (t->node[i].present && bit_test(nodes->w, i) &&
		    t->node[i].mem > 0)
			sum += t->node[i].mem;
	return sum;
}

static struct pmt_topo	*topo_sys;
static pthread_once_t	 topo_once = PTHREAD_ONCE_INIT;

/* The process's allowed nodes, or NULL when /proc does not say. */
static char *
mems_allowed(char *buf, size_t len)
{
	return read_line("/proc/self/status", "Mems_allowed_list:", buf,
	    len) == 0 ? buf : NULL;
}

static void
topo_system_load(void)
{
	char	list[1024];

	topo_sys = pmt_topo_load(NODE_SYSFS, mems_allowed(list,
	    sizeof(list)));
}

const struct pmt_topo *
pmt_topo_system(void)
{
	pthread_once(&topo_once, topo_system_load);
	return topo_sys;
}

/* The CPU a _LOCAL policy chooses for; -1 for the others. */
static int
policy_cpu(enum pmt_numa_policy p)
{
	return policy_local(p) ? sched_getcpu() : -1;
}

int
pmt_numa_bind(enum pmt_numa_policy p, void *addr, size_t len)
{
	struct pmt_nodemask	nodes;
	int			mode, rc;

	if (p == PMT_NUMA_NONE)
		return 0;
	rc = pmt_topo_policy(pmt_topo_system(), p, policy_cpu(p), &nodes,
	    &mode);
	if (rc != 0)
		return rc;
	if (syscall(SYS_mbind, addr, len, mode, nodes.w,
	    (unsigned long)PMT_NODE_MAX + 1, 0) != 0) {
		/*
		 * A container's seccomp filter may forbid mbind (Docker's
		 * does without CAP_SYS_NICE). REGULAR then keeps working on
		 * the process's own policy; a kind whose point is its nodes
		 * fails, as memkind's does.
		 */
		if (p == PMT_NUMA_REGULAR && (errno == EPERM ||
		    errno == ENOSYS))
			return 0;
		return MEMKIND_ERROR_MBIND;
	}
	/* memkind's interleaved pages are small ones, spread page by page. */
	if (p == PMT_NUMA_INTERLEAVE)
		(void)madvise(addr, len, MADV_NOHUGEPAGE);
	return 0;
}

/*
 * MemTotal of the nodes policy p uses, chosen in choose (or, if NULL, in
 * the topology as it is now) and counted as they are now: memory comes
 * and goes (kmem, hotplug), and memkind_get_capacity() reports what is
 * there. -1 when unreadable.
 */
static ssize_t
capacity_now(const struct pmt_topo *choose, enum pmt_numa_policy p)
{
	struct pmt_nodemask	 nodes;
	struct pmt_topo		*t;
	ssize_t			 sum = -1;
	char			 list[1024];
	int			 mode;

	if ((t = pmt_topo_load(NODE_SYSFS, mems_allowed(list,
	    sizeof(list)))) == NULL)
		return -1;
	if (pmt_topo_policy(choose != NULL ? choose : t, p, policy_cpu(p),
	    &nodes, &mode) == 0)
		sum = pmt_topo_capacity(t, &nodes);
	pmt_topo_free(t);
	return sum;
}

/*
 * DEFAULT's nodes are the allowed ones (INTERLEAVE's, which leaves out
 * only nodes without memory), REGULAR's those with CPUs.
 */
ssize_t
pmt_node_capacity(enum pmt_node_set which)
{
	return capacity_now(NULL, which == PMT_NODES_ALLOWED ?
	    PMT_NUMA_INTERLEAVE : PMT_NUMA_REGULAR);
}

ssize_t
pmt_numa_capacity(enum pmt_numa_policy p)
{
	/* memkind does not size a preferred kind: it may take any node. */
	if (policy_preferred(p))
		return -1;
	/* The nodes the kind binds to, as it chose them at its start. */
	return capacity_now(pmt_topo_system(), p);
}
