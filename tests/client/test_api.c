/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every memkind function of libpmemtier, run once per mode:
 *   test_api standalone   (PMEMTIER_MODE=standalone, a private directory)
 *   test_api daemon       (a real pmemtierd, its file tier's directory)
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <memkind.h>
#include <pmemtier.h>

#include "tmode.h"
#include "tutil.h"

#define MiB	(1024UL * 1024)

/* Under AddressSanitizer, malloc is ASan's, not jemalloc's. */
#ifdef __SANITIZE_ADDRESS__
#define MALLOC_IS_JEMALLOC	0
#else
#define MALLOC_IS_JEMALLOC	1
#endif

/*
 * st_blocks also counts a filesystem's own blocks for a file: on ext4 an
 * extent index block once a lease file has more than 4 extents (seen: 2
 * to 5 pages over max_size with 4 tests side by side). One page per lease
 * file is allowed for it.
 */
#define META	4096

static memkind_t
new_kind(size_t max_size)
{
	memkind_t	k = NULL;

	assert_int_equal(memkind_create_pmem(tm.dir, max_size, &k),
	    MEMKIND_SUCCESS);
	assert_non_null(k);
	return k;
}

static size_t
stat_of(memkind_t k, memkind_stat_type t)
{
	size_t	v = 0;

	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	assert_int_equal(memkind_get_stat(k, t, &v), MEMKIND_SUCCESS);
	return v;
}

static void
test_mode(void **state)
{
	memkind_t			k = new_kind(0);
	struct pmemtier_kind_info	info;

	assert_int_equal(pmemtier_kind_get_info(k, &info), MEMKIND_SUCCESS);
	assert_int_equal(info.mode, tm.daemon ? PMEMTIER_MODE_DAEMON :
	    PMEMTIER_MODE_STANDALONE);
	if (tm.daemon)
		assert_string_equal(info.tier, "pmem");
	/* jemalloc 5.3 keeps the arena's metadata off the lease. */
	assert_true(info.metadata_in_dram);
	assert_int_equal(pmemtier_kind_get_info(MEMKIND_DEFAULT, &info),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_process_malloc_is_jemalloc(void **state)
{
	void	*p;
	char	*s;
	uint64_t a0, a1;

	/* AddressSanitizer's malloc comes first by design: nothing to see. */
	if (!MALLOC_IS_JEMALLOC)
		skip();
	/*
	 * Linked with libpmemtier only, yet malloc is jemalloc's: jemalloc
	 * counts the bytes, for plain malloc and for glibc's own calls to
	 * it (strdup asks for malloc@GLIBC_2.2.5, which a versioned
	 * definition in libpmemtier would not satisfy).
	 */
	assert_int_equal(tu_thread_allocated(&a0), 0);
	assert_non_null(p = malloc(100000));
	assert_int_equal(tu_thread_allocated(&a1), 0);
	assert_true(a1 - a0 >= 100000);
	free(p);
	assert_int_equal(tu_thread_allocated(&a0), 0);
	assert_non_null(s = strdup("a string glibc copies with malloc"));
	assert_int_equal(tu_thread_allocated(&a1), 0);
	assert_true(a1 - a0 >= strlen(s) + 1);
	free(s);
	/* So plain malloc and MEMKIND_DEFAULT are one heap. */
	p = malloc(100);
	assert_non_null(p);
	assert_ptr_equal(memkind_detect_kind(p), MEMKIND_DEFAULT);
	assert_true(memkind_malloc_usable_size(MEMKIND_DEFAULT, p) >= 100);
	memkind_free(NULL, p);
	p = memkind_malloc(MEMKIND_DEFAULT, 100);
	assert_true(malloc_usable_size(p) >= 100);
	free(p);
}

static void
test_malloc_free(void **state)
{
	static const size_t	 sizes[] = { 1, 8, 64, 100, 4096, 5000,
	    64 * 1024, 3 * MiB };
	memkind_t		 k = new_kind(0);
	void			*p[8];
	size_t			 i;

	for (i = 0; i < 8; i++) {
		p[i] = memkind_malloc(k, sizes[i]);
		assert_non_null(p[i]);
		assert_ptr_equal(memkind_detect_kind(p[i]), k);
		assert_true(memkind_malloc_usable_size(k, p[i]) >= sizes[i]);
		assert_true(memkind_malloc_usable_size(NULL, p[i]) >= sizes[i]);
		tu_fill(p[i], sizes[i], (unsigned)i);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(tu_check(p[i], sizes[i], (unsigned)i), 0);
		memkind_free(k, p[i]);
	}
	/* memkind's edge cases. */
	assert_null(memkind_malloc(k, 0));
	assert_null(memkind_calloc(k, 0, 8));
	assert_null(memkind_calloc(k, 8, 0));
	errno = 0;
	assert_null(memkind_calloc(k, SIZE_MAX / 2, 4));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(memkind_malloc(k, SIZE_MAX - 4096));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(memkind_malloc(MEMKIND_DEFAULT, SIZE_MAX - 4096));
	assert_int_equal(errno, ENOMEM);
	p[0] = (void *)1;
	assert_int_equal(memkind_posix_memalign(k, &p[0], 64, SIZE_MAX / 2),
	    ENOMEM);
	memkind_free(k, NULL);
	memkind_free(NULL, NULL);
	assert_null(memkind_detect_kind(NULL));
	assert_int_equal(memkind_malloc_usable_size(k, NULL), 0);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_calloc_zeroes_reused_blocks(void **state)
{
	memkind_t	 k = new_kind(0);
	unsigned char	*p, *q;
	size_t		 i;

	/* A freed, dirtied block sits in the front cache ... */
	p = memkind_malloc(k, 200);
	assert_non_null(p);
	memset(p, 0xa5, 200);
	memkind_free(k, p);
	/* ... and calloc must still hand out zeroes. */
	q = memkind_calloc(k, 10, 20);
	assert_non_null(q);
	for (i = 0; i < 200; i++)
		assert_int_equal(q[i], 0);
	memkind_free(k, q);
	q = memkind_calloc(k, 1, 2 * MiB);
	assert_non_null(q);
	for (i = 0; i < 2 * MiB; i += 4096)
		assert_int_equal(q[i], 0);
	memkind_free(NULL, q);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_realloc_basic(void **state)
{
	memkind_t	 k = new_kind(0);
	void		*p, *q;

	errno = 0;
	assert_null(memkind_realloc(NULL, NULL, 10));
	assert_int_equal(errno, EINVAL);
	p = memkind_realloc(k, NULL, 100);
	assert_non_null(p);
	assert_ptr_equal(memkind_detect_kind(p), k);
	tu_fill(p, 100, 1);
	q = memkind_realloc(k, p, 100000);
	assert_non_null(q);
	assert_ptr_equal(memkind_detect_kind(q), k);
	assert_int_equal(tu_check(q, 100, 1), 0);
	/* Kind NULL: the library finds it. */
	p = memkind_realloc(NULL, q, 50);
	assert_non_null(p);
	assert_ptr_equal(memkind_detect_kind(p), k);
	assert_int_equal(tu_check(p, 50, 1), 0);
	/* Size 0 frees and returns NULL. */
	assert_null(memkind_realloc(k, p, 0));
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_posix_memalign(void **state)
{
	static const size_t	 aligns[] = { 8, 64, 4096, 2 * MiB };
	memkind_t		 k = new_kind(0);
	void			*p = (void *)1;
	size_t			 i;

	assert_int_equal(memkind_posix_memalign(k, &p, 3, 64), EINVAL);
	assert_int_equal(memkind_posix_memalign(k, &p, 12, 64), EINVAL);
	assert_int_equal(memkind_posix_memalign(k, &p, 0, 64), EINVAL);
	assert_int_equal(memkind_posix_memalign(k, &p, 64, 0), 0);
	assert_null(p);
	for (i = 0; i < 4; i++) {
		assert_int_equal(memkind_posix_memalign(k, &p, aligns[i], 100),
		    0);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % aligns[i], 0);
		assert_ptr_equal(memkind_detect_kind(p), k);
		memkind_free(k, p);
	}
	assert_int_equal(memkind_posix_memalign(MEMKIND_DEFAULT, &p, 4096, 10),
	    0);
	assert_int_equal((uintptr_t)p % 4096, 0);
	memkind_free(NULL, p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_create_errors(void **state)
{
	memkind_t	k = NULL;

	assert_int_equal(memkind_create_pmem(tm.dir, MEMKIND_PMEM_MIN_SIZE - 1,
	    &k), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_pmem(NULL, 0, &k),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_pmem(tm.dir, 0, NULL),
	    MEMKIND_ERROR_INVALID);
	/* No such directory: refused in both modes (client_compat_*). */
	assert_int_equal(memkind_create_pmem("/nonexistent/dir", 0, &k),
	    MEMKIND_ERROR_INVALID);
	/* Static kinds are not destroyed. */
	assert_int_not_equal(memkind_destroy_kind(MEMKIND_DEFAULT),
	    MEMKIND_SUCCESS);
	/*
	 * memkind_create_kind() answers as memkind: a static kind for the
	 * combinations memkind knows, ordinary memory for a preferred one
	 * that is not there, MEMKIND_ERROR_INVALID for the rest.
	 */
	k = NULL;
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT,
	    MEMKIND_POLICY_PREFERRED_LOCAL, 0, &k), MEMKIND_SUCCESS);
	assert_ptr_equal(k, MEMKIND_DEFAULT);
	k = NULL;
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_HIGH_BANDWIDTH,
	    MEMKIND_POLICY_PREFERRED_LOCAL, 0, &k), MEMKIND_SUCCESS);
	assert_ptr_equal(k, MEMKIND_DEFAULT);	/* no HBW here */
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_HIGH_BANDWIDTH,
	    MEMKIND_POLICY_BIND_LOCAL, 0, &k),
	    MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
	k = NULL;
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT |
	    MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_INTERLEAVE_ALL, 0,
	    &k), MEMKIND_SUCCESS);
	assert_ptr_equal(k, MEMKIND_INTERLEAVE);
	assert_int_equal(memkind_create_kind(0, MEMKIND_POLICY_BIND_LOCAL, 0,
	    &k), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_kind(1 << 5, MEMKIND_POLICY_BIND_LOCAL,
	    0, &k), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT,
	    MEMKIND_POLICY_MAX_VALUE, 0, &k), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT,
	    MEMKIND_POLICY_PREFERRED_LOCAL, (memkind_bits_t)(1 << 3), &k),
	    MEMKIND_ERROR_INVALID);
	/* Valid bits, but a combination memkind has no kind for. */
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT,
	    MEMKIND_POLICY_BIND_LOCAL, 0, &k), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT,
	    MEMKIND_POLICY_PREFERRED_LOCAL, 0, NULL), MEMKIND_ERROR_INVALID);
}

static void
test_config(void **state)
{
	struct memkind_config	*cfg = memkind_config_new();
	memkind_t		 k = NULL;
	void			*p;

	assert_non_null(cfg);
	assert_int_equal(memkind_create_pmem_with_config(NULL, &k),
	    MEMKIND_ERROR_INVALID);
	/* No path yet. */
	assert_int_equal(memkind_create_pmem_with_config(cfg, &k),
	    MEMKIND_ERROR_INVALID);
	memkind_config_set_path(cfg, tm.dir);
	memkind_config_set_size(cfg, 32 * MiB);
	memkind_config_set_memory_usage_policy(cfg,
	    MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE);
	assert_int_equal(memkind_create_pmem_with_config(cfg, &k),
	    MEMKIND_SUCCESS);
	memkind_config_delete(cfg);
	memkind_config_delete(NULL);
	assert_int_equal(memkind_get_capacity(k), 32 * MiB);
	p = memkind_malloc(k, 1000);
	assert_non_null(p);
	memkind_free(k, p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_available_capacity(void **state)
{
	memkind_t	k = new_kind(0), k2 = new_kind(64 * MiB);
	struct statvfs	sv;

	assert_int_equal(memkind_check_available(MEMKIND_DEFAULT), 0);
	assert_int_equal(memkind_check_available(MEMKIND_REGULAR), 0);
	assert_int_equal(memkind_check_available(k), 0);
	assert_int_equal(memkind_check_available(MEMKIND_HBW),
	    MEMKIND_ERROR_UNAVAILABLE);
	/* As memkind on a machine without huge pages. */
	assert_int_equal(memkind_check_available(MEMKIND_HUGETLB),
	    MEMKIND_ERROR_HUGETLB);
	assert_int_equal(memkind_get_capacity(MEMKIND_HUGETLB), 0);
	errno = 0;
	assert_null(memkind_malloc(MEMKIND_HBW, 10));
	assert_int_equal(errno, ENOMEM);
	assert_true(memkind_get_capacity(MEMKIND_DEFAULT) > 0);
	assert_int_equal(memkind_get_capacity(MEMKIND_HBW), -1);
	assert_int_equal(memkind_get_capacity(k2), 64 * MiB);
	if (tm.daemon)
		assert_int_equal(memkind_get_capacity(k), 1024 * MiB);
	else {
		assert_int_equal(statvfs(tm.dir, &sv), 0);
		assert_int_equal(memkind_get_capacity(k),
		    (ssize_t)(sv.f_blocks * sv.f_frsize));
	}
	assert_int_equal(memkind_destroy_kind(k2), MEMKIND_SUCCESS);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_dax_path(void **state)
{
	assert_int_equal(memkind_check_dax_path(NULL), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_check_dax_path("/nonexistent/dir"),
	    MEMKIND_ERROR_RUNTIME);
	/* ext4/tmpfs without DAX: a MAP_SYNC mapping is refused. */
	assert_int_equal(memkind_check_dax_path(tm.dir), MEMKIND_ERROR_MMAP);
}

static void
test_version_errors(void **state)
{
	char	a[MEMKIND_ERROR_MESSAGE_SIZE], b[MEMKIND_ERROR_MESSAGE_SIZE];
	char	small[8];

	assert_int_equal(memkind_get_version(), 1014000);
	assert_non_null(strstr(pmemtier_version(), "."));
	memkind_error_message(MEMKIND_ERROR_UNAVAILABLE, a, sizeof(a));
	memkind_error_message(MEMKIND_ERROR_INVALID, b, sizeof(b));
	assert_true(strlen(a) > 10);
	assert_string_not_equal(a, b);
	memkind_error_message(-1234, a, sizeof(a));
	assert_non_null(strstr(a, "-1234"));
	memkind_error_message(MEMKIND_ERROR_INVALID, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	memkind_error_message(MEMKIND_ERROR_INVALID, NULL, 10);
}

static void
collect(void *arg, const char *s)
{
	size_t	*n = arg;

	*n += strlen(s);
}

static void
test_stats(void **state)
{
	memkind_t	 k = new_kind(0);
	size_t		 before, after, v, n = 0;
	void		*p;

	before = stat_of(k, MEMKIND_STAT_TYPE_ALLOCATED);
	p = memkind_malloc(k, 8 * MiB);
	assert_non_null(p);
	memset(p, 1, 8 * MiB);
	after = stat_of(k, MEMKIND_STAT_TYPE_ALLOCATED);
	assert_true(after >= before + 8 * MiB);
	assert_true(stat_of(k, MEMKIND_STAT_TYPE_ACTIVE) >= after);
	assert_true(stat_of(k, MEMKIND_STAT_TYPE_RESIDENT) >= 8 * MiB);
	assert_true(stat_of(NULL, MEMKIND_STAT_TYPE_ALLOCATED) >= after);
	(void)stat_of(MEMKIND_DEFAULT, MEMKIND_STAT_TYPE_ALLOCATED);
	memkind_free(k, p);
	assert_int_equal(stat_of(k, MEMKIND_STAT_TYPE_ALLOCATED), before);
	assert_int_equal(memkind_get_stat(k, MEMKIND_STAT_TYPE_MAX_VALUE, &v),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_get_stat(k, MEMKIND_STAT_TYPE_ACTIVE, NULL),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_stats_print(collect, &n,
	    MEMKIND_STAT_PRINT_OMIT_PER_ARENA), MEMKIND_SUCCESS);
	assert_true(n > 100);
	assert_int_equal(memkind_stats_print(collect, &n,
	    (memkind_stat_print_opt)(1U << 20)), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_free_null_mix(void **state)
{
	memkind_t	 k[4] = { MEMKIND_DEFAULT, NULL, NULL, NULL };
	void		*p[400];
	size_t		 base[4], i;

	for (i = 1; i < 4; i++) {
		k[i] = new_kind(0);
		base[i] = stat_of(k[i], MEMKIND_STAT_TYPE_ALLOCATED);
	}
	for (i = 0; i < 400; i++) {
		size_t sz = 16 + (i * 97) % 20000;

		p[i] = memkind_malloc(k[i % 4], sz);
		assert_non_null(p[i]);
		tu_fill(p[i], 16, (unsigned)i);
	}
	for (i = 0; i < 400; i++) {
		assert_ptr_equal(memkind_detect_kind(p[i]), k[i % 4]);
		assert_int_equal(tu_check(p[i], 16, (unsigned)i), 0);
	}
	/* Pointers from plain malloc belong to MEMKIND_DEFAULT too. */
	p[0] = memkind_realloc(NULL, p[0], 10);
	assert_ptr_equal(memkind_detect_kind(p[0]), MEMKIND_DEFAULT);
	for (i = 0; i < 400; i++)
		memkind_free(NULL, p[i]);
	/* Every block went back to its own kind. */
	for (i = 1; i < 4; i++) {
		assert_int_equal(pmemtier_kind_purge(k[i]), MEMKIND_SUCCESS);
		assert_int_equal(stat_of(k[i], MEMKIND_STAT_TYPE_ALLOCATED),
		    base[i]);
	}
	/* A pmem block freed as MEMKIND_DEFAULT still goes to its kind. */
	p[0] = memkind_malloc(k[1], 64);
	memkind_free(MEMKIND_DEFAULT, p[0]);
	assert_int_equal(pmemtier_kind_purge(k[1]), MEMKIND_SUCCESS);
	assert_int_equal(stat_of(k[1], MEMKIND_STAT_TYPE_ALLOCATED), base[1]);
	for (i = 1; i < 4; i++)
		assert_int_equal(memkind_destroy_kind(k[i]), MEMKIND_SUCCESS);
}

/*
 * Bug: memkind_free(k2, p) with p from k1 (or from DRAM) read k2's class
 * map at p's offset from k2's base (out of bounds) and could cache p in
 * k2's front cache, so a later memkind_malloc(k2) handed out k1's memory.
 * memkind frees such a block to where it came from; so must we.
 */
static void
test_free_with_other_kind(void **state)
{
	memkind_t	 k1 = new_kind(0), k2 = new_kind(0);
	void		*p[64], *q;
	size_t		 base1, i;

	base1 = stat_of(k1, MEMKIND_STAT_TYPE_ALLOCATED);
	/* Warm k2's caches so a wrongly cached block would be reused. */
	q = memkind_malloc(k2, 64);
	assert_non_null(q);
	memkind_free(k2, q);
	for (i = 0; i < 64; i++) {
		p[i] = memkind_malloc(k1, 64);
		assert_non_null(p[i]);
	}
	for (i = 0; i < 64; i++)
		memkind_free(k2, p[i]);
	/* A DRAM block named with a pmem kind goes back to DRAM. */
	q = memkind_malloc(MEMKIND_DEFAULT, 64);
	assert_non_null(q);
	memkind_free(k2, q);
	for (i = 0; i < 64; i++) {
		p[i] = memkind_malloc(k2, 64);
		assert_non_null(p[i]);
		assert_ptr_equal(memkind_detect_kind(p[i]), k2);
	}
	for (i = 0; i < 64; i++)
		memkind_free(k2, p[i]);
	/* k1's blocks went back to k1. */
	assert_int_equal(pmemtier_kind_purge(k1), MEMKIND_SUCCESS);
	assert_int_equal(stat_of(k1, MEMKIND_STAT_TYPE_ALLOCATED), base1);
	assert_int_equal(memkind_destroy_kind(k1), MEMKIND_SUCCESS);
	assert_int_equal(memkind_destroy_kind(k2), MEMKIND_SUCCESS);
}

static void
test_freed_pmem_never_in_dram_malloc(void **state)
{
	memkind_t	 k = new_kind(0);
	void		*p[512];
	size_t		 i, j, sz;

	for (sz = 16; sz <= 8192; sz *= 2) {
		for (i = 0; i < 512; i++)
			p[i] = memkind_malloc(k, sz);
		/* Freed three ways; none of them may feed the DRAM caches. */
		for (i = 0; i < 512; i++)
			memkind_free(i % 3 == 0 ? NULL : i % 3 == 1 ?
			    MEMKIND_DEFAULT : k, p[i]);
		for (j = 0; j < 4; j++) {
			for (i = 0; i < 512; i++) {
				p[i] = j % 2 && MALLOC_IS_JEMALLOC ?
				    malloc(sz) :
				    memkind_malloc(MEMKIND_DEFAULT, sz);
				assert_ptr_equal(memkind_detect_kind(p[i]),
				    MEMKIND_DEFAULT);
			}
			for (i = 0; i < 512; i++)
				memkind_free(NULL, p[i]);
		}
	}
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_realloc_between_kinds(void **state)
{
	memkind_t	 k1 = new_kind(0), k2 = new_kind(0);
	void		*p, *q;

	p = memkind_malloc(MEMKIND_DEFAULT, 1000);
	tu_fill(p, 1000, 7);
	q = memkind_realloc(k1, p, 2000);
	assert_ptr_equal(memkind_detect_kind(q), k1);
	assert_int_equal(tu_check(q, 1000, 7), 0);
	p = memkind_realloc(k2, q, 500);
	assert_ptr_equal(memkind_detect_kind(p), k2);
	assert_int_equal(tu_check(p, 500, 7), 0);
	q = memkind_realloc(MEMKIND_DEFAULT, p, 100000);
	assert_ptr_equal(memkind_detect_kind(q), MEMKIND_DEFAULT);
	assert_int_equal(tu_check(q, 500, 7), 0);
	memkind_free(NULL, q);
	assert_int_equal(pmemtier_kind_purge(k1), MEMKIND_SUCCESS);
	assert_int_equal(stat_of(k1, MEMKIND_STAT_TYPE_ALLOCATED), 0);
	assert_int_equal(pmemtier_kind_purge(k2), MEMKIND_SUCCESS);
	assert_int_equal(stat_of(k2, MEMKIND_STAT_TYPE_ALLOCATED), 0);
	assert_int_equal(memkind_destroy_kind(k1), MEMKIND_SUCCESS);
	assert_int_equal(memkind_destroy_kind(k2), MEMKIND_SUCCESS);
}

static void
test_growth_to_max_size(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = new_kind(64 * MiB);
	void				*p[80];
	size_t				 n, i;

	for (n = 0; n < 80; n++) {
		errno = 0;
		if ((p[n] = memkind_malloc(k, MiB)) == NULL)
			break;
		/* Success leaves errno alone, new lease or not. */
		assert_int_equal(errno, 0);
		memset(p[n], (int)n, MiB);
	}
	/* Refused cleanly: NULL, ENOMEM, and most of max_size was usable. */
	assert_true(n < 80);
	assert_int_equal(errno, ENOMEM);
	assert_true(n >= 48);
	assert_int_equal(pmemtier_kind_get_info(k, &info), MEMKIND_SUCCESS);
	assert_true(info.leases >= 3);
	/*
	 * max_size bounds what the kind commits (its file's blocks); its
	 * leases may cover twice that, so that a dirty extent jemalloc will
	 * not split never leaves the kind short (memkind's
	 * PmemReallocInPlace, test_realloc_in_place).
	 */
	assert_true(info.leased <= 2 * 64 * MiB);
	assert_true(tu_file_blocks(tm.dir) <= (long long)(64 * MiB + META *
	    info.leases));
	for (i = 0; i < n; i++)
		assert_int_equal(((unsigned char *)p[i])[MiB - 1],
		    (unsigned char)i);
	/* Still consistent: freed space is allocatable again. */
	for (i = 0; i < n; i += 2)
		memkind_free(k, p[i]);
	for (i = 0; i < n; i += 2)
		assert_non_null(p[i] = memkind_malloc(k, MiB));
	for (i = 0; i < n; i++)
		memkind_free(NULL, p[i]);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/*
 * Issue 11 / memkind's PmemReallocInPlace: a kind of 16 MiB + 4 KiB whose
 * 10 MB block shrank in place to 8 MB and which holds 4 MB more still has
 * room for 16 B. jemalloc will not carve a slab out of the 2 MiB the
 * shrink left (it splits a cached extent at most 64 times the request),
 * so the slab needs address space of its own: max_size counts what the
 * kind commits, and its file (or charge) never more than max_size.
 */
static void
test_realloc_in_place(void **state)
{
	memkind_t			 k = new_kind(16 * MiB + 4096);
	struct pmemtier_kind_info	 info;
	void				*a, *b, *r;

	assert_non_null(a = memkind_malloc(k, 10 * 1000 * 1000));
	assert_ptr_equal(memkind_realloc(k, a, 6 * 1000 * 1000), a);
	assert_ptr_equal(memkind_realloc(k, a, 10 * 1000 * 1000), a);
	assert_ptr_equal(memkind_realloc(k, a, 8 * 1000 * 1000), a);
	assert_non_null(b = memkind_malloc(k, 4 * 1000 * 1000));
	assert_non_null(b = memkind_realloc(k, b, 16));
	assert_non_null(r = memkind_realloc(k, a, 16));
	assert_ptr_not_equal(r, a);
	/* ... and the room the 8 MB left serves a new 5 MB. */
	assert_non_null(a = memkind_malloc(k, 5 * 1000 * 1000));
	assert_int_equal(pmemtier_kind_get_info(k, &info), MEMKIND_SUCCESS);
	assert_true(tu_file_blocks(tm.dir) <= (long long)(18 * MiB + META *
	    info.leases));
	memkind_free(k, a);
	memkind_free(k, b);
	memkind_free(k, r);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/*
 * Issue 11: a limited kind holds its whole max_size, rounded up to 2 MiB
 * as memkind rounds it (memkind 1.14 fills a kind of 16 MiB + 4 KiB with
 * 4608 blocks of 4 KiB), and a kind filled with large blocks still has
 * room for small ones in what the large ones left over.
 */
static void
test_fill_max_size(void **state)
{
	const size_t	  max = 16 * MiB + 4096;
	memkind_t	  k = new_kind(max);
	void		**p = calloc(8192, sizeof(void *));
	size_t		  n, m, i, held;

	assert_non_null(p);
	assert_int_equal(memkind_get_capacity(k), 18 * MiB);
	for (n = 0; n < 8192; n++) {
		if ((p[n] = memkind_malloc(k, 4096)) == NULL)
			break;
		memset(p[n], (int)n, 4096);
	}
	print_message("%zu blocks of 4 KiB in a kind of 16 MiB + 4 KiB\n", n);
	assert_true(n >= 4608);
	assert_true(n < 8192);
	for (i = 0; i < n; i++) {
		assert_int_equal(((unsigned char *)p[i])[4095], (unsigned char)i);
		memkind_free(k, p[i]);
	}
	/* Large blocks first, then small ones in what is left. */
	for (n = 0; n < 64; n++)
		if ((p[n] = memkind_malloc(k, MiB)) == NULL)
			break;
	held = n * MiB;
	for (m = n; m < 8192; m++) {
		if ((p[m] = memkind_malloc(k, m % 2 ? 16 : 4096)) == NULL)
			break;
		held += m % 2 ? 16 : 4096;
	}
	print_message("%zu blocks of 1 MiB, then %zu of 4 KiB and 16 B: "
	    "%zu bytes\n", n, m - n, held);
	assert_true(n >= 12);
	assert_true(m < 8192);
	assert_true(held >= max);
	for (i = 0; i < m; i++)
		memkind_free(NULL, p[i]);
	free(p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_conservative_returns_pages(void **state)
{
	struct memkind_config		*cfg = memkind_config_new();
	struct pmemtier_kind_info	 info;
	memkind_t			 k = NULL, kd;
	void				*p[32];
	long long		 b0, b1, b2;
	size_t			 i;

	memkind_config_set_path(cfg, tm.dir);
	memkind_config_set_memory_usage_policy(cfg,
	    MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE);
	assert_int_equal(memkind_create_pmem_with_config(cfg, &k), 0);
	memkind_config_delete(cfg);
	b0 = tu_file_blocks(tm.dir);
	for (i = 0; i < 32; i++) {
		p[i] = memkind_malloc(k, MiB);
		assert_non_null(p[i]);
		memset(p[i], 1, MiB);
	}
	b1 = tu_file_blocks(tm.dir);
	assert_true(b1 >= b0 + (long long)(32 * MiB));
	for (i = 0; i < 32; i++)
		memkind_free(k, p[i]);
	b2 = tu_file_blocks(tm.dir);
	print_message("conservative: %lld -> %lld -> %lld bytes\n", b0, b1,
	    b2);
	assert_true(b2 <= b1 - (long long)(28 * MiB));
	/* Leases left with nothing in use went back as well. */
	assert_int_equal(pmemtier_kind_get_info(k, &info), MEMKIND_SUCCESS);
	print_message("conservative: %zu bytes leased after the frees\n",
	    info.leased);
	assert_true(info.leased <= 16 * MiB);
	/* And the kind grows again from there. */
	for (i = 0; i < 32; i++) {
		p[i] = memkind_malloc(k, MiB);
		assert_non_null(p[i]);
		memset(p[i], 2, MiB);
	}
	for (i = 0; i < 32; i++)
		memkind_free(NULL, p[i]);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);

	/* DEFAULT policy: pmemtier_kind_purge() gives the pages back. */
	kd = new_kind(0);
	for (i = 0; i < 32; i++) {
		p[i] = memkind_malloc(kd, MiB);
		memset(p[i], 1, MiB);
	}
	b1 = tu_file_blocks(tm.dir);
	for (i = 0; i < 32; i++)
		memkind_free(kd, p[i]);
	assert_int_equal(pmemtier_kind_purge(kd), MEMKIND_SUCCESS);
	b2 = tu_file_blocks(tm.dir);
	assert_true(b2 <= b1 - (long long)(28 * MiB));
	assert_int_equal(memkind_destroy_kind(kd), MEMKIND_SUCCESS);
}

#define NTHREADS	8
#define NBLOCKS		2000

struct xthread {
	memkind_t		 kind;
	pthread_barrier_t	*bar;
	void			*blocks[NTHREADS][NBLOCKS];
	int			 bad;
};

static struct xthread	xt;

static size_t
xsize(unsigned t, unsigned i)
{
	return 8 + ((t * 131 + i * 17) % 9000);
}

static void *
xthread_main(void *arg)
{
	unsigned	t = (unsigned)(uintptr_t)arg, o = (t + 1) % NTHREADS, i;

	for (i = 0; i < NBLOCKS; i++) {
		xt.blocks[t][i] = memkind_malloc(xt.kind, xsize(t, i));
		if (xt.blocks[t][i] == NULL) {
			xt.bad++;
			continue;
		}
		tu_fill(xt.blocks[t][i], 8, t * NBLOCKS + i);
	}
	pthread_barrier_wait(xt.bar);
	/* Free the neighbour's blocks, half of them as kind NULL. */
	for (i = 0; i < NBLOCKS; i++) {
		if (xt.blocks[o][i] == NULL)
			continue;
		if (tu_check(xt.blocks[o][i], 8, o * NBLOCKS + i) != 0 ||
		    memkind_detect_kind(xt.blocks[o][i]) != xt.kind)
			__atomic_add_fetch(&xt.bad, 1, __ATOMIC_RELAXED);
		memkind_free(i % 2 ? NULL : xt.kind, xt.blocks[o][i]);
	}
	pthread_barrier_wait(xt.bar);
	/* Reuse what the caches now hold. */
	for (i = 0; i < NBLOCKS; i++) {
		void *p = memkind_malloc(xt.kind, xsize(o, i));

		if (p == NULL)
			__atomic_add_fetch(&xt.bad, 1, __ATOMIC_RELAXED);
		memkind_free(xt.kind, p);
	}
	return NULL;
}

static void
test_threads_free_each_other(void **state)
{
	pthread_barrier_t	bar;
	pthread_t		tid[NTHREADS];
	size_t			base;
	unsigned		t;

	xt.kind = new_kind(0);
	xt.bar = &bar;
	xt.bad = 0;
	base = stat_of(xt.kind, MEMKIND_STAT_TYPE_ALLOCATED);
	pthread_barrier_init(&bar, NULL, NTHREADS);
	for (t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&tid[t], NULL, xthread_main,
		    (void *)(uintptr_t)t), 0);
	for (t = 0; t < NTHREADS; t++)
		pthread_join(tid[t], NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(xt.bad, 0);
	/* Exiting threads gave their caches back: nothing is lost. */
	assert_int_equal(stat_of(xt.kind, MEMKIND_STAT_TYPE_ALLOCATED), base);
	assert_int_equal(memkind_destroy_kind(xt.kind), MEMKIND_SUCCESS);
}

/* Runs in the fork child; returns a bit mask of failures. */
static int
fork_child(memkind_t k, char *parent_block)
{
	memkind_t	 k2 = NULL;
	void		*p;
	int		 fail = 0;

	errno = 0;
	if (memkind_malloc(k, 64) != NULL || errno != ENOMEM)
		fail |= 1;
	if (memkind_check_available(k) != MEMKIND_ERROR_UNAVAILABLE)
		fail |= 2;
	memkind_free(k, parent_block);		/* must do nothing */
	memkind_free(NULL, parent_block);
	if ((p = memkind_malloc(MEMKIND_DEFAULT, 100)) == NULL)
		fail |= 4;
	memkind_free(NULL, p);
	/* The child may make kinds of its own (its own connection). */
	if (memkind_create_pmem(tm.dir, 0, &k2) != 0)
		fail |= 8;
	else {
		p = memkind_malloc(k2, 5000);
		if (p == NULL || memkind_detect_kind(p) != k2)
			fail |= 16;
		else
			memset(p, 3, 5000);
		memkind_free(NULL, p);
		if (memkind_destroy_kind(k2) != 0)
			fail |= 32;
	}
	if (memkind_destroy_kind(k) != 0)
		fail |= 64;
	return fail;
}

static void
test_fork(void **state)
{
	memkind_t	 k = new_kind(0);
	char		*p = memkind_malloc(k, 4096);
	pid_t		 pid;
	int		 status;

	assert_non_null(p);
	memset(p, 'x', 4096);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fork_child(k, p));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The parent's heap is untouched and still works. */
	assert_int_equal(p[0], 'x');
	assert_int_equal(p[4095], 'x');
	memkind_free(k, p);
	p = memkind_malloc(k, 3 * MiB);
	assert_non_null(p);
	memset(p, 1, 3 * MiB);
	memkind_free(NULL, p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/* Resident bytes of this process. */
static size_t
rss_bytes(void)
{
	unsigned long	size = 0, res = 0;
	FILE		*f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * The child of fork_holes: new mappings must not land where the parent's
 * leases were (MADV_DONTFORK leaves them unmapped here), or the orphaned
 * kinds claim them. Returns a bit mask of failures.
 */
static int
fork_holes_child(memkind_t *parent, unsigned nparent)
{
	size_t		rss0 = 0, size;
	unsigned	i, j;
	int		fail = 0;

	for (i = 0; i < 300; i++) {
		void	*p, *q, *m;

		size = MiB + (i % 16) * 256 * 1024;
		/* Plain mappings, the way jemalloc and libc get memory. */
		m = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || memkind_detect_kind(m) != MEMKIND_DEFAULT)
			fail |= 1;
		if (m != MAP_FAILED && i % 4 != 0)
			munmap(m, 8 * MiB);
		if ((p = memkind_malloc(MEMKIND_DEFAULT, size)) == NULL) {
			fail |= 2;
			continue;
		}
		memset(p, 1, size);
		if (memkind_detect_kind(p) != MEMKIND_DEFAULT)
			fail |= 4;
		if (memkind_malloc_usable_size(NULL, p) < size)
			fail |= 8;
		if ((q = memkind_realloc(NULL, p, 2 * size)) == NULL) {
			fail |= 16;
			memkind_free(NULL, p);
			continue;
		}
		memset(q, 2, 2 * size);
		for (j = 0; j < nparent; j++)
			if (memkind_detect_kind(q) == parent[j])
				fail |= 32;
		memkind_free(NULL, q);
		if (i == 50)
			rss0 = rss_bytes();
	}
	/* Freed blocks were really freed: resident memory stayed flat. */
	if (rss_bytes() > rss0 + 64 * MiB)
		fail |= 64;
	return fail;
}

/*
 * Issue 11: with live kinds in the parent (limited and not, with leases
 * spread over their ranges), a fork child allocates, detects, reallocates
 * and frees ordinary memory correctly and without growth.
 */
static void
test_fork_holes(void **state)
{
	memkind_t	 k[2] = { new_kind(0), new_kind(64 * MiB) };
	void		*p[2][24];
	unsigned	 i, j;
	pid_t		 pid;
	int		 status;

	/* Leases with holes between them: free every other one. */
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 24; j++) {
			p[i][j] = memkind_malloc(k[i], 2 * MiB);
			if (p[i][j] != NULL)
				memset(p[i][j], 1, 2 * MiB);
		}
		for (j = 0; j < 24; j += 2) {
			memkind_free(k[i], p[i][j]);
			p[i][j] = NULL;
		}
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fork_holes_child(k, 2));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 24; j++)
			memkind_free(NULL, p[i][j]);
		assert_int_equal(memkind_destroy_kind(k[i]), MEMKIND_SUCCESS);
	}
}

static void
test_defrag(void **state)
{
	memkind_t	  k = new_kind(0);
	void		**p = calloc(20000, sizeof(void *));
	size_t		  i, moved = 0;

	assert_non_null(p);
	assert_null(memkind_defrag_reallocate(k, NULL));
	for (i = 0; i < 20000; i++) {
		p[i] = memkind_malloc(k, 48);
		tu_fill(p[i], 48, (unsigned)i);
	}
	/* Leave one block in ten: sparse slabs. */
	for (i = 0; i < 20000; i++)
		if (i % 10 != 0) {
			memkind_free(k, p[i]);
			p[i] = NULL;
		}
	assert_int_equal(pmemtier_kind_purge(k), MEMKIND_SUCCESS);
	for (i = 0; i < 20000; i += 10) {
		void *q = memkind_defrag_reallocate(i % 20 ? NULL : k, p[i]);

		if (q != NULL) {
			moved++;
			p[i] = q;
		}
		assert_ptr_equal(memkind_detect_kind(p[i]), k);
		assert_int_equal(tu_check(p[i], 48, (unsigned)i), 0);
	}
	print_message("defrag moved %zu of 2000 blocks\n", moved);
	assert_true(moved > 0);
	for (i = 0; i < 20000; i += 10)
		memkind_free(k, p[i]);
	free(p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/*
 * Issue 11: one defrag pass over what is left after most blocks were
 * freed at random moves blocks out of sparse slabs, lets those slabs go
 * (active and physical memory fall) and keeps every byte; blocks that
 * are worth keeping where they are stay.
 */
static void
test_defrag_frees_slabs(void **state)
{
	const size_t	  nb = 100000, sz = 64;
	memkind_t	  k = new_kind(0);
	void		**p = calloc(nb, sizeof(void *));
	size_t		  i, live = 0, moved = 0, act0, act1;
	long long	  blk0, blk1;
	unsigned	  seed = 11;

	assert_non_null(p);
	for (i = 0; i < nb; i++) {
		assert_non_null(p[i] = memkind_malloc(k, sz));
		tu_fill(p[i], sz, (unsigned)i);
	}
	/* Keep about one block in eight, scattered over every slab. */
	for (i = 0; i < nb; i++)
		if (rand_r(&seed) % 8 != 0) {
			memkind_free(i % 2 ? NULL : k, p[i]);
			p[i] = NULL;
		} else
			live++;
	assert_int_equal(pmemtier_kind_purge(k), MEMKIND_SUCCESS);
	act0 = stat_of(k, MEMKIND_STAT_TYPE_ACTIVE);
	blk0 = tu_file_blocks(tm.dir);
	for (i = 0; i < nb; i++) {
		void	*q;

		if (p[i] == NULL)
			continue;
		if ((q = memkind_defrag_reallocate(i % 3 ? k : NULL,
		    p[i])) != NULL) {
			moved++;
			p[i] = q;
		}
	}
	assert_int_equal(pmemtier_kind_purge(k), MEMKIND_SUCCESS);
	act1 = stat_of(k, MEMKIND_STAT_TYPE_ACTIVE);
	blk1 = tu_file_blocks(tm.dir);
	print_message("defrag: moved %zu of %zu blocks; active %zu -> %zu, "
	    "file blocks %lld -> %lld bytes\n", moved, live, act0, act1,
	    blk0, blk1);
	for (i = 0; i < nb; i++)
		if (p[i] != NULL) {
			assert_ptr_equal(memkind_detect_kind(p[i]), k);
			assert_int_equal(tu_check(p[i], sz, (unsigned)i), 0);
		}
	assert_true(moved > 0);
	assert_true(moved < live);
	/* The live data fill a quarter of the old slabs at most. */
	assert_true(act1 * 2 < act0);
	assert_true(blk1 * 2 < blk0);
	for (i = 0; i < nb; i++)
		memkind_free(k, p[i]);
	free(p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/*
 * memkind_malloc_usable_size() reads a small block's class from the kind's
 * class map: it must say what jemalloc says, for every size class, for
 * blocks that come back through the per-thread cache and for blocks
 * realloc() resized in place.
 */
static void
test_usable_size_is_jemallocs(void **state)
{
	size_t		(*js)(const void *, int);
	memkind_t	 k = new_kind(0);
	void		*sym, *p[2], *q;
	size_t		 n;
	int		 i;

	assert_non_null(sym = dlsym(RTLD_DEFAULT, "sallocx"));
	memcpy(&js, &sym, sizeof(sym));
	for (n = 1; n <= 20000; n += n < 512 ? 1 : 61) {
		for (i = 0; i < 2; i++) {
			assert_non_null(p[i] = memkind_malloc(k, n));
			assert_int_equal(memkind_malloc_usable_size(k, p[i]),
			    js(p[i], 0));
			assert_true(memkind_malloc_usable_size(NULL, p[i]) >= n);
		}
		memkind_free(k, p[0]);
		/* The block again, from the cache. */
		assert_non_null(p[0] = memkind_malloc(k, n));
		assert_int_equal(memkind_malloc_usable_size(NULL, p[0]),
		    js(p[0], 0));
		assert_non_null(q = memkind_realloc(k, p[1], n + n / 2 + 1));
		assert_int_equal(memkind_malloc_usable_size(NULL, q),
		    js(q, 0));
		memkind_free(k, q);
		memkind_free(k, p[0]);
	}
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/* How many of the pages of [p, p + len) this process has mapped. */
static size_t
pages_spanned(const void *p, size_t len)
{
	return (((uintptr_t)p + len + 4095) / 4096) - (uintptr_t)p / 4096;
}

static size_t
pages_mapped(const void *p, size_t len)
{
	uint64_t	e;
	uintptr_t	a;
	size_t		n = 0;
	int		fd;

	assert_true((fd = open("/proc/self/pagemap", O_RDONLY)) >= 0);
	for (a = (uintptr_t)p & ~(uintptr_t)4095; a < (uintptr_t)p + len;
	    a += 4096) {
		assert_int_equal(pread(fd, &e, sizeof(e),
		    (off_t)(a / 4096 * sizeof(e))), sizeof(e));
		n += (e >> 63) & 1;
	}
	close(fd);
	return n;
}

/*
 * A block up to 2 MiB that jemalloc commits is mapped by the time
 * memkind_malloc returns (one MADV_POPULATE_WRITE instead of a page fault
 * per page: on a paravirtualized guest most of a fault is the exception
 * itself); a bigger one is left to fault page by page, so that a block
 * used sparsely costs only what is touched.
 */
static void
test_small_commits_mapped(void **state)
{
	memkind_t	 k = new_kind(0);
	void		*probe, *p, *q;
	int		 ok;

	probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(probe != MAP_FAILED);
	ok = madvise(probe, 4096, 23 /* MADV_POPULATE_WRITE */) == 0;
	munmap(probe, 4096);
	if (!ok) {
		fprintf(stderr, "skipped: the kernel has no "
		    "MADV_POPULATE_WRITE (Linux 5.14)\n");
		skip();
	}
	assert_non_null(p = memkind_malloc(k, 256 * 1024));
	assert_int_equal(pages_mapped(p, 256 * 1024),
	    pages_spanned(p, 256 * 1024));
	assert_non_null(q = memkind_malloc(k, 8 * MiB));
	assert_true(pages_mapped(q, 8 * MiB) < 16);
	memset(q, 1, 8 * MiB);
	assert_int_equal(pages_mapped(q, 8 * MiB), pages_spanned(q, 8 * MiB));
	memkind_free(k, q);
	memkind_free(k, p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_destroy_leaks_nothing(void **state)
{
	memkind_t	k[20];
	int		fds = tu_count_fds(), i;

	for (i = 0; i < 20; i++) {
		void *p;

		k[i] = new_kind(i % 2 ? 0 : 32 * MiB);
		p = memkind_malloc(k[i], (size_t)(i + 1) * 100000);
		assert_non_null(p);
		memset(p, 1, (size_t)(i + 1) * 100000);
		/* Left allocated: destroy frees everything of the kind. */
	}
	assert_true(tu_count_fds() > fds);
	for (i = 0; i < 20; i++)
		assert_int_equal(memkind_destroy_kind(k[i]), MEMKIND_SUCCESS);
	/*
	 * Not more than before: the count before may still have held the
	 * daemon connection of an earlier test, which the background
	 * thread closes when its usage report ends (CI saw 7 -> 6).
	 */
	assert_true(tu_settled_fds(fds) <= fds);
	assert_int_equal(tu_file_blocks(tm.dir), 0);
}

static void
test_dax_kmem(void **state)
{
	void	*p;

	if (!tm.daemon) {
		assert_int_equal(memkind_check_available(MEMKIND_DAX_KMEM),
		    MEMKIND_ERROR_UNAVAILABLE);
		errno = 0;
		assert_null(memkind_malloc(MEMKIND_DAX_KMEM, 100));
		assert_int_equal(errno, ENOMEM);
		assert_int_equal(memkind_get_capacity(MEMKIND_DAX_KMEM), -1);
		return;
	}
	assert_int_equal(memkind_check_available(MEMKIND_DAX_KMEM), 0);
	assert_int_equal(memkind_get_capacity(MEMKIND_DAX_KMEM), 256 * MiB);
	p = memkind_malloc(MEMKIND_DAX_KMEM, 100000);
	assert_non_null(p);
	memset(p, 1, 100000);
	assert_ptr_equal(memkind_detect_kind(p), MEMKIND_DAX_KMEM);
	memkind_free(NULL, p);
}

static void
failing_calls(void *arg)
{
	memkind_t	k = NULL;

	(void)memkind_create_pmem("/nonexistent/dir", 0, &k);
	(void)memkind_create_pmem(tm.dir, 1, &k);
	(void)memkind_malloc(MEMKIND_HBW, 10);
	(void)memkind_check_dax_path("/nonexistent");
	if (memkind_create_pmem(tm.dir, 16 * MiB, &k) == 0) {
		while (memkind_malloc(k, MiB) != NULL)
			;
		(void)memkind_destroy_kind(k);
	}
}

static void
test_silent(void **state)
{
	int	status;

	/* Without PMEMTIER_DEBUG the library never writes anything. */
	assert_int_equal(tu_stderr_bytes(failing_calls, NULL, &status), 0);
	assert_true(WIFEXITED(status));
	setenv("PMEMTIER_DEBUG", "1", 1);
	assert_true(tu_stderr_bytes(failing_calls, NULL, &status) > 0);
	unsetenv("PMEMTIER_DEBUG");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_process_malloc_is_jemalloc),
		cmocka_unit_test(test_malloc_free),
		cmocka_unit_test(test_calloc_zeroes_reused_blocks),
		cmocka_unit_test(test_realloc_basic),
		cmocka_unit_test(test_posix_memalign),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_available_capacity),
		cmocka_unit_test(test_dax_path),
		cmocka_unit_test(test_version_errors),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_free_null_mix),
		cmocka_unit_test(test_free_with_other_kind),
		cmocka_unit_test(test_freed_pmem_never_in_dram_malloc),
		cmocka_unit_test(test_realloc_between_kinds),
		cmocka_unit_test(test_growth_to_max_size),
		cmocka_unit_test(test_fill_max_size),
		cmocka_unit_test(test_realloc_in_place),
		cmocka_unit_test(test_conservative_returns_pages),
		cmocka_unit_test(test_threads_free_each_other),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_fork_holes),
		cmocka_unit_test(test_defrag),
		cmocka_unit_test(test_defrag_frees_slabs),
		cmocka_unit_test(test_usable_size_is_jemallocs),
		cmocka_unit_test(test_small_commits_mapped),
		cmocka_unit_test(test_destroy_leaks_nothing),
		cmocka_unit_test(test_dax_kmem),
		cmocka_unit_test(test_silent),
	};
	int	rc;

	unsetenv("PMEMTIER_DEBUG");
	if ((rc = tmode_setup(argc, argv, NULL)) != 0)
		return rc;
	rc = cmocka_run_group_tests_name(tm.daemon ? "client_api_daemon" :
	    "client_api_standalone", tests, NULL, NULL);
	return tmode_teardown(rc != 0);
}
