/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hbwmalloc.h with memkind's semantics on a machine without high-bandwidth
 * memory. The policy is fixed once per process, so every case runs in a
 * child of its own; a child exits with the line of its first failed check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <hbwmalloc.h>
#include <memkind.h>

#define CHECK(c)	do { if (!(c)) return __LINE__; } while (0)

/* Runs fn in a child, which names the line of a failed check. */
static void
in_child(int (*fn)(void))
{
	pid_t	pid;
	int	status, line;

	if ((pid = fork()) == 0) {
		if ((line = fn()) != 0)
			fprintf(stderr, "test_hbw.c:%d: check failed\n", line);
		_exit(line != 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Every allocation function fails with ENOMEM; the policy is fixed. */
static int
all_fail(void)
{
	void	*p = (void *)1;

	errno = 0;
	CHECK(hbw_malloc(100) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(hbw_calloc(10, 10) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(hbw_realloc(NULL, 100) == NULL && errno == ENOMEM);
	CHECK(hbw_posix_memalign(&p, 64, 100) == ENOMEM && p == NULL);
	p = (void *)1;
	CHECK(hbw_posix_memalign_psize(&p, 64, 100, HBW_PAGESIZE_4KB) ==
	    ENOMEM && p == NULL);
	return 0;
}

static int
child_preferred_default(void)
{
	char	*p, *q;
	void	*a = NULL;
	size_t	 i;

	CHECK(hbw_check_available() == ENODEV);
	CHECK(hbw_get_policy() == HBW_POLICY_PREFERRED);
	/* Falls back to ordinary memory. */
	errno = 0;
	CHECK((p = hbw_malloc(100)) != NULL && errno == 0);
	CHECK(memkind_detect_kind(p) == MEMKIND_DEFAULT);
	CHECK(hbw_malloc_usable_size(p) >= 100);
	memset(p, 7, 100);
	CHECK((q = hbw_realloc(p, 100000)) != NULL);
	for (i = 0; i < 100; i++)
		CHECK(q[i] == 7);
	CHECK(hbw_malloc_usable_size(q) >= 100000);
	hbw_free(q);
	CHECK((p = hbw_calloc(1000, 10)) != NULL);
	for (i = 0; i < 10000; i++)
		CHECK(p[i] == 0);
	CHECK(hbw_realloc(p, 0) == NULL);
	CHECK(hbw_posix_memalign(&a, 4096, 10) == 0 && a != NULL);
	CHECK((uintptr_t)a % 4096 == 0);
	hbw_free(a);
	CHECK(hbw_posix_memalign_psize(&a, 64, 10, HBW_PAGESIZE_4KB) == 0);
	CHECK(a != NULL && memkind_detect_kind(a) == MEMKIND_DEFAULT);
	hbw_free(a);
	/* Bad alignments, page sizes and sizes. */
	CHECK(hbw_posix_memalign(&a, 3, 10) == EINVAL);
	CHECK(hbw_posix_memalign(&a, sizeof(void *) / 2, 10) == EINVAL);
	CHECK(hbw_posix_memalign_psize(&a, 64, 10, (hbw_pagesize_t)0) ==
	    EINVAL);
	CHECK(hbw_posix_memalign_psize(&a, 64, 10, HBW_PAGESIZE_MAX_VALUE) ==
	    EINVAL);
	CHECK(hbw_posix_memalign_psize(&a, 64, 1000,
	    HBW_PAGESIZE_1GB_STRICT) == EINVAL);
	/* Size 0: NULL, and 0 with NULL from posix_memalign. */
	CHECK(hbw_malloc(0) == NULL);
	CHECK(hbw_calloc(0, 10) == NULL);
	a = (void *)1;
	CHECK(hbw_posix_memalign(&a, 64, 0) == 0 && a == NULL);
	hbw_free(NULL);
	CHECK(hbw_malloc_usable_size(NULL) == 0);
	/* The first allocation fixed PREFERRED. */
	CHECK(hbw_set_policy(HBW_POLICY_BIND) == EPERM);
	CHECK(hbw_set_policy(HBW_POLICY_INTERLEAVE) == EPERM);
	CHECK(hbw_set_policy(HBW_POLICY_BIND_ALL) == EPERM);
	CHECK(hbw_get_policy() == HBW_POLICY_PREFERRED);
	CHECK(hbw_set_policy(HBW_POLICY_PREFERRED) == 0);
	CHECK(hbw_set_policy((hbw_policy_t)0xff) == EINVAL);
	CHECK(hbw_set_policy((hbw_policy_t)0) == EINVAL);
	return 0;
}

static int
child_preferred_set(void)
{
	void	*p;

	/* memkind's negative test: set once, then EPERM for the others. */
	CHECK(hbw_set_policy(HBW_POLICY_PREFERRED) == 0);
	CHECK(hbw_set_policy(HBW_POLICY_BIND) == EPERM);
	CHECK(hbw_set_policy(HBW_POLICY_INTERLEAVE) == EPERM);
	CHECK(hbw_get_policy() == HBW_POLICY_PREFERRED);
	CHECK(hbw_set_policy((hbw_policy_t)0xff) == EINVAL);
	CHECK((p = hbw_malloc(10)) != NULL);
	hbw_free(p);
	return 0;
}

static int
child_bind(void)
{
	CHECK(hbw_set_policy(HBW_POLICY_BIND) == 0);
	CHECK(hbw_get_policy() == HBW_POLICY_BIND);
	CHECK(hbw_set_policy(HBW_POLICY_BIND) == 0);
	CHECK(hbw_set_policy(HBW_POLICY_PREFERRED) == EPERM);
	CHECK(hbw_get_policy() == HBW_POLICY_BIND);
	return all_fail();
}

static int
child_bind_all(void)
{
	void	*p = (void *)1;

	CHECK(hbw_set_policy(HBW_POLICY_BIND_ALL) == 0);
	CHECK(hbw_get_policy() == HBW_POLICY_BIND_ALL);
	CHECK(hbw_posix_memalign_psize(&p, 64, 1UL << 21, HBW_PAGESIZE_2MB) ==
	    ENOMEM && p == NULL);
	return all_fail();
}

static int
child_interleave(void)
{
	void	*p = (void *)1;

	CHECK(hbw_set_policy(HBW_POLICY_INTERLEAVE) == 0);
	CHECK(hbw_get_policy() == HBW_POLICY_INTERLEAVE);
	/* Interleaving is in small pages only. */
	CHECK(hbw_posix_memalign_psize(&p, 64, 1UL << 21, HBW_PAGESIZE_2MB) ==
	    EINVAL);
	CHECK(hbw_posix_memalign_psize(&p, 64, 1UL << 30, HBW_PAGESIZE_1GB) ==
	    EINVAL);
	return all_fail();
}

/* Each allocation function fixes the policy; free and usable_size not. */
static int
child_fixed_by_calloc(void)
{
	void	*p = hbw_calloc(1, 512);

	CHECK(p != NULL);
	CHECK(hbw_set_policy(HBW_POLICY_BIND) == EPERM);
	CHECK(hbw_get_policy() == HBW_POLICY_PREFERRED);
	hbw_free(p);
	return 0;
}

static int
child_fixed_by_realloc(void)
{
	void	*p = hbw_realloc(NULL, 512);

	CHECK(p != NULL);
	CHECK(hbw_set_policy(HBW_POLICY_BIND) == EPERM);
	hbw_free(p);
	return 0;
}

static int
child_fixed_by_memalign(void)
{
	void	*p = NULL;

	CHECK(hbw_posix_memalign(&p, 64, 512) == 0);
	CHECK(hbw_set_policy(HBW_POLICY_INTERLEAVE) == EPERM);
	hbw_free(p);
	return 0;
}

static int
child_not_fixed_by_free(void)
{
	void	*p = malloc(10);

	hbw_free(NULL);
	CHECK(hbw_malloc_usable_size(NULL) == 0);
	CHECK(hbw_get_policy() == HBW_POLICY_PREFERRED);
	CHECK(hbw_check_available() == ENODEV);
	CHECK(hbw_verify_memory_region(p, 10, 0) == -1);
	free(p);
	CHECK(hbw_set_policy(HBW_POLICY_BIND) == 0);
	CHECK(hbw_malloc(10) == NULL);
	return 0;
}

static void
test_preferred(void **state)
{
	in_child(child_preferred_default);
	in_child(child_preferred_set);
}

static void
test_bind(void **state)
{
	in_child(child_bind);
	in_child(child_bind_all);
}

static void
test_interleave(void **state)
{
	in_child(child_interleave);
}

static void
test_set_policy_once(void **state)
{
	in_child(child_fixed_by_calloc);
	in_child(child_fixed_by_realloc);
	in_child(child_fixed_by_memalign);
	in_child(child_not_fixed_by_free);
}

static void
test_verify_memory_region(void **state)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);
	char	*m;

	m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(hbw_verify_memory_region(NULL, page, 0), EINVAL);
	assert_int_equal(hbw_verify_memory_region(m, 0, 0), EINVAL);
	assert_int_equal(hbw_verify_memory_region(m, page, 2), EINVAL);
	/* Untouched pages have no node; touched ones an ordinary one. */
	assert_int_equal(hbw_verify_memory_region(m, 4 * page, 0), -1);
	m[page] = 5;
	assert_int_equal(hbw_verify_memory_region(m + 1, 3 * page,
	    HBW_TOUCH_PAGES), -1);
	assert_int_equal(m[page], 5);
	assert_int_equal(munmap(m, 4 * page), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preferred),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_interleave),
		cmocka_unit_test(test_set_policy_once),
		cmocka_unit_test(test_verify_memory_region),
	};

	unsetenv("PMEMTIER_DEBUG");
	return cmocka_run_group_tests_name("client_hbw", tests, NULL, NULL)
	    != 0;
}
