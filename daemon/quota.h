/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Quota rules and accounting.
 *
 * Matching: of the rules naming the tier (or "*"), cgroup rules come first
 * (the longest pattern, then the one with fewer wildcards, then file
 * order), then uid, then gid, then the
 * default rule. A rule naming the tier beats a "*" rule of the same kind,
 * and a runtime rule beats a config rule with the same selector. A cgroup
 * pattern (fnmatch with FNM_PATHNAME) matches the peer's cgroup or any of
 * its ancestors, so a container's nested cgroups share its quota.
 *
 * Buckets: a cgroup rule accounts per matched cgroup (each container its
 * own bucket, sub-cgroups included), the default rule per the nearest
 * cgroup (the peer's or an ancestor) that the peer's uid does not own, or
 * per uid when cgroup ownership cannot be read (struct principal
 * dflt_len), a uid rule per uid, a gid rule per (primary) gid. No rule means
 * no limit but the tier's capacity.
 */
#ifndef PMEMTIERD_QUOTA_H
#define PMEMTIERD_QUOTA_H

#include <stddef.h>

#include "pmemtierd.h"

struct quota_match {
	const struct quota_rule	*rule;		/* NULL: unlimited */
	char			 bucket[PMTD_CGROUP_MAX];	/* human form */
	uint64_t		 used;		/* bytes in the bucket */
};

void	quota_init(void);
void	quota_fini(void);

/* Accounting of granted bytes per (tier, cgroup and ancestors, uid, gid). */
void	quota_charge(const struct principal *, const char *tier, uint64_t);
void	quota_uncharge(const struct principal *, const char *tier, uint64_t);
uint64_t quota_usage_cgroup(const char *tier, const char *cgroup);
uint64_t quota_usage_uid(const char *tier, uint32_t uid);
uint64_t quota_usage_gid(const char *tier, uint32_t gid);

/* Finds the rule and bucket that apply; m->rule NULL when none does. */
void	quota_match(const struct quota_rules *config,
	    const struct quota_rules *runtime, const struct principal *,
	    const char *tier, struct quota_match *m);
/*
 * May pr take size more bytes on tier? 0 yes; -1 no, with msg naming the
 * rule, its limit, the bucket's use and the request.
 */
int	quota_check(const struct quota_rules *config,
	    const struct quota_rules *runtime, const struct principal *,
	    const char *tier, uint64_t size, char *msg, size_t msglen);

/* Describes a rule's selector: "cgroup /a/b*", "uid 1000", "default". */
void	quota_rule_describe(const struct quota_rule *, char *, size_t);
/* Names a runtime rule after its selector and tier. */
void	quota_rule_autoname(struct quota_rule *);
/* Same selector and tier? */
int	quota_rule_same(const struct quota_rule *, const struct quota_rule *);

/* Runtime rules kept under state_dir (quota_store.c). */
int	quota_store_load(const char *state_dir, struct quota_rules *,
	    char *err, size_t errlen);
int	quota_store_save(const char *state_dir, const struct quota_rules *,
	    char *err, size_t errlen);

#endif /* PMEMTIERD_QUOTA_H */
