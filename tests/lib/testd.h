/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test fixture: runs a real pmemtierd on a private socket and directory.
 * See docs in CONTRACTS (section 2); every integration test uses it.
 */
#ifndef PMEMTIER_TESTD_H
#define PMEMTIER_TESTD_H

#include <sys/types.h>

struct testd {
	char	dir[256];	/* private temp dir, removed by testd_stop() */
	char	socket[320];	/* dir/pmemtierd.sock */
	char	config[320];	/* dir/pmemtierd.conf */
	char	tierdir[320];	/* dir/tier-pmem: the "pmem" file tier's directory */
	pid_t	pid;
};

/*
 * Writes a config: [daemon] socket = dir/pmemtierd.sock, state_dir = dir/state;
 * a file tier "pmem" (capacity 1G, path dir/tier-pmem, default = yes); a kmem
 * tier "kmem" (node 0, capacity 256M); then appends extra_ini (may be NULL)
 * verbatim. Runs $PMEMTIERD -d -f config (stderr to dir/pmemtierd.log,
 * which testd_stop prints on failure) and waits <= 10 s until the socket
 * accepts a connection. Returns 0, or -1 after printing why.
 */
int	testd_start(struct testd *d, const char *extra_ini);
/* Like testd_start but the caller's full config text replaces the generated one
 * (use "@DIR@" in it for d->dir). */
int	testd_start_config(struct testd *d, const char *ini);
/*
 * Starts the daemon again on the same directory and config, after the
 * caller stopped or killed it (and reaped it: d->pid is then ignored), as
 * an operator restarting it by hand would. 0 or -1 after printing why.
 */
int	testd_restart(struct testd *d);
/* Sends SIGHUP and waits until the daemon has reloaded (or 5 s).
 * (It watches the log for the daemon's "reload: " line, which needs
 * log_level notice or more verbose: the default is info.) */
int	testd_reload(struct testd *d);
/* SIGTERM, wait <= 10 s (then SIGKILL, return -1), remove dir recursively.
 * Returns the daemon's exit status (0 expected), -1 on kill/failure. */
int	testd_stop(struct testd *d);

#endif /* PMEMTIER_TESTD_H */
