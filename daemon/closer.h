/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Closing descriptors a peer sent, off the event loop. close() of a file
 * can block: a TCP socket with SO_LINGER and unsent data holds its last
 * close for up to the linger time, and one such fd on a packet once
 * stopped the whole daemon. Where the kernel has SO_PASSRIGHTS the
 * control socket refuses descriptors outright and nothing reaches here.
 */
#ifndef PMEMTIERD_CLOSER_H
#define PMEMTIERD_CLOSER_H

#include <stddef.h>

/* Starts the closing thread; 0 or -errno. */
int	closer_init(void);
/* Hands fds to the closing thread (closes them here if it is not running). */
void	closer_push(const int *fds, size_t n);
/* Descriptors waiting to be closed (they count against the fd budget). */
unsigned closer_pending(void);
/* Closes what is queued and stops the thread. */
void	closer_fini(void);

#endif /* PMEMTIERD_CLOSER_H */
