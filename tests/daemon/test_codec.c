/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit: the daemon's view of the codec. Every request body survives the
 * framing round trip, descriptors ride on the packet that carries them,
 * the size cap holds both ways, damaged bytes never decode, and the
 * helpers that clean client text and parse /proc/PID/cgroup.
 */
#include <sys/socket.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dispatch.h"
#include "peer.h"
#include "pmemtierd.h"
#include "wire.h"

/* dispatch.c links against the daemon's globals; none is used here. */
static struct pmtd	unit_pmtd;
struct pmtd		*pmtd = &unit_pmtd;

int
pmtd_reload(char *err, size_t errlen)
{
	return -1;
}

static int	sv[2];

static int
setup(void **state)
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

static int
teardown(void **state)
{
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static Pmemtier__Envelope *
roundtrip(const Pmemtier__Envelope *env, int fd, int *rfd)
{
	static uint8_t		 buf[PMT_WIRE_MAX_PACKET];
	struct pmt_wire_packet	 pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	pkt.cap = sizeof(buf);
	assert_int_equal(pmt_wire_send(sv[0], env, fd), 0);
	assert_true(pmt_wire_recv(sv[1], &pkt, 0) > 0);
	*rfd = pkt.nfds > 0 ? pkt.fds[0] : -1;
	assert_true(pkt.nfds <= 1);
	return pmt_wire_decode(&pkt, NULL);
}

static void
test_lease_request(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__LeaseRequest	 req = PMEMTIER__LEASE_REQUEST__INIT;
	int			 fd;

	env.version = 1;
	env.request_id = UINT64_MAX;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &req;
	req.tier = "kmem";
	req.size = (1ULL << 40) + 1;
	req.label = "PMEM_KIND";
	r = roundtrip(&env, -1, &fd);
	assert_non_null(r);
	assert_int_equal(fd, -1);
	assert_int_equal(r->request_id, UINT64_MAX);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST);
	assert_string_equal(r->lease_request->tier, "kmem");
	assert_int_equal(r->lease_request->size, (1ULL << 40) + 1);
	assert_string_equal(pmt_wire_body_name(r), "lease_request");
	pmemtier__envelope__free_unpacked(r, NULL);
}

static void
test_grant_with_fd(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__LeaseGrant	 g = PMEMTIER__LEASE_GRANT__INIT;
	int			 p[2], fd;
	char			 c = 'x';

	assert_int_equal(pipe(p), 0);
	env.version = 1;
	env.request_id = 3;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_GRANT;
	env.lease_grant = &g;
	g.lease_id = 99;
	g.tier = "pmem";
	g.size = 4096;
	r = roundtrip(&env, p[1], &fd);
	assert_non_null(r);
	assert_true(fd >= 0);
	/* The received fd is the same pipe. */
	assert_int_equal(write(fd, &c, 1), 1);
	c = 0;
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	close(fd);
	close(p[0]);
	close(p[1]);
	assert_int_equal(r->lease_grant->lease_id, 99);
	pmemtier__envelope__free_unpacked(r, NULL);
}

static void
test_every_request_body(void **state)
{
	static const Pmemtier__Envelope__BodyCase bodies[] = {
		PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST,
		PMEMTIER__ENVELOPE__BODY_QUOTA_LIST_REQUEST,
		PMEMTIER__ENVELOPE__BODY_RESCAN_REQUEST,
		PMEMTIER__ENVELOPE__BODY_RELOAD_REQUEST,
		PMEMTIER__ENVELOPE__BODY_ACK,
		PMEMTIER__ENVELOPE__BODY_USAGE_QUERY,
	};
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__Ack		 empty = PMEMTIER__ACK__INIT;
	size_t			 i;
	int			 fd;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		env.version = 1;
		env.request_id = i + 1;
		env.body_case = bodies[i];
		env.ack = &empty;
		r = roundtrip(&env, -1, &fd);
		assert_non_null(r);
		assert_int_equal(r->body_case, bodies[i]);
		assert_int_equal(r->request_id, i + 1);
		pmemtier__envelope__free_unpacked(r, NULL);
	}
}

static void
test_size_cap(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__LeaseRequest	 req = PMEMTIER__LEASE_REQUEST__INIT;
	struct pmt_wire_packet	 pkt;
	static char		 big[PMT_WIRE_MAX_PACKET + 1];
	static uint8_t		 buf[PMT_WIRE_MAX_PACKET];

	memset(big, 'a', sizeof(big) - 1);
	req.tier = "";
	req.label = big;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &req;
	/* Too big to send... */
	assert_int_equal(pmt_wire_send(sv[0], &env, -1), -EMSGSIZE);
	/* ...and too big to receive: flagged, never decoded. */
	assert_int_equal(send(sv[0], big, sizeof(big) - 1 + 1, 0),
	    (ssize_t)sizeof(big));
	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	pkt.cap = sizeof(buf);
	assert_true(pmt_wire_recv(sv[1], &pkt, 0) > 0);
	assert_true(pkt.flags & PMT_WIRE_TRUNCATED);
	assert_null(pmt_wire_decode(&pkt, NULL));
}

static void
test_damaged(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__Hello		 h = PMEMTIER__HELLO__INIT;
	struct pmt_wire_packet	 pkt;
	uint8_t			 buf[256];
	size_t			 len, cut;

	h.min_version = 1;
	h.max_version = 1;
	h.client_name = "a client name that is long enough";
	env.body_case = PMEMTIER__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	len = pmemtier__envelope__pack(&env, buf);
	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	/* Every cut inside the nested message fails to decode. */
	for (cut = 6; cut < len; cut++) {
		pkt.len = cut;
		assert_null(pmt_wire_decode(&pkt, NULL));
	}
	pkt.len = 0;
	assert_null(pmt_wire_decode(&pkt, NULL));
	memset(buf, 0xff, sizeof(buf));
	pkt.len = sizeof(buf);
	assert_null(pmt_wire_decode(&pkt, NULL));
}

static void
test_sanitize(void **state)
{
	char	out[8];

	dispatch_sanitize(out, sizeof(out), "ab\ncd\x1b[");
	assert_string_equal(out, "ab?cd?[");
	dispatch_sanitize(out, sizeof(out), "0123456789");
	assert_string_equal(out, "0123456");
	dispatch_sanitize(out, sizeof(out), NULL);
	assert_string_equal(out, "");
}

static void
test_cgroup_parse(void **state)
{
	char	cg[64];

	assert_int_equal(peer_cgroup_parse("12:pids:/a\n0::/system.slice/"
	    "web-1.scope\n", cg, sizeof(cg)), 0);
	assert_string_equal(cg, "/system.slice/web-1.scope");
	assert_int_equal(peer_cgroup_parse("0::/\n", cg, sizeof(cg)), 0);
	assert_string_equal(cg, "/");
	assert_int_equal(peer_cgroup_parse("1:name=systemd:/x\n", cg,
	    sizeof(cg)), -1);
	assert_int_equal(peer_cgroup_parse("0::\n", cg, sizeof(cg)), -1);
	/* Not absolute: refused, never taken as a path to walk. */
	assert_int_equal(peer_cgroup_parse("0::x\n", cg, sizeof(cg)), -1);
	/* Too long for the buffer: its own refusal, never truncated. */
	assert_int_equal(peer_cgroup_parse("0::/a-path-far-too-long-for-"
	    "the-buffer-we-give-it-here-0123456789012345678901234567890",
	    cg, sizeof(cg)), -2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_request, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grant_with_fd, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_every_request_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_cgroup_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
