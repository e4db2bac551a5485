/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The commands that change or reload the daemon: quota list/set/unset,
 * rescan, reload. tierctl checks only the command line; whether the peer
 * may ask is the daemon's decision (root or its admin_group), answered with
 * ERROR_DENIED and a reason that tierctl prints.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tierctl.h"

#define SELECTORS	(TIERCTL_OPT_CGROUP | TIERCTL_OPT_UID | \
			    TIERCTL_OPT_GID | TIERCTL_OPT_DEFAULT)

/*
 * Parses a size: a number of bytes with an optional binary suffix K, M, G,
 * T (also KiB, KB, ...), as the daemon's config file takes them.
 */
static int
admin_parse_size(const char *s, uint64_t *out)
{
	static const char	 sfx[] = "KMGT";
	unsigned long long	 v;
	const char		*p;
	char			*end;
	int			 shift = 0;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if ((p = strchr(sfx, toupper((unsigned char)*end))) == NULL)
			return -1;
		shift = 10 * (int)(p - sfx + 1);
		end++;
		if (strcasecmp(end, "") != 0 && strcasecmp(end, "B") != 0 &&
		    strcasecmp(end, "iB") != 0)
			return -1;
	}
	if (shift > 0 && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Fills the rule's selector from --cgroup/--uid/--gid/--default. */
static void
admin_selector(const struct tierctl *t, Pmemtier__QuotaRule *r,
    const char *what)
{
	int	sel = t->opts & SELECTORS;

	if (t->opts & ~SELECTORS)
		tierctl_usage("%s: option not valid for this command", what);
	if (sel == 0 || (sel & (sel - 1)) != 0)
		tierctl_usage("%s: give exactly one of --cgroup, --uid, --gid, "
		    "--default", what);
	switch (sel) {
	case TIERCTL_OPT_CGROUP:
		if (t->cgroup[0] != '/')
			tierctl_usage("%s: a cgroup glob starts with /: %s",
			    what, t->cgroup);
		r->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP;
		r->cgroup = (char *)t->cgroup;
		break;
	case TIERCTL_OPT_UID:
		r->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_UID;
		r->uid = t->uid;
		break;
	case TIERCTL_OPT_GID:
		r->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_GID;
		r->gid = t->gid;
		break;
	default:
		r->selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_ANY;
		r->any = true;
		break;
	}
}

/* Sends a request whose only answer is Ack and reports success. */
static int
admin_simple(struct tierctl *t, Pmemtier__Envelope *env, const char *what)
{
	struct tierctl_conn	*c;
	Pmemtier__Envelope	*rep;

	c = conn_open(t->socket);
	rep = conn_request(c, env, PMEMTIER__ENVELOPE__BODY_ACK, what);
	pmemtier__envelope__free_unpacked(rep, NULL);
	conn_close(c);
	t->out->begin(t);
	t->out->done(t, what);
	t->out->end(t);
	return TIERCTL_EXIT_OK;
}

static int
admin_quota_list(struct tierctl *t, int argc, char **argv)
{
	struct tierctl_conn	*c;
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__QuotaListRequest req = PMEMTIER__QUOTA_LIST_REQUEST__INIT;
	Pmemtier__Envelope	*rep;
	Pmemtier__QuotaList	*ql;
	size_t			 i;

	if (argc > 1)
		tierctl_usage("quota list: unexpected argument: %s", argv[1]);
	if (t->opts != 0)
		tierctl_usage("quota list: option not valid for this command");
	c = conn_open(t->socket);
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST;
	env.quota_list_request = &req;
	rep = conn_request(c, &env, PMEMTIER__ENVELOPE__BODY_QUOTA_LIST,
	    "quota list");
	ql = rep->quota_list;
	t->out->begin(t);
	t->out->list_begin(t, TIERCTL_LIST_RULES);
	for (i = 0; i < ql->n_rules; i++)
		t->out->rule(t, ql->rules[i]);
	t->out->list_end(t, TIERCTL_LIST_RULES);
	/*
	 * Buckets holding bytes (admins only): who is near or over a limit.
	 * The human form shows the section only when there is one.
	 */
	if (t->json || ql->n_usage > 0) {
		t->out->list_begin(t, TIERCTL_LIST_USAGE);
		for (i = 0; i < ql->n_usage; i++)
			t->out->usage(t, ql->usage[i]);
		t->out->list_end(t, TIERCTL_LIST_USAGE);
		t->out->total(t, TIERCTL_LIST_USAGE, ql->usage_total >
		    ql->n_usage ? ql->usage_total : ql->n_usage, ql->n_usage);
	}
	t->out->end(t);
	pmemtier__envelope__free_unpacked(rep, NULL);
	conn_close(c);
	return TIERCTL_EXIT_OK;
}

static int
admin_quota_set(struct tierctl *t, int argc, char **argv)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__QuotaSet	 set = PMEMTIER__QUOTA_SET__INIT;
	Pmemtier__QuotaRule	 rule = PMEMTIER__QUOTA_RULE__INIT;

	if (argc != 3)
		tierctl_usage("quota set: expected TIER SIZE");
	admin_selector(t, &rule, "quota set");
	rule.tier = argv[1];
	if (admin_parse_size(argv[2], &rule.limit) < 0)
		tierctl_usage("quota set: bad size: %s (bytes, or a number "
		    "with K, M, G or T)", argv[2]);
	set.rule = &rule;
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_SET;
	env.quota_set = &set;
	return admin_simple(t, &env, "quota set");
}

static int
admin_quota_unset(struct tierctl *t, int argc, char **argv)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__QuotaUnset	 unset = PMEMTIER__QUOTA_UNSET__INIT;
	Pmemtier__QuotaRule	 rule = PMEMTIER__QUOTA_RULE__INIT;

	if (argc != 2)
		tierctl_usage("quota unset: expected TIER");
	admin_selector(t, &rule, "quota unset");
	rule.tier = argv[1];
	unset.rule = &rule;
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_UNSET;
	env.quota_unset = &unset;
	return admin_simple(t, &env, "quota unset");
}

int
cmd_quota(struct tierctl *t, int argc, char **argv)
{
	if (argc < 2)
		tierctl_usage("quota: expected list, set or unset");
	if (strcmp(argv[1], "list") == 0)
		return admin_quota_list(t, argc - 1, argv + 1);
	if (strcmp(argv[1], "set") == 0)
		return admin_quota_set(t, argc - 1, argv + 1);
	if (strcmp(argv[1], "unset") == 0)
		return admin_quota_unset(t, argc - 1, argv + 1);
	tierctl_usage("quota: unknown subcommand: %s", argv[1]);
}

static void
admin_no_args(const struct tierctl *t, int argc, char **argv)
{
	if (argc > 1)
		tierctl_usage("%s: unexpected argument: %s", argv[0], argv[1]);
	if (t->opts != 0)
		tierctl_usage("%s: option not valid for this command",
		    argv[0]);
}

int
cmd_rescan(struct tierctl *t, int argc, char **argv)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__RescanRequest	 req = PMEMTIER__RESCAN_REQUEST__INIT;

	admin_no_args(t, argc, argv);
	env.body_case = PMEMTIER__ENVELOPE__BODY_RESCAN_REQUEST;
	env.rescan_request = &req;
	return admin_simple(t, &env, "rescan");
}

int
cmd_reload(struct tierctl *t, int argc, char **argv)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__ReloadRequest	 req = PMEMTIER__RELOAD_REQUEST__INIT;

	admin_no_args(t, argc, argv);
	env.body_case = PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST;
	env.reload_request = &req;
	return admin_simple(t, &env, "reload");
}
