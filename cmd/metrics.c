/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tierctl metrics: the daemon's metrics over the control socket, the text
 * its HTTP endpoint serves (pmemtierd(8), METRICS). For an admin it has
 * the per-bucket quota series; for anyone else it leaves them out.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "tierctl.h"

int
cmd_metrics(struct tierctl *t, int argc, char **argv)
{
	Pmemtier__Envelope	 env = PMEMTIER__ENVELOPE__INIT;
	Pmemtier__MetricsRequest req = PMEMTIER__METRICS_REQUEST__INIT;
	Pmemtier__Envelope	*rep;
	struct tierctl_conn	*c;
	struct json_writer	*jw;

	if (argc > 1)
		tierctl_usage("metrics: unexpected argument: %s", argv[1]);
	if ((t->opts & ~TIERCTL_OPT_OPENMETRICS) != 0)
		tierctl_usage("metrics: option not valid for this command");
	req.openmetrics = (t->opts & TIERCTL_OPT_OPENMETRICS) != 0;
	env.body_case = PMEMTIER__ENVELOPE__BODY_METRICS_REQUEST;
	env.metrics_request = &req;
	c = conn_open(t->socket);
	rep = conn_request(c, &env, PMEMTIER__ENVELOPE__BODY_METRICS,
	    "metrics");
	if (t->json) {
		jw = json_new(stdout);
		json_object_begin(jw, NULL);
		json_string(jw, "format", req.openmetrics ? "openmetrics" :
		    "prometheus");
		json_bool(jw, "full", rep->metrics->full);
		json_string(jw, "text", rep->metrics->text);
		json_object_end(jw);
		if (json_free(jw) < 0)
			err(TIERCTL_EXIT_DAEMON, "stdout");
	} else if (fputs(rep->metrics->text, stdout) == EOF ||
	    fflush(stdout) != 0)
		err(TIERCTL_EXIT_DAEMON, "stdout");
	pmemtier__envelope__free_unpacked(rep, NULL);
	conn_close(c);
	return TIERCTL_EXIT_OK;
}
