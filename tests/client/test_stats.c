/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind's statistics API: memkind_get_stat() kind by kind, as memkind
 * 1.14 answers (its EmptyRegularKind test: nothing allocated from
 * MEMKIND_REGULAR reads 0), and memkind_stats_print() in text and JSON,
 * the JSON checked with jq. Run once per mode (see tmode.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <memkind.h>

#include "tmode.h"
#include "tutil.h"

#define MiB	(1024UL * 1024)

static size_t
stat_of(memkind_t kind, memkind_stat_type type)
{
	size_t	v = (size_t)-1;

	assert_int_equal(memkind_get_stat(kind, type, &v), MEMKIND_SUCCESS);
	return v;
}

static void
test_get_stat_kinds(void **state)
{
	memkind_t	 k = NULL;
	void		*p[10], *r;
	size_t		 i, v;

	/* Nothing from REGULAR yet: all three read 0. */
	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	assert_int_equal(stat_of(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_ALLOCATED),
	    0);
	assert_int_equal(stat_of(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_ACTIVE), 0);
	assert_int_equal(stat_of(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_RESIDENT),
	    0);

	assert_int_equal(memkind_create_pmem(tm.dir, 0, &k), MEMKIND_SUCCESS);
	for (i = 0; i < 10; i++)
		assert_non_null(p[i] = memkind_malloc(k, MiB));
	r = memkind_malloc(MEMKIND_REGULAR, MiB);
	assert_non_null(r);
	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	/* Each kind counts its own, the total counts them all. */
	assert_true(stat_of(k, MEMKIND_STAT_TYPE_ALLOCATED) >= 10 * MiB);
	assert_true(stat_of(k, MEMKIND_STAT_TYPE_ACTIVE) >=
	    stat_of(k, MEMKIND_STAT_TYPE_ALLOCATED));
	v = stat_of(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_ALLOCATED);
	assert_true(v >= MiB && v < 10 * MiB);
	assert_true(stat_of(NULL, MEMKIND_STAT_TYPE_ALLOCATED) >=
	    stat_of(k, MEMKIND_STAT_TYPE_ALLOCATED) + v);
	/* Freed: back to 0 for REGULAR, below a block for the pmem kind. */
	memkind_free(MEMKIND_REGULAR, r);
	for (i = 0; i < 10; i++)
		memkind_free(k, p[i]);
	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	assert_int_equal(stat_of(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_ALLOCATED),
	    0);
	assert_true(stat_of(k, MEMKIND_STAT_TYPE_ALLOCATED) < MiB);
	/* Bad arguments. */
	assert_int_equal(memkind_get_stat(k, MEMKIND_STAT_TYPE_ALLOCATED,
	    NULL), MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_get_stat(k, MEMKIND_STAT_TYPE_MAX_VALUE, &v),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

struct sink {
	FILE	*f;
	size_t	 n;
};

static void
sink_write(void *arg, const char *s)
{
	struct sink	*k = arg;

	k->n += strlen(s);
	fputs(s, k->f);
}

/* Prints with opts into a temporary file; its path goes to path. */
static void
print_to(memkind_stat_print_opt opts, char *path, size_t len)
{
	struct sink	k = { 0 };
	int		fd;

	snprintf(path, len, "%s/stats.XXXXXX", tm.dir);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(k.f = fdopen(fd, "w"));
	assert_int_equal(memkind_stats_print(sink_write, &k, opts),
	    MEMKIND_SUCCESS);
	assert_int_equal(fclose(k.f), 0);
	assert_true(k.n > 0);
}

/* Runs "cmd path" (path quoted), with stdout discarded. */
static int
run(const char *cmd, const char *path)
{
	char	line[1024];

	snprintf(line, sizeof(line), "%s '%s' >/dev/null", cmd, path);
	return system(line);
}

static void
test_stats_print(void **state)
{
	memkind_t	 k = NULL;
	char		 path[400];
	void		*p;

	assert_int_equal(memkind_create_pmem(tm.dir, 0, &k), MEMKIND_SUCCESS);
	assert_non_null(p = memkind_malloc(k, 4096));
	/* Text: jemalloc's report, with its per-arena part. */
	print_to(MEMKIND_STAT_PRINT_ALL, path, sizeof(path));
	assert_int_equal(run("grep -q 'Begin jemalloc statistics'", path), 0);
	assert_int_equal(run("grep -q '^arenas\\['", path), 0);
	unlink(path);
	/* Per-arena omitted. */
	print_to(MEMKIND_STAT_PRINT_OMIT_PER_ARENA, path, sizeof(path));
	assert_int_not_equal(run("grep -q '^arenas\\[[0-9]'", path), 0);
	unlink(path);
	/* JSON that jq reads, with jemalloc's stats object in it. */
	print_to(MEMKIND_STAT_PRINT_JSON_FORMAT |
	    MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_BINS, path, sizeof(path));
	if (system("command -v jq >/dev/null 2>&1") == 0)
		assert_int_equal(run("jq -e '.jemalloc.stats.allocated >= "
		    "4096'", path), 0);
	else
		print_message("jq not installed: JSON not parsed\n");
	unlink(path);
	/* An option memkind does not have. */
	assert_int_equal(memkind_stats_print(NULL, NULL,
	    (memkind_stat_print_opt)(1U << 20)), MEMKIND_ERROR_INVALID);
	memkind_free(k, p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_stat_kinds),
		cmocka_unit_test(test_stats_print),
	};
	int	rc;

	if ((rc = tmode_setup(argc, argv, NULL)) != 0)
		return rc;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	return tmode_teardown(rc != 0);
}
