/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The read-only commands: status, tiers, clients, leases. What a peer sees
 * is decided by the daemon (an admin sees everyone, anyone else only its
 * own principal); tierctl shows what it is given, and filters it further
 * only on request (--pid, --cgroup).
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tierctl.h"

/* Every page of one status snapshot, with the lists joined. */
struct show_status {
	Pmemtier__Envelope		**pages;
	size_t				  npages;
	const Pmemtier__Status		 *first;
	const Pmemtier__ClientStatus	**clients;
	size_t				  nclients;
	const Pmemtier__LeaseStatus	**leases;
	size_t				  nleases;
};

static void *
show_grow(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL)
		err(TIERCTL_EXIT_DAEMON, "out of memory");
	return p;
}

/* Appends one Status page; returns how many entries it added. */
static size_t
show_append(struct show_status *ss, const Pmemtier__Status *st)
{
	size_t	i, added = 0;

	ss->clients = show_grow(ss->clients, ss->nclients + st->n_clients,
	    sizeof(*ss->clients));
	for (i = 0; i < st->n_clients && ss->nclients < st->clients_total;
	    i++, added++)
		ss->clients[ss->nclients++] = st->clients[i];
	ss->leases = show_grow(ss->leases, ss->nleases + st->n_leases,
	    sizeof(*ss->leases));
	for (i = 0; i < st->n_leases && ss->nleases < st->leases_total;
	    i++, added++)
		ss->leases[ss->nleases++] = st->leases[i];
	return added;
}

/*
 * A reply holds at most one packet (64 KiB), so a daemon with many clients
 * answers in pages: ask again from where the last page ended until the
 * totals are reached. Clients that come and go between pages can make a
 * total unreachable; a page that adds nothing ends the loop.
 */
static void
show_fetch(struct tierctl_conn *c, struct show_status *ss, const char *what)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__StatusRequest	 req = PMEMTIER__STATUS_REQUEST__INIT;
	Pmemtier__Envelope	*rep;
	const Pmemtier__Status	*st;

	memset(ss, 0, sizeof(*ss));
	env.body_case = PMEMTIER__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &req;
	for (;;) {
		req.client_offset = (uint32_t)ss->nclients;
		req.lease_offset = (uint32_t)ss->nleases;
		rep = conn_request(c, &env, PMEMTIER__ENVELOPE__BODY_STATUS,
		    what);
		ss->pages = show_grow(ss->pages, ss->npages + 1,
		    sizeof(*ss->pages));
		ss->pages[ss->npages++] = rep;
		st = rep->status;
		if (ss->first == NULL)
			ss->first = st;
		if (show_append(ss, st) == 0)
			break;
		if (ss->nclients >= st->clients_total &&
		    ss->nleases >= st->leases_total)
			break;
	}
}

static void
show_free(struct show_status *ss)
{
	size_t	i;

	for (i = 0; i < ss->npages; i++)
		pmemtier__envelope__free_unpacked(ss->pages[i], NULL);
	free(ss->pages);
	free(ss->clients);
	free(ss->leases);
}

/* --cgroup PATH selects PATH and the cgroups below it. */
static bool
show_cgroup_match(const char *want, const char *cg)
{
	size_t	n = strlen(want);

	if (cg == NULL)
		return false;
	while (n > 1 && want[n - 1] == '/')
		n--;
	if (strncmp(want, cg, n) != 0)
		return false;
	return cg[n] == '\0' || cg[n] == '/' || (n == 1 && want[0] == '/');
}

static bool
show_select(const struct tierctl *t, pid_t pid, const char *cgroup)
{
	if ((t->opts & TIERCTL_OPT_PID) && pid != t->pid)
		return false;
	if ((t->opts & TIERCTL_OPT_CGROUP) &&
	    !show_cgroup_match(t->cgroup, cgroup))
		return false;
	return true;
}

static void
show_check_args(const struct tierctl *t, int argc, char **argv, int allowed)
{
	if (argc > 1)
		tierctl_usage("%s: unexpected argument: %s", argv[0], argv[1]);
	if (t->opts & ~allowed)
		tierctl_usage("%s: option not valid for this command",
		    argv[0]);
}

static void
show_tiers(struct tierctl *t, Pmemtier__TierInfo **tiers, size_t n)
{
	size_t	i;

	t->out->list_begin(t, TIERCTL_LIST_TIERS);
	for (i = 0; i < n; i++)
		t->out->tier(t, tiers[i]);
	t->out->list_end(t, TIERCTL_LIST_TIERS);
}

/*
 * What discovery found (empty unless the daemon runs [discovery]). The
 * human form leaves the section out when there is nothing to show; the
 * JSON form always has the array.
 */
static void
show_devices(struct tierctl *t, Pmemtier__DeviceInfo **devs, size_t n,
    size_t total)
{
	size_t	i;

	if (total < n)
		total = n;
	if (!t->json && total == 0)
		return;
	t->out->list_begin(t, TIERCTL_LIST_DEVICES);
	for (i = 0; i < n; i++)
		t->out->device(t, devs[i]);
	t->out->list_end(t, TIERCTL_LIST_DEVICES);
	t->out->total(t, TIERCTL_LIST_DEVICES, total, n);
}

/* The CXL memdevs, root decoders and regions, like the devices. */
static void
show_cxl(struct tierctl *t, Pmemtier__CxlInfo **objs, size_t n, size_t total)
{
	size_t	i;

	if (total < n)
		total = n;
	if (!t->json && total == 0)
		return;
	t->out->list_begin(t, TIERCTL_LIST_CXL);
	for (i = 0; i < n; i++)
		t->out->cxl(t, objs[i]);
	t->out->list_end(t, TIERCTL_LIST_CXL);
	t->out->total(t, TIERCTL_LIST_CXL, total, n);
}

static void
show_clients(struct tierctl *t, const struct show_status *ss)
{
	const Pmemtier__Principal	*p;
	size_t				 i;

	t->out->list_begin(t, TIERCTL_LIST_CLIENTS);
	for (i = 0; i < ss->nclients; i++) {
		p = ss->clients[i]->principal;
		if (show_select(t, p != NULL ? p->pid : 0,
		    p != NULL ? p->cgroup : NULL))
			t->out->client(t, ss->clients[i]);
	}
	t->out->list_end(t, TIERCTL_LIST_CLIENTS);
}

int
cmd_status(struct tierctl *t, int argc, char **argv)
{
	struct tierctl_conn	*c;
	struct show_status	 ss;

	struct timespec		 sec = { 1, 0 };
	bool			 watch = (t->opts & TIERCTL_OPT_WATCH) != 0,
				 tty = isatty(STDOUT_FILENO);

	show_check_args(t, argc, argv, TIERCTL_OPT_WATCH);
	c = conn_open(t->socket);
	/*
	 * --watch: the same view again every second, on one connection,
	 * until interrupted (a terminal is cleared before each one; piped,
	 * the views follow each other: one JSON document each with -j).
	 */
	for (;;) {
		show_fetch(c, &ss, "status");
		if (watch && tty)
			fputs("\033[H\033[2J", stdout);
		t->out->begin(t);
		t->out->daemon(t, ss.first);
		show_tiers(t, ss.first->tiers, ss.first->n_tiers);
		show_devices(t, ss.first->devices, ss.first->n_devices,
		    ss.first->devices_total);
		show_cxl(t, ss.first->cxl, ss.first->n_cxl,
		    ss.first->cxl_total);
		show_clients(t, &ss);
		t->out->end(t);
		show_free(&ss);
		if (!watch)
			break;
		fflush(stdout);
		nanosleep(&sec, NULL);
	}
	conn_close(c);
	return TIERCTL_EXIT_OK;
}

int
cmd_tiers(struct tierctl *t, int argc, char **argv)
{
	struct tierctl_conn	*c;
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__TierListRequest req = PMEMTIER__TIER_LIST_REQUEST__INIT;
	Pmemtier__Envelope	*rep;

	show_check_args(t, argc, argv, 0);
	c = conn_open(t->socket);
	env.body_case = PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST;
	env.tier_list_request = &req;
	rep = conn_request(c, &env, PMEMTIER__ENVELOPE__BODY_TIER_LIST,
	    "tiers");
	t->out->begin(t);
	show_tiers(t, rep->tier_list->tiers, rep->tier_list->n_tiers);
	show_devices(t, rep->tier_list->devices, rep->tier_list->n_devices,
	    rep->tier_list->devices_total);
	show_cxl(t, rep->tier_list->cxl, rep->tier_list->n_cxl,
	    rep->tier_list->cxl_total);
	t->out->end(t);
	pmemtier__envelope__free_unpacked(rep, NULL);
	conn_close(c);
	return TIERCTL_EXIT_OK;
}

int
cmd_clients(struct tierctl *t, int argc, char **argv)
{
	struct tierctl_conn	*c;
	struct show_status	 ss;

	show_check_args(t, argc, argv, TIERCTL_OPT_PID | TIERCTL_OPT_CGROUP);
	c = conn_open(t->socket);
	show_fetch(c, &ss, "clients");
	t->out->begin(t);
	show_clients(t, &ss);
	t->out->end(t);
	show_free(&ss);
	conn_close(c);
	return TIERCTL_EXIT_OK;
}

int
cmd_leases(struct tierctl *t, int argc, char **argv)
{
	struct tierctl_conn		*c;
	struct show_status		 ss;
	const Pmemtier__LeaseStatus	*l;
	size_t				 i;

	show_check_args(t, argc, argv, TIERCTL_OPT_PID | TIERCTL_OPT_CGROUP);
	c = conn_open(t->socket);
	show_fetch(c, &ss, "leases");
	t->out->begin(t);
	t->out->list_begin(t, TIERCTL_LIST_LEASES);
	for (i = 0; i < ss.nleases; i++) {
		l = ss.leases[i];
		if (show_select(t, l->pid, l->cgroup))
			t->out->lease(t, l);
	}
	t->out->list_end(t, TIERCTL_LIST_LEASES);
	t->out->end(t);
	show_free(&ss);
	conn_close(c);
	return TIERCTL_EXIT_OK;
}
