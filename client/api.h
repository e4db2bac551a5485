/* SPDX-License-Identifier: BSD-3-Clause */
/* What the API files share: the public header and the export marker. */
#ifndef PMT_API_H
#define PMT_API_H

#include "include/pmemtier/memkind.h"
#include "include/pmemtier/pmemtier.h"

/* Everything else is hidden (-fvisibility=hidden + the version script). */
#define PMT_EXPORT	__attribute__((visibility("default")))

#define PMT_LIKELY(x)	__builtin_expect(!!(x), 1)
#define PMT_UNLIKELY(x)	__builtin_expect(!!(x), 0)

/* Binds the exported malloc family to libjemalloc's (malloc.c). */
void	pmt_malloc_bind(void);

#endif /* PMT_API_H */
