/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The background purge: one thread of the library's own that makes the
 * arena kinds' decay happen on time. jemalloc decays an arena only when an
 * allocation ticks it, and the front caches (thread.h) serve most
 * allocations without jemalloc seeing them; an idle program ticks nothing
 * at all. The thread calls each arena's decay step on a timer (a fraction
 * of the arena's dirty_decay_ms) and asks the threads caching a kind's
 * blocks to hand them back on their next call.
 *
 * It starts with the first leased arena kind (pmem, kmem) or with
 * memkind_set_bg_threads(true), sleeps while there is no kind, is stopped
 * and joined by memkind_set_bg_threads(false), is not inherited by a fork
 * child (the child starts its own with its first kind) and is stopped and
 * joined when the library is unloaded or the process exits.
 *
 * Lock order: bg pass lock > kind lock > heap lock > connection lock;
 * the bg state lock is a leaf.
 */
#ifndef PMT_BG_H
#define PMT_BG_H

#include <stdbool.h>

/* An arena kind came to life: start the thread if it should run. */
void	pmt_bg_kind_added(void);
/* memkind_set_bg_threads(): 0, or -errno when the thread cannot start. */
int	pmt_bg_set(bool on);
bool	pmt_bg_enabled(void);

/*
 * Held around a kind's arena destruction, so that a decay pass never runs
 * on an arena being destroyed.
 */
void	pmt_bg_pass_lock(void);
void	pmt_bg_pass_unlock(void);

/* fork: prepare before the kind lock, parent/child after it. */
void	pmt_bg_atfork_prepare(void);
void	pmt_bg_atfork_parent(void);
void	pmt_bg_atfork_child(void);
/* Library unload or process exit: stop and join the thread. */
void	pmt_bg_fini(void);

#endif /* PMT_BG_H */
