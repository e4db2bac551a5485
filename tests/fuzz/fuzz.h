/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the libFuzzer targets. A target does more than feed bytes in:
 * it checks what the code under test promises about its result, and a
 * broken promise aborts, which libFuzzer reports like any crash (with the
 * input saved as crash-*).
 */
#ifndef PMEMTIER_FUZZ_H
#define PMEMTIER_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * assert() is compiled out: the fuzz build is RelWithDebInfo, which
 * defines NDEBUG. This check always stays.
 */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s: check failed: %s\n",	\
		    __FILE__, __LINE__, __func__, #cond);		\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#endif /* PMEMTIER_FUZZ_H */
