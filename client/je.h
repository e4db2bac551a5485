/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The only module that knows jemalloc. Everything else in libpmemtier talks
 * to arenas, tcaches and statistics through these functions, so a change of
 * jemalloc version or of the mallctl names is confined to je.c.
 *
 * Conventions: functions return 0 or a negative errno; jemalloc's hook
 * convention (true = failure) is translated in je.c and never leaks out.
 */
#ifndef PMT_JE_H
#define PMT_JE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jemalloc/jemalloc.h>

/*
 * What an arena needs from its owner: memory for new extents and a way to
 * give physical memory back. The adapter calls these from inside jemalloc
 * (with jemalloc locks held), so they must not call back into the adapter.
 */
struct pmt_je_backing {
	/*
	 * Address space: size bytes aligned to align (at new_addr exactly
	 * when it is not NULL), never used before, or NULL. Sets *committed
	 * when the range is already backed and usable.
	 */
	void	*(*alloc)(void *arg, void *new_addr, size_t size, size_t align,
		    bool *committed);
	/* Backs [addr, addr + size) with memory (takes leases); 0 or -errno. */
	int	 (*commit)(void *arg, void *addr, size_t size);
	/* The reverse: the range will not be used until committed again. */
	int	 (*decommit)(void *arg, void *addr, size_t size);
	/* Returns the physical memory of [addr, addr + size); 0 or -errno. */
	int	 (*purge)(void *arg, void *addr, size_t size);
	void	*arg;
};

struct pmt_je_arena;

/* Statistics of one arena or of the whole process, in bytes. */
struct pmt_je_stats {
	size_t	allocated;
	size_t	active;
	size_t	resident;
	size_t	mapped;
	size_t	metadata;
};

int	 pmt_je_arena_create(const struct pmt_je_backing *b, bool conservative,
	    struct pmt_je_arena **out);
/* Discards every allocation of the arena and its metadata. */
void	 pmt_je_arena_destroy(struct pmt_je_arena *a);
unsigned pmt_je_arena_index(const struct pmt_je_arena *a);
/* True when the arena's metadata is kept out of its backing memory. */
bool	 pmt_je_arena_metadata_in_dram(const struct pmt_je_arena *a);
/* Returns every unused dirty page of the arena to its backing. */
void	 pmt_je_arena_purge(struct pmt_je_arena *a);
int	 pmt_je_arena_stats(struct pmt_je_arena *a, struct pmt_je_stats *st);
/* Purges what the arena's decay makes due now (no-op for a bad index). */
void	 pmt_je_arena_decay(unsigned index);
/* The arena's dirty decay time in ms: 0 at once, -1 never (or unknown). */
ssize_t	 pmt_je_arena_decay_ms(unsigned index);

/* Explicit thread caches: -errno on failure, else the tcache id. */
int	 pmt_je_tcache_create(void);
void	 pmt_je_tcache_destroy(unsigned tc);
void	 pmt_je_tcache_flush(int tc);

/* tc is a tcache id, or -1 for none (the arena's bin lock each time). */
void	*pmt_je_alloc(struct pmt_je_arena *a, int tc, size_t size,
	    size_t align, bool zero);
void	*pmt_je_realloc(struct pmt_je_arena *a, int tc, void *p,
	    size_t size);
void	 pmt_je_free(int tc, void *p);
/*
 * Ordinary memory (MEMKIND_DEFAULT): jemalloc's default arenas through its
 * own API, so the library stays consistent even where jemalloc is not the
 * process malloc (libpmemtier dlopen()ed after libc).
 */
void	*pmt_je_dram_alloc(size_t size, size_t align, bool zero);
void	*pmt_je_dram_realloc(void *p, size_t size);
void	 pmt_je_dram_free(void *p);
/* Without any cache, from a (NULL: the default) arena: for defrag. */
void	*pmt_je_alloc_direct(struct pmt_je_arena *a, size_t size);
/* Frees through no tcache at all (thread-exit paths, foreign tcaches). */
void	 pmt_je_free_direct(void *p);

/* Inline: it sits on the free fast path. */
static inline size_t
pmt_je_usable_size(const void *p)
{
	return sallocx(p, 0);
}

/* The size class a request of size bytes gets. */
size_t	 pmt_je_size_class(size_t size);
/*
 * Defragmentation, in two steps. pmt_je_should_move: whether p sits in a
 * slab worth emptying. pmt_je_move_pays: q, just allocated for p's data,
 * landed in another slab that was at least as full as p's, so the move
 * packs blocks rather than spreading them.
 */
bool	 pmt_je_should_move(const void *p);
bool	 pmt_je_move_pays(const void *p, const void *q);

/* Refreshes the statistics snapshot (mallctl "epoch"). */
int	 pmt_je_stats_refresh(void);
/* Whole process. */
int	 pmt_je_stats_total(struct pmt_je_stats *st);
int	 pmt_je_stats_print(void (*cb)(void *, const char *), void *arg,
	    const char *opts);

#endif /* PMT_JE_H */
