/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where an emulated node's CPUs are, asked of its QEMU through the human
 * monitor socket that every node gets (qemu.h). The launcher asks when a
 * node does not answer in time (its command or its boot timed out), before
 * it kills the node: an emulated node whose kernel stopped answering shows
 * where each of its CPUs was, which no console line can say.
 */
#ifndef CVMM_MGMT_SIM_NODE_CPUS_H
#define CVMM_MGMT_SIM_NODE_CPUS_H

#include <stddef.h>

/*
 * Summarizes the output of "info registers -a": a line per CPU with its
 * instruction pointer, privilege level, whether it is halted and its code
 * segment's mode ("CPU 0: RIP=ffffffff81234567 CPL=0 HLT=0 CS64"). Returns
 * the number of CPUs found.
 */
int sim_cpus_summary(const char *regs, char *buf, size_t len);

/*
 * Asks the QEMU behind monitor socket SOCK for every CPU's registers (at
 * most a few seconds), writes them whole to LOG and the summary of each CPU
 * to stderr, tagged "nodeI". Returns 0 or -errno (said on stderr).
 */
int sim_node_report_cpus(const char *sock, const char *log, unsigned int node);

#endif
