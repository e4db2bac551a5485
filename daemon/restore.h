/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Re-adopting the leases of the journal at start (restore.c).
 */
#ifndef PMEMTIERD_RESTORE_H
#define PMEMTIERD_RESTORE_H

#include <stddef.h>

/*
 * Opens the journal in state_dir and re-enters every lease a live
 * process still holds. 0, or -1 with err set (the journal cannot be
 * opened or is locked by another daemon: the daemon must not start).
 */
int	restore_leases(const char *state_dir, char *err, size_t errlen);

#endif /* PMEMTIERD_RESTORE_H */
