/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discovery: what NVDIMM namespaces and dax devices the machine has, what
 * each can be used for, and why not when it cannot. libndctl walks the
 * NVDIMM side (bus -> region -> namespace), libdaxctl the dax devices,
 * discovery_mount.c says where an fsdax block device is mounted and
 * whether DAX is really in effect there.
 *
 * A scan copies everything it needs into plain structs and drops the
 * library contexts: the daemon keeps results across reloads, and a fresh
 * context per scan sees devices created since the last one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ndctl/libndctl.h>
#include <daxctl/libdaxctl.h>

#include "discovery.h"
#include "discovery_int.h"

static int	disc_push(struct discovery *, size_t *, struct discovery_dev **);
static void	disc_fsdax(struct discovery_dev *);
static void	disc_daxdev(struct discovery_dev *, struct daxctl_dev *);
static int	disc_namespace(struct discovery *, size_t *,
		    struct ndctl_region *, struct ndctl_namespace *);
static int	disc_dax_regions(struct discovery *, size_t *,
		    struct daxctl_ctx *);

/* Library log messages are kept, not printed: the last error goes into the
 * caller's message where it explains a failure. */
/* fmt comes from the library, which checks it against its arguments. */
static void disc_ndctl_log(struct ndctl_ctx *, int, const char *, int,
	    const char *, const char *, va_list)
	    __attribute__((format(printf, 6, 0)));
static void disc_daxctl_log(struct daxctl_ctx *, int, const char *, int,
	    const char *, const char *, va_list)
	    __attribute__((format(printf, 6, 0)));

static void
disc_ndctl_log(struct ndctl_ctx *ctx, int prio, const char *file, int line,
    const char *fn, const char *fmt, va_list ap)
{
	struct discovery_liblog *l = ndctl_get_userdata(ctx);

	if (l != NULL)
		discovery_liblog_set(l, fmt, ap);
}

static void
disc_daxctl_log(struct daxctl_ctx *ctx, int prio, const char *file, int line,
    const char *fn, const char *fmt, va_list ap)
{
	struct discovery_liblog *l = daxctl_get_userdata(ctx);

	if (l != NULL)
		discovery_liblog_set(l, fmt, ap);
}

void
discovery_liblog_set(struct discovery_liblog *l, const char *fmt, va_list ap)
{
	size_t	n;

	vsnprintf(l->last, sizeof(l->last), fmt, ap);
	n = strlen(l->last);
	while (n > 0 && isspace((unsigned char)l->last[n - 1]))
		l->last[--n] = '\0';
}

void
discovery_daxctl_quiet(struct daxctl_ctx *ctx, struct discovery_liblog *l)
{
	daxctl_set_userdata(ctx, l);
	daxctl_set_log_fn(ctx, disc_daxctl_log);
	daxctl_set_log_priority(ctx, 3);	/* LOG_ERR */
}

void
discovery_msg(char *msg, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (msg == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/* Reads a small sysfs attribute without its newline. 0 or -errno. */
int
discovery_read_attr(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

static void
disc_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

int
discovery_scan(struct discovery **out, char *msg, size_t msglen)
{
	struct discovery_liblog	 l = { "" };
	struct discovery	*d;
	struct ndctl_ctx	*ctx;
	struct ndctl_bus	*bus;
	struct ndctl_region	*region;
	struct ndctl_namespace	*ns;
	size_t			 cap = 0;
	int			 rc, nbus = 0;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	if ((rc = ndctl_new(&ctx)) < 0) {
		discovery_msg(msg, msglen, "discovery: libndctl: %s",
		    l.last[0] ? l.last : strerror(-rc));
		free(d);
		return rc;
	}
	ndctl_set_userdata(ctx, &l);
	ndctl_set_log_fn(ctx, disc_ndctl_log);
	ndctl_set_log_priority(ctx, 3);	/* LOG_ERR */
	discovery_daxctl_quiet(ndctl_get_daxctl_ctx(ctx), &l);

	rc = 0;
	ndctl_bus_foreach(ctx, bus) {
		nbus++;
		ndctl_region_foreach(bus, region) {
			if (!ndctl_region_is_enabled(region))
				continue;
			ndctl_namespace_foreach(region, ns) {
				if ((rc = disc_namespace(d, &cap, region, ns)) < 0)
					goto out;
			}
		}
	}
	rc = disc_dax_regions(d, &cap, ndctl_get_daxctl_ctx(ctx));
	if (rc == 0 && nbus == 0)
		discovery_msg(d->note, sizeof(d->note), "no NVDIMM bus: no "
		    "NVDIMMs, or the nfit/libnvdimm modules are not loaded");
out:
	ndctl_unref(ctx);
	if (rc < 0) {
		discovery_msg(msg, msglen, "discovery: %s", strerror(-rc));
		discovery_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void
discovery_free(struct discovery *d)
{
	if (d == NULL)
		return;
	free(d->dev);
	free(d);
}

static int
disc_push(struct discovery *d, size_t *cap, struct discovery_dev **devp)
{
	struct discovery_dev	*n;
	size_t			 ncap;

	if (d->ndev == *cap) {
		ncap = *cap ? *cap * 2 : 8;
		if ((n = reallocarray(d->dev, ncap, sizeof(*n))) == NULL)
			return -ENOMEM;
		d->dev = n;
		*cap = ncap;
	}
	*devp = &d->dev[d->ndev++];
	memset(*devp, 0, sizeof(**devp));
	(*devp)->numa_node = -1;
	(*devp)->target_node = -1;
	return 0;
}

static int
disc_seen_daxdev(const struct discovery *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->ndev; i++)
		if (strcmp(d->dev[i].daxdev, name) == 0)
			return 1;
	return 0;
}

/* Every dax device of one dax region, described from the namespace base. */
static int
disc_dax_devs(struct discovery *d, size_t *cap, struct daxctl_region *dr,
    const struct discovery_dev *base)
{
	struct discovery_dev	*dev;
	struct daxctl_dev	*dd;
	int			 rc;

	daxctl_dev_foreach(dr, dd) {
		/* Size 0: the seed of a dynamic region, not a device yet. */
		if (daxctl_dev_get_size(dd) == 0 ||
		    disc_seen_daxdev(d, daxctl_dev_get_devname(dd)))
			continue;
		if ((rc = disc_push(d, cap, &dev)) < 0)
			return rc;
		*dev = *base;
		snprintf(dev->region, sizeof(dev->region), "%s", base->region[0] ?
		    base->region : daxctl_region_get_devname(dr));
		disc_daxdev(dev, dd);
	}
	return 0;
}

static int
disc_namespace(struct discovery *d, size_t *cap, struct ndctl_region *region,
    struct ndctl_namespace *ns)
{
	struct discovery_dev	 base, *dev;
	struct ndctl_pfn	*pfn;
	struct ndctl_dax	*dax;
	struct daxctl_region	*dr;
	const char		*bdev;
	int			 rc;

	/* Inactive namespaces are the seeds ndctl creates new ones from. */
	if (!ndctl_namespace_is_active(ns))
		return 0;
	memset(&base, 0, sizeof(base));
	disc_copy(base.bus, sizeof(base.bus),
	    ndctl_bus_get_devname(ndctl_region_get_bus(region)));
	disc_copy(base.region, sizeof(base.region),
	    ndctl_region_get_devname(region));
	disc_copy(base.ns, sizeof(base.ns), ndctl_namespace_get_devname(ns));
	disc_copy(base.ns_name, sizeof(base.ns_name),
	    ndctl_namespace_get_alt_name(ns));
	base.size = ndctl_namespace_get_size(ns);
	base.numa_node = ndctl_namespace_get_numa_node(ns);
	base.target_node = ndctl_namespace_get_target_node(ns);

	switch (ndctl_namespace_get_mode(ns)) {
	case NDCTL_NS_MODE_FSDAX:
		if ((rc = disc_push(d, cap, &dev)) < 0)
			return rc;
		*dev = base;
		snprintf(dev->mode, sizeof(dev->mode), "fsdax");
		dev->kind = DISCOVERY_FSDAX;
		pfn = ndctl_namespace_get_pfn(ns);
		bdev = pfn != NULL ? ndctl_pfn_get_block_device(pfn) :
		    ndctl_namespace_get_block_device(ns);
		if (pfn != NULL && ndctl_pfn_get_size(pfn) > 0)
			dev->size = ndctl_pfn_get_size(pfn);
		disc_copy(dev->blockdev, sizeof(dev->blockdev), bdev);
		disc_copy(dev->name, sizeof(dev->name),
		    dev->blockdev[0] ? dev->blockdev : dev->ns);
		disc_fsdax(dev);
		return 0;
	case NDCTL_NS_MODE_DEVDAX:
		dax = ndctl_namespace_get_dax(ns);
		dr = dax != NULL ? ndctl_dax_get_daxctl_region(dax) : NULL;
		if (dr != NULL)
			return disc_dax_devs(d, cap, dr, &base);
		if ((rc = disc_push(d, cap, &dev)) < 0)
			return rc;
		*dev = base;
		snprintf(dev->mode, sizeof(dev->mode), "devdax");
		snprintf(dev->name, sizeof(dev->name), "%s", dev->ns);
		dev->kind = DISCOVERY_DEVDAX;
		dev->state = DISCOVERY_SKIPPED;
		discovery_msg(dev->reason, sizeof(dev->reason), "%s: devdax "
		    "namespace without a dax device (is the device_dax module "
		    "loaded? modprobe device_dax)", dev->ns);
		return 0;
	default:
		if ((rc = disc_push(d, cap, &dev)) < 0)
			return rc;
		*dev = base;
		snprintf(dev->mode, sizeof(dev->mode), "%s",
		    ndctl_namespace_get_mode(ns) == NDCTL_NS_MODE_SECTOR ?
		    "sector" : "raw");
		snprintf(dev->name, sizeof(dev->name), "%s", dev->ns);
		disc_copy(dev->blockdev, sizeof(dev->blockdev),
		    ndctl_namespace_get_block_device(ns));
		dev->kind = DISCOVERY_OTHER;
		dev->state = DISCOVERY_SKIPPED;
		discovery_msg(dev->reason, sizeof(dev->reason), "%s: %s mode has "
		    "no DAX; to use it: ndctl create-namespace -f -e %s -m "
		    "fsdax (or -m devdax), which destroys its data", dev->ns,
		    dev->mode, dev->ns);
		return 0;
	}
}

/* Dax devices that no NVDIMM namespace accounts for: hmem, CXL. */
static int
disc_dax_regions(struct discovery *d, size_t *cap, struct daxctl_ctx *dctx)
{
	struct discovery_dev	 base;
	struct daxctl_region	*dr;
	int			 rc;

	memset(&base, 0, sizeof(base));
	base.numa_node = -1;
	base.target_node = -1;
	daxctl_region_foreach(dctx, dr) {
		if ((rc = disc_dax_devs(d, cap, dr, &base)) < 0)
			return rc;
	}
	return 0;
}

static void
disc_daxdev(struct discovery_dev *dev, struct daxctl_dev *dd)
{
	struct daxctl_memory	*mem;
	const char		*name = daxctl_dev_get_devname(dd);

	disc_copy(dev->daxdev, sizeof(dev->daxdev), name);
	disc_copy(dev->name, sizeof(dev->name), name);
	dev->size = daxctl_dev_get_size(dd);
	dev->target_node = daxctl_dev_get_target_node(dd);
	dev->dev_major = (unsigned int)daxctl_dev_get_major(dd);
	dev->dev_minor = (unsigned int)daxctl_dev_get_minor(dd);

	if (!daxctl_dev_is_enabled(dd)) {
		snprintf(dev->mode, sizeof(dev->mode), "disabled");
		dev->kind = DISCOVERY_DEVDAX;
		dev->state = DISCOVERY_CANDIDATE;
		discovery_msg(dev->reason, sizeof(dev->reason), "%s is "
		    "disabled; set online = yes in [device %s] to use it as "
		    "kmem", name, name);
		return;
	}
	/* libdaxctl only gives a memory object to system-ram devices. */
	if ((mem = daxctl_dev_get_memory(dd)) == NULL) {
		snprintf(dev->mode, sizeof(dev->mode), "devdax");
		dev->kind = DISCOVERY_DEVDAX;
		dev->state = DISCOVERY_CANDIDATE;
		discovery_msg(dev->reason, sizeof(dev->reason), "devdax: "
		    "becomes a kmem tier only with online = yes in [device %s] "
		    "(onlined memory stays online until reboot)", name);
		return;
	}
	snprintf(dev->mode, sizeof(dev->mode), "system-ram");
	dev->kind = DISCOVERY_KMEM;
	dev->mem_blocks = daxctl_memory_num_sections(mem);
	dev->mem_online = daxctl_memory_is_online(mem);
	dev->movable = daxctl_memory_is_movable(mem) > 0;
	if (dev->mem_online > 0)
		dev->online_bytes = (uint64_t)dev->mem_online *
		    daxctl_memory_get_block_size(mem);
	if (dev->mem_online <= 0) {
		dev->mem_online = 0;
		dev->state = DISCOVERY_CANDIDATE;
		discovery_msg(dev->reason, sizeof(dev->reason), "system-ram "
		    "with no memory online; set online = yes in [device %s] "
		    "or run daxctl online-memory %s", name, name);
	} else if (dev->mem_online < dev->mem_blocks) {
		dev->state = DISCOVERY_USABLE;
		discovery_msg(dev->reason, sizeof(dev->reason), "only %d of "
		    "%d memory blocks online", dev->mem_online,
		    dev->mem_blocks);
	} else
		dev->state = DISCOVERY_USABLE;
}

/*
 * Fills the mount and DAX facts of an fsdax device and decides whether it
 * can be a tier. The daemon never formats or mounts: every "no" says what
 * the operator has to do.
 */
static void
disc_fsdax(struct discovery_dev *dev)
{
	struct discovery_mount	m;
	char			path[128], buf[32], why[160];
	int			rc;

	dev->state = DISCOVERY_SKIPPED;
	if (dev->blockdev[0] == '\0') {
		discovery_msg(dev->reason, sizeof(dev->reason), "%s: fsdax "
		    "namespace without a block device (is nd_pmem loaded?)",
		    dev->ns);
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/dev", dev->blockdev);
	if (discovery_read_attr(path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%u:%u", &dev->dev_major, &dev->dev_minor) != 2) {
		discovery_msg(dev->reason, sizeof(dev->reason), "%s: cannot "
		    "read %s", dev->blockdev, path);
		return;
	}
	rc = discovery_mount_find(dev->dev_major, dev->dev_minor, &m);
	if (rc < 0) {
		discovery_msg(dev->reason, sizeof(dev->reason), "%s: cannot "
		    "read /proc/self/mountinfo: %s", dev->blockdev,
		    strerror(-rc));
		return;
	}
	if (rc == 0) {
		discovery_msg(dev->reason, sizeof(dev->reason), "/dev/%s is "
		    "not mounted: make a filesystem on it (mkfs.xfs -m "
		    "reflink=0, or mkfs.ext4) and mount it with -o dax, then "
		    "rescan", dev->blockdev);
		return;
	}
	disc_copy(dev->mount, sizeof(dev->mount), m.path);
	disc_copy(dev->fstype, sizeof(dev->fstype), m.fstype);
	if (m.readonly) {
		discovery_msg(dev->reason, sizeof(dev->reason), "/dev/%s is "
		    "mounted read-only on %s: remount it read-write",
		    dev->blockdev, m.path);
		return;
	}
	if (m.dax == DISCOVERY_DAX_NEVER) {
		discovery_msg(dev->reason, sizeof(dev->reason), "/dev/%s is "
		    "mounted on %s with dax=never: remount it with -o dax",
		    dev->blockdev, m.path);
		return;
	}
	/*
	 * The options say what was asked; a probe file says what new files
	 * get. Without an option (dax=inode) a directory attribute can still
	 * give files DAX, so only the probe can tell.
	 */
	why[0] = '\0';
	rc = discovery_probe_dax(m.path, why, sizeof(why));
	if (rc == 1 || (rc < 0 && m.dax == DISCOVERY_DAX_ALWAYS)) {
		dev->dax_active = 1;
		dev->state = DISCOVERY_USABLE;
		return;
	}
	if (rc < 0)
		discovery_msg(dev->reason, sizeof(dev->reason), "/dev/%s on %s:"
		    " cannot tell whether DAX is in effect: %s", dev->blockdev,
		    m.path, why);
	else if (m.dax != DISCOVERY_DAX_ALWAYS)
		/* The kernel does not show dax=inode, the default: both read
		 * the same in mountinfo. */
		discovery_msg(dev->reason, sizeof(dev->reason), "/dev/%s is "
		    "mounted on %s without DAX: remount it with -o dax (or, "
		    "keeping dax=inode, set the DAX attribute on the directory:"
		    " xfs_io -c 'chattr +x' %s)", dev->blockdev, m.path, m.path);
	else
		discovery_msg(dev->reason, sizeof(dev->reason), "/dev/%s is "
		    "mounted on %s with -o dax but new files there do not get "
		    "DAX (%s): check the kernel log (filesystem block size must "
		    "equal the page size)", dev->blockdev, m.path, why);
}

const struct discovery_dev *
discovery_find(const struct discovery *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->ndev; i++)
		if (discovery_dev_matches(&d->dev[i], name))
			return &d->dev[i];
	return NULL;
}

int
discovery_dev_matches(const struct discovery_dev *dev, const char *pattern)
{
	const char	*names[] = { dev->name, dev->ns, dev->ns_name,
			    dev->blockdev, dev->daxdev };
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i][0] != '\0' && fnmatch(pattern, names[i], 0) == 0)
			return 1;
	return 0;
}

int
discovery_tier_name(const struct discovery_dev *dev, char *buf, size_t len)
{
	if (dev->ns_name[0] != '\0')
		return snprintf(buf, len, "%s", dev->ns_name);
	if (dev->kind == DISCOVERY_FSDAX)
		return snprintf(buf, len, "fsdax-%s", dev->name);
	if (dev->kind == DISCOVERY_OTHER)
		return snprintf(buf, len, "%s", dev->name);
	if (dev->target_node >= 0)
		return snprintf(buf, len, "kmem-node%d", dev->target_node);
	return snprintf(buf, len, "kmem-%s", dev->name);
}

const char *
discovery_kind_name(enum discovery_kind k)
{
	switch (k) {
	case DISCOVERY_FSDAX:
		return "fsdax";
	case DISCOVERY_DEVDAX:
		return "devdax";
	case DISCOVERY_KMEM:
		return "kmem";
	default:
		return "other";
	}
}

const char *
discovery_state_name(enum discovery_state s)
{
	switch (s) {
	case DISCOVERY_USABLE:
		return "usable";
	case DISCOVERY_CANDIDATE:
		return "candidate";
	default:
		return "skipped";
	}
}

int
discovery_dev_describe(const struct discovery_dev *dev, char *buf, size_t len)
{
	return snprintf(buf, len, "%s kind=%s mode=%s ns=%s region=%s "
	    "size=%llu numa_node=%d target_node=%d%s%s%s%s dax=%d "
	    "blocks=%d/%d online=%llu movable=%d state=%s%s%s",
	    dev->name, discovery_kind_name(dev->kind), dev->mode,
	    dev->ns[0] ? dev->ns : "-", dev->region[0] ? dev->region : "-",
	    (unsigned long long)dev->size, dev->numa_node, dev->target_node,
	    dev->mount[0] ? " mount=" : "", dev->mount,
	    dev->fstype[0] ? " fstype=" : "", dev->fstype,
	    dev->dax_active, dev->mem_online, dev->mem_blocks,
	    (unsigned long long)dev->online_bytes, dev->movable,
	    discovery_state_name(dev->state),
	    dev->reason[0] ? " reason=" : "", dev->reason);
}
