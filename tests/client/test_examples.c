/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs the memkind-style example programs (examples/, built unchanged
 * against libpmemtier) in one mode:
 *   test_examples standalone|daemon program...
 * Each must exit 0; in daemon mode it must also have left no lease behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"
#include "tmode.h"

static char	**progs;
static int	  nprogs;

static void
test_examples(void **state)
{
	int	i;

	for (i = 0; i < nprogs; i++) {
		int	status;
		pid_t	pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			execl(progs[i], progs[i], tm.dir, (char *)NULL);
			_exit(127);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		print_message("%s: exit %d\n", progs[i],
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	if (tm.daemon) {
		Pmemtier__Envelope	*env;
		int			 sock = tc_open(tm.d.socket), tries;

		assert_true(sock >= 0);
		/* The programs are gone: so must their leases be. */
		for (tries = 0; tries < 100; tries++) {
			size_t	n;

			env = tc_status(sock, 0, 0);
			assert_non_null(env);
			n = env->status->n_leases;
			tc_free(env);
			if (n == 0)
				break;
			usleep(50 * 1000);
		}
		assert_true(tries < 100);
		close(sock);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
	};
	int	rc;

	if ((rc = tmode_setup(argc, argv, NULL)) != 0)
		return rc;
	progs = argv + 2;
	nprogs = argc - 2;
	rc = cmocka_run_group_tests_name(tm.daemon ? "client_examples_daemon" :
	    "client_examples_standalone", tests, NULL, NULL);
	return tmode_teardown(rc != 0);
}
