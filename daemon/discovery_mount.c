/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where an fsdax block device is mounted (/proc/self/mountinfo) and whether
 * files there really get DAX (a probe file). Both are read, never
 * changed: the daemon does not mount or format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discovery.h"
#include "discovery_int.h"

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX	0x00200000
#endif

static void
mnt_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

/* Octal escapes (\040 for a space) of mountinfo paths, in place. */
static void
mnt_unescape(char *s)
{
	char	*o = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/* Folds one comma-separated option list into m. */
static void
mnt_opts(char *opts, struct discovery_mount *m)
{
	char	*o, *save = NULL;

	for (o = strtok_r(opts, ",", &save); o != NULL;
	    o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "ro") == 0)
			m->readonly = 1;
		else if (strcmp(o, "dax") == 0 || strcmp(o, "dax=always") == 0)
			m->dax = DISCOVERY_DAX_ALWAYS;
		else if (strcmp(o, "dax=inode") == 0)
			m->dax = DISCOVERY_DAX_INODE;
		else if (strcmp(o, "dax=never") == 0)
			m->dax = DISCOVERY_DAX_NEVER;
	}
}

/*
 * Parses one mountinfo line: "id parent maj:min root mountpoint opts
 * [optional fields] - fstype source superopts". 1 when it is a mount of
 * maj:min, filling m.
 */
static int
mnt_line(char *line, unsigned int maj, unsigned int min,
    struct discovery_mount *m)
{
	char		*f[6], *fstype, *super, *save = NULL, *t;
	unsigned int	 ma, mi;
	int		 i;

	for (i = 0; i < 6; i++)
		if ((f[i] = strtok_r(i ? NULL : line, " \n", &save)) == NULL)
			return 0;
	if (sscanf(f[2], "%u:%u", &ma, &mi) != 2 || ma != maj || mi != min)
		return 0;
	while ((t = strtok_r(NULL, " \n", &save)) != NULL && strcmp(t, "-") != 0)
		;
	if (t == NULL || (fstype = strtok_r(NULL, " \n", &save)) == NULL ||
	    strtok_r(NULL, " \n", &save) == NULL ||
	    (super = strtok_r(NULL, " \n", &save)) == NULL)
		return 0;
	memset(m, 0, sizeof(*m));
	mnt_unescape(f[3]);
	mnt_unescape(f[4]);
	m->whole = strcmp(f[3], "/") == 0;
	mnt_copy(m->path, sizeof(m->path), f[4]);
	mnt_copy(m->fstype, sizeof(m->fstype), fstype);
	m->dax = DISCOVERY_DAX_NONE;
	mnt_opts(f[5], m);
	mnt_opts(super, m);
	return 1;
}

/*
 * Where the block device maj:min is mounted. Prefers a mount of the
 * filesystem's root over bind mounts of a subdirectory; the first one wins.
 * 1 found, 0 not mounted, -errno.
 */
int
discovery_mount_find(unsigned int maj, unsigned int min,
    struct discovery_mount *m)
{
	return discovery_mount_find_in("/proc/self/mountinfo", maj, min, m);
}

int
discovery_mount_find_in(const char *path, unsigned int maj, unsigned int min,
    struct discovery_mount *m)
{
	struct discovery_mount	 cur;
	FILE			*fp;
	char			*line = NULL;
	size_t			 cap = 0;
	int			 found = 0;

	if ((fp = fopen(path, "re")) == NULL)
		return -errno;
	while (getline(&line, &cap, fp) != -1) {
		if (!mnt_line(line, maj, min, &cur))
			continue;
		if (!found || (cur.whole && !m->whole))
			*m = cur;
		found = 1;
		if (m->whole)
			break;
	}
	free(line);
	fclose(fp);
	return found;
}

int
discovery_probe_dax(const char *dir, char *msg, size_t msglen)
{
	struct statx	 stx;
	void		*p;
	long		 pg = sysconf(_SC_PAGESIZE);
	int		 fd, rc;

	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1) {
		rc = -errno;
		discovery_msg(msg, msglen, "cannot create a probe file in %s: "
		    "%s", dir, strerror(-rc));
		return rc;
	}
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_DAX)) {
		close(fd);
		if (stx.stx_attributes & STATX_ATTR_DAX)
			return 1;
		discovery_msg(msg, msglen, "statx reports no DAX on a new file "
		    "in %s", dir);
		return 0;
	}
	/* Kernels before 5.8 lack the attribute: a MAP_SYNC mapping is only
	 * allowed on DAX files. */
	if (ftruncate(fd, pg) == -1) {
		rc = -errno;
		close(fd);
		discovery_msg(msg, msglen, "probe file in %s: %s", dir,
		    strerror(-rc));
		return rc;
	}
	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	rc = p != MAP_FAILED;
	if (rc)
		munmap(p, (size_t)pg);
	else
		discovery_msg(msg, msglen, "MAP_SYNC mapping of a file in %s "
		    "fails: %s", dir, strerror(errno));
	close(fd);
	return rc;
}
