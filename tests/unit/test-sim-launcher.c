// SPDX-License-Identifier: GPL-2.0
/* The launcher's state machine, driven by replayed event sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/sim/launcher.h"

static struct sim_state s;
static struct sim_actions act;

static void ev(enum sim_event_type type, unsigned int node, int status)
{
	struct sim_event e = { .type = type, .node = node, .status = status };

	sim_step(&s, &e, &act);
}

static void all_hello(unsigned int nodes)
{
	for (unsigned int i = 0; i < nodes; i++)
		ev(EV_HELLO, i, 0);
}

static void all_lost(unsigned int nodes)
{
	for (unsigned int i = 0; i < nodes; i++)
		ev(EV_NODE_LOST, i, 0);
}

static void runs_on_node0_only_by_default(void **state)
{
	sim_state_init(&s, 2, false);
	ev(EV_HELLO, 1, 0);
	assert_int_equal(s.phase, SIM_BOOT);
	assert_int_equal(act.exec, 0);
	ev(EV_HELLO, 0, 0);
	assert_int_equal(s.phase, SIM_RUN);
	assert_int_equal(act.exec, 0x1);
	assert_true(act.arm_cmd_timer);
	assert_int_equal(s.node[0], NODE_RUNNING);
	assert_int_equal(s.node[1], NODE_READY);

	ev(EV_EXIT, 0, 3);
	assert_int_equal(s.phase, SIM_SHUTDOWN);
	assert_int_equal(act.poweroff, 0x3);
	assert_true(act.arm_grace_timer);
	ev(EV_NODE_LOST, 1, 0);
	assert_int_equal(s.phase, SIM_SHUTDOWN);
	ev(EV_NODE_LOST, 0, 0);
	assert_int_equal(s.phase, SIM_DONE);
	assert_int_equal(s.result, 3);
	assert_int_equal(s.failure, SIM_FAIL_NONE);
}

static void all_nodes_first_nonzero_in_node_order(void **state)
{
	sim_state_init(&s, 3, true);
	all_hello(3);
	assert_int_equal(act.exec, 0x7);
	ev(EV_EXIT, 2, 7);
	assert_int_equal(s.phase, SIM_RUN);
	ev(EV_EXIT, 0, 0);
	assert_int_equal(s.phase, SIM_RUN);
	ev(EV_EXIT, 1, 5);
	assert_int_equal(s.phase, SIM_SHUTDOWN);
	assert_int_equal(act.poweroff, 0x7);
	all_lost(3);
	assert_int_equal(s.phase, SIM_DONE);
	assert_int_equal(s.result, 5);
}

static void all_nodes_success(void **state)
{
	sim_state_init(&s, 2, true);
	all_hello(2);
	ev(EV_EXIT, 1, 0);
	ev(EV_EXIT, 0, 0);
	all_lost(2);
	assert_int_equal(s.result, 0);
}

static void node_lost_while_booting(void **state)
{
	sim_state_init(&s, 3, false);
	ev(EV_HELLO, 2, 0);
	ev(EV_NODE_LOST, 1, 0);
	assert_int_equal(s.phase, SIM_SHUTDOWN);
	assert_int_equal(s.failure, SIM_FAIL_NODE_LOST);
	assert_int_equal(s.fail_node, 1);
	/* Node 0 has no agent yet: killed. Node 2 is up: asked to power off. */
	assert_int_equal(act.kill, 0x1);
	assert_int_equal(act.poweroff, 0x4);
	/* A HELLO arriving now starts nothing. */
	ev(EV_HELLO, 0, 0);
	assert_int_equal(act.exec, 0);
	ev(EV_NODE_LOST, 0, 0);
	ev(EV_NODE_LOST, 2, 0);
	assert_int_equal(s.phase, SIM_DONE);
	assert_int_equal(s.result, SIM_EXIT_CLUSTER);
}

static void node_lost_while_running(void **state)
{
	sim_state_init(&s, 2, false);
	all_hello(2);
	ev(EV_NODE_LOST, 1, 0);
	assert_int_equal(s.failure, SIM_FAIL_NODE_LOST);
	assert_int_equal(act.poweroff, 0x1);
	/* The command's own exit during shutdown does not hide the failure. */
	ev(EV_EXIT, 0, 0);
	ev(EV_NODE_LOST, 0, 0);
	assert_int_equal(s.phase, SIM_DONE);
	assert_int_equal(s.result, SIM_EXIT_CLUSTER);
}

static void boot_timeout(void **state)
{
	sim_state_init(&s, 2, false);
	ev(EV_HELLO, 0, 0);
	ev(EV_BOOT_TIMEOUT, 0, 0);
	assert_int_equal(s.failure, SIM_FAIL_BOOT_TIMEOUT);
	assert_int_equal(act.kill, 0x2);
	assert_int_equal(act.poweroff, 0x1);
	all_lost(2);
	assert_int_equal(s.result, SIM_EXIT_CLUSTER);
	/* A boot timer firing after boot is harmless. */
	sim_state_init(&s, 1, false);
	all_hello(1);
	ev(EV_BOOT_TIMEOUT, 0, 0);
	assert_int_equal(s.phase, SIM_RUN);
}

static void command_timeout(void **state)
{
	sim_state_init(&s, 1, false);
	ev(EV_CMD_TIMEOUT, 0, 0); /* not running yet: ignored */
	assert_int_equal(s.phase, SIM_BOOT);
	all_hello(1);
	ev(EV_CMD_TIMEOUT, 0, 0);
	assert_int_equal(s.failure, SIM_FAIL_CMD_TIMEOUT);
	assert_int_equal(act.poweroff, 0x1);
	all_lost(1);
	assert_int_equal(s.result, SIM_EXIT_TIMEOUT);
}

static void interrupt_then_interrupt_again(void **state)
{
	sim_state_init(&s, 2, true);
	all_hello(2);
	ev(EV_INTERRUPT, 0, 0);
	assert_int_equal(s.phase, SIM_SHUTDOWN);
	assert_int_equal(act.poweroff, 0x3);
	ev(EV_NODE_LOST, 0, 0);
	ev(EV_INTERRUPT, 0, 0);
	assert_int_equal(act.kill, 0x2); /* what is left, now */
	assert_int_equal(act.poweroff, 0);
	ev(EV_NODE_LOST, 1, 0);
	assert_int_equal(s.phase, SIM_DONE);
	assert_int_equal(s.result, SIM_EXIT_INTERRUPTED);
}

static void grace_timeout_kills_the_rest(void **state)
{
	sim_state_init(&s, 3, false);
	all_hello(3);
	ev(EV_GRACE_TIMEOUT, 0, 0); /* not shutting down: ignored */
	assert_int_equal(act.kill, 0);
	ev(EV_EXIT, 0, 0);
	ev(EV_NODE_LOST, 2, 0);
	ev(EV_GRACE_TIMEOUT, 0, 0);
	assert_int_equal(act.kill, 0x3);
	all_lost(3);
	assert_int_equal(s.phase, SIM_DONE);
	assert_int_equal(s.result, 0); /* losing nodes while stopping is no failure */
}

static void stray_events_change_nothing(void **state)
{
	sim_state_init(&s, 2, false);
	ev(EV_EXIT, 0, 9); /* before the command was sent */
	assert_int_equal(s.node[0], NODE_BOOTING);
	ev(EV_HELLO, 5, 0); /* no such node */
	ev(EV_HELLO, 0, 0);
	ev(EV_HELLO, 0, 0); /* duplicate */
	assert_int_equal(s.phase, SIM_BOOT);
	ev(EV_HELLO, 1, 0);
	assert_int_equal(act.exec, 0x1);
	ev(EV_EXIT, 1, 9); /* node 1 runs nothing */
	assert_int_equal(s.phase, SIM_RUN);
	assert_int_equal(s.node[1], NODE_READY);
	ev(EV_EXIT, 0, 0);
	ev(EV_EXIT, 0, 4); /* duplicate */
	all_lost(2);
	assert_int_equal(s.result, 0);
	ev(EV_INTERRUPT, 0, 0); /* after DONE */
	assert_int_equal(s.phase, SIM_DONE);
	assert_int_equal(act.kill | act.poweroff | act.exec, 0);
}

static void poweroff_is_asked_once(void **state)
{
	sim_state_init(&s, 2, false);
	all_hello(2);
	ev(EV_INTERRUPT, 0, 0);
	assert_int_equal(act.poweroff, 0x3);
	ev(EV_CMD_TIMEOUT, 0, 0);
	assert_int_equal(act.poweroff, 0);
	assert_int_equal(s.failure, SIM_FAIL_INTERRUPTED); /* the first cause is kept */
}

/* VC mode: the I/O node's status, or the node that failed, named. */
static void vc_mode_io_node_status(void **state)
{
	sim_state_init_vc(&s, 3, 0);
	all_hello(3);
	assert_int_equal(act.exec, 0x7);
	ev(EV_EXIT, 1, 0);
	ev(EV_EXIT, 2, 0);
	ev(EV_EXIT, 0, 3);
	assert_int_equal(s.phase, SIM_SHUTDOWN);
	all_lost(3);
	assert_int_equal(s.result, 3);
	assert_int_equal(s.culprit, -1);
}

static void vc_mode_names_the_failed_node(void **state)
{
	sim_state_init_vc(&s, 3, 0);
	all_hello(3);
	ev(EV_EXIT, 2, 128 + 9); /* the OOM killer */
	ev(EV_EXIT, 0, 8);
	ev(EV_EXIT, 1, 8);
	all_lost(3);
	assert_int_equal(s.result, 137);
	assert_int_equal(s.culprit, 2);
	assert_non_null(strstr(s.why, "node2 was killed by signal 9"));
}

static void vc_mode_cluster_failure_wins(void **state)
{
	sim_state_init_vc(&s, 2, 0);
	all_hello(2);
	ev(EV_NODE_LOST, 1, 0);
	all_lost(2);
	assert_int_equal(s.result, SIM_EXIT_CLUSTER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_on_node0_only_by_default),
		cmocka_unit_test(all_nodes_first_nonzero_in_node_order),
		cmocka_unit_test(all_nodes_success),
		cmocka_unit_test(node_lost_while_booting),
		cmocka_unit_test(node_lost_while_running),
		cmocka_unit_test(boot_timeout),
		cmocka_unit_test(command_timeout),
		cmocka_unit_test(interrupt_then_interrupt_again),
		cmocka_unit_test(grace_timeout_kills_the_rest),
		cmocka_unit_test(stray_events_change_nothing),
		cmocka_unit_test(poweroff_is_asked_once),
		cmocka_unit_test(vc_mode_io_node_status),
		cmocka_unit_test(vc_mode_names_the_failed_node),
		cmocka_unit_test(vc_mode_cluster_failure_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
