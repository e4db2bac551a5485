/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit: the config parser (every key, defaults, and each kind of error). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "pmemtierd.h"

static char	err[1024];

static struct pmtd_config *
parse(const char *text)
{
	err[0] = '\0';
	return config_parse_string(text, err, sizeof(err));
}

static void
test_full(void **state)
{
	struct pmtd_config	*c;
	struct tier_conf	*t;
	struct quota_rule	*r;

	c = parse("[daemon]\n"
	    "socket = /run/x.sock\nsocket_mode = 0600\nsocket_group = g\n"
	    "admin_group = adm\nstate_dir = /var/lib/x\n"
	    "max_connections_per_uid = 7\nmax_leases_per_connection = 9\n"
	    "max_bytes_per_connection = 3G\naudit_interval = 0\n"
	    "log_level = debug\n"
	    "[tier pmem]\nbackend = file\npath = /srv/p ; comment\n"
	    "capacity = 1G\ndefault = yes\n"
	    "[tier fast]\nbackend = kmem\nnode = 1\ncapacity = 256M\n"
	    "[quota web]\ncgroup = /system.slice/web-*.scope\ntier = pmem\n"
	    "limit = 512M\n"
	    "[quota all]\ndefault = yes\ntier = *\nlimit = 1T\n"
	    "[quota root]\nuid = 0\ntier = fast\nlimit = 4K\n"
	    "[quota grp]\ngid = 100\ntier = pmem\nlimit = 0\n");
	assert_non_null(c);
	assert_string_equal(c->socket, "/run/x.sock");
	assert_int_equal(c->socket_mode, 0600);
	assert_string_equal(c->socket_group, "g");
	assert_string_equal(c->admin_group, "adm");
	assert_string_equal(c->state_dir, "/var/lib/x");
	assert_int_equal(c->max_conn_per_uid, 7);
	assert_int_equal(c->max_leases_per_conn, 9);
	assert_int_equal(c->max_bytes_per_conn, 3ULL << 30);
	assert_int_equal(c->audit_interval, 0);
	assert_int_equal(c->log_level, LOG_DEBUG);
	t = TAILQ_FIRST(&c->tiers);
	assert_string_equal(t->name, "pmem");
	assert_string_equal(t->backend, "file");
	assert_string_equal(t->path, "/srv/p");
	assert_int_equal(t->capacity, 1ULL << 30);
	assert_true(t->is_default);
	assert_ptr_equal(config_default_tier(c), t);
	t = TAILQ_NEXT(t, entry);
	assert_string_equal(t->name, "fast");
	assert_int_equal(t->node, 1);
	assert_false(t->is_default);
	r = TAILQ_FIRST(&c->rules);
	assert_string_equal(r->name, "web");
	assert_int_equal(r->sel, QUOTA_SEL_CGROUP);
	assert_string_equal(r->cgroup, "/system.slice/web-*.scope");
	assert_int_equal(r->limit, 512ULL << 20);
	assert_int_equal(r->origin, QUOTA_ORIGIN_CONFIG);
	r = TAILQ_NEXT(r, entry);
	assert_int_equal(r->sel, QUOTA_SEL_DEFAULT);
	assert_string_equal(r->tier, "*");
	r = TAILQ_NEXT(r, entry);
	assert_int_equal(r->sel, QUOTA_SEL_UID);
	assert_int_equal(r->id, 0);
	r = TAILQ_NEXT(r, entry);
	assert_int_equal(r->sel, QUOTA_SEL_GID);
	assert_int_equal(r->id, 100);
	assert_int_equal(r->limit, 0);
	assert_true(r->order > TAILQ_FIRST(&c->rules)->order);
	config_free(c);
}

static void
test_defaults(void **state)
{
	struct pmtd_config	*c;

	c = parse("[tier a]\nbackend = file\npath = /a\ncapacity = 1M\n"
	    "[tier b]\nbackend = file\npath = /b\ncapacity = 1M\n");
	assert_non_null(c);
	assert_string_equal(c->socket, PMEMTIER_DEFAULT_SOCKET);
	assert_string_equal(c->state_dir, PMEMTIER_DEFAULT_STATEDIR);
	assert_int_equal(c->socket_mode, 0660);
	assert_int_equal(c->max_conn_per_uid, 64);
	assert_int_equal(c->max_leases_per_conn, 4096);
	assert_int_equal(c->max_bytes_per_conn, 0);
	assert_int_equal(c->log_level, LOG_INFO);
	/* No tier marked default: the first one is. */
	assert_string_equal(config_default_tier(c)->name, "a");
	config_free(c);
}

/* Each bad config is refused with a message naming the problem. */
static void
test_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} cases[] = {
		{ "[daemon]\nbogus = 1\n", "unknown key \"bogus\"" },
		{ "[daemon]\nsocket = relative\n", "absolute path" },
		{ "[daemon]\nsocket_mode = 0999\n", "octal" },
		{ "[daemon]\nlog_level = loud\n", "log_level" },
		{ "[daemon]\nmax_connections_per_uid = 0\n", "from 1" },
		{ "[daemon]\nsocket = /s\n", "at least one tier" },
		{ "[tier a]\nbackend = tape\n", "backend" },
		{ "[tier a]\nbackend = file\ncapacity = 1M\n", "path missing" },
		{ "[tier a]\nbackend = kmem\ncapacity = 1M\n", "node missing" },
		{ "[tier a]\nbackend = file\npath = /a\n", "capacity missing" },
		{ "[tier a]\nbackend = file\npath = /a\ncapacity = 1Q\n",
		    "capacity" },
		{ "[tier a]\nbackend = file\npath = /a\ncapacity = 0\n",
		    "capacity" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\ndefault=yes\n"
		    "[tier b]\nbackend=file\npath=/b\ncapacity=1M\n"
		    "default=yes\n", "already the default" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[tier a]\nbackend=file\n", "backend given twice" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[tier b]\nbackend=file\npath=/b\ncapacity=1M\n"
		    "[tier a]\ndefault=yes\n", "defined twice" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[quota q]\nuid = 0\ngid = 0\ntier = a\nlimit = 1M\n",
		    "exactly one" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[quota q]\ntier = a\nlimit = 1M\n", "one of cgroup" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[quota q]\nuid = 0\ntier = b\nlimit = 1M\n",
		    "no tier named \"b\"" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[quota q]\nuid = 0\ntier = a\n", "limit missing" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[quota q]\ncgroup = web\ntier = a\nlimit = 1M\n",
		    "starting with /" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "[quota q]\nuid = nosuchuser_pmt\ntier = a\nlimit = 1M\n",
		    "unknown user" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "enforce = hard\n", "enforce: audit or project-quota" },
		{ "[tier a]\nbackend=kmem\nnode=1\ncapacity=1M\n"
		    "enforce = project-quota\n",
		    "project-quota needs a file or fsdax tier, not kmem" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "enforce = project-quota\nproject_base = 0\n",
		    "project_base: a project id" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "enforce = project-quota\nproject_base = 4294967295\n",
		    "project_base: a project id" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "enforce = project-quota\nproject_base = -5\n",
		    "project_base: a project id" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "project_base = 100\n", "only used with enforce" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "free_off_loop = sometimes\n",
		    "free_off_loop: auto, yes or no is needed, got "
		    "\"sometimes\"" },
		{ "[tier a]\nbackend=kmem\nnode=1\ncapacity=1M\n"
		    "free_off_loop = yes\n",
		    "free_off_loop is for file and fsdax tiers" },
		{ "[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
		    "enforce = audit\nenforce = audit\n",
		    "enforce given twice" },
		{ "[nonsense]\nx = 1\n", "unknown section" },
		{ "[tier a]\nbackend file\n", "syntax error" },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pmtd_config	*c = parse(cases[i].text);

		if (c != NULL || strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: got \"%s\", wanted \"%s\"", i, err,
			    cases[i].msg);
	}
}

static void
test_error_line(void **state)
{
	assert_null(parse("[daemon]\nsocket = /s\n\n[tier a]\ncapacity = x\n"));
	assert_non_null(strstr(err, ":5:"));
}

static void
test_discovery_keys(void **state)
{
	struct pmtd_config	*c;
	struct device_conf	*dc;

	/* With discovery on, no tier needs to be written by hand. */
	c = parse("[discovery]\nenable = yes\ninclude = pmem* dax1.*\n"
	    "exclude = dax0.0\nfsdax = no\nkmem = yes\n"
	    "[device dax0.1]\nonline = yes\nmovable = no\ntier = cxl\n"
	    "capacity = 2G\ndefault = yes\n"
	    "[device pmem1]\nignore = yes\n");
	assert_non_null(c);
	assert_true(c->disc.enable);
	assert_string_equal(c->disc.include, "pmem* dax1.*");
	assert_string_equal(c->disc.exclude, "dax0.0");
	assert_false(c->disc.fsdax);
	assert_true(c->disc.kmem);
	dc = TAILQ_FIRST(&c->devices);
	assert_string_equal(dc->pattern, "dax0.1");
	assert_true(dc->online);
	assert_false(dc->movable);
	assert_string_equal(dc->tier, "cxl");
	assert_int_equal(dc->capacity, 2ULL << 30);
	assert_true(dc->is_default);
	dc = TAILQ_NEXT(dc, entry);
	assert_true(dc->ignore);
	assert_true(dc->movable);	/* the default */
	assert_true(TAILQ_EMPTY(&c->tiers));
	config_free(c);

	assert_null(parse("[discovery]\nenable = maybe\n"));
	assert_non_null(strstr(err, "enable"));
	assert_null(parse("[discovery]\nenable = yes\n[device d]\nspin = 1\n"));
	assert_non_null(strstr(err, "unknown key \"spin\""));
	/* CXL provisioning: region = pmem opts a memdev in; ram cannot be
	 * made by this build and says so; anything else is an error. */
	c = parse("[discovery]\nenable = yes\n[device mem0]\nregion = pmem\n"
	    "online = yes\n[device mem1]\nregion = none\n");
	assert_non_null(c);
	dc = TAILQ_FIRST(&c->devices);
	assert_string_equal(dc->region, "pmem");
	assert_true(dc->online);
	assert_string_equal(TAILQ_NEXT(dc, entry)->region, "");
	config_free(c);
	assert_null(parse("[discovery]\nenable = yes\n[device mem0]\n"
	    "region = ram\n"));
	assert_non_null(strstr(err, "cannot make volatile regions"));
	assert_null(parse("[discovery]\nenable = yes\n[device mem0]\n"
	    "region = fsdax\n"));
	assert_non_null(strstr(err, "pmem or none is needed"));
	/* Discovery off (the default) and no tier: nothing to serve. */
	assert_null(parse("[discovery]\nkmem = yes\n"));
	assert_non_null(strstr(err, "at least one tier"));
}

/* [tier] enforce, project_base, free_off_loop (docs/pmemtierd.conf.5). */
static void
test_enforce_keys(void **state)
{
	static const enum tier_free free_want[] = { TIER_FREE_YES,
	    TIER_FREE_NO, TIER_FREE_AUTO, TIER_FREE_AUTO };
	struct pmtd_config	*c;
	struct tier_conf	*t;
	size_t			 n;

	c = parse("[tier a]\nbackend = fsdax\npath = /a\ncapacity = 1M\n"
	    "enforce = project-quota\n"
	    "[tier b]\nbackend = file\npath = /b\ncapacity = 1M\n"
	    "project_base = 0x1000\nenforce = project-quota\n"
	    "[tier c]\nbackend = file\npath = /c\ncapacity = 1M\n"
	    "enforce = audit\n"
	    "[tier d]\nbackend = kmem\nnode = 1\ncapacity = 1M\n");
	assert_non_null(c);
	t = TAILQ_FIRST(&c->tiers);
	assert_int_equal(t->enforce, TIER_ENFORCE_PROJQUOTA);
	/* Not given: the daemon's default, filled in when the tier opens. */
	assert_int_equal(t->project_base, 0);
	t = TAILQ_NEXT(t, entry);
	assert_int_equal(t->enforce, TIER_ENFORCE_PROJQUOTA);
	assert_int_equal(t->project_base, 0x1000);
	t = TAILQ_NEXT(t, entry);
	assert_int_equal(t->enforce, TIER_ENFORCE_AUDIT);
	t = TAILQ_NEXT(t, entry);
	/* Today's behaviour is the default, kmem included. */
	assert_int_equal(t->enforce, TIER_ENFORCE_AUDIT);
	config_free(c);

	/* free_off_loop, given or not (auto), for file and fsdax tiers. */
	c = parse("[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"
	    "free_off_loop=yes\n[tier b]\nbackend=fsdax\npath=/b\n"
	    "capacity=1M\nfree_off_loop=no\n[tier c]\nbackend=file\n"
	    "path=/c\ncapacity=1M\nfree_off_loop=auto\n[tier d]\n"
	    "backend=file\npath=/d\ncapacity=1M\n");
	assert_non_null(c);
	n = 0;
	TAILQ_FOREACH(t, &c->tiers, entry) {
		assert_true(n < 4);
		assert_int_equal(t->free_off_loop, free_want[n++]);
	}
	assert_int_equal(n, 4);
	config_free(c);

	c = parse("[tier a]\nbackend = file\npath = /a\ncapacity = 1M\n"
	    "enforce = project-quota\nproject_base = 4294967294\n");
	assert_non_null(c);
	assert_int_equal(TAILQ_FIRST(&c->tiers)->project_base, 4294967294U);
	config_free(c);
}

#define TIER_A	"[tier a]\nbackend=file\npath=/a\ncapacity=1M\n"

static void
test_metrics_keys(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "[metrics]\nlisten = 9466\n", "listen: an IP address" },
		{ "[metrics]\nlisten = localhost:9466\n", "like 127.0.0.1:9466" },
		{ "[metrics]\nlisten = 127.0.0.1:0\n", "listen" },
		{ "[metrics]\nlisten = 127.0.0.1:65536\n", "listen" },
		{ "[metrics]\nlisten = 127.0.0.1:\n", "listen" },
		{ "[metrics]\nlisten = :9466\n", "listen" },
		{ "[metrics]\nlisten = ::1:9466\n", "[::1]:9466" },
		{ "[metrics]\nlisten = [::1]9466\n", "listen" },
		{ "[metrics]\nlisten = [127.0.0.1]:9466\n", "listen" },
		{ "[metrics]\nsocket = metrics.sock\n", "absolute path" },
		{ "[metrics]\nsocket = /run/pmemtier/0123456789012345678901"
		    "234567890123456789012345678901234567890123456789012345678"
		    "901234567890.sock\n", "at most 107 bytes" },
		{ "[metrics]\nsocket_mode = rw\n", "socket_mode: an octal" },
		{ "[metrics]\nbuckets = some\n", "buckets: yes or no" },
		{ "[metrics]\nport = 9466\n", "unknown key \"port\"" },
		{ "[metrics]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\n",
		    "listen given twice" },
	};
	struct pmtd_config	*c;
	char			 line[512];
	size_t			 i;

	/* Off unless asked for. */
	c = parse(TIER_A);
	assert_non_null(c);
	assert_string_equal(c->metrics.listen, "");
	assert_string_equal(c->metrics.socket, "");
	assert_int_equal(c->metrics.socket_mode, 0660);
	assert_true(c->metrics.buckets);
	config_free(c);

	c = parse(TIER_A "[metrics]\nlisten = [::1]:9466\n"
	    "socket = /run/pmemtier/metrics.sock\nsocket_mode = 0600\n"
	    "socket_group = prometheus\nbuckets = no\n");
	assert_non_null(c);
	assert_string_equal(c->metrics.listen, "[::1]:9466");
	assert_string_equal(c->metrics.socket, "/run/pmemtier/metrics.sock");
	assert_int_equal(c->metrics.socket_mode, 0600);
	assert_string_equal(c->metrics.socket_group, "prometheus");
	assert_false(c->metrics.buckets);
	config_free(c);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), TIER_A "%s", bad[i].text);
		if ((c = parse(line)) != NULL ||
		    strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: got \"%s\", wanted \"%s\"", i,
			    err, bad[i].msg);
	}
}

static void
test_listen_split(void **state)
{
	char		host[64];
	unsigned	port;

	assert_int_equal(config_listen_split("127.0.0.1:9466", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9466);
	assert_int_equal(config_listen_split("[::1]:80", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(config_listen_split("[::1]", host, sizeof(host),
	    &port), -1);
}

static void
test_sizes(void **state)
{
	uint64_t	v;
	char		buf[32];

	assert_int_equal(pmtd_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(pmtd_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(pmtd_parse_size("2MiB", &v), 0);
	assert_int_equal(v, 2ULL << 20);
	assert_int_equal(pmtd_parse_size("3 G", &v), -1);
	assert_int_equal(pmtd_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(pmtd_parse_size("-1", &v), -1);
	assert_int_equal(pmtd_parse_size("", &v), -1);
	assert_int_equal(pmtd_parse_size("99999999999999999999", &v), -1);
	assert_int_equal(pmtd_parse_size("16777216T", &v), -1);
	pmtd_fmt_size(512ULL << 20, buf, sizeof(buf));
	assert_string_equal(buf, "512 MiB");
	pmtd_fmt_size(100, buf, sizeof(buf));
	assert_string_equal(buf, "100 B");
	pmtd_fmt_size((3ULL << 20) + 1, buf, sizeof(buf));
	assert_string_equal(buf, "3.0 MiB");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_line),
		cmocka_unit_test(test_discovery_keys),
		cmocka_unit_test(test_enforce_keys),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_metrics_keys),
		cmocka_unit_test(test_listen_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
