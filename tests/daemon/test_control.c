/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: the control socket and the process around it. A live
 * instance is not taken over, a stale socket is, -n checks the config,
 * the per-uid connection cap, EMFILE back-off and resume, SIGTERM with
 * leases held, SIGHUP reload (a bad config keeps the old one).
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
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
#include "wire.h"

#define MiB	(1024ULL * 1024)
#define E(x)	PMEMTIER__ERROR_CODE__ERROR_##x

static struct testd	d;
static int		fds_before;

static void	rewrite_config(const char *, const char *);

static int
teardown(void **state)
{
	int	rc = testd_stop(&d);

	assert_int_equal(rc, 0);
	assert_int_equal(tc_count_fds(0), fds_before);
	return 0;
}

static int
setup_plain(void **state)
{
	fds_before = tc_count_fds(0);
	return testd_start(&d, NULL);
}

/* Runs the daemon with args; returns its exit status, output in out. */
static int
run_daemon(const char *args, char *out, size_t outlen)
{
	char	 cmd[1024];
	FILE	*p;
	size_t	 n;
	int	 st;

	snprintf(cmd, sizeof(cmd), "\"%s\" %s 2>&1", getenv("PMEMTIERD"),
	    args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
log_contains(const char *what)
{
	char	 path[400], line[2048];
	FILE	*f;
	int	 found = 0;

	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

static void
test_check_config(void **state)
{
	char	out[2048], args[512], bad[400];
	FILE	*f;

	snprintf(args, sizeof(args), "-n -f %s", d.config);
	assert_int_equal(run_daemon(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "configuration OK"));

	snprintf(bad, sizeof(bad), "%s/bad.conf", d.dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fprintf(f, "[daemon]\nsocket = %s/x.sock\n[tier t]\nbackend = file\n"
	    "path = %s/t\ncapacity = lots\n", d.dir, d.dir);
	fclose(f);
	snprintf(args, sizeof(args), "-n -f %s", bad);
	assert_int_equal(run_daemon(args, out, sizeof(out)), 1);
	/* The message says which line and key to fix. */
	assert_non_null(strstr(out, "bad.conf:6"));
	assert_non_null(strstr(out, "capacity"));
	unlink(bad);
}

/* An fsdax tier on a filesystem without DAX is refused at start. */
static void
test_fsdax_needs_dax(void **state)
{
	char	 out[2048], args[512], conf[400];
	FILE	*f;

	snprintf(conf, sizeof(conf), "%s/fsdax.conf", d.dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[daemon]\nsocket = %s/fsdax.sock\nstate_dir = %s/st\n"
	    "[tier pm]\nbackend = fsdax\npath = %s/nodax\ncapacity = 1G\n",
	    d.dir, d.dir, d.dir);
	fclose(f);
	snprintf(args, sizeof(args), "-d -f %s", conf);
	assert_int_equal(run_daemon(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "no DAX"));
	assert_non_null(strstr(out, "tier pm"));
	unlink(conf);
}

/*
 * d's config with a state_dir of its own, for a second daemon beside d's:
 * two daemons cannot share one (the lease journal is locked).
 */
static const char *
alt_config(void)
{
	static char	 path[400];
	char		 buf[4096];
	size_t		 n;
	FILE		*in, *out;

	snprintf(path, sizeof(path), "%s/alt.conf", d.dir);
	in = fopen(d.config, "r");
	assert_non_null(in);
	out = fopen(path, "w");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fprintf(out, "\n[daemon]\nstate_dir = %s/state-alt\n", d.dir);
	assert_int_equal(fclose(out), 0);
	return path;
}

static void
test_live_instance(void **state)
{
	char		out[2048], args[512];
	struct stat	st;
	int		s;

	snprintf(args, sizeof(args), "-d -f %s", d.config);
	assert_int_equal(run_daemon(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "another pmemtierd is running"));
	/* The first daemon's socket is untouched and still serves. */
	assert_int_equal(stat(d.socket, &st), 0);
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", MiB, NULL, NULL, NULL), 0);
	close(s);
}

static void
test_stale_socket(void **state)
{
	struct sockaddr_un	sun;
	struct stat		st;
	char			path[400], logf[400];
	const char		*conf;
	pid_t			pid;
	int			fd, s, i, status;

	/* A socket file nobody listens on, as a crashed daemon leaves. */
	snprintf(path, sizeof(path), "%s/stale.sock", d.dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);

	/* -v: debug lines (state changes) even at log_level info. */
	snprintf(logf, sizeof(logf), "%s/verbose.log", d.dir);
	conf = alt_config();
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int	lfd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(lfd, 2);
		execl(getenv("PMEMTIERD"), "pmemtierd", "-d", "-v", "-f",
		    conf, "-s", path, (char *)NULL);
		_exit(127);
	}
	for (s = -1, i = 0; i < 500 && s < 0; i++) {
		if ((s = tc_open(path)) < 0)
			usleep(10000);
	}
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "kmem", MiB, NULL, NULL, NULL), 0);
	close(s);
	/* The socket is made 0660 (socket_mode default). */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* A clean stop removes the socket it made. */
	assert_int_not_equal(stat(path, &st), 0);
	{
		char	 line[1024];
		FILE	*f = fopen(logf, "r");
		int	 stale = 0, debug = 0;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			stale |= strstr(line, "removing stale socket") != NULL;
			debug |= strstr(line, "hello -> ready") != NULL;
		}
		fclose(f);
		assert_true(stale);
		assert_true(debug);
		unlink(logf);
	}
}

static int
setup_uidcap(void **state)
{
	fds_before = tc_count_fds(0);
	return testd_start(&d, "[daemon]\nmax_connections_per_uid = 3\n");
}

static void
test_uid_cap(void **state)
{
	Pmemtier__Envelope	*r;
	int			 s[3], extra, i, fd;

	for (i = 0; i < 3; i++) {
		s[i] = tc_open(d.socket);
		assert_true(s[i] >= 0);
	}
	extra = tc_connect(d.socket);
	assert_true(extra >= 0);
	r = tc_recv(extra, 5000, &fd);
	assert_non_null(r);
	assert_int_equal(tc_error_code(r), E(LIMIT));
	assert_non_null(strstr(r->error->message, "max_connections_per_uid"));
	tc_free(r);
	/* Then the daemon hangs up. */
	assert_null(tc_recv(extra, 5000, &fd));
	close(extra);
	close(s[0]);
	/* A slot is free again once a connection closed. */
	for (i = 0, extra = -1; i < 100 && extra < 0; i++)
		if ((extra = tc_open(d.socket)) < 0)
			usleep(10000);
	assert_true(extra >= 0);
	close(extra);
	close(s[1]);
	close(s[2]);
}

/* Out of descriptors: the daemon stops accepting, then resumes. */
static void
test_emfile(void **state)
{
	struct rlimit	 old, low;
	int		 s[12], served = 0, i, base, first;
	uint8_t		 buf[256];
	size_t		 len;

	base = tc_settle_fds(d.pid);
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, NULL, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)base + 4;
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &low, NULL), 0);

	len = tc_pack_hello(buf, 1);
	for (i = 0; i < 12; i++) {
		s[i] = tc_connect(d.socket);
		assert_true(s[i] >= 0);
		assert_int_equal(tc_send_raw(s[i], buf, len, -1), 0);
	}
	/* Some are served, the rest wait in the backlog. */
	for (i = 0, first = -1; i < 12; i++) {
		Pmemtier__Envelope	*r = tc_recv(s[i], i < 2 ? 2000 : 200,
		    NULL);

		if (r != NULL) {
			served++;
			tc_free(r);
		} else if (first < 0)
			first = i;
	}
	assert_true(served >= 1);
	assert_true(served < 12);
	assert_true(first >= 0);
	/* Free descriptors: the waiting ones are now served. */
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &old, NULL), 0);
	for (i = 0; i < 12; i++) {
		Pmemtier__Envelope	*r;

		if (i < first) {
			close(s[i]);
			s[i] = -1;
			continue;
		}
		r = tc_recv(s[i], 5000, NULL);
		if (i >= first && r == NULL)
			fail_msg("connection %d not served after resume", i);
		tc_free(r);
	}
	for (i = 0; i < 12; i++)
		if (s[i] >= 0)
			close(s[i]);
	assert_true(log_contains("accept"));
	i = tc_open(d.socket);
	assert_true(i >= 0);
	assert_int_equal(tc_lease(i, "pmem", MiB, NULL, NULL, NULL), 0);
	close(i);
}

/* SIGTERM: exit 0; a client's mapping stays valid after the daemon left. */
static void
test_sigterm_with_leases(void **state)
{
	struct stat	 st;
	uint64_t	 size;
	char		*p;
	int		 s, fd, status;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", 4 * MiB, NULL, &size, &fd), 0);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	memset(p, 1, size);
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	d.pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(log_contains("stopped"));
	/* The connection is closed by the daemon... */
	assert_null(tc_recv(s, 2000, NULL));
	/* ...its socket file is gone, and the memory is still ours. */
	assert_int_not_equal(stat(d.socket, &st), 0);
	memset(p, 2, size);
	assert_int_equal(p[size - 1], 2);
	munmap(p, size);
	close(fd);
	close(s);
	/* Restart so the shared teardown has a daemon to stop. */
	testd_stop(&d);
	assert_int_equal(testd_start(&d, NULL), 0);
}

static int
setup_tiers(void **state)
{
	fds_before = tc_count_fds(0);
	return testd_start(&d, "[tier extra]\nbackend = file\n"
	    "path = @DIR@/extra\ncapacity = 16M\n");
}

static int
has_tier(int s, const char *name, uint64_t *capp)
{
	Pmemtier__Envelope	*r;
	size_t			 i;
	int			 found = 0;

	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST);
	assert_non_null(r);
	for (i = 0; i < r->tier_list->n_tiers; i++)
		if (strcmp(r->tier_list->tiers[i]->name, name) == 0) {
			found = 1;
			if (capp != NULL)
				*capp = r->tier_list->tiers[i]->capacity;
		}
	tc_free(r);
	return found;
}

/* SIGHUP changes tiers: capacity, removal with a lease held, re-adding. */
static void
test_reload_tiers(void **state)
{
	uint64_t	id, cap;
	int		s = tc_open(d.socket), fd;

	char		from[400], to[400];

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "extra", 4 * MiB, &id, NULL, &fd), 0);
	/* A changed path is refused while the tier holds a lease. */
	snprintf(from, sizeof(from), "path = %s/extra", d.dir);
	snprintf(to, sizeof(to), "path = %s/elsewhere", d.dir);
	rewrite_config(from, to);
	assert_int_equal(testd_reload(&d), 0);
	assert_true(log_contains("changed while it holds 1 leases"));
	assert_true(has_tier(s, "extra", NULL));
	/* Capacity lowered below what is held: nothing more fits. */
	rewrite_config(to, from);
	rewrite_config("capacity = 16M", "capacity = 2M");
	assert_int_equal(testd_reload(&d), 0);
	assert_true(has_tier(s, "extra", &cap));
	assert_int_equal(cap, 2 * MiB);
	assert_int_equal(tc_lease(s, "extra", 4096, NULL, NULL, NULL),
	    PMEMTIER__ERROR_CODE__ERROR_NO_SPACE);
	/* Removed from the file: no new lease, the old one lives on. */
	rewrite_config("[tier extra]", "[tier gone]");
	rewrite_config("capacity = 1G", "capacity = 2G");
	assert_int_equal(testd_reload(&d), 0);
	assert_true(log_contains("configuration reloaded"));
	assert_false(has_tier(s, "extra", NULL));
	assert_true(has_tier(s, "gone", NULL));
	assert_true(has_tier(s, "pmem", &cap));
	assert_int_equal(cap, 2048 * MiB);
	assert_int_equal(tc_lease(s, "extra", MiB, NULL, NULL, NULL),
	    PMEMTIER__ERROR_CODE__ERROR_UNKNOWN_TIER);
	/* Closed first: a file still open here would be watched as a
	 * zombie (and keep the tier) until the next audit. */
	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	assert_true(log_contains("tier extra: last lease gone"));
	close(s);
}

/*
 * Regression: SIGTERM sent as soon as the socket accepts used to kill the
 * daemon (signal handlers were installed after the socket was listening).
 */
static void
test_regress_sigterm_right_after_start(void **state)
{
	int	i;

	for (i = 0; i < 5; i++) {
		assert_int_equal(testd_stop(&d), 0);
		assert_int_equal(testd_start(&d, NULL), 0);
	}
}

/* Socket activation: the daemon serves on the socket it is given. */
static void
test_socket_activation(void **state)
{
	Pmemtier__Envelope	*r;
	struct stat		 st;
	char			 path[400];
	const char		*conf;
	pid_t			 pid;
	int			 s = -1, i, status, leased, where_ok;

	if (access("/usr/bin/systemd-socket-activate", X_OK) != 0)
		skip();
	conf = alt_config();
	snprintf(path, sizeof(path), "%s/activated.sock", d.dir);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int	null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execl("/usr/bin/systemd-socket-activate",
		    "systemd-socket-activate", "--seqpacket", "-l", path,
		    getenv("PMEMTIERD"), "-d", "-f", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && stat(path, &st) != 0; i++)
		usleep(10000);
	/*
	 * The first connection starts the daemon, which serves it. Results
	 * are checked after the daemon is stopped, so that a failure never
	 * leaves it running.
	 */
	for (i = 0; i < 50 && s < 0; i++)
		if ((s = tc_open(path)) < 0)
			usleep(100000);
	leased = s >= 0 && tc_lease(s, "pmem", MiB, NULL, NULL, NULL) == 0;
	r = s >= 0 ? tc_status(s, 0, 0) : NULL;
	where_ok = r != NULL && r->body_case ==
	    PMEMTIER__ENVELOPE__BODY_STATUS &&
	    strcmp(r->status->socket, path) == 0;
	tc_free(r);
	if (s >= 0)
		close(s);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(leased);
	assert_true(where_ok);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* systemd's socket is systemd's to remove. */
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
}

static int
setup_reload(void **state)
{
	fds_before = tc_count_fds(0);
	return testd_start(&d, "[quota root]\nuid = 0\ntier = pmem\n"
	    "limit = 8M\n");
}

/* Rewrites the config with a different [quota root] limit text. */
static void
rewrite_config(const char *from, const char *to)
{
	char	 buf[8192], *at;
	size_t	 n;
	FILE	*f = fopen(d.config, "r");

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	at = strstr(buf, from);
	assert_non_null(at);
	f = fopen(d.config, "w");
	assert_non_null(f);
	fwrite(buf, 1, (size_t)(at - buf), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	fclose(f);
}

static void
test_reload(void **state)
{
	int	s = tc_open(d.socket);

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", 6 * MiB, NULL, NULL, NULL), 0);
	assert_int_equal(tc_lease(s, "pmem", 4 * MiB, NULL, NULL, NULL),
	    E(QUOTA));
	rewrite_config("limit = 8M", "limit = 16M");
	assert_int_equal(testd_reload(&d), 0);
	assert_true(log_contains("configuration reloaded"));
	/* Same connection, new limit. */
	assert_int_equal(tc_lease(s, "pmem", 4 * MiB, NULL, NULL, NULL), 0);
	/* A broken config is refused; the running one stays. */
	rewrite_config("limit = 16M", "limit = sixteen");
	assert_int_equal(testd_reload(&d), 0);
	assert_true(log_contains("keeping the running configuration"));
	assert_int_equal(tc_lease(s, "pmem", 7 * MiB, NULL, NULL, NULL),
	    E(QUOTA));
	assert_int_equal(tc_lease(s, "pmem", 4 * MiB, NULL, NULL, NULL), 0);
	close(s);
	rewrite_config("limit = sixteen", "limit = 16M");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_config, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_live_instance, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fsdax_needs_dax,
		    setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_uid_cap, setup_uidcap,
		    teardown),
		cmocka_unit_test_setup_teardown(test_emfile, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_with_leases,
		    setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup_reload,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload_tiers, setup_tiers,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_regress_sigterm_right_after_start, setup_plain,
		    teardown),
		cmocka_unit_test_setup_teardown(test_socket_activation,
		    setup_plain, teardown),
	};

	if (getenv("PMEMTIERD") == NULL) {
		fprintf(stderr, "PMEMTIERD not set: run through ctest\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
