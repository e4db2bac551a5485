/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "bg.h"
#include "conn.h"
#include "memtier.h"
#include "debug.h"
#include "je.h"
#include "kind.h"
#include "thread.h"

/* A pass runs every decay time / BG_STEPS, within these bounds. */
#define BG_STEPS	8
#define BG_MIN_MS	20
#define BG_MAX_MS	1000

/* Held for a whole pass; taken first in the fork prepare handler. */
static pthread_mutex_t	bg_pass_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Guards everything below; never held while taking another lock. */
static pthread_mutex_t	bg_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Serializes memkind_set_bg_threads() calls (start, stop and join). */
static pthread_mutex_t	bg_set_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	bg_cond;
static bool		bg_cond_ok;
static bool		bg_on = true;	/* memkind_set_bg_threads() */
static bool		bg_running;	/* the thread exists */
static bool		bg_stop;
static unsigned		bg_kicks;	/* kinds added since the last pass */
static pthread_t	bg_thread;

/* The arenas of one pass, collected under the kind lock. */
struct bg_pass {
	unsigned	n;
	unsigned	arena[PMT_KIND_MAX];
};

static void
bg_collect(struct memkind *k, void *arg)
{
	struct bg_pass	*p = arg;

	/* CONSERVATIVE kinds decay at once and cache nothing. */
	if (k->conservative || p->n == PMT_KIND_MAX)
		return;
	p->arena[p->n++] = pmt_je_arena_index(k->arena);
	pmt_thread_ask_trim(k);
}

/*
 * One pass over the arena kinds: ask their threads to trim, then run each
 * arena's decay step. mallctl and the hooks it may call (punching holes,
 * returning leases to the daemon) run outside the kind lock. Returns the
 * time to the next pass in ms, or 0 when there is no arena to look after.
 */
static long
bg_pass(void)
{
	static struct bg_pass	p;	/* only ever used by the bg thread */
	ssize_t			d, least = -1;
	unsigned		i;
	long			ms;

	pthread_mutex_lock(&bg_pass_mutex);
	p.n = 0;
	pmt_kind_foreach(bg_collect, &p);
	for (i = 0; i < p.n; i++) {
		pmt_je_arena_decay(p.arena[i]);
		d = pmt_je_arena_decay_ms(p.arena[i]);
		if (d > 0 && (least < 0 || d < least))
			least = d;
	}
	/*
	 * A lease given back: tell the daemon now, not at the next call.
	 * Still under the pass lock, which fork() takes first: the report
	 * allocates, and a child forked while this thread was inside a
	 * malloc without fork handlers of its own (ASan's, as in Debian
	 * 12's GCC) inherited that allocator's lock held and hung on its
	 * first allocation. A fork now waits for the report's round trip.
	 */
	if (p.n > 0) {
		/*
		 * A program that makes no call reads no packet: the
		 * daemon's UsageQuery (it asks when someone looks at the
		 * tier) is read here, within a pass, and answered.
		 */
		pmt_kind_poll_and_report();
	}
	pthread_mutex_unlock(&bg_pass_mutex);
	if (least < 0)
		return p.n > 0 ? BG_MAX_MS : 0;
	ms = (long)(least / BG_STEPS);
	return ms < BG_MIN_MS ? BG_MIN_MS : ms > BG_MAX_MS ? BG_MAX_MS : ms;
}

static void
bg_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *
bg_main(void *arg)
{
	struct timespec	ts;
	long		next = BG_MIN_MS;

	(void)arg;
	/* Its allocations (reports, protobuf) must never go to a tier. */
	pmt_memtier_internal_thread = true;
	pthread_mutex_lock(&bg_mutex);
	while (!bg_stop) {
		if (!bg_on || (next == 0 && bg_kicks == 0)) {
			pthread_cond_wait(&bg_cond, &bg_mutex);
			next = BG_MIN_MS;
			continue;
		}
		bg_deadline(&ts, next);
		while (!bg_stop && bg_on &&
		    pthread_cond_timedwait(&bg_cond, &bg_mutex, &ts) == 0)
			;
		if (bg_stop || !bg_on)
			continue;
		bg_kicks = 0;
		pthread_mutex_unlock(&bg_mutex);
		next = bg_pass();
		pthread_mutex_lock(&bg_mutex);
	}
	pthread_mutex_unlock(&bg_mutex);
	return NULL;
}

static int
bg_cond_init(void)
{
	pthread_condattr_t	ca;

	if (bg_cond_ok)
		return 0;
	if (pthread_condattr_init(&ca) != 0)
		return -ENOMEM;
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	bg_cond_ok = pthread_cond_init(&bg_cond, &ca) == 0;
	pthread_condattr_destroy(&ca);
	return bg_cond_ok ? 0 : -ENOMEM;
}

/*
 * bg_mutex held. The thread gets no signals: the program's handlers must
 * not run on a thread it does not know about.
 */
static int
bg_start_locked(void)
{
	sigset_t	all, old;
	int		rc;

	if (bg_running)
		return 0;
	if ((rc = bg_cond_init()) != 0)
		return rc;
	bg_stop = false;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&bg_thread, NULL, bg_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pmt_debug("bg: cannot start the purge thread: %s",
		    strerror(rc));
		return -rc;
	}
	(void)pthread_setname_np(bg_thread, "pmemtier-bg");
	bg_running = true;
	pmt_debug("bg: purge thread started");
	return 0;
}

void
pmt_bg_kind_added(void)
{
	pthread_mutex_lock(&bg_mutex);
	bg_kicks++;
	if (bg_on && bg_start_locked() == 0)
		pthread_cond_signal(&bg_cond);
	pthread_mutex_unlock(&bg_mutex);
}

/* Stops the thread and waits for it; bg_mutex not held. */
static void
bg_stop_join(void)
{
	pthread_t	t;
	bool		join;

	pthread_mutex_lock(&bg_mutex);
	join = bg_running;
	t = bg_thread;
	bg_stop = true;
	if (bg_cond_ok)
		pthread_cond_signal(&bg_cond);
	pthread_mutex_unlock(&bg_mutex);
	if (join)
		(void)pthread_join(t, NULL);
	pthread_mutex_lock(&bg_mutex);
	bg_running = false;
	pthread_mutex_unlock(&bg_mutex);
}

/*
 * As memkind's background threads: on starts the thread now (it then
 * looks after the kinds that exist and come), off stops it and waits for
 * it, so that the process has one thread fewer when this returns.
 */
int
pmt_bg_set(bool on)
{
	int	rc = 0;

	pthread_mutex_lock(&bg_set_mutex);
	if (!on) {
		pthread_mutex_lock(&bg_mutex);
		bg_on = false;
		pthread_mutex_unlock(&bg_mutex);
		bg_stop_join();
	} else {
		pthread_mutex_lock(&bg_mutex);
		bg_on = true;
		rc = bg_start_locked();
		if (bg_cond_ok)
			pthread_cond_signal(&bg_cond);
		pthread_mutex_unlock(&bg_mutex);
	}
	pthread_mutex_unlock(&bg_set_mutex);
	pmt_debug("bg: background purge %s", on ? "on" : "off");
	return rc;
}

bool
pmt_bg_enabled(void)
{
	bool	on;

	pthread_mutex_lock(&bg_mutex);
	on = bg_on;
	pthread_mutex_unlock(&bg_mutex);
	return on;
}

void
pmt_bg_pass_lock(void)
{
	pthread_mutex_lock(&bg_pass_mutex);
}

void
pmt_bg_pass_unlock(void)
{
	pthread_mutex_unlock(&bg_pass_mutex);
}

/*
 * Taking the pass lock first means the purge thread is not inside
 * jemalloc, a hook or the process's malloc (a report) while the process
 * forks, so jemalloc's own fork handlers and ours never wait for it, and
 * no allocator lock is inherited held.
 */
void
pmt_bg_atfork_prepare(void)
{
	pthread_mutex_lock(&bg_pass_mutex);
}

void
pmt_bg_atfork_parent(void)
{
	pthread_mutex_unlock(&bg_pass_mutex);
}

/*
 * The child has no purge thread. bg_mutex may have been held by it at the
 * fork: start both locks and the condition afresh; the child's first
 * kind starts a thread of its own.
 */
void
pmt_bg_atfork_child(void)
{
	pthread_mutex_init(&bg_pass_mutex, NULL);
	pthread_mutex_init(&bg_mutex, NULL);
	pthread_mutex_init(&bg_set_mutex, NULL);
	bg_cond_ok = false;
	bg_running = false;
	bg_stop = false;
	bg_kicks = 0;
}

void
pmt_bg_fini(void)
{
	bg_stop_join();
}
