/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "projquota.h"
#include "quota.h"
#include "quota_admin.h"
#include "tier.h"
#include "wire.h"

#define E(x)	PMEMTIER__ERROR_CODE__ERROR_##x

int
quota_admin_from_wire(const Pmemtier__QuotaRule *w, struct quota_rule *r,
    char *err, size_t errlen)
{
	const char	*p;

	memset(r, 0, sizeof(*r));
	if (w == NULL) {
		snprintf(err, errlen, "no rule given");
		return -1;
	}
	switch (w->selector_case) {
	case PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP:
		if (w->cgroup[0] != '/' ||
		    strlen(w->cgroup) >= sizeof(r->cgroup)) {
			snprintf(err, errlen, "a cgroup pattern starts with /");
			return -1;
		}
		for (p = w->cgroup; *p != '\0'; p++)
			if (!isgraph((unsigned char)*p)) {
				snprintf(err, errlen, "a cgroup pattern has no "
				    "spaces or control characters");
				return -1;
			}
		r->sel = QUOTA_SEL_CGROUP;
		strcpy(r->cgroup, w->cgroup);
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_UID:
		r->sel = QUOTA_SEL_UID;
		r->id = w->uid;
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_GID:
		r->sel = QUOTA_SEL_GID;
		r->id = w->gid;
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_ANY:
		r->sel = QUOTA_SEL_DEFAULT;
		break;
	default:
		snprintf(err, errlen, "the rule needs one selector: cgroup, "
		    "uid, gid or default");
		return -1;
	}
	if (w->tier == NULL || w->tier[0] == '\0' ||
	    strlen(w->tier) >= sizeof(r->tier)) {
		snprintf(err, errlen, "the rule needs a tier name or *");
		return -1;
	}
	strcpy(r->tier, w->tier);
	r->limit = w->limit;
	r->origin = QUOTA_ORIGIN_RUNTIME;
	return 0;
}

/* Does a rule concern pr (any tier)? Non-admins only list those. */
static int
quota_admin_concerns(const struct quota_rule *r, const struct principal *pr)
{
	struct quota_match	m;
	struct quota_rules	one = TAILQ_HEAD_INITIALIZER(one);
	struct quota_rule	copy = *r;

	TAILQ_INSERT_TAIL(&one, &copy, entry);
	quota_match(&one, NULL, pr, strcmp(r->tier, "*") == 0 ? "*" : r->tier,
	    &m);
	return m.rule != NULL;
}

static void
quota_admin_fill(Pmemtier__QuotaRule *w, const struct quota_rule *r)
{
	pmemtier__quota_rule__init(w);
	switch (r->sel) {
	case QUOTA_SEL_CGROUP:
		w->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP;
		w->cgroup = (char *)r->cgroup;
		break;
	case QUOTA_SEL_UID:
		w->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_UID;
		w->uid = r->id;
		break;
	case QUOTA_SEL_GID:
		w->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_GID;
		w->gid = r->id;
		break;
	case QUOTA_SEL_DEFAULT:
		w->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_ANY;
		w->any = 1;
		break;
	}
	w->tier = (char *)r->tier;
	w->limit = r->limit;
	w->origin = r->origin == QUOTA_ORIGIN_RUNTIME ? "runtime" : "config";
}

struct qa_list {
	Pmemtier__QuotaList	 ql;
	Pmemtier__QuotaRule	*rules, **rptrs;
	struct quota_bucket	*use;
	size_t			 nuse;
	Pmemtier__QuotaUsage	*wuse, **uptrs;
	Pmemtier__QuotaRule	*wurules;
};

static void
qa_list_free(struct qa_list *q)
{
	free(q->rules);
	free(q->rptrs);
	free(q->use);
	free(q->wuse);
	free(q->uptrs);
	free(q->wurules);
}

/* The bucket's name: "cgroup /a/b", "uid 1000", "gid 100". */
static void
qa_bucket_name(const struct quota_match *m, char *buf, size_t len)
{
	/* A default rule's bucket is a cgroup path or already "uid N". */
	if (m->rule->sel == QUOTA_SEL_CGROUP ||
	    (m->rule->sel == QUOTA_SEL_DEFAULT && m->bucket[0] == '/'))
		snprintf(buf, len, "cgroup %s", m->bucket);
	else
		snprintf(buf, len, "%s", m->bucket);
}

/* Over quota first, then the fullest: what an admin looks for first. */
static int
qa_usage_cmp(const void *a, const void *b)
{
	const struct quota_bucket	*x = a, *y = b;
	int			 xo = x->used > x->rule->limit;
	int			 yo = y->used > y->rule->limit;

	if (xo != yo)
		return yo - xo;
	if (x->used != y->used)
		return x->used < y->used ? 1 : -1;
	return strcmp(x->bucket, y->bucket);
}

/* Adds the buckets pr's leases are in, on each tier, once each. */
static void
qa_usage_add(struct qa_list *q, const struct principal *pr)
{
	struct quota_match	 m;
	struct tier		*t;
	char			 name[sizeof(q->use[0].bucket)];
	size_t			 i;

	TAILQ_FOREACH(t, &pmtd->tiers, entry) {
		quota_match(&pmtd->conf->rules, &pmtd->runtime_rules, pr,
		    t->name, &m);
		if (m.rule == NULL || m.used == 0)
			continue;
		qa_bucket_name(&m, name, sizeof(name));
		for (i = 0; i < q->nuse; i++)
			if (q->use[i].rule == m.rule &&
			    strcmp(q->use[i].tier, t->name) == 0 &&
			    strcmp(q->use[i].bucket, name) == 0)
				break;
		if (i < q->nuse)
			continue;
		q->use[i].rule = m.rule;
		q->use[i].tier = t->name;
		q->use[i].used = m.used;
		memcpy(q->use[i].bucket, name, sizeof(name));
		q->nuse++;
	}
}

/*
 * Every byte in a bucket belongs to a lease of a connection or of a
 * process whose connection closed (holder.c), so the buckets holding
 * bytes are theirs, on each tier: (connections + holders) x tiers quota
 * matches, not one per lease.
 */
static int
qa_usage_collect(struct qa_list *q)
{
	struct conn	*c;
	struct holder	*h;
	struct tier	*t;
	size_t		 np = 0, nt = 0;

	TAILQ_FOREACH(c, &pmtd->conns, entry)
		np += c->nleases > 0;
	TAILQ_FOREACH(h, &pmtd->holders, entry)
		np += h->nleases > 0;
	TAILQ_FOREACH(t, &pmtd->tiers, entry)
		nt++;
	if ((q->use = calloc(np * nt + 1, sizeof(*q->use))) == NULL)
		return -1;
	TAILQ_FOREACH(c, &pmtd->conns, entry)
		if (c->nleases > 0)
			qa_usage_add(q, &c->pr);
	TAILQ_FOREACH(h, &pmtd->holders, entry)
		if (h->nleases > 0)
			qa_usage_add(q, &h->pr);
	qsort(q->use, q->nuse, sizeof(*q->use), qa_usage_cmp);
	return 0;
}

int
quota_admin_buckets(struct quota_bucket **out, size_t *n)
{
	struct qa_list	q;

	memset(&q, 0, sizeof(q));
	if (qa_usage_collect(&q) != 0)
		return -1;
	*out = q.use;
	*n = q.nuse;
	return 0;
}

/* Adds the collected buckets while the reply stays under the packet cap. */
static int
qa_usage_fill(struct qa_list *q)
{
	size_t	budget = PMT_WIRE_MAX_PACKET - 4096, sz, i;

	q->wuse = calloc(q->nuse + 1, sizeof(*q->wuse));
	q->uptrs = calloc(q->nuse + 1, sizeof(*q->uptrs));
	q->wurules = calloc(q->nuse + 1, sizeof(*q->wurules));
	if (q->wuse == NULL || q->uptrs == NULL || q->wurules == NULL)
		return -1;
	sz = pmemtier__quota_list__get_packed_size(&q->ql);
	budget = sz < budget ? budget - sz : 0;
	q->ql.usage_total = (uint32_t)q->nuse;
	q->ql.usage = q->uptrs;
	for (i = 0; i < q->nuse; i++) {
		Pmemtier__QuotaUsage	*u = &q->wuse[i];

		pmemtier__quota_usage__init(u);
		quota_admin_fill(&q->wurules[i], q->use[i].rule);
		u->bucket = q->use[i].bucket;
		u->tier = (char *)q->use[i].tier;
		u->used = q->use[i].used;
		u->limit = q->use[i].rule->limit;
		u->over = q->use[i].used > q->use[i].rule->limit;
		u->rule = &q->wurules[i];
		/* tag, length (at most 3 bytes here), body */
		sz = pmemtier__quota_usage__get_packed_size(u) + 4;
		if (sz > budget)
			break;
		budget -= sz;
		q->uptrs[q->ql.n_usage++] = u;
	}
	return 0;
}

void
quota_admin_list(struct conn *c, uint64_t rid)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	const struct quota_rules *lists[2] = { &pmtd->conf->rules,
	    &pmtd->runtime_rules };
	const struct quota_rule	*r;
	struct qa_list		 q;
	size_t			 n = 0, i;

	memset(&q, 0, sizeof(q));
	pmemtier__quota_list__init(&q.ql);
	for (i = 0; i < 2; i++)
		TAILQ_FOREACH(r, lists[i], entry)
			n++;
	q.rules = calloc(n + 1, sizeof(*q.rules));
	q.rptrs = calloc(n + 1, sizeof(*q.rptrs));
	if (q.rules == NULL || q.rptrs == NULL)
		goto oom;
	for (i = 0; i < 2; i++)
		TAILQ_FOREACH(r, lists[i], entry) {
			if (!c->pr.admin && !quota_admin_concerns(r, &c->pr))
				continue;
			quota_admin_fill(&q.rules[q.ql.n_rules], r);
			q.rptrs[q.ql.n_rules] = &q.rules[q.ql.n_rules];
			q.ql.n_rules++;
		}
	q.ql.rules = q.rptrs;
	/* Who holds how much is for admins, as in Status. */
	if (c->pr.admin &&
	    (qa_usage_collect(&q) != 0 || qa_usage_fill(&q) != 0))
		goto oom;
	env.version = PMT_WIRE_VERSION;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_LIST;
	env.quota_list = &q.ql;
	conn_send(c, &env, -1);
	qa_list_free(&q);
	return;
oom:
	qa_list_free(&q);
	conn_error(c, rid, E(INTERNAL), "out of memory");
}

static int
quota_admin_tier_ok(const char *tier)
{
	return strcmp(tier, "*") == 0 ||
	    tier_find(&pmtd->tiers, tier) != NULL;
}

static int
quota_admin_save(struct conn *c, uint64_t rid)
{
	char	err[512];

	if (quota_store_save(pmtd->conf->state_dir, &pmtd->runtime_rules,
	    err, sizeof(err)) == 0)
		return 0;
	log_warnx("quota: cannot save runtime rules: %s", err);
	conn_error(c, rid, E(INTERNAL), "cannot save the rule under "
	    "state_dir: %s", err);
	return -1;
}

void
quota_admin_set(struct conn *c, uint64_t rid, const Pmemtier__QuotaRule *w)
{
	struct quota_rule	 nr, *r, *added = NULL;
	uint64_t		 old = 0;
	char			 err[256], sel[PMTD_CGROUP_MAX + 16];
	unsigned		 order = 0;

	if (quota_admin_from_wire(w, &nr, err, sizeof(err)) != 0) {
		conn_error(c, rid, E(INVALID_ARGUMENT), "quota set: %s", err);
		return;
	}
	if (!quota_admin_tier_ok(nr.tier)) {
		conn_error(c, rid, E(UNKNOWN_TIER), "quota set: no tier named "
		    "\"%s\"", nr.tier);
		return;
	}
	quota_rule_describe(&nr, sel, sizeof(sel));
	quota_rule_autoname(&nr);
	TAILQ_FOREACH(r, &pmtd->runtime_rules, entry) {
		if (quota_rule_same(r, &nr))
			break;
		order = r->order + 1;
	}
	if (r != NULL) {
		old = r->limit;
		r->limit = nr.limit;
	} else {
		if ((added = malloc(sizeof(*added))) == NULL) {
			conn_error(c, rid, E(INTERNAL), "out of memory");
			return;
		}
		*added = nr;
		added->order = order;
		TAILQ_INSERT_TAIL(&pmtd->runtime_rules, added, entry);
	}
	if (quota_admin_save(c, rid) != 0) {
		/* Keep memory and disk in step: undo. */
		if (added != NULL) {
			TAILQ_REMOVE(&pmtd->runtime_rules, added, entry);
			free(added);
		} else
			r->limit = old;
		return;
	}
	log_info("quota: uid %u set %s on tier %s to %llu bytes",
	    (unsigned)c->pr.uid, sel, nr.tier, (unsigned long long)nr.limit);
	projquota_refresh();
	{
		Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
		Pmemtier__Ack		ack = PMEMTIER__ACK__INIT;

		env.version = PMT_WIRE_VERSION;
		env.request_id = rid;
		env.body_case = PMEMTIER__ENVELOPE__BODY_ACK;
		env.ack = &ack;
		conn_send(c, &env, -1);
	}
}

void
quota_admin_unset(struct conn *c, uint64_t rid, const Pmemtier__QuotaRule *w)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Ack		 ack = PMEMTIER__ACK__INIT;
	struct quota_rule	 nr, *r;
	char			 err[256], sel[PMTD_CGROUP_MAX + 16];

	if (quota_admin_from_wire(w, &nr, err, sizeof(err)) != 0) {
		conn_error(c, rid, E(INVALID_ARGUMENT), "quota unset: %s", err);
		return;
	}
	quota_rule_describe(&nr, sel, sizeof(sel));
	TAILQ_FOREACH(r, &pmtd->runtime_rules, entry)
		if (quota_rule_same(r, &nr))
			break;
	if (r == NULL) {
		TAILQ_FOREACH(r, &pmtd->conf->rules, entry)
			if (quota_rule_same(r, &nr))
				break;
		if (r != NULL)
			conn_error(c, rid, E(INVALID_ARGUMENT), "quota unset: "
			    "the rule for %s on tier %s is [quota %s] in the "
			    "configuration file; edit it there and reload",
			    sel, nr.tier, r->name);
		else
			conn_error(c, rid, E(INVALID_ARGUMENT), "quota unset: "
			    "no runtime rule for %s on tier %s", sel, nr.tier);
		return;
	}
	TAILQ_REMOVE(&pmtd->runtime_rules, r, entry);
	if (quota_admin_save(c, rid) != 0) {
		TAILQ_INSERT_TAIL(&pmtd->runtime_rules, r, entry);
		return;
	}
	free(r);
	log_info("quota: uid %u unset %s on tier %s", (unsigned)c->pr.uid, sel,
	    nr.tier);
	projquota_refresh();
	env.version = PMT_WIRE_VERSION;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	conn_send(c, &env, -1);
}
