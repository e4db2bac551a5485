/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CXL discovery: walks libcxl's view (bus -> root port -> root decoders ->
 * regions, and the memdevs with their endpoints) into the plain structs of
 * discovery_cxl.h, then finds what libnvdimm/device-dax made of each
 * region. The decisions are in discovery_cxl_decide.c.
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cxl/libcxl.h>
#include <ndctl/libndctl.h>
#include <daxctl/libdaxctl.h>

#include "discovery.h"
#include "discovery_cxl.h"
#include "discovery_int.h"

struct cxl_scan {
	struct discovery_cxl	*c;
	size_t			 cap_memdev, cap_decoder, cap_region;
};

static void cxl_log(struct cxl_ctx *, int, const char *, int, const char *,
	    const char *, va_list) __attribute__((format(printf, 6, 0)));

static void
cxl_log(struct cxl_ctx *ctx, int prio, const char *file, int line,
    const char *fn, const char *fmt, va_list ap)
{
	struct discovery_liblog	*l = cxl_get_userdata(ctx);

	if (l != NULL)
		discovery_liblog_set(l, fmt, ap);
}

void
discovery_cxl_quiet(struct cxl_ctx *ctx, struct discovery_liblog *l)
{
	cxl_set_userdata(ctx, l);
	cxl_set_log_fn(ctx, cxl_log);
	cxl_set_log_priority(ctx, 3);	/* LOG_ERR */
}

static void
cxl_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* Appends name to a space-separated list, once; a full list stays as is. */
static void
cxl_list_add(char *list, size_t len, const char *name)
{
	size_t	n = strlen(list), k = strlen(name);
	char	*p;

	for (p = list; (p = strstr(p, name)) != NULL; p += k)
		if ((p == list || p[-1] == ' ') && (p[k] == ' ' ||
		    p[k] == '\0'))
			return;
	if (n + (n > 0) + k + 1 > len)
		return;
	snprintf(list + n, len - n, "%s%s", n > 0 ? " " : "", name);
}

static void *
cxl_grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void	*p;
	size_t	 ncap;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 4;
	if ((p = reallocarray(arr, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

static int
cxl_scan_memdev(struct cxl_scan *s, struct cxl_memdev *md)
{
	struct discovery_cxl		*c = s->c;
	struct discovery_cxl_memdev	*m, *arr;
	struct cxl_endpoint		*ep;
	struct cxl_port			*parent;

	arr = cxl_grow(c->memdev, &s->cap_memdev, c->nmemdev, sizeof(*arr));
	if (arr == NULL)
		return -ENOMEM;
	c->memdev = arr;
	m = &c->memdev[c->nmemdev++];
	memset(m, 0, sizeof(*m));
	cxl_copy(m->name, sizeof(m->name), cxl_memdev_get_devname(md));
	cxl_copy(m->host, sizeof(m->host), cxl_memdev_get_host(md));
	if (cxl_memdev_get_bus(md) != NULL)
		cxl_copy(m->bus, sizeof(m->bus),
		    cxl_bus_get_devname(cxl_memdev_get_bus(md)));
	m->serial = cxl_memdev_get_serial(md);
	m->ram_size = cxl_memdev_get_ram_size(md);
	m->pmem_size = cxl_memdev_get_pmem_size(md);
	m->numa_node = cxl_memdev_get_numa_node(md);
	m->enabled = cxl_memdev_is_enabled(md) > 0;
	if ((ep = cxl_memdev_get_endpoint(md)) != NULL) {
		cxl_copy(m->endpoint, sizeof(m->endpoint),
		    cxl_endpoint_get_devname(ep));
		m->endpoint_enabled = cxl_endpoint_is_enabled(ep) > 0;
		if ((parent = cxl_endpoint_get_parent(ep)) != NULL)
			cxl_copy(m->port, sizeof(m->port),
			    cxl_port_get_devname(parent));
	}
	return 0;
}

/* Reads regionN/mode (kernels from 6.3 have it); NONE when absent. */
static enum discovery_cxl_mode
cxl_region_sysfs_mode(const char *name)
{
	enum discovery_cxl_mode	mode = DISCOVERY_CXL_NONE;
	char			path[128], buf[16];

	snprintf(path, sizeof(path), "/sys/bus/cxl/devices/%s/mode", name);
	if (discovery_read_attr(path, buf, sizeof(buf)) == 0)
		(void)discovery_cxl_mode_parse(buf, &mode);
	if (mode == DISCOVERY_CXL_NONE) {
		/* 6.1 has no mode attribute, but only a pmem region a uuid. */
		snprintf(path, sizeof(path), "/sys/bus/cxl/devices/%s/uuid",
		    name);
		if (discovery_read_attr(path, buf, sizeof(buf)) == 0)
			mode = DISCOVERY_CXL_PMEM;
	}
	return mode;
}

static int
cxl_scan_region(struct cxl_scan *s, struct cxl_decoder *root,
    struct cxl_region *cr)
{
	struct discovery_cxl		*c = s->c;
	struct discovery_cxl_region	*r, *arr;
	struct cxl_memdev_mapping	*map;
	struct cxl_decoder		*ed;
	struct cxl_memdev		*md;
	enum discovery_cxl_mode		 emode = DISCOVERY_CXL_NONE;

	arr = cxl_grow(c->region, &s->cap_region, c->nregion, sizeof(*arr));
	if (arr == NULL)
		return -ENOMEM;
	c->region = arr;
	r = &c->region[c->nregion++];
	memset(r, 0, sizeof(*r));
	r->target_node = -1;
	cxl_copy(r->name, sizeof(r->name), cxl_region_get_devname(cr));
	cxl_copy(r->decoder, sizeof(r->decoder), cxl_decoder_get_devname(root));
	r->resource = cxl_region_get_resource(cr);
	r->size = cxl_region_get_size(cr);
	r->ways = (int)cxl_region_get_interleave_ways(cr);
	r->enabled = cxl_region_is_enabled(cr) > 0;
	r->committed = cxl_region_decode_is_committed(cr) > 0;
	cxl_mapping_foreach(cr, map) {
		ed = cxl_mapping_get_decoder(map);
		if (ed == NULL)
			continue;
		r->nr_mappings++;
		if (cxl_decoder_get_mode(ed) == CXL_DECODER_MODE_PMEM)
			emode = DISCOVERY_CXL_PMEM;
		else if (cxl_decoder_get_mode(ed) == CXL_DECODER_MODE_RAM)
			emode = DISCOVERY_CXL_RAM;
		if ((md = cxl_decoder_get_memdev(ed)) != NULL)
			cxl_list_add(r->memdevs, sizeof(r->memdevs),
			    cxl_memdev_get_devname(md));
	}
	r->mode = cxl_region_sysfs_mode(r->name);
	if (r->mode == DISCOVERY_CXL_NONE)
		r->mode = emode;
	return 0;
}

static int
cxl_scan_decoder(struct cxl_scan *s, struct cxl_bus *bus,
    struct cxl_decoder *dec)
{
	struct discovery_cxl		*c = s->c;
	struct discovery_cxl_decoder	*d, *arr;
	struct cxl_region		*cr;
	int				 rc;

	arr = cxl_grow(c->decoder, &s->cap_decoder, c->ndecoder, sizeof(*arr));
	if (arr == NULL)
		return -ENOMEM;
	c->decoder = arr;
	d = &c->decoder[c->ndecoder++];
	memset(d, 0, sizeof(*d));
	cxl_copy(d->name, sizeof(d->name), cxl_decoder_get_devname(dec));
	cxl_copy(d->bus, sizeof(d->bus), cxl_bus_get_devname(bus));
	d->resource = cxl_decoder_get_resource(dec);
	d->size = cxl_decoder_get_size(dec);
	d->pmem_capable = cxl_decoder_is_pmem_capable(dec);
	d->ram_capable = cxl_decoder_is_volatile_capable(dec);
	d->nr_targets = cxl_decoder_get_nr_targets(dec);
	d->locked = cxl_decoder_is_locked(dec);
	cxl_region_foreach(dec, cr)
		if ((rc = cxl_scan_region(s, dec, cr)) < 0)
			return rc;
	return 0;
}

/* Which root decoders reach which memdev, and which regions hold it. */
static void
cxl_link(struct discovery_cxl *c, struct cxl_ctx *ctx)
{
	struct cxl_memdev	*md;
	struct cxl_decoder	*dec;
	size_t			 i, m = 0;

	cxl_memdev_foreach(ctx, md) {
		struct discovery_cxl_memdev	*dm = &c->memdev[m++];

		for (i = 0; i < c->ndecoder; i++) {
			dec = cxl_decoder_get_by_name(ctx, c->decoder[i].name);
			if (dec != NULL &&
			    cxl_decoder_get_target_by_memdev(dec, md) != NULL)
				cxl_list_add(dm->decoders, sizeof(dm->decoders),
				    c->decoder[i].name);
		}
		if (m == c->nmemdev)
			break;
	}
	for (i = 0; i < c->nregion; i++) {
		char	copy[DISCOVERY_CXL_LIST_MAX], *tok, *save = NULL;

		snprintf(copy, sizeof(copy), "%s", c->region[i].memdevs);
		for (tok = strtok_r(copy, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			struct discovery_cxl_memdev *dm = (struct
			    discovery_cxl_memdev *)discovery_cxl_memdev_find(c,
			    tok);

			if (dm != NULL)
				cxl_list_add(dm->regions, sizeof(dm->regions),
				    c->region[i].name);
		}
	}
}

/* The devices of one active namespace: dax devices or the block device. */
static void
cxl_nd_namespace(struct discovery_cxl_region *r, struct ndctl_namespace *ns)
{
	struct ndctl_dax	*dax;
	struct ndctl_pfn	*pfn;
	struct daxctl_region	*dr;
	struct daxctl_dev	*dd;
	const char		*bdev;

	if (!ndctl_namespace_is_active(ns))
		return;
	if ((dax = ndctl_namespace_get_dax(ns)) != NULL &&
	    (dr = ndctl_dax_get_daxctl_region(dax)) != NULL) {
		daxctl_dev_foreach(dr, dd) {
			if (daxctl_dev_get_size(dd) == 0)
				continue;
			cxl_list_add(r->devices, sizeof(r->devices),
			    daxctl_dev_get_devname(dd));
			if (r->target_node < 0)
				r->target_node = daxctl_dev_get_target_node(dd);
		}
		return;
	}
	pfn = ndctl_namespace_get_pfn(ns);
	bdev = pfn != NULL ? ndctl_pfn_get_block_device(pfn) :
	    ndctl_namespace_get_block_device(ns);
	cxl_list_add(r->devices, sizeof(r->devices), bdev != NULL &&
	    bdev[0] != '\0' ? bdev : ndctl_namespace_get_devname(ns));
}

/*
 * A pmem region's libnvdimm region is the one at the same physical
 * address (cxl_pmem registers it on the CXL nvdimm bridge's bus).
 */
static int
cxl_nd_regions(struct discovery_cxl *c, struct discovery_liblog *l)
{
	struct ndctl_ctx	*nctx;
	struct ndctl_bus	*bus;
	struct ndctl_region	*nr;
	struct ndctl_namespace	*ns;
	size_t			 i;
	int			 rc;

	if ((rc = ndctl_new(&nctx)) < 0)
		return rc;
	discovery_daxctl_quiet(ndctl_get_daxctl_ctx(nctx), l);
	ndctl_set_log_priority(nctx, 0);
	ndctl_bus_foreach(nctx, bus) {
		ndctl_region_foreach(bus, nr) {
			for (i = 0; i < c->nregion; i++) {
				struct discovery_cxl_region *r = &c->region[i];

				if (r->mode != DISCOVERY_CXL_PMEM ||
				    ndctl_region_get_resource(nr) != r->resource)
					continue;
				cxl_copy(r->nd_region, sizeof(r->nd_region),
				    ndctl_region_get_devname(nr));
				r->nd_enabled = ndctl_region_is_enabled(nr);
				r->target_node =
				    ndctl_region_get_target_node(nr);
				ndctl_namespace_foreach(nr, ns)
					cxl_nd_namespace(r, ns);
			}
		}
	}
	ndctl_unref(nctx);
	return 0;
}

/* A ram region's dax devices: regionN/dax_regionN/daxX.Y in sysfs. */
static void
cxl_ram_devices(struct discovery_cxl_region *r)
{
	glob_t	g;
	char	pat[160], path[200], buf[16];
	size_t	i;

	snprintf(pat, sizeof(pat), "/sys/bus/cxl/devices/%s/dax_region*/dax*",
	    r->name);
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		const char	*base = strrchr(g.gl_pathv[i], '/') + 1;

		if (strncmp(base, "dax_region", 10) == 0)
			continue;
		cxl_list_add(r->devices, sizeof(r->devices), base);
		snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/"
		    "target_node", base);
		if (r->target_node < 0 &&
		    discovery_read_attr(path, buf, sizeof(buf)) == 0)
			r->target_node = atoi(buf);
	}
	globfree(&g);
}

int
discovery_cxl_scan(struct discovery_cxl **out, char *msg, size_t msglen)
{
	struct discovery_liblog	 l = { "" };
	struct cxl_scan		 s;
	struct cxl_ctx		*ctx;
	struct cxl_bus		*bus;
	struct cxl_port		*root;
	struct cxl_decoder	*dec;
	struct cxl_memdev	*md;
	size_t			 i;
	int			 rc = 0, nbus = 0;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	if ((s.c = calloc(1, sizeof(*s.c))) == NULL)
		return -ENOMEM;
	if ((rc = cxl_new(&ctx)) < 0) {
		discovery_msg(msg, msglen, "discovery: libcxl: %s",
		    strerror(-rc));
		free(s.c);
		return rc;
	}
	discovery_cxl_quiet(ctx, &l);

	cxl_memdev_foreach(ctx, md)
		if ((rc = cxl_scan_memdev(&s, md)) < 0)
			goto out;
	cxl_bus_foreach(ctx, bus) {
		nbus++;
		if ((root = cxl_bus_get_port(bus)) == NULL)
			continue;
		cxl_decoder_foreach(root, dec)
			if ((rc = cxl_scan_decoder(&s, bus, dec)) < 0)
				goto out;
	}
	cxl_link(s.c, ctx);
	if (s.c->nregion > 0 && (rc = cxl_nd_regions(s.c, &l)) < 0)
		goto out;
	for (i = 0; i < s.c->nregion; i++)
		if (s.c->region[i].mode == DISCOVERY_CXL_RAM)
			cxl_ram_devices(&s.c->region[i]);
	if (nbus == 0)
		discovery_msg(s.c->note, sizeof(s.c->note), "no CXL bus: no "
		    "CXL memory, or the cxl_acpi module is not loaded");
	else if (s.c->nmemdev == 0)
		discovery_msg(s.c->note, sizeof(s.c->note), "a CXL bus but no "
		    "memory device: is the cxl_pci/cxl_mem module loaded?");
out:
	cxl_unref(ctx);
	if (rc < 0) {
		discovery_msg(msg, msglen, "discovery: CXL: %s%s%s",
		    strerror(-rc), l.last[0] ? ": " : "", l.last);
		discovery_cxl_free(s.c);
		return rc;
	}
	*out = s.c;
	return 0;
}

void
discovery_cxl_free(struct discovery_cxl *c)
{
	if (c == NULL)
		return;
	free(c->memdev);
	free(c->decoder);
	free(c->region);
	free(c);
}
