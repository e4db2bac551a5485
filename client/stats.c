/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memkind's statistics over jemalloc's. Blocks parked in the per-thread
 * front caches are free for the application, so they are taken out of
 * "allocated" (jemalloc counts them as allocated).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "conn.h"
#include "kind.h"
#include "thread.h"

struct stats_sum {
	struct pmt_je_stats	st;
};

static void
stats_kind(struct memkind *k, struct pmt_je_stats *st)
{
	size_t	cached;

	pmt_je_arena_stats(k->arena, st);
	cached = pmt_thread_cached(k);
	st->allocated = st->allocated > cached ? st->allocated - cached : 0;
}

static void
stats_add(struct memkind *k, void *arg)
{
	struct stats_sum	*s = arg;
	struct pmt_je_stats	 st;

	stats_kind(k, &st);
	s->st.allocated += st.allocated;
	s->st.active += st.active;
	s->st.resident += st.resident;
}

PMT_EXPORT int
memkind_update_cached_stats(void)
{
	/* A good moment to notice the daemon asking for our numbers. */
	pmt_kind_poll_and_report();
	return pmt_je_stats_refresh() == 0 ? MEMKIND_SUCCESS :
	    MEMKIND_ERROR_OPERATION_FAILED;
}

static size_t
stats_pick(const struct pmt_je_stats *st, memkind_stat_type type)
{
	switch (type) {
	case MEMKIND_STAT_TYPE_RESIDENT:
		return st->resident;
	case MEMKIND_STAT_TYPE_ACTIVE:
		return st->active;
	default:
		return st->allocated;
	}
}

PMT_EXPORT int
memkind_get_stat(memkind_t kind, memkind_stat_type stat, size_t *value)
{
	struct pmt_je_stats	st;
	struct stats_sum	arenas;

	if (value == NULL || (unsigned)stat >= MEMKIND_STAT_TYPE_MAX_VALUE)
		return MEMKIND_ERROR_INVALID;
	if (kind == NULL) {
		if (pmt_je_stats_total(&st) != 0)
			return MEMKIND_ERROR_OPERATION_FAILED;
		*value = stats_pick(&st, stat);
		return MEMKIND_SUCCESS;
	}
	switch (kind->type) {
	case PMT_KIND_ARENA:
		if (pmt_kind_ready(kind) != 0)
			return MEMKIND_ERROR_UNAVAILABLE;
		pmt_kind_lock();
		stats_kind(kind, &st);
		pmt_kind_unlock();
		*value = stats_pick(&st, stat);
		return MEMKIND_SUCCESS;
	case PMT_KIND_DRAM:
		/* Ordinary memory: the process total less the arena kinds. */
		if (pmt_je_stats_total(&st) != 0)
			return MEMKIND_ERROR_OPERATION_FAILED;
		memset(&arenas, 0, sizeof(arenas));
		pmt_kind_foreach(stats_add, &arenas);
		*value = stats_pick(&st, stat);
		if (*value > stats_pick(&arenas.st, stat))
			*value -= stats_pick(&arenas.st, stat);
		else
			*value = 0;
		return MEMKIND_SUCCESS;
	default:
		return MEMKIND_ERROR_UNAVAILABLE;
	}
}

static void
stats_write_stderr(void *arg, const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

PMT_EXPORT int
memkind_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
    memkind_stat_print_opt opts)
{
	static const struct {
		unsigned	bit;
		char		c;
	} map[] = {
		{ MEMKIND_STAT_PRINT_JSON_FORMAT, 'J' },
		{ MEMKIND_STAT_PRINT_OMIT_GENERAL, 'g' },
		{ MEMKIND_STAT_PRINT_OMIT_MERGED_ARENA, 'm' },
		{ MEMKIND_STAT_PRINT_OMIT_DESTROYED_MERGED_ARENA, 'd' },
		{ MEMKIND_STAT_PRINT_OMIT_PER_ARENA, 'a' },
		{ MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_BINS, 'b' },
		{ MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_LARGE, 'l' },
		{ MEMKIND_STAT_PRINT_OMIT_MUTEX, 'x' },
		{ MEMKIND_STAT_PRINT_OMIT_EXTENT, 'e' },
	};
	char		o[16];
	unsigned	i, n = 0, all = 0;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		all |= map[i].bit;
		if ((unsigned)opts & map[i].bit)
			o[n++] = map[i].c;
	}
	o[n] = '\0';
	if (((unsigned)opts & ~all) != 0)
		return MEMKIND_ERROR_INVALID;
	/* The caller asked for output: stderr is memkind's default too. */
	return pmt_je_stats_print(write_cb ? write_cb : stats_write_stderr,
	    cbopaque, o) == 0 ? MEMKIND_SUCCESS : MEMKIND_ERROR_INVALID;
}
