/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builds the informational replies: Principal, TierInfo, Welcome's tier
 * list, and Status with paging under the packet cap. A non-admin peer sees
 * the tiers and only its own principal's (same uid and cgroup) clients and
 * leases.
 */
#ifndef PMEMTIERD_STATUS_H
#define PMEMTIERD_STATUS_H

#include "pmemtierd.h"

/* Room kept for the envelope around the paged lists. */
#define STATUS_BUDGET	(PMT_WIRE_MAX_PACKET - 4096)

struct status_tiers {
	size_t			 n;
	Pmemtier__TierInfo	*infos;
	Pmemtier__TierInfo	**ptrs;
};

void	status_principal(const struct principal *, Pmemtier__Principal *);
/* Fills st with every visible tier as seen by pr. 0 or -1 (no memory). */
int	status_tiers(const struct principal *, struct status_tiers *st);
void	status_tiers_free(struct status_tiers *);
/* Answers a StatusRequest. */
int	status_reply(struct conn *, uint64_t request_id,
	    const Pmemtier__StatusRequest *);
/* May pr see connection c's details? */
int	status_visible(const struct principal *pr, const struct conn *c);

#endif /* PMEMTIERD_STATUS_H */
