// SPDX-License-Identifier: GPL-2.0
/*
 * Moving a running vCPU to another node of the virtual computer (DESIGN.md
 * §3.10). Every node's KVM holds every vCPU (cvmm/cluster.h), so a move is a
 * save on the old node and a restore into the new node's stand-in, with the
 * vCPU's interrupts kept on the way.
 *
 * The old node S, asked to move vCPU v to node T:
 *   1. pauses v: its thread completes the last exit's instruction and ends;
 *   2. sends VCPU_INCOMING: from then on T holds whatever comes for v;
 *   3. makes T v's node (under route_lock): S now sends on to T whatever
 *      comes for v, after the state, as links are FIFO;
 *   4. saves v's state (cvmm/x86/vcpu_state.h) and sends it in VCPU_STATE
 *      pieces;
 *   5. waits for T's VCPU_MOVED.
 * T, once the last piece is in, on a thread of its own (a restore may touch
 * guest memory, whose faults the DSM thread serves): restores the state into
 * its stand-in, makes itself v's node, delivers the interrupts it held,
 * starts v's thread and sends VCPU_MOVED to every node with a VM. A node
 * that hears VCPU_MOVED sends what is for v to T; what it sent to S before,
 * S sent on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/lib/clock.h"
#include "cvmm/hypercall.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/log.h"
#include "cvmm/x86/vcpu_state.h"

#define MOVE_TIMEOUT_MS 10000
#define STOP_CHECK_MS	200
#define STATE_MAX	(64u << 10) /* far above any x86 vCPU's state */

/* --- the old node ---------------------------------------------------------- */

/* Reads v's state into a new buffer; *len its bytes. */
static int save_state(struct vm *vm, struct vcpu *v, uint8_t **buf, size_t *len)
{
	uint32_t msrs[VCPU_STATE_MAX_MSRS];
	struct vcpu_state *st = calloc(1, sizeof(*st));
	long n;
	int ret;

	if (!st)
		return -ENOMEM;
	ret = vcpu_state__msr_list(vm->kvm_fd, v->fd, msrs, VCPU_STATE_MAX_MSRS);
	if (ret >= 0)
		ret = vcpu_state__save(v->fd, msrs, (uint32_t)ret, st);
	if (ret)
		goto out;
	*len = vcpu_state__size(st);
	*buf = malloc(*len);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	n = vcpu_state__serialize(st, *buf, *len);
	if (n < 0) {
		free(*buf);
		ret = (int)n;
	}
	*len = (size_t)n;
out:
	free(st);
	return ret;
}

static int send_state(struct cluster *c, unsigned int vcpu, unsigned int to, const uint8_t *buf,
		      size_t len)
{
	struct cl_msg m = { .type = CL_MSG_VCPU_STATE,
			    .state = { .vcpu = vcpu, .total = (uint32_t)len } };

	for (size_t off = 0; off < len; off += CL_STATE_CHUNK) {
		size_t n = len - off < CL_STATE_CHUNK ? len - off : CL_STATE_CHUNK;
		int ret;

		m.state.offset = (uint32_t)off;
		m.state.len = (uint16_t)n;
		memcpy(m.state.data, buf + off, n);
		ret = cluster_send(c, to, &m);
		if (ret)
			return ret;
	}
	return 0;
}

/* Until the new node says v runs there; a stop of the VM (the new node failed) ends it. */
static int wait_moved(struct cluster *c, struct vm *vm, unsigned int vcpu, uint32_t *restore_us)
{
	struct departure *d = &c->departures[vcpu];
	uint64_t deadline = clock_now_ns() + MOVE_TIMEOUT_MS * 1000000ull;
	int ret = 0;

	pthread_mutex_lock(&c->route_lock);
	while (!d->arrived && !ret) {
		uint64_t t = clock_now_ns() + STOP_CHECK_MS * 1000000ull;
		struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u),
				       .tv_nsec = (long)(t % 1000000000u) };

		pthread_cond_timedwait(&c->moved, &c->route_lock, &ts);
		if (vm__stop_reason(vm) != VM_RUNNING)
			ret = -ECANCELED;
		else if (clock_now_ns() >= deadline)
			ret = -ETIMEDOUT;
	}
	if (d->arrived)
		ret = 0;
	*restore_us = d->restore_us;
	d->waiting = false;
	pthread_mutex_unlock(&c->route_lock);
	return ret;
}

/* Steps 2-5, once v is paused. Any failure after step 3 stops the VM. */
static int send_away(struct cluster *c, struct vm *vm, unsigned int vcpu, unsigned int to,
		     uint32_t *restore_us)
{
	struct cl_msg m = { .type = CL_MSG_VCPU_INCOMING, .incoming = { .vcpu = vcpu } };
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = cluster_send(c, to, &m);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->route_lock);
	c->cpu_node[vcpu] = to;
	vm->vcpus[vcpu].remote = true;
	c->departures[vcpu] = (struct departure){ .waiting = true };
	pthread_mutex_unlock(&c->route_lock);

	ret = save_state(vm, &vm->vcpus[vcpu], &buf, &len);
	if (!ret)
		ret = send_state(c, vcpu, to, buf, len);
	free(buf);
	if (!ret)
		ret = wait_moved(c, vm, vcpu, restore_us);
	return ret;
}

int cluster__move_vcpu(struct cluster *c, unsigned int vcpu, unsigned int to, uint64_t *downtime_ns)
{
	struct vm *vm = c->vm;
	uint32_t restore_us = 0;
	uint64_t t0;
	int ret;

	if (!vm || vcpu >= c->cfg.ncpus || to >= c->cfg.nnodes || to == c->cfg.node)
		return -EINVAL;
	if (!(c->vm_nodes & (1ull << to)))
		return -EHOSTUNREACH; /* a node without a VM cannot run it */
	if (pthread_mutex_trylock(&c->move_lock))
		return -EBUSY;
	if (cluster__vcpu_node(c, vcpu) != c->cfg.node) {
		ret = -EINVAL;
		goto out;
	}
	t0 = clock_now_ns();
	ret = cluster_pause_for_move(c, vm, vcpu);
	if (ret)
		goto out;
	ret = send_away(c, vm, vcpu, to, &restore_us);
	*downtime_ns = clock_now_ns() - t0;
	if (ret) {
		pr_err("node%u: moving vCPU %u to node%u: %s; stopping the guest", c->cfg.node,
		       vcpu, to, strerror(-ret));
		vm__request_stop(vm, VM_STOP_PEER);
		goto out;
	}
	cluster_count(&c->st.vcpus_out);
	pr_info("node%u: vCPU %u moved to node%u: paused for %llu us (restore %u us)", c->cfg.node,
		vcpu, to, (unsigned long long)*downtime_ns / 1000, restore_us);
out:
	pthread_mutex_unlock(&c->move_lock);
	return ret;
}

/* --- the new node ----------------------------------------------------------- */

struct arrival_job {
	struct cluster *c;
	struct vm *vm;
	unsigned int vcpu;
};

static int restore_state(struct vm *vm, unsigned int vcpu, const uint8_t *buf, size_t len)
{
	struct vcpu_state *st = calloc(1, sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	ret = vcpu_state__deserialize(buf, len, st);
	if (!ret)
		ret = vcpu_state__restore(vm->vcpus[vcpu].fd, st);
	free(st);
	return ret;
}

/* The vCPU is here now: what came for it meanwhile goes in, in order. */
static bool take_over(struct cluster *c, struct vm *vm, unsigned int vcpu)
{
	struct arrival *a = &c->arrivals[vcpu];
	bool kick;

	pthread_mutex_lock(&c->route_lock);
	c->cpu_node[vcpu] = c->cfg.node;
	vm->vcpus[vcpu].remote = false;
	for (unsigned int i = 0; i < a->nheld; i++)
		c->local_msi(vm, a->held[i].addr, a->held[i].data);
	a->nheld = 0;
	kick = a->kick;
	a->kick = false;
	a->active = false;
	pthread_mutex_unlock(&c->route_lock);
	return kick;
}

static void *arrival_thread(void *arg)
{
	struct arrival_job *j = arg;
	struct cluster *c = j->c;
	struct arrival *a = &c->arrivals[j->vcpu];
	struct cl_msg m = { .type = CL_MSG_VCPU_MOVED,
			    .moved = { .vcpu = j->vcpu, .node = c->cfg.node } };
	uint64_t t0 = clock_now_ns();
	int ret;

	ret = restore_state(j->vm, j->vcpu, a->buf, a->total);
	if (ret) {
		pr_err("node%u: vCPU %u from node%u: restoring its state: %s", c->cfg.node, j->vcpu,
		       a->from, strerror(-ret));
		vm__request_stop(j->vm, VM_STOP_KVM);
		goto out;
	}
	if (take_over(c, j->vm, j->vcpu))
		hypercall__kick(j->vm, j->vcpu);
	ret = cluster_pause_start_arrived(c, j->vm, j->vcpu);
	if (ret)
		goto out; /* the VM is stopping */
	m.moved.restore_us = (uint32_t)((clock_now_ns() - t0) / 1000);
	cluster_count(&c->st.vcpus_in);
	for (unsigned int n = 0; n < c->cfg.nnodes; n++)
		if (n != c->cfg.node && (c->vm_nodes & (1ull << n)))
			cluster_send(c, n, &m);
	pr_info("node%u: vCPU %u runs here now, from node%u (restore %u us)", c->cfg.node, j->vcpu,
		a->from, m.moved.restore_us);
out:
	free(j);
	return NULL;
}

void vcpu_move__incoming(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	struct arrival *a;

	if (m->incoming.vcpu >= c->cfg.ncpus) {
		pr_err("node%u: vCPU %u from node%u: no such vCPU", c->cfg.node, m->incoming.vcpu,
		       peer);
		return;
	}
	a = &c->arrivals[m->incoming.vcpu];
	if (a->thread_live) { /* the vCPU's previous arrival here: long over */
		pthread_join(a->thread, NULL);
		a->thread_live = false;
	}
	pthread_mutex_lock(&c->route_lock);
	free(a->buf);
	*a = (struct arrival){ .active = true, .from = peer };
	pthread_mutex_unlock(&c->route_lock);
}

static void start_arrival(struct cluster *c, unsigned int vcpu)
{
	struct arrival *a = &c->arrivals[vcpu];
	struct arrival_job *j = malloc(sizeof(*j));
	int ret = j ? 0 : ENOMEM;

	if (j) {
		*j = (struct arrival_job){ .c = c, .vm = c->vm, .vcpu = vcpu };
		ret = pthread_create(&a->thread, NULL, arrival_thread, j);
	}
	if (ret) {
		pr_err("node%u: vCPU %u: thread to restore it: %s", c->cfg.node, vcpu,
		       strerror(ret));
		free(j);
		vm__request_stop(c->vm, VM_STOP_KVM);
		return;
	}
	a->thread_live = true;
}

void vcpu_move__state(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	unsigned int v = m->state.vcpu;
	struct arrival *a = v < c->cfg.ncpus ? &c->arrivals[v] : NULL;
	const char *bad = NULL;

	if (!a || !a->active || a->from != peer)
		bad = "no VCPU_INCOMING for it from that node";
	else if (m->state.total > STATE_MAX || (a->buf && m->state.total != a->total))
		bad = "state size out of range or changed";
	else if (m->state.offset != a->have)
		bad = "state piece out of order";
	if (bad) {
		pr_err("node%u: vCPU %u state from node%u: %s", c->cfg.node, v, peer, bad);
		vm__request_stop(c->vm, VM_STOP_KVM);
		return;
	}
	if (!a->buf) {
		a->buf = malloc(m->state.total);
		a->total = m->state.total;
		if (!a->buf) {
			vm__request_stop(c->vm, VM_STOP_KVM);
			return;
		}
	}
	memcpy(a->buf + a->have, m->state.data, m->state.len);
	a->have += m->state.len;
	if (a->have == a->total)
		start_arrival(c, v);
}

void vcpu_move__moved(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	unsigned int v = m->moved.vcpu;

	if (v >= c->cfg.ncpus || m->moved.node != peer) {
		pr_err("node%u: VCPU_MOVED from node%u for vCPU %u to node%u: malformed",
		       c->cfg.node, peer, v, m->moved.node);
		return;
	}
	pthread_mutex_lock(&c->route_lock);
	c->cpu_node[v] = peer;
	c->vm_nodes |= 1ull << peer;
	if (c->departures[v].waiting) {
		c->departures[v].arrived = true;
		c->departures[v].restore_us = m->moved.restore_us;
		pthread_cond_broadcast(&c->moved);
	}
	pthread_mutex_unlock(&c->route_lock);
}

void vcpu_move__join(struct cluster *c)
{
	for (unsigned int i = 0; i < c->cfg.ncpus; i++) {
		if (!c->arrivals[i].thread_live)
			continue;
		pthread_join(c->arrivals[i].thread, NULL);
		c->arrivals[i].thread_live = false;
	}
}
