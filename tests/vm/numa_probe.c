/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * numa_probe: for each of memkind's static kinds that place memory by NUMA
 * node, prints one line: what memkind_check_available() and
 * memkind_get_capacity() say, the policy the kernel holds for a block of
 * the kind, and the nodes its pages landed on. Built twice from this
 * source, against libpmemtier and against Debian's libmemkind, so that a
 * VM scenario can compare the two on the same machine line by line.
 *
 *   numa_probe [MiB]      (default 16 MiB per kind, in 64 KiB blocks)
 */
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memkind.h>

#define BLOCK	(64 << 10)
#define NODES	64

static void
probe(const char *name, memkind_t kind, size_t total)
{
	size_t		 n = total / BLOCK, i, j, npages, pg;
	long		 psz = sysconf(_SC_PAGESIZE);
	unsigned	 count[NODES] = { 0 };
	unsigned long	 mask[NODES / 64] = { 0 };
	void		**blocks, **pages;
	int		*status, mode = -1, avail, first = 1;

	avail = memkind_check_available(kind);
	printf("%s avail=%d cap=%zd", name, avail, memkind_get_capacity(kind));
	blocks = calloc(n, sizeof(*blocks));
	npages = total / (size_t)psz;
	pages = calloc(npages, sizeof(*pages));
	status = calloc(npages, sizeof(*status));
	if (blocks == NULL || pages == NULL || status == NULL) {
		printf(" error=calloc\n");
		exit(1);
	}
	for (i = 0, pg = 0; i < n; i++) {
		if ((blocks[i] = memkind_malloc(kind, BLOCK)) == NULL)
			break;
		memset(blocks[i], 0x5a, BLOCK);
		for (j = 0; j < BLOCK / (size_t)psz; j++)
			pages[pg++] = (char *)blocks[i] + j * (size_t)psz;
	}
	if (i < n) {
		printf(" malloc=%s\n", i == 0 ? "null" : "short");
		goto out;
	}
	if (get_mempolicy(&mode, mask, NODES, blocks[0], MPOL_F_ADDR) != 0)
		mode = -errno;
	if (move_pages(0, pg, pages, NULL, status, 0) != 0) {
		printf(" move_pages=%d\n", -errno);
		goto out;
	}
	for (i = 0; i < pg; i++)
		if (status[i] >= 0 && status[i] < NODES)
			count[status[i]]++;
	printf(" mode=%d policy_nodes=", mode);
	for (i = 0; i < NODES; i++)
		if (mask[i / 64] >> (i % 64) & 1) {
			printf("%s%zu", first ? "" : ",", i);
			first = 0;
		}
	/* Nodes that hold at least an eighth of the pages. */
	printf("%s nodes=", first ? "-" : "");
	first = 1;
	for (i = 0; i < NODES; i++)
		if (count[i] >= pg / 8) {
			printf("%s%zu", first ? "" : ",", i);
			first = 0;
		}
	printf("\n");
out:
	for (j = 0; j < i; j++)
		memkind_free(kind, blocks[j]);
	free(blocks);
	free(pages);
	free(status);
}

int
main(int argc, char **argv)
{
	size_t	mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
	struct {
		const char	*name;
		memkind_t	 kind;
	} k[] = {
		{ "DEFAULT", MEMKIND_DEFAULT },
		{ "REGULAR", MEMKIND_REGULAR },
		{ "INTERLEAVE", MEMKIND_INTERLEAVE },
		{ "HIGHEST_CAPACITY", MEMKIND_HIGHEST_CAPACITY },
		{ "HIGHEST_CAPACITY_PREFERRED",
		    MEMKIND_HIGHEST_CAPACITY_PREFERRED },
		{ "HIGHEST_CAPACITY_LOCAL", MEMKIND_HIGHEST_CAPACITY_LOCAL },
		{ "HIGHEST_CAPACITY_LOCAL_PREFERRED",
		    MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED },
		{ "LOWEST_LATENCY_LOCAL", MEMKIND_LOWEST_LATENCY_LOCAL },
		{ "LOWEST_LATENCY_LOCAL_PREFERRED",
		    MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED },
		{ "HIGHEST_BANDWIDTH_LOCAL", MEMKIND_HIGHEST_BANDWIDTH_LOCAL },
		{ "HIGHEST_BANDWIDTH_LOCAL_PREFERRED",
		    MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED },
		{ "HUGETLB", MEMKIND_HUGETLB },
	};
	size_t	i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		probe(k[i].name, k[i].kind, mib << 20);
	return 0;
}
