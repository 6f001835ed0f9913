/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One node's VM as part of a virtual computer (DESIGN.md §3.8–3.9): every
 * node's KVM holds every vCPU, but each node runs only the vCPUs placed on
 * it; the others are stand-ins that never run. What the guest does that
 * concerns another node leaves through here:
 *
 *  - an MSI (an IPI hypercall, a CPU start, a device interrupt) for a vCPU
 *    another node runs is sent there and injected with KVM_SIGNAL_MSI;
 *  - a spinlock kick for such a vCPU is sent there;
 *  - a port-I/O or MMIO access on a node without the devices is forwarded to
 *    the I/O node and answered (reads) or posted (writes);
 *  - the guest's stop on any node (poweroff, reset, a failure) stops every
 *    node, with the same reason;
 *  - before its vCPUs run, a node other than the boot node sets its guest
 *    clock (kvmclock) to the boot node's, from round-trip samples.
 *
 * Messages travel as DSM application messages (cvmm/cluster-msg.h). The
 * handlers run on the DSM's thread.
 */
#ifndef CVMM_CLUSTER_H
#define CVMM_CLUSTER_H

#include <stdio.h>

#include "cvmm/vm.h"

struct dsm;
struct cluster;

struct cluster_config {
	unsigned int node; /* this node */
	unsigned int nnodes;
	unsigned int io_node;	/* hosts the devices */
	unsigned int boot_node; /* runs the boot CPU; its clock is the reference */
	unsigned int ncpus;
	const unsigned int *cpu_node; /* vCPU -> node, ncpus entries */
};

/*
 * Takes over vm's interrupts, kicks, unclaimed device accesses and stop
 * (vm->signal_msi, vm->cluster) and marks the vCPUs other nodes run.
 * Nothing is sent before cluster__set_dsm().
 */
int cluster__create(const struct cluster_config *cfg, struct vm *vm, struct cluster **out);

/* The DSM that carries the messages; before dsm_start(). */
void cluster__set_dsm(struct cluster *c, struct dsm *dsm);

/* The DSM's on_app_msg: arg is the cluster. */
void cluster__on_msg(void *arg, unsigned int peer, const void *data, unsigned int len);

/*
 * On a node other than the boot node, once the DSM is started and before
 * any vCPU runs: sets this VM's guest clock to the boot node's. 0 or -errno.
 */
int cluster__sync_clock(struct cluster *c);

/* The VM stopped: handlers stop touching it (called before it is destroyed). */
void cluster__detach(struct cluster *c);

void cluster__print_stats(struct cluster *c, FILE *f);

/* After the DSM is destroyed: no handler can run any more. */
void cluster__destroy(struct cluster *c);

#endif
