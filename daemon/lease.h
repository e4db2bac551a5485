/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lease table. A lease is (id, tier, size, the daemon's fd) owned by a
 * connection. Ids come from a counter seeded with the start time in
 * microseconds, so they are unique across restarts and a future daemon can
 * re-adopt leases by id without clashing with new ones.
 */
#ifndef PMEMTIERD_LEASE_H
#define PMEMTIERD_LEASE_H

#include "pmemtierd.h"

void	lease_table_init(uint64_t seed);
/* Destroys every lease (closing the daemon's fds). */
void	lease_table_fini(struct tiers *);
/*
 * Enters a new lease: takes fd, charges the tier, the quota buckets and
 * the connection. Returns NULL only when out of memory (fd is then not
 * taken).
 */
struct lease *lease_create(struct tier *, struct conn *,
	    const struct principal *, uint64_t size, int fd, const char *label);
struct lease *lease_find(uint64_t id);
/* Removes the lease, closes its fd and uncharges everything. */
void	lease_destroy(struct lease *, struct tiers *);
struct leases *lease_all(void);
unsigned lease_count(void);
/*
 * Measures a lease (fstat): physical bytes, and whether the client grew it
 * past its grant. Logs the first time a lease is found overgrown.
 */
void	lease_audit(struct lease *);
void	lease_audit_all(void);

#endif /* PMEMTIERD_LEASE_H */
