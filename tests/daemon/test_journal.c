/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit: reading lease journal lines (daemon/journal.c). What a restarted
 * daemon re-adopts rests on these: a line it misreads could charge a lease
 * to the wrong principal, so anything doubtful must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"

static int
parse(const char *text, struct journal_rec *r)
{
	char	line[8192];

	snprintf(line, sizeof(line), "%s", text);
	return journal_parse_line(line, r);
}

static void
test_grant(void **state)
{
	struct journal_rec	r;

	assert_int_equal(parse("G 17 pmem 8388608 27 10070 65534 65534 4242 "
	    "240613 12 my%20label /user.slice/a%20b%25c/leaf\n", &r), 'G');
	assert_int_equal(r.id, 17);
	assert_string_equal(r.tier, "pmem");
	assert_int_equal(r.size, 8388608);
	assert_int_equal(r.dev, 27);
	assert_int_equal(r.ino, 10070);
	assert_int_equal(r.pr.uid, 65534);
	assert_int_equal(r.pr.gid, 65534);
	assert_int_equal(r.pr.pid, 4242);
	assert_int_equal(r.pr.start, 240613);
	assert_int_equal(r.pr.dflt_len, 12);
	assert_string_equal(r.label, "my label");
	assert_string_equal(r.pr.cgroup, "/user.slice/a b%c/leaf");
	assert_int_equal(r.zombie, 0);
	/* The empty label. */
	assert_int_equal(parse("G 1 kmem 4096 1 2 0 0 1 1 0 %00 /", &r), 'G');
	assert_string_equal(r.label, "");
}

static void
test_end(void **state)
{
	struct journal_rec	r;

	assert_int_equal(parse("E 17\n", &r), 'E');
	assert_int_equal(r.id, 17);
	assert_int_equal(parse("Z 18", &r), 'Z');
	assert_int_equal(r.id, 18);
	assert_int_equal(parse("B 19 2097152\n", &r), 'B');
	assert_int_equal(r.id, 19);
	assert_int_equal(r.budget, 2097152);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"E",
		"E 0",
		"E 12x",
		"E 1 2",
		"X 1",
		"B 1",
		"B 1 0",
		"B 0 4096",
		"B 1 4096 5",
		"B 1 18446744073709551615",
		"GG 1 pmem 4096 1 2 0 0 1 1 0 x /",
		"G 1 pmem 4096 1 2 0 0 1 1 0 x",		/* short */
		"G 1 pmem 4096 1 2 0 0 1 1 0 x / extra",	/* long */
		"G 0 pmem 4096 1 2 0 0 1 1 0 x /",		/* id 0 */
		"G 1 pmem 0 1 2 0 0 1 1 0 x /",		/* size 0 */
		"G 1 pmem 4096 1 2 0 0 0 1 0 x /",		/* pid 0 */
		"G 1 pmem 4096 1 2 0 0 -5 1 0 x /",		/* pid < 0 */
		"G 1 pmem 4096 1 2 4294967296 0 1 1 0 x /",	/* uid */
		"G 1 pmem 4096 1 2 0 0 1 1 9 x /",		/* dflt_len */
		"G 1 pmem 4096 1 2 0 0 1 1 0 x relative",	/* cgroup */
		"G 1 %00 4096 1 2 0 0 1 1 0 x /",		/* no tier */
		"G 1 pmem 4096 1 2 0 0 1 1 0 x /%zz",		/* escape */
		"G 1 pmem 4096 1 2 0 0 1 1 0 x /%2",		/* short esc */
		"G 1 pmem 99999999999999999999 1 2 0 0 1 1 0 x /",
	};
	struct journal_rec	r;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) != 0)
			fail_msg("accepted: \"%s\"", bad[i]);
}

static void
test_long_strings(void **state)
{
	char			line[8192];
	struct journal_rec	r;
	int			n;

	/* A label longer than the daemon keeps is refused, not cut. */
	n = snprintf(line, sizeof(line), "G 1 pmem 4096 1 2 0 0 1 1 0 ");
	memset(line + n, 'a', 200);
	snprintf(line + n + 200, sizeof(line) - (size_t)n - 200, " /");
	assert_int_equal(journal_parse_line(line, &r), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grant),
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_long_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
