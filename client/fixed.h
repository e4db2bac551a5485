/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memory under a fixed kind (memkind_create_fixed): a range the caller
 * mapped and owns. The kind hands it to jemalloc from a bump pointer, in
 * the order jemalloc asks, and never maps, unmaps, punches or returns any
 * of it: decommit and purge are refused, so jemalloc keeps freed pages for
 * reuse, and destroying the kind leaves the caller's mapping as it was.
 *
 * Only base, reserved, brk and classmap of struct pmt_heap are used (the
 * same meanings as for a leased heap); there are no leases.
 */
#ifndef PMT_FIXED_H
#define PMT_FIXED_H

#include <stdbool.h>
#include <stddef.h>

#include "lease.h"

/*
 * The whole pages of [addr, addr + size) become the heap's range.
 * 0, -EINVAL (no whole page in it), -ENOMEM (no class map).
 */
int	 pmt_fixed_init(struct pmt_heap *h, void *addr, size_t size);
/* Frees the class map; the caller's range is left alone. */
void	 pmt_fixed_fini(struct pmt_heap *h);

/*
 * size bytes aligned to align (at new_addr exactly, if not NULL) from the
 * heap's range, never handed out before; NULL when the range is used up.
 */
void	*pmt_fixed_bump(struct pmt_heap *h, void *new_addr, size_t size,
	    size_t align);

/* Extent hooks' backing (see je.h). */
void	*pmt_fixed_alloc(void *h, void *new_addr, size_t size, size_t align,
	    bool *committed);
int	 pmt_fixed_commit(void *h, void *addr, size_t size);
int	 pmt_fixed_decommit(void *h, void *addr, size_t size);
int	 pmt_fixed_purge(void *h, void *addr, size_t size);

#endif /* PMT_FIXED_H */
