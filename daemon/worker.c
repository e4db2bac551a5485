/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/eventfd.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "worker.h"

TAILQ_HEAD(works, work);

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_cond_t	 idle;		/* queue empty, no job running */
	pthread_t	 thread;
	int		 running;
	int		 stop;
	int		 busy;		/* running a job */
	int		 efd;		/* the thread tells the loop: done */
	struct event	*ev;
	struct event_base *base;
	struct works	 queue;		/* to run */
	struct works	 done;		/* ran, back to the loop */
	unsigned	 pending;	/* submitted, not completed: loop only */
	unsigned	 fds;		/* close jobs pending: loop only */
	/* The close lane: unordered closes of unpinned descriptors. */
	pthread_cond_t	 ccond;		/* a close queued, or stop */
	pthread_cond_t	 cidle;		/* a close finished */
	pthread_t	 closers[WORKER_CLOSERS];
	int		 nclosers;
	struct works	 cqueue;
	uint64_t	 cseq;		/* last close queued */
	uint64_t	 crunning[WORKER_CLOSERS];	/* seq, 0 idle */
} worker = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.ccond = PTHREAD_COND_INITIALIZER,
	.cidle = PTHREAD_COND_INITIALIZER,
	.efd = -1,
	.queue = TAILQ_HEAD_INITIALIZER(worker.queue),
	.done = TAILQ_HEAD_INITIALIZER(worker.done),
	.cqueue = TAILQ_HEAD_INITIALIZER(worker.cqueue),
};

struct worker_close {
	struct work	 w;
	int		 fd;
	uint64_t	 seq;		/* close lane: order of submission */
	struct work	*then;		/* completed right after the close */
	struct worker_keep keep;	/* keep.empty NULL: a plain close */
	uint64_t	 val[2];
};

/*
 * Pins, per descriptor number (a job pins a descriptor at most once, so
 * a count only goes above 1 when audits overlap).
 */
static uint16_t	*worker_pins;
static size_t	 worker_npins;

/* Hands a job that ran back to the loop; called with the lock held. */
static void
worker_ran(struct work *w)
{
	uint64_t	one = 1;
	int		wake;

	/* One wake-up for a batch: the loop takes the whole list. */
	wake = TAILQ_EMPTY(&worker.done);
	TAILQ_INSERT_TAIL(&worker.done, w, entry);
	if (wake && write(worker.efd, &one, sizeof(one)) < 0)
		log_warn("worker: eventfd");
}

static void *
worker_main(void *arg)
{
	struct work	*w;

	(void)arg;
	pthread_mutex_lock(&worker.lock);
	for (;;) {
		while (TAILQ_EMPTY(&worker.queue) && !worker.stop) {
			pthread_cond_broadcast(&worker.idle);
			pthread_cond_wait(&worker.cond, &worker.lock);
		}
		if ((w = TAILQ_FIRST(&worker.queue)) == NULL)
			break;
		TAILQ_REMOVE(&worker.queue, w, entry);
		worker.busy = 1;
		pthread_mutex_unlock(&worker.lock);
		w->run(w);
		pthread_mutex_lock(&worker.lock);
		worker.busy = 0;
		worker_ran(w);
	}
	pthread_cond_broadcast(&worker.idle);
	pthread_mutex_unlock(&worker.lock);
	return NULL;
}

/* A thread of the close lane: closes in any order, several at a time. */
static void *
worker_closer_main(void *arg)
{
	struct worker_close	*wc;
	size_t			 me = (size_t)(uintptr_t)arg;

	pthread_mutex_lock(&worker.lock);
	for (;;) {
		while (TAILQ_EMPTY(&worker.cqueue) && !worker.stop)
			pthread_cond_wait(&worker.ccond, &worker.lock);
		if ((wc = (struct worker_close *)TAILQ_FIRST(&worker.cqueue))
		    == NULL)
			break;
		TAILQ_REMOVE(&worker.cqueue, &wc->w, entry);
		worker.crunning[me] = wc->seq;
		pthread_mutex_unlock(&worker.lock);
		wc->w.run(&wc->w);
		pthread_mutex_lock(&worker.lock);
		worker.crunning[me] = 0;
		worker_ran(&wc->w);
		pthread_cond_broadcast(&worker.cidle);
	}
	pthread_mutex_unlock(&worker.lock);
	return NULL;
}

/* Has every close up to seq run? Called with the lock held. */
static int
worker_closed_upto(uint64_t seq)
{
	struct worker_close	*head;
	int			 i;

	head = (struct worker_close *)TAILQ_FIRST(&worker.cqueue);
	if (head != NULL && head->seq <= seq)
		return 0;
	for (i = 0; i < worker.nclosers; i++)
		if (worker.crunning[i] != 0 && worker.crunning[i] <= seq)
			return 0;
	return 1;
}

uint64_t
worker_close_seq(void)
{
	return worker.cseq;
}

void
worker_wait_closes(uint64_t seq)
{
	pthread_mutex_lock(&worker.lock);
	while (!worker_closed_upto(seq))
		pthread_cond_wait(&worker.cidle, &worker.lock);
	pthread_mutex_unlock(&worker.lock);
}

/* Waits until the thread has run everything queued (not completed). */
static void
worker_drain(void)
{
	pthread_mutex_lock(&worker.lock);
	while (!TAILQ_EMPTY(&worker.queue) || worker.busy)
		pthread_cond_wait(&worker.idle, &worker.lock);
	pthread_mutex_unlock(&worker.lock);
}

static void
worker_complete(struct work *w)
{
	worker.pending--;
	if (w->done != NULL)
		w->done(w);
	else
		free(w);
}

/* Completes, on the loop, every job the thread has run. */
static void
worker_reap(void)
{
	struct works	 batch = TAILQ_HEAD_INITIALIZER(batch);
	struct work	*w;

	pthread_mutex_lock(&worker.lock);
	TAILQ_CONCAT(&batch, &worker.done, entry);
	pthread_mutex_unlock(&worker.lock);
	while ((w = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, w, entry);
		worker_complete(w);
	}
}

static void
worker_event(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	n;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("worker: eventfd read");
	worker_reap();
}

int
worker_init(struct event_base *base)
{
	sigset_t	all, old;
	int		rc;

	worker.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (worker.efd < 0)
		return -errno;
	worker.base = base;
	worker.ev = event_new(base, worker.efd, EV_READ | EV_PERSIST,
	    worker_event, NULL);
	if (worker.ev == NULL || event_add(worker.ev, NULL) != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	/* Signals stay with the event loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&worker.thread, NULL, worker_main, NULL);
	/* Without its close lane the worker still works: closes go there. */
	while (rc == 0 && worker.nclosers < WORKER_CLOSERS &&
	    pthread_create(&worker.closers[worker.nclosers], NULL,
	    worker_closer_main, (void *)(uintptr_t)worker.nclosers) == 0)
		worker.nclosers++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		rc = -rc;
		goto fail;
	}
	worker.running = 1;
	return 0;
fail:
	if (worker.ev != NULL)
		event_free(worker.ev);
	worker.ev = NULL;
	close(worker.efd);
	worker.efd = -1;
	return rc;
}

void
worker_fini(void)
{
	if (!worker.running)
		return;
	pthread_mutex_lock(&worker.lock);
	worker.stop = 1;
	pthread_cond_signal(&worker.cond);
	pthread_cond_broadcast(&worker.ccond);
	pthread_mutex_unlock(&worker.lock);
	/* Jobs are bounded (fallocate, fstat, truncate): wait them out. */
	pthread_join(worker.thread, NULL);
	while (worker.nclosers > 0)
		pthread_join(worker.closers[--worker.nclosers], NULL);
	worker.running = 0;
	worker.stop = 0;
	worker_reap();
	event_free(worker.ev);
	worker.ev = NULL;
	close(worker.efd);
	worker.efd = -1;
	free(worker_pins);
	worker_pins = NULL;
	worker_npins = 0;
}

void
worker_submit(struct work *w)
{
	worker.pending++;
	if (!worker.running) {
		w->run(w);
		worker_complete(w);
		return;
	}
	pthread_mutex_lock(&worker.lock);
	TAILQ_INSERT_TAIL(&worker.queue, w, entry);
	pthread_cond_signal(&worker.cond);
	pthread_mutex_unlock(&worker.lock);
}

int
worker_running(void)
{
	return worker.running;
}

unsigned
worker_pending(void)
{
	return worker.pending;
}

unsigned
worker_fds(void)
{
	return worker.fds;
}

static void
worker_close_run(struct work *w)
{
	struct worker_close	*wc = (struct worker_close *)w;

	if (wc->keep.empty != NULL && wc->keep.empty(wc->fd, wc->val) == 0)
		return;
	close(wc->fd);
	wc->fd = -1;
}

static void
worker_close_done(struct work *w)
{
	struct worker_close	*wc = (struct worker_close *)w;

	worker.fds--;
	if (wc->keep.keep != NULL)
		wc->keep.keep(wc->keep.arg, wc->fd, wc->val);
	if (wc->then != NULL)
		wc->then->done(wc->then);
	free(wc);
}

int
worker_close_then(int fd, uint64_t bytes, int sleeps, struct work *then)
{
	return worker_dispose_then(fd, bytes, sleeps, then, NULL);
}

int
worker_dispose_then(int fd, uint64_t bytes, int sleeps, struct work *then,
    const struct worker_keep *k)
{
	struct worker_close	*wc;
	uint64_t		 val[2] = { 0, 0 };
	int			 pinned = worker_pinned(fd);

	if (fd < 0) {
		if (k != NULL)
			k->keep(k->arg, -1, val);
		return 0;
	}
	/*
	 * A close that sleeps (WORKER_LANE_BUSY) goes to the lane only when
	 * someone else is waiting for the loop (events ready in this
	 * round): alone, the client waits for its answer either way, and
	 * the hand-off to a thread and back would only add to it.
	 */
	if (sleeps == WORKER_LANE_BUSY && worker.running &&
	    event_base_get_num_events(worker.base, EVENT_BASE_COUNT_ACTIVE) ==
	    0)
		sleeps = WORKER_LANE_NO;
	if ((!pinned && bytes < WORKER_MIN_BYTES && !sleeps) ||
	    !worker.running || (wc = calloc(1, sizeof(*wc))) == NULL) {
		/* Out of memory and a job uses fd: wait for it first. */
		if (pinned && worker.running)
			worker_drain();
		if (k != NULL && k->empty(fd, val) == 0) {
			k->keep(k->arg, fd, val);
			return 0;
		}
		close(fd);
		if (k != NULL)
			k->keep(k->arg, -1, val);
		return 0;
	}
	wc->w.run = worker_close_run;
	wc->w.done = worker_close_done;
	wc->fd = fd;
	if (k != NULL)
		wc->keep = *k;
	worker.fds++;
	if (pinned || bytes >= WORKER_MIN_BYTES || worker.nclosers == 0) {
		/* After the jobs that use fd; then after it, in order. */
		worker_submit(&wc->w);
		if (then != NULL)
			worker_submit(then);
		return 1;
	}
	wc->then = then;
	worker.pending++;
	pthread_mutex_lock(&worker.lock);
	wc->seq = ++worker.cseq;
	TAILQ_INSERT_TAIL(&worker.cqueue, &wc->w, entry);
	pthread_cond_signal(&worker.ccond);
	pthread_mutex_unlock(&worker.lock);
	return 1;
}

int
worker_close(int fd, uint64_t bytes)
{
	return worker_close_then(fd, bytes, 0, NULL);
}

int
worker_pin(int fd)
{
	uint16_t	*p;
	size_t		 n;

	if (fd < 0)
		return 0;
	if ((size_t)fd >= worker_npins) {
		n = ((size_t)fd + 1024) & ~(size_t)1023;
		if ((p = realloc(worker_pins, n * sizeof(*p))) == NULL)
			return -1;
		memset(p + worker_npins, 0, (n - worker_npins) * sizeof(*p));
		worker_pins = p;
		worker_npins = n;
	}
	worker_pins[fd]++;
	return 0;
}

void
worker_unpin(int fd)
{
	if (fd >= 0 && (size_t)fd < worker_npins && worker_pins[fd] > 0)
		worker_pins[fd]--;
}

int
worker_pinned(int fd)
{
	return fd >= 0 && (size_t)fd < worker_npins && worker_pins[fd] > 0;
}
