/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discovery of NVDIMM namespaces (libndctl) and dax devices (libdaxctl),
 * and the one reconfiguration pmemtierd may do to them: onlining a devdax
 * device as system RAM (KMEM). The daemon turns the result into tiers and
 * shows every device, used or not, with the reason, in Status.
 *
 * Nothing here prints, exits or keeps global state. Functions return 0 (or
 * a count) on success and a negative errno on failure, with a sentence in
 * the caller's message buffer that names the device and what to do.
 *
 * Proposed configuration keys (the daemon parses them; documented in
 * docs/operator-guide.md):
 *
 *   [discovery]
 *   enable  = yes            ; discover at start, on SIGHUP and on rescan
 *                            ; (default no)
 *   include = pmem* dax1.*   ; globs over device names (see
 *                            ; discovery_dev_matches); none = every device
 *   exclude = dax0.0         ; globs; exclude wins over include
 *   fsdax   = yes            ; DAX-mounted fsdax namespaces become tiers
 *   kmem    = yes            ; dax devices already in system-ram mode
 *                            ; (CXL, hmem, onlined earlier) become tiers
 *
 *   [device dax0.1]          ; one section per device: a dax device,
 *                            ; namespace, block device or namespace name
 *   online  = yes            ; devdax only: reconfigure to system-ram and
 *                            ; online its memory (default no: opt-in,
 *                            ; irreversible until reboot in practice)
 *   movable = yes            ; online into ZONE_MOVABLE (default yes);
 *                            ; no = ZONE_NORMAL (kernel allocations too)
 *   tier    = pmem-fast      ; tier name (default: discovery_tier_name())
 *   capacity = 512M          ; cap below the device's size / free space
 *   default = no             ; this tier serves requests without a name
 *   ignore  = yes            ; never use this device (same as exclude)
 *
 * How the daemon is meant to use it (at start, SIGHUP, RescanRequest):
 *
 *   discovery_scan(&d, ...);
 *   for each dev (skipping include/exclude/ignore misses):
 *     DISCOVERY_CANDIDATE with [device] online = yes:
 *       discovery_online_kmem(dev->daxdev, {movable}, msg) and log msg
 *       (info on success, warning on refusal: the daemon keeps going);
 *   if anything was onlined, discovery_scan() again;
 *   for each dev:
 *     USABLE FSDAX -> tier backend fsdax, path = dev->mount (the lease
 *                     directory goes under it), name = [device] tier or
 *                     discovery_tier_name(), capacity = [device] capacity
 *                     or the filesystem's size;
 *     USABLE KMEM  -> tier backend kmem, node = dev->target_node,
 *                     capacity = dev->online_bytes (kmem onlines whole
 *                     blocks: less than dev->size);
 *     otherwise    -> log discovery_dev_describe() (it has the reason)
 *                     and show it in Status.
 *   A tier already configured by hand on the same mount (st_dev) or node
 *   wins over the discovered one.
 */
#ifndef PMEMTIERD_DISCOVERY_H
#define PMEMTIERD_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#define DISCOVERY_NAME_MAX	64
#define DISCOVERY_PATH_MAX	256
#define DISCOVERY_REASON_MAX	320

enum discovery_kind {
	DISCOVERY_FSDAX,	/* fsdax namespace: a pmem block device */
	DISCOVERY_DEVDAX,	/* dax device in devdax mode */
	DISCOVERY_KMEM,		/* dax device in system-ram mode */
	DISCOVERY_OTHER,	/* raw or sector namespace: never a tier */
};

enum discovery_state {
	DISCOVERY_USABLE,	/* can back a tier as it is */
	DISCOVERY_CANDIDATE,	/* devdax: becomes kmem if the config opts in */
	DISCOVERY_SKIPPED,	/* cannot be used now; reason says why */
};

struct discovery_dev {
	/*
	 * The device's primary name: the dax device ("dax0.1") for devdax
	 * and kmem, the block device ("pmem0", "pmem0.1") for fsdax, the
	 * namespace otherwise.
	 */
	char			 name[DISCOVERY_NAME_MAX];
	char			 bus[DISCOVERY_NAME_MAX];	/* "ndbus0", "" */
	char			 region[DISCOVERY_NAME_MAX];	/* "region0", "dax1" */
	char			 ns[DISCOVERY_NAME_MAX];	/* "namespace0.1", "" */
	char			 ns_name[DISCOVERY_NAME_MAX];	/* ndctl -n NAME, "" */
	char			 blockdev[DISCOVERY_NAME_MAX];	/* fsdax: "pmem0" */
	char			 daxdev[DISCOVERY_NAME_MAX];	/* "dax0.1" */
	char			 mode[16];	/* fsdax devdax system-ram raw sector */
	enum discovery_kind	 kind;
	enum discovery_state	 state;
	uint64_t		 size;		/* bytes usable by the mode */
	int			 numa_node;	/* node of the CPUs near it; -1 */
	int			 target_node;	/* node its memory is/would be */

	/* fsdax */
	unsigned int		 dev_major, dev_minor;
	char			 mount[DISCOVERY_PATH_MAX];	/* "" = not mounted */
	char			 fstype[16];
	int			 dax_active;	/* 1: DAX really in effect */

	/* kmem */
	int			 mem_blocks;	/* memory blocks of the device */
	int			 mem_online;	/* of which online */
	uint64_t		 online_bytes;	/* bytes online: a kmem
						 * tier's real capacity */
	int			 movable;	/* 1: online in ZONE_MOVABLE */

	/* What is wrong or what to do; "" when usable with nothing to say. */
	char			 reason[DISCOVERY_REASON_MAX];
};

struct discovery {
	struct discovery_dev	*dev;
	size_t			 ndev;
	/* Overall remark ("no NVDIMM bus: is the nfit module loaded?"), "". */
	char			 note[DISCOVERY_REASON_MAX];
};

/*
 * Enumerates NVDIMM buses, regions and active namespaces (seed namespaces
 * are skipped), then the dax devices not backed by an NVDIMM namespace
 * (hmem, CXL). For fsdax finds the mount from /proc/self/mountinfo and
 * whether DAX is in effect there; for dax devices the mode, target node
 * and online memory. Makes no change to any device. An empty result is
 * not an error. Returns 0 and *out (free with discovery_free), or -errno.
 */
int	discovery_scan(struct discovery **out, char *msg, size_t msglen);
void	discovery_free(struct discovery *);
/* The device matching name (see discovery_dev_matches), or NULL. */
const struct discovery_dev *discovery_find(const struct discovery *,
	    const char *name);

/*
 * 1 when the glob pattern matches any of the device's names: name,
 * namespace, namespace name, block device, dax device. 0 otherwise.
 */
int	discovery_dev_matches(const struct discovery_dev *, const char *pattern);

/* The default tier name: the namespace name if set, else "fsdax-pmem0",
 * "kmem-node2" ... Returns snprintf's count. */
int	discovery_tier_name(const struct discovery_dev *, char *buf, size_t len);

/* One line for logs and tests: name, mode, size, node, mount, state, reason. */
int	discovery_dev_describe(const struct discovery_dev *, char *buf,
	    size_t len);
const char *discovery_kind_name(enum discovery_kind);
const char *discovery_state_name(enum discovery_state);

/*
 * Whether files created in dir get DAX: 1 yes, 0 no (msg says why), or
 * -errno when it cannot be told (dir not writable ...). Creates an
 * unnamed O_TMPFILE and checks STATX_ATTR_DAX, or, on kernels without that
 * attribute, that it maps with MAP_SYNC.
 */
int	discovery_probe_dax(const char *dir, char *msg, size_t msglen);

struct discovery_online_opts {
	int	movable;	/* 1 (default): ZONE_MOVABLE, 0: ZONE_NORMAL */
};

/*
 * Reconfigures the devdax device daxdev ("dax0.1") to system-ram and
 * onlines its memory. Refuses, changing nothing, when: the device does
 * not exist or is not a dax device (-ENODEV), the kernel auto-onlines
 * hotplugged memory (-EBUSY), a process has the device open or mapped
 * (-EBUSY), the kmem driver is not available (-ENOENT). When a step after
 * the first change fails, puts the device back in devdax mode before
 * returning. A device already in system-ram mode only gets its offline
 * blocks onlined. Returns the NUMA node the memory is on (>= 0), or -errno.
 */
int	discovery_online_kmem(const char *daxdev,
	    const struct discovery_online_opts *, char *msg, size_t msglen);

#endif /* PMEMTIERD_DISCOVERY_H */
