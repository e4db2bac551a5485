/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tierctl: show what pmemtierd holds and who uses it, change quotas.
 * Global options, the command table and dispatch live here; each command
 * is one cmd_ function (show.c, admin.c).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tierctl.h"

struct tierctl_cmd {
	const char	*name;
	int		(*fn)(struct tierctl *, int, char **);
	const char	*args;
	const char	*help;
};

static const struct tierctl_cmd tierctl_cmds[] = {
	{ "status", cmd_status, "[--watch]",
	    "daemon, tiers and clients (--watch: every second)" },
	{ "tiers", cmd_tiers, "",
	    "tiers, with your quota and usage on each" },
	{ "clients", cmd_clients, "[--pid PID | --cgroup PATH]",
	    "connected clients" },
	{ "leases", cmd_leases, "[--pid PID | --cgroup PATH]",
	    "leases held" },
	{ "quota", cmd_quota, "list",
	    "quota rules, from the config and set at run time" },
	{ "quota", cmd_quota, "set SELECTOR TIER SIZE",
	    "add or change a runtime rule (admin)" },
	{ "quota", cmd_quota, "unset SELECTOR TIER",
	    "remove a runtime rule (admin)" },
	{ "rescan", cmd_rescan, "",
	    "re-run device discovery (admin)" },
	{ "reload", cmd_reload, "",
	    "re-read the configuration (admin)" },
	{ "metrics", cmd_metrics, "[--openmetrics]",
	    "the daemon's metrics, as its HTTP endpoint serves them" },
};

#define NCMDS	(sizeof(tierctl_cmds) / sizeof(tierctl_cmds[0]))

static void
tierctl_print_usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: tierctl [-j] [--bytes] [-s socket] command "
	    "[args]\n"
	    "       tierctl -h | --version\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "  %-7s %-29s %s\n", tierctl_cmds[i].name,
		    tierctl_cmds[i].args, tierctl_cmds[i].help);
	fprintf(fp, "\nSELECTOR is one of --cgroup GLOB, --uid UID, --gid GID, "
	    "--default; TIER may be *.\n"
	    "SIZE is bytes or a number with K, M, G or T (binary).\n"
	    "options:\n"
	    "  -s, --socket PATH  daemon socket (default $PMEMTIER_SOCKET, "
	    "else %s)\n"
	    "  -j, --json         one JSON document (see tierctl(8))\n"
	    "      --bytes        sizes in bytes instead of KiB/MiB/GiB\n"
	    "  -h, --help         this help\n"
	    "      --version      tierctl's version\n",
	    PMEMTIER_DEFAULT_SOCKET);
}

void
tierctl_usage(const char *fmt, ...)
{
	va_list	ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	tierctl_print_usage(stderr);
	exit(TIERCTL_EXIT_USAGE);
}

static bool
tierctl_number(const char *s, unsigned long max, unsigned long *out)
{
	char	*end;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out <= max;
}

/* A uid by number or user name. */
static uint32_t
tierctl_uid(const char *s)
{
	struct passwd	*pw;
	unsigned long	 v;

	if (tierctl_number(s, UINT32_MAX - 1, &v))
		return (uint32_t)v;
	if ((pw = getpwnam(s)) == NULL)
		tierctl_usage("--uid: no such user: %s", s);
	return pw->pw_uid;
}

/* A gid by number or group name. */
static uint32_t
tierctl_gid(const char *s)
{
	struct group	*gr;
	unsigned long	 v;

	if (tierctl_number(s, UINT32_MAX - 1, &v))
		return (uint32_t)v;
	if ((gr = getgrnam(s)) == NULL)
		tierctl_usage("--gid: no such group: %s", s);
	return gr->gr_gid;
}

enum {
	OPT_BYTES = 256,
	OPT_VERSION,
	OPT_PID,
	OPT_CGROUP,
	OPT_UID,
	OPT_GID,
	OPT_DEFAULT,
	OPT_OPENMETRICS,
	OPT_WATCH,
};

static const struct option tierctl_longopts[] = {
	{ "socket",	required_argument,	NULL, 's' },
	{ "json",	no_argument,		NULL, 'j' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "bytes",	no_argument,		NULL, OPT_BYTES },
	{ "version",	no_argument,		NULL, OPT_VERSION },
	{ "pid",	required_argument,	NULL, OPT_PID },
	{ "cgroup",	required_argument,	NULL, OPT_CGROUP },
	{ "uid",	required_argument,	NULL, OPT_UID },
	{ "gid",	required_argument,	NULL, OPT_GID },
	{ "default",	no_argument,		NULL, OPT_DEFAULT },
	{ "openmetrics", no_argument,		NULL, OPT_OPENMETRICS },
	{ "watch",	no_argument,		NULL, OPT_WATCH },
	{ NULL,		0,			NULL, 0 },
};

/*
 * Options may come before or after the command words (getopt permutes);
 * each command then rejects the ones it does not take.
 */
static void
tierctl_options(struct tierctl *t, int argc, char **argv)
{
	unsigned long	v;
	int		ch, seen = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:jh", tierctl_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			t->socket = optarg;
			break;
		case 'j':
			t->json = true;
			break;
		case 'h':
			tierctl_print_usage(stdout);
			exit(TIERCTL_EXIT_OK);
		case OPT_BYTES:
			t->bytes = true;
			break;
		case OPT_VERSION:
			printf("tierctl %s\n", PMEMTIER_VERSION);
			exit(TIERCTL_EXIT_OK);
		case OPT_PID:
			if (!tierctl_number(optarg, INT_MAX, &v) || v == 0)
				tierctl_usage("--pid: not a pid: %s", optarg);
			t->pid = (pid_t)v;
			seen = TIERCTL_OPT_PID;
			break;
		case OPT_CGROUP:
			t->cgroup = optarg;
			seen = TIERCTL_OPT_CGROUP;
			break;
		case OPT_UID:
			t->uid = tierctl_uid(optarg);
			seen = TIERCTL_OPT_UID;
			break;
		case OPT_GID:
			t->gid = tierctl_gid(optarg);
			seen = TIERCTL_OPT_GID;
			break;
		case OPT_DEFAULT:
			seen = TIERCTL_OPT_DEFAULT;
			break;
		case OPT_OPENMETRICS:
			seen = TIERCTL_OPT_OPENMETRICS;
			break;
		case OPT_WATCH:
			seen = TIERCTL_OPT_WATCH;
			break;
		case ':':
			tierctl_usage("option %s needs an argument",
			    argv[optind - 1]);
		default:
			tierctl_usage("unknown option: %s", argv[optind - 1]);
		}
		if (seen != 0 && (t->opts & seen))
			tierctl_usage("option given twice: %s",
			    argv[optind - 1]);
		t->opts |= seen;
		seen = 0;
	}
}

int
main(int argc, char *argv[])
{
	struct tierctl	t;
	size_t		i;

	memset(&t, 0, sizeof(t));
	tierctl_options(&t, argc, argv);
	if (t.socket == NULL)
		t.socket = getenv("PMEMTIER_SOCKET");
	if (t.socket == NULL || t.socket[0] == '\0')
		t.socket = PMEMTIER_DEFAULT_SOCKET;
	t.out = t.json ? &output_json : &output_human;

	argc -= optind;
	argv += optind;
	if (argc == 0)
		tierctl_usage("no command given");
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[0], tierctl_cmds[i].name) == 0)
			return tierctl_cmds[i].fn(&t, argc, argv);
	tierctl_usage("unknown command: %s", argv[0]);
}
