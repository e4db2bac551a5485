/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpmemtier-preload.so. Usage: test_client_preload MODE PRELOAD_SO.
 *
 * The driver sets MEMKIND_MEM_TIERS for a DRAM 1:4 tier split (standalone:
 * KIND:FS_DAX on a private directory; daemon: KIND:PMEMTIER on the test
 * daemon's "pmem" tier) and runs, under LD_PRELOAD:
 *  - itself with PL_CHILD=1, where the edge cases run in the preloaded
 *    process (malloc(0), memalign with odd alignments, realloc across
 *    tiers, glibc's own blocks freed, fork without exec, the ratio);
 *  - real programs (ls, grep, sort of a big file, python3), whose output
 *    must equal a run without the preload and whose PMEMTIER_DEBUG line
 *    must show bytes on the tier.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <memkind.h>

#include "tmode.h"
#include "tutil.h"

extern void	*__libc_malloc(size_t);
unsigned long long pmemtier_preload_fallbacks(void);

static const char	*preload_so;
static char		 self[4096];
static char		 work[320];

/* --- in the preloaded child --- */

static bool
on_tier(void *p)
{
	memkind_t	k = memkind_detect_kind(p);

	return k != NULL && k != MEMKIND_DEFAULT;
}

static void
test_malloc_zero(void **state)
{
	void	*p[64];
	int	 i, j;

	(void)state;
	for (i = 0; i < 64; i++) {
		assert_non_null(p[i] = malloc(0));
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(p[i], p[j]);
	}
	for (i = 0; i < 64; i++)
		free(p[i]);
	assert_non_null(p[0] = calloc(0, 0));
	free(p[0]);
	assert_non_null(p[0] = realloc(NULL, 0));
	assert_null(realloc(p[0], 0));	/* freed, as glibc's */
}

/* Both tiers: odd alignments round up as glibc's memalign does. */
static void
test_alignments(void **state)
{
	static const size_t al[] = { 1, 3, 7, 24, 100, 4095, 4096, 65536 };
	size_t	i, want;
	int	j;
	void	*p;

	(void)state;
	for (i = 0; i < sizeof(al) / sizeof(al[0]); i++)
		for (j = 0; j < 20; j++) {
			assert_non_null(p = memalign(al[i], 100 + 500 * j));
			for (want = 1; want < al[i]; want <<= 1)
				;
			assert_int_equal((uintptr_t)p % want, 0);
			memset(p, 1, 100 + 500 * j);
			free(p);
		}
	errno = 0;
	assert_null(aligned_alloc(3, 64));
	assert_int_equal(errno, EINVAL);
	assert_non_null(p = aligned_alloc(256, 1000));
	assert_int_equal((uintptr_t)p % 256, 0);
	free(p);
	assert_int_equal(posix_memalign(&p, 3, 10), EINVAL);
	assert_int_equal(posix_memalign(&p, 4, 10), EINVAL);
	assert_int_equal(posix_memalign(&p, 128, 10), 0);
	assert_int_equal((uintptr_t)p % 128, 0);
	free(p);
	assert_non_null(p = valloc(10));
	assert_int_equal((uintptr_t)p % 4096, 0);
	free(p);
	assert_non_null(p = pvalloc(4097));
	assert_int_equal((uintptr_t)p % 4096, 0);
	assert_true(malloc_usable_size(p) >= 8192);
	free(p);
}

/* The ratio asked for (1:4) over many blocks, within 10%. */
static void
test_ratio(void **state)
{
	static void	*p[20000];
	size_t		 tier = 0, dram = 0, i;
	double		 r;

	(void)state;
	for (i = 0; i < 20000; i++) {
		assert_non_null(p[i] = malloc(2000));
		memset(p[i], 2, 2000);
		if (on_tier(p[i]))
			tier += malloc_usable_size(p[i]);
		else
			dram += malloc_usable_size(p[i]);
	}
	r = (double)tier / (double)dram;
	print_message("tier %zu dram %zu ratio %.3f\n", tier, dram, r);
	assert_true(r > 4 * 0.9 && r < 4 * 1.1);
	for (i = 0; i < 20000; i++)
		free(p[i]);
}

/* A tier block grows and shrinks in place of kind; DRAM ones too. */
static void
test_realloc_tiers(void **state)
{
	void	*(*volatile ra)(void *, size_t, size_t) = reallocarray;
	void	*(*volatile ca)(size_t, size_t) = calloc;
	volatile size_t huge = SIZE_MAX / 2;
	static void *keep[2000];
	char	*t = NULL, *d = NULL, *p;
	int	 i;

	(void)state;
	/*
	 * One block of each; the policy sees counts that lag by up to 50 KB
	 * a thread, so keep allocating (and hold on) until both came.
	 */
	for (i = 0; i < 2000 && (t == NULL || d == NULL); i++) {
		assert_non_null(p = malloc(300));
		if (on_tier(p) && t == NULL)
			t = p;
		else if (!on_tier(p) && d == NULL)
			d = p;
		else
			keep[i] = p;
	}
	for (i = 0; i < 2000; i++)
		free(keep[i]);
	assert_non_null(t);
	assert_non_null(d);
	tu_fill(t, 300, 5);
	tu_fill(d, 300, 6);
	assert_non_null(t = realloc(t, 1 << 20));
	assert_true(on_tier(t));
	assert_int_equal(tu_check(t, 300, 5), 0);
	assert_non_null(d = realloc(d, 1 << 20));
	assert_false(on_tier(d));
	assert_int_equal(tu_check(d, 300, 6), 0);
	assert_non_null(t = reallocarray(t, 10, 10));
	assert_int_equal(tu_check(t, 100, 5), 0);
	/* Overflows: through pointers the compiler cannot see through. */
	errno = 0;
	assert_null(ra(d, huge, 4));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(ca(huge, 4));
	assert_int_equal(errno, ENOMEM);
	free(t);
	free(d);
}

/* Blocks the preload did not make: glibc's own, freed and resized. */
static void
test_foreign(void **state)
{
	char	*p;

	(void)state;
	assert_non_null(p = __libc_malloc(100));
	assert_false(on_tier(p));
	assert_true(malloc_usable_size(p) >= 100);
	tu_fill(p, 100, 7);
	assert_non_null(p = realloc(p, 5000));
	assert_int_equal(tu_check(p, 100, 7), 0);
	free(p);
	free(__libc_malloc(10));
	free(NULL);
	/* strdup, fopen and the like: libc's internal calls come here too. */
	free(strdup("x"));
}

/*
 * A child that does not exec has the parent's tier blocks as they were at
 * the fork (not as the parent changes them after), reads, resizes and
 * frees them.
 */
static void
test_fork(void **state)
{
	char	*t[50];
	pid_t	 pid;
	int	 i, st, go[2];

	(void)state;
	for (i = 0; i < 50; i++) {
		assert_non_null(t[i] = malloc(4000));
		tu_fill(t[i], 4000, (unsigned)i);
	}
	assert_int_equal(pipe(go), 0);
	if ((pid = fork()) == 0) {
		char	*q, c;

		/* The parent overwrites the blocks now: not seen here. */
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(9);
		for (i = 0; i < 50; i++) {
			if (tu_check(t[i], 4000, (unsigned)i) != 0)
				_exit(10);
			t[i][0] ^= 1;	/* private to the child */
			if ((q = realloc(t[i], 8000)) == NULL)
				_exit(11);
			q[0] ^= 1;
			if (tu_check(q, 4000, (unsigned)i) != 0)
				_exit(12);
			free(q);
			if ((q = malloc(100)) == NULL)
				_exit(13);
			memset(q, 0, 100);
			free(q);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	close(go[0]);
	for (i = 0; i < 50; i++)
		tu_fill(t[i], 4000, (unsigned)i + 1000);
	assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* The child's writes stayed its own. */
	for (i = 0; i < 50; i++) {
		assert_int_equal(tu_check(t[i], 4000, (unsigned)i + 1000), 0);
		free(t[i]);
	}
}

struct worker {
	unsigned	 seed;
	void		*out[256];
};

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	void		*p[256] = { 0 };
	unsigned	 i, j;
	size_t		 n;

	for (i = 0; i < 40000; i++) {
		j = rand_r(&w->seed) % 256;
		free(p[j]);
		n = 1 + rand_r(&w->seed) % 9000;
		switch (i % 4) {
		case 0:
			p[j] = malloc(n);
			break;
		case 1:
			p[j] = calloc(1, n);
			break;
		case 2:
			p[j] = memalign(64, n);
			break;
		default:
			p[j] = realloc(malloc(10), n);
			break;
		}
		if (p[j] == NULL)
			return (void *)1;
		memset(p[j], (int)j, n);
	}
	/* The main thread frees what is left. */
	memcpy(w->out, p, sizeof(p));
	return NULL;
}

/* Four threads on both tiers; blocks freed by another thread. */
static void
test_threads(void **state)
{
	struct worker	w[4];
	pthread_t	t[4];
	void		*rv;
	int		i, j;

	(void)state;
	for (i = 0; i < 4; i++) {
		w[i].seed = (unsigned)i + 7;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
		    0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
		for (j = 0; j < 256; j++)
			free(w[i].out[j]);
	}
}

static int
run_child(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malloc_zero),
		cmocka_unit_test(test_alignments),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_realloc_tiers),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("client_preload_child", tests,
	    NULL, NULL);
}

/* --- the driver --- */

/*
 * Runs argv with stdout to out and stderr to err (files in work), with
 * or without the preload; returns the exit status.
 */
static int
run(char *const argv[], bool preload, const char *out, const char *err)
{
	char	path[400];
	pid_t	pid;
	int	st, fd;

	if ((pid = fork()) == 0) {
		snprintf(path, sizeof(path), "%s/%s", work, out);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		snprintf(path, sizeof(path), "%s/%s", work, err);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		if (preload)
			setenv("LD_PRELOAD", preload_so, 1);
		else
			unsetenv("LD_PRELOAD");
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *
slurp(const char *name)
{
	char	 path[400], *buf;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", work, name);
	assert_non_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* The bytes the preload's PMEMTIER_DEBUG exit line says went to a tier. */
static unsigned long long
tier_bytes(const char *err)
{
	char			*s = slurp(err), *p;
	unsigned long long	 n = 0;

	if ((p = strstr(s, "tier bytes allocated ")) != NULL)
		n = strtoull(p + 21, NULL, 10);
	else
		print_message("no preload line in:\n%s\n", s);
	free(s);
	return n;
}

/* Same output as without the preload, and some of it on the tier. */
static void
same_output(char *const argv[], unsigned long long min_tier)
{
	unsigned long long	 n;
	char			*a, *b;

	assert_int_equal(run(argv, false, "plain.out", "plain.err"), 0);
	assert_int_equal(run(argv, true, "pre.out", "pre.err"), 0);
	a = slurp("plain.out");
	b = slurp("pre.out");
	assert_string_equal(a, b);
	n = tier_bytes("pre.err");
	print_message("%s: %llu bytes on the tier\n", argv[0], n);
	assert_true(n >= min_tier);
	free(a);
	free(b);
}

static void
test_edge_cases(void **state)
{
	char	*argv[] = { self, NULL };
	char	*log;
	int	 rc;

	(void)state;
	setenv("PL_CHILD", "1", 1);
	rc = run(argv, true, "child.out", "child.err");
	unsetenv("PL_CHILD");
	if (rc != 0) {
		log = slurp("child.err");
		print_message("%s", log);
		free(log);
		log = slurp("child.out");
		print_message("%s", log);
		free(log);
	}
	assert_int_equal(rc, 0);
}

static void
test_ls(void **state)
{
	char	*argv[] = { "ls", "-la", "/usr/bin", NULL };

	(void)state;
	same_output(argv, 1);
}

static void
test_sort_grep(void **state)
{
	char	 path[400];
	char	*sort[] = { "sort", "-n", path, NULL };
	char	*grep[] = { "grep", "-c", "-E", "7.*3$", path, NULL };
	FILE	*f;
	unsigned i, x = 1;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.txt", work);
	assert_non_null(f = fopen(path, "w"));
	for (i = 0; i < 400000; i++) {
		x = x * 1103515245 + 12345;
		fprintf(f, "%u line %u\n", x % 1000000, i);
	}
	fclose(f);
	same_output(sort, 8 << 20);
	same_output(grep, 1);
}

static void
test_python(void **state)
{
	char	*argv[] = { "/usr/bin/python3", "-c",
	    "import subprocess, os\n"
	    "d = {i: str(i) * 20 for i in range(200000)}\n"
	    "print(sum(len(v) for v in d.values()))\n"
	    "print(subprocess.run(['echo', 'sub'], capture_output=True)"
	    ".stdout.decode().strip())\n"
	    "pid = os.fork()\n"
	    "if pid == 0:\n"
	    "    os._exit(0 if d[199999] == '199999' * 20 else 3)\n"
	    "print(os.waitpid(pid, 0)[1])\n", NULL };

	(void)state;
	if (access(argv[0], X_OK) != 0)
		skip();
	same_output(argv, 4 << 20);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_ls),
		cmocka_unit_test(test_sort_grep),
		cmocka_unit_test(test_python),
	};
	char	tiers[800];
	ssize_t	n;
	int	rc;

	if (getenv("PL_CHILD") != NULL)
		return run_child();
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODE PRELOAD_SO\n", argv[0]);
		return 1;
	}
	preload_so = argv[2];
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return 1;
	self[n] = '\0';
	unsetenv("PMEMTIER_DEBUG");
	if ((rc = tmode_setup(argc, argv, NULL)) != 0)
		return rc;
	if (tu_mkdtemp(work, sizeof(work), "preload") != 0)
		return tmode_teardown(1);
	if (tm.daemon)
		snprintf(tiers, sizeof(tiers), "KIND:DRAM,RATIO:1;"
		    "KIND:PMEMTIER,TIER:pmem,RATIO:4;POLICY:STATIC_RATIO");
	else
		snprintf(tiers, sizeof(tiers), "KIND:DRAM,RATIO:1;"
		    "KIND:FS_DAX,PATH:%s,PMEM_SIZE:1G,RATIO:4;"
		    "POLICY:STATIC_RATIO", tm.dir);
	setenv("MEMKIND_MEM_TIERS", tiers, 1);
	setenv("PMEMTIER_DEBUG", "1", 1);
	rc = cmocka_run_group_tests_name(tm.daemon ? "client_preload_daemon" :
	    "client_preload_standalone", tests, NULL, NULL);
	unsetenv("PMEMTIER_DEBUG");
	tu_rmdir(work);
	return tmode_teardown(rc != 0);
}
