/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bump allocator for decoding one request. protobuf-c's unpack with the
 * default allocator makes a malloc per message, string and array, and
 * free_unpacked walks the descriptors again to give them back: about a
 * sixth of the daemon's instructions per grant. The daemon handles one
 * packet at a time and keeps no pointer into a request once it is
 * answered, so every allocation of a request can end together.
 */
#ifndef PMEMTIERD_ARENA_H
#define PMEMTIERD_ARENA_H

#include <protobuf-c/protobuf-c.h>

/* The allocator to pass to pmemtier__envelope__unpack(). */
ProtobufCAllocator *arena_allocator(void);
/* Ends every allocation made since the last reset. */
void	arena_reset(void);

#endif /* PMEMTIERD_ARENA_H */
