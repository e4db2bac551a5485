/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime quota rules (set by an admin with tierctl) kept in
 * STATE_DIR/quota.rules, one rule a line:
 *
 *	cgroup PATTERN TIER LIMIT
 *	uid UID TIER LIMIT
 *	gid GID TIER LIMIT
 *	default - TIER LIMIT
 *
 * The file is replaced atomically (temporary file, fsync, rename, fsync of
 * the directory) so a crash leaves the old or the new set, never half.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "quota.h"

#define QUOTA_STORE_FILE	"quota.rules"

static int
quota_store_parse(char *line, struct quota_rule *r)
{
	char			 kind[16], who[PMTD_CGROUP_MAX];
	char			 tier[PMTD_NAME_MAX];
	unsigned long long	 limit;
	char			*end;
	unsigned long		 id;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%15s %511s %63s %llu", kind, who, tier, &limit) != 4)
		return -1;
	if (strcmp(kind, "cgroup") == 0) {
		if (who[0] != '/')
			return -1;
		r->sel = QUOTA_SEL_CGROUP;
		snprintf(r->cgroup, sizeof(r->cgroup), "%s", who);
	} else if (strcmp(kind, "uid") == 0 || strcmp(kind, "gid") == 0) {
		errno = 0;
		id = strtoul(who, &end, 10);
		if (errno != 0 || *end != '\0' || id > UINT32_MAX)
			return -1;
		r->sel = kind[0] == 'u' ? QUOTA_SEL_UID : QUOTA_SEL_GID;
		r->id = (uint32_t)id;
	} else if (strcmp(kind, "default") == 0)
		r->sel = QUOTA_SEL_DEFAULT;
	else
		return -1;
	snprintf(r->tier, sizeof(r->tier), "%s", tier);
	r->limit = limit;
	r->origin = QUOTA_ORIGIN_RUNTIME;
	quota_rule_autoname(r);
	return 0;
}

int
quota_store_load(const char *state_dir, struct quota_rules *rules, char *err,
    size_t errlen)
{
	struct quota_rules	 loaded = TAILQ_HEAD_INITIALIZER(loaded);
	struct quota_rule	 tmp, *r;
	char			 path[PATH_MAX], line[1024];
	unsigned		 lineno = 0, order = 0;
	FILE			*f;

	snprintf(path, sizeof(path), "%s/%s", state_dir, QUOTA_STORE_FILE);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (quota_store_parse(line, &tmp) != 0 ||
		    (r = malloc(sizeof(*r))) == NULL) {
			snprintf(err, errlen, "%s:%u: unreadable rule", path,
			    lineno);
			fclose(f);
			config_rules_free(&loaded);
			return -1;
		}
		*r = tmp;
		r->order = order++;
		TAILQ_INSERT_TAIL(&loaded, r, entry);
	}
	fclose(f);
	config_rules_free(rules);
	while ((r = TAILQ_FIRST(&loaded)) != NULL) {
		TAILQ_REMOVE(&loaded, r, entry);
		TAILQ_INSERT_TAIL(rules, r, entry);
	}
	return 0;
}

static int
quota_store_write(FILE *f, const struct quota_rules *rules)
{
	const struct quota_rule	*r;

	fprintf(f, "# pmemtierd runtime quota rules, written by the daemon "
	    "(tierctl quota set/unset); edit with tierctl\n");
	TAILQ_FOREACH(r, rules, entry) {
		switch (r->sel) {
		case QUOTA_SEL_CGROUP:
			fprintf(f, "cgroup %s", r->cgroup);
			break;
		case QUOTA_SEL_UID:
			fprintf(f, "uid %u", r->id);
			break;
		case QUOTA_SEL_GID:
			fprintf(f, "gid %u", r->id);
			break;
		case QUOTA_SEL_DEFAULT:
			fprintf(f, "default -");
			break;
		}
		fprintf(f, " %s %llu\n", r->tier, (unsigned long long)r->limit);
	}
	return fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
}

int
quota_store_save(const char *state_dir, const struct quota_rules *rules,
    char *err, size_t errlen)
{
	char	 path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE	*f;
	int	 fd, dfd;

	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", state_dir, QUOTA_STORE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (quota_store_write(f, rules) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
