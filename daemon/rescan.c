/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/stat.h>
#include <sys/statvfs.h>
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

/* The devices of the last scan, replaced whole by the next one. */
static struct rescan_dev	*rescan_devs;
static size_t			 rescan_ndevs;

static void
rescan_keep(struct rescan_dev *devs, size_t n)
{
	free(rescan_devs);
	rescan_devs = devs;
	rescan_ndevs = devs != NULL ? n : 0;
}

const struct rescan_dev *
rescan_devices(size_t *n)
{
	*n = rescan_ndevs;
	return rescan_devs;
}

const char *
rescan_state_name(enum rescan_state s)
{
	switch (s) {
	case RESCAN_TIER:
		return "tier";
	case RESCAN_ONLINED:
		return "onlined";
	default:
		return "skipped";
	}
}

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

/*
 * The dax devices this daemon onlined since it started, to tell them
 * apart in Status from memory that was online before (CXL, hmem, an
 * earlier run). A longer list only loses that distinction.
 */
#define RESCAN_ONLINED_MAX	64
static char	rescan_onlined[RESCAN_ONLINED_MAX][DISCOVERY_NAME_MAX];
static size_t	rescan_nonlined;

/* Why the onlining of one device was refused in this scan. */
struct rescan_refusal {
	char	name[DISCOVERY_NAME_MAX];
	char	msg[512];
};

static void
rescan_note_onlined(const char *name)
{
	size_t	i;

	for (i = 0; i < rescan_nonlined; i++)
		if (strcmp(rescan_onlined[i], name) == 0)
			return;
	if (rescan_nonlined < RESCAN_ONLINED_MAX)
		snprintf(rescan_onlined[rescan_nonlined++],
		    sizeof(rescan_onlined[0]), "%s", name);
}

static int
rescan_was_onlined(const struct discovery_dev *dev)
{
	size_t	i;

	for (i = 0; i < rescan_nonlined; i++)
		if (strcmp(rescan_onlined[i], dev->daxdev) == 0)
			return 1;
	return 0;
}

static const char *
rescan_refusal_find(const struct rescan_refusal *refs, size_t n,
    const struct discovery_dev *dev)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(refs[i].name, dev->name) == 0 ||
		    (dev->daxdev[0] != '\0' &&
		    strcmp(refs[i].name, dev->daxdev) == 0))
			return refs[i].msg;
	return NULL;
}

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

/* include/exclude and [device] ignore = yes: never used, never onlined. */
static int
rescan_excluded(const struct pmtd_config *conf,
    const struct discovery_dev *dev, const struct device_conf *dc)
{
	return (dc != NULL && dc->ignore) ||
	    (conf->disc.include[0] != '\0' &&
	    !rescan_listed(dev, conf->disc.include)) ||
	    rescan_listed(dev, conf->disc.exclude);
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

/*
 * A discovered tier serves requests without a tier name only when its
 * [device] section asks for it: an implicit default would move with the
 * order devices are found in (pmemtierd.conf(5), "default").
 */
static struct tier_conf *
rescan_add(struct pmtd_config *conf, const struct discovery_dev *dev,
    const struct device_conf *dc, const char *backend, struct rescan_dev *rd)
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
			snprintf(rd->reason, sizeof(rd->reason), "tier name %s "
			    "is taken; set tier = in [device %s]", name,
			    dev->name);
			return NULL;
		}
	if ((tc = calloc(1, sizeof(*tc))) == NULL) {
		snprintf(rd->reason, sizeof(rd->reason), "out of memory");
		return NULL;
	}
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
	snprintf(rd->tier, sizeof(rd->tier), "%s", tc->name);
	return tc;
}

static void
rescan_fsdax(struct pmtd_config *conf, const struct discovery_dev *dev,
    const struct device_conf *dc, struct rescan_dev *rd)
{
	const struct tier_conf	*cov;
	struct tier_conf	*tc;
	struct statvfs		 vfs;
	uint64_t		 cap;

	if (dev->state != DISCOVERY_USABLE || dev->mount[0] == '\0')
		return;		/* rd->reason has discovery's reason */
	if (!conf->disc.fsdax) {
		snprintf(rd->reason, sizeof(rd->reason), "fsdax tiers are off "
		    "([discovery] fsdax = no)");
		return;
	}
	if ((cov = rescan_covered(conf, dev->mount, -1)) != NULL) {
		log_info("rescan: %s: %s is tier %s from the config", dev->name,
		    dev->mount, cov->name);
		snprintf(rd->tier, sizeof(rd->tier), "%s", cov->name);
		snprintf(rd->reason, sizeof(rd->reason), "%s is tier %s from "
		    "the config", dev->mount, cov->name);
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
		snprintf(rd->reason, sizeof(rd->reason), "%s is full",
		    dev->mount);
		return;
	}
	if ((tc = rescan_add(conf, dev, dc, "fsdax", rd)) == NULL)
		return;
	snprintf(tc->path, sizeof(tc->path), "%s", dev->mount);
	tc->capacity = cap;
}

static void
rescan_kmem(struct pmtd_config *conf, const struct discovery_dev *dev,
    const struct device_conf *dc, struct rescan_dev *rd)
{
	const struct tier_conf	*cov;
	struct tier_conf	*tc;
	int			 node = dev->target_node;
	/*
	 * Only memory that is online can be handed out, and kmem onlines
	 * whole memory blocks: a 1 GiB device may give 896 MiB.
	 */
	uint64_t		 cap = dev->online_bytes;

	if (!conf->disc.kmem) {
		snprintf(rd->reason, sizeof(rd->reason), "kmem tiers are off "
		    "([discovery] kmem = no)");
		return;
	}
	if (node < 0) {
		snprintf(rd->reason, sizeof(rd->reason), "the kernel gives no "
		    "NUMA node for its memory");
		return;
	}
	if ((cov = rescan_covered(conf, NULL, node)) != NULL) {
		log_info("rescan: %s: node %d is tier %s from the config",
		    dev->name, node, cov->name);
		snprintf(rd->tier, sizeof(rd->tier), "%s", cov->name);
		snprintf(rd->reason, sizeof(rd->reason), "node %d is tier %s "
		    "from the config", node, cov->name);
		return;
	}
	if (dc != NULL && dc->capacity != 0 && dc->capacity < cap)
		cap = dc->capacity;
	if (cap == 0) {
		snprintf(rd->reason, sizeof(rd->reason), "no memory online");
		return;
	}
	if ((tc = rescan_add(conf, dev, dc, "kmem", rd)) == NULL)
		return;
	tc->node = node;
	tc->capacity = cap;
}

/*
 * Onlines the devdax devices whose [device] says so; 1 if any changed.
 * Refusals go into refs (room for d->ndev) for the device report.
 */
static int
rescan_online(const struct pmtd_config *conf, const struct discovery *d,
    struct rescan_refusal *refs, size_t *nrefs)
{
	struct discovery_online_opts	 opts;
	const struct device_conf	*dc;
	char				 msg[512];
	size_t				 i;
	int				 changed = 0, rc;

	for (i = 0; i < d->ndev; i++) {
		const struct discovery_dev	*dev = &d->dev[i];
		const char			*name = dev->daxdev[0] ?
						    dev->daxdev : dev->name;

		dc = rescan_device_conf(conf, dev);
		if (dc == NULL || !dc->online ||
		    rescan_excluded(conf, dev, dc) ||
		    (dev->kind != DISCOVERY_DEVDAX &&
		    !(dev->kind == DISCOVERY_KMEM &&
		    dev->mem_online < dev->mem_blocks)))
			continue;
		memset(&opts, 0, sizeof(opts));
		opts.movable = dc->movable;
		msg[0] = '\0';
		rc = discovery_online_kmem(name, &opts, msg, sizeof(msg));
		if (rc < 0) {
			log_warnx("rescan: %s", msg[0] ? msg : dev->name);
			if (refs != NULL) {
				snprintf(refs[*nrefs].name,
				    sizeof(refs[*nrefs].name), "%s", name);
				snprintf(refs[*nrefs].msg,
				    sizeof(refs[*nrefs].msg), "%s", msg[0] ?
				    msg : "onlining failed");
				(*nrefs)++;
			}
		} else {
			log_notice("rescan: %s: onlined as system RAM on "
			    "node %d", dev->name, rc);
			rescan_note_onlined(name);
			changed = 1;
		}
	}
	return changed;
}

static void
rescan_dev_copy(struct rescan_dev *rd, const struct discovery_dev *dev)
{
	memset(rd, 0, sizeof(*rd));
	snprintf(rd->name, sizeof(rd->name), "%s", dev->name);
	snprintf(rd->ns, sizeof(rd->ns), "%s", dev->ns);
	snprintf(rd->ns_name, sizeof(rd->ns_name), "%s", dev->ns_name);
	snprintf(rd->region, sizeof(rd->region), "%s", dev->region);
	snprintf(rd->mode, sizeof(rd->mode), "%s", dev->mode);
	snprintf(rd->blockdev, sizeof(rd->blockdev), "%s", dev->blockdev);
	snprintf(rd->daxdev, sizeof(rd->daxdev), "%s", dev->daxdev);
	snprintf(rd->mount, sizeof(rd->mount), "%s", dev->mount);
	snprintf(rd->fstype, sizeof(rd->fstype), "%s", dev->fstype);
	snprintf(rd->reason, sizeof(rd->reason), "%s", dev->reason);
	rd->size = dev->size;
	rd->online_bytes = dev->online_bytes;
	rd->numa_node = dev->numa_node;
	rd->target_node = dev->target_node;
	rd->dax = dev->dax_active;
	rd->state = RESCAN_SKIPPED;
}

/* Logs one device, makes its tier if it can, and says what became of it. */
static void
rescan_device(struct pmtd_config *conf, const struct discovery_dev *dev,
    const char *refusal, struct rescan_dev *rd)
{
	const struct device_conf	*dc = rescan_device_conf(conf, dev);
	struct discovery_dev		 shown = *dev;
	char				 line[1024];

	/* A refused opt-in says why, not "needs online = yes". */
	if (refusal != NULL) {
		size_t	n = strlen(refusal);

		if (n >= sizeof(shown.reason))
			n = sizeof(shown.reason) - 1;
		memcpy(shown.reason, refusal, n);
		shown.reason[n] = '\0';
	}
	rescan_dev_copy(rd, &shown);
	if (refusal != NULL)
		snprintf(rd->reason, sizeof(rd->reason), "%s", refusal);
	discovery_dev_describe(&shown, line, sizeof(line));
	log_info("rescan: %s", line);
	if (rescan_excluded(conf, dev, dc)) {
		log_info("rescan: %s: excluded by the config", dev->name);
		snprintf(rd->reason, sizeof(rd->reason), "excluded by the "
		    "config ([discovery] include/exclude, or [device] ignore)");
		return;
	}
	if (dev->kind == DISCOVERY_FSDAX)
		rescan_fsdax(conf, dev, dc, rd);
	else if (dev->kind == DISCOVERY_KMEM && dev->state == DISCOVERY_USABLE)
		rescan_kmem(conf, dev, dc, rd);
	if (rd->tier[0] != '\0')
		rd->state = rescan_was_onlined(dev) ? RESCAN_ONLINED :
		    RESCAN_TIER;
}

static int
rescan_count(const struct pmtd_config *conf)
{
	const struct tier_conf	*tc;
	int			 n = 0;

	TAILQ_FOREACH(tc, &conf->tiers, entry)
		n++;
	return n;
}

/* Scans, onlines what the config opts in, and scans again if that
 * changed anything. 0, or -1 after logging. */
static int
rescan_scan(const struct pmtd_config *conf, struct discovery **dp,
    struct rescan_refusal **refsp, size_t *nrefs)
{
	char	msg[512];

	*nrefs = 0;
	if (discovery_scan(dp, msg, sizeof(msg)) != 0) {
		log_warnx("rescan: discovery failed: %s", msg);
		return -1;
	}
	*refsp = calloc((*dp)->ndev + 1, sizeof(**refsp));
	if (rescan_online(conf, *dp, *refsp, nrefs)) {
		discovery_free(*dp);
		*dp = NULL;
		if (discovery_scan(dp, msg, sizeof(msg)) != 0) {
			log_warnx("rescan: discovery failed: %s", msg);
			free(*refsp);
			*refsp = NULL;
			return -1;
		}
	}
	return 0;
}

int
rescan_extend(struct pmtd_config *conf)
{
	struct discovery	*d = NULL;
	struct rescan_refusal	*refs = NULL;
	struct rescan_dev	*devs, scratch;
	size_t			 i, nrefs = 0;
	int			 n0;

	rescan_forget(conf);
	if (!conf->disc.enable) {
		rescan_keep(NULL, 0);
		rescan_cxl(conf, NULL, 0);
		return 0;
	}
	/* Regions and namespaces first: their dax devices are then found,
	 * and onlined when configured, by the scan below. */
	(void)rescan_cxl_provision(conf);
	if (rescan_scan(conf, &d, &refs, &nrefs) != 0) {
		rescan_keep(NULL, 0);
		rescan_cxl(conf, NULL, 0);
		return 0;
	}
	if (d->note[0] != '\0')
		log_info("rescan: %s", d->note);
	n0 = rescan_count(conf);
	/* Out of memory only costs the report: the tiers are still made. */
	devs = calloc(d->ndev + 1, sizeof(*devs));
	for (i = 0; i < d->ndev; i++)
		rescan_device(conf, &d->dev[i],
		    rescan_refusal_find(refs, nrefs, &d->dev[i]),
		    devs != NULL ? &devs[i] : &scratch);
	rescan_cxl(conf, devs, devs != NULL ? d->ndev : 0);
	rescan_keep(devs, d->ndev);
	discovery_free(d);
	free(refs);
	return rescan_count(conf) - n0;
}

#else /* !PMEMTIERD_HAVE_DISCOVERY */

int
rescan_extend(struct pmtd_config *conf)
{
	rescan_forget(conf);
	rescan_keep(NULL, 0);
	rescan_cxl(conf, NULL, 0);
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
