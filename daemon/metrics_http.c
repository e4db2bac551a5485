/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Serving the metrics over HTTP ([metrics] listen, socket, or sockets
 * passed in by pmemtierd-metrics.socket): libevent's
 * evhttp on the daemon's own loop. A scrape renders from memory (no file
 * is touched, see metrics.h) and evhttp writes the reply as the peer
 * reads it, so a slow or stuck scraper never holds up a lease request.
 *
 * Every connection is a descriptor, and the lease path needs descriptors
 * (one per lease). evhttp in libevent 2.1 neither caps connections nor
 * says when one closes, so accepting is paced instead: at most
 * METRICS_HTTP_ACCEPTS connections per METRICS_HTTP_TIMEOUT seconds (a
 * Prometheus keeps one open), after which the listeners pause until the
 * window ends. Idle connections are dropped after the same timeout.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netdb.h>
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "activation.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

/* An idle or slow scraper is dropped after this many seconds. */
#define METRICS_HTTP_TIMEOUT	10
/* Connections accepted per METRICS_HTTP_TIMEOUT before pausing. */
#define METRICS_HTTP_ACCEPTS	64
/*
 * A text is reused for this long: a peer looping on GET over one kept-
 * alive connection makes the loop render at most 10 times a second per
 * format, not once per request.
 */
#define METRICS_HTTP_REUSE_MS	100

static struct {
	struct evhttp		*http;
	struct metrics_conf	 conf;		/* as at start */
	int			 unix_fd;
	/* unix, tcp, then the sockets passed in (activation.h) */
	struct evconnlistener	*lev[2 + ACTIVATION_METRICS_MAX];
	struct event		*window;	/* ends a pacing window */
	unsigned		 accepted;	/* in this window */
	int			 paused;
	struct evbuffer		*text[2];	/* by enum metrics_format */
	uint64_t		 text_ms[2];	/* when rendered */
} mh = { .unix_fd = -1 };

/* The text in format f, rendered now or less than REUSE_MS ago. */
static struct evbuffer *
metrics_http_text(enum metrics_format f)
{
	uint64_t	now = pmtd_monotonic_ms();

	if (mh.text[f] != NULL && now - mh.text_ms[f] < METRICS_HTTP_REUSE_MS)
		return mh.text[f];
	if (mh.text[f] == NULL && (mh.text[f] = evbuffer_new()) == NULL)
		return NULL;
	evbuffer_drain(mh.text[f], evbuffer_get_length(mh.text[f]));
	if (metrics_render(mh.text[f], f, mh.conf.buckets,
	    METRICS_BUCKETS_MAX) != 0) {
		evbuffer_free(mh.text[f]);
		mh.text[f] = NULL;
		return NULL;
	}
	mh.text_ms[f] = now;
	return mh.text[f];
}

static void
metrics_http_listeners(int on)
{
	size_t	i;

	for (i = 0; i < sizeof(mh.lev) / sizeof(mh.lev[0]); i++)
		if (mh.lev[i] != NULL)
			(void)(on ? evconnlistener_enable(mh.lev[i]) :
			    evconnlistener_disable(mh.lev[i]));
	mh.paused = !on;
}

/* evhttp makes each accepted connection's bufferevent here: count it. */
static struct bufferevent *
metrics_http_bev(struct event_base *base, void *arg)
{
	if (++mh.accepted >= METRICS_HTTP_ACCEPTS && !mh.paused) {
		log_warnx("metrics_http: %u connections within %d s: not "
		    "accepting more until the next window", mh.accepted,
		    METRICS_HTTP_TIMEOUT);
		metrics_http_listeners(0);
	}
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void
metrics_http_window(evutil_socket_t fd, short what, void *arg)
{
	mh.accepted = 0;
	if (mh.paused)
		metrics_http_listeners(1);
}

static void
metrics_http_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ?
				    evhttp_uri_get_path(uri) : NULL;
	struct evbuffer		*b = NULL, *text;
	enum metrics_format	 f;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "Only /metrics is here");
		return;
	}
	f = metrics_negotiate(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept"));
	/* evhttp takes the reply's bytes out of b: hand it a copy. */
	if ((text = metrics_http_text(f)) == NULL ||
	    (b = evbuffer_new()) == NULL ||
	    evbuffer_add(b, evbuffer_pullup(text, -1),
	    evbuffer_get_length(text)) != 0) {
		log_warnx("metrics_http: out of memory for a scrape");
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		if (b != NULL)
			evbuffer_free(b);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", metrics_content_type(f));
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* Removes a stale socket file; fatal when a live server answers on it. */
static void
metrics_http_stale(const struct sockaddr_un *sun)
{
	struct stat	st;
	int		fd;

	if (lstat(sun->sun_path, &st) != 0) {
		if (errno == ENOENT)
			return;
		fatal("metrics_http: stat %s", sun->sun_path);
	}
	if (!S_ISSOCK(st.st_mode))
		fatalx("metrics_http: [metrics] socket %s exists and is not a "
		    "socket; remove it or choose another path", sun->sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("metrics_http: socket");
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		fatalx("metrics_http: another server answers on [metrics] "
		    "socket %s", sun->sun_path);
	close(fd);
	if (unlink(sun->sun_path) != 0 && errno != ENOENT)
		fatal("metrics_http: unlink %s", sun->sun_path);
}

static void
metrics_http_unix(const struct metrics_conf *mc)
{
	struct sockaddr_un	 sun;
	struct evhttp_bound_socket *bound;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(mc->socket) >= sizeof(sun.sun_path))
		fatalx("metrics_http: [metrics] socket %s: path too long",
		    mc->socket);
	memcpy(sun.sun_path, mc->socket, strlen(mc->socket));
	metrics_http_stale(&sun);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("metrics_http: socket");
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fatal("metrics_http: bind [metrics] socket %s", mc->socket);
	umask(old);
	if (chmod(mc->socket, mc->socket_mode) != 0)
		fatal("metrics_http: chmod %s", mc->socket);
	if (mc->socket_group[0] != '\0') {
		struct group	*gr = getgrnam(mc->socket_group);

		if (gr == NULL)
			fatalx("metrics_http: [metrics] socket_group %s: no "
			    "such group", mc->socket_group);
		if (chown(mc->socket, (uid_t)-1, gr->gr_gid) != 0)
			fatal("metrics_http: chown %s to group %s",
			    mc->socket, mc->socket_group);
	}
	if (listen(fd, 16) != 0)
		fatal("metrics_http: listen %s", mc->socket);
	if ((bound = evhttp_accept_socket_with_handle(mh.http, fd)) == NULL)
		fatalx("metrics_http: cannot serve on %s", mc->socket);
	mh.lev[0] = evhttp_bound_socket_get_listener(bound);
	mh.unix_fd = fd;
	log_info("metrics_http: serving /metrics on %s", mc->socket);
}

static void
metrics_http_tcp(const struct metrics_conf *mc)
{
	struct evhttp_bound_socket *bound;
	char		 host[64];
	unsigned	 port;

	if (config_listen_split(mc->listen, host, sizeof(host), &port) != 0)
		fatalx("metrics_http: [metrics] listen %s: not an address "
		    "and port", mc->listen);
	errno = 0;
	if ((bound = evhttp_bind_socket_with_handle(mh.http, host,
	    (ev_uint16_t)port)) == NULL)
		fatalx("metrics_http: cannot listen on [metrics] listen %s%s%s "
		    "(in use, or not an address of this host?)", mc->listen,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
	mh.lev[1] = evhttp_bound_socket_get_listener(bound);
	log_info("metrics_http: serving /metrics on http://%s/metrics",
	    mc->listen);
}

/* Serves on the listening sockets systemd passed (pmemtierd-metrics.socket). */
static void
metrics_http_passed(const int *fds, size_t n)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 where[128];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if ((bound = evhttp_accept_socket_with_handle(mh.http,
		    fds[i])) == NULL)
			fatalx("metrics_http: cannot serve on the metrics "
			    "socket passed in (fd %d)", fds[i]);
		mh.lev[2 + i] = evhttp_bound_socket_get_listener(bound);
		len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		snprintf(where, sizeof(where), "fd %d", fds[i]);
		if (getsockname(fds[i], (struct sockaddr *)&ss, &len) == 0) {
			if (ss.ss_family == AF_UNIX)
				snprintf(where, sizeof(where), "%s",
				    ((struct sockaddr_un *)&ss)->sun_path);
			else if (ss.ss_family == AF_INET || ss.ss_family ==
			    AF_INET6) {
				char	h[NI_MAXHOST], p[NI_MAXSERV];

				if (getnameinfo((struct sockaddr *)&ss, len,
				    h, sizeof(h), p, sizeof(p),
				    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
					snprintf(where, sizeof(where),
					    ss.ss_family == AF_INET6 ?
					    "http://[%s]:%s/metrics" :
					    "http://%s:%s/metrics", h, p);
			}
		}
		log_info("metrics_http: serving /metrics on %s (socket passed "
		    "in)", where);
	}
}

void
metrics_http_start(struct event_base *base, const struct metrics_conf *mc)
{
	struct timeval	 tv;
	const int	*passed;
	size_t		 npassed;

	mh.conf = *mc;
	passed = activation_metrics(&npassed);
	/* A metrics socket unit is an opt-in of its own. */
	if (mc->listen[0] == '\0' && mc->socket[0] == '\0' && npassed == 0)
		return;
	if ((mh.http = evhttp_new(base)) == NULL)
		fatalx("metrics_http: cannot make the HTTP server");
	evhttp_set_allowed_methods(mh.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(mh.http, METRICS_HTTP_TIMEOUT);
	evhttp_set_max_headers_size(mh.http, 8192);
	evhttp_set_max_body_size(mh.http, 0);
	evhttp_set_gencb(mh.http, metrics_http_request, NULL);
	evhttp_set_bevcb(mh.http, metrics_http_bev, NULL);
	tv.tv_sec = METRICS_HTTP_TIMEOUT;
	tv.tv_usec = 0;
	if ((mh.window = event_new(base, -1, EV_PERSIST, metrics_http_window,
	    NULL)) == NULL || event_add(mh.window, &tv) != 0)
		fatalx("metrics_http: cannot arm the pacing timer");
	if (mc->socket[0] != '\0')
		metrics_http_unix(mc);
	if (mc->listen[0] != '\0')
		metrics_http_tcp(mc);
	metrics_http_passed(passed, npassed);
}

void
metrics_http_stop(void)
{
	size_t	i;

	if (mh.http == NULL)
		return;
	/* Closes the listeners, the unix one included. */
	evhttp_free(mh.http);
	mh.http = NULL;
	memset(mh.lev, 0, sizeof(mh.lev));
	event_free(mh.window);
	mh.window = NULL;
	for (i = 0; i < 2; i++)
		if (mh.text[i] != NULL) {
			evbuffer_free(mh.text[i]);
			mh.text[i] = NULL;
		}
	if (mh.unix_fd >= 0 && unlink(mh.conf.socket) != 0 && errno != ENOENT)
		log_warn("metrics_http: unlink %s", mh.conf.socket);
	mh.unix_fd = -1;
}
