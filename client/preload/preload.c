/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpmemtier-preload.so: the malloc family of an unmodified program,
 * spread between DRAM and a tier by a memtier policy (docs/client.md).
 *
 * DRAM is glibc's own malloc (__libc_malloc & co., called directly), not
 * jemalloc's default arena. That one decision makes the hard cases easy:
 *
 *  - free() of anything that is not in a tier's address range goes to
 *    __libc_free, which is exactly what would have happened without the
 *    preload: blocks from before the preload took effect, from ld.so or
 *    from libc's internals are glibc's, and need no registry of ours.
 *  - Initialisation needs no bootstrap buffer: while the preload is not
 *    ready, or a thread is inside libpmemtier on the preload's behalf
 *    (pl_busy), every allocation is glibc's. The __libc_* entry points are
 *    bound by the linker, so no dlsym() is needed before the first malloc.
 *  - Tier blocks are told by memkind_detect_kind(), a range check.
 *
 * What is routed to a tier is decided by the memtier memory built from
 * MEMKIND_MEM_TIERS: the policy's pick, the block then made by
 * memtier_kind_*() so that the per-kind counts the policy reads are
 * right; DRAM blocks are counted here with glibc's usable size. A tier
 * that refuses (quota, full, daemon gone) makes the block DRAM's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../memtier.h"
#include "preload.h"

#define PL_EXPORT	__attribute__((visibility("default")))
#define PL_UNLIKELY(x)	__builtin_expect(!!(x), 0)

/* glibc's own allocator, exported by libc.so.6 for this purpose. */
extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);
extern void	 __libc_free(void *);
extern void	*__libc_memalign(size_t, size_t);

unsigned long long pmemtier_preload_fallbacks(void);

enum pl_state {
	PL_NEW,		/* nothing done yet */
	PL_STARTING,	/* one thread is building the tiers */
	PL_READY,	/* routing by policy */
	PL_OFF,		/* no or a bad configuration: glibc only */
	PL_FORKED,	/* a fork child: glibc for new blocks */
};

static _Atomic int	 pl_state = PL_NEW;
static struct memtier_memory *pl_mem;
/* glibc's malloc_usable_size (ours shadows it in the global scope). */
static size_t		(*pl_glibc_usable)(void *);
static _Atomic unsigned long long pl_fallbacks;
static _Atomic unsigned long long pl_tier_bytes;	/* ever put on a tier */
/*
 * After a tier refused, it stays closed (picks go to DRAM) for a while:
 * a refused attempt costs a purge of the arena and daemon round trips
 * (about 1 ms), and a full quota stays full. The window doubles while
 * refusals go on (PL_CLOSED_MIN_NS to PL_CLOSED_MAX_NS) and shrinks back
 * on the next success. A count of picks would not do: a program that
 * frees and allocates all the time would retry hundreds of times a second.
 */
#define PL_CLOSED_MIN_NS	1000000LL	/* 1 ms */
#define PL_CLOSED_MAX_NS	128000000LL	/* 128 ms */
static _Atomic long long pl_closed_until;	/* CLOCK_MONOTONIC ns */
static _Atomic long long pl_closed_span = PL_CLOSED_MIN_NS;
/* PMEMTIER_DEBUG: a copy of stderr (programs close theirs at exit). */
static int		 pl_debug_fd = -1;
/* Inside libpmemtier for the preload: allocations go to glibc. */
static __thread int	 pl_busy __attribute__((tls_model("initial-exec")));

/*
 * A fork child uses glibc only: its kinds are the parent's, read-only in
 * effect (lease.h's snapshot); their blocks are read, copied out by
 * realloc, and left alone by free.
 */
static void
pl_atfork_child(void)
{
	int	s = atomic_load(&pl_state);

	if (s == PL_READY)
		atomic_store(&pl_state, PL_FORKED);
}

static bool
pl_debug(void)
{
	const char	*v = getenv("PMEMTIER_DEBUG");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

static void
pl_resolve_glibc(void)
{
	void	*h;

	if (pl_glibc_usable != NULL)
		return;
	pl_busy++;
	if ((h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD)) != NULL) {
		pl_glibc_usable = (size_t (*)(void *))dlsym(h,
		    "malloc_usable_size");
		dlclose(h);
	}
	pl_busy--;
}

static void
pl_init(void)
{
	int	 expect = PL_NEW;
	char	 why[256] = "";
	const char *tiers;

	if (!atomic_compare_exchange_strong(&pl_state, &expect, PL_STARTING))
		return;
	pl_busy++;
	pmemtier_priv_fork_snapshot(true);
	(void)pthread_atfork(NULL, NULL, pl_atfork_child);
	pl_resolve_glibc();
	tiers = getenv("MEMKIND_MEM_TIERS");
	if (pl_glibc_usable != NULL && tiers != NULL)
		pl_mem = pl_env_build(tiers, getenv("MEMKIND_MEM_THRESHOLDS"),
		    why, sizeof(why));
	else
		snprintf(why, sizeof(why), pl_glibc_usable == NULL ?
		    "glibc's malloc_usable_size not found" :
		    "MEMKIND_MEM_TIERS is not set");
	if (pl_debug()) {
		pl_debug_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
		if (pl_mem == NULL)
			dprintf(pl_debug_fd, "pmemtier-preload[%d]: no "
			    "tiering: %s\n", (int)getpid(), why);
	}
	atomic_store(&pl_state, pl_mem != NULL ? PL_READY : PL_OFF);
	pl_busy--;
}

__attribute__((constructor))
static void
pl_ctor(void)
{
	pl_init();
}

/* PMEMTIER_DEBUG: one line at exit on what went where. */
__attribute__((destructor))
static void
pl_dtor(void)
{
	if (atomic_load(&pl_state) != PL_READY || pl_debug_fd < 0)
		return;
	dprintf(pl_debug_fd, "pmemtier-preload[%d]: tier bytes allocated %llu, "
	    "fallbacks to DRAM %llu, now on DRAM %zu\n", (int)getpid(),
	    atomic_load(&pl_tier_bytes), atomic_load(&pl_fallbacks),
	    memtier_kind_allocated_size(MEMKIND_DEFAULT));
}

/* Whether this call may use the tiers (starts them on first use). */
static inline bool
pl_route(void)
{
	int	s = atomic_load_explicit(&pl_state, memory_order_acquire);

	if (PL_UNLIKELY(s == PL_NEW)) {
		pl_init();
		s = atomic_load(&pl_state);
	}
	return s == PL_READY && pl_busy == 0;
}

static inline void
pl_count_dram(void *p, long long sign)
{
	if (p != NULL && pl_glibc_usable != NULL &&
	    atomic_load_explicit(&pl_state, memory_order_relaxed) == PL_READY)
		pmemtier_priv_memtier_count(MEMKIND_DEFAULT,
		    sign * (long long)pl_glibc_usable(p));
}

/* The tier kind that owns p, or NULL for glibc's (and foreign) blocks. */
static inline memkind_t
pl_tier_of(void *p)
{
	memkind_t	k = memkind_detect_kind(p);

	return k == MEMKIND_DEFAULT ? NULL : k;
}

static long long
pl_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A tier said no: closed for the window, a longer one next time. */
static void
pl_refused(void)
{
	long long	span = atomic_load_explicit(&pl_closed_span,
	    memory_order_relaxed);

	atomic_fetch_add_explicit(&pl_fallbacks, 1, memory_order_relaxed);
	atomic_store_explicit(&pl_closed_until, pl_now_ns() + span,
	    memory_order_relaxed);
	if (span < PL_CLOSED_MAX_NS)
		atomic_store_explicit(&pl_closed_span, span * 2,
		    memory_order_relaxed);
}

static inline bool
pl_tier_closed(void)
{
	long long	until = atomic_load_explicit(&pl_closed_until,
	    memory_order_relaxed);

	return PL_UNLIKELY(until != 0) && pl_now_ns() < until;
}

/* A tier served a block: the next refusal gets the shortest window. */
static inline void
pl_tier_served(void)
{
	if (PL_UNLIKELY(atomic_load_explicit(&pl_closed_until,
	    memory_order_relaxed) != 0)) {
		atomic_store_explicit(&pl_closed_until, 0,
		    memory_order_relaxed);
		atomic_store_explicit(&pl_closed_span, PL_CLOSED_MIN_NS,
		    memory_order_relaxed);
	}
}

/*
 * The common path of every allocating call: the policy's kind, the tier
 * tried first, glibc when it is DRAM or the tier refuses.
 */
static void *
pl_alloc(size_t size, size_t align, bool zero)
{
	memkind_t	 k;
	void		*p = NULL;

	if (pl_route()) {
		pl_busy++;
		k = pmemtier_priv_memtier_pick(pl_mem, size);
		/*
		 * The library's purge thread may hold its connection lock,
		 * which a tier allocation can need: DRAM for it.
		 */
		if (k != MEMKIND_DEFAULT && pmemtier_priv_internal_thread())
			k = MEMKIND_DEFAULT;
		if (k != MEMKIND_DEFAULT && pl_tier_closed()) {
			atomic_fetch_add_explicit(&pl_fallbacks, 1,
			    memory_order_relaxed);
			k = MEMKIND_DEFAULT;
		}
		if (k != MEMKIND_DEFAULT) {
			if (align != 0) {
				if (memtier_kind_posix_memalign(k, &p, align,
				    size) != 0)
					p = NULL;
				else if (zero)
					memset(p, 0, size);
			} else if (zero)
				p = memtier_kind_calloc(k, 1, size);
			else
				p = memtier_kind_malloc(k, size);
			if (p == NULL)
				pl_refused();
			else {
				pl_tier_served();
				atomic_fetch_add_explicit(&pl_tier_bytes, size,
				    memory_order_relaxed);
			}
		}
		pmemtier_priv_memtier_done(pl_mem);
		pl_busy--;
		if (p != NULL)
			return p;
	}
	if (align != 0)
		p = __libc_memalign(align, size);
	else if (zero)
		p = __libc_calloc(1, size);
	else
		p = __libc_malloc(size);
	pl_count_dram(p, 1);
	return p;
}

PL_EXPORT void *
malloc(size_t size)
{
	return pl_alloc(size, 0, false);
}

PL_EXPORT void *
calloc(size_t n, size_t size)
{
	size_t	total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return pl_alloc(total, 0, true);
}

PL_EXPORT void
free(void *p)
{
	memkind_t	k;

	if (p == NULL)
		return;
	if ((k = pl_tier_of(p)) != NULL) {
		pl_busy++;
		memtier_kind_free(k, p);
		pl_busy--;
		return;
	}
	pl_count_dram(p, -1);
	__libc_free(p);
}

PL_EXPORT void *
realloc(void *p, size_t size)
{
	memkind_t	 k;
	void		*q;
	size_t		 old;

	if (p == NULL)
		return malloc(size);
	if (size == 0) {
		free(p);
		return NULL;
	}
	if ((k = pl_tier_of(p)) == NULL) {
		/* A block stays in its kind, as memtier_realloc does. */
		pl_count_dram(p, -1);
		if ((q = __libc_realloc(p, size)) == NULL)
			pl_count_dram(p, 1);
		pl_count_dram(q, 1);
		return q;
	}
	pl_busy++;
	old = memtier_usable_size(p);
	q = atomic_load(&pl_state) == PL_FORKED ? NULL :
	    memtier_kind_realloc(k, p, size);
	pl_busy--;
	if (q != NULL)
		return q;
	/* The tier refused to grow it (or is the parent's): to DRAM. */
	if (atomic_load(&pl_state) == PL_FORKED)
		atomic_fetch_add_explicit(&pl_fallbacks, 1,
		    memory_order_relaxed);
	else
		pl_refused();
	if ((q = __libc_malloc(size)) == NULL)
		return NULL;
	pl_count_dram(q, 1);
	memcpy(q, p, old < size ? old : size);
	free(p);
	return q;
}

PL_EXPORT void *
reallocarray(void *p, size_t n, size_t size)
{
	size_t	total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

/* Alignments as glibc's memalign takes them: rounded up to a power of 2. */
static size_t
pl_align(size_t align)
{
	size_t	a = sizeof(void *);

	while (a < align && a != 0)
		a <<= 1;
	return a;
}

PL_EXPORT int
posix_memalign(void **memptr, size_t align, size_t size)
{
	void	*p;
	int	 saved = errno;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	if ((p = pl_alloc(size, align, false)) == NULL) {
		errno = saved;
		return ENOMEM;
	}
	*memptr = p;
	return 0;
}

PL_EXPORT void *
memalign(size_t align, size_t size)
{
	size_t	a = pl_align(align);

	if (a == 0 || align > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	return pl_alloc(size, a, false);
}

/* As glibc 2.38+: the alignment must be a power of two. */
PL_EXPORT void *
aligned_alloc(size_t align, size_t size)
{
	if (align == 0 || (align & (align - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	return pl_alloc(size, pl_align(align), false);
}

PL_EXPORT void *
valloc(size_t size)
{
	return pl_alloc(size, (size_t)sysconf(_SC_PAGESIZE), false);
}

PL_EXPORT void *
pvalloc(size_t size)
{
	size_t	page = (size_t)sysconf(_SC_PAGESIZE);

	if (size > SIZE_MAX - page) {
		errno = ENOMEM;
		return NULL;
	}
	return pl_alloc(size ? (size + page - 1) & ~(page - 1) : page, page,
	    false);
}

PL_EXPORT size_t
malloc_usable_size(void *p)
{
	if (p == NULL)
		return 0;
	if (pl_tier_of(p) != NULL)
		return memtier_usable_size(p);
	pl_resolve_glibc();
	return pl_glibc_usable != NULL ? pl_glibc_usable(p) : 0;
}

/* For tests and pmemtier-run --stats: tier refusals served by DRAM. */
PL_EXPORT unsigned long long
pmemtier_preload_fallbacks(void)
{
	return atomic_load(&pl_fallbacks);
}
