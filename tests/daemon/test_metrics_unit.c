/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit: the metrics' writing: label escaping, histogram bucket counting,
 * the quota bucket cap, counter and info naming in both formats, and
 * content negotiation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "metrics.h"
#include "quota_admin.h"

/* The buffer's text, NUL-terminated; freed by the caller. */
static char *
text(struct evbuffer *b)
{
	size_t	n = evbuffer_get_length(b);
	char	*s = malloc(n + 1);

	assert_non_null(s);
	evbuffer_copyout(b, s, n);
	s[n] = '\0';
	return s;
}

static size_t
count(const char *s, const char *needle)
{
	size_t	n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static void
test_escape(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	/* A cgroup path may hold all three. */
	metrics_escape(b, "/a\\b\"c\nd/e");
	s = text(b);
	assert_string_equal(s, "/a\\\\b\\\"c\\nd/e");
	free(s);
	evbuffer_drain(b, evbuffer_get_length(b));
	metrics_series(b, "m", (const char *[]){ "bucket", "\"\n\\", "tier",
	    "t", NULL });
	s = text(b);
	assert_string_equal(s, "m{bucket=\"\\\"\\n\\\\\",tier=\"t\"}");
	free(s);
	evbuffer_drain(b, evbuffer_get_length(b));
	metrics_escape(b, "");
	assert_int_equal(evbuffer_get_length(b), 0);
	/* UTF-8 passes; anything else becomes U+FFFD, byte by byte. */
	metrics_escape(b, "/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80");
	s = text(b);
	assert_string_equal(s, "/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80");
	free(s);
	evbuffer_drain(b, evbuffer_get_length(b));
	metrics_escape(b, "a\xff" "b\xc3(\xc0\xaf\xed\xa0\x80\xe2\x82");
	s = text(b);
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd("
	    "\xef\xbf\xbd\xef\xbf\xbd"		/* overlong "/" */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"	/* a surrogate */
	    "\xef\xbf\xbd\xef\xbf\xbd");		/* cut short */
	free(s);
	evbuffer_drain(b, evbuffer_get_length(b));
	evbuffer_free(b);
}

static void
test_histogram(void **state)
{
	struct metrics_hist	 h;
	struct evbuffer		*b = evbuffer_new();
	char			*s;

	memset(&h, 0, sizeof(h));
	metrics_hist_observe(&h, 0);			/* first bucket */
	metrics_hist_observe(&h, 25000);		/* on a bound: in it */
	metrics_hist_observe(&h, 25001);		/* the next */
	metrics_hist_observe(&h, 2500000000ULL);	/* the last bound */
	metrics_hist_observe(&h, 2500000001ULL);	/* +Inf only */
	assert_int_equal(h.counts[0], 2);
	assert_int_equal(h.counts[1], 1);
	assert_int_equal(h.counts[METRICS_HIST_BOUNDS - 1], 1);
	assert_int_equal(h.counts[METRICS_HIST_BOUNDS], 1);
	assert_int_equal(h.count, 5);
	assert_true(h.sum_ns == 25000 + 25001 + 2500000000ULL +
	    2500000001ULL);

	metrics_hist_render(b, METRICS_OPENMETRICS, "x_seconds", "h", &h);
	s = text(b);
	/* Cumulative, +Inf equal to the count. */
	assert_non_null(strstr(s, "# TYPE x_seconds histogram\n"));
	assert_non_null(strstr(s, "# UNIT x_seconds seconds\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{le=\"0.000025\"} 2\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{le=\"0.00005\"} 3\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{le=\"1.0\"} 3\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{le=\"2.5\"} 4\n"));
	assert_non_null(strstr(s, "x_seconds_bucket{le=\"+Inf\"} 5\n"));
	assert_non_null(strstr(s, "x_seconds_count 5\n"));
	assert_non_null(strstr(s, "x_seconds_sum 5.000050002\n"));
	assert_int_equal(count(s, "_bucket{"), METRICS_HIST_BOUNDS + 1);
	free(s);
	evbuffer_drain(b, evbuffer_get_length(b));
	/* 0.0.4 has no UNIT line. */
	metrics_hist_render(b, METRICS_PROMETHEUS, "x_seconds", "h", &h);
	s = text(b);
	assert_null(strstr(s, "# UNIT"));
	free(s);
	evbuffer_free(b);
}

static void
test_bucket_cap(void **state)
{
	static struct quota_rule	rule = { .name = "web", .limit = 100 };
	struct quota_bucket		qb[5];
	struct evbuffer			*b = evbuffer_new();
	char				*s;
	size_t				 i;

	memset(qb, 0, sizeof(qb));
	for (i = 0; i < 5; i++) {
		qb[i].rule = &rule;
		qb[i].tier = "pmem";
		snprintf(qb[i].bucket, sizeof(qb[i].bucket), "cgroup /c%zu",
		    i);
		qb[i].used = 50 - i;
	}
	assert_int_equal(metrics_buckets_render(b, METRICS_OPENMETRICS, qb,
	    5, 3), 2);
	s = text(b);
	assert_int_equal(count(s, "pmemtier_quota_bucket_used_bytes{"), 3);
	assert_int_equal(count(s, "pmemtier_quota_bucket_limit_bytes{"), 3);
	/* The first ones (the fullest: quota_admin_buckets sorts) stay. */
	assert_non_null(strstr(s, "pmemtier_quota_bucket_used_bytes{bucket="
	    "\"cgroup /c0\",tier=\"pmem\",rule=\"web\"} 50\n"));
	assert_non_null(strstr(s, "pmemtier_quota_bucket_limit_bytes{bucket="
	    "\"cgroup /c2\",tier=\"pmem\",rule=\"web\"} 100\n"));
	assert_null(strstr(s, "/c3"));
	free(s);
	evbuffer_drain(b, evbuffer_get_length(b));
	/* Under the cap nothing is dropped; the families stay declared. */
	assert_int_equal(metrics_buckets_render(b, METRICS_PROMETHEUS, qb,
	    2, METRICS_BUCKETS_MAX), 0);
	assert_int_equal(metrics_buckets_render(b, METRICS_PROMETHEUS, qb,
	    0, METRICS_BUCKETS_MAX), 0);
	s = text(b);
	assert_int_equal(count(s, "# TYPE pmemtier_quota_bucket_used_bytes "
	    "gauge\n"), 2);
	free(s);
	evbuffer_free(b);
}

static void
test_names(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	metrics_one(b, METRICS_OPENMETRICS, "p_grants", "counter", NULL,
	    "g", 7);
	metrics_head(b, METRICS_OPENMETRICS, "p_build", "info", NULL, "v");
	s = text(b);
	assert_string_equal(s, "# TYPE p_grants counter\n# HELP p_grants g\n"
	    "p_grants_total 7\n# TYPE p_build info\n# HELP p_build v\n");
	free(s);
	evbuffer_drain(b, evbuffer_get_length(b));
	metrics_one(b, METRICS_PROMETHEUS, "p_grants", "counter", NULL,
	    "g", 7);
	metrics_head(b, METRICS_PROMETHEUS, "p_build", "info", NULL, "v");
	metrics_one(b, METRICS_PROMETHEUS, "p_bytes", "gauge", "bytes",
	    "b", 1);
	s = text(b);
	assert_string_equal(s, "# TYPE p_grants_total counter\n"
	    "# HELP p_grants_total g\np_grants_total 7\n"
	    "# TYPE p_build_info gauge\n# HELP p_build_info v\n"
	    "# TYPE p_bytes gauge\n# HELP p_bytes b\np_bytes 1\n");
	free(s);
	evbuffer_free(b);
}

static void
test_negotiate(void **state)
{
	assert_int_equal(metrics_negotiate(NULL), METRICS_PROMETHEUS);
	assert_int_equal(metrics_negotiate(""), METRICS_PROMETHEUS);
	assert_int_equal(metrics_negotiate("*/*"), METRICS_PROMETHEUS);
	assert_int_equal(metrics_negotiate("text/plain;version=0.0.4"),
	    METRICS_PROMETHEUS);
	/* What Prometheus sends. */
	assert_int_equal(metrics_negotiate("application/openmetrics-text;"
	    "version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
	    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), METRICS_OPENMETRICS);
	assert_int_equal(metrics_negotiate("text/plain, "
	    "application/openmetrics-text; q=0.5"), METRICS_PROMETHEUS);
	assert_int_equal(metrics_negotiate("application/openmetrics-text;"
	    "q=0"), METRICS_PROMETHEUS);
	assert_int_equal(metrics_negotiate("Application/OpenMetrics-Text"),
	    METRICS_OPENMETRICS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_bucket_cap),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_negotiate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
