/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind 1.14's memtier API over libpmemtier's kinds: a "memtier memory"
 * spreads allocations over several kinds (tiers) by a policy. Names,
 * signatures and semantics are memkind's; where pmemtier differs it says
 * so below and in docs/client.md.
 *
 * Error contract: functions returning int return 0 on success and
 * -EINVAL on a bad argument or name (memkind returns -1: both are "not
 * zero"); functions returning a pointer return NULL with errno set.
 */
#ifndef PMEMTIER_MEMKIND_MEMTIER_H
#define PMEMTIER_MEMKIND_MEMTIER_H

#include <stddef.h>
#include <stdlib.h>

#include <memkind.h>

#ifdef __cplusplus
extern "C" {
#endif

struct memtier_builder;
struct memtier_memory;

typedef enum memtier_policy_t {
	/*
	 * Keeps the bytes allocated from tier N (N > 0) at ratio_N/ratio_0
	 * times those of tier 0: each allocation goes to the last tier that
	 * is behind its share, else to tier 0.
	 */
	MEMTIER_POLICY_STATIC_RATIO = 0,
	/*
	 * Sends an allocation of size below thresholds[0].val to tier 0,
	 * below thresholds[1].val to tier 1, ..., else to the last tier;
	 * every check_cnt operations each threshold moves by degree (within
	 * min..max) when the ratio of two adjacent tiers is off by more
	 * than trigger. Needs at least two tiers.
	 */
	MEMTIER_POLICY_DYNAMIC_THRESHOLD = 1,
	MEMTIER_POLICY_MAX_VALUE
} memtier_policy_t;

/* A builder for the policy, or NULL (errno EINVAL, ENOMEM). */
struct memtier_builder *memtier_builder_new(memtier_policy_t policy);
void	 memtier_builder_delete(struct memtier_builder *builder);
/*
 * Adds kind with its ratio (> 0; memkind takes 0 and divides by it).
 * -EINVAL: NULL builder or kind, kind already added, ratio 0.
 */
int	 memtier_builder_add_tier(struct memtier_builder *builder,
	    memkind_t kind, unsigned kind_ratio);
/* The memory, or NULL (errno EINVAL: no tier, bad thresholds). */
struct memtier_memory *
	 memtier_builder_construct_memtier_memory(
	    struct memtier_builder *builder);
void	 memtier_delete_memtier_memory(struct memtier_memory *memory);

void	*memtier_malloc(struct memtier_memory *memory, size_t size);
void	*memtier_kind_malloc(memkind_t kind, size_t size);
void	*memtier_calloc(struct memtier_memory *memory, size_t num,
	    size_t size);
void	*memtier_kind_calloc(memkind_t kind, size_t num, size_t size);
/* A block is reallocated within its own kind; realloc(ptr, 0) frees. */
void	*memtier_realloc(struct memtier_memory *memory, void *ptr,
	    size_t size);
/* Moves ptr to kind when it is another kind's (NULL kind: ptr's own). */
void	*memtier_kind_realloc(memkind_t kind, void *ptr, size_t size);
int	 memtier_posix_memalign(struct memtier_memory *memory, void **memptr,
	    size_t alignment, size_t size);
int	 memtier_kind_posix_memalign(memkind_t kind, void **memptr,
	    size_t alignment, size_t size);
size_t	 memtier_usable_size(void *ptr);
/* kind NULL: found from ptr. ptr NULL: nothing. */
void	 memtier_kind_free(memkind_t kind, void *ptr);

static inline void
memtier_free(void *ptr)
{
	memtier_kind_free(NULL, ptr);
}

/* Bytes (usable sizes) allocated from kind through the memtier API. */
size_t	 memtier_kind_allocated_size(memkind_t kind);

/*
 * Sets a DYNAMIC_THRESHOLD parameter before construction. Names and the
 * type val points to:
 *   policy.dynamic_threshold.thresholds[N].val	size_t
 *   policy.dynamic_threshold.thresholds[N].min	size_t
 *   policy.dynamic_threshold.thresholds[N].max	size_t
 *   policy.dynamic_threshold.check_cnt		unsigned (default 20)
 *   policy.dynamic_threshold.trigger		float (default 0.02)
 *   policy.dynamic_threshold.degree		float (default 0.15)
 * Threshold N exists once tier N+1 has been added; its defaults are
 * val 1024*(N+1), min 1024*(N+0.5), max 1024*(N+1.5)-1.
 * -EINVAL: unknown name, N out of range, STATIC_RATIO builder, NULL.
 */
int	 memtier_ctl_set(struct memtier_builder *builder, const char *name,
	    const void *val);

#ifdef __cplusplus
}
#endif

#endif /* PMEMTIER_MEMKIND_MEMTIER_H */
