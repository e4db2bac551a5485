/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixed.h"

int
pmt_fixed_init(struct pmt_heap *h, void *addr, size_t size)
{
	uintptr_t	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	start, end;

	/*
	 * jemalloc's extents are whole pages: only those can be used. A
	 * range holding none (memkind takes any size, 0 too) makes a kind
	 * that holds nothing: every allocation fails, as in memkind.
	 */
	start = ((uintptr_t)addr + page - 1) & ~(page - 1);
	end = ((uintptr_t)addr + size) & ~(page - 1);
	if (start < (uintptr_t)addr || end < start)
		end = start = (uintptr_t)addr;
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->file_fd = -1;
	h->base = (char *)start;
	h->reserved = end - start;
	h->brk = start;
	if (h->reserved == 0)
		return 0;	/* no class map: no block can be in the range */
	h->classmap_len = h->reserved >> PMT_HEAP_PAGE_SHIFT;
	h->classmap = mmap(NULL, h->classmap_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->classmap == MAP_FAILED) {
		h->classmap = NULL;
		pthread_mutex_destroy(&h->lock);
		return -ENOMEM;
	}
	return 0;
}

void
pmt_fixed_fini(struct pmt_heap *h)
{
	if (h->classmap != NULL)
		munmap(h->classmap, h->classmap_len);
	h->classmap = NULL;
	pthread_mutex_destroy(&h->lock);
}

/*
 * A lock-free bump: jemalloc may call this from several arenas' threads
 * at once, and a fork child must never find it locked. Address space, once
 * handed out, stays jemalloc's (it retains what it does not use).
 */
void *
pmt_fixed_bump(struct pmt_heap *h, void *new_addr, size_t size, size_t align)
{
	uintptr_t	end = (uintptr_t)h->base + h->reserved;
	uintptr_t	cur, p;

	if (align == 0 || (align & (align - 1)) != 0)
		return NULL;
	cur = __atomic_load_n(&h->brk, __ATOMIC_RELAXED);
	do {
		p = (cur + align - 1) & ~(align - 1);
		if (p < cur || p > end || size > end - p ||
		    (new_addr != NULL && (uintptr_t)new_addr != p))
			return NULL;
	} while (!__atomic_compare_exchange_n(&h->brk, &cur, p + size, true,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (void *)p;
}

void *
pmt_fixed_alloc(void *arg, void *new_addr, size_t size, size_t align,
    bool *committed)
{
	void	*p;

	if ((p = pmt_fixed_bump(arg, new_addr, size, align)) == NULL)
		return NULL;
	/*
	 * The adapter tells jemalloc new extents are zeroed, and the caller's
	 * range may hold anything (an old file, a reused array): zero it here
	 * so that calloc() is right. jemalloc asks for little more than it is
	 * about to use, so this touches few pages that would stay untouched.
	 */
	memset(p, 0, size);
	*committed = true;
	return p;
}

int
pmt_fixed_commit(void *h, void *addr, size_t size)
{
	return 0;	/* the caller's memory is always there */
}

/*
 * Refusing makes jemalloc keep the pages committed and reuse them: the
 * range is the caller's, and dropping pages of a private mapping would
 * also lose what the caller may expect to stay.
 */
int
pmt_fixed_decommit(void *h, void *addr, size_t size)
{
	return -EOPNOTSUPP;
}

int
pmt_fixed_purge(void *h, void *addr, size_t size)
{
	return -EOPNOTSUPP;
}
