// SPDX-License-Identifier: GPL-2.0
/*
 * `cvmm sim --check` (VC mode): the option, and the status sim_vc_check()
 * makes of the launcher's result and the I/O node's console: the sim's own
 * timeout (124) is the guest's (6), or no boot (10) before init.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/sim/launcher.h"
#include "mgmt/sim/vcmode.h"

static struct sim_opts o;
static struct vc vc;
static struct guest_check chk;
static char err[512];

static int parse(const char *const *list)
{
	static char store[1024], *argv[32];
	size_t used = 0;
	int argc = 0;

	for (; *list; list++) {
		size_t n = strlen(*list) + 1;

		memcpy(store + used, *list, n);
		argv[argc++] = store + used;
		used += n;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return sim_opts_parse(argc, argv, &o, err, sizeof(err));
}

static void check_only_in_vc_mode(void **state)
{
	static const char *const vcmode[] = { "sim", "--nodes", "2", "--kernel",
					      "bz",  "--check", NULL };
	static const char *const plain[] = { "sim", "--nodes", "2", "--check", "--", "true", NULL };
	static const char *const none[] = { "sim", "--nodes", "2", "--kernel", "bz", NULL };

	(void)state;
	assert_int_equal(parse(vcmode), SIM_OPTS_OK);
	assert_true(o.vc_mode);
	assert_true(o.check);
	assert_int_equal(parse(none), SIM_OPTS_OK);
	assert_false(o.check);
	assert_int_equal(parse(plain), -EINVAL);
	assert_string_equal(err, "--check: only in VC mode, with --kernel or --vc");
}

static void start(void)
{
	static const char *const addrs[] = { "10.77.0.1", "10.77.0.2" };

	assert_int_equal(vc_generate(&vc, 2, addrs, 2, 2 * VC_NODE_MEM_UNIT, err, sizeof(err)), 0);
	guest_check_init(&chk, &vc);
}

static void feed(const char *text)
{
	guest_check_feed(&chk, text, strlen(text));
}

static const char boot[] =
	"cvmm-guest: init uptime=3\r\ncvmm-guest: cpus=1 online=0\r\n"
	"cvmm-guest: node0 cpus=0 mem_kb=1\r\ncvmm-guest: node1 cpus= mem_kb=1\r\n";

static void the_sims_timeout_is_the_guests(void **state)
{
	(void)state;
	start();
	assert_int_equal(sim_vc_check(&chk, SIM_EXIT_TIMEOUT), GUEST_CHECK_NO_BOOT);
	start();
	feed(boot);
	assert_int_equal(sim_vc_check(&chk, SIM_EXIT_TIMEOUT), GUEST_CHECK_TIMEOUT);
}

static void a_finished_guest_is_classified(void **state)
{
	(void)state;
	start();
	feed(boot);
	feed("cvmm-guest: online cpus=0-1 after 1s\r\ncvmm-guest: node0 cpus=0\r\n"
	     "cvmm-guest: node1 cpus=1\r\ncvmm-guest: done status=0\r\n");
	assert_int_equal(sim_vc_check(&chk, 0), 0);
	start();
	feed(boot);
	feed("cvmm-guest: done status=0\r\n");
	assert_int_equal(sim_vc_check(&chk, 0), GUEST_CHECK_WRONG_CPUS);
}

static void cluster_failures_stand(void **state)
{
	(void)state;
	start();
	assert_int_equal(sim_vc_check(&chk, SIM_EXIT_CLUSTER), SIM_EXIT_CLUSTER);
	start();
	assert_int_equal(sim_vc_check(&chk, SIM_EXIT_INTERRUPTED), SIM_EXIT_INTERRUPTED);
	start();
	feed(boot);
	assert_int_equal(sim_vc_check(&chk, 8), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_only_in_vc_mode),
		cmocka_unit_test(the_sims_timeout_is_the_guests),
		cmocka_unit_test(a_finished_guest_is_classified),
		cmocka_unit_test(cluster_failures_stand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
