/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: leases and their accounting survive a daemon restart
 * (issue 10). Eight real libpmemtier clients (pmem kinds on the file tier
 * and MEMKIND_DAX_KMEM on the kmem tier; as root, uid 65534 and uid 65533)
 * hold data in leases while the daemon is stopped (SIGTERM) or killed
 * (SIGKILL) and started again by hand, as in a container without systemd.
 * After each restart:
 *  - Status lists the same leases: ids, tiers, sizes, processes;
 *  - a quota decision counts them: uid 65534 is refused what would take it
 *    past its rule given what it held before the restart;
 *  - every client finds its data intact, allocates more and frees some,
 *    through the new daemon;
 *  - a client killed while the daemon was down has nothing left charged.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <memkind.h>

#include "tclient.h"
#include "testd.h"

#define NCLIENTS	8
#define BLOCKS		12
#define BLK		(1024 * 1024)
#define QUOTA_MIB	96
#define NOBODY		65534
#define VICTIM		65533

static struct testd	d;

struct client {
	pid_t	pid;
	uid_t	uid;
	int	kmem;
	int	cmd;		/* test -> client */
	int	res;		/* client -> test */
};

static struct client	clients[NCLIENTS];

static unsigned char
pattern(int who, int block, size_t off)
{
	return (unsigned char)(who * 31 + block * 7 + (int)(off >> 12));
}

static void
fill(char *p, int who, int block)
{
	size_t	off;

	for (off = 0; off < BLK; off += 4096)
		memset(p + off, pattern(who, block, off), 4096);
}

static int
check(const char *p, int who, int block)
{
	size_t	off;

	for (off = 0; off < BLK; off += 4096)
		if ((unsigned char)p[off] != pattern(who, block, off) ||
		    (unsigned char)p[off + 4095] != pattern(who, block, off))
			return -1;
	return 0;
}

/* The client process: a plain libpmemtier application. */
static int
client_main(int who, struct client *c)
{
	memkind_t	 kind;
	char		*blocks[BLOCKS * 2] = { 0 };
	char		 cmd, ok;
	int		 i, n = BLOCKS;

	/* A fault kills the client (seen by the test), not cmocka's jump. */
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	if (c->uid != 0 && (setgroups(0, NULL) != 0 ||
	    setgid(c->uid) != 0 || setuid(c->uid) != 0))
		return 10;
	if (c->kmem)
		kind = MEMKIND_DAX_KMEM;
	else if (memkind_create_pmem(d.tierdir, 0, &kind) != MEMKIND_SUCCESS)
		return 11;
	for (i = 0; i < n; i++) {
		if ((blocks[i] = memkind_malloc(kind, BLK)) == NULL)
			return 12;
		fill(blocks[i], who, i);
	}
	ok = 'r';
	if (write(c->res, &ok, 1) != 1)
		return 13;
	while (read(c->cmd, &cmd, 1) == 1 && cmd == 'v') {
		ok = 'o';
		for (i = 0; i < n; i++)
			if (blocks[i] != NULL && check(blocks[i], who, i) != 0)
				ok = 'd';	/* data lost */
		/* Keeps allocating through the new daemon... */
		for (i = n; i < n + 2 && i < BLOCKS * 2; i++) {
			if ((blocks[i] = memkind_malloc(kind, BLK)) == NULL) {
				ok = 'm';
				break;
			}
			fill(blocks[i], who, i);
		}
		n = i;
		/* ...and frees through it. */
		for (i = 0; i < n; i += 3) {
			memkind_free(kind, blocks[i]);
			blocks[i] = NULL;
		}
		for (i = 0; i < n; i++)
			if (blocks[i] != NULL && check(blocks[i], who, i) != 0)
				ok = 'd';
		if (write(c->res, &ok, 1) != 1)
			return 14;
	}
	return 0;
}

static void
start_clients(void)
{
	int	i, cp[2], rp[2];
	char	ch;

	for (i = 0; i < NCLIENTS; i++) {
		struct client	*c = &clients[i];

		c->uid = i % 4 == 1 ? NOBODY : i % 4 == 2 ? VICTIM : 0;
		if (i == 5)
			c->uid = NOBODY;
		c->kmem = i == 3 || i == 6;
		assert_int_equal(pipe(cp), 0);
		assert_int_equal(pipe(rp), 0);
		c->cmd = cp[0];
		c->res = rp[1];
		fflush(NULL);
		if ((c->pid = fork()) == 0) {
			int	j;

			close(cp[1]);
			close(rp[0]);
			/* The earlier clients' pipes are the test's alone. */
			for (j = 0; j < i; j++) {
				close(clients[j].cmd);
				close(clients[j].res);
			}
			_exit(client_main(i, c));
		}
		assert_true(c->pid > 0);
		close(cp[0]);
		close(rp[1]);
		c->cmd = cp[1];
		c->res = rp[0];
		if (read(c->res, &ch, 1) != 1 || ch != 'r')
			fail_msg("client %d (uid %u%s) did not start",
			    i, (unsigned)c->uid, c->kmem ? ", kmem" : "");
	}
}

static void
stop_clients(void)
{
	int	i, status;
	char	q = 'q';

	for (i = 0; i < NCLIENTS; i++) {
		if (clients[i].pid <= 0)
			continue;
		(void)write(clients[i].cmd, &q, 1);
		close(clients[i].cmd);
		close(clients[i].res);
		waitpid(clients[i].pid, &status, 0);
		clients[i].pid = 0;
	}
}

/* Every client checks its data and keeps working through the daemon. */
static void
verify_clients(void)
{
	int	i;
	char	ch = 'v';

	for (i = 0; i < NCLIENTS; i++) {
		if (clients[i].pid <= 0)
			continue;
		assert_int_equal(write(clients[i].cmd, &ch, 1), 1);
		if (read(clients[i].res, &ch, 1) != 1) {
			int	status = 0;

			waitpid(clients[i].pid, &status, 0);
			clients[i].pid = 0;
			fail_msg("client %d: no answer (%s %d)", i,
			    WIFSIGNALED(status) ? "killed by signal" : "exit",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
		}
		if (ch != 'o')
			fail_msg("client %d: %s", i, ch == 'd' ? "data lost" :
			    "no memory after the restart");
		ch = 'v';
	}
}

/* One lease as Status shows it. */
struct snap {
	uint64_t	id, size, charged;
	char		tier[16];
	int		pid;
};

static int
snap_cmp(const void *a, const void *b)
{
	const struct snap	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Every lease of the clients, sorted by id; returns how many. */
static size_t
snapshot(struct snap *v, size_t cap)
{
	Pmemtier__Envelope	*r;
	size_t			 n = 0, i;
	int			 s = tc_open(d.socket);
	uint32_t		 off = 0;

	assert_true(s >= 0);
	for (;;) {
		r = tc_status(s, 0, off);
		assert_non_null(r);
		assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_STATUS);
		for (i = 0; i < r->status->n_leases; i++) {
			const Pmemtier__LeaseStatus *l = r->status->leases[i];

			assert_true(n < cap);
			v[n].id = l->lease_id;
			v[n].size = l->size;
			v[n].charged = l->charged;
			v[n].pid = l->pid;
			snprintf(v[n].tier, sizeof(v[n].tier), "%s", l->tier);
			n++;
		}
		off += (uint32_t)r->status->n_leases;
		i = r->status->n_leases;
		if (off >= r->status->leases_total || i == 0) {
			tc_free(r);
			break;
		}
		tc_free(r);
	}
	close(s);
	qsort(v, n, sizeof(*v), snap_cmp);
	return n;
}

/* Bytes of pid's leases on tier (NULL: any): sizes, or charges. */
static uint64_t
held_by(const struct snap *v, size_t n, pid_t pid, const char *tier,
    int charged)
{
	uint64_t	sum = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		if (v[i].pid == pid && (tier == NULL ||
		    strcmp(v[i].tier, tier) == 0))
			sum += charged ? v[i].charged : v[i].size;
	return sum;
}

/* What uid 65534 may still take on pmem, asked as uid 65534. */
static int
nobody_asks(uint64_t size)
{
	pid_t	pid;
	int	status, s, rc, fd;
	uint64_t id;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
		    setuid(NOBODY) != 0)
			_exit(100);
		if ((s = tc_open(d.socket)) < 0)
			_exit(101);
		rc = tc_lease(s, "pmem", size, &id, NULL, &fd);
		if (rc == 0) {
			close(fd);
			(void)tc_release(s, id);
		}
		_exit(rc < 0 ? 102 : rc);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
restart(int sig, int kill_one)
{
	static struct snap	before[512], after[512];
	size_t			nb, na, i, j;
	uint64_t		nobody = 0, gone = 0;
	pid_t			victim = 0;
	int			status;

	start_clients();
	nb = snapshot(before, 512);
	assert_true(nb >= NCLIENTS);
	for (i = 0; i < NCLIENTS; i++)
		if (clients[i].uid == NOBODY && !clients[i].kmem)
			nobody += held_by(before, nb, clients[i].pid, "pmem",
			    1);
	assert_true(nobody > 0 && nobody < (uint64_t)QUOTA_MIB << 20);

	assert_int_equal(kill(d.pid, sig), 0);
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	if (kill_one) {
		/* Dies while nobody watches: its leases must not come back. */
		victim = clients[7].pid;
		gone = held_by(before, nb, victim, NULL, 0);
		assert_true(gone > 0);
		assert_int_equal(kill(victim, SIGKILL), 0);
		assert_int_equal(waitpid(victim, &status, 0), victim);
		close(clients[7].cmd);
		close(clients[7].res);
		clients[7].pid = 0;
	}
	assert_int_equal(testd_restart(&d), 0);

	na = snapshot(after, 512);
	for (i = j = 0; i < nb; i++) {
		if (before[i].pid == victim)
			continue;
		if (j >= na || after[j].id != before[i].id)
			fail_msg("lease %llu (pid %d, %s) not restored",
			    (unsigned long long)before[i].id, before[i].pid,
			    before[i].tier);
		assert_int_equal(after[j].size, before[i].size);
		/* The charge: at least the budget journaled before. */
		assert_true(after[j].charged >= before[i].charged ||
		    sig == SIGKILL);
		assert_int_equal(after[j].pid, before[i].pid);
		assert_string_equal(after[j].tier, before[i].tier);
		j++;
	}
	if (j != na)
		fail_msg("%zu leases after the restart, %zu expected", na, j);
	assert_int_equal(held_by(after, na, victim, NULL, 0), 0);

	/* The quota still counts what uid 65534 held before the restart. */
	assert_int_equal(nobody_asks(((uint64_t)QUOTA_MIB << 20) - nobody +
	    (1 << 20)), PMEMTIER__ERROR_CODE__ERROR_QUOTA);
	assert_int_equal(nobody_asks(((uint64_t)QUOTA_MIB << 20) - nobody -
	    (1 << 20)), 0);

	verify_clients();
	stop_clients();
}

/*
 * The journal is damaged while the daemon is down (a disk error, a torn
 * write, an editor): the daemon starts anyway, says which lines it could
 * not read, and restores every lease it still can.
 */
static void
test_corrupt_journal(void **state)
{
	static struct snap	before[512], after[512];
	char			path[400], logp[400], line[256];
	size_t			nb, na, i;
	int			status, seen = 0;
	FILE			*f;

	start_clients();
	nb = snapshot(before, 512);
	assert_int_equal(kill(d.pid, SIGKILL), 0);
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	snprintf(path, sizeof(path), "%s/state/leases", d.dir);
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f, "garbage that is no record\n");
	fprintf(f, "E 12345\n");			/* ends nothing */
	fprintf(f, "G %llu pmem 4096 1 2 0 0 1 1 0 x /\n",	/* dup id */
	    (unsigned long long)before[0].id);
	fprintf(f, "G 99 pmem 0 1 2 0 0 1 1 0 x /\n");	/* size 0 */
	fprintf(f, "G 98 pmem 4096 1 2 0 0 -5 1 0 x /\n");	/* bad pid */
	fprintf(f, "G 97 nosuchtier 4096 1 2 0 0 1 1 0 x /\n");
	fprintf(f, "G 96 pmem 4096 1 2");		/* torn */
	assert_int_equal(fclose(f), 0);
	assert_int_equal(testd_restart(&d), 0);
	na = snapshot(after, 512);
	assert_int_equal(na, nb);
	for (i = 0; i < nb; i++) {
		assert_int_equal(after[i].id, before[i].id);
		assert_int_equal(after[i].size, before[i].size);
		assert_int_equal(after[i].pid, before[i].pid);
	}
	snprintf(logp, sizeof(logp), "%s/pmemtierd.log", d.dir);
	f = fopen(logp, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "cannot be read; skipped") != NULL)
			seen++;
	fclose(f);
	/* garbage, size 0, bad pid, torn (the dup and tier are not lines'
	 * faults: counted in the summary). */
	assert_true(seen >= 4);
	verify_clients();
	stop_clients();
}

/* Receives one descriptor on s; -1 on failure. */
static int
recv_fd(int s)
{
	char		 byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec	 iov = { &byte, 1 };
	struct msghdr	 mh = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr	*cm;
	int		 fd;

	if (recvmsg(s, &mh, 0) != 1 || (cm = CMSG_FIRSTHDR(&mh)) == NULL ||
	    cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/*
 * A lease's process passed its descriptor to a process of another user
 * and died while the daemon was down. Had the daemon been up, the lease
 * would have ended with its process and its storage been taken back; the
 * restarted daemon finds the file in the other process and does so then.
 */
static void
test_kept_file_taken_back(void **state)
{
	struct stat	st;
	uint64_t	id, sz[2];
	pid_t		owner, keeper;
	char		ch;
	int		sp[2], kres[2], kcmd[2], ores[2], s, fd, status;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sp), 0);
	assert_int_equal(pipe(kres), 0);
	assert_int_equal(pipe(kcmd), 0);
	assert_int_equal(pipe(ores), 0);
	fflush(NULL);
	if ((keeper = fork()) == 0) {
		if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
		    setuid(NOBODY) != 0 || (fd = recv_fd(sp[1])) < 0)
			_exit(1);
		ch = 'k';
		if (write(kres[1], &ch, 1) != 1 || read(kcmd[0], &ch, 1) != 1 ||
		    fstat(fd, &st) != 0)
			_exit(2);
		sz[0] = (uint64_t)st.st_size;
		sz[1] = (uint64_t)st.st_blocks * 512;
		_exit(write(kres[1], sz, sizeof(sz)) == sizeof(sz) ? 0 : 3);
	}
	assert_true(keeper > 0);
	if ((owner = fork()) == 0) {
		if ((s = tc_open(d.socket)) < 0 ||
		    tc_lease(s, "pmem", 4 << 20, &id, NULL, &fd) != 0 ||
		    posix_fallocate(fd, 0, 4 << 20) != 0 ||
		    tc_send_raw(sp[0], "f", 1, fd) != 0)
			_exit(1);
		ch = 'o';
		if (write(ores[1], &ch, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	assert_true(owner > 0);
	assert_int_equal(read(ores[0], &ch, 1), 1);
	assert_int_equal(read(kres[0], &ch, 1), 1);
	assert_int_equal(ch, 'k');

	assert_int_equal(kill(d.pid, SIGKILL), 0);
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	assert_int_equal(kill(owner, SIGKILL), 0);
	assert_int_equal(waitpid(owner, &status, 0), owner);
	assert_int_equal(testd_restart(&d), 0);

	ch = 'c';
	assert_int_equal(write(kcmd[1], &ch, 1), 1);
	assert_int_equal(read(kres[0], sz, sizeof(sz)), sizeof(sz));
	assert_int_equal(waitpid(keeper, &status, 0), keeper);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (sz[0] != 0 || sz[1] != 0)
		fail_msg("the other user still has %llu bytes (size %llu) of "
		    "a lease whose process died", (unsigned long long)sz[1],
		    (unsigned long long)sz[0]);
	close(sp[0]);
	close(sp[1]);
	close(kres[0]);
	close(kres[1]);
	close(kcmd[0]);
	close(kcmd[1]);
	close(ores[0]);
	close(ores[1]);
}

/* Lines of the daemon's log that contain what. */
static int
log_count(const char *what)
{
	char	 path[400], line[1024];
	int	 n = 0;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, what) != NULL)
			n++;
	fclose(f);
	return n;
}

/*
 * An upgrade in place: SIGUSR2 makes the daemon exec its binary again in
 * the same process, keeping the listening socket. Clients never find the
 * socket gone or refusing (they wait in its backlog), the pid stays (what
 * systemd watches), and the new image takes every lease over.
 */
static void
test_reexec(void **state)
{
	static struct snap	before[512], after[512];
	struct timespec		ts = { 0, 2 * 1000 * 1000 };
	size_t			nb, na, i;
	pid_t			prober;
	int			status, s, refused = 0, pr[2], n;

	start_clients();
	nb = snapshot(before, 512);
	assert_int_equal(pipe(pr), 0);
	fflush(NULL);
	/* Connects every 2 ms for a second or more; counts refusals. */
	if ((prober = fork()) == 0) {
		close(pr[0]);
		for (n = 0; n < 500; n++) {
			if ((s = tc_connect(d.socket)) < 0)
				refused++;
			else
				close(s);
			nanosleep(&ts, NULL);
		}
		(void)!write(pr[1], &refused, sizeof(refused));
		_exit(0);
	}
	close(pr[1]);
	nanosleep(&ts, NULL);
	assert_int_equal(kill(d.pid, SIGUSR2), 0);
	for (i = 0; i < 1000 && log_count("restore: ") == 0; i++)
		nanosleep(&ts, NULL);
	if (log_count("restore: ") == 0)
		fail_msg("no restore after SIGUSR2");
	/* Still the same process: it was never reaped. */
	assert_int_equal(waitpid(d.pid, &status, WNOHANG), 0);
	assert_int_equal(read(pr[0], &refused, sizeof(refused)),
	    sizeof(refused));
	assert_int_equal(waitpid(prober, &status, 0), prober);
	close(pr[0]);
	if (refused != 0)
		fail_msg("%d connection attempts refused during the re-exec",
		    refused);
	na = snapshot(after, 512);
	assert_int_equal(na, nb);
	for (i = 0; i < nb; i++) {
		assert_int_equal(after[i].id, before[i].id);
		assert_int_equal(after[i].size, before[i].size);
		assert_int_equal(after[i].pid, before[i].pid);
	}
	assert_int_equal(log_count("re-executing"), 1);
	verify_clients();
	stop_clients();
}

static int
setup(void **state)
{
	char	ini[512];

	if (geteuid() != 0) {
		fprintf(stderr, "test_restart: needs root for clients of "
		    "other uids\n");
		exit(77);
	}
	snprintf(ini, sizeof(ini), "[daemon]\nsocket_mode = 0666\n"
	    "[quota nobody]\nuid = %d\ntier = pmem\nlimit = %dM\n", NOBODY,
	    QUOTA_MIB);
	if (testd_start(&d, ini) != 0)
		return -1;
	/* The clients use the daemon, found through the environment. */
	setenv("PMEMTIER_SOCKET", d.socket, 1);
	setenv("PMEMTIER_MODE", "daemon", 1);
	/* Other users' clients reach the tier directory's filesystem. */
	chmod(d.dir, 0755);
	return 0;
}

static int
teardown(void **state)
{
	stop_clients();
	assert_int_equal(testd_stop(&d), 0);
	return 0;
}

static void
test_stop_start(void **state)
{
	restart(SIGTERM, 0);
}

static void
test_kill_start(void **state)
{
	restart(SIGKILL, 0);
}

static void
test_client_dies_while_down(void **state)
{
	restart(SIGKILL, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stop_start, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kill_start, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_dies_while_down,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_journal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kept_file_taken_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reexec, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
