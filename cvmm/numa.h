/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's NUMA topology, from `cvmm run --numa ID:cpus=A[-B],mem=SIZE`
 * (one option per node), turned into the SRAT and SLIT of the ACPI tables.
 *
 * Each node's memory is one contiguous share of guest RAM, node 0 first; the
 * share that crosses the 3 GiB hole is split in two ranges. Every node must
 * be a multiple of 512 MiB: Linux 6.1 i386 rejects smaller or less aligned
 * nodes ("Node alignment 256MB < min 512MB, rejecting NUMA config") and would
 * silently boot as one node.
 */
#ifndef CVMM_NUMA_H
#define CVMM_NUMA_H

#include <stdbool.h>
#include <stdint.h>

#include "cvmm/x86/acpi.h"

#define NUMA_NODE_ALIGN (512ull << 20)

struct numa_node {
	bool set;
	unsigned int first_cpu, last_cpu;
	uint64_t mem;
};

struct numa_topology {
	unsigned int nr_nodes; /* highest node given + 1; 0: no topology */
	struct numa_node nodes[ACPI_MAX_NODES];
};

/* Adds one node from an option argument. 0, or -EINVAL with a message naming the node. */
int numa__parse(struct numa_topology *t, const char *arg);

/*
 * Checks the whole topology against the VM: nodes 0..n-1 all given, every
 * vCPU in exactly one node, every node a multiple of 512 MiB, the nodes'
 * memory adding up to mem. 0, or -EINVAL with a message naming the node.
 */
int numa__check(const struct numa_topology *t, unsigned int nr_cpus, uint64_t mem);

/* The SRAT/SLIT description of a checked topology. */
void numa__to_acpi(const struct numa_topology *t, unsigned int nr_cpus, struct acpi_numa *out);

#endif
