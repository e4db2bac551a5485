/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pmemtierd.h"

/*
 * Parses "512", "4K", "256M", "1G", "2T" (binary multiples; an optional
 * trailing "iB" or "B" is accepted). Returns 0, or -1 for anything else
 * including overflow.
 */
int
pmtd_parse_size(const char *s, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;
	unsigned		 shift = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift != 0 && strcasecmp(end, "iB") == 0)
		end += 2;
	else if (shift != 0 && strcasecmp(end, "B") == 0)
		end += 1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -1;
	if (shift != 0 && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Human form for log lines and error messages: "512 MiB", "4096 B". */
void
pmtd_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char	*units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned		 u = 0;
	uint64_t		 v = bytes;

	while (v >= 1024 && (v % 1024) == 0 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0 && bytes >= 1024 * 1024) {
		/* Not a round number: one decimal in the best unit. */
		double	d = (double)bytes;

		while (d >= 1024 && u < 5) {
			d /= 1024;
			u++;
		}
		snprintf(buf, len, "%.1f %s", d, units[u]);
		return;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
}

uint64_t
pmtd_clock_ns(clockid_t clock)
{
	struct timespec	ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t
pmtd_monotonic_ms(void)
{
	return pmtd_clock_ns(CLOCK_MONOTONIC) / 1000000;
}
