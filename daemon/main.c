/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmemtierd: hands memory-fd leases of tiered memory to processes over a
 * Unix socket and enforces quotas. See pmemtierd(8).
 */
#include <sys/resource.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "activation.h"
#include "closer.h"
#include "config.h"
#include "conn.h"
#include "control.h"
#include "holder.h"
#include "journal.h"
#include "lease.h"
#include "log.h"
#include "metrics_http.h"
#include "projquota.h"
#include "quota.h"
#include "rescan.h"
#include "restore.h"
#include "tier.h"
#include "worker.h"

static struct pmtd	pmtd_state;
struct pmtd		*pmtd = &pmtd_state;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: pmemtierd [-dnv] [-f config] [-s socket]\n");
	exit(2);
}

/*
 * One fd per lease and per client: use the hard limit, not the soft one.
 * Clients together may use all of it but a reserve (1/16, at least 64):
 * the daemon's own descriptors (tiers, the loop, discovery) and the
 * connections of admins, which are accepted past the budget, so that
 * tierctl gets in when users have taken everything else.
 */
static void
main_raise_nofile(void)
{
	struct rlimit	rl;
	uint64_t	cur = 1024, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("main: raise RLIMIT_NOFILE");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		cur = rl.rlim_cur;
	if (cur > UINT32_MAX)
		cur = UINT32_MAX;
	reserve = cur / 16 > 64 ? cur / 16 : 64;
	pmtd->max_fds = cur > 2 * reserve ? (unsigned)(cur - reserve) :
	    (unsigned)(cur / 2);
	log_debug("main: descriptor budget for clients %u of %llu",
	    pmtd->max_fds, (unsigned long long)cur);
}

static int
main_admin_group(const struct pmtd_config *conf, char *err, size_t errlen)
{
	struct group	*gr;

	if (conf->admin_group[0] == '\0') {
		pmtd->have_admin_gid = 0;
		return 0;
	}
	if ((gr = getgrnam(conf->admin_group)) == NULL) {
		snprintf(err, errlen, "admin_group %s: no such group",
		    conf->admin_group);
		return -1;
	}
	pmtd->have_admin_gid = 1;
	pmtd->admin_gid = gr->gr_gid;
	return 0;
}

static void
main_apply_level(const struct pmtd_config *conf)
{
	log_setlevel(pmtd->verbose ? LOG_DEBUG : conf->log_level);
}

/*
 * Re-reads the config file: quota rules, limits, log level, admin group and
 * tiers. Anything that fails leaves the running configuration untouched.
 * The socket and state_dir are fixed at start (a restart changes them).
 */
int
pmtd_reload(char *err, size_t errlen)
{
	struct pmtd_config	*nc, *old = pmtd->conf;
	int			 have = pmtd->have_admin_gid;
	gid_t			 gid = pmtd->admin_gid;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)pmtd_clock_ns(CLOCK_MONOTONIC) / 1000);
	if ((nc = config_parse_file(pmtd->conf_path, err, errlen)) == NULL)
		goto fail;
	rescan_extend(nc);
	if (main_admin_group(nc, err, errlen) != 0 ||
	    tier_apply(&pmtd->tiers, nc, err, errlen) != 0) {
		pmtd->have_admin_gid = have;
		pmtd->admin_gid = gid;
		config_free(nc);
		goto fail;
	}
	if (strcmp(nc->socket, old->socket) != 0 && !pmtd->socket_override)
		log_warnx("reload: socket change to %s needs a restart",
		    nc->socket);
	if (strcmp(nc->state_dir, old->state_dir) != 0)
		log_warnx("reload: state_dir change to %s needs a restart",
		    nc->state_dir);
	if (memcmp(&nc->metrics, &old->metrics, sizeof(nc->metrics)) != 0)
		log_warnx("reload: [metrics] changes need a restart");
	nc->metrics = old->metrics;
	snprintf(nc->socket, sizeof(nc->socket), "%s", old->socket);
	snprintf(nc->state_dir, sizeof(nc->state_dir), "%s", old->state_dir);
	pmtd->conf = nc;
	pmtd->conf_gen++;	/* connections recheck admin rights */
	config_free(old);
	main_apply_level(nc);
	projquota_refresh();	/* project limits follow the new rules */
	log_notice("reload: configuration reloaded from %s", pmtd->conf_path);
	sd_notify(0, "READY=1");
	return 0;
fail:
	log_warnx("reload: %s; keeping the running configuration", err);
	sd_notify(0, "READY=1");
	return -1;
}

#define MAIN_NSIGS	4

/* SIGUSR2 asked for an in-place re-exec (main_reexec). */
static int	main_reexec_asked;
/* The binary to exec again, resolved at start (an upgrade replaces it). */
static char	main_exe[PATH_MAX];
static char   **main_argv;

static void
main_signal(evutil_socket_t sig, short what, void *arg)
{
	char	err[1024];

	switch (sig) {
	case SIGUSR2:
		log_info("main: SIGUSR2: re-executing %s in place", main_exe);
		main_reexec_asked = 1;
		event_base_loopexit(pmtd->base, NULL);
		break;
	case SIGHUP:
		log_info("main: SIGHUP: reloading");
		pmtd_reload(err, sizeof(err));
		break;
	case SIGTERM:
	case SIGINT:
		log_info("main: %s: stopping", strsignal((int)sig));
		event_base_loopexit(pmtd->base, NULL);
		break;
	}
}

/* Measuring runs on the worker; one audit at a time is enough. */
static void
main_audit(evutil_socket_t fd, short what, void *arg)
{
	holder_audit();
	if (lease_audit_pending() == 0)
		(void)lease_audit_async(NULL, 0, &pmtd->tiers, NULL, NULL);
}

/*
 * Each second: the journal's pending ends go out; while there are
 * zombies, those clients let go of are freed.
 */
static void
main_zombies(evutil_socket_t fd, short what, void *arg)
{
	journal_flush();
	tier_spares_tick(&pmtd->tiers);
	if (lease_zombie_count() > 0 && lease_audit_pending() == 0)
		(void)lease_audit_async(NULL, 1, &pmtd->tiers, NULL, NULL);
}

/* systemd's watchdog: a loop that stops turning stops the pings. */
static void
main_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

static struct event *
main_watchdog_arm(void)
{
	struct event	*ev;
	struct timeval	 tv;
	uint64_t	 usec;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return NULL;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	ev = event_new(pmtd->base, -1, EV_PERSIST, main_watchdog, NULL);
	if (ev == NULL || event_add(ev, &tv) != 0)
		fatalx("main: cannot arm the watchdog timer");
	log_info("main: systemd watchdog: pinging every %llu ms",
	    (unsigned long long)(usec / 1000));
	return ev;
}

static void
main_signals(struct event **sigs)
{
	const int	signos[MAIN_NSIGS] = { SIGTERM, SIGINT, SIGHUP, SIGUSR2 };
	int		i;

	for (i = 0; i < MAIN_NSIGS; i++) {
		sigs[i] = evsignal_new(pmtd->base, signos[i], main_signal, NULL);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0)
			fatalx("main: cannot watch signal %d", signos[i]);
	}
}

static void
main_startup(const char *socket, struct event **sigs)
{
	char	err[1024];

	main_raise_nofile();
	if (main_admin_group(pmtd->conf, err, sizeof(err)) != 0)
		fatalx("main: %s", err);
	TAILQ_INIT(&pmtd->tiers);
	TAILQ_INIT(&pmtd->conns);
	TAILQ_INIT(&pmtd->holders);
	TAILQ_INIT(&pmtd->runtime_rules);
	if (closer_init() != 0)
		fatalx("main: cannot start the descriptor closing thread");
	quota_init();
	lease_table_init(pmtd_clock_ns(CLOCK_REALTIME) / 1000);
	if (quota_store_load(pmtd->conf->state_dir, &pmtd->runtime_rules, err,
	    sizeof(err)) != 0)
		fatalx("main: runtime quota rules: %s (fix or remove the file)",
		    err);
	if ((pmtd->base = event_base_new()) == NULL)
		fatalx("main: cannot create the event loop");
	if (worker_init(pmtd->base) != 0)
		fatalx("main: cannot start the worker thread");
	/*
	 * Signals are watched before the socket exists: a client (or a
	 * test) that sees the socket may send SIGTERM at once.
	 */
	main_signals(sigs);
	rescan_extend(pmtd->conf);
	if (tier_apply(&pmtd->tiers, pmtd->conf, err, sizeof(err)) != 0)
		fatalx("main: %s", err);
	if (TAILQ_EMPTY(&pmtd->tiers))
		log_warnx("main: no tier configured or discovered: every lease "
		    "request will be refused until a rescan finds one");
	/* Leases live processes still hold, before anyone is served. */
	if (restore_leases(pmtd->conf->state_dir, err, sizeof(err)) != 0)
		fatalx("main: lease journal: %s", err);
	if (lease_count() > 0)
		(void)lease_audit_async(NULL, 0, &pmtd->tiers, NULL, NULL);
	/* Before the control socket: once it answers, everything does. */
	activation_take();
	metrics_http_start(pmtd->base, &pmtd->conf->metrics);
	control_init(socket, pmtd->conf);
	control_listen();
}

/*
 * In-place re-exec for upgrades: the binary at the path this daemon was
 * started from is executed again, in the same process (systemd's MAINPID
 * stays), with the listening socket kept open on fd 3 so that clients
 * wait in its backlog instead of finding no daemon. Everything else goes
 * as in a stop: leases are dropped, not ended, the journal is flushed,
 * and the new image takes the leases over from their processes at start.
 * If the exec fails the daemon exits 1 (systemd restarts it).
 */
static void
main_reexec(void)
{
	int	fd;

	sd_notify(0, "RELOADING=1");
	if ((fd = control_handover()) < 0)
		fatal("main: re-exec: cannot keep the socket");
	worker_fini();
	journal_close();
	conn_close_all();
	lease_table_fini(&pmtd->tiers);
	closer_fini();
	/* Last: nothing may close a descriptor after they are placed. */
	if (activation_pass(fd) != 0)
		fatal("main: re-exec: cannot pass the listening sockets on");
	execv(main_exe, main_argv);
	fatal("main: re-exec: %s", main_exe);
}

static void
main_shutdown(void)
{
	sd_notify(0, "STOPPING=1");
	metrics_http_stop();
	control_cleanup();
	/* Grants and audits in flight complete while their conns exist. */
	worker_fini();
	/* What is dropped now is not ended: the journal keeps it. */
	journal_close();
	conn_close_all();
	lease_table_fini(&pmtd->tiers);
	tier_close_all(&pmtd->tiers);
	config_rules_free(&pmtd->runtime_rules);
	projquota_fini();	/* the limits stay on the filesystems */
	quota_fini();
	config_free(pmtd->conf);
	event_base_free(pmtd->base);
	closer_fini();
	log_info("main: stopped");
}

int
main(int argc, char *argv[])
{
	struct event	*sigs[MAIN_NSIGS], *audit, *zombies, *watchdog;
	struct timeval	 tv;
	char		 err[1024];
	int		 ch, check = 0, i;

	pmtd->conf_path = PMEMTIER_DEFAULT_CONFIG;
	main_argv = argv;
	/* Before anyone can replace it: an upgrade execs the new file. */
	if (readlink("/proc/self/exe", main_exe, sizeof(main_exe) - 1) < 0)
		snprintf(main_exe, sizeof(main_exe), "%s", argv[0]);
	{
		char	*del = strstr(main_exe, " (deleted)");

		/* Re-executed after an upgrade: the path, not the old inode. */
		if (del != NULL && del[strlen(" (deleted)")] == '\0')
			*del = '\0';
	}
	while ((ch = getopt(argc, argv, "df:hns:v")) != -1) {
		switch (ch) {
		case 'd': pmtd->foreground = 1; break;
		case 'f': pmtd->conf_path = optarg; break;
		case 'n': check = 1; break;
		case 's': pmtd->socket_override = optarg; break;
		case 'v': pmtd->verbose++; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(1, LOG_INFO);
	if ((pmtd->conf = config_parse_file(pmtd->conf_path, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (pmtd->socket_override != NULL)
		snprintf(pmtd->conf->socket, sizeof(pmtd->conf->socket), "%s",
		    pmtd->socket_override);
	if (check) {
		if (tier_check(pmtd->conf, err, sizeof(err)) != 0)
			fatalx("%s", err);
		printf("configuration OK\n");
		config_free(pmtd->conf);
		return 0;
	}
	log_init(pmtd->foreground, LOG_INFO);
	main_apply_level(pmtd->conf);
	signal(SIGPIPE, SIG_IGN);
	pmtd->started = time(NULL);
	main_startup(pmtd->conf->socket, sigs);
	audit = event_new(pmtd->base, -1, EV_PERSIST, main_audit, NULL);
	tv.tv_sec = pmtd->conf->audit_interval;
	tv.tv_usec = 0;
	if (audit == NULL ||
	    (tv.tv_sec > 0 && event_add(audit, &tv) != 0))
		fatalx("main: cannot arm the audit timer");
	zombies = event_new(pmtd->base, -1, EV_PERSIST, main_zombies, NULL);
	tv.tv_sec = 1;
	if (zombies == NULL || event_add(zombies, &tv) != 0)
		fatalx("main: cannot arm the zombie timer");
	watchdog = main_watchdog_arm();

	log_info("main: pmemtierd %s ready on %s", PMEMTIER_VERSION,
	    control_path());
	sd_notify(0, "READY=1");
	event_base_dispatch(pmtd->base);

	for (i = 0; i < MAIN_NSIGS; i++)
		event_free(sigs[i]);
	event_free(audit);
	event_free(zombies);
	if (watchdog != NULL)
		event_free(watchdog);
	if (main_reexec_asked)
		main_reexec();
	main_shutdown();
	return 0;
}
