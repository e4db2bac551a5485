/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/socket.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "closer.h"
#include "conn.h"
#include "control.h"
#include "dispatch.h"
#include "holder.h"
#include "lease.h"
#include "log.h"
#include "peer.h"
#include "wire.h"

/* Packets read per wake-up before yielding to other connections. */
#define CONN_READ_BATCH	16
/* Requests between two read-ahead probes (see conn_read_ahead). */
#define CONN_READ_PROBE	8

/* One receive and one send buffer: the daemon is single-threaded. */
static uint8_t	conn_rbuf[PMT_WIRE_MAX_PACKET];
static uint8_t	conn_wbuf[PMT_WIRE_MAX_PACKET];
static uint64_t	conn_next_id = 1;

static void	conn_event(evutil_socket_t, short, void *);

const char *
conn_state_name(enum conn_state s)
{
	switch (s) {
	case CONN_HELLO:	return "hello";
	case CONN_READY:	return "ready";
	case CONN_BLOCKED:	return "blocked";
	case CONN_WAITING:	return "waiting";
	case CONN_CLOSED:	return "closed";
	}
	return "?";
}

/* The only place a connection changes state; it rearms the event to match. */
void
conn_set_state(struct conn *c, enum conn_state s)
{
	short	what;

	if (c->state == s)
		return;
	log_debug("conn %llu: %s -> %s", (unsigned long long)c->id,
	    conn_state_name(c->state), conn_state_name(s));
	if (s == CONN_BLOCKED)
		c->resume = c->state;
	c->state = s;
	if (c->ev == NULL)
		return;
	event_del(c->ev);
	if (s == CONN_CLOSED || s == CONN_WAITING)
		return;
	what = (s == CONN_BLOCKED ? EV_WRITE : EV_READ) | EV_PERSIST;
	event_assign(c->ev, pmtd->base, c->fd, what, conn_event, c);
	event_add(c->ev, NULL);
}

struct conn *
conn_new(int fd, const struct principal *pr)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("conn_new: out of memory");
		close(fd);
		return NULL;
	}
	c->id = conn_next_id++;
	c->fd = fd;
	c->pr = *pr;
	c->state = CONN_HELLO;
	c->pend_fd = -1;
	c->read_ahead = 2;
	c->connected_at = time(NULL);
	TAILQ_INIT(&c->leases);
	c->ev = event_new(pmtd->base, fd, EV_READ | EV_PERSIST, conn_event, c);
	if (c->ev == NULL || event_add(c->ev, NULL) != 0) {
		log_warnx("conn_new: cannot watch the socket");
		if (c->ev != NULL)
			event_free(c->ev);
		close(fd);
		free(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&pmtd->conns, c, entry);
	pmtd->nconns++;
	c->admin_gen = pmtd->conf_gen;
	log_debug("conn %llu: pid %d uid %u gid %u cgroup %s%s",
	    (unsigned long long)c->id, (int)pr->pid, (unsigned)pr->uid,
	    (unsigned)pr->gid, pr->cgroup, pr->admin ? " (admin)" : "");
	/* A process that reconnects gets back what it still holds. */
	holder_give(c);
	return c;
}

static void
conn_free(struct conn *c)
{
	TAILQ_REMOVE(&pmtd->conns, c, entry);
	pmtd->nconns--;
	if (c->ev != NULL)
		event_free(c->ev);
	close(c->fd);
	if (c->pend_fd >= 0)
		close(c->pend_fd);
	free(c->pend_buf);
	free(c->usage);
	peer_clear(&c->pr);
	free(c);
	/* A descriptor came free: accepting may resume after EMFILE. */
	control_resume();
}

/*
 * A closed connection does not end its leases: they go to the holder of
 * its process, and end when that process exits (holder.c).
 */
void
conn_close(struct conn *c, const char *why)
{
	if (c->nleases > 0)
		log_debug("conn %llu: closed (%s), %u leases held for pid %d "
		    "until it exits", (unsigned long long)c->id, why,
		    c->nleases, (int)c->pr.pid);
	else
		log_debug("conn %llu: closed (%s)", (unsigned long long)c->id,
		    why);
	dispatch_refuse_flush(c);
	conn_set_state(c, CONN_CLOSED);
	holder_take(c);
	conn_free(c);
}

/* The daemon stops: leases are forgotten, not revoked; data survives. */
void
conn_close_all(void)
{
	struct conn	*c;
	struct lease	*l;

	while ((c = TAILQ_FIRST(&pmtd->conns)) != NULL) {
		dispatch_refuse_flush(c);
		conn_set_state(c, CONN_CLOSED);
		while ((l = TAILQ_FIRST(&c->leases)) != NULL)
			lease_drop(l, &pmtd->tiers);
		conn_free(c);
	}
	holder_drop_all();
}

unsigned
conn_count_uid(uid_t uid)
{
	struct conn	*c;
	unsigned	 n = 0;

	TAILQ_FOREACH(c, &pmtd->conns, entry)
		if (c->pr.uid == uid)
			n++;
	return n;
}

unsigned
conn_leases_uid(uid_t uid)
{
	struct conn	*c;
	struct holder	*h;
	unsigned	 n = 0;

	TAILQ_FOREACH(c, &pmtd->conns, entry)
		if (c->pr.uid == uid)
			n += c->nleases;
	TAILQ_FOREACH(h, &pmtd->holders, entry)
		if (h->pr.uid == uid)
			n += h->nleases;
	return n;
}

struct conn *
conn_find(uint64_t id)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &pmtd->conns, entry)
		if (c->id == id)
			return c;
	return NULL;
}

/*
 * Packing straight into conn_wbuf: one pass over the message, where
 * get_packed_size() then pack() walk it twice.
 */
struct conn_packer {
	ProtobufCBuffer	 base;
	size_t		 len;
	int		 over;
};

static void
conn_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct conn_packer	*p = (struct conn_packer *)b;

	if (p->over || len > sizeof(conn_wbuf) - p->len) {
		p->over = 1;
		return;
	}
	memcpy(conn_wbuf + p->len, data, len);
	p->len += len;
}

/* Encodes env into conn_wbuf: its length, or -EMSGSIZE. */
static ssize_t
conn_pack(const Pmemtier__Envelope *env)
{
	struct conn_packer	p = { .base = { .append = conn_append } };

	pmemtier__envelope__pack_to_buffer(env, &p.base);
	return p.over ? -EMSGSIZE : (ssize_t)p.len;
}

/* Keeps a reply the peer's socket could not take; stops reading. */
static int
conn_park(struct conn *c, size_t len, int fd)
{
	if ((c->pend_buf = malloc(len)) == NULL)
		return -1;
	memcpy(c->pend_buf, conn_wbuf, len);
	c->pend_len = len;
	c->pend_fd = -1;
	if (fd >= 0 && (c->pend_fd = dup(fd)) < 0) {
		free(c->pend_buf);
		c->pend_buf = NULL;
		return -1;
	}
	conn_set_state(c, CONN_BLOCKED);
	return 0;
}

int
conn_send(struct conn *c, const Pmemtier__Envelope *env, int fd)
{
	ssize_t	len;
	int	rc;

	if (c->dead)
		return -1;
	if (c->state == CONN_BLOCKED) {
		/* Cannot happen: a blocked connection is not read. */
		log_warnx("conn %llu: reply while blocked",
		    (unsigned long long)c->id);
		c->dead = 1;
		return -1;
	}
	if ((len = conn_pack(env)) < 0)
		rc = (int)len;
	else if ((rc = pmt_wire_send_bytes(c->fd, conn_wbuf, (size_t)len, fd,
	    MSG_DONTWAIT)) == 0)
		return 0;
	else if (rc == -EAGAIN && conn_park(c, (size_t)len, fd) == 0)
		return 0;
	log_debug("conn %llu: send %s: %s", (unsigned long long)c->id,
	    pmt_wire_body_name(env), strerror(-rc));
	c->dead = 1;
	return -1;
}

int
conn_error(struct conn *c, uint64_t request_id, int code, const char *fmt, ...)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Error		err = PMEMTIER__ERROR__INIT;
	char			msg[1024];
	va_list			ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	env.version = PMT_WIRE_VERSION;
	env.request_id = request_id;
	env.body_case = PMEMTIER__ENVELOPE__BODY_ERROR;
	env.error = &err;
	err.code = (Pmemtier__ErrorCode)code;
	err.message = msg;
	return conn_send(c, &env, -1);
}

void
conn_query_usage(struct conn *c)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__UsageQuery	q = PMEMTIER__USAGE_QUERY__INIT;
	time_t			now = time(NULL);

	if (c->state != CONN_READY || c->nleases == 0 || c->dead ||
	    now - c->queried_at < 2)
		return;
	c->queried_at = now;
	env.version = PMT_WIRE_VERSION;
	env.body_case = PMEMTIER__ENVELOPE__BODY_USAGE_QUERY;
	env.usage_query = &q;
	/* Unsolicited and optional: never park it. */
	if (pmt_wire_send(c->fd, &env, -1) != 0)
		log_debug("conn %llu: usage query not sent",
		    (unsigned long long)c->id);
}

/* Sends the parked reply; resumes reading once it is out. */
static void
conn_flush(struct conn *c)
{
	int	rc;

	rc = pmt_wire_send_bytes(c->fd, c->pend_buf, c->pend_len, c->pend_fd,
	    MSG_DONTWAIT);
	if (rc == -EAGAIN)
		return;
	free(c->pend_buf);
	c->pend_buf = NULL;
	if (c->pend_fd >= 0)
		close(c->pend_fd);
	c->pend_fd = -1;
	if (rc != 0) {
		conn_close(c, "send failed");
		return;
	}
	conn_set_state(c, c->resume);
}

/*
 * Whether to try another recvmsg after a request, before going back to
 * epoll_wait. When the daemon and a client share a CPU, the reply wakes
 * the client, which runs and sends its next request before the daemon is
 * back: the next recvmsg finds it and saves an epoll_wait. When they run
 * on different CPUs the next request is not there yet and the recvmsg is
 * wasted. Measured with one client (lease_bench cycles, perf stat):
 * always reading ahead costs 7.5 system calls per grant sharing a CPU and
 * 11.0 pinned apart; never reading ahead 9.0 both ways. So each
 * connection keeps a score of how reading ahead paid off (a hit adds one,
 * a miss takes one, between 0 and 3), reads ahead while it is above 0,
 * and probes again every CONN_READ_PROBE requests once it is 0: 7.9 and
 * 9.25.
 */
static int
conn_read_ahead(struct conn *c)
{
	return c->read_ahead > 0 || (++c->read_probe % CONN_READ_PROBE) == 0;
}

static void
conn_read_score(struct conn *c, int hit)
{
	if (hit && c->read_ahead < 3)
		c->read_ahead++;
	else if (!hit && c->read_ahead > 0)
		c->read_ahead--;
}

/* Descriptors a peer sent are never closed on the loop (closer.h). */
static void
conn_drop_fds(struct pmt_wire_packet *pkt)
{
	closer_push(pkt->fds, pkt->nfds);
	pkt->nfds = 0;
}

/* Reads and handles up to CONN_READ_BATCH packets. */
static void
conn_read(struct conn *c)
{
	struct pmt_wire_packet	 pkt;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < CONN_READ_BATCH; i++) {
		if (i > 0 && !conn_read_ahead(c))
			return;
		memset(&pkt, 0, sizeof(pkt));
		pkt.buf = conn_rbuf;
		pkt.cap = sizeof(conn_rbuf);
		n = pmt_wire_recv(c->fd, &pkt, MSG_DONTWAIT);
		if (i > 0)
			conn_read_score(c, n != -EAGAIN);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			conn_drop_fds(&pkt);
			conn_close(c, n == 0 ? "peer closed" : strerror(-n));
			return;
		}
		dispatch_packet(c, &pkt);
		conn_drop_fds(&pkt);
		if (c->dead) {
			conn_close(c, "peer gone");
			return;
		}
		if (c->errors >= CONN_MAX_ERRORS) {
			log_info("conn %llu: pid %d: %u protocol errors, "
			    "dropped", (unsigned long long)c->id,
			    (int)c->pr.pid, c->errors);
			conn_close(c, "too many errors");
			return;
		}
		if (c->state != CONN_HELLO && c->state != CONN_READY)
			return;
	}
}

/* libevent callback: only a trampoline into the state machine. */
static void
conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	switch (c->state) {
	case CONN_HELLO:
	case CONN_READY:
		conn_read(c);
		break;
	case CONN_BLOCKED:
		conn_flush(c);
		break;
	case CONN_WAITING:
	case CONN_CLOSED:
		break;
	}
}
