/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmemtierd: shared types of the lease daemon. One module per concern:
 * config.c (the INI file), control.c (the listening socket), conn.c (one
 * client connection), dispatch.c (requests), peer.c (who the peer is),
 * tier.c + tier_*.c (tiers and their backends), lease.c (the lease
 * table), quota.c (rules and accounting), status.c (Status/TierInfo),
 * metrics*.c (the metrics and their HTTP endpoint), arena.c (memory for
 * decoding one request).
 */
#ifndef PMEMTIERD_H
#define PMEMTIERD_H

#include <sys/queue.h>
#include <sys/types.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "pmemtier.pb-c.h"

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define PMTD_NAME_MAX		64
/* The kernel's own bound on a cgroup path (PATH_MAX), plus its NUL. */
#define PMTD_CGROUP_MAX		4096
#define PMTD_LABEL_MAX		64

/* ---- configuration (config.c) ---- */

/*
 * How a file lease is held to its grant ([tier] enforce). The audit trims
 * and charges growth after the fact; a project quota makes the filesystem
 * refuse it (projquota.c), and the audit runs as well.
 */
enum tier_enforce {
	TIER_ENFORCE_AUDIT,
	TIER_ENFORCE_PROJQUOTA,
};

/* The first project id the daemon takes when project_base is not set. */
#define TIER_PROJECT_BASE	0x70000000U

/* free_off_loop: where lease files are closed (freed); see tier_file.c. */
enum tier_free {
	TIER_FREE_AUTO = 0,	/* off the loop when a close sleeps here */
	TIER_FREE_YES,
	TIER_FREE_NO,
};

struct tier_conf {
	TAILQ_ENTRY(tier_conf)	 entry;
	char			 name[PMTD_NAME_MAX];
	char			 backend[16];
	char			 path[PATH_MAX];
	char			 device[PMTD_NAME_MAX];
	uint64_t		 capacity;
	int			 node;
	int			 is_default;
	int			 discovered;	/* made by rescan.c, not the file */
	enum tier_enforce	 enforce;
	uint32_t		 project_base;	/* 0: TIER_PROJECT_BASE */
	enum tier_free		 free_off_loop;
};
TAILQ_HEAD(tier_confs, tier_conf);

/* [discovery]: which found devices become tiers (rescan.c). */
struct discovery_conf {
	int			 enable;
	char			 include[256];	/* space-separated globs */
	char			 exclude[256];
	int			 fsdax;
	int			 kmem;
};

/* [device PATTERN]: settings for one device (or a glob of them). */
struct device_conf {
	TAILQ_ENTRY(device_conf) entry;
	char			 pattern[PMTD_NAME_MAX];
	int			 online;
	int			 movable;
	char			 tier[PMTD_NAME_MAX];
	uint64_t		 capacity;	/* 0 = the device's */
	int			 is_default;
	int			 ignore;
	/* CXL memdev: "pmem" = make a region (and a devdax namespace named
	 * after the memdev) when it has none; "" = never touch it. */
	char			 region[8];
};
TAILQ_HEAD(device_confs, device_conf);

enum quota_sel {
	QUOTA_SEL_CGROUP,
	QUOTA_SEL_UID,
	QUOTA_SEL_GID,
	QUOTA_SEL_DEFAULT,
};

enum quota_origin {
	QUOTA_ORIGIN_CONFIG,
	QUOTA_ORIGIN_RUNTIME,
};

struct quota_rule {
	TAILQ_ENTRY(quota_rule)	 entry;
	char			 name[PMTD_NAME_MAX];
	enum quota_sel		 sel;
	char			 cgroup[PMTD_CGROUP_MAX];	/* glob */
	uint32_t		 id;				/* uid or gid */
	char			 tier[PMTD_NAME_MAX];		/* or "*" */
	uint64_t		 limit;
	enum quota_origin	 origin;
	unsigned		 order;				/* file order */
};
TAILQ_HEAD(quota_rules, quota_rule);

/* [metrics]: where the daemon serves its metrics (metrics_http.c). */
struct metrics_conf {
	char			 listen[128];	/* "host:port"; "": none */
	char			 socket[PATH_MAX];	/* "": none */
	mode_t			 socket_mode;
	char			 socket_group[PMTD_NAME_MAX];	/* "": keep */
	int			 buckets;	/* per-bucket quota series */
};

struct pmtd_config {
	char			 socket[PATH_MAX];
	mode_t			 socket_mode;
	char			 socket_group[PMTD_NAME_MAX];
	char			 admin_group[PMTD_NAME_MAX];
	char			 state_dir[PATH_MAX];
	unsigned		 max_conn_per_uid;
	unsigned		 max_leases_per_conn;
	unsigned		 max_leases_per_uid;
	uint64_t		 max_bytes_per_conn;
	unsigned		 audit_interval;	/* seconds, 0 = off */
	int			 log_level;
	struct tier_confs	 tiers;
	struct quota_rules	 rules;
	struct discovery_conf	 disc;
	struct device_confs	 devices;
	struct metrics_conf	 metrics;
};

/* ---- who the peer is (peer.c) ---- */

struct principal {
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	int		 pidfd;		/* open only while identifying */
	int		 admin;		/* as of the configuration in force */
	uint64_t	 start;		/* process start time (ticks since boot) */
	/* The default rule's bucket: cgroup[0, dflt_len), or the uid if 0. */
	size_t		 dflt_len;
	char		 cgroup[PMTD_CGROUP_MAX];
	char		 comm[32];
};

/* ---- tiers (tier.c) ---- */

struct tier;

/*
 * A backend: how a tier makes one lease. Adding a backend is one more ops
 * table; nothing else in the daemon knows which backend a tier has.
 */
struct tier_ops {
	const char	*name;
	/*
	 * Set when a client cannot grow the object it is handed (a memfd
	 * sealed with F_SEAL_GROW): truncating it ends it for good.
	 */
	int		 sealed;
	/* Set when alloc writes every block: large leases go to the worker. */
	int		 fills;
	/* Prepares the tier (private directory, node check). 0 or -errno. */
	int		(*open)(struct tier *);
	void		(*close)(struct tier *);
	/*
	 * Makes a lease object of size bytes; *fdp gets the daemon's fd. A
	 * file is put into filesystem project projid first (0: left alone),
	 * so an exhausted project fails the grant with -EDQUOT. May run off
	 * the event loop: uses the tier's dirfd and its arguments only.
	 */
	/*
	 * fill: the bytes from offset 0 that must be backed now (a file's
	 * blocks are allocated; the rest of size is a hole). devino gets the
	 * file's st_dev and st_ino when alloc knows them without a stat
	 * (a spare), else zeros.
	 */
	int		(*alloc)(struct tier *, uint64_t size, uint64_t fill,
			    uint32_t projid, int *fdp, uint64_t devino[2]);
};

/* Empty lease files a file tier keeps for its next grants (tier.c). */
#define TIER_SPARES	16

struct tier {
	TAILQ_ENTRY(tier)	 entry;
	char			 name[PMTD_NAME_MAX];
	const struct tier_ops	*ops;
	char			 path[PATH_MAX];
	char			 device[PMTD_NAME_MAX];
	int			 dirfd;		/* private lease directory */
	uint64_t		 st_dev;
	int			 dax;
	enum tier_free		 free_off_loop;
	int			 close_sleeps;	/* WORKER_LANE_*: where closed */
	int			 node;
	uint64_t		 capacity;
	uint64_t		 granted;	/* charged: max(grant, blocks) */
	unsigned		 nleases;
	unsigned		 nzombies;	/* revoked, maybe still open */
	uint64_t		 swept_at;	/* last ENOSPC sweep (ms) */
	int			 is_default;
	int			 removed;	/* gone from config, leases remain */
	enum tier_enforce	 enforce;
	uint32_t		 project_base;	/* first project id it may use */
	/* Spares: files of ended leases, emptied (tier_recycle_then). */
	int			 spare_fd[TIER_SPARES];
	uint64_t		 spare_id[TIER_SPARES][2];	/* dev, ino */
	unsigned		 nspares;
	uint64_t		 spares_at;	/* last taken or kept (ms) */
	unsigned		 nkeeping;	/* files on their way to spares */
	struct tiers		*keeping_in;	/* the table it is freed from */
};
TAILQ_HEAD(tiers, tier);

/* ---- leases (lease.c) ---- */

struct conn;
struct holder;

/*
 * A lease belongs to a connection while one is open, and to the holder
 * (its process) once that connection closed with the process alive: a
 * lease ends only on LeaseRelease or when its process has exited.
 */
struct lease {
	uint64_t		 id;
	struct tier		*tier;
	struct conn		*conn;		/* NULL while held by holder */
	struct holder		*holder;	/* NULL while conn is set */
	const struct principal	*pr;		/* conn's or holder's */
	uint64_t		 size;		/* granted */
	uint64_t		 budget;	/* commit budget, <= size */
	uint64_t		 charged;	/* max(budget, physical) */
	int			 fd;		/* -1: restored, not found */
	int			 overgrown;
	uint64_t		 physical;
	uint64_t		 dev, ino;	/* the file, for the journal */
	char			 label[PMTD_LABEL_MAX];
	TAILQ_ENTRY(lease)	 conn_entry;	/* conn's or holder's list */
	TAILQ_ENTRY(lease)	 all_entry;
	LIST_ENTRY(lease)	 hash_entry;
};
TAILQ_HEAD(leases, lease);

/*
 * A revoked file lease: its blocks were freed through the daemon's fd,
 * but the client may still hold its own descriptor (or a mapping) and
 * could grow the file again. The daemon keeps its fd, trims the file at
 * every audit, and lets go once no other open file refers to it.
 */
struct zombie {
	TAILQ_ENTRY(zombie)	 entry;
	uint64_t		 id;
	struct tier		*tier;
	int			 fd;
	uid_t			 uid;
	pid_t			 pid;
	uint64_t		 start;		/* of pid, as in principal */
	uint64_t		 physical;
	uint64_t		 dev, ino;
};
TAILQ_HEAD(zombies, zombie);

/*
 * The leases of a process whose connections all closed while it lives
 * (holder.c): still charged to its principal, ended when the process
 * exits (its pidfd polls readable) or handed back to the process's next
 * connection.
 */
struct holder {
	TAILQ_ENTRY(holder)	 entry;
	struct principal	 pr;
	struct leases		 leases;
	unsigned		 nleases;
	uint64_t		 bytes;
	int			 pidfd;
	struct event		*ev;
};
TAILQ_HEAD(holders, holder);

/* ---- connections (conn.c) ---- */

/*
 * Connection states. A connection starts in CONN_HELLO; a good Hello moves
 * it to CONN_READY. When a reply cannot be sent at once (the peer does not
 * read) it parks in CONN_BLOCKED: reading stops until the reply is out, so
 * a client can never make the daemon queue without bound. While its
 * request is worked on off the loop (a large grant, an admin's Status
 * that waits for an audit: worker.h) it is in CONN_WAITING, neither read
 * nor written; the job's completion answers and resumes it. CONN_CLOSED
 * is set just before the connection is freed.
 */
enum conn_state {
	CONN_HELLO,
	CONN_READY,
	CONN_BLOCKED,
	CONN_WAITING,
	CONN_CLOSED,
};

struct usage_kind {
	char		 kind[PMTD_NAME_MAX];
	char		 tier[PMTD_NAME_MAX];
	uint64_t	 allocated;
	uint64_t	 active;
	uint64_t	 resident;
	uint64_t	 mapped;
	uint64_t	 refused;	/* allocations the client's kind failed */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	uint64_t		 id;
	int			 fd;
	struct event		*ev;
	enum conn_state		 state;
	enum conn_state		 resume;	/* state after CONN_BLOCKED */
	struct principal	 pr;
	char			 client_name[PMTD_NAME_MAX];
	struct leases		 leases;
	unsigned		 nleases;
	uint64_t		 bytes;
	time_t			 connected_at;
	struct usage_kind	*usage;
	size_t			 nusage;
	time_t			 usage_at;
	time_t			 queried_at;
	unsigned		 errors;
	int			 dead;		/* send failed: close after this packet */
	int			 audited;	/* request re-run after its audit */
	unsigned		 admin_gen;	/* pr.admin is for this conf_gen */
	/* Refusal logging (dispatch_refuse): window start, lines, quiet. */
	time_t			 refuse_at;
	unsigned		 refuse_logged;
	unsigned		 refuse_quiet;
	int			 refuse_code;
	int			 read_ahead;	/* conn_read_ahead's score, 0..3 */
	unsigned		 read_probe;
	uint8_t			*pend_buf;	/* reply waiting in CONN_BLOCKED */
	size_t			 pend_len;
	int			 pend_fd;
};
TAILQ_HEAD(conns, conn);

/* ---- the daemon (main.c) ---- */

struct pmtd {
	struct event_base	*base;
	struct pmtd_config	*conf;
	const char		*conf_path;
	const char		*socket_override;
	int			 foreground;
	int			 verbose;
	time_t			 started;
	struct tiers		 tiers;
	struct conns		 conns;
	unsigned		 nconns;
	struct holders		 holders;
	struct quota_rules	 runtime_rules;
	unsigned		 conf_gen;	/* bumped by every reload */
	unsigned		 max_fds;	/* budget from RLIMIT_NOFILE */
	int			 have_admin_gid;
	gid_t			 admin_gid;
};

extern struct pmtd	*pmtd;

/* main.c */
int	pmtd_reload(char *err, size_t errlen);
int	pmtd_rescan(char *err, size_t errlen);

/* sizes.c helpers shared by config and messages */
int	pmtd_parse_size(const char *s, uint64_t *out);
void	pmtd_fmt_size(uint64_t bytes, char *buf, size_t len);
/* CLOCK_MONOTONIC in milliseconds, for rate limits. */
uint64_t pmtd_monotonic_ms(void);
/* clock_gettime(clock) in nanoseconds. */
uint64_t pmtd_clock_ns(clockid_t);

#endif /* PMEMTIERD_H */
