/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

int
peer_cgroup_parse(const char *text, char *buf, size_t len)
{
	const char	*p = text, *nl;
	size_t		 n;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n >= 3 && strncmp(p, "0::", 3) == 0) {
			if (n - 3 == 0 || n - 3 >= len)
				return -1;
			memcpy(buf, p + 3, n - 3);
			buf[n - 3] = '\0';
			return 0;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return -1;
}

/* Reads a small /proc file into buf (NUL-terminated). Returns 0 or -1. */
static int
peer_read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char	 path[64];
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Is gid among the peer's groups? SO_PEERGROUPS gives the supplementary set. */
static int
peer_in_group(int fd, const struct principal *pr, gid_t gid)
{
	gid_t		 groups[256];
	socklen_t	 len = sizeof(groups);
	size_t		 i;

	if (pr->gid == gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
		return 0;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

int
peer_identify(int fd, struct principal *pr, int have_admin_gid, gid_t admin_gid)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	char		 buf[4096];
	int		 pidfd;

	memset(pr, 0, sizeof(*pr));
	pr->pidfd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -errno;
	pr->uid = cred.uid;
	pr->gid = cred.gid;
	pr->pid = cred.pid;

	/*
	 * The pidfd pins the process identity: after reading /proc/PID we
	 * check through it that the pid was not reused by someone else.
	 */
	len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0)
		pr->pidfd = pidfd;

	strcpy(pr->cgroup, "/");
	if (peer_read_proc(pr->pid, "cgroup", buf, sizeof(buf)) == 0 &&
	    peer_cgroup_parse(buf, pr->cgroup, sizeof(pr->cgroup)) != 0)
		strcpy(pr->cgroup, "/");
	if (peer_read_proc(pr->pid, "comm", pr->comm, sizeof(pr->comm)) == 0)
		pr->comm[strcspn(pr->comm, "\n")] = '\0';
	/* Only ESRCH means gone; EPERM (a seccomp filter) says nothing. */
	if (pr->pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, pr->pidfd, 0, NULL, 0) != 0 &&
	    errno == ESRCH) {
		/* The peer died while we looked: its cgroup is not trusted. */
		log_debug("peer_identify: pid %d gone while identifying",
		    (int)pr->pid);
		strcpy(pr->cgroup, "/");
		pr->comm[0] = '\0';
	}
	/*
	 * Only identification needs the pidfd; keeping one per connection
	 * would double the daemon's descriptors for nothing.
	 */
	peer_clear(pr);

	pr->admin = pr->uid == 0 ||
	    (have_admin_gid && peer_in_group(fd, pr, admin_gid));
	return 0;
}

void
peer_clear(struct principal *pr)
{
	if (pr->pidfd >= 0)
		close(pr->pidfd);
	pr->pidfd = -1;
}
