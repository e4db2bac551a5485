/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tierctl: the pmemtier admin CLI. Shared types of its modules:
 *   tierctl.c	main, global options, the command table
 *   conn.c	the daemon connection (Hello, one request -> one reply)
 *   output.c	the output vtables (human columns and JSON)
 *   json.c	a small streaming JSON writer
 *   show.c	status, tiers, clients, leases
 *   admin.c	quota list/set/unset, rescan, reload
 */
#ifndef TIERCTL_H
#define TIERCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "wire.h"

/* Exit statuses, documented in tierctl(8). */
#define TIERCTL_EXIT_OK		0
#define TIERCTL_EXIT_DAEMON	1	/* the daemon refused or failed */
#define TIERCTL_EXIT_USAGE	2	/* bad command line */
#define TIERCTL_EXIT_UNREACHABLE 3	/* no daemon on the socket */

/* Which selector/filter options were given (struct tierctl.opts). */
#define TIERCTL_OPT_PID		0x01
#define TIERCTL_OPT_CGROUP	0x02
#define TIERCTL_OPT_UID		0x04
#define TIERCTL_OPT_GID		0x08
#define TIERCTL_OPT_DEFAULT	0x10
#define TIERCTL_OPT_OPENMETRICS	0x20
#define TIERCTL_OPT_WATCH	0x40

struct tierctl_output;
struct json_writer;

struct tierctl {
	const char			*socket;	/* resolved path */
	bool				 json;
	bool				 bytes;		/* raw numbers */
	int				 opts;		/* TIERCTL_OPT_* */
	pid_t				 pid;		/* --pid */
	const char			*cgroup;	/* --cgroup */
	uint32_t			 uid;		/* --uid */
	uint32_t			 gid;		/* --gid */
	const struct tierctl_output	*out;
	struct json_writer		*jw;
	int				 nsections;	/* printed so far */
};

/* ---- conn.c ---------------------------------------------------------- */

struct tierctl_conn {
	int			 fd;
	const char		*path;
	uint64_t		 next_id;
	Pmemtier__Envelope	*welcome;
	uint8_t			 buf[PMT_WIRE_MAX_PACKET];
};

/* Connects and says Hello; exits 3 when no daemon answers. */
struct tierctl_conn *conn_open(const char *path);
void	conn_close(struct tierctl_conn *c);
/*
 * Sends req (its version and request_id are filled in) and returns the
 * reply, which must have body case `expect`. A daemon Error exits 1 with
 * its message; a lost connection exits 3. `what` names the command in
 * messages. Free the reply with pmemtier__envelope__free_unpacked().
 */
Pmemtier__Envelope *conn_request(struct tierctl_conn *c,
	    Pmemtier__Envelope *req, Pmemtier__Envelope__BodyCase expect,
	    const char *what);

/* ---- output.c -------------------------------------------------------- */

enum tierctl_list {
	TIERCTL_LIST_TIERS,
	TIERCTL_LIST_CLIENTS,
	TIERCTL_LIST_LEASES,
	TIERCTL_LIST_RULES,
	TIERCTL_LIST_DEVICES,
	TIERCTL_LIST_USAGE,
	TIERCTL_LIST_CXL,
};

/*
 * An output form. Every command prints through one of these so that the
 * human and the JSON forms show the same facts under the same names.
 */
struct tierctl_output {
	void	(*begin)(struct tierctl *);
	void	(*daemon)(struct tierctl *, const Pmemtier__Status *);
	void	(*list_begin)(struct tierctl *, enum tierctl_list);
	void	(*tier)(struct tierctl *, const Pmemtier__TierInfo *);
	void	(*client)(struct tierctl *, const Pmemtier__ClientStatus *);
	void	(*lease)(struct tierctl *, const Pmemtier__LeaseStatus *);
	void	(*rule)(struct tierctl *, const Pmemtier__QuotaRule *);
	void	(*device)(struct tierctl *, const Pmemtier__DeviceInfo *);
	void	(*cxl)(struct tierctl *, const Pmemtier__CxlInfo *);
	void	(*usage)(struct tierctl *, const Pmemtier__QuotaUsage *);
	void	(*list_end)(struct tierctl *, enum tierctl_list);
	/* After list_end of a list the daemon may cap: total, shown. */
	void	(*total)(struct tierctl *, enum tierctl_list, size_t total,
		    size_t shown);
	/* A request that returns nothing but success. */
	void	(*done)(struct tierctl *, const char *what);
	void	(*end)(struct tierctl *);
};

extern const struct tierctl_output output_human;
extern const struct tierctl_output output_json;

/* Formats a byte count: binary units, or raw with --bytes. */
const char *output_size(const struct tierctl *, uint64_t, char *, size_t);

/* ---- json.c ---------------------------------------------------------- */

struct json_writer *json_new(FILE *);
/* Finishes the document (newline) and frees; returns -1 on write error. */
int	json_free(struct json_writer *);
/* key is NULL for an array element and for the top-level value. */
void	json_object_begin(struct json_writer *, const char *key);
void	json_object_end(struct json_writer *);
void	json_array_begin(struct json_writer *, const char *key);
void	json_array_end(struct json_writer *);
void	json_string(struct json_writer *, const char *key, const char *);
void	json_uint(struct json_writer *, const char *key, uint64_t);
void	json_int(struct json_writer *, const char *key, int64_t);
void	json_bool(struct json_writer *, const char *key, bool);
void	json_null(struct json_writer *, const char *key);
/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
size_t	json_utf8_len(const unsigned char *s);

/* ---- commands (show.c, admin.c) -------------------------------------- */

int	cmd_status(struct tierctl *, int, char **);
int	cmd_tiers(struct tierctl *, int, char **);
int	cmd_clients(struct tierctl *, int, char **);
int	cmd_leases(struct tierctl *, int, char **);
int	cmd_quota(struct tierctl *, int, char **);
int	cmd_rescan(struct tierctl *, int, char **);
int	cmd_reload(struct tierctl *, int, char **);
int	cmd_metrics(struct tierctl *, int, char **);

/* tierctl.c: prints the usage to stderr and exits 2. */
void	tierctl_usage(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* TIERCTL_H */
