/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the configuration parser, config_parse_string(), on any
 * text (inih, then every section and key handler, then the whole-file
 * checks).
 *
 * Checked: parsing is all-or-nothing as config.h says. A refused text
 * comes with a terminated message that says where; an accepted one holds
 * what config_validate() promises (the daemon relies on it without
 * looking again): at least one tier or discovery on, known backends,
 * absolute paths, a node for kmem, at most one default tier, and quota
 * rules with one selector, a limit and a tier that exists. The same text
 * parses the same way twice: nothing carries over between parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "pmemtierd.h"
#include "quota.h"
#include "tier.h"

static void
fuzz_check_tiers(struct pmtd_config *c)
{
	struct tier_conf	*t, *def = NULL;
	char			 err[512];

	FUZZ_CHECK(!TAILQ_EMPTY(&c->tiers) || c->disc.enable);
	FUZZ_CHECK(tier_check(c, err, sizeof(err)) == 0);
	TAILQ_FOREACH(t, &c->tiers, entry) {
		FUZZ_CHECK(t->name[0] != '\0');
		FUZZ_CHECK(strlen(t->name) < sizeof(t->name));
		FUZZ_CHECK(strchr(t->name, ' ') == NULL);
		FUZZ_CHECK(strcmp(t->name, "*") != 0);
		FUZZ_CHECK(t->capacity > 0);
		FUZZ_CHECK(!t->discovered);
		if (strcmp(t->backend, "kmem") == 0)
			FUZZ_CHECK(t->node >= 0);
		else
			FUZZ_CHECK(t->path[0] == '/');
		if (t->is_default) {
			FUZZ_CHECK(def == NULL);
			def = t;
		}
	}
	if (def != NULL)
		FUZZ_CHECK(config_default_tier(c) == def);
	else if (!TAILQ_EMPTY(&c->tiers))
		FUZZ_CHECK(config_default_tier(c) == TAILQ_FIRST(&c->tiers));
}

static void
fuzz_check_rules(struct pmtd_config *c)
{
	struct quota_rule	*r;
	struct tier_conf	*t;
	char			 sel[PMTD_CGROUP_MAX + 16];

	TAILQ_FOREACH(r, &c->rules, entry) {
		FUZZ_CHECK(r->name[0] != '\0');
		FUZZ_CHECK(r->origin == QUOTA_ORIGIN_CONFIG);
		FUZZ_CHECK(r->limit != UINT64_MAX);
		FUZZ_CHECK(strcmp(config_sel_name(r->sel), "?") != 0);
		if (r->sel == QUOTA_SEL_CGROUP)
			FUZZ_CHECK(r->cgroup[0] == '/');
		FUZZ_CHECK(r->tier[0] != '\0');
		if (strcmp(r->tier, "*") != 0) {
			TAILQ_FOREACH(t, &c->tiers, entry)
				if (strcmp(t->name, r->tier) == 0)
					break;
			FUZZ_CHECK(t != NULL);
		}
		quota_rule_describe(r, sel, sizeof(sel));
		FUZZ_CHECK(sel[0] != '\0');
	}
}

static void
fuzz_check_config(struct pmtd_config *c)
{
	FUZZ_CHECK(c->socket[0] == '/');
	FUZZ_CHECK(c->state_dir[0] == '/');
	FUZZ_CHECK(c->socket_mode <= 0777);
	FUZZ_CHECK(c->max_conn_per_uid >= 1);
	FUZZ_CHECK(c->max_leases_per_conn >= 1);
	FUZZ_CHECK(c->max_leases_per_uid >= 1);
	FUZZ_CHECK(memchr(c->disc.include, '\0', sizeof(c->disc.include)));
	FUZZ_CHECK(memchr(c->disc.exclude, '\0', sizeof(c->disc.exclude)));
	fuzz_check_tiers(c);
	fuzz_check_rules(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmtd_config	*c, *again;
	char			*text, err[1024], err2[1024];

	/* A file is text up to its first NUL; so is this. */
	FUZZ_CHECK((text = malloc(size + 1)) != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	memset(err, 'x', sizeof(err));
	c = config_parse_string(text, err, sizeof(err));
	if (c == NULL) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(strncmp(err, "(string)", 8) == 0);
	} else
		fuzz_check_config(c);

	memset(err2, 'y', sizeof(err2));
	again = config_parse_string(text, err2, sizeof(err2));
	FUZZ_CHECK((again == NULL) == (c == NULL));
	if (c == NULL)
		FUZZ_CHECK(strcmp(err, err2) == 0);

	config_free(again);
	config_free(c);
	free(text);
	return 0;
}
