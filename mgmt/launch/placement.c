// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <numa.h>

#include "mgmt/launch/placement.h"

void placement_plan(struct placement *p)
{
	struct bitmask *cpus;
	int max;

	p->nhost = 0;
	p->why_skipped = NULL;
	if (numa_available() < 0) {
		p->why_skipped = "the host kernel has no NUMA support";
		return;
	}
	cpus = numa_allocate_cpumask();
	max = numa_max_node();
	for (int n = 0; n <= max && p->nhost < PLACEMENT_MAX_HOST_NODES; n++) {
		/* A node without CPUs (or memory) cannot host a node process. */
		if (!numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)n))
			continue;
		if (numa_node_to_cpus(n, cpus) || !numa_bitmask_weight(cpus))
			continue;
		p->host_node[p->nhost++] = n;
	}
	numa_bitmask_free(cpus);
	if (p->nhost < 2) {
		p->nhost = 0;
		p->why_skipped = "the host has one NUMA node";
	}
}

int placement_node_for(const struct placement *p, unsigned int i)
{
	return p->nhost ? p->host_node[i % p->nhost] : -1;
}

int placement_apply(int host_node)
{
	if (numa_run_on_node(host_node))
		return -errno;
	/*
	 * Preferred, not bound: a node process that outgrows its host node
	 * (each maps the whole guest RAM and may come to hold a copy of any
	 * page) spills to another node rather than being killed by the OOM
	 * killer; locality is the goal, not a limit.
	 */
	numa_set_preferred(host_node);
	return 0;
}
