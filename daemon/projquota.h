/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hard limits on file leases with filesystem project quotas ([tier]
 * enforce = project-quota; docs/security.md, docs/operator-guide.md).
 *
 * Each quota bucket (quota.h) granted a lease on such a tier gets a project
 * of its own on the tier's filesystem: the first time, the id after the
 * highest one the daemon gave out on that filesystem (any tier), or the
 * tier's project_base if higher. The ids are kept in memory for the life
 * of the daemon; a restart hands them out afresh. Each lease file is put in
 * its bucket's project before its blocks are allocated, and the project's
 * hard block limit is the bucket's rule limit plus 1 MiB of headroom for
 * the filesystem's own blocks (rounded up to the KiB the kernel counts in,
 * at most the filesystem's size), so growing a lease past it fails in the
 * kernel (EDQUOT; ENOSPC on xfs), and so does a grant when the bucket's
 * files already take it.
 *
 * A bucket without a rule gets id 0 from projquota_prepare: its files stay
 * in whatever project the directory gives them (normally 0), limited only
 * by the tier's capacity and the audit, as on an audit tier.
 *
 * Limits follow the rules: projquota_prepare sets a project's limit when
 * it differs from the one last set, and projquota_refresh does it for all
 * projects after a reload or a runtime rule change. A bucket that lost its
 * rule keeps its project's last limit for the leases it has (new ones go to
 * id 0). When the daemon stops the limits stay where they are: files that
 * clients still hold stay limited.
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

/* The bucket map (projquota.c), on the event loop. */

/*
 * Before a grant on t to pr, on the event loop: *projid gets the project
 * of pr's bucket, its limit set from the rule in force; 0 when t does not
 * enforce project quotas or no rule applies. 0, or -1 with err set (the
 * limit could not be set: the grant must be refused, not made unlimited).
 */
int	projquota_prepare(struct tier *t, const struct principal *pr,
	    uint32_t *projid, char *err, size_t errlen);
/* The message for a grant of size the filesystem refused in projid. */
void	projquota_refusal(const struct tier *t, uint32_t projid,
	    uint64_t size, char *msg, size_t len);
/* Sets every project's limit from the rules now in force. */
void	projquota_refresh(void);
/* Forgets every project (the limits stay on the filesystems). */
void	projquota_fini(void);

#endif /* PMEMTIERD_PROJQUOTA_H */
