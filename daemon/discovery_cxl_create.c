/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two changes pmemtierd may make to a CXL device, each opt-in through
 * [device memN] region = pmem (rescan_cxl.c decides when):
 *
 *   discovery_cxl_create_region()   a one-way pmem region over all of a
 *                                   memdev's pmem capacity (libcxl, the
 *                                   steps `cxl create-region` takes);
 *   discovery_cxl_create_namespace() a devdax namespace over a whole empty
 *                                   libnvdimm region, named after the
 *                                   memdev (`ndctl create-namespace`).
 *
 * Neither destroys anything it did not make: a region is only made on a
 * memdev in no region, a namespace only in a region with none; when a
 * step after the first fails, what this call made is taken down again.
 *
 * The namespace goes through the ndctl program rather than libndctl:
 * making one by the library means re-doing ndctl's label, seed, pfn/dax
 * and alignment handling (several hundred lines in ndctl/namespace.c)
 * that the CLI already does right for every kernel it supports.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cxl/libcxl.h>

#include "discovery.h"
#include "discovery_cxl.h"
#include "discovery_int.h"

extern char **environ;

/* A region's size is a multiple of 256 MiB per interleave way (Linux). */
#define CXL_REGION_ALIGN	(256ULL << 20)

static struct cxl_memdev *
cxl_find_memdev(struct cxl_ctx *ctx, const char *name)
{
	struct cxl_memdev	*md;

	cxl_memdev_foreach(ctx, md)
		if (strcmp(cxl_memdev_get_devname(md), name) == 0)
			return md;
	return NULL;
}

/* The first endpoint decoder with no capacity allocated: decoders are
 * allocated in order, so any later one is free too. */
static struct cxl_decoder *
cxl_free_endpoint_decoder(struct cxl_memdev *md)
{
	struct cxl_endpoint	*ep = cxl_memdev_get_endpoint(md);
	struct cxl_decoder	*d;

	if (ep == NULL)
		return NULL;
	cxl_decoder_foreach(cxl_endpoint_get_port(ep), d)
		if (cxl_decoder_get_dpa_size(d) == 0 &&
		    cxl_decoder_get_region(d) == NULL)
			return d;
	return NULL;
}

static int
cxl_random_uuid(uuid_t uu)
{
	if (getrandom(uu, sizeof(uuid_t), 0) != (ssize_t)sizeof(uuid_t))
		return -errno;
	uu[6] = (uu[6] & 0x0f) | 0x40;	/* version 4 */
	uu[8] = (uu[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	return 0;
}

int
discovery_cxl_create_region(const char *memdev, const char *root,
    enum discovery_cxl_mode mode, char *region, size_t regionlen,
    char *msg, size_t msglen)
{
	struct discovery_liblog	 l = { "" };
	struct cxl_ctx		*ctx;
	struct cxl_memdev	*md;
	struct cxl_decoder	*rd, *ed;
	struct cxl_region	*r = NULL;
	unsigned long long	 size;
	unsigned int		 gran;
	const char		*step;
	uuid_t			 uu;
	int			 rc;

	if (mode != DISCOVERY_CXL_PMEM) {
		discovery_msg(msg, msglen, "%s: only pmem regions can be made "
		    "by this build (libcxl 76 has no ram region creation); a "
		    "ram region made by firmware is used as it is", memdev);
		return -EOPNOTSUPP;
	}
	if ((rc = cxl_new(&ctx)) < 0) {
		discovery_msg(msg, msglen, "%s: libcxl: %s", memdev,
		    strerror(-rc));
		return rc;
	}
	discovery_cxl_quiet(ctx, &l);
	rc = -ENODEV;
	if ((md = cxl_find_memdev(ctx, memdev)) == NULL) {
		discovery_msg(msg, msglen, "%s: no such CXL memdev", memdev);
		goto out;
	}
	if ((rd = cxl_decoder_get_by_name(ctx, root)) == NULL) {
		discovery_msg(msg, msglen, "%s: no root decoder %s", memdev,
		    root);
		goto out;
	}
	rc = -EBUSY;
	if ((ed = cxl_free_endpoint_decoder(md)) == NULL) {
		discovery_msg(msg, msglen, "%s: no free endpoint decoder "
		    "(cxl list -D -m %s): its capacity is already mapped",
		    memdev, memdev);
		goto out;
	}
	size = cxl_memdev_get_pmem_size(md) / CXL_REGION_ALIGN *
	    CXL_REGION_ALIGN;
	rc = -ENOSPC;
	if (size == 0) {
		discovery_msg(msg, msglen, "%s: less than 256 MiB of pmem "
		    "capacity, too small for a region", memdev);
		goto out;
	}
	gran = cxl_decoder_get_interleave_granularity(rd);
	if (gran == 0 || gran == UINT_MAX)
		gran = 256;

	/* The sysfs sequence of cxl create-region, one interleave way. */
	step = "create";
	rc = -ENXIO;
	if ((r = cxl_decoder_create_pmem_region(rd)) == NULL)
		goto fail;
	step = "uuid";
	if ((rc = cxl_random_uuid(uu)) < 0 ||
	    (rc = cxl_region_set_uuid(r, uu)) < 0)
		goto fail;
	step = "interleave";
	if ((rc = cxl_region_set_interleave_granularity(r, gran)) < 0 ||
	    (rc = cxl_region_set_interleave_ways(r, 1)) < 0)
		goto fail;
	step = "endpoint decoder";
	if ((rc = cxl_decoder_set_mode(ed, CXL_DECODER_MODE_PMEM)) < 0 ||
	    (rc = cxl_decoder_set_dpa_size(ed, size)) < 0)
		goto fail;
	step = "size";
	if ((rc = cxl_region_set_size(r, size)) < 0)
		goto fail;
	step = "target";
	if ((rc = cxl_region_set_target(r, 0, ed)) < 0)
		goto fail;
	step = "commit";
	if ((rc = cxl_region_decode_commit(r)) < 0)
		goto fail;
	step = "enable";
	if ((rc = cxl_region_enable(r)) < 0)
		goto fail;
	snprintf(region, regionlen, "%s", cxl_region_get_devname(r));
	discovery_msg(msg, msglen, "%s: made pmem region %s (%llu MiB) "
	    "through %s", memdev, region, size >> 20, root);
	rc = 0;
	goto out;
fail:
	discovery_msg(msg, msglen, "%s: making a pmem region through %s "
	    "failed at %s: %s%s%s", memdev, root, step,
	    strerror(rc < 0 ? -rc : EIO), l.last[0] ? ": " : "", l.last);
	/* Take down only what this call made. */
	if (r != NULL) {
		(void)cxl_region_decode_reset(r);
		(void)cxl_region_clear_all_targets(r);
		(void)cxl_region_delete(r);
	}
	if (cxl_decoder_get_dpa_size(ed) != 0)
		(void)cxl_decoder_set_dpa_size(ed, 0);
	if (rc >= 0)
		rc = -EIO;
out:
	cxl_unref(ctx);
	return rc;
}

/* Runs argv (no shell), its output to /dev/null; its exit status, or
 * -errno when it cannot run. */
static int
cxl_run(char *const argv[])
{
	posix_spawn_file_actions_t	fa;
	pid_t				pid;
	int				rc, st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	    O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -rc;
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
discovery_cxl_create_namespace(const char *nd_region, const char *name,
    char *msg, size_t msglen)
{
	char	*argv[] = { "ndctl", "create-namespace", "-m", "devdax",
		    "-r", (char *)nd_region, "-n", (char *)name, NULL };
	int	 rc;

	rc = cxl_run(argv);
	if (rc < 0) {
		discovery_msg(msg, msglen, "%s: cannot run ndctl: %s (install "
		    "ndctl)", nd_region, strerror(-rc));
		return rc;
	}
	if (rc != 0) {
		discovery_msg(msg, msglen, "%s: ndctl create-namespace -m "
		    "devdax -r %s -n %s exited %d (run it by hand to see why)",
		    nd_region, nd_region, name, rc);
		return -EIO;
	}
	discovery_msg(msg, msglen, "%s: made devdax namespace %s", nd_region,
	    name);
	return 0;
}
