/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: the metrics of a real daemon, served over HTTP on a TCP
 * port and a unix socket ([metrics]) and over the control socket
 * (tierctl metrics), checked against what Status, TierList and QuotaList
 * say. Plain socket code: no HTTP client library.
 *
 * Run as "daemon_metrics promtool" it checks the 0.0.4 text with
 * `promtool check metrics` instead, and the rules of the operator guide
 * with `promtool check rules`; it exits 77 without promtool.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
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

#define MiB	(1024ULL * 1024)

static struct testd	d;
static unsigned		port;
static char		sockpath[400];

/* A port nobody listens on now (the kernel picks it). */
static unsigned
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static int
setup(void **state)
{
	char	ini[1024];

	port = free_port();
	snprintf(ini, sizeof(ini),
	    "[quota root-pmem]\nuid = 0\ntier = pmem\nlimit = 8M\n"
	    "[metrics]\nlisten = 127.0.0.1:%u\n"
	    "socket = @DIR@/metrics.sock\nsocket_group = root\n"
	    "socket_mode = 0640\n", port);
	if (testd_start(&d, ini) != 0)
		return -1;
	snprintf(sockpath, sizeof(sockpath), "%s/metrics.sock", d.dir);
	return 0;
}

static int
teardown(void **state)
{
	assert_int_equal(testd_stop(&d), 0);
	return 0;
}

/*
 * One HTTP/1.0 exchange on a connected socket: the whole response (the
 * server closes after it), NUL-terminated; the caller frees it.
 */
static char *
http_exchange(int fd, const char *path, const char *accept)
{
	char		 req[512], *buf;
	size_t		 len = 0, cap = 1 << 16;
	ssize_t		 n;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };

	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n"
	    "%s%s%s\r\n", path, accept != NULL ? "Accept: " : "",
	    accept != NULL ? accept : "", accept != NULL ? "\r\n" : "");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = read(fd, buf + len, cap - len - 1);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static char *
http_tcp(const char *path, const char *accept)
{
	struct sockaddr_in	sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	return http_exchange(fd, path, accept);
}

static char *
http_unix(const char *path, const char *accept)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(sockpath) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, sockpath, strlen(sockpath));
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	return http_exchange(fd, path, accept);
}

/* The body of a 200 response (points into resp). */
static const char *
http_body(const char *resp)
{
	const char	*p;

	assert_true(strncmp(resp, "HTTP/1.", 7) == 0);
	assert_true(strncmp(resp + 8, " 200 ", 5) == 0);
	p = strstr(resp, "\r\n\r\n");
	assert_non_null(p);
	return p + 4;
}

/* The value of the sample that starts with series + " " (must exist). */
static uint64_t
sample(const char *body, const char *series)
{
	char		 want[512];
	const char	*p = body;

	snprintf(want, sizeof(want), "%s ", series);
	while (p != NULL && *p != '\0') {
		if (strncmp(p, want, strlen(want)) == 0)
			return strtoull(p + strlen(want), NULL, 10);
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	fail_msg("no sample %s in:\n%s", series, body);
	return 0;
}

/* The text without the lines starting with any of the prefixes. */
static char *
without(const char *text, const char *const *prefixes)
{
	char		*out = malloc(strlen(text) + 1), *o = out;
	const char	*p = text, *nl;
	size_t		 i, n;
	int		 skip;

	assert_non_null(out);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		skip = 0;
		for (i = 0; prefixes[i] != NULL; i++)
			skip |= strncmp(p, prefixes[i],
			    strlen(prefixes[i])) == 0;
		if (!skip) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

/* Runs cmd, its stdout NUL-terminated (freed by the caller); *rc: status. */
static char *
run(const char *cmd, int *rc)
{
	FILE	*f = popen(cmd, "r");
	char	*buf;
	size_t	 len = 0, cap = 1 << 17, n;

	assert_non_null(f);
	buf = malloc(cap);
	assert_non_null(buf);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0)
		len += n;
	buf[len] = '\0';
	*rc = pclose(f);
	return buf;
}

static void
test_scrape(void **state)
{
	Pmemtier__Envelope	*r;
	Pmemtier__QuotaList	*ql;
	uint64_t		 id, size, free_b, granted, used;
	char			*resp, *resp2, *om;
	const char		*body;
	int			 s, fd, i, found = 0;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(tc_lease(s, "pmem", 3 * MiB, &id, &size, &fd),
		    0);
		close(fd);
	}
	/* Over root-pmem's 8M: refused with ERROR_QUOTA. */
	assert_int_equal(tc_lease(s, "pmem", 4 * MiB, &id, &size, &fd),
	    PMEMTIER__ERROR_CODE__ERROR_QUOTA);

	resp = http_tcp("/metrics", NULL);
	body = http_body(resp);
	assert_non_null(strstr(resp, "Content-Type: text/plain; "
	    "version=0.0.4"));

	/* The tier's figures are TierList's. */
	assert_int_equal(tc_tier(s, "pmem", &free_b, &granted, &used), 0);
	assert_int_equal(granted, 6 * MiB);
	assert_int_equal(sample(body, "pmemtier_tier_granted_bytes{tier="
	    "\"pmem\",backend=\"file\"}"), granted);
	assert_int_equal(sample(body, "pmemtier_tier_free_bytes{tier="
	    "\"pmem\",backend=\"file\"}"), free_b);
	assert_int_equal(sample(body, "pmemtier_tier_leases{tier=\"pmem\","
	    "backend=\"file\"}"), 2);
	assert_int_equal(sample(body, "pmemtier_tier_spare_files{tier="
	    "\"pmem\",backend=\"file\"}"), 0);

	/* The bucket's are QuotaList's. */
	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_QUOTA_LIST);
	ql = r->quota_list;
	for (i = 0; i < (int)ql->n_usage; i++) {
		char	series[512];

		if (strcmp(ql->usage[i]->tier, "pmem") != 0)
			continue;
		snprintf(series, sizeof(series),
		    "pmemtier_quota_bucket_used_bytes{bucket=\"%s\",tier="
		    "\"pmem\",rule=\"root-pmem\"}", ql->usage[i]->bucket);
		assert_int_equal(sample(body, series), ql->usage[i]->used);
		assert_int_equal(ql->usage[i]->used, 6 * MiB);
		snprintf(series, sizeof(series),
		    "pmemtier_quota_bucket_limit_bytes{bucket=\"%s\",tier="
		    "\"pmem\",rule=\"root-pmem\"}", ql->usage[i]->bucket);
		assert_int_equal(sample(body, series), 8 * MiB);
		found++;
	}
	assert_int_equal(found, 1);
	tc_free(r);
	assert_int_equal(sample(body, "pmemtier_quota_buckets_dropped"), 0);

	/* The counters. */
	assert_int_equal(sample(body, "pmemtier_lease_grants_total"), 2);
	assert_int_equal(sample(body, "pmemtier_lease_refusals_total{code="
	    "\"quota\"}"), 1);
	assert_int_equal(sample(body, "pmemtier_lease_refusals_total{code="
	    "\"no_space\"}"), 0);
	assert_int_equal(sample(body, "pmemtier_grant_duration_seconds_count"),
	    2);
	assert_int_equal(sample(body, "pmemtier_grant_duration_seconds_bucket"
	    "{le=\"+Inf\"}"), 2);
	assert_int_equal(sample(body, "pmemtier_clients_connected"), 1);
	assert_int_equal(sample(body, "pmemtier_build_info{version=\""
	    PMEMTIER_VERSION "\"}"), 1);

	/* socket_mode and socket_group were applied. */
	{
		struct stat	st;

		assert_int_equal(stat(sockpath, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0640);
		assert_int_equal(st.st_gid, 0);
	}

	/*
	 * The unix socket serves the same text (read again over TCP first:
	 * TierList above, asked by an admin, ran an audit).
	 */
	free(resp);
	resp = http_tcp("/metrics", NULL);
	resp2 = http_unix("/metrics", NULL);
	assert_string_equal(http_body(resp2), http_body(resp));
	free(resp2);

	/* OpenMetrics when asked, as Prometheus asks. */
	om = http_unix("/metrics", "application/openmetrics-text;"
	    "version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
	assert_non_null(strstr(om, "Content-Type: application/openmetrics-"
	    "text; version=1.0.0"));
	body = http_body(om);
	assert_non_null(strstr(body, "# TYPE pmemtier_lease_grants counter\n"));
	assert_non_null(strstr(body, "# UNIT pmemtier_tier_granted_bytes "
	    "bytes\n"));
	assert_true(strlen(body) > 6 &&
	    strcmp(body + strlen(body) - 6, "# EOF\n") == 0);
	free(om);

	/* Anything but /metrics is not found. */
	resp2 = http_tcp("/", NULL);
	assert_true(strncmp(resp2 + 8, " 404 ", 5) == 0);
	free(resp2);
	resp2 = http_unix("/metrics/x", NULL);
	assert_true(strncmp(resp2 + 8, " 404 ", 5) == 0);
	free(resp2);

	/* Leases released: the tier and the bucket are back to 0. */
	close(s);
	free(resp);
	usleep(200 * 1000);	/* past the 100 ms a text is reused */
	s = tc_open(d.socket);
	assert_true(s >= 0);
	resp = http_tcp("/metrics", NULL);
	body = http_body(resp);
	assert_int_equal(tc_tier(s, "pmem", &free_b, &granted, &used), 0);
	assert_int_equal(sample(body, "pmemtier_tier_granted_bytes{tier="
	    "\"pmem\",backend=\"file\"}"), granted);
	assert_null(strstr(body, "pmemtier_quota_bucket_used_bytes{"));
	assert_int_equal(sample(body, "pmemtier_lease_grants_total"), 2);
	free(resp);

	/*
	 * The two leases ended with nothing else holding their files: the
	 * files are kept for the next grants. One serves a new lease and
	 * comes back at its release; unused, they go within two seconds.
	 */
	assert_int_equal(tc_lease(s, "pmem", 1 * MiB, &id, &size, &fd), 0);
	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	usleep(200 * 1000);
	resp = http_tcp("/metrics", NULL);
	assert_int_equal(sample(http_body(resp), "pmemtier_tier_spare_files{"
	    "tier=\"pmem\",backend=\"file\"}"), 2);
	free(resp);
	usleep(2300 * 1000);
	resp = http_tcp("/metrics", NULL);
	assert_int_equal(sample(http_body(resp), "pmemtier_tier_spare_files{"
	    "tier=\"pmem\",backend=\"file\"}"), 0);
	close(s);
	free(resp);
}

/* tierctl metrics prints what a scrape reads, but for its own connection. */
static void
test_tierctl(void **state)
{
	static const char *const moving[] = {
		"pmemtier_grant_duration_seconds", "pmemtier_clients_connected",
		NULL,
	};
	const char	*tierctl = getenv("TIERCTL");
	char		 cmd[1024], *out, *resp, *a, *b;
	uint64_t	 id, size;
	int		 rc, s, fd;

	if (tierctl == NULL)
		skip();
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", 1 * MiB, &id, &size, &fd), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s -s %s metrics", tierctl, d.socket);
	out = run(cmd, &rc);
	assert_int_equal(rc, 0);
	resp = http_tcp("/metrics", NULL);
	a = without(out, moving);
	b = without(http_body(resp), moving);
	assert_string_equal(a, b);
	/* It is there all the same, one more than the scrape counts. */
	assert_int_equal(sample(out, "pmemtier_clients_connected"),
	    sample(http_body(resp), "pmemtier_clients_connected") + 1);
	free(a);
	free(b);
	free(out);
	free(resp);

	snprintf(cmd, sizeof(cmd), "%s -s %s metrics --openmetrics", tierctl,
	    d.socket);
	out = run(cmd, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "# TYPE pmemtier_build info\n"));
	free(out);
	close(s);
}

/* Does the daemon's log hold needle (within 5 s)? */
static int
log_has(const char *needle)
{
	char	path[400], *buf;
	FILE	*f;
	size_t	 n;
	int	 i, hit = 0;

	snprintf(path, sizeof(path), "%s/pmemtierd.log", d.dir);
	buf = malloc(1 << 20);
	assert_non_null(buf);
	for (i = 0; i < 50 && !hit; i++) {
		if ((f = fopen(path, "r")) != NULL) {
			n = fread(buf, 1, (1 << 20) - 1, f);
			buf[n] = '\0';
			fclose(f);
			hit = strstr(buf, needle) != NULL;
		}
		if (!hit)
			usleep(100 * 1000);
	}
	free(buf);
	return hit;
}

/*
 * Connections are paced (64 per 10 s): a flood of idle ones pauses
 * accepting instead of eating the descriptors leases need, and scraping
 * works again once the window ends.
 */
static void
test_pacing(void **state)
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	static const char	 req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char			 buf[64];
	int			 fds[70], i, fd, s;
	uint64_t		 id, size;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 70; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	}
	assert_true(log_has("not accepting more"));
	/* Leases are granted meanwhile. */
	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", MiB, &id, &size, &fd), 0);
	close(fd);
	close(s);
	for (i = 0; i < 70; i++)
		close(fds[i]);
	/* A scrape is answered within the next window. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(write(fd, req, sizeof(req) - 1),
	    (ssize_t)sizeof(req) - 1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 15000), 1);
	assert_true(read(fd, buf, sizeof(buf)) > 12);
	assert_true(strncmp(buf + 8, " 200 ", 5) == 0);
	close(fd);
}

static void
test_promtool(void **state)
{
	char	*resp, cmd[512], path[400];
	FILE	*f;
	int	 rc;

	resp = http_tcp("/metrics", NULL);
	snprintf(path, sizeof(path), "%s/metrics.txt", d.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(http_body(resp), f);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
	free(resp);
	/* The rules docs/operator-guide.md shows parse. */
	if (getenv("PMEMTIER_SOURCE_DIR") == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "promtool check rules %s/docs/examples/"
	    "prometheus/pmemtier.rules.yml", getenv("PMEMTIER_SOURCE_DIR"));
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scrape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tierctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pacing, setup, teardown),
	};
	const struct CMUnitTest promtool[] = {
		cmocka_unit_test_setup_teardown(test_promtool, setup, teardown),
	};

	if (argc > 1 && strcmp(argv[1], "promtool") == 0) {
		if (system("command -v promtool >/dev/null 2>&1") != 0) {
			printf("SKIP: promtool not found (Debian package "
			    "prometheus; scripts/install-deps installs it)\n");
			return 77;
		}
		return cmocka_run_group_tests(promtool, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
