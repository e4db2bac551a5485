/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exposition's families, from the state the daemon holds (metrics.h).
 * Kept apart from metrics.c, which the lease table and the dispatcher
 * call into, so that what they link stays small.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "conn.h"
#include "lease.h"
#include "metrics.h"
#include "quota_admin.h"
#include "rescan.h"
#include "wire.h"

static uint64_t
metrics_tier_capacity(const struct tier *t)
{
	return t->capacity;
}

static uint64_t
metrics_tier_granted(const struct tier *t)
{
	return t->granted;
}

/* What the last audit measured: no file is looked at here. */
static uint64_t
metrics_tier_physical(const struct tier *t)
{
	struct lease	*l;
	uint64_t	 v = lease_zombie_physical(t);

	TAILQ_FOREACH(l, lease_all(), all_entry)
		if (l->tier == t)
			v += l->physical;
	return v;
}

static uint64_t
metrics_tier_free(const struct tier *t)
{
	return t->capacity > t->granted ? t->capacity - t->granted : 0;
}

static uint64_t
metrics_tier_leases(const struct tier *t)
{
	return t->nleases;
}

static uint64_t
metrics_tier_zombies(const struct tier *t)
{
	return t->nzombies;
}

static uint64_t
metrics_tier_spares(const struct tier *t)
{
	return t->nspares;
}

static void
metrics_tiers(struct evbuffer *b, enum metrics_format f)
{
	static const struct {
		const char	*name, *unit, *help;
		uint64_t	(*value)(const struct tier *);
	} fam[] = {
		{ "pmemtier_tier_capacity_bytes", "bytes",
		    "Capacity of the tier.", metrics_tier_capacity },
		{ "pmemtier_tier_granted_bytes", "bytes", "Bytes charged on "
		    "the tier: per lease the larger of its commit budget and "
		    "what its file holds.", metrics_tier_granted },
		{ "pmemtier_tier_physical_bytes", "bytes", "Bytes the tier's "
		    "lease files and revoked files hold, as of the last "
		    "audit.", metrics_tier_physical },
		{ "pmemtier_tier_free_bytes", "bytes", "Capacity not charged.",
		    metrics_tier_free },
		{ "pmemtier_tier_leases", NULL, "Leases on the tier.",
		    metrics_tier_leases },
		{ "pmemtier_tier_zombies", NULL, "Revoked leases whose file a "
		    "client may still hold open.", metrics_tier_zombies },
		{ "pmemtier_tier_spare_files", NULL, "Emptied files of ended "
		    "leases kept for the next grants (one descriptor each).",
		    metrics_tier_spares },
	};
	struct tier	*t;
	size_t		 i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_head(b, f, fam[i].name, "gauge", fam[i].unit,
		    fam[i].help);
		TAILQ_FOREACH(t, &pmtd->tiers, entry)
			if (!t->removed)
				metrics_u64(b, fam[i].name, (const char *[]){
				    "tier", t->name, "backend", t->ops->name,
				    NULL }, fam[i].value(t));
	}
}

static void
metrics_refusals(struct evbuffer *b, enum metrics_format f)
{
	/* Always present, so that rate() has a start: what a lease meets. */
	static const int	always[] = {
		PMEMTIER__ERROR_CODE__ERROR_UNKNOWN_TIER,
		PMEMTIER__ERROR_CODE__ERROR_INVALID_ARGUMENT,
		PMEMTIER__ERROR_CODE__ERROR_QUOTA,
		PMEMTIER__ERROR_CODE__ERROR_NO_SPACE,
		PMEMTIER__ERROR_CODE__ERROR_LIMIT,
		PMEMTIER__ERROR_CODE__ERROR_INTERNAL,
	};
	char			code[32];
	const char		*name;
	size_t			i, j, k;

	metrics_head(b, f, "pmemtier_lease_refusals", "counter", NULL,
	    "Lease requests and commit raises refused, by error code.");
	for (i = 0; i <= METRICS_CODES; i++) {
		for (j = 0, k = 0; j < sizeof(always) / sizeof(always[0]); j++)
			k |= always[j] == (int)i;
		if (!k && metrics.refusals[i] == 0)
			continue;
		name = i < METRICS_CODES ? pmt_wire_error_name((int)i) :
		    "ERROR_OTHER";
		if (strncmp(name, "ERROR_", 6) == 0)
			name += 6;
		for (j = 0; name[j] != '\0' && j < sizeof(code) - 1; j++)
			code[j] = (char)tolower((unsigned char)name[j]);
		code[j] = '\0';
		metrics_u64(b, "pmemtier_lease_refusals_total",
		    (const char *[]){ "code", code, NULL },
		    metrics.refusals[i]);
	}
}

static void
metrics_devices(struct evbuffer *b, enum metrics_format f)
{
	const struct rescan_dev	*d;
	size_t			 n, i;

	d = rescan_devices(&n);
	metrics_head(b, f, "pmemtier_device_state", "gauge", NULL,
	    "1 for each device of the last discovery scan, with what became "
	    "of it (state tier, onlined or skipped).");
	for (i = 0; i < n; i++)
		metrics_u64(b, "pmemtier_device_state", (const char *[]){
		    "device", d[i].name, "mode", d[i].mode, "state",
		    rescan_state_name(d[i].state), "tier", d[i].tier, NULL }, 1);
	metrics_head(b, f, "pmemtier_device_size_bytes", "gauge", "bytes",
	    "Size of each device of the last discovery scan.");
	for (i = 0; i < n; i++)
		metrics_u64(b, "pmemtier_device_size_bytes", (const char *[]){
		    "device", d[i].name, NULL }, d[i].size);
}

static int
metrics_quota(struct evbuffer *b, enum metrics_format f, size_t max)
{
	struct quota_bucket	*qb = NULL;
	size_t			 n = 0, dropped;

	if (quota_admin_buckets(&qb, &n) != 0)
		return -1;
	metrics_one(b, f, "pmemtier_quota_buckets", "gauge", NULL,
	    "Quota buckets holding bytes.", n);
	dropped = metrics_buckets_render(b, f, qb, n, max);
	metrics_one(b, f, "pmemtier_quota_buckets_dropped", "gauge", NULL,
	    "Quota buckets holding bytes left out of the per-bucket series "
	    "(over the cap of 1000, or of what fits a control-socket reply).",
	    dropped);
	free(qb);
	return 0;
}

int
metrics_render(struct evbuffer *b, enum metrics_format f, int full,
    size_t max_buckets)
{
	struct lease	*l;
	unsigned	 grown = 0;

	metrics_head(b, f, "pmemtier_build", "info", NULL,
	    "The daemon's version.");
	metrics_u64(b, "pmemtier_build_info", (const char *[]){ "version",
	    PMEMTIER_VERSION, NULL }, 1);
	metrics_one(b, f, "pmemtier_start_time_seconds", "gauge", "seconds",
	    "When the daemon started, in seconds since the epoch.",
	    (uint64_t)pmtd->started);
	metrics_tiers(b, f);
	metrics_one(b, f, "pmemtier_clients_connected", "gauge", NULL,
	    "Client connections open.", pmtd->nconns);
	metrics_one(b, f, "pmemtier_zombies", "gauge", NULL,
	    "Revoked leases whose file a client may still hold open.",
	    lease_zombie_count());
	TAILQ_FOREACH(l, lease_all(), all_entry)
		grown += l->overgrown != 0;
	metrics_one(b, f, "pmemtier_leases_overgrown", "gauge", NULL,
	    "Leases the last audit found grown past their grant.", grown);
	metrics_one(b, f, "pmemtier_leases_restored", "gauge", NULL,
	    "Leases re-adopted from the journal when the daemon started.",
	    metrics.restored);
	metrics_one(b, f, "pmemtier_leases_restored_bytes", "gauge", "bytes",
	    "Bytes of the leases re-adopted when the daemon started.",
	    metrics.restored_bytes);
	metrics_one(b, f, "pmemtier_lease_grants", "counter", NULL,
	    "Leases granted.", metrics.grant_hist.count);
	metrics_refusals(b, f);
	metrics_hist_render(b, f, "pmemtier_grant_duration_seconds",
	    "Time from reading a lease request to sending its grant.",
	    &metrics.grant_hist);
	metrics_one(b, f, "pmemtier_trimmed_bytes", "counter", "bytes",
	    "Bytes audits freed from lease files grown past their grant and "
	    "from revoked files grown again.", metrics.trimmed);
	metrics_head(b, f, "pmemtier_audits", "counter", NULL,
	    "Audits applied: of every lease (scope all), of one full tier's "
	    "before a retried grant (scope tier), or of the revoked files "
	    "only (scope zombies, each second while there are any).");
	metrics_u64(b, "pmemtier_audits_total", (const char *[]){ "scope",
	    "all", NULL }, metrics.audits[METRICS_AUDIT_ALL]);
	metrics_u64(b, "pmemtier_audits_total", (const char *[]){ "scope",
	    "tier", NULL }, metrics.audits[METRICS_AUDIT_TIER]);
	metrics_u64(b, "pmemtier_audits_total", (const char *[]){ "scope",
	    "zombies", NULL }, metrics.audits[METRICS_AUDIT_ZOMBIES]);
	metrics_head(b, f, "pmemtier_audit_last_duration_seconds", "gauge",
	    "seconds", "How long the last audit of every lease took, from "
	    "measuring on the worker to applying on the loop.");
	metrics_seconds(b, "pmemtier_audit_last_duration_seconds", NULL,
	    metrics.audit_last_ns);
	metrics_devices(b, f);
	if (full && metrics_quota(b, f, max_buckets) != 0)
		return -1;
	if (f == METRICS_OPENMETRICS)
		evbuffer_add(b, "# EOF\n", 6);
	return 0;
}

/*
 * A reply must fit one packet (PMT_WIRE_MAX_PACKET): with many buckets,
 * fewer are named, halving until the text fits, and the dropped gauge
 * counts the rest.
 */
void
metrics_reply(struct conn *c, uint64_t rid, const Pmemtier__MetricsRequest *r)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Metrics	 m = PMEMTIER__METRICS__INIT;
	enum metrics_format	 f = r->openmetrics ? METRICS_OPENMETRICS :
				    METRICS_PROMETHEUS;
	struct evbuffer		*b;
	size_t			 max = METRICS_BUCKETS_MAX;
	const size_t		 room = PMT_WIRE_MAX_PACKET - 256;

	if ((b = evbuffer_new()) == NULL)
		goto oom;
	for (;;) {
		if (metrics_render(b, f, c->pr.admin, max) != 0)
			goto oom;
		if (evbuffer_get_length(b) < room || max == 0)
			break;
		evbuffer_drain(b, evbuffer_get_length(b));
		max /= 2;
	}
	if (evbuffer_get_length(b) >= room) {
		evbuffer_free(b);
		conn_error(c, rid, PMEMTIER__ERROR_CODE__ERROR_TOO_LARGE,
		    "the metrics do not fit a reply; scrape [metrics] over "
		    "HTTP instead");
		return;
	}
	evbuffer_add(b, "", 1);
	env.version = PMT_WIRE_VERSION;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_METRICS;
	env.metrics = &m;
	m.text = (char *)evbuffer_pullup(b, -1);
	m.full = c->pr.admin;
	if (m.text == NULL)
		goto oom;
	conn_send(c, &env, -1);
	evbuffer_free(b);
	return;
oom:
	if (b != NULL)
		evbuffer_free(b);
	conn_error(c, rid, PMEMTIER__ERROR_CODE__ERROR_INTERNAL,
	    "out of memory");
}
