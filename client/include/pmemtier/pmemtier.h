/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What libpmemtier offers beyond memkind's API: where a kind's memory comes
 * from (daemon or standalone mode, which tier) and how much it holds.
 */
#ifndef PMEMTIER_PMEMTIER_H
#define PMEMTIER_PMEMTIER_H

#include <stdbool.h>
#include <stddef.h>

#include "memkind.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMEMTIER_MODE_STANDALONE	0	/* a temp file in the kind's dir */
#define PMEMTIER_MODE_DAEMON		1	/* leases from pmemtierd */
#define PMEMTIER_MODE_FIXED		2	/* the caller's range */

struct pmemtier_kind_info {
	char	name[64];	/* the label of its leases in the daemon's status */
	int	mode;		/* PMEMTIER_MODE_* */
	char	tier[64];	/* daemon mode: the tier's name, else "" */
	size_t	leased;		/* bytes of leases the kind holds */
	size_t	leases;		/* number of leases */
	size_t	max_size;	/* 0: no limit of its own */
	size_t	reserved;	/* address space reserved for it */
	bool	metadata_in_dram; /* jemalloc's metadata kept off the lease */
};

/*
 * Creates a pmem kind on the daemon's tier called tier (see tierctl
 * status), with an optional limit of its own (0: the quota only, else at
 * least MEMKIND_PMEM_MIN_SIZE). Needs the daemon: PMEMTIER_MODE=standalone
 * or no daemon gives MEMKIND_ERROR_UNAVAILABLE, as does an unknown tier;
 * a bad argument MEMKIND_ERROR_INVALID.
 */
int	pmemtier_create_pmem_on_tier(const char *tier, size_t max_size,
	    memkind_t *kind);

/* The library's version, e.g. "0.1.0". */
const char *pmemtier_version(void);

/*
 * Fills *info for a pmem or kmem kind. Returns MEMKIND_SUCCESS, or
 * MEMKIND_ERROR_INVALID for a kind without leased memory (MEMKIND_DEFAULT)
 * and MEMKIND_ERROR_UNAVAILABLE for a kmem kind that cannot be set up.
 */
int	pmemtier_kind_get_info(memkind_t kind, struct pmemtier_kind_info *info);

/*
 * Gives the calling thread's cached free blocks of the kind back to its
 * arena and every unused page of the kind back to its lease (holes
 * punched) now, whatever the usage policy. MEMKIND_SUCCESS or
 * MEMKIND_ERROR_INVALID.
 */
int	pmemtier_kind_purge(memkind_t kind);

#ifdef __cplusplus
}
#endif

#endif /* PMEMTIER_PMEMTIER_H */
