/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmem_hello: a program written for memkind, unchanged, running on pmemtier.
 *
 *   pmem_hello DIR [MIB [HOLD_SECONDS]]
 *
 * Makes a pmem kind on DIR, puts MIB mebibytes of linked records in it (and a
 * few in DRAM), checks them, frees everything with memkind_free(NULL, p)
 * and exits. With HOLD_SECONDS it keeps the memory that long before freeing,
 * so that `tierctl status` can show it. With pmemtierd running the memory
 * comes from a daemon lease; without it, from a file in DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memkind.h>

struct record {
	struct record	*next;
	size_t		 n;
	char		 text[4080];	/* a record is one 4 KiB page */
};

int
main(int argc, char *argv[])
{
	struct memkind	*pmem = NULL;
	struct record	*head = NULL, *r;
	char		 msg[MEMKIND_ERROR_MESSAGE_SIZE];
	char		*dram;
	size_t		 mib, count, i, bad = 0;
	unsigned	 hold;
	int		 err;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s DIR [MIB [HOLD_SECONDS]]\n",
		    argv[0]);
		return 2;
	}
	mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
	hold = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;

	err = memkind_create_pmem(argv[1], 0, &pmem);
	if (err != 0) {
		memkind_error_message(err, msg, sizeof(msg));
		fprintf(stderr, "pmem_hello: memkind_create_pmem %s: %s\n",
		    argv[1], msg);
		return 1;
	}

	/* Hot, small data in DRAM; big, cold records on the pmem kind. */
	dram = memkind_malloc(MEMKIND_DEFAULT, 64);
	if (dram == NULL) {
		perror("pmem_hello: memkind_malloc(MEMKIND_DEFAULT)");
		return 1;
	}
	snprintf(dram, 64, "index in DRAM");

	count = mib * 1024 * 1024 / sizeof(struct record);
	for (i = 0; i < count; i++) {
		r = memkind_malloc(pmem, sizeof(*r));
		if (r == NULL) {
			fprintf(stderr, "pmem_hello: record %zu: %s\n", i,
			    strerror(errno));
			break;
		}
		r->n = i;
		memset(r->text, 'a' + (int)(i % 26), sizeof(r->text));
		r->next = head;
		head = r;
	}
	for (r = head; r != NULL; r = r->next)
		if (r->text[0] != 'a' + (int)(r->n % 26) ||
		    memkind_detect_kind(r) != pmem)
			bad++;

	printf("pmem_hello: %zu records (%zu MiB) on the pmem kind at %s, "
	    "%zu bad; \"%s\" at %p\n", i, i * sizeof(*r) >> 20, argv[1], bad,
	    dram, (void *)dram);
	fflush(stdout);
	if (hold > 0)
		sleep(hold);

	while ((r = head) != NULL) {
		head = r->next;
		memkind_free(NULL, r);	/* the kind is found from the pointer */
	}
	memkind_free(NULL, dram);
	memkind_destroy_kind(pmem);
	return bad == 0 && i == count ? 0 : 1;
}
