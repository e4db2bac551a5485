/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pmemtierd.h"
#include "rescan.h"
#include "tier.h"
#ifdef PMEMTIERD_HAVE_DISCOVERY
#include "discovery.h"
#endif

/* Drops the tiers a previous scan added. */
static void
rescan_forget(struct pmtd_config *conf)
{
	struct tier_conf	*tc, *next;

	TAILQ_FOREACH_SAFE(tc, &conf->tiers, entry, next)
		if (tc->discovered) {
			TAILQ_REMOVE(&conf->tiers, tc, entry);
			free(tc);
		}
}

#ifdef PMEMTIERD_HAVE_DISCOVERY

/* Does any glob of the space-separated list match the device? */
static int
rescan_listed(const struct discovery_dev *dev, const char *list)
{
	char	 copy[256], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save))
		if (discovery_dev_matches(dev, tok))
			return 1;
	return 0;
}

static const struct device_conf *
rescan_device_conf(const struct pmtd_config *conf,
    const struct discovery_dev *dev)
{
	const struct device_conf	*dc;

	TAILQ_FOREACH(dc, &conf->devices, entry)
		if (discovery_dev_matches(dev, dc->pattern))
			return dc;
	return NULL;
}

/* Is this filesystem or node already a tier written in the config? */
static const struct tier_conf *
rescan_covered(const struct pmtd_config *conf, const char *mount, int node)
{
	const struct tier_conf	*tc;
	struct stat		 a, b;

	TAILQ_FOREACH(tc, &conf->tiers, entry) {
		if (tc->discovered)
			continue;
		if (mount == NULL && strcmp(tc->backend, "kmem") == 0 &&
		    tc->node == node)
			return tc;
		if (mount != NULL && strcmp(tc->backend, "kmem") != 0 &&
		    stat(mount, &a) == 0 && stat(tc->path, &b) == 0 &&
		    a.st_dev == b.st_dev)
			return tc;
	}
	return NULL;
}

static struct tier_conf *
rescan_add(struct pmtd_config *conf, const struct discovery_dev *dev,
    const struct device_conf *dc, const char *backend)
{
	struct tier_conf	*tc, *o;
	char			 name[PMTD_NAME_MAX];

	if (dc != NULL && dc->tier[0] != '\0')
		snprintf(name, sizeof(name), "%s", dc->tier);
	else
		discovery_tier_name(dev, name, sizeof(name));
	TAILQ_FOREACH(o, &conf->tiers, entry)
		if (strcmp(o->name, name) == 0) {
			log_warnx("rescan: %s: tier name %s is taken; set "
			    "tier = in [device %s]", dev->name, name,
			    dev->name);
			return NULL;
		}
	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return NULL;
	snprintf(tc->name, sizeof(tc->name), "%s", name);
	snprintf(tc->backend, sizeof(tc->backend), "%s", backend);
	snprintf(tc->device, sizeof(tc->device), "%s", dev->name);
	tc->node = -1;
	tc->discovered = 1;
	if (dc != NULL && dc->is_default) {
		TAILQ_FOREACH(o, &conf->tiers, entry)
			if (o->is_default)
				break;
		if (o == NULL)
			tc->is_default = 1;
		else
			log_warnx("rescan: %s: tier %s is already the default",
			    dev->name, o->name);
	}
	TAILQ_INSERT_TAIL(&conf->tiers, tc, entry);
	return tc;
}

static void
rescan_fsdax(struct pmtd_config *conf, const struct discovery_dev *dev,
    const struct device_conf *dc)
{
	const struct tier_conf	*cov;
	struct tier_conf	*tc;
	struct statvfs		 vfs;
	uint64_t		 cap;

	if (!conf->disc.fsdax || dev->state != DISCOVERY_USABLE ||
	    dev->mount[0] == '\0')
		return;
	if ((cov = rescan_covered(conf, dev->mount, -1)) != NULL) {
		log_info("rescan: %s: %s is tier %s from the config", dev->name,
		    dev->mount, cov->name);
		return;
	}
	/* What the filesystem can still hold, capped by the config. */
	cap = dev->size;
	if (statvfs(dev->mount, &vfs) == 0)
		cap = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (dc != NULL && dc->capacity != 0 && dc->capacity < cap)
		cap = dc->capacity;
	if (cap == 0) {
		log_warnx("rescan: %s: %s is full", dev->name, dev->mount);
		return;
	}
	if ((tc = rescan_add(conf, dev, dc, "fsdax")) == NULL)
		return;
	snprintf(tc->path, sizeof(tc->path), "%s", dev->mount);
	tc->capacity = cap;
}

static void
rescan_kmem(struct pmtd_config *conf, const struct discovery_dev *dev,
    const struct device_conf *dc, int node)
{
	const struct tier_conf	*cov;
	struct tier_conf	*tc;
	uint64_t		 cap = dev->size;

	if (!conf->disc.kmem || node < 0)
		return;
	if ((cov = rescan_covered(conf, NULL, node)) != NULL) {
		log_info("rescan: %s: node %d is tier %s from the config",
		    dev->name, node, cov->name);
		return;
	}
	/* Only memory that is online can be handed out. */
	if (dev->mem_blocks > 0 && dev->mem_online < dev->mem_blocks)
		cap = cap / (uint64_t)dev->mem_blocks *
		    (uint64_t)dev->mem_online;
	if (dc != NULL && dc->capacity != 0 && dc->capacity < cap)
		cap = dc->capacity;
	if (cap == 0 || (tc = rescan_add(conf, dev, dc, "kmem")) == NULL)
		return;
	tc->node = node;
	tc->capacity = cap;
}

/* Onlines the devdax devices whose [device] says so; 1 if any changed. */
static int
rescan_online(const struct pmtd_config *conf, const struct discovery *d)
{
	struct discovery_online_opts	 opts;
	const struct device_conf	*dc;
	char				 msg[512];
	size_t				 i;
	int				 changed = 0, rc;

	for (i = 0; i < d->ndev; i++) {
		const struct discovery_dev	*dev = &d->dev[i];

		dc = rescan_device_conf(conf, dev);
		if (dc == NULL || !dc->online || dc->ignore ||
		    (dev->kind != DISCOVERY_DEVDAX &&
		    !(dev->kind == DISCOVERY_KMEM &&
		    dev->mem_online < dev->mem_blocks)))
			continue;
		memset(&opts, 0, sizeof(opts));
		opts.movable = dc->movable;
		msg[0] = '\0';
		rc = discovery_online_kmem(dev->daxdev[0] ? dev->daxdev :
		    dev->name, &opts, msg, sizeof(msg));
		if (rc < 0)
			log_warnx("rescan: %s", msg[0] ? msg : dev->name);
		else {
			log_notice("rescan: %s: onlined as system RAM on "
			    "node %d", dev->name, rc);
			changed = 1;
		}
	}
	return changed;
}

int
rescan_extend(struct pmtd_config *conf)
{
	const struct device_conf	*dc;
	struct discovery		*d = NULL;
	char				 msg[512], line[1024];
	size_t				 i;
	int				 n0 = 0, n = 0;
	struct tier_conf		*tc;

	rescan_forget(conf);
	if (!conf->disc.enable)
		return 0;
	if (discovery_scan(&d, msg, sizeof(msg)) != 0) {
		log_warnx("rescan: discovery failed: %s", msg);
		return 0;
	}
	if (rescan_online(conf, d)) {
		discovery_free(d);
		if (discovery_scan(&d, msg, sizeof(msg)) != 0) {
			log_warnx("rescan: discovery failed: %s", msg);
			return 0;
		}
	}
	if (d->note[0] != '\0')
		log_info("rescan: %s", d->note);
	TAILQ_FOREACH(tc, &conf->tiers, entry)
		n0++;
	for (i = 0; i < d->ndev; i++) {
		const struct discovery_dev	*dev = &d->dev[i];

		discovery_dev_describe(dev, line, sizeof(line));
		log_info("rescan: %s", line);
		dc = rescan_device_conf(conf, dev);
		if ((dc != NULL && dc->ignore) ||
		    (conf->disc.include[0] != '\0' &&
		    !rescan_listed(dev, conf->disc.include)) ||
		    rescan_listed(dev, conf->disc.exclude)) {
			log_info("rescan: %s: excluded by the config",
			    dev->name);
			continue;
		}
		if (dev->kind == DISCOVERY_FSDAX)
			rescan_fsdax(conf, dev, dc);
		else if (dev->kind == DISCOVERY_KMEM &&
		    dev->state == DISCOVERY_USABLE)
			rescan_kmem(conf, dev, dc, dev->target_node);
	}
	discovery_free(d);
	TAILQ_FOREACH(tc, &conf->tiers, entry)
		n++;
	return n - n0;
}

#else /* !PMEMTIERD_HAVE_DISCOVERY */

int
rescan_extend(struct pmtd_config *conf)
{
	rescan_forget(conf);
	if (conf->disc.enable)
		log_warnx("rescan: this pmemtierd is built without device "
		    "discovery; [discovery] is ignored");
	return 0;
}

#endif

int
pmtd_rescan(char *err, size_t errlen)
{
	int	n = rescan_extend(pmtd->conf);

	if (tier_apply(&pmtd->tiers, pmtd->conf, err, errlen) != 0) {
		log_warnx("rescan: %s", err);
		return -1;
	}
	log_notice("rescan: done, %d tier(s) from devices", n);
	return 0;
}
