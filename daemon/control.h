/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The listening control socket: created (after checking no other daemon
 * answers on it) or taken from systemd, accepting with a per-uid cap and
 * backing off when descriptors run out.
 */
#ifndef PMEMTIERD_CONTROL_H
#define PMEMTIERD_CONTROL_H

#include "pmemtierd.h"

/* Opens or inherits the socket; fatal on error. */
void	control_init(const char *path, const struct pmtd_config *);
void	control_listen(void);
/* Re-enables accepting if it was paused for lack of descriptors. */
void	control_resume(void);
/* Stops accepting; removes the socket file unless systemd owns it. */
void	control_cleanup(void);
const char *control_path(void);
/*
 * Is a non-admin pr to be refused for the descriptor budget? 1 with msg
 * saying so; admins are served from the reserve above the budget.
 */
int	control_over_budget(const struct principal *, char *msg, size_t len);
int	control_activated(void);
/*
 * For an in-place re-exec (SIGUSR2): stops accepting and returns the
 * listening socket, for activation_pass() to put on fd 3 as systemd
 * passes it, so that clients queue in its backlog meanwhile; -1 if none.
 */
int	control_handover(void);

#endif /* PMEMTIERD_CONTROL_H */
