/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: leases from a real pmemtierd. The granted fd maps, has the
 * requested size and is writable; release and the client's exit give
 * everything back (tier accounting, blocks, fds in the daemon and in the
 * test), a mere disconnect does not.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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
	assert_int_equal(tc_stop_measured(&d, &base), 0);
	return 0;
}

/* Maps fd, checks size, writes every page and reads it back. */
static void
check_mapping(int fd, uint64_t size)
{
	struct stat	 st;
	unsigned char	*p;
	uint64_t	 off;

	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	for (off = 0; off < size; off += 4096)
		p[off] = (unsigned char)(off / 4096 + 1);
	for (off = 0; off < size; off += 4096)
		assert_int_equal(p[off], (unsigned char)(off / 4096 + 1));
	munmap(p, size);
}

static void
test_file_lease(void **state)
{
	uint64_t	id, size, free0, free1, free2;
	struct stat	st;
	int		s, fd;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_tier(s, "pmem", &free0, NULL, NULL), 0);
	assert_int_equal(free0, 1024 * MiB);

	/* Sizes are rounded up to the page size. */
	assert_int_equal(tc_lease(s, "", 3 * MiB + 1, &id, &size, &fd), 0);
	assert_int_equal(size, 3 * MiB + 4096);
	check_mapping(fd, size);
	/* fallocate'd: every block is there before the first touch. */
	assert_int_equal(fstat(fd, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= size);
	assert_int_equal(tc_tier(s, "pmem", &free1, NULL, NULL), 0);
	assert_int_equal(free1, free0 - size);

	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	assert_int_equal(tc_tier(s, "pmem", &free2, NULL, NULL), 0);
	assert_int_equal(free2, free0);
	/* The private directory holds no name: O_TMPFILE. */
	assert_int_equal(tc_count_dir(d.tierdir), 1);
	{
		char	priv[400];

		snprintf(priv, sizeof(priv), "%s/.pmemtierd-leases", d.tierdir);
		assert_int_equal(tc_count_dir(priv), 0);
	}
	close(s);
}

static void
test_kmem_lease(void **state)
{
	uint64_t	id, size;
	int		s, fd, seals;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "kmem", 2 * MiB, &id, &size, &fd), 0);
	assert_int_equal(size, 2 * MiB);
	check_mapping(fd, size);
	seals = fcntl(fd, F_GET_SEALS);
	assert_true(seals & F_SEAL_GROW);
	/* Sealed for good; not against shrinking, which revocation uses. */
	assert_true(seals & F_SEAL_SEAL);
	assert_false(seals & F_SEAL_SHRINK);
	assert_int_not_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	/* Sealed: the client cannot grow it. */
	assert_int_not_equal(ftruncate(fd, (off_t)(4 * MiB)), 0);
	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	close(s);
}

/* The filesystem space of a released lease comes back. */
static void
test_release_frees_blocks(void **state)
{
	struct statvfs	v0, v1, v2;
	uint64_t	id, free0, free1;
	int		s, fd;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(statvfs(d.tierdir, &v0), 0);
	assert_int_equal(tc_lease(s, "pmem", 64 * MiB, &id, NULL, &fd), 0);
	assert_int_equal(statvfs(d.tierdir, &v1), 0);
	assert_true((uint64_t)(v0.f_bfree - v1.f_bfree) * v1.f_frsize >=
	    60 * MiB);
	close(fd);
	assert_int_equal(tc_tier(s, "pmem", &free0, NULL, NULL), 0);
	assert_int_equal(tc_release(s, id), 0);
	assert_int_equal(tc_tier(s, "pmem", &free1, NULL, NULL), 0);
	assert_int_equal(free1, free0 + 64 * MiB);
	assert_int_equal(statvfs(d.tierdir, &v2), 0);
	assert_true((uint64_t)(v0.f_bfree > v2.f_bfree ?
	    v0.f_bfree - v2.f_bfree : 0) * v2.f_frsize < 4 * MiB);
	close(s);
}

/* Polls the pmem tier's free bytes until they are want (5 s at most). */
static uint64_t
wait_free(int s, uint64_t want)
{
	uint64_t	got = 0;
	int		i;

	for (i = 0; i < 500; i++) {
		assert_int_equal(tc_tier(s, "pmem", &got, NULL, NULL), 0);
		if (got == want)
			break;
		usleep(10000);
	}
	return got;
}

/*
 * Forks a child that takes n leases of size bytes on pmem and keeps every
 * fd (so it holds them all); with hangup it then closes its connection.
 * It writes a byte to ready, then waits for one on go (-1: until killed).
 */
static pid_t
lease_holder(int n, uint64_t size, int hangup, int ready, int go)
{
	pid_t	pid;
	char	c = 'x';

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int	cs = tc_open(d.socket), fd, j;

		for (j = 0; cs >= 0 && j < n; j++)
			if (tc_lease(cs, "pmem", size, NULL, NULL, &fd) != 0)
				_exit(1);
		if (hangup)
			close(cs);
		if (write(ready, &c, 1) != 1)
			_exit(1);
		if (go < 0)
			pause();
		else if (read(go, &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	return pid;
}

/*
 * Closing the connection does not give the leases back while the process
 * lives (it still has them mapped, or could); its exit does.
 */
static void
test_disconnect_holds_until_exit(void **state)
{
	uint64_t	free0, free1;
	pid_t		pid;
	int		s, go[2], done[2], status;
	char		c;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_tier(s, "pmem", &free0, NULL, NULL), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	pid = lease_holder(10, MiB, 1, done[1], go[0]);
	close(done[1]);
	close(go[0]);
	assert_int_equal(read(done[0], &c, 1), 1);
	/* Long enough for the daemon to see the hang-up. */
	usleep(300000);
	assert_int_equal(tc_tier(s, "pmem", &free1, NULL, NULL), 0);
	assert_int_equal(free1, free0 - 10 * MiB);
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(wait_free(s, free0), free0);
	close(go[1]);
	close(done[0]);
	close(s);
}

/*
 * Released while still open here: the storage goes at once, the daemon
 * keeps watching the file, and lets go of it within seconds of the
 * client's close (not at the next full audit, 10 s away).
 */
static void
test_release_while_open(void **state)
{
	struct stat	st;
	uint64_t	id, free0;
	int		s, fd, dfds;

	dfds = tc_settle_fds(d.pid);
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_tier(s, "pmem", &free0, NULL, NULL), 0);
	assert_int_equal(tc_lease(s, "pmem", 4 * MiB, &id, NULL, &fd), 0);
	assert_int_equal(tc_release(s, id), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_blocks, 0);
	/* Watched: its descriptor is still the daemon's (conn + zombie). */
	assert_int_equal(tc_count_fds(d.pid), dfds + 2);
	close(fd);
	assert_int_equal(tc_wait_fds(d.pid, dfds + 1), dfds + 1);
	assert_int_equal(tc_tier(s, "pmem", &id, NULL, NULL), 0);
	assert_int_equal(id, free0);
	close(s);
}

/* A client killed with SIGKILL holding leases frees them all. */
static void
test_sigkill_frees(void **state)
{
	uint64_t	free0, free1;
	pid_t		pid;
	int		s, pfd[2], status;
	char		c;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_tier(s, "pmem", &free0, NULL, NULL), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = lease_holder(5, 8 * MiB, 0, pfd[1], -1);
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	assert_int_equal(tc_tier(s, "pmem", &free1, NULL, NULL), 0);
	assert_int_equal(free1, free0 - 40 * MiB);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(wait_free(s, free0), free0);
	close(s);
}

/*
 * Bug: lease files were O_TMPFILE without O_EXCL, so a client could
 * linkat() its fd (via /proc/self/fd) into a directory of the tier's
 * filesystem: the file then outlived the lease and its space escaped
 * every quota. (fs.protected_hardlinks only stops other uids.)
 */
static void
test_file_lease_not_linkable(void **state)
{
	char		fdpath[64], target[400];
	uint64_t	id;
	int		s, fd, rc;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", MiB, &id, NULL, &fd), 0);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	snprintf(target, sizeof(target), "%s/stolen", d.tierdir);
	rc = linkat(AT_FDCWD, fdpath, AT_FDCWD, target, AT_SYMLINK_FOLLOW);
	if (rc == 0)
		unlink(target);
	assert_int_not_equal(rc, 0);
	rc = linkat(fd, "", AT_FDCWD, target, AT_EMPTY_PATH);
	if (rc == 0)
		unlink(target);
	assert_int_not_equal(rc, 0);
	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_lease, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kmem_lease, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release_frees_blocks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_holds_until_exit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_while_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_frees, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_lease_not_linkable,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
