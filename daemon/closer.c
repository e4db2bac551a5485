/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "closer.h"
#include "log.h"

struct closer_fd {
	struct closer_fd	*next;
	int			 fd;
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_t	 thread;
	int		 running;
	int		 stop;
	unsigned	 pending;
	struct closer_fd *head, *tail;
} closer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void *
closer_main(void *arg)
{
	struct closer_fd	*q;

	(void)arg;
	pthread_mutex_lock(&closer.lock);
	for (;;) {
		while (closer.head == NULL && !closer.stop)
			pthread_cond_wait(&closer.cond, &closer.lock);
		if ((q = closer.head) == NULL)
			break;
		closer.head = q->next;
		if (closer.head == NULL)
			closer.tail = NULL;
		pthread_mutex_unlock(&closer.lock);
		close(q->fd);
		free(q);
		pthread_mutex_lock(&closer.lock);
		closer.pending--;
	}
	pthread_mutex_unlock(&closer.lock);
	return NULL;
}

int
closer_init(void)
{
	sigset_t	all, old;
	int		rc;

	/* Signals stay with the event loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&closer.thread, NULL, closer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	closer.running = 1;
	return 0;
}

void
closer_push(const int *fds, size_t n)
{
	struct closer_fd	*q;
	size_t			 i;

	for (i = 0; i < n; i++) {
		/*
		 * A socket's close is made abortive so that it cannot wait
		 * out a linger time (setsockopt fails harmlessly on anything
		 * else); other files (a FUSE file's flush) may still block,
		 * which is why closing happens on this thread.
		 */
		(void)setsockopt(fds[i], SOL_SOCKET, SO_LINGER,
		    &(struct linger){ .l_onoff = 1, .l_linger = 0 },
		    sizeof(struct linger));
		if (!closer.running || (q = malloc(sizeof(*q))) == NULL) {
			close(fds[i]);
			continue;
		}
		q->fd = fds[i];
		q->next = NULL;
		pthread_mutex_lock(&closer.lock);
		if (closer.tail != NULL)
			closer.tail->next = q;
		else
			closer.head = q;
		closer.tail = q;
		closer.pending++;
		pthread_cond_signal(&closer.cond);
		pthread_mutex_unlock(&closer.lock);
	}
}

unsigned
closer_pending(void)
{
	unsigned	n;

	pthread_mutex_lock(&closer.lock);
	n = closer.pending;
	pthread_mutex_unlock(&closer.lock);
	return n;
}

void
closer_fini(void)
{
	struct timespec	deadline;

	if (!closer.running)
		return;
	pthread_mutex_lock(&closer.lock);
	closer.stop = 1;
	pthread_cond_signal(&closer.cond);
	pthread_mutex_unlock(&closer.lock);
	/* A close that still blocks is not worth a hung shutdown. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	if (pthread_timedjoin_np(closer.thread, NULL, &deadline) != 0) {
		log_warnx("closer: a peer's descriptor is still closing; "
		    "leaving it to the exit");
		pthread_detach(closer.thread);
	}
	closer.running = 0;
	closer.stop = 0;
}
