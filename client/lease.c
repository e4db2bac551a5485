/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debug.h"
#include "lease.h"
#include "range.h"

#define HEAP_MIN_CHUNK		(8UL << 20)
#define HEAP_MAX_CHUNK		(256UL << 20)
/* Address space for a kind without max_size; halved when short. */
#define HEAP_UNLIMITED_VA	(1UL << 40)
#define HEAP_MIN_VA		(1UL << 32)
#define HEAP_ALIGN		(2UL << 20)
/*
 * Commit budgets move in steps of this much: a kind growing or shrinking
 * by a few pages does not cost a round trip each time. Lowered once a
 * whole step beyond the rounding is free, so that a kind hovering at a
 * boundary does not raise and lower in turn (lowering mostly happens in
 * decay, off the program's own calls).
 */
#define HEAP_BUDGET_STEP	(1UL << 20)
/*
 * A commit in a daemon file lease allocates its blocks (fallocate), and
 * up to this much beyond, within the budget already charged, so that the
 * next commits (jemalloc's extents come mostly in address order, a few
 * KiB each) find their blocks there: one fallocate per ~1 MiB instead of
 * one per extent.
 */
#define HEAP_FA_AHEAD		(1UL << 20)
/*
 * A commit up to this size is mapped in at once (MADV_POPULATE_WRITE):
 * jemalloc commits a slab or a block when it hands it out, so its pages
 * are about to be written, and one call maps them all where a fault per
 * page costs an exception each (on a paravirtualized guest, most of the
 * fault). The blocks are already allocated (heap_blocks; a tmpfs has the
 * pages then), and the charge already counts them. Larger commits are a
 * block the program may touch sparsely: left to fault page by page.
 */
#define HEAP_POPULATE_MAX	(2UL << 20)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

/* Cleared for good when the daemon answers LeaseCommit as unsupported. */
static bool	heap_budgets = true;

unsigned pmt_heap_events;

static size_t
heap_page(void)
{
	static size_t	page;

	if (page == 0)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static size_t
heap_round(size_t v, size_t to)
{
	return (v + to - 1) & ~(to - 1);
}

/*
 * Like memkind: an unnamed file that vanishes with the process. O_TMPFILE
 * first; a named file unlinked at once where the filesystem lacks it.
 */
static int
heap_tmpfile(const char *dir)
{
	char	path[4096];
	int	fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	if (snprintf(path, sizeof(path), "%s/pmemtier.XXXXXX", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -errno;
	(void)unlink(path);
	return fd;
}

int
pmt_heap_init(struct pmt_heap *h, bool daemon, const char *dir,
    const char *tier, size_t max_size, const char *label)
{
	size_t	want, min;

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->daemon = daemon;
	h->file_fd = -1;
	h->max_size = max_size;
	snprintf(h->label, sizeof(h->label), "%s", label);
	if (daemon)
		snprintf(h->tier, sizeof(h->tier), "%s", tier ? tier : "");
	else if ((h->file_fd = heap_tmpfile(dir)) < 0) {
		int rc = h->file_fd;

		pmt_debug("heap: temporary file in %s: %s", dir,
		    strerror(-rc));
		pthread_mutex_destroy(&h->lock);
		return -EINVAL;
	}
	/*
	 * jemalloc takes address space in growing steps ahead of use: give it
	 * room beyond max_size (what is committed stays within max_size).
	 */
	want = max_size ? heap_round(max_size * 4, HEAP_ALIGN) :
	    HEAP_UNLIMITED_VA;
	min = max_size ? want : HEAP_MIN_VA;
	h->base = pmt_range_reserve(want, min, HEAP_ALIGN, &h->reserved);
	if (h->base == NULL) {
		if (h->file_fd >= 0)
			close(h->file_fd);
		pthread_mutex_destroy(&h->lock);
		return -ENOMEM;
	}
	h->classmap_len = h->reserved >> PMT_HEAP_PAGE_SHIFT;
	h->classmap = mmap(NULL, h->classmap_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->classmap == MAP_FAILED) {
		pmt_range_unreserve(h->base, h->reserved);
		if (h->file_fd >= 0)
			close(h->file_fd);
		pthread_mutex_destroy(&h->lock);
		return -ENOMEM;
	}
	h->brk = (uintptr_t)h->base;
	return 0;
}

/* Index of the first lease that starts above a. */
static size_t
heap_upper(const struct pmt_heap *h, uintptr_t a)
{
	size_t	lo = 0, hi = h->nleases;

	while (lo < hi) {
		size_t	mid = (lo + hi) / 2;

		if (h->leases[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Inserts l, keeping the leases sorted by address. */
static int
heap_insert(struct pmt_heap *h, const struct pmt_lease *l)
{
	struct pmt_lease	*n;
	size_t			 at;

	if (h->nleases == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;

		/*
		 * Not realloc: this runs in extent hooks, where a malloc can
		 * deadlock a fork() in another thread (see conn_zone in
		 * conn.c).
		 */
		n = h->leases == NULL ? mmap(NULL, cap * sizeof(*n),
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
		    mremap(h->leases, h->cap * sizeof(*n), cap * sizeof(*n),
		    MREMAP_MAYMOVE);
		if (n == MAP_FAILED)
			return -ENOMEM;
		h->leases = n;
		h->cap = cap;
	}
	at = heap_upper(h, l->addr);
	memmove(&h->leases[at + 1], &h->leases[at],
	    (h->nleases - at) * sizeof(*l));
	h->leases[at] = *l;
	h->nleases++;
	return 0;
}

/*
 * Gets size bytes of backing (a lease) into l, of which commit bytes from
 * its start are committed now; size is page-rounded.
 */
static int
heap_get_backing(struct pmt_heap *h, size_t size, size_t commit,
    struct pmt_lease *l)
{
	size_t	granted, budget;
	int	rc;

	memset(l, 0, sizeof(*l));
	if (h->daemon) {
		if (!heap_budgets)
			commit = size;
		rc = pmt_conn_lease(h->tier, size, commit, h->label, &l->id,
		    &l->fd, &granted, &budget);
		if (rc != 0)
			return rc;
		l->size = size;
		l->budget = budget < size ? budget : size;
		l->off = 0;
		/* A memfd answers F_GET_SEALS; a file does not. */
		l->memfd = fcntl(l->fd, F_GET_SEALS) >= 0;
		return 0;
	}
	/*
	 * Offsets are never reused: a returned lease stays a hole. The file
	 * only grows here; blocks come with commits (heap_blocks), so that
	 * the file holds what jemalloc commits, not whole leases.
	 */
	l->off = h->file_end;
	if (ftruncate(h->file_fd, l->off + (off_t)size) != 0)
		return errno == EFBIG ? -ENOMEM : -errno;
	l->fd = h->file_fd;
	l->size = size;
	l->budget = size;	/* no daemon: nothing to ask for */
	h->file_end += (off_t)size;
	return 0;
}

static void
heap_put_backing(struct pmt_heap *h, const struct pmt_lease *l)
{
	if (h->daemon) {
		/*
		 * Let go of the file (the caller unmapped it) before the
		 * daemon ends the lease: one still open here would have to
		 * be watched as a zombie until this process exits.
		 */
		close(l->fd);
		if (!h->orphaned)
			(void)pmt_conn_release(l->id);
	} else if (!h->orphaned)
		(void)fallocate(h->file_fd,
		    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, l->off,
		    (off_t)l->size);
}

/*
 * What a limited kind may still hold beyond what it has: max_size less
 * the budgets charged (daemon mode) or the file's blocks (standalone).
 * Allocating blocks ahead and rounding budgets up stay within it, so that
 * a kind never holds more of the tier than its max_size.
 */
static size_t
heap_room(const struct pmt_heap *h)
{
	struct stat	st;
	size_t		held;

	if (h->max_size == 0)
		return SIZE_MAX;
	if (h->daemon)
		held = h->budgets;
	else if (fstat(h->file_fd, &st) == 0)
		held = (size_t)st.st_blocks * 512;
	else
		return 0;
	return held < h->max_size ? h->max_size - held : 0;
}

static void
heap_set_budget(struct pmt_heap *h, struct pmt_lease *l, size_t budget)
{
	h->budgets += budget;
	h->budgets -= l->budget < h->budgets ? l->budget : h->budgets;
	l->budget = budget;
}

/*
 * Maps one lease at a, which no lease covers, for at least need bytes and
 * at most room. Chunks grow with the kind (a quarter of what it holds) so
 * that a big heap needs few leases while a small one wastes little; a
 * refused chunk is retried at the exact size so that a tight quota is
 * still usable. Returns the lease's size, or -errno.
 */
static ssize_t
heap_lease_at(struct pmt_heap *h, uintptr_t a, size_t need, size_t room)
{
	struct pmt_lease	 l;
	size_t			 size, chunk, commit;
	void			*p;
	int			 rc;

	/*
	 * max_size bounds what the kind commits (pmt_heap_commit); leases
	 * may cover up to twice that, so that space jemalloc keeps in a
	 * lease it cannot use for a request (a dirty extent too big to
	 * split for a small one) never leaves the kind short of its size.
	 */
	if (h->max_size != 0 && 2 * h->max_size - h->leased < room)
		room = h->leased < 2 * h->max_size ?
		    2 * h->max_size - h->leased : 0;
	if (need > room)
		return -ENOMEM;
	chunk = heap_round(h->leased / 4, HEAP_ALIGN);
	if (chunk < HEAP_MIN_CHUNK)
		chunk = HEAP_MIN_CHUNK;
	if (chunk > HEAP_MAX_CHUNK)
		chunk = HEAP_MAX_CHUNK;
	size = need > chunk ? need : chunk;
	if (size > room)
		size = room;
	commit = heap_round(need, HEAP_BUDGET_STEP);
	if (commit > need && commit - need > heap_room(h))
		commit = need;
	rc = heap_get_backing(h, size, commit, &l);
	if (rc == -ENOMEM && size > need) {
		size = need;
		rc = heap_get_backing(h, size, size, &l);
	}
	if (rc != 0)
		return rc;
	p = mmap((void *)a, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_FIXED, l.fd, l.off);
	if (p == MAP_FAILED) {
		rc = -errno;
		heap_put_backing(h, &l);
		return rc;
	}
	/* A child must never write into its parent's leases. */
	(void)madvise(p, size, MADV_DONTFORK);
	l.addr = a;
	/* The daemon allocated the budget's blocks from the start. */
	if (h->daemon && !l.memfd) {
		l.fa_lo = a;
		l.fa_hi = a + l.budget;
		/* Ahead until committed (the commit that asked trims it). */
		l.ah_lo = a;
		l.ah_hi = a + l.budget;
		l.hwm = a;
	}
	if ((rc = heap_insert(h, &l)) != 0) {
		mmap(p, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_FIXED | MAP_NORESERVE, -1, 0);
		heap_put_backing(h, &l);
		return rc;
	}
	__atomic_store_n(&h->leased, h->leased + size, __ATOMIC_RELAXED);
	if (h->daemon)
		h->budgets += l.budget;
	h->lease_events++;
	__atomic_add_fetch(&pmt_heap_events, 1, __ATOMIC_RELAXED);
	pmt_debug("heap %s: lease %zu of %zu bytes at %p", h->label,
	    h->nleases, size, p);
	return (ssize_t)size;
}

/* Adds or takes [a, end) to or from the committed bytes of its leases. */
static void
heap_account(struct pmt_heap *h, uintptr_t a, uintptr_t end, bool add)
{
	size_t	i = heap_upper(h, a);

	if (i > 0)
		i--;
	for (; i < h->nleases && h->leases[i].addr < end; i++) {
		struct pmt_lease	*l = &h->leases[i];
		uintptr_t		 lo, hi;
		size_t			 n;

		lo = a > l->addr ? a : l->addr;
		hi = end < l->addr + l->size ? end : l->addr + l->size;
		if (lo >= hi)
			continue;
		n = hi - lo;
		if (add) {
			l->committed += n;
			h->committed += n;
		} else {
			n = n < l->committed ? n : l->committed;
			l->committed -= n;
			h->committed -= n;
		}
	}
}

/*
 * Gives lease i back: the address range returns to the reservation
 * (PROT_NONE), the backing to the daemon or the file system.
 */
static void
heap_return(struct pmt_heap *h, size_t i)
{
	struct pmt_lease	l = h->leases[i];

	if (mmap((void *)l.addr, l.size, PROT_NONE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		return;	/* keep it: still mapped, still ours */
	memmove(&h->leases[i], &h->leases[i + 1],
	    (h->nleases - i - 1) * sizeof(l));
	h->nleases--;
	heap_put_backing(h, &l);
	__atomic_store_n(&h->leased, h->leased - l.size, __ATOMIC_RELAXED);
	if (h->daemon)
		h->budgets -= l.budget < h->budgets ? l.budget : h->budgets;
	__atomic_add_fetch(&pmt_heap_events, 1, __ATOMIC_RELAXED);
	pmt_debug("heap %s: returned a lease of %zu bytes at %p", h->label,
	    l.size, (void *)l.addr);
}

/* Gives back every lease [a, end) touches that has nothing committed. */
static void
heap_return_unused(struct pmt_heap *h, uintptr_t a, uintptr_t end)
{
	size_t	i = heap_upper(h, a);

	if (i > 0)
		i--;
	while (i < h->nleases && h->leases[i].addr < end) {
		if (h->leases[i].committed == 0)
			heap_return(h, i);
		else
			i++;
	}
}

/*
 * Gives [lo, hi) of file lease l its blocks, unless they are known to be
 * there, and as many beyond as the budget charged for but not committed
 * (at most HEAP_FA_AHEAD): what is allocated stays within the charge.
 */
static void	heap_ahead_trim(struct pmt_lease *, uintptr_t, uintptr_t);

static int
heap_blocks(const struct pmt_heap *h, struct pmt_lease *l, uintptr_t lo,
    uintptr_t hi)
{
	uintptr_t	end = l->addr + l->size, ahead = hi;
	size_t		slack, room;

	heap_ahead_trim(l, lo, hi);
	if (hi > l->hwm)
		l->hwm = hi;
	if (lo >= l->fa_lo && hi <= l->fa_hi)
		return 0;
	slack = l->budget > l->committed ? l->budget - l->committed : 0;
	if (slack > HEAP_FA_AHEAD)
		slack = HEAP_FA_AHEAD;
	/* Standalone: the kind's file stays within max_size. */
	if (!h->daemon && slack > 0 && h->max_size != 0) {
		room = heap_room(h);
		room = room > hi - lo ? room - (hi - lo) : 0;
		slack = slack < room ? slack : room;
	}
	ahead = hi + slack < end ? hi + slack : end;
	if (fallocate(l->fd, 0, l->off + (off_t)(lo - l->addr),
	    (off_t)(ahead - lo)) != 0) {
		if (errno == EOPNOTSUPP)
			return 0;
		/* A nearly full tier may still hold what is committed. */
		ahead = hi;
		if (fallocate(l->fd, 0, l->off + (off_t)(lo - l->addr),
		    (off_t)(hi - lo)) != 0)
			return -1;
	}
	/*
	 * One range ahead per lease: in a limited kind, one this commit does
	 * not continue is uncommitted (heap_ahead_trim), so its blocks go
	 * (they would count against max_size), and the known run starts anew
	 * here. (An unlimited kind keeps them: punching and allocating them
	 * again cost its grow phases 30-60 % in cache_bench.) Else grow the
	 * run when this commit touches it.
	 */
	if (h->max_size != 0 && l->ah_lo < l->ah_hi && l->ah_lo != hi) {
		(void)fallocate(l->fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, l->off + (off_t)(l->ah_lo - l->addr),
		    (off_t)(l->ah_hi - l->ah_lo));
		l->ah_lo = l->ah_hi = 0;
		l->fa_lo = lo;
		l->fa_hi = ahead;
	} else if (lo >= l->fa_lo && lo <= l->fa_hi)
		l->fa_hi = ahead > l->fa_hi ? ahead : l->fa_hi;
	else {
		l->fa_lo = lo;
		l->fa_hi = ahead;
	}
	if (l->ah_lo == hi && l->ah_hi > ahead)
		ahead = l->ah_hi;
	/*
	 * Ahead counts only what was never committed (hwm, already at or
	 * past hi): jemalloc may still hold pages committed long ago just
	 * past hi (and reuse purged ones without committing them again), and
	 * those must never be punched.
	 */
	l->ah_lo = l->hwm;
	l->ah_hi = ahead > l->ah_lo ? ahead : l->ah_lo;
	return 0;
}

/* [lo, hi) is committed, or punched: it is no longer blocks ahead. */
static void
heap_ahead_trim(struct pmt_lease *l, uintptr_t lo, uintptr_t hi)
{
	if (hi <= l->ah_lo || lo >= l->ah_hi)
		return;
	if (lo <= l->ah_lo)
		l->ah_lo = hi < l->ah_hi ? hi : l->ah_hi;
	else if (hi >= l->ah_hi)
		l->ah_hi = lo;
	else if (lo - l->ah_lo >= l->ah_hi - hi)
		l->ah_hi = lo;	/* in the middle: the larger side is kept */
	else
		l->ah_lo = hi;
}

/*
 * A limited kind about to hold more than max_size because of blocks
 * allocated ahead and budgets rounded up (never because of commits,
 * which pmt_heap_commit keeps within it): gives every lease's blocks ahead
 * back and brings its budget down to what it commits.
 */
static void
heap_squeeze(struct pmt_heap *h)
{
	size_t	i, want, got;

	for (i = 0; i < h->nleases; i++) {
		struct pmt_lease	*l = &h->leases[i];

		if (l->memfd)
			continue;
		if (l->ah_lo < l->ah_hi && fallocate(l->fd,
		    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    l->off + (off_t)(l->ah_lo - l->addr),
		    (off_t)(l->ah_hi - l->ah_lo)) == 0) {
			if (l->fa_hi > l->ah_lo)
				l->fa_hi = l->ah_lo > l->fa_lo ? l->ah_lo :
				    l->fa_lo;
			l->ah_lo = l->ah_hi = 0;
		}
		if (!h->daemon || !heap_budgets)
			continue;
		want = heap_round(l->committed, heap_page());
		if (l->budget > want && pmt_conn_commit(l->id, want, &got) == 0)
			heap_set_budget(h, l, got);
	}
}

/*
 * Raises the budget of every lease [a, end) touches to cover what is
 * committed in it (daemon mode), and (a file lease, either mode)
 * allocates the range's blocks, so that pages the daemon did not agree to
 * are never touched and a full filesystem is an error, not a SIGBUS. 0, or -ENOMEM
 * when the daemon or the filesystem refused.
 */
static int
heap_budget_raise(struct pmt_heap *h, uintptr_t a, uintptr_t end)
{
	size_t	i = heap_upper(h, a), want, got, room;
	int	rc;

	if (i > 0)
		i--;
	for (; i < h->nleases && h->leases[i].addr < end; i++) {
		struct pmt_lease	*l = &h->leases[i];
		uintptr_t		 lo, hi;

		lo = a > l->addr ? a : l->addr;
		hi = end < l->addr + l->size ? end : l->addr + l->size;
		if (lo >= hi)
			continue;
		if (h->daemon && heap_budgets && l->committed > l->budget) {
			want = heap_round(l->committed, HEAP_BUDGET_STEP);
			if (want > l->size)
				want = l->size;
			/*
			 * Rounded up only within max_size (heap_room): near
			 * it, the budget is what is committed, no more.
			 * (Other leases keep what they were rounded to
			 * before: at most HEAP_BUDGET_STEP each.)
			 */
			if (want - l->budget > (room = heap_room(h))) {
				want = l->budget + room;
				if (want < l->committed)
					want = heap_round(l->committed,
					    heap_page());
			}
			rc = pmt_conn_commit(l->id, want, &got);
			if (rc == -EOPNOTSUPP) {
				heap_budgets = false;
				heap_set_budget(h, l, l->size);
			} else if (rc != 0)
				return -ENOMEM;
			else
				heap_set_budget(h, l, got);
		}
		/* Blocks now: a full tier says ENOSPC here, not SIGBUS. */
		if (!l->memfd && heap_blocks(h, l, lo, hi) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* Lowers the budgets of the leases [a, end) touches to what they hold. */
static void
heap_budget_lower(struct pmt_heap *h, uintptr_t a, uintptr_t end)
{
	size_t	i = heap_upper(h, a), want, got;

	if (!h->daemon || !heap_budgets)
		return;
	if (i > 0)
		i--;
	for (; i < h->nleases && h->leases[i].addr < end; i++) {
		struct pmt_lease	*l = &h->leases[i];

		want = heap_round(l->committed, HEAP_BUDGET_STEP);
		if (want > l->size)
			want = l->size;
		if (l->budget < want + HEAP_BUDGET_STEP)
			continue;
		if (pmt_conn_commit(l->id, want, &got) == 0)
			heap_set_budget(h, l, got);
	}
}

void *
pmt_heap_alloc(void *arg, void *new_addr, size_t size, size_t align,
    bool *committed)
{
	struct pmt_heap	*h = arg;
	uintptr_t	 a;
	void		*ret = NULL;

	if (align < heap_page())
		align = heap_page();
	pthread_mutex_lock(&h->lock);
	if (h->orphaned)
		goto out;
	a = heap_round(h->brk, align);
	/* jemalloc asks to extend in place: only at the end can we. */
	if (new_addr != NULL && (uintptr_t)new_addr != a)
		goto out;
	if (a + size > (uintptr_t)h->base + h->reserved || a + size < a)
		goto out;
	h->brk = a + size;
	/* Leases never reach beyond brk: fresh space has none yet. */
	*committed = false;
	ret = (void *)a;
out:
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/*
 * Leases whatever part of [addr, addr + size) no lease covers yet. A new
 * lease may run on past the range up to the next lease or to brk, never
 * into address space jemalloc was not given.
 */
int
pmt_heap_commit(void *arg, void *addr, size_t size)
{
	struct pmt_heap	*h = arg;
	uintptr_t	 a = (uintptr_t)addr, end = a + size;
	int		 rc = 0;

	pthread_mutex_lock(&h->lock);
	if (h->orphaned)
		rc = -EINVAL;
	/* memkind's max_size: what the kind holds, wherever it sits. */
	else if (h->max_size != 0 && (h->committed > h->max_size ||
	    size > h->max_size - h->committed))
		rc = -ENOMEM;
	else if (h->max_size != 0 && heap_room(h) < size)
		heap_squeeze(h);
	while (rc == 0 && a < end) {
		size_t			 i = heap_upper(h, a);
		const struct pmt_lease	*prev = i ? &h->leases[i - 1] : NULL;
		uintptr_t		 limit;
		ssize_t			 n;

		if (prev != NULL && a < prev->addr + prev->size) {
			a = prev->addr + prev->size;
			continue;
		}
		limit = h->brk;
		if (limit < end)
			limit = end;
		/*
		 * Never past the next lease, even inside [a, end): a lease
		 * mapped (MAP_FIXED) over the next one replaced part of it,
		 * and returning either left the other's blocks PROT_NONE.
		 */
		if (i < h->nleases && h->leases[i].addr < limit)
			limit = h->leases[i].addr;
		n = heap_lease_at(h, a, (end < limit ? end : limit) - a,
		    limit - a);
		if (n < 0)
			rc = (int)n;
		else
			a += (size_t)n;
	}
	if (rc == 0) {
		heap_account(h, (uintptr_t)addr, end, true);
		if ((rc = heap_budget_raise(h, (uintptr_t)addr, end)) != 0) {
			/* jemalloc sees the commit fail: undo it whole. */
			heap_account(h, (uintptr_t)addr, end, false);
			heap_return_unused(h, (uintptr_t)addr, end);
		}
	}
	pthread_mutex_unlock(&h->lock);
	/* Best effort: older kernels say EINVAL, and faults do the rest. */
	if (rc == 0 && size <= HEAP_POPULATE_MAX)
		(void)madvise(addr, size, MADV_POPULATE_WRITE);
	return rc;
}

static struct pmt_lease *
heap_find(struct pmt_heap *h, uintptr_t a)
{
	size_t	lo = 0, hi = h->nleases;

	while (lo < hi) {
		size_t		  mid = (lo + hi) / 2;
		struct pmt_lease *l = &h->leases[mid];

		if (a < l->addr)
			hi = mid;
		else if (a >= l->addr + l->size)
			lo = mid + 1;
		else
			return l;
	}
	return NULL;
}

int
pmt_heap_purge(void *arg, void *addr, size_t size)
{
	struct pmt_heap	*h = arg;
	uintptr_t	 a = (uintptr_t)addr, end = a + size;
	int		 rc = 0;

	pthread_mutex_lock(&h->lock);
	/* An extent may span two leases mapped back to back. */
	while (a < end && rc == 0 && !h->orphaned) {
		struct pmt_lease	*l = heap_find(h, a);
		size_t			 n;

		if (l == NULL) {
			rc = -EINVAL;
			break;
		}
		n = l->addr + l->size - a;
		if (n > end - a)
			n = end - a;
		if (fallocate(l->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    l->off + (off_t)(a - l->addr), (off_t)n) != 0)
			rc = -errno;
		/* The known run with blocks ends where the hole begins. */
		if (a < l->fa_hi && a + n > l->fa_lo)
			l->fa_hi = a > l->fa_lo ? a : l->fa_lo;
		heap_ahead_trim(l, a, a + n);
		a += n;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int
pmt_heap_decommit(void *arg, void *addr, size_t size)
{
	struct pmt_heap	*h = arg;
	uintptr_t	 a = (uintptr_t)addr, end = a + size;
	int		 rc;

	if ((rc = pmt_heap_purge(arg, addr, size)) != 0)
		return rc;
	pthread_mutex_lock(&h->lock);
	if (!h->orphaned) {
		heap_account(h, a, end, false);
		heap_return_unused(h, a, end);
		heap_budget_lower(h, a, end);
	}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void
pmt_heap_fini(struct pmt_heap *h)
{
	size_t	i;

	pthread_mutex_lock(&h->lock);
	pmt_range_unreserve(h->base, h->reserved);
	munmap(h->classmap, h->classmap_len);
	for (i = 0; i < h->nleases; i++)
		heap_put_backing(h, &h->leases[i]);
	if (h->file_fd >= 0)
		close(h->file_fd);
	if (h->nleases != 0)
		__atomic_add_fetch(&pmt_heap_events, 1, __ATOMIC_RELAXED);
	if (h->leases != NULL)
		munmap(h->leases, h->cap * sizeof(*h->leases));
	h->leases = NULL;
	h->cap = 0;
	h->nleases = 0;
	h->leased = 0;
	h->committed = 0;
	h->budgets = 0;
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_destroy(&h->lock);
}

bool	pmt_heap_fork_snapshot;

/* Copies l's data extents (holes read as zeros anyway) into c. */
static void
heap_copy_lease(const struct pmt_lease *l, char *c)
{
	off_t	pos = l->off, end = l->off + (off_t)l->size, data, hole;

	while (pos < end) {
		if ((data = lseek(l->fd, pos, SEEK_DATA)) < 0) {
			if (errno == ENXIO)
				return;		/* only holes from pos on */
			data = pos;		/* no SEEK_DATA: all of it */
			hole = end;
		} else if ((hole = lseek(l->fd, data, SEEK_HOLE)) < 0)
			hole = end;
		if (data >= end)
			return;
		if (hole > end)
			hole = end;
		memcpy(c + (data - l->off), (const char *)l->addr +
		    (data - l->off), (size_t)(hole - data));
		pos = hole;
	}
}

void
pmt_heap_fork_prepare(struct pmt_heap *h)
{
	size_t	i;
	void	*c;

	if (!pmt_heap_fork_snapshot)
		return;
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nleases; i++) {
		struct pmt_lease *l = &h->leases[i];

		l->fork_copy = NULL;
		c = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (c == MAP_FAILED)
			continue;	/* the child will not have this one */
		heap_copy_lease(l, c);
		l->fork_copy = c;
	}
}

void
pmt_heap_fork_parent(struct pmt_heap *h)
{
	size_t	i;

	if (!pmt_heap_fork_snapshot)
		return;
	for (i = 0; i < h->nleases; i++) {
		struct pmt_lease *l = &h->leases[i];

		if (l->fork_copy != NULL)
			munmap(l->fork_copy, l->size);
		l->fork_copy = NULL;
	}
	pthread_mutex_unlock(&h->lock);
}

/* Fork child: the parent's copies (pmt_heap_fork_prepare) into place. */
static void
heap_snapshot(struct pmt_heap *h)
{
	bool	all = true;
	size_t	i;

	for (i = 0; i < h->nleases; i++) {
		struct pmt_lease *l = &h->leases[i];

		if (l->fork_copy == NULL || mremap(l->fork_copy, l->size,
		    l->size, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)l->addr) ==
		    MAP_FAILED) {
			pmt_debug("heap %s: fork child: no copy of lease %zu",
			    h->label, i);
			all = false;
		}
		l->fork_copy = NULL;
	}
	h->snapshot = all;
}

void
pmt_heap_orphan(struct pmt_heap *h)
{
	/* The lock may have been held by a thread that does not exist here. */
	pthread_mutex_init(&h->lock, NULL);
	h->orphaned = true;
	/*
	 * The leases were MADV_DONTFORK: here they left holes in the range,
	 * which the next mmap() of this process could fill while the range
	 * still claims them for the parent's kind (memkind_free(NULL, p)
	 * would drop such a block, memkind_detect_kind() name the wrong
	 * kind). Reserve the whole range again, in one call.
	 */
	if (h->base != NULL && mmap(h->base, h->reserved, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
	    MAP_FAILED) {
		pmt_debug("heap %s: cannot reserve the range again in the "
		    "fork child: %s", h->label, strerror(errno));
		return;
	}
	if (pmt_heap_fork_snapshot)
		heap_snapshot(h);
}

size_t
pmt_heap_leased(struct pmt_heap *h)
{
	return __atomic_load_n(&h->leased, __ATOMIC_RELAXED);
}

size_t
pmt_heap_nleases(struct pmt_heap *h)
{
	size_t	n;

	pthread_mutex_lock(&h->lock);
	n = h->nleases;
	pthread_mutex_unlock(&h->lock);
	return n;
}

bool
pmt_heap_contains(const struct pmt_heap *h, const void *p)
{
	return (uintptr_t)p - (uintptr_t)h->base < h->reserved;
}
