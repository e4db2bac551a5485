/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A memkind program: several pmem kinds of limited size filled until they
 * refuse, a configured CONSERVATIVE kind, statistics, usable sizes.
 */
#include <memkind.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKINDS	3
#define CHUNK	(1024 * 1024)

int
main(int argc, char **argv)
{
	const char		*dir = argc > 1 ? argv[1] : "/tmp";
	struct memkind		*kinds[NKINDS], *cons = NULL;
	struct memkind_config	*cfg;
	void			*blocks[NKINDS][64];
	size_t			 n[NKINDS], i, j, allocated;
	void			*p;

	for (i = 0; i < NKINDS; i++) {
		if (memkind_create_pmem(dir, MEMKIND_PMEM_MIN_SIZE * 2,
		    &kinds[i]) != MEMKIND_SUCCESS)
			return 1;
		for (n[i] = 0; n[i] < 64; n[i]++) {
			p = memkind_malloc(kinds[i], CHUNK);
			if (p == NULL)
				break;
			memset(p, (int)i, CHUNK);
			blocks[i][n[i]] = p;
		}
		/* 32 MiB of pool: full well before 64 chunks. */
		if (n[i] == 64 || errno != ENOMEM)
			return 1;
		printf("kind %zu: %zu chunks of 1 MiB before ENOMEM\n", i,
		    n[i]);
	}
	for (i = 0; i < NKINDS; i++)
		for (j = 0; j < n[i]; j++)
			memkind_free(NULL, blocks[i][j]);

	cfg = memkind_config_new();
	memkind_config_set_path(cfg, dir);
	memkind_config_set_size(cfg, 0);
	memkind_config_set_memory_usage_policy(cfg,
	    MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE);
	if (memkind_create_pmem_with_config(cfg, &cons) != MEMKIND_SUCCESS)
		return 1;
	memkind_config_delete(cfg);
	p = memkind_malloc(cons, 100);
	if (p == NULL || memkind_malloc_usable_size(cons, p) < 100)
		return 1;
	if (memkind_update_cached_stats() != MEMKIND_SUCCESS ||
	    memkind_get_stat(cons, MEMKIND_STAT_TYPE_ALLOCATED, &allocated) !=
	    MEMKIND_SUCCESS || allocated < 100)
		return 1;
	printf("conservative kind: %zu bytes allocated\n", allocated);
	memkind_free(cons, p);
	for (i = 0; i < NKINDS; i++)
		memkind_destroy_kind(kinds[i]);
	memkind_destroy_kind(cons);
	return 0;
}
