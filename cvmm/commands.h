/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The subcommands of the `cvmm` program, one per file (kvmtool's builtin-*.c):
 * each takes the arguments after its own name and returns the process exit
 * status.
 */
#ifndef CVMM_COMMANDS_H
#define CVMM_COMMANDS_H

int cmd_sim(int argc, char **argv);	/* mgmt/sim/builtin-sim.c */
int cmd_agent(int argc, char **argv);	/* mgmt/agent/builtin-agent.c */
int cmd_run(int argc, char **argv);	/* cvmm/builtin-run.c */
int cmd_node(int argc, char **argv);	/* cvmm/builtin-node.c */
int cmd_monitor(int argc, char **argv); /* cvmm/builtin-monitor.c */

#endif
