/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What cvmm/cluster.c (interrupts, device accesses, stop, clock) and
 * cvmm/vcpu-move.c (moving a running vCPU to another node) share. Not for
 * other files: they use cvmm/cluster.h.
 */
#ifndef CVMM_CLUSTER_PRIV_H
#define CVMM_CLUSTER_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cvmm/cluster-msg.h"
#include "cvmm/cluster.h"

#define ARRIVAL_HELD_MAX 64 /* interrupts held for a vCPU on its way here */

/* A read forwarded to the I/O node, waiting on the vCPU's thread for its answer. */
struct io_wait {
	uint32_t tag;
	bool done;
	int err;
	uint8_t len;
	uint8_t data[CL_IO_MAX];
	struct io_wait *next;
};

struct cluster_stats {
	_Atomic uint64_t msi_local, msi_sent, msi_received, msi_forwarded;
	_Atomic uint64_t kicks_sent, kicks_received;
	_Atomic uint64_t io_reads, io_writes, io_served;
	_Atomic uint64_t eoi_sent, send_errors, bad_msgs;
	_Atomic uint64_t vcpus_out, vcpus_in;
};

/*
 * A vCPU on its way to this node (between VCPU_INCOMING and its first run
 * here): its state as it comes in, and the interrupts and kick that came for
 * it meanwhile, delivered once its state is in place.
 */
struct arrival {
	bool active;
	unsigned int from;
	uint8_t *buf; /* total bytes once the first piece came */
	uint32_t total, have;
	struct {
		uint64_t addr;
		uint32_t data;
	} held[ARRIVAL_HELD_MAX];
	unsigned int nheld;
	bool kick;
	bool thread_live; /* thread restores the state and starts the vCPU */
	pthread_t thread;
};

/* A vCPU leaving this node: the move waits here for VCPU_MOVED. */
struct departure {
	bool waiting;
	bool arrived;
	uint32_t restore_us;
};

/*
 * Pausing every vCPU of the virtual computer (cvmm/cluster-pause.c): a
 * worker thread pauses and resumes this node's vCPUs when a peer asks, as
 * the DSM thread that hears the request must not wait for a vCPU.
 */
#define PAUSE_QUEUE 8

struct pauser {
	pthread_t thread;
	bool running, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct {
		uint8_t type; /* CL_MSG_PAUSE or CL_MSG_RESUME */
		unsigned int from;
		uint32_t seq;
	} q[PAUSE_QUEUE];
	unsigned int head, n;
	/*
	 * Under hold_lock, which the DSM thread never takes (pausing a vCPU
	 * may wait for a page it serves): the node whose pause holds this
	 * node's vCPUs (one at a time: another's PAUSE is answered -EBUSY),
	 * and the vCPUs it stopped here.
	 */
	pthread_mutex_t hold_lock;
	bool held;
	unsigned int holder;
	bool *paused; /* ncpus */
	/* As coordinator: from its pause to its resume; the PAUSED answers to round seq. */
	bool coordinating;
	uint32_t seq;
	uint64_t want, got;
	int err;
};

struct cluster {
	struct cluster_config cfg;
	unsigned int *cpu_node; /* vCPU -> node; written under route_lock */
	uint64_t vm_nodes;	/* nodes that hold a VM (stop goes to all of them) */
	struct dsm *dsm;
	int (*local_msi)(struct vm *vm, uint64_t addr, uint32_t data);

	/* Held by handlers while they use the VM; cluster__detach() clears vm. */
	pthread_mutex_t vm_lock;
	struct vm *vm;
	/* The VM, for the threads cluster__detach() joins (pause worker, arrivals). */
	struct vm *vmref;

	/*
	 * Where each vCPU runs, and the vCPUs on their way here or away: an
	 * interrupt is routed and delivered under it, so a vCPU's state is
	 * never saved between the decision and the delivery.
	 */
	pthread_mutex_t route_lock;
	struct arrival *arrivals;     /* ncpus entries */
	struct departure *departures; /* ncpus entries */
	pthread_cond_t moved;	      /* a departure's VCPU_MOVED came */
	pthread_mutex_t move_lock;    /* one move at a time from this node */

	/* Forwarded reads and clock samples waiting for their answer. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct io_wait *waits;
	uint32_t next_tag;
	bool clock_answered;
	struct cl_msg clock_reply;

	_Atomic bool stop_from_peer; /* the stop being handled came from a peer */
	struct cluster_stats st;
	bool locks_ready; /* the mutexes above exist (cluster__destroy) */
	struct pauser pz;
	_Atomic bool left;   /* this node left: its stop is its own */
	bool monitor_paused; /* the monitor's `pause` holds (monitor thread only) */
};

static inline void cluster_count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Sends m to peer over the DSM; counts and logs (debug) a failure. */
int cluster_send(struct cluster *c, unsigned int peer, const struct cl_msg *m);

/* Does this node run vCPU? Under route_lock. */
bool cluster_is_local(const struct cluster *c, unsigned int vcpu);

/* An interrupt for a vCPU that is arriving here: held until it runs. Under route_lock. */
void cluster_hold_msi(struct cluster *c, unsigned int vcpu, uint64_t addr, uint32_t data);

/* cvmm/cluster-monitor.c: the ops table's monitor commands. */
bool cluster_command(struct vm *vm, const char *line, char *out, size_t len, int client);

/* cvmm/cluster-pause.c */
int cluster_pause_init(struct cluster *c);
void cluster_pause_fini(struct cluster *c); /* joins the worker; after detach */
void cluster_pause_recv(struct cluster *c, unsigned int peer, const struct cl_msg *m);
/* A vCPU move's pause of one vCPU: -EAGAIN while a cluster-wide pause holds. */
int cluster_pause_for_move(struct cluster *c, struct vm *vm, unsigned int vcpu);
/* A vCPU that arrived runs, or waits for the resume if a pause holds. */
int cluster_pause_start_arrived(struct cluster *c, struct vm *vm, unsigned int vcpu);

/* cvmm/vcpu-move.c: the handlers of the move messages (DSM thread, vm_lock held). */
void vcpu_move__incoming(struct cluster *c, unsigned int peer, const struct cl_msg *m);
void vcpu_move__state(struct cluster *c, unsigned int peer, const struct cl_msg *m);
void vcpu_move__moved(struct cluster *c, unsigned int peer, const struct cl_msg *m);
/* Waits for the threads of arrivals (after the VM was detached). */
void vcpu_move__join(struct cluster *c);

#endif
