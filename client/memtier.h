/* SPDX-License-Identifier: BSD-3-Clause */
/* What the memtier face (memtier.c) needs from the kinds, and back. */
#ifndef PMT_MEMTIER_H
#define PMT_MEMTIER_H

struct memkind;

/* Forgets the bytes the memtier API counted on k (k is being destroyed). */
void	pmt_memtier_kind_reset(const struct memkind *k);

#endif /* PMT_MEMTIER_H */
