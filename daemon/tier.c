/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tier.h"
#include "worker.h"

static void	tier_maybe_free(struct tiers *, struct tier *);

static const struct tier_ops *const tier_backends[] = {
	&tier_file_ops,
	&tier_kmem_ops,
	&tier_fsdax_ops,
};

const struct tier_ops *
tier_backend(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(tier_backends) / sizeof(tier_backends[0]); i++)
		if (strcmp(tier_backends[i]->name, name) == 0)
			return tier_backends[i];
	return NULL;
}

static uint32_t
tier_project_base(const struct tier_conf *tc)
{
	return tc->project_base != 0 ? tc->project_base : TIER_PROJECT_BASE;
}

static struct tier *
tier_lookup(struct tiers *tiers, const char *name)
{
	struct tier	*t;

	TAILQ_FOREACH(t, tiers, entry)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

struct tier *
tier_find(struct tiers *tiers, const char *name)
{
	struct tier	*t;

	if (name == NULL || name[0] == '\0') {
		TAILQ_FOREACH(t, tiers, entry)
			if (t->is_default && !t->removed)
				return t;
		return NULL;
	}
	t = tier_lookup(tiers, name);
	return t != NULL && !t->removed ? t : NULL;
}

/*
 * /proc/self/fd of the daemon, for tier_export's reopens: opened with the
 * first file tier (at start or reload, not on a grant, so that the leak
 * checks of a running daemon see a steady count). /proc/self is resolved
 * once; the daemon never forks, so it stays its own table. -2: it could
 * not be opened, and the full path is walked each time.
 */
static int	tier_procfd = -1;

int
tier_add(struct tiers *tiers, const struct tier_conf *tc, char *err,
    size_t errlen)
{
	struct tier	*t;
	int		 rc;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "tier %s: out of memory", tc->name);
		return -ENOMEM;
	}
	if ((t->ops = tier_backend(tc->backend)) == NULL) {
		snprintf(err, errlen, "tier %s: unknown backend %s", tc->name,
		    tc->backend);
		free(t);
		return -EINVAL;
	}
	snprintf(t->name, sizeof(t->name), "%s", tc->name);
	snprintf(t->path, sizeof(t->path), "%s", tc->path);
	snprintf(t->device, sizeof(t->device), "%s", tc->device);
	t->capacity = tc->capacity;
	t->node = tc->node;
	t->is_default = tc->is_default;
	t->enforce = tc->enforce;
	t->project_base = tier_project_base(tc);
	t->free_off_loop = tc->free_off_loop;
	t->dirfd = -1;
	if ((rc = t->ops->open(t)) != 0) {
		snprintf(err, errlen, "tier %s: %s backend at %s: %s", t->name,
		    t->ops->name, t->path[0] ? t->path : "(memfd)",
		    strerror(-rc));
		free(t);
		return rc;
	}
	if (!t->ops->sealed && tier_procfd == -1 && (tier_procfd =
	    open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		tier_procfd = -2;
	TAILQ_INSERT_TAIL(tiers, t, entry);
	log_info("tier %s: %s backend%s%s, capacity %llu bytes%s", t->name,
	    t->ops->name, t->path[0] ? " at " : "", t->path,
	    (unsigned long long)t->capacity, t->is_default ? ", default" : "");
	return 0;
}

void
tier_free(struct tiers *tiers, struct tier *t)
{
	TAILQ_REMOVE(tiers, t, entry);
	tier_spares_drop(t);
	t->ops->close(t);
	free(t);
}

int
tier_check(struct pmtd_config *conf, char *err, size_t errlen)
{
	struct tier_conf	*tc;

	TAILQ_FOREACH(tc, &conf->tiers, entry)
		if (tier_backend(tc->backend) == NULL) {
			snprintf(err, errlen, "tier %s: unknown backend %s",
			    tc->name, tc->backend);
			return -1;
		}
	return 0;
}

int
tier_apply(struct tiers *tiers, struct pmtd_config *conf, char *err,
    size_t errlen)
{
	struct tiers		 added = TAILQ_HEAD_INITIALIZER(added);
	struct tier_conf	*tc, *def;
	struct tier		*t, *next;

	/* Open what is new first, so a failure leaves the table as it was. */
	TAILQ_FOREACH(tc, &conf->tiers, entry) {
		t = tier_lookup(tiers, tc->name);
		if (t != NULL && strcmp(t->ops->name, tc->backend) == 0 &&
		    strcmp(t->path, tc->path) == 0 && t->node == tc->node &&
		    t->enforce == tc->enforce &&
		    t->project_base == tier_project_base(tc))
			continue;
		if (t != NULL && t->nleases + t->nzombies > 0) {
			snprintf(err, errlen, "tier %s: backend, path, node or "
			    "enforce changed while it holds %u leases", tc->name,
			    t->nleases + t->nzombies);
			goto fail;
		}
		if (tier_add(&added, tc, err, errlen) != 0)
			goto fail;
	}
	/* Commit: replace changed tiers, update the rest. */
	def = config_default_tier(conf);
	TAILQ_FOREACH_SAFE(t, tiers, entry, next) {
		TAILQ_FOREACH(tc, &conf->tiers, entry)
			if (strcmp(tc->name, t->name) == 0)
				break;
		if (tc == NULL || tier_lookup(&added, t->name) != NULL) {
			/* A file on its way to the spares needs the tier. */
			if (t->nleases + t->nzombies + t->nkeeping == 0)
				tier_free(tiers, t);
			else {
				t->removed = 1;
				t->is_default = 0;
				tier_spares_drop(t);	/* no more grants */
			}
			continue;
		}
		/* Kept files may be in a project the new rules do not use. */
		tier_spares_drop(t);
		t->removed = 0;
		t->capacity = tc->capacity;
		t->is_default = tc == def;
		if (t->free_off_loop != tc->free_off_loop)
			tier_set_free(t, tc->free_off_loop);
	}
	while ((t = TAILQ_FIRST(&added)) != NULL) {
		TAILQ_REMOVE(&added, t, entry);
		t->is_default = config_default_tier(conf) != NULL &&
		    strcmp(config_default_tier(conf)->name, t->name) == 0;
		TAILQ_INSERT_TAIL(tiers, t, entry);
	}
	return 0;
fail:
	while ((t = TAILQ_FIRST(&added)) != NULL)
		tier_free(&added, t);
	return -1;
}

void
tier_close_all(struct tiers *tiers)
{
	struct tier	*t;

	while ((t = TAILQ_FIRST(tiers)) != NULL)
		tier_free(tiers, t);
	if (tier_procfd >= 0)
		(void)close(tier_procfd);
	tier_procfd = -1;
}

int
tier_alloc(struct tier *t, uint64_t size, uint64_t fill, uint32_t projid,
    int *fdp, uint64_t devino[2])
{
	devino[0] = devino[1] = 0;
	return t->ops->alloc(t, size, fill < size ? fill : size, projid, fdp,
	    devino);
}

/*
 * ---- spares: lease files kept for the next grant ----
 *
 * Making a lease file (O_TMPFILE) and destroying it (the last close
 * evicts the inode) cost as much kernel time as the grant's other work
 * on ext4 (ext4_tmpfile searches for an inode not recently freed, ~20 %
 * of the daemon's CPU per grant with 64 clients) and a fifth of it on
 * tmpfs. A file whose lease ended and which nobody else has open (the
 * F_SETLEASE probe said so and its write lease is still set) is instead
 * truncated to 0 where its close would have run, checked empty, its
 * lease dropped, and kept for the next grant of the same tier.
 *
 * Safe to hand to another principal: nothing of the old client's
 * reaches the file any more (no descriptor, no mapping: either would have
 * failed the probe; it has no name, so nobody opens it anew), and its
 * blocks are all gone (st_blocks 0 checked, so nothing written is read
 * back: the next grant fallocates fresh, zeroed blocks). At most
 * TIER_SPARES per tier; all of a tier's go when none was taken or kept
 * for a second (seen by the zombie timer's tick: 1 to 2 s), on reload,
 * under descriptor pressure, and with the tier. Large grants take spares
 * on the worker thread: one lock covers them all.
 */
static pthread_mutex_t	tier_spare_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned		tier_nspares;	/* all tiers' */

static uint64_t
tier_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
tier_spare_take(struct tier *t, uint64_t devino[2])
{
	int	fd = -1;

	pthread_mutex_lock(&tier_spare_lock);
	if (t->nspares > 0) {
		t->nspares--;
		tier_nspares--;
		t->spares_at = tier_now_ms();
		fd = t->spare_fd[t->nspares];
		devino[0] = t->spare_id[t->nspares][0];
		devino[1] = t->spare_id[t->nspares][1];
	}
	pthread_mutex_unlock(&tier_spare_lock);
	return fd;
}

/* Where the close would run: empty the file and give up the probe's lease. */
static int
tier_spare_empty(int fd, uint64_t val[2])
{
	struct stat	st;

	if (ftruncate(fd, 0) != 0 || fstat(fd, &st) != 0 ||
	    st.st_size != 0 || st.st_blocks != 0 || st.st_nlink != 0 ||
	    !S_ISREG(st.st_mode) || fcntl(fd, F_SETLEASE, F_UNLCK) != 0)
		return -1;
	val[0] = (uint64_t)st.st_dev;
	val[1] = (uint64_t)st.st_ino;
	return 0;
}

/* Back on the loop: kept when there is room, else closed (it is empty). */
static void
tier_spare_keep(void *arg, int fd, const uint64_t val[2])
{
	struct tier	*t = arg;

	if (fd >= 0) {
		pthread_mutex_lock(&tier_spare_lock);
		if (!t->removed && t->nspares < TIER_SPARES) {
			t->spare_fd[t->nspares] = fd;
			t->spare_id[t->nspares][0] = val[0];
			t->spare_id[t->nspares][1] = val[1];
			t->nspares++;
			tier_nspares++;
			t->spares_at = tier_now_ms();
			fd = -1;
		}
		pthread_mutex_unlock(&tier_spare_lock);
		if (fd >= 0)
			close(fd);
	}
	t->nkeeping--;
	tier_maybe_free(t->keeping_in, t);
}

int
tier_recycle_then(struct tiers *tiers, struct tier *t, int fd, uint64_t bytes,
    struct work *then)
{
	struct worker_keep	k = {
		.empty = tier_spare_empty,
		.keep = tier_spare_keep,
		.arg = t,
	};

	if (t->ops->sealed || t->removed)
		return worker_close_then(fd, bytes, t->close_sleeps, then);
	/* The tier stays until the file is kept or closed. */
	t->nkeeping++;
	t->keeping_in = tiers;
	return worker_dispose_then(fd, bytes, t->close_sleeps, then, &k);
}

void
tier_spares_drop(struct tier *t)
{
	int		fds[TIER_SPARES];
	unsigned	i, n;

	pthread_mutex_lock(&tier_spare_lock);
	n = t->nspares;
	memcpy(fds, t->spare_fd, n * sizeof(*fds));
	tier_nspares -= n;
	t->nspares = 0;
	pthread_mutex_unlock(&tier_spare_lock);
	/* Empty files: closing them frees no block, and does not sleep. */
	for (i = 0; i < n; i++)
		close(fds[i]);
}

void
tier_spares_tick(struct tiers *tiers)
{
	struct tier	*t;
	uint64_t	 now = tier_now_ms();

	/* Called each second: a spare lives 1 to 2 s unused. */
	TAILQ_FOREACH(t, tiers, entry) {
		pthread_mutex_lock(&tier_spare_lock);
		if (t->nspares > 0 && now - t->spares_at >= 1000) {
			pthread_mutex_unlock(&tier_spare_lock);
			tier_spares_drop(t);
		} else
			pthread_mutex_unlock(&tier_spare_lock);
	}
}

void
tier_spares_drop_all(struct tiers *tiers)
{
	struct tier	*t;

	TAILQ_FOREACH(t, tiers, entry)
		tier_spares_drop(t);
}

unsigned
tier_spare_count(void)
{
	unsigned	n;

	pthread_mutex_lock(&tier_spare_lock);
	n = tier_nspares;
	pthread_mutex_unlock(&tier_spare_lock);
	return n;
}

int
tier_export(struct tier *t, int fd)
{
	char	path[64];
	int	cfd;

	/*
	 * A sealed object cannot outgrow what the daemon truncates, so the
	 * client may share the daemon's open file. A file gets an open file
	 * of its own: the daemon can then tell (F_SETLEASE) when the client
	 * no longer holds it.
	 */
	if (t->ops->sealed) {
		cfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		return cfd < 0 ? -errno : cfd;
	}
	/*
	 * Through the descriptor of /proc/self/fd that tier_add keeps, the
	 * reopen walks one name instead of four and the /proc/self link:
	 * about half its cost, on every grant.
	 */
	if (tier_procfd >= 0) {
		snprintf(path, sizeof(path), "%d", fd);
		cfd = openat(tier_procfd, path, O_RDWR | O_CLOEXEC);
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		cfd = open(path, O_RDWR | O_CLOEXEC);
	}
	return cfd < 0 ? -errno : cfd;
}

static void
tier_maybe_free(struct tiers *tiers, struct tier *t)
{
	if (t->removed && t->nleases + t->nzombies + t->nkeeping == 0 &&
	    tiers != NULL) {
		log_info("tier %s: last lease gone, tier removed", t->name);
		tier_free(tiers, t);
	}
}

void
tier_adjust(struct tier *t, int64_t delta)
{
	t->granted += (uint64_t)delta;
}

void
tier_ref(struct tier *t)
{
	t->nzombies++;
}

void
tier_unref(struct tiers *tiers, struct tier *t)
{
	t->nzombies--;
	tier_maybe_free(tiers, t);
}

void
tier_charge(struct tier *t, uint64_t size)
{
	t->granted += size;
	t->nleases++;
}

void
tier_uncharge(struct tiers *tiers, struct tier *t, uint64_t size)
{
	t->granted -= size;
	t->nleases--;
	tier_maybe_free(tiers, t);
}
