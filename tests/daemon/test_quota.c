/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: quotas, capacity and per-connection caps against a real
 * daemon; principals are what the kernel says (a forked child that
 * setuid()s is another principal).
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
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
start(const char *extra)
{
	fds_before = tc_count_fds(0);
	return testd_start(&d, extra);
}

static int
teardown(void **state)
{
	int	rc = testd_stop(&d);

	assert_int_equal(rc, 0);
	assert_int_equal(tc_count_fds(0), fds_before);
	return 0;
}

/* The message of the last refusal, for checks on its wording. */
static char	last_msg[1024];

static int
lease_msg(int s, const char *tier, uint64_t size)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__LeaseRequest	 req = PMEMTIER__LEASE_REQUEST__INIT;
	int			 fd, rc;

	req.tier = (char *)tier;
	req.size = size;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &req;
	r = tc_call(s, &env, &fd);
	assert_non_null(r);
	if (fd >= 0)
		close(fd);
	rc = tc_error_code(r);
	last_msg[0] = '\0';
	if (rc != 0)
		snprintf(last_msg, sizeof(last_msg), "%s", r->error->message);
	tc_free(r);
	return rc;
}

static int
setup_uid_quota(void **state)
{
	return start("[daemon]\nsocket_mode = 0666\n"
	    "[quota root-pmem]\nuid = 0\ntier = pmem\nlimit = 8M\n"
	    "[quota nobody]\nuid = 65534\ntier = *\nlimit = 8M\n");
}

static void
test_quota_refusal(void **state)
{
	uint64_t	id, used;
	int		s = tc_open(d.socket), fd;

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", 6 * MiB, &id, NULL, &fd), 0);
	assert_int_equal(lease_msg(s, "pmem", 4 * MiB), E(QUOTA));
	/* The message names the rule and the limit. */
	assert_non_null(strstr(last_msg, "root-pmem"));
	assert_non_null(strstr(last_msg, "8 MiB"));
	assert_int_equal(tc_tier(s, "pmem", NULL, NULL, &used), 0);
	assert_int_equal(used, 6 * MiB);
	/* The rule names one tier: kmem is not limited by it. */
	assert_int_equal(lease_msg(s, "kmem", 16 * MiB), 0);
	/* Release makes room again. */
	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	assert_int_equal(lease_msg(s, "pmem", 8 * MiB), 0);
	close(s);
}

/* Runs fn in a child that became uid/gid 65534; returns its exit code. */
static int
as_nobody(int (*fn)(void))
{
	pid_t	pid;
	int	status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(77);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
nobody_leases(void)
{
	Pmemtier__Envelope	*r;
	int			 s = tc_connect(d.socket), ok;

	if (s < 0)
		return 10;
	r = tc_hello(s, 1, 1);
	ok = r != NULL && r->body_case == PMEMTIER__ENVELOPE__BODY_WELCOME &&
	    r->welcome->principal->uid == 65534 &&
	    !r->welcome->principal->admin;
	tc_free(r);
	if (!ok)
		return 11;
	/* Root holds 6 MiB of pmem; nobody has its own 8 MiB. */
	if (tc_lease(s, "pmem", 6 * MiB, NULL, NULL, NULL) != 0)
		return 12;
	if (tc_lease(s, "pmem", 4 * MiB, NULL, NULL, NULL) !=
	    PMEMTIER__ERROR_CODE__ERROR_QUOTA)
		return 13;
	/* "*": the same limit applies on kmem, separately. */
	if (tc_lease(s, "kmem", 8 * MiB, NULL, NULL, NULL) != 0)
		return 14;
	close(s);
	return 0;
}

static int
nobody_not_admin(void)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__QuotaSet	 qs = PMEMTIER__QUOTA_SET__INIT;
	Pmemtier__QuotaRule	 rule = PMEMTIER__QUOTA_RULE__INIT;
	int			 s = tc_open(d.socket), rc = 0;
	size_t			 i;

	if (s < 0)
		return 20;
	if (tc_lease(s, "pmem", MiB, NULL, NULL, NULL) != 0)
		return 21;
	/* Status shows only this principal's client and lease. */
	r = tc_status(s, 0, 0);
	if (r == NULL || r->body_case != PMEMTIER__ENVELOPE__BODY_STATUS ||
	    r->status->full_view)
		rc = 22;
	else {
		for (i = 0; i < r->status->n_clients; i++)
			if (r->status->clients[i]->principal->uid != 65534)
				rc = 23;
		if (r->status->n_leases != 1 || r->status->clients_total != 1)
			rc = 24;
	}
	tc_free(r);
	if (rc != 0)
		return rc;
	rule.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_UID;
	rule.uid = 65534;
	rule.tier = "pmem";
	rule.limit = 1;
	qs.rule = &rule;
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_SET;
	env.quota_set = &qs;
	r = tc_call(s, &env, NULL);
	if (tc_error_code(r) != PMEMTIER__ERROR_CODE__ERROR_DENIED ||
	    strstr(r->error->message, "permission denied") == NULL)
		rc = 25;
	tc_free(r);
	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST);
	if (tc_error_code(r) != PMEMTIER__ERROR_CODE__ERROR_DENIED)
		rc = 26;
	tc_free(r);
	close(s);
	return rc;
}

static void
test_two_principals(void **state)
{
	uint64_t	used;
	int		s = tc_open(d.socket), rc, fd;

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", 6 * MiB, NULL, NULL, &fd), 0);
	rc = as_nobody(nobody_leases);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
	/* The child's leases went with it; root's are still 6 MiB. */
	assert_int_equal(tc_tier(s, "pmem", NULL, NULL, &used), 0);
	assert_int_equal(used, 6 * MiB);
	assert_int_equal(as_nobody(nobody_not_admin), 0);
	/* Root (admin) sees both principals in Status while nobody's held. */
	close(fd);
	close(s);
}

static int
setup_caps(void **state)
{
	return start("[daemon]\nmax_leases_per_connection = 3\n"
	    "max_bytes_per_connection = 64M\n");
}

static void
test_connection_caps(void **state)
{
	int	s = tc_open(d.socket), s2 = tc_open(d.socket), i;

	assert_true(s >= 0 && s2 >= 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(lease_msg(s, "pmem", MiB), 0);
	assert_int_equal(lease_msg(s, "pmem", MiB), E(LIMIT));
	assert_non_null(strstr(last_msg, "max_leases_per_connection = 3"));
	assert_int_equal(lease_msg(s2, "pmem", 60 * MiB), 0);
	assert_int_equal(lease_msg(s2, "pmem", 8 * MiB), E(LIMIT));
	assert_non_null(strstr(last_msg, "max_bytes_per_connection"));
	close(s);
	close(s2);
}

static int
setup_uid_cap(void **state)
{
	return start("[daemon]\nmax_leases_per_uid = 4\n");
}

/* One uid cannot hold more leases than its cap over all its connections. */
static void
test_uid_lease_cap(void **state)
{
	uint64_t	id, size;
	int		s = tc_open(d.socket), s2 = tc_open(d.socket), i, fd;

	assert_true(s >= 0 && s2 >= 0);
	assert_int_equal(tc_lease(s, "pmem", MiB, &id, &size, &fd), 0);
	close(fd);
	assert_int_equal(lease_msg(s, "pmem", MiB), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(lease_msg(s2, "pmem", MiB), 0);
	assert_int_equal(lease_msg(s2, "pmem", MiB), E(LIMIT));
	assert_non_null(strstr(last_msg, "max_leases_per_uid = 4"));
	assert_int_equal(lease_msg(s, "pmem", MiB), E(LIMIT));
	/* A lease given back makes room again, on any connection. */
	assert_int_equal(tc_release(s, id), 0);
	assert_int_equal(lease_msg(s2, "pmem", MiB), 0);
	close(s);
	close(s2);
}

static int
setup_plain(void **state)
{
	return start(NULL);
}

static void
test_capacity(void **state)
{
	int	s = tc_open(d.socket);

	assert_true(s >= 0);
	assert_int_equal(lease_msg(s, "kmem", 200 * MiB), 0);
	assert_int_equal(lease_msg(s, "kmem", 100 * MiB), E(NO_SPACE));
	assert_non_null(strstr(last_msg, "tier kmem is full"));
	assert_int_equal(lease_msg(s, "kmem", 56 * MiB), 0);
	close(s);
}

/* A cgroup rule, with a real cgroup v2 child group when we can make one. */
static char	cg_dir[256];

static int
cgroup_child(void)
{
	int	s = tc_open(d.socket);

	if (s < 0)
		return 30;
	if (tc_lease(s, "pmem", 3 * MiB, NULL, NULL, NULL) != 0)
		return 31;
	if (tc_lease(s, "pmem", 2 * MiB, NULL, NULL, NULL) !=
	    PMEMTIER__ERROR_CODE__ERROR_QUOTA)
		return 32;
	close(s);
	return 0;
}

static void
test_cgroup_rule(void **state)
{
	static const char	*roots[] = { "/sys/fs/cgroup/unified",
	    "/sys/fs/cgroup" };
	char			 procs[320], pid[32];
	const char		*root = NULL;
	size_t			 i;
	pid_t			 child;
	int			 fd, status, s;

	for (i = 0; i < 2 && root == NULL; i++) {
		snprintf(cg_dir, sizeof(cg_dir), "%s/cgroup.controllers",
		    roots[i]);
		if (access(cg_dir, F_OK) == 0)
			root = roots[i];
	}
	if (root == NULL)
		skip();
	snprintf(cg_dir, sizeof(cg_dir), "%s/pmt-q-%d", root, (int)getpid());
	if (mkdir(cg_dir, 0755) != 0) {
		fprintf(stderr, "cannot make a cgroup (%s): skipped\n",
		    strerror(errno));
		skip();
	}
	fflush(NULL);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_dir);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
			_exit(77);
		close(fd);
		_exit(cgroup_child());
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	rmdir(cg_dir);
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The test process (another cgroup) is not limited by the rule. */
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", 10 * MiB, NULL, NULL, NULL), 0);
	close(s);
}

static int
setup_cgroup(void **state)
{
	return start("[quota containers]\ncgroup = /pmt-q-*\ntier = pmem\n"
	    "limit = 4M\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quota_refusal,
		    setup_uid_quota, teardown),
		cmocka_unit_test_setup_teardown(test_two_principals,
		    setup_uid_quota, teardown),
		cmocka_unit_test_setup_teardown(test_uid_lease_cap,
		    setup_uid_cap, teardown),
		cmocka_unit_test_setup_teardown(test_connection_caps,
		    setup_caps, teardown),
		cmocka_unit_test_setup_teardown(test_capacity, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_rule, setup_cgroup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
