/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who the peer is. Everything comes from the kernel, and what cannot be
 * proven is refused, never defaulted (a default is what a hostile client
 * would aim for):
 *
 * 1. SO_PEERCRED gives the uid, gid and the pid that called connect().
 * 2. A pidfd pins that process: SO_PEERPIDFD where the kernel has it
 *    (6.5+). Elsewhere pidfd_open(pid) may name a process that reused the
 *    pid, so the daemon proves it is the peer: that process must hold the
 *    other end of this very connection (its socket inode, from sock_diag,
 *    among the links in /proc/PID/fd).
 * 3. /proc/PID/cgroup and /proc/PID/stat are read, and then the pidfd is
 *    polled: a process still alive after the reads cannot have given its
 *    pid away during them.
 *
 * A peer that exited, whose cgroup is unreadable or longer than the kernel
 * allows, or that does not hold the connection, is refused with an error
 * that says which.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
/* A peer with more descriptors than this cannot be proven (fallback only). */
#define PEER_SCAN_MAX	65536

static struct {
	int	probed;
	int	v2;			/* the daemon itself is in a cgroup v2 tree */
	char	mount[PATH_MAX];	/* where cgroup2 is mounted, "" if nowhere */
	int	no_peerpidfd;		/* test knob: take the fallback path */
} peer_env;

int
peer_cgroup_parse(const char *text, char *buf, size_t len)
{
	const char	*p = text, *nl;
	size_t		 n;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n >= 3 && strncmp(p, "0::", 3) == 0) {
			/* The kernel writes an absolute path; refuse any other. */
			if (n - 3 == 0 || p[3] != '/')
				return -1;
			if (n - 3 >= len)
				return -2;
			memcpy(buf, p + 3, n - 3);
			buf[n - 3] = '\0';
			return 0;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return -1;
}

/*
 * Reads a /proc file whole into buf (NUL-terminated). Returns its length,
 * -errno, or -EFBIG when it does not fit.
 */
static ssize_t
peer_read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char	 path[64];
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while (got < len - 1) {
		if ((n = read(fd, buf + got, len - 1 - got)) < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (rc == 0 && got == len - 1 && read(fd, path, 1) > 0)
		rc = -EFBIG;
	close(fd);
	if (rc != 0)
		return rc;
	buf[got] = '\0';
	return (ssize_t)got;
}

/* Where cgroup2 is mounted, and whether the daemon itself is in it. */
static void
peer_probe_env(void)
{
	char	 line[PATH_MAX * 2], self[8192], cg[PMTD_CGROUP_MAX];
	FILE	*f;

	peer_env.probed = 1;
	peer_env.no_peerpidfd = getenv("PMEMTIERD_TEST_NO_PEERPIDFD") != NULL;
	if (peer_read_proc(getpid(), "cgroup", self, sizeof(self)) > 0 &&
	    peer_cgroup_parse(self, cg, sizeof(cg)) == 0)
		peer_env.v2 = 1;
	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char	*dash = strstr(line, " - cgroup2 "), *p;
		int	 i;

		if (dash == NULL)
			continue;
		/* Field 5 is the mount point (octal escapes are rare here). */
		for (p = line, i = 0; i < 4 && p != NULL; i++)
			if ((p = strchr(p, ' ')) != NULL)
				p++;
		if (p == NULL || p > dash)
			continue;
		p[strcspn(p, " ")] = '\0';
		snprintf(peer_env.mount, sizeof(peer_env.mount), "%s", p);
		break;
	}
	fclose(f);
}

int
peer_cgroup_v2(void)
{
	if (!peer_env.probed)
		peer_probe_env();
	return peer_env.v2;
}

/* Is gid among the peer's groups? SO_PEERGROUPS gives the supplementary set. */
static int
peer_in_group(int fd, const struct principal *pr, gid_t gid)
{
	gid_t		*groups;
	socklen_t	 len = 256 * sizeof(gid_t);
	size_t		 i;
	int		 in = 0;

	if (pr->gid == gid)
		return 1;
	if ((groups = malloc(len)) == NULL)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0 &&
	    errno == ERANGE) {
		gid_t	*n = realloc(groups, len);

		if (n == NULL) {
			free(groups);
			return 0;
		}
		groups = n;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups,
		    &len) != 0)
			len = 0;
	}
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			in = 1;
	free(groups);
	return in;
}

int
peer_is_admin(int fd, const struct principal *pr, int have_admin_gid,
    gid_t admin_gid)
{
	return pr->uid == 0 ||
	    (have_admin_gid && peer_in_group(fd, pr, admin_gid));
}

/* The inode of the socket at the other end of fd (sock_diag), or 0. */
static ino_t
peer_socket_inode(int fd)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} q;
	union {
		struct nlmsghdr	nlh;
		char		buf[8192];
	} r;
	struct sockaddr_nl	 nl = { .nl_family = AF_NETLINK };
	struct unix_diag_msg	*m;
	struct rtattr		*a;
	struct stat		 st;
	ssize_t			 n;
	int			 ns, len;
	ino_t			 peer = 0;

	if (fstat(fd, &st) != 0)
		return 0;
	if ((ns = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		return 0;
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = sizeof(q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_ino = (unsigned)st.st_ino;
	q.req.udiag_show = UDIAG_SHOW_PEER;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;
	if (sendto(ns, &q, sizeof(q), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) != sizeof(q))
		goto out;
	if ((n = recv(ns, &r, sizeof(r), 0)) < (ssize_t)NLMSG_LENGTH(sizeof(*m)))
		goto out;
	if (!NLMSG_OK(&r.nlh, (size_t)n) ||
	    r.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto out;
	m = NLMSG_DATA(&r.nlh);
	len = (int)(r.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, len);
	    a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_PEER &&
		    RTA_PAYLOAD(a) >= (int)sizeof(uint32_t))
			peer = *(uint32_t *)RTA_DATA(a);
out:
	close(ns);
	return peer;
}

/* Does process pid hold socket inode ino among its descriptors? */
static int
peer_holds_socket(pid_t pid, ino_t ino)
{
	char		 dir[64], path[320], link[64], want[64];
	struct dirent	*de;
	DIR		*d;
	unsigned	 n = 0;
	ssize_t		 len;
	int		 found = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)ino);
	if ((d = opendir(dir)) == NULL)
		return -errno;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (++n > PEER_SCAN_MAX) {
			closedir(d);
			return -E2BIG;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return found;
}

/*
 * Opens a pidfd for the connection's peer: SO_PEERPIDFD, or pidfd_open()
 * and the proof that the process holds the connection. 0 or -errno with
 * why set.
 */
static int
peer_pidfd(int fd, struct principal *pr, const char **why)
{
	socklen_t	len = sizeof(int);
	ino_t		ino;
	int		pidfd = -1, rc;

	if (!peer_env.no_peerpidfd &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0) {
		pr->pidfd = pidfd;
		return 0;
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, pr->pid, 0)) < 0) {
		*why = errno == ESRCH ? "the process exited before it could "
		    "be identified" : "pidfd_open failed";
		return -errno;
	}
	pr->pidfd = pidfd;
	if ((ino = peer_socket_inode(fd)) == 0) {
		*why = "the connection's other end could not be found "
		    "(sock_diag for AF_UNIX unavailable?)";
		return -ENOTCONN;
	}
	if ((rc = peer_holds_socket(pr->pid, ino)) <= 0) {
		*why = rc == -E2BIG ? "the process holds too many descriptors "
		    "to check" : rc == 0 ? "the process with the peer's pid does "
		    "not hold this connection (pid reused?)" : "its descriptors "
		    "could not be read";
		return rc == 0 ? -ESRCH : rc;
	}
	return 0;
}

int
peer_start_time(pid_t pid, uint64_t *start)
{
	char		 buf[1024], *p;
	int		 i;

	if (peer_read_proc(pid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	/* comm may hold spaces and parentheses: count from the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (i = 2; i < 22 && p != NULL; i++)
		if ((p = strchr(p + 1, ' ')) != NULL)
			p++;
	if (p == NULL)
		return -1;
	*start = strtoull(p, NULL, 10);
	return 0;
}

/*
 * The default rule's bucket: the nearest cgroup, the peer's own or an
 * ancestor, that its uid does not own. A user who may create sub-cgroups
 * (a delegated subtree) owns them, so making more gains nothing. root owns
 * everything and keeps its leaf. When that is the root cgroup (shared by
 * every user, as in a container without systemd) or there is no cgroup2
 * mount to look at, the bucket is the uid (dflt_len 0).
 */
static void
peer_default_bucket(struct principal *pr)
{
	char		path[PATH_MAX + PMTD_CGROUP_MAX];
	struct stat	st;
	size_t		len = strlen(pr->cgroup);

	pr->dflt_len = 0;
	if (peer_env.mount[0] == '\0')
		return;
	while (len > 1 && pr->uid != 0) {
		snprintf(path, sizeof(path), "%s%.*s", peer_env.mount, (int)len,
		    pr->cgroup);
		if (stat(path, &st) != 0)
			return;		/* cannot tell: the uid's bucket */
		if (st.st_uid != pr->uid)
			break;
		while (len > 1 && pr->cgroup[len - 1] != '/')
			len--;
		if (len > 1)
			len--;		/* drop the slash too, unless root */
	}
	/* Not the root cgroup, which every user shares: the uid then. */
	if (len > 1)
		pr->dflt_len = len;
}

int
peer_identify(int fd, struct principal *pr, const char **why)
{
	struct ucred	 cred;
	struct pollfd	 pfd;
	socklen_t	 len = sizeof(cred);
	char		 buf[PMTD_CGROUP_MAX + 4096];
	ssize_t		 n;
	int		 rc;

	if (!peer_env.probed)
		peer_probe_env();
	memset(pr, 0, sizeof(*pr));
	pr->pidfd = -1;
	*why = "credentials unreadable";
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -errno;
	pr->uid = cred.uid;
	pr->gid = cred.gid;
	pr->pid = cred.pid;
	if (pr->pid <= 0) {
		*why = "the peer has no pid in this pid namespace";
		return -ESRCH;
	}
	if ((rc = peer_pidfd(fd, pr, why)) != 0)
		goto fail;

	if (peer_env.v2) {
		n = peer_read_proc(pr->pid, "cgroup", buf, sizeof(buf));
		if (n < 0 && n != -EFBIG) {
			*why = "its cgroup could not be read (exited?)";
			rc = (int)n;
			goto fail;
		}
		rc = n == -EFBIG ? -2 :
		    peer_cgroup_parse(buf, pr->cgroup, sizeof(pr->cgroup));
		if (rc != 0) {
			*why = rc == -2 ? "its cgroup path is longer than the "
			    "daemon accepts" : "it is in no cgroup v2";
			rc = rc == -2 ? -ENAMETOOLONG : -ENOENT;
			goto fail;
		}
	} else
		strcpy(pr->cgroup, "/");	/* no v2 here: no cgroup rules */
	if (peer_start_time(pr->pid, &pr->start) != 0) {
		*why = "its /proc entry vanished (exited?)";
		rc = -ESRCH;
		goto fail;
	}
	if (peer_read_proc(pr->pid, "comm", pr->comm, sizeof(pr->comm)) > 0)
		pr->comm[strcspn(pr->comm, "\n")] = '\0';
	/*
	 * A pidfd polls readable once its process has exited. Still alive
	 * after the reads: the pid was the peer's all along.
	 */
	pfd.fd = pr->pidfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0) {
		*why = "the process exited while it was being identified";
		rc = -ESRCH;
		goto fail;
	}
	peer_default_bucket(pr);
	/*
	 * Only identification needs the pidfd; keeping one per connection
	 * would double the daemon's descriptors for nothing.
	 */
	peer_clear(pr);
	return 0;
fail:
	peer_clear(pr);
	return rc < 0 ? rc : -EPERM;
}

void
peer_clear(struct principal *pr)
{
	if (pr->pidfd >= 0)
		close(pr->pidfd);
	pr->pidfd = -1;
}

int
peer_same(const struct principal *a, const struct principal *b)
{
	return a->pid == b->pid && a->start == b->start && a->uid == b->uid &&
	    a->gid == b->gid && a->dflt_len == b->dflt_len &&
	    strcmp(a->cgroup, b->cgroup) == 0;
}
