/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc_bench: malloc+free pairs per second for one allocator, built four
 * times (see alloc_bench.cmake):
 *   BENCH_GLIBC     malloc/free of a binary not linked with jemalloc
 *   BENCH_JEMALLOC  malloc/free with libjemalloc linked in
 *   BENCH_MEMKIND   Debian's libmemkind 1.14 pmem kind
 *   BENCH_PMEMTIER  libpmemtier's pmem kind (mode from PMEMTIER_MODE)
 * Each thread keeps a ring of LIVE objects and replaces one per pair, so the
 * allocator always has live blocks around, as a real program would.
 * Time is each thread's CPU time (CLOCK_THREAD_CPUTIME_ID): the build
 * machines are shared, and wall time would measure the neighbours. The
 * pairs/s of a case is the sum of its threads' rates.
 *
 * usage: alloc_bench [-d dir] [-n pairs] [-r repeats]
 * Output, one line per case: <allocator> <variant> <size> <threads> <ns/pair>
 * <pairs/s>. alloc_bench.sh runs all four and prints ratios.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(BENCH_MEMKIND) || defined(BENCH_PMEMTIER)
#include <memkind.h>
#define BENCH_KIND	1
#endif

#define LIVE	1000

#if defined(BENCH_GLIBC)
static const char *bench_name = "glibc";
#elif defined(BENCH_JEMALLOC)
static const char *bench_name = "jemalloc";
#elif defined(BENCH_MEMKIND)
static const char *bench_name = "memkind-1.14";
#else
static const char *bench_name = "pmemtier";
#endif

struct job {
	size_t		size;
	long		pairs;
	int		free_null;
	double		secs;
	pthread_barrier_t *start;
};

#ifdef BENCH_KIND
static memkind_t bench_kind;
#endif

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void *
bench_alloc(size_t size)
{
#ifdef BENCH_KIND
	return memkind_malloc(bench_kind, size);
#else
	return malloc(size);
#endif
}

static inline void
bench_free(void *p, int free_null)
{
#ifdef BENCH_KIND
	memkind_free(free_null ? NULL : bench_kind, p);
#else
	(void)free_null;
	free(p);
#endif
}

static void *
bench_thread(void *arg)
{
	struct job	*j = arg;
	void		*ring[LIVE];
	long		 i;
	double		 t0;

	for (i = 0; i < LIVE; i++)
		if ((ring[i] = bench_alloc(j->size)) == NULL)
			abort();
	pthread_barrier_wait(j->start);
	t0 = now();
	for (i = 0; i < j->pairs; i++) {
		unsigned	 s = (unsigned)(i % LIVE);
		char		*p;

		bench_free(ring[s], j->free_null);
		if ((p = bench_alloc(j->size)) == NULL)
			abort();
		*p = (char)i;	/* touch it, as a program would */
		ring[s] = p;
	}
	j->secs = now() - t0;
	for (i = 0; i < LIVE; i++)
		bench_free(ring[i], j->free_null);
	return NULL;
}

/* Best of repeats of the summed per-thread rates; *ns: mean ns/pair. */
static double
bench_run(size_t size, int threads, long pairs, int repeats, int free_null,
    double *ns)
{
	pthread_barrier_t	 b;
	pthread_t		 tid[2];
	struct job		 job[2];
	double			 best = 0;
	int			 r, t;

	for (r = 0; r < repeats; r++) {
		double	rate = 0, secs = 0;

		pthread_barrier_init(&b, NULL, (unsigned)threads);
		for (t = 0; t < threads; t++) {
			job[t] = (struct job){ size, pairs, free_null, 0, &b };
			pthread_create(&tid[t], NULL, bench_thread, &job[t]);
		}
		for (t = 0; t < threads; t++) {
			pthread_join(tid[t], NULL);
			rate += (double)pairs / job[t].secs;
			secs += job[t].secs;
		}
		pthread_barrier_destroy(&b);
		if (rate > best) {
			best = rate;
			*ns = secs * 1e9 / ((double)pairs * threads);
		}
	}
	return best;
}

static void
bench_case(const char *variant, size_t size, int threads, long pairs,
    int repeats, int free_null)
{
	double	ns = 0;
	double	rate = bench_run(size, threads, pairs, repeats, free_null, &ns);

	printf("%s %s %zu %d %.2f %.0f\n", bench_name, variant, size, threads,
	    ns, rate);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char	*dir = "/tmp";
	long		 pairs = 2000000;
	int		 repeats = 3, c, t;
	size_t		 sizes[] = { 64, 4096 }, s;

	while ((c = getopt(argc, argv, "d:n:r:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			pairs = atol(optarg);
			break;
		case 'r':
			repeats = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-d dir] [-n pairs] "
			    "[-r repeats]\n", argv[0]);
			return 2;
		}
	}
#ifdef BENCH_KIND
	if ((c = memkind_create_pmem(dir, 0, &bench_kind)) != 0) {
		char	msg[MEMKIND_ERROR_MESSAGE_SIZE];

		memkind_error_message(c, msg, sizeof(msg));
		fprintf(stderr, "%s: memkind_create_pmem(%s): %s\n", argv[0],
		    dir, msg);
		return 1;
	}
#else
	(void)dir;
#endif
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (t = 1; t <= 2; t++) {
			bench_case("free(kind)", sizes[s], t, pairs, repeats,
			    0);
#ifdef BENCH_KIND
			bench_case("free(NULL)", sizes[s], t, pairs, repeats,
			    1);
#endif
		}
#ifdef BENCH_KIND
	memkind_destroy_kind(bench_kind);
#endif
	return 0;
}
