/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cache_bench: does a pmem kind's memory follow use? One thread lives the
 * life of a cache on a pmem kind, in phases:
 *   store    N objects of 32 B to 8 KiB (sizes log-uniform), each written
 *   evict    half of them freed, at random
 *   grow     N/2 larger objects, 512 B to 16 KiB
 *   shrink   three quarters of what is live freed, at random
 *   idle     no call at all for IDLE seconds (default 12, past jemalloc's
 *            default decay time of 10 s)
 *   burst    N/5 small allocations, 32 B to 256 B
 *   defrag   one memkind_defrag_reallocate() pass over every live object
 *            (the data moved with it), then idle again
 * After each phase it prints the allocator's time per call (the calls
 * only), the whole phase's time per object (with the first writes of
 * what it stored: where the library maps pages at commit, that cost
 * moves from the writes into the calls), the live bytes asked for, the
 * bytes the tier really holds for this process (st_blocks of the kind's
 * files: lease files or the temp file, found among this process's open
 * descriptors under -d) and, in daemon mode, what the daemon says of its
 * tier (granted bytes, which quotas charge, and physical bytes).
 *
 * Built twice from this source (cache_bench.cmake):
 *   BENCH_PMEMTIER  libpmemtier (mode from PMEMTIER_MODE)
 *   BENCH_MEMKIND   Debian's libmemkind 1.14
 * usage: cache_bench -d dir [-n objects] [-i idle-seconds] [-g on|off]
 * -g calls memkind_set_bg_threads() first: libpmemtier's background purge
 * is on by default (off shows the library without it), memkind's
 * background threads off (on shows memkind with them).
 * cache_bench.sh runs both, libpmemtier in both modes.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <memkind.h>

#ifdef BENCH_PMEMTIER
#include <pmemtier.h>

#include "tclient.h"
static const char *bench_name = "pmemtier";
#else
static const char *bench_name = "memkind-1.14";
#endif

struct obj {
	void	*p;
	size_t	 size;
};

static memkind_t	 kind;
static const char	*dir;
static struct obj	*objs;
static size_t		 nobjs, cap;
static size_t		 live;
static uint64_t		 rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Log-uniform in [lo, hi]: as many 32-64 B objects as 4-8 KiB ones. */
static size_t
rnd_size(size_t lo, size_t hi)
{
	double	u = (double)(rnd() >> 11) / (double)(1ULL << 53);

	return (size_t)((double)lo * pow((double)hi / (double)lo, u));
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* st_blocks of this process's open regular files under dir. */
static long long
tier_physical(void)
{
	struct dirent	*de;
	DIR		*d;
	long long	 total = 0;
	size_t		 dlen = strlen(dir);

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char		link[300], target[4096];
		struct stat	st;
		ssize_t		n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, dir, dlen) != 0 || target[dlen] != '/')
			continue;
		if (stat(link, &st) == 0 && S_ISREG(st.st_mode))
			total += (long long)st.st_blocks * 512;
	}
	closedir(d);
	return total;
}

#ifdef BENCH_PMEMTIER
/* The daemon's view of the tier: granted and physical bytes, or -1. */
static void
daemon_view(long long *granted, long long *physical)
{
	struct pmemtier_kind_info	 info;
	Pmemtier__Envelope		*r;
	const char			*sock = getenv("PMEMTIER_SOCKET");
	size_t				 i;
	int				 s;

	*granted = *physical = -1;
	if (pmemtier_kind_get_info(kind, &info) != 0 ||
	    info.mode != PMEMTIER_MODE_DAEMON || sock == NULL ||
	    (s = tc_open(sock)) < 0)
		return;
	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST);
	if (r != NULL && r->body_case == PMEMTIER__ENVELOPE__BODY_TIER_LIST)
		for (i = 0; i < r->tier_list->n_tiers; i++) {
			Pmemtier__TierInfo *t = r->tier_list->tiers[i];

			if (strcmp(t->name, info.tier) != 0)
				continue;
			*granted = (long long)t->granted;
			/* Shown to admins only; 0 for anyone else. */
			*physical = t->physical ? (long long)t->physical : -1;
		}
	tc_free(r);
	close(s);
}
#else
static void
daemon_view(long long *granted, long long *physical)
{
	*granted = *physical = -1;
}
#endif

/*
 * ns: in the allocator calls only; all: the whole phase, with the
 * program's first writes to what it stored (a library that maps pages
 * at commit moves that cost into the calls).
 */
static void
report_all(const char *phase, size_t ops, double ns, double all)
{
	long long	granted, physical;
	char		g[32] = "-", p[32] = "-";

	daemon_view(&granted, &physical);
	if (granted >= 0)
		snprintf(g, sizeof(g), "%.1f", (double)granted / 1048576);
	if (physical >= 0)
		snprintf(p, sizeof(p), "%.1f", (double)physical / 1048576);
	printf("%-12s %-7s %8zu %8.1f %10.1f %10.1f %10s %10s %8.1f\n",
	    bench_name, phase, ops, ops ? ns / (double)ops : 0.0,
	    (double)live / 1048576, (double)tier_physical() / 1048576, g, p,
	    ops ? all / (double)ops : 0.0);
	fflush(stdout);
}

static void
report(const char *phase, size_t ops, double ns)
{
	report_all(phase, ops, ns, ns);
}

static void
store(const char *phase, size_t n, size_t lo, size_t hi)
{
	double	t0, t = 0, start = now_ns();
	size_t	i, first = nobjs;

	for (i = 0; i < n; i++) {
		size_t sz = rnd_size(lo, hi);

		t0 = now_ns();
		objs[nobjs].p = memkind_malloc(kind, sz);
		t += now_ns() - t0;
		if (objs[nobjs].p == NULL) {
			fprintf(stderr, "cache_bench: %s: out of memory\n",
			    phase);
			exit(1);
		}
		objs[nobjs].size = sz;
		live += sz;
		nobjs++;
	}
	for (i = first; i < nobjs; i++)
		memset(objs[i].p, (int)i, objs[i].size);
	report_all(phase, n, t, now_ns() - start);
}

/* Frees a random share (num/den) of the live objects. */
static void
drop(const char *phase, size_t num, size_t den)
{
	size_t	i, j, n = nobjs * num / den;
	double	t0, t = 0;
	struct obj o;

	/* A partial shuffle puts the victims at the end. */
	for (i = 0; i < n; i++) {
		j = (size_t)(rnd() % (nobjs - i));
		o = objs[j];
		objs[j] = objs[nobjs - 1 - i];
		objs[nobjs - 1 - i] = o;
	}
	for (i = nobjs - n; i < nobjs; i++) {
		t0 = now_ns();
		memkind_free(kind, objs[i].p);
		t += now_ns() - t0;
		live -= objs[i].size;
	}
	nobjs -= n;
	report(phase, n, t);
}

/* One compaction pass: each live object moved where that packs slabs. */
static void
defrag(const char *phase)
{
	size_t	 i, moved = 0;
	double	 t0, t = 0;
	void	*q;

	for (i = 0; i < nobjs; i++) {
		t0 = now_ns();
		q = memkind_defrag_reallocate(kind, objs[i].p);
		t += now_ns() - t0;
		if (q != NULL) {
			objs[i].p = q;
			moved++;
		}
	}
	report(phase, nobjs, t);
	printf("%-12s %-7s moved %zu of %zu objects\n", bench_name, phase,
	    moved, nobjs);
}

static void
idle(unsigned secs)
{
	unsigned	s;

	for (s = 0; s < secs; s++) {
		sleep(1);
		/* The decay time and just past it. */
		if (s + 1 == secs / 2 || s + 1 == secs)
			report(s + 1 == secs ? "idle" : "idle/2", 0, 0);
	}
}

int
main(int argc, char **argv)
{
	size_t		n = 100000;
	unsigned	idle_s = 12;
	const char	*bg = NULL;
	int		c, rc;

	while ((c = getopt(argc, argv, "d:n:i:g:")) != -1)
		switch (c) {
		case 'd': dir = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 'i': idle_s = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'g': bg = optarg; break;
		default:
			fprintf(stderr, "usage: cache_bench -d dir [-n objects] "
			    "[-i idle-seconds] [-g on|off]\n");
			return 2;
		}
	if (dir == NULL) {
		fprintf(stderr, "cache_bench: -d dir is needed\n");
		return 2;
	}
	if (bg != NULL && memkind_set_bg_threads(strcmp(bg, "on") == 0) !=
	    MEMKIND_SUCCESS) {
		fprintf(stderr, "cache_bench: memkind_set_bg_threads failed\n");
		return 1;
	}
	if ((rc = memkind_create_pmem(dir, 0, &kind)) != 0) {
		fprintf(stderr, "cache_bench: memkind_create_pmem: %d\n", rc);
		return 1;
	}
	cap = n + n / 2 + n / 5 + 1;
	if ((objs = calloc(cap, sizeof(*objs))) == NULL)
		return 1;
	printf("%-12s %-7s %8s %8s %10s %10s %10s %10s %8s\n", "allocator",
	    "phase", "ops", "ns/op", "live MiB", "file MiB", "granted",
	    "physical", "phase/op");
	report("start", 0, 0);
	store("store", n, 32, 8192);
	drop("evict", 1, 2);
	store("grow", n / 2, 512, 16384);
	drop("shrink", 3, 4);
	idle(idle_s);
	store("burst", n / 5, 32, 256);
	defrag("defrag");
	idle(idle_s);
	while (nobjs > 0)
		memkind_free(kind, objs[--nobjs].p);
	free(objs);
	memkind_destroy_kind(kind);
	return 0;
}
