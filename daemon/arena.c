/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

/*
 * Requests are small (a LeaseRequest unpacks into well under 1 KiB); the
 * arena covers the common case and lives in .bss, so only the pages a
 * request really touches count in the daemon's RSS. A larger request
 * spills into malloc'd blocks that the next reset frees.
 */
#define ARENA_SIZE	(16 * 1024)
#define ARENA_ALIGN	_Alignof(max_align_t)

struct arena_big {
	LIST_ENTRY(arena_big)	 entry;
	_Alignas(max_align_t) unsigned char data[];
};

static _Alignas(max_align_t) unsigned char	arena_buf[ARENA_SIZE];
static size_t					arena_used;
static LIST_HEAD(, arena_big)			arena_bigs =
    LIST_HEAD_INITIALIZER(arena_bigs);

static void *
arena_alloc(void *data, size_t size)
{
	struct arena_big	*b;
	size_t			 need;

	(void)data;
	need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (need >= size && need <= ARENA_SIZE - arena_used) {
		void	*p = arena_buf + arena_used;

		arena_used += need;
		return p;
	}
	if (size > SIZE_MAX - sizeof(*b) ||
	    (b = malloc(sizeof(*b) + size)) == NULL)
		return NULL;
	LIST_INSERT_HEAD(&arena_bigs, b, entry);
	return b->data;
}

/* protobuf-c frees on its own error paths; arena memory waits for reset. */
static void
arena_free(void *data, void *p)
{
	struct arena_big	*b;
	unsigned char		*q = p;

	(void)data;
	if (q == NULL || (q >= arena_buf && q < arena_buf + ARENA_SIZE))
		return;
	b = (struct arena_big *)(q - offsetof(struct arena_big, data));
	LIST_REMOVE(b, entry);
	free(b);
}

static ProtobufCAllocator	arena = {
	.alloc = arena_alloc,
	.free = arena_free,
	.allocator_data = NULL,
};

ProtobufCAllocator *
arena_allocator(void)
{
	return &arena;
}

void
arena_reset(void)
{
	struct arena_big	*b;

	arena_used = 0;
	while ((b = LIST_FIRST(&arena_bigs)) != NULL) {
		LIST_REMOVE(b, entry);
		free(b);
	}
}
