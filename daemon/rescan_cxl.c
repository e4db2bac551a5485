/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CXL half of a rescan: what daemon/discovery_cxl.c finds, logged and
 * kept for Status and TierList. CXL memory reaches the tiers through the
 * devices under its regions, which the NVDIMM/dax discovery already turns
 * into tiers (rescan.c); here each such device is tagged with the CXL
 * region it comes from, and every memdev, root decoder and region is
 * shown with what it lacks.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pmemtierd.h"
#include "rescan.h"
#ifdef PMEMTIERD_HAVE_DISCOVERY
#include "discovery.h"
#include "discovery_cxl.h"
#endif

/* The objects of the last scan, replaced whole by the next one. */
static struct rescan_cxl	*rescan_cxls;
static size_t			 rescan_ncxls;

static void
rescan_cxl_keep(struct rescan_cxl *objs, size_t n)
{
	free(rescan_cxls);
	rescan_cxls = objs;
	rescan_ncxls = objs != NULL ? n : 0;
}

const struct rescan_cxl *
rescan_cxl_objects(size_t *n)
{
	*n = rescan_ncxls;
	return rescan_cxls;
}

#ifdef PMEMTIERD_HAVE_DISCOVERY

/*
 * The regions this daemon made since it started, for Status
 * ("provisioned"); a longer list only loses that distinction.
 */
#define RESCAN_CXL_MADE_MAX	32
static char	rescan_cxl_made[RESCAN_CXL_MADE_MAX][DISCOVERY_NAME_MAX];
static size_t	rescan_cxl_nmade;

static int
rescan_cxl_was_made(const char *region)
{
	size_t	i;

	for (i = 0; i < rescan_cxl_nmade; i++)
		if (strcmp(rescan_cxl_made[i], region) == 0)
			return 1;
	return 0;
}

static void
rescan_cxl_note_made(const char *region)
{
	if (!rescan_cxl_was_made(region) &&
	    rescan_cxl_nmade < RESCAN_CXL_MADE_MAX)
		snprintf(rescan_cxl_made[rescan_cxl_nmade++],
		    sizeof(rescan_cxl_made[0]), "%s", region);
}

/* The [device] section naming this memdev (first match, as for devices). */
static const struct device_conf *
rescan_cxl_conf(const struct pmtd_config *conf, const char *memdev)
{
	const struct device_conf	*dc;

	TAILQ_FOREACH(dc, &conf->devices, entry)
		if (fnmatch(dc->pattern, memdev, 0) == 0)
			return dc;
	return NULL;
}

static void
rescan_cxl_want(const struct pmtd_config *conf, struct discovery_cxl *c)
{
	const struct device_conf	*dc;
	size_t				 i;

	for (i = 0; i < c->nmemdev; i++) {
		dc = rescan_cxl_conf(conf, c->memdev[i].name);
		if (dc != NULL && !dc->ignore && strcmp(dc->region, "pmem") == 0)
			c->memdev[i].want = DISCOVERY_CXL_PMEM;
	}
}

/* A fresh, decided scan with the config's wants; NULL after logging. */
static struct discovery_cxl *
rescan_cxl_fresh(const struct pmtd_config *conf)
{
	struct discovery_cxl	*c;
	char			 msg[512];

	if (discovery_cxl_scan(&c, msg, sizeof(msg)) != 0) {
		log_warnx("rescan: CXL discovery failed: %s", msg);
		return NULL;
	}
	rescan_cxl_want(conf, c);
	discovery_cxl_decide(c);
	return c;
}

static const struct discovery_cxl_region *
rescan_cxl_region_find(const struct discovery_cxl *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nregion; i++)
		if (strcmp(c->region[i].name, name) == 0)
			return &c->region[i];
	return NULL;
}

/*
 * A region just made appears in libnvdimm a moment later (the pmem
 * region's driver registers it): waits up to 2 s for it. The scan that
 * shows it, or the last one.
 */
static struct discovery_cxl *
rescan_cxl_settle(const struct pmtd_config *conf, const char *region)
{
	const struct discovery_cxl_region	*r;
	struct discovery_cxl			*c = NULL;
	struct timespec				 ts = { 0, 100000000 };
	int					 i;

	for (i = 0; i < 20; i++) {
		discovery_cxl_free(c);
		if ((c = rescan_cxl_fresh(conf)) == NULL)
			return NULL;
		r = rescan_cxl_region_find(c, region);
		if (r != NULL && r->nd_region[0] != '\0')
			break;
		nanosleep(&ts, NULL);
	}
	return c;
}

/* A devdax namespace on a region without one, named after the memdev so
 * that its [device] section (online, tier, ...) applies to it too. */
static int
rescan_cxl_namespace(const struct discovery_cxl_memdev *m,
    const struct discovery_cxl_region *r)
{
	char	msg[512];

	if (r->state != DISCOVERY_CANDIDATE)
		return 0;
	if (discovery_cxl_create_namespace(r->nd_region, m->name, msg,
	    sizeof(msg)) != 0) {
		log_warnx("rescan: %s: %s", m->name, msg);
		return 0;
	}
	log_notice("rescan: %s: %s on %s", m->name, msg, r->name);
	return 1;
}

int
rescan_cxl_provision(const struct pmtd_config *conf)
{
	const struct device_conf *dc;
	struct discovery_cxl	*c;
	char			 msg[512], region[DISCOVERY_NAME_MAX];
	size_t			 i;
	int			 changed = 0, restarts = 0;

	if (!conf->disc.enable)
		return 0;
	/* No section asks for a region: no extra scan. */
	TAILQ_FOREACH(dc, &conf->devices, entry)
		if (dc->region[0] != '\0')
			break;
	if (dc == NULL)
		return 0;
	if ((c = rescan_cxl_fresh(conf)) == NULL)
		return 0;
	for (i = 0; i < c->nmemdev; i++) {
		const struct discovery_cxl_memdev	*m = &c->memdev[i];
		const struct discovery_cxl_region	*r;

		if (m->want == DISCOVERY_CXL_NONE)
			continue;
		if (m->state == DISCOVERY_SKIPPED) {
			log_warnx("rescan: %s: region = %s not done: %s",
			    m->name, discovery_cxl_mode_name(m->want),
			    m->reason);
			continue;
		}
		if (m->state == DISCOVERY_USABLE) {
			/* Adopted as it is: a namespace only where none is. */
			char	copy[DISCOVERY_CXL_LIST_MAX], *tok, *save = NULL;

			snprintf(copy, sizeof(copy), "%s", m->regions);
			for (tok = strtok_r(copy, " ", &save); tok != NULL;
			    tok = strtok_r(NULL, " ", &save)) {
				if ((r = rescan_cxl_region_find(c, tok)) == NULL)
					continue;
				if (!rescan_cxl_was_made(r->name))
					log_info("rescan: %s: region %s exists "
					    "and is used as it is", m->name,
					    r->name);
				changed |= rescan_cxl_namespace(m, r);
			}
			continue;
		}
		if (discovery_cxl_create_region(m->name, m->root, m->want,
		    region, sizeof(region), msg, sizeof(msg)) != 0) {
			log_warnx("rescan: %s", msg);
			continue;
		}
		log_notice("rescan: %s", msg);
		rescan_cxl_note_made(region);
		changed = 1;
		/*
		 * Start over on a scan that shows the new region (and its
		 * libnvdimm region): the memdev is then in a region, which
		 * gets its namespace above. Each memdev gets at most one
		 * region, so this ends; the bound is for a kernel that
		 * would not show what it made.
		 */
		discovery_cxl_free(c);
		if (++restarts > RESCAN_CXL_MADE_MAX ||
		    (c = rescan_cxl_settle(conf, region)) == NULL)
			return changed;
		i = (size_t)-1;
	}
	discovery_cxl_free(c);
	return changed;
}

static void
rescan_cxl_memdev(struct rescan_cxl *o, const struct discovery_cxl_memdev *m)
{
	snprintf(o->kind, sizeof(o->kind), "memdev");
	snprintf(o->name, sizeof(o->name), "%s", m->name);
	snprintf(o->mode, sizeof(o->mode), "%s%s%s",
	    m->ram_size > 0 ? "ram" : "",
	    m->ram_size > 0 && m->pmem_size > 0 ? "," : "",
	    m->pmem_size > 0 ? "pmem" : "");
	o->size = m->ram_size + m->pmem_size;
	o->ram_size = m->ram_size;
	o->pmem_size = m->pmem_size;
	snprintf(o->state, sizeof(o->state), "%s",
	    discovery_state_name(m->state));
	snprintf(o->regions, sizeof(o->regions), "%s", m->regions);
	snprintf(o->decoders, sizeof(o->decoders), "%s", m->decoders);
	snprintf(o->host, sizeof(o->host), "%s", m->host);
	snprintf(o->port, sizeof(o->port), "%s", m->port);
	snprintf(o->bus, sizeof(o->bus), "%s", m->bus);
	o->serial = m->serial;
	o->enabled = m->enabled;
	o->target_node = -1;
	snprintf(o->reason, sizeof(o->reason), "%s", m->reason);
}

static void
rescan_cxl_decoder(struct rescan_cxl *o, const struct discovery_cxl_decoder *d)
{
	snprintf(o->kind, sizeof(o->kind), "decoder");
	snprintf(o->name, sizeof(o->name), "%s", d->name);
	snprintf(o->mode, sizeof(o->mode), "%s%s%s",
	    d->ram_capable ? "ram" : "",
	    d->ram_capable && d->pmem_capable ? "," : "",
	    d->pmem_capable ? "pmem" : "");
	o->size = d->size;
	snprintf(o->bus, sizeof(o->bus), "%s", d->bus);
	o->enabled = 1;
	o->target_node = -1;
}

static void
rescan_cxl_region(struct rescan_cxl *o, const struct discovery_cxl_region *r)
{
	snprintf(o->kind, sizeof(o->kind), "region");
	snprintf(o->name, sizeof(o->name), "%s", r->name);
	snprintf(o->mode, sizeof(o->mode), "%s",
	    discovery_cxl_mode_name(r->mode));
	o->size = r->size;
	snprintf(o->state, sizeof(o->state), "%s",
	    discovery_state_name(r->state));
	snprintf(o->decoders, sizeof(o->decoders), "%s", r->decoder);
	snprintf(o->memdevs, sizeof(o->memdevs), "%s", r->memdevs);
	snprintf(o->nd_region, sizeof(o->nd_region), "%s", r->nd_region);
	snprintf(o->devices, sizeof(o->devices), "%s", r->devices);
	o->enabled = r->enabled;
	o->committed = r->committed;
	o->target_node = r->target_node;
	o->provisioned = rescan_cxl_was_made(r->name);
	snprintf(o->reason, sizeof(o->reason), "%s", r->reason);
}

/* Is name one of the words of the space-separated list? */
static int
rescan_cxl_in(const char *list, const char *name)
{
	size_t		 k = strlen(name);
	const char	*p;

	if (k == 0)
		return 0;
	for (p = list; (p = strstr(p, name)) != NULL; p += k)
		if ((p == list || p[-1] == ' ') && (p[k] == ' ' || p[k] == '\0'))
			return 1;
	return 0;
}

/* Tags the devices of the NVDIMM/dax scan that a CXL region holds. */
static void
rescan_cxl_tag(const struct discovery_cxl *c, struct rescan_dev *devs,
    size_t ndevs)
{
	size_t	i, j;

	for (i = 0; i < ndevs; i++)
		for (j = 0; j < c->nregion; j++) {
			const struct discovery_cxl_region *r = &c->region[j];

			if (rescan_cxl_in(r->devices, devs[i].name) ||
			    rescan_cxl_in(r->devices, devs[i].daxdev) ||
			    rescan_cxl_in(r->devices, devs[i].blockdev) ||
			    (r->nd_region[0] != '\0' &&
			    strcmp(r->nd_region, devs[i].region) == 0)) {
				snprintf(devs[i].cxl_region,
				    sizeof(devs[i].cxl_region), "%s", r->name);
				break;
			}
		}
}

void
rescan_cxl(const struct pmtd_config *conf, struct rescan_dev *devs,
    size_t ndevs)
{
	struct discovery_cxl	*c;
	struct rescan_cxl	*objs;
	char			 line[1024];
	size_t			 i, n = 0;

	if (!conf->disc.enable) {
		rescan_cxl_keep(NULL, 0);
		return;
	}
	if ((c = rescan_cxl_fresh(conf)) == NULL) {
		rescan_cxl_keep(NULL, 0);
		return;
	}
	if (c->note[0] != '\0')
		log_info("rescan: %s", c->note);
	objs = calloc(c->nmemdev + c->ndecoder + c->nregion + 1, sizeof(*objs));
	for (i = 0; i < c->nmemdev; i++) {
		discovery_cxl_memdev_describe(&c->memdev[i], line, sizeof(line));
		log_info("rescan: cxl memdev %s", line);
		if (objs != NULL)
			rescan_cxl_memdev(&objs[n++], &c->memdev[i]);
	}
	for (i = 0; i < c->ndecoder; i++) {
		discovery_cxl_decoder_describe(&c->decoder[i], line,
		    sizeof(line));
		log_info("rescan: cxl root decoder %s", line);
		if (objs != NULL)
			rescan_cxl_decoder(&objs[n++], &c->decoder[i]);
	}
	for (i = 0; i < c->nregion; i++) {
		discovery_cxl_region_describe(&c->region[i], line, sizeof(line));
		if (c->region[i].state == DISCOVERY_SKIPPED)
			log_warnx("rescan: cxl region %s", line);
		else
			log_info("rescan: cxl region %s", line);
		if (objs != NULL)
			rescan_cxl_region(&objs[n++], &c->region[i]);
	}
	if (devs != NULL)
		rescan_cxl_tag(c, devs, ndevs);
	rescan_cxl_keep(objs, n);
	discovery_cxl_free(c);
}

#else /* !PMEMTIERD_HAVE_DISCOVERY */

int
rescan_cxl_provision(const struct pmtd_config *conf)
{
	return 0;
}

void
rescan_cxl(const struct pmtd_config *conf, struct rescan_dev *devs,
    size_t ndevs)
{
	rescan_cxl_keep(NULL, 0);
}

#endif
