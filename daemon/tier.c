/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tier.h"

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
			if (t->nleases + t->nzombies == 0)
				tier_free(tiers, t);
			else {
				t->removed = 1;
				t->is_default = 0;
			}
			continue;
		}
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
    int *fdp)
{
	return t->ops->alloc(t, size, fill < size ? fill : size, projid, fdp);
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
	if (t->removed && t->nleases + t->nzombies == 0 && tiers != NULL) {
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
