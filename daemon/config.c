/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <ini.h>

#include "config.h"
#include "log.h"

/* Parser state carried through inih's callback. */
struct config_ctx {
	struct pmtd_config	*conf;
	char			 section[PMTD_NAME_MAX + 16];
	struct tier_conf	*tier;		/* current [tier X] */
	struct quota_rule	*rule;		/* current [quota X] */
	struct device_conf	*dev;		/* current [device X] */
	int			 in_disc;	/* in [discovery] */
	int			 in_metrics;	/* in [metrics] */
	int			 rule_sels;	/* selectors seen in it */
	unsigned		 nrules;
	char			 keys[32][32];	/* keys seen in the section */
	unsigned		 nkeys;
	char			*err;
	size_t			 errlen;
	int			 failed;
};

static int	config_fail(struct config_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
config_fail(struct config_ctx *ctx, const char *fmt, ...)
{
	va_list	ap;

	if (!ctx->failed) {
		va_start(ap, fmt);
		vsnprintf(ctx->err, ctx->errlen, fmt, ap);
		va_end(ap);
		ctx->failed = 1;
	}
	return 0;
}

static int
config_bool(const char *v, int *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
config_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char	*end;

	if (*v == '\0' || *v == '-')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (errno != 0 || *end != '\0' || *out > max)
		return -1;
	return 0;
}

static int
config_copy(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	strcpy(dst, v);
	return 0;
}

static int
config_daemon_key(struct config_ctx *ctx, const char *k, const char *v)
{
	struct pmtd_config	*c = ctx->conf;
	unsigned long long	 n;
	int			 lvl;

	if (strcmp(k, "socket") == 0) {
		if (v[0] != '/' || config_copy(c->socket, sizeof(c->socket), v))
			return config_fail(ctx, "[daemon] socket: "
			    "an absolute path is needed, got \"%s\"", v);
	} else if (strcmp(k, "socket_mode") == 0) {
		char	*end;
		long	 m = strtol(v, &end, 8);

		if (*v == '\0' || *end != '\0' || m < 0 || m > 0777)
			return config_fail(ctx, "[daemon] socket_mode: "
			    "an octal mode like 0660 is needed, got \"%s\"", v);
		c->socket_mode = (mode_t)m;
	} else if (strcmp(k, "socket_group") == 0) {
		if (config_copy(c->socket_group, sizeof(c->socket_group), v))
			return config_fail(ctx, "[daemon] socket_group: too long");
	} else if (strcmp(k, "admin_group") == 0) {
		if (config_copy(c->admin_group, sizeof(c->admin_group), v))
			return config_fail(ctx, "[daemon] admin_group: too long");
	} else if (strcmp(k, "state_dir") == 0) {
		if (v[0] != '/' ||
		    config_copy(c->state_dir, sizeof(c->state_dir), v))
			return config_fail(ctx, "[daemon] state_dir: "
			    "an absolute path is needed, got \"%s\"", v);
	} else if (strcmp(k, "max_connections_per_uid") == 0) {
		if (config_uint(v, 1000000, &n) || n == 0)
			return config_fail(ctx, "[daemon] %s: a number "
			    "from 1 to 1000000 is needed, got \"%s\"", k, v);
		c->max_conn_per_uid = (unsigned)n;
	} else if (strcmp(k, "max_leases_per_uid") == 0) {
		if (config_uint(v, 1000000, &n) || n == 0)
			return config_fail(ctx, "[daemon] %s: a number "
			    "from 1 to 1000000 is needed, got \"%s\"", k, v);
		c->max_leases_per_uid = (unsigned)n;
	} else if (strcmp(k, "max_leases_per_connection") == 0) {
		if (config_uint(v, 1000000, &n) || n == 0)
			return config_fail(ctx, "[daemon] %s: a number "
			    "from 1 to 1000000 is needed, got \"%s\"", k, v);
		c->max_leases_per_conn = (unsigned)n;
	} else if (strcmp(k, "max_bytes_per_connection") == 0) {
		if (pmtd_parse_size(v, &c->max_bytes_per_conn))
			return config_fail(ctx, "[daemon] %s: a size like "
			    "64G is needed, got \"%s\"", k, v);
	} else if (strcmp(k, "audit_interval") == 0) {
		if (config_uint(v, 86400, &n))
			return config_fail(ctx, "[daemon] %s: seconds "
			    "from 0 to 86400 are needed, got \"%s\"", k, v);
		c->audit_interval = (unsigned)n;
	} else if (strcmp(k, "log_level") == 0) {
		if ((lvl = log_level_parse(v)) < 0)
			return config_fail(ctx, "[daemon] log_level: one of "
			    "debug, info, notice, warning, error is needed, "
			    "got \"%s\"", v);
		c->log_level = lvl;
	} else
		return config_fail(ctx, "[daemon]: unknown key \"%s\"", k);
	return 1;
}

static int
config_tier_key(struct config_ctx *ctx, const char *k, const char *v)
{
	struct tier_conf	*t = ctx->tier;
	unsigned long long	 n;
	int			 b;

	if (strcmp(k, "backend") == 0) {
		if (strcmp(v, "file") != 0 && strcmp(v, "kmem") != 0 &&
		    strcmp(v, "fsdax") != 0)
			return config_fail(ctx, "[tier %s] backend: one of "
			    "file, kmem, fsdax is needed, got \"%s\"",
			    t->name, v);
		strcpy(t->backend, v);
	} else if (strcmp(k, "path") == 0) {
		if (v[0] != '/' || config_copy(t->path, sizeof(t->path), v))
			return config_fail(ctx, "[tier %s] path: an absolute "
			    "path is needed, got \"%s\"", t->name, v);
	} else if (strcmp(k, "capacity") == 0) {
		if (pmtd_parse_size(v, &t->capacity) || t->capacity == 0)
			return config_fail(ctx, "[tier %s] capacity: a size "
			    "like 1G is needed, got \"%s\"", t->name, v);
	} else if (strcmp(k, "node") == 0) {
		if (config_uint(v, 4095, &n))
			return config_fail(ctx, "[tier %s] node: a NUMA node "
			    "number is needed, got \"%s\"", t->name, v);
		t->node = (int)n;
	} else if (strcmp(k, "default") == 0) {
		if (config_bool(v, &t->is_default))
			return config_fail(ctx, "[tier %s] default: yes or no "
			    "is needed, got \"%s\"", t->name, v);
	} else if (strcmp(k, "device") == 0) {
		if (config_copy(t->device, sizeof(t->device), v))
			return config_fail(ctx, "[tier %s] device: too long",
			    t->name);
	} else if (strcmp(k, "enforce") == 0) {
		if (strcmp(v, "audit") == 0)
			t->enforce = TIER_ENFORCE_AUDIT;
		else if (strcmp(v, "project-quota") == 0)
			t->enforce = TIER_ENFORCE_PROJQUOTA;
		else
			return config_fail(ctx, "[tier %s] enforce: audit or "
			    "project-quota is needed, got \"%s\"", t->name, v);
	} else if (strcmp(k, "project_base") == 0) {
		/* 0 is every file's default project, -1 no project at all. */
		if (config_uint(v, UINT32_MAX - 1, &n) || n == 0)
			return config_fail(ctx, "[tier %s] project_base: a "
			    "project id from 1 to 4294967294 is needed, got "
			    "\"%s\"", t->name, v);
		t->project_base = (uint32_t)n;
	} else if (strcmp(k, "free_off_loop") == 0) {
		if (strcmp(v, "auto") == 0)
			t->free_off_loop = TIER_FREE_AUTO;
		else if (config_bool(v, &b) == 0)
			t->free_off_loop = b ? TIER_FREE_YES : TIER_FREE_NO;
		else
			return config_fail(ctx, "[tier %s] free_off_loop: auto, "
			    "yes or no is needed, got \"%s\"", t->name, v);
	} else
		return config_fail(ctx, "[tier %s]: unknown key \"%s\"",
		    t->name, k);
	return 1;
}

static int
config_discovery_key(struct config_ctx *ctx, const char *k, const char *v)
{
	struct discovery_conf	*d = &ctx->conf->disc;
	int			*flag = NULL;

	if (strcmp(k, "enable") == 0)
		flag = &d->enable;
	else if (strcmp(k, "fsdax") == 0)
		flag = &d->fsdax;
	else if (strcmp(k, "kmem") == 0)
		flag = &d->kmem;
	else if (strcmp(k, "include") == 0 || strcmp(k, "exclude") == 0) {
		char	*dst = k[0] == 'i' ? d->include : d->exclude;

		if (config_copy(dst, sizeof(d->include), v))
			return config_fail(ctx, "[discovery] %s: too long", k);
		return 1;
	} else
		return config_fail(ctx, "[discovery]: unknown key \"%s\"", k);
	if (config_bool(v, flag))
		return config_fail(ctx, "[discovery] %s: yes or no is needed, "
		    "got \"%s\"", k, v);
	return 1;
}

static int
config_device_key(struct config_ctx *ctx, const char *k, const char *v)
{
	struct device_conf	*dc = ctx->dev;
	int			*flag = NULL;

	if (strcmp(k, "online") == 0)
		flag = &dc->online;
	else if (strcmp(k, "movable") == 0)
		flag = &dc->movable;
	else if (strcmp(k, "default") == 0)
		flag = &dc->is_default;
	else if (strcmp(k, "ignore") == 0)
		flag = &dc->ignore;
	else if (strcmp(k, "tier") == 0) {
		if (config_copy(dc->tier, sizeof(dc->tier), v) ||
		    strchr(v, ' ') != NULL || strcmp(v, "*") == 0)
			return config_fail(ctx, "[device %s] tier: bad tier "
			    "name \"%s\"", dc->pattern, v);
		return 1;
	} else if (strcmp(k, "region") == 0) {
		if (strcmp(v, "pmem") == 0)
			snprintf(dc->region, sizeof(dc->region), "pmem");
		else if (strcmp(v, "no") == 0 || strcmp(v, "none") == 0)
			dc->region[0] = '\0';
		else if (strcmp(v, "ram") == 0)
			return config_fail(ctx, "[device %s] region = ram: "
			    "this pmemtierd cannot make volatile regions "
			    "(libcxl 76); a ram region made by firmware is "
			    "used without it", dc->pattern);
		else
			return config_fail(ctx, "[device %s] region: pmem or "
			    "none is needed, got \"%s\"", dc->pattern, v);
		return 1;
	} else if (strcmp(k, "capacity") == 0) {
		if (pmtd_parse_size(v, &dc->capacity) || dc->capacity == 0)
			return config_fail(ctx, "[device %s] capacity: a size "
			    "like 32G is needed, got \"%s\"", dc->pattern, v);
		return 1;
	} else
		return config_fail(ctx, "[device %s]: unknown key \"%s\"",
		    dc->pattern, k);
	if (config_bool(v, flag))
		return config_fail(ctx, "[device %s] %s: yes or no is needed, "
		    "got \"%s\"", dc->pattern, k, v);
	return 1;
}

/* A uid or gid given as a number or a name. */
/*
 * "127.0.0.1:9466" or "[::1]:9466": a numeric address (no name lookup
 * while parsing) and a port from 1 to 65535.
 */
int
config_listen_split(const char *v, char *host, size_t hostlen,
    unsigned *port)
{
	const char		*colon, *h = v;
	size_t			 n;
	unsigned long long	 p;
	unsigned char		 addr[16];

	if (v[0] == '[') {
		h = v + 1;
		if ((colon = strchr(h, ']')) == NULL || colon[1] != ':')
			return -1;
		n = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(v, ':')) == NULL)
			return -1;
		n = (size_t)(colon - v);
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (inet_pton(v[0] == '[' ? AF_INET6 : AF_INET, host, addr) != 1)
		return -1;
	if (config_uint(colon + 1, 65535, &p) != 0 || p == 0)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static int
config_metrics_key(struct config_ctx *ctx, const char *k, const char *v)
{
	struct metrics_conf	*m = &ctx->conf->metrics;
	char			 host[64];
	unsigned		 port;

	if (strcmp(k, "listen") == 0) {
		if (config_listen_split(v, host, sizeof(host), &port) != 0 ||
		    config_copy(m->listen, sizeof(m->listen), v))
			return config_fail(ctx, "[metrics] listen: an IP "
			    "address and a port like 127.0.0.1:9466 or "
			    "[::1]:9466 are needed, got \"%s\"", v);
	} else if (strcmp(k, "socket") == 0) {
		if (v[0] != '/' || config_copy(m->socket, sizeof(m->socket), v)
		    || strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return config_fail(ctx, "[metrics] socket: an absolute "
			    "path of at most 107 bytes is needed, got \"%s\"",
			    v);
	} else if (strcmp(k, "socket_mode") == 0) {
		char	*end;
		long	 mode = strtol(v, &end, 8);

		if (*v == '\0' || *end != '\0' || mode < 0 || mode > 0777)
			return config_fail(ctx, "[metrics] socket_mode: "
			    "an octal mode like 0660 is needed, got \"%s\"", v);
		m->socket_mode = (mode_t)mode;
	} else if (strcmp(k, "socket_group") == 0) {
		if (config_copy(m->socket_group, sizeof(m->socket_group), v))
			return config_fail(ctx, "[metrics] socket_group: too "
			    "long");
	} else if (strcmp(k, "buckets") == 0) {
		if (config_bool(v, &m->buckets))
			return config_fail(ctx, "[metrics] buckets: yes or no "
			    "is needed, got \"%s\"", v);
	} else
		return config_fail(ctx, "[metrics]: unknown key \"%s\" "
		    "(listen, socket, socket_mode, socket_group or buckets "
		    "expected)", k);
	return 1;
}

static int
config_id(const char *v, int is_gid, uint32_t *out)
{
	unsigned long long	 n;

	if (config_uint(v, UINT32_MAX - 1, &n) == 0) {
		*out = (uint32_t)n;
		return 0;
	}
	if (is_gid) {
		struct group	*gr = getgrnam(v);

		if (gr == NULL)
			return -1;
		*out = gr->gr_gid;
	} else {
		struct passwd	*pw = getpwnam(v);

		if (pw == NULL)
			return -1;
		*out = pw->pw_uid;
	}
	return 0;
}

static int
config_quota_key(struct config_ctx *ctx, const char *k, const char *v)
{
	struct quota_rule	*r = ctx->rule;
	int			 b;

	if (strcmp(k, "cgroup") == 0) {
		if (v[0] != '/' || config_copy(r->cgroup, sizeof(r->cgroup), v))
			return config_fail(ctx, "[quota %s] cgroup: a pattern "
			    "starting with / is needed, got \"%s\"", r->name, v);
		r->sel = QUOTA_SEL_CGROUP;
		ctx->rule_sels++;
	} else if (strcmp(k, "uid") == 0 || strcmp(k, "gid") == 0) {
		int	is_gid = k[0] == 'g';

		if (config_id(v, is_gid, &r->id))
			return config_fail(ctx, "[quota %s] %s: unknown %s "
			    "\"%s\"", r->name, k, is_gid ? "group" : "user", v);
		r->sel = is_gid ? QUOTA_SEL_GID : QUOTA_SEL_UID;
		ctx->rule_sels++;
	} else if (strcmp(k, "default") == 0) {
		if (config_bool(v, &b) || !b)
			return config_fail(ctx, "[quota %s] default: only "
			    "\"yes\" makes sense here", r->name);
		r->sel = QUOTA_SEL_DEFAULT;
		ctx->rule_sels++;
	} else if (strcmp(k, "tier") == 0) {
		if (config_copy(r->tier, sizeof(r->tier), v) || v[0] == '\0')
			return config_fail(ctx, "[quota %s] tier: a tier name "
			    "or * is needed", r->name);
	} else if (strcmp(k, "limit") == 0) {
		if (pmtd_parse_size(v, &r->limit))
			return config_fail(ctx, "[quota %s] limit: a size like "
			    "512M is needed, got \"%s\"", r->name, v);
	} else
		return config_fail(ctx, "[quota %s]: unknown key \"%s\"",
		    r->name, k);
	return 1;
}

/* Starts the object for a section the first time a key of it is seen. */
static int
config_section(struct config_ctx *ctx, const char *section)
{
	struct pmtd_config	*c = ctx->conf;
	struct tier_conf	*t;
	struct quota_rule	*r;
	const char		*name;

	if (strcmp(section, ctx->section) == 0)
		return 0;
	if (strlen(section) >= sizeof(ctx->section))
		return config_fail(ctx, "[%.40s...]: section name too long",
		    section), -1;
	strcpy(ctx->section, section);
	ctx->nkeys = 0;
	ctx->tier = NULL;
	ctx->rule = NULL;
	ctx->dev = NULL;
	ctx->in_disc = 0;
	ctx->in_metrics = 0;
	if (strcmp(section, "daemon") == 0)
		return 0;
	if (strcmp(section, "metrics") == 0) {
		ctx->in_metrics = 1;
		return 0;
	}
	if (strcmp(section, "discovery") == 0) {
		ctx->in_disc = 1;
		return 0;
	}
	if (strncmp(section, "device ", 7) == 0) {
		struct device_conf	*dc;

		name = section + 7;
		if (*name == '\0' || strlen(name) >= PMTD_NAME_MAX)
			return config_fail(ctx, "[%s]: bad device name",
			    section), -1;
		TAILQ_FOREACH(dc, &c->devices, entry)
			if (strcmp(dc->pattern, name) == 0)
				return config_fail(ctx, "[%s]: device defined "
				    "twice", section), -1;
		if ((dc = calloc(1, sizeof(*dc))) == NULL)
			return config_fail(ctx, "out of memory"), -1;
		strcpy(dc->pattern, name);
		dc->movable = 1;
		TAILQ_INSERT_TAIL(&c->devices, dc, entry);
		ctx->dev = dc;
		return 0;
	}
	if (strncmp(section, "tier ", 5) == 0) {
		name = section + 5;
		if (*name == '\0' || strlen(name) >= PMTD_NAME_MAX ||
		    strcmp(name, "*") == 0 || strchr(name, ' ') != NULL)
			return config_fail(ctx, "[%s]: bad tier name", section),
			    -1;
		TAILQ_FOREACH(t, &c->tiers, entry)
			if (strcmp(t->name, name) == 0)
				return config_fail(ctx, "[%s]: tier defined "
				    "twice", section), -1;
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return config_fail(ctx, "out of memory"), -1;
		strcpy(t->name, name);
		t->node = -1;
		TAILQ_INSERT_TAIL(&c->tiers, t, entry);
		ctx->tier = t;
		return 0;
	}
	if (strncmp(section, "quota ", 6) == 0) {
		name = section + 6;
		if (*name == '\0' || strlen(name) >= PMTD_NAME_MAX)
			return config_fail(ctx, "[%s]: bad rule name", section),
			    -1;
		TAILQ_FOREACH(r, &c->rules, entry)
			if (strcmp(r->name, name) == 0)
				return config_fail(ctx, "[%s]: rule defined "
				    "twice", section), -1;
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return config_fail(ctx, "out of memory"), -1;
		strcpy(r->name, name);
		r->origin = QUOTA_ORIGIN_CONFIG;
		r->order = ctx->nrules++;
		r->limit = UINT64_MAX;
		TAILQ_INSERT_TAIL(&c->rules, r, entry);
		ctx->rule = r;
		ctx->rule_sels = 0;
		return 0;
	}
	return config_fail(ctx, "[%s]: unknown section (daemon, tier NAME, "
	    "quota NAME, discovery, device NAME or metrics expected)",
	    section), -1;
}

/*
 * A key given twice in one section is a mistake (inih also merges two
 * sections of the same name that follow each other, caught here too).
 */
static int
config_seen(struct config_ctx *ctx, const char *k)
{
	unsigned	i;

	for (i = 0; i < ctx->nkeys; i++)
		if (strcmp(ctx->keys[i], k) == 0)
			return 1;
	if (ctx->nkeys < 32 && strlen(k) < sizeof(ctx->keys[0]))
		strcpy(ctx->keys[ctx->nkeys++], k);
	return 0;
}

static int
config_handler(void *user, const char *section, const char *k, const char *v)
{
	struct config_ctx	*ctx = user;

	if (ctx->failed)
		return 0;
	if (config_section(ctx, section) != 0)
		return 0;
	if (config_seen(ctx, k))
		return config_fail(ctx, "[%s]: %s given twice", section, k);
	if (ctx->tier != NULL)
		return config_tier_key(ctx, k, v);
	if (ctx->dev != NULL)
		return config_device_key(ctx, k, v);
	if (ctx->in_disc)
		return config_discovery_key(ctx, k, v);
	if (ctx->in_metrics)
		return config_metrics_key(ctx, k, v);
	if (ctx->rule != NULL) {
		int	ok = config_quota_key(ctx, k, v);

		if (ok && ctx->rule_sels > 1)
			return config_fail(ctx, "[quota %s]: exactly one of "
			    "cgroup, uid, gid, default is allowed",
			    ctx->rule->name);
		return ok;
	}
	if (strcmp(section, "daemon") == 0)
		return config_daemon_key(ctx, k, v);
	return config_fail(ctx, "key \"%s\" outside any section", k);
}

static struct pmtd_config *
config_new(void)
{
	struct pmtd_config	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	TAILQ_INIT(&c->tiers);
	TAILQ_INIT(&c->rules);
	TAILQ_INIT(&c->devices);
	c->metrics.socket_mode = 0660;
	c->metrics.buckets = 1;
	c->disc.fsdax = 1;
	c->disc.kmem = 1;
	snprintf(c->socket, sizeof(c->socket), "%s", PMEMTIER_DEFAULT_SOCKET);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s",
	    PMEMTIER_DEFAULT_STATEDIR);
	c->socket_mode = 0660;
	c->max_conn_per_uid = 64;
	c->max_leases_per_conn = 4096;
	/*
	 * Every lease is a descriptor in the daemon: without a cap across a
	 * uid's connections, one user's 64 connections could hold 262144 of
	 * them and run the daemon out of descriptors for everyone else.
	 */
	c->max_leases_per_uid = 16384;
	c->max_bytes_per_conn = 0;
	c->audit_interval = 10;
	c->log_level = LOG_INFO;
	return c;
}

/* Checks what a single key cannot: whole sections and cross references. */
static int
config_validate(struct config_ctx *ctx)
{
	struct pmtd_config	*c = ctx->conf;
	struct tier_conf	*t, *def = NULL;
	struct quota_rule	*r;

	/* With discovery on, the tiers may all come from devices. */
	if (TAILQ_EMPTY(&c->tiers) && !c->disc.enable)
		return config_fail(ctx, "no [tier NAME] section: at least "
		    "one tier is needed (or [discovery] enable = yes)"), -1;
	TAILQ_FOREACH(t, &c->tiers, entry) {
		if (t->backend[0] == '\0')
			return config_fail(ctx, "[tier %s]: backend missing",
			    t->name), -1;
		if (t->capacity == 0)
			return config_fail(ctx, "[tier %s]: capacity missing",
			    t->name), -1;
		if (strcmp(t->backend, "kmem") != 0 && t->path[0] == '\0')
			return config_fail(ctx, "[tier %s]: path missing "
			    "(a %s tier needs a directory)", t->name,
			    t->backend), -1;
		if (strcmp(t->backend, "kmem") == 0 && t->node < 0)
			return config_fail(ctx, "[tier %s]: node missing "
			    "(a kmem tier is bound to a NUMA node)", t->name),
			    -1;
		/* A kmem lease is a memfd sealed against growth already. */
		if (t->enforce == TIER_ENFORCE_PROJQUOTA &&
		    strcmp(t->backend, "file") != 0 &&
		    strcmp(t->backend, "fsdax") != 0)
			return config_fail(ctx, "[tier %s]: enforce = "
			    "project-quota needs a file or fsdax tier, not %s "
			    "(its leases cannot grow)", t->name, t->backend),
			    -1;
		if (t->free_off_loop != TIER_FREE_AUTO &&
		    strcmp(t->backend, "kmem") == 0)
			return config_fail(ctx, "[tier %s]: free_off_loop is "
			    "for file and fsdax tiers (a kmem lease is a memfd, "
			    "freed on the loop)", t->name), -1;
		if (t->project_base != 0 &&
		    t->enforce != TIER_ENFORCE_PROJQUOTA)
			return config_fail(ctx, "[tier %s]: project_base is "
			    "only used with enforce = project-quota", t->name),
			    -1;
		if (t->is_default) {
			if (def != NULL)
				return config_fail(ctx, "[tier %s]: tier %s is "
				    "already the default", t->name, def->name),
				    -1;
			def = t;
		}
	}
	TAILQ_FOREACH(r, &c->rules, entry) {
		if (r->limit == UINT64_MAX)
			return config_fail(ctx, "[quota %s]: limit missing",
			    r->name), -1;
		if (r->tier[0] == '\0')
			return config_fail(ctx, "[quota %s]: tier missing "
			    "(a tier name or *)", r->name), -1;
		if (strcmp(r->tier, "*") == 0)
			continue;
		TAILQ_FOREACH(t, &c->tiers, entry)
			if (strcmp(t->name, r->tier) == 0)
				break;
		if (t == NULL)
			return config_fail(ctx, "[quota %s]: no tier named "
			    "\"%s\"", r->name, r->tier), -1;
	}
	return 0;
}

/*
 * inih cannot tell a rule without selector from one with; count them per
 * section by re-walking: a rule whose selector was never set keeps the
 * QUOTA_SEL_CGROUP zero value with an empty pattern.
 */
static int
config_check_selectors(struct config_ctx *ctx)
{
	struct quota_rule	*r;

	TAILQ_FOREACH(r, &ctx->conf->rules, entry)
		if (r->sel == QUOTA_SEL_CGROUP && r->cgroup[0] == '\0')
			return config_fail(ctx, "[quota %s]: one of cgroup, "
			    "uid, gid or default = yes is needed", r->name), -1;
	return 0;
}

/* Prefixes the error with where it is: "file:line: " or "file: ". */
static void
config_where(struct config_ctx *ctx, const char *what, int line)
{
	char	tmp[1024];

	if (line > 0)
		snprintf(tmp, sizeof(tmp), "%s:%d: %s", what, line, ctx->err);
	else
		snprintf(tmp, sizeof(tmp), "%s: %s", what, ctx->err);
	snprintf(ctx->err, ctx->errlen, "%s", tmp);
}

static struct pmtd_config *
config_finish(struct config_ctx *ctx, int rc, const char *what)
{
	if (rc < 0) {
		snprintf(ctx->err, ctx->errlen, "%s: cannot open: %s", what,
		    rc == -1 ? strerror(errno) : "out of memory");
		config_free(ctx->conf);
		return NULL;
	}
	if (rc > 0 && !ctx->failed)
		config_fail(ctx, "syntax error");
	if (ctx->failed) {
		config_where(ctx, what, rc);
		config_free(ctx->conf);
		return NULL;
	}
	if (config_check_selectors(ctx) != 0 || config_validate(ctx) != 0) {
		config_where(ctx, what, 0);
		config_free(ctx->conf);
		return NULL;
	}
	return ctx->conf;
}

/* ini_parse() and ini_parse_string() alike: parse src into a new config. */
static struct pmtd_config *
config_parse(int (*parse)(const char *, ini_handler, void *), const char *src,
    const char *name, char *err, size_t errlen)
{
	struct config_ctx	ctx;
	int			rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.err = err;
	ctx.errlen = errlen;
	if ((ctx.conf = config_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = parse(src, config_handler, &ctx);
	return config_finish(&ctx, rc, name);
}

struct pmtd_config *
config_parse_file(const char *path, char *err, size_t errlen)
{
	return config_parse(ini_parse, path, path, err, errlen);
}

struct pmtd_config *
config_parse_string(const char *text, char *err, size_t errlen)
{
	return config_parse(ini_parse_string, text, "(string)", err, errlen);
}

void
config_rules_free(struct quota_rules *rules)
{
	struct quota_rule	*r;

	while ((r = TAILQ_FIRST(rules)) != NULL) {
		TAILQ_REMOVE(rules, r, entry);
		free(r);
	}
}

void
config_free(struct pmtd_config *c)
{
	struct tier_conf	*t;
	struct device_conf	*dc;

	if (c == NULL)
		return;
	while ((dc = TAILQ_FIRST(&c->devices)) != NULL) {
		TAILQ_REMOVE(&c->devices, dc, entry);
		free(dc);
	}
	while ((t = TAILQ_FIRST(&c->tiers)) != NULL) {
		TAILQ_REMOVE(&c->tiers, t, entry);
		free(t);
	}
	config_rules_free(&c->rules);
	free(c);
}

struct tier_conf *
config_default_tier(struct pmtd_config *c)
{
	struct tier_conf	*t;

	TAILQ_FOREACH(t, &c->tiers, entry)
		if (t->is_default)
			return t;
	/*
	 * The first tier in the file, never a discovered one: which device
	 * is found first is no choice of the admin's (rescan.c).
	 */
	TAILQ_FOREACH(t, &c->tiers, entry)
		if (!t->discovered)
			return t;
	return NULL;
}

const char *
config_sel_name(enum quota_sel sel)
{
	switch (sel) {
	case QUOTA_SEL_CGROUP:	return "cgroup";
	case QUOTA_SEL_UID:	return "uid";
	case QUOTA_SEL_GID:	return "gid";
	case QUOTA_SEL_DEFAULT:	return "default";
	}
	return "?";
}
