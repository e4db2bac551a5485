/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slow work off the event loop: one thread that runs jobs in the order
 * they were submitted, then hands each back to the loop. Filling a lease
 * file costs ~100 ms per GiB on tmpfs and freeing one ~45 ms; an audit
 * fstat()s every lease and trims the grown ones. None of that may stall
 * the loop that serves everyone else.
 *
 * Order is the worker's one guarantee, and the lease table rests on it: a
 * job may use the daemon's own lease descriptors if it pins them when it
 * is submitted (worker_pin) and unpins them when it completes, because
 * the loop lets go of such a descriptor only through worker_close(),
 * which closes a pinned one after the jobs submitted before it. Without a
 * thread
 * (worker_init not called: unit tests, fuzzers) each job runs and
 * completes inside worker_submit().
 */
#ifndef PMEMTIERD_WORKER_H
#define PMEMTIERD_WORKER_H

#include <sys/queue.h>
#include <stdint.h>

struct event_base;

/* Below this a lease is filled or freed on the loop: it costs < 0.3 ms. */
#define WORKER_MIN_BYTES	(4ULL << 20)

struct work {
	TAILQ_ENTRY(work)	 entry;
	/* On the worker thread: touches nothing but the job's own fields. */
	void			(*run)(struct work *);
	/* Back on the loop (may be NULL); owns and frees the job. */
	void			(*done)(struct work *);
};

/* Starts the thread and its completion event on base; 0 or -errno. */
int	worker_init(struct event_base *);
/* Runs what is queued to its end, completes it, stops the thread. */
void	worker_fini(void);
/* Queues w (a job without done is freed after it ran). */
void	worker_submit(struct work *);
/* Is the thread running (else jobs complete inside worker_submit)? */
int	worker_running(void);
/* Jobs submitted and not yet completed. */
unsigned worker_pending(void);
/* Descriptors queued to be closed (they count against the fd budget). */
unsigned worker_fds(void);
/* A job uses fd: it is not closed before the job completed. */
int	worker_pin(int fd);		/* 0, or -1 when out of memory */
void	worker_unpin(int fd);
int	worker_pinned(int fd);
/*
 * Closes one of the daemon's lease descriptors: at once when it is not
 * pinned and the file holds less than WORKER_MIN_BYTES (closing the last
 * fd of a file frees its blocks), else on the worker after every job
 * submitted so far. Returns 1 when the close was queued.
 */
int	worker_close(int fd, uint64_t bytes);
#endif /* PMEMTIERD_WORKER_H */
