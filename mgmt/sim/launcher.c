// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "mgmt/launch/verdict.h"
#include "mgmt/sim/launcher.h"

static const struct sim_result_ops command_ops;
static const struct sim_result_ops vc_ops;

void sim_state_init(struct sim_state *s, unsigned int nodes, bool all)
{
	memset(s, 0, sizeof(*s));
	s->nodes = nodes;
	s->all = all;
	s->phase = SIM_BOOT;
	s->ops = &command_ops;
	s->culprit = -1;
}

void sim_state_init_vc(struct sim_state *s, unsigned int nodes, unsigned int io_node)
{
	sim_state_init(s, nodes, true);
	s->ops = &vc_ops;
	s->io_node = io_node;
}

static bool is_target(const struct sim_state *s, unsigned int i)
{
	return s->all || i == 0;
}

static bool all_in(const struct sim_state *s, enum sim_node_state st, bool targets_only)
{
	for (unsigned int i = 0; i < s->nodes; i++) {
		if (targets_only && !is_target(s, i))
			continue;
		if (s->node[i] != st)
			return false;
	}
	return true;
}

/* The command's result: the first non-zero status in node order. */
static int command_result(struct sim_state *s)
{
	for (unsigned int i = 0; i < s->nodes; i++)
		if (is_target(s, i) && s->status[i])
			return s->status[i];
	return 0;
}

/* The agent reports a command killed by signal N as 128 + N; the sim sends none. */
static int vc_result(struct sim_state *s)
{
	struct vc_node_end end[SIM_MAX_NODES] = { 0 };
	struct vc_verdict v;

	/* Called only when nothing failed, so every node's command has exited. */
	for (unsigned int i = 0; i < s->nodes; i++) {
		end[i].ended = true;
		end[i].status = s->status[i];
		end[i].signaled = s->status[i] > 128;
	}
	vc_verdict(end, s->nodes, s->io_node, &v);
	s->culprit = v.culprit;
	if (v.culprit >= 0)
		vc_verdict_describe(end, &v, s->why, sizeof(s->why));
	return v.status;
}

static const struct sim_result_ops command_ops = { .result = command_result };
static const struct sim_result_ops vc_ops = { .result = vc_result };

static int failure_result(enum sim_failure f)
{
	switch (f) {
	case SIM_FAIL_NONE:
		return 0;
	case SIM_FAIL_CMD_TIMEOUT:
		return SIM_EXIT_TIMEOUT;
	case SIM_FAIL_INTERRUPTED:
		return SIM_EXIT_INTERRUPTED;
	case SIM_FAIL_NODE_LOST:
	case SIM_FAIL_BOOT_TIMEOUT:
		break;
	}
	return SIM_EXIT_CLUSTER;
}

/*
 * Enters SHUTDOWN: every node whose agent is up is asked to power off; a node
 * still booting has no agent to ask and nothing to lose, so it is killed.
 */
static void shut_down(struct sim_state *s, struct sim_actions *act)
{
	s->phase = SIM_SHUTDOWN;
	act->arm_grace_timer = true;
	for (unsigned int i = 0; i < s->nodes; i++) {
		if (s->node[i] == NODE_GONE || s->poweroff_sent[i])
			continue;
		if (s->node[i] == NODE_BOOTING)
			act->kill |= 1u << i;
		else
			act->poweroff |= 1u << i;
		s->poweroff_sent[i] = true;
	}
}

static void fail(struct sim_state *s, enum sim_failure f, unsigned int node,
		 struct sim_actions *act)
{
	if (s->failure == SIM_FAIL_NONE) {
		s->failure = f;
		s->fail_node = node;
	}
	shut_down(s, act);
}

static void finish_if_all_gone(struct sim_state *s)
{
	if (s->phase == SIM_SHUTDOWN && all_in(s, NODE_GONE, false)) {
		s->phase = SIM_DONE;
		s->result = s->failure ? failure_result(s->failure) : s->ops->result(s);
	}
}

void sim_step(struct sim_state *s, const struct sim_event *ev, struct sim_actions *act)
{
	memset(act, 0, sizeof(*act));
	if (s->phase == SIM_DONE || ev->node >= s->nodes)
		return;

	switch (ev->type) {
	case EV_HELLO:
		if (s->phase != SIM_BOOT || s->node[ev->node] != NODE_BOOTING)
			break;
		s->node[ev->node] = NODE_READY;
		if (!all_in(s, NODE_READY, false))
			break;
		s->phase = SIM_RUN;
		act->arm_cmd_timer = true;
		for (unsigned int i = 0; i < s->nodes; i++) {
			if (is_target(s, i)) {
				s->node[i] = NODE_RUNNING;
				act->exec |= 1u << i;
			}
		}
		break;

	case EV_EXIT:
		if (s->phase != SIM_RUN || s->node[ev->node] != NODE_RUNNING)
			break;
		s->node[ev->node] = NODE_EXITED;
		s->status[ev->node] = ev->status;
		if (all_in(s, NODE_EXITED, true))
			shut_down(s, act);
		break;

	case EV_NODE_LOST:
		if (s->node[ev->node] == NODE_GONE)
			break;
		s->node[ev->node] = NODE_GONE;
		/* Losing a node before we asked it to stop breaks the cluster. */
		if (s->phase != SIM_SHUTDOWN)
			fail(s, SIM_FAIL_NODE_LOST, ev->node, act);
		finish_if_all_gone(s);
		break;

	case EV_BOOT_TIMEOUT:
		if (s->phase == SIM_BOOT)
			fail(s, SIM_FAIL_BOOT_TIMEOUT, 0, act);
		break;

	case EV_CMD_TIMEOUT:
		if (s->phase == SIM_RUN)
			fail(s, SIM_FAIL_CMD_TIMEOUT, 0, act);
		break;

	case EV_INTERRUPT:
		if (s->phase == SIM_SHUTDOWN) {
			/* Asked twice: stop waiting for a clean power-off. */
			for (unsigned int i = 0; i < s->nodes; i++)
				if (s->node[i] != NODE_GONE)
					act->kill |= 1u << i;
			break;
		}
		fail(s, SIM_FAIL_INTERRUPTED, 0, act);
		break;

	case EV_GRACE_TIMEOUT:
		if (s->phase != SIM_SHUTDOWN)
			break;
		for (unsigned int i = 0; i < s->nodes; i++)
			if (s->node[i] != NODE_GONE)
				act->kill |= 1u << i;
		break;
	}
}
