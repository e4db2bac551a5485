/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Freed pmem pages go back to the tier within the kind's decay time, even
 * when the program makes no library call at all or allocates only from the
 * per-thread front cache; CONSERVATIVE gives them back at once; and
 * memkind_set_bg_threads() switches the background purge off and on.
 * Run once per mode:
 *   test_decay standalone   (the kind's temp file in a private directory)
 *   test_decay daemon       (leases of a real pmemtierd)
 * "Pages" are measured as the tier sees them: st_blocks of the lease files
 * this process holds open.
 *
 * The decay time is shortened to DECAY_MS with jemalloc's own knob
 * (arenas.dirty_decay_ms, the default of arenas created afterwards), so
 * each test waits about two seconds rather than ten.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jemalloc/jemalloc.h>
#include <memkind.h>
#include <pmemtier.h>

#include "tmode.h"
#include "tutil.h"

#define MiB		(1024UL * 1024)
#define DECAY_MS	1000
/* Decay time, a timer period or two and the machine's noise. */
#define WAIT_MS		(DECAY_MS + 1500)
#define FILL_BYTES	(64 * MiB)

struct fill {
	void	**p;
	size_t	  n;
};

static memkind_t
new_kind(int policy)
{
	struct memkind_config	*cfg = memkind_config_new();
	memkind_t		 k = NULL;

	assert_non_null(cfg);
	memkind_config_set_path(cfg, tm.dir);
	memkind_config_set_memory_usage_policy(cfg,
	    (memkind_mem_usage_policy)policy);
	assert_int_equal(memkind_create_pmem_with_config(cfg, &k), 0);
	memkind_config_delete(cfg);
	return k;
}

/* Small objects of 32 B to 4 KiB, every page written, FILL_BYTES in all. */
static struct fill
fill_small(memkind_t k, size_t fixed)
{
	static const size_t	 sizes[] = { 32, 48, 64, 128, 200, 512, 1000,
	    2048, 4096 };
	struct fill		 f;
	size_t			 total = 0, cap = FILL_BYTES / 32 + 1, sz;

	f.p = calloc(cap, sizeof(void *));
	assert_non_null(f.p);
	f.n = 0;
	while (total < FILL_BYTES && f.n < cap) {
		sz = fixed ? fixed : sizes[f.n % (sizeof(sizes) /
		    sizeof(sizes[0]))];
		f.p[f.n] = memkind_malloc(k, sz);
		assert_non_null(f.p[f.n]);
		memset(f.p[f.n], 0x5a, sz);
		total += sz;
		f.n++;
	}
	return f;
}

static void
free_all(memkind_t k, struct fill *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		memkind_free(k, f->p[i]);
	free(f->p);
	f->p = NULL;
	f->n = 0;
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long long
blocks(void)
{
	long long	b = tu_file_blocks(tm.dir);

	assert_true(b >= 0);
	return b;
}

/*
 * At most a quarter of what the fill added is still backed. Not nothing:
 * the blocks still cached by this thread keep their slabs, and so their
 * lease, whose never-used tail stays allocated until the lease goes.
 */
static void
assert_returned(const char *what, long long b0, long long b1, long long b2)
{
	print_message("%s: %lld -> %lld -> %lld KiB\n", what, b0 / 1024,
	    b1 / 1024, b2 / 1024);
	assert_true(b1 >= b0 + (long long)(FILL_BYTES / 2));
	assert_true(b2 - b0 <= (b1 - b0) / 4);
}

/* (a) Nothing but sleep after the frees: the background purge does it. */
static void
test_idle_decay(void **state)
{
	memkind_t	k = new_kind(MEMKIND_MEM_USAGE_POLICY_DEFAULT);
	struct fill	f;
	long long	b0, b1, b2;

	b0 = blocks();
	f = fill_small(k, 0);
	b1 = blocks();
	free_all(k, &f);
	sleep_ms(WAIT_MS);
	b2 = blocks();
	assert_returned("idle", b0, b1, b2);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/*
 * (b) After the frees, the program keeps allocating, but only blocks the
 * front cache serves: jemalloc sees no call and so no decay tick.
 */
static void
test_front_cache_decay(void **state)
{
	memkind_t	 k = new_kind(MEMKIND_MEM_USAGE_POLICY_DEFAULT);
	struct fill	 f;
	void		*q[8];
	long long	 b0, b1, b2;
	double		 end;
	unsigned	 i;

	b0 = blocks();
	f = fill_small(k, 64);
	b1 = blocks();
	free_all(k, &f);
	end = mono_ms() + WAIT_MS;
	while (mono_ms() < end) {
		for (i = 0; i < 8; i++) {
			q[i] = memkind_malloc(k, 64);
			assert_non_null(q[i]);
			memset(q[i], 1, 64);
		}
		for (i = 0; i < 8; i++)
			memkind_free(k, q[i]);
		sleep_ms(1);
	}
	b2 = blocks();
	assert_returned("front cache", b0, b1, b2);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/* Nothing left but noise: at most a sixteenth of what the fill added. */
static void
assert_all_returned(const char *what, long long b0, long long b1,
    long long b2)
{
	print_message("%s: %lld -> %lld -> %lld KiB\n", what, b0 / 1024,
	    b1 / 1024, b2 / 1024);
	assert_true(b1 >= b0 + (long long)(FILL_BYTES / 2));
	assert_true(b2 - b0 <= (b1 - b0) / 16);
}

/*
 * (c) CONSERVATIVE: back at once, small objects included, with no block
 * held back by a cache (which would keep its slab and its lease).
 */
static void
test_conservative_at_once(void **state)
{
	memkind_t	k = new_kind(MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE);
	struct fill	f;
	long long	b0, b1, b2;

	b0 = blocks();
	f = fill_small(k, 0);
	b1 = blocks();
	free_all(k, &f);
	b2 = blocks();
	assert_all_returned("conservative", b0, b1, b2);
	/* And through the front-cache path as well: nothing is kept. */
	f = fill_small(k, 64);
	b1 = blocks();
	free_all(k, &f);
	b2 = blocks();
	assert_all_returned("conservative 64 B", b0, b1, b2);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/* (d) Background purge off: the pages stay; on again: they go. */
static void
test_bg_threads_switch(void **state)
{
	memkind_t	k = new_kind(MEMKIND_MEM_USAGE_POLICY_DEFAULT);
	struct fill	f;
	long long	b0, b1, bf, b2;

	assert_int_equal(memkind_set_bg_threads(false), MEMKIND_SUCCESS);
	b0 = blocks();
	f = fill_small(k, 0);
	b1 = blocks();
	free_all(k, &f);
	bf = blocks();
	sleep_ms(WAIT_MS);
	b2 = blocks();
	print_message("bg off: %lld -> %lld -> %lld -> %lld KiB\n", b0 / 1024,
	    b1 / 1024, bf / 1024, b2 / 1024);
	/*
	 * Some pages go during the frees themselves (jemalloc ticks its
	 * decay as blocks reach the arena); without the background purge
	 * not one more goes while the program sleeps.
	 */
	assert_true(bf - b0 > (b1 - b0) / 4);
	assert_true(b2 >= bf);
	assert_int_equal(memkind_set_bg_threads(true), MEMKIND_SUCCESS);
	sleep_ms(WAIT_MS);
	b2 = blocks();
	assert_returned("bg on again", b0, b1, b2);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/* A child's own kind: its pages go back too, from its own purge thread. */
static int
child_decays(void)
{
	memkind_t	k = NULL;
	void		*p[4096];
	long long	b0, b1, b2;
	unsigned	i;

	if (memkind_create_pmem(tm.dir, 0, &k) != 0)
		return 2;
	b0 = tu_file_blocks(tm.dir);
	for (i = 0; i < 4096; i++) {
		if ((p[i] = memkind_malloc(k, 4096)) == NULL)
			return 3;
		memset(p[i], 7, 4096);
	}
	b1 = tu_file_blocks(tm.dir);
	for (i = 0; i < 4096; i++)
		memkind_free(k, p[i]);
	sleep_ms(WAIT_MS);
	b2 = tu_file_blocks(tm.dir);
	if (b1 < b0 + 8 * (long long)MiB || b2 - b0 > (b1 - b0) / 4)
		return 4;
	return memkind_destroy_kind(k) == 0 ? 0 : 5;
}

/* A short-lived child: a kind (and so a purge thread) of its own, exit. */
static int
child_brief(void)
{
	memkind_t	 k = NULL;
	void		*p;

	if (memkind_create_pmem(tm.dir, 0, &k) != 0)
		return 2;
	if ((p = memkind_malloc(k, 100)) == NULL)
		return 3;
	memkind_free(k, p);
	return 0;	/* exit() stops the thread; the kind is left */
}

static void
run_child(int (*fn)(void))
{
	int	status;
	pid_t	pid;

	if ((pid = fork()) == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * (e) Forks while the purge thread is busy returning pages: no fork may
 * hang on a lock the thread held, a child's exit stops its own thread,
 * and a child decays with a thread of its own.
 */
static void
test_fork_while_purging(void **state)
{
	memkind_t	k = new_kind(MEMKIND_MEM_USAGE_POLICY_DEFAULT);
	struct fill	f;
	double		end;
	int		forks = 0;

	f = fill_small(k, 0);
	free_all(k, &f);
	end = mono_ms() + DECAY_MS;
	while (mono_ms() < end) {
		run_child(child_brief);
		forks++;
	}
	print_message("fork: %d children while purging\n", forks);
	run_child(child_decays);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_decay),
		cmocka_unit_test(test_front_cache_decay),
		cmocka_unit_test(test_conservative_at_once),
		cmocka_unit_test(test_bg_threads_switch),
		cmocka_unit_test(test_fork_while_purging),
	};
	ssize_t	decay = DECAY_MS;
	int	rc;

	unsetenv("PMEMTIER_DEBUG");
	if (mallctl("arenas.dirty_decay_ms", NULL, NULL, &decay,
	    sizeof(decay)) != 0) {
		fprintf(stderr, "cannot set arenas.dirty_decay_ms\n");
		return 1;
	}
	if ((rc = tmode_setup(argc, argv, NULL)) != 0)
		return rc;
	rc = cmocka_run_group_tests_name(tm.daemon ? "client_decay_daemon" :
	    "client_decay_standalone", tests, NULL, NULL);
	return tmode_teardown(rc != 0);
}
