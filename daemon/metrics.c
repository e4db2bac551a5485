/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "metrics.h"
#include "quota_admin.h"

/* ---- events ---- */

/*
 * From 25 us (a memfd grant on the loop) to 2.5 s (a large file filled
 * on the worker behind others). The le strings are written out so that
 * they read the same in both formats ("1.0", not "1").
 */
const uint64_t metrics_hist_bounds[METRICS_HIST_BOUNDS] = {
	25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 100000000, 250000000, 1000000000, 2500000000ULL,
};
static const char *const metrics_hist_le[METRICS_HIST_BOUNDS] = {
	"0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001",
	"0.0025", "0.005", "0.01", "0.025", "0.1", "0.25", "1.0", "2.5",
};

struct metrics_counters	metrics;

uint64_t
metrics_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
metrics_hist_observe(struct metrics_hist *h, uint64_t ns)
{
	size_t	i;

	for (i = 0; i < METRICS_HIST_BOUNDS; i++)
		if (ns <= metrics_hist_bounds[i])
			break;
	h->counts[i]++;
	h->count++;
	h->sum_ns += ns;
}

void
metrics_grant(uint64_t ns)
{
	metrics_hist_observe(&metrics.grant_hist, ns);
}

void
metrics_refusal(int code)
{
	metrics.refusals[code >= 0 && code < METRICS_CODES ? code :
	    METRICS_CODES]++;
}

void
metrics_audit(enum metrics_audit scope, uint64_t ns)
{
	metrics.audits[scope]++;
	if (scope == METRICS_AUDIT_ALL)
		metrics.audit_last_ns = ns;
}

void
metrics_trimmed(uint64_t bytes)
{
	metrics.trimmed += bytes;
}

void
metrics_restored(unsigned leases, uint64_t bytes)
{
	metrics.restored = leases;
	metrics.restored_bytes = bytes;
}

/* ---- content negotiation ---- */

/* The q of one Accept element's parameters ("; version=1.0.0; q=0.5"). */
static double
metrics_accept_q(const char *params)
{
	const char	*p = params;
	char		*end;
	double		 q;

	while ((p = strchr(p, ';')) != NULL) {
		p++;
		p += strspn(p, " \t");
		if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			q = strtod(p + 2, &end);
			return end == p + 2 || q < 0 ? 0 : q;
		}
	}
	return 1;
}

enum metrics_format
metrics_negotiate(const char *accept)
{
	char		 el[256], *type, *end;
	const char	*p = accept;
	double		 om = 0, text = 0, q;
	size_t		 len;

	if (accept == NULL)
		return METRICS_PROMETHEUS;
	while (*p != '\0') {
		len = strcspn(p, ",");
		snprintf(el, sizeof(el), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		type = el + strspn(el, " \t");
		q = metrics_accept_q(type);
		type[strcspn(type, "; \t")] = '\0';
		end = type;
		if (strcasecmp(end, "application/openmetrics-text") == 0) {
			if (q > om)
				om = q;
		} else if (strcasecmp(end, "text/plain") == 0 ||
		    strcasecmp(end, "text/*") == 0 ||
		    strcasecmp(end, "*/*") == 0) {
			if (q > text)
				text = q;
		}
	}
	return om > 0 && om >= text ? METRICS_OPENMETRICS : METRICS_PROMETHEUS;
}

const char *
metrics_content_type(enum metrics_format f)
{
	return f == METRICS_OPENMETRICS ?
	    "application/openmetrics-text; version=1.0.0; charset=utf-8" :
	    "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- writing ---- */

/*
 * The length of the UTF-8 sequence at s, or 0 when it is not one (a
 * stray continuation byte, a cut sequence, an overlong form, a surrogate
 * or a value past U+10FFFF).
 */
static size_t
metrics_utf8_len(const unsigned char *s)
{
	uint32_t	cp;
	size_t		n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fU;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fU;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07U;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fU);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * Both formats are UTF-8, and one bad byte makes a scraper reject the
 * whole text: a user who may name cgroups must not be able to blind the
 * monitoring. Bytes that are not UTF-8 become U+FFFD.
 */
void
metrics_escape(struct evbuffer *b, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	while (*s != '\0') {
		for (n = 0; s[n] != '\0' && s[n] < 0x80 && s[n] != '\\' &&
		    s[n] != '"' && s[n] != '\n'; n++)
			;
		if (n > 0)
			evbuffer_add(b, s, n);
		s += n;
		if (*s >= 0x80) {
			if ((n = metrics_utf8_len(s)) == 0) {
				evbuffer_add(b, "\xef\xbf\xbd", 3);
				s++;
			} else {
				evbuffer_add(b, s, n);
				s += n;
			}
			continue;
		}
		switch (*s) {
		case '\\':
			evbuffer_add(b, "\\\\", 2);
			break;
		case '"':
			evbuffer_add(b, "\\\"", 2);
			break;
		case '\n':
			evbuffer_add(b, "\\n", 2);
			break;
		default:
			return;
		}
		s++;
	}
}

/*
 * A family's metadata. A counter family is named without _total in
 * OpenMetrics and with it in 0.0.4; an info family gets _info there and
 * is a gauge in 0.0.4, which has neither info nor UNIT.
 */
void
metrics_head(struct evbuffer *b, enum metrics_format f, const char *name,
    const char *type, const char *unit, const char *help)
{
	const char	*suffix = "";

	if (f == METRICS_PROMETHEUS && strcmp(type, "counter") == 0)
		suffix = "_total";
	if (f == METRICS_PROMETHEUS && strcmp(type, "info") == 0) {
		suffix = "_info";
		type = "gauge";
	}
	evbuffer_add_printf(b, "# TYPE %s%s %s\n", name, suffix, type);
	if (f == METRICS_OPENMETRICS && unit != NULL)
		evbuffer_add_printf(b, "# UNIT %s %s\n", name, unit);
	evbuffer_add_printf(b, "# HELP %s%s %s\n", name, suffix, help);
}

/* name{k="v",...} without the value; kv is key, value, ..., NULL. */
void
metrics_series(struct evbuffer *b, const char *name, const char *const *kv)
{
	size_t	i;

	evbuffer_add_printf(b, "%s", name);
	if (kv == NULL || kv[0] == NULL)
		return;
	for (i = 0; kv[i] != NULL; i += 2) {
		evbuffer_add_printf(b, "%s%s=\"", i == 0 ? "{" : ",", kv[i]);
		metrics_escape(b, kv[i + 1]);
		evbuffer_add(b, "\"", 1);
	}
	evbuffer_add(b, "}", 1);
}

void
metrics_u64(struct evbuffer *b, const char *name, const char *const *kv,
    uint64_t v)
{
	metrics_series(b, name, kv);
	evbuffer_add_printf(b, " %llu\n", (unsigned long long)v);
}

void
metrics_seconds(struct evbuffer *b, const char *name, const char *const *kv,
    uint64_t ns)
{
	metrics_series(b, name, kv);
	evbuffer_add_printf(b, " %llu.%09llu\n",
	    (unsigned long long)(ns / 1000000000ULL),
	    (unsigned long long)(ns % 1000000000ULL));
}

/* A family of one unlabelled sample. */
void
metrics_one(struct evbuffer *b, enum metrics_format f, const char *name,
    const char *type, const char *unit, const char *help, uint64_t v)
{
	char	sample[128];

	metrics_head(b, f, name, type, unit, help);
	snprintf(sample, sizeof(sample), "%s%s", name,
	    strcmp(type, "counter") == 0 ? "_total" : "");
	metrics_u64(b, sample, NULL, v);
}

void
metrics_hist_render(struct evbuffer *b, enum metrics_format f,
    const char *name, const char *help, const struct metrics_hist *h)
{
	char		n[128];
	uint64_t	cum = 0;
	size_t		i;

	metrics_head(b, f, name, "histogram", "seconds", help);
	snprintf(n, sizeof(n), "%s_bucket", name);
	for (i = 0; i < METRICS_HIST_BOUNDS; i++) {
		cum += h->counts[i];
		metrics_u64(b, n, (const char *[]){ "le", metrics_hist_le[i],
		    NULL }, cum);
	}
	metrics_u64(b, n, (const char *[]){ "le", "+Inf", NULL }, h->count);
	snprintf(n, sizeof(n), "%s_sum", name);
	metrics_seconds(b, n, NULL, h->sum_ns);
	snprintf(n, sizeof(n), "%s_count", name);
	metrics_u64(b, n, NULL, h->count);
}

size_t
metrics_buckets_render(struct evbuffer *b, enum metrics_format f,
    const struct quota_bucket *qb, size_t n, size_t max)
{
	size_t	i, shown = n < max ? n : max;

	metrics_head(b, f, "pmemtier_quota_bucket_used_bytes", "gauge",
	    "bytes", "Bytes charged to a quota bucket that holds leases "
	    "(at most 1000 buckets, the fullest; see "
	    "pmemtier_quota_buckets_dropped).");
	for (i = 0; i < shown; i++)
		metrics_u64(b, "pmemtier_quota_bucket_used_bytes",
		    (const char *[]){ "bucket", qb[i].bucket, "tier",
		    qb[i].tier, "rule", qb[i].rule->name, NULL }, qb[i].used);
	metrics_head(b, f, "pmemtier_quota_bucket_limit_bytes", "gauge",
	    "bytes", "The limit of the rule that applies to a quota bucket "
	    "(the same buckets as pmemtier_quota_bucket_used_bytes).");
	for (i = 0; i < shown; i++)
		metrics_u64(b, "pmemtier_quota_bucket_limit_bytes",
		    (const char *[]){ "bucket", qb[i].bucket, "tier",
		    qb[i].tier, "rule", qb[i].rule->name, NULL },
		    qb[i].rule->limit);
	return n - shown;
}

