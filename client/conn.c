/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client side of the pmemtier protocol. Every exchange is synchronous and
 * serialized by conn_lock; unsolicited packets (a UsageQuery) that arrive
 * meanwhile are noted and answered at the next safe point, since the
 * report needs jemalloc statistics that cannot be read from inside an
 * extent hook, where lease requests are made.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "debug.h"
#include "wire.h"

/* A daemon that stops answering must not hang the application forever. */
#define CONN_TIMEOUT_SEC	30

/*
 * Nothing here is allocated with malloc while conn_lock is held: requests
 * come from jemalloc's extent hooks (leases, commits, releases and the
 * reconnect after a daemon restart), and a malloc there can deadlock a
 * fork() in another thread (jemalloc's fork handler holds arena 0's
 * mutexes, which that malloc waits for, and waits for the hook's arena).
 * The packet buffer is static; the tier table and what does not fit the
 * zone below are mmap()ed.
 */
struct conn {
	int		 fd;
	unsigned	 refs;
	bool		 broken;
	uint64_t	 next_id;
	struct pmt_tier	*tiers;		/* mmap()ed, tiers_len bytes */
	size_t		 tiers_len;
	size_t		 ntiers;
};

static pthread_mutex_t	conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn	conn = { .fd = -1 };
static int		conn_report_wanted;
static _Alignas(16) uint8_t conn_buf[PMT_WIRE_MAX_PACKET];

/*
 * Every reply is decoded here (see above): a static buffer, then mmap()ed
 * chunks for a reply that outgrows it (a Welcome listing many tiers).
 * Used under conn_lock; every decode starts it afresh (conn_zone_reset),
 * so a reply is never freed and dies with the next call.
 */
struct zone_chunk {
	struct zone_chunk	*next;
	size_t			 size;
	size_t			 used;
};

#define ZONE_CHUNK_MIN	(1024 * 1024)
#define ZONE_HDR	((sizeof(struct zone_chunk) + 15) & ~(size_t)15)

static _Alignas(16) uint8_t	conn_zone_buf[32768];
static size_t			conn_zone_used;
static struct zone_chunk	*conn_zone_more;

static void *
conn_zone_alloc(void *arg, size_t size)
{
	struct zone_chunk	*c = conn_zone_more;
	size_t			 len;
	void			*p;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + 15) & ~(size_t)15;
	if (size <= sizeof(conn_zone_buf) - conn_zone_used) {
		p = conn_zone_buf + conn_zone_used;
		conn_zone_used += size;
		return p;
	}
	if (c == NULL || size > c->size - c->used) {
		len = size + ZONE_HDR < ZONE_CHUNK_MIN ? ZONE_CHUNK_MIN :
		    (size + ZONE_HDR + 4095) & ~(size_t)4095;
		c = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (c == MAP_FAILED)
			return NULL;
		c->next = conn_zone_more;
		c->size = len;
		c->used = ZONE_HDR;
		conn_zone_more = c;
	}
	p = (uint8_t *)c + c->used;
	c->used += size;
	return p;
}

static void
conn_zone_free(void *arg, void *p)
{
}

static void
conn_zone_reset(void)
{
	struct zone_chunk	*c, *next;

	conn_zone_used = 0;
	for (c = conn_zone_more; c != NULL; c = next) {
		next = c->next;
		munmap(c, c->size);
	}
	conn_zone_more = NULL;
}

static ProtobufCAllocator	conn_zone = {
	.alloc = conn_zone_alloc,
	.free = conn_zone_free,
};

const char *
pmt_conn_socket_path(void)
{
	const char *p = getenv("PMEMTIER_SOCKET");

	return p != NULL && *p != '\0' ? p : PMEMTIER_DEFAULT_SOCKET;
}

static void
conn_drop(void)
{
	if (conn.fd >= 0)
		close(conn.fd);
	conn.fd = -1;
	conn.broken = false;
	if (conn.tiers != NULL)
		munmap(conn.tiers, conn.tiers_len);
	conn.tiers = NULL;
	conn.tiers_len = 0;
	conn.ntiers = 0;
}

/* Forgets the socket but keeps the references of the kinds using it. */
static void
conn_close_socket(void)
{
	unsigned	refs = conn.refs;

	conn_drop();
	conn.refs = refs;
}

static void
conn_copy_tier(struct pmt_tier *t, const Pmemtier__TierInfo *ti)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", ti->name ? ti->name : "");
	snprintf(t->backend, sizeof(t->backend), "%s",
	    ti->backend ? ti->backend : "");
	t->st_dev = ti->st_dev;
	t->capacity = ti->capacity;
	t->free = ti->free;
	t->quota = ti->quota;
	t->quota_limited = ti->quota_limited;
	t->is_default = ti->is_default;
	t->dax = ti->dax;
	t->numa_node = ti->numa_node;
}

static int
conn_set_tiers(Pmemtier__TierInfo **ti, size_t n)
{
	struct pmt_tier	*t;
	size_t		 i, len;

	if (n > SIZE_MAX / sizeof(*t) / 2)
		return -ENOMEM;
	len = ((n ? n : 1) * sizeof(*t) + 4095) & ~(size_t)4095;
	t = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		conn_copy_tier(&t[i], ti[i]);
	if (conn.tiers != NULL)
		munmap(conn.tiers, conn.tiers_len);
	conn.tiers = t;
	conn.tiers_len = len;
	conn.ntiers = n;
	return 0;
}

/* Handles a packet nobody waits for; returns it freed. */
static void
conn_unsolicited(Pmemtier__Envelope *env)
{
	if (env->body_case == PMEMTIER__ENVELOPE__BODY_USAGE_QUERY)
		__atomic_store_n(&conn_report_wanted, 1, __ATOMIC_RELAXED);
	else
		pmt_debug("conn: ignoring unsolicited %s",
		    pmt_wire_body_name(env));
}

/*
 * Sends req and waits for the reply with the same request id. On success
 * *reply is the decoded envelope, in conn_zone until the next call, and
 * *fd the descriptor that came with it, or -1. An unsolicited Error
 * (request id 0) is the
 * daemon's last word before it closes the connection (it refused this
 * process at accept): it is returned as the reply.
 */
static int
conn_call(Pmemtier__Envelope *req, Pmemtier__Envelope **reply, int *fd)
{
	struct pmt_wire_packet	 pkt;
	Pmemtier__Envelope	*env;
	ssize_t			 n;
	int			 rc;

	if (conn.fd < 0 || conn.broken)
		return -EIO;
	req->version = PMT_WIRE_VERSION;
	req->request_id = ++conn.next_id;
	if ((rc = pmt_wire_send(conn.fd, req, -1)) != 0) {
		pmt_debug("conn: send %s: %s", pmt_wire_body_name(req),
		    strerror(-rc));
		conn.broken = true;
		/* Closed by the daemon: it may have said why first. */
		if (rc != -EPIPE && rc != -ECONNRESET)
			return -EIO;
	}
	for (;;) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.buf = conn_buf;
		pkt.cap = sizeof(conn_buf);
		n = pmt_wire_recv(conn.fd, &pkt, 0);
		if (n <= 0) {
			pmt_debug("conn: receive: %s",
			    n == 0 ? "daemon closed the connection" :
			    strerror((int)-n));
			conn.broken = true;
			return -EIO;
		}
		conn_zone_reset();
		if ((env = pmt_wire_decode(&pkt, &conn_zone)) == NULL) {
			pmt_wire_close_fds(&pkt);
			conn.broken = true;
			return -EPROTO;
		}
		if (env->request_id == req->request_id)
			break;
		if (env->request_id == 0 &&
		    env->body_case == PMEMTIER__ENVELOPE__BODY_ERROR) {
			conn.broken = true;
			break;
		}
		if (conn.broken) {
			pmt_wire_close_fds(&pkt);
			return -EIO;
		}
		pmt_wire_close_fds(&pkt);
		if (env->request_id == 0)
			conn_unsolicited(env);
	}
	/* Only a grant may carry a descriptor, and only one. */
	*fd = -1;
	if (pkt.nfds == 1 &&
	    env->body_case == PMEMTIER__ENVELOPE__BODY_LEASE_GRANT) {
		*fd = pkt.fds[0];
		pkt.nfds = 0;
	}
	pmt_wire_close_fds(&pkt);
	*reply = env;
	return 0;
}

static int
conn_error(const Pmemtier__Envelope *env, const char *what)
{
	const Pmemtier__Error	*e;

	if (env->body_case != PMEMTIER__ENVELOPE__BODY_ERROR)
		return -EPROTO;
	e = env->error;
	pmt_debug("conn: %s refused: %s: %s", what,
	    pmt_wire_error_name(e->code), e->message ? e->message : "");
	switch (e->code) {
	case PMEMTIER__ERROR_CODE__ERROR_QUOTA:
	case PMEMTIER__ERROR_CODE__ERROR_NO_SPACE:
	case PMEMTIER__ERROR_CODE__ERROR_LIMIT:
		return -ENOMEM;
	case PMEMTIER__ERROR_CODE__ERROR_UNKNOWN_TIER:
		return -ENOENT;
	case PMEMTIER__ERROR_CODE__ERROR_DENIED:
	case PMEMTIER__ERROR_CODE__ERROR_UNIDENTIFIED:
		return -EACCES;
	case PMEMTIER__ERROR_CODE__ERROR_INVALID_ARGUMENT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int
conn_open(void)
{
	Pmemtier__Envelope	 req = PMEMTIER__ENVELOPE__INIT, *rep;
	Pmemtier__Hello		 hello = PMEMTIER__HELLO__INIT;
	struct sockaddr_un	 sun;
	struct timeval		 tv = { .tv_sec = CONN_TIMEOUT_SEC };
	const char		*path = pmt_conn_socket_path();
	int			 fd, rfd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = -errno;
		close(fd);
		pmt_debug("conn: connect %s: %s", path, strerror(-rc));
		return rc;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	conn.fd = fd;
	conn.broken = false;
	hello.min_version = PMT_WIRE_VERSION;
	hello.max_version = PMT_WIRE_VERSION;
	hello.client_name = (char *)"libpmemtier " PMEMTIER_VERSION;
	req.body_case = PMEMTIER__ENVELOPE__BODY_HELLO;
	req.hello = &hello;
	if ((rc = conn_call(&req, &rep, &rfd)) != 0) {
		conn_drop();
		return rc;
	}
	if (rep->body_case == PMEMTIER__ENVELOPE__BODY_ERROR)
		rc = conn_error(rep, "hello");	/* EACCES: unidentified */
	else if (rep->body_case != PMEMTIER__ENVELOPE__BODY_WELCOME)
		rc = -EPROTO;
	else
		rc = conn_set_tiers(rep->welcome->tiers,
		    rep->welcome->n_tiers);
	if (rc != 0) {
		conn_drop();
		return rc;
	}
	pmt_debug("conn: connected to %s, %zu tier(s)", path, conn.ntiers);
	return 0;
}

/*
 * conn_call on the process's connection, conn_lock held. A connection the
 * daemon closed (it restarted or died) is dropped and, if may_open, a new
 * one opened: a restarted daemon re-adopted this process's leases, with
 * their ids, and hands them to the new connection. Where the call itself
 * finds the old connection dead, it is made once more on a new one: each
 * request here means the same when it is repeated (a grant the old daemon
 * made but never sent is freed once it sees nobody holds it).
 */
static int
conn_call_reconnect(Pmemtier__Envelope *req, Pmemtier__Envelope **reply,
    int *fd, bool may_open)
{
	bool	was_open;
	int	rc;

	if (conn.fd >= 0 && conn.broken)
		conn_close_socket();
	was_open = conn.fd >= 0;
	rc = was_open ? 0 : may_open ? conn_open() : -ENOTCONN;
	if (rc == 0)
		rc = conn_call(req, reply, fd);
	if (rc == -EIO && was_open && conn.broken) {
		pmt_debug("conn: the daemon closed the connection; "
		    "reconnecting");
		conn_close_socket();
		rc = may_open ? conn_open() : -ENOTCONN;
		if (rc == 0)
			rc = conn_call(req, reply, fd);
	}
	return rc;
}

int
pmt_conn_get(void)
{
	int	rc = 0;

	pthread_mutex_lock(&conn_lock);
	/*
	 * The daemon went away (restart, crash): the next one re-adopts the
	 * leases this process holds, with their ids, and gives them to the
	 * new connection. New kinds, and growth of old ones, use it.
	 */
	if (conn.fd >= 0 && conn.broken)
		conn_close_socket();
	if (conn.fd < 0)
		rc = conn_open();
	if (rc == 0)
		conn.refs++;
	pthread_mutex_unlock(&conn_lock);
	return rc;
}

int
pmt_conn_get_open(void)
{
	int	rc = -ENOTCONN;

	pthread_mutex_lock(&conn_lock);
	if (conn.fd >= 0 && !conn.broken) {
		conn.refs++;
		rc = 0;
	}
	pthread_mutex_unlock(&conn_lock);
	return rc;
}

void
pmt_conn_put(void)
{
	pthread_mutex_lock(&conn_lock);
	if (conn.refs > 0 && --conn.refs == 0) {
		conn_drop();
		pmt_debug("conn: closed");
	}
	pthread_mutex_unlock(&conn_lock);
}

static int
conn_find_tier(bool (*match)(const struct pmt_tier *, const void *),
    const void *arg, struct pmt_tier *out)
{
	size_t	i;
	int	rc = -ENOENT;

	pthread_mutex_lock(&conn_lock);
	for (i = 0; i < conn.ntiers; i++)
		if (match(&conn.tiers[i], arg)) {
			*out = conn.tiers[i];
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&conn_lock);
	return rc;
}

static bool
conn_match_dev(const struct pmt_tier *t, const void *arg)
{
	return (strcmp(t->backend, "file") == 0 ||
	    strcmp(t->backend, "fsdax") == 0) &&
	    t->st_dev == *(const uint64_t *)arg;
}

static bool
conn_match_default(const struct pmt_tier *t, const void *arg)
{
	return t->is_default;
}

static bool
conn_match_backend(const struct pmt_tier *t, const void *arg)
{
	return strcmp(t->backend, arg) == 0;
}

static bool
conn_match_name(const struct pmt_tier *t, const void *arg)
{
	return strcmp(t->name, arg) == 0;
}

int
pmt_conn_tier_for_dir(const char *dir, struct pmt_tier *out)
{
	struct stat	st;
	uint64_t	dev;

	if (dir != NULL && stat(dir, &st) == 0) {
		dev = (uint64_t)st.st_dev;
		if (conn_find_tier(conn_match_dev, &dev, out) == 0)
			return 0;
	}
	return conn_find_tier(conn_match_default, NULL, out);
}

int
pmt_conn_tier_by_backend(const char *backend, struct pmt_tier *out)
{
	return conn_find_tier(conn_match_backend, backend, out);
}

int
pmt_conn_tier_by_name(const char *name, struct pmt_tier *out)
{
	return conn_find_tier(conn_match_name, name, out);
}

/* Releases lease id; conn_lock held. The reply is in conn_zone. */
static int
conn_release_locked(uint64_t id, bool may_open)
{
	Pmemtier__Envelope	 req = PMEMTIER__ENVELOPE__INIT, *rep;
	Pmemtier__LeaseRelease	 rel = PMEMTIER__LEASE_RELEASE__INIT;
	int			 rc, rfd;

	rel.lease_id = id;
	req.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_RELEASE;
	req.lease_release = &rel;
	if ((rc = conn_call_reconnect(&req, &rep, &rfd, may_open)) != 0)
		return rc;
	if (rep->body_case != PMEMTIER__ENVELOPE__BODY_LEASE_RELEASED)
		rc = conn_error(rep, "release");
	return rc;
}

/* Called from the extent hooks: no malloc on the way (see conn_zone). */
int
pmt_conn_lease(const char *tier, size_t size, size_t commit,
    const char *label, uint64_t *id, int *fd, size_t *granted,
    size_t *budget)
{
	Pmemtier__Envelope	 req = PMEMTIER__ENVELOPE__INIT, *rep;
	Pmemtier__LeaseRequest	 lr = PMEMTIER__LEASE_REQUEST__INIT;
	uint64_t		 unused;
	int			 rc, rfd = -1;

	lr.tier = (char *)tier;
	lr.size = size;
	lr.commit = commit;
	lr.label = (char *)label;
	req.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	req.lease_request = &lr;
	pthread_mutex_lock(&conn_lock);
	/* Growth after a daemon restart: lease from the new daemon. */
	rc = conn_call_reconnect(&req, &rep, &rfd, true);
	if (rc != 0) {
		pthread_mutex_unlock(&conn_lock);
		return rc;
	}
	if (rep->body_case != PMEMTIER__ENVELOPE__BODY_LEASE_GRANT)
		rc = conn_error(rep, "lease");
	else if (rfd < 0 || rep->lease_grant->size < size)
		rc = -EPROTO;
	if (rc == 0) {
		*id = rep->lease_grant->lease_id;
		*granted = rep->lease_grant->size;
		/* 0 from a daemon without commit budgets: all of it. */
		*budget = rep->lease_grant->commit != 0 &&
		    rep->lease_grant->commit < *granted ?
		    rep->lease_grant->commit : *granted;
		*fd = rfd;
		rfd = -1;
		pmt_debug("conn: lease %llu: %zu bytes on %s, %zu committed",
		    (unsigned long long)*id, *granted, rep->lease_grant->tier,
		    *budget);
	} else if (rc == -EPROTO &&
	    rep->body_case == PMEMTIER__ENVELOPE__BODY_LEASE_GRANT) {
		/* A grant we cannot use still holds space: give it back. */
		unused = rep->lease_grant->lease_id;
		(void)conn_release_locked(unused, false);
	}
	pthread_mutex_unlock(&conn_lock);
	if (rfd >= 0)
		close(rfd);
	return rc;
}

/*
 * Called from the extent hooks: no malloc on the way (see conn_zone),
 * except to reconnect. A daemon that restarted re-adopted this process's
 * leases (same ids) and hands them to its next connection, so a release
 * goes to the new daemon; one that is still down frees the lease anyway
 * once it sees this process no longer holds it.
 */
int
pmt_conn_release(uint64_t id)
{
	int	rc;

	pthread_mutex_lock(&conn_lock);
	/* No kind holds a reference: nothing to reconnect for. */
	rc = conn_release_locked(id, conn.refs > 0);
	pthread_mutex_unlock(&conn_lock);
	return rc;
}

/* Called from the extent hooks: no malloc on the way (see conn_zone). */
int
pmt_conn_commit(uint64_t id, size_t bytes, size_t *budget)
{
	Pmemtier__Envelope	 req = PMEMTIER__ENVELOPE__INIT, *rep;
	Pmemtier__LeaseCommit	 lc = PMEMTIER__LEASE_COMMIT__INIT;
	int			 rc, rfd = -1;

	lc.lease_id = id;
	lc.bytes = bytes;
	req.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_COMMIT;
	req.lease_commit = &lc;
	pthread_mutex_lock(&conn_lock);
	/* After a daemon restart the lease is the new daemon's. */
	rc = conn_call_reconnect(&req, &rep, &rfd, conn.refs > 0);
	if (rc == 0) {
		if (rep->body_case == PMEMTIER__ENVELOPE__BODY_LEASE_COMMITTED)
			*budget = rep->lease_committed->bytes;
		else if (rep->body_case == PMEMTIER__ENVELOPE__BODY_ERROR &&
		    rep->error->code ==
		    PMEMTIER__ERROR_CODE__ERROR_UNSUPPORTED)
			rc = -EOPNOTSUPP;	/* a daemon from before budgets */
		else
			rc = conn_error(rep, "commit");
	}
	pthread_mutex_unlock(&conn_lock);
	if (rfd >= 0)
		close(rfd);
	return rc;
}

int
pmt_conn_report(const struct pmt_usage *usage, size_t n)
{
	Pmemtier__Envelope	  req = PMEMTIER__ENVELOPE__INIT, *rep;
	Pmemtier__UsageReport	  ur = PMEMTIER__USAGE_REPORT__INIT;
	Pmemtier__KindUsage	 *ku, **kp;
	size_t			  i;
	int			  rc, rfd;

	ku = calloc(n ? n : 1, sizeof(*ku));
	kp = calloc(n ? n : 1, sizeof(*kp));
	if (ku == NULL || kp == NULL) {
		free(ku);
		free(kp);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		pmemtier__kind_usage__init(&ku[i]);
		ku[i].kind = (char *)usage[i].kind;
		ku[i].tier = (char *)usage[i].tier;
		ku[i].allocated = usage[i].allocated;
		ku[i].active = usage[i].active;
		ku[i].resident = usage[i].resident;
		ku[i].mapped = usage[i].mapped;
		ku[i].refused = usage[i].refused;
		kp[i] = &ku[i];
	}
	ur.n_kinds = n;
	ur.kinds = kp;
	req.body_case = PMEMTIER__ENVELOPE__BODY_USAGE_REPORT;
	req.usage_report = &ur;
	/*
	 * The reply is decoded into the static zone, and read before the
	 * lock goes: no malloc while conn_lock is held. A thread in an
	 * extent hook holds its arena's lock and waits for conn_lock; were
	 * this thread to wait in malloc for an arena lock that jemalloc's
	 * fork handler already took, fork() would wait for the hook's arena
	 * forever (seen in client_daemon's test_fork_while_threads_lease).
	 */
	pthread_mutex_lock(&conn_lock);
	__atomic_store_n(&conn_report_wanted, 0, __ATOMIC_RELAXED);
	rc = conn_call(&req, &rep, &rfd);
	if (rc == 0 && rep->body_case != PMEMTIER__ENVELOPE__BODY_ACK)
		rc = conn_error(rep, "usage report");
	pthread_mutex_unlock(&conn_lock);
	free(ku);
	free(kp);
	return rc;
}

bool
pmt_conn_report_wanted(void)
{
	return __atomic_load_n(&conn_report_wanted, __ATOMIC_RELAXED) != 0;
}

void
pmt_conn_poll(void)
{
	struct pmt_wire_packet	 pkt;
	Pmemtier__Envelope	*env;
	ssize_t			 n;

	pthread_mutex_lock(&conn_lock);
	while (conn.fd >= 0 && !conn.broken) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.buf = conn_buf;
		pkt.cap = sizeof(conn_buf);
		n = pmt_wire_recv(conn.fd, &pkt, MSG_DONTWAIT);
		if (n == 0)
			conn.broken = true;
		if (n <= 0)
			break;
		pmt_wire_close_fds(&pkt);
		conn_zone_reset();
		if ((env = pmt_wire_decode(&pkt, &conn_zone)) == NULL)
			break;
		conn_unsolicited(env);
	}
	pthread_mutex_unlock(&conn_lock);
}

/*
 * conn_lock is not held across fork(): jemalloc's fork handler runs after
 * ours and waits for arena mutexes, which a thread in an extent hook holds
 * while it waits for conn_lock to lease or release. Holding it here
 * deadlocked; the child sorts the state out instead.
 */
void
pmt_conn_atfork_prepare(void)
{
}

void
pmt_conn_atfork_parent(void)
{
}

void
pmt_conn_atfork_child(void)
{
	/*
	 * Only this thread exists now. If conn_lock was free at the fork the
	 * state is whole; if a thread that is gone held it, the state may be
	 * half-changed: forget it, leaking its memory rather than freeing a
	 * pointer twice. close() sends nothing on a socket the parent still
	 * holds open.
	 */
	if (pthread_mutex_trylock(&conn_lock) == 0)
		conn_drop();
	else {
		if (conn.fd >= 0)
			close(conn.fd);
		conn.fd = -1;
		conn.broken = false;
		conn.tiers = NULL;
		conn.tiers_len = 0;
		conn.ntiers = 0;
		conn_zone_used = 0;
		conn_zone_more = NULL;
		pthread_mutex_init(&conn_lock, NULL);
		pthread_mutex_lock(&conn_lock);
	}
	conn.refs = 0;
	__atomic_store_n(&conn_report_wanted, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&conn_lock);
}
