/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Listening sockets passed in, by systemd's socket units or by this daemon
 * before an in-place re-exec (SIGUSR2): the control socket (AF_UNIX
 * SOCK_SEQPACKET, pmemtierd.socket) and up to ACTIVATION_METRICS_MAX
 * metrics sockets (any listening SOCK_STREAM socket, TCP or unix:
 * pmemtierd-metrics.socket). Told apart by their type, so a unit's
 * FileDescriptorName= does not matter; anything else is refused at start
 * with the reason.
 */
#ifndef PMEMTIERD_ACTIVATION_H
#define PMEMTIERD_ACTIVATION_H

#include <stddef.h>

#define ACTIVATION_METRICS_MAX	4

/* Takes what LISTEN_FDS passes (once, at start); fatal on a bad socket. */
void	activation_take(void);
/* The control socket passed in, or -1; the caller owns it. */
int	activation_control(void);
/* The metrics sockets passed in (n of them); metrics_http owns them. */
const int *activation_metrics(size_t *n);
/*
 * Just before the re-exec: control_fd on fd 3 and the metrics sockets
 * after it, without close-on-exec, LISTEN_FDS, LISTEN_FDNAMES and
 * LISTEN_PID set for the new image. 0 or -1.
 */
int	activation_pass(int control_fd);

#endif /* PMEMTIERD_ACTIVATION_H */
