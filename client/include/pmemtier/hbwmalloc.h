/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind's high-bandwidth memory interface (hbwmalloc), as implemented by
 * libpmemtier. Names, numeric values and semantics follow memkind 1.14.
 *
 * libpmemtier offers no high-bandwidth memory: hbw_check_available()
 * returns ENODEV, and allocations follow the policy as memkind's do on a
 * machine without it — HBW_POLICY_PREFERRED (the default) falls back to
 * ordinary memory, BIND, BIND_ALL and INTERLEAVE fail (NULL, errno ENOMEM).
 * See docs/client.md.
 */
#ifndef PMEMTIER_HBWMALLOC_H
#define PMEMTIER_HBWMALLOC_H

#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What happens when high-bandwidth memory is short (memkind's values). */
typedef enum {
	/* No fallback: the allocation fails (nearest HBW node only). */
	HBW_POLICY_BIND = 1,
	/* Fall back to ordinary memory (the default). */
	HBW_POLICY_PREFERRED = 2,
	/* Pages interleaved over the HBW nodes; no fallback. */
	HBW_POLICY_INTERLEAVE = 3,
	/* No fallback: the allocation fails (any HBW node). */
	HBW_POLICY_BIND_ALL = 4,
} hbw_policy_t;

/* Page sizes of hbw_posix_memalign_psize() (memkind's values). */
typedef enum {
	HBW_PAGESIZE_4KB = 1,
	HBW_PAGESIZE_2MB = 2,
	HBW_PAGESIZE_1GB_STRICT = 3,	/* deprecated in memkind */
	HBW_PAGESIZE_1GB = 4,		/* deprecated in memkind */
	HBW_PAGESIZE_MAX_VALUE
} hbw_pagesize_t;

/* hbw_verify_memory_region(): read and write back every page first. */
enum {
	HBW_TOUCH_PAGES = 1 << 0
};

/* The policy in force; HBW_POLICY_PREFERRED until one is set. */
hbw_policy_t hbw_get_policy(void);
/*
 * Sets the policy, once, before the first hbw allocation (which fixes the
 * default). 0; EPERM when another policy is already fixed; EINVAL for a
 * value that is no policy.
 */
int	hbw_set_policy(hbw_policy_t mode);
/* 0 if high-bandwidth memory is available, else ENODEV. */
int	hbw_check_available(void);
/*
 * 0 if every page of [addr, addr + size) is on a high-bandwidth node, -1
 * if one is not (or is not mapped), EINVAL for a NULL addr, size 0 or an
 * unknown flag, EFAULT if the pages' nodes cannot be read.
 */
int	hbw_verify_memory_region(void *addr, size_t size, int flags);

void	*hbw_malloc(size_t size);
void	*hbw_calloc(size_t num, size_t size);
/* 0, EINVAL (alignment, or page size and policy), ENOMEM. */
int	 hbw_posix_memalign(void **memptr, size_t alignment, size_t size);
int	 hbw_posix_memalign_psize(void **memptr, size_t alignment, size_t size,
	    hbw_pagesize_t pagesize);
void	*hbw_realloc(void *ptr, size_t size);
void	 hbw_free(void *ptr);
size_t	 hbw_malloc_usable_size(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* PMEMTIER_HBWMALLOC_H */
