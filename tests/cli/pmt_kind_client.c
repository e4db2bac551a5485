/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmt_kind_client: a real libpmemtier application for the CLI tests. It
 * makes a pmem kind on DIR (daemon mode: PMEMTIER_MODE and
 * PMEMTIER_SOCKET come from the environment), allocates COUNT blocks of
 * SIZE bytes and writes them, prints "ready" and, until SIGTERM, calls
 * memkind_update_cached_stats() every 50 ms: a busy application talks to
 * the library often, and that is when the library answers the daemon's
 * usage queries.
 *
 *   pmt_kind_client DIR COUNT SIZE
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memkind.h>

int
main(int argc, char *argv[])
{
	memkind_t	  kind;
	sigset_t	  set;
	char		**blocks;
	size_t		  n, size, i;
	int		  rc, sig;


	if (argc != 4)
		errx(2, "usage: pmt_kind_client DIR COUNT SIZE");
	n = strtoul(argv[2], NULL, 10);
	size = strtoul(argv[3], NULL, 10);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if ((rc = memkind_create_pmem(argv[1], 0, &kind)) != MEMKIND_SUCCESS)
		errx(1, "memkind_create_pmem %s: error %d", argv[1], rc);
	if ((blocks = calloc(n, sizeof(*blocks))) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		if ((blocks[i] = memkind_malloc(kind, size)) == NULL)
			errx(1, "memkind_malloc %zu: no memory", size);
		memset(blocks[i], 0x5a, size);
	}
	if (memkind_update_cached_stats() != MEMKIND_SUCCESS)
		errx(1, "memkind_update_cached_stats failed");
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct timespec	ts = { .tv_nsec = 50 * 1000 * 1000 };

		if ((sig = sigtimedwait(&set, NULL, &ts)) > 0)
			break;
		(void)memkind_update_cached_stats();
	}
	for (i = 0; i < n; i++)
		memkind_free(kind, blocks[i]);
	free(blocks);
	memkind_destroy_kind(kind);
	return 0;
}
