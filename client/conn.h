/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process's one connection to pmemtierd: opened lazily, shared by every
 * kind, used for synchronous request/reply under one mutex. Closing it (or
 * the process dying) makes the daemon release every lease it granted.
 */
#ifndef PMT_CONN_H
#define PMT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMT_TIER_NAME_MAX	64

/* What the client keeps of the daemon's TierInfo. */
struct pmt_tier {
	char		name[PMT_TIER_NAME_MAX];
	char		backend[16];
	uint64_t	st_dev;
	uint64_t	capacity;
	uint64_t	free;
	uint64_t	quota;
	bool		quota_limited;
	bool		is_default;
	bool		dax;
	int		numa_node;
};

/* Per-kind usage for a UsageReport, filled by the kind module. */
struct pmt_usage {
	char		kind[64];
	char		tier[PMT_TIER_NAME_MAX];
	uint64_t	allocated;
	uint64_t	active;
	uint64_t	resident;
	uint64_t	mapped;
	uint64_t	refused;
};

/* The socket path: PMEMTIER_SOCKET, else PMEMTIER_DEFAULT_SOCKET. */
const char	*pmt_conn_socket_path(void);

/*
 * Takes a reference on the connection, opening it (connect + Hello) when
 * there is none. 0, or -errno (-ECONNREFUSED, -ENOENT: no daemon;
 * -EPROTO: it did not speak our protocol).
 */
int	pmt_conn_get(void);
/* Takes a reference only if a healthy connection is open: 0 or -ENOTCONN. */
int	pmt_conn_get_open(void);
/* Drops a reference; the last one closes the connection. */
void	pmt_conn_put(void);

/*
 * Copies the tier that serves dir (st_dev match on a file/fsdax tier, else
 * the default tier) or, with backend "kmem", the first kmem tier.
 * 0 or -ENOENT.
 */
int	pmt_conn_tier_for_dir(const char *dir, struct pmt_tier *out);
int	pmt_conn_tier_by_backend(const char *backend, struct pmt_tier *out);
int	pmt_conn_tier_by_name(const char *name, struct pmt_tier *out);

/*
 * Asks for a lease of size bytes of which commit (from offset 0) are
 * committed now and charged. On success returns 0 and sets *id, *fd
 * (owned by the caller), *granted and *budget (what is charged: the whole
 * lease from a daemon without budgets). -ENOMEM when the daemon refused
 * for quota, space or a per-connection cap; -EIO when the connection
 * failed.
 */
int	pmt_conn_lease(const char *tier, size_t size, size_t commit,
	    const char *label, uint64_t *id, int *fd, size_t *granted,
	    size_t *budget);
/*
 * Sets lease id's commit budget to bytes; *budget gets what the daemon
 * set. -ENOMEM refused (quota, tier full), -EOPNOTSUPP the daemon has no
 * budgets, -EIO the connection failed.
 */
int	pmt_conn_commit(uint64_t id, size_t bytes, size_t *budget);
int	pmt_conn_release(uint64_t id);

/* Sends a UsageReport built from usage[0..n). */
int	pmt_conn_report(const struct pmt_usage *usage, size_t n);
/* True when the daemon asked for a report that was not sent yet. */
bool	pmt_conn_report_wanted(void);
/* Reads pending unsolicited packets without blocking. */
void	pmt_conn_poll(void);

void	pmt_conn_atfork_prepare(void);
void	pmt_conn_atfork_parent(void);
/* In the child: forget the parent's connection without a word on it. */
void	pmt_conn_atfork_child(void);

#endif /* PMT_CONN_H */
