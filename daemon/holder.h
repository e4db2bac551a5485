/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leases of processes whose connection closed while they live. A closed
 * connection is not a dead client: a dropped connection, a bug, or a
 * client that hangs up but keeps its fds must not be able to take its
 * charge away with it. So the leases it still holds (a file lease whose
 * file no one else has open is over at once; a kmem lease cannot tell)
 * stay charged to the process's principal until the process lets go of
 * them (seen at audit) or exits (its pidfd polls readable) and are ended
 * then, or go back to the process's next connection.
 */
#ifndef PMEMTIERD_HOLDER_H
#define PMEMTIERD_HOLDER_H

#include "pmemtierd.h"

/*
 * Takes c's leases for its process. When the process is already gone
 * (or its pid now names another process) the leases are ended at once.
 */
void	holder_take(struct conn *c);
/*
 * The holder of process pr (pid and start time) for leases restored after
 * a restart: an existing one, or a new one watching the process. NULL
 * when the process is gone (or its pid names another process now).
 */
struct holder *holder_adopt(const struct principal *pr);
/* Ends the leases of a holder left without any (after a restore). */
void	holder_forget_empty(void);
/* Gives the leases a process's earlier connections left back to c. */
void	holder_give(struct conn *c);
/* Forgets every holder without ending leases (the daemon stops). */
void	holder_drop_all(void);
/* Ends held leases their processes let go of (called at audit). */
void	holder_audit(void);
unsigned holder_count(void);

#endif /* PMEMTIERD_HOLDER_H */
