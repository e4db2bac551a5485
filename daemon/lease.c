/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lease table, and the daemon's hold on what it granted.
 *
 * A client holds a writable descriptor to each lease, so nothing about a
 * lease may rest on its good will:
 *  - when a lease ends its storage is freed through the daemon's own fd
 *    (lease_end: truncate to 0). A kmem memfd is sealed against growth, so
 *    that is final; a file can be grown again through the client's fd, so
 *    the daemon keeps watching it as a zombie until no one else has it open;
 *  - growth of a live lease (ftruncate, fallocate, writes past the end) is
 *    trimmed back to the grant at every audit, and what could not be
 *    trimmed is charged: a lease costs max(granted, allocated).
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "quota.h"
#include "journal.h"
#include "tier.h"
#include "worker.h"

#define LEASE_HASH_SIZE	4096
/* Blocks a filesystem may add for its own metadata before a lease counts
 * as grown (ext4 extent blocks, xfs btree blocks). */
#define LEASE_SLACK	(64 * 1024)
/* Overgrowth warnings logged per audit sweep; the rest are counted. */
#define LEASE_WARN_BURST	5

LIST_HEAD(lease_chain, lease);

static struct lease_chain	lease_hash[LEASE_HASH_SIZE];
static struct leases		lease_list = TAILQ_HEAD_INITIALIZER(lease_list);
static struct zombies		lease_zombies =
				    TAILQ_HEAD_INITIALIZER(lease_zombies);
static unsigned			lease_n, lease_nzombies;
static uint64_t			lease_next_id;
static unsigned			lease_warned, lease_unwarned;

void
lease_table_init(uint64_t seed)
{
	size_t	i;

	for (i = 0; i < LEASE_HASH_SIZE; i++)
		LIST_INIT(&lease_hash[i]);
	TAILQ_INIT(&lease_list);
	TAILQ_INIT(&lease_zombies);
	lease_n = lease_nzombies = 0;
	lease_next_id = seed != 0 ? seed : 1;
}

static void	zombie_free(struct zombie *, struct tiers *);

void
lease_table_fini(struct tiers *tiers)
{
	struct lease	*l;
	struct zombie	*z;

	while ((l = TAILQ_FIRST(&lease_list)) != NULL)
		lease_drop(l, tiers);
	while ((z = TAILQ_FIRST(&lease_zombies)) != NULL)
		zombie_free(z, tiers);
}

static struct lease_chain *
lease_chain(uint64_t id)
{
	return &lease_hash[(id ^ (id >> 17)) % LEASE_HASH_SIZE];
}

/* Enters l in the table and charges its tier. */
static void
lease_insert(struct lease *l, struct tier *t, uint64_t size)
{
	LIST_INSERT_HEAD(lease_chain(l->id), l, hash_entry);
	TAILQ_INSERT_TAIL(&lease_list, l, all_entry);
	lease_n++;
	tier_charge(t, size);
}

struct lease *
lease_create(struct tier *t, struct conn *c, const struct principal *pr,
    uint64_t size, uint64_t budget, int fd, const uint64_t devino[2],
    const char *label)
{
	struct stat	 st;
	struct lease	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->id = lease_next_id++;
	l->tier = t;
	l->pr = pr;
	l->size = size;
	l->budget = budget < size ? budget : size;
	l->charged = l->budget;
	l->fd = fd;
	if (label != NULL) {
		size_t	n = strnlen(label, sizeof(l->label) - 1);

		memcpy(l->label, label, n);	/* calloc'd: stays terminated */
	}
	/* A spare's are known; a new file is asked once, for the journal. */
	if (devino != NULL && devino[1] != 0) {
		l->dev = devino[0];
		l->ino = devino[1];
	} else if (fd >= 0 && fstat(fd, &st) == 0) {
		l->dev = (uint64_t)st.st_dev;
		l->ino = (uint64_t)st.st_ino;
	}
	lease_insert(l, t, l->charged);
	if (c != NULL)
		lease_attach_conn(l, c);
	quota_charge(l->pr, t->name, l->charged);
	/*
	 * A file lease's budget is fallocated: its blocks are there from
	 * the start (the next audit measures them). A memfd's pages come as
	 * the client touches them.
	 */
	l->physical = t->ops->sealed ? 0 : l->budget;
	journal_grant(l);
	return l;
}

struct lease *
lease_restore(struct tier *t, struct holder *h, const struct journal_rec *r,
    int fd)
{
	struct lease	*l;

	if (lease_find(r->id) != NULL || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->id = r->id;
	l->tier = t;
	l->size = r->size;
	l->budget = r->budget != 0 && r->budget < r->size ? r->budget :
	    r->size;
	l->charged = l->budget;
	l->fd = fd;
	l->dev = r->dev;
	l->ino = r->ino;
	memcpy(l->label, r->label, sizeof(l->label));
	l->label[sizeof(l->label) - 1] = '\0';
	lease_insert(l, t, l->charged);
	lease_attach_holder(l, h);
	quota_charge(l->pr, t->name, l->charged);
	/* Measured at the first audit, which follows the restore. */
	l->physical = t->ops->sealed ? 0 : l->budget;
	if (r->id >= lease_next_id)
		lease_next_id = r->id + 1;
	return l;
}

struct lease *
lease_find(uint64_t id)
{
	struct lease	*l;

	LIST_FOREACH(l, lease_chain(id), hash_entry)
		if (l->id == id)
			return l;
	return NULL;
}

/* Conns and holders keep their leases alike: a list, a count, bytes. */
static void
lease_join(struct lease *l, struct leases *list, unsigned *n,
    uint64_t *bytes)
{
	TAILQ_INSERT_TAIL(list, l, conn_entry);
	(*n)++;
	*bytes += l->size;
}

static void
lease_leave(struct lease *l, struct leases *list, unsigned *n,
    uint64_t *bytes)
{
	TAILQ_REMOVE(list, l, conn_entry);
	(*n)--;
	*bytes -= l->size;
}

void
lease_attach_conn(struct lease *l, struct conn *c)
{
	l->conn = c;
	l->holder = NULL;
	l->pr = &c->pr;
	lease_join(l, &c->leases, &c->nleases, &c->bytes);
}

void
lease_attach_holder(struct lease *l, struct holder *h)
{
	l->conn = NULL;
	l->holder = h;
	l->pr = &h->pr;
	lease_join(l, &h->leases, &h->nleases, &h->bytes);
}

void
lease_detach(struct lease *l)
{
	if (l->conn != NULL)
		lease_leave(l, &l->conn->leases, &l->conn->nleases,
		    &l->conn->bytes);
	else if (l->holder != NULL)
		lease_leave(l, &l->holder->leases, &l->holder->nleases,
		    &l->holder->bytes);
	l->conn = NULL;
	l->holder = NULL;
}

/* Takes the lease out of every table and uncharges it; keeps its fd. */
static void
lease_unlink(struct lease *l, struct tiers *tiers)
{
	LIST_REMOVE(l, hash_entry);
	TAILQ_REMOVE(&lease_list, l, all_entry);
	lease_n--;
	lease_detach(l);
	quota_uncharge(l->pr, l->tier->name, l->charged);
	/* Last: it frees a removed tier's last lease. */
	tier_uncharge(tiers, l->tier, l->charged);
}

void
lease_drop(struct lease *l, struct tiers *tiers)
{
	lease_unlink(l, tiers);
	worker_close(l->fd, l->physical);
	free(l);
}

/*
 * Is fd the only open file of its inode? A write lease (F_SETLEASE) is
 * granted only then: another descriptor or a shared mapping of the
 * client's own open file keeps it refused with EAGAIN. 1 yes, 0 no, -1
 * when leases cannot be used here (a file tier where they do not work is
 * refused at open; fs.leases-enable turned off later): the daemon cannot
 * tell, and treats it as held. closing: fd is closed next, and the lease
 * with it.
 */
static int
lease_sole_opener(int fd, int closing)
{
	if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0) {
		/*
		 * A file about to be closed keeps the lease: the close drops
		 * it (one system call less per grant). Nobody can open the
		 * file meanwhile to break it: it has no name, and only root
		 * can reach the daemon's /proc/PID/fd.
		 */
		if (!closing)
			(void)fcntl(fd, F_SETLEASE, F_UNLCK);
		return 1;
	}
	return errno == EAGAIN || errno == EBUSY ? 0 : -1;
}

/* Frees every block of the file behind fd beyond keep bytes. */
static void
lease_cut(int fd, uint64_t keep, const struct stat *st)
{
	uint64_t	blocks = (uint64_t)st->st_blocks * 512;

	if ((uint64_t)st->st_size > keep && ftruncate(fd, (off_t)keep) != 0)
		log_warn("lease_cut: ftruncate");
	if (blocks <= keep + (keep == 0 ? 0 : LEASE_SLACK))
		return;
	/*
	 * Blocks past the end (fallocate with FALLOC_FL_KEEP_SIZE): punch
	 * them, and truncate up and down, which ext4 and xfs need (they
	 * do not punch past i_size).
	 */
	(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)keep, (off_t)(INT64_MAX - keep));
	if (ftruncate(fd, (off_t)keep + 1) == 0)
		(void)ftruncate(fd, (off_t)keep);
}

/* Logs a lease found grown (ended: after it ended), within a burst. */
static void
lease_warn(int ended, uint64_t id, pid_t pid, uid_t uid, uint64_t size,
    uint64_t st_size, uint64_t blocks)
{
	if (lease_warned++ >= LEASE_WARN_BURST) {
		lease_unwarned++;
		return;
	}
	log_warnx("lease %llu: grown %s by pid %d uid %u: %llu bytes "
	    "granted, size %llu, %llu bytes allocated; %s",
	    (unsigned long long)id, ended ? "again after it ended" :
	    "past its grant", (int)pid, (unsigned)uid,
	    (unsigned long long)size, (unsigned long long)st_size,
	    (unsigned long long)blocks, ended ? "truncated" : "trimmed back");
}

static void
lease_warn_flush(void)
{
	if (lease_unwarned > 0)
		log_warnx("lease_audit: %u more grown leases trimmed, not "
		    "logged one by one", lease_unwarned);
	lease_warned = lease_unwarned = 0;
}

/* Charges the lease what it holds now: max(budget, allocated). */
static void
lease_recharge(struct lease *l, uint64_t physical)
{
	uint64_t	want = physical > l->budget ? physical : l->budget;
	int64_t		delta = (int64_t)(want - l->charged);

	l->physical = physical;
	if (delta == 0)
		return;
	if (delta > 0)
		quota_charge(l->pr, l->tier->name, (uint64_t)delta);
	else
		quota_uncharge(l->pr, l->tier->name, (uint64_t)-delta);
	tier_adjust(l->tier, delta);
	l->charged = want;
}

/*
 * ---- measuring: the part of an audit that touches files ----
 *
 * One probe per lease or zombie, filled in on the worker thread (it uses
 * nothing but the fd, which the worker's ordering keeps open) and applied
 * to the tables back on the loop, where a lease that ended meanwhile is
 * simply not found.
 */
struct lease_probe {
	uint64_t	id;
	int		fd;
	int		zombie;
	uint64_t	keep;		/* the grant; 0 for a zombie */
	int		ok;		/* fstat worked */
	int		grown;
	uint64_t	st_size;	/* before trimming */
	uint64_t	st_blocks;	/* bytes, before trimming */
	uint64_t	physical;	/* bytes, after */
	int		sole;		/* zombie: nobody else has it open */
};

static void
lease_measure(struct lease_probe *p)
{
	struct stat	st;
	uint64_t	blocks;

	if (fstat(p->fd, &st) != 0)
		return;
	blocks = (uint64_t)st.st_blocks * 512;
	p->st_size = (uint64_t)st.st_size;
	p->st_blocks = blocks;
	if (p->zombie)
		p->grown = st.st_size > 0 || st.st_blocks > 0;
	else
		p->grown = (uint64_t)st.st_size > p->keep ||
		    blocks > p->keep + LEASE_SLACK;
	if (p->grown) {
		lease_cut(p->fd, p->keep, &st);
		if (fstat(p->fd, &st) != 0)
			return;
		blocks = (uint64_t)st.st_blocks * 512;
	}
	p->physical = blocks;
	p->ok = 1;
	if (p->zombie)
		p->sole = lease_sole_opener(p->fd, 0) == 1;
}

static void
lease_probe_lease(struct lease_probe *p, const struct lease *l)
{
	memset(p, 0, sizeof(*p));
	p->id = l->id;
	p->fd = l->fd;
	p->keep = l->size;
}

static void
lease_apply_lease(const struct lease_probe *p)
{
	struct lease	*l;

	if (!p->ok || (l = lease_find(p->id)) == NULL)
		return;
	l->overgrown = p->grown;
	if (p->grown) {
		lease_warn(0, l->id, l->pr->pid, l->pr->uid, l->size,
		    p->st_size, p->st_blocks);
		if (p->st_blocks > p->physical)
			metrics_trimmed(p->st_blocks - p->physical);
	}
	lease_recharge(l, p->physical);
}

uint64_t
lease_commit_charge(const struct lease *l, uint64_t bytes, uint64_t *physical)
{
	struct stat	st;

	*physical = l->physical;
	/* What the file holds now: a lowered budget follows the punches. */
	if (l->fd >= 0 && fstat(l->fd, &st) == 0)
		*physical = (uint64_t)st.st_blocks * 512;
	return *physical > bytes ? *physical : bytes;
}

void
lease_commit(struct lease *l, uint64_t bytes, uint64_t physical)
{
	if (bytes != l->budget)
		journal_budget(l->id, bytes);
	l->budget = bytes;
	lease_recharge(l, physical);
}

void
lease_audit(struct lease *l)
{
	struct lease_probe	p;

	if (l->fd < 0)
		return;
	lease_probe_lease(&p, l);
	lease_measure(&p);
	lease_apply_lease(&p);
}

/* ---- zombies: revoked files a client may still hold ---- */

static void
zombie_insert(struct zombie *z, struct tier *t)
{
	tier_ref(t);
	TAILQ_INSERT_TAIL(&lease_zombies, z, entry);
	lease_nzombies++;
}

int
lease_restore_zombie(struct tier *t, const struct journal_rec *r, int fd)
{
	struct zombie	*z;

	TAILQ_FOREACH(z, &lease_zombies, entry)
		if (z->id == r->id)
			return -1;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return -1;
	z->id = r->id;
	z->tier = t;
	z->fd = fd;
	z->uid = r->pr.uid;
	z->pid = r->pr.pid;
	z->start = r->pr.start;
	z->dev = r->dev;
	z->ino = r->ino;
	zombie_insert(z, t);
	if (r->id >= lease_next_id)
		lease_next_id = r->id + 1;
	return 0;
}

const struct zombies *
lease_zombie_list(void)
{
	return &lease_zombies;
}

static void
zombie_free(struct zombie *z, struct tiers *tiers)
{
	TAILQ_REMOVE(&lease_zombies, z, entry);
	lease_nzombies--;
	journal_end(z->id, 0);
	tier_adjust(z->tier, -(int64_t)z->physical);
	tier_unref(tiers, z->tier);
	worker_close(z->fd, z->physical);
	free(z);
}

static void
lease_probe_zombie(struct lease_probe *p, const struct zombie *z)
{
	memset(p, 0, sizeof(*p));
	p->id = z->id;
	p->fd = z->fd;
	p->zombie = 1;
}

/* Frees a zombie nobody else holds any more, or recounts what it holds. */
static void
lease_apply_zombie(const struct lease_probe *p, struct tiers *tiers)
{
	struct zombie	*z;

	TAILQ_FOREACH(z, &lease_zombies, entry)
		if (z->id == p->id)
			break;
	if (z == NULL || !p->ok)
		return;
	if (p->grown) {
		lease_warn(1, z->id, z->pid, z->uid, 0, p->st_size,
		    p->st_blocks);
		if (p->st_blocks > p->physical)
			metrics_trimmed(p->st_blocks - p->physical);
	}
	if (p->sole) {
		zombie_free(z, tiers);
		return;
	}
	tier_adjust(z->tier, (int64_t)(p->physical - z->physical));
	z->physical = p->physical;
}

/*
 * An audit: the probes of every lease and zombie of a tier (or of all),
 * measured on the worker, applied back on the loop, then the caller's
 * continuation.
 */
struct lease_audit_job {
	struct work		 w;
	struct tiers		*tiers;
	void			(*then)(void *);
	void			*arg;
	enum metrics_audit	 scope;
	uint64_t		 t0;		/* measuring began */
	size_t			 n;
	struct lease_probe	 probes[];
};

static unsigned	lease_audits;	/* audit jobs pending */

static void
lease_audit_run(struct work *w)
{
	struct lease_audit_job	*j = (struct lease_audit_job *)w;
	size_t			 i;

	j->t0 = metrics_now_ns();
	for (i = 0; i < j->n; i++)
		lease_measure(&j->probes[i]);
}

static void
lease_audit_done(struct work *w)
{
	struct lease_audit_job	*j = (struct lease_audit_job *)w;
	size_t			 i;

	lease_audits--;
	for (i = 0; i < j->n; i++)
		worker_unpin(j->probes[i].fd);
	for (i = 0; i < j->n; i++) {
		if (j->probes[i].zombie)
			lease_apply_zombie(&j->probes[i], j->tiers);
		else
			lease_apply_lease(&j->probes[i]);
	}
	lease_warn_flush();
	metrics_audit(j->scope, metrics_now_ns() - j->t0);
	if (j->then != NULL)
		j->then(j->arg);
	free(j);
}

int
lease_audit_async(struct tier *t, int zombies_only, struct tiers *tiers,
    void (*then)(void *), void *arg)
{
	struct lease_audit_job	*j;
	struct lease		*l;
	struct zombie		*z;
	size_t			 i, n;

	n = lease_nzombies + (zombies_only ? 0 : lease_n);
	if ((j = calloc(1, sizeof(*j) + n * sizeof(j->probes[0]))) == NULL) {
		log_warnx("lease_audit: out of memory for %zu probes", n);
		return -1;
	}
	n = 0;
	if (!zombies_only)
		TAILQ_FOREACH(l, &lease_list, all_entry)
			if ((t == NULL || l->tier == t) && l->fd >= 0)
				lease_probe_lease(&j->probes[n++], l);
	TAILQ_FOREACH(z, &lease_zombies, entry)
		if (t == NULL || z->tier == t)
			lease_probe_zombie(&j->probes[n++], z);
	j->n = n;
	for (i = 0; i < n; i++)
		if (worker_pin(j->probes[i].fd) != 0) {
			while (i-- > 0)
				worker_unpin(j->probes[i].fd);
			free(j);
			log_warnx("lease_audit: out of memory for pins");
			return -1;
		}
	j->tiers = tiers;
	j->scope = zombies_only ? METRICS_AUDIT_ZOMBIES : t != NULL ?
	    METRICS_AUDIT_TIER : METRICS_AUDIT_ALL;
	j->then = then;
	j->arg = arg;
	j->w.run = lease_audit_run;
	j->w.done = lease_audit_done;
	lease_audits++;
	worker_submit(&j->w);
	return 0;
}

unsigned
lease_audit_pending(void)
{
	return lease_audits;
}

/*
 * Frees a lease's storage through the daemon's fd: truncates it, then
 * closes the fd unless a zombie keeps it. On the worker when the file is
 * large (~45 ms per GiB on tmpfs) or a pending job uses the fd. Returns 1
 * when it was queued.
 */
struct lease_cut_job {
	struct work	w;
	int		fd;
	int		close;
};

static void
lease_cut_run(struct work *w)
{
	struct lease_cut_job	*j = (struct lease_cut_job *)w;
	struct stat		 st;

	if (fstat(j->fd, &st) == 0)
		lease_cut(j->fd, 0, &st);
	if (j->close)
		close(j->fd);
}

/* A zombie keeps the fd a queued cut uses: pinned until the cut is done. */
static void
lease_cut_done(struct work *w)
{
	struct lease_cut_job	*j = (struct lease_cut_job *)w;

	if (!j->close)
		worker_unpin(j->fd);
	free(j);
}

static int
lease_revoke(int fd, uint64_t bytes, int sleeps, int close_after,
    struct work *then)
{
	struct lease_cut_job	*j;

	if ((worker_pinned(fd) || bytes >= WORKER_MIN_BYTES) &&
	    worker_running() && (j = calloc(1, sizeof(*j))) != NULL) {
		if (!close_after && worker_pin(fd) != 0) {
			free(j);
			goto inline_cut;
		}
		j->w.run = lease_cut_run;
		j->w.done = lease_cut_done;
		j->fd = fd;
		j->close = close_after;
		worker_submit(&j->w);
		if (then != NULL)
			worker_submit(then);
		return 1;
	}
inline_cut:
	if (ftruncate(fd, 0) != 0)
		log_warn("lease: revoke: ftruncate");
	return close_after ? worker_close_then(fd, 0, sleeps, then) : 0;
}

int
lease_end(struct lease *l, struct tiers *tiers)
{
	return lease_end_then(l, tiers, NULL);
}

int
lease_end_then(struct lease *l, struct tiers *tiers, struct work *then)
{
	struct zombie	*z;
	struct tier	*t = l->tier;
	uint64_t	 bytes = l->physical > l->size ? l->physical : l->size;
	int		 fd = l->fd, queued = 0;

	l->fd = -1;
	/*
	 * Nobody else has the file open (the usual case: the client closed
	 * and unmapped it first): closing it frees it, and nobody can get
	 * at it again. Otherwise its storage goes now, whatever the client
	 * kept. A memfd cannot be probed: it is always truncated, which
	 * costs little on tmpfs.
	 */
	if (fd >= 0 && !t->ops->sealed && lease_sole_opener(fd, 1) == 1) {
		journal_end(l->id, 0);
		/* Emptied and kept for the next grant (or closed). */
		queued = tier_recycle_then(tiers, t, fd, bytes, then);
		lease_unlink(l, tiers);
		free(l);
		return queued;
	}
	if (fd < 0 || t->ops->sealed || (z = calloc(1, sizeof(*z))) == NULL) {
		journal_end(l->id, 0);
		if (fd >= 0)
			queued = lease_revoke(fd, bytes, t->close_sleeps, 1,
			    then);
		lease_unlink(l, tiers);
		free(l);
		return queued;
	}
	queued = lease_revoke(fd, bytes, t->close_sleeps, 0, then);
	/*
	 * Watched from now on: the zombie audit lets go of it within a
	 * second once the client has.
	 */
	z->id = l->id;
	z->tier = t;
	z->fd = fd;
	z->uid = l->pr->uid;
	z->pid = l->pr->pid;
	z->start = l->pr->start;
	z->dev = l->dev;
	z->ino = l->ino;
	zombie_insert(z, t);
	journal_end(l->id, 1);
	lease_unlink(l, tiers);
	free(l);
	return queued;
}

int
lease_let_go(struct lease *l)
{
	return l->fd >= 0 && lease_sole_opener(l->fd, 0) == 1;
}

struct leases *
lease_all(void)
{
	return &lease_list;
}

unsigned
lease_count(void)
{
	return lease_n;
}

unsigned
lease_zombie_count(void)
{
	return lease_nzombies;
}

uint64_t
lease_zombie_physical(const struct tier *t)
{
	struct zombie	*z;
	uint64_t	 sum = 0;

	TAILQ_FOREACH(z, &lease_zombies, entry)
		if (z->tier == t)
			sum += z->physical;
	return sum;
}

void
lease_audit_tier(struct tier *t, struct tiers *tiers)
{
	struct lease	*l, *lt;
	struct zombie	*z, *zt;
	struct lease_probe p;

	TAILQ_FOREACH_SAFE(l, &lease_list, all_entry, lt)
		if (t == NULL || l->tier == t)
			lease_audit(l);
	TAILQ_FOREACH_SAFE(z, &lease_zombies, entry, zt)
		if (t == NULL || z->tier == t) {
			lease_probe_zombie(&p, z);
			lease_measure(&p);
			lease_apply_zombie(&p, tiers);
		}
	lease_warn_flush();
}
