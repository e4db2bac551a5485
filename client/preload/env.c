/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MEMKIND_MEM_TIERS and MEMKIND_MEM_THRESHOLDS as memkind 1.14's
 * libmemtier reads them, plus pmemtier's own kind:
 *
 *   TIERS  := TIER ";" { TIER ";" } "POLICY:" ("STATIC_RATIO" |
 *             "DYNAMIC_THRESHOLD")
 *   TIER   := PARAM { "," PARAM }, each PARAM "KEY:VALUE" once:
 *             KIND:DRAM | KIND:FS_DAX | KIND:KMEM_DAX | KIND:PMEMTIER,
 *             PATH:dir (FS_DAX), TIER:name (PMEMTIER: a daemon tier),
 *             PMEM_SIZE_LIMIT:size (alias PMEM_SIZE; FS_DAX, PMEMTIER),
 *             RATIO:n (n > 0, required)
 *   THRESHOLDS := THRESHOLD { ";" THRESHOLD }, one per pair of tiers:
 *             INIT_VAL:size, MIN_VAL:size, MAX_VAL:size, each at most once
 *   size   := digits [K | M | G]
 *
 * Runs inside the preload's initialisation: allocations made here go to
 * glibc (see preload.c), and only the stack and strtok_r-free parsing on
 * a private copy are used.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmemtier.h>

#include "preload.h"

#define ENV_MAX		1024

struct env_tier {
	memkind_t	kind;
	unsigned	ratio;
	bool		created;	/* destroy on failure */
};

/* digits [K|M|G]; 0 or -1. */
static int
env_size(const char *s, size_t *out)
{
	unsigned long long	 v;
	char			*end;
	unsigned		 shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'K')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	else if (*end != '\0')
		return -1;
	if (shift != 0 && end[1] != '\0')
		return -1;
	if (v > (SIZE_MAX >> shift))
		return -1;
	*out = (size_t)v << shift;
	return 0;
}

static int
env_uint(const char *s, unsigned *out)
{
	size_t	v;

	if (env_size(s, &v) != 0 || strpbrk(s, "KMG") != NULL ||
	    v > UINT32_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Splits s at the first sep: returns the rest (NULL if none). */
static char *
env_cut(char *s, int sep)
{
	char	*p = strchr(s, sep);

	if (p == NULL)
		return NULL;
	*p = '\0';
	return p + 1;
}

/* One TIER query; makes its kind. */
static int
env_tier(char *q, struct env_tier *t, char *why, size_t whylen)
{
	const char	*kind = NULL, *path = NULL, *tier = NULL;
	const char	*limit = NULL, *ratio = NULL, **slot;
	char		*param, *next, *val;
	size_t		 max = 0;
	int		 rc;

	for (param = q; param != NULL; param = next) {
		next = env_cut(param, ',');
		if ((val = env_cut(param, ':')) == NULL || *val == '\0') {
			snprintf(why, whylen, "%s: KEY:VALUE expected", param);
			return -1;
		}
		if (strcmp(param, "KIND") == 0)
			slot = &kind;
		else if (strcmp(param, "PATH") == 0)
			slot = &path;
		else if (strcmp(param, "TIER") == 0)
			slot = &tier;
		else if (strcmp(param, "PMEM_SIZE_LIMIT") == 0 ||
		    strcmp(param, "PMEM_SIZE") == 0)
			slot = &limit;
		else if (strcmp(param, "RATIO") == 0)
			slot = &ratio;
		else {
			snprintf(why, whylen, "%s: unknown parameter", param);
			return -1;
		}
		if (*slot != NULL) {
			snprintf(why, whylen, "%s given twice", param);
			return -1;
		}
		*slot = val;
	}
	if (kind == NULL || ratio == NULL || env_uint(ratio, &t->ratio) != 0 ||
	    t->ratio == 0) {
		snprintf(why, whylen, "a tier needs KIND and RATIO (> 0)");
		return -1;
	}
	if (limit != NULL && env_size(limit, &max) != 0) {
		snprintf(why, whylen, "PMEM_SIZE_LIMIT:%s: not a size", limit);
		return -1;
	}
	if (strcmp(kind, "DRAM") == 0 || strcmp(kind, "KMEM_DAX") == 0) {
		if (path != NULL || tier != NULL || limit != NULL) {
			snprintf(why, whylen, "KIND:%s takes RATIO only", kind);
			return -1;
		}
		t->kind = kind[0] == 'D' ? MEMKIND_DEFAULT : MEMKIND_DAX_KMEM;
		if (t->kind == MEMKIND_DAX_KMEM &&
		    memkind_check_available(t->kind) != MEMKIND_SUCCESS) {
			snprintf(why, whylen, "KIND:KMEM_DAX: no kmem tier");
			return -1;
		}
		return 0;
	}
	if (strcmp(kind, "FS_DAX") == 0) {
		if (path == NULL || tier != NULL) {
			snprintf(why, whylen, "KIND:FS_DAX needs PATH, no TIER");
			return -1;
		}
		rc = memkind_create_pmem(path, max, &t->kind);
	} else if (strcmp(kind, "PMEMTIER") == 0) {
		if (tier == NULL || path != NULL) {
			snprintf(why, whylen, "KIND:PMEMTIER needs TIER, no PATH");
			return -1;
		}
		rc = pmemtier_create_pmem_on_tier(tier, max, &t->kind);
	} else {
		snprintf(why, whylen, "KIND:%s: unknown kind", kind);
		return -1;
	}
	if (rc != MEMKIND_SUCCESS) {
		snprintf(why, whylen, "KIND:%s %s: cannot create the kind (%d)",
		    kind, path != NULL ? path : tier, rc);
		return -1;
	}
	t->created = true;
	return 0;
}

/* One THRESHOLD query for threshold i. */
static int
env_threshold(struct memtier_builder *b, char *q, unsigned i, char *why,
    size_t whylen)
{
	static const char *const keys[] = { "INIT_VAL", "MIN_VAL", "MAX_VAL" };
	static const char *const names[] = { "val", "min", "max" };
	char		*param, *next, *val, name[96];
	unsigned	 seen = 0, k;
	size_t		 v;

	for (param = q; param != NULL; param = next) {
		next = env_cut(param, ',');
		if ((val = env_cut(param, ':')) == NULL)
			goto bad;
		for (k = 0; k < 3; k++)
			if (strcmp(param, keys[k]) == 0)
				break;
		if (k == 3 || (seen & (1U << k)) || env_size(val, &v) != 0)
			goto bad;
		seen |= 1U << k;
		snprintf(name, sizeof(name),
		    "policy.dynamic_threshold.thresholds[%u].%s", i, names[k]);
		if (memtier_ctl_set(b, name, &v) != 0)
			goto bad;
	}
	return 0;
bad:
	snprintf(why, whylen, "MEMKIND_MEM_THRESHOLDS: threshold %u: bad %s",
	    i, param);
	return -1;
}

static int
env_policy(const char *q, memtier_policy_t *policy)
{
	if (strcmp(q, "POLICY:STATIC_RATIO") == 0)
		*policy = MEMTIER_POLICY_STATIC_RATIO;
	else if (strcmp(q, "POLICY:DYNAMIC_THRESHOLD") == 0)
		*policy = MEMTIER_POLICY_DYNAMIC_THRESHOLD;
	else
		return -1;
	return 0;
}

struct memtier_memory *
pl_env_build(const char *tiers, const char *thres, char *why, size_t whylen)
{
	struct env_tier		 t[PL_TIERS_MAX];
	struct memtier_builder	*b = NULL;
	struct memtier_memory	*m = NULL;
	memtier_policy_t	 policy;
	char			 buf[ENV_MAX], tbuf[ENV_MAX], *q, *next;
	unsigned		 n = 0, i;

	memset(t, 0, sizeof(t));
	if (tiers == NULL || strlen(tiers) >= sizeof(buf) ||
	    (thres != NULL && strlen(thres) >= sizeof(tbuf))) {
		snprintf(why, whylen, "MEMKIND_MEM_TIERS unset or too long");
		return NULL;
	}
	strcpy(buf, tiers);
	/* Every query but the last is a tier; the last is the policy. */
	for (q = buf; (next = env_cut(q, ';')) != NULL; q = next) {
		if (n == PL_TIERS_MAX) {
			snprintf(why, whylen, "more than %d tiers",
			    PL_TIERS_MAX);
			goto out;
		}
		if (env_tier(q, &t[n], why, whylen) != 0) {
			if (t[n].created)
				memkind_destroy_kind(t[n].kind);
			goto out;
		}
		n++;
	}
	if (n == 0 || env_policy(q, &policy) != 0) {
		snprintf(why, whylen, "MEMKIND_MEM_TIERS must end with "
		    "POLICY:STATIC_RATIO or POLICY:DYNAMIC_THRESHOLD");
		goto out;
	}
	if ((b = memtier_builder_new(policy)) == NULL) {
		snprintf(why, whylen, "memtier_builder_new failed");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (memtier_builder_add_tier(b, t[i].kind, t[i].ratio) != 0) {
			snprintf(why, whylen, "tier %u: the same kind twice", i);
			goto out;
		}
	if (thres != NULL && *thres != '\0') {
		if (policy != MEMTIER_POLICY_DYNAMIC_THRESHOLD) {
			snprintf(why, whylen, "MEMKIND_MEM_THRESHOLDS needs "
			    "POLICY:DYNAMIC_THRESHOLD");
			goto out;
		}
		strcpy(tbuf, thres);
		for (q = tbuf, i = 0; q != NULL; q = next, i++) {
			next = env_cut(q, ';');
			if (i + 1 >= n) {
				snprintf(why, whylen, "MEMKIND_MEM_THRESHOLDS: "
				    "more thresholds than pairs of tiers");
				goto out;
			}
			if (env_threshold(b, q, i, why, whylen) != 0)
				goto out;
		}
	}
	if ((m = memtier_builder_construct_memtier_memory(b)) == NULL)
		snprintf(why, whylen, "the tiers or thresholds are not valid "
		    "for the policy");
out:
	memtier_builder_delete(b);
	if (m == NULL)
		for (i = 0; i < n; i++)
			if (t[i].created)
				memkind_destroy_kind(t[i].kind);
	return m;
}
