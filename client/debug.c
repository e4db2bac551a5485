/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug.h"

/*
 * Looked up each time: debug lines only come from slow paths (kind
 * creation, leases, errors), and a program may set the variable late.
 */
bool
pmt_debug_enabled(void)
{
	const char *v = getenv("PMEMTIER_DEBUG");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

void
pmt_debug_print(const char *fmt, ...)
{
	char	line[512];
	va_list	ap;
	int	n;

	n = snprintf(line, sizeof(line), "libpmemtier[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line keeps lines of several threads apart. */
	n = (int)strlen(line);
	if (n < (int)sizeof(line) - 1)
		line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
