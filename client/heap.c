/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind's heap functions. DRAM kinds go straight to jemalloc's malloc
 * family; arena kinds try the per-thread front cache first, then their
 * arena through the thread's tcache for the kind.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "kind.h"
#include "range.h"
#include "thread.h"

/* The kind that owns p: an arena kind by its range, else DEFAULT. */
static struct memkind *
heap_owner(void *p)
{
	struct memkind	*k = pmt_range_lookup(p);

	return k != NULL ? k : &pmt_kind_default;
}

/*
 * Counts an allocation k failed; the count goes to the daemon with the
 * next usage report. Not a report of its own: a report sent while the
 * kind is full would leave the daemon charging that fill until the next
 * one (reports are charged, daemon/lease.c).
 */
static void
heap_refused(struct memkind *k)
{
	__atomic_add_fetch(&k->refused, 1, __ATOMIC_RELAXED);
}

/*
 * An arena kind that is full (max_size, or the daemon's quota) may still
 * hold what it needs in blocks this thread caches and in dirty pages
 * jemalloc keeps for reuse: those cannot serve a bigger block, and their
 * leases leave no room for a new one. Giving both back and trying once
 * more lets the kind fill to max_size whatever the order of its blocks.
 */
static void *
heap_arena_alloc(struct memkind *k, size_t size, size_t align, bool zero)
{
	void	*p;

	if ((p = pmt_thread_alloc(k, size, align, zero)) != NULL ||
	    errno == EAGAIN || pmt_kind_ready(k) != 0)
		return p;
	pmt_thread_flush(k);
	pmt_je_arena_purge(k->arena);
	return pmt_thread_alloc(k, size, align, zero);
}

/*
 * Everything but a front-cache hit: arena kinds, DRAM, alignment, zeroing.
 * A success leaves errno as it was, though leases, reports and the
 * daemon's socket may have set it on the way (memkind's examples check).
 */
static void *
heap_alloc_slow(struct memkind *k, size_t size, size_t align, bool zero)
{
	void	*p = NULL;
	int	 saved = errno;

	if (size == 0)
		return NULL;
	if (k->type == PMT_KIND_ARENA) {
		p = heap_arena_alloc(k, size, align, zero);
		/* Counted for the usage report (not jemalloc's re-entry). */
		if (p == NULL && errno != EAGAIN)
			heap_refused(k);
		/* DAX_KMEM_PREFERRED falls back to ordinary memory. */
		if (p == NULL && k->fallback_dram)
			p = pmt_je_dram_alloc(size, align, zero);
	} else if (k->type == PMT_KIND_DRAM)
		p = pmt_je_dram_alloc(size, align, zero);
	errno = p != NULL ? saved : ENOMEM;
	return p;
}

PMT_EXPORT void *
memkind_malloc(memkind_t kind, size_t size)
{
	void	*p;

	if (PMT_UNLIKELY(kind == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	if (PMT_LIKELY(kind->type == PMT_KIND_ARENA && size - 1 <
	    PMT_FRONT_MAX) && (p = pmt_thread_front_alloc(kind, size)) != NULL)
		return p;
	return heap_alloc_slow(kind, size, 0, false);
}

PMT_EXPORT void *
memkind_calloc(memkind_t kind, size_t num, size_t size)
{
	size_t	total;
	void	*p;

	if (kind == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (num == 0 || size == 0)
		return NULL;
	if (__builtin_mul_overflow(num, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (kind->type == PMT_KIND_ARENA && total <= PMT_FRONT_MAX &&
	    (p = pmt_thread_front_alloc(kind, total)) != NULL)
		return memset(p, 0, total);
	return heap_alloc_slow(kind, total, 0, true);
}

PMT_EXPORT int
memkind_posix_memalign(memkind_t kind, void **memptr, size_t alignment,
    size_t size)
{
	void	*p;
	int	 saved = errno;

	if (kind == NULL || memptr == NULL)
		return EINVAL;
	if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
		return EINVAL;
	*memptr = NULL;
	if (size == 0)
		return 0;
	/* Like posix_memalign(3), and memkind: the error is only returned. */
	if ((p = heap_alloc_slow(kind, size, alignment, false)) == NULL) {
		errno = saved;
		return ENOMEM;
	}
	*memptr = p;
	return 0;
}

PMT_EXPORT void
memkind_free(memkind_t kind, void *ptr)
{
	const struct pmt_range_slot	*s;
	struct memkind			*k = kind;

	if (PMT_UNLIKELY(ptr == NULL))
		return;
	/*
	 * Kind NULL, and DRAM kinds too: a pmem block handed to jemalloc's
	 * automatic tcache could come back from a DRAM malloc, so the range
	 * check decides whenever the caller did not name an arena kind.
	 */
	if (k == NULL || k->type != PMT_KIND_ARENA) {
		if ((s = pmt_range_find(ptr)) == NULL) {
			pmt_je_dram_free(ptr);
			return;
		}
		if (PMT_LIKELY(pmt_thread_front_free_at(s->kslot,
		    __atomic_load_n(&s->gen, __ATOMIC_RELAXED), s->classmap,
		    s->base, ptr)))
			return;
		pmt_thread_free(s->owner, ptr);
		return;
	}
	/*
	 * A block of another kind (or DRAM, which DAX_KMEM_PREFERRED falls
	 * back to) named with k: k's class map and caches know nothing of
	 * it, so it goes where it belongs, as memkind frees it.
	 */
	if (PMT_UNLIKELY((uintptr_t)ptr - k->base >= k->heap.reserved)) {
		memkind_free(NULL, ptr);
		return;
	}
	if (PMT_LIKELY(pmt_thread_front_free(k, ptr)))
		return;
	pmt_thread_free(k, ptr);
}

/* realloc to another kind than the block's: allocate, copy, free. */
static void *
heap_move(struct memkind *to, struct memkind *from, void *ptr, size_t size)
{
	size_t	 old = pmt_je_usable_size(ptr);
	void	*q;

	if ((q = memkind_malloc(to, size)) == NULL)
		return NULL;
	memcpy(q, ptr, old < size ? old : size);
	memkind_free(from, ptr);
	return q;
}

PMT_EXPORT void *
memkind_realloc(memkind_t kind, void *ptr, size_t size)
{
	struct memkind	*from;
	void		*q;
	int		 saved;

	if (kind == NULL && ptr == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (ptr == NULL)
		return memkind_malloc(kind, size);
	from = heap_owner(ptr);
	if (kind == NULL)
		kind = from;
	if (size == 0) {
		memkind_free(from, ptr);
		return NULL;
	}
	if (kind->type == PMT_KIND_UNAVAILABLE) {
		errno = ENOMEM;
		return NULL;
	}
	if (from != kind && !(from->type == PMT_KIND_DRAM &&
	    kind->type == PMT_KIND_DRAM))
		return heap_move(kind, from, ptr, size);
	saved = errno;
	if (kind->type == PMT_KIND_DRAM)
		q = pmt_je_dram_realloc(ptr, size);
	else if ((q = pmt_thread_realloc(kind, ptr, size)) == NULL)
		heap_refused(kind);
	errno = q != NULL ? saved : ENOMEM;
	return q;
}

PMT_EXPORT size_t
memkind_malloc_usable_size(memkind_t kind,
    MEMKIND_MALLOC_USABLE_SIZE_CONST void *ptr)
{
	const struct pmt_range_slot	*s;
	struct memkind			*k;
	unsigned			 e;

	if (ptr == NULL)
		return 0;
	if ((s = pmt_range_find(ptr)) == NULL)
		return pmt_je_usable_size(ptr);
	k = __atomic_load_n(&s->owner, __ATOMIC_RELAXED);
	/*
	 * A parent's block in a fork child: its pages are not mapped here,
	 * unless as a snapshot (lease.h).
	 */
	if (k->forked && !k->heap.snapshot)
		return 0;
	/*
	 * A small block's class is in the kind's class map (thread.h), a
	 * byte load where jemalloc's lookup walks its radix tree (memtier
	 * counts every block it hands out and takes back with this).
	 */
	e = s->classmap[pmt_class_index(s->base, ptr)];
	if (e != 0)
		return pmt_class_size[e - 1];
	return pmt_je_usable_size(ptr);
}

PMT_EXPORT memkind_t
memkind_detect_kind(void *ptr)
{
	if (ptr == NULL)
		return NULL;
	return heap_owner(ptr);
}

/*
 * Moves ptr when that helps empty a sparse slab: jemalloc's statistics of
 * the block's slab say whether it is worth emptying, and the new block is
 * kept only if it landed in a slab at least as full (see je.c). Neither
 * block passes through the caches, which would keep the old slab alive
 * and hand out the new block from anywhere.
 */
PMT_EXPORT void *
memkind_defrag_reallocate(memkind_t kind, void *ptr)
{
	struct memkind	*k;
	size_t		 size;
	void		*q;

	if (ptr == NULL)
		return NULL;
	/* The block's own kind: its arena is where it must stay. */
	k = heap_owner(ptr);
	if (kind != NULL && kind->type == PMT_KIND_DRAM &&
	    k->type == PMT_KIND_DRAM)
		k = kind;
	if (k->type == PMT_KIND_ARENA && pmt_kind_ready(k) != 0)
		return NULL;
	if (!pmt_je_should_move(ptr))
		return NULL;
	size = pmt_je_usable_size(ptr);
	q = pmt_je_alloc_direct(k->type == PMT_KIND_ARENA ? k->arena : NULL,
	    size);
	if (q == NULL)
		return NULL;
	if (!pmt_je_move_pays(ptr, q)) {
		pmt_je_free_direct(q);
		return NULL;
	}
	if (k->type == PMT_KIND_ARENA)
		pmt_thread_note(k, q);
	memcpy(q, ptr, size);
	pmt_je_free_direct(ptr);
	return q;
}
