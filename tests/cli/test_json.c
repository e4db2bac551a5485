/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_json_unit: tierctl's JSON writer and size formatting. The writer's
 * output must be valid JSON whatever bytes a process name or label holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tierctl.h"

static char	*buf;
static size_t	 len;

static void
doc_free(void)
{
	free(buf);
	buf = NULL;
}

static void
test_nesting(void **state)
{
	struct json_writer	*w;
	FILE			*fp = open_memstream(&buf, &len);

	w = json_new(fp);
	json_object_begin(w, NULL);
	json_string(w, "a", "x");
	json_array_begin(w, "list");
	json_uint(w, NULL, 18446744073709551615ULL);
	json_int(w, NULL, -1);
	json_object_begin(w, NULL);
	json_object_end(w);
	json_array_end(w);
	json_array_begin(w, "empty");
	json_array_end(w);
	json_bool(w, "t", true);
	json_null(w, "n");
	json_object_end(w);
	assert_int_equal(json_free(w), 0);
	fclose(fp);
	assert_string_equal(buf,
	    "{\n"
	    "  \"a\": \"x\",\n"
	    "  \"list\": [\n"
	    "    18446744073709551615,\n"
	    "    -1,\n"
	    "    {}\n"
	    "  ],\n"
	    "  \"empty\": [],\n"
	    "  \"t\": true,\n"
	    "  \"n\": null\n"
	    "}\n");
	doc_free();
}

static void
check_string(const char *in, const char *want)
{
	struct json_writer	*w;
	FILE			*fp = open_memstream(&buf, &len);

	w = json_new(fp);
	json_string(w, NULL, in);
	assert_int_equal(json_free(w), 0);
	fclose(fp);
	assert_string_equal(buf, want);
	doc_free();
}

static void
test_escapes(void **state)
{
	check_string("plain", "\"plain\"\n");
	check_string("q\"b\\s/", "\"q\\\"b\\\\s/\"\n");
	check_string("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"\n");
	check_string("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"\n");
	/* Valid UTF-8 passes through: 2, 3 and 4 byte forms. */
	check_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\n");
	/* Invalid bytes: lone continuation, truncated, overlong, surrogate. */
	check_string("a\x80z", "\"a\\ufffdz\"\n");
	check_string("\xc3", "\"\\ufffd\"\n");
	check_string("\xc0\xaf", "\"\\ufffd\\ufffd\"\n");
	check_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"\n");
	check_string("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n");
	check_string(NULL, "\"\"\n");
}

static void
test_keys_escaped(void **state)
{
	struct json_writer	*w;
	FILE			*fp = open_memstream(&buf, &len);

	w = json_new(fp);
	json_object_begin(w, NULL);
	json_uint(w, "k\"ey", 1);
	json_object_end(w);
	assert_int_equal(json_free(w), 0);
	fclose(fp);
	assert_string_equal(buf, "{\n  \"k\\\"ey\": 1\n}\n");
	doc_free();
}

static void
check_size(bool bytes, uint64_t v, const char *want)
{
	struct tierctl	t = { .bytes = bytes };
	char		b[32];

	assert_string_equal(output_size(&t, v, b, sizeof(b)), want);
}

static void
test_sizes(void **state)
{
	check_size(false, 0, "0B");
	check_size(false, 1023, "1023B");
	check_size(false, 1024, "1KiB");
	check_size(false, 1536, "1.5KiB");
	check_size(false, 512ULL << 20, "512MiB");
	check_size(false, 1ULL << 30, "1GiB");
	check_size(false, (1ULL << 30) + (1ULL << 29), "1.5GiB");
	/* Just under a unit rounds up to the next, not to "1024.0MiB". */
	check_size(false, (1ULL << 30) - 1, "1.0GiB");
	check_size(false, 3ULL << 40, "3TiB");
	check_size(false, UINT64_MAX, "16.0EiB");
	check_size(true, 1ULL << 30, "1073741824");
	check_size(true, 5, "5");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
