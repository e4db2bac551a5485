/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease_bench: how fast pmemtierd hands out leases, and what idle clients
 * cost it. N client processes loop request -> fd received -> mmap ->
 * munmap -> release against a real daemon pinned to one core (clients on
 * the others when there are others). Prints grants/s and round-trip
 * p50/p99 at 1, 8 and 64 clients, the same loop without a daemon
 * (memfd/O_TMPFILE made in-process) as the baseline, and the daemon's RSS
 * with 1000 idle clients connected.
 *
 *	lease_bench [seconds per point (default 2)] [lease size KiB (default 64)]
 *	    [nopin]
 *
 * "nopin" leaves the scheduler to place daemon and clients (on a VM,
 * cross-CPU wake-ups can cost more than the work itself).
 *
 * Needs PMEMTIERD (or PMEMTIER_BUILD_DIR) like the tests.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tclient.h"
#include "testd.h"

#define SAMPLES_PER_CLIENT	20000

struct result {
	uint64_t	grants;
	uint64_t	failures;
	uint32_t	nsamples;
	uint32_t	samples[SAMPLES_PER_CLIENT];	/* ns */
};

static double	bench_secs = 2.0;
static int	bench_pin = 1;
static uint64_t	lease_size = 64 * 1024;

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
pin(pid_t pid, int cpu)
{
	cpu_set_t	set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(pid, sizeof(set), &set);
}

/* One lease cycle; returns 0 on success. */
static int
cycle(int s, const char *tier)
{
	uint64_t	 id, size;
	void		*p;
	int		 fd;

	if (tc_lease(s, tier, lease_size, &id, &size, &fd) != 0)
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED)
		munmap(p, size);
	close(fd);
	return tc_release(s, id) == 0 && p != MAP_FAILED ? 0 : -1;
}

/* The same work with no daemon: make the object here. */
static int
cycle_local(int dirfd, int kmem)
{
	void	*p;
	int	 fd;

	if (kmem) {
		fd = memfd_create("b", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, (off_t)lease_size) != 0)
			return -1;
	} else {
		fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0 || posix_fallocate(fd, 0, (off_t)lease_size) != 0)
			return -1;
	}
	p = mmap(NULL, lease_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED)
		munmap(p, lease_size);
	close(fd);
	return 0;
}

static void
client(const char *sock, const char *tier, int go, struct result *r,
    int local_dirfd)
{
	uint64_t	t0, t1, end;
	char		c;
	int		s = -1;

	if (local_dirfd < -1 + 0 && 0)
		return;
	if (local_dirfd == -2 && (s = tc_open(sock)) < 0)
		_exit(1);
	if (read(go, &c, 1) != 1)
		_exit(1);
	end = now_ns() + (uint64_t)(bench_secs * 1e9);
	do {
		t0 = now_ns();
		if ((local_dirfd == -2 ? cycle(s, tier) :
		    cycle_local(local_dirfd, strcmp(tier, "kmem") == 0)) != 0)
			r->failures++;
		else
			r->grants++;
		t1 = now_ns();
		if (r->nsamples < SAMPLES_PER_CLIENT)
			r->samples[r->nsamples++] = (uint32_t)(t1 - t0);
	} while (t1 < end);
	_exit(0);
}

/* Nanoseconds pid has run on a CPU (/proc/PID/schedstat), 0 if unknown. */
static uint64_t
cpu_ns(pid_t pid)
{
	unsigned long long	 ns = 0;
	char			 path[64];
	FILE			*f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static pid_t	daemon_pid;

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Runs n clients for bench_secs; local_dirfd -2 = through the daemon,
 * otherwise the in-process baseline. Prints one line; returns grants/s.
 */
static double
run_point(const char *label, const char *sock, const char *tier, int n,
    int local_dirfd, int ncpu)
{
	struct result	*res;
	uint32_t	*all;
	uint64_t	 grants = 0, fails = 0, t0, t1, c0, c1;
	size_t		 total = 0, i, k;
	int		 go[2], j;
	pid_t		*pids;

	res = mmap(NULL, sizeof(*res) * (size_t)n, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pids = calloc((size_t)n, sizeof(*pids));
	if (res == MAP_FAILED || pids == NULL || pipe(go) != 0) {
		perror("lease_bench");
		exit(1);
	}
	fflush(NULL);
	for (j = 0; j < n; j++) {
		if ((pids[j] = fork()) == 0) {
			close(go[1]);
			if (bench_pin && ncpu > 1)
				pin(0, 1 + j % (ncpu - 1));
			client(sock, tier, go[0], &res[j], local_dirfd);
		}
	}
	close(go[0]);
	usleep(200000);
	c0 = cpu_ns(local_dirfd == -2 ? daemon_pid : 0);
	t0 = now_ns();
	for (j = 0; j < n; j++)
		if (write(go[1], "g", 1) != 1)
			perror("lease_bench: write");
	for (j = 0; j < n; j++)
		waitpid(pids[j], NULL, 0);
	t1 = now_ns();
	c1 = cpu_ns(local_dirfd == -2 ? daemon_pid : 0);
	close(go[1]);
	for (j = 0; j < n; j++) {
		grants += res[j].grants;
		fails += res[j].failures;
		total += res[j].nsamples;
	}
	all = malloc(total * sizeof(*all) + 1);
	for (j = 0, k = 0; j < n; j++)
		for (i = 0; i < res[j].nsamples; i++)
			all[k++] = res[j].samples[i];
	qsort(all, total, sizeof(*all), cmp_u32);
	printf("%-22s %3d clients  %9.0f grants/s  p50 %7.1f us  p99 %7.1f us"
	    "%s\n", label, n, (double)grants / ((double)(t1 - t0) / 1e9),
	    total ? all[total / 2] / 1000.0 : 0,
	    total ? all[total * 99 / 100] / 1000.0 : 0,
	    fails ? "  (failures!)" : "");
	/*
	 * The daemon's own CPU time per grant says what one core could do
	 * whatever else the machine runs (a grant is two requests).
	 */
	if (c1 > c0 && grants > 0)
		printf("%-22s              daemon CPU %.1f us/grant: %.0f "
		    "grants/s per daemon core\n", "",
		    (double)(c1 - c0) / 1000.0 / (double)grants,
		    1e9 * (double)grants / (double)(c1 - c0));
	free(all);
	free(pids);
	munmap(res, sizeof(*res) * (size_t)n);
	return (double)grants / ((double)(t1 - t0) / 1e9);
}

static long
rss_kib(pid_t pid)
{
	char	 path[64], line[256];
	long	 kib = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void
idle_clients(struct testd *d, int n)
{
	long	 before, after;
	int	*s, i, ok = 0;

	s = calloc((size_t)n, sizeof(*s));
	before = rss_kib(d->pid);
	for (i = 0; i < n; i++)
		if ((s[i] = tc_open(d->socket)) >= 0)
			ok++;
	usleep(200000);
	after = rss_kib(d->pid);
	printf("daemon RSS: %ld KiB with no client, %ld KiB with %d idle "
	    "clients (%.1f KiB per client)\n", before, after, ok,
	    ok ? (double)(after - before) / ok : 0.0);
	for (i = 0; i < n; i++)
		if (s[i] >= 0)
			close(s[i]);
	free(s);
}

int
main(int argc, char *argv[])
{
	static const int	 points[] = { 1, 8, 64 };
	struct testd		 d;
	struct rlimit		 rl;
	char			 extra[256];
	double			 base, via;
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int			 dirfd;
	size_t			 i;

	if (argc > 1)
		bench_secs = atof(argv[1]);
	if (argc > 2)
		lease_size = strtoull(argv[2], NULL, 0) * 1024;
	if (argc > 3 && strcmp(argv[3], "nopin") == 0)
		bench_pin = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(extra, sizeof(extra), "[daemon]\nmax_connections_per_uid = "
	    "2000\nlog_level = warning\n");
	if (testd_start(&d, extra) != 0)
		return 1;
	daemon_pid = d.pid;
	/* The daemon gets core 0 to itself; the clients share the rest. */
	if (bench_pin)
		pin(d.pid, 0);
	printf("lease_bench: %.1f s per point, %llu KiB leases, %ld cpus, "
	    "%s\n", bench_secs, (unsigned long long)(lease_size / 1024), ncpu,
	    bench_pin ? "daemon pinned to cpu 0, clients to the others" :
	    "not pinned");

	dirfd = open(d.tierdir, O_RDONLY | O_DIRECTORY);
	base = run_point("baseline file (local)", NULL, "pmem", 1, dirfd,
	    (int)ncpu);
	via = run_point("pmemtierd file tier", d.socket, "pmem", 1, -2,
	    (int)ncpu);
	printf("  one client: a lease through the daemon costs %.1fx the "
	    "local file work\n", base / via);
	for (i = 1; i < sizeof(points) / sizeof(points[0]); i++)
		run_point("pmemtierd file tier", d.socket, "pmem", points[i],
		    -2, (int)ncpu);
	base = run_point("baseline memfd (local)", NULL, "kmem", 1, dirfd,
	    (int)ncpu);
	via = run_point("pmemtierd kmem tier", d.socket, "kmem", 1, -2,
	    (int)ncpu);
	printf("  one client: a lease through the daemon costs %.1fx the "
	    "local memfd work\n", base / via);
	for (i = 1; i < sizeof(points) / sizeof(points[0]); i++)
		run_point("pmemtierd kmem tier", d.socket, "kmem", points[i],
		    -2, (int)ncpu);
	close(dirfd);
	idle_clients(&d, 1000);
	return testd_stop(&d) == 0 ? 0 : 1;
}
