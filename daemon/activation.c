/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "activation.h"
#include "log.h"

static struct {
	int	control;
	int	metrics[ACTIVATION_METRICS_MAX];
	size_t	nmetrics;
} act = { .control = -1 };

static void
activation_prepare(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		fatal("activation: fcntl on passed socket %d", fd);
}

void
activation_take(void)
{
	char	**names = NULL;
	int	  n, i, fd;

	if ((n = sd_listen_fds_with_names(1, &names)) <= 0) {
		if (n < 0)
			log_warnx("activation: LISTEN_FDS unusable: %s",
			    strerror(-n));
		return;
	}
	for (i = 0; i < n; i++) {
		const char *name = names != NULL && names[i] != NULL ?
		    names[i] : "unnamed";

		fd = SD_LISTEN_FDS_START + i;
		if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) > 0) {
			if (act.control >= 0)
				fatalx("activation: two control sockets "
				    "passed (fds %d and %d); one "
				    "ListenSequentialPacket= is expected",
				    act.control, fd);
			act.control = fd;
		} else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
			if (act.nmetrics == ACTIVATION_METRICS_MAX)
				fatalx("activation: more than %d metrics "
				    "sockets passed", ACTIVATION_METRICS_MAX);
			act.metrics[act.nmetrics++] = fd;
		} else
			fatalx("activation: passed socket %d (%s) is neither "
			    "a listening AF_UNIX SOCK_SEQPACKET socket (the "
			    "control socket, ListenSequentialPacket=) nor a "
			    "listening stream socket (metrics, "
			    "ListenStream=)", fd, name);
		activation_prepare(fd);
	}
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

int
activation_control(void)
{
	int	fd = act.control;

	act.control = -1;
	return fd;
}

const int *
activation_metrics(size_t *n)
{
	*n = act.nmetrics;
	return act.metrics;
}

int
activation_pass(int control_fd)
{
	int	tmp[1 + ACTIVATION_METRICS_MAX];
	char	num[16], names[16 + 8 * ACTIVATION_METRICS_MAX];
	size_t	i, n = 0;

	/*
	 * Out of the way first: a socket may already sit on a number
	 * another one is to take.
	 */
	tmp[n++] = control_fd;
	for (i = 0; i < act.nmetrics; i++)
		tmp[n++] = act.metrics[i];
	for (i = 0; i < n; i++)
		if ((tmp[i] = fcntl(tmp[i], F_DUPFD_CLOEXEC, 64)) < 0)
			return -1;
	snprintf(names, sizeof(names), "control");
	for (i = 0; i < n; i++) {
		if (dup2(tmp[i], SD_LISTEN_FDS_START + (int)i) < 0)
			return -1;
		close(tmp[i]);
		if (i > 0)
			strcat(names, ":metrics");
	}
	snprintf(num, sizeof(num), "%zu", n);
	if (setenv("LISTEN_FDS", num, 1) != 0 ||
	    setenv("LISTEN_FDNAMES", names, 1) != 0)
		return -1;
	snprintf(num, sizeof(num), "%d", (int)getpid());
	return setenv("LISTEN_PID", num, 1);
}
