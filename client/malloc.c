/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why libpmemtier defines malloc & co.
 *
 * A program links "-lpmemtier", so its needed list is libpmemtier, libc,
 * and libjemalloc only comes in behind libc as our dependency: the dynamic
 * linker would bind malloc to glibc's. Exporting the malloc family from
 * here puts them ahead of libc in the lookup order; each calls
 * libjemalloc's own definition (fast paths included), found once at load
 * by the library constructor, which asks the dynamic linker for its symbols
 * (dlsym on its handle: our own exports, which come first in the global
 * scope, are not what it finds). That is what "linking libpmemtier makes
 * jemalloc the process malloc" means (docs/client.md).
 *
 * Until the constructor ran (other libraries' constructors may allocate
 * first), and should libjemalloc's names not be found, the calls go to
 * the bodies below, on jemalloc's non-standard API (mallocx & co., which
 * glibc does not define): the same allocator, through a slower path, so a
 * block from either path may be freed by the other.
 *
 * The names are exported unversioned (libpmemtier.map): glibc's own calls
 * (strdup's malloc@GLIBC_2.2.5) would pass over a definition of version
 * PMEMTIER_0 and reach glibc's malloc.
 *
 * (libpmemtier used to be an auxiliary filter of libjemalloc,
 * -Wl,--auxiliary, which binds the same names without the indirection; but
 * glibc's loader aborts in init_tls when ldd inspects such a filter, and
 * packaging tools do.)
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "api.h"

static void *
fb_malloc(size_t size)
{
	void	*p = mallocx(size ? size : 1, 0);

	if (p == NULL)
		errno = ENOMEM;
	return p;
}

static void
fb_free(void *p)
{
	if (p != NULL)
		dallocx(p, 0);
}

static void *
fb_calloc(size_t n, size_t size)
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

static void *
fb_realloc(void *p, size_t size)
{
	void	*q;

	if (p == NULL)
		return fb_malloc(size);
	if (size == 0) {
		dallocx(p, 0);
		return NULL;
	}
	if ((q = rallocx(p, size, 0)) == NULL)
		errno = ENOMEM;
	return q;
}

static void *
fb_aligned(size_t align, size_t size)
{
	void	*p = mallocx(size ? size : 1, MALLOCX_ALIGN(align));

	if (p == NULL)
		errno = ENOMEM;
	return p;
}

static int
fb_posix_memalign(void **memptr, size_t align, size_t size)
{
	void	*p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	if ((p = fb_aligned(align, size)) == NULL)
		return ENOMEM;
	*memptr = p;
	return 0;
}

static void *
fb_aligned_alloc(size_t align, size_t size)
{
	if (align == 0 || (align & (align - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	return fb_aligned(align, size);
}

static void *
fb_valloc(size_t size)
{
	return fb_aligned(4096, size);
}

static size_t
fb_usable_size(void *p)
{
	return p != NULL ? sallocx(p, 0) : 0;
}

/* Where each name goes: the fallbacks until malloc_bind() ran. */
static struct {
	void	*(*malloc)(size_t);
	void	 (*free)(void *);
	void	*(*calloc)(size_t, size_t);
	void	*(*realloc)(void *, size_t);
	int	 (*posix_memalign)(void **, size_t, size_t);
	void	*(*aligned_alloc)(size_t, size_t);
	void	*(*memalign)(size_t, size_t);
	void	*(*valloc)(size_t);
	size_t	 (*usable_size)(void *);
} je = {
	fb_malloc, fb_free, fb_calloc, fb_realloc, fb_posix_memalign,
	fb_aligned_alloc, fb_aligned_alloc, fb_valloc, fb_usable_size,
};

/*
 * All or nothing: the names are looked up first and switched together
 * (either path frees the other's blocks, so the order does not matter).
 * Called from the library's constructor (kind.c) after its fork handlers
 * are registered: dlopen allocates, which initializes jemalloc, and
 * jemalloc's fork handlers must be registered after ours so that they
 * run first (kind.c, kind_atfork_prepare).
 */
void
pmt_malloc_bind(void)
{
	void	*h = dlopen(PMT_JEMALLOC_SONAME, RTLD_NOW | RTLD_NOLOAD);
	void	*f[9];
	size_t	 i;
	static const char *const names[9] = { "malloc", "free", "calloc",
	    "realloc", "posix_memalign", "aligned_alloc", "memalign",
	    "valloc", "malloc_usable_size" };

	if (h == NULL)
		return;
	for (i = 0; i < 9; i++)
		if ((f[i] = dlsym(h, names[i])) == NULL)
			return;
	/* The handle stays open: libjemalloc is our dependency anyway. */
	memcpy(&je.malloc, &f[0], sizeof(f[0]));
	memcpy(&je.free, &f[1], sizeof(f[1]));
	memcpy(&je.calloc, &f[2], sizeof(f[2]));
	memcpy(&je.realloc, &f[3], sizeof(f[3]));
	memcpy(&je.posix_memalign, &f[4], sizeof(f[4]));
	memcpy(&je.aligned_alloc, &f[5], sizeof(f[5]));
	memcpy(&je.memalign, &f[6], sizeof(f[6]));
	memcpy(&je.valloc, &f[7], sizeof(f[7]));
	memcpy(&je.usable_size, &f[8], sizeof(f[8]));
}

PMT_EXPORT void *
malloc(size_t size)
{
	return je.malloc(size);
}

PMT_EXPORT void
free(void *p)
{
	je.free(p);
}

PMT_EXPORT void *
calloc(size_t n, size_t size)
{
	return je.calloc(n, size);
}

PMT_EXPORT void *
realloc(void *p, size_t size)
{
	return je.realloc(p, size);
}

PMT_EXPORT int
posix_memalign(void **memptr, size_t align, size_t size)
{
	return je.posix_memalign(memptr, align, size);
}

PMT_EXPORT void *
aligned_alloc(size_t align, size_t size)
{
	return je.aligned_alloc(align, size);
}

PMT_EXPORT void *
memalign(size_t align, size_t size)
{
	return je.memalign(align, size);
}

PMT_EXPORT void *
valloc(size_t size)
{
	return je.valloc(size);
}

PMT_EXPORT size_t
malloc_usable_size(void *p)
{
	return je.usable_size(p);
}
