/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind's kind-management, configuration, version and error functions,
 * and the native pmemtier_* additions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api.h"
#include "bg.h"
#include "conn.h"
#include "kind.h"
#include "node.h"
#include "thread.h"

#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif

/* The memkind API level this library implements: 1.14.0. */
#define API_MEMKIND_VERSION	1014000

struct memkind_config {
	char	*path;
	size_t	 size;
	int	 policy;
};

PMT_EXPORT struct memkind_config *
memkind_config_new(void)
{
	return calloc(1, sizeof(struct memkind_config));
}

PMT_EXPORT void
memkind_config_delete(struct memkind_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg);
}

PMT_EXPORT void
memkind_config_set_path(struct memkind_config *cfg, const char *pmem_dir)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	cfg->path = pmem_dir != NULL ? strdup(pmem_dir) : NULL;
}

PMT_EXPORT void
memkind_config_set_size(struct memkind_config *cfg, size_t pmem_size)
{
	if (cfg != NULL)
		cfg->size = pmem_size;
}

PMT_EXPORT void
memkind_config_set_memory_usage_policy(struct memkind_config *cfg,
    memkind_mem_usage_policy policy)
{
	if (cfg != NULL)
		cfg->policy = (int)policy;
}

PMT_EXPORT int
memkind_create_pmem(const char *dir, size_t max_size, memkind_t *kind)
{
	return pmt_kind_create_pmem(dir, max_size,
	    MEMKIND_MEM_USAGE_POLICY_DEFAULT, kind);
}

PMT_EXPORT int
pmemtier_create_pmem_on_tier(const char *tier, size_t max_size,
    memkind_t *kind)
{
	return pmt_kind_create_on_tier(tier, max_size, kind);
}

PMT_EXPORT int
memkind_create_pmem_with_config(struct memkind_config *cfg, memkind_t *kind)
{
	if (cfg == NULL)
		return MEMKIND_ERROR_INVALID;
	return pmt_kind_create_pmem(cfg->path, cfg->size, cfg->policy, kind);
}

/*
 * memkind_create_kind() answers with a static kind: the memory types,
 * policies and flags memkind accepts, and the kind each combination means.
 */
static const struct {
	memkind_memtype_t	 memtype;
	memkind_policy_t	 policy;
	memkind_bits_t		 flags;
	memkind_t		*kind;
} api_create_table[] = {
	{ MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_LOCAL, 0,
	    &MEMKIND_HBW },
	{ MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_LOCAL,
	    MEMKIND_MASK_PAGE_SIZE_2MB, &MEMKIND_HBW_HUGETLB },
	{ MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_ALL, 0,
	    &MEMKIND_HBW_ALL },
	{ MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_ALL,
	    MEMKIND_MASK_PAGE_SIZE_2MB, &MEMKIND_HBW_ALL_HUGETLB },
	{ MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_PREFERRED_LOCAL, 0,
	    &MEMKIND_HBW_PREFERRED },
	{ MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_PREFERRED_LOCAL,
	    MEMKIND_MASK_PAGE_SIZE_2MB, &MEMKIND_HBW_PREFERRED_HUGETLB },
	{ MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_INTERLEAVE_ALL, 0,
	    &MEMKIND_HBW_INTERLEAVE },
	{ MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL, 0,
	    &MEMKIND_DEFAULT },
	{ MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL,
	    MEMKIND_MASK_PAGE_SIZE_2MB, &MEMKIND_HUGETLB },
	{ MEMKIND_MEMTYPE_DEFAULT | MEMKIND_MEMTYPE_HIGH_BANDWIDTH,
	    MEMKIND_POLICY_INTERLEAVE_ALL, 0, &MEMKIND_INTERLEAVE },
};

PMT_EXPORT int
memkind_create_kind(memkind_memtype_t memtype_flags, memkind_policy_t policy,
    memkind_bits_t flags, memkind_t *kind)
{
	unsigned	known = MEMKIND_MEMTYPE_DEFAULT |
			    MEMKIND_MEMTYPE_HIGH_BANDWIDTH;
	size_t		i;

	/* As memkind: bad bits or policy first, then the combination. */
	if (memtype_flags == 0 || (memtype_flags & ~known) != 0 ||
	    ((unsigned)flags & ~(unsigned)MEMKIND_MASK_PAGE_SIZE_2MB) != 0 ||
	    (unsigned)policy >= MEMKIND_POLICY_MAX_VALUE || kind == NULL)
		return MEMKIND_ERROR_INVALID;
	for (i = 0; i < sizeof(api_create_table) /
	    sizeof(api_create_table[0]); i++) {
		if (api_create_table[i].memtype != memtype_flags ||
		    api_create_table[i].policy != policy ||
		    api_create_table[i].flags != flags)
			continue;
		if (memkind_check_available(*api_create_table[i].kind) == 0) {
			*kind = *api_create_table[i].kind;
			return MEMKIND_SUCCESS;
		}
		/* Preferred memory that is not there: ordinary memory. */
		if (policy == MEMKIND_POLICY_PREFERRED_LOCAL) {
			*kind = MEMKIND_DEFAULT;
			return MEMKIND_SUCCESS;
		}
		return MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE;
	}
	return MEMKIND_ERROR_INVALID;
}

PMT_EXPORT int
memkind_create_fixed(void *addr, size_t size, memkind_t *kind)
{
	return pmt_kind_create_fixed(addr, size, kind);
}

/*
 * Partitions: memkind's static kinds in its order, then created kinds by
 * slot, as far as memkind's numbering reaches (MEMKIND_MAX_KIND).
 */
PMT_EXPORT int
memkind_get_kind_by_partition(int partition, memkind_t *kind)
{
	memkind_t	*base[MEMKIND_NUM_BASE_KIND] = {
		&MEMKIND_DEFAULT, &MEMKIND_HBW, &MEMKIND_HBW_HUGETLB,
		&MEMKIND_HBW_PREFERRED, &MEMKIND_HBW_PREFERRED_HUGETLB,
		&MEMKIND_HUGETLB, &MEMKIND_HBW_GBTLB,
		&MEMKIND_HBW_PREFERRED_GBTLB, &MEMKIND_GBTLB,
		&MEMKIND_HBW_INTERLEAVE, &MEMKIND_INTERLEAVE, &MEMKIND_REGULAR,
		&MEMKIND_HBW_ALL, &MEMKIND_HBW_ALL_HUGETLB, &MEMKIND_DAX_KMEM,
		&MEMKIND_DAX_KMEM_ALL, &MEMKIND_DAX_KMEM_PREFERRED,
		&MEMKIND_DAX_KMEM_INTERLEAVE, &MEMKIND_HIGHEST_CAPACITY,
		&MEMKIND_HIGHEST_CAPACITY_PREFERRED,
		&MEMKIND_HIGHEST_CAPACITY_LOCAL,
		&MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED,
		&MEMKIND_LOWEST_LATENCY_LOCAL,
		&MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED,
		&MEMKIND_HIGHEST_BANDWIDTH_LOCAL,
		&MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED,
	};
	memkind_t	 k = NULL;

	if (kind == NULL)
		return MEMKIND_ERROR_INVALID;
	if (partition >= 0 && partition < MEMKIND_NUM_BASE_KIND)
		k = *base[partition];
	else if (partition >= MEMKIND_NUM_BASE_KIND &&
	    partition < MEMKIND_MAX_KIND)
		k = pmt_kind_created(
		    (unsigned)(partition - MEMKIND_NUM_BASE_KIND));
	*kind = k;
	return k != NULL ? MEMKIND_SUCCESS : MEMKIND_ERROR_UNAVAILABLE;
}

PMT_EXPORT int
memkind_destroy_kind(memkind_t kind)
{
	return pmt_kind_destroy(kind);
}

PMT_EXPORT int
memkind_check_available(memkind_t kind)
{
	if (kind == NULL)
		return MEMKIND_ERROR_INVALID;
	switch (kind->type) {
	case PMT_KIND_DRAM:
		return MEMKIND_SUCCESS;
	case PMT_KIND_UNAVAILABLE:
		/* Huge pages are not served: as memkind where none exist. */
		return kind == MEMKIND_HUGETLB ? MEMKIND_ERROR_HUGETLB :
		    MEMKIND_ERROR_UNAVAILABLE;
	case PMT_KIND_ARENA:
		if (pmt_kind_ready(kind) == 0)
			return MEMKIND_SUCCESS;
		/* memkind's reason, e.g. no node of the highest capacity. */
		return kind->init_err < 0 ? kind->init_err :
		    MEMKIND_ERROR_UNAVAILABLE;
	default:
		return MEMKIND_ERROR_UNAVAILABLE;
	}
}

static ssize_t
api_tier_capacity(const char *name)
{
	struct pmt_tier	t;
	uint64_t	cap;

	if (pmt_conn_tier_by_name(name, &t) != 0)
		return -1;
	cap = t.capacity;
	if (t.quota_limited && t.quota < cap)
		cap = t.quota;
	return (ssize_t)cap;
}

/*
 * As memkind: the memory of the NUMA nodes the kind may use. DEFAULT may
 * use the process's allowed nodes, REGULAR the nodes with CPUs. Without
 * NUMA information in sysfs, all physical memory.
 */
static ssize_t
api_dram_capacity(memkind_t kind)
{
	ssize_t	cap;

	cap = pmt_node_capacity(kind == MEMKIND_REGULAR ?
	    PMT_NODES_WITH_CPUS : PMT_NODES_ALLOWED);
	if (cap > 0)
		return cap;
	return (ssize_t)sysconf(_SC_PHYS_PAGES) * (ssize_t)sysconf(_SC_PAGESIZE);
}

PMT_EXPORT ssize_t
memkind_get_capacity(memkind_t kind)
{
	struct statvfs	sv;

	if (kind == NULL)
		return -1;
	if (kind->type == PMT_KIND_DRAM || kind == MEMKIND_REGULAR)
		return api_dram_capacity(kind);
	/* memkind sums the nodes of a kind's nodemask; HUGETLB has none. */
	if (kind == MEMKIND_HUGETLB)
		return 0;
	if (kind->type != PMT_KIND_ARENA || pmt_kind_ready(kind) != 0)
		return -1;
	/* The nodes the kind binds to (for a _LOCAL kind, this CPU's). */
	if (kind->anon)
		return pmt_numa_capacity(kind->numa);
	/* The size given, even one that holds no whole page (0 too). */
	if (kind->fixed || kind->max_size != 0)
		return (ssize_t)kind->max_size;
	if (kind->heap.daemon)
		return api_tier_capacity(kind->heap.tier);
	if (statvfs(kind->dir, &sv) != 0)
		return -1;
	return (ssize_t)(sv.f_blocks * sv.f_frsize);
}

/* DAX means a MAP_SYNC mapping of a file there succeeds. */
static int
api_dax_local(const char *dir)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);
	void	*p;
	int	 fd, rc = MEMKIND_SUCCESS;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return MEMKIND_ERROR_RUNTIME;
	if (ftruncate(fd, (off_t)page) != 0)
		rc = MEMKIND_ERROR_RUNTIME;
	else if ((p = mmap(NULL, page, PROT_READ | PROT_WRITE,
	    MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0)) == MAP_FAILED)
		rc = MEMKIND_ERROR_MMAP;
	else
		munmap(p, page);
	close(fd);
	return rc;
}

PMT_EXPORT int
memkind_check_dax_path(const char *pmem_dir)
{
	if (pmem_dir == NULL)
		return MEMKIND_ERROR_INVALID;
	return api_dax_local(pmem_dir);
}

/*
 * memkind switches jemalloc's background threads; here the switch is the
 * library's own purge thread (bg.h), which looks after the pmem and kmem
 * kinds only and leaves the program's malloc as it is. On by default.
 */
PMT_EXPORT int
memkind_set_bg_threads(bool state)
{
	return pmt_bg_set(state) == 0 ? MEMKIND_SUCCESS :
	    MEMKIND_ERROR_OPERATION_FAILED;
}

PMT_EXPORT int
memkind_get_version(void)
{
	return API_MEMKIND_VERSION;
}

static const struct {
	int		 code;
	const char	*msg;
} api_errors[] = {
	{ MEMKIND_SUCCESS, "<memkind> Success" },
	{ MEMKIND_ERROR_UNAVAILABLE, "<memkind> Requested memory kind is not "
	    "available (no pmemtierd, or no tier for it)" },
	{ MEMKIND_ERROR_MBIND, "<memkind> Call to mbind() failed" },
	{ MEMKIND_ERROR_MMAP, "<memkind> Call to mmap() failed" },
	{ MEMKIND_ERROR_MALLOC, "<memkind> Call to malloc() failed" },
	{ MEMKIND_ERROR_ENVIRON, "<memkind> Error parsing environment "
	    "variable (PMEMTIER_MODE)" },
	{ MEMKIND_ERROR_INVALID, "<memkind> Invalid input arguments to "
	    "memkind routine" },
	{ MEMKIND_ERROR_TOOMANY, "<memkind> Attempted to initialize more than "
	    "maximum (512) number of kinds" },
	{ MEMKIND_ERROR_BADOPS, "<memkind> memkind_ops structure is poorly "
	    "formed (missing or disallowed members)" },
	{ MEMKIND_ERROR_HUGETLB, "<memkind> unable to allocate huge pages" },
	{ MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE, "<memkind> Requested memory "
	    "type is not available" },
	{ MEMKIND_ERROR_OPERATION_FAILED, "<memkind> Operation failed" },
	{ MEMKIND_ERROR_ARENAS_CREATE, "<memkind> Call to jemalloc's "
	    "arenas.create () failed" },
	{ MEMKIND_ERROR_RUNTIME, "<memkind> Unspecified run-time error" },
};

PMT_EXPORT void
memkind_error_message(int err, char *msg, size_t size)
{
	size_t	i;

	if (msg == NULL || size == 0)
		return;
	for (i = 0; i < sizeof(api_errors) / sizeof(api_errors[0]); i++)
		if (api_errors[i].code == err) {
			snprintf(msg, size, "%s", api_errors[i].msg);
			return;
		}
	snprintf(msg, size, "<memkind> Undefined error number: %i", err);
}

PMT_EXPORT const char *
pmemtier_version(void)
{
	return PMEMTIER_VERSION;
}

PMT_EXPORT int
pmemtier_kind_get_info(memkind_t kind, struct pmemtier_kind_info *info)
{
	/* REGULAR has an arena too, but no lease, tier or mode to tell. */
	if (kind == NULL || info == NULL || kind->type != PMT_KIND_ARENA ||
	    kind->anon)
		return MEMKIND_ERROR_INVALID;
	if (pmt_kind_ready(kind) != 0)
		return MEMKIND_ERROR_UNAVAILABLE;
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", kind->name);
	info->mode = kind->fixed ? PMEMTIER_MODE_FIXED : kind->heap.daemon ?
	    PMEMTIER_MODE_DAEMON : PMEMTIER_MODE_STANDALONE;
	snprintf(info->tier, sizeof(info->tier), "%s", kind->heap.tier);
	info->leased = pmt_heap_leased(&kind->heap);
	info->leases = pmt_heap_nleases(&kind->heap);
	info->max_size = kind->max_size;
	info->reserved = kind->heap.reserved;
	info->metadata_in_dram = pmt_je_arena_metadata_in_dram(kind->arena);
	return MEMKIND_SUCCESS;
}

PMT_EXPORT int
pmemtier_kind_purge(memkind_t kind)
{
	if (kind == NULL || kind->type != PMT_KIND_ARENA ||
	    pmt_kind_ready(kind) != 0)
		return MEMKIND_ERROR_INVALID;
	pmt_thread_flush(kind);
	pmt_je_arena_purge(kind->arena);
	return MEMKIND_SUCCESS;
}
