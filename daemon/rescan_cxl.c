/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CXL half of a rescan: what daemon/discovery_cxl.c finds, logged and
 * kept for Status and TierList. CXL memory reaches the tiers through the
 * devices under its regions, which the NVDIMM/dax discovery already turns
 * into tiers (rescan.c); here each such device is tagged with the CXL
 * region it comes from, and every memdev, root decoder and region is
 * shown with what it lacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	char			 msg[512], line[1024];
	size_t			 i, n = 0;

	if (!conf->disc.enable) {
		rescan_cxl_keep(NULL, 0);
		return;
	}
	if (discovery_cxl_scan(&c, msg, sizeof(msg)) != 0) {
		log_warnx("rescan: CXL discovery failed: %s", msg);
		rescan_cxl_keep(NULL, 0);
		return;
	}
	discovery_cxl_decide(c);
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

void
rescan_cxl(const struct pmtd_config *conf, struct rescan_dev *devs,
    size_t ndevs)
{
	rescan_cxl_keep(NULL, 0);
}

#endif
