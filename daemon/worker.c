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
	struct works	 queue;		/* to run */
	struct works	 done;		/* ran, back to the loop */
	unsigned	 pending;	/* submitted, not completed: loop only */
	unsigned	 fds;		/* close jobs pending: loop only */
} worker = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.efd = -1,
	.queue = TAILQ_HEAD_INITIALIZER(worker.queue),
	.done = TAILQ_HEAD_INITIALIZER(worker.done),
};

/*
 * Pins, per descriptor number (a job pins a descriptor at most once, so
 * a count only goes above 1 when audits overlap).
 */
static uint16_t	*worker_pins;
static size_t	 worker_npins;

static void *
worker_main(void *arg)
{
	struct work	*w;
	uint64_t	 one = 1;
	int		 wake;

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
		/* One wake-up for a batch: the loop takes the whole list. */
		wake = TAILQ_EMPTY(&worker.done);
		TAILQ_INSERT_TAIL(&worker.done, w, entry);
		if (wake && write(worker.efd, &one, sizeof(one)) < 0)
			log_warn("worker: eventfd");
	}
	pthread_cond_broadcast(&worker.idle);
	pthread_mutex_unlock(&worker.lock);
	return NULL;
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
	pthread_mutex_unlock(&worker.lock);
	/* Jobs are bounded (fallocate, fstat, truncate): wait them out. */
	pthread_join(worker.thread, NULL);
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

struct worker_close {
	struct work	w;
	int		fd;
};

static void
worker_close_run(struct work *w)
{
	close(((struct worker_close *)w)->fd);
}

static void
worker_close_done(struct work *w)
{
	worker.fds--;
	free(w);
}

int
worker_close(int fd, uint64_t bytes)
{
	struct worker_close	*wc;
	int			 pinned = worker_pinned(fd);

	if (fd < 0)
		return 0;
	if ((!pinned && bytes < WORKER_MIN_BYTES) || !worker.running ||
	    (wc = calloc(1, sizeof(*wc))) == NULL) {
		/* Out of memory and a job uses fd: wait for it first. */
		if (pinned && worker.running)
			worker_drain();
		close(fd);
		return 0;
	}
	wc->w.run = worker_close_run;
	wc->w.done = worker_close_done;
	wc->fd = fd;
	worker.fds++;
	worker_submit(&wc->w);
	return 1;
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
