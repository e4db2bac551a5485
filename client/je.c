/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jemalloc adapter: arenas over caller-provided memory, explicit tcaches,
 * purging and statistics through mallctl. Debian's libjemalloc is built
 * without a symbol prefix, so the plain names are jemalloc's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "debug.h"
#include "je.h"

/*
 * jemalloc hands the hooks pointer back to every hook, so keeping the hooks
 * first in our arena lets a hook find its arena without any lookup.
 */
struct pmt_je_arena {
	extent_hooks_t		hooks;
	struct pmt_je_backing	backing;
	unsigned		index;
	bool			metadata_dram;
};

/* jemalloc 5.3's argument to "experimental.arenas_create_ext". */
struct je_arena_config {
	extent_hooks_t	*extent_hooks;
	bool		 metadata_use_hooks;
};

static struct pmt_je_arena *
je_arena(extent_hooks_t *h)
{
	return (struct pmt_je_arena *)(void *)h;
}

/*
 * extent_alloc: NULL means failure here, true everywhere else. Address
 * space is handed out uncommitted where it has no lease yet: jemalloc
 * grows its retained space in big steps and commits only what it uses, so
 * leases (quota, tier space) follow use rather than address space.
 */
static void *
je_hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align,
    bool *zero, bool *commit, unsigned arena_ind)
{
	struct pmt_je_arena	*a = je_arena(h);
	bool			 committed = false;
	void			*p;

	p = a->backing.alloc(a->backing.arg, new_addr, size, align,
	    &committed);
	if (p == NULL)
		return NULL;
	if (*commit && !committed &&
	    a->backing.commit(a->backing.arg, p, size) != 0)
		return NULL;	/* the address space stays ours, unused */
	if (!*commit)
		*commit = committed;
	/* Never handed out before: file holes and fresh memfd pages. */
	*zero = true;
	return p;
}

/*
 * Opting out of dalloc makes jemalloc retain the range for reuse: the
 * address space belongs to the kind until the kind is destroyed.
 */
static bool
je_hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind)
{
	return true;
}

static void
je_hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind)
{
	/* The kind unmaps its whole reservation after the arena is gone. */
}

static bool
je_hook_commit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	struct pmt_je_arena *a = je_arena(h);

	return a->backing.commit(a->backing.arg, (char *)addr + offset,
	    length) != 0;
}

/* Decommitting punches the range out; leases left unused are returned. */
static bool
je_hook_decommit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	struct pmt_je_arena *a = je_arena(h);

	return a->backing.decommit(a->backing.arg, (char *)addr + offset,
	    length) != 0;
}

static bool
je_hook_purge_forced(extent_hooks_t *h, void *addr, size_t size,
    size_t offset, size_t length, unsigned arena_ind)
{
	struct pmt_je_arena *a = je_arena(h);

	return a->backing.purge(a->backing.arg, (char *)addr + offset,
	    length) != 0;
}

static bool
je_hook_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
    size_t size_b, bool committed, unsigned arena_ind)
{
	return false;	/* any page boundary of a lease is a valid split */
}

static bool
je_hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
    size_t size_b, bool committed, unsigned arena_ind)
{
	/* Leases of one kind are mapped back to back in its reservation. */
	return false;
}

static const extent_hooks_t je_hooks_template = {
	.alloc = je_hook_alloc,
	.dalloc = je_hook_dalloc,
	.destroy = je_hook_destroy,
	.commit = je_hook_commit,
	.decommit = je_hook_decommit,
	.purge_lazy = NULL,	/* lazy purging would keep the pages charged */
	.purge_forced = je_hook_purge_forced,
	.split = je_hook_split,
	.merge = je_hook_merge,
};

static int
je_arena_set_ssize(unsigned index, const char *what, ssize_t v)
{
	char	name[64];

	snprintf(name, sizeof(name), "arena.%u.%s", index, what);
	return mallctl(name, NULL, NULL, &v, sizeof(v)) == 0 ? 0 : -EINVAL;
}

/*
 * jemalloc 5.3 can keep an arena's metadata (extent descriptors, bins,
 * rtree leaves) in ordinary memory when created through
 * "experimental.arenas_create_ext"; older versions put it in the hooks'
 * memory, i.e. in the lease. Prefer the former, fall back to the latter.
 */
static int
je_arena_new(struct pmt_je_arena *a)
{
	struct je_arena_config	 cfg;
	extent_hooks_t		*hp = &a->hooks;
	size_t			 sz = sizeof(unsigned);

	cfg.extent_hooks = &a->hooks;
	cfg.metadata_use_hooks = false;
	if (mallctl("experimental.arenas_create_ext", &a->index, &sz, &cfg,
	    sizeof(cfg)) == 0) {
		a->metadata_dram = true;
		return 0;
	}
	sz = sizeof(unsigned);
	if (mallctl("arenas.create", &a->index, &sz, &hp, sizeof(hp)) == 0) {
		a->metadata_dram = false;
		return 0;
	}
	return -ENOMEM;
}

int
pmt_je_arena_create(const struct pmt_je_backing *b, bool conservative,
    struct pmt_je_arena **out)
{
	struct pmt_je_arena	*a;
	int			 rc;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->hooks = je_hooks_template;
	a->backing = *b;
	if ((rc = je_arena_new(a)) != 0) {
		free(a);
		return rc;
	}
	/* CONSERVATIVE: every freed page goes back at once, as memkind does. */
	if (conservative &&
	    (je_arena_set_ssize(a->index, "dirty_decay_ms", 0) != 0 ||
	    je_arena_set_ssize(a->index, "muzzy_decay_ms", 0) != 0))
		pmt_debug("je: arena %u: cannot set decay times", a->index);
	pmt_debug("je: arena %u created, metadata in %s", a->index,
	    a->metadata_dram ? "DRAM" : "the lease");
	*out = a;
	return 0;
}

void
pmt_je_arena_destroy(struct pmt_je_arena *a)
{
	char	name[64];

	if (a == NULL)
		return;
	snprintf(name, sizeof(name), "arena.%u.destroy", a->index);
	if (mallctl(name, NULL, NULL, NULL, 0) != 0)
		pmt_debug("je: %s failed", name);
	/*
	 * jemalloc may still call hooks of a destroyed arena it keeps for
	 * reuse; the hooks only ever read a->backing, which stays valid
	 * because the arena struct is deliberately not freed when destroy
	 * failed.
	 */
	else
		free(a);
}

unsigned
pmt_je_arena_index(const struct pmt_je_arena *a)
{
	return a->index;
}

bool
pmt_je_arena_metadata_in_dram(const struct pmt_je_arena *a)
{
	return a->metadata_dram;
}

void
pmt_je_arena_purge(struct pmt_je_arena *a)
{
	char	name[64];

	snprintf(name, sizeof(name), "arena.%u.purge", a->index);
	(void)mallctl(name, NULL, NULL, NULL, 0);
}

/*
 * One step of the arena's decay: jemalloc purges what its decay curve says
 * is due by now. It only ever does this when some allocation ticks the
 * arena, so the background purge (bg.c) calls it on a timer.
 */
void
pmt_je_arena_decay(unsigned index)
{
	char	name[64];

	snprintf(name, sizeof(name), "arena.%u.decay", index);
	(void)mallctl(name, NULL, NULL, NULL, 0);
}

ssize_t
pmt_je_arena_decay_ms(unsigned index)
{
	char	name[64];
	ssize_t	v = -1;
	size_t	sz = sizeof(v);

	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", index);
	if (mallctl(name, &v, &sz, NULL, 0) != 0)
		return -1;
	return v;
}

/* Reads "stats.arenas.<index>.<what>". */
static size_t
je_get_size(unsigned index, const char *what)
{
	char	name[96];
	size_t	v = 0, sz = sizeof(v);

	snprintf(name, sizeof(name), "stats.arenas.%u.%s", index, what);
	if (mallctl(name, &v, &sz, NULL, 0) != 0)
		return 0;
	return v;
}

static size_t
je_page(void)
{
	size_t	v = 4096, sz = sizeof(v);

	(void)mallctl("arenas.page", &v, &sz, NULL, 0);
	return v;
}

int
pmt_je_arena_stats(struct pmt_je_arena *a, struct pmt_je_stats *st)
{
	unsigned	i = a->index;

	st->allocated = je_get_size(i, "small.allocated") +
	    je_get_size(i, "large.allocated");
	st->active = je_get_size(i, "pactive") * je_page();
	st->resident = je_get_size(i, "resident");
	st->mapped = je_get_size(i, "mapped");
	st->metadata = je_get_size(i, "base");
	return 0;
}

int
pmt_je_tcache_create(void)
{
	unsigned	tc;
	size_t		sz = sizeof(tc);

	if (mallctl("tcache.create", &tc, &sz, NULL, 0) != 0)
		return -ENOMEM;
	return (int)tc;
}

void
pmt_je_tcache_destroy(unsigned tc)
{
	(void)mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc));
}

static int
je_tcache_flag(int tc)
{
	return tc >= 0 ? MALLOCX_TCACHE(tc) : MALLOCX_TCACHE_NONE;
}

void
pmt_je_tcache_flush(int tc)
{
	unsigned	u = (unsigned)tc;

	if (tc >= 0)
		(void)mallctl("tcache.flush", NULL, NULL, &u, sizeof(u));
}

void *
pmt_je_alloc(struct pmt_je_arena *a, int tc, size_t size, size_t align,
    bool zero)
{
	int	flags = MALLOCX_ARENA(a->index) | je_tcache_flag(tc);

	if (align != 0)
		flags |= MALLOCX_ALIGN(align);
	if (zero)
		flags |= MALLOCX_ZERO;
	return mallocx(size, flags);
}

void *
pmt_je_realloc(struct pmt_je_arena *a, int tc, void *p, size_t size)
{
	return rallocx(p, size, MALLOCX_ARENA(a->index) | je_tcache_flag(tc));
}

void
pmt_je_free(int tc, void *p)
{
	dallocx(p, je_tcache_flag(tc));
}

void *
pmt_je_dram_alloc(size_t size, size_t align, bool zero)
{
	int	flags = 0;

	if (align != 0)
		flags |= MALLOCX_ALIGN(align);
	if (zero)
		flags |= MALLOCX_ZERO;
	return mallocx(size, flags);
}

void *
pmt_je_dram_realloc(void *p, size_t size)
{
	return rallocx(p, size, 0);
}

void
pmt_je_dram_free(void *p)
{
	dallocx(p, 0);
}

void *
pmt_je_alloc_direct(struct pmt_je_arena *a, size_t size)
{
	int	flags = MALLOCX_TCACHE_NONE;

	if (a != NULL)
		flags |= MALLOCX_ARENA(a->index);
	return mallocx(size, flags);
}

void
pmt_je_free_direct(void *p)
{
	dallocx(p, MALLOCX_TCACHE_NONE);
}

size_t
pmt_je_size_class(size_t size)
{
	return nallocx(size, 0);
}

/*
 * What "experimental.utilization.query" tells of a block's extent and bin,
 * in jemalloc 5.3's order. A large block is an extent of one region with
 * no bin.
 */
struct je_util {
	uintptr_t	slabcur;	/* the slab the bin allocates from */
	size_t		nfree;		/* free regions in the block's slab */
	size_t		nregs;		/* regions in the slab */
	size_t		size;		/* bytes of the slab */
	size_t		bin_nfree;	/* free regions in all slabs of the bin */
	size_t		bin_nregs;	/* regions in all slabs of the bin */
};

static int
je_util(const void *p, struct je_util *u)
{
	size_t	osz = sizeof(*u);

	if (mallctl("experimental.utilization.query", u, &osz, &p,
	    sizeof(p)) != 0 || osz != sizeof(*u))
		return -ENOTSUP;
	return 0;
}

static bool
je_in_slabcur(const struct je_util *u, const void *p)
{
	return u->slabcur != 0 && (uintptr_t)p - u->slabcur < u->size;
}

/*
 * A block is worth moving when its slab is emptier than the bin's slabs
 * on average and is not the slab the bin fills now (the block would only
 * move within it). Large blocks (one region) never are.
 */
bool
pmt_je_should_move(const void *p)
{
	struct je_util	u;

	if (je_util(p, &u) != 0 || u.nregs <= 1 || u.nfree == 0 ||
	    u.bin_nregs == 0 || je_in_slabcur(&u, p))
		return false;
	return u.nfree * u.bin_nregs > u.bin_nfree * u.nregs;
}

/*
 * q came from the bin's current slab (an uncached allocation). Moving p
 * there empties p's slab only if that slab held no more blocks than q's
 * did: otherwise a pass over the heap would shuffle blocks from fuller
 * slabs into emptier ones and free nothing.
 */
bool
pmt_je_move_pays(const void *p, const void *q)
{
	struct je_util	up, uq;

	if (je_util(p, &up) != 0 || je_util(q, &uq) != 0)
		return false;
	/* Only q's slab is known (it is slabcur): p must be elsewhere. */
	if (!je_in_slabcur(&uq, q) || je_in_slabcur(&uq, p))
		return false;
	return uq.nregs - uq.nfree - 1 >= up.nregs - up.nfree;
}

int
pmt_je_stats_refresh(void)
{
	uint64_t	epoch = 1;
	size_t		sz = sizeof(epoch);

	return mallctl("epoch", &epoch, &sz, &epoch, sz) == 0 ? 0 : -EINVAL;
}

int
pmt_je_stats_total(struct pmt_je_stats *st)
{
	size_t	sz = sizeof(size_t);

	memset(st, 0, sizeof(*st));
	if (mallctl("stats.allocated", &st->allocated, &sz, NULL, 0) != 0)
		return -ENOTSUP;
	(void)mallctl("stats.active", &st->active, &sz, NULL, 0);
	(void)mallctl("stats.resident", &st->resident, &sz, NULL, 0);
	(void)mallctl("stats.mapped", &st->mapped, &sz, NULL, 0);
	(void)mallctl("stats.metadata", &st->metadata, &sz, NULL, 0);
	return 0;
}

int
pmt_je_stats_print(void (*cb)(void *, const char *), void *arg,
    const char *opts)
{
	malloc_stats_print(cb, arg, opts);
	return 0;
}
