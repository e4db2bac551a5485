/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "holder.h"
#include "lease.h"
#include "log.h"
#include "peer.h"

static unsigned	holder_n;

/* Inode numbers a process has open or mapped, sorted. */
struct holder_inodes {
	ino_t	*v;
	size_t	 n, cap;
	int	 ok;		/* read whole; else nothing may be ended */
};

static int
holder_ino_add(struct holder_inodes *hi, ino_t ino)
{
	ino_t	*v;

	if (hi->n == hi->cap) {
		hi->cap = hi->cap != 0 ? hi->cap * 2 : 64;
		if ((v = reallocarray(hi->v, hi->cap, sizeof(*v))) == NULL)
			return -1;
		hi->v = v;
	}
	hi->v[hi->n++] = ino;
	return 0;
}

static int
holder_ino_cmp(const void *a, const void *b)
{
	ino_t	x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Reads the inodes pid has open (/proc/PID/fd) and mapped (/proc/PID/maps).
 * A memfd cannot be probed with F_SETLEASE, so this is how the daemon
 * tells whether a process it holds kmem leases for still uses them. Only
 * friendliness rests on it: an ended lease is truncated whoever holds it.
 */
static void
holder_inodes_read(pid_t pid, struct holder_inodes *hi)
{
	char		 path[64], line[512];
	struct dirent	*de;
	struct stat	 st;
	unsigned long	 ino;
	DIR		*dir;
	FILE		*f;

	hi->ok = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, 0) == 0 &&
		    holder_ino_add(hi, st.st_ino) != 0) {
			closedir(dir);
			return;
		}
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* start-end perms offset dev inode path */
		if (sscanf(line, "%*s %*s %*s %*s %lu", &ino) == 1 &&
		    ino != 0 && holder_ino_add(hi, (ino_t)ino) != 0) {
			fclose(f);
			return;
		}
	}
	fclose(f);
	if (hi->n > 0)		/* none: a process that is exiting */
		qsort(hi->v, hi->n, sizeof(*hi->v), holder_ino_cmp);
	hi->ok = 1;
}

/*
 * Ends the leases of list that pid no longer holds: a file lease nobody
 * else has open (F_SETLEASE probe); a kmem lease whose memfd pid neither
 * has open nor maps.
 */
static void
holder_prune(struct leases *list, pid_t pid)
{
	struct holder_inodes	 hi = { 0 };
	struct lease		*l, *lt;
	struct stat		 st;
	int			 read = 0;

	TAILQ_FOREACH_SAFE(l, list, conn_entry, lt) {
		if (l->fd < 0)
			continue;
		if (!l->tier->ops->sealed) {
			if (lease_let_go(l))
				lease_end(l, &pmtd->tiers);
			continue;
		}
		if (!read) {
			holder_inodes_read(pid, &hi);
			read = 1;
		}
		if (hi.ok && fstat(l->fd, &st) == 0 && (hi.n == 0 ||
		    bsearch(&st.st_ino, hi.v, hi.n, sizeof(*hi.v),
		    holder_ino_cmp) == NULL))
			lease_end(l, &pmtd->tiers);
	}
	free(hi.v);
}

static void
holder_free(struct holder *h)
{
	TAILQ_REMOVE(&pmtd->holders, h, entry);
	holder_n--;
	if (h->ev != NULL)
		event_free(h->ev);
	if (h->pidfd >= 0)
		close(h->pidfd);
	free(h);
}

/* Ends every lease of the holder and frees it: its process is gone. */
static void
holder_end(struct holder *h, const char *why)
{
	struct lease	*l;
	unsigned	 n = h->nleases;

	while ((l = TAILQ_FIRST(&h->leases)) != NULL)
		lease_end(l, &pmtd->tiers);
	log_debug("holder: pid %d %s: %u leases ended", (int)h->pr.pid, why, n);
	holder_free(h);
}

/* libevent callback: the pidfd polls readable, the process has exited. */
static void
holder_exited(evutil_socket_t fd, short what, void *arg)
{
	holder_end(arg, "exited");
}

/*
 * Opens a pidfd for the process that pr names, checking by its start time
 * that the pid was not reused since it connected. -1 when it is gone.
 */
static int
holder_pidfd(const struct principal *pr)
{
	uint64_t	start;
	int		pidfd;

	if ((pidfd = (int)syscall(SYS_pidfd_open, pr->pid, 0)) < 0)
		return -1;
	/* Read after the pidfd pins the pid: the start time is its owner's. */
	if (peer_start_time(pr->pid, &start) != 0 || start != pr->start) {
		close(pidfd);
		return -1;
	}
	return pidfd;
}

void
holder_take(struct conn *c)
{
	struct holder	*h;
	struct lease	*l;

	/* What the process no longer holds ends now, as if released. */
	holder_prune(&c->leases, c->pr.pid);
	if (c->nleases == 0)
		return;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		/*
		 * Nothing to watch the process with: keeping the leases
		 * could leak them for good, so they end now.
		 */
		log_warnx("holder_take: out of memory: ending %u leases of "
		    "pid %d", c->nleases, (int)c->pr.pid);
		while ((l = TAILQ_FIRST(&c->leases)) != NULL)
			lease_end(l, &pmtd->tiers);
		return;
	}
	h->pr = c->pr;
	h->pr.pidfd = -1;
	h->pidfd = -1;
	TAILQ_INIT(&h->leases);
	TAILQ_INSERT_TAIL(&pmtd->holders, h, entry);
	holder_n++;
	while ((l = TAILQ_FIRST(&c->leases)) != NULL) {
		lease_detach(l);
		lease_attach_holder(l, h);
	}
	if ((h->pidfd = holder_pidfd(&h->pr)) < 0) {
		holder_end(h, "gone before its connection closed");
		return;
	}
	h->ev = event_new(pmtd->base, h->pidfd, EV_READ, holder_exited, h);
	if (h->ev == NULL || event_add(h->ev, NULL) != 0) {
		log_warnx("holder_take: cannot watch pid %d: ending its "
		    "leases", (int)h->pr.pid);
		holder_end(h, "not watchable");
		return;
	}
	log_debug("holder: pid %d keeps %u leases after its connection "
	    "closed", (int)h->pr.pid, h->nleases);
}

struct holder *
holder_adopt(const struct principal *pr)
{
	struct holder	*h;

	TAILQ_FOREACH(h, &pmtd->holders, entry)
		if (peer_same(&h->pr, pr))
			return h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->pr = *pr;
	h->pr.pidfd = -1;
	TAILQ_INIT(&h->leases);
	if ((h->pidfd = holder_pidfd(&h->pr)) < 0) {
		free(h);
		return NULL;
	}
	h->ev = event_new(pmtd->base, h->pidfd, EV_READ, holder_exited, h);
	if (h->ev == NULL || event_add(h->ev, NULL) != 0) {
		if (h->ev != NULL)
			event_free(h->ev);
		close(h->pidfd);
		free(h);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&pmtd->holders, h, entry);
	holder_n++;
	return h;
}

void
holder_forget_empty(void)
{
	struct holder	*h, *next;

	TAILQ_FOREACH_SAFE(h, &pmtd->holders, entry, next)
		if (h->nleases == 0)
			holder_free(h);
}

void
holder_give(struct conn *c)
{
	struct holder	*h, *next;
	struct lease	*l;

	TAILQ_FOREACH_SAFE(h, &pmtd->holders, entry, next) {
		if (!peer_same(&h->pr, &c->pr))
			continue;
		while ((l = TAILQ_FIRST(&h->leases)) != NULL) {
			lease_detach(l);
			lease_attach_conn(l, c);
		}
		log_debug("holder: pid %d: leases back on conn %llu",
		    (int)c->pr.pid, (unsigned long long)c->id);
		holder_free(h);
	}
}

void
holder_drop_all(void)
{
	struct holder	*h;
	struct lease	*l;

	while ((h = TAILQ_FIRST(&pmtd->holders)) != NULL) {
		while ((l = TAILQ_FIRST(&h->leases)) != NULL)
			lease_drop(l, &pmtd->tiers);
		holder_free(h);
	}
}

void
holder_audit(void)
{
	struct holder	*h, *next;

	TAILQ_FOREACH_SAFE(h, &pmtd->holders, entry, next) {
		holder_prune(&h->leases, h->pr.pid);
		if (h->nleases == 0) {
			log_debug("holder: pid %d let go of its last lease",
			    (int)h->pr.pid);
			holder_free(h);
		}
	}
}

unsigned
holder_count(void)
{
	return holder_n;
}
