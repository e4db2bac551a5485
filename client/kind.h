/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * struct memkind and the table of kinds. Three sorts of kind exist:
 * the DRAM kind MEMKIND_DEFAULT, served by jemalloc's default arenas, i.e.
 * plain malloc; arena kinds, each with its own jemalloc arena over an
 * address range of its own: pmem kinds (memkind_create_pmem*) and the
 * MEMKIND_DAX_KMEM* kinds over leased memory (lease.h), fixed kinds over
 * the caller's range (fixed.h), MEMKIND_REGULAR and the other NUMA-policy
 * kinds over anonymous memory (anon.h, node.h); and kinds this library does
 * not offer (HBW, HUGETLB, ...),
 * which exist only so that programs link.
 *
 * Lock order: kind_lock > heap lock > connection lock.
 */
#ifndef PMT_KIND_H
#define PMT_KIND_H

#include <stdbool.h>
#include <stdint.h>

#include "je.h"
#include "lease.h"

/*
 * Slots: the four static kmem kinds, REGULAR, the other NUMA-policy kinds,
 * then created kinds (507 of them, as before the NUMA kinds came).
 */
#define PMT_KIND_REGULAR_SLOT	4
#define PMT_KIND_NUMA_KINDS	9
#define PMT_KIND_STATIC_SLOTS	(5 + PMT_KIND_NUMA_KINDS)
#define PMT_KIND_MAX		(PMT_KIND_STATIC_SLOTS + 507)

enum pmt_kind_type {
	PMT_KIND_DRAM,
	PMT_KIND_ARENA,
	PMT_KIND_UNAVAILABLE,
};

struct pmt_tkind;

struct memkind {
	enum pmt_kind_type	 type;
	/*
	 * Non-zero while the kind may be used from per-thread caches; a
	 * thread's cache entry is valid only while its gen equals this.
	 * 0 before a static kmem kind is set up, after destroy, in a child.
	 */
	uint64_t		 gen;
	unsigned		 slot;
	/* Copies of heap.classmap and heap.base: the free fast path's
	 * fields, kept in the struct's first cache line. */
	uint8_t			*classmap;
	uintptr_t		 base;
	bool			 is_static;
	bool			 kmem;
	bool			 fallback_dram;	/* DAX_KMEM_PREFERRED */
	bool			 conservative;
	bool			 forked;	/* inherited from a parent */
	bool			 fixed;		/* memkind_create_fixed */
	bool			 anon;		/* REGULAR and NUMA kinds (anon.h) */
	int			 numa;		/* enum pmt_numa_policy (node.h) */
	int			 init_state;	/* static arena kind: 0, 1 ok, -1 */
	int			 init_err;	/* why init_state is -1 */
	int			 range_slot;
	char			 name[64];
	char			 dir[256];
	size_t			 max_size;
	uint64_t		 refused;	/* allocations it failed */
	struct pmt_je_arena	*arena;
	struct pmt_heap		 heap;
	struct pmt_tkind	*threads;	/* registered per-thread state */
};

/* Global lock over the kind table and per-thread registrations. */
void	 pmt_kind_lock(void);
void	 pmt_kind_unlock(void);

/* Makes an arena kind ready (sets up a static kmem kind on first use). */
int	 pmt_kind_ready(struct memkind *k);

int	 pmt_kind_create_pmem(const char *dir, size_t max_size, int policy,
	    struct memkind **out);
/* A pmem kind on the daemon's tier called name (never standalone). */
int	 pmt_kind_create_on_tier(const char *name, size_t max_size,
	    struct memkind **out);
int	 pmt_kind_create_fixed(void *addr, size_t size,
	    struct memkind **out);
int	 pmt_kind_destroy(struct memkind *k);
/* Calls fn for every live arena kind, under kind_lock. */
void	 pmt_kind_foreach(void (*fn)(struct memkind *, void *), void *arg);
/* The n-th slot of created kinds: a live kind or NULL. */
struct memkind *pmt_kind_created(unsigned n);
/* Sends a UsageReport when a lease came or went or the daemon asked. */
void	 pmt_kind_report_if_due(void);
/*
 * Reads what the daemon sent (a UsageQuery makes a report due), then
 * reports if due: one read of the connection, for callers that may have
 * seen no packet for a while (the purge thread, memkind_update_cached_stats).
 */
void	 pmt_kind_poll_and_report(void);
bool	 pmt_kind_daemon_mode(const struct memkind *k);

extern struct memkind pmt_kind_default;
extern struct memkind pmt_kind_regular;

#endif /* PMT_KIND_H */
