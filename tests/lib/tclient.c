/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/socket.h>
#include <sys/un.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tclient.h"
#include "testd.h"
#include "wire.h"

static uint64_t	tc_next_id = 1;

int
tc_connect(const char *socket_path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", socket_path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

Pmemtier__Envelope *
tc_recv(int sock, int timeout_ms, int *fdp)
{
	static uint8_t		 buf[PMT_WIRE_MAX_PACKET];
	struct pmt_wire_packet	 pkt;
	struct pollfd		 pfd = { sock, POLLIN, 0 };
	Pmemtier__Envelope	*env;
	size_t			 i;

	if (fdp != NULL)
		*fdp = -1;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return NULL;
	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	pkt.cap = sizeof(buf);
	if (pmt_wire_recv(sock, &pkt, 0) <= 0) {
		pmt_wire_close_fds(&pkt);
		return NULL;
	}
	env = pmt_wire_decode(&pkt, NULL);
	for (i = 0; i < pkt.nfds; i++) {
		if (i == 0 && fdp != NULL && env != NULL)
			*fdp = pkt.fds[i];
		else
			close(pkt.fds[i]);
	}
	return env;
}

Pmemtier__Envelope *
tc_call(int sock, Pmemtier__Envelope *req, int *fdp)
{
	Pmemtier__Envelope	*env;
	struct timespec		 t0, t;
	int			 fd, left;

	if (fdp != NULL)
		*fdp = -1;
	req->version = PMT_WIRE_VERSION;
	req->request_id = tc_next_id++;
	if (pmt_wire_send(sock, req, -1) != 0)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = 5000 - (int)((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return NULL;
		if ((env = tc_recv(sock, left, &fd)) == NULL)
			return NULL;
		if (env->request_id == req->request_id) {
			if (fdp != NULL)
				*fdp = fd;
			else if (fd >= 0)
				close(fd);
			return env;
		}
		/* Unsolicited (UsageQuery): not ours to answer here. */
		if (fd >= 0)
			close(fd);
		pmemtier__envelope__free_unpacked(env, NULL);
	}
}

Pmemtier__Envelope *
tc_hello(int sock, uint32_t min, uint32_t max)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Hello		h = PMEMTIER__HELLO__INIT;

	h.min_version = min;
	h.max_version = max;
	h.client_name = "pmemtier-test";
	env.body_case = PMEMTIER__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	return tc_call(sock, &env, NULL);
}

size_t
tc_pack_hello(uint8_t *buf, uint64_t rid)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Hello		h = PMEMTIER__HELLO__INIT;

	h.min_version = h.max_version = PMT_WIRE_VERSION;
	env.version = PMT_WIRE_VERSION;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	return pmemtier__envelope__pack(&env, buf);
}

size_t
tc_pack_lease(uint8_t *buf, uint64_t rid, const char *tier, uint64_t size)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__LeaseRequest	req = PMEMTIER__LEASE_REQUEST__INIT;

	req.tier = (char *)tier;
	req.size = size;
	env.version = PMT_WIRE_VERSION;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &req;
	return pmemtier__envelope__pack(&env, buf);
}

int
tc_open(const char *socket_path)
{
	Pmemtier__Envelope	*r;
	int			 fd, ok;

	if ((fd = tc_connect(socket_path)) < 0)
		return -1;
	r = tc_hello(fd, PMT_WIRE_VERSION, PMT_WIRE_VERSION);
	ok = r != NULL && r->body_case == PMEMTIER__ENVELOPE__BODY_WELCOME;
	tc_free(r);
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tc_send_raw(int sock, const void *buf, size_t len, int fd)
{
	return pmt_wire_send_bytes(sock, buf, len, fd, 0);
}

int
tc_error_code(const Pmemtier__Envelope *env)
{
	if (env == NULL || env->body_case != PMEMTIER__ENVELOPE__BODY_ERROR)
		return 0;
	return (int)env->error->code;
}

void
tc_free(Pmemtier__Envelope *env)
{
	if (env != NULL)
		pmemtier__envelope__free_unpacked(env, NULL);
}

int
tc_lease(int sock, const char *tier, uint64_t size, uint64_t *idp,
    uint64_t *sizep, int *fdp)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__LeaseRequest	 req = PMEMTIER__LEASE_REQUEST__INIT;
	int			 fd, rc;

	req.tier = (char *)(tier != NULL ? tier : "");
	req.size = size;
	req.label = "test";
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &req;
	if ((r = tc_call(sock, &env, &fd)) == NULL)
		return -1;
	if (r->body_case == PMEMTIER__ENVELOPE__BODY_LEASE_GRANT && fd >= 0) {
		if (idp != NULL)
			*idp = r->lease_grant->lease_id;
		if (sizep != NULL)
			*sizep = r->lease_grant->size;
		if (fdp != NULL)
			*fdp = fd;
		else
			close(fd);
		rc = 0;
	} else {
		if (fd >= 0)
			close(fd);
		rc = tc_error_code(r) > 0 ? tc_error_code(r) : -1;
	}
	tc_free(r);
	return rc;
}

int
tc_release(int sock, uint64_t id)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__LeaseRelease	 rel = PMEMTIER__LEASE_RELEASE__INIT;
	int			 rc;

	rel.lease_id = id;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_RELEASE;
	env.lease_release = &rel;
	if ((r = tc_call(sock, &env, NULL)) == NULL)
		return -1;
	if (r->body_case == PMEMTIER__ENVELOPE__BODY_LEASE_RELEASED &&
	    r->lease_released->lease_id == id)
		rc = 0;
	else
		rc = tc_error_code(r) > 0 ? tc_error_code(r) : -1;
	tc_free(r);
	return rc;
}

Pmemtier__Envelope *
tc_simple(int sock, Pmemtier__Envelope__BodyCase body)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Ack		empty = PMEMTIER__ACK__INIT;

	/*
	 * Every body-less request has the same (empty) encoding; any empty
	 * message object serves for packing.
	 */
	env.body_case = body;
	env.ack = &empty;
	return tc_call(sock, &env, NULL);
}

int
tc_tier(int sock, const char *tier, uint64_t *freep, uint64_t *grantedp,
    uint64_t *usedp)
{
	Pmemtier__Envelope	*r;
	size_t			 i;
	int			 rc = -1;

	r = tc_simple(sock, PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST);
	if (r == NULL || r->body_case != PMEMTIER__ENVELOPE__BODY_TIER_LIST) {
		tc_free(r);
		return -1;
	}
	for (i = 0; i < r->tier_list->n_tiers; i++) {
		Pmemtier__TierInfo	*t = r->tier_list->tiers[i];

		if (strcmp(t->name, tier) != 0)
			continue;
		if (freep != NULL)
			*freep = t->free;
		if (grantedp != NULL)
			*grantedp = t->granted;
		if (usedp != NULL)
			*usedp = t->used;
		rc = 0;
	}
	tc_free(r);
	return rc;
}

Pmemtier__Envelope *
tc_status(int sock, uint32_t coff, uint32_t loff)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__StatusRequest	req = PMEMTIER__STATUS_REQUEST__INIT;

	req.client_offset = coff;
	req.lease_offset = loff;
	env.body_case = PMEMTIER__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &req;
	return tc_call(sock, &env, NULL);
}

int
tc_count_dir(const char *path)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

int
tc_count_fds(pid_t pid)
{
	char	path[64];

	if (pid == 0)
		return tc_count_dir("/proc/self/fd") - 1;	/* opendir's own */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return tc_count_dir(path);
}

int
tc_wait_fds(pid_t pid, int want)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		i, n = -1;

	/*
	 * Up to 15 s: thousands of ended leases are closed off the loop,
	 * which on a loaded 2-core machine has taken more than 5 s.
	 */
	for (i = 0; i < 1500; i++) {
		if ((n = tc_count_fds(pid)) == want)
			return n;
		nanosleep(&ts, NULL);
	}
	return n;
}

int
tc_settle_fds(pid_t pid)
{
	struct timespec	ts = { 0, 50 * 1000 * 1000 };
	int		i, n, last = -1, same = 0;

	/*
	 * Steady for 3 s: longer than the daemon keeps idle spares (lease
	 * files of ended leases, closed 1 to 2 s after their last use), so
	 * that they are not counted and then go mid-test.
	 */
	for (i = 0; i < 300 && same < 60; i++) {
		n = tc_count_fds(pid);
		same = n == last ? same + 1 : 0;
		last = n;
		nanosleep(&ts, NULL);
	}
	return last;
}

int
tc_start_measured(struct testd *d, const char *extra_ini,
    struct tc_baseline *b)
{
	b->fds = tc_count_fds(0);
	if (testd_start(d, extra_ini) != 0)
		return -1;
	b->dfds = tc_settle_fds(d->pid);
	return 0;
}

int
tc_stop_measured(struct testd *d, const struct tc_baseline *b)
{
	int	n, rc, fds;

	/* Every connection and lease gone: the daemon is back to baseline. */
	n = tc_wait_fds(d->pid, b->dfds);
	rc = testd_stop(d);
	fds = tc_count_fds(0);
	if (n != b->dfds)
		fprintf(stderr, "daemon fds: %d, baseline %d\n", n, b->dfds);
	if (rc != 0)
		fprintf(stderr, "daemon exit status: %d, want 0\n", rc);
	if (fds != b->fds)
		fprintf(stderr, "test fds: %d, baseline %d\n", fds, b->fds);
	return n == b->dfds && rc == 0 && fds == b->fds ? 0 : -1;
}
