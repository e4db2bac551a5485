/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit: the lease table (ids, lookup, per-connection and per-tier
 * accounting, the daemon's fd closed when a lease ends), the overgrowth
 * audit (trimmed back and charged) and zombies (an ended lease a client
 * still holds open is truncated again until it lets go).
 */
#include <sys/mman.h>
#include <sys/stat.h>
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

#include "lease.h"
#include "pmemtierd.h"
#include "quota.h"
#include "tier.h"

static struct tier	 t;
static struct tiers	 tiers = TAILQ_HEAD_INITIALIZER(tiers);
static struct conn	 c;

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
	memset(&c.pr, 0, sizeof(c.pr));
	c.pr.uid = 42;
	strcpy(c.pr.cgroup, "/x");
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
	int	fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static int
tmpfile_in(const char *dir)
{
	int	fd = open(dir, O_TMPFILE | O_RDWR, 0600);

	assert_true(fd >= 0);
	return fd;
}

static void
test_create_find_destroy(void **state)
{
	struct lease	*a, *b;
	struct stat	 st;
	int		 fa = tmpfile_in("/tmp"), fb = memfd(8192);

	assert_int_equal(ftruncate(fa, 4096), 0);
	assert_int_equal(write(fa, "secret", 6), 6);

	a = lease_create(&t, &c, &c.pr, 4096, 4096, fa, NULL, "A");
	b = lease_create(&t, &c, &c.pr, 8192, 8192, fb, NULL, "B");
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

	lease_end(a, &tiers);
	assert_null(lease_find(1000));
	assert_int_equal(c.nleases, 1);
	assert_int_equal(c.bytes, 8192);
	assert_int_equal(t.granted, 8192);
	assert_int_equal(quota_usage_cgroup("pmem", "/x"), 8192);
	/*
	 * Nobody else held the file: the daemon keeps it for the next grant
	 * (a spare), emptied and without the probe's lease; closed when the
	 * spares go.
	 */
	assert_int_equal(lease_zombie_count(), 0);
	assert_int_equal(t.nspares, 1);
	assert_int_equal(t.spare_fd[0], fa);
	assert_int_equal(fstat(fa, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_blocks, 0);
	assert_int_equal(t.spare_id[0][1], (uint64_t)st.st_ino);
	assert_int_equal(fcntl(fa, F_GETLEASE), F_UNLCK);
	assert_int_equal(tier_spare_count(), 1);
	lease_table_fini(&tiers);
	assert_int_equal(lease_count(), 0);
	assert_int_equal(fcntl(fb, F_GETFD), -1);
	tier_spares_drop(&t);
	assert_int_equal(tier_spare_count(), 0);
	assert_int_equal(fcntl(fa, F_GETFD), -1);
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
		assert_non_null(lease_create(&t, &c, &c.pr, 4096, 4096, -1, NULL,
		    NULL));
	for (i = 0; i < 10000; i++) {
		l = lease_find(1000 + i);
		assert_non_null(l);
		assert_int_equal(l->id, 1000 + i);
	}
	lease_table_fini(&tiers);
	assert_int_equal(c.nleases, 0);
	assert_int_equal(t.nleases, 0);
}

static uint64_t
allocated(int fd)
{
	struct stat	st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static void
test_audit(void **state)
{
	struct lease	*l;
	struct stat	 st;
	char		 dir[] = "/tmp/pmt-audit.XXXXXX";
	int		 fd;

	assert_non_null(mkdtemp(dir));
	fd = tmpfile_in(dir);
	assert_int_equal(posix_fallocate(fd, 0, 65536), 0);
	l = lease_create(&t, &c, &c.pr, 65536, 65536, fd, NULL, "f");
	lease_audit(l);
	assert_false(l->overgrown);
	assert_true(l->physical >= 65536);
	assert_int_equal(l->charged, l->physical > 65536 ? l->physical :
	    65536);

	/* The client grows the file it holds a writable fd to: trimmed. */
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	assert_int_equal(posix_fallocate(fd, 0, 1 << 20), 0);
	lease_audit(l);
	assert_true(l->overgrown);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 65536);
	assert_true(allocated(fd) < 65536 + 65536);
	assert_true(t.granted < 65536 + 65536 + 65536);

	/* Blocks allocated past the end (KEEP_SIZE) are punched too. */
	assert_int_equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4 << 20), 0);
	assert_true(allocated(fd) >= 4 << 20);
	lease_audit(l);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 65536);
	assert_true(allocated(fd) < 65536 + 65536);
	/* Whatever remains is what the lease is charged, never less. */
	assert_int_equal(quota_usage_uid("pmem", 42), l->charged);
	assert_true(l->charged >= 65536);
	lease_table_fini(&tiers);
	assert_int_equal(quota_usage_uid("pmem", 42), 0);
	assert_int_equal(t.granted, 0);
	rmdir(dir);
}

static void
test_zombie(void **state)
{
	struct lease	*l;
	struct stat	 st;
	char		 dir[] = "/tmp/pmt-zombie.XXXXXX", path[64];
	int		 fd, kept;

	assert_non_null(mkdtemp(dir));
	fd = tmpfile_in(dir);
	assert_int_equal(posix_fallocate(fd, 0, 1 << 20), 0);
	l = lease_create(&t, &c, &c.pr, 1 << 20, 1 << 20, fd, NULL, "z");
	/* The client's own open file of the lease, as tier_export makes. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	kept = open(path, O_RDWR | O_CLOEXEC);
	assert_true(kept >= 0);

	lease_end(l, &tiers);
	assert_int_equal(lease_count(), 0);
	assert_int_equal(quota_usage_uid("pmem", 42), 0);
	assert_int_equal(c.nleases, 0);
	/* Its storage went, though the client kept its fd... */
	assert_int_equal(fstat(kept, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_blocks, 0);
	/* ...and the daemon watches it. */
	assert_int_equal(lease_zombie_count(), 1);

	/* The client grows it again: the next audit truncates it. */
	assert_int_equal(posix_fallocate(kept, 0, 2 << 20), 0);
	lease_audit_tier(&t, &tiers);
	assert_int_equal(lease_zombie_count(), 1);
	assert_int_equal(fstat(kept, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_blocks, 0);

	/* Once the client let go the zombie is gone with it. */
	close(kept);
	lease_audit_tier(&t, &tiers);
	assert_int_equal(lease_zombie_count(), 0);
	assert_int_equal(t.granted, 0);
	rmdir(dir);
}

static void
test_sealed_end(void **state)
{
	struct lease	*l;
	struct stat	 st;
	int		 fd = memfd(1 << 20), kept;

	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SEAL), 0);
	t.ops = &tier_kmem_ops;
	l = lease_create(&t, &c, &c.pr, 1 << 20, 1 << 20, fd, NULL, "k");
	kept = dup(fd);
	lease_end(l, &tiers);
	/* A sealed memfd cannot grow again: no zombie to watch. */
	assert_int_equal(lease_zombie_count(), 0);
	assert_int_equal(fstat(kept, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(ftruncate(kept, 1 << 20), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(t.granted, 0);
	close(kept);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_find_destroy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zombie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sealed_end, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
