/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static int	log_foreground = 1;
int		log_threshold = LOG_INFO;

static const struct {
	const char	*name;
	int		 level;
} log_levels[] = {
	{ "debug",	LOG_DEBUG },
	{ "info",	LOG_INFO },
	{ "notice",	LOG_NOTICE },
	{ "warning",	LOG_WARNING },
	{ "warn",	LOG_WARNING },
	{ "error",	LOG_ERR },
};

void
log_init(int foreground, int level)
{
	log_foreground = foreground;
	log_threshold = level;
	if (!foreground)
		openlog("pmemtierd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(int level)
{
	log_threshold = level;
}

int
log_getlevel(void)
{
	return log_threshold;
}

int
log_level_parse(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

static void log_vwrite(int, const char *, va_list, int)
	    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[1024];
	int	 saved = errno;

	if (pri > log_threshold)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t	len = strlen(msg);

		snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(saved));
	}
	if (log_foreground)
		fprintf(stderr, "pmemtierd: %s\n", msg);
	else
		syslog(pri, "%s", msg);
	errno = saved;
}

#define LOG_BODY(pri, with_errno) do {			\
	va_list	ap;					\
	va_start(ap, fmt);				\
	log_vwrite((pri), fmt, ap, (with_errno));	\
	va_end(ap);					\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 1);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void
log_notice(const char *fmt, ...)
{
	LOG_BODY(LOG_NOTICE, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

void
(log_debug)(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, 0);
}

void
log_limited(struct log_limit *lim, const char *fmt, ...)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (lim->at == 0 || ts.tv_sec - lim->at >= LOG_LIMIT_INTERVAL) {
		if (lim->quiet > 0)
			log_info("%s: %u more lines not logged in the last "
			    "%lld s", lim->what, lim->quiet,
			    (long long)(ts.tv_sec - lim->at));
		lim->at = ts.tv_sec;
		lim->n = lim->quiet = 0;
	}
	if (lim->n >= LOG_LIMIT_BURST) {
		lim->quiet++;
		return;
	}
	lim->n++;
	LOG_BODY(LOG_INFO, 0);
}

void
fatal(const char *fmt, ...)
{
	/* A fatal error is printed whatever the level. */
	log_threshold = LOG_DEBUG;
	LOG_BODY(LOG_ERR, 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	log_threshold = LOG_DEBUG;
	LOG_BODY(LOG_ERR, 0);
	exit(1);
}
