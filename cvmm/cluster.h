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

#include <stdint.h>
#include <stdio.h>

#include "cvmm/vm.h"

struct dsm;
struct cluster;

#define CLUSTER_MAX_NODES 64

struct cluster_config {
	unsigned int node; /* this node */
	unsigned int nnodes;
	unsigned int io_node;	/* hosts the devices */
	unsigned int boot_node; /* runs the boot CPU; its clock is the reference */
	unsigned int ncpus;
	const unsigned int *cpu_node; /* vCPU -> node, ncpus entries */
	uint64_t absent;	      /* nodes that join later (hot-add) */
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

/*
 * Moves vCPU vcpu, which this node runs, to node `to`, while the guest runs
 * (cvmm/vcpu-move.c): pauses it, sends its state, and returns once it runs
 * there. *downtime_ns: from the pause to the new node's word that it runs.
 * 0, -EINVAL (no such vCPU or node, or not here), -EBUSY (another move is
 * under way), -ETIMEDOUT (no word from `to`: the VM is stopped, as the vCPU
 * can no longer be trusted to run once), or another -errno.
 */
int cluster__move_vcpu(struct cluster *c, unsigned int vcpu, unsigned int to,
		       uint64_t *downtime_ns);

/*
 * Pauses every vCPU of every node (cvmm/cluster-pause.c), so that nothing
 * faults on guest memory, and resumes them. Guest time goes on meanwhile,
 * as after a host's suspend. 0, -ETIMEDOUT (a node did not answer within
 * timeout_ms: the pause is undone), or -errno of a node that could not.
 */
int cluster__pause_all(struct cluster *c, unsigned int timeout_ms);
void cluster__resume_all(struct cluster *c);

/*
 * This node leaves the running virtual computer (cvmm/node-leave.c): its
 * vCPUs move to node `to`, every vCPU pauses, the DSM hands this node's
 * pages and homes over to `to`, every vCPU resumes, and this node's VM
 * stops with VM_STOP_LEFT while the others go on. progress hears of pages
 * moved. With st->verify, the paused guest's memory is checksummed before and
 * after the hand-over (dsm_checksum). 0 or -errno (before the hand-over
 * starts, nothing is lost and the VC goes on; a failure during it stops the
 * VC).
 */
struct cluster_leave_stats {
	unsigned int vcpus;   /* moved to `to` */
	uint64_t max_move_ns; /* the longest of their moves */
	uint64_t pages;	      /* handed over */
	uint64_t pushed;      /* of which contents sent */
	uint64_t zero;	      /* of which untouched, sent as runs of zeros */
	uint64_t handover_ns; /* the hand-over itself */
	uint64_t paused_ns;   /* every vCPU paused */
	bool verify;	      /* in: checksum guest memory before and after */
	uint64_t sum_before, pages_before, sum_after, pages_after;
};
int cluster__leave(struct cluster *c, unsigned int to,
		   void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		   struct cluster_leave_stats *st);

/* A node that was absent at the start joined (the DSM's on_peer_joined). */
void cluster__node_joined(struct cluster *c, unsigned int node);

/* Where vCPU vcpu runs, as this node knows it. */
unsigned int cluster__vcpu_node(struct cluster *c, unsigned int vcpu);

/* The VM stopped: handlers stop touching it (called before it is destroyed). */
void cluster__detach(struct cluster *c);

void cluster__print_stats(struct cluster *c, FILE *f);

/* After the DSM is destroyed: no handler can run any more. */
void cluster__destroy(struct cluster *c);

#endif
