/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's one logging module: stderr in the foreground (-d), syslog
 * (and so the journal) otherwise. Messages read "function: action: object".
 */
#ifndef PMEMTIERD_LOG_H
#define PMEMTIERD_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* Opens the log; foreground sends everything to stderr. */
void	log_init(int foreground, int level);
/* Changes the threshold: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */
void	log_setlevel(int level);
int	log_getlevel(void);
/* Parses "debug", "info", "notice", "warning", "error"; -1 if unknown. */
int	log_level_parse(const char *name);

/* log_warn appends strerror(errno); log_warnx does not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The threshold, for the macro below: debug lines sit on the grant path,
 * and their arguments (body names, sizes) should cost nothing when the
 * level is off.
 */
extern int	log_threshold;
#define log_debug(...) do {						\
	if (log_threshold >= LOG_DEBUG)					\
		(log_debug)(__VA_ARGS__);				\
} while (0)
/*
 * What an unprivileged peer can make the daemon log, outside a
 * connection's own limit (dispatch.c): at most LOG_LIMIT_BURST lines per
 * LOG_LIMIT_INTERVAL seconds per limiter, at info level; the lines held
 * back are counted in one line when the next interval starts.
 */
#define LOG_LIMIT_BURST		20
#define LOG_LIMIT_INTERVAL	10
struct log_limit {
	const char	*what;
	long long	 at;
	unsigned	 n;
	unsigned	 quiet;
};
void	log_limited(struct log_limit *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Log at LOG_ERR and exit(1); fatal appends strerror(errno). */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* PMEMTIERD_LOG_H */
