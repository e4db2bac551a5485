/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit: quota rule matching (precedence), accounting buckets, the refusal
 * message, and the runtime rule store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "pmemtierd.h"
#include "quota.h"

#define MiB	(1024ULL * 1024)

static struct pmtd_config	*conf;
static struct quota_rules	 runtime = TAILQ_HEAD_INITIALIZER(runtime);

static struct principal
who(uid_t uid, gid_t gid, const char *cgroup)
{
	struct principal	pr;

	memset(&pr, 0, sizeof(pr));
	pr.uid = uid;
	pr.gid = gid;
	pr.pid = 1;
	pr.pidfd = -1;
	snprintf(pr.cgroup, sizeof(pr.cgroup), "%s", cgroup);
	return pr;
}

static int
setup(void **state)
{
	char	err[512];

	quota_init();
	TAILQ_INIT(&runtime);
	conf = config_parse_string(
	    "[tier pmem]\nbackend=file\npath=/p\ncapacity=1G\n"
	    "[tier kmem]\nbackend=kmem\nnode=0\ncapacity=1G\n"
	    "[quota web]\ncgroup = /system.slice/web-*.scope\ntier = pmem\n"
	    "limit = 10M\n"
	    "[quota web1]\ncgroup = /system.slice/web-1.scope\ntier = pmem\n"
	    "limit = 20M\n"
	    "[quota u]\nuid = 1000\ntier = pmem\nlimit = 30M\n"
	    "[quota uany]\nuid = 1000\ntier = *\nlimit = 31M\n"
	    "[quota g]\ngid = 100\ntier = *\nlimit = 40M\n"
	    "[quota dflt]\ndefault = yes\ntier = *\nlimit = 50M\n",
	    err, sizeof(err));
	return conf != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	config_free(conf);
	config_rules_free(&runtime);
	quota_fini();
	return 0;
}

static const char *
match(struct principal pr, const char *tier, char *bucket)
{
	struct quota_match	m;

	quota_match(&conf->rules, &runtime, &pr, tier, &m);
	if (bucket != NULL)
		strcpy(bucket, m.bucket);
	return m.rule != NULL ? m.rule->name : "(none)";
}

static void
test_precedence(void **state)
{
	char	b[PMTD_CGROUP_MAX];

	/* Longest cgroup pattern wins over a shorter one. */
	assert_string_equal(match(who(1000, 100,
	    "/system.slice/web-1.scope"), "pmem", b), "web1");
	/* cgroup beats uid; uid beats gid; gid beats default. */
	assert_string_equal(match(who(1000, 100,
	    "/system.slice/web-2.scope"), "pmem", b), "web");
	assert_string_equal(b, "/system.slice/web-2.scope");
	assert_string_equal(match(who(1000, 100, "/user.slice"), "pmem", b),
	    "u");
	assert_string_equal(match(who(1001, 100, "/user.slice"), "pmem", b),
	    "g");
	assert_string_equal(b, "gid 100");
	assert_string_equal(match(who(1001, 101, "/user.slice"), "pmem", b),
	    "dflt");
	/* The default bucket is not the leaf: with no cgroup above the
	 * peer's own ones named (dflt_len 0) it is the uid... */
	assert_string_equal(b, "uid 1001");
	/* ...otherwise the nearest cgroup the user does not own, so that
	 * making sub-cgroups gains nothing. */
	{
		struct principal	p = who(1001, 101,
		    "/user.slice/user-1001.slice/a/b/c");

		p.dflt_len = strlen("/user.slice/user-1001.slice");
		assert_string_equal(match(p, "pmem", b), "dflt");
		assert_string_equal(b, "/user.slice/user-1001.slice");
	}
	/* A rule naming the tier beats "*"; on kmem only "*" applies. */
	assert_string_equal(match(who(1000, 100, "/"), "kmem", NULL), "uany");
	/* Nested cgroups belong to the matched container's bucket. */
	assert_string_equal(match(who(0, 0,
	    "/system.slice/web-3.scope/worker"), "pmem", b), "web");
	assert_string_equal(b, "/system.slice/web-3.scope");
}

static void
test_runtime_beats_config(void **state)
{
	struct quota_rule	*r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->sel = QUOTA_SEL_UID;
	r->id = 1000;
	snprintf(r->tier, sizeof(r->tier), "pmem");
	r->limit = MiB;
	r->origin = QUOTA_ORIGIN_RUNTIME;
	quota_rule_autoname(r);
	TAILQ_INSERT_TAIL(&runtime, r, entry);
	assert_string_equal(match(who(1000, 5, "/"), "pmem", NULL),
	    "runtime uid 1000 on pmem");
}

static void
test_no_rule(void **state)
{
	struct quota_rules	none = TAILQ_HEAD_INITIALIZER(none);
	struct principal	pr = who(5, 5, "/a");
	struct quota_match	m;
	char			msg[256];

	quota_match(&none, NULL, &pr, "pmem", &m);
	assert_null(m.rule);
	assert_int_equal(quota_check(&none, NULL, &pr, "pmem", UINT64_MAX,
	    msg, sizeof(msg)), 0);
}

static void
test_accounting(void **state)
{
	struct principal	a = who(1000, 100, "/system.slice/web-1.scope/x");
	struct principal	b = who(1001, 100, "/system.slice/web-2.scope");
	char			msg[512];

	quota_charge(&a, "pmem", 4 * MiB);
	quota_charge(&b, "pmem", 3 * MiB);
	quota_charge(&b, "kmem", 7 * MiB);
	assert_int_equal(quota_usage_cgroup("pmem",
	    "/system.slice/web-1.scope"), 4 * MiB);
	assert_int_equal(quota_usage_cgroup("pmem", "/system.slice"), 7 * MiB);
	assert_int_equal(quota_usage_cgroup("pmem", "/"), 7 * MiB);
	assert_int_equal(quota_usage_cgroup("kmem", "/"), 7 * MiB);
	assert_int_equal(quota_usage_uid("pmem", 1000), 4 * MiB);
	assert_int_equal(quota_usage_uid("pmem", 1001), 3 * MiB);
	assert_int_equal(quota_usage_gid("pmem", 100), 7 * MiB);

	/* web-2 has 3 of its 10 MiB: 7 more fit, 8 do not. */
	assert_int_equal(quota_check(&conf->rules, &runtime, &b, "pmem",
	    7 * MiB, msg, sizeof(msg)), 0);
	assert_int_equal(quota_check(&conf->rules, &runtime, &b, "pmem",
	    8 * MiB, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "rule \"web\""));
	assert_non_null(strstr(msg, "10 MiB"));
	assert_non_null(strstr(msg, "/system.slice/web-2.scope"));
	assert_non_null(strstr(msg, "holds 3 MiB"));

	quota_uncharge(&a, "pmem", 4 * MiB);
	quota_uncharge(&b, "pmem", 3 * MiB);
	quota_uncharge(&b, "kmem", 7 * MiB);
	assert_int_equal(quota_usage_cgroup("pmem", "/"), 0);
	assert_int_equal(quota_usage_gid("pmem", 100), 0);
}

static void
test_store(void **state)
{
	struct quota_rules	 a = TAILQ_HEAD_INITIALIZER(a);
	struct quota_rules	 b = TAILQ_HEAD_INITIALIZER(b);
	struct quota_rule	 tmpl[4], *r, *q;
	char			 dir[] = "/tmp/pmt-qstore.XXXXXX", path[64];
	char			 err[256];
	int			 i;

	memset(tmpl, 0, sizeof(tmpl));
	tmpl[0].sel = QUOTA_SEL_CGROUP;
	strcpy(tmpl[0].cgroup, "/machine.slice/*");
	tmpl[1].sel = QUOTA_SEL_UID;
	tmpl[1].id = 4000000000u;
	tmpl[2].sel = QUOTA_SEL_GID;
	tmpl[2].id = 7;
	tmpl[3].sel = QUOTA_SEL_DEFAULT;
	for (i = 0; i < 4; i++) {
		r = malloc(sizeof(*r));
		assert_non_null(r);
		*r = tmpl[i];
		strcpy(r->tier, i == 3 ? "*" : "pmem");
		r->limit = (uint64_t)(i + 1) << 33;
		r->origin = QUOTA_ORIGIN_RUNTIME;
		TAILQ_INSERT_TAIL(&a, r, entry);
	}
	assert_non_null(mkdtemp(dir));
	assert_int_equal(quota_store_load(dir, &b, err, sizeof(err)), 0);
	assert_true(TAILQ_EMPTY(&b));
	assert_int_equal(quota_store_save(dir, &a, err, sizeof(err)), 0);
	assert_int_equal(quota_store_load(dir, &b, err, sizeof(err)), 0);
	for (r = TAILQ_FIRST(&a), q = TAILQ_FIRST(&b); r != NULL;
	    r = TAILQ_NEXT(r, entry), q = TAILQ_NEXT(q, entry)) {
		assert_non_null(q);
		assert_true(quota_rule_same(r, q));
		assert_int_equal(r->limit, q->limit);
		assert_int_equal(q->origin, QUOTA_ORIGIN_RUNTIME);
	}
	assert_null(q);
	/* A damaged file is refused, and what was loaded stays. */
	snprintf(path, sizeof(path), "%s/quota.rules", dir);
	{
		FILE	*f = fopen(path, "w");

		assert_non_null(f);
		fputs("uid banana pmem 1\n", f);
		fclose(f);
	}
	assert_int_equal(quota_store_load(dir, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1:"));
	assert_false(TAILQ_EMPTY(&b));
	unlink(path);
	rmdir(dir);
	config_rules_free(&a);
	config_rules_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_precedence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_runtime_beats_config,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
