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

/* A node's NUMA memory: bytes of guest RAM, which are the DSM region's. */
struct cluster_range {
	uint64_t start, size;
};

struct cluster_config {
	unsigned int node; /* this node */
	unsigned int nnodes;
	unsigned int io_node;	/* hosts the devices */
	unsigned int boot_node; /* runs the boot CPU; its clock is the reference */
	unsigned int ncpus;
	const unsigned int *cpu_node;	 /* vCPU -> node, ncpus entries */
	uint64_t absent;		 /* nodes that join later (hot-add) */
	const struct cluster_range *mem; /* per node, nnodes entries (NULL: unknown) */
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
 * under way), -EAGAIN (the guest is paused cluster-wide), -ETIMEDOUT (no
 * word from `to`: the VM is stopped, as the vCPU can no longer be trusted to
 * run once), or another -errno.
 */
int cluster__move_vcpu(struct cluster *c, unsigned int vcpu, unsigned int to,
		       uint64_t *downtime_ns);

/*
 * Pauses every vCPU of every node (cvmm/cluster-pause.c), so that nothing
 * faults on guest memory, and resumes them. Guest time goes on meanwhile,
 * as after a host's suspend. One pause holds at a time: while another
 * node's holds, this one tries again until timeout_ms. 0, -EBUSY (another
 * pause still held), -ETIMEDOUT (a node did not answer within timeout_ms),
 * or -errno of a node that could not; on failure nothing stays paused.
 */
int cluster__pause_all(struct cluster *c, unsigned int timeout_ms);
void cluster__resume_all(struct cluster *c);

/*
 * cluster__pause_all(), then waits until the DSM is still (dsm_quiesce), and
 * with sum, checksums the guest's memory (dsm_checksum): the state a
 * hand-over or a rehome starts from. 0, or -errno with nothing paused.
 */
int cluster__pause_still(struct cluster *c, uint64_t *sum, uint64_t *pages);

/*
 * What a paused step measured (cluster__paused_step): the step itself, the
 * whole pause, and with verify the checksums of the paused guest's memory
 * before and after the step.
 */
struct cluster_step_stats {
	uint64_t step_ns;   /* the DSM's part */
	uint64_t paused_ns; /* every vCPU paused */
	bool verify;	    /* in: checksum guest memory before and after */
	uint64_t sum_before, pages_before, sum_after, pages_after;
	int after_err; /* the checksum after a step that succeeded failed: -errno */
};

/*
 * Runs step(c, arg, &moved), a DSM step that moves homes or pages between
 * nodes (a hand-over, a rehome), with the guest still
 * (cluster__pause_still), then resumes every vCPU. step returns 0 or
 * -errno, and sets moved once anything may have moved. A failure after
 * that may leave the guest's memory split between old and new homes: the
 * VC then stops (VM_STOP_KVM), with one message naming `what`, and nothing
 * resumes. 0 once the step is done (a checksum after it that fails is
 * st->after_err), or the -errno of pausing or of the step.
 */
int cluster__paused_step(struct cluster *c, const char *what,
			 int (*step)(struct cluster *c, void *arg, bool *moved), void *arg,
			 struct cluster_step_stats *st);

/*
 * This node leaves the running virtual computer (cvmm/node-leave.c): its
 * vCPUs move to node `to`, every vCPU pauses, the DSM hands this node's
 * pages and homes over to `to`, every vCPU resumes, and this node's VM
 * stops with VM_STOP_LEFT while the others go on. progress hears of pages
 * moved. With st->step.verify, the paused guest's memory is checksummed before and
 * after the hand-over (dsm_checksum). 0 or -errno (before the hand-over
 * starts, nothing is lost and the VC goes on; a failure during it stops the
 * VC).
 */
struct cluster_leave_stats {
	unsigned int vcpus;		/* moved to `to` */
	uint64_t max_move_ns;		/* the longest of their moves */
	uint64_t pages;			/* handed over */
	uint64_t pushed;		/* of which contents sent */
	uint64_t zero;			/* of which untouched, sent as runs of zeros */
	struct cluster_step_stats step; /* the hand-over; in: step.verify */
};
int cluster__leave(struct cluster *c, unsigned int to,
		   void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		   struct cluster_leave_stats *st);

/*
 * On the node that homes node `to`'s NUMA memory (the boot node, while `to`
 * was absent): gives `to` the homes of that memory (cvmm/node-rehome.c):
 * every vCPU pauses, the DSM moves the homes (dsm_rehome), every vCPU
 * resumes. With st->step.verify, the paused guest's memory is checksummed before
 * and after. 0, -EINVAL (no such node, or this one), -ENOTCONN (`to` has not
 * joined), -EBUSY (another pause holds the guest), or another -errno (a
 * failure while homes moved stops the VC).
 */
struct cluster_rehome_stats {
	uint64_t pages;			/* homes given */
	uint64_t pushed;		/* of which contents sent */
	uint64_t zero;			/* of which untouched, sent as runs of zeros */
	struct cluster_step_stats step; /* the rehome; in: step.verify */
};
int cluster__rehome(struct cluster *c, unsigned int to,
		    void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		    struct cluster_rehome_stats *st);

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
