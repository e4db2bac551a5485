/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testd.h"

#define TESTD_MARK	"reload: "

static void
testd_sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static const char *
testd_binary(void)
{
	static char	 path[PATH_MAX];
	const char	*p = getenv("PMEMTIERD"), *b;

	if (p != NULL && *p != '\0')
		return p;
	if ((b = getenv("PMEMTIER_BUILD_DIR")) != NULL) {
		snprintf(path, sizeof(path), "%s/daemon/pmemtierd", b);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

static int
testd_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	if (remove(path) != 0 && errno != ENOENT)
		fprintf(stderr, "testd: remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

static void
testd_rmdir(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, testd_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Prints the daemon's log, for a failing test's output. */
static void
testd_print_log(const struct testd *d)
{
	char	 path[400], buf[4096];
	size_t	 n;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/pmemtierd.log", d->dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	fprintf(stderr, "---- %s ----\n", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of log ----\n");
	fclose(f);
}

/* Counts log lines with the reload marker (testd_reload waits on it). */
static int
testd_count_marks(const struct testd *d)
{
	char	 path[400], line[2048];
	FILE	*f;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/pmemtierd.log", d->dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, TESTD_MARK) != NULL)
			n++;
	fclose(f);
	return n;
}

static int
testd_probe(const char *sock)
{
	struct sockaddr_un	sun;
	int			fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path))
		return 0;
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

static int
testd_write_config(struct testd *d, const char *text)
{
	FILE		*f;
	const char	*p, *at;

	if ((f = fopen(d->config, "w")) == NULL) {
		fprintf(stderr, "testd: %s: %s\n", d->config, strerror(errno));
		return -1;
	}
	/* Expand @DIR@ as we copy. */
	for (p = text; (at = strstr(p, "@DIR@")) != NULL; p = at + 5) {
		fwrite(p, 1, (size_t)(at - p), f);
		fputs(d->dir, f);
	}
	fputs(p, f);
	return fclose(f) == 0 ? 0 : -1;
}

static int
testd_prepare(struct testd *d)
{
	const char	*tmp = getenv("TMPDIR");

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "%s/pmt-testd.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(d->dir) == NULL) {
		fprintf(stderr, "testd: mkdtemp %s: %s\n", d->dir,
		    strerror(errno));
		d->dir[0] = '\0';
		return -1;
	}
	/* The daemon may run as another user in VM tests: let it in. */
	chmod(d->dir, 0755);
	snprintf(d->socket, sizeof(d->socket), "%s/pmemtierd.sock", d->dir);
	snprintf(d->config, sizeof(d->config), "%s/pmemtierd.conf", d->dir);
	snprintf(d->tierdir, sizeof(d->tierdir), "%s/tier-pmem", d->dir);
	return 0;
}

static int
testd_launch(struct testd *d)
{
	const char	*bin = testd_binary();
	char		 logpath[400];
	pid_t		 parent;
	int		 i, status, fd;

	if (bin == NULL) {
		fprintf(stderr, "testd: PMEMTIERD is not set and no "
		    "pmemtierd found under PMEMTIER_BUILD_DIR\n");
		return -1;
	}
	snprintf(logpath, sizeof(logpath), "%s/pmemtierd.log", d->dir);
	parent = getpid();
	fflush(NULL);
	if ((d->pid = fork()) < 0) {
		fprintf(stderr, "testd: fork: %s\n", strerror(errno));
		return -1;
	}
	if (d->pid == 0) {
		/*
		 * A test that dies without testd_stop() (a crash, a failed
		 * assertion) must not leave its daemon running.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    getppid() != parent)
			_exit(126);
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		/*
		 * A descriptor limit for the daemon alone (the test itself
		 * may not be able to raise its hard limit back).
		 */
		if (getenv("TESTD_NOFILE") != NULL) {
			struct rlimit	rl;

			rl.rlim_cur = rl.rlim_max =
			    (rlim_t)strtoul(getenv("TESTD_NOFILE"), NULL, 10);
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				_exit(125);
		}
		/* No socket activation inherited from a test's environment. */
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("NOTIFY_SOCKET");
		execl(bin, "pmemtierd", "-d", "-f", d->config, (char *)NULL);
		fprintf(stderr, "testd: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		if (testd_probe(d->socket))
			return 0;
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "testd: pmemtierd exited during "
			    "start-up (status %d)\n", status);
			d->pid = -1;
			testd_print_log(d);
			return -1;
		}
		testd_sleep_ms(10);
	}
	fprintf(stderr, "testd: pmemtierd not answering on %s after 10 s\n",
	    d->socket);
	testd_print_log(d);
	return -1;
}

static int
testd_fail(struct testd *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	testd_rmdir(d->dir);
	return -1;
}

int
testd_start_config(struct testd *d, const char *ini)
{
	if (testd_prepare(d) != 0)
		return -1;
	if (testd_write_config(d, ini) != 0 || testd_launch(d) != 0)
		return testd_fail(d);
	return 0;
}

int
testd_start(struct testd *d, const char *extra_ini)
{
	static const char	base[] =
	    "[daemon]\n"
	    "socket = @DIR@/pmemtierd.sock\n"
	    "state_dir = @DIR@/state\n"
	    "\n"
	    "[tier pmem]\n"
	    "backend = file\n"
	    "path = @DIR@/tier-pmem\n"
	    "capacity = 1G\n"
	    "default = yes\n"
	    "\n"
	    "[tier kmem]\n"
	    "backend = kmem\n"
	    "node = 0\n"
	    "capacity = 256M\n"
	    "\n";
	char			*text;
	size_t			 len;
	int			 rc;

	len = sizeof(base) + (extra_ini != NULL ? strlen(extra_ini) : 0) + 1;
	if ((text = malloc(len)) == NULL)
		return -1;
	snprintf(text, len, "%s%s", base, extra_ini != NULL ? extra_ini : "");
	rc = testd_start_config(d, text);
	free(text);
	return rc;
}

int
testd_restart(struct testd *d)
{
	int	status;

	if (d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == 0) {
		fprintf(stderr, "testd: restart: pmemtierd still runs\n");
		return -1;
	}
	d->pid = -1;
	if (testd_launch(d) != 0) {
		testd_print_log(d);
		return -1;
	}
	return 0;
}

int
testd_reload(struct testd *d)
{
	int	before = testd_count_marks(d), i;

	if (d->pid <= 0 || kill(d->pid, SIGHUP) != 0) {
		fprintf(stderr, "testd: no daemon to reload\n");
		return -1;
	}
	for (i = 0; i < 500; i++) {
		if (testd_count_marks(d) > before)
			return 0;
		testd_sleep_ms(10);
	}
	fprintf(stderr, "testd: no reload seen in the log after 5 s\n");
	testd_print_log(d);
	return -1;
}

int
testd_stop(struct testd *d)
{
	int	status = 0, i, rc = -1;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (i = 0; i < 1000; i++) {
			if (waitpid(d->pid, &status, WNOHANG) == d->pid)
				break;
			testd_sleep_ms(10);
		}
		if (i == 1000) {
			fprintf(stderr, "testd: pmemtierd ignored SIGTERM for "
			    "10 s; killed\n");
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			rc = -1;
		} else if (WIFEXITED(status))
			rc = WEXITSTATUS(status);
		else {
			fprintf(stderr, "testd: pmemtierd died of signal %d\n",
			    WTERMSIG(status));
			rc = -1;
		}
		d->pid = -1;
	}
	if (rc != 0)
		testd_print_log(d);
	testd_rmdir(d->dir);
	d->dir[0] = '\0';
	return rc;
}
