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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/log.h"

#define CHECK_MS 200

/* Pauses this node's running vCPUs; remembers which. 0 or the first -errno. */
static int pause_local(struct cluster *c, struct vm *vm)
{
	int ret = 0;

	for (unsigned int i = 0; i < c->cfg.ncpus; i++) {
		if (!vm->vcpus[i].started || c->pz.paused[i])
			continue;
		ret = vcpu__pause(&vm->vcpus[i]) ?: ret;
		c->pz.paused[i] = true;
	}
	return ret;
}

static void resume_local(struct cluster *c, struct vm *vm)
{
	for (unsigned int i = 0; i < c->cfg.ncpus; i++) {
		if (!c->pz.paused[i])
			continue;
		c->pz.paused[i] = false;
		vcpu__resume(&vm->vcpus[i]); /* -ECANCELED: the VM stops anyway */
	}
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
			r.pause.err = pause_local(c, c->vmref);
			cluster_send(c, from, &r);
		} else {
			resume_local(c, c->vmref);
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

int cluster__pause_all(struct cluster *c, unsigned int timeout_ms)
{
	struct pauser *pz = &c->pz;
	struct cl_msg m = { .type = CL_MSG_PAUSE };
	struct vm *vm = c->vmref;
	struct timespec dl;
	int ret;

	ret = pause_local(c, vm);
	pthread_mutex_lock(&pz->lock);
	m.pause.seq = ++pz->seq;
	pz->want = others(c);
	pz->got = 0;
	pz->err = 0;
	pthread_mutex_unlock(&pz->lock);
	broadcast(c, pz->want, &m);

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	pthread_mutex_lock(&pz->lock);
	while (!ret && pz->got != pz->want) {
		if (vm__stop_reason(vm) != VM_RUNNING)
			ret = -ECANCELED;
		else if (pthread_cond_timedwait(&pz->cond, &pz->lock, &dl) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	}
	ret = ret ?: pz->err;
	pthread_mutex_unlock(&pz->lock);
	if (ret) {
		pr_err("node%u: pausing every vCPU: %s; resuming them", c->cfg.node,
		       strerror(-ret));
		cluster__resume_all(c);
	}
	return ret;
}

void cluster__resume_all(struct cluster *c)
{
	struct cl_msg m = { .type = CL_MSG_RESUME, .pause = { .seq = c->pz.seq } };

	broadcast(c, others(c), &m);
	resume_local(c, c->vmref);
}
