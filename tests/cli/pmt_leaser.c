/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmt_leaser: a test client that takes leases from pmemtierd over the
 * protocol and holds them until it is signalled, so that the CLI and
 * system tests have real clients to look at.
 *
 *   pmt_leaser [-s socket] [-t tier] [-z size] [-n count] [-l label]
 *              [-c] [-w] [-x] [-k] [-p seconds] [-r lease_id] [-S]
 *              [-u uid] [-i] [-g size,...] [-P projid]
 *
 * -c closes each lease's descriptor once granted (the lease stays: it
 * belongs to the connection), for tests that take more leases than the
 * descriptor limit; -w writes every page of each lease (so that its physical size is its
 * size); -x exits after the grants instead of waiting; -r tries to release
 * a lease id this connection does not hold (it must be refused); -k keeps
 * asking after a refusal (a client looping on refused allocations); -p
 * pauses that many seconds before the last request; -S asks
 * for one Status page and prints "status N_CLIENTS/CLIENTS_TOTAL
 * N_LEASES/LEASES_TOTAL" (to show that a test really needs paging).
 * -u runs as that uid (its gid the same, no supplementary groups) from
 * before it connects. -i prints each lease file's filesystem project
 * ("projid ID N"). As a hostile client would, -g grows the first lease to
 * each of the comma-separated sizes in turn with fallocate ("grow ID SIZE
 * ok|ERRNO allocated BYTES" each) and -P tries to move it into another
 * project ("setproj ID N ok|ERRNO").
 * Prints one line per event on stdout: "lease ID TIER SIZE",
 * "refused CODE message", "release ID CODE", then "ready".
 * Exit: 0 all granted (and -r refused as it must be), 1 a grant refused,
 * 2 usage, 3 no daemon, 4 protocol error.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/fs.h>

#include "wire.h"

static uint8_t	 leaser_buf[PMT_WIRE_MAX_PACKET];
static uint64_t	 leaser_id;

/* What to do to each lease fd once granted (-i, -g, -P). */
struct leaser_acts {
	int		 show_proj;
	const char	*grow;		/* sizes, or NULL */
	long long	 setproj;	/* -1: leave it */
	int		 done;		/* the first lease had -g and -P */
};

/* errno as its name for the scenarios to match; the number otherwise. */
static const char *
leaser_errname(int e)
{
	static char	buf[16];

	switch (e) {
	case 0:		return "ok";
	case EDQUOT:	return "EDQUOT";
	case ENOSPC:	return "ENOSPC";
	case EPERM:	return "EPERM";
	case EACCES:	return "EACCES";
	case EINVAL:	return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

static uint64_t	leaser_size(const char *);

/* fallocate to each size in sizes ("8M,64M") in turn. */
static void
leaser_grow(int fd, uint64_t id, const char *sizes)
{
	char		 buf[256], *p, *next;
	struct stat	 st;
	uint64_t	 size;
	int		 rc;

	snprintf(buf, sizeof(buf), "%s", sizes);
	for (p = buf; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		size = leaser_size(p);
		/*
		 * From the end: xfs reserves quota for the whole range it is
		 * given, blocks it has already or not.
		 */
		if (fstat(fd, &st) != 0)
			err(4, "fstat lease");
		rc = 0;
		if ((uint64_t)st.st_size < size && fallocate(fd, 0,
		    st.st_size, (off_t)size - st.st_size) != 0)
			rc = errno;
		if (fstat(fd, &st) != 0)
			st.st_blocks = 0;
		printf("grow %llu %llu %s allocated %llu\n",
		    (unsigned long long)id, (unsigned long long)size,
		    leaser_errname(rc),
		    (unsigned long long)st.st_blocks * 512);
	}
}

static void
leaser_act(int fd, uint64_t id, struct leaser_acts *a)
{
	struct fsxattr	fa;
	int		rc;

	if (a->show_proj) {
		if (ioctl(fd, FS_IOC_FSGETXATTR, &fa) != 0)
			printf("projid %llu %s\n", (unsigned long long)id,
			    leaser_errname(errno));
		else
			printf("projid %llu %u\n", (unsigned long long)id,
			    fa.fsx_projid);
	}
	if (a->done)
		return;
	a->done = 1;
	if (a->grow != NULL)
		leaser_grow(fd, id, a->grow);
	if (a->setproj >= 0) {
		rc = ioctl(fd, FS_IOC_FSGETXATTR, &fa) != 0 ? errno : 0;
		if (rc == 0) {
			fa.fsx_projid = (unsigned)a->setproj;
			rc = ioctl(fd, FS_IOC_FSSETXATTR, &fa) != 0 ? errno : 0;
		}
		printf("setproj %llu %lld %s\n", (unsigned long long)id,
		    a->setproj, leaser_errname(rc));
	}
}

/* Sends env and returns the reply to it; fd gets the attached fd or -1. */
static Pmemtier__Envelope *
leaser_call(int s, Pmemtier__Envelope *env, int *fd)
{
	struct pmt_wire_packet	 pkt;
	Pmemtier__Envelope	*rep;
	ssize_t			 n;

	env->version = PMT_WIRE_VERSION;
	env->request_id = ++leaser_id;
	if (pmt_wire_send(s, env, -1) < 0)
		errx(4, "send failed");
	for (;;) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.buf = leaser_buf;
		pkt.cap = sizeof(leaser_buf);
		if ((n = pmt_wire_recv(s, &pkt, 0)) <= 0)
			errx(4, "daemon closed the connection");
		if ((rep = pmt_wire_decode(&pkt, NULL)) == NULL)
			errx(4, "malformed reply");
		if (rep->request_id == leaser_id)
			break;
		pmt_wire_close_fds(&pkt);
		pmemtier__envelope__free_unpacked(rep, NULL);
	}
	*fd = -1;
	if (pkt.nfds == 1)
		*fd = pkt.fds[0];
	else
		pmt_wire_close_fds(&pkt);
	return rep;
}

static int
leaser_connect(const char *path)
{
	struct sockaddr_un	 sun;
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Hello		 hello = PMEMTIER__HELLO__INIT;
	Pmemtier__Envelope	*rep;
	int			 s, fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		errx(2, "socket path too long");
	strcpy(sun.sun_path, path);
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		err(4, "socket");
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		err(3, "connect %s", path);
	hello.min_version = hello.max_version = PMT_WIRE_VERSION;
	hello.client_name = "pmt_leaser";
	env.body_case = PMEMTIER__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	rep = leaser_call(s, &env, &fd);
	if (rep->body_case != PMEMTIER__ENVELOPE__BODY_WELCOME)
		errx(4, "hello: got %s", pmt_wire_body_name(rep));
	pmemtier__envelope__free_unpacked(rep, NULL);
	return s;
}

/* Dirties every page so that the daemon measures the lease as used. */
static void
leaser_touch(int fd, uint64_t size)
{
	long	 pg = sysconf(_SC_PAGESIZE);
	char	*p;
	size_t	 off;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err(4, "mmap lease");
	for (off = 0; off < size; off += (size_t)pg)
		p[off] = 1;
	munmap(p, size);
}

/* Returns 0 when granted; the fd stays open, held by this process. */
static int
leaser_take(int s, const char *tier, uint64_t size, const char *label,
    int touch, int keep, struct leaser_acts *acts)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__LeaseRequest	 req = PMEMTIER__LEASE_REQUEST__INIT;
	Pmemtier__Envelope	*rep;
	int			 fd, rc = 0;

	req.tier = (char *)tier;
	req.size = size;
	req.label = (char *)label;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &req;
	rep = leaser_call(s, &env, &fd);
	if (rep->body_case == PMEMTIER__ENVELOPE__BODY_LEASE_GRANT) {
		if (fd < 0)
			errx(4, "grant without a descriptor");
		if (touch)
			leaser_touch(fd, rep->lease_grant->size);
		printf("lease %llu %s %llu\n",
		    (unsigned long long)rep->lease_grant->lease_id,
		    rep->lease_grant->tier,
		    (unsigned long long)rep->lease_grant->size);
		leaser_act(fd, rep->lease_grant->lease_id, acts);
		if (!keep)
			close(fd);
	} else if (rep->body_case == PMEMTIER__ENVELOPE__BODY_ERROR) {
		printf("refused %s %s\n", pmt_wire_error_name(rep->error->code),
		    rep->error->message);
		rc = 1;
	} else
		errx(4, "lease: got %s", pmt_wire_body_name(rep));
	pmemtier__envelope__free_unpacked(rep, NULL);
	return rc;
}

/* Returns 0 when the daemon refused to release a lease we do not hold. */
static int
leaser_release(int s, uint64_t id)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__LeaseRelease	 rel = PMEMTIER__LEASE_RELEASE__INIT;
	Pmemtier__Envelope	*rep;
	int			 fd, rc;

	rel.lease_id = id;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_RELEASE;
	env.lease_release = &rel;
	rep = leaser_call(s, &env, &fd);
	if (rep->body_case == PMEMTIER__ENVELOPE__BODY_ERROR) {
		printf("release %llu %s\n", (unsigned long long)id,
		    pmt_wire_error_name(rep->error->code));
		rc = 0;
	} else {
		printf("release %llu %s\n", (unsigned long long)id,
		    pmt_wire_body_name(rep));
		rc = 1;
	}
	pmemtier__envelope__free_unpacked(rep, NULL);
	return rc;
}

static void
leaser_status(int s)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__StatusRequest	 req = PMEMTIER__STATUS_REQUEST__INIT;
	Pmemtier__Envelope	*rep;
	int			 fd;

	env.body_case = PMEMTIER__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &req;
	rep = leaser_call(s, &env, &fd);
	if (rep->body_case != PMEMTIER__ENVELOPE__BODY_STATUS)
		errx(4, "status: got %s", pmt_wire_body_name(rep));
	printf("status %zu/%u %zu/%u\n", rep->status->n_clients,
	    rep->status->clients_total, rep->status->n_leases,
	    rep->status->leases_total);
	pmemtier__envelope__free_unpacked(rep, NULL);
}

static uint64_t
leaser_size(const char *s)
{
	char			*end;
	unsigned long long	 v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K': v <<= 10; end++; break;
	case 'M': v <<= 20; end++; break;
	case 'G': v <<= 30; end++; break;
	}
	if (*end != '\0')
		errx(2, "bad size: %s", s);
	return v;
}

int
main(int argc, char *argv[])
{
	const char	*sock = getenv("PMEMTIER_SOCKET");
	const char	*tier = "", *label = "pmt_leaser";
	uint64_t	 size = 1 << 20, release = 0;
	int		 ch, n = 1, touch = 0, once = 0, keep = 1, i, s, rc = 0;
	int		 status = 0, persist = 0, pause = 0;
	long long	 uid = -1;
	struct leaser_acts acts = { .setproj = -1 };
	sigset_t	 set;

	while ((ch = getopt(argc, argv, "s:t:z:n:l:cwxkp:r:Su:ig:P:")) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 't': tier = optarg; break;
		case 'z': size = leaser_size(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'l': label = optarg; break;
		case 'S': status = 1; break;
		case 'c': keep = 0; break;
		case 'w': touch = 1; break;
		case 'x': once = 1; break;
		case 'k': persist = 1; break;
		case 'p': pause = atoi(optarg); break;
		case 'r': release = strtoull(optarg, NULL, 10); break;
		case 'u': uid = atoll(optarg); break;
		case 'i': acts.show_proj = 1; break;
		case 'g': acts.grow = optarg; break;
		case 'P': acts.setproj = atoll(optarg); break;
		default:
			errx(2, "usage: pmt_leaser [-s socket] [-t tier] "
			    "[-z size] [-n count] [-l label] [-c] [-w] [-x] "
			    "[-k] [-p seconds] [-r lease_id] [-S] [-u uid] "
			    "[-i] [-g size,...] [-P projid]");
		}
	}
	if (sock == NULL)
		errx(2, "no socket: give -s or PMEMTIER_SOCKET");
	if (uid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 ||
	    setuid((uid_t)uid) != 0))
		err(2, "cannot become uid %lld", uid);

	/* Block the stop signals first: sigwait() takes them below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	s = leaser_connect(sock);
	for (i = 0; i < n && (rc == 0 || persist); i++) {
		if (pause > 0 && i == n - 1) {
			fflush(stdout);
			sleep((unsigned)pause);
		}
		rc |= leaser_take(s, tier, size, label, touch, keep, &acts);
	}
	if (release != 0 && rc == 0)
		rc = leaser_release(s, release);
	if (status)
		leaser_status(s);
	printf("ready\n");
	fflush(stdout);
	if (!once) {
		int	sig;

		sigwait(&set, &sig);
	}
	close(s);
	return rc;
}
