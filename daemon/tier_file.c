/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The file and fsdax backends: a lease is an O_TMPFILE file in a
 * daemon-private directory (mode 0700) under the tier's path, fallocate'd
 * to the lease size. O_TMPFILE means no name ever exists, so nothing is
 * left behind when the last fd closes, whatever happens to the daemon.
 * fsdax is the same on a filesystem mounted with -o dax; it refuses to
 * start on a mount where DAX is not active. With enforce = project-quota
 * each file is put in its bucket's filesystem project before its blocks
 * are allocated (projquota.h), and a tier whose filesystem does not
 * enforce project quotas is refused.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "projquota.h"
#include "tier.h"
#include "worker.h"

#define TIER_FILE_PRIVDIR	".pmemtierd-leases"

/* mkdir -p for the tier path; the last component gets mode 0755. */
static int
tier_file_mkpath(const char *path)
{
	char	 tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Does a file made here have DAX active (statx STATX_ATTR_DAX)? */
static int
tier_file_is_dax(int dirfd)
{
	struct statx	stx;
	int		fd, dax = 0;

	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0)
		dax = (stx.stx_attributes_mask & STATX_ATTR_DAX) &&
		    (stx.stx_attributes & STATX_ATTR_DAX);
	close(fd);
	return dax;
}

/*
 * Taking back a lease a client keeps open rests on F_SETLEASE telling
 * whether anyone but the daemon has a file open (lease.c). Where it does
 * not work (fs.leases-enable = 0, a filesystem without leases) the daemon
 * could not tell, so such a tier is refused rather than served blind.
 */
static int
tier_file_leases_work(int dirfd)
{
	int	fd, rc = 0;

	fd = openat(dirfd, ".", O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETLEASE, F_WRLCK) != 0)
		rc = -errno;
	else
		(void)fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
	return rc;
}

/*
 * Does freeing a small lease file sleep? On ext4 the last close of a
 * 64 KiB O_TMPFILE file waits on the journal (~55 us of wall time for ~10
 * us of CPU on the test machine); on tmpfs it does not. Measured once per
 * tier on a few files of that size: where it sleeps, lease files are
 * closed on the worker's close lane, several at a time; where it does
 * not, on the loop, which costs less than a hand-off.
 */
#define TIER_FILE_PROBES	16
#define TIER_FILE_PROBE_SIZE	(64 * 1024)

static void
tier_file_close_sleeps(struct tier *t, int dirfd)
{
	uint64_t	wall = 0, cpu = 0, w0, c0;
	int		i, fd, n = 0;

	for (i = 0; i < TIER_FILE_PROBES; i++) {
		fd = openat(dirfd, ".", O_TMPFILE | O_EXCL | O_RDWR |
		    O_CLOEXEC, 0600);
		if (fd < 0)
			break;
		if (posix_fallocate(fd, 0, TIER_FILE_PROBE_SIZE) != 0) {
			close(fd);
			break;
		}
		w0 = pmtd_clock_ns(CLOCK_MONOTONIC);
		c0 = pmtd_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		close(fd);
		cpu += pmtd_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		wall += pmtd_clock_ns(CLOCK_MONOTONIC) - w0;
		n++;
	}
	if (n == 0)
		return;
	/* Asleep for most of it, and for long enough to pay a hand-off. */
	t->close_sleeps = wall > 2 * cpu && (wall - cpu) / (uint64_t)n > 10000 ?
	    WORKER_LANE_BUSY : WORKER_LANE_NO;
	log_info("tier %s: freeing a %d KiB lease file: %llu ns, %llu ns of "
	    "CPU (%d files): closed %s", t->name, TIER_FILE_PROBE_SIZE / 1024,
	    (unsigned long long)(wall / (uint64_t)n),
	    (unsigned long long)(cpu / (uint64_t)n), n,
	    t->close_sleeps ? "off the loop while others wait" :
	    "on the loop");
}

void
tier_set_free(struct tier *t, enum tier_free how)
{
	t->free_off_loop = how;
	if (how != TIER_FREE_AUTO)
		t->close_sleeps = how == TIER_FREE_YES ? WORKER_LANE_ALWAYS :
		    WORKER_LANE_NO;
	else if (t->dirfd >= 0 && !t->ops->sealed)
		tier_file_close_sleeps(t, t->dirfd);
	else
		t->close_sleeps = WORKER_LANE_NO;
}

/*
 * enforce = project-quota rests on the kernel refusing blocks beyond a
 * project's limit. Where it would not, the tier is refused: serving it
 * with the audit alone would be a silent fallback.
 */
static int
tier_file_projquota_works(struct tier *t, int dirfd)
{
	char	why[256];
	int	rc;

	if ((rc = projquota_fs_check(dirfd, t->project_base, why,
	    sizeof(why))) == 0)
		return 0;
	log_warnx("tier %s: enforce = project-quota, but %s at %s: mount xfs "
	    "with -o prjquota; ext4 needs mkfs.ext4 -O quota,project -I 256 "
	    "(or tune2fs -O quota,project) and -o prjquota", t->name, why,
	    t->path);
	return rc;
}

static int
tier_file_open(struct tier *t)
{
	struct stat	 st;
	char		 priv[PATH_MAX];
	int		 rc, fd;

	if ((rc = tier_file_mkpath(t->path)) != 0)
		return rc;
	if (stat(t->path, &st) != 0)
		return -errno;
	t->st_dev = (uint64_t)st.st_dev;
	if (snprintf(priv, sizeof(priv), "%s/%s", t->path, TIER_FILE_PRIVDIR) >=
	    (int)sizeof(priv))
		return -ENAMETOOLONG;
	if (mkdir(priv, 0700) != 0 && errno != EEXIST)
		return -errno;
	if ((fd = open(priv, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -errno;
	/* An existing directory may have been made by someone else. */
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) {
		log_warnx("tier %s: %s is not owned by the daemon's user",
		    t->name, priv);
		close(fd);
		return -EPERM;
	}
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if ((rc = tier_file_leases_work(fd)) != 0) {
		log_warnx("tier %s: file leases (F_SETLEASE) do not work in %s "
		    "(%s; fs.leases-enable = 0?): the daemon could not take "
		    "back leases clients keep open", t->name, priv,
		    strerror(-rc));
		close(fd);
		return rc;
	}
	if (t->enforce == TIER_ENFORCE_PROJQUOTA &&
	    (rc = tier_file_projquota_works(t, fd)) != 0) {
		close(fd);
		return rc;
	}
	t->dirfd = fd;
	t->dax = tier_file_is_dax(fd);
	tier_set_free(t, t->free_off_loop);
	return 0;
}

static int
tier_fsdax_open(struct tier *t)
{
	int	rc;

	if ((rc = tier_file_open(t)) != 0)
		return rc;
	if (!t->dax) {
		log_warnx("tier %s: %s has no DAX active (mount -o dax?)",
		    t->name, t->path);
		close(t->dirfd);
		t->dirfd = -1;
		return -EOPNOTSUPP;
	}
	return 0;
}

static void
tier_file_close(struct tier *t)
{
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->dirfd = -1;
}

static int
tier_file_alloc(struct tier *t, uint64_t size, uint64_t fill, uint32_t projid,
    int *fdp, uint64_t devino[2])
{
	struct stat	st;
	uint64_t	have;
	int		fd, rc;

	/*
	 * An emptied file of an ended lease (tier.c: spares), else a new
	 * one. O_EXCL: the client gets this fd, and without it could
	 * linkat() the file into the filesystem, keeping its space past the
	 * lease.
	 */
	if ((fd = tier_spare_take(t, devino)) < 0 &&
	    (fd = openat(t->dirfd, ".", O_TMPFILE | O_EXCL | O_RDWR |
	    O_CLOEXEC, 0600)) < 0)
		return -errno;
	/*
	 * Into the project while the file is still empty: every block it
	 * ever has is then counted there, and the client, who does not own
	 * the file, cannot move it out. (A spare is empty too, and is set
	 * again: it may come from another bucket's lease.)
	 */
	if (projid != 0 && (rc = projquota_set_file(fd, projid)) != 0) {
		close(fd);
		return rc;
	}
	/*
	 * Reserve every block the client commits now: that part never fails
	 * on a page fault. The rest is a hole the client fills (fallocate on
	 * its own fd) when it raises its commit budget (LeaseCommit).
	 */
	if (fill < size && ftruncate(fd, (off_t)size) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = fill == 0 ? 0 : projid != 0 ? projquota_fallocate(fd, fill) :
	    posix_fallocate(fd, 0, (off_t)fill);
	if (rc != 0) {
		/* xfs says ENOSPC when a project, not the disk, is full. */
		if (rc == ENOSPC && projid != 0) {
			have = fstat(fd, &st) == 0 ?
			    (uint64_t)st.st_blocks * 512 : 0;
			if (projquota_exhausted(fd, projid,
			    have < fill ? fill - have : 0))
				rc = EDQUOT;
		}
		close(fd);
		return -rc;
	}
	*fdp = fd;
	return 0;
}

const struct tier_ops tier_file_ops = {
	.name = "file",
	.open = tier_file_open,
	.close = tier_file_close,
	.alloc = tier_file_alloc,
	.fills = 1,
};

const struct tier_ops tier_fsdax_ops = {
	.name = "fsdax",
	.open = tier_fsdax_open,
	.close = tier_file_close,
	.alloc = tier_file_alloc,
	.fills = 1,
};
