/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-thread state of arena kinds: an explicit jemalloc tcache per kind
 * (jemalloc's automatic tcache would hand a freed pmem block to a DRAM
 * malloc) and, in front of it, a small cache of freed blocks per size
 * class. mallocx with arena and tcache flags costs about 2.5 times a plain
 * malloc; popping a block from an array costs a few loads. The front is
 * what keeps a pmem kind close to malloc's speed.
 *
 * A block's size class on free comes from the kind's class map (lease.h),
 * one byte load instead of a call into jemalloc: every allocation of an
 * arena kind passes pmt_thread_note(), which writes the class of the page
 * the block starts in. A page can change class only after all its blocks
 * were freed and it was reused, and its next block is noted again before
 * the application can hold it, so the byte is right for every live block.
 *
 * Only the owning thread touches its caches. Another thread touches a
 * thread's registration only under the kind lock, when the kind is
 * destroyed: it destroys the tcache and zeroes the entry's gen, which the
 * owner notices on its next use and takes as "start afresh".
 *
 * The background purge (bg.c) cannot empty another thread's caches, so it
 * asks: under the kind lock it sets PMT_TK_TRIM in each registered entry's
 * gen. The fast paths compare gen with the kind's and, finding them
 * different, take the slow path, which sees the bit, clears it and gives
 * the front cache and the tcache back to the arena before going on. The
 * request costs the fast paths nothing; a thread that never comes back
 * keeps what its caches held (bounded: see thread_bin_cap()).
 */
#ifndef PMT_THREAD_H
#define PMT_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "je.h"
#include "kind.h"

#define PMT_FRONT_MAX		4096	/* largest size class cached */
#define PMT_FRONT_NBINS		40
#define PMT_FRONT_DEPTH		32
/* In an entry's gen: "trim your caches" from the background purge. */
#define PMT_TK_TRIM		(1ULL << 63)

struct pmt_bin {
	uint32_t	 n;
	uint32_t	 cap;
	void		*slot[PMT_FRONT_DEPTH];
};

struct pmt_thread;

struct pmt_tkind {
	uint64_t		 gen;		/* valid while == kind->gen */
	struct memkind		*kind;
	struct pmt_thread	*owner;
	int			 tcache;	/* -1: none */
	struct pmt_tkind	*next;
	struct pmt_tkind	**pprev;
	/* One more, always empty: where sizes without a class land. */
	struct pmt_bin		 bins[PMT_FRONT_NBINS + 1];
};

struct pmt_thread {
	bool			 exiting;
	struct pmt_tkind	*k[PMT_KIND_MAX];
};

extern __thread struct pmt_thread *pmt_tls
    __attribute__((tls_model("initial-exec")));
extern uint8_t	pmt_class_of[PMT_FRONT_MAX / 8 + 1];
extern uint32_t	pmt_class_size[PMT_FRONT_NBINS + 1];

void	 pmt_thread_init(void);
/* When the library is unloaded: no thread-exit call into unmapped code. */
void	 pmt_thread_fini(void);
void	*pmt_thread_alloc(struct memkind *k, size_t size, size_t align,
	    bool zero);
void	 pmt_thread_free(struct memkind *k, void *p);
/* Records the size class of p, a block of k from outside these caches. */
void	 pmt_thread_note(struct memkind *k, void *p);
void	*pmt_thread_realloc(struct memkind *k, void *p, size_t size);
/* Gives the calling thread's cached blocks of k back to the arena. */
void	 pmt_thread_flush(struct memkind *k);
/* Under the kind lock: asks every thread caching k's blocks to trim. */
void	 pmt_thread_ask_trim(struct memkind *k);
/* Under the kind lock: forget every thread's state for k. */
void	 pmt_thread_kind_gone(struct memkind *k);
/* Under the kind lock: bytes of k's blocks held in front caches. */
size_t	 pmt_thread_cached(struct memkind *k);

static inline struct pmt_tkind *
pmt_thread_fast(struct memkind *k)
{
	struct pmt_thread	*t = pmt_tls;
	struct pmt_tkind	*tk;

	if (__builtin_expect(t == NULL, 0))
		return NULL;
	tk = t->k[k->slot];
	if (__builtin_expect(tk == NULL ||
	    __atomic_load_n(&tk->gen, __ATOMIC_RELAXED) !=
	    __atomic_load_n(&k->gen, __ATOMIC_RELAXED), 0))
		return NULL;
	return tk;
}

/* size must be 1..PMT_FRONT_MAX. */
static inline void *
pmt_thread_front_alloc(struct memkind *k, size_t size)
{
	struct pmt_tkind	*tk;
	struct pmt_bin		*b;
	uint32_t		 n;

	if ((tk = pmt_thread_fast(k)) == NULL)
		return NULL;
	b = &tk->bins[pmt_class_of[(size + 7) >> 3]];
	if ((n = b->n) == 0)
		return NULL;
	/* Relaxed: stats of other threads read n. */
	__atomic_store_n(&b->n, n - 1, __ATOMIC_RELAXED);
	return b->slot[n - 1];
}

/* Where p is in a class map of a range that starts at base. */
static inline size_t
pmt_class_index(uintptr_t base, const void *p)
{
	return ((uintptr_t)p - base) >> PMT_HEAP_PAGE_SHIFT;
}

/* The class map entry of p, which must lie in k's range. */
static inline uint8_t *
pmt_thread_class_entry(struct memkind *k, const void *p)
{
	return &k->classmap[pmt_class_index(k->base, p)];
}

/*
 * Puts p in the calling thread's front cache of the kind described by
 * kslot, gen and classmap/base (from the kind, or from its range slot).
 */
static inline bool
pmt_thread_front_free_at(unsigned kslot, uint64_t gen,
    const uint8_t *classmap, uintptr_t base, void *p)
{
	struct pmt_thread	*t = pmt_tls;
	struct pmt_tkind	*tk;
	struct pmt_bin		*b;
	unsigned		 e;
	uint32_t		 n;

	if (__builtin_expect(t == NULL, 0))
		return false;
	tk = t->k[kslot];
	if (__builtin_expect(tk == NULL ||
	    __atomic_load_n(&tk->gen, __ATOMIC_RELAXED) != gen, 0))
		return false;
	if ((e = classmap[pmt_class_index(base, p)]) == 0)
		return false;
	b = &tk->bins[e - 1];
	if ((n = b->n) >= b->cap)
		return false;
	b->slot[n] = p;
	__atomic_store_n(&b->n, n + 1, __ATOMIC_RELAXED);
	return true;
}

static inline bool
pmt_thread_front_free(struct memkind *k, void *p)
{
	return pmt_thread_front_free_at(k->slot,
	    __atomic_load_n(&k->gen, __ATOMIC_RELAXED), k->classmap, k->base,
	    p);
}

#endif /* PMT_THREAD_H */
