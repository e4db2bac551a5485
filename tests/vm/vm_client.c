/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vm_client: a memkind program for the VM scenarios, linked with
 * libpmemtier, so that what a scenario asserts is what a memkind user sees.
 *
 *   vm_client checkdax DIR            memkind_check_dax_path(DIR)
 *   vm_client pmem DIR MIB [HOLD]     memkind_create_pmem(DIR) and MIB of
 *                                     1 MiB blocks, written
 *   vm_client kmem MIB [HOLD]         MIB from MEMKIND_DAX_KMEM, written,
 *                                     then where the pages are (move_pages)
 *
 * With HOLD it prints "ready" and keeps the memory HOLD seconds (or until
 * SIGTERM) so the scenario can look at it from outside.
 * Exit status: 0 all allocated; 3 an allocation returned NULL (ENOMEM:
 * quota or capacity) after the count printed; 4 the kind is not available
 * (no daemon, no tier; for kmem: not even one block); 5 the memory did
 * not keep what was written (checked after HOLD); 1 other failure; 2 usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memkind.h>

#define BLOCK	(1UL << 20)

static volatile sig_atomic_t	stop;

static void
on_term(int sig)
{
	stop = 1;
}

static void
hold(unsigned secs)
{
	signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	while (secs-- > 0 && !stop)
		sleep(1);
}

/* Allocates up to mib blocks, writing every page; returns how many. */
static size_t
fill(memkind_t kind, size_t mib, void **blocks)
{
	size_t	i;

	for (i = 0; i < mib; i++) {
		if ((blocks[i] = memkind_malloc(kind, BLOCK)) == NULL)
			break;
		memset(blocks[i], (int)(i & 0xff) | 1, BLOCK);
	}
	return i;
}

/* Counts blocks whose contents are no longer what fill() wrote. */
static size_t
check(void **blocks, size_t n)
{
	size_t	i, j, bad = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < BLOCK; j += 4096)
			if (((unsigned char *)blocks[i])[j] !=
			    ((i & 0xff) | 1)) {
				bad++;
				break;
			}
	return bad;
}

static void
unfill(void **blocks, size_t n)
{
	while (n-- > 0)
		memkind_free(NULL, blocks[n]);
}

static int
client_pmem(const char *dir, size_t mib, unsigned secs)
{
	char		 msg[MEMKIND_ERROR_MESSAGE_SIZE];
	memkind_t	 kind;
	void		**blocks;
	size_t		 n, bad;
	int		 err;

	if ((err = memkind_create_pmem(dir, 0, &kind)) != 0) {
		memkind_error_message(err, msg, sizeof(msg));
		printf("pmem: create %s: %s\n", dir, msg);
		return err == MEMKIND_ERROR_UNAVAILABLE ? 4 : 1;
	}
	if ((blocks = calloc(mib, sizeof(*blocks))) == NULL)
		return 1;
	n = fill(kind, mib, blocks);
	printf("pmem: %zu of %zu MiB allocated on %s%s\n", n, mib, dir,
	    n < mib ? " (then NULL)" : "");
	fflush(stdout);
	if (secs > 0)
		hold(secs);
	if ((bad = check(blocks, n)) != 0) {
		printf("pmem: %zu blocks changed under the client\n", bad);
		return 5;
	}
	unfill(blocks, n);
	free(blocks);
	memkind_destroy_kind(kind);
	return n < mib ? 3 : 0;
}

static int
client_kmem(size_t mib, unsigned secs)
{
	void	**blocks, **pages;
	int	 *status, count[8] = { 0 };
	size_t	  n, npg, per = BLOCK / 4096, i, j;

	if ((blocks = calloc(mib, sizeof(*blocks))) == NULL)
		return 1;
	n = fill(MEMKIND_DAX_KMEM, mib, blocks);
	if (n == 0) {
		printf("kmem: MEMKIND_DAX_KMEM gave nothing: %s\n",
		    strerror(errno));
		free(blocks);
		return 4;
	}
	npg = n * per;
	pages = calloc(npg, sizeof(*pages));
	status = calloc(npg, sizeof(*status));
	if (pages == NULL || status == NULL)
		return 1;
	for (i = 0; i < n; i++)
		for (j = 0; j < per; j++)
			pages[i * per + j] = (char *)blocks[i] + j * 4096;
	/* nodes == NULL: only asks where each page is, moves nothing. */
	if (syscall(SYS_move_pages, 0, npg, pages, NULL, status, 0) != 0) {
		printf("kmem: move_pages: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < npg; i++)
		if (status[i] >= 0 && status[i] < 8)
			count[status[i]]++;
	printf("kmem: %zu of %zu MiB allocated; pages=%zu node0=%d node1=%d\n",
	    n, mib, npg, count[0], count[1]);
	fflush(stdout);
	if (secs > 0)
		hold(secs);
	if ((i = check(blocks, n)) != 0) {
		printf("kmem: %zu blocks changed under the client\n", i);
		return 5;
	}
	unfill(blocks, n);
	free(pages);
	free(status);
	free(blocks);
	return n < mib ? 3 : 0;
}

int
main(int argc, char *argv[])
{
	char	msg[MEMKIND_ERROR_MESSAGE_SIZE];
	int	err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "checkdax") == 0) {
		err = memkind_check_dax_path(argv[2]);
		memkind_error_message(err, msg, sizeof(msg));
		printf("checkdax: %s: %d %s\n", argv[2], err, msg);
		return err == 0 ? 0 : 1;
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "pmem") == 0)
		return client_pmem(argv[2], strtoul(argv[3], NULL, 10),
		    argc == 5 ? (unsigned)strtoul(argv[4], NULL, 10) : 0);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "kmem") == 0)
		return client_kmem(strtoul(argv[2], NULL, 10),
		    argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 0);
	fprintf(stderr, "usage: vm_client checkdax DIR | pmem DIR MIB [HOLD] | "
	    "kmem MIB [HOLD]\n");
	return 2;
}
