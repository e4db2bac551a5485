/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind_memtier.h against memkind 1.14's behaviour: STATIC_RATIO keeps
 * the configured ratio between MEMKIND_DEFAULT and a pmem kind, the
 * DYNAMIC_THRESHOLD defaults and ctl names, error codes, realloc across
 * tiers, counting from many threads.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <memkind.h>
#include <memkind_memtier.h>
#include <pmemtier.h>

#include "tmode.h"
#include "tutil.h"

#define CTL(x)	"policy.dynamic_threshold." x
/* memkind's memtier functions return -1 on any error. */
#define MT_ERR	(-1)

static memkind_t	pk;

static int
group_setup(void **state)
{
	(void)state;
	return memkind_create_pmem(tm.dir, 0, &pk) == MEMKIND_SUCCESS ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	return memkind_destroy_kind(pk) == MEMKIND_SUCCESS ? 0 : -1;
}

static struct memtier_memory *
two_tiers(memtier_policy_t policy, unsigned r0, unsigned r1)
{
	struct memtier_builder	*b;
	struct memtier_memory	*m;

	assert_non_null(b = memtier_builder_new(policy));
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, r0), 0);
	assert_int_equal(memtier_builder_add_tier(b, pk, r1), 0);
	m = memtier_builder_construct_memtier_memory(b);
	memtier_builder_delete(b);
	assert_non_null(m);
	return m;
}

/* Allocates n blocks of size through m; counts bytes per kind. */
static void
fill(struct memtier_memory *m, void **p, size_t n, size_t size,
    size_t *dram, size_t *pmem)
{
	size_t	i;

	*dram = *pmem = 0;
	for (i = 0; i < n; i++) {
		assert_non_null(p[i] = memtier_malloc(m, size));
		memset(p[i], (int)i, size);
		if (memkind_detect_kind(p[i]) == pk)
			*pmem += memtier_usable_size(p[i]);
		else {
			assert_ptr_equal(memkind_detect_kind(p[i]),
			    MEMKIND_DEFAULT);
			*dram += memtier_usable_size(p[i]);
		}
	}
}

static void
free_all(void **p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		memtier_free(p[i]);
}

/* DRAM:PMEM 1:4 and 3:1 over 20000 blocks: within 5% of the ratio. */
static void
test_static_ratio(void **state)
{
	static void		*p[20000];
	struct memtier_memory	*m;
	size_t			 dram, pmem, d0, p0;
	double			 r;

	(void)state;
	d0 = memtier_kind_allocated_size(MEMKIND_DEFAULT);
	p0 = memtier_kind_allocated_size(pk);
	m = two_tiers(MEMTIER_POLICY_STATIC_RATIO, 1, 4);
	fill(m, p, 20000, 1000, &dram, &pmem);
	r = (double)pmem / (double)dram;
	assert_true(r > 4 * 0.95 && r < 4 * 1.05);
	/* The counters saw exactly what landed on each kind. */
	assert_int_equal(memtier_kind_allocated_size(pk) - p0, pmem);
	assert_int_equal(memtier_kind_allocated_size(MEMKIND_DEFAULT) - d0,
	    dram);
	free_all(p, 20000);
	assert_int_equal(memtier_kind_allocated_size(pk), p0);
	assert_int_equal(memtier_kind_allocated_size(MEMKIND_DEFAULT), d0);
	memtier_delete_memtier_memory(m);

	m = two_tiers(MEMTIER_POLICY_STATIC_RATIO, 3, 1);
	fill(m, p, 20000, 3000, &dram, &pmem);
	r = (double)pmem / (double)dram;
	assert_true(r > (1.0 / 3) * 0.95 && r < (1.0 / 3) * 1.05);
	free_all(p, 20000);
	memtier_delete_memtier_memory(m);
}

/* One tier: everything goes there. */
static void
test_single_tier(void **state)
{
	struct memtier_builder	*b;
	struct memtier_memory	*m;
	void			*p;
	int			 i;

	(void)state;
	assert_non_null(b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO));
	assert_int_equal(memtier_builder_add_tier(b, pk, 1), 0);
	assert_non_null(m = memtier_builder_construct_memtier_memory(b));
	memtier_builder_delete(b);
	for (i = 0; i < 100; i++) {
		assert_non_null(p = memtier_calloc(m, 10, 100));
		assert_ptr_equal(memkind_detect_kind(p), pk);
		assert_int_equal(((char *)p)[999], 0);
		memtier_free(p);
	}
	memtier_delete_memtier_memory(m);
}

/* Default threshold 1024: below to tier 0, at or above to tier 1. */
static void
test_threshold_default(void **state)
{
	struct memtier_memory	*m;
	void			*a, *b;

	(void)state;
	m = two_tiers(MEMTIER_POLICY_DYNAMIC_THRESHOLD, 1, 1);
	assert_non_null(a = memtier_malloc(m, 1023));
	assert_non_null(b = memtier_malloc(m, 1024));
	assert_ptr_equal(memkind_detect_kind(a), MEMKIND_DEFAULT);
	assert_ptr_equal(memkind_detect_kind(b), pk);
	memtier_free(a);
	memtier_free(b);
	memtier_delete_memtier_memory(m);
}

/*
 * A fixed threshold (degree 0) at 4096; then a moving one: with only
 * small blocks the DRAM tier gets everything, so the threshold falls
 * towards min and blocks of its old value start to go to the pmem tier.
 */
static void
test_threshold_ctl(void **state)
{
	struct memtier_builder	*b;
	struct memtier_memory	*m;
	size_t			 val = 4096, min = 1024, max = 8192;
	float			 degree = 0, trigger = 0.1f;
	unsigned		 cnt = 1;
	void			*p[3000];
	int			 i, on_pmem = 0;

	(void)state;
	assert_non_null(b = memtier_builder_new(
	    MEMTIER_POLICY_DYNAMIC_THRESHOLD));
	/* No threshold before the second tier. */
	assert_int_equal(memtier_ctl_set(b, CTL("thresholds[0].val"), &val),
	    MT_ERR);
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1), 0);
	assert_int_equal(memtier_builder_add_tier(b, pk, 1), 0);
	assert_int_equal(memtier_ctl_set(b, CTL("thresholds[0].max"), &max),
	    0);
	assert_int_equal(memtier_ctl_set(b, CTL("thresholds[0].val"), &val),
	    0);
	assert_int_equal(memtier_ctl_set(b, CTL("thresholds[0].min"), &min),
	    0);
	assert_int_equal(memtier_ctl_set(b, CTL("degree"), &degree), 0);
	assert_int_equal(memtier_ctl_set(b, CTL("trigger"), &trigger), 0);
	assert_int_equal(memtier_ctl_set(b, CTL("check_cnt"), &cnt), 0);
	assert_non_null(m = memtier_builder_construct_memtier_memory(b));
	for (i = 0; i < 200; i++) {
		assert_non_null(p[i] = memtier_malloc(m, 4095));
		assert_ptr_equal(memkind_detect_kind(p[i]), MEMKIND_DEFAULT);
	}
	free_all(p, 200);
	memtier_delete_memtier_memory(m);

	degree = 0.15f;
	assert_int_equal(memtier_ctl_set(b, CTL("degree"), &degree), 0);
	assert_non_null(m = memtier_builder_construct_memtier_memory(b));
	memtier_builder_delete(b);
	for (i = 0; i < 3000; i++) {
		assert_non_null(p[i] = memtier_malloc(m, 1500));
		on_pmem += memkind_detect_kind(p[i]) == pk;
	}
	/*
	 * The threshold went below 1500, then swings around the value that
	 * gives the 1:1 ratio asked for.
	 */
	assert_ptr_equal(memkind_detect_kind(p[0]), MEMKIND_DEFAULT);
	assert_true(on_pmem > 1000 && on_pmem < 2000);
	free_all(p, 3000);
	memtier_delete_memtier_memory(m);
}

static void
test_ctl_errors(void **state)
{
	static const char *const bad[] = {
		"policy.dynamic_threshold.thresholds[1].val",	/* 2 tiers */
		"policy.dynamic_threshold.thresholds[-1].val",
		"policy.dynamic_threshold.thresholds[0].value",
		"policy.dynamic_threshold.thresholds[0]val",
		"policy.dynamic_threshold.thresholds[x].val",
		"policy.dynamic_threshold.thresholds0.val",
		"policy.dynamic_threshold.check",
		"policy.dynamic_threshold.",
		"policy.static_ratio.trigger",
		"thresholds[0].val",
		"",
	};
	struct memtier_builder	*b;
	size_t			 v = 100;
	size_t			 i;

	(void)state;
	assert_non_null(b = memtier_builder_new(
	    MEMTIER_POLICY_DYNAMIC_THRESHOLD));
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1), 0);
	assert_int_equal(memtier_builder_add_tier(b, pk, 1), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(memtier_ctl_set(b, bad[i], &v), MT_ERR);
	assert_int_equal(memtier_ctl_set(b, NULL, &v), MT_ERR);
	assert_int_equal(memtier_ctl_set(b, CTL("degree"), NULL), MT_ERR);
	assert_int_equal(memtier_ctl_set(NULL, CTL("degree"), &v), MT_ERR);
	/* val below min: construction refuses. */
	assert_int_equal(memtier_ctl_set(b, CTL("thresholds[0].val"), &v), 0);
	errno = 0;
	assert_null(memtier_builder_construct_memtier_memory(b));
	assert_int_equal(errno, EINVAL);
	memtier_builder_delete(b);

	/* STATIC_RATIO has no ctl names. */
	assert_non_null(b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO));
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1), 0);
	assert_int_equal(memtier_ctl_set(b, CTL("degree"), &v), MT_ERR);
	memtier_builder_delete(b);
}

static void
test_builder_errors(void **state)
{
	struct memtier_builder	*b;

	(void)state;
	errno = 0;
	assert_null(memtier_builder_new(MEMTIER_POLICY_MAX_VALUE));
	assert_int_equal(errno, EINVAL);
	assert_non_null(b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO));
	/* No tier. */
	assert_null(memtier_builder_construct_memtier_memory(b));
	assert_int_equal(memtier_builder_add_tier(b, NULL, 1), MT_ERR);
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, 0),
	    MT_ERR);
	assert_int_equal(memtier_builder_add_tier(NULL, MEMKIND_DEFAULT, 1),
	    MT_ERR);
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1), 0);
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, 2),
	    MT_ERR);
	memtier_builder_delete(b);

	/* DYNAMIC_THRESHOLD needs two tiers. */
	assert_non_null(b = memtier_builder_new(
	    MEMTIER_POLICY_DYNAMIC_THRESHOLD));
	assert_int_equal(memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1), 0);
	assert_null(memtier_builder_construct_memtier_memory(b));
	memtier_builder_delete(b);
	memtier_builder_delete(NULL);
	memtier_delete_memtier_memory(NULL);
}

/* realloc keeps a block in its kind; memtier_kind_realloc moves it. */
static void
test_realloc_tiers(void **state)
{
	struct memtier_memory	*m;
	size_t			 p0 = memtier_kind_allocated_size(pk);
	char			*a, *b;

	(void)state;
	m = two_tiers(MEMTIER_POLICY_DYNAMIC_THRESHOLD, 1, 1);
	assert_non_null(a = memtier_malloc(m, 100));
	assert_ptr_equal(memkind_detect_kind(a), MEMKIND_DEFAULT);
	tu_fill(a, 100, 1);
	/* Big, but stays in DRAM: memtier_realloc does not change kinds. */
	assert_non_null(a = memtier_realloc(m, a, 100000));
	assert_ptr_equal(memkind_detect_kind(a), MEMKIND_DEFAULT);
	assert_int_equal(tu_check(a, 100, 1), 0);
	/* Across tiers. */
	assert_non_null(b = memtier_kind_realloc(pk, a, 200000));
	assert_ptr_equal(memkind_detect_kind(b), pk);
	assert_int_equal(tu_check(b, 100, 1), 0);
	assert_int_equal(memtier_kind_allocated_size(pk) - p0,
	    memtier_usable_size(b));
	/* And back, kind NULL keeps it where it is. */
	assert_non_null(b = memtier_kind_realloc(NULL, b, 50));
	assert_ptr_equal(memkind_detect_kind(b), pk);
	assert_non_null(a = memtier_kind_realloc(MEMKIND_DEFAULT, b, 60));
	assert_ptr_equal(memkind_detect_kind(a), MEMKIND_DEFAULT);
	assert_int_equal(tu_check(a, 50, 1), 0);
	assert_int_equal(memtier_kind_allocated_size(pk), p0);
	/* realloc(NULL) allocates by policy, realloc(p, 0) frees. */
	assert_non_null(b = memtier_realloc(m, NULL, 5000));
	assert_ptr_equal(memkind_detect_kind(b), pk);
	assert_null(memtier_realloc(m, b, 0));
	assert_null(memtier_kind_realloc(MEMKIND_DEFAULT, a, 0));
	assert_int_equal(memtier_kind_allocated_size(pk), p0);
	memtier_delete_memtier_memory(m);
}

static void
test_edges(void **state)
{
	struct memtier_memory	*m;
	void			*p, *q;

	(void)state;
	m = two_tiers(MEMTIER_POLICY_STATIC_RATIO, 1, 1);
	memtier_free(NULL);
	memtier_kind_free(pk, NULL);
	assert_int_equal(memtier_usable_size(NULL), 0);
	/* Size 0: unique blocks, as glibc's malloc(0). */
	assert_non_null(p = memtier_malloc(m, 0));
	assert_non_null(q = memtier_malloc(m, 0));
	assert_ptr_not_equal(p, q);
	memtier_free(p);
	memtier_free(q);
	assert_non_null(p = memtier_calloc(m, 0, 8));
	memtier_free(p);
	assert_int_equal(memtier_posix_memalign(m, &p, 4096, 10), 0);
	assert_int_equal((uintptr_t)p % 4096, 0);
	memtier_free(p);
	assert_int_equal(memtier_posix_memalign(m, &p, 3, 10), EINVAL);
	assert_int_equal(memtier_kind_posix_memalign(pk, &p, 64, 10), 0);
	assert_ptr_equal(memkind_detect_kind(p), pk);
	memtier_kind_free(pk, p);
	assert_null(memtier_kind_malloc(MEMKIND_DEFAULT, SIZE_MAX / 2));
	assert_null(memtier_kind_calloc(MEMKIND_DEFAULT, SIZE_MAX / 2, 4));
	memtier_delete_memtier_memory(m);
}

struct worker {
	struct memtier_memory	*m;
	unsigned		 seed;
};

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	void		*p[256] = { 0 };
	unsigned	 i, j;

	for (i = 0; i < 50000; i++) {
		j = rand_r(&w->seed) % 256;
		memtier_free(p[j]);
		p[j] = memtier_malloc(w->m, 1 + rand_r(&w->seed) % 4000);
		if (p[j] == NULL)
			return (void *)1;
	}
	/* Half of them freed by the main thread. */
	for (j = 0; j < 128; j++)
		memtier_free(p[j]);
	return memcpy(malloc(sizeof(p)), p + 128, 128 * sizeof(void *));
}

/* Threads, frees from another thread: counters come back to start. */
static void
test_threads(void **state)
{
	struct memtier_memory	*m;
	struct worker		 w[4];
	pthread_t		 t[4];
	size_t			 d0, p0;
	void			**left;
	int			 i, j;

	(void)state;
	d0 = memtier_kind_allocated_size(MEMKIND_DEFAULT);
	p0 = memtier_kind_allocated_size(pk);
	m = two_tiers(MEMTIER_POLICY_STATIC_RATIO, 1, 2);
	for (i = 0; i < 4; i++) {
		w[i].m = m;
		w[i].seed = (unsigned)i + 1;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
		    0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], (void **)&left), 0);
		assert_true((uintptr_t)left > 1);
		for (j = 0; j < 128; j++)
			memtier_free(left[j]);
		free(left);
	}
	assert_int_equal(memtier_kind_allocated_size(MEMKIND_DEFAULT), d0);
	assert_int_equal(memtier_kind_allocated_size(pk), p0);
	memtier_delete_memtier_memory(m);
}

/* A tier named as tierctl shows it: only with the daemon. */
static void
test_kind_on_tier(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = NULL;
	void				*p;

	(void)state;
	assert_int_equal(pmemtier_create_pmem_on_tier(NULL, 0, &k),
	    MEMKIND_ERROR_INVALID);
	if (!tm.daemon) {
		assert_int_equal(pmemtier_create_pmem_on_tier("pmem", 0, &k),
		    MEMKIND_ERROR_UNAVAILABLE);
		return;
	}
	assert_int_equal(pmemtier_create_pmem_on_tier("nosuch", 0, &k),
	    MEMKIND_ERROR_UNAVAILABLE);
	assert_int_equal(pmemtier_create_pmem_on_tier("pmem", 0, &k),
	    MEMKIND_SUCCESS);
	assert_non_null(p = memtier_kind_malloc(k, 100000));
	assert_ptr_equal(memkind_detect_kind(p), k);
	assert_int_equal(pmemtier_kind_get_info(k, &info), MEMKIND_SUCCESS);
	assert_string_equal(info.tier, "pmem");
	memtier_free(p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_ratio),
		cmocka_unit_test(test_single_tier),
		cmocka_unit_test(test_threshold_default),
		cmocka_unit_test(test_threshold_ctl),
		cmocka_unit_test(test_ctl_errors),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_realloc_tiers),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_kind_on_tier),
	};
	int	rc;

	unsetenv("PMEMTIER_DEBUG");
	if ((rc = tmode_setup(argc, argv, NULL)) != 0)
		return rc;
	rc = cmocka_run_group_tests_name(tm.daemon ? "client_memtier_daemon" :
	    "client_memtier_standalone", tests, group_setup, group_teardown);
	return tmode_teardown(rc != 0);
}
