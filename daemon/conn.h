/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One client connection: its state machine, reading packets, sending
 * replies without ever blocking the daemon, and teardown (which ends every
 * lease of the connection).
 */
#ifndef PMEMTIERD_CONN_H
#define PMEMTIERD_CONN_H

#include "pmemtierd.h"

/* Protocol errors tolerated on one connection before it is dropped. */
#define CONN_MAX_ERRORS		64

/* Takes a connected socket; returns NULL (socket closed) on failure. */
struct conn *conn_new(int fd, const struct principal *pr);
void	conn_close(struct conn *, const char *why);
void	conn_close_all(void);
void	conn_set_state(struct conn *, enum conn_state);
const char *conn_state_name(enum conn_state);
unsigned conn_count_uid(uid_t uid);
unsigned conn_leases_uid(uid_t uid);
struct conn *conn_find(uint64_t id);

/*
 * Sends env (with fd attached when fd >= 0; the caller keeps its fd).
 * When the peer's socket is full the reply is kept and the connection
 * waits in CONN_BLOCKED. Returns 0, or -1 when the connection is dead (the
 * caller must stop using it: it is closed after the current packet).
 */
int	conn_send(struct conn *, const Pmemtier__Envelope *env, int fd);
/* Sends Error{code, message} for request_id. */
int	conn_error(struct conn *, uint64_t request_id, int code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Asks a lease-holding client for a UsageReport (best effort). */
void	conn_query_usage(struct conn *);

#endif /* PMEMTIERD_CONN_H */
