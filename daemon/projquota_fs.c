/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel side of project quotas (projquota.h), with no daemon state,
 * so that it can run off the event loop: quotactl_fd(2) on a descriptor
 * of the filesystem (no device path needed, and the same calls work on
 * xfs and ext4), FS_IOC_FSSETXATTR on a lease file the daemon owns; a
 * client, not the owner, cannot move it out.
 */
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/quota.h>

#include "projquota.h"

/* quotactl_fd(2) on project quotas; -1 with errno set on failure. */
static int
projquota_ctl(int fd, unsigned cmd, uint32_t id, void *addr)
{
#ifdef SYS_quotactl_fd
	return (int)syscall(SYS_quotactl_fd, (unsigned)fd,
	    (unsigned)QCMD(cmd, PRJQUOTA), id, addr);
#else
	errno = ENOSYS;
	return -1;
#endif
}

int
projquota_set_file(int fd, uint32_t projid)
{
	struct fsxattr	fa;

	if (ioctl(fd, FS_IOC_FSGETXATTR, &fa) != 0)
		return -errno;
	fa.fsx_projid = projid;
	if (ioctl(fd, FS_IOC_FSSETXATTR, &fa) != 0)
		return -errno;
	return 0;
}

int
projquota_fs_check(int dirfd, uint32_t testid, char *why, size_t len)
{
	struct fs_quota_statv	qs;
	struct fsxattr		fa;
	int			fd, rc;

	memset(&qs, 0, sizeof(qs));
	qs.qs_version = FS_QSTATV_VERSION1;
	if (projquota_ctl(dirfd, Q_XGETQSTATV, 0, &qs) != 0) {
		rc = -errno;
		snprintf(why, len, "no quota state from the filesystem "
		    "(quotactl_fd: %s%s)", strerror(errno), errno == ENOSYS ?
		    "; quotas are off on it, or the kernel predates Linux "
		    "5.14" : "");
		return rc;
	}
	if (!(qs.qs_flags & FS_QUOTA_PDQ_ACCT) ||
	    !(qs.qs_flags & FS_QUOTA_PDQ_ENFD)) {
		snprintf(why, len, "project quota accounting is %s and "
		    "enforcement %s on the filesystem",
		    qs.qs_flags & FS_QUOTA_PDQ_ACCT ? "on" : "off",
		    qs.qs_flags & FS_QUOTA_PDQ_ENFD ? "on" : "off");
		return -EOPNOTSUPP;
	}
	fd = openat(dirfd, ".", O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, len, "cannot make a test file: %s",
		    strerror(errno));
		return rc;
	}
	if ((rc = projquota_set_file(fd, testid)) == 0 &&
	    (ioctl(fd, FS_IOC_FSGETXATTR, &fa) != 0 ||
	    fa.fsx_projid != testid))
		rc = -EOPNOTSUPP;
	close(fd);
	if (rc != 0)
		snprintf(why, len, "a file cannot be moved into project %u "
		    "(FS_IOC_FSSETXATTR: %s)", testid, strerror(-rc));
	return rc;
}

int
projquota_set_limit(int fd, uint32_t projid, uint64_t kib)
{
	struct if_dqblk	dq;

	memset(&dq, 0, sizeof(dq));
	dq.dqb_bhardlimit = kib;
	dq.dqb_valid = QIF_BLIMITS;
	return projquota_ctl(fd, Q_SETQUOTA, projid, &dq) != 0 ? -errno : 0;
}

int
projquota_usage(int fd, uint32_t projid, uint64_t *used, uint64_t *hard)
{
	struct if_dqblk	dq;

	memset(&dq, 0, sizeof(dq));
	if (projquota_ctl(fd, Q_GETQUOTA, projid, &dq) != 0)
		return -errno;
	*used = dq.dqb_curspace;
	*hard = dq.dqb_valid & QIF_BLIMITS ?
	    dq.dqb_bhardlimit * QIF_DQBLKSIZE : 0;
	return 0;
}

int
projquota_exhausted(int fd, uint32_t projid, uint64_t need)
{
	uint64_t	used, hard;

	if (projid == 0 || projquota_usage(fd, projid, &used, &hard) != 0 ||
	    hard == 0)
		return 0;
	return used >= hard || need > hard - used;
}

int
projquota_fallocate(int fd, uint64_t size)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	cap[_LINUX_CAPABILITY_U32S_3];
	uint32_t			bit = CAP_TO_MASK(CAP_SYS_RESOURCE);
	int				i = CAP_TO_INDEX(CAP_SYS_RESOURCE);
	int				had, rc;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;	/* the calling thread */
	had = syscall(SYS_capget, &hdr, cap) == 0 &&
	    (cap[i].effective & bit) != 0;
	if (had) {
		cap[i].effective &= ~bit;
		/* Not allocating at all beats allocating past the limit. */
		if (syscall(SYS_capset, &hdr, cap) != 0)
			return errno;
	}
	rc = posix_fallocate(fd, 0, (off_t)size);
	if (had) {
		cap[i].effective |= bit;
		(void)syscall(SYS_capset, &hdr, cap);
	}
	return rc;
}
