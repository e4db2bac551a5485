/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A memkind program: MEMKIND_DAX_KMEM when the machine has it, ordinary
 * memory otherwise, as memkind's own examples do.
 */
#include <memkind.h>

#include <stdio.h>
#include <string.h>

int
main(void)
{
	struct memkind	*kind = MEMKIND_DAX_KMEM;
	char		*p;

	if (memkind_check_available(MEMKIND_DAX_KMEM) != MEMKIND_SUCCESS) {
		printf("MEMKIND_DAX_KMEM is not available here: "
		    "using MEMKIND_DEFAULT\n");
		kind = MEMKIND_DEFAULT;
	}
	p = memkind_malloc(kind, 1 << 20);
	if (p == NULL)
		return 1;
	memset(p, 1, 1 << 20);
	printf("1 MiB in %s\n", kind == MEMKIND_DEFAULT ? "DRAM" :
	    "DAX KMEM");
	if (memkind_detect_kind(p) != kind)
		return 1;
	memkind_free(NULL, p);
	return 0;
}
