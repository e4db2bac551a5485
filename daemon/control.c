/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "conn.h"
#include "control.h"
#include "log.h"
#include "peer.h"
#include "wire.h"

static struct {
	int		 fd;
	int		 activated;	/* the socket came from systemd */
	int		 paused;	/* accept paused after EMFILE */
	struct event	*ev;
	struct event	*retry;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} control = { .fd = -1 };

static void	control_accept(evutil_socket_t, short, void *);

const char *
control_path(void)
{
	return control.path;
}

int
control_activated(void)
{
	return control.activated;
}

/* Refuses to take over a socket another daemon still answers on. */
static void
control_check_stale(const struct sockaddr_un *sun)
{
	struct stat	st;
	int		fd;

	if (lstat(sun->sun_path, &st) != 0) {
		if (errno == ENOENT)
			return;
		fatal("control_init: stat %s", sun->sun_path);
	}
	if (!S_ISSOCK(st.st_mode))
		fatalx("control_init: %s exists and is not a socket; remove "
		    "it or choose another path with -s", sun->sun_path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		fatal("control_init: socket");
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		fatalx("control_init: another pmemtierd is running on %s",
		    sun->sun_path);
	if (errno != ECONNREFUSED && errno != ENOENT)
		fatal("control_init: probe %s", sun->sun_path);
	close(fd);
	log_info("control_init: removing stale socket %s", sun->sun_path);
	if (unlink(sun->sun_path) != 0 && errno != ENOENT)
		fatal("control_init: unlink %s", sun->sun_path);
}

static void
control_mkparent(const char *path)
{
	char	 dir[sizeof(control.path)], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		fatal("control_init: mkdir %s", dir);
}

static int
control_inherit(void)
{
	int	n, fd = SD_LISTEN_FDS_START;

	if ((n = sd_listen_fds(1)) <= 0)
		return 0;
	if (n > 1)
		fatalx("control_init: systemd passed %d sockets, 1 expected", n);
	if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0)
		fatalx("control_init: the socket from systemd is not a "
		    "listening AF_UNIX SOCK_SEQPACKET socket (ListenSequentialPacket=)");
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		fatal("control_init: fcntl");
	control.fd = fd;
	control.activated = 1;
	/* Status reports where clients really connect. */
	{
		struct sockaddr_un	sun;
		socklen_t		len = sizeof(sun);

		memset(&sun, 0, sizeof(sun));
		if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
		    sun.sun_path[0] != '\0')
			snprintf(control.path, sizeof(control.path), "%.*s",
			    (int)(sizeof(sun.sun_path) - 1), sun.sun_path);
	}
	log_info("control_init: using the socket passed by systemd (%s)",
	    control.path);
	return 1;
}

void
control_init(const char *path, const struct pmtd_config *conf)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("control_init: socket path too long (%zu bytes, "
		    "max %zu): %s", strlen(path), sizeof(sun.sun_path) - 1,
		    path);
	snprintf(control.path, sizeof(control.path), "%s", path);
	if (control_inherit())
		return;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	control_mkparent(path);
	control_check_stale(&sun);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("control_init: socket");
	/* No window in which the socket exists with a wider mode. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fatal("control_init: bind %s", path);
	umask(old);
	if (chmod(path, conf->socket_mode) != 0)
		fatal("control_init: chmod %s", path);
	if (conf->socket_group[0] != '\0') {
		struct group	*gr = getgrnam(conf->socket_group);

		if (gr == NULL)
			fatalx("control_init: socket_group %s: no such group",
			    conf->socket_group);
		if (chown(path, (uid_t)-1, gr->gr_gid) != 0)
			fatal("control_init: chown %s to group %s", path,
			    conf->socket_group);
	}
	if (listen(fd, SOMAXCONN) != 0)
		fatal("control_init: listen %s", path);
	control.fd = fd;
}

static void
control_retry(evutil_socket_t fd, short what, void *arg)
{
	control_resume();
}

void
control_listen(void)
{
	control.ev = event_new(pmtd->base, control.fd, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	control.retry = evtimer_new(pmtd->base, control_retry, NULL);
	if (control.ev == NULL || control.retry == NULL ||
	    event_add(control.ev, NULL) != 0)
		fatalx("control_listen: cannot watch the socket");
}

void
control_resume(void)
{
	if (!control.paused || control.ev == NULL)
		return;
	control.paused = 0;
	evtimer_del(control.retry);
	event_add(control.ev, NULL);
	log_info("control: accepting connections again");
}

/* Out of descriptors: stop accepting until one frees or a second passes. */
static void
control_pause(void)
{
	struct timeval	tv = { 1, 0 };

	log_warn("control_accept: accept");
	control.paused = 1;
	event_del(control.ev);
	evtimer_add(control.retry, &tv);
}

static void
control_refuse(int fd, const struct principal *pr, unsigned max)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Error		err = PMEMTIER__ERROR__INIT;
	char			msg[256];

	snprintf(msg, sizeof(msg), "too many connections from uid %u "
	    "(max_connections_per_uid = %u)", (unsigned)pr->uid, max);
	log_info("control_accept: pid %d: %s", (int)pr->pid, msg);
	env.version = PMT_WIRE_VERSION;
	env.body_case = PMEMTIER__ENVELOPE__BODY_ERROR;
	env.error = &err;
	err.code = PMEMTIER__ERROR_CODE__ERROR_LIMIT;
	err.message = msg;
	(void)pmt_wire_send(fd, &env, -1);
	close(fd);
}

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct principal	pr;
	int			fd, rc;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			control_pause();
		else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control_accept: accept");
		return;
	}
	rc = peer_identify(fd, &pr, pmtd->have_admin_gid, pmtd->admin_gid);
	if (rc != 0) {
		log_warnx("control_accept: peer credentials: %s",
		    strerror(-rc));
		close(fd);
		return;
	}
	if (conn_count_uid(pr.uid) >= pmtd->conf->max_conn_per_uid) {
		control_refuse(fd, &pr, pmtd->conf->max_conn_per_uid);
		return;
	}
	conn_new(fd, &pr);
}

void
control_cleanup(void)
{
	if (control.ev != NULL) {
		event_free(control.ev);
		control.ev = NULL;
	}
	if (control.retry != NULL) {
		event_free(control.retry);
		control.retry = NULL;
	}
	if (control.fd >= 0) {
		close(control.fd);
		control.fd = -1;
		/* A socket systemd made is systemd's to remove. */
		if (!control.activated)
			unlink(control.path);
	}
}
