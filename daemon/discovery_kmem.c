/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Onlining a devdax device as system RAM (the kernel's dax kmem driver):
 * the one change discovery makes to hardware, and only when the config
 * opts in for that device. Memory once onlined is in practice there until
 * reboot (offlining needs every page migrated away), so every refusal is
 * decided before the first change, and a failure after it puts the device
 * back in devdax mode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <daxctl/libdaxctl.h>

#include "discovery.h"
#include "discovery_int.h"

#define KMEM_AUTO_ONLINE	"/sys/devices/system/memory/auto_online_blocks"

static struct daxctl_dev *
kmem_find_dev(struct daxctl_ctx *ctx, const char *name)
{
	struct daxctl_region	*dr;
	struct daxctl_dev	*dd;

	daxctl_region_foreach(ctx, dr) {
		daxctl_dev_foreach(dr, dd) {
			if (strcmp(daxctl_dev_get_devname(dd), name) == 0)
				return dd;
		}
	}
	return NULL;
}

/*
 * With an auto-online policy the kernel onlines the blocks itself as soon
 * as kmem adds them, into a zone pmemtierd did not choose, racing with us.
 */
static int
kmem_check_policy(const char *name, char *msg, size_t msglen)
{
	char	buf[64];

	if (discovery_read_attr(KMEM_AUTO_ONLINE, buf, sizeof(buf)) < 0)
		return 0;	/* no memory hotplug sysfs: enable_ram says so */
	if (strncmp(buf, "online", 6) != 0)
		return 0;
	discovery_msg(msg, msglen, "%s: refused: the kernel auto-onlines "
	    "hotplugged memory (%s is '%s') and would online it itself, in a "
	    "zone of its choosing; write 'offline' there (or boot with "
	    "memhp_default_state=offline) and rescan", name,
	    KMEM_AUTO_ONLINE, buf);
	return -EBUSY;
}

/* The pid of a process holding the character device open, or mapping it
 * (a mapping outlives the fd); 0 when none. */
static pid_t
kmem_dev_user(const char *name, dev_t rdev)
{
	struct dirent	*de, *fe;
	struct stat	 st;
	DIR		*proc, *fds;
	FILE		*fp;
	char		 path[300], line[512];
	size_t		 nl = strlen(name);
	pid_t		 pid, found = 0;

	if ((proc = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (de = readdir(proc)) != NULL) {
		if ((pid = (pid_t)strtol(de->d_name, NULL, 10)) <= 0 ||
		    pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		if ((fds = opendir(path)) != NULL) {
			while ((fe = readdir(fds)) != NULL) {
				snprintf(path, sizeof(path), "/proc/%d/fd/%s",
				    (int)pid, fe->d_name);
				if (fe->d_name[0] != '.' &&
				    stat(path, &st) == 0 &&
				    S_ISCHR(st.st_mode) && st.st_rdev == rdev) {
					found = pid;
					break;
				}
			}
			closedir(fds);
		}
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
		if (found != 0 || (fp = fopen(path, "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL) {
			size_t	n = strcspn(line, "\n");

			line[n] = '\0';
			if (n > nl && line[n - nl - 1] == '/' &&
			    strcmp(line + n - nl, name) == 0) {
				found = pid;
				break;
			}
		}
		fclose(fp);
	}
	closedir(proc);
	return found;
}

/*
 * 1 when the module index in dir names kmem.ko (maybe compressed) and,
 * for modules.dep, the file it names exists: libdaxctl would otherwise
 * disable the device before finding out it cannot load the driver.
 */
static int
kmem_index_has(const char *dir, const char *index, int check_file)
{
	FILE	*fp;
	char	 path[600], line[512];
	int	 found = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, index);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, ":\n")] = '\0';
		if (strstr(line, "/dax/kmem.ko") == NULL)
			continue;
		if (!check_file)
			found = 1;
		else {
			if (line[0] == '/')
				snprintf(path, sizeof(path), "%s", line);
			else
				snprintf(path, sizeof(path), "%s/%s", dir, line);
			found = access(path, R_OK) == 0;
		}
	}
	fclose(fp);
	return found;
}

/* The kmem driver is loaded, built in, or loadable (libdaxctl loads it). */
static int
kmem_check_driver(const char *name, char *msg, size_t msglen)
{
	struct utsname	u;
	char		dir[300];

	if (access("/sys/bus/dax/drivers/kmem", F_OK) == 0)
		return 0;
	if (uname(&u) == 0) {
		snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
		if (kmem_index_has(dir, "modules.dep", 1) ||
		    kmem_index_has(dir, "modules.builtin", 0))
			return 0;
	}
	discovery_msg(msg, msglen, "%s: refused: the dax kmem driver is not "
	    "available (not loaded, and no kmem module for this kernel in "
	    "/lib/modules: CONFIG_DEV_DAX_KMEM)", name);
	return -ENOENT;
}

/* Back to devdax mode after a failed step; says so in msg if it can't. */
static void
kmem_restore(struct daxctl_dev *dd, int was_enabled, char *msg, size_t msglen)
{
	struct daxctl_memory	*mem;
	size_t			 n = msg != NULL ? strlen(msg) : 0;
	char			*tail = msg != NULL ? msg + n : NULL;
	size_t			 tlen = msg != NULL ? msglen - n : 0;

	if ((mem = daxctl_dev_get_memory(dd)) != NULL &&
	    daxctl_memory_is_online(mem) > 0 &&
	    daxctl_memory_offline(mem) < 0) {
		discovery_msg(tail, tlen, "; could not offline its "
		    "memory again, it stays in system-ram mode until reboot");
		return;
	}
	if (daxctl_dev_disable(dd) < 0 ||
	    (was_enabled && daxctl_dev_enable_devdax(dd) < 0))
		discovery_msg(tail, tlen, "; could not put it back in "
		    "devdax mode (daxctl reconfigure-device -m devdax %s)",
		    daxctl_dev_get_devname(dd));
}

/* Says what is online where; returns the node (0 if the kernel has none). */
static int
kmem_report(struct daxctl_dev *dd, struct daxctl_memory *mem, char *msg,
    size_t msglen)
{
	unsigned long	bs = daxctl_memory_get_block_size(mem);
	int		on = daxctl_memory_is_online(mem);
	int		node = daxctl_dev_get_target_node(dd);

	discovery_msg(msg, msglen, "%s: %d of %d memory blocks (%lu MiB) "
	    "online%s on node %d", daxctl_dev_get_devname(dd), on,
	    daxctl_memory_num_sections(mem), (unsigned long)on * (bs >> 20),
	    daxctl_memory_is_movable(mem) > 0 ? " movable" : "", node);
	return node < 0 ? 0 : node;
}

/* Onlines the offline blocks of a system-ram device. Returns the node. */
static int
kmem_online_mem(struct daxctl_dev *dd, const struct discovery_online_opts *o,
    struct discovery_liblog *l, char *msg, size_t msglen)
{
	struct daxctl_memory	*mem;
	const char		*name = daxctl_dev_get_devname(dd);
	int			 rc, on;

	if ((mem = daxctl_dev_get_memory(dd)) == NULL) {
		discovery_msg(msg, msglen, "%s: no memory object after enabling "
		    "system-ram mode%s%s", name, l->last[0] ? ": " : "", l->last);
		return -ENXIO;
	}
	rc = o->movable ? daxctl_memory_online(mem) :
	    daxctl_memory_online_no_movable(mem);
	on = daxctl_memory_is_online(mem);
	if (rc < 0 || on <= 0) {
		discovery_msg(msg, msglen, "%s: onlining its memory failed: %s",
		    name, l->last[0] ? l->last : strerror(rc < 0 ? -rc : EIO));
		return rc < 0 ? rc : -EIO;
	}
	return kmem_report(dd, mem, msg, msglen);
}

int
discovery_online_kmem(const char *name, const struct discovery_online_opts *o,
    char *msg, size_t msglen)
{
	struct discovery_online_opts	 defo = { .movable = 1 };
	struct discovery_liblog		 l = { "" };
	struct daxctl_ctx		*ctx;
	struct daxctl_dev		*dd;
	struct daxctl_memory		*mem;
	pid_t				 user;
	int				 rc, was_enabled;

	if (o == NULL)
		o = &defo;
	if ((rc = daxctl_new(&ctx)) < 0) {
		discovery_msg(msg, msglen, "%s: libdaxctl: %s", name,
		    strerror(-rc));
		return rc;
	}
	discovery_daxctl_quiet(ctx, &l);
	if ((dd = kmem_find_dev(ctx, name)) == NULL) {
		discovery_msg(msg, msglen, "%s: refused: no such dax device "
		    "(see daxctl list)", name);
		rc = -ENODEV;
		goto out;
	}
	/* Already all online (onlined earlier, CXL, hmem): nothing to do,
	 * whatever the auto-online policy. */
	if ((mem = daxctl_dev_get_memory(dd)) != NULL &&
	    daxctl_memory_num_sections(mem) > 0 &&
	    daxctl_memory_is_online(mem) == daxctl_memory_num_sections(mem)) {
		rc = kmem_report(dd, mem, msg, msglen);
		goto out;
	}
	if ((rc = kmem_check_policy(name, msg, msglen)) < 0)
		goto out;
	/* System-ram with blocks offline: online the rest. */
	if (mem != NULL) {
		rc = kmem_online_mem(dd, o, &l, msg, msglen);
		goto out;
	}
	user = kmem_dev_user(name, makedev(daxctl_dev_get_major(dd),
	    daxctl_dev_get_minor(dd)));
	if (user != 0) {
		discovery_msg(msg, msglen, "%s: refused: device busy: process "
		    "%d has it open or mapped", name, (int)user);
		rc = -EBUSY;
		goto out;
	}
	if ((rc = kmem_check_driver(name, msg, msglen)) < 0)
		goto out;

	was_enabled = daxctl_dev_is_enabled(dd);
	if (was_enabled && (rc = daxctl_dev_disable(dd)) < 0) {
		discovery_msg(msg, msglen, "%s: refused: cannot disable the "
		    "devdax device: %s", name, l.last[0] ? l.last :
		    strerror(-rc));
		goto out;
	}
	if ((rc = daxctl_dev_enable_ram(dd)) < 0) {
		discovery_msg(msg, msglen, "%s: enabling system-ram mode failed: "
		    "%s", name, l.last[0] ? l.last : strerror(-rc));
		kmem_restore(dd, was_enabled, msg, msglen);
		goto out;
	}
	if ((rc = kmem_online_mem(dd, o, &l, msg, msglen)) < 0)
		kmem_restore(dd, was_enabled, msg, msglen);
out:
	daxctl_unref(ctx);
	return rc;
}
