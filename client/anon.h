/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memory under MEMKIND_REGULAR and the other NUMA-policy kinds
 * (MEMKIND_INTERLEAVE, MEMKIND_HIGHEST_CAPACITY*, ...): anonymous memory
 * in a range reserved for the kind, so that its blocks are told from
 * MEMKIND_DEFAULT's by address (memkind_detect_kind, memkind_free(NULL,
 * p)) as memkind tells them by arena, bound extent by extent to the
 * kind's nodes (node.h) as memkind binds them. Pages are committed and returned the way jemalloc's own
 * extent hooks do on Linux: where the kernel overcommits, the whole range
 * is writable from the start and freed pages go back by MADV_DONTNEED;
 * under strict overcommit (vm.overcommit_memory = 2), committing makes a
 * range writable and decommitting maps it PROT_NONE again, so that only
 * what is in use is charged.
 *
 * Only base, reserved, brk, classmap and numa of struct pmt_heap are used.
 */
#ifndef PMT_ANON_H
#define PMT_ANON_H

#include <stdbool.h>
#include <stddef.h>

#include "lease.h"

/*
 * Reserves the range; numa (enum pmt_numa_policy, node.h) binds every
 * extent to the kind's nodes. 0 or -ENOMEM.
 */
int	 pmt_anon_init(struct pmt_heap *h, int numa);

/* Extent hooks' backing (see je.h). */
void	*pmt_anon_alloc(void *h, void *new_addr, size_t size, size_t align,
	    bool *committed);
int	 pmt_anon_commit(void *h, void *addr, size_t size);
int	 pmt_anon_decommit(void *h, void *addr, size_t size);
int	 pmt_anon_purge(void *h, void *addr, size_t size);

#endif /* PMT_ANON_H */
