/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the daemon's packet dispatch, from the bytes of a packet to
 * the reply, as conn_read() drives it (daemon/conn.c), but without the
 * listening socket or the event loop: each input is one connection, made
 * by conn_new() on one end of a socketpair, whose packets are handed to
 * dispatch_packet() one at a time. The other end reads the replies.
 *
 * The daemon is set up as main.c does (config, tiers, quota tables, lease
 * table) on a private directory: a file tier and, where NUMA node 0
 * exists, a kmem tier, with quota rules that apply to the peer, so that
 * grants, refusals, quota commands and Status all run for real.
 *
 * Input:
 *   byte 0          bit 0: the peer is an admin (uid 0);
 *                   bit 1: no Hello is sent for it before its packets
 *   then packets    a 16-bit little-endian header, then that many bytes
 *                   (fewer at the end of the input). Header bits 0-13:
 *                   length; bit 14: a descriptor came with the packet;
 *                   bit 15: the packet was truncated (larger than the cap)
 *
 * Checked: every packet gets exactly one reply while the connection
 * lives, the reply is a valid Envelope that echoes the request_id (0 for
 * a packet that did not decode), a LeaseGrant and nothing else carries a
 * descriptor, and closing the connection gives back every byte it was
 * granted, on the tiers and in the quota buckets.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "closer.h"
#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "fuzz.h"
#include "holder.h"
#include "lease.h"
#include "log.h"
#include "pmemtierd.h"
#include "quota.h"
#include "tier.h"
#include "wire.h"

#define FUZZ_ADMIN		0x01
#define FUZZ_NO_HELLO		0x02
#define FUZZ_LEN_MASK		0x3fff
#define FUZZ_PKT_FD		0x4000
#define FUZZ_PKT_TRUNCATED	0x8000
/* A connection is dropped after CONN_MAX_ERRORS errors anyway. */
#define FUZZ_MAX_PACKETS	128
#define FUZZ_CGROUP		"/fuzz.slice/fuzz-1.scope"

/* main.c is not linked: its globals and reload are provided here. */
static struct pmtd	fuzz_pmtd;
struct pmtd		*pmtd = &fuzz_pmtd;

static char		fuzz_dir[64];
static char		fuzz_conf[2048];
static uint8_t		fuzz_hello[64];
static size_t		fuzz_hello_len;
static uint8_t		fuzz_rbuf[PMT_WIRE_MAX_PACKET];

/* As main.c's: a new config from the same text, tiers brought in line. */
int
pmtd_reload(char *err, size_t errlen)
{
	struct pmtd_config	*nc;

	if ((nc = config_parse_string(fuzz_conf, err, errlen)) == NULL)
		return -1;
	if (tier_apply(&pmtd->tiers, nc, err, errlen) != 0) {
		config_free(nc);
		return -1;
	}
	config_free(pmtd->conf);
	pmtd->conf = nc;
	return 0;
}

static int
fuzz_rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void
fuzz_cleanup(void)
{
	tier_close_all(&pmtd->tiers);
	config_rules_free(&pmtd->runtime_rules);
	config_free(pmtd->conf);
	pmtd->conf = NULL;
	quota_fini();
	event_base_free(pmtd->base);
	nftw(fuzz_dir, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static void
fuzz_setup_conf(void)
{
	struct stat	st;
	char		pmem[128], state[128];
	int		kmem;

	snprintf(pmem, sizeof(pmem), "%s/pmem", fuzz_dir);
	snprintf(state, sizeof(state), "%s/state", fuzz_dir);
	FUZZ_CHECK(mkdir(state, 0700) == 0);
	/* memfd and mbind work anywhere node 0 does. */
	kmem = stat("/sys/devices/system/node/node0", &st) == 0;
	snprintf(fuzz_conf, sizeof(fuzz_conf),
	    "[daemon]\n"
	    "state_dir = %s\n"
	    "max_leases_per_connection = 32\n"
	    "max_bytes_per_connection = 1536K\n"
	    "[tier pmem]\nbackend = file\npath = %s\ncapacity = 1M\n"
	    "default = yes\n"
	    "%s"
	    "[quota scope]\ncgroup = /fuzz.slice/*\ntier = pmem\n"
	    "limit = 512K\n"
	    "[quota user]\nuid = 1000\ntier = *\nlimit = 768K\n"
	    "[quota rest]\ndefault = yes\ntier = *\nlimit = 1M\n",
	    state, pmem, kmem ? "[tier fast]\nbackend = kmem\nnode = 0\n"
	    "capacity = 1M\n" : "");
}

static void
fuzz_setup_hello(void)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Hello		h = PMEMTIER__HELLO__INIT;

	env.version = PMT_WIRE_VERSION;
	env.request_id = 1;
	env.body_case = PMEMTIER__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	h.min_version = PMT_WIRE_VERSION;
	h.max_version = PMT_WIRE_VERSION;
	h.client_name = "fuzz_dispatch";
	fuzz_hello_len = pmemtier__envelope__get_packed_size(&env);
	FUZZ_CHECK(fuzz_hello_len <= sizeof(fuzz_hello));
	pmemtier__envelope__pack(&env, fuzz_hello);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR"), *lvl;
	char		 err[1024];
	int		 level = LOG_WARNING;

	/*
	 * Every refusal is logged at info level: thousands of lines a
	 * second. PMEMTIER_FUZZ_LOG=debug shows them when replaying a crash.
	 */
	if ((lvl = getenv("PMEMTIER_FUZZ_LOG")) != NULL &&
	    log_level_parse(lvl) >= 0)
		level = log_level_parse(lvl);
	log_init(1, level);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/pmt-fuzz-dispatch.XXXXXX",
	    tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL);
	fuzz_setup_conf();
	fuzz_setup_hello();

	TAILQ_INIT(&pmtd->tiers);
	TAILQ_INIT(&pmtd->conns);
	TAILQ_INIT(&pmtd->runtime_rules);
	TAILQ_INIT(&pmtd->holders);
	FUZZ_CHECK(closer_init() == 0);
	pmtd->started = time(NULL);
	if ((pmtd->conf = config_parse_string(fuzz_conf, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_dispatch: %s\n", err);
		abort();
	}
	quota_init();
	lease_table_init(1);
	FUZZ_CHECK((pmtd->base = event_base_new()) != NULL);
	if (tier_apply(&pmtd->tiers, pmtd->conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_dispatch: %s\n", err);
		abort();
	}
	atexit(fuzz_cleanup);
	return 0;
}

/* Reads the one reply to a request; rid is what it must echo. */
static void
fuzz_reply(int sock, uint64_t rid)
{
	struct pmt_wire_packet	 pkt;
	Pmemtier__Envelope	*env;
	ssize_t			 n;

	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = fuzz_rbuf;
	pkt.cap = sizeof(fuzz_rbuf);
	n = pmt_wire_recv(sock, &pkt, MSG_DONTWAIT);
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(pkt.flags == 0);
	FUZZ_CHECK((env = pmt_wire_decode(&pkt, NULL)) != NULL);
	FUZZ_CHECK(env->version == PMT_WIRE_VERSION);
	FUZZ_CHECK(env->request_id == rid);
	FUZZ_CHECK(env->body_case != PMEMTIER__ENVELOPE__BODY__NOT_SET);
	FUZZ_CHECK(pkt.nfds == (env->body_case ==
	    PMEMTIER__ENVELOPE__BODY_LEASE_GRANT ? 1u : 0u));
	pmt_wire_close_fds(&pkt);
	pmemtier__envelope__free_unpacked(env, NULL);
	n = pmt_wire_recv(sock, &pkt, MSG_DONTWAIT);
	FUZZ_CHECK(n == -EAGAIN);
}

/*
 * Hands one packet to the connection as conn_read() would. Returns 0 when
 * the connection may take another packet.
 */
static int
fuzz_packet(struct conn *c, int peer, const uint8_t *data, size_t len,
    int flags)
{
	struct pmt_wire_packet	 pkt;
	Pmemtier__Envelope	*env;
	uint64_t		 rid = 0;
	uint8_t			*buf;

	/* A buffer of the packet's size: ASan sees any read past its end. */
	FUZZ_CHECK((buf = malloc(len > 0 ? len : 1)) != NULL);
	memcpy(buf, data, len);
	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	pkt.cap = len;
	pkt.len = len;
	if (flags & FUZZ_PKT_TRUNCATED)
		pkt.flags |= PMT_WIRE_TRUNCATED;
	if (flags & FUZZ_PKT_FD) {
		/* Only the count is looked at; the fd is never closed. */
		pkt.fds[0] = -1;
		pkt.nfds = 1;
	}
	if (!(pkt.flags & PMT_WIRE_TRUNCATED) &&
	    (env = pmt_wire_decode(&pkt, NULL)) != NULL) {
		rid = env->request_id;
		pmemtier__envelope__free_unpacked(env, NULL);
	}
	dispatch_packet(c, &pkt);
	free(buf);
	if (c->dead)
		return -1;
	/* Replies are read at once: the socket never fills up. */
	FUZZ_CHECK(c->state != CONN_BLOCKED);
	fuzz_reply(peer, rid);
	if (c->errors >= CONN_MAX_ERRORS)
		return -1;
	return 0;
}

static void
fuzz_principal(struct principal *pr, int admin)
{
	memset(pr, 0, sizeof(*pr));
	pr->uid = admin ? 0 : 1000;
	pr->gid = admin ? 0 : 100;
	pr->pid = getpid();
	pr->pidfd = -1;
	pr->admin = admin;
	snprintf(pr->cgroup, sizeof(pr->cgroup), "%s", FUZZ_CGROUP);
	snprintf(pr->comm, sizeof(pr->comm), "fuzz_dispatch");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct principal	 pr;
	struct conn		*c;
	struct tier		*t;
	size_t			 off, len;
	unsigned		 hdr, npkt;
	int			 sv[2], flags;

	if (size < 1)
		return 0;
	flags = data[0];
	fuzz_principal(&pr, flags & FUZZ_ADMIN);
	/* Lease ids from 1 on every input: a crash replays alone. */
	lease_table_init(1);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv) == 0);
	FUZZ_CHECK((c = conn_new(sv[0], &pr)) != NULL);

	off = 1;
	npkt = 0;
	if (!(flags & FUZZ_NO_HELLO)) {
		if (fuzz_packet(c, sv[1], fuzz_hello, fuzz_hello_len, 0) != 0)
			goto done;
		FUZZ_CHECK(c->state == CONN_READY);
	}
	while (off + 2 <= size && npkt++ < FUZZ_MAX_PACKETS) {
		hdr = data[off] | (unsigned)data[off + 1] << 8;
		off += 2;
		len = hdr & FUZZ_LEN_MASK;
		if (len > size - off)
			len = size - off;
		if (fuzz_packet(c, sv[1], data + off, len, (int)hdr) != 0)
			break;
		off += len;
	}
done:
	conn_close(c, "fuzz input done");
	close(sv[1]);

	/*
	 * Every byte granted on this connection came back with it: the
	 * principal's start time (0) is not this process's, so its leases
	 * ended with the connection rather than waiting for it to exit.
	 */
	FUZZ_CHECK(lease_count() == 0);
	FUZZ_CHECK(holder_count() == 0);
	FUZZ_CHECK(lease_zombie_count() == 0);
	TAILQ_FOREACH(t, &pmtd->tiers, entry) {
		FUZZ_CHECK(t->granted == 0 && t->nleases == 0);
		FUZZ_CHECK(quota_usage_cgroup(t->name, "/") == 0);
		FUZZ_CHECK(quota_usage_uid(t->name, pr.uid) == 0);
	}
	/* Runtime rules set by this input go with it. */
	config_rules_free(&pmtd->runtime_rules);
	return 0;
}
