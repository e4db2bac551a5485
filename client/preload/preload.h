/* SPDX-License-Identifier: BSD-3-Clause */
/* libpmemtier-preload.so: what the interposer and the env parser share. */
#ifndef PMT_PRELOAD_H
#define PMT_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <memkind.h>
#include <memkind_memtier.h>

#define PL_TIERS_MAX	8

/*
 * Builds the memory MEMKIND_MEM_TIERS (and MEMKIND_MEM_THRESHOLDS)
 * describe, creating the pmem kinds it names. Returns the memory, or NULL
 * with a reason in why (the kinds it made are destroyed again).
 */
struct memtier_memory *pl_env_build(const char *tiers, const char *thres,
	    char *why, size_t whylen);

#endif /* PMT_PRELOAD_H */
