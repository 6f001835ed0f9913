// SPDX-License-Identifier: GPL-2.0
/* cvmmctl's command line: commands of one or two words, options anywhere, checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/ctl/args.h"

static const struct ctl_cmd table[] = {
	{ "nodes", "", 0, CTL_READ | CTL_AGENTS, "", "", NULL },
	{ "node add", "NAME HOST:PORT", 2, 0, "", "", NULL },
	{ "vc start", "NAME", 1, CTL_AGENTS, "", "", NULL },
	{ "vc status", "NAME", 1, CTL_READ | CTL_AGENTS, "", "", NULL },
	{ "vc create", "FILE", 1, CTL_OPT_ON, "", "", NULL },
	{ "vc evict", "NAME NODE", 2, CTL_OPT_TO | CTL_OPT_OFFLINE, "", "", NULL },
	{ "vc add-node", "NAME NODE", 2, CTL_AGENTS, "", "", NULL },
};

static struct ctl_args a;
static char err[256];

#define PARSE(...)                                                                                 \
	({                                                                                         \
		const char *argv[] = { "cvmmctl", __VA_ARGS__ };                                   \
		ctl_parse_args(table, sizeof(table) / sizeof(table[0]),                            \
			       (int)(sizeof(argv) / sizeof(argv[0])), argv, &a, err, sizeof(err)); \
	})

static void commands_and_arguments(void **state)
{
	assert_int_equal(PARSE("nodes"), 0);
	assert_string_equal(a.cmd->name, "nodes");
	assert_int_equal(a.npos, 0);
	assert_int_equal(a.out, CTL_OUT_TEXT);

	assert_int_equal(PARSE("node", "add", "n1", "10.0.0.1:7480"), 0);
	assert_string_equal(a.cmd->name, "node add");
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "n1");
	assert_string_equal(a.pos[1], "10.0.0.1:7480");

	assert_int_equal(PARSE("vc", "evict", "demo", "n2", "--to", "n3"), 0);
	assert_string_equal(a.to, "n3");
	assert_int_equal(PARSE("vc", "create", "--on=a,b", "vc.json"), 0);
	assert_string_equal(a.on, "a,b");
	assert_string_equal(a.pos[0], "vc.json");
}

static void options_anywhere(void **state)
{
	assert_int_equal(PARSE("--db", "/tmp/x.db", "vc", "status", "demo", "-o", "json"), 0);
	assert_string_equal(a.db, "/tmp/x.db");
	assert_int_equal(a.out, CTL_OUT_JSON);
	assert_int_equal(PARSE("-ojson", "nodes", "--secret-file=/s"), 0);
	assert_int_equal(a.out, CTL_OUT_JSON);
	assert_string_equal(a.secret_file, "/s");
	assert_int_equal(PARSE("vc", "status", "--output", "text", "--", "-odd-name"), 0);
	assert_string_equal(a.pos[0], "-odd-name");
}

static void help(void **state)
{
	assert_int_equal(PARSE("--help"), 0);
	assert_true(a.help);
	assert_null(a.cmd);
	/* A command's help needs none of its arguments. */
	assert_int_equal(PARSE("vc", "start", "--help"), 0);
	assert_true(a.help);
	assert_string_equal(a.cmd->name, "vc start");
	assert_int_equal(PARSE("node", "add", "-h"), 0);
}

static void errors_say_what(void **state)
{
	assert_int_equal(PARSE("vc", "frob"), -EINVAL);
	assert_string_equal(err, "unknown command 'vc frob' (try 'cvmmctl --help')");
	assert_int_equal(PARSE("vc", "start"), -EINVAL);
	assert_non_null(strstr(err, "cvmmctl vc start: missing NAME"));
	assert_int_equal(PARSE("vc", "start", "a", "b"), -EINVAL);
	assert_non_null(strstr(err, "unexpected argument 'b'"));
	assert_int_equal(PARSE("vc", "start", "a", "-o", "json"), -EINVAL);
	assert_string_equal(err, "cvmmctl vc start does not take --output");
	assert_int_equal(PARSE("vc", "status", "a", "--to", "x"), -EINVAL);
	assert_string_equal(err, "cvmmctl vc status does not take --to");
	assert_int_equal(PARSE("nodes", "-o", "yaml"), -EINVAL);
	assert_string_equal(err, "-o 'yaml': expected json or text");
	assert_int_equal(PARSE("nodes", "--frob"), -EINVAL);
	assert_string_equal(err, "unknown option '--frob'");
	assert_int_equal(PARSE("nodes", "--db"), -EINVAL);
	assert_string_equal(err, "option '--db' needs a value");
	assert_int_equal(PARSE("nodes", "--help=yes"), -EINVAL);
	assert_int_equal(PARSE("--dbx", "nodes"), -EINVAL);
	const char *argv[] = { "cvmmctl" };
	assert_int_equal(ctl_parse_args(table, 6, 1, argv, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no command given"));
}

static void addresses_and_names(void **state)
{
	assert_int_equal(ctl_check_addr("10.77.0.1:7480"), 0);
	assert_int_equal(ctl_check_addr("node-1.example:80"), 0);
	assert_int_equal(ctl_check_addr("[fd00::1]:7480"), 0);
	assert_int_equal(ctl_check_addr("10.77.0.1"), -EINVAL);
	assert_int_equal(ctl_check_addr(":7480"), -EINVAL);
	assert_int_equal(ctl_check_addr("host:0"), -EINVAL);
	assert_int_equal(ctl_check_addr("fd00::1:7480"), -EINVAL);
	assert_int_equal(ctl_check_addr("a b:1"), -EINVAL);
	assert_true(ctl_addr_host_is("10.77.0.1:7480", "10.77.0.1"));
	assert_true(ctl_addr_host_is("[fd00::1]:7480", "fd00::1"));
	assert_false(ctl_addr_host_is("10.77.0.11:7480", "10.77.0.1"));
	assert_int_equal(ctl_check_name("node-1_a.b"), 0);
	assert_int_equal(ctl_check_name(""), -EINVAL);
	assert_int_equal(ctl_check_name("a/b"), -EINVAL);
}

static void elasticity_options(void **state)
{
	assert_int_equal(PARSE("vc", "evict", "demo", "1", "--offline-cpus"), 0);
	assert_true(a.offline_cpus);
	assert_null(a.to);
	assert_int_equal(PARSE("--offline-cpus", "vc", "evict", "demo", "1", "--to=0"), 0);
	assert_true(a.offline_cpus);
	assert_string_equal(a.to, "0");
	assert_int_equal(PARSE("vc", "evict", "demo", "1"), 0);
	assert_false(a.offline_cpus);
	assert_int_equal(PARSE("vc", "evict", "demo", "1", "--offline-cpus=yes"), -EINVAL);
	assert_non_null(strstr(err, "takes no value"));
	assert_int_equal(PARSE("vc", "add-node", "demo", "2", "--offline-cpus"), -EINVAL);
	assert_non_null(strstr(err, "does not take --offline-cpus"));
	assert_int_equal(PARSE("vc", "add-node", "demo", "2", "--to", "0"), -EINVAL);
	assert_non_null(strstr(err, "does not take --to"));
	assert_int_equal(PARSE("vc", "add-node", "demo"), -EINVAL);
	assert_non_null(strstr(err, "missing NAME NODE"));
	assert_int_equal(PARSE("vc", "evict", "demo", "1", "2"), -EINVAL);
	assert_non_null(strstr(err, "unexpected argument '2'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commands_and_arguments),
		cmocka_unit_test(options_anywhere),
		cmocka_unit_test(help),
		cmocka_unit_test(errors_say_what),
		cmocka_unit_test(addresses_and_names),
		cmocka_unit_test(elasticity_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
