/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "conn.h"
#include "control.h"
#include "dispatch.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "projquota.h"
#include "quota.h"
#include "quota_admin.h"
#include "status.h"
#include "tier.h"
#include "worker.h"

#define E(x)	PMEMTIER__ERROR_CODE__ERROR_##x

void
dispatch_sanitize(char *dst, size_t len, const char *src)
{
	size_t	i = 0;

	for (; src != NULL && *src != '\0' && i + 1 < len; src++)
		dst[i++] = isprint((unsigned char)*src) ? *src : '?';
	dst[i] = '\0';
}

static void	dispatch_log(struct conn *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
dispatch_env(Pmemtier__Envelope *env, uint64_t request_id)
{
	pmemtier__envelope__init(env);
	env->version = PMT_WIRE_VERSION;
	env->request_id = request_id;
}

static void
dispatch_hello(struct conn *c, uint64_t rid, const Pmemtier__Hello *h)
{
	Pmemtier__Envelope	env;
	Pmemtier__Welcome	w = PMEMTIER__WELCOME__INIT;
	Pmemtier__Principal	p = PMEMTIER__PRINCIPAL__INIT;
	struct status_tiers	st;
	struct tier		*t;
	uint64_t		max = 0;

	if (c->state != CONN_HELLO) {
		c->errors++;
		conn_error(c, rid, E(INVALID_ARGUMENT), "Hello already "
		    "received on this connection");
		return;
	}
	if (h->min_version > h->max_version ||
	    h->min_version > PMT_WIRE_VERSION ||
	    h->max_version < PMT_WIRE_VERSION) {
		c->errors++;
		dispatch_log(c, E(VERSION), "speaks protocol %u..%u, not %d",
		    h->min_version, h->max_version, PMT_WIRE_VERSION);
		conn_error(c, rid, E(VERSION), "client speaks protocol "
		    "versions %u to %u; this daemon speaks %d to %d",
		    h->min_version, h->max_version, PMT_WIRE_VERSION,
		    PMT_WIRE_VERSION);
		return;
	}
	dispatch_sanitize(c->client_name, sizeof(c->client_name),
	    h->client_name);
	if (status_tiers(&c->pr, &st) != 0) {
		conn_error(c, rid, E(INTERNAL), "out of memory");
		return;
	}
	TAILQ_FOREACH(t, &pmtd->tiers, entry)
		if (!t->removed && t->capacity > max)
			max = t->capacity;
	status_principal(&c->pr, &p);
	dispatch_env(&env, rid);
	env.body_case = PMEMTIER__ENVELOPE__BODY_WELCOME;
	env.welcome = &w;
	w.version = PMT_WIRE_VERSION;
	w.daemon_version = (char *)PMEMTIER_VERSION;
	w.principal = &p;
	w.n_tiers = st.n;
	w.tiers = st.ptrs;
	w.max_packet = PMT_WIRE_MAX_PACKET;
	w.max_lease_size = max;
	if (conn_send(c, &env, -1) == 0) {
		/* A parked Welcome still counts: ready once it is out. */
		if (c->state == CONN_BLOCKED)
			c->resume = CONN_READY;
		else
			conn_set_state(c, CONN_READY);
	}
	status_tiers_free(&st);
}

/*
 * Everything an unprivileged peer can make the daemon log goes through
 * dispatch_log (refusals, unknown releases, denied requests, protocol
 * errors): a client looping on a refused allocation once logged ~4,500
 * lines, and one looping on a bogus release 100,000 lines in 3.7 s. Per
 * connection the first DISPATCH_LOG_BURST lines of an interval are logged
 * in full; later ones are counted, and summed up in one line when the next
 * interval starts (or the connection closes). An interval without a
 * suppressed line lets the next ones be logged in full again.
 */
#define DISPATCH_LOG_BURST	5
#define DISPATCH_LOG_INTERVAL	10	/* seconds */

static time_t
dispatch_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

static uint64_t
dispatch_now_ms(void)
{
	return pmtd_monotonic_ms();
}

/*
 * A waiting request was answered from a job's completion: a connection
 * whose reply could not be sent is closed here, as conn_read would have.
 * Without a worker thread the job completed inside dispatch_packet, and
 * conn_read still holds the connection.
 */
static void
dispatch_resumed(struct conn *c)
{
	if (c->dead && worker_running())
		conn_close(c, "peer gone");
}

void
dispatch_refuse_flush(struct conn *c)
{
	if (c->refuse_quiet == 0)
		return;
	log_info("conn %llu: pid %d uid %u %s: %u more lines not logged in "
	    "the last %lld s (last: %s)", (unsigned long long)c->id,
	    (int)c->pr.pid, (unsigned)c->pr.uid, c->pr.cgroup,
	    c->refuse_quiet, (long long)(dispatch_now() - c->refuse_at),
	    pmt_wire_error_name(c->refuse_code));
	c->refuse_quiet = 0;
}

/* Logs at info level what a peer caused, within the limits above. */
static void
dispatch_log(struct conn *c, int code, const char *fmt, ...)
{
	char	msg[1024];
	time_t	now = dispatch_now();
	va_list	ap;

	if (c->refuse_at == 0 || now - c->refuse_at >= DISPATCH_LOG_INTERVAL) {
		if (c->refuse_quiet == 0)
			c->refuse_logged = 0;
		dispatch_refuse_flush(c);
		c->refuse_at = now;
	}
	if (c->refuse_logged >= DISPATCH_LOG_BURST) {
		c->refuse_quiet++;
		c->refuse_code = code;
		return;
	}
	c->refuse_logged++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("conn %llu: pid %d uid %u %s: %s%s", (unsigned long long)c->id,
	    (int)c->pr.pid, (unsigned)c->pr.uid, c->pr.cgroup, msg,
	    c->refuse_logged == DISPATCH_LOG_BURST ? " (more on this "
	    "connection are summed up)" : "");
}

/* Logs a refusal (see above) and answers it. */
static void
dispatch_refuse(struct conn *c, uint64_t rid, int code, const char *msg)
{
	metrics_refusal(code);
	dispatch_log(c, code, "lease refused: %s", msg);
	conn_error(c, rid, code, "%s", msg);
}

static int	dispatch_charge_limits(struct conn *, struct tier *, uint64_t,
		    char *, size_t, int *);

/*
 * May c take a lease of size bytes charged charge bytes (its commit
 * budget) on t? The connection's byte limit counts sizes; quotas and the
 * tier count charges.
 */
static int
dispatch_lease_limits(struct conn *c, struct tier *t, uint64_t size,
    uint64_t charge, char *msg, size_t len, int *code)
{
	const struct pmtd_config	*conf = pmtd->conf;
	char				 a[32], b[32], d[32];
	unsigned			 n;

	*code = E(LIMIT);
	if (control_over_budget(&c->pr, msg, len))
		return -1;
	if (c->nleases >= conf->max_leases_per_conn) {
		snprintf(msg, len, "this connection holds %u leases "
		    "(max_leases_per_connection = %u)", c->nleases,
		    conf->max_leases_per_conn);
		return -1;
	}
	if ((n = conn_leases_uid(c->pr.uid)) >= conf->max_leases_per_uid) {
		snprintf(msg, len, "uid %u holds %u leases over all its "
		    "connections (max_leases_per_uid = %u)",
		    (unsigned)c->pr.uid, n, conf->max_leases_per_uid);
		return -1;
	}
	if (conf->max_bytes_per_conn != 0 &&
	    (c->bytes > conf->max_bytes_per_conn ||
	    size > conf->max_bytes_per_conn - c->bytes)) {
		pmtd_fmt_size(c->bytes, a, sizeof(a));
		pmtd_fmt_size(size, b, sizeof(b));
		pmtd_fmt_size(conf->max_bytes_per_conn, d, sizeof(d));
		snprintf(msg, len, "this connection holds %s and asked for %s "
		    "more (max_bytes_per_connection = %s)", a, b, d);
		return -1;
	}
	return dispatch_charge_limits(c, t, charge, msg, len, code);
}

/* May c's principal be charged charge more bytes on t? */
static int
dispatch_charge_limits(struct conn *c, struct tier *t, uint64_t charge,
    char *msg, size_t len, int *code)
{
	const struct pmtd_config	*conf = pmtd->conf;
	char				 a[32], b[32], d[32];

	*code = E(QUOTA);
	if (quota_check(&conf->rules, &pmtd->runtime_rules, &c->pr, t->name,
	    charge, msg, len) != 0)
		return -1;
	*code = E(NO_SPACE);
	/* A reload may have put capacity below what is already granted. */
	if (t->granted > t->capacity || charge > t->capacity - t->granted) {
		pmtd_fmt_size(t->capacity, a, sizeof(a));
		pmtd_fmt_size(t->granted > t->capacity ? 0 :
		    t->capacity - t->granted, b, sizeof(b));
		pmtd_fmt_size(charge, d, sizeof(d));
		snprintf(msg, len, "tier %s is full: capacity %s, %s free, "
		    "asked for %s", t->name, a, b, d);
		return -1;
	}
	return 0;
}

/*
 * Audits and trims every lease of t, at most every DISPATCH_SWEEP_MS: a
 * client that makes grants fail on purpose must not buy a sweep per
 * request. The audit runs on the worker; a grant submitted after it runs
 * after it. Returns 1 when it swept.
 */
#define DISPATCH_SWEEP_MS	100

static int
dispatch_sweep(struct tier *t)
{
	uint64_t	now = dispatch_now_ms();

	if (t->swept_at != 0 && now - t->swept_at < DISPATCH_SWEEP_MS)
		return 0;
	t->swept_at = now;
	return lease_audit_async(t, 0, &pmtd->tiers, NULL, NULL) == 0;
}

/*
 * A grant filled on the worker: a large file lease (posix_fallocate of a
 * GiB takes ~100 ms on tmpfs), or one retried after a sweep. Its bytes
 * are reserved on the tier, the quota buckets and the connection from
 * the request on, so that nothing granted meanwhile can overcommit them,
 * and the connection waits (CONN_WAITING) for the answer.
 */
struct dispatch_grant {
	struct work	 w;
	struct conn	*c;
	uint64_t	 rid;
	struct tier	*t;
	uint64_t	 size;
	uint64_t	 budget;
	uint32_t	 projid;
	int		 fd;
	uint64_t	 devino[2];	/* the file's, when alloc knew them */
	int		 rc;
	int		 swept;
	uint64_t	 frees;		/* waits for the close lane up to this */
	uint64_t	 t0;		/* request read (metrics_now_ns) */
	char		 label[PMTD_LABEL_MAX];
};

/* Reserves (or gives back) a grant's charge, and its place on c. */
static void
dispatch_reserve(const struct dispatch_grant *g, int on)
{
	struct conn	*c = g->c;

	if (on) {
		tier_charge(g->t, g->budget);
		quota_charge(&c->pr, g->t->name, g->budget);
		c->nleases++;
		c->bytes += g->size;
		return;
	}
	c->nleases--;
	c->bytes -= g->size;
	quota_uncharge(&c->pr, g->t->name, g->budget);
	/* Last: it frees a removed tier without leases. */
	tier_uncharge(&pmtd->tiers, g->t, g->budget);
}

/* Answers a grant whose alloc returned rc (and fd). */
static void
dispatch_grant(const struct dispatch_grant *gr, int rc, int fd)
{
	Pmemtier__Envelope	 env;
	Pmemtier__LeaseGrant	 g = PMEMTIER__LEASE_GRANT__INIT;
	struct conn		*c = gr->c;
	struct tier		*t = gr->t;
	struct lease		*l;
	char			 msg[768], a[32];
	uint64_t		 rid = gr->rid;
	int			 code, cfd;

	/* The bucket's own files fill its project: only it is refused. */
	if (rc == -EDQUOT) {
		projquota_refusal(t, gr->projid, gr->budget, msg, sizeof(msg));
		dispatch_refuse(c, rid, E(QUOTA), msg);
		return;
	}
	if (rc != 0) {
		pmtd_fmt_size(gr->size, a, sizeof(a));
		snprintf(msg, sizeof(msg), "tier %s: cannot make a lease of "
		    "%s: %s", t->name, a, strerror(-rc));
		code = rc == -ENOSPC ? E(NO_SPACE) : E(INTERNAL);
		metrics_refusal(code);
		dispatch_log(c, code, "%s", msg);
		conn_error(c, rid, code, "%s", msg);
		return;
	}
	if ((l = lease_create(t, c, &c->pr, gr->size, gr->budget, fd,
	    gr->devino, gr->label)) == NULL) {
		close(fd);
		conn_error(c, rid, E(INTERNAL), "out of memory");
		return;
	}
	log_debug("conn %llu: pid %d: lease %llu granted: %llu bytes on %s, "
	    "%llu committed", (unsigned long long)c->id, (int)c->pr.pid,
	    (unsigned long long)l->id, (unsigned long long)gr->size, t->name,
	    (unsigned long long)l->budget);
	dispatch_env(&env, rid);
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_GRANT;
	env.lease_grant = &g;
	g.lease_id = l->id;
	g.tier = t->name;
	g.size = l->size;
	g.numa_node = t->node;
	g.commit = l->budget;
	if ((cfd = tier_export(t, l->fd)) < 0) {
		log_warnx("conn %llu: lease %llu: cannot make the client's "
		    "descriptor: %s", (unsigned long long)c->id,
		    (unsigned long long)l->id, strerror(-cfd));
		lease_end(l, &pmtd->tiers);
		conn_error(c, rid, E(INTERNAL), "cannot hand out the lease: "
		    "%s", strerror(-cfd));
		return;
	}
	/*
	 * A grant that cannot be sent kills the connection; the lease then
	 * stays charged to the process until it exits, like any other.
	 */
	conn_send(c, &env, cfd);
	close(cfd);
	metrics_grant(metrics_now_ns() - gr->t0);
}

static void
dispatch_grant_run(struct work *w)
{
	struct dispatch_grant	*g = (struct dispatch_grant *)w;

	g->fd = -1;
	if (g->frees != 0)
		worker_wait_closes(g->frees);
	g->rc = tier_alloc(g->t, g->size, g->budget, g->projid, &g->fd,
	    g->devino);
}

static void
dispatch_grant_done(struct work *w)
{
	struct dispatch_grant	*g = (struct dispatch_grant *)w;
	struct conn		*c = g->c;

	/* Full after all: trim the tier (once) and try again after it. */
	if (g->rc == -ENOSPC && !g->swept && dispatch_sweep(g->t)) {
		g->swept = 1;
		worker_submit(&g->w);
		return;
	}
	conn_set_state(c, CONN_READY);
	/* The lease charges itself before the reservation goes. */
	dispatch_grant(g, g->rc, g->fd);
	dispatch_reserve(g, 0);
	free(g);
	dispatch_resumed(c);
}

/* Hands the grant to the worker; 0, or -1 when out of memory. */
static int
dispatch_grant_async(const struct dispatch_grant *ask, int swept)
{
	struct dispatch_grant	*g;

	if ((g = malloc(sizeof(*g))) == NULL)
		return -1;
	*g = *ask;
	g->w.run = dispatch_grant_run;
	g->w.done = dispatch_grant_done;
	g->swept = swept;
	dispatch_reserve(g, 1);
	conn_set_state(g->c, CONN_WAITING);
	worker_submit(&g->w);
	return 0;
}

static void
dispatch_lease_request(struct conn *c, uint64_t rid,
    const Pmemtier__LeaseRequest *req)
{
	struct dispatch_grant	 g;
	struct tier		*t;
	char			 msg[768], label[PMTD_LABEL_MAX], a[32], b[32];
	static uint64_t		 page;
	uint64_t		 t0 = metrics_now_ns();
	int			 code, fd = -1, rc, swept;

	if ((t = tier_find(&pmtd->tiers, req->tier)) == NULL) {
		dispatch_sanitize(label, sizeof(label), req->tier);
		snprintf(msg, sizeof(msg), req->tier[0] == '\0' ?
		    "no default tier is configured; name a tier" :
		    "no tier named \"%s\"", label);
		dispatch_refuse(c, rid, E(UNKNOWN_TIER), msg);
		return;
	}
	if (req->size == 0) {
		dispatch_refuse(c, rid, E(INVALID_ARGUMENT), "lease size 0: "
		    "a lease needs at least one byte");
		return;
	}
	if (req->size > t->capacity) {
		pmtd_fmt_size(req->size, a, sizeof(a));
		pmtd_fmt_size(t->capacity, b, sizeof(b));
		snprintf(msg, sizeof(msg), "lease of %s is larger than tier "
		    "%s's whole capacity of %s", a, t->name, b);
		dispatch_refuse(c, rid, E(NO_SPACE), msg);
		return;
	}
	if (page == 0)
		page = (uint64_t)sysconf(_SC_PAGESIZE);
	/*
	 * A capacity may be configured near 2^64: the page rounding must not
	 * overflow, and a size must fit the off_t of the backends and the
	 * signed delta of the quota accounting.
	 */
	if (req->size > ((uint64_t)INT64_MAX & ~(page - 1))) {
		pmtd_fmt_size(req->size, a, sizeof(a));
		snprintf(msg, sizeof(msg), "lease of %s is larger than any "
		    "tier can hold", a);
		dispatch_refuse(c, rid, E(NO_SPACE), msg);
		return;
	}
	memset(&g, 0, sizeof(g));
	g.t0 = t0;
	g.c = c;
	g.rid = rid;
	g.t = t;
	g.size = (req->size + page - 1) / page * page;
	/* Charged: what the client commits now, at least a page. */
	g.budget = req->commit == 0 || req->commit >= g.size ? g.size :
	    (req->commit + page - 1) / page * page;
	if (dispatch_lease_limits(c, t, g.size, g.budget, msg, sizeof(msg),
	    &code) != 0) {
		dispatch_refuse(c, rid, code, msg);
		return;
	}
	/* The bucket's filesystem project (0: none, or an audit tier). */
	if (projquota_prepare(t, &c->pr, &g.projid, msg, sizeof(msg)) != 0) {
		dispatch_refuse(c, rid, E(INTERNAL), msg);
		return;
	}
	dispatch_sanitize(g.label, sizeof(g.label), req->label);
	/* A large file lease is filled on the worker. */
	if (t->ops->fills && g.budget >= WORKER_MIN_BYTES &&
	    dispatch_grant_async(&g, 0) == 0)
		return;
	rc = tier_alloc(t, g.size, g.budget, g.projid, &fd, g.devino);
	/*
	 * The filesystem is fuller than the grants say: a client grew its
	 * lease files, or kept ones that ended, or ended leases are still
	 * being freed on the worker. Trim the tier and try again on the
	 * worker, after the trims and the frees. (A full project, EDQUOT,
	 * hurts only its own bucket: refused until the next audit.)
	 */
	g.frees = worker_close_seq();
	if (rc == -ENOSPC &&
	    ((swept = dispatch_sweep(t)) || worker_pending() > 0) &&
	    dispatch_grant_async(&g, swept) == 0)
		return;
	dispatch_grant(&g, rc, fd);
}

/*
 * LeaseCommit: the client's commit budget for one of its leases. A raise
 * is checked like a grant; a lowering follows what the file holds now.
 */
static void
dispatch_lease_commit(struct conn *c, uint64_t rid,
    const Pmemtier__LeaseCommit *lc)
{
	Pmemtier__Envelope	 env;
	Pmemtier__LeaseCommitted r = PMEMTIER__LEASE_COMMITTED__INIT;
	struct lease		*l = lease_find(lc->lease_id);
	char			 msg[768];
	static uint64_t		 page;
	uint64_t		 bytes, want, physical;
	int			 code;

	if (l == NULL || l->conn != c) {
		dispatch_log(c, E(UNKNOWN_LEASE), "commit on unknown lease "
		    "%llu", (unsigned long long)lc->lease_id);
		conn_error(c, rid, E(UNKNOWN_LEASE), "no lease %llu on this "
		    "connection", (unsigned long long)lc->lease_id);
		return;
	}
	if (page == 0)
		page = (uint64_t)sysconf(_SC_PAGESIZE);
	if (lc->bytes > l->size) {
		conn_error(c, rid, E(INVALID_ARGUMENT), "commit of %llu bytes "
		    "on lease %llu of %llu bytes", (unsigned long long)lc->bytes,
		    (unsigned long long)l->id, (unsigned long long)l->size);
		return;
	}
	bytes = (lc->bytes + page - 1) / page * page;
	want = lease_commit_charge(l, bytes, &physical);
	if (want > l->charged && dispatch_charge_limits(c, l->tier,
	    want - l->charged, msg, sizeof(msg), &code) != 0) {
		dispatch_refuse(c, rid, code, msg);
		return;
	}
	lease_commit(l, bytes, physical);
	dispatch_env(&env, rid);
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_COMMITTED;
	env.lease_committed = &r;
	r.lease_id = l->id;
	r.bytes = l->budget;
	r.charged = l->charged;
	conn_send(c, &env, -1);
}

static void
dispatch_released(struct conn *c, uint64_t rid, uint64_t id, uint64_t size)
{
	Pmemtier__Envelope	 env;
	Pmemtier__LeaseReleased	 r = PMEMTIER__LEASE_RELEASED__INIT;

	r.lease_id = id;
	r.size = size;
	dispatch_env(&env, rid);
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_RELEASED;
	env.lease_released = &r;
	conn_send(c, &env, -1);
}

/*
 * LeaseReleased promises the storage is gone: when freeing it went to the
 * worker (a large lease, or jobs pending ahead of it), the answer waits
 * for a job queued behind it.
 */
struct dispatch_release {
	struct work	 w;
	struct conn	*c;
	uint64_t	 rid;
	uint64_t	 id;
	uint64_t	 size;
};

static void
dispatch_release_run(struct work *w)
{
	(void)w;
}

static void
dispatch_release_done(struct work *w)
{
	struct dispatch_release	*r = (struct dispatch_release *)w;
	struct conn		*c = r->c;

	conn_set_state(c, CONN_READY);
	dispatch_released(c, r->rid, r->id, r->size);
	free(r);
	dispatch_resumed(c);
}

static void
dispatch_lease_release(struct conn *c, uint64_t rid,
    const Pmemtier__LeaseRelease *rel)
{
	struct dispatch_release	*r;
	struct lease		*l = lease_find(rel->lease_id);
	uint64_t		 id, size;

	/* Another connection's lease is answered as unknown: no probing. */
	if (l == NULL || l->conn != c) {
		dispatch_log(c, E(UNKNOWN_LEASE), "release of unknown lease "
		    "%llu", (unsigned long long)rel->lease_id);
		conn_error(c, rid, E(UNKNOWN_LEASE), "no lease %llu on this "
		    "connection", (unsigned long long)rel->lease_id);
		return;
	}
	id = l->id;
	size = l->size;
	log_debug("conn %llu: lease %llu released",
	    (unsigned long long)c->id, (unsigned long long)id);
	/* Out of memory: answered at once, the storage freed meanwhile. */
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		lease_end(l, &pmtd->tiers);
		dispatch_released(c, rid, id, size);
		return;
	}
	r->w.run = dispatch_release_run;
	r->w.done = dispatch_release_done;
	r->c = c;
	r->rid = rid;
	r->id = id;
	r->size = size;
	if (lease_end_then(l, &pmtd->tiers, &r->w)) {
		conn_set_state(c, CONN_WAITING);
		return;
	}
	free(r);
	dispatch_released(c, rid, id, size);
}

/*
 * Kinds in one UsageReport: libpmemtier names up to 224 and sums the rest
 * per tier. A longer report is refused (its figures only): it is not a
 * protocol error, and never costs the client its connection or leases.
 */
#define DISPATCH_MAX_KINDS	512

static void
dispatch_usage_report(struct conn *c, uint64_t rid,
    const Pmemtier__UsageReport *u)
{
	Pmemtier__Envelope	 env;
	Pmemtier__Ack		 ack = PMEMTIER__ACK__INIT;
	struct usage_kind	*k = NULL;
	size_t			 i, n = u->n_kinds;

	if (n > DISPATCH_MAX_KINDS) {
		conn_error(c, rid, E(LIMIT), "usage report of %zu kinds "
		    "(at most %d)", n, DISPATCH_MAX_KINDS);
		return;
	}
	if (n > 0 && (k = calloc(n, sizeof(*k))) == NULL) {
		conn_error(c, rid, E(INTERNAL), "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		dispatch_sanitize(k[i].kind, sizeof(k[i].kind),
		    u->kinds[i]->kind);
		dispatch_sanitize(k[i].tier, sizeof(k[i].tier),
		    u->kinds[i]->tier);
		k[i].allocated = u->kinds[i]->allocated;
		k[i].active = u->kinds[i]->active;
		k[i].resident = u->kinds[i]->resident;
		k[i].mapped = u->kinds[i]->mapped;
		k[i].refused = u->kinds[i]->refused;
	}
	free(c->usage);
	c->usage = k;
	c->nusage = n;
	c->usage_at = time(NULL);
	dispatch_env(&env, rid);
	env.body_case = PMEMTIER__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	conn_send(c, &env, -1);
}

static void
dispatch_status(struct conn *c, uint64_t rid, const Pmemtier__StatusRequest *r)
{
	struct conn	*o;

	/* Ask lease holders for fresh numbers for the next look. */
	TAILQ_FOREACH(o, &pmtd->conns, entry)
		if (o != c && status_visible(&c->pr, o))
			conn_query_usage(o);
	status_reply(c, rid, r);
}

static int
dispatch_admin(struct conn *c, uint64_t rid, const char *what)
{
	if (c->pr.admin)
		return 1;
	dispatch_log(c, E(DENIED), "%s denied", what);
	if (pmtd->conf->admin_group[0] != '\0')
		conn_error(c, rid, E(DENIED), "permission denied: %s needs "
		    "uid 0 or membership of group %s (you are uid %u)", what,
		    pmtd->conf->admin_group, (unsigned)c->pr.uid);
	else
		conn_error(c, rid, E(DENIED), "permission denied: %s needs "
		    "uid 0 (you are uid %u; no admin_group is configured)",
		    what, (unsigned)c->pr.uid);
	return 0;
}

static void
dispatch_ack(struct conn *c, uint64_t rid)
{
	Pmemtier__Envelope	env;
	Pmemtier__Ack		ack = PMEMTIER__ACK__INIT;

	dispatch_env(&env, rid);
	env.body_case = PMEMTIER__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	conn_send(c, &env, -1);
}

static void
dispatch_reload(struct conn *c, uint64_t rid, int rescan)
{
	char	err[1024];

	if (!dispatch_admin(c, rid, rescan ? "rescan" : "reload"))
		return;
	if ((rescan ? pmtd_rescan(err, sizeof(err)) :
	    pmtd_reload(err, sizeof(err))) != 0)
		conn_error(c, rid, rescan ? E(INTERNAL) : E(INVALID_ARGUMENT),
		    "%s failed: %s", rescan ? "rescan" : "reload", err);
	else
		dispatch_ack(c, rid);
}

/* Checks the envelope itself; returns 0 when the body may be handled. */
static int
dispatch_check(struct conn *c, const struct pmt_wire_packet *pkt,
    const Pmemtier__Envelope *env)
{
	uint64_t	rid = env->request_id;

	if (pkt->nfds > 0 || (pkt->flags & PMT_WIRE_FDS_TRUNCATED)) {
		c->errors++;
		dispatch_log(c, E(UNEXPECTED_FD), "sent %zu descriptor(s) "
		    "with %s; closed", pkt->nfds, pmt_wire_body_name(env));
		conn_error(c, rid, E(UNEXPECTED_FD), "%s takes no descriptor; "
		    "the %zu received were closed and the request refused",
		    pmt_wire_body_name(env), pkt->nfds);
		return -1;
	}
	if (env->body_case == PMEMTIER__ENVELOPE__BODY_HELLO)
		return 0;
	if (c->state == CONN_HELLO) {
		c->errors++;
		conn_error(c, rid, E(NO_HELLO), "%s before Hello: send Hello "
		    "first", pmt_wire_body_name(env));
		return -1;
	}
	if (env->version != PMT_WIRE_VERSION) {
		c->errors++;
		conn_error(c, rid, E(VERSION), "envelope version %u; this "
		    "connection speaks version %d", env->version,
		    PMT_WIRE_VERSION);
		return -1;
	}
	return 0;
}

/*
 * An admin's Status or TierList shows physical use measured now: the
 * audit runs on the worker, and the request is dispatched again from a
 * copy of its packet once the figures are in. Meanwhile the connection
 * waits; everyone else is served.
 */
struct dispatch_redo {
	uint64_t	conn_id;
	size_t		len;
	uint8_t		buf[];
};

static void
dispatch_redo(void *arg)
{
	struct dispatch_redo	*r = arg;
	struct pmt_wire_packet	 pkt;
	struct conn		*c;

	if ((c = conn_find(r->conn_id)) != NULL && c->state == CONN_WAITING) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.buf = r->buf;
		pkt.cap = pkt.len = r->len;
		conn_set_state(c, CONN_READY);
		c->audited = 1;
		dispatch_packet(c, &pkt);
		c->audited = 0;
		dispatch_resumed(c);
	}
	free(r);
}

/* 1 when the request waits for an audit (answered by dispatch_redo). */
static int
dispatch_audit_first(struct conn *c, const struct pmt_wire_packet *pkt)
{
	struct dispatch_redo	*r;

	if (c->audited || !status_audit_due(&c->pr))
		return 0;
	/* Out of memory: the last audit's figures will do. */
	if ((r = malloc(sizeof(*r) + pkt->len)) == NULL)
		return 0;
	r->conn_id = c->id;
	r->len = pkt->len;
	memcpy(r->buf, pkt->buf, pkt->len);
	conn_set_state(c, CONN_WAITING);
	if (lease_audit_async(NULL, 0, &pmtd->tiers, dispatch_redo, r) != 0) {
		conn_set_state(c, CONN_READY);
		free(r);
		return 0;
	}
	return 1;
}

static void
dispatch_body(struct conn *c, const struct pmt_wire_packet *pkt,
    const Pmemtier__Envelope *env)
{
	uint64_t	rid = env->request_id;

	switch (env->body_case) {
	case PMEMTIER__ENVELOPE__BODY_HELLO:
		dispatch_hello(c, rid, env->hello);
		break;
	case PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST:
		if (!dispatch_audit_first(c, pkt))
			status_tier_list(c, rid);
		break;
	case PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST:
		dispatch_lease_request(c, rid, env->lease_request);
		break;
	case PMEMTIER__ENVELOPE__BODY_LEASE_RELEASE:
		dispatch_lease_release(c, rid, env->lease_release);
		break;
	case PMEMTIER__ENVELOPE__BODY_LEASE_COMMIT:
		dispatch_lease_commit(c, rid, env->lease_commit);
		break;
	case PMEMTIER__ENVELOPE__BODY_USAGE_REPORT:
		dispatch_usage_report(c, rid, env->usage_report);
		break;
	case PMEMTIER__ENVELOPE__BODY_STATUS_REQUEST:
		if (!dispatch_audit_first(c, pkt))
			dispatch_status(c, rid, env->status_request);
		break;
	case PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST:
		quota_admin_list(c, rid);
		break;
	case PMEMTIER__ENVELOPE__BODY_QUOTA_SET:
		if (dispatch_admin(c, rid, "quota set"))
			quota_admin_set(c, rid, env->quota_set->rule);
		break;
	case PMEMTIER__ENVELOPE__BODY_QUOTA_UNSET:
		if (dispatch_admin(c, rid, "quota unset"))
			quota_admin_unset(c, rid, env->quota_unset->rule);
		break;
	case PMEMTIER__ENVELOPE__BODY_METRICS_REQUEST:
		metrics_reply(c, rid, env->metrics_request);
		break;
	case PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST:
		dispatch_reload(c, rid, 0);
		break;
	case PMEMTIER__ENVELOPE__BODY_RESCAN_REQUEST:
		dispatch_reload(c, rid, 1);
		break;
	case PMEMTIER__ENVELOPE__BODY__NOT_SET:
		c->errors++;
		conn_error(c, rid, E(INVALID_ARGUMENT), "envelope without a "
		    "body");
		break;
	default:
		c->errors++;
		conn_error(c, rid, E(UNSUPPORTED), "%s is not a request this "
		    "daemon handles", pmt_wire_body_name(env));
		break;
	}
}

void
dispatch_packet(struct conn *c, const struct pmt_wire_packet *pkt)
{
	Pmemtier__Envelope	*env;

	/*
	 * Admin rights are those of the configuration in force: a reload
	 * that drops the peer's group from admin_group takes them away from
	 * connections already open.
	 */
	if (c->admin_gen != pmtd->conf_gen) {
		c->pr.admin = peer_is_admin(c->fd, &c->pr, pmtd->have_admin_gid,
		    pmtd->admin_gid);
		c->admin_gen = pmtd->conf_gen;
	}

	if (pkt->flags & PMT_WIRE_TRUNCATED) {
		c->errors++;
		dispatch_log(c, E(TOO_LARGE), "oversized packet dropped");
		conn_error(c, 0, E(TOO_LARGE), "packet larger than %d bytes "
		    "dropped", PMT_WIRE_MAX_PACKET);
		return;
	}
	env = NULL;
	if (pkt->len > 0)
		env = pmemtier__envelope__unpack(arena_allocator(), pkt->len,
		    pkt->buf);
	if (env == NULL) {
		arena_reset();
		c->errors++;
		dispatch_log(c, E(MALFORMED), "undecodable packet of %zu bytes",
		    pkt->len);
		conn_error(c, 0, E(MALFORMED), "packet of %zu bytes is not a "
		    "pmemtier Envelope", pkt->len);
		return;
	}
	log_debug("conn %llu: %s request %llu", (unsigned long long)c->id,
	    pmt_wire_body_name(env), (unsigned long long)env->request_id);
	if (dispatch_check(c, pkt, env) == 0)
		dispatch_body(c, pkt, env);
	/* Nothing keeps a pointer into a request once it is answered. */
	arena_reset();
}
