/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device discovery glue: turns what daemon/discovery.c finds into tiers
 * at start, on SIGHUP and on RescanRequest. fsdax namespaces mounted with
 * DAX in effect become fsdax tiers (the file backend on the DAX mount);
 * dax devices in system-ram mode become kmem tiers on their node; devdax
 * devices are onlined first when their [device] section says online = yes.
 * A tier written in the config file wins over a discovered one on the
 * same filesystem or node. Discovered tiers serve requests that name no
 * tier only when their [device] section says default = yes. Without the
 * discovery module linked, rescans change nothing and succeed.
 *
 * Every device of the last scan is kept, with what became of it, for
 * Status and TierList (status.c).
 */
#ifndef PMEMTIERD_RESCAN_H
#define PMEMTIERD_RESCAN_H

#include <stddef.h>
#include <stdint.h>

#include "pmemtierd.h"

enum rescan_state {
	RESCAN_SKIPPED,		/* backs no tier; reason says why */
	RESCAN_TIER,		/* backs tier `tier` */
	RESCAN_ONLINED,		/* this daemon onlined it; backs tier `tier` */
};

/* One device of the last scan, as the daemon used it. */
struct rescan_dev {
	char			 name[64];
	char			 ns[64];
	char			 ns_name[64];
	char			 region[64];
	char			 mode[16];
	char			 blockdev[64];
	char			 daxdev[64];
	char			 mount[256];
	char			 fstype[16];
	uint64_t		 size;
	uint64_t		 online_bytes;
	int			 numa_node;
	int			 target_node;
	int			 dax;
	enum rescan_state	 state;
	char			 tier[PMTD_NAME_MAX];
	char			 reason[512];
	char			 cxl_region[64];	/* "region0" when carved
							 * from a CXL region */
};

/*
 * One CXL object of the last scan (a memdev, a root decoder or a
 * region), flattened for Status and TierList; see CxlInfo in
 * proto/pmemtier.proto for the fields.
 */
struct rescan_cxl {
	char			 kind[8];	/* memdev decoder region */
	char			 name[64];
	char			 mode[16];
	uint64_t		 size;
	uint64_t		 ram_size;
	uint64_t		 pmem_size;
	char			 state[16];
	char			 regions[128];
	char			 decoders[128];
	char			 memdevs[128];
	char			 nd_region[64];
	char			 devices[128];
	char			 host[64];
	char			 port[64];
	char			 bus[64];
	uint64_t		 serial;
	int			 enabled;
	int			 committed;
	int			 target_node;
	int			 provisioned;	/* region made by this daemon */
	char			 reason[512];
};

/*
 * Scans (when conf->disc.enable) and appends a discovered tier_conf to
 * conf->tiers for each usable device, after dropping the discovered ones
 * already there. Problems are logged; returns the number of tiers added.
 */
int	rescan_extend(struct pmtd_config *conf);
/* The devices of the last scan (n = 0 when discovery is off). */
const struct rescan_dev *rescan_devices(size_t *n);
/* The CXL memdevs, root decoders and regions of the last scan. */
const struct rescan_cxl *rescan_cxl_objects(size_t *n);
/*
 * The CXL part of rescan_extend (rescan_cxl.c): scans memdevs, root
 * decoders and regions, logs them, keeps them for rescan_cxl_objects()
 * and tags devs (the NVDIMM/dax devices of the same rescan) with the CXL
 * region they come from.
 */
void	rescan_cxl(const struct pmtd_config *, struct rescan_dev *devs,
	    size_t ndevs);
/*
 * Provisioning, before the scans (rescan_cxl.c): for each memdev whose
 * [device] section says region = pmem, makes a pmem region when it is in
 * none, and a devdax namespace named after the memdev in each of its
 * regions that has none (an existing region is used as it is). Never
 * destroys a region or namespace. 1 if anything changed.
 */
int	rescan_cxl_provision(const struct pmtd_config *);
/* "tier", "onlined", "skipped". */
const char *rescan_state_name(enum rescan_state);

#endif /* PMEMTIERD_RESCAN_H */
