/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tierctl's connection to pmemtierd: connect, Hello, then one request and
 * one reply at a time. Failures end the program here, with the exit status
 * that tierctl(8) documents, so that commands only handle success.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "tierctl.h"

/* A daemon that accepts but never answers must not hang a script. */
#define CONN_TIMEOUT_SEC	10

/* What to check, by the connect() error, for the "not reachable" message. */
static const char *
conn_hint(int error)
{
	switch (error) {
	case ENOENT:
		return "is pmemtierd running? (systemctl status "
		    "pmemtierd.socket pmemtierd.service; or give -s or "
		    "PMEMTIER_SOCKET)";
	case ECONNREFUSED:
		return "the socket exists but nobody listens: pmemtierd has "
		    "exited; restart it";
	case EACCES:
	case EPERM:
		return "no access to the socket: run as root or as a member "
		    "of the socket's group (pmemtier)";
	case ENOTSOCK:
	case EPROTOTYPE:
		return "the path is not pmemtierd's seqpacket socket";
	default:
		return "check that pmemtierd is running";
	}
}

static void __attribute__((noreturn))
conn_unreachable(const struct tierctl_conn *c, int error, const char *what)
{
	errno = error;
	warn("cannot reach pmemtierd at %s: %s", c->path, what);
	fprintf(stderr, "tierctl: %s\n", conn_hint(error));
	exit(TIERCTL_EXIT_UNREACHABLE);
}

static void
conn_send(struct tierctl_conn *c, Pmemtier__Envelope *env, const char *what)
{
	int	rc;

	env->version = PMT_WIRE_VERSION;
	env->request_id = ++c->next_id;
	if ((rc = pmt_wire_send(c->fd, env, -1)) < 0) {
		if (rc == -EMSGSIZE)
			errx(TIERCTL_EXIT_USAGE, "%s: request too large", what);
		conn_unreachable(c, -rc, "send");
	}
}

/* Returns the reply to request `id`, skipping unsolicited packets. */
static Pmemtier__Envelope *
conn_recv(struct tierctl_conn *c, uint64_t id, const char *what)
{
	struct pmt_wire_packet	 pkt;
	Pmemtier__Envelope	*env;
	ssize_t			 n;

	for (;;) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.buf = c->buf;
		pkt.cap = sizeof(c->buf);
		n = pmt_wire_recv(c->fd, &pkt, 0);
		if (n == 0) {
			warnx("%s: pmemtierd at %s closed the connection",
			    what, c->path);
			exit(TIERCTL_EXIT_UNREACHABLE);
		}
		if (n < 0) {
			if (n == -EAGAIN || n == -EWOULDBLOCK)
				conn_unreachable(c, ETIMEDOUT, "no reply");
			conn_unreachable(c, (int)-n, "receive");
		}
		/* tierctl takes no leases: any descriptor is a stray. */
		pmt_wire_close_fds(&pkt);
		if ((env = pmt_wire_decode(&pkt, NULL)) == NULL)
			errx(TIERCTL_EXIT_DAEMON, "%s: malformed reply from "
			    "pmemtierd (%zu bytes)", what, pkt.len);
		if (env->request_id == id)
			return env;
		/* Unsolicited (UsageQuery) or stale: not ours to answer. */
		pmemtier__envelope__free_unpacked(env, NULL);
	}
}

Pmemtier__Envelope *
conn_request(struct tierctl_conn *c, Pmemtier__Envelope *req,
    Pmemtier__Envelope__BodyCase expect, const char *what)
{
	Pmemtier__Envelope	*rep;

	conn_send(c, req, what);
	rep = conn_recv(c, c->next_id, what);
	if (rep->body_case == PMEMTIER__ENVELOPE__BODY_ERROR) {
		const Pmemtier__Error *e = rep->error;

		/*
		 * The code's name is printed too: scripts (and the tests)
		 * tell "denied" from "unsupported" by it.
		 */
		errx(TIERCTL_EXIT_DAEMON, "%s: %s (%s)", what,
		    e->message != NULL && e->message[0] != '\0' ?
		    e->message : "request failed",
		    pmt_wire_error_name(e->code));
	}
	if (rep->body_case != expect)
		errx(TIERCTL_EXIT_DAEMON, "%s: unexpected reply %s from "
		    "pmemtierd", what, pmt_wire_body_name(rep));
	return rep;
}

struct tierctl_conn *
conn_open(const char *path)
{
	struct tierctl_conn	*c;
	struct sockaddr_un	 sun;
	struct timeval		 tv = { .tv_sec = CONN_TIMEOUT_SEC };
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Hello		 hello = PMEMTIER__HELLO__INIT;

	/* The receive buffer is 64 KiB: not for the stack. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		err(TIERCTL_EXIT_DAEMON, "out of memory");
	c->path = path;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		errx(TIERCTL_EXIT_USAGE, "socket path too long: %s", path);
	strcpy(sun.sun_path, path);

	if ((c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		err(TIERCTL_EXIT_DAEMON, "socket");
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		err(TIERCTL_EXIT_DAEMON, "setsockopt");
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		conn_unreachable(c, errno, "connect");

	hello.min_version = PMT_WIRE_VERSION;
	hello.max_version = PMT_WIRE_VERSION;
	hello.client_name = "tierctl " PMEMTIER_VERSION;
	env.body_case = PMEMTIER__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	c->welcome = conn_request(c, &env, PMEMTIER__ENVELOPE__BODY_WELCOME,
	    "hello");
	return c;
}

void
conn_close(struct tierctl_conn *c)
{
	if (c->welcome != NULL)
		pmemtier__envelope__free_unpacked(c->welcome, NULL);
	c->welcome = NULL;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
