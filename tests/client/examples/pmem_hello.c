/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A memkind program: a pmem kind in a directory, strings in it, freed with
 * and without naming the kind. Builds unchanged against memkind or
 * libpmemtier (cc pmem_hello.c -I<dir of memkind.h> -l<memkind|pmemtier>).
 */
#include <memkind.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(const char *what, int err)
{
	char	msg[MEMKIND_ERROR_MESSAGE_SIZE];

	memkind_error_message(err, msg, sizeof(msg));
	fprintf(stderr, "%s: %s\n", what, msg);
	exit(1);
}

int
main(int argc, char **argv)
{
	const char	*dir = argc > 1 ? argv[1] : "/tmp";
	struct memkind	*pmem = NULL;
	char		*a, *b, *c;
	int		 err;

	err = memkind_create_pmem(dir, MEMKIND_PMEM_MIN_SIZE * 2, &pmem);
	if (err != MEMKIND_SUCCESS)
		fail("memkind_create_pmem", err);
	a = memkind_malloc(pmem, 512);
	b = memkind_calloc(pmem, 64, 8);
	c = memkind_malloc(MEMKIND_DEFAULT, 512);
	if (a == NULL || b == NULL || c == NULL) {
		fprintf(stderr, "allocation failed\n");
		return 1;
	}
	snprintf(a, 512, "Hello world from persistent memory");
	snprintf(c, 512, "Hello world from standard memory");
	if (b[511] != 0)
		return 1;
	a = memkind_realloc(pmem, a, 4096);
	printf("%s\n%s\n", a, c);
	if (memkind_detect_kind(a) != pmem ||
	    memkind_detect_kind(c) != MEMKIND_DEFAULT)
		return 1;
	memkind_free(pmem, a);
	memkind_free(NULL, b);
	memkind_free(NULL, c);
	err = memkind_destroy_kind(pmem);
	if (err != MEMKIND_SUCCESS)
		fail("memkind_destroy_kind", err);
	return 0;
}
