/* SPDX-License-Identifier: BSD-3-Clause */
/* What the memtier face (memtier.c) needs from the kinds, and back. */
#ifndef PMT_MEMTIER_H
#define PMT_MEMTIER_H

#include <stdbool.h>
#include <stddef.h>

#include "include/pmemtier/memkind.h"

struct memkind;

/*
 * Set in the library's own threads (the purge thread): the preload must
 * serve their allocations from DRAM, since they may hold the connection
 * lock that a tier allocation needs (pmemtier_priv_internal_thread).
 */
extern __thread bool pmt_memtier_internal_thread;

/* Forgets the bytes the memtier API counted on k (k is being destroyed). */
void	pmt_memtier_kind_reset(const struct memkind *k);

/*
 * For libpmemtier-preload.so only (version node PMEMTIER_PRIVATE, no ABI
 * promise): the preload serves DRAM from glibc's malloc, so it picks the
 * kind and counts DRAM bytes itself.
 */
struct memtier_memory;
/* The kind the memory's policy picks for a block of size. */
memkind_t pmemtier_priv_memtier_pick(struct memtier_memory *m, size_t size);
/* Called after each allocation operation (threshold adaptation). */
void	pmemtier_priv_memtier_done(struct memtier_memory *m);
/* Adds delta bytes (may be negative) to kind's memtier count. */
void	pmemtier_priv_memtier_count(memkind_t kind, long long delta);
/* True in the library's own threads (pmt_memtier_internal_thread). */
bool	pmemtier_priv_internal_thread(void);
/* Fork children keep a copy of the parent's leases (lease.h). */
void	pmemtier_priv_fork_snapshot(bool on);

#endif /* PMT_MEMTIER_H */
