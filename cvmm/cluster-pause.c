// SPDX-License-Identifier: GPL-2.0
/*
 * Pausing every vCPU of the virtual computer, for what needs guest memory
 * still: a cluster-wide checksum, a node's hand-over of its pages.
 *
 * The coordinator pauses its own vCPUs, sends PAUSE (with a round number)
 * to every other node with a VM and waits for each one's PAUSED; RESUME
 * undoes it. A node hears PAUSE and RESUME on the DSM thread, which must
 * not wait for a vCPU (a vCPU may be waiting for a page the DSM thread
 * serves), so a worker thread does the pausing and answers.
 *
 * One pause holds the guest at a time. A node held by another coordinator
 * answers PAUSE with -EBUSY, and RESUME only undoes the pause of the node
 * that sends it: a checksum asked for during a hand-over waits for it (the
 * coordinator tries again until its timeout) instead of resuming the
 * vCPUs in the middle of it. Two coordinators that start at once both meet
 * -EBUSY somewhere, undo, and try again after a wait that differs by node.
 * While a pause holds, no vCPU moves, and one that arrives waits for the
 * resume.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/clock.h"
#include "cvmm/lib/log.h"
#include "dsm/dsm.h"

#define RETRY_MS	   100 /* after -EBUSY, plus 50 ms per node id */
#define PAUSE_TIMEOUT_MS   15000
#define QUIESCE_TIMEOUT_MS 30000

/* `from`'s pause holds this node's vCPUs (once). 0, -EBUSY or the first -errno. */
static int hold(struct cluster *c, struct vm *vm, unsigned int from)
{
	struct pauser *pz = &c->pz;
	int ret = 0;

	pthread_mutex_lock(&pz->hold_lock);
	if (pz->held && pz->holder != from) {
		ret = -EBUSY;
	} else if (!pz->held) {
		pz->held = true;
		pz->holder = from;
		for (unsigned int i = 0; i < c->cfg.ncpus; i++) {
			if (!vm->vcpus[i].started)
				continue;
			ret = vcpu__pause(&vm->vcpus[i]) ?: ret;
			pz->paused[i] = true;
		}
	}
	pthread_mutex_unlock(&pz->hold_lock);
	return ret;
}

/* `from`'s pause no longer holds: the vCPUs it stopped here run again. */
static void release(struct cluster *c, struct vm *vm, unsigned int from)
{
	struct pauser *pz = &c->pz;

	pthread_mutex_lock(&pz->hold_lock);
	if (pz->held && pz->holder == from) {
		pz->held = false;
		for (unsigned int i = 0; i < c->cfg.ncpus; i++) {
			if (!pz->paused[i])
				continue;
			pz->paused[i] = false;
			vcpu__resume(&vm->vcpus[i]); /* -ECANCELED: the VM stops anyway */
		}
	}
	pthread_mutex_unlock(&pz->hold_lock);
}

int cluster_pause_for_move(struct cluster *c, struct vm *vm, unsigned int vcpu)
{
	struct pauser *pz = &c->pz;
	int ret;

	pthread_mutex_lock(&pz->hold_lock);
	ret = pz->held ? -EAGAIN : vcpu__pause(&vm->vcpus[vcpu]);
	pthread_mutex_unlock(&pz->hold_lock);
	return ret;
}

int cluster_pause_start_arrived(struct cluster *c, struct vm *vm, unsigned int vcpu)
{
	struct pauser *pz = &c->pz;
	int ret = 0;

	pthread_mutex_lock(&pz->hold_lock);
	if (pz->held)
		pz->paused[vcpu] = true; /* the resume starts it */
	else
		ret = vcpu__resume(&vm->vcpus[vcpu]);
	pthread_mutex_unlock(&pz->hold_lock);
	return ret;
}

static void *worker(void *arg)
{
	struct cluster *c = arg;
	struct pauser *pz = &c->pz;

	pthread_mutex_lock(&pz->lock);
	for (;;) {
		struct cl_msg r = { .type = CL_MSG_PAUSED };
		uint8_t type;
		unsigned int from;

		while (!pz->n && !pz->stop)
			pthread_cond_wait(&pz->cond, &pz->lock);
		if (pz->stop)
			break;
		type = pz->q[pz->head].type;
		from = pz->q[pz->head].from;
		r.pause.seq = pz->q[pz->head].seq;
		pz->head = (pz->head + 1) % PAUSE_QUEUE;
		pz->n--;
		pthread_mutex_unlock(&pz->lock);

		/* The VM outlives this thread: cluster__detach() joins it first. */
		if (type == CL_MSG_PAUSE) {
			r.pause.err = hold(c, c->vmref, from);
			cluster_send(c, from, &r);
		} else {
			release(c, c->vmref, from);
		}
		pthread_mutex_lock(&pz->lock);
	}
	pthread_mutex_unlock(&pz->lock);
	return NULL;
}

int cluster_pause_init(struct cluster *c)
{
	struct pauser *pz = &c->pz;
	int ret;

	pz->paused = calloc(c->cfg.ncpus, sizeof(*pz->paused));
	if (!pz->paused)
		return -ENOMEM;
	pthread_mutex_init(&pz->lock, NULL);
	pthread_cond_init(&pz->cond, NULL);
	pthread_mutex_init(&pz->hold_lock, NULL);
	ret = pthread_create(&pz->thread, NULL, worker, c);
	if (ret)
		return -ret;
	pz->running = true;
	return 0;
}

void cluster_pause_fini(struct cluster *c)
{
	struct pauser *pz = &c->pz;

	if (!pz->running)
		return;
	pthread_mutex_lock(&pz->lock);
	pz->stop = true;
	pthread_cond_broadcast(&pz->cond);
	pthread_mutex_unlock(&pz->lock);
	pthread_join(pz->thread, NULL);
	pz->running = false;
}

void cluster_pause_recv(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	struct pauser *pz = &c->pz;

	pthread_mutex_lock(&pz->lock);
	if (m->type == CL_MSG_PAUSED) {
		if (m->pause.seq == pz->seq && (pz->want & (1ull << peer))) {
			pz->got |= 1ull << peer;
			pz->err = m->pause.err ?: pz->err;
			pthread_cond_broadcast(&pz->cond);
		}
	} else if (pz->n == PAUSE_QUEUE) {
		pr_err("node%u: %s from node%u: %d requests queued already; dropped", c->cfg.node,
		       cl_msg_name(m->type), peer, PAUSE_QUEUE);
	} else {
		unsigned int tail = (pz->head + pz->n) % PAUSE_QUEUE;

		pz->q[tail].type = (uint8_t)m->type;
		pz->q[tail].from = peer;
		pz->q[tail].seq = m->pause.seq;
		pz->n++;
		pthread_cond_broadcast(&pz->cond);
	}
	pthread_mutex_unlock(&pz->lock);
}

static uint64_t others(struct cluster *c)
{
	uint64_t mask;

	pthread_mutex_lock(&c->route_lock);
	mask = c->vm_nodes & ~(1ull << c->cfg.node);
	pthread_mutex_unlock(&c->route_lock);
	return mask;
}

static void broadcast(struct cluster *c, uint64_t nodes, const struct cl_msg *m)
{
	for (unsigned int n = 0; n < c->cfg.nnodes; n++)
		if (nodes & (1ull << n))
			cluster_send(c, n, m);
}

/* One attempt: this node's vCPUs, then every other node's. */
static int pause_round(struct cluster *c, uint64_t deadline_ns)
{
	struct pauser *pz = &c->pz;
	struct cl_msg m = { .type = CL_MSG_PAUSE };
	struct vm *vm = c->vmref;
	struct timespec dl;
	int ret;

	ret = hold(c, vm, c->cfg.node);
	if (ret)
		return ret;
	pthread_mutex_lock(&pz->lock);
	m.pause.seq = ++pz->seq;
	pz->want = others(c);
	pz->got = 0;
	pz->err = 0;
	pthread_mutex_unlock(&pz->lock);
	broadcast(c, pz->want, &m);

	dl = clock_timespec(deadline_ns);
	pthread_mutex_lock(&pz->lock);
	while (!ret && pz->got != pz->want) {
		if (vm__stop_reason(vm) != VM_RUNNING)
			ret = -ECANCELED;
		else if (pthread_cond_timedwait(&pz->cond, &pz->lock, &dl) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	}
	ret = ret ?: pz->err;
	pthread_mutex_unlock(&pz->lock);
	return ret;
}

/* RESUME to every other node, then this node's own vCPUs. */
static void resume_round(struct cluster *c)
{
	struct cl_msg m = { .type = CL_MSG_RESUME, .pause = { .seq = c->pz.seq } };

	broadcast(c, others(c), &m);
	release(c, c->vmref, c->cfg.node);
}

static void end_coordinating(struct cluster *c)
{
	pthread_mutex_lock(&c->pz.lock);
	c->pz.coordinating = false;
	pthread_cond_broadcast(&c->pz.cond);
	pthread_mutex_unlock(&c->pz.lock);
}

int cluster__pause_all(struct cluster *c, unsigned int timeout_ms)
{
	uint64_t deadline = clock_realtime_ns() + timeout_ms * 1000000ull;
	struct timespec dl = clock_timespec(deadline);
	struct pauser *pz = &c->pz;
	int ret = 0;

	/* One pause from this node at a time (a failed hand-over keeps its own). */
	pthread_mutex_lock(&pz->lock);
	while (pz->coordinating && !ret)
		if (pthread_cond_timedwait(&pz->cond, &pz->lock, &dl) == ETIMEDOUT)
			ret = -EBUSY;
	if (!ret)
		pz->coordinating = true;
	pthread_mutex_unlock(&pz->lock);
	if (ret) {
		pr_err("node%u: pausing every vCPU: this node's previous pause still held the "
		       "guest after %u ms",
		       c->cfg.node, timeout_ms);
		return ret;
	}
	while (!ret) {
		ret = pause_round(c, deadline);
		if (!ret)
			return 0; /* coordinating until cluster__resume_all() */
		resume_round(c);
		if (ret != -EBUSY || clock_realtime_ns() >= deadline)
			break;
		poll(NULL, 0, RETRY_MS + 50 * (int)c->cfg.node);
		ret = 0;
	}
	end_coordinating(c);
	if (ret == -EBUSY)
		pr_err("node%u: pausing every vCPU: another node's pause (a hand-over, a "
		       "checksum or a monitor's pause) still held the guest after %u ms",
		       c->cfg.node, timeout_ms);
	else
		pr_err("node%u: pausing every vCPU: %s; resumed them", c->cfg.node, strerror(-ret));
	return ret;
}

void cluster__resume_all(struct cluster *c)
{
	resume_round(c);
	end_coordinating(c);
}

int cluster__pause_still(struct cluster *c, uint64_t *sum, uint64_t *pages)
{
	int ret = cluster__pause_all(c, PAUSE_TIMEOUT_MS);

	if (ret)
		return ret;
	ret = dsm_quiesce(c->dsm, QUIESCE_TIMEOUT_MS);
	if (!ret && sum)
		ret = dsm_checksum(c->dsm, sum, pages);
	if (ret) {
		pr_err("node%u: %s the paused guest: %s; resuming it", c->cfg.node,
		       sum ? "quiescing and checksumming" : "quiescing", strerror(-ret));
		cluster__resume_all(c);
	}
	return ret;
}

int cluster__paused_step(struct cluster *c, const char *what,
			 int (*step)(struct cluster *c, void *arg, bool *moved), void *arg,
			 struct cluster_step_stats *st)
{
	uint64_t t0 = clock_now_ns(), t1;
	bool moved = false;
	int ret;

	ret = cluster__pause_still(c, st->verify ? &st->sum_before : NULL, &st->pages_before);
	if (ret)
		return ret;
	t1 = clock_now_ns();
	ret = step(c, arg, &moved);
	st->step_ns = clock_now_ns() - t1;
	if (ret && moved) {
		pr_err("node%u: %s failed: %s; the guest's memory may be split between nodes: "
		       "stopping the guest",
		       c->cfg.node, what, strerror(-ret));
		vm__request_stop(c->vm, VM_STOP_KVM);
		return ret;
	}
	/* The others heard the step's messages before a checksum's: links are FIFO. */
	if (!ret && st->verify) {
		st->after_err = dsm_checksum(c->dsm, &st->sum_after, &st->pages_after);
		if (st->after_err)
			pr_err("node%u: checksum after %s: %s", c->cfg.node, what,
			       strerror(-st->after_err));
	}
	cluster__resume_all(c);
	st->paused_ns = clock_now_ns() - t0;
	return ret;
}
