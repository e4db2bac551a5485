/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kmem backend: a lease is a memfd, sized, whose shared memory policy
 * binds its pages to the tier's NUMA node, then sealed against growing
 * (the daemon keeps the right to truncate it). The policy is set with mbind() on a short-lived mapping in the
 * daemon: for shmem the policy belongs to the object, so every process that
 * maps the fd later allocates on the node.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tier.h"

#ifndef MPOL_BIND
#define MPOL_BIND	2
#endif

static int
tier_kmem_open(struct tier *t)
{
	char		path[64];
	struct stat	st;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", t->node);
	if (stat(path, &st) != 0) {
		log_warnx("tier %s: NUMA node %d does not exist", t->name,
		    t->node);
		return -ENODEV;
	}
	t->path[0] = '\0';
	return 0;
}

static void
tier_kmem_close(struct tier *t)
{
}

static int
tier_kmem_bind(struct tier *t, int fd, uint64_t size)
{
	unsigned long	 mask[4096 / (8 * sizeof(unsigned long))];
	void		*p;
	int		 rc = 0;

	memset(mask, 0, sizeof(mask));
	mask[t->node / (8 * sizeof(unsigned long))] |=
	    1UL << (t->node % (8 * sizeof(unsigned long)));
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (syscall(SYS_mbind, p, size, MPOL_BIND, mask,
	    sizeof(mask) * 8, 0) != 0)
		rc = -errno;
	munmap(p, size);
	return rc;
}

/*
 * projid: kmem tiers have no filesystem (config.c refuses the key).
 * fill: a memfd's pages come as they are touched; nothing to back ahead.
 */
static int
tier_kmem_alloc(struct tier *t, uint64_t size, uint64_t fill, uint32_t projid,
    int *fdp, uint64_t devino[2])
{
	int	fd, rc;

	fd = memfd_create("pmemtier-lease", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = tier_kmem_bind(t, fd, size)) != 0)
		goto fail;
	/*
	 * Sealed against growth, not shrinking: the daemon truncates the
	 * memfd to 0 when the lease ends, which frees its pages in every
	 * process that kept it, and nobody can make it grow again.
	 */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		rc = -errno;
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

const struct tier_ops tier_kmem_ops = {
	.name = "kmem",
	.sealed = 1,
	.open = tier_kmem_open,
	.close = tier_kmem_close,
	.alloc = tier_kmem_alloc,
};
