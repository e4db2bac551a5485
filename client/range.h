/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reserved address ranges, one per arena kind, and the lock-free lookup
 * "which kind owns this pointer" that memkind_free(NULL, p) and
 * memkind_detect_kind() rely on.
 *
 * Readers scan a small table with relaxed loads: a slot is published by
 * storing its length last (release) and retired by zeroing its length
 * first, so a reader sees either the whole slot or an empty one. Using a
 * slot while its kind is destroyed is undefined in memkind's API as well.
 */
#ifndef PMT_RANGE_H
#define PMT_RANGE_H

#include <stddef.h>
#include <stdint.h>

/* Every arena kind at once: static (kmem, REGULAR, NUMA) and created. */
#define PMT_RANGE_MAX	528

/*
 * Besides the range and its owner, a slot carries copies of what the free
 * fast path needs of the owning kind (its class map, generation and slot
 * in the per-thread tables), so that memkind_free(NULL, p) reads one cache
 * line here and none of the kind's.
 */
struct pmt_range_slot {
	uintptr_t	 base;
	uintptr_t	 len;
	void		*owner;
	const uint8_t	*classmap;
	uint64_t	 gen;
	unsigned	 kslot;
};

struct pmt_range_table {
	unsigned		high;	/* slots in use are below this */
	struct pmt_range_slot	slot[PMT_RANGE_MAX];
};

extern struct pmt_range_table pmt_ranges;

/*
 * Reserves want bytes of address space (PROT_NONE, MAP_NORESERVE), halving
 * down to min when the address space is short. Returns the base or NULL.
 */
void	*pmt_range_reserve(size_t want, size_t min, size_t align,
	    size_t *got);
void	 pmt_range_unreserve(void *base, size_t len);
/*
 * Publishes [base, base + len) as owner's, with the owner's class map and
 * per-thread slot; returns the slot or -ENOSPC. The generation starts at 0.
 */
int	 pmt_range_register(void *base, size_t len, void *owner,
	    const uint8_t *classmap, unsigned kslot);
void	 pmt_range_set_gen(int slot, uint64_t gen);
void	 pmt_range_unregister(int slot);

/* Whether s's range holds the address a. */
static inline int
pmt_range_holds(const struct pmt_range_slot *s, uintptr_t a)
{
	return a - __atomic_load_n(&s->base, __ATOMIC_RELAXED) <
	    __atomic_load_n(&s->len, __ATOMIC_ACQUIRE);
}

/*
 * The slot whose range holds p, or NULL. The first slot is tried before
 * the loop is set up: most programs have one kind, or a first one that
 * takes most of the traffic, and memkind_free(NULL, p) should cost no
 * more than naming the kind.
 */
static inline const struct pmt_range_slot *
pmt_range_find(const void *p)
{
	uintptr_t	a = (uintptr_t)p;
	unsigned	i, n;

	if (pmt_range_holds(&pmt_ranges.slot[0], a))
		return &pmt_ranges.slot[0];
	n = __atomic_load_n(&pmt_ranges.high, __ATOMIC_ACQUIRE);
	for (i = 1; i < n; i++)
		if (pmt_range_holds(&pmt_ranges.slot[i], a))
			return &pmt_ranges.slot[i];
	return NULL;
}

static inline void *
pmt_range_lookup(const void *p)
{
	const struct pmt_range_slot *s = pmt_range_find(p);

	return s != NULL ? __atomic_load_n(&s->owner, __ATOMIC_RELAXED) :
	    NULL;
}

#endif /* PMT_RANGE_H */
