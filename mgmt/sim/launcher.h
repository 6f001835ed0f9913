/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The launcher's state machine: what `cvmm sim` does next, as a pure function
 * of what happened. The event loop (run.c) turns QEMU exits, control-channel
 * messages, timers and signals into events, feeds them to sim_step(), and
 * carries out the actions it returns. Nothing here does I/O, so unit tests
 * replay any sequence of events.
 *
 *   BOOT ──all nodes HELLO──▶ RUN ──all targets EXIT──▶ SHUTDOWN ──all QEMUs gone──▶ DONE
 *     │                        │                          ▲
 *     └─ node dies / boot timeout / interrupt ────────────┘ (RUN: node dies, timeout, interrupt)
 *
 * In SHUTDOWN every live node is asked to power off; a second interrupt or the
 * shutdown grace timer kills what is left. Every path ends in DONE with every
 * QEMU reaped, which is what "no orphans" means.
 */
#ifndef CVMM_MGMT_SIM_LAUNCHER_H
#define CVMM_MGMT_SIM_LAUNCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "mgmt/sim/opts.h"

enum sim_phase { SIM_BOOT, SIM_RUN, SIM_SHUTDOWN, SIM_DONE };

enum sim_node_state {
	NODE_BOOTING, /* QEMU started, no HELLO yet */
	NODE_READY,   /* HELLO received */
	NODE_RUNNING, /* EXEC sent */
	NODE_EXITED,  /* the command's EXIT received */
	NODE_GONE,    /* QEMU process reaped */
};

enum sim_event_type {
	EV_HELLO,     /* node: agent is up */
	EV_EXIT,      /* node: command finished, .status */
	EV_NODE_LOST, /* node: QEMU exited or the channel broke */
	EV_BOOT_TIMEOUT,
	EV_CMD_TIMEOUT,
	EV_GRACE_TIMEOUT, /* nodes did not power off in time */
	EV_INTERRUPT,	  /* SIGINT or SIGTERM */
};

struct sim_event {
	enum sim_event_type type;
	unsigned int node;
	int status;
};

/* Exit statuses of `cvmm sim` itself (the command's own pass through). */
enum {
	SIM_EXIT_USAGE = 2,
	SIM_EXIT_TIMEOUT = 124,
	SIM_EXIT_CLUSTER = 125,
	SIM_EXIT_INTERRUPTED = 130,
};

enum sim_failure {
	SIM_FAIL_NONE,
	SIM_FAIL_NODE_LOST, /* .fail_node died */
	SIM_FAIL_BOOT_TIMEOUT,
	SIM_FAIL_CMD_TIMEOUT,
	SIM_FAIL_INTERRUPTED,
};

struct sim_actions {
	uint32_t exec;	   /* bitmask of nodes to send the command to */
	uint32_t poweroff; /* bitmask of nodes to ask to power off */
	uint32_t kill;	   /* bitmask of nodes whose QEMU to kill */
	bool arm_cmd_timer;
	bool arm_grace_timer;
};

struct sim_state;

/*
 * How the commands' statuses make the result of `cvmm sim` once every node
 * is gone and nothing failed: the first non-zero status in node order for a
 * command, vc_verdict() (mgmt/launch/verdict.h) for `cvmm node` in VC mode.
 */
struct sim_result_ops {
	int (*result)(struct sim_state *s);
};

struct sim_state {
	unsigned int nodes;
	bool all;
	const struct sim_result_ops *ops;
	unsigned int io_node; /* VC mode */
	int culprit;	      /* VC mode: the node that failed, or -1 */
	char why[160];	      /* ... and how, in one line */
	enum sim_phase phase;
	enum sim_node_state node[SIM_MAX_NODES];
	int status[SIM_MAX_NODES]; /* command exit status per node */
	bool poweroff_sent[SIM_MAX_NODES];
	enum sim_failure failure;
	unsigned int fail_node;
	int result; /* exit status of `cvmm sim`, valid in DONE */
};

void sim_state_init(struct sim_state *s, unsigned int nodes, bool all);
/* VC mode: every node runs its `cvmm node`; the result is the VC's verdict. */
void sim_state_init_vc(struct sim_state *s, unsigned int nodes, unsigned int io_node);
/* Applies one event; fills *act with what to do now (cleared first). */
void sim_step(struct sim_state *s, const struct sim_event *ev, struct sim_actions *act);

#endif
