/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit: the lease table (ids, lookup, per-connection and per-tier
 * accounting, the daemon's fd closed on destroy) and the overgrowth audit.
 */
#include <sys/mman.h>
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

#include "lease.h"
#include "pmemtierd.h"
#include "quota.h"
#include "tier.h"

static struct tier	 t;
static struct tiers	 tiers = TAILQ_HEAD_INITIALIZER(tiers);
static struct conn	 c;
static struct principal	 pr;

static int
setup(void **state)
{
	memset(&t, 0, sizeof(t));
	strcpy(t.name, "pmem");
	t.ops = &tier_file_ops;
	t.capacity = 1 << 30;
	t.dirfd = -1;
	memset(&c, 0, sizeof(c));
	TAILQ_INIT(&c.leases);
	memset(&pr, 0, sizeof(pr));
	pr.uid = 42;
	strcpy(pr.cgroup, "/x");
	quota_init();
	lease_table_init(1000);
	return 0;
}

static int
teardown(void **state)
{
	quota_fini();
	return 0;
}

static int
memfd(uint64_t size)
{
	int	fd = memfd_create("t", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void
test_create_find_destroy(void **state)
{
	struct lease	*a, *b;
	int		 fa = memfd(4096), fb = memfd(8192);

	a = lease_create(&t, &c, &pr, 4096, fa, "A");
	b = lease_create(&t, &c, &pr, 8192, fb, "B");
	assert_non_null(a);
	assert_non_null(b);
	/* Ids count up from the seed. */
	assert_int_equal(a->id, 1000);
	assert_int_equal(b->id, 1001);
	assert_ptr_equal(lease_find(1000), a);
	assert_ptr_equal(lease_find(1001), b);
	assert_null(lease_find(1002));
	assert_int_equal(lease_count(), 2);
	assert_int_equal(c.nleases, 2);
	assert_int_equal(c.bytes, 12288);
	assert_int_equal(t.granted, 12288);
	assert_int_equal(t.nleases, 2);
	assert_int_equal(quota_usage_uid("pmem", 42), 12288);
	assert_string_equal(b->label, "B");

	lease_destroy(a, &tiers);
	assert_null(lease_find(1000));
	assert_int_equal(c.nleases, 1);
	assert_int_equal(c.bytes, 8192);
	assert_int_equal(t.granted, 8192);
	assert_int_equal(quota_usage_cgroup("pmem", "/x"), 8192);
	/* The daemon's fd is closed with the lease. */
	assert_int_equal(fcntl(fa, F_GETFD), -1);
	lease_table_fini(&tiers);
	assert_int_equal(lease_count(), 0);
	assert_int_equal(fcntl(fb, F_GETFD), -1);
	assert_int_equal(t.granted, 0);
	assert_int_equal(quota_usage_uid("pmem", 42), 0);
	assert_true(TAILQ_EMPTY(&c.leases));
}

static void
test_many(void **state)
{
	struct lease	*l;
	uint64_t	 i;

	for (i = 0; i < 10000; i++)
		assert_non_null(lease_create(&t, &c, &pr, 4096, -1, NULL));
	for (i = 0; i < 10000; i++) {
		l = lease_find(1000 + i);
		assert_non_null(l);
		assert_int_equal(l->id, 1000 + i);
	}
	lease_table_fini(&tiers);
	assert_int_equal(c.nleases, 0);
	assert_int_equal(t.nleases, 0);
}

static void
test_audit(void **state)
{
	struct lease	*l;
	char		 dir[] = "/tmp/pmt-audit.XXXXXX";
	int		 fd, dfd;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	fd = openat(dfd, ".", O_TMPFILE | O_RDWR, 0600);
	assert_true(fd >= 0);
	assert_int_equal(posix_fallocate(fd, 0, 65536), 0);
	l = lease_create(&t, &c, &pr, 65536, fd, "f");
	lease_audit(l);
	assert_false(l->overgrown);
	assert_true(l->physical >= 65536);
	/* The client grows the file it holds a writable fd to. */
	assert_int_equal(ftruncate(fd, 131072), 0);
	lease_audit(l);
	assert_true(l->overgrown);
	lease_table_fini(&tiers);
	close(dfd);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_find_destroy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
