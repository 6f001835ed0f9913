// SPDX-License-Identifier: GPL-2.0
/* The monitor commands an agent passes to its node: the allowed set, their arguments. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/agent/monitor-cmd.h"

static char line[128], err[256];

#define CHECK(s) monitor_cmd_check(s, line, sizeof(line), err, sizeof(err))

static void allowed_commands(void **state)
{
	assert_int_equal(CHECK("placement"), 0);
	assert_string_equal(line, "placement");
	assert_int_equal(CHECK("  checksum \t"), 0);
	assert_string_equal(line, "checksum");
	assert_int_equal(CHECK("leave 0"), 0);
	assert_string_equal(line, "leave 0");
	assert_int_equal(CHECK("leave  2   verify"), 0);
	assert_string_equal(line, "leave 2 verify");
	assert_int_equal(CHECK("node-join 2"), 0);
	assert_int_equal(CHECK("node-leave 1"), 0);
	assert_int_equal(CHECK("node-leave-keep 1"), 0);
	assert_string_equal(line, "node-leave-keep 1");
	assert_int_equal(CHECK("status 17"), 0);
	assert_int_equal(CHECK("vcpu-move 3 1"), 0);
	assert_string_equal(line, "vcpu-move 3 1");
	assert_int_equal(CHECK("rtt 1"), 0);
	assert_int_equal(CHECK("rtt 1 10"), 0);
	assert_string_equal(line, "rtt 1 10");
}

static void refused_commands(void **state)
{
	assert_int_equal(CHECK("cpu-offline 1"), -EINVAL);
	assert_non_null(strstr(err, "'cpu-offline' is not a command the agent passes"));
	assert_int_equal(CHECK("stats"), -EINVAL);
	assert_int_equal(CHECK(""), -EINVAL);
	assert_non_null(strstr(err, "empty command"));
	assert_int_equal(CHECK("   "), -EINVAL);
	/* A second command smuggled in a newline is not a word of the first. */
	assert_int_equal(CHECK("placement\nleave 0"), -EINVAL);
	assert_int_equal(CHECK("checksum\n"), -EINVAL);
}

static void arguments_checked(void **state)
{
	assert_int_equal(CHECK("leave"), -EINVAL);
	assert_non_null(strstr(err, "usage: leave NODE [verify]"));
	assert_int_equal(CHECK("leave x"), -EINVAL);
	assert_non_null(strstr(err, "'x' is not a node id"));
	assert_int_equal(CHECK("leave 16"), -EINVAL);
	assert_int_equal(CHECK("leave -1"), -EINVAL);
	assert_int_equal(CHECK("leave 1 now"), -EINVAL);
	assert_non_null(strstr(err, "the only option is verify"));
	assert_int_equal(CHECK("leave 1 verify more"), -EINVAL);
	assert_int_equal(CHECK("placement 1"), -EINVAL);
	assert_non_null(strstr(err, "usage: placement"));
	assert_int_equal(CHECK("vcpu-move 1"), -EINVAL);
	assert_int_equal(CHECK("vcpu-move 64 1"), -EINVAL);
	assert_non_null(strstr(err, "not a vCPU index"));
	assert_int_equal(CHECK("rtt 1 0"), -EINVAL);
	assert_int_equal(CHECK("rtt 1 1001"), -EINVAL);
	assert_int_equal(CHECK("node-join"), -EINVAL);
	assert_int_equal(CHECK("status abc"), -EINVAL);
	assert_int_equal(CHECK("rtt 1 10 20 30 40"), -EINVAL);
	assert_int_equal(CHECK("rtt 000000000000000000000000000001"), -EINVAL);
}

static void last_lines(void **state)
{
	assert_true(monitor_reply_is_last("ok", 2));
	assert_true(monitor_reply_is_last("ok left to node0", 16));
	assert_true(monitor_reply_is_last("error no such node", 18));
	assert_true(monitor_reply_is_last("acked 3 status 0", 16));
	assert_true(monitor_reply_is_last("pending 3", 9));
	assert_false(monitor_reply_is_last("progress pages 1/2 3/s", 22));
	assert_false(monitor_reply_is_last("vcpu 0 node 0", 13));
	assert_false(monitor_reply_is_last("okay", 4));
	assert_false(monitor_reply_is_last("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allowed_commands),
		cmocka_unit_test(refused_commands),
		cmocka_unit_test(arguments_checked),
		cmocka_unit_test(last_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
