/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "control.h"
#include "holder.h"
#include "lease.h"
#include "quota.h"
#include "rescan.h"
#include "status.h"
#include "wire.h"

void
status_principal(const struct principal *pr, Pmemtier__Principal *p)
{
	pmemtier__principal__init(p);
	p->uid = pr->uid;
	p->gid = pr->gid;
	p->pid = pr->pid;
	p->cgroup = (char *)pr->cgroup;
	p->admin = pr->admin;
}

static uint64_t
status_tier_physical(const struct tier *t)
{
	struct lease	*l;
	uint64_t	 sum = 0;

	TAILQ_FOREACH(l, lease_all(), all_entry)
		if (l->tier == t)
			sum += l->physical;
	return sum + lease_zombie_physical(t);
}

static void
status_tier(const struct principal *pr, struct tier *t, Pmemtier__TierInfo *ti)
{
	struct quota_match	m;

	pmemtier__tier_info__init(ti);
	ti->name = t->name;
	ti->backend = (char *)t->ops->name;
	ti->capacity = t->capacity;
	ti->granted = t->granted;
	ti->free = t->capacity > t->granted ? t->capacity - t->granted : 0;
	quota_match(&pmtd->conf->rules, &pmtd->runtime_rules, pr, t->name, &m);
	ti->quota_limited = m.rule != NULL;
	ti->quota = m.rule != NULL ? m.rule->limit : 0;
	ti->used = m.used;
	ti->numa_node = t->node;
	ti->path = t->path;
	ti->st_dev = t->st_dev;
	ti->is_default = t->is_default;
	ti->device = t->device;
	ti->physical = pr->admin ? status_tier_physical(t) : 0;
	ti->dax = t->dax;
}

int
status_tiers(const struct principal *pr, struct status_tiers *st)
{
	struct tier	*t;
	size_t		 n = 0;

	memset(st, 0, sizeof(*st));
	TAILQ_FOREACH(t, &pmtd->tiers, entry)
		if (!t->removed)
			n++;
	st->infos = calloc(n + 1, sizeof(*st->infos));
	st->ptrs = calloc(n + 1, sizeof(*st->ptrs));
	if (st->infos == NULL || st->ptrs == NULL) {
		status_tiers_free(st);
		return -1;
	}
	TAILQ_FOREACH(t, &pmtd->tiers, entry) {
		if (t->removed)
			continue;
		status_tier(pr, t, &st->infos[st->n]);
		st->ptrs[st->n] = &st->infos[st->n];
		st->n++;
	}
	return 0;
}

void
status_tiers_free(struct status_tiers *st)
{
	free(st->infos);
	free(st->ptrs);
	memset(st, 0, sizeof(*st));
}

static size_t	status_field_size(size_t body);

static void
status_device(const struct rescan_dev *d, Pmemtier__DeviceInfo *di)
{
	pmemtier__device_info__init(di);
	di->name = (char *)d->name;
	di->ns = (char *)d->ns;
	di->ns_name = (char *)d->ns_name;
	di->region = (char *)d->region;
	di->mode = (char *)d->mode;
	di->size = d->size;
	di->numa_node = d->numa_node;
	di->target_node = d->target_node;
	di->blockdev = (char *)d->blockdev;
	di->daxdev = (char *)d->daxdev;
	di->mount = (char *)d->mount;
	di->fstype = (char *)d->fstype;
	di->dax = d->dax;
	di->online_bytes = d->online_bytes;
	di->state = (char *)rescan_state_name(d->state);
	di->tier = (char *)d->tier;
	di->reason = (char *)d->reason;
	di->cxl_region = (char *)d->cxl_region;
}

int
status_devices(struct status_devices *sd)
{
	const struct rescan_dev	*devs;
	size_t			 n, i, budget = STATUS_DEVICE_BUDGET, sz;

	memset(sd, 0, sizeof(*sd));
	devs = rescan_devices(&n);
	sd->total = n;
	sd->infos = calloc(n + 1, sizeof(*sd->infos));
	sd->ptrs = calloc(n + 1, sizeof(*sd->ptrs));
	if (sd->infos == NULL || sd->ptrs == NULL) {
		status_devices_free(sd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		status_device(&devs[i], &sd->infos[i]);
		sz = status_field_size(
		    pmemtier__device_info__get_packed_size(&sd->infos[i]));
		if (sz > budget)
			break;
		budget -= sz;
		sd->ptrs[sd->n++] = &sd->infos[i];
	}
	return 0;
}

void
status_devices_free(struct status_devices *sd)
{
	free(sd->infos);
	free(sd->ptrs);
	memset(sd, 0, sizeof(*sd));
}

static void
status_cxl_one(const struct rescan_cxl *o, Pmemtier__CxlInfo *ci)
{
	pmemtier__cxl_info__init(ci);
	ci->kind = (char *)o->kind;
	ci->name = (char *)o->name;
	ci->mode = (char *)o->mode;
	ci->size = o->size;
	ci->ram_size = o->ram_size;
	ci->pmem_size = o->pmem_size;
	ci->state = (char *)o->state;
	ci->regions = (char *)o->regions;
	ci->decoders = (char *)o->decoders;
	ci->memdevs = (char *)o->memdevs;
	ci->nd_region = (char *)o->nd_region;
	ci->devices = (char *)o->devices;
	ci->host = (char *)o->host;
	ci->port = (char *)o->port;
	ci->bus = (char *)o->bus;
	ci->serial = o->serial;
	ci->enabled = o->enabled;
	ci->committed = o->committed;
	ci->target_node = o->target_node;
	ci->provisioned = o->provisioned;
	ci->reason = (char *)o->reason;
}

int
status_cxl(struct status_cxl *sc)
{
	const struct rescan_cxl	*objs;
	size_t			 n, i, budget = STATUS_CXL_BUDGET, sz;

	memset(sc, 0, sizeof(*sc));
	objs = rescan_cxl_objects(&n);
	sc->total = n;
	sc->infos = calloc(n + 1, sizeof(*sc->infos));
	sc->ptrs = calloc(n + 1, sizeof(*sc->ptrs));
	if (sc->infos == NULL || sc->ptrs == NULL) {
		status_cxl_free(sc);
		return -1;
	}
	for (i = 0; i < n; i++) {
		status_cxl_one(&objs[i], &sc->infos[i]);
		sz = status_field_size(
		    pmemtier__cxl_info__get_packed_size(&sc->infos[i]));
		if (sz > budget)
			break;
		budget -= sz;
		sc->ptrs[sc->n++] = &sc->infos[i];
	}
	return 0;
}

void
status_cxl_free(struct status_cxl *sc)
{
	free(sc->infos);
	free(sc->ptrs);
	memset(sc, 0, sizeof(*sc));
}

/*
 * Physical use is measured for admins (and trims grown leases on the
 * way), at most once per STATUS_AUDIT_MS however often they ask; anyone
 * else sees the last audit's figures. Before, each request fstat'ed every
 * lease the peer could see, and 60 users looping on Status slowed every
 * other client's connect to 0.2-0.3 s.
 */
#define STATUS_AUDIT_MS	1000

int
status_audit_due(const struct principal *pr)
{
	static uint64_t	last;
	uint64_t	now;

	if (!pr->admin)
		return 0;
	now = pmtd_monotonic_ms();
	if (last != 0 && now - last < STATUS_AUDIT_MS)
		return 0;
	last = now;
	holder_audit();
	return 1;
}

int
status_tier_list(struct conn *c, uint64_t rid)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__TierList	tl = PMEMTIER__TIER_LIST__INIT;
	struct status_tiers	st;
	struct status_devices	sd;
	struct status_cxl	sc;
	int			rc;

	if (status_tiers(&c->pr, &st) != 0)
		return conn_error(c, rid, PMEMTIER__ERROR_CODE__ERROR_INTERNAL,
		    "out of memory");
	if (status_devices(&sd) != 0) {
		status_tiers_free(&st);
		return conn_error(c, rid, PMEMTIER__ERROR_CODE__ERROR_INTERNAL,
		    "out of memory");
	}
	if (status_cxl(&sc) != 0) {
		status_devices_free(&sd);
		status_tiers_free(&st);
		return conn_error(c, rid, PMEMTIER__ERROR_CODE__ERROR_INTERNAL,
		    "out of memory");
	}
	env.version = PMT_WIRE_VERSION;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_TIER_LIST;
	env.tier_list = &tl;
	tl.n_tiers = st.n;
	tl.tiers = st.ptrs;
	tl.n_devices = sd.n;
	tl.devices = sd.ptrs;
	tl.devices_total = (uint32_t)sd.total;
	tl.n_cxl = sc.n;
	tl.cxl = sc.ptrs;
	tl.cxl_total = (uint32_t)sc.total;
	rc = conn_send(c, &env, -1);
	status_cxl_free(&sc);
	status_devices_free(&sd);
	status_tiers_free(&st);
	return rc;
}

/* May pr see what principal o holds? Admins see all, others their own. */
static int
status_sees(const struct principal *pr, const struct principal *o)
{
	if (pr->admin)
		return 1;
	return o->uid == pr->uid && strcmp(o->cgroup, pr->cgroup) == 0;
}

int
status_visible(const struct principal *pr, const struct conn *c)
{
	return status_sees(pr, &c->pr);
}

/* Bytes a repeated submessage adds to its parent: tag, length, body. */
static size_t
status_field_size(size_t body)
{
	size_t	n = 2;

	while (body >= 128) {
		body >>= 7;
		n++;
	}
	return n + body;
}

/*
 * The objects of one reply. Everything points into daemon memory that
 * lives until the reply is packed; only the arrays are allocated here.
 */
struct status_build {
	Pmemtier__Status	 s;
	Pmemtier__Principal	 me;
	struct status_tiers	 tiers;
	struct status_devices	 devices;
	struct status_cxl	 cxl;
	Pmemtier__ClientStatus	*clients, **cptrs;
	Pmemtier__Principal	*cprs;
	Pmemtier__KindUsage	*kinds, **kptrs;
	Pmemtier__LeaseStatus	*leases, **lptrs;
};

static void
status_build_free(struct status_build *b)
{
	status_tiers_free(&b->tiers);
	status_devices_free(&b->devices);
	status_cxl_free(&b->cxl);
	free(b->clients);
	free(b->cptrs);
	free(b->cprs);
	free(b->kinds);
	free(b->kptrs);
	free(b->leases);
	free(b->lptrs);
}

static uint64_t
status_conn_physical(const struct conn *c)
{
	struct lease	*l;
	uint64_t	 sum = 0;

	TAILQ_FOREACH(l, &c->leases, conn_entry)
		sum += l->physical;
	return sum;
}

/* Adds visible clients from offset while they fit in *budget. */
static int
status_clients(struct status_build *b, const struct principal *pr,
    uint32_t offset, size_t *budget)
{
	struct conn	*c;
	size_t		 n = 0, nk = 0, vis = 0, ki = 0;

	TAILQ_FOREACH(c, &pmtd->conns, entry)
		if (status_visible(pr, c)) {
			n++;
			nk += c->nusage;
		}
	b->clients = calloc(n + 1, sizeof(*b->clients));
	b->cptrs = calloc(n + 1, sizeof(*b->cptrs));
	b->cprs = calloc(n + 1, sizeof(*b->cprs));
	b->kinds = calloc(nk + 1, sizeof(*b->kinds));
	b->kptrs = calloc(nk + 1, sizeof(*b->kptrs));
	if (!b->clients || !b->cptrs || !b->cprs || !b->kinds || !b->kptrs)
		return -1;
	b->s.clients_total = (uint32_t)n;
	TAILQ_FOREACH(c, &pmtd->conns, entry) {
		Pmemtier__ClientStatus	*cs;
		size_t			 i, sz;

		if (!status_visible(pr, c) || vis++ < offset)
			continue;
		cs = &b->clients[b->s.n_clients];
		pmemtier__client_status__init(cs);
		status_principal(&c->pr, &b->cprs[b->s.n_clients]);
		cs->conn_id = c->id;
		cs->principal = &b->cprs[b->s.n_clients];
		cs->comm = c->pr.comm;
		cs->client_name = c->client_name;
		cs->leases = c->nleases;
		cs->granted = c->bytes;
		cs->physical = status_conn_physical(c);
		cs->connected_at = (uint64_t)c->connected_at;
		cs->usage = &b->kptrs[ki];
		for (i = 0; i < c->nusage; i++, ki++) {
			Pmemtier__KindUsage	*k = &b->kinds[ki];

			pmemtier__kind_usage__init(k);
			k->kind = c->usage[i].kind;
			k->tier = c->usage[i].tier;
			k->allocated = c->usage[i].allocated;
			k->active = c->usage[i].active;
			k->resident = c->usage[i].resident;
			k->mapped = c->usage[i].mapped;
			k->refused = c->usage[i].refused;
			b->kptrs[ki] = k;
		}
		cs->n_usage = c->nusage;
		sz = status_field_size(
		    pmemtier__client_status__get_packed_size(cs));
		if (sz > *budget) {
			ki -= c->nusage;
			break;
		}
		*budget -= sz;
		b->cptrs[b->s.n_clients++] = cs;
	}
	b->s.clients = b->cptrs;
	return 0;
}

static int
status_leases(struct status_build *b, const struct principal *pr,
    uint32_t offset, size_t *budget)
{
	struct lease	*l;
	size_t		 n = 0, vis = 0;

	/* Leases whose connection closed (held by their process) too. */
	TAILQ_FOREACH(l, lease_all(), all_entry)
		if (status_sees(pr, l->pr))
			n++;
	b->leases = calloc(n + 1, sizeof(*b->leases));
	b->lptrs = calloc(n + 1, sizeof(*b->lptrs));
	if (b->leases == NULL || b->lptrs == NULL)
		return -1;
	b->s.leases_total = (uint32_t)n;
	TAILQ_FOREACH(l, lease_all(), all_entry) {
		Pmemtier__LeaseStatus	*ls;
		size_t			 sz;

		if (!status_sees(pr, l->pr) || vis++ < offset)
			continue;
		ls = &b->leases[b->s.n_leases];
		pmemtier__lease_status__init(ls);
		ls->lease_id = l->id;
		ls->conn_id = l->conn != NULL ? l->conn->id : 0;
		ls->tier = l->tier->name;
		ls->size = l->size;
		ls->physical = l->physical;
		ls->charged = l->charged;
		ls->label = l->label;
		ls->pid = l->pr->pid;
		ls->cgroup = (char *)l->pr->cgroup;
		ls->overgrown = l->overgrown;
		sz = status_field_size(
		    pmemtier__lease_status__get_packed_size(ls));
		if (sz > *budget)
			break;
		*budget -= sz;
		b->lptrs[b->s.n_leases++] = ls;
	}
	b->s.leases = b->lptrs;
	return 0;
}

int
status_reply(struct conn *c, uint64_t rid, const Pmemtier__StatusRequest *r)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	struct status_build	b;
	size_t			budget = STATUS_BUDGET;
	int			rc;

	memset(&b, 0, sizeof(b));
	pmemtier__status__init(&b.s);
	if (status_tiers(&c->pr, &b.tiers) != 0 ||
	    status_devices(&b.devices) != 0 || status_cxl(&b.cxl) != 0)
		goto oom;
	status_principal(&c->pr, &b.me);
	b.s.daemon_version = (char *)PMEMTIER_VERSION;
	b.s.uptime = (uint64_t)(time(NULL) - pmtd->started);
	b.s.socket = (char *)control_path();
	b.s.full_view = c->pr.admin;
	b.s.n_tiers = b.tiers.n;
	b.s.tiers = b.tiers.ptrs;
	b.s.n_devices = b.devices.n;
	b.s.devices = b.devices.ptrs;
	b.s.devices_total = (uint32_t)b.devices.total;
	b.s.n_cxl = b.cxl.n;
	b.s.cxl = b.cxl.ptrs;
	b.s.cxl_total = (uint32_t)b.cxl.total;
	b.s.principal = &b.me;
	{
		size_t	fixed = pmemtier__status__get_packed_size(&b.s);

		budget = fixed < budget ? budget - fixed : 0;
	}
	if (status_clients(&b, &c->pr, r->client_offset, &budget) != 0 ||
	    status_leases(&b, &c->pr, r->lease_offset, &budget) != 0)
		goto oom;
	env.version = PMT_WIRE_VERSION;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_STATUS;
	env.status = &b.s;
	rc = conn_send(c, &env, -1);
	status_build_free(&b);
	return rc;
oom:
	status_build_free(&b);
	return conn_error(c, rid, PMEMTIER__ERROR_CODE__ERROR_INTERNAL,
	    "out of memory");
}
