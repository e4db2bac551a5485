/* SPDX-License-Identifier: BSD-3-Clause */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "quota.h"

#define QUOTA_HASH_SIZE	1024
/*
 * Empty buckets kept for reuse. A principal that takes and returns one
 * lease at a time empties its three or more buckets (cgroup and ancestors,
 * uid, gid) on every release; freeing them would cost a malloc and a free
 * per bucket per grant. The most recently emptied stay in the table, up to
 * this many (a bucket is well under 1 KiB).
 */
#define QUOTA_IDLE_MAX	64

/* One accounting bucket: bytes granted under a key. */
struct quota_usage {
	LIST_ENTRY(quota_usage)	 entry;
	TAILQ_ENTRY(quota_usage) idle_entry;	/* when bytes == 0 */
	uint64_t		 bytes;
	char			 key[];
};
LIST_HEAD(quota_chain, quota_usage);
TAILQ_HEAD(quota_idle, quota_usage);

static struct quota_chain	quota_hash[QUOTA_HASH_SIZE];
static struct quota_idle	quota_idle = TAILQ_HEAD_INITIALIZER(quota_idle);
static unsigned			quota_nidle;

void
quota_init(void)
{
	size_t	i;

	for (i = 0; i < QUOTA_HASH_SIZE; i++)
		LIST_INIT(&quota_hash[i]);
	TAILQ_INIT(&quota_idle);
	quota_nidle = 0;
}

void
quota_fini(void)
{
	struct quota_usage	*u;
	size_t			 i;

	for (i = 0; i < QUOTA_HASH_SIZE; i++)
		while ((u = LIST_FIRST(&quota_hash[i])) != NULL) {
			LIST_REMOVE(u, entry);
			free(u);
		}
	TAILQ_INIT(&quota_idle);
	quota_nidle = 0;
}

static size_t
quota_hash_key(const char *key)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h % QUOTA_HASH_SIZE);
}

static struct quota_usage *
quota_find(const char *key, struct quota_chain **chainp)
{
	struct quota_chain	*chain = &quota_hash[quota_hash_key(key)];
	struct quota_usage	*u;

	if (chainp != NULL)
		*chainp = chain;
	LIST_FOREACH(u, chain, entry)
		if (strcmp(u->key, key) == 0)
			return u;
	return NULL;
}

/* An emptied bucket joins the idle list; the oldest idle one is freed. */
static void
quota_park(struct quota_usage *u)
{
	TAILQ_INSERT_TAIL(&quota_idle, u, idle_entry);
	if (++quota_nidle <= QUOTA_IDLE_MAX)
		return;
	u = TAILQ_FIRST(&quota_idle);
	TAILQ_REMOVE(&quota_idle, u, idle_entry);
	quota_nidle--;
	LIST_REMOVE(u, entry);
	free(u);
}

/* Adds delta (may be negative) to the bucket; parks it at zero. */
static void
quota_add(const char *key, int64_t delta)
{
	struct quota_chain	*chain;
	struct quota_usage	*u;
	size_t			 len;

	u = quota_find(key, &chain);
	if (delta < 0 && (u == NULL || u->bytes == 0)) {
		log_warnx("quota_add: %s: uncharge of an empty bucket", key);
		return;
	}
	if (u == NULL) {
		len = strlen(key) + 1;
		if ((u = calloc(1, sizeof(*u) + len)) == NULL) {
			/*
			 * Losing one bucket only loosens a limit; the grant
			 * itself is already made and must stay consistent.
			 */
			log_warnx("quota_add: %s: out of memory", key);
			return;
		}
		memcpy(u->key, key, len);
		LIST_INSERT_HEAD(chain, u, entry);
	} else if (u->bytes == 0) {
		TAILQ_REMOVE(&quota_idle, u, idle_entry);
		quota_nidle--;
	}
	u->bytes += (uint64_t)delta;
	if (u->bytes == 0)
		quota_park(u);
}

/* Copies a NUL-terminated string that fits (callers' buffers are sized). */
static void
quota_copy(char *dst, size_t len, const char *src)
{
	size_t	n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Keys are "TIER\1c\1/cgroup/path", "TIER\1u\1UID", "TIER\1g\1GID".
 * Built by hand: this runs several times per grant and release.
 */
static void
quota_key_cgroup(char *buf, size_t len, const char *tier, const char *cg)
{
	size_t	t = strnlen(tier, PMTD_NAME_MAX - 1);
	size_t	c = strnlen(cg, PMTD_CGROUP_MAX - 1);

	if (t + c + 4 > len) {
		/* Cannot happen with the callers' buffers; stay safe. */
		buf[0] = '\0';
		return;
	}
	memcpy(buf, tier, t);
	memcpy(buf + t, "\001c\001", 3);
	memcpy(buf + t + 3, cg, c);
	buf[t + 3 + c] = '\0';
}

static void
quota_key_id(char *buf, size_t len, const char *tier, char kind, uint32_t id)
{
	char	digits[16], *p = digits + sizeof(digits);
	size_t	t = strnlen(tier, PMTD_NAME_MAX - 1), n;

	*--p = '\0';
	do {
		*--p = (char)('0' + id % 10);
		id /= 10;
	} while (id != 0);
	n = strlen(p);
	if (t + n + 4 > len) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, tier, t);
	buf[t] = '\001';
	buf[t + 1] = kind;
	buf[t + 2] = '\001';
	memcpy(buf + t + 3, p, n + 1);
}

/* Charges the cgroup and each of its ancestors, then uid and gid. */
static void
quota_account(const struct principal *pr, const char *tier, int64_t delta)
{
	char	 key[PMTD_NAME_MAX + PMTD_CGROUP_MAX + 8];
	char	 cg[PMTD_CGROUP_MAX], *slash;

	quota_copy(cg, sizeof(cg), pr->cgroup);
	for (;;) {
		quota_key_cgroup(key, sizeof(key), tier, cg);
		quota_add(key, delta);
		/* peer.c admits only absolute paths; stop on anything else. */
		if (strcmp(cg, "/") == 0 || (slash = strrchr(cg, '/')) == NULL)
			break;
		if (slash == cg)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	quota_key_id(key, sizeof(key), tier, 'u', pr->uid);
	quota_add(key, delta);
	quota_key_id(key, sizeof(key), tier, 'g', pr->gid);
	quota_add(key, delta);
}

void
quota_charge(const struct principal *pr, const char *tier, uint64_t size)
{
	quota_account(pr, tier, (int64_t)size);
}

void
quota_uncharge(const struct principal *pr, const char *tier, uint64_t size)
{
	quota_account(pr, tier, -(int64_t)size);
}

static uint64_t
quota_lookup(const char *key)
{
	struct quota_usage	*u = quota_find(key, NULL);

	return u != NULL ? u->bytes : 0;
}

uint64_t
quota_usage_cgroup(const char *tier, const char *cgroup)
{
	char	key[PMTD_NAME_MAX + PMTD_CGROUP_MAX + 8];

	quota_key_cgroup(key, sizeof(key), tier, cgroup);
	return quota_lookup(key);
}

uint64_t
quota_usage_uid(const char *tier, uint32_t uid)
{
	char	key[PMTD_NAME_MAX + 32];

	quota_key_id(key, sizeof(key), tier, 'u', uid);
	return quota_lookup(key);
}

uint64_t
quota_usage_gid(const char *tier, uint32_t gid)
{
	char	key[PMTD_NAME_MAX + 32];

	quota_key_id(key, sizeof(key), tier, 'g', gid);
	return quota_lookup(key);
}

/*
 * Does a cgroup pattern match path or one of its ancestors? The matched
 * cgroup (the container) is copied to out.
 */
static int
quota_cgroup_match(const char *pattern, const char *path, char *out,
    size_t outlen)
{
	char	 cg[PMTD_CGROUP_MAX], *slash;

	quota_copy(cg, sizeof(cg), path);
	for (;;) {
		if (fnmatch(pattern, cg, FNM_PATHNAME) == 0) {
			quota_copy(out, outlen, cg);
			return 1;
		}
		if (strcmp(cg, "/") == 0 || (slash = strrchr(cg, '/')) == NULL)
			return 0;
		if (slash == cg)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/*
 * Does r apply to pr on tier? For a cgroup rule, bucket gets the matched
 * cgroup; the other kinds' buckets are named once a rule has won (this
 * runs for every rule on every grant).
 */
static int
quota_rule_applies(const struct quota_rule *r, const struct principal *pr,
    const char *tier, char *bucket, size_t len)
{
	if (strcmp(r->tier, "*") != 0 && strcmp(r->tier, tier) != 0)
		return 0;
	switch (r->sel) {
	case QUOTA_SEL_CGROUP:
		return quota_cgroup_match(r->cgroup, pr->cgroup, bucket, len);
	case QUOTA_SEL_UID:
		return r->id == pr->uid;
	case QUOTA_SEL_GID:
		return r->id == pr->gid;
	case QUOTA_SEL_DEFAULT:
		return 1;
	}
	return 0;
}

static size_t
quota_wildcards(const char *p)
{
	size_t	n = 0;

	for (; *p != '\0'; p++)
		n += *p == '*' || *p == '?' || *p == '[';
	return n;
}

/* Is a a better (higher precedence) match than b? See quota.h. */
static int
quota_better(const struct quota_rule *a, const struct quota_rule *b)
{
	int	a_any, b_any;

	if (a->sel != b->sel)
		return a->sel < b->sel;
	if (a->sel == QUOTA_SEL_CGROUP &&
	    strlen(a->cgroup) != strlen(b->cgroup))
		return strlen(a->cgroup) > strlen(b->cgroup);
	if (a->sel == QUOTA_SEL_CGROUP &&
	    quota_wildcards(a->cgroup) != quota_wildcards(b->cgroup))
		return quota_wildcards(a->cgroup) < quota_wildcards(b->cgroup);
	a_any = strcmp(a->tier, "*") == 0;
	b_any = strcmp(b->tier, "*") == 0;
	if (a_any != b_any)
		return !a_any;
	if (a->origin != b->origin)
		return a->origin == QUOTA_ORIGIN_RUNTIME;
	return a->order < b->order;
}

static void
quota_scan(const struct quota_rules *rules, const struct principal *pr,
    const char *tier, struct quota_match *m)
{
	const struct quota_rule	*r;
	char			 bucket[PMTD_CGROUP_MAX];

	if (rules == NULL)
		return;
	TAILQ_FOREACH(r, rules, entry) {
		if (!quota_rule_applies(r, pr, tier, bucket, sizeof(bucket)))
			continue;
		if (m->rule == NULL || quota_better(r, m->rule)) {
			m->rule = r;
			if (r->sel == QUOTA_SEL_CGROUP)
				quota_copy(m->bucket, sizeof(m->bucket),
				    bucket);
		}
	}
}

void
quota_match(const struct quota_rules *config, const struct quota_rules *runtime,
    const struct principal *pr, const char *tier, struct quota_match *m)
{
	memset(m, 0, sizeof(*m));
	quota_scan(config, pr, tier, m);
	quota_scan(runtime, pr, tier, m);
	if (m->rule == NULL) {
		m->used = quota_usage_cgroup(tier, pr->cgroup);
		return;
	}
	switch (m->rule->sel) {
	case QUOTA_SEL_CGROUP:
		m->used = quota_usage_cgroup(tier, m->bucket);
		break;
	case QUOTA_SEL_DEFAULT:
		/*
		 * Not the leaf: a user who may make sub-cgroups would get one
		 * default quota per cgroup it makes. peer.c names the nearest
		 * cgroup the user does not own, or the uid.
		 */
		if (pr->dflt_len == 0 || pr->dflt_len >= sizeof(m->bucket)) {
			snprintf(m->bucket, sizeof(m->bucket), "uid %u",
			    (unsigned)pr->uid);
			m->used = quota_usage_uid(tier, pr->uid);
			break;
		}
		memcpy(m->bucket, pr->cgroup, pr->dflt_len);
		m->bucket[pr->dflt_len] = '\0';
		m->used = quota_usage_cgroup(tier, m->bucket);
		break;
	case QUOTA_SEL_UID:
		snprintf(m->bucket, sizeof(m->bucket), "uid %u",
		    (unsigned)pr->uid);
		m->used = quota_usage_uid(tier, pr->uid);
		break;
	case QUOTA_SEL_GID:
		snprintf(m->bucket, sizeof(m->bucket), "gid %u",
		    (unsigned)pr->gid);
		m->used = quota_usage_gid(tier, pr->gid);
		break;
	}
}

void
quota_rule_describe(const struct quota_rule *r, char *buf, size_t len)
{
	switch (r->sel) {
	case QUOTA_SEL_CGROUP:
		snprintf(buf, len, "cgroup %s", r->cgroup);
		break;
	case QUOTA_SEL_UID:
		snprintf(buf, len, "uid %u", r->id);
		break;
	case QUOTA_SEL_GID:
		snprintf(buf, len, "gid %u", r->id);
		break;
	case QUOTA_SEL_DEFAULT:
		snprintf(buf, len, "default");
		break;
	}
}

void
quota_rule_autoname(struct quota_rule *r)
{
	char	sel[PMTD_CGROUP_MAX + 16], tmp[PMTD_CGROUP_MAX + 96];
	size_t	n;

	quota_rule_describe(r, sel, sizeof(sel));
	snprintf(tmp, sizeof(tmp), "runtime %s on %s", sel, r->tier);
	/* Only a label for messages: cutting a long pattern short is fine. */
	n = strlen(tmp);
	if (n >= sizeof(r->name))
		n = sizeof(r->name) - 1;
	memcpy(r->name, tmp, n);
	r->name[n] = '\0';
}

int
quota_rule_same(const struct quota_rule *a, const struct quota_rule *b)
{
	if (a->sel != b->sel || strcmp(a->tier, b->tier) != 0)
		return 0;
	switch (a->sel) {
	case QUOTA_SEL_CGROUP:
		return strcmp(a->cgroup, b->cgroup) == 0;
	case QUOTA_SEL_UID:
	case QUOTA_SEL_GID:
		return a->id == b->id;
	case QUOTA_SEL_DEFAULT:
		return 1;
	}
	return 0;
}

int
quota_check(const struct quota_rules *config, const struct quota_rules *runtime,
    const struct principal *pr, const char *tier, uint64_t size, char *msg,
    size_t msglen)
{
	struct quota_match	 m;
	char			 sel[PMTD_CGROUP_MAX + 16];
	char			 lim[32], used[32], req[32];

	if ((config == NULL || TAILQ_EMPTY(config)) &&
	    (runtime == NULL || TAILQ_EMPTY(runtime)))
		return 0;
	quota_match(config, runtime, pr, tier, &m);
	if (m.rule == NULL)
		return 0;
	if (m.used <= m.rule->limit && size <= m.rule->limit - m.used)
		return 0;
	quota_rule_describe(m.rule, sel, sizeof(sel));
	pmtd_fmt_size(m.rule->limit, lim, sizeof(lim));
	pmtd_fmt_size(m.used, used, sizeof(used));
	pmtd_fmt_size(size, req, sizeof(req));
	snprintf(msg, msglen, "quota exceeded on tier %s: %s rule \"%s\" "
	    "(%s) limits %s to %s; it holds %s and asked for %s more",
	    tier, m.rule->origin == QUOTA_ORIGIN_RUNTIME ? "runtime" : "config",
	    m.rule->name, sel, m.bucket, lim, used, req);
	return -1;
}
