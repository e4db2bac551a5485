/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind's hbwmalloc interface over the static kinds. The policy picks a
 * kind per call: while high-bandwidth memory is unavailable (always, in
 * this library) PREFERRED means ordinary memory and every other policy a
 * kind that refuses, which is what memkind does on such a machine.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api.h"
#include "include/pmemtier/hbwmalloc.h"

/* MPOL_MF_MOVE of <numaif.h>, without a libnuma dependency for one flag. */
#define HBW_MPOL_MF_MOVE	(1 << 1)
#define HBW_VERIFY_BATCH	64

/* 0 until fixed by hbw_set_policy() or the first allocation. */
static int	hbw_policy_set;

static bool
hbw_policy_valid(int mode)
{
	return mode == HBW_POLICY_BIND || mode == HBW_POLICY_PREFERRED ||
	    mode == HBW_POLICY_INTERLEAVE || mode == HBW_POLICY_BIND_ALL;
}

/* The policy, fixed now if it was not yet (mode, if valid, wins then). */
static int
hbw_policy_fix(int mode)
{
	int	unset = 0;

	(void)__atomic_compare_exchange_n(&hbw_policy_set, &unset, mode,
	    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&hbw_policy_set, __ATOMIC_ACQUIRE);
}

PMT_EXPORT hbw_policy_t
hbw_get_policy(void)
{
	int	p = __atomic_load_n(&hbw_policy_set, __ATOMIC_ACQUIRE);

	return p != 0 ? (hbw_policy_t)p : HBW_POLICY_PREFERRED;
}

PMT_EXPORT int
hbw_set_policy(hbw_policy_t mode)
{
	if (!hbw_policy_valid((int)mode))
		return EINVAL;
	/* Setting the policy already in force again is no error (memkind). */
	return hbw_policy_fix((int)mode) == (int)mode ? 0 : EPERM;
}

PMT_EXPORT int
hbw_check_available(void)
{
	return memkind_check_available(MEMKIND_HBW) == MEMKIND_SUCCESS ? 0 :
	    ENODEV;
}

/* The kind an allocation of pages of size ps uses; fixes the policy. */
static memkind_t
hbw_kind(hbw_pagesize_t ps)
{
	int	policy = hbw_policy_fix(HBW_POLICY_PREFERRED);
	bool	huge = ps == HBW_PAGESIZE_2MB;
	bool	giant = ps == HBW_PAGESIZE_1GB || ps == HBW_PAGESIZE_1GB_STRICT;

	if (policy == HBW_POLICY_PREFERRED) {
		if (hbw_check_available() != 0)
			return huge ? MEMKIND_HUGETLB : giant ? MEMKIND_GBTLB :
			    MEMKIND_DEFAULT;
		return huge ? MEMKIND_HBW_PREFERRED_HUGETLB : giant ?
		    MEMKIND_HBW_PREFERRED_GBTLB : MEMKIND_HBW_PREFERRED;
	}
	if (giant)
		return MEMKIND_HBW_GBTLB;
	if (policy == HBW_POLICY_BIND_ALL)
		return huge ? MEMKIND_HBW_ALL_HUGETLB : MEMKIND_HBW_ALL;
	if (policy == HBW_POLICY_BIND)
		return huge ? MEMKIND_HBW_HUGETLB : MEMKIND_HBW;
	return MEMKIND_HBW_INTERLEAVE;	/* only with 4 KiB pages */
}

PMT_EXPORT void *
hbw_malloc(size_t size)
{
	return memkind_malloc(hbw_kind(HBW_PAGESIZE_4KB), size);
}

PMT_EXPORT void *
hbw_calloc(size_t num, size_t size)
{
	return memkind_calloc(hbw_kind(HBW_PAGESIZE_4KB), num, size);
}

PMT_EXPORT int
hbw_posix_memalign(void **memptr, size_t alignment, size_t size)
{
	return memkind_posix_memalign(hbw_kind(HBW_PAGESIZE_4KB), memptr,
	    alignment, size);
}

PMT_EXPORT int
hbw_posix_memalign_psize(void **memptr, size_t alignment, size_t size,
    hbw_pagesize_t pagesize)
{
	if (pagesize < HBW_PAGESIZE_4KB || pagesize >= HBW_PAGESIZE_MAX_VALUE)
		return EINVAL;
	if (pagesize == HBW_PAGESIZE_1GB_STRICT && size % (1UL << 30) != 0)
		return EINVAL;
	/* Interleaving is done in small pages only. */
	if (pagesize != HBW_PAGESIZE_4KB &&
	    hbw_get_policy() == HBW_POLICY_INTERLEAVE)
		return EINVAL;
	return memkind_posix_memalign(hbw_kind(pagesize), memptr, alignment,
	    size);
}

PMT_EXPORT void *
hbw_realloc(void *ptr, size_t size)
{
	return memkind_realloc(hbw_kind(HBW_PAGESIZE_4KB), ptr, size);
}

PMT_EXPORT void
hbw_free(void *ptr)
{
	memkind_free(NULL, ptr);
}

PMT_EXPORT size_t
hbw_malloc_usable_size(void *ptr)
{
	return memkind_malloc_usable_size(NULL, ptr);
}

/*
 * Asks the kernel which node holds each page of the first batch (move_pages
 * with no target nodes only reports). No node is a high-bandwidth one
 * here, so the first page that is read settles it: -1. The call still
 * tells EFAULT from -1, and HBW_TOUCH_PAGES touches the pages it checks,
 * as memkind's batch by batch check does before its first failure.
 */
PMT_EXPORT int
hbw_verify_memory_region(void *addr, size_t size, int flags)
{
	uintptr_t	 page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	 a, end;
	void		*pages[HBW_VERIFY_BATCH];
	int		 status[HBW_VERIFY_BATCH];
	unsigned	 n;

	if (addr == NULL || size == 0 || (flags & ~HBW_TOUCH_PAGES) != 0)
		return EINVAL;
	a = (uintptr_t)addr & ~(page - 1);
	end = (uintptr_t)addr + size;
	for (n = 0; n < HBW_VERIFY_BATCH && a < end; n++, a += page) {
		if (flags & HBW_TOUCH_PAGES) {
			volatile char *c = (volatile char *)a;

			*c = *c;
		}
		pages[n] = (void *)a;
	}
	if (syscall(SYS_move_pages, 0, (unsigned long)n, pages, NULL, status,
	    HBW_MPOL_MF_MOVE) != 0)
		return EFAULT;
	return -1;
}
