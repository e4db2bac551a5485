/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the client library's tests. */
#ifndef PMT_TUTIL_H
#define PMT_TUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A private directory under $TMPDIR (or /tmp); tu_rmdir removes it. */
int	tu_mkdtemp(char *buf, size_t size, const char *tag);
void	tu_rmdir(const char *dir);

/*
 * Bytes really allocated (st_blocks * 512) in this process's open files
 * whose path starts with prefix: the lease files of standalone kinds in
 * a private directory, or of daemon leases in the tier's directory.
 */
long long tu_file_blocks(const char *prefix);
/* This process's open descriptors. */
int	tu_count_fds(void);
/* The count once it equals want, or after 2 s. */
int	tu_settled_fds(int want);

/*
 * Runs fn in a child whose stderr is captured; returns the number of bytes
 * it wrote there, or -1. The child's exit status goes to *status.
 */
ssize_t	tu_stderr_bytes(void (*fn)(void *), void *arg, int *status);

/*
 * jemalloc's count of the bytes this thread has allocated so far
 * (mallctl "thread.allocated", found at run time: the tests link
 * libpmemtier only). 0, or -1 when there is no such jemalloc.
 */
int	tu_thread_allocated(uint64_t *bytes);

/* Fills and checks a recognisable pattern. */
void	tu_fill(void *p, size_t n, unsigned seed);
int	tu_check(const void *p, size_t n, unsigned seed);

#endif /* PMT_TUTIL_H */
