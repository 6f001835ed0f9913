/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement of local-mode node processes on the host's NUMA nodes (libnuma):
 * node process i runs on host NUMA node i mod H, with its memory there, so
 * that K nodes of a virtual computer on one big host behave like K machines,
 * each with its own CPUs and local RAM, and a DSM page transfer between
 * them is a real transfer between memory controllers.
 *
 * The binding is done in the child between fork() and exec(): CPU affinity
 * and the memory policy both survive exec, so every page `cvmm node` later
 * allocates, guest RAM included, follows it.
 */
#ifndef CVMM_MGMT_LAUNCH_PLACEMENT_H
#define CVMM_MGMT_LAUNCH_PLACEMENT_H

#define PLACEMENT_MAX_HOST_NODES 64

struct placement {
	unsigned int nhost; /* host NUMA nodes used; 0: placement skipped */
	int host_node[PLACEMENT_MAX_HOST_NODES];
	const char *why_skipped; /* when nhost is 0 */
};

/* Finds the host's NUMA nodes that have both CPUs and memory. */
void placement_plan(struct placement *p);

/* The host NUMA node for node process i (round robin), or -1 when skipped. */
int placement_node_for(const struct placement *p, unsigned int i);

/*
 * In the child: runs this process on host_node's CPUs and prefers its memory.
 * Returns 0 or -errno.
 */
int placement_apply(int host_node);

#endif
