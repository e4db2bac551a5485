/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpmemtier against a real pmemtierd: leases and usage in the daemon's
 * Status, release on destroy, quota refusal, tier selection by directory,
 * kmem pages on their node, fork, and the modes' failure paths. Each test
 * gets its own daemon (testd fixture).
 */
#include <errno.h>
#include <numaif.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <memkind.h>
#include <pmemtier.h>

#include "tclient.h"
#include "testd.h"
#include "tutil.h"

#define MiB	(1024UL * 1024)

/* Under AddressSanitizer, malloc is ASan's, not jemalloc's. */
#ifdef __SANITIZE_ADDRESS__
#define MALLOC_IS_JEMALLOC	0
#else
#define MALLOC_IS_JEMALLOC	1
#endif

static struct testd	td;
static char		shmdir[128];

static int
start(const char *extra)
{
	if (testd_start(&td, extra) != 0)
		return -1;
	setenv("PMEMTIER_SOCKET", td.socket, 1);
	setenv("PMEMTIER_MODE", "daemon", 1);
	return 0;
}

static int
setup(void **state)
{
	return start(NULL);
}

static int
teardown(void **state)
{
	return testd_stop(&td) == 0 ? 0 : -1;
}

/* What the daemon says about this process: leases and granted bytes. */
struct seen {
	size_t		leases;		/* of this pid, any label */
	size_t		labelled;	/* of this pid with the label asked */
	uint64_t	bytes;		/* sum of those leases' sizes */
	uint64_t	charged;	/* and of their charges */
	uint64_t	physical;	/* and of what their files hold */
	uint64_t	allocated;	/* usage reported for the label */
	int		clients;	/* connections of this pid */
};

static struct seen
daemon_view(pid_t pid, const char *label)
{
	struct seen		 s = { 0 };
	Pmemtier__Envelope	*env;
	Pmemtier__Status	*st;
	size_t			 i, j;
	int			 sock;

	sock = tc_open(td.socket);
	assert_true(sock >= 0);
	env = tc_status(sock, 0, 0);
	assert_non_null(env);
	assert_int_equal(env->body_case, PMEMTIER__ENVELOPE__BODY_STATUS);
	st = env->status;
	for (i = 0; i < st->n_leases; i++) {
		Pmemtier__LeaseStatus *l = st->leases[i];

		if (l->pid != pid)
			continue;
		s.leases++;
		if (label != NULL && strcmp(l->label, label) == 0) {
			s.labelled++;
			s.bytes += l->size;
			s.charged += l->charged;
			s.physical += l->physical;
		}
	}
	for (i = 0; i < st->n_clients; i++) {
		Pmemtier__ClientStatus *c = st->clients[i];

		/* Not counting the connection asking for this status. */
		if (c->principal == NULL || c->principal->pid != pid ||
		    c->client_name == NULL ||
		    strncmp(c->client_name, "libpmemtier", 11) != 0)
			continue;
		s.clients++;
		for (j = 0; label != NULL && j < c->n_usage; j++)
			if (strcmp(c->usage[j]->kind, label) == 0)
				s.allocated = c->usage[j]->allocated;
	}
	tc_free(env);
	close(sock);
	return s;
}

static memkind_t
new_kind(const char *dir, size_t max, struct pmemtier_kind_info *info)
{
	memkind_t	k = NULL;

	assert_int_equal(memkind_create_pmem(dir, max, &k), MEMKIND_SUCCESS);
	assert_int_equal(pmemtier_kind_get_info(k, info), MEMKIND_SUCCESS);
	assert_int_equal(info->mode, PMEMTIER_MODE_DAEMON);
	return k;
}

static void
test_leases_usage_and_release(void **state)
{
	struct pmemtier_kind_info	 i1, i2;
	memkind_t			 k1, k2;
	struct seen			 s;
	void				*p1, *p2;

	k1 = new_kind(td.tierdir, 0, &i1);
	k2 = new_kind(td.tierdir, 0, &i2);
	p1 = memkind_malloc(k1, 20 * MiB);
	p2 = memkind_malloc(k2, 30 * MiB);
	assert_non_null(p1);
	assert_non_null(p2);
	memset(p1, 1, 20 * MiB);
	memset(p2, 2, 30 * MiB);
	assert_int_equal(pmemtier_kind_get_info(k1, &i1), 0);
	assert_int_equal(pmemtier_kind_get_info(k2, &i2), 0);
	/* The daemon sees our leases under the kinds' names ... */
	s = daemon_view(getpid(), i1.name);
	assert_int_equal(s.labelled, i1.leases);
	assert_int_equal(s.bytes, i1.leased);
	assert_int_equal(s.clients, 1);		/* one connection for both */
	/* ... and the usage we reported when the lease came. */
	assert_true(s.allocated >= 20 * MiB);
	s = daemon_view(getpid(), i2.name);
	assert_int_equal(s.bytes, i2.leased);
	assert_true(s.allocated >= 30 * MiB);
	/* Destroying k1 releases its leases, k2's stay. */
	assert_int_equal(memkind_destroy_kind(k1), MEMKIND_SUCCESS);
	s = daemon_view(getpid(), i1.name);
	assert_int_equal(s.labelled, 0);
	assert_int_equal(s.leases, i2.leases);
	assert_int_equal(s.clients, 1);
	memkind_free(NULL, p2);
	assert_int_equal(memkind_destroy_kind(k2), MEMKIND_SUCCESS);
	s = daemon_view(getpid(), i2.name);
	assert_int_equal(s.leases, 0);
	/* No kind left: the connection is closed as well. */
	assert_int_equal(s.clients, 0);
}

/*
 * memkind allows 512 kinds. A process with 300 daemon-mode kinds reports
 * their usage (the first ones by name, the rest summed per tier), and
 * keeps its connection and leases: the daemon once refused reports of
 * more than 64 kinds as protocol errors and dropped the connection.
 */
#define MANY_KINDS	300

static void
test_many_kinds(void **state)
{
	static memkind_t	 k[MANY_KINDS];
	static void		*p[MANY_KINDS];
	Pmemtier__Envelope	*env;
	Pmemtier__Status	*st;
	size_t			 i, j, named = 0, more = 0, reports = 0;
	int			 sock;

	for (i = 0; i < MANY_KINDS; i++) {
		/* Limited: 300 unlimited kinds would not fit the address
		 * space (1 TiB reserved each). */
		assert_int_equal(memkind_create_pmem(td.tierdir, 32 * MiB,
		    &k[i]), MEMKIND_SUCCESS);
		p[i] = memkind_malloc(k[i], 64);
		assert_non_null(p[i]);
	}
	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	sock = tc_open(td.socket);
	assert_true(sock >= 0);
	env = tc_status(sock, 0, 0);
	assert_non_null(env);
	st = env->status;
	for (i = 0; i < st->n_clients; i++) {
		Pmemtier__ClientStatus *c = st->clients[i];

		if (c->principal == NULL || c->principal->pid != getpid() ||
		    strncmp(c->client_name, "libpmemtier", 11) != 0)
			continue;
		reports++;
		for (j = 0; j < c->n_usage; j++) {
			if (strcmp(c->usage[j]->kind, "(more kinds)") == 0)
				more++;
			else
				named++;
		}
	}
	tc_free(env);
	close(sock);
	assert_int_equal(reports, 1);		/* still one connection */
	assert_true(named >= 200);
	assert_int_equal(more, 1);		/* one tier: one sum */
	/* Every kind still works, and gives everything back. */
	for (i = 0; i < MANY_KINDS; i++) {
		memkind_free(k[i], p[i]);
		assert_non_null(p[i] = memkind_malloc(k[i], 128));
		memkind_free(NULL, p[i]);
		assert_int_equal(memkind_destroy_kind(k[i]), MEMKIND_SUCCESS);
	}
	assert_int_equal(daemon_view(getpid(), NULL).leases, 0);
}

/*
 * The charge follows committed pages, not whole leases: a kind that keeps
 * one block in eight of what it allocated is charged about that, though
 * every lease still holds something (so none goes back whole).
 */
/* A pmem kind on the daemon whose freed pages are decommitted at once. */
static memkind_t
conservative_kind(void)
{
	struct memkind_config	*cfg = memkind_config_new();
	memkind_t		 k = NULL;

	assert_non_null(cfg);
	memkind_config_set_path(cfg, td.tierdir);
	memkind_config_set_memory_usage_policy(cfg,
	    MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE);
	assert_int_equal(memkind_create_pmem_with_config(cfg, &k), 0);
	memkind_config_delete(cfg);
	return k;
}

static void
test_charge_follows_commits(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = conservative_kind();
	void				*p[96];
	struct seen			 s;
	size_t				 i;

	for (i = 0; i < 96; i++) {
		p[i] = memkind_malloc(k, MiB);
		assert_non_null(p[i]);
		memset(p[i], (int)i, MiB);
	}
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	s = daemon_view(getpid(), info.name);
	assert_true(s.charged >= 96 * MiB);
	for (i = 0; i < 96; i++)
		if (i % 8 != 0)
			memkind_free(k, p[i]);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	s = daemon_view(getpid(), info.name);
	/* Every lease kept some block: they are all still there ... */
	assert_int_equal(s.bytes, info.leased);
	/* ... but charged for what is committed in them, in 2 MiB steps
	 * with a margin of two steps per lease. */
	if (s.charged > 12 * MiB + info.leases * 6 * MiB ||
	    s.charged >= s.bytes / 2)
		fail_msg("12 MiB live in %zu leases of %llu bytes: charged "
		    "%llu, physical %llu", info.leases,
		    (unsigned long long)s.bytes, (unsigned long long)s.charged,
		    (unsigned long long)s.physical);
	assert_true(s.physical <= s.charged);
	print_message("12 MiB live in %zu leases of %llu bytes: charged "
	    "%llu, physical %llu\n", info.leases, (unsigned long long)s.bytes,
	    (unsigned long long)s.charged, (unsigned long long)s.physical);
	for (i = 0; i < 96; i += 8) {
		assert_int_equal(((char *)p[i])[MiB - 1], (char)i);
		memkind_free(k, p[i]);
	}
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_usage_query_answered(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = new_kind(td.tierdir, 0, &info);
	void				*p = memkind_malloc(k, 20 * MiB);
	int				 tries;

	assert_non_null(p);
	/* The lease came with a report of about 20 MiB allocated. */
	assert_true(daemon_view(getpid(), info.name).allocated >= 20 * MiB);
	/* Freeing takes no lease: nothing reported on our own ... */
	memkind_free(k, p);
	/*
	 * ... but that Status made the daemon send us a UsageQuery, which
	 * the next library call that may talk answers.
	 */
	assert_int_equal(memkind_update_cached_stats(), MEMKIND_SUCCESS);
	for (tries = 0; tries < 50; tries++) {
		if (daemon_view(getpid(), info.name).allocated < MiB)
			break;
		usleep(100 * 1000);
		assert_int_equal(memkind_update_cached_stats(),
		    MEMKIND_SUCCESS);
	}
	assert_true(daemon_view(getpid(), info.name).allocated < MiB);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

/*
 * A program that makes no call at all after it freed (memcached between
 * requests) still answers the UsageQuery a Status sends it: its purge
 * thread reads the connection. Before, the query waited for the program's
 * next call, and tierctl showed what it held at its last lease or commit.
 * Every other block of 512 B is freed: no slab empties, so nothing is
 * purged and no lease or budget changes that would send a report anyway.
 */
#define IDLE_BLOCKS	40960

static void
test_usage_query_answered_idle(void **state)
{
	struct pmemtier_kind_info	  info;
	memkind_t			  k = new_kind(td.tierdir, 0, &info);
	void				**p = calloc(IDLE_BLOCKS, sizeof(*p));
	uint64_t			  seen = 0;
	int				  i, tries;

	assert_non_null(p);
	for (i = 0; i < IDLE_BLOCKS; i++) {
		p[i] = memkind_malloc(k, 512);
		assert_non_null(p[i]);
		memset(p[i], i, 512);
	}
	/*
	 * Small blocks come from caches that never talk to the daemon: the
	 * 20 MiB show only once the query is answered (before, the last
	 * report was whatever the last commit sent).
	 */
	for (tries = 0; tries < 50; tries++) {
		if ((seen = daemon_view(getpid(), info.name).allocated) >=
		    19 * MiB)
			break;
		usleep(100 * 1000);
	}
	print_message("20 MiB allocated, idle: %llu reported after %d ms\n",
	    (unsigned long long)seen, tries * 100);
	assert_true(seen >= 19 * MiB);
	for (i = 0; i < IDLE_BLOCKS; i += 2)
		memkind_free(k, p[i]);
	/* No library call from here on: only Status from another socket. */
	for (tries = 0; tries < 50; tries++) {
		seen = daemon_view(getpid(), info.name).allocated;
		if (seen <= 12 * MiB)
			break;
		usleep(100 * 1000);
	}
	print_message("10 MiB left of 20, idle: %llu reported after %d ms\n",
	    (unsigned long long)seen, tries * 100);
	assert_true(seen <= 12 * MiB && seen >= 9 * MiB);
	for (i = 1; i < IDLE_BLOCKS; i += 2)
		memkind_free(k, p[i]);
	free(p);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static void
test_conservative_returns_leases(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = conservative_kind();
	void				*p[40];
	struct seen			 s;
	size_t				 i;

	for (i = 0; i < 40; i++) {
		p[i] = memkind_malloc(k, MiB);
		assert_non_null(p[i]);
	}
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_true(daemon_view(getpid(), info.name).bytes >= 40 * MiB);
	for (i = 0; i < 40; i++)
		memkind_free(k, p[i]);
	/* Freed at once, so the leases went back to the daemon at once. */
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	s = daemon_view(getpid(), info.name);
	assert_int_equal(s.bytes, info.leased);
	assert_true(s.bytes <= 8 * MiB);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static int
setup_quota(void **state)
{
	char	ini[256];

	snprintf(ini, sizeof(ini), "[quota mine]\nuid = %u\ntier = pmem\n"
	    "limit = 64M\n", (unsigned)getuid());
	return start(ini);
}

static void
test_quota_refusal(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = new_kind(td.tierdir, 0, &info);
	struct seen			 s;
	void				*p[100];
	size_t				 n, i;

	for (n = 0; n < 100; n++) {
		errno = 0;
		if ((p[n] = memkind_malloc(k, MiB)) == NULL)
			break;
		memset(p[n], 1, MiB);
	}
	assert_true(n < 100);
	assert_int_equal(errno, ENOMEM);
	assert_true(n >= 40);
	/* Library and daemon agree: no lease was leaked by the refusal. */
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_true(info.leased <= 64 * MiB);
	s = daemon_view(getpid(), info.name);
	assert_int_equal(s.bytes, info.leased);
	assert_int_equal(s.labelled, info.leases);
	/* Within the quota, allocation goes on. */
	for (i = 0; i < 10; i++)
		memkind_free(k, p[i]);
	for (i = 0; i < 10; i++) {
		p[i] = memkind_malloc(k, MiB);
		assert_non_null(p[i]);
	}
	/* Small blocks still come from the leases we hold. */
	memkind_free(k, memkind_malloc(k, 100));
	for (i = 0; i < n; i++)
		memkind_free(k, p[i]);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
	assert_int_equal(daemon_view(getpid(), NULL).leases, 0);
}

static void
test_growth_across_leases(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = new_kind(td.tierdir, 96 * MiB,
					    &info);
	void				*p[200];
	size_t				 n, i;

	for (n = 0; n < 200; n++)
		if ((p[n] = memkind_malloc(k, 512 * 1024)) == NULL)
			break;
	assert_true(n < 200);
	assert_true(n >= 150);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_true(info.leases >= 4);
	/*
	 * max_size bounds the charge (plus a page per lease file: the
	 * charge follows st_blocks, which counts ext4's extent index
	 * blocks); the leases may cover up to twice max_size.
	 */
	assert_true(info.leased <= 2 * 96 * MiB);
	assert_int_equal(daemon_view(getpid(), info.name).bytes, info.leased);
	assert_true(daemon_view(getpid(), info.name).charged <= 96 * MiB +
	    4096 * info.leases);
	for (i = 0; i < n; i++)
		memkind_free(NULL, p[i]);
	assert_int_equal(memkind_destroy_kind(k), MEMKIND_SUCCESS);
}

static int
setup_tiers(void **state)
{
	char	ini[512];

	snprintf(shmdir, sizeof(shmdir), "/dev/shm/pmt-client-%d",
	    (int)getpid());
	snprintf(ini, sizeof(ini), "[tier shm]\nbackend = file\npath = %s\n"
	    "capacity = 64M\n", shmdir);
	return start(ini);
}

static int
teardown_tiers(void **state)
{
	int	rc = teardown(state);

	tu_rmdir(shmdir);
	return rc;
}

static void
test_dir_selects_tier(void **state)
{
	struct pmemtier_kind_info	info;
	memkind_t			k;

	/* dir on /dev/shm (tmpfs): the tier whose directory is there. */
	k = new_kind("/dev/shm", 0, &info);
	assert_string_equal(info.tier, "shm");
	assert_int_equal(memkind_get_capacity(k), 64 * MiB);
	memkind_free(k, memkind_malloc(k, 1000));
	assert_int_equal(memkind_destroy_kind(k), 0);
	k = new_kind(td.tierdir, 0, &info);
	assert_string_equal(info.tier, "pmem");
	assert_int_equal(memkind_destroy_kind(k), 0);
	/* No tier there, or no such directory: the default tier. */
	k = new_kind("/proc", 0, &info);
	assert_string_equal(info.tier, "pmem");
	assert_int_equal(memkind_destroy_kind(k), 0);
	/* No such directory: only when the program opts in. */
	assert_int_equal(memkind_create_pmem("/nonexistent", 0, &k),
	    MEMKIND_ERROR_INVALID);
	setenv("PMEMTIER_ANY_DIR", "1", 1);
	k = new_kind("/nonexistent", 0, &info);
	unsetenv("PMEMTIER_ANY_DIR");
	assert_string_equal(info.tier, "pmem");
	assert_int_equal(memkind_destroy_kind(k), 0);
}

static void
test_kmem_pages_on_node(void **state)
{
	struct pmemtier_kind_info	 info;
	const size_t			 size = 8 * MiB, page = 4096;
	size_t				 n = size / page, i, wrong = 0;
	void				**pages;
	int				*status;
	char				*p;

	assert_int_equal(memkind_check_available(MEMKIND_DAX_KMEM), 0);
	assert_int_equal(pmemtier_kind_get_info(MEMKIND_DAX_KMEM, &info), 0);
	assert_string_equal(info.tier, "kmem");
	p = memkind_malloc(MEMKIND_DAX_KMEM, size);
	assert_non_null(p);
	memset(p, 1, size);
	pages = calloc(n, sizeof(*pages));
	status = calloc(n, sizeof(*status));
	for (i = 0; i < n; i++)
		pages[i] = p + i * page;
	/* nodes == NULL: move_pages reports each page's node. */
	assert_int_equal(move_pages(0, (unsigned long)n, pages, NULL, status,
	    0), 0);
	for (i = 0; i < n; i++)
		if (status[i] != 0)
			wrong++;
	assert_int_equal(wrong, 0);
	assert_true(daemon_view(getpid(), info.name).labelled >= 1);
	free(pages);
	free(status);
	memkind_free(NULL, p);
	/* The static kind keeps its leases (and connection) for life. */
}

static int
setup_no_kmem(void **state)
{
	static const char ini[] =
	    "[daemon]\nsocket = @DIR@/pmemtierd.sock\n"
	    "state_dir = @DIR@/state\n"
	    "[tier pmem]\nbackend = file\npath = @DIR@/tier-pmem\n"
	    "capacity = 1G\ndefault = yes\n";

	if (testd_start_config(&td, ini) != 0)
		return -1;
	setenv("PMEMTIER_SOCKET", td.socket, 1);
	setenv("PMEMTIER_MODE", "daemon", 1);
	return 0;
}

static void
test_kmem_unavailable(void **state)
{
	/* A daemon without a kmem tier: a clean refusal, not a fallback. */
	assert_int_equal(memkind_check_available(MEMKIND_DAX_KMEM),
	    MEMKIND_ERROR_UNAVAILABLE);
	errno = 0;
	assert_null(memkind_malloc(MEMKIND_DAX_KMEM_ALL, 4096));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(memkind_get_capacity(MEMKIND_DAX_KMEM), -1);
	/* _PREFERRED falls back to ordinary memory. */
	void *p = memkind_malloc(MEMKIND_DAX_KMEM_PREFERRED, 4096);
	assert_non_null(p);
	assert_ptr_equal(memkind_detect_kind(p), MEMKIND_DEFAULT);
	memkind_free(MEMKIND_DAX_KMEM_PREFERRED, p);
	/* Nothing held on to the daemon. */
	assert_int_equal(daemon_view(getpid(), NULL).clients, 0);
}

static void
test_mode_failures(void **state)
{
	struct pmemtier_kind_info	info;
	memkind_t			k = NULL;

	/* Daemon mode forced, no daemon: a clean error, no fallback. */
	setenv("PMEMTIER_SOCKET", "/nonexistent/pmemtierd.sock", 1);
	assert_int_equal(memkind_create_pmem(td.tierdir, 0, &k),
	    MEMKIND_ERROR_UNAVAILABLE);
	/* auto: standalone when nobody answers. */
	setenv("PMEMTIER_MODE", "auto", 1);
	assert_int_equal(memkind_create_pmem(td.tierdir, 0, &k), 0);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_int_equal(info.mode, PMEMTIER_MODE_STANDALONE);
	assert_int_equal(memkind_destroy_kind(k), 0);
	/* auto with a daemon: daemon mode. */
	setenv("PMEMTIER_SOCKET", td.socket, 1);
	assert_int_equal(memkind_create_pmem(td.tierdir, 0, &k), 0);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_int_equal(info.mode, PMEMTIER_MODE_DAEMON);
	assert_int_equal(memkind_destroy_kind(k), 0);
	/* standalone forced with a daemon around. */
	setenv("PMEMTIER_MODE", "standalone", 1);
	assert_int_equal(memkind_create_pmem(td.tierdir, 0, &k), 0);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_int_equal(info.mode, PMEMTIER_MODE_STANDALONE);
	assert_int_equal(daemon_view(getpid(), NULL).clients, 0);
	assert_int_equal(memkind_destroy_kind(k), 0);
	setenv("PMEMTIER_MODE", "sometimes", 1);
	assert_int_equal(memkind_create_pmem(td.tierdir, 0, &k),
	    MEMKIND_ERROR_ENVIRON);
	setenv("PMEMTIER_MODE", "daemon", 1);
}

static void
test_fork_own_connection(void **state)
{
	struct pmemtier_kind_info	 info;
	memkind_t			 k = new_kind(td.tierdir, 0, &info);
	struct seen			 s;
	char				*p = memkind_malloc(k, 10 * MiB), c;
	int				 go[2], ready[2], status, tries;
	pid_t				 pid;

	assert_non_null(p);
	memset(p, 'p', 10 * MiB);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		memkind_t	 kc = NULL;
		void		*q;
		int		 fail = 0;

		close(go[1]);
		close(ready[0]);
		if (memkind_malloc(k, 100) != NULL)
			fail |= 1;
		if (memkind_create_pmem(td.tierdir, 0, &kc) != 0 ||
		    (q = memkind_malloc(kc, 5 * MiB)) == NULL)
			fail |= 2;
		else
			memset(q, 'c', 5 * MiB);
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &c, 1);
		_exit(fail);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	/* The child has its own connection and leases ... */
	s = daemon_view(pid, NULL);
	assert_int_equal(s.clients, 1);
	assert_true(s.leases >= 1);
	/* ... ours are untouched. */
	s = daemon_view(getpid(), info.name);
	assert_int_equal(s.labelled, info.leases);
	assert_int_equal(s.clients, 1);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The daemon notices the child's exit on its own time. */
	for (tries = 0; tries < 100; tries++) {
		if (daemon_view(pid, NULL).leases == 0)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(daemon_view(pid, NULL).leases, 0);
	assert_int_equal(p[0], 'p');
	assert_int_equal(p[10 * MiB - 1], 'p');
	memkind_free(k, p);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	assert_int_equal(memkind_destroy_kind(k), 0);
}

/*
 * Bug: fork() in a process whose other threads lease and release (through
 * jemalloc's extent hooks) deadlocked. Our fork handler took the
 * connection lock, then jemalloc's handler waited for an arena mutex held
 * by a thread inside a hook that was waiting for that connection lock.
 * The scenario runs in a subprocess; a deadlock shows as a timeout.
 */
static memkind_t	fork_kind;
static volatile int	fork_stop;

static void *
fork_worker(void *arg)
{
	unsigned	i;
	void		*p;

	for (i = 0; !fork_stop; i++) {
		p = memkind_malloc(fork_kind, ((i * 7919) % 64 + 1) * 256 *
		    1024);
		if (p != NULL) {
			memset(p, 1, 4096);
			memkind_free(fork_kind, p);
		}
		if (i % 16 == 0)
			(void)pmemtier_kind_purge(fork_kind);
	}
	return NULL;
}

/*
 * Bug: when jemalloc committed a range that ran into an existing lease,
 * the new lease was mapped (MAP_FIXED) over part of it; returning one of
 * them later left live blocks of the other PROT_NONE, and a thread
 * writing into its fresh allocation got SIGSEGV (about one run in four
 * of this scenario). Two threads allocate and free large blocks for a
 * while in a subprocess, which must exit cleanly.
 */
static int
overlap_scenario(void)
{
	pthread_t	tid[2];
	int		i;

	if (memkind_create_pmem(td.tierdir, 0, &fork_kind) != 0)
		return 10;
	for (i = 0; i < 2; i++)
		if (pthread_create(&tid[i], NULL, fork_worker, NULL) != 0)
			return 11;
	sleep(4);
	fork_stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	return memkind_destroy_kind(fork_kind) != 0 ? 14 : 0;
}

/* Runs fn in a subprocess; asserts a clean exit within 40 s. */
static void
run_scenario(int (*fn)(void), const char *what)
{
	pid_t	pid, w = 0;
	int	status = 0, ms;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Its own process group: a stuck grandchild dies with it. */
		setpgid(0, 0);
		_exit(fn());
	}
	for (ms = 0; ms < 40000; ms += 50) {
		if ((w = waitpid(pid, &status, WNOHANG)) != 0)
			break;
		usleep(50 * 1000);
	}
	if (w == 0) {
		/* Deadlocked: kill the scenario and its stuck child. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("%s: deadlocked", what);
	}
	assert_int_equal(w, pid);
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d", what, WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * Bugs: after a daemon restart, the first growth of a kind failed when
 * the old connection's death was found only by sending on it (the purge
 * thread, which polls the connection, is off here); and the growth
 * reconnected from inside jemalloc's extent hook with malloc, under the
 * connection lock (the packet buffer, the decoded Welcome, the tier
 * table), so that a fork() in another thread at that moment could
 * deadlock, as the hooks' other mallocs did (see pmt_conn_report). Now
 * the growth reconnects and succeeds, and it mallocs no more than a
 * growth on an open connection (its usage report, after the hook).
 */
static uint64_t
thread_allocated(void)
{
	uint64_t	a;

	assert_int_equal(tu_thread_allocated(&a), 0);
	return a;
}

static void
test_reconnect_without_malloc(void **state)
{
	struct pmemtier_kind_info info;
	memkind_t	 k = new_kind(td.tierdir, 0, &info);
	uint64_t	 a0, open_extra, reconnect_extra;
	void		*p, *b, *q;
	int		 status;

	if (!MALLOC_IS_JEMALLOC) {
		fprintf(stderr, "skipped: under ASan the library's malloc is "
		    "ASan's, which jemalloc does not count\n");
		skip();
	}
	assert_int_equal(memkind_set_bg_threads(false), 0);
	assert_non_null(p = memkind_malloc(k, MiB));
	memset(p, 1, MiB);
	/* The yardstick: a growth on the open connection. */
	a0 = thread_allocated();
	b = memkind_malloc(k, 64 * MiB);
	open_extra = thread_allocated() - a0;
	assert_non_null(b);
	open_extra -= memkind_malloc_usable_size(k, b);

	assert_int_equal(kill(td.pid, SIGTERM), 0);
	assert_int_equal(waitpid(td.pid, &status, 0), td.pid);
	assert_int_equal(testd_restart(&td), 0);
	a0 = thread_allocated();
	q = memkind_malloc(k, 64 * MiB);
	reconnect_extra = thread_allocated() - a0;
	assert_non_null(q);
	memset(q, 2, 64 * MiB);
	reconnect_extra -= memkind_malloc_usable_size(k, q);
	assert_int_equal(reconnect_extra, open_extra);
	/* It is the new daemon's client, and the old leases are its too. */
	assert_int_equal(daemon_view(getpid(), NULL).clients, 1);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_true(daemon_view(getpid(), info.name).bytes >= 129 * MiB);
	memkind_free(k, q);
	memkind_free(k, b);
	memkind_free(k, p);
	assert_int_equal(memkind_destroy_kind(k), 0);
	assert_int_equal(memkind_set_bg_threads(true), 0);
}

/*
 * A daemon with many tiers: its Welcome decodes to more than the client's
 * 32 KiB zone (about 130 bytes per tier), which spills into mmap()ed
 * chunks (conn.c) rather than failing. Every tier is known to the
 * library: a kind on the last one works.
 */
#define MANY_TIERS	400

static int
setup_many_tiers(void **state)
{
	char	*ini, *p;
	size_t	 len = MANY_TIERS * 96;
	int	 i, rc;

	if ((ini = malloc(len)) == NULL)
		return -1;
	for (p = ini, i = 0; i < MANY_TIERS; i++)
		p += snprintf(p, len - (size_t)(p - ini),
		    "[tier many%03d]\nbackend = file\n"
		    "path = @DIR@/many%03d\ncapacity = 64M\n\n", i, i);
	rc = start(ini);
	free(ini);
	return rc;
}

static void
test_welcome_beyond_zone(void **state)
{
	struct pmemtier_kind_info	 info;
	char				 last[32];
	memkind_t			 k = NULL;
	void				*p;

	snprintf(last, sizeof(last), "many%03d", MANY_TIERS - 1);
	assert_int_equal(pmemtier_create_pmem_on_tier(last, 0, &k),
	    MEMKIND_SUCCESS);
	assert_int_equal(pmemtier_kind_get_info(k, &info), 0);
	assert_string_equal(info.tier, last);
	assert_int_equal(memkind_get_capacity(k), 64 * MiB);
	assert_non_null(p = memkind_malloc(k, 4 * MiB));
	memset(p, 3, 4 * MiB);
	assert_true(daemon_view(getpid(), info.name).bytes >= 4 * MiB);
	memkind_free(k, p);
	assert_int_equal(memkind_destroy_kind(k), 0);
}

static void
test_threads_lease_without_overlap(void **state)
{
	run_scenario(overlap_scenario, "threads leasing");
}

static int
fork_scenario(void)
{
	pthread_t	tid[2];
	pid_t		pid;
	int		i, status, fail = 0;

	if (memkind_create_pmem(td.tierdir, 0, &fork_kind) != 0)
		return 10;
	for (i = 0; i < 2; i++)
		if (pthread_create(&tid[i], NULL, fork_worker, NULL) != 0)
			return 11;
	for (i = 0; i < 150 && !fail; i++) {
		if ((pid = fork()) < 0)
			return 12;
		if (pid == 0) {
			memkind_t	 k2;
			void		*q;

			if (memkind_create_pmem(td.tierdir, 0, &k2) != 0 ||
			    (q = memkind_malloc(k2, 1000)) == NULL)
				_exit(1);
			memkind_free(k2, q);
			_exit(memkind_destroy_kind(k2) != 0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			fail = 13;
	}
	fork_stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	if (memkind_destroy_kind(fork_kind) != 0)
		fail = 14;
	return fail;
}

static void
test_fork_while_threads_lease(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * Under ASan the process malloc is ASan's, not jemalloc, and GCC
	 * 12's ASan takes no lock of its own at fork: a child forked while
	 * a worker thread was inside ASan's malloc inherits that lock held
	 * and hangs in its first allocation (seen with gdb in the decay
	 * test's fork case). Nothing of ours can prevent that for threads
	 * the program runs itself. The plain build runs it in every CI run.
	 */
	fprintf(stderr, "skipped: under ASan a fork while other threads "
	    "allocate can hang in ASan's own allocator; runs in the plain "
	    "build\n");
	skip();
#endif
	run_scenario(fork_scenario, "fork with leasing threads");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_leases_usage_and_release,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_query_answered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_query_answered_idle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_conservative_returns_leases,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_refusal,
		    setup_quota, teardown),
		cmocka_unit_test_setup_teardown(test_growth_across_leases,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_selects_tier,
		    setup_tiers, teardown_tiers),
		cmocka_unit_test_setup_teardown(test_mode_failures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_kinds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_charge_follows_commits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_kmem_unavailable,
		    setup_no_kmem, teardown),
		cmocka_unit_test_setup_teardown(test_fork_own_connection,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_while_threads_lease,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_threads_lease_without_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_without_malloc,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_welcome_beyond_zone,
		    setup_many_tiers, teardown),
		cmocka_unit_test_setup_teardown(test_kmem_pages_on_node,
		    setup, teardown),
	};
	const char	*d = getenv("PMEMTIERD");

	if (d == NULL || access(d, X_OK) != 0) {
		printf("SKIP: PMEMTIERD is not set to a daemon binary\n");
		return 77;
	}
	unsetenv("PMEMTIER_DEBUG");
	/* TEST_FILTER=glob runs some tests only (debugging aid). */
	if (getenv("TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests_name("client_daemon", tests, NULL,
	    NULL) != 0;
}
