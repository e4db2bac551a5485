/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bare protocol client for the daemon's tests and benchmark: it speaks
 * the wire format directly (not through libpmemtier) so that tests can
 * also send what a real client never would.
 */
#ifndef PMEMTIER_TCLIENT_H
#define PMEMTIER_TCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pmemtier.pb-c.h"

/* Connects (SOCK_SEQPACKET); -1 on failure. */
int	tc_connect(const char *socket);
/* Connects and completes Hello; -1 on failure. */
int	tc_open(const char *socket);
/* Sends Hello(min, max); returns the reply envelope. */
Pmemtier__Envelope *tc_hello(int sock, uint32_t min, uint32_t max);
/*
 * Sends req (request_id filled in) and waits (<= 5 s) for the reply with
 * the same id, skipping unsolicited packets. *fdp (may be NULL) gets a
 * received descriptor or -1. NULL on timeout/EOF.
 */
Pmemtier__Envelope *tc_call(int sock, Pmemtier__Envelope *req, int *fdp);
/* Receives one packet (<= timeout_ms); NULL on timeout/EOF/garbage. */
Pmemtier__Envelope *tc_recv(int sock, int timeout_ms, int *fdp);
/* Sends raw bytes with an optional fd. 0 or -errno. */
int	tc_send_raw(int sock, const void *buf, size_t len, int fd);
/*
 * Packs a request for tc_send_raw (buf: PMT_WIRE_MAX_PACKET or, for
 * these small ones, 128 bytes): Hello for version 1, LeaseRequest for
 * size bytes of tier. Returns the length.
 */
size_t	tc_pack_hello(uint8_t *buf, uint64_t rid);
size_t	tc_pack_lease(uint8_t *buf, uint64_t rid, const char *tier,
	    uint64_t size);
/* The error code of a reply, 0 when it is not an Error. */
int	tc_error_code(const Pmemtier__Envelope *);

/*
 * Asks for a lease. Returns 0 and fills id/size/fd, or the daemon's error
 * code (> 0), or -1 on a transport failure.
 */
int	tc_lease(int sock, const char *tier, uint64_t size, uint64_t *idp,
	    uint64_t *sizep, int *fdp);
/* Releases a lease: 0, the error code, or -1. */
int	tc_release(int sock, uint64_t id);
/* A tier's free and granted bytes via TierListRequest: 0 or -1. */
int	tc_tier(int sock, const char *tier, uint64_t *freep, uint64_t *grantedp,
	    uint64_t *usedp);
/* Status (offsets 0); caller frees. */
Pmemtier__Envelope *tc_status(int sock, uint32_t coff, uint32_t loff);
/* Sends a body-less request of the given body case; returns the reply. */
Pmemtier__Envelope *tc_simple(int sock, Pmemtier__Envelope__BodyCase body);
void	tc_free(Pmemtier__Envelope *);

/* Open descriptors of a process (0 = this one), counted in /proc/PID/fd. */
int	tc_count_fds(pid_t pid);
/* Waits up to 15 s until pid has want fds; returns the last count. */
int	tc_wait_fds(pid_t pid, int want);
/* The fd count of pid once it stops changing (3 s stable, <= 15 s). */
int	tc_settle_fds(pid_t pid);
struct testd;

/* The descriptor counts a test checks at its end: its own and its daemon's. */
struct tc_baseline {
	int	fds;		/* the test process's */
	int	dfds;		/* the daemon's, once settled after start */
};
/* testd_start(d, extra_ini), taking both baselines; 0 or -1. */
int	tc_start_measured(struct testd *d, const char *extra_ini,
	    struct tc_baseline *b);
/*
 * Waits for the daemon to drop back to its baseline and stops it. Returns 0
 * when the daemon's fds came back, it exited 0 and the test holds no more
 * fds than at the start; otherwise says which on stderr and returns -1.
 */
int	tc_stop_measured(struct testd *d, const struct tc_baseline *b);
/* Entries in a directory, excluding . and ..; -1 if unreadable. */
int	tc_count_dir(const char *path);

#endif /* PMEMTIER_TCLIENT_H */
