/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device discovery glue: turns what daemon/discovery.c finds into tiers
 * at start, on SIGHUP and on RescanRequest. fsdax namespaces mounted with
 * DAX in effect become fsdax tiers (the file backend on the DAX mount);
 * dax devices in system-ram mode become kmem tiers on their node; devdax
 * devices are onlined first when their [device] section says online = yes.
 * A tier written in the config file wins over a discovered one on the
 * same filesystem or node. Without the discovery module linked, rescans
 * change nothing and succeed.
 */
#ifndef PMEMTIERD_RESCAN_H
#define PMEMTIERD_RESCAN_H

#include <stddef.h>

#include "pmemtierd.h"

/*
 * Scans (when conf->disc.enable) and appends a discovered tier_conf to
 * conf->tiers for each usable device, after dropping the discovered ones
 * already there. Problems are logged; returns the number of tiers added.
 */
int	rescan_extend(struct pmtd_config *conf);

#endif /* PMEMTIERD_RESCAN_H */
