/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's metrics: a few counters bumped where things happen
 * (dispatch.c, lease.c, restore.c), and the exposition text built from
 * them and from the state the daemon holds anyway (tiers, leases, quota
 * buckets, connections, devices). Building it touches no file: physical
 * figures are those of the last audit. Served over HTTP (metrics_http.c)
 * and answered to MetricsRequest on the control socket.
 *
 * Two formats: OpenMetrics 1.0 text and the Prometheus text format 0.0.4
 * (metrics_negotiate picks one from an Accept header). Every metric is
 * listed in pmemtierd(8), METRICS.
 */
#ifndef PMEMTIERD_METRICS_H
#define PMEMTIERD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "pmemtierd.h"

struct evbuffer;
struct quota_bucket;

/*
 * Most quota buckets one exposition names, the fullest first: each is
 * two series, and a host with one bucket per container could otherwise
 * make a scrape of any size. The rest are counted in
 * pmemtier_quota_buckets_dropped.
 */
#define METRICS_BUCKETS_MAX	1000

enum metrics_format {
	METRICS_OPENMETRICS,	/* application/openmetrics-text 1.0.0 */
	METRICS_PROMETHEUS,	/* text/plain; version=0.0.4 */
};

/* Upper bounds of the grant-latency histogram, in ns; +Inf follows. */
#define METRICS_HIST_BOUNDS	14
extern const uint64_t	metrics_hist_bounds[METRICS_HIST_BOUNDS];

struct metrics_hist {
	uint64_t	 counts[METRICS_HIST_BOUNDS + 1];	/* per bucket */
	uint64_t	 count;
	uint64_t	 sum_ns;
};

/* ---- events ---- */

/* Error codes 0..METRICS_CODES-1 are counted one by one, others as one. */
#define METRICS_CODES	16

/* What an audit measured: every lease, one tier's (a sweep), zombies. */
enum metrics_audit {
	METRICS_AUDIT_ALL,
	METRICS_AUDIT_TIER,
	METRICS_AUDIT_ZOMBIES,
};
#define METRICS_AUDIT_SCOPES	3

/* The counters, bumped on the loop only. */
struct metrics_counters {
	struct metrics_hist	 grant_hist;	/* its count: grants */
	uint64_t		 refusals[METRICS_CODES + 1];
	uint64_t		 trimmed;
	uint64_t		 audits[METRICS_AUDIT_SCOPES];
	uint64_t		 audit_last_ns;
	unsigned		 restored;
	uint64_t		 restored_bytes;
};
extern struct metrics_counters	metrics;

/* A lease granted, ns after its request was read. */
void	metrics_grant(uint64_t ns);
/* A lease request or commit raise refused with an ERROR_ code. */
void	metrics_refusal(int code);
/* An audit applied, ns after its measuring began. */
void	metrics_audit(enum metrics_audit, uint64_t ns);
/* Bytes an audit freed from files grown past their grant. */
void	metrics_trimmed(uint64_t bytes);
/* What restore.c re-adopted at start. */
void	metrics_restored(unsigned leases, uint64_t bytes);
/* CLOCK_MONOTONIC in ns, for the latencies. */
uint64_t metrics_now_ns(void);

/* ---- exposition ---- */

/* The format an HTTP Accept header asks for (NULL: Prometheus 0.0.4). */
enum metrics_format metrics_negotiate(const char *accept);
const char *metrics_content_type(enum metrics_format);
/*
 * Appends the whole exposition. Per-bucket quota series only when full
 * (they name other principals' cgroups and uids), and at most
 * max_buckets of them. 0, or -1 when out of memory.
 */
int	metrics_render(struct evbuffer *, enum metrics_format, int full,
	    size_t max_buckets);

/*
 * Answers MetricsRequest with Metrics (metrics_render.c): per-bucket
 * series for admins only, as many of them as fit one packet.
 */
void	metrics_reply(struct conn *, uint64_t rid,
	    const Pmemtier__MetricsRequest *);

/* ---- writing (metrics.c), for metrics_render.c and the unit tests ---- */

/* A family's # TYPE, # UNIT (unit NULL: none) and # HELP lines. */
void	metrics_head(struct evbuffer *, enum metrics_format, const char *name,
	    const char *type, const char *unit, const char *help);
/* name{k="v",...}, kv being key, value, ..., NULL (or NULL itself). */
void	metrics_series(struct evbuffer *, const char *name,
	    const char *const *kv);
void	metrics_u64(struct evbuffer *, const char *name, const char *const *kv,
	    uint64_t);
void	metrics_seconds(struct evbuffer *, const char *name,
	    const char *const *kv, uint64_t ns);
/* A family of one unlabelled sample (a counter gets its _total). */
void	metrics_one(struct evbuffer *, enum metrics_format, const char *name,
	    const char *type, const char *unit, const char *help, uint64_t);

/* A label value with backslash, double quote and newline escaped. */
void	metrics_escape(struct evbuffer *, const char *);
void	metrics_hist_observe(struct metrics_hist *, uint64_t ns);
void	metrics_hist_render(struct evbuffer *, enum metrics_format,
	    const char *name, const char *help, const struct metrics_hist *);
/* The per-bucket families for b[0, min(n, max)); returns those left out. */
size_t	metrics_buckets_render(struct evbuffer *, enum metrics_format,
	    const struct quota_bucket *b, size_t n, size_t max);

#endif /* PMEMTIERD_METRICS_H */
