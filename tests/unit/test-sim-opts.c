// SPDX-License-Identifier: GPL-2.0
/* `cvmm sim` argument parsing and the memory check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/sim/opts.h"
#include "mgmt/sim/vcmode.h"

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
		{ { "--secret", "secret", "x" }, "--secret: 'secret' is not an absolute path" },
		{ { "--secret", "/a b", "x" }, "--secret: '/a b'" },
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

/* --- VC mode --- */

static struct vc vc;

static void vc_mode_defaults(void **state)
{
	const char *argv[SIM_VC_ARGC + 1];
	char id[8];

	assert_int_equal(parse("--nodes", "2", "--kernel", "/k/bz"), SIM_OPTS_OK);
	assert_true(o.vc_mode);
	assert_null(o.argv);
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), 0);
	assert_int_equal(vc.nnodes, 2);
	assert_int_equal(vc.ncpus, 2); /* one per node */
	assert_int_equal(vc.mem, 1ull << 30);
	assert_int_equal(vc.node[1].cpus[0], 1);
	assert_string_equal(vc.node[0].address, "10.77.0.1");
	assert_string_equal(vc.node[1].address, "10.77.0.2");
	assert_int_equal(vc.node[1].port, 7470);
	assert_int_equal(vc.transport, VC_TRANSPORT_TCP);
	assert_string_equal(vc.kernel, "/k/bz");
	assert_string_equal(vc.name, "sim");
	/* What follows from the VC. */
	assert_int_equal(o.node_cpus, 1);
	assert_int_equal(o.node_mem, (1ull << 30) + SIM_VC_NODE_OWN);
	assert_string_equal(o.kvm_amd, "npt=0");
	assert_false(o.rdma);

	sim_vc_argv("/run/vc.json", 1, id, sizeof(id), argv);
	assert_string_equal(argv[0], "cvmm");
	assert_string_equal(argv[1], "node");
	assert_string_equal(argv[3], "/run/vc.json");
	assert_string_equal(argv[4], "--id");
	assert_string_equal(argv[5], "1");
	assert_null(argv[SIM_VC_ARGC]);
}

static void vc_mode_options(void **state)
{
	assert_int_equal(parse("--nodes", "3", "--cpus", "4", "--mem", "3G", "--kernel", "/k/bz",
			       "--initrd", "/k/rd", "--append", "console=ttyS0", "--transport",
			       "rdma", "--node-mem", "4G", "--kvm-amd", "npt=1"),
			 SIM_OPTS_OK);
	assert_true(o.rdma); /* --transport rdma */
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), 0);
	assert_int_equal(vc.ncpus, 4);
	assert_int_equal(vc.node[0].ncpus, 2); /* blocks, the first node takes one more */
	assert_int_equal(vc.node[2].ncpus, 1);
	assert_int_equal(o.node_cpus, 2); /* node 0's two vCPUs */
	assert_int_equal(vc.node[2].mem, 1ull << 30);
	assert_string_equal(vc.node[2].address, "10.77.0.3");
	assert_string_equal(vc.initrd, "/k/rd");
	assert_string_equal(vc.cmdline, "console=ttyS0");
	assert_int_equal(vc.transport, VC_TRANSPORT_RDMA);
	/* The user's choices stand. */
	assert_int_equal(o.node_mem, 4ull << 30);
	assert_string_equal(o.kvm_amd, "npt=1");
}

/* --vc FILE: the nodes come from the file, at the sim's addresses. */
static void vc_mode_from_file(void **state)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[512], arg[600];

	assert_int_equal(parse("--nodes", "3", "--cpus", "3", "--mem", "3G", "--kernel", "/k/bz",
			       "--transport", "rdma"),
			 SIM_OPTS_OK);
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), 0);
	assert_int_equal(
		vc_spec_write(&vc, tmp, "test-sim-vc", path, sizeof(path), err, sizeof(err)), 0);
	snprintf(arg, sizeof(arg), "%s", path);

	assert_int_equal(parse("--vc", arg), SIM_OPTS_OK);
	assert_int_equal(o.nodes, 2); /* the default, until the file is read */
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), 0);
	assert_int_equal(o.nodes, 3);
	assert_true(o.rdma); /* the file's transport */
	assert_int_equal(o.node_mem, (3ull << 30) + SIM_VC_NODE_OWN);
	assert_string_equal(vc.node[2].address, "10.77.0.3");

	assert_int_equal(parse("--vc", arg, "--node-cpus", "1"), SIM_OPTS_OK);
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), 0);
	assert_int_equal(o.node_cpus, 1); /* the user's choice stands */

	assert_int_equal(parse("--nodes", "2", "--vc", arg), SIM_OPTS_OK);
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--nodes 2: "));
	unlink(path);
}

static void vc_mode_bad_input_names_the_option(void **state)
{
	static const struct {
		const char *args[6];
		const char *needle;
	} cases[] = {
		{ { "--cpus", "2", "--", "ls" }, "--cpus: only in VC mode" },
		{ { "--mem", "1G", "--", "ls" }, "--mem: only in VC mode" },
		{ { "--transport", "tcp", "--", "ls" }, "--transport: only in VC mode" },
		{ { "--kernel", "bz", "--", "ls" }, "--kernel: VC mode runs cvmm node" },
		{ { "--vc", "f", "ls" }, "--vc: VC mode runs cvmm node" },
		{ { "--kernel", "bz", "--all" }, "--all: VC mode" },
		{ { "--vc", "f", "--cpus", "2" }, "--cpus: --vc f" },
		{ { "--vc", "f", "--mem", "2G" }, "--mem: --vc f" },
		{ { "--kernel", "bz", "--cpus", "65" }, "--cpus: '65'" },
		{ { "--kernel", "bz", "--mem", "big" }, "--mem: 'big'" },
		{ { "--kernel", "bz", "--transport", "udp" }, "--transport 'udp'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *list[8] = { "sim" };

		for (int k = 0; k < 6 && cases[i].args[k]; k++)
			list[k + 1] = cases[i].args[k];
		assert_int_equal(parse_list(list), -EINVAL);
		if (!strstr(err, cases[i].needle))
			fail_msg("case %zu: '%s' does not mention '%s'", i, err, cases[i].needle);
	}
}

static void vc_mode_generation_is_checked(void **state)
{
	assert_int_equal(parse("--nodes", "2", "--kernel", "bz", "--mem", "768M"), SIM_OPTS_OK);
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--mem: 768M"));
	assert_int_equal(parse("--nodes", "4", "--kernel", "bz", "--cpus", "3"), SIM_OPTS_OK);
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--cpus: 3 vCPUs"));
	assert_int_equal(parse("--nodes", "1", "--kernel", "/nonexistent/bz"), SIM_OPTS_OK);
	assert_int_equal(sim_vc_prepare(&o, &vc, err, sizeof(err)), 0);
	assert_int_equal(sim_vc_resolve_guest(&o, &vc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--kernel /nonexistent/bz: "));
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
		cmocka_unit_test(vc_mode_defaults),
		cmocka_unit_test(vc_mode_options),
		cmocka_unit_test(vc_mode_from_file),
		cmocka_unit_test(vc_mode_bad_input_names_the_option),
		cmocka_unit_test(vc_mode_generation_is_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
