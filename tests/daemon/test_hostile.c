/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile input: every bad packet gets a clear error, the daemon keeps
 * serving, and after each case a well-behaved client still gets a lease.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"
#include "testd.h"
#include "wire.h"

#define MiB	(1024ULL * 1024)
#define E(x)	PMEMTIER__ERROR_CODE__ERROR_##x

static struct testd		d;
static struct tc_baseline	base;

static int
group_setup(void **state)
{
	return tc_start_measured(&d, NULL, &base);
}

static int
group_teardown(void **state)
{
	return tc_stop_measured(&d, &base);
}

/* The daemon still serves: a new client gets a working lease. */
static void
good_client(void)
{
	uint64_t	 id, size;
	char		*p;
	int		 s, fd;

	s = tc_open(d.socket);
	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "pmem", MiB, &id, &size, &fd), 0);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	memset(p, 0x5a, size);
	munmap(p, size);
	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	close(s);
}

/* Receives one reply and checks it is Error{code} for request_id rid. */
static void
expect_error(int s, uint64_t rid, int code)
{
	Pmemtier__Envelope	*r;
	int			 fd;

	r = tc_recv(s, 5000, &fd);
	assert_non_null(r);
	assert_int_equal(fd, -1);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_ERROR);
	assert_int_equal(r->request_id, rid);
	assert_int_equal(r->error->code, code);
	assert_true(strlen(r->error->message) > 0);
	tc_free(r);
}

static size_t
pack_lease_request(uint8_t *buf, uint64_t rid, uint32_t version)
{
	Pmemtier__Envelope	env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__LeaseRequest	req = PMEMTIER__LEASE_REQUEST__INIT;

	req.tier = "pmem";
	req.size = MiB;
	req.label = "a label long enough to cut in the middle";
	env.version = version;
	env.request_id = rid;
	env.body_case = PMEMTIER__ENVELOPE__BODY_LEASE_REQUEST;
	env.lease_request = &req;
	return pmemtier__envelope__pack(&env, buf);
}

static void
test_garbage(void **state)
{
	uint8_t	buf[512];
	int	s = tc_open(d.socket);

	assert_true(s >= 0);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(tc_send_raw(s, buf, sizeof(buf), -1), 0);
	expect_error(s, 0, E(MALFORMED));
	/* The connection itself still works after an error. */
	assert_int_equal(tc_lease(s, "pmem", MiB, NULL, NULL, NULL), 0);
	close(s);
	good_client();
}

static void
test_truncated(void **state)
{
	uint8_t	buf[512];
	size_t	len;
	int	s = tc_open(d.socket);

	assert_true(s >= 0);
	len = pack_lease_request(buf, 9, PMT_WIRE_VERSION);
	assert_int_equal(tc_send_raw(s, buf, len - 10, -1), 0);
	expect_error(s, 0, E(MALFORMED));
	close(s);
	good_client();
}

static void
test_oversized(void **state)
{
	size_t	 len = PMT_WIRE_MAX_PACKET + 4096;
	uint8_t	*buf = calloc(1, len);
	int	 s = tc_open(d.socket);

	assert_non_null(buf);
	assert_true(s >= 0);
	assert_int_equal(tc_send_raw(s, buf, len, -1), 0);
	expect_error(s, 0, E(TOO_LARGE));
	free(buf);
	close(s);
	good_client();
}

static void
test_wrong_version(void **state)
{
	Pmemtier__Envelope	*r;
	uint8_t			 buf[512];
	size_t			 len;
	int			 s = tc_connect(d.socket);

	assert_true(s >= 0);
	/* A Hello for versions we do not speak: an Error, not a hang-up. */
	r = tc_hello(s, 7, 9);
	assert_non_null(r);
	assert_int_equal(tc_error_code(r), E(VERSION));
	tc_free(r);
	/* The client may retry with a version we do speak. */
	r = tc_hello(s, 1, 3);
	assert_non_null(r);
	assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_WELCOME);
	assert_int_equal(r->welcome->version, 1);
	tc_free(r);
	/* An envelope of another version after Hello. */
	len = pack_lease_request(buf, 77, 2);
	assert_int_equal(tc_send_raw(s, buf, len, -1), 0);
	expect_error(s, 77, E(VERSION));
	close(s);
	good_client();
}

static void
test_before_hello(void **state)
{
	uint8_t	buf[512];
	size_t	len;
	int	s = tc_connect(d.socket);

	assert_true(s >= 0);
	len = pack_lease_request(buf, 5, PMT_WIRE_VERSION);
	assert_int_equal(tc_send_raw(s, buf, len, -1), 0);
	expect_error(s, 5, E(NO_HELLO));
	close(s);
	good_client();
}

static void
test_bad_requests(void **state)
{
	int	s = tc_open(d.socket);

	assert_true(s >= 0);
	assert_int_equal(tc_lease(s, "nosuchtier", MiB, NULL, NULL, NULL),
	    E(UNKNOWN_TIER));
	assert_int_equal(tc_lease(s, "pmem", 0, NULL, NULL, NULL),
	    E(INVALID_ARGUMENT));
	/* Larger than any tier, and near 2^64 (no rounding overflow). */
	assert_int_equal(tc_lease(s, "", 2048 * 1024 * MiB, NULL, NULL, NULL),
	    E(NO_SPACE));
	assert_int_equal(tc_lease(s, "kmem", UINT64_MAX - 1, NULL, NULL, NULL),
	    E(NO_SPACE));
	close(s);
	good_client();
}

/*
 * A descriptor on a message: where the kernel has SO_PASSRIGHTS (6.16)
 * the daemon's socket refuses it and the sender gets EPERM; elsewhere
 * the daemon closes it off its event loop and refuses the request.
 */
static void
test_unexpected_fd(void **state)
{
	uint8_t	buf[512], c;
	size_t	len;
	int	s = tc_open(d.socket), p[2], rc;

	assert_true(s >= 0);
	assert_int_equal(pipe(p), 0);
	len = pack_lease_request(buf, 31, PMT_WIRE_VERSION);
	rc = tc_send_raw(s, buf, len, p[1]);
	close(p[1]);
	if (rc != 0) {
		assert_int_equal(rc, -EPERM);
		print_message("kernel refused the fd (SO_PASSRIGHTS)\n");
	} else {
		expect_error(s, 31, E(UNEXPECTED_FD));
	}
	/* EOF on the pipe: no copy of the write end is left anywhere. */
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	/* No lease was made for the refused request. */
	{
		uint64_t	granted;

		assert_int_equal(tc_tier(s, "pmem", NULL, &granted, NULL), 0);
		assert_int_equal(granted, 0);
	}
	close(s);
	good_client();
}

static void
test_release_unknown(void **state)
{
	uint64_t	id;
	int		a = tc_open(d.socket), b = tc_open(d.socket), fd;

	assert_true(a >= 0 && b >= 0);
	assert_int_equal(tc_release(a, 123456789), E(UNKNOWN_LEASE));
	assert_int_equal(tc_lease(a, "pmem", MiB, &id, NULL, &fd), 0);
	/* b cannot release a's lease, and a's lease survives the attempt. */
	assert_int_equal(tc_release(b, id), E(UNKNOWN_LEASE));
	close(fd);
	assert_int_equal(tc_release(a, id), 0);
	assert_int_equal(tc_release(a, id), E(UNKNOWN_LEASE));
	close(a);
	close(b);
	good_client();
}

/* Other bodies: empty envelope, a daemon-to-client message. */
static void
test_wrong_bodies(void **state)
{
	Pmemtier__Envelope	*r;
	int			 s = tc_open(d.socket);

	assert_true(s >= 0);
	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY__NOT_SET);
	assert_int_equal(tc_error_code(r), E(INVALID_ARGUMENT));
	tc_free(r);
	r = tc_simple(s, PMEMTIER__ENVELOPE__BODY_ACK);
	assert_int_equal(tc_error_code(r), E(UNSUPPORTED));
	tc_free(r);
	close(s);
	good_client();
}

/* A UsageReport of n kinds whose names are namelen bytes long. */
static Pmemtier__Envelope *
usage_report(int s, size_t n, size_t namelen)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__UsageReport	 u = PMEMTIER__USAGE_REPORT__INIT;
	Pmemtier__KindUsage	*k, **kp;
	char			*name;
	size_t			 i;

	k = calloc(n, sizeof(*k));
	kp = calloc(n, sizeof(*kp));
	name = malloc(namelen + 1);
	assert_true(k != NULL && kp != NULL && name != NULL);
	memset(name, 'k', namelen);
	name[namelen] = '\0';
	for (i = 0; i < n; i++) {
		pmemtier__kind_usage__init(&k[i]);
		k[i].kind = name;
		k[i].tier = name;
		k[i].allocated = i;
		kp[i] = &k[i];
	}
	u.n_kinds = n;
	u.kinds = kp;
	env.body_case = PMEMTIER__ENVELOPE__BODY_USAGE_REPORT;
	env.usage_report = &u;
	r = tc_call(s, &env, NULL);
	free(name);
	free(kp);
	free(k);
	return r;
}

/*
 * Requests that decode into far more than the daemon's per-request arena
 * (16 KiB): the spilled allocations must work and be given back.
 */
static void
test_large_request(void **state)
{
	Pmemtier__Envelope	*r;
	int			 i, s = tc_open(d.socket);

	assert_true(s >= 0);
	for (i = 0; i < 20; i++) {
		r = usage_report(s, 1500, 2);
		assert_int_equal(tc_error_code(r), E(LIMIT));
		tc_free(r);
		r = usage_report(s, 64, 400);
		assert_non_null(r);
		assert_int_equal(r->body_case, PMEMTIER__ENVELOPE__BODY_ACK);
		tc_free(r);
	}
	close(s);
	good_client();
}

/* A client that sends a request and vanishes before the reply. */
static void
test_disconnect_mid_request(void **state)
{
	uint64_t	granted = 1;
	uint8_t		buf[512];
	size_t		len;
	int		s, i, probe;

	for (i = 0; i < 20; i++) {
		s = tc_open(d.socket);
		assert_true(s >= 0);
		len = pack_lease_request(buf, 3, PMT_WIRE_VERSION);
		assert_int_equal(tc_send_raw(s, buf, len, -1), 0);
		close(s);
	}
	probe = tc_open(d.socket);
	assert_true(probe >= 0);
	for (i = 0; i < 500 && granted != 0; i++) {
		assert_int_equal(tc_tier(probe, "pmem", NULL, &granted, NULL),
		    0);
		if (granted != 0)
			usleep(10000);
	}
	assert_int_equal(granted, 0);
	close(probe);
	good_client();
}

static void
test_connect_storm(void **state)
{
	int	i, s;

	for (i = 0; i < 1000; i++) {
		s = i % 2 ? tc_open(d.socket) : tc_connect(d.socket);
		assert_true(s >= 0);
		close(s);
	}
	assert_int_equal(tc_wait_fds(d.pid, base.dfds), base.dfds);
	good_client();
}

/* A peer that only sends garbage is dropped after CONN_MAX_ERRORS. */
static void
test_error_flood(void **state)
{
	Pmemtier__Envelope	*r;
	uint8_t			 buf[64];
	int			 s = tc_open(d.socket), i, fd;

	assert_true(s >= 0);
	memset(buf, 0xff, sizeof(buf));
	for (i = 0; i < 100; i++)
		if (tc_send_raw(s, buf, sizeof(buf), -1) != 0)
			break;
	/*
	 * Errors come back, then EOF: the daemon hung up. (It may hang up
	 * with our packets unread, which resets the connection before we
	 * read any reply: zero replies is a valid outcome too.)
	 */
	for (i = 0; i < 200; i++) {
		if ((r = tc_recv(s, 5000, &fd)) == NULL)
			break;
		assert_int_equal(tc_error_code(r), E(MALFORMED));
		tc_free(r);
	}
	assert_true(i < 100);
	close(s);
	good_client();
}

/*
 * A client that sends and never reads: the daemon parks one reply, stops
 * reading that connection and serves everyone else; when the client reads
 * at last, every request has exactly one reply, in order.
 */
static void
test_slow_reader(void **state)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT, *r;
	Pmemtier__Ack		 empty = PMEMTIER__ACK__INIT;
	uint8_t			 buf[64];
	uint64_t		 sent = 0, got = 0;
	size_t			 len;
	int			 s = tc_open(d.socket);

	assert_true(s >= 0);
	env.version = 1;
	env.body_case = PMEMTIER__ENVELOPE__BODY_TIER_LIST_REQUEST;
	env.ack = &empty;
	for (;;) {
		env.request_id = sent + 1000;
		len = pmemtier__envelope__pack(&env, buf);
		if (send(s, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		if (++sent == 100000)
			break;
	}
	/* The socket filled up both ways: the daemon stopped reading. */
	assert_true(sent < 100000);
	good_client();
	while (got < sent && (r = tc_recv(s, 5000, NULL)) != NULL) {
		assert_int_equal(r->request_id, got + 1000);
		assert_int_equal(r->body_case,
		    PMEMTIER__ENVELOPE__BODY_TIER_LIST);
		tc_free(r);
		got++;
	}
	assert_int_equal(got, sent);
	close(s);
	good_client();
}

/*
 * Bug: a tier whose capacity is configured near 2^64 let a request of
 * UINT64_MAX - 100 pass the capacity check and round up to a page by
 * overflowing to 0, and sizes past INT64_MAX reach off_t and the signed
 * quota accounting. Such sizes are refused as too large, cleanly.
 */
static void
test_huge_size_rounding(void **state)
{
	static const uint64_t	 sizes[] = { UINT64_MAX, UINT64_MAX - 100,
	    UINT64_MAX - 4095, 1ULL << 63, (1ULL << 63) - 1 };
	struct testd		 h;
	uint64_t		 granted, id;
	size_t			 i;
	int			 s, fd;

	if (testd_start(&h, "[tier huge]\nbackend = kmem\nnode = 0\n"
	    "capacity = 18446744073709551615\n") != 0)
		fail();
	s = tc_open(h.socket);
	assert_true(s >= 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fd = -1;
		assert_int_equal(tc_lease(s, "huge", sizes[i], &id, NULL, &fd),
		    E(NO_SPACE));
		assert_int_equal(fd, -1);
	}
	assert_int_equal(tc_tier(s, "huge", NULL, &granted, NULL), 0);
	assert_int_equal(granted, 0);
	/* An ordinary lease on the same tier still works. */
	assert_int_equal(tc_lease(s, "huge", MiB, &id, NULL, &fd), 0);
	close(fd);
	assert_int_equal(tc_release(s, id), 0);
	close(s);
	assert_int_equal(testd_stop(&h), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_before_hello),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_unexpected_fd),
		cmocka_unit_test(test_release_unknown),
		cmocka_unit_test(test_wrong_bodies),
		cmocka_unit_test(test_large_request),
		cmocka_unit_test(test_disconnect_mid_request),
		cmocka_unit_test(test_connect_storm),
		cmocka_unit_test(test_error_flood),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_huge_size_rounding),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
