/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hard limits on file leases with filesystem project quotas ([tier]
 * enforce = project-quota; docs/security.md, docs/operator-guide.md).
 */
#ifndef PMEMTIERD_PROJQUOTA_H
#define PMEMTIERD_PROJQUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "pmemtierd.h"

/*
 * The kernel side (projquota_fs.c): these use nothing but their arguments
 * and may run off the event loop. fd is any descriptor on the filesystem.
 *
 * Checks that project quotas are both accounted and enforced on the
 * filesystem of dirfd, and that a file made there can be moved into
 * project testid. 0, or -errno with why saying what is wrong.
 */
int	projquota_fs_check(int dirfd, uint32_t testid, char *why, size_t len);
/* Puts the file fd into project projid (FS_IOC_FSSETXATTR). 0 or -errno. */
int	projquota_set_file(int fd, uint32_t projid);
/*
 * posix_fallocate(fd, 0, size) held to the project's limit: ext4 (the
 * generic quota code) lets a caller with CAP_SYS_RESOURCE past any limit,
 * and a daemon run as root has it. It leaves the calling thread's
 * effective set for the call (capabilities are per thread). 0 or an errno
 * value, as posix_fallocate.
 */
int	projquota_fallocate(int fd, uint64_t size);
/* Sets projid's hard block limit to kib KiB (0: none). 0 or -errno. */
int	projquota_set_limit(int fd, uint32_t projid, uint64_t kib);
/* Bytes projid's files take, and its hard limit (0: none). 0 or -errno. */
int	projquota_usage(int fd, uint32_t projid, uint64_t *used,
	    uint64_t *hard);
/*
 * After an allocation in project projid failed with ENOSPC (how xfs
 * reports an exhausted project): would need more bytes pass the project's
 * hard limit? 1 yes, 0 no or cannot tell.
 */
int	projquota_exhausted(int fd, uint32_t projid, uint64_t need);

#endif /* PMEMTIERD_PROJQUOTA_H */
