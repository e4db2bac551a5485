/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who is on the other end of a connection, as the kernel says: never what
 * the client claims.
 */
#ifndef PMEMTIERD_PEER_H
#define PMEMTIERD_PEER_H

#include "pmemtierd.h"

/*
 * Fills pr from the socket: SO_PEERCRED (uid, gid, pid), SO_PEERPIDFD when
 * the kernel has it, the pid's cgroup v2 path ("0::" line of
 * /proc/PID/cgroup, "/" when unknown) and comm. admin is set for uid 0 and
 * members (primary or SO_PEERGROUPS) of admin_gid when have_admin_gid.
 * Returns 0 or -errno.
 */
int	peer_identify(int fd, struct principal *pr, int have_admin_gid,
	    gid_t admin_gid);
/* Closes the pidfd. */
void	peer_clear(struct principal *pr);
/* Reads the "0::" line of a /proc/PID/cgroup text into buf. 0 or -1. */
int	peer_cgroup_parse(const char *text, char *buf, size_t len);

#endif /* PMEMTIERD_PEER_H */
