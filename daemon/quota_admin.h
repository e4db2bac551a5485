/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The quota commands of the protocol: QuotaListRequest, QuotaSet and
 * QuotaUnset (the last two for admins only; dispatch checks that).
 */
#ifndef PMEMTIERD_QUOTA_ADMIN_H
#define PMEMTIERD_QUOTA_ADMIN_H

#include "pmemtierd.h"

void	quota_admin_list(struct conn *, uint64_t rid);
void	quota_admin_set(struct conn *, uint64_t rid, const Pmemtier__QuotaRule *);
void	quota_admin_unset(struct conn *, uint64_t rid,
	    const Pmemtier__QuotaRule *);
/* One bucket that holds bytes under a rule (QuotaList, metrics.c). */
struct quota_bucket {
	const struct quota_rule	*rule;
	const char		*tier;
	char			 bucket[PMTD_CGROUP_MAX + 8];	/* "uid 1000" */
	uint64_t		 used;
};

/*
 * The buckets holding bytes now, over quota first, then the fullest;
 * *out (freed by the caller) points into the rules in force. 0, or -1
 * when out of memory.
 */
int	quota_admin_buckets(struct quota_bucket **out, size_t *n);
/* Converts a wire rule; -1 with err set when it is not valid. */
int	quota_admin_from_wire(const Pmemtier__QuotaRule *, struct quota_rule *,
	    char *err, size_t errlen);

#endif /* PMEMTIERD_QUOTA_ADMIN_H */
