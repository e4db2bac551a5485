/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Filesystem project quotas for file tiers (projquota.h): which bucket has
 * which project, and its limit from the rules in force. Runs on the event
 * loop; the kernel calls are in projquota_fs.c.
 */
#include <sys/queue.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "projquota.h"
#include "quota.h"
#include "tier.h"

/*
 * Headroom on top of a rule's limit. The filesystem counts the blocks
 * that map a file as well as its data, and xfs reserves room for those
 * with every allocation: a project limited to exactly the rule refused
 * the grant that filled a bucket to its rule. Grants themselves are held
 * to the rule by quota_check; this only lets growth go a little further.
 */
#define PROJQUOTA_SLACK_KIB	1024

/* One bucket's project on one tier. */
struct projquota_proj {
	TAILQ_ENTRY(projquota_proj) entry;
	uint64_t		 dev;		/* the filesystem */
	uint32_t		 id;
	char			 tier[PMTD_NAME_MAX];
	uint64_t		 limit;		/* rule limit last applied */
	int			 limit_set;
	/* A principal of the bucket, to find its rule again (refresh). */
	uid_t			 uid;
	gid_t			 gid;
	size_t			 dflt_len;
	char			*cgroup;
	char			 bucket[];
};
TAILQ_HEAD(projquota_projs, projquota_proj);

static struct projquota_projs	projquota_list =
				    TAILQ_HEAD_INITIALIZER(projquota_list);

static struct projquota_proj *
projquota_find(const struct tier *t, const char *bucket)
{
	struct projquota_proj	*p;

	TAILQ_FOREACH(p, &projquota_list, entry)
		if (p->dev == t->st_dev && strcmp(p->tier, t->name) == 0 &&
		    strcmp(p->bucket, bucket) == 0)
			return p;
	return NULL;
}

/* The next free id on t's filesystem: above every one given out there. */
static struct projquota_proj *
projquota_new(const struct tier *t, const struct principal *pr,
    const char *bucket, char *err, size_t errlen)
{
	struct projquota_proj	*p;
	uint32_t		 id = t->project_base;
	size_t			 len = strlen(bucket) + 1;

	TAILQ_FOREACH(p, &projquota_list, entry)
		if (p->dev == t->st_dev && p->id >= id)
			id = p->id + 1;
	if (id == UINT32_MAX) {
		snprintf(err, errlen, "tier %s: no project id left for %s "
		    "(project_base = %u)", t->name, bucket, t->project_base);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p) + len)) == NULL ||
	    (p->cgroup = strdup(pr->cgroup)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(p->bucket, bucket, len);
	snprintf(p->tier, sizeof(p->tier), "%s", t->name);
	p->dev = t->st_dev;
	p->id = id;
	p->uid = pr->uid;
	p->gid = pr->gid;
	p->dflt_len = pr->dflt_len;
	TAILQ_INSERT_TAIL(&projquota_list, p, entry);
	log_info("tier %s: %s gets filesystem project %u", t->name, bucket,
	    id);
	return p;
}

/*
 * Sets p's hard block limit for a rule limit of limit bytes, unless that
 * is the limit it has: in the KiB the kernel counts in, rounded up, plus
 * the headroom (so never 0, which means "none"), and no more than the
 * filesystem holds (so no limit is out of its range). 0 or -errno.
 */
static int
projquota_apply(const struct tier *t, struct projquota_proj *p,
    uint64_t limit)
{
	struct statvfs	sv;
	uint64_t	kib, fs_kib;
	char		a[32];
	int		rc;

	if (p->limit_set && p->limit == limit)
		return 0;
	kib = limit / 1024 + (limit % 1024 != 0);
	kib = kib > UINT64_MAX - PROJQUOTA_SLACK_KIB ? UINT64_MAX :
	    kib + PROJQUOTA_SLACK_KIB;
	if (fstatvfs(t->dirfd, &sv) == 0) {
		fs_kib = (uint64_t)sv.f_blocks * sv.f_frsize / 1024;
		if (fs_kib > 0 && kib > fs_kib)
			kib = fs_kib;
	}
	if ((rc = projquota_set_limit(t->dirfd, p->id, kib)) != 0)
		return rc;
	p->limit = limit;
	p->limit_set = 1;
	pmtd_fmt_size(kib * 1024, a, sizeof(a));
	log_info("tier %s: project %u (%s): hard limit %s", t->name, p->id,
	    p->bucket, a);
	return 0;
}

int
projquota_prepare(struct tier *t, const struct principal *pr,
    uint32_t *projid, char *err, size_t errlen)
{
	struct quota_match	 m;
	struct projquota_proj	*p;
	char			 a[32];
	int			 rc;

	*projid = 0;
	if (t->enforce != TIER_ENFORCE_PROJQUOTA)
		return 0;
	quota_match(&pmtd->conf->rules, &pmtd->runtime_rules, pr, t->name,
	    &m);
	if (m.rule == NULL)
		return 0;
	if ((p = projquota_find(t, m.bucket)) == NULL &&
	    (p = projquota_new(t, pr, m.bucket, err, errlen)) == NULL)
		return -1;
	if ((rc = projquota_apply(t, p, m.rule->limit)) != 0) {
		pmtd_fmt_size(m.rule->limit, a, sizeof(a));
		snprintf(err, errlen, "tier %s: cannot set the filesystem "
		    "project quota of %s (project %u) to %s: %s", t->name,
		    m.bucket, p->id, a, strerror(-rc));
		return -1;
	}
	*projid = p->id;
	return 0;
}

void
projquota_refusal(const struct tier *t, uint32_t projid, uint64_t size,
    char *msg, size_t len)
{
	struct projquota_proj	*p;
	const char		*bucket = "?";
	uint64_t		 used, hard;
	char			 a[32], b[32], c[32];

	TAILQ_FOREACH(p, &projquota_list, entry)
		if (p->dev == t->st_dev && p->id == projid)
			break;
	if (p != NULL)
		bucket = p->bucket;
	pmtd_fmt_size(size, a, sizeof(a));
	if (p == NULL || projquota_usage(t->dirfd, projid, &used, &hard) != 0) {
		snprintf(msg, len, "quota exceeded on tier %s: the filesystem "
		    "project quota of %s (project %u) refused a lease of %s",
		    t->name, bucket, projid, a);
		return;
	}
	pmtd_fmt_size(used, b, sizeof(b));
	pmtd_fmt_size(p->limit, c, sizeof(c));
	snprintf(msg, len, "quota exceeded on tier %s: the filesystem project "
	    "quota of %s (project %u) refused a lease of %s: its files take "
	    "%s of the %s its rule allows (leases grown past their grant, or "
	    "kept after they ended)", t->name, bucket, projid, a, b, c);
}

void
projquota_refresh(void)
{
	struct principal	 pr;
	struct projquota_proj	*p;
	struct quota_match	 m;
	struct tier		*t;
	int			 rc;

	TAILQ_FOREACH(p, &projquota_list, entry) {
		t = tier_find(&pmtd->tiers, p->tier);
		if (t == NULL || t->st_dev != p->dev ||
		    t->enforce != TIER_ENFORCE_PROJQUOTA)
			continue;
		memset(&pr, 0, sizeof(pr));
		pr.uid = p->uid;
		pr.gid = p->gid;
		pr.dflt_len = p->dflt_len;
		pr.pidfd = -1;
		snprintf(pr.cgroup, sizeof(pr.cgroup), "%s", p->cgroup);
		quota_match(&pmtd->conf->rules, &pmtd->runtime_rules, &pr,
		    t->name, &m);
		/* Its principals have another bucket now, or none. */
		if (m.rule == NULL || strcmp(m.bucket, p->bucket) != 0)
			continue;
		if ((rc = projquota_apply(t, p, m.rule->limit)) != 0)
			log_warnx("tier %s: project %u (%s): cannot set its "
			    "limit: %s; the next grant will try again",
			    t->name, p->id, p->bucket, strerror(-rc));
	}
}

void
projquota_fini(void)
{
	struct projquota_proj	*p;

	while ((p = TAILQ_FIRST(&projquota_list)) != NULL) {
		TAILQ_REMOVE(&projquota_list, p, entry);
		free(p->cgroup);
		free(p);
	}
}
