/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two output forms of tierctl. The human form prints fixed-width
 * columns with binary units (raw bytes with --bytes) and puts the
 * variable-length fields (paths, cgroups) last so that the columns stay
 * aligned. The JSON form prints one document whose field names are part of
 * tierctl's interface (tierctl(8), "JSON OUTPUT"): add fields, never rename.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tierctl.h"

#define STR(s)	((s) != NULL ? (s) : "")

const char *
output_size(const struct tierctl *t, uint64_t v, char *buf, size_t len)
{
	static const char	*units[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
				    "EiB" };
	double			 d;
	int			 u;

	if (t->bytes || v < 1024) {
		snprintf(buf, len, t->bytes ? "%" PRIu64 : "%" PRIu64 "B", v);
		return buf;
	}
	for (u = 0, d = (double)v / 1024; d >= 1024 && u < 5; u++)
		d /= 1024;
	/* Exact multiples read better without a fraction: "512MiB". */
	if (v % ((uint64_t)1 << (10 * (u + 1))) == 0)
		snprintf(buf, len, "%.0f%s", d, units[u]);
	else if (d < 1023.95 || u == 5)
		snprintf(buf, len, "%.1f%s", d, units[u]);
	else
		snprintf(buf, len, "1.0%s", units[u + 1]);
	return buf;
}

/* Width of a size column: raw numbers need more room. */
static int
sz_width(const struct tierctl *t)
{
	return t->bytes ? 14 : 9;
}

static bool
tier_over_quota(const Pmemtier__TierInfo *ti)
{
	return ti->quota_limited && ti->used > ti->quota;
}

static void
client_usage(const Pmemtier__ClientStatus *c, uint64_t *alloc,
    uint64_t *active)
{
	size_t	i;

	*alloc = *active = 0;
	for (i = 0; i < c->n_usage; i++) {
		*alloc += c->usage[i]->allocated;
		*active += c->usage[i]->active;
	}
}

/* ---- human ----------------------------------------------------------- */

/*
 * Process names, labels and paths come from other users: printed raw,
 * an escape sequence in a process name would reach the admin's terminal.
 * Control characters (C0, DEL, C1) and invalid UTF-8 become '?'.
 * Returns buf.
 */
static const char *
human_safe(const char *str, char *buf, size_t len)
{
	const unsigned char	*s = (const unsigned char *)STR(str);
	size_t			 o = 0, n;

	while (*s != '\0' && o + 1 < len) {
		n = json_utf8_len(s);
		if (n == 0 || *s < 0x20 || *s == 0x7f ||
		    (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
			buf[o++] = '?';
			s += n > 0 ? n : 1;
			continue;
		}
		if (o + n >= len)
			break;
		memcpy(buf + o, s, n);
		o += n;
		s += n;
	}
	buf[o] = '\0';
	return buf;
}

static void
human_begin(struct tierctl *t)
{
	t->nsections = 0;
}

static void
human_uptime(uint64_t s, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02"
	    PRIu64, s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
}

static void
human_daemon(struct tierctl *t, const Pmemtier__Status *st)
{
	const Pmemtier__Principal	*p = st->principal;
	char				 up[64], cg[1024];

	human_uptime(st->uptime, up, sizeof(up));
	printf("pmemtierd %s, up %s, socket %s\n", STR(st->daemon_version),
	    up, STR(st->socket));
	if (p != NULL)
		printf("you: pid %d, uid %u, gid %u, cgroup %s%s\n", p->pid,
		    p->uid, p->gid, human_safe(p->cgroup, cg, sizeof(cg)),
		    p->admin ? ", admin" : "");
	printf("view: %s\n", st->full_view ? "all clients" :
	    "your own clients only (not an admin)");
	t->nsections++;
}

static void
human_list_begin(struct tierctl *t, enum tierctl_list l)
{
	int	w = sz_width(t);

	if (t->nsections++ > 0)
		putchar('\n');
	switch (l) {
	case TIERCTL_LIST_TIERS:
		printf("%-10s %-7s %-3s %4s %*s %*s %*s %*s %*s %*s  %s\n",
		    "TIER", "BACKEND", "DEF", "NODE", w, "CAPACITY", w,
		    "GRANTED", w, "PHYSICAL", w, "FREE", w, "QUOTA", w,
		    "USED", "DEVICE/PATH");
		break;
	case TIERCTL_LIST_CLIENTS:
		printf("%5s %7s %-15s %6s %6s %6s %*s %*s %*s %*s  %s\n",
		    "CONN", "PID", "COMM", "UID", "GID", "LEASES", w,
		    "GRANTED", w, "PHYSICAL", w, "ALLOCATED", w, "ACTIVE",
		    "CGROUP");
		break;
	case TIERCTL_LIST_LEASES:
		printf("%20s %5s %7s %-10s %*s %*s %*s %-9s %-12s %s\n",
		    "LEASE", "CONN", "PID", "TIER", w, "SIZE", w, "CHARGED", w,
		    "PHYSICAL", "STATE", "LABEL", "CGROUP");
		break;
	case TIERCTL_LIST_RULES:
		printf("%-10s %*s %-8s %s\n", "TIER", w, "LIMIT", "ORIGIN",
		    "SELECTOR");
		break;
	case TIERCTL_LIST_DEVICES:
		printf("%-10s %-14s %-10s %*s %*s %-5s %-8s %-12s %s\n",
		    "DEVICE", "NAMESPACE", "MODE", w, "SIZE", w, "ONLINE",
		    "NODE", "STATE", "TIER", "MOUNT/REASON");
		break;
	case TIERCTL_LIST_USAGE:
		printf("%-10s %*s %*s %-5s %s\n", "TIER", w, "USED", w,
		    "LIMIT", "STATE", "BUCKET");
		break;
	case TIERCTL_LIST_CXL:
		printf("%-10s %-7s %-8s %*s %-4s %-9s %s\n", "CXL", "KIND",
		    "MODE", w, "SIZE", "NODE", "STATE", "WHERE/REASON");
		break;
	}
}

static void
human_tier(struct tierctl *t, const Pmemtier__TierInfo *ti)
{
	char	cap[32], gr[32], ph[32], fr[32], q[32], used[32], node[16];
	int	w = sz_width(t);

	if (ti->numa_node >= 0)
		snprintf(node, sizeof(node), "%d", ti->numa_node);
	else
		strcpy(node, "-");
	if (ti->quota_limited)
		output_size(t, ti->quota, q, sizeof(q));
	else
		strcpy(q, "none");
	output_size(t, ti->used, used, sizeof(used));
	/* "!" marks a principal above a quota lowered under its holdings. */
	if (tier_over_quota(ti))
		strcat(used, "!");
	printf("%-10s %-7s %-3s %4s %*s %*s %*s %*s %*s %*s  %s%s%s%s\n",
	    STR(ti->name), STR(ti->backend), ti->is_default ? "*" : "",
	    node, w, output_size(t, ti->capacity, cap, sizeof(cap)),
	    w, output_size(t, ti->granted, gr, sizeof(gr)),
	    w, output_size(t, ti->physical, ph, sizeof(ph)),
	    w, output_size(t, ti->free, fr, sizeof(fr)), w, q, w, used,
	    STR(ti->device), ti->device != NULL && ti->device[0] != '\0' &&
	    ti->path != NULL && ti->path[0] != '\0' ? " " : "",
	    STR(ti->path), STR(ti->device)[0] == '\0' &&
	    STR(ti->path)[0] == '\0' ? "-" : "");
}

static void
human_client(struct tierctl *t, const Pmemtier__ClientStatus *c)
{
	const Pmemtier__Principal	*p = c->principal;
	char				 gr[32], ph[32], al[32], ac[32];
	char				 comm[64], cg[1024];
	uint64_t			 alloc, active;
	int				 w = sz_width(t);

	client_usage(c, &alloc, &active);
	printf("%5" PRIu64 " %7d %-15.15s %6u %6u %6u %*s %*s %*s %*s  %s\n",
	    c->conn_id, p != NULL ? p->pid : 0,
	    human_safe(c->comm, comm, sizeof(comm)),
	    p != NULL ? p->uid : 0, p != NULL ? p->gid : 0, c->leases,
	    w, output_size(t, c->granted, gr, sizeof(gr)),
	    w, output_size(t, c->physical, ph, sizeof(ph)),
	    w, c->n_usage > 0 ? output_size(t, alloc, al, sizeof(al)) : "-",
	    w, c->n_usage > 0 ? output_size(t, active, ac, sizeof(ac)) : "-",
	    human_safe(p != NULL ? p->cgroup : "", cg, sizeof(cg)));
}

static void
human_lease(struct tierctl *t, const Pmemtier__LeaseStatus *l)
{
	char	sz[32], ch[32], ph[32], label[256], cg[1024];
	int	w = sz_width(t);

	printf("%20" PRIu64 " %5" PRIu64 " %7d %-10s %*s %*s %*s %-9s %-12s "
	    "%s\n", l->lease_id, l->conn_id, l->pid, STR(l->tier),
	    w, output_size(t, l->size, sz, sizeof(sz)),
	    w, output_size(t, l->charged, ch, sizeof(ch)),
	    w, output_size(t, l->physical, ph, sizeof(ph)),
	    l->overgrown ? "OVERGROWN" : "ok",
	    l->label != NULL && l->label[0] != '\0' ?
	    human_safe(l->label, label, sizeof(label)) : "-",
	    human_safe(l->cgroup, cg, sizeof(cg)));
}

static void
human_rule(struct tierctl *t, const Pmemtier__QuotaRule *r)
{
	char	lim[32], cg[1024];
	int	w = sz_width(t);

	printf("%-10s %*s %-8s ", STR(r->tier),
	    w, output_size(t, r->limit, lim, sizeof(lim)), STR(r->origin));
	switch (r->selector_case) {
	case PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP:
		printf("cgroup %s\n", human_safe(r->cgroup, cg, sizeof(cg)));
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_UID:
		printf("uid %u\n", r->uid);
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_GID:
		printf("gid %u\n", r->gid);
		break;
	default:
		printf("default\n");
		break;
	}
}

/* "0/1": the node of the CPUs near it / the node its memory is on. */
static void
human_nodes(int numa, int target, char *buf, size_t len)
{
	char	a[16], b[16];

	snprintf(a, sizeof(a), numa >= 0 ? "%d" : "-", numa);
	snprintf(b, sizeof(b), target >= 0 ? "%d" : "-", target);
	snprintf(buf, len, "%s/%s", a, b);
}

static void
human_device(struct tierctl *t, const Pmemtier__DeviceInfo *d)
{
	char		 sz[32], on[32], node[40], detail[1024];
	const char	*what;
	int		 w = sz_width(t);

	human_nodes(d->numa_node, d->target_node, node, sizeof(node));
	if (d->online_bytes > 0)
		output_size(t, d->online_bytes, on, sizeof(on));
	else
		strcpy(on, "-");
	/* The reason says what to do; a device in use shows its mount. */
	what = STR(d->reason)[0] != '\0' ? d->reason :
	    STR(d->mount)[0] != '\0' ? d->mount : "-";
	printf("%-10s %-14s %-10s %*s %*s %-5s %-8s %-12s %s",
	    STR(d->name), STR(d->ns)[0] != '\0' ? d->ns : "-", STR(d->mode),
	    w, output_size(t, d->size, sz, sizeof(sz)), w, on, node,
	    STR(d->state), STR(d->tier)[0] != '\0' ? d->tier : "-",
	    human_safe(what, detail, sizeof(detail)));
	if (STR(d->cxl_region)[0] != '\0')
		printf(" [cxl %s]", human_safe(d->cxl_region, detail,
		    sizeof(detail)));
	putchar('\n');
}

/*
 * One CXL memdev, root decoder or region. The last column says what to
 * do when there is something to do, else where it is: the regions a
 * memdev is in, a decoder's bus, the devices under a region.
 */
static void
human_cxl(struct tierctl *t, const Pmemtier__CxlInfo *c)
{
	char		 sz[32], node[16], where[400], safe[1024];
	int		 w = sz_width(t);

	snprintf(node, sizeof(node), c->target_node >= 0 ? "%d" : "-",
	    c->target_node);
	if (STR(c->reason)[0] != '\0')
		snprintf(where, sizeof(where), "%s", c->reason);
	else if (strcmp(STR(c->kind), "memdev") == 0)
		snprintf(where, sizeof(where), "in %s", STR(c->regions));
	else if (strcmp(STR(c->kind), "region") == 0)
		snprintf(where, sizeof(where), "%s: %s", STR(c->nd_region),
		    STR(c->devices));
	else
		snprintf(where, sizeof(where), "window on %s", STR(c->bus));
	printf("%-10s %-7s %-8s %*s %-4s %-9s %s\n", STR(c->name),
	    STR(c->kind), STR(c->mode)[0] != '\0' ? c->mode : "-",
	    w, output_size(t, c->size, sz, sizeof(sz)), node,
	    STR(c->state)[0] != '\0' ? c->state : "-",
	    human_safe(where, safe, sizeof(safe)));
}

/* A rule's selector as "quota list" prints it: "uid 0", "default". */
static const char *
rule_selector(const Pmemtier__QuotaRule *r, char *buf, size_t len)
{
	switch (r->selector_case) {
	case PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP:
		snprintf(buf, len, "cgroup %s", STR(r->cgroup));
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_UID:
		snprintf(buf, len, "uid %u", r->uid);
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_GID:
		snprintf(buf, len, "gid %u", r->gid);
		break;
	default:
		snprintf(buf, len, "default");
		break;
	}
	return buf;
}

static void
human_usage(struct tierctl *t, const Pmemtier__QuotaUsage *u)
{
	char	used[32], lim[32], bucket[1024], sel[600], rule[700];
	int	w = sz_width(t);

	rule[0] = '\0';
	/* Name the rule when the bucket does not: a glob, the default. */
	if (u->rule != NULL && strcmp(rule_selector(u->rule, sel, sizeof(sel)),
	    STR(u->bucket)) != 0)
		snprintf(rule, sizeof(rule), "  [rule %s on %s]", sel,
		    STR(u->rule->tier));
	printf("%-10s %*s %*s %-5s %s%s\n", STR(u->tier),
	    w, output_size(t, u->used, used, sizeof(used)),
	    w, output_size(t, u->limit, lim, sizeof(lim)),
	    u->over ? "OVER" : "ok",
	    human_safe(u->bucket, bucket, sizeof(bucket)),
	    human_safe(rule, sel, sizeof(sel)));
}

static void
human_list_end(struct tierctl *t, enum tierctl_list l)
{
}

static void
human_total(struct tierctl *t, enum tierctl_list l, size_t total,
    size_t shown)
{
	if (total > shown)
		printf("(%zu more not shown: the daemon caps one reply)\n",
		    total - shown);
}

static void
human_done(struct tierctl *t, const char *what)
{
	printf("%s: ok\n", what);
}

static void
human_end(struct tierctl *t)
{
	fflush(stdout);
}

const struct tierctl_output output_human = {
	.begin = human_begin,
	.daemon = human_daemon,
	.list_begin = human_list_begin,
	.tier = human_tier,
	.client = human_client,
	.lease = human_lease,
	.rule = human_rule,
	.device = human_device,
	.cxl = human_cxl,
	.usage = human_usage,
	.list_end = human_list_end,
	.total = human_total,
	.done = human_done,
	.end = human_end,
};

/* ---- JSON ------------------------------------------------------------ */

static void
json_begin(struct tierctl *t)
{
	t->jw = json_new(stdout);
	json_object_begin(t->jw, NULL);
}

static void
json_principal(struct json_writer *w, const Pmemtier__Principal *p)
{
	json_int(w, "pid", p != NULL ? p->pid : 0);
	json_uint(w, "uid", p != NULL ? p->uid : 0);
	json_uint(w, "gid", p != NULL ? p->gid : 0);
	json_string(w, "cgroup", p != NULL ? p->cgroup : "");
}

static void
json_daemon(struct tierctl *t, const Pmemtier__Status *st)
{
	struct json_writer	*w = t->jw;

	json_object_begin(w, "daemon");
	json_string(w, "version", st->daemon_version);
	json_uint(w, "uptime", st->uptime);
	json_string(w, "socket", st->socket);
	json_bool(w, "full_view", st->full_view);
	json_object_end(w);
	json_object_begin(w, "principal");
	json_principal(w, st->principal);
	json_bool(w, "admin", st->principal != NULL && st->principal->admin);
	json_object_end(w);
}

static void
json_list_begin(struct tierctl *t, enum tierctl_list l)
{
	static const char *key[] = {
		[TIERCTL_LIST_TIERS] = "tiers",
		[TIERCTL_LIST_CLIENTS] = "clients",
		[TIERCTL_LIST_LEASES] = "leases",
		[TIERCTL_LIST_RULES] = "rules",
		[TIERCTL_LIST_DEVICES] = "devices",
		[TIERCTL_LIST_USAGE] = "usage",
		[TIERCTL_LIST_CXL] = "cxl",
	};

	json_array_begin(t->jw, key[l]);
}

static void
json_tier(struct tierctl *t, const Pmemtier__TierInfo *ti)
{
	struct json_writer	*w = t->jw;

	json_object_begin(w, NULL);
	json_string(w, "name", ti->name);
	json_string(w, "backend", ti->backend);
	json_bool(w, "default", ti->is_default);
	if (ti->numa_node >= 0)
		json_int(w, "numa_node", ti->numa_node);
	else
		json_null(w, "numa_node");
	json_string(w, "device", ti->device);
	json_string(w, "path", ti->path);
	json_bool(w, "dax", ti->dax);
	json_uint(w, "capacity", ti->capacity);
	json_uint(w, "granted", ti->granted);
	json_uint(w, "physical", ti->physical);
	json_uint(w, "free", ti->free);
	if (ti->quota_limited)
		json_uint(w, "quota", ti->quota);
	else
		json_null(w, "quota");
	json_uint(w, "used", ti->used);
	json_bool(w, "over_quota", tier_over_quota(ti));
	json_object_end(w);
}

static void
json_client(struct tierctl *t, const Pmemtier__ClientStatus *c)
{
	struct json_writer	*w = t->jw;
	uint64_t		 alloc, active;
	size_t			 i;

	client_usage(c, &alloc, &active);
	json_object_begin(w, NULL);
	json_uint(w, "conn_id", c->conn_id);
	json_principal(w, c->principal);
	json_string(w, "comm", c->comm);
	json_string(w, "client_name", c->client_name);
	json_uint(w, "connected_at", c->connected_at);
	json_uint(w, "leases", c->leases);
	json_uint(w, "granted", c->granted);
	json_uint(w, "physical", c->physical);
	json_uint(w, "allocated", alloc);
	json_uint(w, "active", active);
	json_array_begin(w, "usage");
	for (i = 0; i < c->n_usage; i++) {
		const Pmemtier__KindUsage *u = c->usage[i];

		json_object_begin(w, NULL);
		json_string(w, "kind", u->kind);
		json_string(w, "tier", u->tier);
		json_uint(w, "allocated", u->allocated);
		json_uint(w, "active", u->active);
		json_uint(w, "resident", u->resident);
		json_uint(w, "mapped", u->mapped);
		json_uint(w, "refused", u->refused);
		json_object_end(w);
	}
	json_array_end(w);
	json_object_end(w);
}

static void
json_lease(struct tierctl *t, const Pmemtier__LeaseStatus *l)
{
	struct json_writer	*w = t->jw;

	json_object_begin(w, NULL);
	json_uint(w, "lease_id", l->lease_id);
	json_uint(w, "conn_id", l->conn_id);
	json_int(w, "pid", l->pid);
	json_string(w, "cgroup", l->cgroup);
	json_string(w, "tier", l->tier);
	json_uint(w, "size", l->size);
	json_uint(w, "charged", l->charged);
	json_uint(w, "physical", l->physical);
	json_string(w, "label", l->label);
	json_bool(w, "overgrown", l->overgrown);
	json_object_end(w);
}

static void
json_rule_fields(struct json_writer *w, const Pmemtier__QuotaRule *r)
{
	switch (r->selector_case) {
	case PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP:
		json_string(w, "type", "cgroup");
		json_string(w, "cgroup", r->cgroup);
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_UID:
		json_string(w, "type", "uid");
		json_uint(w, "uid", r->uid);
		break;
	case PMEMTIER__QUOTA_RULE__SELECTOR_GID:
		json_string(w, "type", "gid");
		json_uint(w, "gid", r->gid);
		break;
	default:
		json_string(w, "type", "default");
		break;
	}
	json_string(w, "tier", r->tier);
	json_uint(w, "limit", r->limit);
	json_string(w, "origin", r->origin);
}

static void
json_rule(struct tierctl *t, const Pmemtier__QuotaRule *r)
{
	json_object_begin(t->jw, NULL);
	json_rule_fields(t->jw, r);
	json_object_end(t->jw);
}

static void
json_node(struct json_writer *w, const char *key, int node)
{
	if (node >= 0)
		json_int(w, key, node);
	else
		json_null(w, key);
}

static void
json_device(struct tierctl *t, const Pmemtier__DeviceInfo *d)
{
	struct json_writer	*w = t->jw;

	json_object_begin(w, NULL);
	json_string(w, "name", d->name);
	json_string(w, "namespace", d->ns);
	json_string(w, "namespace_name", d->ns_name);
	json_string(w, "region", d->region);
	json_string(w, "mode", d->mode);
	json_uint(w, "size", d->size);
	json_node(w, "numa_node", d->numa_node);
	json_node(w, "target_node", d->target_node);
	json_string(w, "blockdev", d->blockdev);
	json_string(w, "daxdev", d->daxdev);
	json_string(w, "mount", d->mount);
	json_string(w, "fstype", d->fstype);
	json_bool(w, "dax", d->dax);
	json_uint(w, "online_bytes", d->online_bytes);
	json_string(w, "state", d->state);
	json_string(w, "tier", d->tier);
	json_string(w, "reason", d->reason);
	json_string(w, "cxl_region", d->cxl_region);
	json_object_end(w);
}

static void
json_cxl(struct tierctl *t, const Pmemtier__CxlInfo *c)
{
	struct json_writer	*w = t->jw;

	json_object_begin(w, NULL);
	json_string(w, "kind", c->kind);
	json_string(w, "name", c->name);
	json_string(w, "mode", c->mode);
	json_uint(w, "size", c->size);
	if (strcmp(STR(c->kind), "memdev") == 0) {
		json_uint(w, "ram_size", c->ram_size);
		json_uint(w, "pmem_size", c->pmem_size);
		json_uint(w, "serial", c->serial);
		json_string(w, "host", c->host);
		json_string(w, "port", c->port);
		json_string(w, "regions", c->regions);
		json_string(w, "decoders", c->decoders);
	} else if (strcmp(STR(c->kind), "region") == 0) {
		json_string(w, "decoder", c->decoders);
		json_string(w, "memdevs", c->memdevs);
		json_string(w, "nd_region", c->nd_region);
		json_string(w, "devices", c->devices);
		json_bool(w, "committed", c->committed);
		json_bool(w, "provisioned", c->provisioned);
		json_node(w, "target_node", c->target_node);
	}
	json_string(w, "bus", c->bus);
	json_bool(w, "enabled", c->enabled);
	json_string(w, "state", c->state);
	json_string(w, "reason", c->reason);
	json_object_end(w);
}

static void
json_usage(struct tierctl *t, const Pmemtier__QuotaUsage *u)
{
	struct json_writer	*w = t->jw;

	json_object_begin(w, NULL);
	json_string(w, "bucket", u->bucket);
	json_string(w, "tier", u->tier);
	json_uint(w, "used", u->used);
	json_uint(w, "limit", u->limit);
	json_bool(w, "over", u->over);
	if (u->rule != NULL) {
		json_object_begin(w, "rule");
		json_rule_fields(w, u->rule);
		json_object_end(w);
	} else
		json_null(w, "rule");
	json_object_end(w);
}

static void
json_list_end(struct tierctl *t, enum tierctl_list l)
{
	json_array_end(t->jw);
}

static void
json_total(struct tierctl *t, enum tierctl_list l, size_t total,
    size_t shown)
{
	static const char *key[] = {
		[TIERCTL_LIST_TIERS] = "tiers_total",
		[TIERCTL_LIST_CLIENTS] = "clients_total",
		[TIERCTL_LIST_LEASES] = "leases_total",
		[TIERCTL_LIST_RULES] = "rules_total",
		[TIERCTL_LIST_DEVICES] = "devices_total",
		[TIERCTL_LIST_USAGE] = "usage_total",
		[TIERCTL_LIST_CXL] = "cxl_total",
	};

	json_uint(t->jw, key[l], total);
}

static void
json_done(struct tierctl *t, const char *what)
{
	json_string(t->jw, "command", what);
	json_bool(t->jw, "ok", true);
}

static void
json_end(struct tierctl *t)
{
	json_object_end(t->jw);
	if (json_free(t->jw) < 0)
		err(TIERCTL_EXIT_DAEMON, "stdout");
	t->jw = NULL;
}

const struct tierctl_output output_json = {
	.begin = json_begin,
	.daemon = json_daemon,
	.list_begin = json_list_begin,
	.tier = json_tier,
	.client = json_client,
	.lease = json_lease,
	.rule = json_rule,
	.device = json_device,
	.cxl = json_cxl,
	.usage = json_usage,
	.list_end = json_list_end,
	.total = json_total,
	.done = json_done,
	.end = json_end,
};
