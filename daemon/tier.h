/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tiers: named pools of one kind of memory, each run by a backend (an ops
 * table: file, kmem, fsdax). The tier table lives in pmtd->tiers.
 */
#ifndef PMEMTIERD_TIER_H
#define PMEMTIERD_TIER_H

#include <stddef.h>

#include "pmemtierd.h"

extern const struct tier_ops	tier_file_ops;
extern const struct tier_ops	tier_fsdax_ops;
extern const struct tier_ops	tier_kmem_ops;

const struct tier_ops *tier_backend(const char *name);
/*
 * Brings the tier table in line with conf: opens new tiers, updates
 * capacity and the default flag of existing ones, marks tiers gone from
 * conf as removed (they serve no new lease; a removed tier is freed with
 * its last lease). Returns 0, or -1 with err set; on error nothing changed
 * except tiers opened before the failing one, which are closed again.
 */
int	tier_apply(struct tiers *, struct pmtd_config *, char *err, size_t);
/* Validates backends without opening anything (-n). */
int	tier_check(struct pmtd_config *, char *err, size_t);
/* The tier named name ("" = the default); NULL when none or removed. */
struct tier *tier_find(struct tiers *, const char *name);
/* Adds one tier (discovery, tests). 0 or -errno with err set. */
int	tier_add(struct tiers *, const struct tier_conf *, char *err, size_t);
void	tier_free(struct tiers *, struct tier *);
void	tier_close_all(struct tiers *);
/*
 * Makes the daemon's object for a new lease: 0 or -errno. projid is the
 * filesystem project of the lease's bucket (projquota_prepare), 0 for
 * none; -EDQUOT when that project has no room for size more bytes.
 */
int	tier_alloc(struct tier *, uint64_t size, uint64_t fill, uint32_t projid,
	    int *fdp, uint64_t devino[2]);
/*
 * Spares (file tiers): ends a lease's file that nobody else has open
 * (its F_SETLEASE write lease still set) by keeping it, emptied, for a
 * later grant instead of closing it; worker_close_then's placement and
 * return. A sealed or removed tier's file is simply closed.
 */
struct work;
int	tier_recycle_then(struct tiers *, struct tier *, int fd,
	    uint64_t bytes, struct work *then);
/* A kept file (its st_dev and st_ino in devino), or -1: any thread. */
int	tier_spare_take(struct tier *, uint64_t devino[2]);
/* Closes a tier's spares; every tier's; those no grant took last tick. */
void	tier_spares_drop(struct tier *);
void	tier_spares_drop_all(struct tiers *);
void	tier_spares_tick(struct tiers *);
/* Descriptors the spares hold, all tiers (they count in the fd budget). */
unsigned tier_spare_count(void);
/*
 * A descriptor of the lease object behind fd for the client (the caller
 * closes it once sent): its own open file for a file lease. fd or -errno.
 */
int	tier_export(struct tier *, int fd);
/*
 * free_off_loop: sets where the tier's lease files are closed; auto
 * measures whether a close sleeps on its filesystem (file backends).
 */
void	tier_set_free(struct tier *, enum tier_free);
/* Called by the lease table as leases come and go. */
void	tier_charge(struct tier *, uint64_t size);
void	tier_uncharge(struct tiers *, struct tier *, uint64_t size);
/* Charges growth beyond a grant (delta < 0 gives it back). */
void	tier_adjust(struct tier *, int64_t delta);
/* Zombies (revoked files still open elsewhere) keep their tier. */
void	tier_ref(struct tier *);
void	tier_unref(struct tiers *, struct tier *);

#endif /* PMEMTIERD_TIER_H */
