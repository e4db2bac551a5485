/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a CXL memdev or region can be used for, and why not: pure
 * functions over the structs a scan (or a unit test) fills. Every reason
 * names the object and says what the operator can do about it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "discovery.h"
#include "discovery_cxl.h"
#include "discovery_int.h"

const char *
discovery_cxl_mode_name(enum discovery_cxl_mode m)
{
	switch (m) {
	case DISCOVERY_CXL_PMEM:
		return "pmem";
	case DISCOVERY_CXL_RAM:
		return "ram";
	default:
		return "";
	}
}

int
discovery_cxl_mode_parse(const char *s, enum discovery_cxl_mode *m)
{
	if (strcasecmp(s, "pmem") == 0)
		*m = DISCOVERY_CXL_PMEM;
	else if (strcasecmp(s, "ram") == 0 || strcasecmp(s, "volatile") == 0)
		*m = DISCOVERY_CXL_RAM;
	else if (s[0] == '\0' || strcasecmp(s, "none") == 0)
		*m = DISCOVERY_CXL_NONE;
	else
		return -1;
	return 0;
}

const struct discovery_cxl_decoder *
discovery_cxl_decoder_find(const struct discovery_cxl *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->ndecoder; i++)
		if (strcmp(c->decoder[i].name, name) == 0)
			return &c->decoder[i];
	return NULL;
}

const struct discovery_cxl_memdev *
discovery_cxl_memdev_find(const struct discovery_cxl *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nmemdev; i++)
		if (strcmp(c->memdev[i].name, name) == 0)
			return &c->memdev[i];
	return NULL;
}

static uint64_t
cxl_capacity(const struct discovery_cxl_memdev *m, enum discovery_cxl_mode w)
{
	return w == DISCOVERY_CXL_PMEM ? m->pmem_size :
	    w == DISCOVERY_CXL_RAM ? m->ram_size : 0;
}

/*
 * The first root decoder that reaches the memdev and can map mode w, or
 * NULL. A memdev whose targets libcxl could not resolve (decoders "")
 * falls back to any root decoder of its bus.
 */
static const struct discovery_cxl_decoder *
cxl_root_for(const struct discovery_cxl *c,
    const struct discovery_cxl_memdev *m, enum discovery_cxl_mode w)
{
	size_t	i;

	for (i = 0; i < c->ndecoder; i++) {
		const struct discovery_cxl_decoder	*d = &c->decoder[i];
		const char				*p;
		size_t					 k = strlen(d->name);
		int					 reaches = 0;

		if (m->decoders[0] != '\0') {
			for (p = m->decoders; (p = strstr(p, d->name)) != NULL;
			    p += k)
				if ((p == m->decoders || p[-1] == ' ') &&
				    (p[k] == ' ' || p[k] == '\0'))
					reaches = 1;
		} else
			reaches = strcmp(d->bus, m->bus) == 0;
		if (!reaches)
			continue;
		if ((w == DISCOVERY_CXL_PMEM && d->pmem_capable) ||
		    (w == DISCOVERY_CXL_RAM && d->ram_capable))
			return d;
	}
	return NULL;
}

static void
cxl_memdev_sizes(const struct discovery_cxl_memdev *m, char *buf, size_t len)
{
	snprintf(buf, len, "ram %llu MiB, pmem %llu MiB",
	    (unsigned long long)(m->ram_size >> 20),
	    (unsigned long long)(m->pmem_size >> 20));
}

/* A memdev with no region: can one be made, in the mode asked or any? */
static void
cxl_memdev_free(const struct discovery_cxl *c, struct discovery_cxl_memdev *m)
{
	const struct discovery_cxl_decoder	*d;
	enum discovery_cxl_mode			 w = m->want;
	char					 sizes[64];

	cxl_memdev_sizes(m, sizes, sizeof(sizes));
	if (w != DISCOVERY_CXL_NONE) {
		if (cxl_capacity(m, w) == 0) {
			m->state = DISCOVERY_SKIPPED;
			discovery_msg(m->reason, sizeof(m->reason), "%s has no "
			    "%s capacity (%s): set region = %s in [device %s]",
			    m->name, discovery_cxl_mode_name(w), sizes,
			    w == DISCOVERY_CXL_PMEM ? "ram" : "pmem", m->name);
			return;
		}
		if ((d = cxl_root_for(c, m, w)) == NULL) {
			m->state = DISCOVERY_SKIPPED;
			discovery_msg(m->reason, sizeof(m->reason), "no root "
			    "decoder reaching %s can map %s memory (cxl list "
			    "-D -m %s): the platform's CXL windows (CFMWS) do "
			    "not allow it", m->name,
			    discovery_cxl_mode_name(w), m->name);
			return;
		}
		m->state = DISCOVERY_CANDIDATE;
		snprintf(m->root, sizeof(m->root), "%s", d->name);
		discovery_msg(m->reason, sizeof(m->reason), "no region yet: "
		    "the daemon creates a %s region on %s through %s",
		    discovery_cxl_mode_name(w), m->name, d->name);
		return;
	}
	/* Nothing asked: say what could be done, pmem first (what the
	 * daemon can provision on any kernel with CXL regions). */
	if (m->pmem_size > 0 &&
	    (d = cxl_root_for(c, m, DISCOVERY_CXL_PMEM)) != NULL) {
		m->state = DISCOVERY_CANDIDATE;
		discovery_msg(m->reason, sizeof(m->reason), "no region: set "
		    "region = pmem in [device %s], or run cxl create-region "
		    "-m -t pmem -d %s %s", m->name, d->name, m->name);
		return;
	}
	if (m->ram_size > 0 &&
	    (d = cxl_root_for(c, m, DISCOVERY_CXL_RAM)) != NULL) {
		m->state = DISCOVERY_CANDIDATE;
		discovery_msg(m->reason, sizeof(m->reason), "no region: set "
		    "region = ram in [device %s], or run cxl create-region "
		    "-m -t ram -d %s %s", m->name, d->name, m->name);
		return;
	}
	m->state = DISCOVERY_SKIPPED;
	if (m->pmem_size == 0 && m->ram_size == 0)
		discovery_msg(m->reason, sizeof(m->reason), "%s has no "
		    "capacity (cxl list -m %s)", m->name, m->name);
	else
		discovery_msg(m->reason, sizeof(m->reason), "no root decoder "
		    "reaching %s can map its memory (%s; cxl list -D -m %s)",
		    m->name, sizes, m->name);
}

void
discovery_cxl_memdev_decide(const struct discovery_cxl *c,
    struct discovery_cxl_memdev *m)
{
	m->reason[0] = '\0';
	m->root[0] = '\0';
	if (!m->enabled) {
		m->state = DISCOVERY_SKIPPED;
		discovery_msg(m->reason, sizeof(m->reason), "%s is disabled "
		    "(no cxl_mem driver): cxl enable-memdev %s, or modprobe "
		    "cxl_mem", m->name, m->name);
		return;
	}
	if (m->endpoint[0] == '\0' || !m->endpoint_enabled) {
		m->state = DISCOVERY_SKIPPED;
		discovery_msg(m->reason, sizeof(m->reason), "%s has no enabled "
		    "endpoint port: its path to a CXL host bridge is not "
		    "enumerated (cxl_acpi and cxl_port loaded? cxl list -P -m "
		    "%s)", m->name, m->name);
		return;
	}
	if (m->regions[0] != '\0') {
		m->state = DISCOVERY_USABLE;
		return;
	}
	cxl_memdev_free(c, m);
}

void
discovery_cxl_region_decide(struct discovery_cxl_region *r)
{
	r->reason[0] = '\0';
	r->state = DISCOVERY_SKIPPED;
	if (!r->committed) {
		discovery_msg(r->reason, sizeof(r->reason), "%s: decoders not "
		    "committed (%d of %d targets mapped): finish it with cxl "
		    "enable-region %s, or remove it with cxl destroy-region "
		    "-f %s if nothing on it is needed", r->name, r->nr_mappings,
		    r->ways, r->name, r->name);
		return;
	}
	if (!r->enabled) {
		discovery_msg(r->reason, sizeof(r->reason), "%s is disabled: "
		    "cxl enable-region %s, then rescan", r->name, r->name);
		return;
	}
	if (r->mode == DISCOVERY_CXL_PMEM && r->nd_region[0] == '\0') {
		discovery_msg(r->reason, sizeof(r->reason), "%s: pmem region "
		    "without a libnvdimm region (is cxl_pmem loaded? ndctl "
		    "list -R)", r->name);
		return;
	}
	/*
	 * Seen on Linux 6.1: re-enabling a CXL region, or making a new one
	 * on a memdev whose labels still hold a namespace, brings the
	 * libnvdimm region back disabled, and ndctl enable-region fails.
	 */
	if (r->mode == DISCOVERY_CXL_PMEM && !r->nd_enabled) {
		discovery_msg(r->reason, sizeof(r->reason), "%s: its "
		    "libnvdimm region %s is disabled: ndctl enable-region %s, "
		    "then rescan (if it stays disabled, see the CXL section "
		    "of the operator guide)", r->name, r->nd_region,
		    r->nd_region);
		return;
	}
	if (r->devices[0] != '\0') {
		r->state = DISCOVERY_USABLE;
		return;
	}
	if (r->mode == DISCOVERY_CXL_PMEM) {
		r->state = DISCOVERY_CANDIDATE;
		discovery_msg(r->reason, sizeof(r->reason), "%s has no "
		    "namespace: ndctl create-namespace -r %s -m devdax (kmem) "
		    "or -m fsdax, then rescan", r->name, r->nd_region);
	} else if (r->mode == DISCOVERY_CXL_RAM)
		discovery_msg(r->reason, sizeof(r->reason), "%s: ram region "
		    "without a dax device (is the dax_cxl module loaded? "
		    "daxctl list -R)", r->name);
	else
		discovery_msg(r->reason, sizeof(r->reason), "%s: unknown "
		    "region type", r->name);
}

void
discovery_cxl_decide(struct discovery_cxl *c)
{
	size_t	i;

	for (i = 0; i < c->nmemdev; i++)
		discovery_cxl_memdev_decide(c, &c->memdev[i]);
	for (i = 0; i < c->nregion; i++)
		discovery_cxl_region_decide(&c->region[i]);
}

int
discovery_cxl_memdev_describe(const struct discovery_cxl_memdev *m,
    char *buf, size_t len)
{
	return snprintf(buf, len, "%s host=%s bus=%s port=%s endpoint=%s "
	    "serial=%llu ram=%llu pmem=%llu numa_node=%d enabled=%d "
	    "decoders=%s regions=%s want=%s state=%s%s%s", m->name,
	    m->host[0] ? m->host : "-", m->bus[0] ? m->bus : "-",
	    m->port[0] ? m->port : "-", m->endpoint[0] ? m->endpoint : "-",
	    (unsigned long long)m->serial, (unsigned long long)m->ram_size,
	    (unsigned long long)m->pmem_size, m->numa_node, m->enabled,
	    m->decoders[0] ? m->decoders : "-",
	    m->regions[0] ? m->regions : "-",
	    m->want != DISCOVERY_CXL_NONE ? discovery_cxl_mode_name(m->want) :
	    "-", discovery_state_name(m->state),
	    m->reason[0] ? " reason=" : "", m->reason);
}

int
discovery_cxl_decoder_describe(const struct discovery_cxl_decoder *d,
    char *buf, size_t len)
{
	return snprintf(buf, len, "%s bus=%s resource=0x%llx size=%llu "
	    "pmem_capable=%d ram_capable=%d targets=%d locked=%d", d->name,
	    d->bus, (unsigned long long)d->resource,
	    (unsigned long long)d->size, d->pmem_capable, d->ram_capable,
	    d->nr_targets, d->locked);
}

int
discovery_cxl_region_describe(const struct discovery_cxl_region *r,
    char *buf, size_t len)
{
	return snprintf(buf, len, "%s decoder=%s type=%s resource=0x%llx "
	    "size=%llu ways=%d enabled=%d committed=%d memdevs=%s "
	    "nd_region=%s%s devices=%s target_node=%d state=%s%s%s", r->name,
	    r->decoder, r->mode != DISCOVERY_CXL_NONE ?
	    discovery_cxl_mode_name(r->mode) : "-",
	    (unsigned long long)r->resource, (unsigned long long)r->size,
	    r->ways, r->enabled, r->committed,
	    r->memdevs[0] ? r->memdevs : "-",
	    r->nd_region[0] ? r->nd_region : "-",
	    r->nd_region[0] && !r->nd_enabled ? "(disabled)" : "",
	    r->devices[0] ? r->devices : "-", r->target_node,
	    discovery_state_name(r->state), r->reason[0] ? " reason=" : "",
	    r->reason);
}
