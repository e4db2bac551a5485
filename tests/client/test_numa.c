/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which nodes memkind's NUMA-placed kinds bind to (client/node.c), over
 * trees of files shaped like /sys/devices/system/node for machines this
 * build host is not: two sockets with a CPU-less pmem node each, HMAT
 * figures, ties, a restricted cpuset. The choices are memkind 1.14's (with
 * hwloc's idea of locality); vm_numa_kinds checks the same code on a real
 * kernel against libmemkind itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node.h"
#include "include/pmemtier/memkind.h"

#define GiB	(1024LL * 1024 * 1024)

static char	root[256];

static void
put(const char *rel, const char *fmt, ...)
{
	char	 path[512], *p;
	va_list	 ap;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		(void)mkdir(path, 0755);
		*p = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* node ID with CPUS ("" for none), MemTotal in GiB, distance row. */
static void
node(int id, const char *cpus, long long gib, const char *dist)
{
	char	rel[128];

	snprintf(rel, sizeof(rel), "node%d/cpulist", id);
	put(rel, "%s\n", cpus);
	snprintf(rel, sizeof(rel), "node%d/meminfo", id);
	put(rel, "Node %d MemTotal:       %lld kB\nNode %d MemFree: 1 kB\n",
	    id, gib * 1024 * 1024, id);
	snprintf(rel, sizeof(rel), "node%d/distance", id);
	put(rel, "%s\n", dist);
}

/* HMAT: node ID's initiator INIT with latency (ns) and bandwidth (MB/s). */
static void
hmat(int id, int init, unsigned lat, unsigned bw)
{
	char	rel[128];

	snprintf(rel, sizeof(rel), "node%d/access0/initiators/node%d", id,
	    init);
	put(rel, "");
	snprintf(rel, sizeof(rel), "node%d/access0/initiators/read_latency",
	    id);
	put(rel, "%u\n", lat);
	snprintf(rel, sizeof(rel), "node%d/access0/initiators/write_latency",
	    id);
	put(rel, "%u\n", lat);
	snprintf(rel, sizeof(rel),
	    "node%d/access0/initiators/read_bandwidth", id);
	put(rel, "%u\n", bw);
	snprintf(rel, sizeof(rel),
	    "node%d/access0/initiators/write_bandwidth", id);
	put(rel, "%u\n", bw);
}

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "%s/pmt-numa-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The policy's nodes from cpu as a string ("0,2"), or its error code. */
static const char *
nodes_of(const struct pmt_topo *t, enum pmt_numa_policy p, int cpu,
    int *mode)
{
	static char		buf[64];
	struct pmt_nodemask	m;
	int			rc, i, n = 0;

	rc = pmt_topo_policy(t, p, cpu, &m, mode);
	if (rc != 0) {
		snprintf(buf, sizeof(buf), "error %d", rc);
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < PMT_NODE_MAX; i++)
		if (m.w[i / 64] >> (i % 64) & 1)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%d",
			    n ? "," : "", i);
	return buf;
}

static void
expect(const struct pmt_topo *t, enum pmt_numa_policy p, int cpu,
    const char *want, int want_mode)
{
	int	mode;

	assert_string_equal(nodes_of(t, p, cpu, &mode), want);
	if (want_mode >= 0)
		assert_int_equal(mode, want_mode);
}

static void
test_one_node(void **state)
{
	struct pmt_topo		*t;
	struct pmt_nodemask	 m;
	int			 mode;

	node(0, "0-3", 16, "10");
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_REGULAR, -1, "0", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_INTERLEAVE, -1, "0", PMT_MPOL_INTERLEAVE);
	expect(t, PMT_NUMA_HICAP, -1, "0", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_HICAP_PREF, -1, "0", PMT_MPOL_PREFERRED);
	expect(t, PMT_NUMA_HICAP_LOCAL, 2, "0", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_HICAP_LOCAL_PREF, 3, "0", PMT_MPOL_PREFERRED);
	/* No HMAT: no latency or bandwidth to choose by. */
	expect(t, PMT_NUMA_LOLAT_LOCAL, 0, "error -20", -1);
	expect(t, PMT_NUMA_HIBW_LOCAL_PREF, 0, "error -20", -1);
	assert_int_equal(pmt_topo_check(t, PMT_NUMA_HICAP_LOCAL), 0);
	assert_int_equal(pmt_topo_check(t, PMT_NUMA_LOLAT_LOCAL),
	    MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
	assert_int_equal(pmt_topo_policy(t, PMT_NUMA_REGULAR, -1, &m, &mode),
	    0);
	assert_int_equal(pmt_topo_capacity(t, &m), 16 * GiB);
	pmt_topo_free(t);
}

/* QEMU's test guest: node 1 has no CPU and, onlined, more memory. */
static void
test_cpuless_node_of_two(void **state)
{
	struct pmt_topo	*t;

	node(0, "0-1", 2, "10 20");
	node(1, "", 3, "20 10");
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_REGULAR, -1, "0", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_INTERLEAVE, -1, "0,1", PMT_MPOL_INTERLEAVE);
	expect(t, PMT_NUMA_HICAP, -1, "1", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_HICAP_PREF, -1, "1", PMT_MPOL_PREFERRED);
	/* Every other node is as near: hwloc makes node 1 local to none. */
	expect(t, PMT_NUMA_HICAP_LOCAL, 0, "0", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_HICAP_LOCAL, 7, "error -20", -1);	/* no CPU 7 */
	pmt_topo_free(t);
}

/* With HMAT naming node 0 its initiator, node 1 is local to it. */
static void
test_cpuless_node_with_initiator(void **state)
{
	struct pmt_topo	*t;

	node(0, "0-1", 2, "10 20");
	node(1, "", 3, "20 10");
	hmat(0, 0, 80, 40000);
	hmat(1, 0, 300, 10000);
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_HICAP_LOCAL, 1, "1", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_LOLAT_LOCAL, 1, "0", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_LOLAT_LOCAL_PREF, 0, "0", PMT_MPOL_PREFERRED);
	expect(t, PMT_NUMA_HIBW_LOCAL, 0, "0", PMT_MPOL_BIND);
	assert_int_equal(pmt_topo_check(t, PMT_NUMA_HIBW_LOCAL), 0);
	pmt_topo_free(t);
}

/*
 * Two sockets, each with a CPU-less pmem node nearest to it: the local
 * kinds pick by socket, the global ones see a tie.
 */
static void
test_two_sockets(void **state)
{
	struct pmt_topo		*t;
	struct pmt_nodemask	 m;
	int			 mode;

	node(0, "0-3", 16, "10 21 17 28");
	node(1, "4-7", 16, "21 10 28 17");
	node(2, "", 64, "17 28 10 28");
	node(3, "", 64, "28 17 28 10");
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_REGULAR, -1, "0,1", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_HICAP, -1, "2,3", PMT_MPOL_BIND);
	/* Two nodes of the highest capacity: no single one to prefer. */
	expect(t, PMT_NUMA_HICAP_PREF, -1, "error -20", -1);
	assert_int_equal(pmt_topo_check(t, PMT_NUMA_HICAP_PREF),
	    MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
	expect(t, PMT_NUMA_HICAP_LOCAL, 1, "2", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_HICAP_LOCAL, 6, "3", PMT_MPOL_BIND);
	expect(t, PMT_NUMA_HICAP_LOCAL_PREF, 5, "3", PMT_MPOL_PREFERRED);
	assert_int_equal(pmt_topo_policy(t, PMT_NUMA_HICAP, -1, &m, &mode),
	    0);
	assert_int_equal(pmt_topo_capacity(t, &m), 128 * GiB);
	pmt_topo_free(t);
}

/* Equal capacity: memkind takes the farther node (pmem over DRAM). */
static void
test_capacity_tie_goes_far(void **state)
{
	struct pmt_topo	*t;

	node(0, "0-3", 8, "10 21 17");
	node(1, "4-7", 8, "21 10 28");
	node(2, "", 8, "17 28 10");
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_HICAP_LOCAL, 0, "2", -1);
	/* Socket 1 has nothing local but itself. */
	expect(t, PMT_NUMA_HICAP_LOCAL, 4, "1", -1);
	pmt_topo_free(t);
}

/* Equal latency: the smaller node; a node without figures is skipped. */
static void
test_latency_tie_goes_small(void **state)
{
	struct pmt_topo	*t;

	node(0, "0-1", 4, "10 20 20");
	node(1, "", 2, "20 10 20");
	node(2, "", 6, "20 20 10");
	hmat(0, 0, 100, 20000);
	hmat(1, 0, 100, 30000);
	put("node2/access0/initiators/node0", "");
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_LOLAT_LOCAL, 0, "1", -1);
	expect(t, PMT_NUMA_HIBW_LOCAL, 0, "1", -1);
	expect(t, PMT_NUMA_HICAP_LOCAL, 0, "2", -1);
	pmt_topo_free(t);
}

/*
 * memkind refuses a _LOCAL kind outright when one CPU node has no such
 * node, even if the caller's node has one.
 */
static void
test_local_kind_needs_every_socket(void **state)
{
	struct pmt_topo	*t;

	node(0, "0-1", 4, "10 20 15");
	node(1, "2-3", 4, "20 10 25");
	node(2, "", 8, "15 25 10");
	hmat(0, 0, 90, 20000);
	hmat(2, 0, 250, 9000);
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_LOLAT_LOCAL, 0, "0", -1);
	/* Node 1 has no HMAT figures: the kind is unavailable. */
	expect(t, PMT_NUMA_LOLAT_LOCAL, 2, "error -20", -1);
	assert_int_equal(pmt_topo_check(t, PMT_NUMA_LOLAT_LOCAL),
	    MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
	assert_int_equal(pmt_topo_check(t, PMT_NUMA_HICAP_LOCAL), 0);
	pmt_topo_free(t);
}

/* INTERLEAVE keeps to the cpuset's nodes and to nodes with memory. */
static void
test_interleave_allowed(void **state)
{
	struct pmt_topo	*t;

	node(0, "0-1", 4, "10 20 20");
	node(1, "2-3", 0, "20 10 20");
	node(2, "", 8, "20 20 10");
	assert_non_null(t = pmt_topo_load(root, "0-1"));
	expect(t, PMT_NUMA_INTERLEAVE, -1, "0", PMT_MPOL_INTERLEAVE);
	/* REGULAR: the nodes with CPUs, memory or not (the kernel skips). */
	expect(t, PMT_NUMA_REGULAR, -1, "0,1", -1);
	pmt_topo_free(t);
	assert_non_null(t = pmt_topo_load(root, NULL));
	expect(t, PMT_NUMA_INTERLEAVE, -1, "0,2", -1);
	pmt_topo_free(t);
}

static void
test_no_nodes(void **state)
{
	struct pmt_nodemask	m;
	int			mode;

	assert_null(pmt_topo_load(root, NULL));
	assert_null(pmt_topo_load("/nonexistent/pmemtier", NULL));
	assert_int_equal(pmt_topo_policy(NULL, PMT_NUMA_HICAP, -1, &m,
	    &mode), MEMKIND_ERROR_UNAVAILABLE);
	assert_int_equal(pmt_topo_check(NULL, PMT_NUMA_REGULAR),
	    MEMKIND_ERROR_UNAVAILABLE);
	/* A malformed cpu list is refused, not half read. */
	node(0, "0-x", 4, "10");
	assert_null(pmt_topo_load(root, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_node, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cpuless_node_of_two,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cpuless_node_with_initiator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sockets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_capacity_tie_goes_far,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_tie_goes_small,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_local_kind_needs_every_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interleave_allowed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_nodes, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
