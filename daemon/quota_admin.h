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
/* Converts a wire rule; -1 with err set when it is not valid. */
int	quota_admin_from_wire(const Pmemtier__QuotaRule *, struct quota_rule *,
	    char *err, size_t errlen);

#endif /* PMEMTIERD_QUOTA_ADMIN_H */
