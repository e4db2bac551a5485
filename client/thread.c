/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "thread.h"

__thread struct pmt_thread *pmt_tls __attribute__((tls_model("initial-exec")));
uint8_t		pmt_class_of[PMT_FRONT_MAX / 8 + 1];
uint32_t	pmt_class_size[PMT_FRONT_NBINS + 1];

static pthread_key_t	thread_key;
static bool		thread_key_ok;
/* What a thread points at once its state is gone: no caches, no tcache. */
static struct pmt_thread thread_exited = { .exiting = true };

static void	thread_exit(void *arg);

/*
 * Bins follow jemalloc's own size classes (asked from jemalloc, not
 * hard-coded), so a block put back under its usable size is found again by
 * any request that jemalloc would have served from the same class.
 */
void
pmt_thread_init(void)
{
	size_t		size, cls;
	unsigned	nbins = 0;

	for (size = 0; size <= PMT_FRONT_MAX; size += 8) {
		cls = pmt_je_size_class(size ? size : 1);
		if (nbins == 0 || pmt_class_size[nbins - 1] != cls) {
			if (nbins == PMT_FRONT_NBINS || cls > PMT_FRONT_MAX)
				break;
			pmt_class_size[nbins++] = (uint32_t)cls;
		}
		pmt_class_of[size >> 3] = (uint8_t)(nbins - 1);
	}
	/*
	 * Should jemalloc ever have more small classes than bins, the rest
	 * go to the spare bin, which stays empty: never cached.
	 */
	for (; size <= PMT_FRONT_MAX; size += 8)
		pmt_class_of[size >> 3] = PMT_FRONT_NBINS;
	thread_key_ok = pthread_key_create(&thread_key, thread_exit) == 0;
}

void
pmt_thread_fini(void)
{
	if (thread_key_ok)
		(void)pthread_key_delete(thread_key);
	thread_key_ok = false;
}

static uint32_t
thread_bin_cap(struct memkind *k, unsigned c)
{
	uint32_t	cap;

	/*
	 * CONSERVATIVE wants freed memory back now, not cached. Otherwise
	 * this is also the bound on what a thread that stops using the kind
	 * keeps from it: about 660 KiB over all classes, plus the tcache.
	 */
	if (k->conservative || pmt_class_size[c] == 0)
		return 0;
	cap = (uint32_t)((64 * 1024) / pmt_class_size[c]);
	if (cap > PMT_FRONT_DEPTH)
		cap = PMT_FRONT_DEPTH;
	return cap < 4 ? 4 : cap;
}

static void
thread_link(struct pmt_tkind *tk, struct memkind *k)
{
	tk->next = k->threads;
	if (tk->next != NULL)
		tk->next->pprev = &tk->next;
	tk->pprev = &k->threads;
	k->threads = tk;
}

static void
thread_unlink(struct pmt_tkind *tk)
{
	if (tk->pprev == NULL)
		return;
	*tk->pprev = tk->next;
	if (tk->next != NULL)
		tk->next->pprev = tk->pprev;
	tk->next = NULL;
	tk->pprev = NULL;
}

/* Gives the entry's cached blocks back to the arena (owner only). */
static void
thread_trim(struct pmt_tkind *tk)
{
	unsigned	c;
	uint32_t	j;

	for (c = 0; c < PMT_FRONT_NBINS; c++) {
		for (j = 0; j < tk->bins[c].n; j++)
			pmt_je_free(tk->tcache, tk->bins[c].slot[j]);
		__atomic_store_n(&tk->bins[c].n, 0, __ATOMIC_RELAXED);
	}
	/* The tcache holds blocks too; flushing it lets slabs empty. */
	pmt_je_tcache_flush(tk->tcache);
}

/*
 * The background purge asked for a trim (see thread.h): clear the request
 * and trim. False when gen changed under us (the kind is being destroyed).
 */
static bool
thread_trim_asked(struct pmt_tkind *tk, uint64_t gen)
{
	uint64_t	want = gen | PMT_TK_TRIM;

	if (gen == 0 || !__atomic_compare_exchange_n(&tk->gen, &want, gen,
	    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return false;
	thread_trim(tk);
	return true;
}

static struct pmt_thread *
thread_self(void)
{
	struct pmt_thread	*t = pmt_tls;

	if (t != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (thread_key_ok)
		(void)pthread_setspecific(thread_key, t);
	pmt_tls = t;
	return t;
}

/*
 * The calling thread's state for k, made valid for k's current generation.
 * NULL when memory is short or the thread is exiting: callers then go
 * straight to the arena without a tcache.
 */
static struct pmt_tkind *
thread_get(struct memkind *k)
{
	struct pmt_thread	*t;
	struct pmt_tkind	*tk;
	unsigned		 c;
	int			 tc;

	if ((t = thread_self()) == NULL || t->exiting)
		return NULL;
	tk = t->k[k->slot];
	if (tk != NULL) {
		uint64_t g = __atomic_load_n(&tk->gen, __ATOMIC_RELAXED);
		uint64_t kg = __atomic_load_n(&k->gen, __ATOMIC_RELAXED);

		if (g == kg || (g == (kg | PMT_TK_TRIM) &&
		    thread_trim_asked(tk, kg)))
			return tk;
	}
	if (tk == NULL) {
		if ((tk = calloc(1, sizeof(*tk))) == NULL)
			return NULL;
		tk->tcache = -1;
		tk->owner = t;
		t->k[k->slot] = tk;
	}
	/*
	 * CONSERVATIVE goes without a tcache, as memkind's kinds do: a
	 * cached block would keep its slab, and so its pages, from going
	 * back at once.
	 */
	tc = -1;
	if (!k->conservative && (tc = pmt_je_tcache_create()) < 0)
		return NULL;
	pmt_kind_lock();
	if (k->gen == 0) {
		pmt_kind_unlock();
		if (tc >= 0)
			pmt_je_tcache_destroy((unsigned)tc);
		return NULL;
	}
	/* An entry left over from a destroyed kind in this slot: reset. */
	thread_unlink(tk);
	if (tk->tcache >= 0)
		pmt_je_tcache_destroy((unsigned)tk->tcache);
	tk->tcache = tc;
	tk->kind = k;
	for (c = 0; c < PMT_FRONT_NBINS; c++) {
		tk->bins[c].n = 0;
		tk->bins[c].cap = thread_bin_cap(k, c);
	}
	thread_link(tk, k);
	__atomic_store_n(&tk->gen, k->gen, __ATOMIC_RELAXED);
	pmt_kind_unlock();
	return tk;
}

/* Records p's size class in the class map (see thread.h). */
void
pmt_thread_note(struct memkind *k, void *p)
{
	size_t	usz;

	if (p == NULL)
		return;
	usz = pmt_je_usable_size(p);
	*pmt_thread_class_entry(k, p) = usz <= PMT_FRONT_MAX ?
	    (uint8_t)(pmt_class_of[usz >> 3] + 1) : 0;
}

void *
pmt_thread_alloc(struct memkind *k, size_t size, size_t align, bool zero)
{
	struct pmt_tkind	*tk;
	void			*p;

	if (pmt_kind_ready(k) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	tk = thread_get(k);
	p = pmt_je_alloc(k->arena, tk ? tk->tcache : -1, size, align, zero);
	/*
	 * Called back from inside jemalloc (the program's own mallctl makes
	 * jemalloc create a thread, whose TLS calloc comes to the preload),
	 * jemalloc serves every request from arena 0, whatever arena it is
	 * asked for: such a block is not the kind's. Give it back and fail
	 * with EAGAIN, which heap.c does not retry (a purge from in there
	 * could deadlock), so the caller falls back.
	 */
	if (__builtin_expect(p != NULL &&
	    (uintptr_t)p - k->base >= k->heap.reserved, 0)) {
		pmt_je_free_direct(p);
		errno = EAGAIN;
		return NULL;
	}
	pmt_thread_note(k, p);
	if (p == NULL)
		errno = ENOMEM;
	pmt_kind_report_if_due();
	return p;
}

/* Makes room in a full bin by giving its older half to the tcache. */
static void
thread_bin_flush(struct pmt_tkind *tk, struct pmt_bin *b)
{
	uint32_t	half = b->n / 2, i;

	for (i = 0; i < half; i++)
		pmt_je_free(tk->tcache, b->slot[i]);
	memmove(b->slot, b->slot + half, (b->n - half) * sizeof(void *));
	__atomic_store_n(&b->n, b->n - half, __ATOMIC_RELAXED);
}

void
pmt_thread_free(struct memkind *k, void *p)
{
	struct pmt_tkind	*tk;
	unsigned		 e;

	/* In a fork child the parent's blocks are not even mapped. */
	if (k->forked || __atomic_load_n(&k->gen, __ATOMIC_RELAXED) == 0)
		return;
	if ((tk = thread_get(k)) == NULL) {
		pmt_je_free_direct(p);
		return;
	}
	e = *pmt_thread_class_entry(k, p);
	if (e != 0 && tk->bins[e - 1].cap != 0) {
		struct pmt_bin	*b = &tk->bins[e - 1];

		if (b->n >= b->cap)
			thread_bin_flush(tk, b);
		b->slot[b->n] = p;
		__atomic_store_n(&b->n, b->n + 1, __ATOMIC_RELAXED);
		return;
	}
	pmt_je_free(tk->tcache, p);
}

void *
pmt_thread_realloc(struct memkind *k, void *p, size_t size)
{
	struct pmt_tkind	*tk;
	void			*q;

	if (pmt_kind_ready(k) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	tk = thread_get(k);
	if ((q = pmt_je_realloc(k->arena, tk ? tk->tcache : -1, p, size)) ==
	    NULL)
		errno = ENOMEM;
	pmt_thread_note(k, q);
	pmt_kind_report_if_due();
	return q;
}

void
pmt_thread_flush(struct memkind *k)
{
	struct pmt_thread	*t = pmt_tls;
	struct pmt_tkind	*tk;
	uint64_t		 kg = __atomic_load_n(&k->gen, __ATOMIC_RELAXED);

	if (t == NULL || kg == 0 || (tk = t->k[k->slot]) == NULL)
		return;
	/* A pending trim request is answered by this flush as well. */
	if (!thread_trim_asked(tk, kg) &&
	    __atomic_load_n(&tk->gen, __ATOMIC_RELAXED) == kg)
		thread_trim(tk);
}

void
pmt_thread_ask_trim(struct memkind *k)
{
	struct pmt_tkind	*tk;
	uint64_t		 kg = k->gen, want;

	for (tk = k->threads; tk != NULL; tk = tk->next) {
		want = kg;
		(void)__atomic_compare_exchange_n(&tk->gen, &want,
		    kg | PMT_TK_TRIM, false, __ATOMIC_RELAXED,
		    __ATOMIC_RELAXED);
	}
}

static void
thread_drop(struct pmt_tkind *tk)
{
	unsigned	c;

	if (tk->tcache >= 0)
		pmt_je_tcache_destroy((unsigned)tk->tcache);
	tk->tcache = -1;
	tk->kind = NULL;
	for (c = 0; c < PMT_FRONT_NBINS; c++)
		tk->bins[c].n = 0;
	thread_unlink(tk);
	__atomic_store_n(&tk->gen, 0, __ATOMIC_RELAXED);
}

void
pmt_thread_kind_gone(struct memkind *k)
{
	/*
	 * The blocks in the owners' bins belong to the arena about to be
	 * destroyed: forgetting them is all there is to do. Only the bin
	 * counts are written here, which the owner does not use concurrently
	 * with a destroy of the same kind (that would be undefined in memkind
	 * as well).
	 */
	while (k->threads != NULL)
		thread_drop(k->threads);
}

size_t
pmt_thread_cached(struct memkind *k)
{
	struct pmt_tkind	*tk;
	size_t			 n = 0;

	unsigned		 c;

	/* Other threads' counts, read racily: statistics, not accounting. */
	for (tk = k->threads; tk != NULL; tk = tk->next)
		for (c = 0; c < PMT_FRONT_NBINS; c++)
			n += (size_t)__atomic_load_n(&tk->bins[c].n,
			    __ATOMIC_RELAXED) * pmt_class_size[c];
	return n;
}

/* Flushes the exiting thread's caches into their arenas and frees them. */
static void
thread_exit(void *arg)
{
	struct pmt_thread	*t = arg;
	unsigned		 i, c, j;

	pmt_tls = &thread_exited;
	pmt_kind_lock();
	for (i = 0; i < PMT_KIND_MAX; i++) {
		struct pmt_tkind *tk = t->k[i];

		if (tk == NULL)
			continue;
		/* An unanswered trim request leaves the entry valid. */
		if (tk->kind != NULL && tk->kind->gen != 0 &&
		    (tk->gen & ~PMT_TK_TRIM) == tk->kind->gen) {
			for (c = 0; c < PMT_FRONT_NBINS; c++)
				for (j = 0; j < tk->bins[c].n; j++)
					pmt_je_free(tk->tcache,
					    tk->bins[c].slot[j]);
			thread_drop(tk);
		} else
			thread_unlink(tk);
		free(tk);
	}
	pmt_kind_unlock();
	free(t);
}
