/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slow work off the event loop: one thread that runs jobs in the order
 * they were submitted, then hands each back to the loop. Filling a lease
 * file costs ~100 ms per GiB on tmpfs and freeing one ~45 ms; an audit
 * fstat()s every lease and trims the grown ones. None of that may stall
 * the loop that serves everyone else.
 *
 * Closing a lease file nobody else holds frees its blocks, and on ext4
 * the close sleeps (~55 us of wall time for 10 us of CPU for 64 KiB, the
 * journal; tier_file.c measures it per tier): a close lane of
 * WORKER_CLOSERS threads takes those, in any order and several at a time,
 * so that neither the loop nor the ordered jobs wait for them.
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

/* Below this a lease is filled on the loop: it costs < 0.3 ms. */
#define WORKER_MIN_BYTES	(4ULL << 20)
/* Threads of the close lane (4 overlap ext4's sleeping closes 3x). */
#define WORKER_CLOSERS		4

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
 * Closes one of the daemon's lease descriptors: a pinned one, or one whose
 * file holds WORKER_MIN_BYTES or more (closing the last fd of a file frees
 * its blocks), on the worker after every job submitted so far; any other
 * at once (no thread, or out of memory: always at once). Returns 1 when
 * the close was queued.
 */
int	worker_close(int fd, uint64_t bytes);
/* Where a small file's close goes (the tier's close_sleeps). */
#define WORKER_LANE_NO		0	/* on the loop */
#define WORKER_LANE_BUSY	1	/* the lane, when other events wait */
#define WORKER_LANE_ALWAYS	2	/* the lane */
/*
 * The same, but a small file may go to the close lane (sleeps: one of
 * WORKER_LANE_*); and when the close was queued,
 * then (a job of the caller's) is completed on the loop after it ran (on
 * the close lane its run() is not called: it must not need to be).
 */
int	worker_close_then(int fd, uint64_t bytes, int sleeps,
	    struct work *then);
/*
 * A lease descriptor that may be kept instead of closed (a file tier's
 * spare): empty() runs where the close would have (thread or loop) and
 * makes the file fit to keep, filling val; keep() then takes fd on the
 * loop. An empty() that fails has the fd closed there and then, and
 * keep() is called with fd -1: it is always called once.
 */
struct worker_keep {
	int	(*empty)(int fd, uint64_t val[2]);
	void	(*keep)(void *arg, int fd, const uint64_t val[2]);
	void	*arg;
};
/* worker_close_then, with k (NULL: a plain close). */
int	worker_dispose_then(int fd, uint64_t bytes, int sleeps,
	    struct work *then, const struct worker_keep *k);
/* The close lane: the last close queued, and waiting (on a thread that is
 * not the loop) until every close up to seq has run. */
uint64_t worker_close_seq(void);
void	worker_wait_closes(uint64_t seq);
#endif /* PMEMTIERD_WORKER_H */
