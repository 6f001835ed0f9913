/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `cvmm run --nodes` does with its node processes, as a pure function of
 * what happened (the sim's launcher.h does the same for emulated nodes). The
 * loop in local.c turns child exits, SIGINT/SIGTERM and its timer into
 * events, feeds them to sup_step() and sends the signals it returns.
 *
 *   RUN ──I/O node ended, or any node failed──▶ LINGER ──timer──▶ STOPPING
 *    │                                             │                 │ (SIGTERM, then
 *    └────────── SIGINT/SIGTERM: forwarded ────────┴──────────▶──────┘  SIGKILL per timer)
 *   every node ended ──▶ DONE (from any phase)
 *
 * Nodes end on their own: a memory node leaves when every peer has left, a
 * peer that breaks is failed within the DSM's 1.5 s, one that never comes
 * within its 10 s connect timeout. LINGER is the safety net that makes "no
 * node process outlives the launcher" hold even when one does not.
 */
#ifndef CVMM_MGMT_LAUNCH_SUPERVISE_H
#define CVMM_MGMT_LAUNCH_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>

#include "mgmt/launch/verdict.h"

#define SUP_LINGER_SECONDS 30 /* for the others, once the I/O node ended or a node failed */
#define SUP_STOP_SECONDS   5  /* between SIGTERM and SIGKILL */

enum sup_phase { SUP_RUN, SUP_LINGER, SUP_STOPPING, SUP_DONE };

enum sup_event_type {
	SUP_EV_ENDED,	  /* .node ended: .status, .signaled */
	SUP_EV_INTERRUPT, /* the launcher got .signo (SIGINT or SIGTERM) */
	SUP_EV_TIMER,	  /* the timer armed last expired */
};

struct sup_event {
	enum sup_event_type type;
	unsigned int node;
	int status; /* exit code, or 128 + signal */
	bool signaled;
	int signo;
};

struct sup_actions {
	uint32_t signal_mask; /* nodes to send signo to */
	int signo;
	unsigned int timer_seconds; /* arm (or re-arm) the timer; 0: leave it */
};

struct sup_state {
	unsigned int nnodes, io_node;
	enum sup_phase phase;
	bool interrupted;
	unsigned int interrupts;
	struct vc_node_end end[VC_MAX_NODES];
};

void sup_init(struct sup_state *s, unsigned int nnodes, unsigned int io_node);
/* Applies one event; fills *act (cleared first) with what to do now. */
void sup_step(struct sup_state *s, const struct sup_event *ev, struct sup_actions *act);

#endif
