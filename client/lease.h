/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memory under one arena kind: a reserved address range (PROT_NONE)
 * in which leases are mapped MAP_SHARED|MAP_FIXED. Address space is handed
 * to jemalloc from a bump pointer (brk) without backing; when jemalloc
 * commits a range, the parts no lease covers get one, in chunks of a
 * quarter of what the kind holds (8 MiB to 256 MiB) running on towards
 * brk. Leases thus follow use, not jemalloc's address-space growth, and a
 * big heap needs few round trips to the daemon. A lease of which jemalloc
 * has decommitted everything (after its decay, at once under CONSERVATIVE)
 * is given back, so the kind's leases, and its quota use, shrink too.
 *
 * In daemon mode each lease is charged its commit budget, not its size:
 * what jemalloc holds committed in it, rounded up to 1 MiB (lease.c).
 * The budget is raised (LeaseCommit) before a commit returns, and the
 * range's file blocks allocated then, so that a refusal is an allocation
 * failure and never a SIGBUS; it is lowered after a decommit punched the
 * pages out. Quota use thus follows committed pages, not whole leases.
 *
 * A lease comes either from pmemtierd (daemon mode: its own fd, offset 0)
 * or from a temporary file the library creates in the kind's directory
 * (standalone mode: one file per kind, each lease a further fallocated
 * stretch of it). Purging punches holes, so freed pages really go back to
 * the filesystem or the daemon's tier.
 */
#ifndef PMT_LEASE_H
#define PMT_LEASE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn.h"

/* Granularity of the class map; jemalloc extents are page-aligned. */
#define PMT_HEAP_PAGE_SHIFT	12

struct pmt_lease {
	uintptr_t	addr;
	size_t		size;
	int		fd;
	off_t		off;	/* of addr in fd */
	uint64_t	id;	/* daemon's lease id, 0 in standalone mode */
	size_t		committed; /* bytes of it jemalloc holds committed */
	size_t		budget;	/* daemon: bytes charged (commit budget) */
	/*
	 * Daemon file lease: [fa_lo, fa_hi) has its blocks (fallocated, not
	 * punched since), so committing inside it needs no fallocate.
	 */
	uintptr_t	fa_lo, fa_hi;
	/*
	 * Of that run, blocks allocated ahead and not committed since (at
	 * its end): what a limited kind gives back first when it needs
	 * room (heap_squeeze).
	 */
	uintptr_t	ah_lo, ah_hi;
	/* Above every address ever committed in it: ahead starts there. */
	uintptr_t	hwm;
	bool		memfd;	/* daemon: a kmem memfd, pages come on touch */
	void		*fork_copy; /* snapshot fork: the parent's copy (below) */
};

struct pmt_heap {
	pthread_mutex_t	  lock;
	bool		  daemon;
	bool		  orphaned;	/* inherited by fork: hands off */
	bool		  snapshot;	/* fork child: leases mapped private */
	char		  tier[PMT_TIER_NAME_MAX];
	char		  label[64];
	int		  file_fd;	/* standalone: the kind's temp file */
	char		 *base;
	size_t		  reserved;
	/*
	 * One byte per page of the reservation: 1 + the front-cache size
	 * class of the blocks starting in that page, 0 for "not cached".
	 * Written on every allocation, read by the free fast path in place
	 * of asking jemalloc for the block's size (see thread.h).
	 */
	uint8_t		 *classmap;
	size_t		  classmap_len;
	uintptr_t	  brk;		/* first address never handed out */
	size_t		  max_size;	/* 0: no limit of our own */
	size_t		  leased;	/* bytes of all leases */
	size_t		  committed;	/* of those, committed by jemalloc */
	size_t		  budgets;	/* daemon: the leases' budgets */
	off_t		  file_end;	/* standalone: next offset in the file */
	struct pmt_lease *leases;
	size_t		  nleases;
	size_t		  cap;
	int		  lease_events;	/* leases taken since last report */
	int		  numa;		/* anon.h: enum pmt_numa_policy */
};

/*
 * Standalone: creates the kind's unlinked temp file in dir.
 * Daemon: remembers the tier. Then reserves the address range.
 * 0, -EINVAL (dir unusable), -ENOMEM (no address space).
 */
int	pmt_heap_init(struct pmt_heap *h, bool daemon, const char *dir,
	    const char *tier, size_t max_size, const char *label);
/* Unmaps everything, releases every lease, closes every fd. */
void	pmt_heap_fini(struct pmt_heap *h);
/* After fork, in the child: nothing of the parent's may be touched. */
void	pmt_heap_orphan(struct pmt_heap *h);
/*
 * When set, a fork child keeps the parent's leases as private memory, as
 * after a fork of ordinary memory: pmt_heap_fork_prepare (in the parent,
 * before fork) takes the heap lock and copies each lease's data (its
 * non-hole extents) into an anonymous private mapping; the child moves
 * those copies to the leases' addresses (pmt_heap_orphan) and the parent
 * drops its own (pmt_heap_fork_parent), so only the child holds them, as
 * copy-on-write pages of the moment of the fork. A fork costs a copy of
 * the data on the tier. Set by the preload library, whose programs fork
 * (shells, redis' BGSAVE) and expect their heap in the child.
 */
extern bool pmt_heap_fork_snapshot;
void	pmt_heap_fork_prepare(struct pmt_heap *h);
void	pmt_heap_fork_parent(struct pmt_heap *h);

/* Extent hooks' backing (see je.h). */
void	*pmt_heap_alloc(void *h, void *new_addr, size_t size, size_t align,
	    bool *committed);
int	 pmt_heap_commit(void *h, void *addr, size_t size);
/* Punches the range out and returns every lease left with nothing committed. */
int	 pmt_heap_decommit(void *h, void *addr, size_t size);
int	 pmt_heap_purge(void *h, void *addr, size_t size);

/* Bumped whenever any heap takes or returns a lease. */
extern unsigned pmt_heap_events;

size_t	 pmt_heap_leased(struct pmt_heap *h);
size_t	 pmt_heap_nleases(struct pmt_heap *h);
bool	 pmt_heap_contains(const struct pmt_heap *h, const void *p);

#endif /* PMT_LEASE_H */
