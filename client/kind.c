/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kinds: the table, creation and destruction of pmem kinds, lazy set-up
 * of the MEMKIND_DAX_KMEM* kinds, the mode (daemon or standalone), fork
 * handling and the usage reports sent to the daemon.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "bg.h"
#include "conn.h"
#include "debug.h"
#include "anon.h"
#include "fixed.h"
#include "kind.h"
#include "memtier.h"
#include "node.h"
#include "range.h"
#include "thread.h"

enum kind_mode {
	KIND_MODE_AUTO,
	KIND_MODE_DAEMON,
	KIND_MODE_STANDALONE,
};

/* memkind's MEMKIND_PMEM_CHUNK_SIZE, to which it rounds max_size up. */
#define KIND_PMEM_CHUNK		(2UL << 20)

static pthread_mutex_t	 kind_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct memkind	*kind_table[PMT_KIND_MAX];
static uint64_t		 kind_next_gen = 1;
static unsigned		 kind_reported_events;

void
pmt_kind_lock(void)
{
	pthread_mutex_lock(&kind_mutex);
}

void
pmt_kind_unlock(void)
{
	pthread_mutex_unlock(&kind_mutex);
}

/* PMEMTIER_MODE: auto (default), daemon or standalone; -1 if unparsable. */
static int
kind_mode(void)
{
	const char *m = getenv("PMEMTIER_MODE");

	if (m == NULL || *m == '\0' || strcmp(m, "auto") == 0)
		return KIND_MODE_AUTO;
	if (strcmp(m, "daemon") == 0)
		return KIND_MODE_DAEMON;
	if (strcmp(m, "standalone") == 0)
		return KIND_MODE_STANDALONE;
	pmt_debug("kind: PMEMTIER_MODE=%s is not auto, daemon or standalone",
	    m);
	return -1;
}

/*
 * Decides where a new kind's memory comes from. Returns 1 for daemon mode
 * (a connection reference is held), 0 for standalone, or a memkind error.
 */
static int
kind_pick_mode(bool need_daemon)
{
	int	mode = kind_mode(), rc;

	if (mode < 0)
		return MEMKIND_ERROR_ENVIRON;
	if (mode == KIND_MODE_STANDALONE)
		return need_daemon ? MEMKIND_ERROR_UNAVAILABLE : 0;
	if ((rc = pmt_conn_get()) == 0)
		return 1;
	pmt_debug("kind: no daemon at %s: %s", pmt_conn_socket_path(),
	    strerror(-rc));
	if (mode == KIND_MODE_DAEMON || need_daemon)
		return MEMKIND_ERROR_UNAVAILABLE;
	return 0;
}

/* The kind's generation and its copy in the range table, together. */
static void
kind_set_gen(struct memkind *k, uint64_t gen)
{
	__atomic_store_n(&k->gen, gen, __ATOMIC_RELEASE);
	pmt_range_set_gen(k->range_slot, gen);
}

static int
kind_slot_take(struct memkind *k)
{
	unsigned	i;

	for (i = PMT_KIND_STATIC_SLOTS; i < PMT_KIND_MAX; i++)
		if (kind_table[i] == NULL) {
			kind_table[i] = k;
			k->slot = i;
			return 0;
		}
	/*
	 * memkind runs out of jemalloc arenas before its kind table fills
	 * (after ~480 kinds) and says so: programs test for that code.
	 */
	return MEMKIND_ERROR_ARENAS_CREATE;
}

/* Range registration and arena of an arena kind whose heap is set up. */
static int
kind_setup_arena(struct memkind *k, const struct pmt_je_backing *b)
{
	k->classmap = k->heap.classmap;
	k->base = (uintptr_t)k->heap.base;
	k->range_slot = pmt_range_register(k->heap.base, k->heap.reserved, k,
	    k->classmap, k->slot);
	if (k->range_slot < 0)
		return MEMKIND_ERROR_TOOMANY;
	if (pmt_je_arena_create(b, k->conservative, &k->arena) != 0) {
		pmt_range_unregister(k->range_slot);
		return MEMKIND_ERROR_ARENAS_CREATE;
	}
	return MEMKIND_SUCCESS;
}

/* Reservation, range registration and arena of a leased arena kind. */
static int
kind_setup(struct memkind *k, bool daemon, const char *dir,
    const char *tier)
{
	struct pmt_je_backing	b;
	int			rc;

	rc = pmt_heap_init(&k->heap, daemon, dir, tier, k->max_size, k->name);
	if (rc == -EINVAL)
		return MEMKIND_ERROR_INVALID;
	if (rc != 0)
		return MEMKIND_ERROR_MMAP;
	b.alloc = pmt_heap_alloc;
	b.commit = pmt_heap_commit;
	b.decommit = pmt_heap_decommit;
	b.purge = pmt_heap_purge;
	b.arg = &k->heap;
	if ((rc = kind_setup_arena(k, &b)) != 0)
		pmt_heap_fini(&k->heap);
	return rc;
}

static bool
kind_dir_usable(const char *dir)
{
	struct stat	st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * PMEMTIER_ANY_DIR (any value but empty or "0"): in daemon mode, a dir
 * that does not exist here is served by the daemon's default tier (a
 * container without the DAX mount) instead of refused as memkind does.
 */
static bool
kind_any_dir(void)
{
	const char *v = getenv("PMEMTIER_ANY_DIR");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/*
 * Makes a pmem kind whose memory comes from dir (standalone) or from the
 * daemon's tier (daemon != 0; a connection reference is held and goes
 * with the kind, or is put back on failure).
 */
static int
kind_create_leased(int daemon, const char *dir, const struct pmt_tier *tier,
    size_t max_size, int policy, struct memkind **out)
{
	struct memkind	*k;
	int		 rc;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		rc = MEMKIND_ERROR_MALLOC;
		goto fail;
	}
	k->type = PMT_KIND_ARENA;
	/*
	 * memkind rounds max_size up to its chunk size, 2 MiB, and programs
	 * sized for memkind count on holding that much.
	 */
	k->max_size = (max_size + KIND_PMEM_CHUNK - 1) &
	    ~(size_t)(KIND_PMEM_CHUNK - 1);
	k->conservative = policy == MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE;
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	pmt_kind_lock();
	rc = kind_slot_take(k);
	pmt_kind_unlock();
	if (rc != 0)
		goto fail;
	snprintf(k->name, sizeof(k->name), "pmem%u", k->slot);
	if ((rc = kind_setup(k, daemon, dir, daemon ? tier->name : NULL)) !=
	    0) {
		pmt_kind_lock();
		kind_table[k->slot] = NULL;
		pmt_kind_unlock();
		goto fail;
	}
	pmt_kind_lock();
	kind_set_gen(k, kind_next_gen++);
	pmt_kind_unlock();
	pmt_bg_kind_added();
	pmt_debug("kind %s: %s mode, dir %s%s%s, max_size %zu", k->name,
	    daemon ? "daemon" : "standalone", dir, daemon ? ", tier " : "",
	    daemon ? tier->name : "", max_size);
	*out = k;
	return MEMKIND_SUCCESS;
fail:
	free(k);
	if (daemon)
		pmt_conn_put();
	return rc;
}

int
pmt_kind_create_pmem(const char *dir, size_t max_size, int policy,
    struct memkind **out)
{
	struct pmt_tier	 tier;
	int		 daemon;

	if (out == NULL || dir == NULL ||
	    (max_size != 0 && max_size < MEMKIND_PMEM_MIN_SIZE) ||
	    policy < 0 || policy >= MEMKIND_MEM_USAGE_POLICY_MAX_VALUE)
		return MEMKIND_ERROR_INVALID;
	if ((daemon = kind_pick_mode(false)) < 0)
		return daemon;
	if (daemon && !kind_dir_usable(dir) && !kind_any_dir()) {
		pmt_debug("kind: %s is not a directory here; set "
		    "PMEMTIER_ANY_DIR=1 to use the daemon's default tier", dir);
		pmt_conn_put();
		return MEMKIND_ERROR_INVALID;
	}
	if (daemon) {
		if (pmt_conn_tier_for_dir(dir, &tier) != 0) {
			pmt_conn_put();
			return MEMKIND_ERROR_UNAVAILABLE;
		}
	} else if (!kind_dir_usable(dir))
		return MEMKIND_ERROR_INVALID;
	return kind_create_leased(daemon, dir, &tier, max_size, policy, out);
}

int
pmt_kind_create_on_tier(const char *name, size_t max_size,
    struct memkind **out)
{
	struct pmt_tier	 tier;
	int		 daemon;

	if (out == NULL || name == NULL || *name == '\0' ||
	    (max_size != 0 && max_size < MEMKIND_PMEM_MIN_SIZE))
		return MEMKIND_ERROR_INVALID;
	if ((daemon = kind_pick_mode(true)) < 0)
		return daemon;
	if (pmt_conn_tier_by_name(name, &tier) != 0) {
		pmt_debug("kind: the daemon has no tier %s", name);
		pmt_conn_put();
		return MEMKIND_ERROR_UNAVAILABLE;
	}
	return kind_create_leased(daemon, "", &tier, max_size,
	    MEMKIND_MEM_USAGE_POLICY_DEFAULT, out);
}

/* Whether [base, base + len) meets any kind's range; kind lock held. */
static bool
kind_range_overlaps(const char *base, size_t len)
{
	uintptr_t	a = (uintptr_t)base;
	unsigned	i, n;

	if (len == 0)
		return false;	/* holds no page: claims no address */
	n = __atomic_load_n(&pmt_ranges.high, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		const struct pmt_range_slot *s = &pmt_ranges.slot[i];
		uintptr_t sl = __atomic_load_n(&s->len, __ATOMIC_ACQUIRE);

		if (sl != 0 && s->base < a + len && a < s->base + sl)
			return true;
	}
	return false;
}

/*
 * A kind over the caller's [addr, addr + size). A range that overlaps a
 * kind's is refused: its pointers would be found in two kinds.
 */
int
pmt_kind_create_fixed(void *addr, size_t size, struct memkind **out)
{
	struct pmt_je_backing	 b;
	struct memkind		*k;
	int			 rc;

	if (out == NULL || addr == NULL ||
	    (uintptr_t)addr + size < (uintptr_t)addr)
		return MEMKIND_ERROR_INVALID;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return MEMKIND_ERROR_MALLOC;
	k->type = PMT_KIND_ARENA;
	k->fixed = true;
	snprintf(k->name, sizeof(k->name), "fixed%p", addr);
	if (pmt_fixed_init(&k->heap, addr, size) != 0) {
		free(k);
		return MEMKIND_ERROR_INVALID;
	}
	k->max_size = size;
	b.alloc = pmt_fixed_alloc;
	b.commit = pmt_fixed_commit;
	b.decommit = pmt_fixed_decommit;
	b.purge = pmt_fixed_purge;
	b.arg = &k->heap;
	/* One critical section: two overlapping ranges cannot both pass. */
	pmt_kind_lock();
	if (kind_range_overlaps(k->heap.base, k->heap.reserved))
		rc = MEMKIND_ERROR_INVALID;
	else if ((rc = kind_slot_take(k)) == 0) {
		if ((rc = kind_setup_arena(k, &b)) != 0)
			kind_table[k->slot] = NULL;
		else
			kind_set_gen(k, kind_next_gen++);
	}
	pmt_kind_unlock();
	if (rc != 0)
		goto fail;
	pmt_debug("kind %s: fixed, %zu bytes at %p", k->name, k->heap.reserved,
	    (void *)k->heap.base);
	*out = k;
	return MEMKIND_SUCCESS;
fail:
	pmt_fixed_fini(&k->heap);
	free(k);
	return rc;
}

int
pmt_kind_destroy(struct memkind *k)
{
	bool	daemon;

	if (k == NULL || k->is_static || k->type != PMT_KIND_ARENA)
		return MEMKIND_ERROR_INVALID;
	daemon = k->heap.daemon;
	pmt_kind_lock();
	kind_set_gen(k, 0);
	pmt_thread_kind_gone(k);
	kind_table[k->slot] = NULL;
	pmt_kind_unlock();
	pmt_memtier_kind_reset(k);
	/* A child's copy of the arena describes memory it does not have. */
	if (!k->forked) {
		/* Not while a decay pass may be working on this arena. */
		pmt_bg_pass_lock();
		pmt_je_arena_destroy(k->arena);
		pmt_bg_pass_unlock();
	}
	pmt_range_unregister(k->range_slot);
	if (k->fixed)
		pmt_fixed_fini(&k->heap);
	else
		pmt_heap_fini(&k->heap);
	if (daemon && !k->forked) {
		pmt_kind_report_if_due();
		pmt_conn_put();
	}
	pmt_debug("kind %s destroyed", k->name);
	free(k);
	return MEMKIND_SUCCESS;
}

/* Sets up a MEMKIND_DAX_KMEM* kind on a daemon kmem tier; kind lock held. */
static int
kind_kmem_init(struct memkind *k)
{
	struct pmt_tier	tier;
	int		daemon, rc;

	if ((daemon = kind_pick_mode(true)) < 0)
		return daemon;
	if (pmt_conn_tier_by_backend("kmem", &tier) != 0) {
		pmt_debug("kind %s: the daemon has no kmem tier", k->name);
		pmt_conn_put();
		return MEMKIND_ERROR_UNAVAILABLE;
	}
	if ((rc = kind_setup(k, true, NULL, tier.name)) != 0) {
		pmt_conn_put();
		return rc;
	}
	kind_set_gen(k, kind_next_gen++);
	pmt_bg_kind_added();
	pmt_debug("kind %s: on kmem tier %s (node %d)", k->name, tier.name,
	    tier.numa_node);
	return 0;
}

/*
 * Sets up the arena of REGULAR or another NUMA-policy kind over anonymous
 * memory, if the machine has the nodes the kind asks for; kind lock held.
 */
static int
kind_anon_init(struct memkind *k)
{
	struct pmt_je_backing	b;
	int			rc, numa = k->numa;

	/* REGULAR works without NUMA sysfs: as the process's policy says. */
	if (numa == PMT_NUMA_REGULAR && pmt_topo_system() == NULL)
		numa = PMT_NUMA_NONE;
	if (numa != PMT_NUMA_NONE &&
	    (rc = pmt_topo_check(pmt_topo_system(), numa)) != 0) {
		pmt_debug("kind %s: unavailable: %s", k->name,
		    rc == MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE ?
		    "no NUMA node of that sort" : "no NUMA information");
		return rc;
	}
	if (pmt_anon_init(&k->heap, numa) != 0)
		return MEMKIND_ERROR_MMAP;
	b.alloc = pmt_anon_alloc;
	b.commit = pmt_anon_commit;
	b.decommit = pmt_anon_decommit;
	b.purge = pmt_anon_purge;
	b.arg = &k->heap;
	if ((rc = kind_setup_arena(k, &b)) != 0) {
		pmt_range_unreserve(k->heap.base, k->heap.reserved);
		pmt_fixed_fini(&k->heap);
		return rc;
	}
	kind_set_gen(k, kind_next_gen++);
	return 0;
}

int
pmt_kind_ready(struct memkind *k)
{
	int	rc;

	if (k->type != PMT_KIND_ARENA || k->forked)
		return MEMKIND_ERROR_UNAVAILABLE;
	if (__atomic_load_n(&k->gen, __ATOMIC_ACQUIRE) != 0)
		return 0;
	if (!k->is_static)
		return MEMKIND_ERROR_UNAVAILABLE;	/* destroyed */
	pmt_kind_lock();
	if (k->init_state == 0 || k->init_state < 0) {
		rc = k->anon ? kind_anon_init(k) : kind_kmem_init(k);
		k->init_state = rc == 0 ? 1 : -1;
		k->init_err = rc;
	}
	rc = k->init_state == 1 ? 0 : MEMKIND_ERROR_UNAVAILABLE;
	pmt_kind_unlock();
	return rc;
}

void
pmt_kind_foreach(void (*fn)(struct memkind *, void *), void *arg)
{
	unsigned	i;

	pmt_kind_lock();
	for (i = 0; i < PMT_KIND_MAX; i++) {
		struct memkind *k = kind_table[i];

		if (k != NULL && k->gen != 0 && !k->forked)
			fn(k, arg);
	}
	pmt_kind_unlock();
}

struct memkind *
pmt_kind_created(unsigned n)
{
	struct memkind	*k = NULL;

	if (n >= PMT_KIND_MAX - PMT_KIND_STATIC_SLOTS)
		return NULL;
	pmt_kind_lock();
	k = kind_table[PMT_KIND_STATIC_SLOTS + n];
	if (k != NULL && (k->gen == 0 || k->forked))
		k = NULL;
	pmt_kind_unlock();
	return k;
}

bool
pmt_kind_daemon_mode(const struct memkind *k)
{
	return k->type == PMT_KIND_ARENA && k->heap.daemon;
}

/*
 * A report names up to KIND_REPORT_NAMED kinds one by one; any more are
 * summed per tier into entries named "(more kinds)", so that a process
 * with memkind's 512 kinds still fits one packet and the daemon's limit.
 */
#define KIND_REPORT_NAMED	224
#define KIND_REPORT_MAX		256

struct kind_usage {
	struct pmt_usage	*u;
	size_t			 n;
	size_t			 cap;
};

static void
kind_collect(struct memkind *k, void *arg)
{
	struct kind_usage	*ku = arg;
	struct pmt_je_stats	 st;
	struct pmt_usage	*u = NULL;
	size_t			 cached, i;

	if (!k->heap.daemon)
		return;
	if (ku->n >= KIND_REPORT_NAMED) {
		for (i = KIND_REPORT_NAMED; i < ku->n; i++)
			if (strcmp(ku->u[i].tier, k->heap.tier) == 0)
				u = &ku->u[i];
	}
	if (u == NULL) {
		if (ku->n == ku->cap)
			return;
		u = &ku->u[ku->n++];
		memset(u, 0, sizeof(*u));
		snprintf(u->kind, sizeof(u->kind), "%s", ku->n >
		    KIND_REPORT_NAMED ? "(more kinds)" : k->name);
		snprintf(u->tier, sizeof(u->tier), "%s", k->heap.tier);
	}
	pmt_je_arena_stats(k->arena, &st);
	cached = pmt_thread_cached(k);
	u->allocated += st.allocated > cached ? st.allocated - cached : 0;
	u->active += st.active;
	u->resident += st.resident;
	u->mapped += pmt_heap_leased(&k->heap);
	u->refused += __atomic_load_n(&k->refused, __ATOMIC_RELAXED);
}

/* polled: the caller has just read the connection (pmt_conn_poll). */
static void
kind_report_if_due(bool polled)
{
	struct kind_usage	ku;
	unsigned		ev;

	ev = __atomic_load_n(&pmt_heap_events, __ATOMIC_RELAXED);
	if (ev == __atomic_load_n(&kind_reported_events, __ATOMIC_RELAXED) &&
	    !pmt_conn_report_wanted())
		return;
	__atomic_store_n(&kind_reported_events, ev, __ATOMIC_RELAXED);
	/* Standalone kinds have nobody to report to. */
	if (pmt_conn_get_open() != 0)
		return;
	/* A query waiting would be read, and answered, after the report. */
	if (!polled)
		pmt_conn_poll();
	ku.cap = KIND_REPORT_MAX;
	ku.n = 0;
	if ((ku.u = calloc(ku.cap, sizeof(*ku.u))) != NULL) {
		(void)pmt_je_stats_refresh();
		pmt_kind_foreach(kind_collect, &ku);
		(void)pmt_conn_report(ku.u, ku.n);
		free(ku.u);
	}
	pmt_conn_put();
}

void
pmt_kind_report_if_due(void)
{
	kind_report_if_due(false);
}

void
pmt_kind_poll_and_report(void)
{
	pmt_conn_poll();
	kind_report_if_due(true);
}

/* The kinds a fork child inherits as dead (kind_atfork_child). */
static bool
kind_orphaned_by_fork(const struct memkind *k)
{
	return k != NULL && k->type == PMT_KIND_ARENA && k->gen != 0 &&
	    !k->fixed && !k->anon;
}

static void
kind_atfork_prepare(void)
{
	unsigned	i;

	pmt_bg_atfork_prepare();
	pmt_kind_lock();
	/* Heap locks after the kind lock, and before the connection's. */
	for (i = 0; i < PMT_KIND_MAX; i++)
		if (kind_orphaned_by_fork(kind_table[i]))
			pmt_heap_fork_prepare(&kind_table[i]->heap);
	pmt_conn_atfork_prepare();
}

static void
kind_atfork_parent(void)
{
	unsigned	i;

	pmt_conn_atfork_parent();
	for (i = 0; i < PMT_KIND_MAX; i++)
		if (kind_orphaned_by_fork(kind_table[i]))
			pmt_heap_fork_parent(&kind_table[i]->heap);
	pmt_kind_unlock();
	pmt_bg_atfork_parent();
}

static void
kind_atfork_child(void)
{
	unsigned	i;

	pmt_conn_atfork_child();
	pmt_bg_atfork_child();
	for (i = 0; i < PMT_KIND_MAX; i++) {
		struct memkind *k = kind_table[i];

		/*
		 * A fixed kind's memory is the caller's mapping, which the
		 * child has as the program mapped it, and REGULAR's is
		 * private anonymous memory the child has a copy of: those
		 * kinds go on.
		 */
		if (!kind_orphaned_by_fork(k))
			continue;
		k->forked = true;
		kind_set_gen(k, 0);
		pmt_heap_orphan(&k->heap);
	}
	/*
	 * This thread's caches may hold the parent's blocks: with the kinds'
	 * gen zeroed they are never used again.
	 */
	pthread_mutex_init(&kind_mutex, NULL);
}

/*
 * Static kinds. Slots 0-3 are the kmem kinds' per-thread state, slot 4
 * MEMKIND_REGULAR's, 5-13 the other NUMA-policy kinds'.
 */
#define KIND_DRAM(n)	{ .type = PMT_KIND_DRAM, .is_static = true,	\
	.name = n, .range_slot = -1 }
#define KIND_KMEM(n, s, pref)	{ .type = PMT_KIND_ARENA, .is_static = true, \
	.kmem = true, .slot = s, .fallback_dram = pref, .name = n,	\
	.range_slot = -1 }
#define KIND_NUMA(n, s, p)	{ .type = PMT_KIND_ARENA, .is_static = true, \
	.anon = true, .slot = 5 + (s), .numa = p, .name = n,		\
	.range_slot = -1 }
#define KIND_NONE(n)	{ .type = PMT_KIND_UNAVAILABLE, .is_static = true, \
	.name = n, .range_slot = -1 }

struct memkind pmt_kind_default = KIND_DRAM("memkind_default");
/* An arena kind of its own so that its blocks are told from DEFAULT's. */
struct memkind pmt_kind_regular = { .type = PMT_KIND_ARENA,
	.is_static = true, .anon = true, .slot = PMT_KIND_REGULAR_SLOT,
	.numa = PMT_NUMA_REGULAR, .name = "memkind_regular", .range_slot = -1 };
static struct memkind kind_numa[PMT_KIND_NUMA_KINDS] = {
	KIND_NUMA("memkind_interleave", 0, PMT_NUMA_INTERLEAVE),
	KIND_NUMA("memkind_highest_capacity", 1, PMT_NUMA_HICAP),
	KIND_NUMA("memkind_highest_capacity_preferred", 2,
	    PMT_NUMA_HICAP_PREF),
	KIND_NUMA("memkind_highest_capacity_local", 3, PMT_NUMA_HICAP_LOCAL),
	KIND_NUMA("memkind_highest_capacity_local_preferred", 4,
	    PMT_NUMA_HICAP_LOCAL_PREF),
	KIND_NUMA("memkind_lowest_latency_local", 5, PMT_NUMA_LOLAT_LOCAL),
	KIND_NUMA("memkind_lowest_latency_local_preferred", 6,
	    PMT_NUMA_LOLAT_LOCAL_PREF),
	KIND_NUMA("memkind_highest_bandwidth_local", 7, PMT_NUMA_HIBW_LOCAL),
	KIND_NUMA("memkind_highest_bandwidth_local_preferred", 8,
	    PMT_NUMA_HIBW_LOCAL_PREF),
};
static struct memkind kind_kmem[4] = {
	KIND_KMEM("memkind_dax_kmem", 0, false),
	KIND_KMEM("memkind_dax_kmem_all", 1, false),
	KIND_KMEM("memkind_dax_kmem_preferred", 2, true),
	KIND_KMEM("memkind_dax_kmem_interleave", 3, false),
};
static struct memkind kind_none[] = {
	KIND_NONE("memkind_hugetlb"), KIND_NONE("memkind_hbw"),
	KIND_NONE("memkind_hbw_all"), KIND_NONE("memkind_hbw_preferred"),
	KIND_NONE("memkind_hbw_hugetlb"), KIND_NONE("memkind_hbw_all_hugetlb"),
	KIND_NONE("memkind_hbw_preferred_hugetlb"),
	KIND_NONE("memkind_hbw_interleave"),
	KIND_NONE("memkind_hbw_gbtlb"), KIND_NONE("memkind_hbw_preferred_gbtlb"),
	KIND_NONE("memkind_gbtlb"),
};



PMT_EXPORT memkind_t MEMKIND_DEFAULT = &pmt_kind_default;
PMT_EXPORT memkind_t MEMKIND_REGULAR = &pmt_kind_regular;
PMT_EXPORT memkind_t MEMKIND_DAX_KMEM = &kind_kmem[0];
PMT_EXPORT memkind_t MEMKIND_DAX_KMEM_ALL = &kind_kmem[1];
PMT_EXPORT memkind_t MEMKIND_DAX_KMEM_PREFERRED = &kind_kmem[2];
PMT_EXPORT memkind_t MEMKIND_DAX_KMEM_INTERLEAVE = &kind_kmem[3];
PMT_EXPORT memkind_t MEMKIND_HUGETLB = &kind_none[0];
PMT_EXPORT memkind_t MEMKIND_HBW = &kind_none[1];
PMT_EXPORT memkind_t MEMKIND_HBW_ALL = &kind_none[2];
PMT_EXPORT memkind_t MEMKIND_HBW_PREFERRED = &kind_none[3];
PMT_EXPORT memkind_t MEMKIND_HBW_HUGETLB = &kind_none[4];
PMT_EXPORT memkind_t MEMKIND_HBW_ALL_HUGETLB = &kind_none[5];
PMT_EXPORT memkind_t MEMKIND_HBW_PREFERRED_HUGETLB = &kind_none[6];
PMT_EXPORT memkind_t MEMKIND_HBW_INTERLEAVE = &kind_none[7];
PMT_EXPORT memkind_t MEMKIND_INTERLEAVE = &kind_numa[0];
PMT_EXPORT memkind_t MEMKIND_HIGHEST_CAPACITY = &kind_numa[1];
PMT_EXPORT memkind_t MEMKIND_HIGHEST_CAPACITY_PREFERRED = &kind_numa[2];
PMT_EXPORT memkind_t MEMKIND_HIGHEST_CAPACITY_LOCAL = &kind_numa[3];
PMT_EXPORT memkind_t MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED = &kind_numa[4];
PMT_EXPORT memkind_t MEMKIND_LOWEST_LATENCY_LOCAL = &kind_numa[5];
PMT_EXPORT memkind_t MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED = &kind_numa[6];
PMT_EXPORT memkind_t MEMKIND_HIGHEST_BANDWIDTH_LOCAL = &kind_numa[7];
PMT_EXPORT memkind_t MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED =
    &kind_numa[8];
PMT_EXPORT memkind_t MEMKIND_HBW_GBTLB = &kind_none[8];
PMT_EXPORT memkind_t MEMKIND_HBW_PREFERRED_GBTLB = &kind_none[9];
PMT_EXPORT memkind_t MEMKIND_GBTLB = &kind_none[10];

/*
 * memkind reads MEMKIND_BACKGROUND_THREAD_LIMIT at load: a number of
 * threads (0: as many as CPUs) turns jemalloc's background threads on,
 * anything else is a fatal error. Here the one purge thread is on by
 * default and within any limit, so a valid value changes nothing; an
 * invalid one stops the program as memkind's does, naming the value.
 */
static void
kind_check_bg_limit(void)
{
	const char	*v = getenv("MEMKIND_BACKGROUND_THREAD_LIMIT");
	char		*end;
	unsigned long	 n;

	if (v == NULL)
		return;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (n > UINT_MAX || *end != '\0' || errno != 0) {
		fprintf(stderr, "libpmemtier: Error: Wrong value of "
		    "MEMKIND_BACKGROUND_THREAD_LIMIT=%s (a number of threads "
		    "from 0 to %u)\n", v, UINT_MAX);
		abort();
	}
}

__attribute__((constructor))
static void
kind_init(void)
{
	unsigned	i;

	for (i = 0; i < 4; i++)
		kind_table[i] = &kind_kmem[i];
	kind_table[PMT_KIND_REGULAR_SLOT] = &pmt_kind_regular;
	for (i = 0; i < PMT_KIND_NUMA_KINDS; i++)
		kind_table[kind_numa[i].slot] = &kind_numa[i];
	kind_check_bg_limit();
	pmt_thread_init();
	(void)pthread_atfork(kind_atfork_prepare, kind_atfork_parent,
	    kind_atfork_child);
	/* After the fork handlers: it initializes jemalloc (malloc.c). */
	pmt_malloc_bind();
}

/*
 * dlclose(): glibc drops our fork handlers itself; the thread key must go
 * too, or a thread exiting later would call into unmapped code. Kinds
 * still alive at that point are the program's leak (as in memkind); their
 * leases go with the connection when the process ends.
 */
__attribute__((destructor))
static void
kind_fini(void)
{
	/* Before the code it runs is unmapped, or the process is gone. */
	pmt_bg_fini();
	pmt_thread_fini();
}
