/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why libpmemtier defines malloc & co.
 *
 * A program links "-lpmemtier", so its needed list is libpmemtier, libc,
 * and libjemalloc only comes in behind libc as our dependency: the dynamic
 * linker would bind malloc to glibc's. libpmemtier is therefore linked as
 * an auxiliary filter of libjemalloc (-Wl,--auxiliary): for every name
 * libpmemtier exports, the linker first looks in libjemalloc. Exporting the
 * malloc family from here puts them ahead of libc in the lookup order, and
 * the filter binds them to jemalloc's own definitions, fast paths included.
 * That is what "linking libpmemtier makes jemalloc the process malloc"
 * means (docs/client.md).
 *
 * The bodies below only run if the filter were not honoured; they are
 * correct on their own terms (jemalloc's non-standard API, which glibc
 * does not define).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "api.h"

PMT_EXPORT void *
malloc(size_t size)
{
	void	*p = mallocx(size ? size : 1, 0);

	if (p == NULL)
		errno = ENOMEM;
	return p;
}

PMT_EXPORT void
free(void *p)
{
	if (p != NULL)
		dallocx(p, 0);
}

PMT_EXPORT void *
calloc(size_t n, size_t size)
{
	size_t	 total;
	void	*p;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((p = mallocx(total ? total : 1, MALLOCX_ZERO)) == NULL)
		errno = ENOMEM;
	return p;
}

PMT_EXPORT void *
realloc(void *p, size_t size)
{
	void	*q;

	if (p == NULL)
		return malloc(size);
	if (size == 0) {
		dallocx(p, 0);
		return NULL;
	}
	if ((q = rallocx(p, size, 0)) == NULL)
		errno = ENOMEM;
	return q;
}

static void *
malloc_aligned(size_t align, size_t size)
{
	void	*p = mallocx(size ? size : 1, MALLOCX_ALIGN(align));

	if (p == NULL)
		errno = ENOMEM;
	return p;
}

PMT_EXPORT int
posix_memalign(void **memptr, size_t align, size_t size)
{
	void	*p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	if ((p = malloc_aligned(align, size)) == NULL)
		return ENOMEM;
	*memptr = p;
	return 0;
}

PMT_EXPORT void *
aligned_alloc(size_t align, size_t size)
{
	if (align == 0 || (align & (align - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	return malloc_aligned(align, size);
}

PMT_EXPORT void *
memalign(size_t align, size_t size)
{
	return aligned_alloc(align, size);
}

PMT_EXPORT void *
valloc(size_t size)
{
	return malloc_aligned(4096, size);
}

PMT_EXPORT size_t
malloc_usable_size(void *p)
{
	return p != NULL ? sallocx(p, 0) : 0;
}
