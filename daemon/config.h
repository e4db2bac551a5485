/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The INI configuration file (libinih). Format and every key are in
 * docs/pmemtierd.conf.5. Parsing is all-or-nothing: on error nothing is
 * returned and err says which line and key to fix.
 */
#ifndef PMEMTIERD_CONFIG_H
#define PMEMTIERD_CONFIG_H

#include <stddef.h>

#include "pmemtierd.h"

struct pmtd_config *config_parse_file(const char *path, char *err, size_t errlen);
struct pmtd_config *config_parse_string(const char *text, char *err, size_t errlen);
void	config_free(struct pmtd_config *);
/*
 * Splits a [metrics] listen value ("127.0.0.1:9466", "[::1]:9466") into
 * its numeric address and port. 0, or -1 when it is not one.
 */
int	config_listen_split(const char *v, char *host, size_t hostlen,
	    unsigned *port);
/*
 * The tier marked default, else the first tier written in the file (a
 * discovered tier only when marked); NULL when there is none.
 */
struct tier_conf *config_default_tier(struct pmtd_config *);

/* Quota rule helpers shared with quota.c and the runtime rule store. */
void	config_rules_free(struct quota_rules *);
const char *config_sel_name(enum quota_sel);

#endif /* PMEMTIERD_CONFIG_H */
