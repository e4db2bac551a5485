/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmode.h"
#include "tutil.h"

struct tmode tm;

int
tmode_setup(int argc, char **argv, const char *extra_ini)
{
	const char	*mode = argc > 1 ? argv[1] : "standalone";

	if (strcmp(mode, "daemon") == 0) {
		const char *d = getenv("PMEMTIERD");

		if (d == NULL || access(d, X_OK) != 0) {
			printf("SKIP: PMEMTIERD is not set to a daemon binary\n");
			return 77;
		}
		if (testd_start(&tm.d, extra_ini) != 0)
			return 1;
		tm.daemon = true;
		snprintf(tm.dir, sizeof(tm.dir), "%s", tm.d.tierdir);
		setenv("PMEMTIER_SOCKET", tm.d.socket, 1);
		setenv("PMEMTIER_MODE", "daemon", 1);
		return 0;
	}
	if (strcmp(mode, "standalone") != 0) {
		fprintf(stderr, "usage: %s standalone|daemon\n", argv[0]);
		return 1;
	}
	if (tu_mkdtemp(tm.dir, sizeof(tm.dir), "client") != 0) {
		perror("mkdtemp");
		return 1;
	}
	setenv("PMEMTIER_MODE", "standalone", 1);
	/* A socket that does not exist: standalone must not need one. */
	setenv("PMEMTIER_SOCKET", "/nonexistent/pmemtierd.sock", 1);
	return 0;
}

int
tmode_teardown(int rc)
{
	if (tm.daemon) {
		if (testd_stop(&tm.d) != 0)
			return 1;
	} else
		tu_rmdir(tm.dir);
	return rc;
}
