/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The library's only output: lines on stderr when PMEMTIER_DEBUG is set in
 * the environment (any value but "0"), nothing otherwise.
 */
#ifndef PMT_DEBUG_H
#define PMT_DEBUG_H

#include <stdbool.h>

bool	pmt_debug_enabled(void);
void	pmt_debug_print(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#define pmt_debug(...) do {				\
	if (pmt_debug_enabled())			\
		pmt_debug_print(__VA_ARGS__);		\
} while (0)

#endif /* PMT_DEBUG_H */
