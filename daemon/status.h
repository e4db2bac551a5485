/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builds the informational replies: Principal, TierInfo, Welcome's tier
 * list, TierList, and Status with paging under the packet cap. A non-admin
 * peer sees the tiers and discovered devices, and only its own principal's
 * (same uid and cgroup) clients and leases; physical use is measured and
 * shown to admins only.
 */
#ifndef PMEMTIERD_STATUS_H
#define PMEMTIERD_STATUS_H

#include "pmemtierd.h"

/* Room kept for the envelope around the paged lists. */
#define STATUS_BUDGET	(PMT_WIRE_MAX_PACKET - 4096)

/* Discovered devices take at most this much of a reply; the rest are
 * only counted (devices_total). */
#define STATUS_DEVICE_BUDGET	16384

/* CXL objects likewise (cxl_total). */
#define STATUS_CXL_BUDGET	16384

struct status_cxl {
	size_t			 n;
	size_t			 total;
	Pmemtier__CxlInfo	*infos;
	Pmemtier__CxlInfo	**ptrs;
};

struct status_tiers {
	size_t			 n;
	Pmemtier__TierInfo	*infos;
	Pmemtier__TierInfo	**ptrs;
};

struct status_devices {
	size_t			 n;
	size_t			 total;
	Pmemtier__DeviceInfo	*infos;
	Pmemtier__DeviceInfo	**ptrs;
};

void	status_principal(const struct principal *, Pmemtier__Principal *);
/* Fills st with every visible tier as seen by pr. 0 or -1 (no memory). */
int	status_tiers(const struct principal *, struct status_tiers *st);
void	status_tiers_free(struct status_tiers *);
/* Fills sd with the devices of the last discovery scan. 0 or -1. */
int	status_devices(struct status_devices *sd);
void	status_devices_free(struct status_devices *);
/* Fills sc with the CXL objects of the last discovery scan. 0 or -1. */
int	status_cxl(struct status_cxl *sc);
void	status_cxl_free(struct status_cxl *);
/*
 * Should pr's Status or TierList measure physical use first? Admins only,
 * at most once a second (STATUS_AUDIT_MS); checks the holders on the
 * way. The dispatcher then runs the audit on the worker and answers
 * after it.
 */
int	status_audit_due(const struct principal *);
/* Answers a TierListRequest: tiers, devices and CXL objects. */
int	status_tier_list(struct conn *, uint64_t request_id);
/* Answers a StatusRequest. */
int	status_reply(struct conn *, uint64_t request_id,
	    const Pmemtier__StatusRequest *);
/* May pr see connection c's details? */
int	status_visible(const struct principal *pr, const struct conn *c);

#endif /* PMEMTIERD_STATUS_H */
