/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind 1.14's memtier API (memkind_memtier.h) on top of the kinds: a
 * builder collects tiers and policy parameters, a memory picks the kind
 * of each allocation, and every memtier_* allocation is counted per kind.
 *
 * The count is on the allocation fast path, so it is kept the way memkind
 * keeps it: each thread adds to one of MT_BUCKETS atomic counters per kind
 * and moves its bucket into the kind's global counter once the bucket
 * passes MT_FLUSH bytes either way. A thread gets its own bucket row
 * (round robin), so threads do not share cache lines unless there are
 * more than MT_BUCKETS of them. The policies read the global counters
 * only: their view lags by at most MT_FLUSH per active bucket, which is
 * nothing against the working sets tiering is for.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "include/pmemtier/memkind_memtier.h"
#include "kind.h"
#include "lease.h"
#include "memtier.h"

/* memkind's memtier functions fail with -1, whatever the reason. */
#define MT_ERR			(-1)

#define MT_BUCKETS		64U
#define MT_FLUSH		51200LL
/* Counter slots: the kind slots, then DEFAULT, then unusable kinds. */
#define MT_SLOT_DEFAULT		PMT_KIND_MAX
#define MT_SLOT_OTHER		(PMT_KIND_MAX + 1)
#define MT_SLOTS		(PMT_KIND_MAX + 2)

/* memkind's DYNAMIC_THRESHOLD defaults. */
#define MT_TRIGGER		0.02f
#define MT_DEGREE		0.15f
#define MT_CHECK_CNT		20U
#define MT_STEP			1024U

#define MT_CTL_PREFIX		"policy.dynamic_threshold."

struct mt_tier {
	memkind_t	 kind;
	unsigned	 ratio;		/* as given to add_tier */
	float		 norm;		/* ratio_0 / ratio_i (tier 0: 1) */
};

struct mt_threshold {
	_Atomic size_t	 val;
	size_t		 min;
	size_t		 max;
	float		 exp_ratio;	/* ratio_{i+1} / ratio_i */
	float		 diff;		/* last |actual - expected| */
};

struct memtier_builder {
	memtier_policy_t	 policy;
	unsigned		 ntiers;
	struct mt_tier		*tiers;
	struct mt_threshold	*thres;		/* ntiers - 1 of them */
	unsigned		 check_cnt;
	float			 trigger;
	float			 degree;
};

struct memtier_memory {
	memtier_policy_t	 policy;
	unsigned		 ntiers;
	struct mt_tier		*tiers;
	struct mt_threshold	*thres;
	unsigned		 check_cnt;
	float			 trigger;
	float			 degree;
	_Atomic unsigned	 ops;		/* until the next check */
	atomic_flag		 updating;
};

static _Atomic long long	mt_global[MT_SLOTS];
static _Atomic long long	mt_local[MT_BUCKETS][MT_SLOTS];
static _Atomic unsigned		mt_next_bucket;
static __thread unsigned	mt_bucket_plus1;

static unsigned
mt_slot(const struct memkind *k)
{
	if (k == &pmt_kind_default)
		return MT_SLOT_DEFAULT;
	if (k->type == PMT_KIND_UNAVAILABLE)
		return MT_SLOT_OTHER;
	return k->slot;
}

static unsigned
mt_bucket(void)
{
	if (PMT_UNLIKELY(mt_bucket_plus1 == 0))
		mt_bucket_plus1 = 1 + atomic_fetch_add_explicit(
		    &mt_next_bucket, 1, memory_order_relaxed) % MT_BUCKETS;
	return mt_bucket_plus1 - 1;
}

static void
mt_count(const struct memkind *k, long long delta)
{
	unsigned	 s;
	_Atomic long long *c;
	long long	 now;

	if (k == NULL || delta == 0)
		return;
	s = mt_slot(k);
	c = &mt_local[mt_bucket()][s];
	now = atomic_fetch_add_explicit(c, delta, memory_order_relaxed) +
	    delta;
	if (now > MT_FLUSH || now < -MT_FLUSH)
		atomic_fetch_add_explicit(&mt_global[s], atomic_exchange_explicit(
		    c, 0, memory_order_relaxed), memory_order_relaxed);
}

static long long
mt_global_get(const struct memkind *k)
{
	return atomic_load_explicit(&mt_global[mt_slot(k)],
	    memory_order_relaxed);
}

void
pmt_memtier_kind_reset(const struct memkind *k)
{
	unsigned	s = mt_slot(k), b;

	for (b = 0; b < MT_BUCKETS; b++)
		atomic_store_explicit(&mt_local[b][s], 0, memory_order_relaxed);
	atomic_store_explicit(&mt_global[s], 0, memory_order_relaxed);
}

/* The bytes a live block counts for: its usable size. */
static long long
mt_size(void *p)
{
	return p != NULL ? (long long)memkind_malloc_usable_size(NULL, p) : 0;
}

/* --- policies --- */

/* The last tier i > 0 below its share (alloc_i * norm_i < alloc_0). */
static memkind_t
mt_static_pick(const struct memtier_memory *m)
{
	long long	zero = mt_global_get(m->tiers[0].kind), n;
	unsigned	i, pick = 0;

	for (i = 1; i < m->ntiers; i++) {
		n = mt_global_get(m->tiers[i].kind);
		if ((double)n * m->tiers[i].norm < (double)zero)
			pick = i;
	}
	return m->tiers[pick].kind;
}

static memkind_t
mt_threshold_pick(const struct memtier_memory *m, size_t size)
{
	unsigned	i;

	for (i = 0; i + 1 < m->ntiers; i++)
		if (size < atomic_load_explicit(&m->thres[i].val,
		    memory_order_relaxed))
			break;
	return m->tiers[i].kind;
}

static memkind_t
mt_pick(const struct memtier_memory *m, size_t size)
{
	if (m->policy == MEMTIER_POLICY_DYNAMIC_THRESHOLD)
		return mt_threshold_pick(m, size);
	if (m->ntiers == 1)
		return m->tiers[0].kind;
	return mt_static_pick(m);
}

/* Moves threshold i towards the expected ratio of tiers i and i+1. */
static void
mt_threshold_adjust(struct memtier_memory *m, unsigned i)
{
	struct mt_threshold	*t = &m->thres[i];
	long long		 lo = mt_global_get(m->tiers[i].kind);
	long long		 hi = mt_global_get(m->tiers[i + 1].kind);
	float			 ratio = -1, prev;
	size_t			 val, step;

	if (lo > 0) {
		ratio = (float)hi / (float)lo;
		prev = t->diff;
		t->diff = fabsf(ratio - t->exp_ratio);
		/* Close enough, or already getting closer. */
		if (t->diff < m->trigger || t->diff < prev)
			return;
	}
	val = atomic_load_explicit(&t->val, memory_order_relaxed);
	step = (size_t)ceilf((float)val * m->degree);
	/* Too much above: a higher threshold keeps more below it. */
	if (lo <= 0 || ratio > t->exp_ratio) {
		if (val + step <= t->max)
			val += step;
	} else if (val - step >= t->min && step <= val)
		val -= step;
	atomic_store_explicit(&t->val, val, memory_order_relaxed);
}

/* After every operation: every check_cnt-th one checks the thresholds. */
static void
mt_after_op(struct memtier_memory *m)
{
	unsigned	i;

	if (m->policy != MEMTIER_POLICY_DYNAMIC_THRESHOLD)
		return;
	if (atomic_fetch_sub_explicit(&m->ops, 1, memory_order_relaxed) > 1)
		return;
	/* One thread adjusts; the others carry on with the old values. */
	if (atomic_flag_test_and_set_explicit(&m->updating,
	    memory_order_acquire))
		return;
	for (i = 0; i + 1 < m->ntiers; i++)
		mt_threshold_adjust(m, i);
	atomic_store_explicit(&m->ops, m->check_cnt, memory_order_relaxed);
	atomic_flag_clear_explicit(&m->updating, memory_order_release);
}

/* --- builder --- */

PMT_EXPORT struct memtier_builder *
memtier_builder_new(memtier_policy_t policy)
{
	struct memtier_builder	*b;

	if (policy != MEMTIER_POLICY_STATIC_RATIO &&
	    policy != MEMTIER_POLICY_DYNAMIC_THRESHOLD) {
		errno = EINVAL;
		return NULL;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->policy = policy;
	b->check_cnt = MT_CHECK_CNT;
	b->trigger = MT_TRIGGER;
	b->degree = MT_DEGREE;
	return b;
}

PMT_EXPORT void
memtier_builder_delete(struct memtier_builder *builder)
{
	if (builder == NULL)
		return;
	free(builder->thres);
	free(builder->tiers);
	free(builder);
}

PMT_EXPORT int
memtier_builder_add_tier(struct memtier_builder *builder, memkind_t kind,
    unsigned kind_ratio)
{
	struct mt_tier		*tiers;
	struct mt_threshold	*thres, *t;
	unsigned		 i, n;

	if (builder == NULL || kind == NULL || kind_ratio == 0)
		return MT_ERR;
	for (i = 0; i < builder->ntiers; i++)
		if (builder->tiers[i].kind == kind)
			return MT_ERR;
	n = builder->ntiers;
	if (n > 0) {
		/* Threshold n-1 separates tier n-1 from the new tier n. */
		if ((thres = realloc(builder->thres, n * sizeof(*thres))) ==
		    NULL)
			return MT_ERR;
		builder->thres = thres;
		t = &thres[n - 1];
		memset(t, 0, sizeof(*t));
		atomic_init(&t->val, (size_t)MT_STEP * (n));
		t->min = (size_t)(MT_STEP * (0.5 + (n - 1)));
		t->max = (size_t)(MT_STEP * (1.5 + (n - 1))) - 1;
	}
	if ((tiers = realloc(builder->tiers, (n + 1) * sizeof(*tiers))) ==
	    NULL)
		return MT_ERR;
	builder->tiers = tiers;
	tiers[n].kind = kind;
	tiers[n].ratio = kind_ratio;
	tiers[n].norm = 1;
	builder->ntiers = n + 1;
	return 0;
}

/* thresholds[N].field: *idx, and field's offset in *what (0 val 1 min 2 max). */
static int
mt_ctl_threshold(const char *s, unsigned *idx, int *what)
{
	char		*end;
	unsigned long	 n;

	if (strncmp(s, "thresholds[", 11) != 0)
		return MT_ERR;
	s += 11;
	if (*s < '0' || *s > '9')
		return MT_ERR;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || n > PMT_KIND_MAX || strncmp(end, "].", 2) != 0)
		return MT_ERR;
	end += 2;
	if (strcmp(end, "val") == 0)
		*what = 0;
	else if (strcmp(end, "min") == 0)
		*what = 1;
	else if (strcmp(end, "max") == 0)
		*what = 2;
	else
		return MT_ERR;
	*idx = (unsigned)n;
	return 0;
}

PMT_EXPORT int
memtier_ctl_set(struct memtier_builder *builder, const char *name,
    const void *val)
{
	struct mt_threshold	*t;
	const char		*s;
	unsigned		 idx;
	int			 what;

	if (builder == NULL || name == NULL || val == NULL ||
	    builder->policy != MEMTIER_POLICY_DYNAMIC_THRESHOLD ||
	    strncmp(name, MT_CTL_PREFIX, sizeof(MT_CTL_PREFIX) - 1) != 0)
		return MT_ERR;
	s = name + sizeof(MT_CTL_PREFIX) - 1;
	if (strcmp(s, "check_cnt") == 0) {
		builder->check_cnt = *(const unsigned *)val;
		return 0;
	}
	if (strcmp(s, "trigger") == 0) {
		builder->trigger = *(const float *)val;
		return 0;
	}
	if (strcmp(s, "degree") == 0) {
		builder->degree = *(const float *)val;
		return 0;
	}
	if (mt_ctl_threshold(s, &idx, &what) != 0 ||
	    idx + 1 >= builder->ntiers)
		return MT_ERR;
	t = &builder->thres[idx];
	if (what == 0)
		atomic_store(&t->val, *(const size_t *)val);
	else if (what == 1)
		t->min = *(const size_t *)val;
	else
		t->max = *(const size_t *)val;
	return 0;
}

/* memkind's checks: min <= val <= max, ranges ascending, degree/trigger >= 0. */
static bool
mt_thresholds_valid(const struct memtier_builder *b)
{
	unsigned	i;
	size_t		val;

	if (b->degree < 0 || b->trigger < 0 || isnan(b->degree) ||
	    isnan(b->trigger))
		return false;
	for (i = 0; i + 1 < b->ntiers; i++) {
		val = atomic_load(&b->thres[i].val);
		if (b->thres[i].min > val || val > b->thres[i].max)
			return false;
		if (i > 0 && b->thres[i - 1].max > b->thres[i].min)
			return false;
	}
	return true;
}

PMT_EXPORT struct memtier_memory *
memtier_builder_construct_memtier_memory(struct memtier_builder *builder)
{
	struct memtier_memory	*m;
	unsigned		 i, n;

	if (builder == NULL || builder->ntiers == 0 ||
	    (builder->policy == MEMTIER_POLICY_DYNAMIC_THRESHOLD &&
	    (builder->ntiers < 2 || !mt_thresholds_valid(builder)))) {
		errno = EINVAL;
		return NULL;
	}
	n = builder->ntiers;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->tiers = calloc(n, sizeof(*m->tiers))) == NULL ||
	    (n > 1 && (m->thres = calloc(n - 1, sizeof(*m->thres))) == NULL)) {
		if (m != NULL)
			free(m->tiers);
		free(m);
		return NULL;
	}
	m->policy = builder->policy;
	m->ntiers = n;
	m->check_cnt = builder->check_cnt;
	m->trigger = builder->trigger;
	m->degree = builder->degree;
	atomic_init(&m->ops, builder->check_cnt);
	atomic_flag_clear(&m->updating);
	for (i = 0; i < n; i++) {
		m->tiers[i] = builder->tiers[i];
		m->tiers[i].norm = (float)builder->tiers[0].ratio /
		    (float)builder->tiers[i].ratio;
	}
	for (i = 0; i + 1 < n; i++) {
		atomic_init(&m->thres[i].val, atomic_load(
		    &builder->thres[i].val));
		m->thres[i].min = builder->thres[i].min;
		m->thres[i].max = builder->thres[i].max;
		m->thres[i].exp_ratio = (float)builder->tiers[i + 1].ratio /
		    (float)builder->tiers[i].ratio;
	}
	return m;
}

PMT_EXPORT void
memtier_delete_memtier_memory(struct memtier_memory *memory)
{
	if (memory == NULL)
		return;
	free(memory->thres);
	free(memory->tiers);
	free(memory);
}

/* --- allocation through a kind, counted --- */

/*
 * Size 0 gives a unique block as glibc's malloc(0) does (memkind's memtier
 * asks glibc which to do; glibc always returns one).
 */
PMT_EXPORT void *
memtier_kind_malloc(memkind_t kind, size_t size)
{
	void	*p = memkind_malloc(kind, size ? size : 1);

	mt_count(kind, mt_size(p));
	return p;
}

PMT_EXPORT void *
memtier_kind_calloc(memkind_t kind, size_t num, size_t size)
{
	void	*p;

	if (num == 0 || size == 0)
		num = size = 1;
	p = memkind_calloc(kind, num, size);
	mt_count(kind, mt_size(p));
	return p;
}

PMT_EXPORT int
memtier_kind_posix_memalign(memkind_t kind, void **memptr, size_t alignment,
    size_t size)
{
	int	rc;

	rc = memkind_posix_memalign(kind, memptr, alignment, size ? size : 1);
	if (rc == 0)
		mt_count(kind, mt_size(*memptr));
	return rc;
}

PMT_EXPORT void *
memtier_kind_realloc(memkind_t kind, void *ptr, size_t size)
{
	memkind_t	 from;
	long long	 old;
	void		*q;

	if (ptr == NULL)
		return memtier_kind_malloc(kind, size);
	from = memkind_detect_kind(ptr);
	old = mt_size(ptr);
	if (size == 0) {
		mt_count(from, -old);
		memkind_free(from, ptr);
		return NULL;
	}
	if (kind == NULL)
		kind = from;
	if ((q = memkind_realloc(kind, ptr, size)) == NULL)
		return NULL;	/* ptr is untouched and still counted */
	mt_count(from, -old);
	mt_count(kind, mt_size(q));
	return q;
}

PMT_EXPORT size_t
memtier_usable_size(void *ptr)
{
	return memkind_malloc_usable_size(NULL, ptr);
}

/* Counted against the kind that owns ptr, whatever kind the caller says. */
PMT_EXPORT void
memtier_kind_free(memkind_t kind, void *ptr)
{
	memkind_t	owner;

	if (ptr == NULL)
		return;
	owner = memkind_detect_kind(ptr);
	mt_count(owner, -mt_size(ptr));
	memkind_free(kind != NULL ? kind : owner, ptr);
}

PMT_EXPORT size_t
memtier_kind_allocated_size(memkind_t kind)
{
	long long	sum = 0;
	unsigned	s, b;

	if (kind == NULL)
		return 0;
	s = mt_slot(kind);
	for (b = 0; b < MT_BUCKETS; b++)
		sum += atomic_exchange_explicit(&mt_local[b][s], 0,
		    memory_order_relaxed);
	sum += atomic_fetch_add_explicit(&mt_global[s], sum,
	    memory_order_relaxed);
	return sum > 0 ? (size_t)sum : 0;
}

/* --- allocation through a memory --- */

PMT_EXPORT void *
memtier_malloc(struct memtier_memory *memory, size_t size)
{
	void	*p = memtier_kind_malloc(mt_pick(memory, size), size);

	mt_after_op(memory);
	return p;
}

PMT_EXPORT void *
memtier_calloc(struct memtier_memory *memory, size_t num, size_t size)
{
	void	*p = memtier_kind_calloc(mt_pick(memory, size), num, size);

	mt_after_op(memory);
	return p;
}

PMT_EXPORT void *
memtier_realloc(struct memtier_memory *memory, void *ptr, size_t size)
{
	void	*q;

	if (ptr == NULL)
		q = memtier_kind_malloc(mt_pick(memory, size), size);
	else
		q = memtier_kind_realloc(NULL, ptr, size);
	mt_after_op(memory);
	return q;
}

PMT_EXPORT int
memtier_posix_memalign(struct memtier_memory *memory, void **memptr,
    size_t alignment, size_t size)
{
	int	rc = memtier_kind_posix_memalign(mt_pick(memory, size), memptr,
	    alignment, size);

	mt_after_op(memory);
	return rc;
}

/* --- for the preload library (memtier.h) --- */

PMT_EXPORT memkind_t
pmemtier_priv_memtier_pick(struct memtier_memory *m, size_t size)
{
	return mt_pick(m, size);
}

PMT_EXPORT void
pmemtier_priv_memtier_done(struct memtier_memory *m)
{
	mt_after_op(m);
}

PMT_EXPORT void
pmemtier_priv_memtier_count(memkind_t kind, long long delta)
{
	mt_count(kind, delta);
}

PMT_EXPORT void
pmemtier_priv_fork_snapshot(bool on)
{
	pmt_heap_fork_snapshot = on;
}

__thread bool pmt_memtier_internal_thread;

PMT_EXPORT bool
pmemtier_priv_internal_thread(void)
{
	return pmt_memtier_internal_thread;
}
