/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: quota rule matching (cgroup globs, fnmatch with
 * FNM_PATHNAME over a cgroup and its ancestors, and the precedence rules
 * of quota.h) and the accounting behind quota_check().
 *
 * Input (text):
 *   one cgroup pattern per line, up to a line "--"; then the text of a
 *   /proc/PID/cgroup file for the peer.
 * Each pattern is offered the two ways a rule reaches the daemon: as a
 * [quota NAME] section parsed by config_parse_string(), and as a QuotaRule
 * from the wire through quota_admin_from_wire(). Whatever either accepts
 * joins the config or the runtime rules, next to a uid rule and a default
 * rule. The peer's cgroup comes out of peer_cgroup_parse(), as it does in
 * peer_identify(), "/" when the text has no cgroup v2 line.
 *
 * Checked, on each tier: a cgroup rule that matches the peer's own cgroup
 * beats every uid and default rule, and the winner's pattern is at least
 * as long; the bucket of a cgroup rule is the peer's cgroup or one of its
 * ancestors, and the pattern matches it. Charging the peer fills that
 * bucket; quota_check() allows exactly up to the limit and its refusal
 * names the rule; uncharging empties every bucket again.
 */
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "peer.h"
#include "pmemtierd.h"
#include "quota.h"
#include "quota_admin.h"

#define FUZZ_MAX_RULES	16
#define FUZZ_CHARGE	(64ULL * 1024)
#define FUZZ_UID	1000
#define FUZZ_GID	100

/*
 * quota_admin.c is linked for quota_admin_from_wire() and brings the
 * connection code with it, which refers to main.c's globals; none of it
 * runs here.
 */
static struct pmtd	fuzz_pmtd;
struct pmtd		*pmtd = &fuzz_pmtd;

int
pmtd_reload(char *err, size_t errlen)
{
	snprintf(err, errlen, "not in fuzz_quota");
	return -1;
}

static const char *const fuzz_tiers[] = { "pmem", "fast" };

/* The config route: a whole file with one [quota] section. */
static void
fuzz_rule_config(struct quota_rules *rules, const char *pattern,
    unsigned i)
{
	struct pmtd_config	*c;
	struct quota_rule	*r;
	char			 text[2 * PMTD_CGROUP_MAX + 512], err[1024];

	/* Cut short, the text could end in another limit; never parse it. */
	if (snprintf(text, sizeof(text),
	    "[tier pmem]\nbackend = file\npath = /p\ncapacity = 1G\n"
	    "[tier fast]\nbackend = kmem\nnode = 0\ncapacity = 1G\n"
	    "[quota c%u]\ncgroup = %s\ntier = %s\nlimit = %uK\n",
	    i, pattern, fuzz_tiers[i % 2], (i + 1) * 256) >= (int)sizeof(text))
		return;
	if ((c = config_parse_string(text, err, sizeof(err))) == NULL)
		return;
	r = TAILQ_FIRST(&c->rules);
	FUZZ_CHECK(r != NULL && r->sel == QUOTA_SEL_CGROUP);
	TAILQ_REMOVE(&c->rules, r, entry);
	r->order = i;
	TAILQ_INSERT_TAIL(rules, r, entry);
	config_free(c);
}

/* The wire route: QuotaSet's rule as quota_admin_set() takes it. */
static void
fuzz_rule_wire(struct quota_rules *rules, const char *pattern, unsigned i)
{
	Pmemtier__QuotaRule	 w = PMEMTIER__QUOTA_RULE__INIT;
	struct quota_rule	 nr, *r;
	char			 err[256];

	w.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP;
	w.cgroup = (char *)pattern;
	w.tier = (char *)fuzz_tiers[(i + 1) % 2];
	w.limit = (uint64_t)(i + 1) * 384 * 1024;
	if (quota_admin_from_wire(&w, &nr, err, sizeof(err)) != 0)
		return;
	FUZZ_CHECK(nr.sel == QUOTA_SEL_CGROUP && nr.cgroup[0] == '/');
	quota_rule_autoname(&nr);
	nr.order = i;
	FUZZ_CHECK((r = malloc(sizeof(*r))) != NULL);
	*r = nr;
	TAILQ_INSERT_TAIL(rules, r, entry);
}

static void
fuzz_rule_fixed(struct quota_rules *rules, enum quota_sel sel,
    const char *name, const char *tier, uint64_t limit, unsigned order)
{
	struct quota_rule	*r;

	FUZZ_CHECK((r = calloc(1, sizeof(*r))) != NULL);
	r->sel = sel;
	r->id = FUZZ_UID;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->tier, sizeof(r->tier), "%s", tier);
	r->limit = limit;
	r->origin = QUOTA_ORIGIN_CONFIG;
	r->order = order;
	TAILQ_INSERT_TAIL(rules, r, entry);
}

static int
fuzz_applies_to(const struct quota_rule *r, const char *tier)
{
	return strcmp(r->tier, "*") == 0 || strcmp(r->tier, tier) == 0;
}

/* Is anc the cgroup path itself or one of its ancestors? */
static int
fuzz_ancestor(const char *anc, const char *path)
{
	size_t	n = strlen(anc);

	if (strcmp(anc, "/") == 0)
		return 1;
	return strncmp(anc, path, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* The longest cgroup pattern of rules that matches cg itself, or 0. */
static size_t
fuzz_longest_exact(const struct quota_rules *rules, const char *cg,
    const char *tier)
{
	const struct quota_rule	*r;
	size_t			 best = 0;

	TAILQ_FOREACH(r, rules, entry)
		if (r->sel == QUOTA_SEL_CGROUP && fuzz_applies_to(r, tier) &&
		    fnmatch(r->cgroup, cg, FNM_PATHNAME) == 0 &&
		    strlen(r->cgroup) > best)
			best = strlen(r->cgroup);
	return best;
}

static void
fuzz_check_tier(const struct quota_rules *cfg, const struct quota_rules *rt,
    const struct principal *pr, const char *tier)
{
	struct quota_match	 m;
	size_t			 exact, limit;
	char			 msg[1024];

	quota_match(cfg, rt, pr, tier, &m);
	/* The default rule applies to everyone on every tier. */
	FUZZ_CHECK(m.rule != NULL);
	FUZZ_CHECK(fuzz_applies_to(m.rule, tier));
	FUZZ_CHECK(m.used == 0);
	exact = fuzz_longest_exact(cfg, pr->cgroup, tier);
	if (fuzz_longest_exact(rt, pr->cgroup, tier) > exact)
		exact = fuzz_longest_exact(rt, pr->cgroup, tier);
	if (exact > 0) {
		FUZZ_CHECK(m.rule->sel == QUOTA_SEL_CGROUP);
		FUZZ_CHECK(strlen(m.rule->cgroup) >= exact);
	}
	if (m.rule->sel == QUOTA_SEL_CGROUP) {
		FUZZ_CHECK(fuzz_ancestor(m.bucket, pr->cgroup));
		FUZZ_CHECK(fnmatch(m.rule->cgroup, m.bucket,
		    FNM_PATHNAME) == 0);
	} else if (strcmp(tier, "pmem") == 0)
		FUZZ_CHECK(m.rule->sel == QUOTA_SEL_UID);
	else
		FUZZ_CHECK(m.rule->sel == QUOTA_SEL_DEFAULT);

	quota_charge(pr, tier, FUZZ_CHARGE);
	quota_match(cfg, rt, pr, tier, &m);
	FUZZ_CHECK(m.used == FUZZ_CHARGE);
	limit = m.rule->limit;
	FUZZ_CHECK(limit >= FUZZ_CHARGE);
	FUZZ_CHECK(quota_check(cfg, rt, pr, tier, limit - FUZZ_CHARGE, msg,
	    sizeof(msg)) == 0);
	FUZZ_CHECK(quota_check(cfg, rt, pr, tier, limit - FUZZ_CHARGE + 1,
	    msg, sizeof(msg)) == -1);
	FUZZ_CHECK(strstr(msg, m.rule->name) != NULL);
	quota_uncharge(pr, tier, FUZZ_CHARGE);
	FUZZ_CHECK(quota_usage_cgroup(tier, "/") == 0);
	FUZZ_CHECK(quota_usage_cgroup(tier, pr->cgroup) == 0);
	FUZZ_CHECK(quota_usage_uid(tier, FUZZ_UID) == 0);
	FUZZ_CHECK(quota_usage_gid(tier, FUZZ_GID) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quota_rules	 cfg = TAILQ_HEAD_INITIALIZER(cfg);
	struct quota_rules	 rt = TAILQ_HEAD_INITIALIZER(rt);
	struct principal	 pr;
	char			*text, *line, *next, *proc = NULL;
	unsigned		 n = 0;
	size_t			 i;

	FUZZ_CHECK((text = malloc(size + 1)) != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strcmp(line, "--") == 0) {
			proc = next;
			break;
		}
		if (n < FUZZ_MAX_RULES) {
			fuzz_rule_config(&cfg, line, n);
			fuzz_rule_wire(&rt, line, n);
			n++;
		}
	}
	fuzz_rule_fixed(&cfg, QUOTA_SEL_UID, "user", "pmem", 3 << 20, n);
	fuzz_rule_fixed(&cfg, QUOTA_SEL_DEFAULT, "rest", "*", 4 << 20, n + 1);

	memset(&pr, 0, sizeof(pr));
	pr.uid = FUZZ_UID;
	pr.gid = FUZZ_GID;
	pr.pid = 1;
	pr.pidfd = -1;
	/* As peer_identify(): "/" unless the text has a cgroup v2 line. */
	strcpy(pr.cgroup, "/");
	if (proc != NULL &&
	    peer_cgroup_parse(proc, pr.cgroup, sizeof(pr.cgroup)) != 0)
		strcpy(pr.cgroup, "/");
	/*
	 * The kernel writes the path absolute, even "/../x" outside a cgroup
	 * namespace. quota.c counts on that (its ancestor walks stop at "/"
	 * and crash on a path without one: corpus/quota/relative-cgroup) and
	 * peer_cgroup_parse() does not check it, so neither can this.
	 */
	if (pr.cgroup[0] != '/')
		strcpy(pr.cgroup, "/");

	quota_init();
	for (i = 0; i < sizeof(fuzz_tiers) / sizeof(fuzz_tiers[0]); i++)
		fuzz_check_tier(&cfg, &rt, &pr, fuzz_tiers[i]);
	quota_fini();
	config_rules_free(&cfg);
	config_rules_free(&rt);
	free(text);
	return 0;
}
