/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "anon.h"
#include "fixed.h"
#include "node.h"
#include "range.h"

/* As much address space as an unlimited pmem kind gets. */
#define ANON_VA		(1UL << 40)
#define ANON_MIN_VA	(1UL << 32)
#define ANON_ALIGN	(2UL << 20)

/* Set once by pmt_anon_init(): commit and decommit change protections. */
static bool	anon_strict;

static bool
anon_overcommit_strict(void)
{
	char	c = '0';
	int	fd;

	if ((fd = open("/proc/sys/vm/overcommit_memory",
	    O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '2';
}

int
pmt_anon_init(struct pmt_heap *h, int numa)
{
	memset(h, 0, sizeof(*h));
	h->numa = numa;
	pthread_mutex_init(&h->lock, NULL);
	h->file_fd = -1;
	anon_strict = anon_overcommit_strict();
	h->base = pmt_range_reserve(ANON_VA, ANON_MIN_VA, ANON_ALIGN,
	    &h->reserved);
	if (h->base == NULL)
		goto fail;
	if (!anon_strict && mprotect(h->base, h->reserved,
	    PROT_READ | PROT_WRITE) != 0)
		goto fail_range;
	h->brk = (uintptr_t)h->base;
	h->classmap_len = h->reserved >> PMT_HEAP_PAGE_SHIFT;
	h->classmap = mmap(NULL, h->classmap_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->classmap == MAP_FAILED)
		goto fail_range;
	return 0;
fail_range:
	pmt_range_unreserve(h->base, h->reserved);
fail:
	pthread_mutex_destroy(&h->lock);
	return -ENOMEM;
}

void *
pmt_anon_alloc(void *arg, void *new_addr, size_t size, size_t align,
    bool *committed)
{
	struct pmt_heap	*h = arg;
	void		*p = pmt_fixed_bump(h, new_addr, size, align);

	if (p == NULL)
		return NULL;
	/*
	 * The kind's nodes, extent by extent as memkind binds them: a _LOCAL
	 * kind's are those of the CPU the thread runs on now. Refused: the
	 * range stays unused (jemalloc reports the allocation failed).
	 */
	if (pmt_numa_bind(h->numa, p, size) != 0)
		return NULL;
	/* Never touched before: zero, as the adapter tells jemalloc. */
	*committed = !anon_strict;
	return p;
}

int
pmt_anon_commit(void *h, void *addr, size_t size)
{
	struct pmt_heap	*hp = h;

	if (!anon_strict)
		return 0;
	if (mprotect(addr, size, PROT_READ | PROT_WRITE) != 0)
		return -errno;
	/* A decommitted range was mapped anew, without the policy. */
	return pmt_numa_bind(hp->numa, addr, size) == 0 ? 0 : -EINVAL;
}

/* Refused where the kernel overcommits: jemalloc purges instead. */
int
pmt_anon_decommit(void *h, void *addr, size_t size)
{
	if (!anon_strict)
		return -EOPNOTSUPP;
	if (mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		return -errno;
	return 0;
}

/* Private anonymous pages read back as zeroes after MADV_DONTNEED. */
int
pmt_anon_purge(void *h, void *addr, size_t size)
{
	return madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : -errno;
}
