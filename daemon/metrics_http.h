/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP endpoint of the metrics (metrics_http.c): GET /metrics on a
 * TCP address and/or a unix socket, as [metrics] says at start.
 */
#ifndef PMEMTIERD_METRICS_HTTP_H
#define PMEMTIERD_METRICS_HTTP_H

#include "pmemtierd.h"

struct event_base;

/* Listens where mc says (nothing when neither is set); fatal on error. */
void	metrics_http_start(struct event_base *, const struct metrics_conf *mc);
/* Stops serving and removes the unix socket. */
void	metrics_http_stop(void);

#endif /* PMEMTIERD_METRICS_HTTP_H */
