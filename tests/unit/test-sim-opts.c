// SPDX-License-Identifier: GPL-2.0
/* `cvmm sim` argument parsing and the memory check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/sim/opts.h"

static struct sim_opts o;
static char err[256];

/*
 * getopt wants writable strings: copies the NULL-terminated list of literals
 * into a buffer and parses it. The copies live until the next call.
 */
static int parse_list(const char *const *list)
{
	static char store[4096], *argv[64];
	size_t used = 0;
	int argc = 0;

	for (; *list; list++) {
		size_t n = strlen(*list) + 1;

		assert_true(used + n <= sizeof(store) && argc < 63);
		argv[argc++] = memcpy(store + used, *list, n);
		used += n;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return sim_opts_parse(argc, argv, &o, err, sizeof(err));
}

#define parse(...) parse_list((const char *const[]){ "sim", __VA_ARGS__, NULL })

static void defaults(void **state)
{
	assert_int_equal(parse("--", "smoke"), SIM_OPTS_OK);
	assert_int_equal(o.nodes, 2);
	assert_int_equal(o.node_cpus, 1);
	assert_int_equal(o.node_mem, 1ull << 30);
	assert_false(o.all);
	assert_false(o.rdma);
	assert_int_equal(o.timeout, 0);
	assert_int_equal(o.boot_timeout, 300);
	assert_int_equal(o.argc, 1);
	assert_string_equal(o.argv[0], "smoke");
}

static void every_option(void **state)
{
	assert_int_equal(parse("--nodes", "3", "--node-cpus", "2", "--node-mem", "1536M", "--all",
			       "--rdma", "--share", "/data", "-s", "/more", "--timeout", "60",
			       "--boot-timeout", "90", "--kvm-amd", "npt=0,nested=1", "--cache",
			       "/c", "-k", "-v", "--", "dsm-stress", "--nodes", "3"),
			 SIM_OPTS_OK);
	assert_int_equal(o.nodes, 3);
	assert_int_equal(o.node_cpus, 2);
	assert_int_equal(o.node_mem, 1536ull << 20);
	assert_true(o.all && o.rdma && o.keep && o.verbose);
	assert_int_equal(o.nshares, 2);
	assert_string_equal(o.shares[1], "/more");
	assert_int_equal(o.timeout, 60);
	assert_int_equal(o.boot_timeout, 90);
	assert_string_equal(o.kvm_amd, "npt=0,nested=1");
	assert_string_equal(o.cache_dir, "/c");
	/* Options after the command belong to the command. */
	assert_int_equal(o.argc, 3);
	assert_string_equal(o.argv[1], "--nodes");
}

static void command_without_dashes(void **state)
{
	assert_int_equal(parse("-n", "1", "uname", "-a"), SIM_OPTS_OK);
	assert_int_equal(o.nodes, 1);
	assert_int_equal(o.argc, 2);
	assert_string_equal(o.argv[1], "-a");
}

static void help(void **state)
{
	assert_int_equal(parse("--help"), SIM_OPTS_HELP);
	assert_non_null(strstr(sim_usage, "--node-mem"));
}

/* Each bad input is refused with a message naming the option at fault. */
static void bad_input_names_the_option(void **state)
{
	static const struct {
		const char *args[4];
		const char *needle;
	} cases[] = {
		{ { "--nodes", "0", "x" }, "--nodes: '0'" },
		{ { "--nodes", "17", "x" }, "--nodes" },
		{ { "--nodes", "two", "x" }, "--nodes: 'two'" },
		{ { "--node-cpus", "9", "x" }, "--node-cpus" },
		{ { "--node-mem", "128M", "x" }, "below the minimum" },
		{ { "--node-mem", "lots", "x" }, "--node-mem: 'lots' is not a size" },
		{ { "--node-mem", "1000000K", "x" }, "whole number of MiB" },
		{ { "--share", "relative", "x" }, "--share: 'relative'" },
		{ { "--timeout", "0", "x" }, "--timeout" },
		{ { "--kvm-amd", "npt=0 x", "x" }, "--kvm-amd" },
		{ { "--bogus", "x" }, "unknown option '--bogus'" },
		{ { "--nodes" }, "needs an argument" },
		{ { "-n", "2" }, "no command given" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *list[6] = { "sim" };

		for (int k = 0; k < 4 && cases[i].args[k]; k++)
			list[k + 1] = cases[i].args[k];
		assert_int_equal(parse_list(list), -EINVAL);
		if (!strstr(err, cases[i].needle))
			fail_msg("case %zu: '%s' does not mention '%s'", i, err, cases[i].needle);
	}
}

static void memory_check(void **state)
{
	uint64_t need;

	assert_int_equal(parse("--nodes", "4", "--node-mem", "2G", "x"), SIM_OPTS_OK);
	need = 4 * ((2ull << 30) + SIM_NODE_OVERHEAD);
	assert_int_equal(sim_opts_check_memory(&o, need, err, sizeof(err)), 0);
	assert_int_equal(sim_opts_check_memory(&o, need - 1, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "not enough memory for 4 nodes of 2048 MiB"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_option),
		cmocka_unit_test(command_without_dashes),
		cmocka_unit_test(help),
		cmocka_unit_test(bad_input_names_the_option),
		cmocka_unit_test(memory_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
