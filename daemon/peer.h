/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who is on the other end of a connection, as the kernel says: never what
 * the client claims, and never a default when the kernel cannot say.
 */
#ifndef PMEMTIERD_PEER_H
#define PMEMTIERD_PEER_H

#include "pmemtierd.h"

/*
 * Fills pr from the socket: SO_PEERCRED (uid, gid, pid), a pidfd that
 * pins the process (SO_PEERPIDFD, or pidfd_open() with the proof that the
 * process holds this connection), the pid's cgroup v2 path ("0::" line of
 * /proc/PID/cgroup), its start time, comm, and the default rule's bucket.
 * Returns 0, or -errno with *why saying what could not be proven: the
 * connection must then be refused.
 */
int	peer_identify(int fd, struct principal *pr, const char **why);
/* Is the peer uid 0 or in admin_gid (primary or SO_PEERGROUPS)? */
int	peer_is_admin(int fd, const struct principal *pr, int have_admin_gid,
	    gid_t admin_gid);
/* Closes the pidfd. */
void	peer_clear(struct principal *pr);
/* Same process (pid and start time) and same principal? */
int	peer_same(const struct principal *, const struct principal *);
/* A process's start time (field 22 of /proc/PID/stat): 0 or -1. */
int	peer_start_time(pid_t pid, uint64_t *start);
/* Is the daemon in a cgroup v2 tree (peers' cgroups are then required)? */
int	peer_cgroup_v2(void);
/*
 * Reads the "0::" line of a /proc/PID/cgroup text into buf: 0, -1 when
 * there is none, -2 when it does not fit len.
 */
int	peer_cgroup_parse(const char *text, char *buf, size_t len);

#endif /* PMEMTIERD_PEER_H */
