/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: Status (full view, paging under the packet cap), usage
 * reports, the unsolicited UsageQuery, the overgrown-lease audit, and a
 * kmem lease's memory policy (bound to its node).
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <numaif.h>
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
#include "wire.h"

#define MiB	(1024ULL * 1024)

static struct testd		d;
static struct tc_baseline	base;

static int
setup(void **state)
{
	return tc_start_measured(&d, NULL, &base);
}

static int
teardown(void **state)
{
	/* Thousands of leases or not, the daemon is back to its baseline. */
	assert_int_equal(tc_stop_measured(&d, &base), 0);
	return 0;
}

static Pmemtier__ClientStatus *
find_client(Pmemtier__Status *st, int pid)
{
	size_t	i;

	for (i = 0; i < st->n_clients; i++)
		if (st->clients[i]->principal->pid == pid)
			return st->clients[i];
	return NULL;
}

static void
test_status_usage(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__UsageReport	 ur = PMEMTIER__USAGE_REPORT__INIT;
	Pmemtier__KindUsage	 k = PMEMTIER__KIND_USAGE__INIT, *kp = &k;
	Pmemtier__ClientStatus	*cs;
	int			 s = tc_open(d.socket);

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", 2 * MiB, NULL, NULL, NULL), 0);
	k.kind = "PMEM";
	k.tier = "pmem";
	k.allocated = 12345;
	k.active = 4096;
	k.resident = 8192;
	k.mapped = 2 * MiB;
	ur.n_kinds = 1;
	ur.kinds = &kp;
	env.body_case = PMEMTIER__ENVELOPE__BODY_USAGE_REPORT;
	env.usage_report = &ur;
	r = tc_call(s, &env, NULL);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_ACK);
	tc_free(r);

	r = tc_status(s, 0, 0);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_STATUS);
	assert_true(r->status->full_view);	/* the test runs as root */
	assert_string_equal(r->status->socket, d.socket);
	assert_int_equal(r->status->n_tiers, 2);
	cs = find_client(r->status, getpid());
	assert_non_null(cs);
	assert_string_equal(cs->client_name, "pmemtier-test");
	assert_int_equal(cs->leases, 1);
	assert_int_equal(cs->granted, 2 * MiB);
	assert_int_equal(cs->physical, 2 * MiB);
	assert_int_equal(cs->n_usage, 1);
	assert_string_equal(cs->usage[0]->kind, "PMEM");
	assert_int_equal(cs->usage[0]->allocated, 12345);
	assert_int_equal(r->status->n_leases, 1);
	assert_int_equal(r->status->leases[0]->size, 2 * MiB);
	assert_string_equal(r->status->leases[0]->label, "test");
	assert_false(r->status->leases[0]->overgrown);
	tc_free(r);
	close(s);
}

/* An admin's Status makes lease holders get a UsageQuery. */
static void
test_usage_query(void **state)
{
	Pmemtier__Envelope	*r;
	int			 holder = tc_open(d.socket);
	int			 admin = tc_open(d.socket);

	assert_true(holder >= 0 && admin >= 0);
	assert_int_equal(tc_lease(holder, "pmem", MiB, NULL, NULL, NULL), 0);
	r = tc_status(admin, 0, 0);
	assert_non_null(r);
	tc_free(r);
	r = tc_recv(holder, 2000, NULL);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_USAGE_QUERY);
	assert_int_equal(r->request_id, 0);
	tc_free(r);
	close(holder);
	close(admin);
}

/* A client that grows its file lease is flagged and logged. */
static void
test_overgrown(void **state)
{
	Pmemtier__Envelope	*r;
	uint64_t		 id, size;
	int			 s = tc_open(d.socket), fd;
	char			 path[400], line[1024];
	FILE			*f;
	int			 logged = 0;

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", MiB, &id, &size, &fd), 0);
	assert_int_equal(ftruncate(fd, (off_t)(4 * MiB)), 0);
	r = tc_status(s, 0, 0);
	assert_non_null(r);
	assert_int_equal(r->status->n_leases, 1);
	assert_int_equal(r->status->leases[0]->lease_id, id);
	assert_true(r->status->leases[0]->overgrown);
	tc_free(r);
	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "grown past its grant") != NULL)
			logged = 1;
	fclose(f);
	assert_true(logged);
	close(fd);
	close(s);
}

static int
setup_no_timer(void **state)
{
	/* No periodic audit during the test: only Status may measure. */
	return tc_start_measured(&d, "[daemon]\naudit_interval = 3600\n"
	    "socket_mode = 0666\n", &base);
}

static int
log_has(const char *needle)
{
	char	 path[400], line[1024];
	FILE	*f;
	int	 found = 0;

	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			found = 1;
	fclose(f);
	return found;
}

/*
 * Regression: every StatusRequest measured every lease of every client, so
 * any local user looping on Status made the daemon fstat everyone's leases.
 * A non-admin's Status now measures only what it may see.
 */
static void
test_status_audit_scope(void **state)
{
	Pmemtier__Envelope	*r;
	uint64_t		 id, size;
	pid_t			 pid;
	int			 s = tc_open(d.socket), fd, status;

	if (geteuid() != 0)
		skip();
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", MiB, &id, &size, &fd), 0);
	assert_int_equal(ftruncate(fd, (off_t)(4 * MiB)), 0);

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int	c;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(77);
		if ((c = tc_open(d.socket)) < 0)
			_exit(10);
		r = tc_status(c, 0, 0);
		_exit(r != NULL && r->body_case ==
		    PMEMTIER__ENVELOPE__BODY_STATUS &&
		    !r->status->full_view ? 0 : 11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(log_has("grown past its grant"), 0);

	/* The owner's own Status does measure it. */
	r = tc_status(s, 0, 0);
	assert_non_null(r);
	assert_int_equal(r->status->n_leases, 1);
	assert_true(r->status->leases[0]->overgrown);
	tc_free(r);
	assert_int_equal(log_has("grown past its grant"), 1);
	close(fd);
	close(s);
}

/* Many leases: Status pages under the 64 KiB cap, offsets cover all. */
static void
test_paging(void **state)
{
	enum { N = 3000 };
	Pmemtier__Envelope	*r;
	unsigned char		*seen;
	uint64_t		 ids[N], i, min = UINT64_MAX;
	uint32_t		 off = 0, pages = 0, got = 0;
	int			 s = tc_open(d.socket);

	assert_true(s >= 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(tc_lease(s, "kmem", 4096, &ids[i], NULL,
		    NULL), 0);
		if (ids[i] < min)
			min = ids[i];
	}
	seen = calloc(N, 1);
	assert_non_null(seen);
	do {
		r = tc_status(s, 0, off);
		assert_non_null(r);
		assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_STATUS);
		assert_int_equal(r->status->leases_total, N);
		assert_true(pmemtier__envelope__get_packed_size(r) <=
		    PMT_WIRE_MAX_PACKET);
		assert_true(r->status->n_leases > 0);
		for (i = 0; i < r->status->n_leases; i++) {
			uint64_t	k = r->status->leases[i]->lease_id - min;

			assert_true(k < N);
			assert_false(seen[k]);
			seen[k] = 1;
			got++;
		}
		off += (uint32_t)r->status->n_leases;
		pages++;
		tc_free(r);
	} while (off < N);
	assert_int_equal(got, N);
	assert_true(pages >= 2);
	free(seen);
	close(s);
}

/* A kmem lease's pages are bound (MPOL_BIND) to the tier's node. */
static void
test_kmem_node(void **state)
{
	unsigned long	 mask[16];
	uint64_t	 size;
	char		*p;
	int		 s = tc_open(d.socket), fd, mode = -1, node = -1;

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "kmem", 4 * MiB, NULL, &size, &fd), 0);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	memset(p, 7, size);
	/* The shared policy set by the daemon shows in our mapping. */
	memset(mask, 0, sizeof(mask));
	assert_int_equal(get_mempolicy(&mode, mask, sizeof(mask) * 8, p,
	    MPOL_F_ADDR), 0);
	assert_int_equal(mode, MPOL_BIND);
	assert_int_equal(mask[0], 1UL);
	/* And the touched page lives on node 0. */
	assert_int_equal(get_mempolicy(&node, NULL, 0, p + size - 1,
	    MPOL_F_NODE | MPOL_F_ADDR), 0);
	assert_int_equal(node, 0);
	munmap(p, size);
	close(fd);
	close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_usage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_usage_query, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overgrown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_audit_scope,
		    setup_no_timer, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kmem_node, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
