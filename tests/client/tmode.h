/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs a test program in one mode: "standalone" (PMEMTIER_MODE=standalone,
 * a private directory) or "daemon" (a real pmemtierd from the testd fixture,
 * PMEMTIER_MODE=daemon, its file tier's directory).
 */
#ifndef PMT_TMODE_H
#define PMT_TMODE_H

#include <stdbool.h>

#include "testd.h"

struct tmode {
	bool		daemon;
	char		dir[320];	/* where pmem kinds are created */
	struct testd	d;
};

extern struct tmode tm;

/*
 * Parses argv[1] ("standalone" or "daemon"), sets the environment and
 * starts the daemon when needed (extra_ini appended to its config).
 * Returns 0, 77 when the mode cannot run here, or 1.
 */
int	tmode_setup(int argc, char **argv, const char *extra_ini);
/* Stops the daemon and removes the directories; returns rc or 1. */
int	tmode_teardown(int rc);

#endif /* PMT_TMODE_H */
