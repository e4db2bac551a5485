/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "range.h"

struct pmt_range_table pmt_ranges;

/* Writers only; readers never lock. */
static pthread_mutex_t range_lock = PTHREAD_MUTEX_INITIALIZER;

void *
pmt_range_reserve(size_t want, size_t min, size_t align, size_t *got)
{
	size_t	len;

	for (len = want; len >= min; len /= 2) {
		uintptr_t	 a, aligned;
		char		*p;

		/* Over-reserve by align so the base can be aligned. */
		p = mmap(NULL, len + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		a = (uintptr_t)p;
		aligned = (a + align - 1) & ~(uintptr_t)(align - 1);
		if (aligned > a)
			munmap(p, aligned - a);
		if (a + align > aligned)
			munmap((void *)(aligned + len), a + align - aligned);
		*got = len;
		return (void *)aligned;
	}
	return NULL;
}

void
pmt_range_unreserve(void *base, size_t len)
{
	if (base != NULL)
		munmap(base, len);
}

int
pmt_range_register(void *base, size_t len, void *owner,
    const uint8_t *classmap, unsigned kslot)
{
	unsigned	i;
	int		rc = -ENOSPC;

	pthread_mutex_lock(&range_lock);
	for (i = 0; i < PMT_RANGE_MAX; i++) {
		struct pmt_range_slot *s = &pmt_ranges.slot[i];

		if (s->len != 0 || s->owner != NULL)
			continue;
		__atomic_store_n(&s->owner, owner, __ATOMIC_RELAXED);
		s->classmap = classmap;
		s->kslot = kslot;
		__atomic_store_n(&s->gen, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->base, (uintptr_t)base, __ATOMIC_RELAXED);
		__atomic_store_n(&s->len, len, __ATOMIC_RELEASE);
		if (i >= pmt_ranges.high)
			__atomic_store_n(&pmt_ranges.high, i + 1,
			    __ATOMIC_RELEASE);
		rc = (int)i;
		break;
	}
	pthread_mutex_unlock(&range_lock);
	return rc;
}

void
pmt_range_set_gen(int slot, uint64_t gen)
{
	if (slot >= 0 && slot < PMT_RANGE_MAX)
		__atomic_store_n(&pmt_ranges.slot[slot].gen, gen,
		    __ATOMIC_RELEASE);
}

void
pmt_range_unregister(int slot)
{
	struct pmt_range_slot	*s;

	if (slot < 0 || slot >= PMT_RANGE_MAX)
		return;
	s = &pmt_ranges.slot[slot];
	pthread_mutex_lock(&range_lock);
	__atomic_store_n(&s->len, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->gen, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->base, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->owner, NULL, __ATOMIC_RELAXED);
	while (pmt_ranges.high > 0 &&
	    pmt_ranges.slot[pmt_ranges.high - 1].len == 0)
		__atomic_store_n(&pmt_ranges.high, pmt_ranges.high - 1,
		    __ATOMIC_RELEASE);
	pthread_mutex_unlock(&range_lock);
}
