// SPDX-License-Identifier: GPL-2.0
/*
 * A node leaves the running virtual computer (eviction, DESIGN.md §3.11),
 * run on the node that leaves, L, towards node `to`:
 *   1. each of L's vCPUs moves to `to` (cvmm/vcpu-move.c) while the guest
 *      runs; the guest keeps its CPUs, now sharing `to`'s cores;
 *   2. every vCPU of every node pauses (cvmm/cluster-pause.c) and the DSM
 *      quiesces: no fault is pending, no coherence message is in flight;
 *   3. the DSM hands every page L homes over to `to`, and every page L owns
 *      back to its home (dsm/handover.c);
 *   4. every vCPU resumes; L tells the others it left (LEFT), says goodbye
 *      to the DSM, and its VM stops with VM_STOP_LEFT (its `cvmm node`
 *      exits 0) while the guest goes on without it.
 * Whether the guest should also take the CPUs of L's NUMA node offline is a
 * policy of whoever asks (the message interrupt's NODE_LEAVE, posted before
 * on the node that holds the guest's message page).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/lib/log.h"
#include "dsm/dsm.h"

#define MOVE_WAIT_MS  15000 /* for a checksum's pause to end */
#define MOVE_RETRY_MS 100

/* Step 1: every vCPU of this node to `to`. */
static int move_all(struct cluster *c, unsigned int to, struct cluster_leave_stats *st)
{
	for (unsigned int i = 0; i < c->cfg.ncpus; i++) {
		uint64_t ns = 0;
		int ret;

		if (cluster__vcpu_node(c, i) != c->cfg.node)
			continue;
		/* A checksum's pause holds the vCPUs: the move waits for its end. */
		for (unsigned int t = 0; t < MOVE_WAIT_MS / MOVE_RETRY_MS; t++) {
			ret = cluster__move_vcpu(c, i, to, &ns);
			if (ret != -EAGAIN)
				break;
			poll(NULL, 0, MOVE_RETRY_MS);
		}
		if (ret) {
			pr_err("node%u: leaving: moving vCPU %u to node%u: %s", c->cfg.node, i, to,
			       strerror(-ret));
			return ret;
		}
		st->vcpus++;
		if (ns > st->max_move_ns)
			st->max_move_ns = ns;
	}
	return 0;
}

/* The hand-over step: counts the pages handed over, and passes the news on. */
struct tap {
	struct cluster_leave_stats *st;
	unsigned int to;
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *arg;
};

static void count_pages(void *arg, uint64_t done, uint64_t total)
{
	struct tap *tp = arg;

	tp->st->pages = done;
	if (tp->progress)
		tp->progress(tp->arg, done, total);
}

static int handover_step(struct cluster *c, void *arg, bool *moved)
{
	struct tap *tp = arg;
	struct dsm_handover_stats hs = { 0 };
	int ret = dsm_handover(c->dsm, tp->to, count_pages, tp, &hs);

	*moved = hs.started;
	tp->st->pushed = hs.pushed;
	tp->st->zero = hs.zero;
	return ret;
}

int cluster__leave(struct cluster *c, unsigned int to,
		   void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		   struct cluster_leave_stats *st)
{
	struct cl_msg left = { .type = CL_MSG_LEFT };
	struct tap tp = { .st = st, .to = to, .progress = progress, .arg = arg };
	char what[64];
	uint64_t live;
	int ret;

	*st = (struct cluster_leave_stats){ .step.verify = st->step.verify };
	if (!c->vm || !c->dsm || to >= c->cfg.nnodes || to == c->cfg.node)
		return -EINVAL;
	if (c->cfg.node == c->cfg.io_node)
		return -EPERM; /* the devices cannot move (yet) */
	pthread_mutex_lock(&c->route_lock);
	live = c->vm_nodes;
	pthread_mutex_unlock(&c->route_lock);
	if (!(live & (1ull << to)))
		return -EHOSTUNREACH;
	ret = move_all(c, to, st);
	if (ret)
		return ret;

	snprintf(what, sizeof(what), "the hand-over to node%u", to);
	ret = cluster__paused_step(c, what, handover_step, &tp, &st->step);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->route_lock);
	live = c->vm_nodes;
	pthread_mutex_unlock(&c->route_lock);
	for (unsigned int n = 0; n < c->cfg.nnodes; n++)
		if (n != c->cfg.node && (live & (1ull << n)))
			cluster_send(c, n, &left);
	atomic_store(&c->left, true);
	vm__request_stop(c->vm, VM_STOP_LEFT);
	return 0;
}
