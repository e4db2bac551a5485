/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: quotas that hold against a hostile local user (issue 9).
 * Each test is one way around a limit that worked before the daemon took
 * its grants back: the attacker runs as uid 65534, its victim as 65533,
 * against a real daemon with real file (a small tmpfs) and kmem tiers.
 */
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
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

#define MiB		(1024ULL * 1024)
#define E(x)		PMEMTIER__ERROR_CODE__ERROR_##x
#define ATTACKER	65534
#define VICTIM		65533
/* The small file tier: a tmpfs of SMALL_FS bytes, SMALL_CAP of it leased. */
#define SMALL_FS	"64m"
#define SMALL_CAP	(60 * MiB)
#define BIG		(40 * MiB)

static struct testd	d;
static char		small[256];	/* the tmpfs mount point, "" if none */
static int		fds_before;

/* ---- processes as other users ---- */

/*
 * In a child: cmocka's handlers for fatal signals would take it back
 * into the test runner, running the next tests there. A child that
 * faults must just die of it (its parent sees 128 + the signal).
 */
static void
child_signals(void)
{
	static const int	sigs[] = { SIGBUS, SIGSEGV, SIGILL, SIGFPE,
	    SIGABRT };
	size_t			i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

static int	cg_enter(const char *);

#define NO_GROUP	((gid_t)-1)

/*
 * Forks a child that enters cgroup (NULL: stays) while still root, then
 * becomes uid with gid the same and group (NO_GROUP: none) as its only
 * supplementary group, and runs fn(arg).
 */
static pid_t
spawn(uid_t uid, gid_t group, const char *cgroup, int (*fn)(void *),
    void *arg)
{
	pid_t	pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_signals();
		if (cgroup != NULL && cg_enter(cgroup) != 0)
			_exit(121);
		if (setgroups(group != NO_GROUP, &group) != 0 ||
		    setgid(uid) != 0 || setuid(uid) != 0)
			_exit(120);
		_exit(fn(arg));
	}
	return pid;
}

static pid_t
as_user(uid_t uid, int (*fn)(void *), void *arg)
{
	return spawn(uid, NO_GROUP, NULL, fn, arg);
}

/* Waits for pid; its exit code, or 128 + the signal that killed it. */
static int
reap(pid_t pid)
{
	int	status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* A pair of pipes to step a child and its parent through a scenario. */
struct step {
	int	up[2];		/* child -> parent */
	int	down[2];	/* parent -> child */
};

static void
step_init(struct step *s)
{
	assert_int_equal(pipe(s->up), 0);
	assert_int_equal(pipe(s->down), 0);
}

/* In the parent once the child runs: its ends are the child's alone, so
 * that a child that dies is seen (EOF) rather than waited for. */
static void
step_forked(struct step *s)
{
	close(s->up[1]);
	close(s->down[0]);
	s->up[1] = s->down[0] = -1;
}

static void
step_fini(struct step *s)
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (s->up[i] >= 0)
			close(s->up[i]);
		if (s->down[i] >= 0)
			close(s->down[i]);
	}
}

/*
 * In the child: tell the parent, then wait for its go, for a minute at
 * most (a parent whose assertion failed never sends it, and the pipes of
 * one test leak into the children of the next). 0 on success.
 */
static int
step_child(struct step *s)
{
	struct pollfd	pfd = { .fd = s->down[0], .events = POLLIN };
	char		c = 'x';

	if (write(s->up[1], &c, 1) != 1 || poll(&pfd, 1, 60000) != 1 ||
	    read(s->down[0], &c, 1) != 1)
		return -1;
	return 0;
}

/* In the parent: wait for the child's word. 0 on success. */
static int
step_wait(struct step *s)
{
	char	c;

	return read(s->up[0], &c, 1) == 1 ? 0 : -1;
}

static void
step_go(struct step *s)
{
	if (write(s->down[1], "x", 1) != 1)
		fail_msg("the child is gone: %s", strerror(errno));
}

/* ---- SIGBUS probing of a revoked mapping ---- */

static sigjmp_buf	bus_jmp;

static void
bus_handler(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* 1 when reading p faults with SIGBUS (its file has no page there). */
static int
faults(volatile const char *p)
{
	struct sigaction	sa, old;
	int			bus;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bus_handler;
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1) == 0) {
		(void)p[0];
		bus = 0;
	} else
		bus = 1;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

static uint64_t
allocated(int fd)
{
	struct stat	st;

	if (fstat(fd, &st) != 0)
		return UINT64_MAX;
	return (uint64_t)st.st_blocks * 512;
}

static off_t
file_size(int fd)
{
	struct stat	st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* ---- daemons ---- */

static int
start(const char *extra)
{
	char	ini[4096];

	fds_before = tc_count_fds(0);
	snprintf(ini, sizeof(ini), "[daemon]\nsocket_mode = 0666\n%s",
	    extra != NULL ? extra : "");
	return testd_start(&d, ini);
}

/* Starts a daemon with a "small" file tier on a fresh 64 MiB tmpfs. */
static int
setup_small(void **state)
{
	char	ini[1024];

	snprintf(small, sizeof(small), "%s/pmt-enforce.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(small) == NULL)
		return -1;
	if (mount("tmpfs", small, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=" SMALL_FS ",mode=0755") != 0) {
		fprintf(stderr, "test_enforce: cannot mount a tmpfs on %s: "
		    "%s\n", small, strerror(errno));
		rmdir(small);
		small[0] = '\0';
		return start(NULL);
	}
	snprintf(ini, sizeof(ini), "[tier small]\nbackend = file\n"
	    "path = %s\ncapacity = %llu\n", small,
	    (unsigned long long)SMALL_CAP);
	return start(ini);
}

static int
teardown(void **state)
{
	int	rc = testd_stop(&d);

	if (small[0] != '\0') {
		umount2(small, MNT_DETACH);
		rmdir(small);
		small[0] = '\0';
	}
	assert_int_equal(rc, 0);
	assert_int_equal(tc_count_fds(0), fds_before);
	return 0;
}

static int
setup_plain(void **state)
{
	small[0] = '\0';
	return start(NULL);
}

/* The victim gets size bytes of tier and writes every page of them. */
static int
victim_lease(void *arg)
{
	const char	*tier = arg;
	uint64_t	 id, size;
	char		*p;
	int		 s = tc_open(d.socket), fd, rc;

	if (s < 0)
		return 10;
	if ((rc = tc_lease(s, tier, BIG, &id, &size, &fd)) != 0) {
		fprintf(stderr, "victim: lease of %llu bytes on %s: error "
		    "%d\n", (unsigned long long)BIG, tier, rc);
		return 11;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 12;
	/* A SIGBUS here (no space behind the lease) fails the test. */
	memset(p, 0x5a, size);
	munmap(p, size);
	close(fd);
	return tc_release(s, id) == 0 ? 0 : 13;
}

/* ---- 1. keep the fd (and the mapping) after release ---- */

struct keep {
	const char	*tier;
	struct step	 st;
};

static int
attacker_keeps(void *arg)
{
	struct keep	*k = arg;
	uint64_t	 id, size;
	char		*p;
	int		 s = tc_open(d.socket), fd;

	if (s < 0 || tc_lease(s, k->tier, BIG, &id, &size, &fd) != 0)
		return 20;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 21;
	memset(p, 1, size);
	if (tc_release(s, id) != 0)
		return 22;
	/* The storage went with the release, fd and mapping or not. */
	if (file_size(fd) != 0 || allocated(fd) != 0) {
		fprintf(stderr, "attacker: after release: size %lld, %llu "
		    "bytes allocated\n", (long long)file_size(fd),
		    (unsigned long long)allocated(fd));
		return 23;
	}
	if (!faults(p))
		return 24;
	/*
	 * Grow it back through the kept fd: a file allows it (not touched
	 * through the mapping: the daemon may truncate it again any time)...
	 */
	if (ftruncate(fd, (off_t)size) == 0) {
		if (posix_fallocate(fd, 0, (off_t)size) != 0)
			return 25;
	} else if (errno != EPERM)	/* ...a sealed memfd does not */
		return 26;
	if (step_child(&k->st) != 0)
		return 27;
	/* The daemon truncated it again to make room for the victim. */
	if (file_size(fd) != 0 || allocated(fd) != 0) {
		fprintf(stderr, "attacker: after the victim's grant: size "
		    "%lld, %llu bytes allocated\n", (long long)file_size(fd),
		    (unsigned long long)allocated(fd));
		return 28;
	}
	munmap(p, size);
	close(fd);
	close(s);
	return 0;
}

static void
keep_after_release(const char *tier)
{
	struct keep	k = { .tier = tier };
	pid_t		a;

	step_init(&k.st);
	a = as_user(ATTACKER, attacker_keeps, &k);
	step_forked(&k.st);
	if (step_wait(&k.st) != 0) {
		step_fini(&k.st);
		fail_msg("attacker failed before the victim: exit %d",
		    reap(a));
	}
	/* 40 of the 64 MiB are the attacker's again, on its own fd. */
	assert_int_equal(reap(as_user(VICTIM, victim_lease, (void *)tier)),
	    0);
	step_go(&k.st);
	assert_int_equal(reap(a), 0);
	step_fini(&k.st);
}

static void
test_keep_fd_after_release_file(void **state)
{
	if (small[0] == '\0')
		skip();
	keep_after_release("small");
}

static void
test_keep_fd_after_release_kmem(void **state)
{
	keep_after_release("kmem");
}

/*
 * ---- 1b. a file kept for the next grant (spares) ----
 *
 * The daemon keeps the file of a lease that ended, emptied, for its next
 * grant on the tier, which may be another user's. What the first user
 * wrote must not reach the second, and a file the first still holds must
 * never be handed on.
 */

#define SPARE_SIZE	(1 * MiB)

/* Shared with the children (MAP_SHARED); st is each process's own. */
struct spare_run {
	struct step	*st;
	int		 keep;		/* the writer keeps its fd */
	uint64_t	 ino;		/* the writer's file */
};

static int
spare_writer(void *arg)
{
	struct spare_run	*r = arg;
	struct stat		 st;
	uint64_t		 id, size;
	char			*p;
	int			 s = tc_open(d.socket), fd;

	if (s < 0 || tc_lease(s, "small", SPARE_SIZE, &id, &size, &fd) != 0)
		return 30;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || fstat(fd, &st) != 0)
		return 31;
	r->ino = (uint64_t)st.st_ino;
	memset(p, 0xa5, size);
	munmap(p, size);
	if (!r->keep)
		close(fd);
	if (tc_release(s, id) != 0)
		return 32;
	if (r->keep && step_child(r->st) != 0)
		return 33;
	close(s);
	return 0;
}

/* Leases the same size; 0 when it reads nothing but zeros. */
static int
spare_reader(void *arg)
{
	uint64_t	*ino = arg, id, size, i;
	struct stat	 st;
	unsigned char	*p;
	int		 s = tc_open(d.socket), fd;

	if (s < 0 || tc_lease(s, "small", SPARE_SIZE, &id, &size, &fd) != 0)
		return 40;
	if (fstat(fd, &st) != 0)
		return 41;
	*ino = (uint64_t)st.st_ino;
	/* Its whole budget is allocated, as for a new file. */
	if ((uint64_t)st.st_size != size || allocated(fd) < size)
		return 42;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 43;
	for (i = 0; i < size; i++)
		if (p[i] != 0) {
			fprintf(stderr, "reader: byte %llu of a new lease is "
			    "%#x\n", (unsigned long long)i, p[i]);
			return 44;
		}
	munmap(p, size);
	close(fd);
	return tc_release(s, id) == 0 ? 0 : 45;
}

static void
test_spare_carries_nothing(void **state)
{
	struct spare_run	*r;
	struct step		 st;
	uint64_t		*ino;
	pid_t			 a;
	int			 i, reused = 0;

	if (small[0] == '\0')
		skip();
	/* Shared with the children, who fill in their inode numbers. */
	r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	assert_true(r != MAP_FAILED);
	ino = (uint64_t *)(r + 1);
	/*
	 * The attacker writes and lets go; the victim's next lease is
	 * usually the same file (unless the idle tick dropped it between).
	 */
	for (i = 0; i < 8; i++) {
		r->keep = 0;
		assert_int_equal(reap(as_user(ATTACKER, spare_writer, r)), 0);
		assert_int_equal(reap(as_user(VICTIM, spare_reader, ino)), 0);
		reused += *ino == r->ino;
	}
	if (reused == 0)
		fail_msg("no lease of 8 reused the file of the one before: "
		    "the spares are not exercised");
	/* Kept open (fd and all): truncated, never handed on. */
	r->keep = 1;
	r->st = &st;
	step_init(&st);
	a = as_user(ATTACKER, spare_writer, r);
	step_forked(&st);
	if (step_wait(&st) != 0) {
		step_fini(&st);
		fail_msg("attacker failed: exit %d", reap(a));
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(reap(as_user(VICTIM, spare_reader, ino)), 0);
		assert_true(*ino != r->ino);
	}
	step_go(&st);
	assert_int_equal(reap(a), 0);
	step_fini(&st);
	munmap(r, 4096);
}

/* ---- 2. grow a lease past its grant ---- */

static int
attacker_grows(void *arg)
{
	struct step	*st = arg;
	uint64_t	 id, size;
	int		 s = tc_open(d.socket), fd;

	if (s < 0 || tc_lease(s, "small", 4096, &id, &size, &fd) != 0)
		return 30;
	/* 4 KiB granted; 40 MiB taken on disk. */
	if (posix_fallocate(fd, 0, (off_t)BIG) != 0)
		return 31;
	if (step_child(st) != 0)
		return 32;
	/* Trimmed back to its grant to make room for the victim. */
	if (file_size(fd) != (off_t)size || allocated(fd) > size + 65536) {
		fprintf(stderr, "attacker: grown lease after the victim's "
		    "grant: size %lld, %llu bytes allocated\n",
		    (long long)file_size(fd),
		    (unsigned long long)allocated(fd));
		return 33;
	}
	close(fd);
	return tc_release(s, id) == 0 ? 0 : 34;
}

static void
test_grow_lease(void **state)
{
	struct step	st;
	pid_t		a;

	if (small[0] == '\0')
		skip();
	step_init(&st);
	a = as_user(ATTACKER, attacker_grows, &st);
	step_forked(&st);
	if (step_wait(&st) != 0) {
		step_fini(&st);
		fail_msg("attacker failed before the victim: exit %d",
		    reap(a));
	}
	assert_int_equal(reap(as_user(VICTIM, victim_lease, "small")), 0);
	step_go(&st);
	assert_int_equal(reap(a), 0);
	step_fini(&st);
}

/* ---- 3. hang up to shed the charge, keep the memory ---- */

static int
attacker_hangs_up(void *arg)
{
	struct step	*st = arg;
	uint64_t	 size;
	char		*p;
	int		 s = tc_open(d.socket), fd, rc;

	if (s < 0 || tc_lease(s, "pmem", 16 * MiB, NULL, &size, &fd) != 0)
		return 40;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 41;
	close(fd);
	close(s);
	/* A new connection, same process: the quota is still used up. */
	if ((s = tc_open(d.socket)) < 0)
		return 42;
	rc = tc_lease(s, "pmem", 16 * MiB, NULL, NULL, NULL);
	if (rc != E(QUOTA)) {
		fprintf(stderr, "attacker: second 16 MiB after hanging up: "
		    "error %d, want ERROR_QUOTA\n", rc);
		return 43;
	}
	/* Its memory is still there: a dropped connection is not a crash. */
	memset(p, 3, size);
	close(s);
	if (step_child(st) != 0)
		return 44;
	munmap(p, size);
	return 0;
}

static void
test_disconnect_keeps_charge(void **state)
{
	struct step	st;
	uint64_t	granted;
	pid_t		a;
	int		s, i;

	step_init(&st);
	a = as_user(ATTACKER, attacker_hangs_up, &st);
	step_forked(&st);
	if (step_wait(&st) != 0) {
		step_fini(&st);
		fail_msg("attacker failed: exit %d", reap(a));
	}
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_tier(s, "pmem", NULL, &granted, NULL), 0);
	assert_int_equal(granted, 16 * MiB);
	step_go(&st);
	assert_int_equal(reap(a), 0);
	/* Its exit ends the lease. */
	for (i = 0; i < 500 && granted != 0; i++) {
		usleep(10000);
		assert_int_equal(tc_tier(s, "pmem", NULL, &granted, NULL), 0);
	}
	assert_int_equal(granted, 0);
	close(s);
	step_fini(&st);
}

static int
setup_quota16(void **state)
{
	small[0] = '\0';
	return start("[quota nobody]\nuid = 65534\ntier = *\nlimit = 16M\n");
}

/* ---- 4. one packet that hangs the loop: a lingering socket ---- */

static int
attacker_lingers(void *arg)
{
	struct step		*st = arg;
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	uint8_t			buf[512], junk[65536];
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__TierList	tl = PMEMTIER__TIER_LIST__INIT;
	struct linger		lg = { .l_onoff = 1, .l_linger = 120 };
	int			l, t, s, n = 0;

	/* A TCP peer that never reads: data stays unsent. */
	l = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0)
		return 50;
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (t < 0 || connect(t, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "attacker: no TCP over loopback here: %s\n",
		    strerror(errno));
		return 77;
	}
	fcntl(t, F_SETFL, O_NONBLOCK);
	memset(junk, 0, sizeof(junk));
	while (send(t, junk, sizeof(junk), MSG_NOSIGNAL) > 0 && n++ < 1000)
		;
	if (setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
		return 52;
	if ((s = tc_open(d.socket)) < 0)
		return 53;
	env.version = 1;
	env.request_id = 9;
	env.body_case = PMEMTIER__ENVELOPE__BODY_TIER_LIST;
	env.tier_list = &tl;
	len = (socklen_t)pmemtier__envelope__pack(&env, buf);
	/* The daemon's copy is the last once this one is closed. */
	(void)tc_send_raw(s, buf, len, t);
	close(t);
	close(s);
	/* The listener stays: closing it would reset the connection. */
	if (step_child(st) != 0)
		return 54;
	close(l);
	return 0;
}

static void
test_lingering_fd(void **state)
{
	Pmemtier__Envelope	*r;
	struct step		 st;
	pid_t			 a;
	int			 s;

	step_init(&st);
	a = as_user(ATTACKER, attacker_lingers, &st);
	step_forked(&st);
	if (step_wait(&st) != 0) {
		int	rc = reap(a);

		step_fini(&st);
		if (rc == 77)
			skip();		/* no loopback (a bare VM guest) */
		fail_msg("attacker failed: exit %d", rc);
	}
	/* Time for the daemon to take the packet (and, before, hang). */
	usleep(200000);
	/* root's request is answered at once, not after the linger time. */
	s = tc_connect(d.socket);
	assert_true(s >= 0);
	r = tc_hello(s, 1, 1);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_WELCOME);
	tc_free(r);
	assert_int_equal(tc_tier(s, "pmem", NULL, NULL, NULL), 0);
	close(s);
	step_go(&st);
	assert_int_equal(reap(a), 0);
	step_fini(&st);
}

/* The daemon takes peers' fds (as kernels before 6.16 make it). */
static int
setup_accept_fds(void **state)
{
	int	rc;

	small[0] = '\0';
	setenv("PMEMTIERD_TEST_ACCEPT_FDS", "1", 1);
	rc = start(NULL);
	unsetenv("PMEMTIERD_TEST_ACCEPT_FDS");
	return rc;
}

/* ---- 5. identity: cgroups ---- */

static char	cg_mount[256];		/* the cgroup2 mount, "" if none */
static char	cg_test[320];		/* our cgroup under it: /pmt-enforce-PID */

/* Finds a cgroup2 mount this process may make cgroups in. */
static int
cg_find(void)
{
	char	 line[1024], *dash, *p;
	FILE	*f;
	int	 i;

	cg_mount[0] = '\0';
	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((dash = strstr(line, " - cgroup2 ")) == NULL)
			continue;
		for (p = line, i = 0; i < 4 && p != NULL; i++)
			if ((p = strchr(p, ' ')) != NULL)
				p++;
		if (p == NULL || p > dash)
			continue;
		p[strcspn(p, " ")] = '\0';
		snprintf(cg_mount, sizeof(cg_mount), "%s", p);
		break;
	}
	fclose(f);
	if (cg_mount[0] == '\0')
		return -1;
	/* Our own cgroup must be the mount's root for the paths to agree. */
	if ((f = fopen("/proc/self/cgroup", "r")) == NULL)
		return -1;
	i = -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strcmp(line, "0::/\n") == 0)
			i = 0;
	fclose(f);
	return i;
}

/* Writes text to the file at path; 0 or -errno. */
static int
put(const char *path, const char *text)
{
	int	fd = open(path, O_WRONLY), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Moves the calling process into the cgroup at mount + rel. */
static int
cg_enter(const char *rel)
{
	char	path[700];

	snprintf(path, sizeof(path), "%s%s/cgroup.procs", cg_mount, rel);
	return put(path, "0");
}

/* Removes a cgroup once its last process is gone (that takes a moment). */
static void
cg_remove(const char *rel)
{
	char	path[700];
	int	i;

	snprintf(path, sizeof(path), "%s%s", cg_mount, rel);
	for (i = 0; i < 200 && rmdir(path) != 0 && errno == EBUSY; i++)
		usleep(10000);
}

enum cg_rules { CG_JAIL, CG_DEFAULT };

/*
 * Starts a daemon once the test's cgroup exists (the tests skip without
 * one): CG_JAIL limits that cgroup to 1 MiB, CG_DEFAULT gives everyone
 * a 64M default rule.
 */
static int
cg_start(enum cg_rules rules, int no_peerpidfd)
{
	char	path[700], ini[2048];
	int	rc;

	small[0] = '\0';
	cg_test[0] = '\0';
	if (cg_find() != 0)
		return start(NULL);
	snprintf(cg_test, sizeof(cg_test), "/pmt-enforce-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s%s", cg_mount, cg_test);
	if (mkdir(path, 0755) != 0) {
		fprintf(stderr, "test_enforce: cannot make a cgroup at %s: "
		    "%s\n", path, strerror(errno));
		cg_test[0] = '\0';
		return start(NULL);
	}
	if (rules == CG_JAIL)
		snprintf(ini, sizeof(ini), "[daemon]\nlog_level = debug\n"
		    "[quota jail]\ncgroup = %s\ntier = *\nlimit = 1M\n",
		    cg_test);
	else
		snprintf(ini, sizeof(ini), "[quota dflt]\ndefault = yes\n"
		    "tier = pmem\nlimit = 64M\n");
	if (no_peerpidfd)
		setenv("PMEMTIERD_TEST_NO_PEERPIDFD", "1", 1);
	rc = start(ini);
	unsetenv("PMEMTIERD_TEST_NO_PEERPIDFD");
	return rc;
}

static int
cg_teardown(void **state)
{
	if (cg_test[0] != '\0')
		cg_remove(cg_test);
	return teardown(state);
}

/*
 * The race: a child connects, asks and exits; its parent reaps it at once,
 * so that by the time the daemon looks, /proc/PID is gone or (pid reuse)
 * another process's. Each connection must be refused or charged to the
 * jail cgroup: the jail's 1 MiB quota refuses every 8 MiB asked.
 */
#define RACE_ATTEMPTS	10000

/* PMEMTIER_RACE_ATTEMPTS lowers it where forks are slow (the TCG guest). */
static int
race_attempts(void)
{
	const char	*v = getenv("PMEMTIER_RACE_ATTEMPTS");

	return v != NULL && atoi(v) > 0 ? atoi(v) : RACE_ATTEMPTS;
}

static int
attacker_races(void *arg)
{
	uint8_t	hello[128], lease[128];
	size_t	hlen = tc_pack_hello(hello, 1);
	size_t	llen = tc_pack_lease(lease, 2, "pmem", 8 * MiB);
	pid_t	pid;
	int	i, s, rc;

	for (i = 0; i < race_attempts(); i++) {
		if ((pid = fork()) < 0)
			return 70;
		if (pid == 0) {
			if ((s = tc_connect(d.socket)) < 0)
				_exit(1);
			(void)tc_send_raw(s, hello, hlen, -1);
			(void)tc_send_raw(s, lease, llen, -1);
			_exit(0);
		}
		if (waitpid(pid, NULL, 0) != pid)
			return 71;
	}
	/* A proper client of the jail is identified, and refused by it. */
	if ((s = tc_open(d.socket)) < 0)
		return 72;
	rc = tc_lease(s, "pmem", 8 * MiB, NULL, NULL, NULL);
	close(s);
	return rc == E(QUOTA) ? 0 : 73;
}

static void
test_cgroup_race(void **state)
{
	char	 path[400], line[4096], want[400];
	FILE	*f;
	int	 seen = 0, wrong = 0, granted = 0;

	if (cg_test[0] == '\0')
		skip();
	assert_int_equal(reap(spawn(ATTACKER, NO_GROUP, cg_test,
	    attacker_races, NULL)), 0);
	/* Every connection identified as the attacker's is the jail's. */
	snprintf(want, sizeof(want), "uid %d gid %d cgroup %s", ATTACKER,
	    ATTACKER, cg_test);
	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		char	id[32];

		snprintf(id, sizeof(id), "uid %d gid", ATTACKER);
		if (strstr(line, " granted: ") != NULL)
			granted++;
		if (strstr(line, id) == NULL || strstr(line, " cgroup ") == NULL)
			continue;
		seen++;
		if (strstr(line, want) == NULL) {
			if (wrong++ < 5)
				fprintf(stderr, "escaped: %s", line);
		}
	}
	fclose(f);
	print_message("%d of %d attempts identified, %d escaped, %d "
	    "granted\n", seen, race_attempts() + 1, wrong, granted);
	assert_true(seen >= 1);
	assert_int_equal(wrong, 0);
	assert_int_equal(granted, 0);
}

static int
setup_race(void **state)
{
	return cg_start(CG_JAIL, 0);
}

static int
setup_race_fallback(void **state)
{
	return cg_start(CG_JAIL, 1);
}

/* ---- 6. sub-cgroups do not multiply the default rule ---- */

#define SUBS	6

struct subs {
	struct step	st;
	int		stop[2];	/* closed when the children may go */
};

/* In a sub-cgroup it made itself: asks for half the default quota. */
static int
sub_child(struct subs *x, int n, int report)
{
	char	rel[700], c;
	int	s, rc;

	close(x->stop[1]);
	snprintf(rel, sizeof(rel), "%s/user/c%d", cg_test, n);
	if (cg_enter(rel) != 0)
		return 1;
	if ((s = tc_open(d.socket)) < 0)
		return 2;
	rc = tc_lease(s, "pmem", 32 * MiB, NULL, NULL, NULL);
	c = rc == 0 ? 'y' : rc == E(QUOTA) ? 'n' : '?';
	if (write(report, &c, 1) != 1)
		return 3;
	/* Holds the lease (the connection) until told. */
	(void)read(x->stop[0], &c, 1);
	close(s);
	return 0;
}

static int
attacker_subdivides(void *arg)
{
	struct subs	*x = arg;
	char		 path[800], c;
	pid_t		 kids[SUBS];
	int		 rep[2], i, yes = 0, other = 0;

	if (pipe(rep) != 0 || pipe(x->stop) != 0)
		return 80;
	for (i = 0; i < SUBS; i++) {
		snprintf(path, sizeof(path), "%s%s/user/c%d", cg_mount,
		    cg_test, i);
		if (mkdir(path, 0755) != 0)
			return 81;
		if ((kids[i] = fork()) < 0)
			return 82;
		if (kids[i] == 0)
			_exit(sub_child(x, i, rep[1]));
	}
	for (i = 0; i < SUBS; i++) {
		if (read(rep[0], &c, 1) != 1)
			return 83;
		if (c == 'y')
			yes++;
		else if (c != 'n')
			other++;
	}
	close(x->stop[1]);
	for (i = 0; i < SUBS; i++)
		waitpid(kids[i], NULL, 0);
	fprintf(stderr, "attacker: %d of %d sub-cgroups got 32 MiB under a "
	    "64M default\n", yes, SUBS);
	return other != 0 ? 84 : yes == 2 ? 0 : 85;
}

static void
test_subcgroups(void **state)
{
	struct subs	x;
	char		path[800], rel[700];
	int		i, rc;
	static const char	*own[] = { "", "/cgroup.procs",
	    "/cgroup.threads", "/cgroup.subtree_control" };

	if (cg_test[0] == '\0')
		skip();
	/* A subtree delegated to the attacker, under one it does not own. */
	snprintf(path, sizeof(path), "%s%s/user", cg_mount, cg_test);
	assert_int_equal(mkdir(path, 0755), 0);
	for (i = 0; i < 4; i++) {
		char	p[900];

		snprintf(p, sizeof(p), "%s%s", path, own[i]);
		assert_int_equal(chown(p, ATTACKER, ATTACKER), 0);
	}
	snprintf(rel, sizeof(rel), "%s/user", cg_test);
	rc = reap(spawn(ATTACKER, NO_GROUP, rel, attacker_subdivides, &x));
	for (i = 0; i < SUBS; i++) {
		snprintf(path, sizeof(path), "%s/user/c%d", cg_test, i);
		cg_remove(path);
	}
	cg_remove(rel);
	assert_int_equal(rc, 0);
}

static int
setup_subs(void **state)
{
	return cg_start(CG_DEFAULT, 0);
}

/* ---- 7. descriptors: a budget with a reserve for admins ---- */

static int
attacker_hoards(void *arg)
{
	Pmemtier__Envelope	*r;
	const char		*why = arg;
	uint64_t		 id;
	int			 s, fd, n = 0, rc = 0;

	/*
	 * Connections and leases until the daemon says no, whatever the
	 * no is; everything stays held until the parent is done.
	 */
	while (n < 5000 && rc == 0) {
		if ((s = tc_connect(d.socket)) < 0) {
			rc = -1;
			break;
		}
		if ((r = tc_hello(s, 1, 1)) == NULL) {
			rc = -2;
			break;
		}
		rc = tc_error_code(r);
		tc_free(r);
		if (rc != 0)
			break;
		n++;
		while ((rc = tc_lease(s, "pmem", 4096, &id, NULL, &fd)) == 0)
			n++;
		if (rc == E(LIMIT))
			rc = 0;		/* a per-connection cap: next one */
	}
	fprintf(stderr, "%s: %d descriptors' worth, then refusal %d\n", why,
	    n, rc);
	pause();
	return 0;
}

static void
test_fd_budget(void **state)
{
	pid_t	a, v;
	int	s, i;
	char	path[400], line[1024];
	FILE	*f;
	int	budget = 0, served = 0;

	a = as_user(ATTACKER, attacker_hoards, "attacker");
	v = as_user(VICTIM, attacker_hoards, "victim");
	/* Wait until both stopped at the budget (or 20 s). */
	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	for (i = 0; i < 200 && budget < 2; i++) {
		usleep(100000);
		budget = 0;
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, "descriptor budget") != NULL)
				budget++;
		fclose(f);
	}
	/* root (an admin) still gets in and is served. */
	if ((s = tc_open(d.socket)) >= 0) {
		served = tc_tier(s, "pmem", NULL, NULL, NULL) == 0;
		close(s);
	}
	kill(a, SIGKILL);
	kill(v, SIGKILL);
	reap(a);
	reap(v);
	assert_true(served);
	assert_true(budget >= 1);
}

static int
setup_budget(void **state)
{
	int	rc;

	small[0] = '\0';
	/* The daemon's limit: a budget of 512 - 64 descriptors. */
	setenv("TESTD_NOFILE", "512", 1);
	rc = start("[daemon]\nmax_connections_per_uid = 10000\n"
	    "max_leases_per_uid = 100000\nmax_leases_per_connection = 100000\n"
	    "max_bytes_per_connection = 1G\n");
	unsetenv("TESTD_NOFILE");
	return rc;
}

/* ---- 8. admin rights follow the configuration in force ---- */

/* A QuotaSet for uid 1 on pmem; the error code or 0. */
static int
quota_set(int s)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__QuotaSet	 qs = PMEMTIER__QUOTA_SET__INIT;
	Pmemtier__QuotaRule	 rule = PMEMTIER__QUOTA_RULE__INIT;
	int			 rc;

	rule.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_UID;
	rule.uid = 1;
	rule.tier = "pmem";
	rule.limit = MiB;
	qs.rule = &rule;
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_SET;
	env.quota_set = &qs;
	if ((r = tc_call(s, &env, NULL)) == NULL)
		return -1;
	rc = tc_error_code(r);
	tc_free(r);
	return rc;
}

static int
ex_admin(void *arg)
{
	struct step	*st = arg;
	int		 s = tc_open(d.socket), rc;

	if (s < 0)
		return 100;
	if ((rc = quota_set(s)) != 0) {
		fprintf(stderr, "ex-admin: QuotaSet while admin: %d\n", rc);
		return 101;
	}
	if (step_child(st) != 0)
		return 102;
	/* Same connection, after the reload that dropped the group. */
	rc = quota_set(s);
	close(s);
	if (rc != E(DENIED)) {
		fprintf(stderr, "ex-admin: QuotaSet after losing admin: %d, "
		    "want ERROR_DENIED\n", rc);
		return 103;
	}
	return 0;
}

static void
test_admin_reload(void **state)
{
	struct step	 st;
	char		*text;
	long		 len;
	FILE		*f;
	pid_t		 a;

	step_init(&st);
	/* uid 65533 in group nogroup (65534), the configured admin_group. */
	a = spawn(VICTIM, 65534, NULL, ex_admin, &st);
	step_forked(&st);
	if (step_wait(&st) != 0) {
		step_fini(&st);
		fail_msg("ex-admin failed: exit %d", reap(a));
	}
	/* Drop admin_group from the file and reload. */
	assert_non_null(f = fopen(d.config, "r"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	{
		char	*p = strstr(text, "admin_group = nogroup");

		assert_non_null(p);
		memcpy(p, "#", 1);
	}
	assert_non_null(f = fopen(d.config, "w"));
	fputs(text, f);
	fclose(f);
	free(text);
	assert_int_equal(testd_reload(&d), 0);
	step_go(&st);
	assert_int_equal(reap(a), 0);
	step_fini(&st);
}

static int
setup_admin(void **state)
{
	small[0] = '\0';
	return start("[daemon]\nadmin_group = nogroup\n");
}

/* ---- 9. unprivileged paths log rate-limited ---- */

#define FLOOD	5000

static int
attacker_floods(void *arg)
{
	int	s = tc_open(d.socket), i, rc;

	if (s < 0)
		return 110;
	for (i = 0; i < FLOOD; i++) {
		if (tc_release(s, 1000 + (uint64_t)i) != E(UNKNOWN_LEASE))
			return 111;
		if ((rc = quota_set(s)) != E(DENIED)) {
			fprintf(stderr, "attacker: QuotaSet: %d\n", rc);
			return 112;
		}
	}
	close(s);
	return 0;
}

static void
test_log_flood(void **state)
{
	char	 path[400], line[2048];
	FILE	*f;
	int	 lines = 0;

	assert_int_equal(reap(as_user(ATTACKER, attacker_floods, NULL)), 0);
	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		lines++;
	fclose(f);
	print_message("%d requests refused, %d log lines\n", 2 * FLOOD,
	    lines);
	/* A burst and a summary per interval, not a line per request. */
	assert_true(lines < 100);
}

/* ---- 10. Status costs a non-admin nothing per lease ---- */

static int
attacker_polls_status(void *arg)
{
	struct step		*st = arg;
	Pmemtier__Envelope	*r;
	uint64_t		 id, size;
	int			 s = tc_open(d.socket), fd, i;

	if (s < 0 || tc_lease(s, "pmem", 4096, &id, &size, &fd) != 0)
		return 130;
	if (posix_fallocate(fd, 0, (off_t)(8 * MiB)) != 0)
		return 131;
	for (i = 0; i < 50; i++) {
		if ((r = tc_status(s, 0, 0)) == NULL)
			return 132;
		if (r->body_case != PMEMTIER__ENVELOPE__BODY_STATUS ||
		    r->status->full_view)
			return 133;
		tc_free(r);
	}
	/* No audit ran for it: nothing measured, nothing trimmed. */
	if (file_size(fd) != (off_t)(8 * MiB)) {
		fprintf(stderr, "attacker: a non-admin's Status audited "
		    "(size now %lld)\n", (long long)file_size(fd));
		return 134;
	}
	if (step_child(st) != 0)
		return 135;
	/* An admin's Status audits every lease: trimmed back. */
	if (file_size(fd) != (off_t)size)
		return 136;
	close(fd);
	return tc_release(s, id) == 0 ? 0 : 137;
}

/*
 * Runs fn as the attacker with a step pair, and waits for its first word.
 * A child that dies before it fails the test with its exit code.
 */
static pid_t
attacker_at_step(int (*fn)(void *), struct step *st)
{
	pid_t	a;

	step_init(st);
	a = as_user(ATTACKER, fn, st);
	step_forked(st);
	if (step_wait(st) != 0) {
		step_fini(st);
		fail_msg("attacker failed: exit %d", reap(a));
	}
	return a;
}

static void
test_status_cost(void **state)
{
	Pmemtier__Envelope	*r;
	struct step		 st;
	pid_t			 a;
	int			 s;

	a = attacker_at_step(attacker_polls_status, &st);
	s = tc_open(d.socket);
	assert_true(s >= 0);
	r = tc_status(s, 0, 0);
	assert_non_null(r);
	assert_true(r->status->full_view);
	tc_free(r);
	close(s);
	step_go(&st);
	assert_int_equal(reap(a), 0);
	step_fini(&st);
}

/* ---- commit past the budget (issue 11) ---- */

/*
 * A lease is charged its commit budget, not its size. The attacker asks
 * for 64 MiB of which it commits 1 MiB, then writes 40 MiB into it
 * without raising its budget. The next audit charges what the file holds,
 * and with that its quota (32 MiB) is spent: neither a raise nor a new
 * lease is granted.
 */
#define OVER_LEASE	(64ULL << 20)
#define OVER_TOUCH	(40ULL << 20)

static int
attacker_overcommits(void *arg)
{
	struct step		*st = arg;
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__LeaseRequest	 lr = PMEMTIER__LEASE_REQUEST__INIT;
	Pmemtier__LeaseCommit	 lc = PMEMTIER__LEASE_COMMIT__INIT;
	uint64_t		 id, id2;
	char			*p;
	int			 s = tc_open(d.socket), fd, fd2, rc;

	if (s < 0)
		return 20;
	lr.tier = (char *)"pmem";
	lr.size = OVER_LEASE;
	lr.commit = 1 << 20;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &lr;
	if ((r = tc_call(s, &env, &fd)) == NULL ||
	    r->body_case != PMEMTIER__ENVELOPE__BODY_LEASE_GRANT || fd < 0) {
		fprintf(stderr, "attacker: 64 MiB committing 1 MiB: %s\n",
		    r != NULL && r->body_case == PMEMTIER__ENVELOPE__BODY_ERROR ?
		    r->error->message : "no grant");
		return 21;
	}
	id = r->lease_grant->lease_id;
	if (r->lease_grant->commit != 1 << 20)
		return 22;
	tc_free(r);
	p = mmap(NULL, OVER_LEASE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 23;
	memset(p, 1, OVER_TOUCH);
	if (step_child(st) != 0)
		return 24;
	/* Charged for what it holds: no more, by either way. */
	lc.lease_id = id;
	lc.bytes = 48ULL << 20;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_COMMIT;
	env.lease_commit = &lc;
	if ((r = tc_call(s, &env, NULL)) == NULL ||
	    tc_error_code(r) != PMEMTIER__ERROR_CODE__ERROR_QUOTA) {
		fprintf(stderr, "attacker: a raise past the quota was %s\n",
		    r == NULL ? "unanswered" : "granted");
		return 25;
	}
	tc_free(r);
	rc = tc_lease(s, "pmem", 1 << 20, &id2, NULL, &fd2);
	if (rc != PMEMTIER__ERROR_CODE__ERROR_QUOTA) {
		fprintf(stderr, "attacker: a new lease: %d\n", rc);
		return 26;
	}
	munmap(p, OVER_LEASE);
	close(fd);
	return tc_release(s, id) == 0 ? 0 : 27;
}

static void
test_over_budget(void **state)
{
	Pmemtier__Envelope	*r;
	struct step		 st;
	uint64_t		 charged = 0, physical = 0, size = 0;
	size_t			 i;
	pid_t			 a;
	int			 s;

	a = attacker_at_step(attacker_overcommits, &st);
	/* An admin's Status audits: the lease is charged what it holds. */
	s = tc_open(d.socket);
	assert_true(s >= 0);
	r = tc_status(s, 0, 0);
	assert_non_null(r);
	for (i = 0; i < r->status->n_leases; i++)
		if (r->status->leases[i]->pid == a) {
			size = r->status->leases[i]->size;
			charged = r->status->leases[i]->charged;
			physical = r->status->leases[i]->physical;
		}
	tc_free(r);
	close(s);
	step_go(&st);
	assert_int_equal(reap(a), 0);
	step_fini(&st);
	assert_int_equal(size, OVER_LEASE);
	if (physical < OVER_TOUCH || charged < physical)
		fail_msg("a lease holding %llu bytes is charged %llu",
		    (unsigned long long)physical, (unsigned long long)charged);
}

static int
setup_over_budget(void **state)
{
	small[0] = '\0';
	return start("[quota atk]\nuid = 65534\ntier = pmem\nlimit = 32M\n");
}

static int
setup_no_audit(void **state)
{
	small[0] = '\0';
	return start("[daemon]\naudit_interval = 0\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_keep_fd_after_release_file, setup_small, teardown),
		cmocka_unit_test_setup_teardown(
		    test_keep_fd_after_release_kmem, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_spare_carries_nothing,
		    setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_over_budget,
		    setup_over_budget, teardown),
		cmocka_unit_test_setup_teardown(test_grow_lease, setup_small,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_keeps_charge,
		    setup_quota16, teardown),
		cmocka_unit_test_setup_teardown(test_lingering_fd,
		    setup_accept_fds, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_race, setup_race,
		    cg_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_race,
		    setup_race_fallback, cg_teardown),
		cmocka_unit_test_setup_teardown(test_subcgroups, setup_subs,
		    cg_teardown),
		cmocka_unit_test_setup_teardown(test_fd_budget, setup_budget,
		    teardown),
		cmocka_unit_test_setup_teardown(test_admin_reload, setup_admin,
		    teardown),
		cmocka_unit_test_setup_teardown(test_log_flood, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_cost,
		    setup_no_audit, teardown),
	};

	/* A child that died must fail its test, not kill this process. */
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0) {
		fprintf(stderr, "test_enforce: needs root (it runs its "
		    "attacker and victim as uids %d and %d)\n", ATTACKER,
		    VICTIM);
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
