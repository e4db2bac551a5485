/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lease table. A lease is (id, tier, size, the daemon's fd) owned by a
 * connection, or by its process (holder.c) once the connection closed.
 * Ids come from a counter seeded with the start time in microseconds, so
 * they are unique across restarts and a future daemon can re-adopt leases
 * by id without clashing with new ones.
 */
#ifndef PMEMTIERD_LEASE_H
#define PMEMTIERD_LEASE_H

#include "pmemtierd.h"

void	lease_table_init(uint64_t seed);
/* Drops every lease and zombie (closing the daemon's fds, no revocation). */
void	lease_table_fini(struct tiers *);
/*
 * Enters a new lease: takes fd, charges the tier and the quota buckets
 * its budget (bytes committed, <= size), the connection its size.
 * Returns NULL only when out of memory (fd is then not taken).
 */
struct lease *lease_create(struct tier *, struct conn *,
	    const struct principal *, uint64_t size, uint64_t budget, int fd,
	    const uint64_t devino[2], const char *label);
struct lease *lease_find(uint64_t id);
/*
 * Re-enters a lease from the journal after a restart (restore.c), held
 * for its process by h, with the daemon's fd reopened (or -1 when it could
 * not be: charged all the same). NULL when the id is taken or no memory.
 */
struct journal_rec;
struct lease *lease_restore(struct tier *, struct holder *,
	    const struct journal_rec *, int fd);
/* The same for a zombie; takes fd (>= 0). 0, or -1. */
int	lease_restore_zombie(struct tier *, const struct journal_rec *, int fd);
const struct zombies *lease_zombie_list(void);
/* Moves a lease between its connection and its holder (holder.c). */
void	lease_attach_conn(struct lease *, struct conn *);
void	lease_attach_holder(struct lease *, struct holder *);
void	lease_detach(struct lease *);
/*
 * Ends a lease: frees its storage through the daemon's fd (truncate),
 * uncharges it, and keeps watching the file as a zombie while a client may
 * still have it open. Returns 1 when freeing went off the loop (the
 * worker, or its close lane; see worker.h).
 */
int	lease_end(struct lease *, struct tiers *);
/*
 * The same, and when freeing went off the loop (1), then (a job) is
 * completed on the loop once the storage is free.
 */
struct work;
int	lease_end_then(struct lease *, struct tiers *, struct work *then);
/*
 * Forgets a lease without touching its storage (the daemon stops; the
 * clients' data must survive for the next daemon).
 */
void	lease_drop(struct lease *, struct tiers *);
/*
 * Has every client let go of the lease (no fd, no mapping: the daemon's
 * is the only open file)? 0 when it cannot tell (a memfd: see holder.c).
 */
int	lease_let_go(struct lease *);
struct leases *lease_all(void);
unsigned lease_count(void);
unsigned lease_zombie_count(void);
uint64_t lease_zombie_physical(const struct tier *);
/*
 * Measures a lease (fstat); one grown past its grant is trimmed back
 * through the daemon's fd and charged max(granted, allocated). On the
 * loop: for tests; the daemon audits with lease_audit_async.
 */
void	lease_audit(struct lease *);
/*
 * A lease's commit budget (page-rounded, <= its size): it is charged
 * max(budget, what its file holds). lease_commit_charge says what the
 * charge would be with budget bytes, measuring the file now (*physical);
 * the caller checks a raise against quota and tier, then lease_commit
 * sets it.
 */
uint64_t lease_commit_charge(const struct lease *, uint64_t bytes,
	    uint64_t *physical);
void	lease_commit(struct lease *, uint64_t bytes, uint64_t physical);
/* Audits every lease and zombie of t (NULL: of every tier), on the loop. */
void	lease_audit_tier(struct tier *, struct tiers *);
/*
 * The same on the worker thread (worker.h): the leases and zombies of t
 * (NULL: of every tier; zombies_only: just the zombies, which are few, so
 * that one a client let go of is freed within a second) are measured and
 * trimmed there, then charged on the loop, then then(arg) runs. Grants
 * submitted after it run after it. 0, or -1 when out of memory.
 */
int	lease_audit_async(struct tier *, int zombies_only, struct tiers *,
	    void (*then)(void *), void *arg);
/* Audits submitted and not yet applied. */
unsigned lease_audit_pending(void);

#endif /* PMEMTIERD_LEASE_H */
