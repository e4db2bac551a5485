/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to discovery.c and discovery_kmem.c: what both need from each
 * other, kept out of discovery.h so the daemon sees only the interface.
 */
#ifndef PMEMTIERD_DISCOVERY_INT_H
#define PMEMTIERD_DISCOVERY_INT_H

#include <stdarg.h>
#include <stddef.h>

struct daxctl_ctx;
struct cxl_ctx;

/* The last message libndctl/libdaxctl logged (they never print). */
struct discovery_liblog {
	char	last[256];
};

/* The dax mount option. Without one, ext4 and xfs behave as dax=inode. */
enum discovery_dax_opt {
	DISCOVERY_DAX_NONE,	/* no dax option */
	DISCOVERY_DAX_NEVER,	/* dax=never */
	DISCOVERY_DAX_INODE,	/* dax=inode: the inode's attribute decides */
	DISCOVERY_DAX_ALWAYS,	/* dax or dax=always */
};

struct discovery_mount {
	char			path[256];
	char			fstype[16];
	int			readonly;
	int			whole;	/* mount of the filesystem's root */
	enum discovery_dax_opt	dax;
};

void	discovery_liblog_set(struct discovery_liblog *, const char *fmt,
	    va_list ap) __attribute__((format(printf, 2, 0)));
void	discovery_daxctl_quiet(struct daxctl_ctx *, struct discovery_liblog *);
void	discovery_cxl_quiet(struct cxl_ctx *, struct discovery_liblog *);
void	discovery_msg(char *msg, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	discovery_read_attr(const char *path, char *buf, size_t len);
/*
 * Where the block device maj:min is mounted, from /proc/self/mountinfo
 * (_in: from a file in that format, for tests). A mount of the
 * filesystem's root is preferred over bind mounts of a subdirectory.
 * 1 found, 0 not mounted, -errno.
 */
int	discovery_mount_find(unsigned int maj, unsigned int min,
	    struct discovery_mount *);
int	discovery_mount_find_in(const char *path, unsigned int maj,
	    unsigned int min, struct discovery_mount *);

#endif /* PMEMTIERD_DISCOVERY_INT_H */
