/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: the admin requests. Runtime quota rules (set, list with
 * origin, unset, lowering below use, kept across a restart), reload and
 * rescan requests.
 */
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"
#include "testd.h"

#define MiB	(1024ULL * 1024)
#define E(x)	PMEMTIER__ERROR_CODE__ERROR_##x

static struct testd	d;
static int		fds_before;

static int
setup(void **state)
{
	fds_before = tc_count_fds(0);
	return testd_start(&d, "[quota web]\ncgroup = /system.slice/web-*\n"
	    "tier = pmem\nlimit = 1G\n");
}

static int
teardown(void **state)
{
	int	rc = testd_stop(&d);

	assert_int_equal(rc, 0);
	assert_int_equal(tc_count_fds(0), fds_before);
	return 0;
}

/* QuotaSet/QuotaUnset for uid on tier; returns the error code or 0. */
static int
quota(int s, int set, int uid, const char *tier, uint64_t limit)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__QuotaSet	 qs = PMEMTIER__QUOTA_SET__INIT;
	Pmemtier__QuotaUnset	 qu = PMEMTIER__QUOTA_UNSET__INIT;
	Pmemtier__QuotaRule	 rule = PMEMTIER__QUOTA_RULE__INIT;
	int			 rc;

	if (uid >= 0) {
		rule.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_UID;
		rule.uid = (uint32_t)uid;
	}
	rule.tier = (char *)tier;
	rule.limit = limit;
	if (set) {
		qs.rule = &rule;
		env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_SET;
		env.quota_set = &qs;
	} else {
		qu.rule = &rule;
		env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_UNSET;
		env.quota_unset = &qu;
	}
	r = tc_call(s, &env, NULL);
	assert_non_null(r);
	rc = tc_error_code(r);
	if (rc == 0)
		assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_ACK);
	tc_free(r);
	return rc;
}

/* Finds a rule by origin in a QuotaList; returns its limit or 0. */
static uint64_t
listed(int s, const char *origin, Pmemtier__QuotaRule__SelectorCase sel,
    size_t *np)
{
	Pmemtier__Envelope	*r;
	uint64_t		 limit = 0;
	size_t			 i;

	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_QUOTA_LIST);
	for (i = 0; i < r->quota_list->n_rules; i++) {
		Pmemtier__QuotaRule	*q = r->quota_list->rules[i];

		if (strcmp(q->origin, origin) == 0 && q->selector_case == sel)
			limit = q->limit;
	}
	if (np != NULL)
		*np = r->quota_list->n_rules;
	tc_free(r);
	return limit;
}

static void
test_runtime_quota(void **state)
{
	uint64_t	id, free0, free1;
	size_t		n;
	int		s = tc_open(d.socket), fd;

	assert_true(s >= 0);
	assert_int_equal(listed(s, "config",
	    PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP, &n), 1024 * MiB);
	assert_int_equal(n, 1);

	assert_int_equal(quota(s, 1, 0, "pmem", 4 * MiB), 0);
	assert_int_equal(listed(s, "runtime",
	    PMEMTIER__QUOTA_RULE__SELECTOR_UID, &n), 4 * MiB);
	assert_int_equal(n, 2);
	assert_int_equal(tc_lease(s, "pmem", 6 * MiB, NULL, NULL, NULL),
	    E(QUOTA));
	assert_int_equal(tc_lease(s, "pmem", 3 * MiB, &id, NULL, &fd), 0);

	/* Lowering below use keeps what is held, refuses anything new. */
	assert_int_equal(tc_tier(s, "pmem", &free0, NULL, NULL), 0);
	assert_int_equal(quota(s, 1, 0, "pmem", 2 * MiB), 0);
	assert_int_equal(listed(s, "runtime",
	    PMEMTIER__QUOTA_RULE__SELECTOR_UID, &n), 2 * MiB);
	assert_int_equal(n, 2);		/* replaced, not added */
	assert_int_equal(tc_tier(s, "pmem", &free1, NULL, NULL), 0);
	assert_int_equal(free1, free0);
	assert_int_equal(tc_lease(s, "pmem", 4096, NULL, NULL, NULL),
	    E(QUOTA));

	assert_int_equal(quota(s, 0, 0, "pmem", 0), 0);
	assert_int_equal(tc_lease(s, "pmem", 6 * MiB, NULL, NULL, NULL), 0);
	assert_int_equal(listed(s, "runtime",
	    PMEMTIER__QUOTA_RULE__SELECTOR_UID, &n), 0);
	assert_int_equal(n, 1);
	close(fd);
	close(s);
}

static void
test_quota_errors(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__QuotaUnset	 qu = PMEMTIER__QUOTA_UNSET__INIT;
	Pmemtier__QuotaRule	 rule = PMEMTIER__QUOTA_RULE__INIT;
	int			 s = tc_open(d.socket);

	assert_true(s >= 0);
	assert_int_equal(quota(s, 1, 0, "nosuch", MiB), E(UNKNOWN_TIER));
	assert_int_equal(quota(s, 1, -1, "pmem", MiB), E(INVALID_ARGUMENT));
	assert_int_equal(quota(s, 0, 1234, "pmem", 0), E(INVALID_ARGUMENT));
	/* A config rule is changed in the file, not at run time. */
	rule.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP;
	rule.cgroup = "/system.slice/web-*";
	rule.tier = "pmem";
	qu.rule = &rule;
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_UNSET;
	env.quota_unset = &qu;
	r = tc_call(s, &env, NULL);
	assert_int_equal(tc_error_code(r), E(INVALID_ARGUMENT));
	assert_non_null(strstr(r->error->message, "configuration file"));
	tc_free(r);
	close(s);
}

static void
test_persist(void **state)
{
	char		 statedir[] = "/tmp/pmt-state.XXXXXX", extra[256];
	char		 path[300];
	struct stat	 st;
	size_t		 n;
	int		 s;

	assert_non_null(mkdtemp(statedir));
	snprintf(extra, sizeof(extra), "[daemon]\nstate_dir = %s\n", statedir);
	testd_stop(&d);
	assert_int_equal(testd_start(&d, extra), 0);
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(quota(s, 1, 0, "kmem", 5 * MiB), 0);
	close(s);
	/* Written atomically: the file, and no temporary left. */
	snprintf(path, sizeof(path), "%s/quota.rules", statedir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/quota.rules.tmp", statedir);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(testd_stop(&d), 0);

	assert_int_equal(testd_start(&d, extra), 0);
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(listed(s, "runtime",
	    PMEMTIER__QUOTA_RULE__SELECTOR_UID, &n), 5 * MiB);
	assert_int_equal(tc_lease(s, "kmem", 6 * MiB, NULL, NULL, NULL),
	    E(QUOTA));
	assert_int_equal(quota(s, 0, 0, "kmem", 0), 0);
	close(s);
	snprintf(path, sizeof(path), "%s/quota.rules", statedir);
	unlink(path);
	rmdir(statedir);
}

static void
test_reload_rescan(void **state)
{
	Pmemtier__Envelope	*r;
	int			 s = tc_open(d.socket);

	assert_true(s >= 0);
	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_ACK);
	tc_free(r);
	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_RESCAN_REQUEST);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_ACK);
	tc_free(r);
	/* Still serving after both. */
	assert_int_equal(tc_lease(s, "", MiB, NULL, NULL, NULL), 0);
	close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runtime_quota, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quota_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_rescan, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
