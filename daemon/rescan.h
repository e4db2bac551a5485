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
};

/*
 * Scans (when conf->disc.enable) and appends a discovered tier_conf to
 * conf->tiers for each usable device, after dropping the discovered ones
 * already there. Problems are logged; returns the number of tiers added.
 */
int	rescan_extend(struct pmtd_config *conf);
/* The devices of the last scan (n = 0 when discovery is off). */
const struct rescan_dev *rescan_devices(size_t *n);
/* "tier", "onlined", "skipped". */
const char *rescan_state_name(enum rescan_state);

#endif /* PMEMTIERD_RESCAN_H */
