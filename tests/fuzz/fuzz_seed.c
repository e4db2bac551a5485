/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes the protobuf seeds of fuzz_envelope and fuzz_dispatch, run at
 * build time so that they are encoded by the schema being built and never
 * go stale beside it:
 *
 *   fuzz_seed ENVELOPE_DIR DISPATCH_DIR
 *
 * ENVELOPE_DIR gets one valid Envelope per body of the schema, requests
 * and replies alike (the client library decodes the replies). DISPATCH_DIR
 * gets whole conversations in fuzz_dispatch's input format: a flags byte,
 * then packets each behind a 16-bit little-endian length.
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define SEED_ADMIN	0x01
#define SEED_NO_HELLO	0x02
#define SEED_PKT_FD	0x4000
#define SEED_PKT_TRUNC	0x8000

struct seed {
	uint8_t	buf[16384];
	size_t	len;
};

static const char	*seed_envdir, *seed_dispdir;
static uint64_t		 seed_rid = 1;

static void
seed_write(const char *dir, const char *name, const void *buf, size_t len)
{
	char	 path[4096];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		err(1, "%s", path);
	if (len > 0 && fwrite(buf, 1, len, f) != len)
		err(1, "%s", path);
	if (fclose(f) != 0)
		err(1, "%s", path);
}

/* Fills in the envelope's header and packs it into buf: its length. */
static size_t
seed_pack(Pmemtier__Envelope *env, uint8_t *buf, size_t cap)
{
	size_t	len;

	env->version = PMT_WIRE_VERSION;
	env->request_id = seed_rid++;
	len = pmemtier__envelope__get_packed_size(env);
	if (len > cap)
		errx(1, "seed of %zu bytes", len);
	return pmemtier__envelope__pack(env, buf);
}

static void
seed_envelope(const char *name, Pmemtier__Envelope *env)
{
	uint8_t	buf[4096];
	size_t	len = seed_pack(env, buf, sizeof(buf));

	seed_write(seed_envdir, name, buf, len);
}

/* Appends one packet (header flags, then the bytes) to a conversation. */
static void
seed_raw(struct seed *s, const void *buf, size_t len, unsigned flags)
{
	unsigned	hdr = (unsigned)len | flags;

	if (len > 0x3fff || s->len + 2 + len > sizeof(s->buf))
		errx(1, "conversation too long");
	s->buf[s->len++] = hdr & 0xff;
	s->buf[s->len++] = hdr >> 8;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
}

static void
seed_add(struct seed *s, Pmemtier__Envelope *env, unsigned flags)
{
	uint8_t	buf[4096];

	seed_raw(s, buf, seed_pack(env, buf, sizeof(buf)), flags);
}

static void
seed_start(struct seed *s, uint8_t flags)
{
	s->len = 0;
	s->buf[s->len++] = flags;
}

/* Small makers: one body each, in a static envelope. */
#define SEED_BODY(fn, type, kase, field)				\
static Pmemtier__Envelope *						\
fn(type *body)								\
{									\
	static Pmemtier__Envelope	env;				\
									\
	pmemtier__envelope__init(&env);					\
	env.body_case = PMEMTIER__ENVELOPE__BODY_##kase;		\
	env.field = body;						\
	return &env;							\
}

SEED_BODY(seed_hello_env, Pmemtier__Hello, HELLO, hello)
SEED_BODY(seed_lreq_env, Pmemtier__LeaseRequest, LEASE_REQUEST,
    lease_request)
SEED_BODY(seed_lrel_env, Pmemtier__LeaseRelease, LEASE_RELEASE,
    lease_release)
SEED_BODY(seed_usage_env, Pmemtier__UsageReport, USAGE_REPORT,
    usage_report)
SEED_BODY(seed_status_env, Pmemtier__StatusRequest, STATUS_REQUEST,
    status_request)
SEED_BODY(seed_qset_env, Pmemtier__QuotaSet, QUOTA_SET, quota_set)
SEED_BODY(seed_qunset_env, Pmemtier__QuotaUnset, QUOTA_UNSET,
    quota_unset)

static Pmemtier__Envelope *
seed_empty_env(Pmemtier__Envelope__BodyCase kase)
{
	static Pmemtier__Envelope	env;
	static Pmemtier__TierListRequest tlr = PMEMTIER__TIER_LIST_REQUEST__INIT;
	static Pmemtier__QuotaListRequest qlr =
	    PMEMTIER__QUOTA_LIST_REQUEST__INIT;
	static Pmemtier__ReloadRequest	rl = PMEMTIER__RELOAD_REQUEST__INIT;
	static Pmemtier__RescanRequest	rs = PMEMTIER__RESCAN_REQUEST__INIT;
	static Pmemtier__Ack		ack = PMEMTIER__ACK__INIT;
	static Pmemtier__UsageQuery	uq = PMEMTIER__USAGE_QUERY__INIT;
	static Pmemtier__MetricsRequest	mr = PMEMTIER__METRICS_REQUEST__INIT;

	pmemtier__envelope__init(&env);
	env.body_case = kase;
	switch (kase) {
	case PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST:
		env.tier_list_request = &tlr;
		break;
	case PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST:
		env.quota_list_request = &qlr;
		break;
	case PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST:
		env.reload_request = &rl;
		break;
	case PMEMTIER__ENVELOPE__BODY_RESCAN_REQUEST:
		env.rescan_request = &rs;
		break;
	case PMEMTIER__ENVELOPE__BODY_ACK:
		env.ack = &ack;
		break;
	case PMEMTIER__ENVELOPE__BODY_USAGE_QUERY:
		env.usage_query = &uq;
		break;
	case PMEMTIER__ENVELOPE__BODY_METRICS_REQUEST:
		env.metrics_request = &mr;
		break;
	default:
		env.body_case = PMEMTIER__ENVELOPE__BODY__NOT_SET;
		break;
	}
	return &env;
}

static Pmemtier__Envelope *
seed_hello(uint32_t min, uint32_t max)
{
	static Pmemtier__Hello	h;

	pmemtier__hello__init(&h);
	h.min_version = min;
	h.max_version = max;
	h.client_name = "libpmemtier 0.1.0";
	return seed_hello_env(&h);
}

static Pmemtier__Envelope *
seed_lease(const char *tier, uint64_t size, const char *label)
{
	static Pmemtier__LeaseRequest	r;

	pmemtier__lease_request__init(&r);
	r.tier = (char *)tier;
	r.size = size;
	r.label = (char *)label;
	return seed_lreq_env(&r);
}

static Pmemtier__Envelope *
seed_release(uint64_t id)
{
	static Pmemtier__LeaseRelease	r;

	pmemtier__lease_release__init(&r);
	r.lease_id = id;
	return seed_lrel_env(&r);
}

static Pmemtier__Envelope *
seed_usage(void)
{
	static Pmemtier__KindUsage	k[2];
	static Pmemtier__KindUsage	*kp[2] = { &k[0], &k[1] };
	static Pmemtier__UsageReport	u;

	pmemtier__kind_usage__init(&k[0]);
	k[0].kind = "PMEM_KIND";
	k[0].tier = "pmem";
	k[0].allocated = 4096;
	k[0].mapped = 1 << 20;
	pmemtier__kind_usage__init(&k[1]);
	k[1].kind = "kind\x01with control";
	k[1].tier = "fast";
	k[1].resident = 8192;
	pmemtier__usage_report__init(&u);
	u.n_kinds = 2;
	u.kinds = kp;
	return seed_usage_env(&u);
}

static Pmemtier__Envelope *
seed_status(uint32_t clients, uint32_t leases)
{
	static Pmemtier__StatusRequest	r;

	pmemtier__status_request__init(&r);
	r.client_offset = clients;
	r.lease_offset = leases;
	return seed_status_env(&r);
}

/* sel: 'c' cgroup, 'u' uid, 'g' gid, 'a' any. */
static Pmemtier__QuotaRule *
seed_rule(int sel, const char *cgroup, uint32_t id, const char *tier,
    uint64_t limit)
{
	static Pmemtier__QuotaRule	r;

	pmemtier__quota_rule__init(&r);
	switch (sel) {
	case 'c':
		r.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_CGROUP;
		r.cgroup = (char *)cgroup;
		break;
	case 'u':
		r.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_UID;
		r.uid = id;
		break;
	case 'g':
		r.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_GID;
		r.gid = id;
		break;
	default:
		r.selector_case = PMEMTIER__QUOTA_RULE__SELECTOR_ANY;
		r.any = 1;
		break;
	}
	r.tier = (char *)tier;
	r.limit = limit;
	return &r;
}

static Pmemtier__Envelope *
seed_qset(Pmemtier__QuotaRule *rule)
{
	static Pmemtier__QuotaSet	q;

	pmemtier__quota_set__init(&q);
	q.rule = rule;
	return seed_qset_env(&q);
}

static Pmemtier__Envelope *
seed_qunset(Pmemtier__QuotaRule *rule)
{
	static Pmemtier__QuotaUnset	q;

	pmemtier__quota_unset__init(&q);
	q.rule = rule;
	return seed_qunset_env(&q);
}

/* The daemon's replies, for the decoder alone. */
static void
seed_replies(void)
{
	Pmemtier__Envelope	env;
	Pmemtier__Principal	p = PMEMTIER__PRINCIPAL__INIT;
	Pmemtier__TierInfo	ti = PMEMTIER__TIER_INFO__INIT, *tip = &ti;
	Pmemtier__DeviceInfo	di = PMEMTIER__DEVICE_INFO__INIT, *dip = &di;
	Pmemtier__Welcome	w = PMEMTIER__WELCOME__INIT;
	Pmemtier__TierList	tl = PMEMTIER__TIER_LIST__INIT;
	Pmemtier__LeaseGrant	g = PMEMTIER__LEASE_GRANT__INIT;
	Pmemtier__LeaseReleased	lr = PMEMTIER__LEASE_RELEASED__INIT;
	Pmemtier__KindUsage	ku = PMEMTIER__KIND_USAGE__INIT, *kup = &ku;
	Pmemtier__ClientStatus	cs = PMEMTIER__CLIENT_STATUS__INIT, *csp = &cs;
	Pmemtier__LeaseStatus	ls = PMEMTIER__LEASE_STATUS__INIT, *lsp = &ls;
	Pmemtier__Status	st = PMEMTIER__STATUS__INIT;
	Pmemtier__QuotaUsage	qu = PMEMTIER__QUOTA_USAGE__INIT, *qup = &qu;
	Pmemtier__QuotaRule	*rp;
	Pmemtier__QuotaList	ql = PMEMTIER__QUOTA_LIST__INIT;
	Pmemtier__Error		e = PMEMTIER__ERROR__INIT;

	p.uid = 1000;
	p.gid = 100;
	p.pid = 4242;
	p.cgroup = "/user.slice/user-1000.slice/session-1.scope";
	ti.name = "pmem";
	ti.backend = "fsdax";
	ti.capacity = 1ULL << 34;
	ti.granted = 1ULL << 30;
	ti.free = ti.capacity - ti.granted;
	ti.quota_limited = 1;
	ti.quota = 1ULL << 32;
	ti.numa_node = -1;
	ti.path = "/mnt/pmem0";
	ti.st_dev = 0x10301;
	ti.is_default = 1;
	ti.device = "namespace0.0";
	ti.dax = 1;
	di.name = "pmem0";
	di.ns = "namespace0.0";
	di.region = "region0";
	di.mode = "fsdax";
	di.size = 1ULL << 34;
	di.numa_node = 0;
	di.target_node = 2;
	di.state = "tier";
	di.tier = "pmem";

	pmemtier__envelope__init(&env);
	env.body_case = PMEMTIER__ENVELOPE__BODY_WELCOME;
	env.welcome = &w;
	w.version = 1;
	w.daemon_version = "0.1.0";
	w.principal = &p;
	w.n_tiers = 1;
	w.tiers = &tip;
	w.max_packet = PMT_WIRE_MAX_PACKET;
	w.max_lease_size = ti.capacity;
	seed_envelope("welcome", &env);

	pmemtier__envelope__init(&env);
	env.body_case = PMEMTIER__ENVELOPE__BODY_TIER_LIST;
	env.tier_list = &tl;
	tl.n_tiers = 1;
	tl.tiers = &tip;
	tl.n_devices = 1;
	tl.devices = &dip;
	tl.devices_total = 3;
	seed_envelope("tier_list", &env);

	pmemtier__envelope__init(&env);
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_GRANT;
	env.lease_grant = &g;
	g.lease_id = 1700000000000001ULL;
	g.tier = "pmem";
	g.size = 2 << 20;
	g.numa_node = 2;
	seed_envelope("lease_grant", &env);

	pmemtier__envelope__init(&env);
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_RELEASED;
	env.lease_released = &lr;
	lr.lease_id = g.lease_id;
	lr.size = g.size;
	seed_envelope("lease_released", &env);

	ku.kind = "PMEM_KIND";
	ku.tier = "pmem";
	ku.allocated = 12345;
	cs.conn_id = 7;
	cs.principal = &p;
	cs.comm = "redis-server";
	cs.client_name = "libpmemtier 0.1.0";
	cs.leases = 1;
	cs.granted = g.size;
	cs.n_usage = 1;
	cs.usage = &kup;
	cs.connected_at = 1700000000;
	ls.lease_id = g.lease_id;
	ls.conn_id = 7;
	ls.tier = "pmem";
	ls.size = g.size;
	ls.label = "PMEM_KIND";
	ls.pid = 4242;
	ls.cgroup = p.cgroup;
	ls.overgrown = 1;
	pmemtier__envelope__init(&env);
	env.body_case = PMEMTIER__ENVELOPE__BODY_STATUS;
	env.status = &st;
	st.daemon_version = "0.1.0";
	st.uptime = 3600;
	st.socket = "/run/pmemtier/pmemtierd.sock";
	st.full_view = 1;
	st.n_tiers = 1;
	st.tiers = &tip;
	st.n_clients = 1;
	st.clients = &csp;
	st.n_leases = 1;
	st.leases = &lsp;
	st.clients_total = 1;
	st.leases_total = 1;
	st.principal = &p;
	st.n_devices = 1;
	st.devices = &dip;
	st.devices_total = 1;
	seed_envelope("status", &env);

	rp = seed_rule('c', "/system.slice/web-*.scope", 0, "pmem", 1 << 29);
	rp->origin = "config";
	qu.bucket = "cgroup /system.slice/web-1.scope";
	qu.tier = "pmem";
	qu.used = 1 << 20;
	qu.limit = rp->limit;
	qu.rule = rp;
	pmemtier__envelope__init(&env);
	env.body_case = PMEMTIER__ENVELOPE__BODY_QUOTA_LIST;
	env.quota_list = &ql;
	ql.n_rules = 1;
	ql.rules = &rp;
	ql.n_usage = 1;
	ql.usage = &qup;
	ql.usage_total = 1;
	seed_envelope("quota_list", &env);

	pmemtier__envelope__init(&env);
	env.body_case = PMEMTIER__ENVELOPE__BODY_ERROR;
	env.error = &e;
	e.code = PMEMTIER__ERROR_CODE__ERROR_QUOTA;
	e.message = "quota exceeded on tier pmem";
	seed_envelope("error", &env);

	seed_envelope("ack", seed_empty_env(PMEMTIER__ENVELOPE__BODY_ACK));
	seed_envelope("usage_query",
	    seed_empty_env(PMEMTIER__ENVELOPE__BODY_USAGE_QUERY));
}

static void
seed_requests(void)
{
	seed_envelope("hello", seed_hello(1, 1));
	seed_envelope("tier_list_request",
	    seed_empty_env(PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST));
	seed_envelope("lease_request", seed_lease("pmem", 4096, "PMEM_KIND"));
	seed_envelope("lease_release", seed_release(1));
	seed_envelope("usage_report", seed_usage());
	seed_envelope("status_request", seed_status(0, 0));
	seed_envelope("quota_list_request",
	    seed_empty_env(PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST));
	seed_envelope("quota_set", seed_qset(seed_rule('c', "/machine.slice/*",
	    0, "*", 1 << 30)));
	seed_envelope("quota_unset", seed_qunset(seed_rule('g', NULL, 100,
	    "pmem", 0)));
	seed_envelope("reload_request",
	    seed_empty_env(PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST));
	seed_envelope("rescan_request",
	    seed_empty_env(PMEMTIER__ENVELOPE__BODY_RESCAN_REQUEST));
	seed_envelope("metrics_request",
	    seed_empty_env(PMEMTIER__ENVELOPE__BODY_METRICS_REQUEST));
}

/* fuzz_dispatch's conversations. Lease ids start at 1 on every input. */
static void
seed_conversations(void)
{
	static const uint8_t	garbage[] = { 0x0a, 0xff, 0xff, 0x03 };
	struct seed		*s;

	if ((s = malloc(sizeof(*s))) == NULL)
		err(1, "malloc");

	/* A client's life: leases within and beyond quota, a release. */
	seed_start(s, 0);
	seed_add(s, seed_lease("pmem", 4096, "PMEM_KIND"), 0);
	seed_add(s, seed_lease("", 300 * 1024, "big"), 0);
	seed_add(s, seed_lease("pmem", 400 * 1024, "over quota"), 0);
	seed_add(s, seed_lease("fast", 8192, "kmem"), 0);
	seed_add(s, seed_release(1), 0);
	seed_add(s, seed_release(99), 0);
	seed_add(s, seed_usage(), 0);
	seed_add(s, seed_status(0, 0), 0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST),
	    0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY_METRICS_REQUEST),
	    0);
	seed_write(seed_dispdir, "client", s->buf, s->len);

	/* An admin: runtime quotas, listing, reload and rescan. */
	seed_start(s, SEED_ADMIN);
	seed_add(s, seed_qset(seed_rule('c', "/fuzz.slice/*", 0, "pmem",
	    128 * 1024)), 0);
	seed_add(s, seed_qset(seed_rule('u', NULL, 0, "*", 1 << 20)), 0);
	seed_add(s, seed_lease("pmem", 200 * 1024, "refused"), 0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST),
	    0);
	seed_add(s, seed_qunset(seed_rule('c', "/fuzz.slice/*", 0, "pmem",
	    0)), 0);
	seed_add(s, seed_qunset(seed_rule('a', NULL, 0, "*", 0)), 0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST), 0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY_RESCAN_REQUEST), 0);
	seed_add(s, seed_status(1, 1), 0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY_METRICS_REQUEST),
	    0);
	seed_write(seed_dispdir, "admin", s->buf, s->len);

	/* The handshake, by the input itself: versions, repeats, order. */
	seed_start(s, SEED_NO_HELLO);
	seed_add(s, seed_lease("pmem", 4096, "before hello"), 0);
	seed_add(s, seed_hello(2, 3), 0);
	seed_add(s, seed_hello(1, 1), 0);
	seed_add(s, seed_hello(1, 1), 0);
	seed_write(seed_dispdir, "handshake", s->buf, s->len);

	/* What a hostile client sends: replies, no body, fds, junk. */
	seed_start(s, 0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY_ACK), 0);
	seed_add(s, seed_empty_env(PMEMTIER__ENVELOPE__BODY__NOT_SET), 0);
	seed_add(s, seed_status(0, 0), SEED_PKT_FD);
	seed_add(s, seed_lease("pmem", 4096, "huge"), SEED_PKT_TRUNC);
	seed_add(s, seed_qset(seed_rule('c', "/", 0, "*", 0)), 0);
	seed_raw(s, garbage, sizeof(garbage), 0);
	seed_raw(s, garbage, 0, 0);
	seed_write(seed_dispdir, "hostile", s->buf, s->len);
	free(s);
}

int
main(int argc, char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz_seed ENVELOPE_DIR DISPATCH_DIR\n");
		return 2;
	}
	seed_envdir = argv[1];
	seed_dispdir = argv[2];
	seed_requests();
	seed_replies();
	seed_conversations();
	return 0;
}
