/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "closer.h"
#include "conn.h"
#include "holder.h"
#include "lease.h"
#include "tier.h"
#include "activation.h"
#include "control.h"
#include "worker.h"
#include "log.h"
#include "peer.h"
#include "wire.h"

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83	/* Linux 6.16 */
#endif

/*
 * Descriptors held spare while idle and let go while a new peer is
 * identified (pidfd, /proc files, a sock_diag socket, /proc/PID/fd): a
 * daemon at its descriptor limit pauses accepting rather than refuse a
 * peer it could not identify for want of one.
 */
#define CONTROL_SPARE	6

static struct {
	int		 fd;
	int		 spare[CONTROL_SPARE];
	int		 activated;	/* the socket came from systemd */
	int		 paused;	/* accept paused after EMFILE */
	struct event	*ev;
	struct event	*retry;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} control = { .fd = -1, .spare = { -1, -1, -1, -1, -1, -1 } };

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

/*
 * Makes the kernel refuse descriptors peers send on fd (SO_PASSRIGHTS,
 * Linux 6.16; older kernels ignore it, and conn.c closes them off the
 * loop). PMEMTIERD_TEST_ACCEPT_FDS leaves them allowed, so that the tests
 * cover the older kernels' path here too.
 */
static void
control_no_rights(int fd)
{
	static int	allow = -1;
	int		off = 0;

	if (allow < 0)
		allow = getenv("PMEMTIERD_TEST_ACCEPT_FDS") != NULL;
	if (!allow)
		(void)setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off,
		    sizeof(off));
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
	int	fd;

	if ((fd = activation_control()) < 0)
		return 0;
	control.fd = fd;
	/*
	 * Passed by systemd, or by this daemon's previous image (SIGUSR2),
	 * which says whether it had made the socket file itself.
	 */
	control.activated = getenv("PMEMTIERD_SOCKET_OWNED") == NULL ||
	    strcmp(getenv("PMEMTIERD_SOCKET_OWNED"), "1") != 0;
	unsetenv("PMEMTIERD_SOCKET_OWNED");
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
	log_info("control_init: using the socket passed by %s (%s)",
	    control.activated ? "systemd" : "the daemon before its re-exec",
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
	/* Accepted sockets inherit it (see control_accept). */
	control_no_rights(fd);
	if (listen(fd, SOMAXCONN) != 0)
		fatal("control_init: listen %s", path);
	control.fd = fd;
}

/* Takes the spare descriptors back; -1 when the process is out of them. */
static int
control_spare_take(void)
{
	int	i;

	for (i = 0; i < CONTROL_SPARE; i++)
		if (control.spare[i] < 0 && (control.spare[i] =
		    open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
	return 0;
}

static void
control_spare_give(void)
{
	int	i;

	for (i = 0; i < CONTROL_SPARE; i++)
		if (control.spare[i] >= 0) {
			close(control.spare[i]);
			control.spare[i] = -1;
		}
}

static void	control_pause(void);

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
	if (control_spare_take() != 0)
		fatal("control_listen: spare descriptors");
}

void
control_resume(void)
{
	if (!control.paused || control.ev == NULL)
		return;
	if (control_spare_take() != 0) {
		struct timeval	tv = { 1, 0 };

		evtimer_add(control.retry, &tv);
		return;
	}
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

	log_warn("control_accept: out of descriptors, not accepting for now");
	control.paused = 1;
	event_del(control.ev);
	evtimer_add(control.retry, &tv);
}

static struct log_limit	control_lim = { .what = "control_accept" };

/* Answers a connection it will not serve with one Error, and closes it. */
static void
control_refuse(int fd, int code, const char *msg)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Error		err = PMEMTIER__ERROR__INIT;

	env.version = PMT_WIRE_VERSION;
	env.body_case = PMEMTIER__ENVELOPE__BODY_ERROR;
	env.error = &err;
	err.code = (Pmemtier__ErrorCode)code;
	err.message = (char *)msg;
	(void)pmt_wire_send(fd, &env, -1);
	close(fd);
}

/*
 * Descriptors in use for clients: connections, leases, zombies, holders'
 * pidfds and fds a peer sent that wait to be closed. Kept below the
 * budget (pmtd->max_fds) for everyone but admins, so that the reserve
 * above it always lets root's tierctl in.
 */
static unsigned
control_fds_used(void)
{
	return pmtd->nconns + lease_count() + lease_zombie_count() +
	    holder_count() + closer_pending() + worker_fds() +
	    tier_spare_count();
}

static void	control_serve(int);

int
control_over_budget(const struct principal *pr, char *msg, size_t len)
{
	unsigned	used = control_fds_used();

	if (pr->admin || used < pmtd->max_fds)
		return 0;
	/* Kept lease files are the first to go (tier.c: spares). */
	if (tier_spare_count() > 0) {
		tier_spares_drop_all(&pmtd->tiers);
		if ((used = control_fds_used()) < pmtd->max_fds)
			return 0;
	}
	snprintf(msg, len, "the daemon is at its descriptor budget (%u in "
	    "use; RLIMIT_NOFILE less a reserve for admins): try again later",
	    used);
	return 1;
}

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	int	fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			control_pause();
		else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control_accept: accept");
		return;
	}
	control_spare_give();
	control_serve(fd);
	if (control_spare_take() != 0)
		control_pause();
}

/* Identifies the peer on fd and admits it, or refuses it with a reason. */
static void
control_serve(int fd)
{
	struct principal	 pr;
	const char		*why;
	char			 msg[512];
	int			 rc;

	/*
	 * Only a lease grant carries a descriptor, and the daemon sends it:
	 * where the kernel can, it refuses any a peer sends (the sender
	 * gets EPERM) so that none ever has to be closed here.
	 */
	control_no_rights(fd);
	if ((rc = peer_identify(fd, &pr, &why)) != 0) {
		snprintf(msg, sizeof(msg), "connection refused: the daemon "
		    "could not verify who you are: %s", why);
		log_limited(&control_lim, "control_accept: pid %d uid %u: %s "
		    "(%s)", (int)pr.pid, (unsigned)pr.uid, msg, strerror(-rc));
		control_refuse(fd, PMEMTIER__ERROR_CODE__ERROR_UNIDENTIFIED,
		    msg);
		return;
	}
	pr.admin = peer_is_admin(fd, &pr, pmtd->have_admin_gid,
	    pmtd->admin_gid);
	if (control_over_budget(&pr, msg, sizeof(msg))) {
		log_limited(&control_lim, "control_accept: pid %d uid %u: %s",
		    (int)pr.pid, (unsigned)pr.uid, msg);
		control_refuse(fd, PMEMTIER__ERROR_CODE__ERROR_LIMIT, msg);
		return;
	}
	if (conn_count_uid(pr.uid) >= pmtd->conf->max_conn_per_uid) {
		snprintf(msg, sizeof(msg), "too many connections from uid %u "
		    "(max_connections_per_uid = %u)", (unsigned)pr.uid,
		    pmtd->conf->max_conn_per_uid);
		log_limited(&control_lim, "control_accept: pid %d: %s",
		    (int)pr.pid, msg);
		control_refuse(fd, PMEMTIER__ERROR_CODE__ERROR_LIMIT, msg);
		return;
	}
	conn_new(fd, &pr);
}

int
control_handover(void)
{
	if (control.ev != NULL) {
		event_free(control.ev);
		control.ev = NULL;
	}
	if (control.retry != NULL) {
		event_free(control.retry);
		control.retry = NULL;
	}
	control_spare_give();
	if (control.fd < 0)
		return -1;
	/* Whose the socket file is goes with it. */
	if (setenv("PMEMTIERD_SOCKET_OWNED", control.activated ? "0" : "1",
	    1) != 0)
		return -1;
	return control.fd;
}

void
control_cleanup(void)
{
	control_spare_give();
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
