/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CXL discovery (libcxl): the memory devices (Type-3 expanders), the root
 * decoders (the platform's CXL memory windows) and the regions built over
 * them, with the libnvdimm region and the namespaces/dax devices under a
 * pmem region. It makes no change to any device.
 *
 * The scan copies what libcxl says into the plain structs below and drops
 * the library context, as discovery.c does. What a device can be used for,
 * and why not, is decided afterwards by pure functions over those structs
 * (discovery_cxl_decide), so the decisions are unit-tested on data
 * captured from a real (emulated) device without hardware.
 *
 * A CXL device reaches the tiers through what is under its region: a pmem
 * region gives a libnvdimm region whose devdax/fsdax namespaces
 * discovery_scan() already finds; a ram region gives dax devices (hmem
 * path). This module tells the operator which memdev/region they come
 * from and what is missing when nothing comes.
 *
 * Functions return 0 (or a count) on success and a negative errno on
 * failure, with a sentence in the caller's message buffer.
 */
#ifndef PMEMTIERD_DISCOVERY_CXL_H
#define PMEMTIERD_DISCOVERY_CXL_H

#include <stddef.h>
#include <stdint.h>

#include "discovery.h"

#define DISCOVERY_CXL_LIST_MAX	128	/* space-separated names */

/* A region type, and the mode a [device memN] region = ... asks for. */
enum discovery_cxl_mode {
	DISCOVERY_CXL_NONE,	/* none asked / unknown */
	DISCOVERY_CXL_PMEM,
	DISCOVERY_CXL_RAM,
};

struct discovery_cxl_memdev {
	char			 name[DISCOVERY_NAME_MAX];	/* "mem0" */
	char			 host[DISCOVERY_NAME_MAX];	/* PCI "0000:0d:00.0" */
	char			 bus[DISCOVERY_NAME_MAX];	/* "root0" */
	char			 port[DISCOVERY_NAME_MAX];	/* "port1": the
								 * endpoint's parent */
	char			 endpoint[DISCOVERY_NAME_MAX];	/* "endpoint2", "" */
	uint64_t		 serial;
	uint64_t		 ram_size;
	uint64_t		 pmem_size;
	int			 numa_node;
	int			 enabled;	/* cxl_mem driver bound */
	int			 endpoint_enabled;
	/* Root decoders whose targets reach this memdev, "decoder0.0 ...". */
	char			 decoders[DISCOVERY_CXL_LIST_MAX];
	/* Regions it is mapped into, "region0 ...". */
	char			 regions[DISCOVERY_CXL_LIST_MAX];

	/* Input to the decision: what the config asks for. */
	enum discovery_cxl_mode	 want;
	/* Output of the decision. */
	enum discovery_state	 state;
	char			 reason[DISCOVERY_REASON_MAX];
	/* CANDIDATE: the root decoder a region would be made through. */
	char			 root[DISCOVERY_NAME_MAX];
};

struct discovery_cxl_decoder {
	char			 name[DISCOVERY_NAME_MAX];	/* "decoder0.0" */
	char			 bus[DISCOVERY_NAME_MAX];	/* "root0" */
	uint64_t		 resource;
	uint64_t		 size;
	int			 pmem_capable;
	int			 ram_capable;
	int			 nr_targets;
	int			 locked;
};

struct discovery_cxl_region {
	char			 name[DISCOVERY_NAME_MAX];	/* "region0" */
	char			 decoder[DISCOVERY_NAME_MAX];	/* root "decoder0.0" */
	enum discovery_cxl_mode	 mode;
	uint64_t		 resource;
	uint64_t		 size;
	int			 ways;
	int			 enabled;	/* cxl_region driver bound */
	int			 committed;	/* decode_state commit */
	int			 nr_mappings;	/* endpoint decoders mapped */
	char			 memdevs[DISCOVERY_CXL_LIST_MAX];	/* "mem0" */
	/* pmem: the libnvdimm region over it ("region1"), "" when none. */
	char			 nd_region[DISCOVERY_NAME_MAX];
	int			 nd_enabled;	/* that region is enabled */
	/* The devices under it: "dax0.0 pmem0.1" (active namespaces' dax and
	 * block devices, or a ram region's dax devices). */
	char			 devices[DISCOVERY_CXL_LIST_MAX];
	int			 target_node;

	enum discovery_state	 state;
	char			 reason[DISCOVERY_REASON_MAX];
};

struct discovery_cxl {
	struct discovery_cxl_memdev	*memdev;
	size_t				 nmemdev;
	struct discovery_cxl_decoder	*decoder;	/* root decoders */
	size_t				 ndecoder;
	struct discovery_cxl_region	*region;
	size_t				 nregion;
	/* Overall remark ("no CXL bus: ..."), "". */
	char				 note[DISCOVERY_REASON_MAX];
};

/*
 * Enumerates memdevs, root decoders and regions (libcxl), and for each
 * region the libnvdimm region and devices under it (libndctl, matched by
 * physical address; sysfs for a ram region's dax devices). Decides
 * nothing: states are left SKIPPED until discovery_cxl_decide(). No CXL
 * bus is not an error (note says so). Returns 0 and *out (free with
 * discovery_cxl_free), or -errno.
 */
int	discovery_cxl_scan(struct discovery_cxl **out, char *msg,
	    size_t msglen);
void	discovery_cxl_free(struct discovery_cxl *);

/*
 * Pure decisions over a scan: fills state and reason of every memdev
 * (from its want) and region. A memdev is USABLE when it is in a region,
 * CANDIDATE when a region can be made on it (capacity in the mode wanted,
 * or in some mode when none is asked, and a root decoder that reaches it
 * and can map that mode), SKIPPED otherwise. A region is USABLE when it is
 * committed, enabled and has devices under it, CANDIDATE when it only
 * lacks a namespace, SKIPPED otherwise. Reasons name the object and the
 * command that fixes it.
 */
void	discovery_cxl_decide(struct discovery_cxl *);
void	discovery_cxl_memdev_decide(const struct discovery_cxl *,
	    struct discovery_cxl_memdev *);
void	discovery_cxl_region_decide(struct discovery_cxl_region *);

const struct discovery_cxl_decoder *discovery_cxl_decoder_find(
	    const struct discovery_cxl *, const char *name);
const struct discovery_cxl_memdev *discovery_cxl_memdev_find(
	    const struct discovery_cxl *, const char *name);

/*
 * Makes a pmem region over all of memdev's pmem capacity (rounded down to
 * 256 MiB) through root decoder root, commits and enables it, and puts
 * its name in region. Refuses (-EBUSY) when the memdev has no free
 * endpoint decoder, -EOPNOTSUPP for ram. On failure takes down what it
 * made. 0 or -errno, msg says what happened either way.
 */
int	discovery_cxl_create_region(const char *memdev, const char *root,
	    enum discovery_cxl_mode, char *region, size_t regionlen,
	    char *msg, size_t msglen);
/*
 * A devdax namespace named name over the free space of libnvdimm region
 * nd_region (ndctl create-namespace). 0 or -errno with msg.
 */
int	discovery_cxl_create_namespace(const char *nd_region, const char *name,
	    char *msg, size_t msglen);

/* "pmem", "ram", "" and back; -1 from parse for anything else. */
const char *discovery_cxl_mode_name(enum discovery_cxl_mode);
int	discovery_cxl_mode_parse(const char *, enum discovery_cxl_mode *);

/* One line each for logs and tests. Return snprintf's count. */
int	discovery_cxl_memdev_describe(const struct discovery_cxl_memdev *,
	    char *buf, size_t len);
int	discovery_cxl_decoder_describe(const struct discovery_cxl_decoder *,
	    char *buf, size_t len);
int	discovery_cxl_region_describe(const struct discovery_cxl_region *,
	    char *buf, size_t len);

#endif /* PMEMTIERD_DISCOVERY_CXL_H */
