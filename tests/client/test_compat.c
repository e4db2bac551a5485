/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small points of memkind 1.14 compatibility, each pinned where it once
 * differed, run once per mode (see tmode.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <numa.h>
#include <numaif.h>

#include <memkind.h>

#include "tmode.h"
#include "tutil.h"

/*
 * The process's malloc: jemalloc's, as linking libpmemtier makes it, but
 * ASan's under AddressSanitizer, whose blocks no memkind call may take:
 * there DEFAULT's stand in.
 */
#ifdef __SANITIZE_ADDRESS__
#define plain_malloc(n)	memkind_malloc(MEMKIND_DEFAULT, (n))
#define plain_free(p)	memkind_free(MEMKIND_DEFAULT, (p))
#else
#define plain_malloc(n)	malloc(n)
#define plain_free(p)	free(p)
#endif

/* Calling the deprecated interface is the point here. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static void
test_kind_by_partition(void **state)
{
	/* memkind_deprecated.h's numbering, kind by kind. */
	const struct {
		int		 partition;
		memkind_t	*kind;
	} want[] = {
		{ MEMKIND_PARTITION_DEFAULT, &MEMKIND_DEFAULT },
		{ MEMKIND_PARTITION_HBW, &MEMKIND_HBW },
		{ MEMKIND_PARTITION_HBW_HUGETLB, &MEMKIND_HBW_HUGETLB },
		{ MEMKIND_PARTITION_HBW_PREFERRED, &MEMKIND_HBW_PREFERRED },
		{ MEMKIND_PARTITION_HBW_PREFERRED_HUGETLB,
		    &MEMKIND_HBW_PREFERRED_HUGETLB },
		{ MEMKIND_PARTITION_HUGETLB, &MEMKIND_HUGETLB },
		{ MEMKIND_PARTITION_HBW_GBTLB, &MEMKIND_HBW_GBTLB },
		{ MEMKIND_PARTITION_HBW_PREFERRED_GBTLB,
		    &MEMKIND_HBW_PREFERRED_GBTLB },
		{ MEMKIND_PARTITION_GBTLB, &MEMKIND_GBTLB },
		{ MEMKIND_PARTITION_HBW_INTERLEAVE, &MEMKIND_HBW_INTERLEAVE },
		{ MEMKIND_PARTITION_INTERLEAVE, &MEMKIND_INTERLEAVE },
		{ MEMKIND_PARTITION_REGULAR, &MEMKIND_REGULAR },
		{ MEMKIND_PARTITION_HBW_ALL, &MEMKIND_HBW_ALL },
		{ MEMKIND_PARTITION_HBW_ALL_HUGETLB, &MEMKIND_HBW_ALL_HUGETLB },
		{ MEMKIND_PARTITION_DAX_KMEM, &MEMKIND_DAX_KMEM },
		{ MEMKIND_PARTITION_DAX_KMEM_ALL, &MEMKIND_DAX_KMEM_ALL },
		{ MEMKIND_PARTITION_DAX_KMEM_PREFERRED,
		    &MEMKIND_DAX_KMEM_PREFERRED },
		{ MEMKIND_PARTITION_DAX_KMEM_INTERLEAVE,
		    &MEMKIND_DAX_KMEM_INTERLEAVE },
		{ MEMKIND_PARTITION_HIGHEST_CAPACITY,
		    &MEMKIND_HIGHEST_CAPACITY },
		{ MEMKIND_PARTITION_HIGHEST_CAPACITY_PREFERRED,
		    &MEMKIND_HIGHEST_CAPACITY_PREFERRED },
		{ MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL,
		    &MEMKIND_HIGHEST_CAPACITY_LOCAL },
		{ MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL_PREFERRED,
		    &MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED },
		{ MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL,
		    &MEMKIND_LOWEST_LATENCY_LOCAL },
		{ MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL_PREFERRED,
		    &MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED },
		{ MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL,
		    &MEMKIND_HIGHEST_BANDWIDTH_LOCAL },
		{ MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL_PREFERRED,
		    &MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED },
	};
	memkind_t	k, pk = NULL;
	size_t		i;

	assert_int_equal(MEMKIND_NUM_BASE_KIND, 26);
	assert_int_equal(sizeof(want) / sizeof(want[0]),
	    MEMKIND_NUM_BASE_KIND);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(want[i].partition, (int)i);
		k = NULL;
		assert_int_equal(memkind_get_kind_by_partition(
		    want[i].partition, &k), MEMKIND_SUCCESS);
		assert_ptr_equal(k, *want[i].kind);
	}
	/* Created kinds follow, the first one at MEMKIND_NUM_BASE_KIND. */
	k = MEMKIND_DEFAULT;
	assert_int_equal(memkind_get_kind_by_partition(MEMKIND_NUM_BASE_KIND,
	    &k), MEMKIND_ERROR_UNAVAILABLE);
	assert_null(k);
	assert_int_equal(memkind_create_pmem(tm.dir, 0, &pk), MEMKIND_SUCCESS);
	assert_int_equal(memkind_get_kind_by_partition(MEMKIND_NUM_BASE_KIND,
	    &k), MEMKIND_SUCCESS);
	assert_ptr_equal(k, pk);
	assert_int_equal(memkind_destroy_kind(pk), MEMKIND_SUCCESS);
	k = MEMKIND_DEFAULT;
	assert_int_equal(memkind_get_kind_by_partition(MEMKIND_NUM_BASE_KIND,
	    &k), MEMKIND_ERROR_UNAVAILABLE);
	assert_null(k);
	/* Out of range either way. */
	k = MEMKIND_DEFAULT;
	assert_int_equal(memkind_get_kind_by_partition(-1, &k),
	    MEMKIND_ERROR_UNAVAILABLE);
	assert_null(k);
	k = MEMKIND_DEFAULT;
	assert_int_equal(memkind_get_kind_by_partition(MEMKIND_MAX_KIND, &k),
	    MEMKIND_ERROR_UNAVAILABLE);
	assert_null(k);
}

/*
 * memkind_posix_memalign() reports failure by its return value only and
 * leaves errno as it was (memkind 1.14: rc 12, errno untouched), on every
 * kind, including one that is never available.
 */
static void
test_posix_memalign_errno(void **state)
{
	memkind_t	kinds[3] = { MEMKIND_DEFAULT, NULL, MEMKIND_HBW };
	void		*p;
	size_t		 i;

	assert_int_equal(memkind_create_pmem(tm.dir, 0, &kinds[1]),
	    MEMKIND_SUCCESS);
	for (i = 0; i < 3; i++) {
		p = (void *)1;
		errno = 1234;
		assert_int_equal(memkind_posix_memalign(kinds[i], &p, 64,
		    SIZE_MAX), ENOMEM);
		assert_int_equal(errno, 1234);
		assert_null(p);
		errno = 1234;
		assert_int_equal(memkind_posix_memalign(kinds[i], &p, 64,
		    SIZE_MAX / 2), ENOMEM);
		assert_int_equal(errno, 1234);
		assert_int_equal(memkind_posix_memalign(kinds[i], &p, 3, 64),
		    EINVAL);
		assert_int_equal(errno, 1234);
	}
	/* And a success leaves it alone too. */
	assert_int_equal(memkind_posix_memalign(kinds[1], &p, 64, 100), 0);
	assert_int_equal(errno, 1234);
	memkind_free(NULL, p);
	assert_int_equal(memkind_destroy_kind(kinds[1]), MEMKIND_SUCCESS);
}

/*
 * A dir that is no directory here is MEMKIND_ERROR_INVALID in both modes,
 * as in memkind; in daemon mode PMEMTIER_ANY_DIR=1 lets the daemon's
 * default tier serve it instead. Standalone mode has nowhere else to go.
 */
static void
test_create_pmem_missing_dir(void **state)
{
	char		file[400];
	memkind_t	k = NULL;
	int		fd;

	snprintf(file, sizeof(file), "%s/plain-file", tm.dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(memkind_create_pmem("/nonexistent/dir", 0, &k),
	    MEMKIND_ERROR_INVALID);
	assert_null(k);
	assert_int_equal(memkind_create_pmem(file, 0, &k),
	    MEMKIND_ERROR_INVALID);
	setenv("PMEMTIER_ANY_DIR", "0", 1);
	assert_int_equal(memkind_create_pmem("/nonexistent/dir", 0, &k),
	    MEMKIND_ERROR_INVALID);
	setenv("PMEMTIER_ANY_DIR", "1", 1);
	if (tm.daemon) {
		assert_int_equal(memkind_create_pmem("/nonexistent/dir",
		    32 << 20, &k), MEMKIND_SUCCESS);
		memkind_free(k, memkind_malloc(k, 1000));
		assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	} else
		assert_int_equal(memkind_create_pmem("/nonexistent/dir", 0,
		    &k), MEMKIND_ERROR_INVALID);
	unsetenv("PMEMTIER_ANY_DIR");
	unlink(file);
}

/* memkind's own computation, through libnuma, node by node. */
static ssize_t
numa_capacity(bool cpu_nodes)
{
	struct bitmask	*cpus = numa_allocate_cpumask();
	ssize_t		 sum = 0;
	int		 n;

	for (n = 0; n <= numa_max_node(); n++) {
		bool use;

		if (cpu_nodes)
			use = numa_node_to_cpus(n, cpus) == 0 &&
			    numa_bitmask_weight(cpus) > 0;
		else
			use = numa_bitmask_isbitset(numa_all_nodes_ptr, n);
		if (use)
			sum += numa_node_size64(n, NULL);
	}
	numa_bitmask_free(cpus);
	return sum;
}

/*
 * DEFAULT: the memory of the nodes the process may allocate on; REGULAR:
 * of the nodes with CPUs (memkind 1.14's get_capacity_test does the same
 * sums with libnuma).
 */
static void
test_dram_capacity(void **state)
{
	if (numa_available() < 0)
		skip();
	assert_true(numa_capacity(false) > 0);
	assert_int_equal(memkind_get_capacity(MEMKIND_DEFAULT),
	    numa_capacity(false));
	assert_int_equal(memkind_get_capacity(MEMKIND_REGULAR),
	    numa_capacity(true));
}

/*
 * memkind_detect_kind() tells MEMKIND_REGULAR's blocks from DEFAULT's
 * (memkind 1.14 gives each its own arenas), whatever made or moved them,
 * and a freed REGULAR block never comes back from DEFAULT or malloc().
 */
static void
test_detect_regular(void **state)
{
	enum { N = 2000 };
	static void	*r[N], *d[N];
	char		*p, *q;
	size_t		 before, after, i;
	pid_t		 pid;
	int		 status;

	assert_int_equal(memkind_check_available(MEMKIND_REGULAR), 0);
	p = memkind_malloc(MEMKIND_REGULAR, 100);
	assert_non_null(p);
	assert_ptr_equal(memkind_detect_kind(p), MEMKIND_REGULAR);
	q = memkind_malloc(MEMKIND_DEFAULT, 100);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_DEFAULT);
	memkind_free(NULL, q);
	q = plain_malloc(100);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_DEFAULT);
	/* realloc moves a block between the two kinds with its data. */
	memset(q, 'd', 100);
	q = memkind_realloc(MEMKIND_REGULAR, q, 200);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_REGULAR);
	assert_int_equal(q[99], 'd');
	q = memkind_realloc(MEMKIND_DEFAULT, q, 300);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_DEFAULT);
	assert_int_equal(q[99], 'd');
	memkind_free(NULL, q);
	q = memkind_realloc(NULL, p, 5000);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_REGULAR);
	memkind_free(MEMKIND_DEFAULT, q);
	q = memkind_calloc(MEMKIND_REGULAR, 10, 10);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_REGULAR);
	for (i = 0; i < 100; i++)
		assert_int_equal(q[i], 0);
	memkind_free(MEMKIND_REGULAR, q);
	assert_int_equal(memkind_posix_memalign(MEMKIND_REGULAR, (void **)&q,
	    4096, 3 << 20), 0);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_REGULAR);
	memkind_free(NULL, q);

	/* Freed by NULL, DEFAULT or REGULAR, never handed out as DEFAULT. */
	for (i = 0; i < N; i++)
		r[i] = memkind_malloc(MEMKIND_REGULAR, 64);
	for (i = 0; i < N; i++)
		memkind_free(i % 3 == 0 ? NULL : i % 3 == 1 ?
		    MEMKIND_DEFAULT : MEMKIND_REGULAR, r[i]);
	for (i = 0; i < N; i++) {
		d[i] = i % 2 ? plain_malloc(64) :
		    memkind_malloc(MEMKIND_DEFAULT, 64);
		assert_ptr_equal(memkind_detect_kind(d[i]), MEMKIND_DEFAULT);
	}
	for (i = 0; i < N; i++)
		if (i % 2)
			plain_free(d[i]);
		else
			memkind_free(MEMKIND_DEFAULT, d[i]);

	/* Its own statistics. */
	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	assert_int_equal(memkind_get_stat(MEMKIND_REGULAR,
	    MEMKIND_STAT_TYPE_ALLOCATED, &before), MEMKIND_SUCCESS);
	p = memkind_malloc(MEMKIND_REGULAR, 8 << 20);
	memset(p, 1, 8 << 20);
	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	assert_int_equal(memkind_get_stat(MEMKIND_REGULAR,
	    MEMKIND_STAT_TYPE_ALLOCATED, &after), MEMKIND_SUCCESS);
	assert_true(after >= before + (8 << 20));

	/* A fork child has REGULAR's memory and goes on using the kind. */
	if ((pid = fork()) == 0) {
		char *c = memkind_malloc(MEMKIND_REGULAR, 100);

		_exit(c == NULL || memkind_detect_kind(c) != MEMKIND_REGULAR ||
		    p[(8 << 20) - 1] != 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	memkind_free(NULL, p);
}

/*
 * On this machine's own kernel: every NUMA-placed kind that is available
 * hands out blocks whose range the kernel holds under the kind's policy
 * (REGULAR and HIGHEST_CAPACITY bound, INTERLEAVE interleaved, the
 * _PREFERRED ones preferred), on nodes that have CPUs or the most memory.
 * The latency and bandwidth kinds need HMAT figures, which a machine
 * without nodeN/access0 lacks: then unavailable, as in memkind.
 */
static void
test_numa_kinds_on_this_kernel(void **state)
{
	struct {
		memkind_t	*kind;
		int		 mode;
	} k[] = {
		{ &MEMKIND_REGULAR, MPOL_BIND },
		{ &MEMKIND_INTERLEAVE, MPOL_INTERLEAVE },
		{ &MEMKIND_HIGHEST_CAPACITY, MPOL_BIND },
		{ &MEMKIND_HIGHEST_CAPACITY_PREFERRED, MPOL_PREFERRED },
		{ &MEMKIND_HIGHEST_CAPACITY_LOCAL, MPOL_BIND },
		{ &MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED, MPOL_PREFERRED },
	};
	unsigned long	mask[16];
	size_t		i;
	char		*p;
	int		mode, node, hmat;

	if (numa_available() < 0)
		skip();
	hmat = access("/sys/devices/system/node/node0/access0", F_OK) == 0;
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		memkind_t kind = *k[i].kind;

		if (memkind_check_available(kind) != 0) {
			/* Only a tie for the largest node refuses these. */
			assert_int_equal(memkind_check_available(kind),
			    MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
			continue;
		}
		assert_non_null(p = memkind_malloc(kind, 1 << 20));
		memset(p, 1, 1 << 20);
		assert_ptr_equal(memkind_detect_kind(p), kind);
		assert_int_equal(get_mempolicy(&mode, mask, 1024, p,
		    MPOL_F_ADDR), 0);
		assert_int_equal(mode, k[i].mode);
		assert_int_equal(get_mempolicy(&node, NULL, 0, p,
		    MPOL_F_ADDR | MPOL_F_NODE), 0);
		if (kind == MEMKIND_REGULAR) {
			struct bitmask *cpus = numa_allocate_cpumask();

			assert_int_equal(numa_node_to_cpus(node, cpus), 0);
			assert_true(numa_bitmask_weight(cpus) > 0);
			numa_free_cpumask(cpus);
		}
		if (kind == MEMKIND_HIGHEST_CAPACITY)
			for (int n = 0; n <= numa_max_node(); n++)
				assert_true(numa_node_size64(n, NULL) <=
				    numa_node_size64(node, NULL));
		memkind_free(NULL, p);
	}
	if (!hmat) {
		assert_int_equal(memkind_check_available(
		    MEMKIND_LOWEST_LATENCY_LOCAL),
		    MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
		assert_null(memkind_malloc(MEMKIND_HIGHEST_BANDWIDTH_LOCAL, 64));
	}
}

/*
 * How many of this process's threads are the library's purge thread; -1
 * when /proc/self/task cannot be read (no count the tests expect).
 */
static int
bg_threads(void)
{
	char		 path[300], comm[32];
	struct dirent	*e;
	DIR		*d;
	FILE		*f;
	int		 n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, "pmemtier-bg", 11) == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/*
 * A joined thread may still be listed in /proc/self/task for a moment:
 * pthread_join returns when the kernel clears its tid, before the task is
 * released. Waits up to 2 s for the count to reach want.
 */
static int
bg_threads_settle(int want)
{
	int	n, i;

	for (i = 0; (n = bg_threads()) != want && i < 200; i++)
		usleep(10 * 1000);
	return n;
}

/*
 * memkind_set_bg_threads() as memkind's test checks it: on, the process
 * has the thread when the call returns; off, it is joined when the call
 * returns (and leaves /proc at once after); on again, it is back (and
 * stays on, the library's default).
 */
static void
test_bg_threads_switch(void **state)
{
	assert_int_equal(memkind_set_bg_threads(true), MEMKIND_SUCCESS);
	assert_int_equal(bg_threads(), 1);
	assert_int_equal(memkind_set_bg_threads(true), MEMKIND_SUCCESS);
	assert_int_equal(bg_threads(), 1);
	assert_int_equal(memkind_set_bg_threads(false), MEMKIND_SUCCESS);
	assert_int_equal(bg_threads_settle(0), 0);
	assert_int_equal(memkind_set_bg_threads(false), MEMKIND_SUCCESS);
	assert_int_equal(memkind_set_bg_threads(true), MEMKIND_SUCCESS);
	assert_int_equal(bg_threads(), 1);
}

/*
 * MEMKIND_BACKGROUND_THREAD_LIMIT, read at load as memkind reads it: a
 * bad value stops the program (SIGABRT) with a message naming it; a good
 * one leaves the one purge thread running. Each value gets a fresh
 * process (this program again, as "bg-limit-child").
 */
static int
bg_limit_child(void)
{
	memkind_t	k = NULL;
	int		n;

	if (memkind_create_pmem(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	    0, &k) != 0)
		return 2;
	n = bg_threads();
	(void)memkind_destroy_kind(k);
	return n == 1 ? 0 : 3;
}

static int
run_bg_limit(const char *value, char *err, size_t errlen)
{
	int	pfd[2], status;
	ssize_t	got = 0, r;
	pid_t	pid;

	assert_int_equal(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		char	*args[] = { "test_client_compat", "bg-limit-child",
		    NULL };

		dup2(pfd[1], 2);
		setenv("MEMKIND_BACKGROUND_THREAD_LIMIT", value, 1);
		setenv("PMEMTIER_MODE", "standalone", 1);
		execv("/proc/self/exe", args);
		_exit(126);
	}
	close(pfd[1]);
	while (got + 1 < (ssize_t)errlen &&
	    (r = read(pfd[0], err + got, errlen - 1 - (size_t)got)) > 0)
		got += r;
	err[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_bg_limit_env(void **state)
{
	const char	*bad[] = { "-1", "abc", "4x", "99999999999" };
	const char	*good[] = { "0", "1", "10" };
	char		 err[512], want[128];
	size_t		 i;
	int		 status;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		status = run_bg_limit(bad[i], err, sizeof(err));
		snprintf(want, sizeof(want),
		    "MEMKIND_BACKGROUND_THREAD_LIMIT=%s ", bad[i]);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT ||
		    strstr(err, want) == NULL)
			fail_msg("limit %s: status %#x, stderr '%s'", bad[i],
			    status, err);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		status = run_bg_limit(good[i], err, sizeof(err));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("limit %s: status %#x, stderr '%s'", good[i],
			    status, err);
	}
}

/*
 * Creating kinds until none is left ends with memkind's code for it,
 * MEMKIND_ERROR_ARENAS_CREATE, and every kind made still works.
 */
static void
test_too_many_kinds(void **state)
{
	static memkind_t	k[600];
	size_t			n, i;
	void			*p;
	int			rc = MEMKIND_SUCCESS;

	for (n = 0; n < 600; n++)
		if ((rc = memkind_create_pmem(tm.dir, 32 << 20, &k[n])) !=
		    MEMKIND_SUCCESS)
			break;
	assert_true(n > 400 && n < 600);
	assert_int_equal(rc, MEMKIND_ERROR_ARENAS_CREATE);
	for (i = 0; i < n; i++) {
		assert_non_null(p = memkind_malloc(k[i], 64));
		memkind_free(k[i], p);
		assert_int_equal(memkind_destroy_kind(k[i]), MEMKIND_SUCCESS);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_by_partition),
		cmocka_unit_test(test_posix_memalign_errno),
		cmocka_unit_test(test_create_pmem_missing_dir),
		cmocka_unit_test(test_dram_capacity),
		cmocka_unit_test(test_detect_regular),
		cmocka_unit_test(test_too_many_kinds),
		cmocka_unit_test(test_numa_kinds_on_this_kernel),
		cmocka_unit_test(test_bg_threads_switch),
		cmocka_unit_test(test_bg_limit_env),
	};
	int	rc;

	if (argc == 2 && strcmp(argv[1], "bg-limit-child") == 0)
		return bg_limit_child();
	unsetenv("PMEMTIER_DEBUG");
	if ((rc = tmode_setup(argc, argv, NULL)) != 0)
		return rc;
	rc = cmocka_run_group_tests_name(tm.daemon ? "client_compat_daemon" :
	    "client_compat_standalone", tests, NULL, NULL);
	return tmode_teardown(rc != 0);
}
