/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: slow work runs off the event loop (issue 9). Filling a
 * large lease file, freeing one, and trimming a lease a client grew cost
 * ~100, ~45 and ~45 ms per GiB on tmpfs; before the worker thread the
 * daemon did them on its event loop and answered nobody meanwhile.
 *
 * Each test starts one slow request on connection A, then makes a
 * complete round trip (connect, Hello, a 4 KiB lease and its release) on
 * a new connection B,
 * and asserts that B got them while A's answer was not there yet. On a
 * daemon that blocks, B is not even accepted until A's work is done, so
 * A's answer is always first. The lease is 3 GiB on a tmpfs of its own
 * (~300 ms to fill), far longer than a round trip.
 *
 * Small lease files go to the worker's close lane where closing one
 * sleeps (free_off_loop); the answer to their release must still wait
 * for it.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define GiB		(1024ULL * 1024 * 1024)
#define BIG		(3 * GiB)

static struct testd	d;
static char		mnt[256];
static int		fds_before;

/* Mounts a tmpfs of size on mnt, and a daemon with a tier of cap on it. */
static int
start(const char *size, const char *tier, const char *cap, const char *extra)
{
	char	opts[64], ini[1024];

	if (geteuid() != 0) {
		fprintf(stderr, "test_offloop: needs root to mount a tmpfs\n");
		exit(77);
	}
	snprintf(mnt, sizeof(mnt), "%s/pmt-offloop.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(mnt) == NULL)
		return -1;
	snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
	if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
		fprintf(stderr, "test_offloop: cannot mount a tmpfs on %s: "
		    "%s\n", mnt, strerror(errno));
		rmdir(mnt);
		exit(77);
	}
	fds_before = tc_count_fds(0);
	snprintf(ini, sizeof(ini), "[tier %s]\nbackend = file\npath = %s\n"
	    "capacity = %s\n%s", tier, mnt, cap, extra);
	if (testd_start(&d, ini) != 0) {
		umount2(mnt, MNT_DETACH);
		rmdir(mnt);
		return -1;
	}
	return 0;
}

static int
setup(void **state)
{
	return start("4G", "big", "4G", "");
}

/* Small lease files freed on the close lane (as on ext4 with discard). */
static int
setup_lane(void **state)
{
	return start("64M", "lane", "48M", "free_off_loop = yes\n");
}

static int
teardown(void **state)
{
	int	rc = testd_stop(&d);

	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	assert_int_equal(rc, 0);
	assert_int_equal(tc_count_fds(0), fds_before);
	return 0;
}

/* Sends env on s without waiting for the answer. */
static void
send_env(int s, Pmemtier__Envelope *env)
{
	uint8_t	buf[PMT_WIRE_MAX_PACKET];
	size_t	len;

	env->version = PMT_WIRE_VERSION;
	len = pmemtier__envelope__pack(env, buf);
	assert_int_equal(tc_send_raw(s, buf, len, -1), 0);
}

/* Is an answer waiting on s? */
static int
answered(int s)
{
	struct pollfd	p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/*
 * A's request went out; give the daemon time to start on it, then
 * check that a newcomer is served while A's work goes on.
 */
static void
newcomer_served_first(int a)
{
	uint64_t	id;
	int		b, fd;

	usleep(50 * 1000);
	assert_false(answered(a));
	b = tc_open(d.socket);
	assert_true(b >= 0);
	assert_int_equal(tc_lease(b, "big", 4096, &id, NULL, &fd), 0);
	close(fd);
	assert_int_equal(tc_release(b, id), 0);
	if (answered(a)) {
		Pmemtier__Envelope *r = tc_recv(a, 0, NULL);

		if (r != NULL && r->body_case == PMEMTIER__ENVELOPE__BODY_ERROR)
			fail_msg("the slow request failed: %s",
			    r->error->message);
		fail_msg("the daemon answered the slow request before a "
		    "round trip on another connection: it blocked on it");
	}
	close(b);
}

/* Waits for A's answer and returns it (the caller frees). */
static Pmemtier__Envelope *
answer(int a, int *fdp)
{
	Pmemtier__Envelope	*r = tc_recv(a, 10000, fdp);

	assert_non_null(r);
	return r;
}

static void
test_large_grant(void **state)
{
	Pmemtier__Envelope	*r;
	uint8_t			 buf[128];
	struct stat		 st;
	int			 a, fd;

	a = tc_open(d.socket);
	assert_true(a >= 0);
	assert_int_equal(tc_send_raw(a, buf, tc_pack_lease(buf, 7, "big",
	    BIG), -1), 0);
	newcomer_served_first(a);
	r = answer(a, &fd);
	assert_int_equal(r->request_id, 7);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_LEASE_GRANT);
	/* Filled whole before it was granted, as a lease always is. */
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= BIG);
	assert_int_equal(tc_release(a, r->lease_grant->lease_id), 0);
	tc_free(r);
	close(fd);
	close(a);
}

static void
test_large_release(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__LeaseRelease	 rel = PMEMTIER__LEASE_RELEASE__INIT;
	Pmemtier__Envelope	*r;
	struct statvfs		 v;
	uint64_t		 id, free_;
	int			 a, fd;

	a = tc_open(d.socket);
	assert_true(a >= 0);
	assert_int_equal(tc_lease(a, "big", BIG, &id, NULL, &fd), 0);
	close(fd);
	rel.lease_id = id;
	env.request_id = 8;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_RELEASE;
	env.lease_release = &rel;
	send_env(a, &env);
	newcomer_served_first(a);
	r = answer(a, NULL);
	assert_int_equal(r->body_case,
	    PMEMTIER__ENVELOPE__BODY_LEASE_RELEASED);
	tc_free(r);
	/* LeaseReleased still means the blocks are free. */
	assert_int_equal(tc_tier(a, "big", &free_, NULL, NULL), 0);
	assert_int_equal(free_, 4 * GiB);
	assert_int_equal(statvfs(mnt, &v), 0);
	assert_true((uint64_t)v.f_bfree * v.f_frsize > 4 * GiB - (1 << 20));
	close(a);
}

static void
test_trim_grown_lease(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__StatusRequest	 sr = PMEMTIER__STATUS_REQUEST__INIT;
	Pmemtier__Envelope	*r;
	struct stat		 st;
	uint64_t		 id;
	int			 a, fd;

	a = tc_open(d.socket);
	assert_true(a >= 0);
	assert_int_equal(tc_lease(a, "big", 4096, &id, NULL, &fd), 0);
	/* The client grows its 4 KiB lease to 3 GiB... */
	assert_int_equal(posix_fallocate(fd, 0, (off_t)BIG), 0);
	/* ...and an admin's Status audits (and trims) before it answers. */
	env.request_id = 9;
	env.body_case = PMEMTIER__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &sr;
	send_env(a, &env);
	newcomer_served_first(a);
	r = answer(a, NULL);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_STATUS);
	tc_free(r);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 4096);
	assert_true((uint64_t)st.st_blocks * 512 <= 64 * 1024);
	assert_int_equal(tc_release(a, id), 0);
	close(fd);
	close(a);
}

/* Bytes in use on the test's tmpfs. */
static uint64_t
used(void)
{
	struct statvfs	v;

	assert_int_equal(statvfs(mnt, &v), 0);
	return (uint64_t)(v.f_blocks - v.f_bfree) * v.f_frsize;
}

#define LANE_LEASES	256
#define LANE_SIZE	(64 * 1024)

/*
 * A small lease file closed off the loop: LeaseReleased still comes after
 * its blocks are free, lease after lease, and the daemon keeps no
 * descriptor. (Were the answer sent before the close ran, the blocks of
 * the lease just released would still be counted here.)
 */
static void
test_release_after_close_lane(void **state)
{
	uint64_t	id[LANE_LEASES], base;
	int		a, fd, i, dfds;

	a = tc_open(d.socket);
	assert_true(a >= 0);
	dfds = tc_settle_fds(d.pid);
	base = used();
	for (i = 0; i < LANE_LEASES; i++) {
		assert_int_equal(tc_lease(a, "lane", LANE_SIZE, &id[i], NULL,
		    &fd), 0);
		close(fd);
	}
	assert_true(used() >= base + (uint64_t)LANE_LEASES * LANE_SIZE);
	for (i = 0; i < LANE_LEASES; i++) {
		assert_int_equal(tc_release(a, id[i]), 0);
		if (used() > base + (uint64_t)(LANE_LEASES - 1 - i) *
		    LANE_SIZE)
			fail_msg("lease %d of %d released, but %llu bytes "
			    "are still in use (%llu expected)", i + 1,
			    LANE_LEASES, (unsigned long long)(used() - base),
			    (unsigned long long)(LANE_LEASES - 1 - i) *
			    LANE_SIZE);
	}
	/* The emptied files kept for grants go after a second unused. */
	assert_int_equal(tc_wait_fds(d.pid, dfds), dfds);
	close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_large_grant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_large_release, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_trim_grown_lease, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release_after_close_lane,
		    setup_lane, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
