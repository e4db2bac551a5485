/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixed kinds (memkind_create_fixed): memory only from the caller's range,
 * found again by memkind_detect_kind() and memkind_free(NULL, p), and the
 * range left mapped, with what was written in it, when the kind goes.
 * Fixed kinds need no daemon: one run, whatever the mode.
 */
#include <errno.h>
#include <fcntl.h>
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

#include <memkind.h>
#include <pmemtier.h>

#include "tutil.h"

#define MiB	(1024UL * 1024)
#define NPTRS	(64 * 1024)

static char	fixed_dir[320];

static bool
inside(const void *p, size_t n, const char *lo, size_t len)
{
	return (const char *)p >= lo && (const char *)p + n <= lo + len;
}

/*
 * Fills k (over [lo, lo + len)) until an allocation fails, checks every
 * block, frees and reallocates some, and leaves a pattern at the start of
 * the first block for the caller to find after destroy. Returns its offset.
 */
static size_t
fill_and_check(memkind_t k, char *lo, size_t len)
{
	static void	*p[NPTRS];
	size_t		 n = 0, total = 0, i, off;
	void		*q;

	assert_int_equal(memkind_check_available(k), MEMKIND_SUCCESS);
	assert_int_equal(memkind_get_capacity(k), (ssize_t)len);
	for (;;) {
		size_t sz = 512 + (n % 13) * 1000 + (n % 97 == 0 ? 300000 : 0);

		assert_true(n < NPTRS);
		errno = 0;
		if ((p[n] = memkind_malloc(k, sz)) == NULL) {
			assert_int_equal(errno, ENOMEM);
			break;
		}
		assert_true(inside(p[n], memkind_malloc_usable_size(k, p[n]),
		    lo, len));
		assert_ptr_equal(memkind_detect_kind(p[n]), k);
		memset(p[n], (int)(n & 0xff), sz);
		total += sz;
		n++;
	}
	/* jemalloc's slabs and size classes waste some, not half. */
	assert_true(total > len / 2);
	assert_true(n > 100);
	for (i = 0; i < n; i++)
		assert_int_equal(((unsigned char *)p[i])[0], i & 0xff);

	/* Freed memory is reused: every other block, by kind and by NULL. */
	for (i = 1; i < n; i += 2) {
		memkind_free(i % 4 == 1 ? k : NULL, p[i]);
		p[i] = NULL;
	}
	for (i = 1; i < n; i += 2) {
		p[i] = memkind_malloc(k, 512);
		assert_non_null(p[i]);
		assert_true(inside(p[i], 512, lo, len));
	}
	/* realloc keeps the data and the kind, by kind and by NULL. */
	q = memkind_realloc(k, p[0], 2048);
	assert_non_null(q);
	assert_true(inside(q, 2048, lo, len));
	assert_int_equal(((unsigned char *)q)[511], 0);
	p[0] = memkind_realloc(NULL, q, 300);
	assert_non_null(p[0]);
	assert_true(inside(p[0], 300, lo, len));
	assert_ptr_equal(memkind_detect_kind(p[0]), k);
	assert_int_equal(((unsigned char *)p[0])[299], 0);
	q = memkind_calloc(k, 100, 10);
	assert_non_null(q);
	assert_true(inside(q, 1000, lo, len));
	for (i = 0; i < 1000; i++)
		assert_int_equal(((char *)q)[i], 0);
	assert_int_equal(memkind_posix_memalign(k, &q, 4096, 8192), 0);
	assert_true(inside(q, 8192, lo, len));
	assert_int_equal((uintptr_t)q % 4096, 0);

	memset(p[2], 0x5a, 64);
	off = (size_t)((char *)p[2] - lo);
	for (i = 3; i < n; i++)
		memkind_free(NULL, p[i]);
	return off;
}

static void
test_fixed_anonymous(void **state)
{
	size_t				 len = 64 * MiB;
	char				*m;
	memkind_t			 k = NULL;
	struct pmemtier_kind_info	 info;
	size_t				 off, i;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	/* Not zeroed: calloc must still hand out zeroes. */
	memset(m, 0xab, len);
	assert_int_equal(memkind_create_fixed(m, len, &k), MEMKIND_SUCCESS);
	assert_non_null(k);
	assert_int_equal(pmemtier_kind_get_info(k, &info), MEMKIND_SUCCESS);
	assert_int_equal(info.mode, PMEMTIER_MODE_FIXED);
	assert_int_equal(info.leased, 0);
	off = fill_and_check(k, m, len);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	/* Still mapped, still holding what the program wrote. */
	for (i = 0; i < 64; i++)
		assert_int_equal((unsigned char)m[off + i], 0x5a);
	m[0] = 1;
	m[len - 1] = 2;
	assert_int_equal(m[0] + m[len - 1], 3);
	/* The same range serves a new kind once the old one is gone. */
	assert_int_equal(memkind_create_fixed(m, len, &k), MEMKIND_SUCCESS);
	assert_ptr_equal(memkind_detect_kind(memkind_malloc(k, 100)), k);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	assert_int_equal(munmap(m, len), 0);
}

static void
test_fixed_file(void **state)
{
	size_t		 len = 32 * MiB;
	char		 path[400], buf[64];
	char		*m;
	memkind_t	 k = NULL;
	size_t		 off;
	int		 fd, fds;

	snprintf(path, sizeof(path), "%s/fixed.map", fixed_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	fds = tu_count_fds();
	/* An unaligned start: blocks stay inside [m + 100, m + len). */
	assert_int_equal(memkind_create_fixed(m + 100, len - 100, &k),
	    MEMKIND_SUCCESS);
	off = fill_and_check(k, m + 100, len - 100) + 100;
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	assert_int_equal(tu_count_fds(), fds);
	/* The mapping still writes through to the file. */
	assert_int_equal(msync(m, len, MS_SYNC), 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)off),
	    (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal((unsigned char)buf[i], 0x5a);
	assert_int_equal(munmap(m, len), 0);
	close(fd);
	unlink(path);
}

/*
 * A range holding no whole page (size 0 too) makes a kind, as memkind's
 * does (its get_capacity test creates them): its capacity is the size
 * given, nothing can be allocated in it, and it is destroyed as any kind.
 * It claims no address, even inside another fixed kind's range.
 */
static void
test_fixed_subpage(void **state)
{
	size_t		 page = (size_t)sysconf(_SC_PAGESIZE);
	size_t		 sizes[] = { 0, 25, 1024, 87 };
	char		*m;
	memkind_t	 big = NULL, k;
	void		*p;
	size_t		 i;

	m = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(memkind_create_fixed(m, 4 * MiB, &big),
	    MEMKIND_SUCCESS);
	assert_non_null(p = memkind_malloc(big, 100));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		k = NULL;
		/* Beyond big's range, then inside it, then across a page. */
		assert_int_equal(memkind_create_fixed(m + 4 * MiB + 7,
		    sizes[i], &k), MEMKIND_SUCCESS);
		assert_non_null(k);
		assert_int_equal(memkind_get_capacity(k), (ssize_t)sizes[i]);
		errno = 0;
		assert_null(memkind_malloc(k, 16));
		assert_int_equal(errno, ENOMEM);
		assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
		assert_int_equal(memkind_create_fixed(m + 5, sizes[i], &k),
		    MEMKIND_SUCCESS);
		assert_ptr_equal(memkind_detect_kind(p), big);
		assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	}
	assert_int_equal(memkind_create_fixed(m + 6 * MiB + 1, page, &k),
	    MEMKIND_SUCCESS);
	assert_null(memkind_malloc(k, 16));
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	memkind_free(NULL, p);
	assert_int_equal(memkind_destroy_kind(big), MEMKIND_SUCCESS);
	munmap(m, 8 * MiB);
}

static void
test_fixed_errors(void **state)
{
	size_t		 len = 16 * MiB;
	size_t		 page = (size_t)sysconf(_SC_PAGESIZE);
	char		*m;
	memkind_t	 k = NULL, k2 = NULL, pk = NULL;
	void		*p;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(memkind_create_fixed(NULL, len, &k),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_fixed(m, len, NULL),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_fixed(m, len / 2, &k),
	    MEMKIND_SUCCESS);
	/* A range meeting another kind's is refused, inside or around. */
	assert_int_equal(memkind_create_fixed(m + page, page, &k2),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_fixed(m, len, &k2),
	    MEMKIND_ERROR_INVALID);
	assert_int_equal(memkind_create_fixed(m + len / 2, len / 2, &k2),
	    MEMKIND_SUCCESS);
	p = memkind_malloc(k2, 1000);
	assert_true(inside(p, 1000, m + len / 2, len / 2));
	assert_ptr_equal(memkind_detect_kind(p), k2);
	/* A pmem kind beside the fixed ones keeps its own blocks. */
	setenv("PMEMTIER_MODE", "standalone", 1);
	assert_int_equal(memkind_create_pmem(fixed_dir, 0, &pk),
	    MEMKIND_SUCCESS);
	assert_ptr_equal(memkind_detect_kind(memkind_malloc(pk, 10)), pk);
	/* A block freed with the wrong kind goes to its own. */
	memkind_free(k, p);
	assert_int_equal(memkind_destroy_kind(pk), MEMKIND_SUCCESS);
	assert_int_equal(memkind_destroy_kind(k2), MEMKIND_SUCCESS);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	assert_int_equal(munmap(m, len), 0);
}

/* A fork child has the caller's mapping, so its fixed kinds go on. */
static void
test_fixed_fork(void **state)
{
	size_t		 len = 16 * MiB;
	char		*m;
	memkind_t	 k = NULL;
	char		*p;
	pid_t		 pid;
	int		 status;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(memkind_create_fixed(m, len, &k), MEMKIND_SUCCESS);
	p = memkind_malloc(k, 100);
	assert_non_null(p);
	strcpy(p, "parent");
	if ((pid = fork()) == 0) {
		char *c = memkind_malloc(k, 100);

		_exit(c == NULL || !inside(c, 100, m, len) ||
		    memkind_detect_kind(c) != k ||
		    memkind_check_available(k) != 0 ||
		    strcmp(p, "parent") != 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	memkind_free(k, p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	assert_int_equal(munmap(m, len), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_anonymous),
		cmocka_unit_test(test_fixed_file),
		cmocka_unit_test(test_fixed_errors),
		cmocka_unit_test(test_fixed_subpage),
		cmocka_unit_test(test_fixed_fork),
	};
	int	rc;

	unsetenv("PMEMTIER_DEBUG");
	if (tu_mkdtemp(fixed_dir, sizeof(fixed_dir), "fixed") != 0)
		return 1;
	rc = cmocka_run_group_tests_name("client_fixed", tests, NULL, NULL);
	tu_rmdir(fixed_dir);
	return rc != 0;
}
