/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host-side unit tests of the parts of daemon/discovery that need no
 * hardware: the mountinfo parser (escapes, optional fields, bind mounts,
 * per-mount and per-superblock options), device name matching and default
 * tier names. The hardware paths are covered by the vm_* scenarios.
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

#include "discovery.h"
#include "discovery_int.h"

static const char mountinfo[] =
    "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
    /* A bind mount of a subdirectory comes first: the root mount wins. */
    "40 22 259:1 /sub /srv/bind rw,relatime shared:7 - xfs /dev/pmem0.1 "
    "rw,attr2,dax=always,inode64\n"
    "41 22 259:1 / /mnt/pmem\\040one rw,relatime shared:7 master:2 - xfs "
    "/dev/pmem0.1 rw,attr2,dax=always,inode64\n"
    "42 22 259:0 / /mnt/ext4 rw,relatime - ext4 /dev/pmem0 rw,dax\n"
    "43 22 259:2 / /mnt/ro ro,relatime - ext4 /dev/pmem0.2 ro,dax=always\n"
    "44 22 259:3 / /mnt/never rw - ext4 /dev/pmem0.3 rw,dax=never\n"
    "45 22 259:4 / /mnt/plain rw - ext4 /dev/pmem0.4 rw\n"
    "46 22 259:5 /only/sub /mnt/sub rw - xfs /dev/pmem0.5 rw\n"
    "47 22 259:6 / /mnt/broken rw\n";

static char	path[64];

static int
setup(void **state)
{
	int	fd;

	snprintf(path, sizeof(path), "/tmp/vm-unit-mountinfo.XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if (write(fd, mountinfo, sizeof(mountinfo) - 1) !=
	    (ssize_t)sizeof(mountinfo) - 1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	return 0;
}

static void
test_root_mount_wins_and_escapes(void **state)
{
	struct discovery_mount	m;

	assert_int_equal(discovery_mount_find_in(path, 259, 1, &m), 1);
	assert_string_equal(m.path, "/mnt/pmem one");
	assert_string_equal(m.fstype, "xfs");
	assert_int_equal(m.whole, 1);
	assert_int_equal(m.readonly, 0);
	assert_int_equal(m.dax, DISCOVERY_DAX_ALWAYS);
}

static void
test_dax_options(void **state)
{
	struct discovery_mount	m;

	assert_int_equal(discovery_mount_find_in(path, 259, 0, &m), 1);
	assert_string_equal(m.path, "/mnt/ext4");
	assert_int_equal(m.dax, DISCOVERY_DAX_ALWAYS);	/* plain "dax" */
	assert_int_equal(discovery_mount_find_in(path, 259, 3, &m), 1);
	assert_int_equal(m.dax, DISCOVERY_DAX_NEVER);
	assert_int_equal(discovery_mount_find_in(path, 259, 4, &m), 1);
	assert_int_equal(m.dax, DISCOVERY_DAX_NONE);
}

static void
test_readonly(void **state)
{
	struct discovery_mount	m;

	assert_int_equal(discovery_mount_find_in(path, 259, 2, &m), 1);
	assert_int_equal(m.readonly, 1);
}

static void
test_only_a_subdirectory_mounted(void **state)
{
	struct discovery_mount	m;

	assert_int_equal(discovery_mount_find_in(path, 259, 5, &m), 1);
	assert_string_equal(m.path, "/mnt/sub");
	assert_int_equal(m.whole, 0);
}

static void
test_not_mounted_and_malformed(void **state)
{
	struct discovery_mount	m;

	assert_int_equal(discovery_mount_find_in(path, 259, 9, &m), 0);
	/* A line without the " - fstype source options" tail is ignored. */
	assert_int_equal(discovery_mount_find_in(path, 259, 6, &m), 0);
	assert_int_equal(discovery_mount_find_in("/nonexistent/mountinfo",
	    259, 0, &m), -2);	/* -ENOENT */
}

static void
test_matches_and_tier_names(void **state)
{
	struct discovery_dev	d;
	char			buf[64];

	memset(&d, 0, sizeof(d));
	d.kind = DISCOVERY_FSDAX;
	d.target_node = -1;
	strcpy(d.name, "pmem0.1");
	strcpy(d.blockdev, "pmem0.1");
	strcpy(d.ns, "namespace0.1");
	assert_true(discovery_dev_matches(&d, "pmem0.1"));
	assert_true(discovery_dev_matches(&d, "pmem*"));
	assert_true(discovery_dev_matches(&d, "namespace0.*"));
	assert_false(discovery_dev_matches(&d, "dax*"));
	assert_false(discovery_dev_matches(&d, ""));
	discovery_tier_name(&d, buf, sizeof(buf));
	assert_string_equal(buf, "fsdax-pmem0.1");
	strcpy(d.ns_name, "fast");
	assert_true(discovery_dev_matches(&d, "fast"));
	discovery_tier_name(&d, buf, sizeof(buf));
	assert_string_equal(buf, "fast");

	memset(&d, 0, sizeof(d));
	d.kind = DISCOVERY_KMEM;
	d.target_node = 2;
	strcpy(d.name, "dax1.0");
	strcpy(d.daxdev, "dax1.0");
	discovery_tier_name(&d, buf, sizeof(buf));
	assert_string_equal(buf, "kmem-node2");
	assert_true(discovery_dev_matches(&d, "dax1.*"));
}

static void
test_probe_dax_on_a_non_dax_dir(void **state)
{
	char	msg[256] = "";

	/* /tmp is never DAX here: 0 with a reason, not an error. */
	assert_int_equal(discovery_probe_dax("/tmp", msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "/tmp"));
	assert_true(discovery_probe_dax("/nonexistent", msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "cannot create a probe file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_mount_wins_and_escapes),
		cmocka_unit_test(test_dax_options),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_only_a_subdirectory_mounted),
		cmocka_unit_test(test_not_mounted_and_malformed),
		cmocka_unit_test(test_matches_and_tier_names),
		cmocka_unit_test(test_probe_dax_on_a_non_dax_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
