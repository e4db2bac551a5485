/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leases across a restart (issue 10). A daemon that stops, crashes or is
 * replaced by a newer binary loses its own descriptors, but not the
 * leases: each client keeps its own open file (or memfd) and mapping of
 * every lease it holds, and the journal (journal.h) says which leases
 * were live, whose they were and which file each one is.
 *
 * At start, before the socket serves anyone, each lease of the journal is
 * looked for in the descriptors and mappings of its process (pid and start
 * time, so a reused pid is not mistaken for it): /proc/PID/fd and
 * /proc/PID/map_files, matched by device and inode. Found, the file is
 * reopened through that magic link, which gives the daemon its own open
 * file of it again, and the lease is re-entered with its id, tier, size
 * and principal, held for the process (holder.c) until it reconnects and
 * gets it back, releases it, or exits. Not found, the process let go of it
 * while the daemon was down and the kernel freed it then; a process that
 * exited took its leases with it. Nothing the client says is trusted: the
 * daemon reads the process itself, as root.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "holder.h"
#include "journal.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "restore.h"
#include "tier.h"

/* A file a process has open or mapped: where to reopen it from. */
struct restore_file {
	uint64_t	dev, ino;
	char		link[300];	/* "fd/12", "map_files/7f..-7f.." */
};

struct restore_files {
	struct restore_file	*v;
	size_t			 n, cap;
};

static void
restore_scan_dir(pid_t pid, const char *sub, struct restore_files *rf)
{
	char		 path[64];
	struct dirent	*de;
	struct stat	 st;
	struct restore_file *v;
	DIR		*dir;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, sub);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(dir), de->d_name, &st, 0) != 0)
			continue;
		if (rf->n == rf->cap) {
			rf->cap = rf->cap != 0 ? rf->cap * 2 : 64;
			if ((v = reallocarray(rf->v, rf->cap,
			    sizeof(*v))) == NULL)
				break;
			rf->v = v;
		}
		rf->v[rf->n].dev = (uint64_t)st.st_dev;
		rf->v[rf->n].ino = (uint64_t)st.st_ino;
		snprintf(rf->v[rf->n].link, sizeof(rf->v[rf->n].link),
		    "%s/%s", sub, de->d_name);
		rf->n++;
	}
	closedir(dir);
}

static int
restore_file_cmp(const void *a, const void *b)
{
	const struct restore_file	*x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Sorts what one process holds by device and inode, for bsearch. */
static void
restore_sort(struct restore_files *rf)
{
	if (rf->n > 1)
		qsort(rf->v, rf->n, sizeof(*rf->v), restore_file_cmp);
}

/*
 * Reopens the file of r that pid holds, as the daemon's own: fd, or -1
 * when pid holds no such file. The file must still look like a lease: no
 * name (O_TMPFILE), and a memfd sealed as the daemon seals them.
 */
static int
restore_reopen(pid_t pid, const struct restore_files *rf,
    const struct journal_rec *r, const struct tier *t)
{
	struct restore_file	key, *hit;
	char			path[400];
	struct stat		st;
	size_t			i;
	int			fd, seals;

	/* The first entry for this file (a file may be open and mapped). */
	key.dev = r->dev;
	key.ino = r->ino;
	if (rf->n == 0 || (hit = bsearch(&key, rf->v, rf->n, sizeof(key),
	    restore_file_cmp)) == NULL)
		return -1;
	while (hit > rf->v && restore_file_cmp(hit - 1, &key) == 0)
		hit--;
	for (i = (size_t)(hit - rf->v); i < rf->n &&
	    restore_file_cmp(&rf->v[i], &key) == 0; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid,
		    rf->v[i].link);
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != r->dev ||
		    (uint64_t)st.st_ino != r->ino || !S_ISREG(st.st_mode) ||
		    st.st_nlink != 0 || st.st_uid != geteuid()) {
			close(fd);
			continue;
		}
		if (t->ops->sealed) {
			seals = fcntl(fd, F_GET_SEALS);
			if (seals < 0 || (seals & (F_SEAL_GROW | F_SEAL_SEAL)) !=
			    (F_SEAL_GROW | F_SEAL_SEAL)) {
				close(fd);
				continue;
			}
		} else if ((uint64_t)st.st_dev != t->st_dev) {
			close(fd);
			continue;
		}
		return fd;
	}
	return -1;
}

static int
restore_pid_cmp(const void *a, const void *b)
{
	const struct journal_rec	*x = a, *y = b;

	if (x->pr.pid != y->pr.pid)
		return x->pr.pid < y->pr.pid ? -1 : 1;
	if (x->pr.start != y->pr.start)
		return x->pr.start < y->pr.start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct restore_counts {
	unsigned	leases, zombies, procs, revoked, freed, no_tier, bad;
	uint64_t	bytes;
};

/*
 * Records not found with their process: kept for the sweep of every
 * process, with a mark once resolved.
 */
struct restore_orphans {
	struct journal_rec	*v;
	size_t			 n, cap;
};

static int
restore_orphan_add(struct restore_orphans *o, const struct journal_rec *r)
{
	struct journal_rec	*v;

	if (o->n == o->cap) {
		o->cap = o->cap != 0 ? o->cap * 2 : 16;
		if ((v = reallocarray(o->v, o->cap, sizeof(*v))) == NULL)
			return -1;
		o->v = v;
	}
	o->v[o->n++] = *r;
	return 0;
}

/* The tier of r, or NULL (logged) when it is not configured any more. */
static struct tier *
restore_tier(const struct journal_rec *r, struct restore_counts *rc)
{
	struct tier	*t;

	if ((t = tier_find(&pmtd->tiers, r->tier)) != NULL &&
	    strcmp(t->name, r->tier) == 0)
		return t;
	log_warnx("restore: lease %llu (%llu bytes, pid %d) is on tier %s, "
	    "which is not configured any more: not restored",
	    (unsigned long long)r->id, (unsigned long long)r->size,
	    (int)r->pr.pid, r->tier);
	rc->no_tier++;
	return NULL;
}

/* Re-enters lease r with fd for its (live) process; takes fd on success. */
static int
restore_one(struct tier *t, const struct journal_rec *r, int fd,
    struct holder **hp, struct restore_counts *rc)
{
	/* One holder per principal (a process may have moved). */
	if (*hp == NULL || !peer_same(&(*hp)->pr, &r->pr)) {
		if ((*hp = holder_adopt(&r->pr)) == NULL)
			return -1;
		rc->procs++;
	}
	if (lease_restore(t, *hp, r, fd) == NULL) {
		log_warnx("restore: lease %llu: id in use or out of memory: "
		    "not restored", (unsigned long long)r->id);
		rc->bad++;
		return -1;
	}
	rc->leases++;
	rc->bytes += r->size;
	return 0;
}

/*
 * Restores the records [r, r + n) of one process (pid and start time);
 * what it does not hold goes to the orphans.
 */
static void
restore_process(struct journal_rec *r, size_t n, struct restore_orphans *o,
    struct restore_counts *rc)
{
	struct restore_files	 rf = { 0 };
	struct holder		*h = NULL;
	struct tier		*t;
	uint64_t		 start;
	size_t			 i;
	int			 fd, alive;

	/* The process, not a reuse of its pid. */
	alive = peer_start_time(r[0].pr.pid, &start) == 0 &&
	    start == r[0].pr.start;
	if (alive) {
		restore_scan_dir(r[0].pr.pid, "fd", &rf);
		restore_scan_dir(r[0].pr.pid, "map_files", &rf);
		restore_sort(&rf);
	}
	for (i = 0; i < n; i++) {
		if ((t = restore_tier(&r[i], rc)) == NULL)
			continue;
		fd = alive ? restore_reopen(r[0].pr.pid, &rf, &r[i], t) : -1;
		if (fd < 0) {
			if (restore_orphan_add(o, &r[i]) != 0)
				rc->bad++;
			continue;
		}
		if (r[i].zombie) {
			if (lease_restore_zombie(t, &r[i], fd) != 0)
				close(fd);
			else
				rc->zombies++;
			continue;
		}
		if (restore_one(t, &r[i], fd, &h, rc) != 0) {
			close(fd);
			if (restore_orphan_add(o, &r[i]) != 0)
				rc->bad++;
		}
	}
	free(rf.v);
}

static int
restore_ino_cmp(const void *a, const void *b)
{
	const struct journal_rec	*x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/*
 * A file of the journal that its process does not hold (it exited, or
 * let go) found in process pid: the lease is still its process's if that
 * one lives (a child it forked holds the file), as it would be had the
 * daemon never stopped; otherwise it ended, and its storage is taken back
 * as lease_end() would have: truncated, and watched as a zombie while pid
 * keeps a file that could grow again.
 */
static void
restore_orphan_found(struct journal_rec *r, struct tier *t, int fd,
    pid_t pid, struct holder **hp, struct restore_counts *rc)
{
	struct journal_rec	zr;
	uint64_t		start;

	if (!r->zombie && restore_one(t, r, fd, hp, rc) == 0)
		return;
	if (ftruncate(fd, 0) != 0)
		log_warn("restore: lease %llu: ftruncate",
		    (unsigned long long)r->id);
	rc->revoked++;
	if (t->ops->sealed || peer_start_time(pid, &start) != 0) {
		close(fd);
		return;
	}
	zr = *r;
	zr.pr.pid = pid;
	zr.pr.start = start;
	if (lease_restore_zombie(t, &zr, fd) != 0)
		close(fd);
}

/*
 * Looks through every process for the orphans' files: a lease file whose
 * holder exited can live on in a child it forked, or in a process it
 * passed the descriptor to. Only run when there are orphans.
 */
static void
restore_sweep(struct restore_orphans *o, struct restore_counts *rc)
{
	struct restore_files	 rf;
	struct journal_rec	 key, *r;
	struct holder		*h = NULL;
	struct dirent		*de;
	struct tier		*t;
	size_t			 i, left = o->n;
	pid_t			 pid;
	DIR			*proc;
	int			 fd;

	qsort(o->v, o->n, sizeof(*o->v), restore_ino_cmp);
	if ((proc = opendir("/proc")) == NULL)
		return;
	while (left > 0 && (de = readdir(proc)) != NULL) {
		if ((pid = (pid_t)strtol(de->d_name, NULL, 10)) <= 0 ||
		    pid == getpid())
			continue;
		memset(&rf, 0, sizeof(rf));
		restore_scan_dir(pid, "fd", &rf);
		restore_scan_dir(pid, "map_files", &rf);
		restore_sort(&rf);
		for (i = 0; i < rf.n && left > 0; i++) {
			key.dev = rf.v[i].dev;
			key.ino = rf.v[i].ino;
			r = bsearch(&key, o->v, o->n, sizeof(*o->v),
			    restore_ino_cmp);
			if (r == NULL || r->id == 0 ||
			    (t = tier_find(&pmtd->tiers, r->tier)) == NULL)
				continue;
			if ((fd = restore_reopen(pid, &rf, r, t)) < 0)
				continue;
			restore_orphan_found(r, t, fd, pid, &h, rc);
			r->id = 0;	/* resolved */
			left--;
		}
		free(rf.v);
	}
	closedir(proc);
	rc->freed += (unsigned)left;
}

int
restore_leases(const char *state_dir, char *err, size_t errlen)
{
	struct restore_counts	 rc = { 0 };
	struct restore_orphans	 o = { 0 };
	struct journal_rec	*r;
	struct timespec		 t0, t1;
	size_t			 n, i, j;
	unsigned		 bad;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (journal_open(state_dir, &r, &n, &bad, err, errlen) != 0)
		return -1;
	if (n > 0)
		qsort(r, n, sizeof(*r), restore_pid_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].pr.pid == r[i].pr.pid &&
		    r[j].pr.start == r[i].pr.start; j++)
			;
		restore_process(&r[i], j - i, &o, &rc);
	}
	free(r);
	if (o.n > 0)
		restore_sweep(&o, &rc);
	free(o.v);
	/* Holders that got no lease after all. */
	holder_forget_empty();
	/* The journal now says what the table holds. */
	(void)journal_compact();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_restored(rc.leases, rc.bytes);
	if (n > 0 || bad > 0)
		log_info("restore: %u leases (%llu bytes) of %u processes "
		    "and %u kept ended leases re-adopted in %.0f ms; %u files "
		    "of exited processes still held elsewhere taken back, %u "
		    "freed while the daemon was down, %u on tiers no longer "
		    "configured, %u journal lines unreadable", rc.leases,
		    (unsigned long long)rc.bytes, rc.procs, rc.zombies,
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6, rc.revoked,
		    rc.freed, rc.no_tier, bad + rc.bad);
	return 0;
}
