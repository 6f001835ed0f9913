// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/hypercall.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/log.h"
#include "dsm/dsm.h"

/* MSI address fields (Intel SDM vol. 3, 11.11.1). */
#define MSI_DEST(addr)	   ((unsigned int)((addr) >> 12) & 0xffu)
#define MSI_DEST_LOGICAL   (1ull << 2)
#define MSI_DEST_BROADCAST 0xffu
#define MSI_DELIVERY(data) (((data) >> 8) & 7u)
#define MSI_DM_LOWEST	   1u
#define CLOCK_SAMPLES	   8
#define REPLY_TIMEOUT_MS   5000
#define STOP_CHECK_MS	   200

static bool has_vcpus(const struct cluster *c, unsigned int node);

bool cluster_is_local(const struct cluster *c, unsigned int vcpu)
{
	return vcpu >= c->cfg.ncpus || c->cpu_node[vcpu] == c->cfg.node;
}

int cluster_send(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	uint8_t buf[CL_MSG_MAX_LEN];
	int len = cl_msg_encode(m, buf), ret;

	if (len < 0)
		return len;
	ret = c->dsm ? dsm_send_app(c->dsm, peer, buf, (unsigned int)len) : -ENOTCONN;
	if (ret) {
		cluster_count(&c->st.send_errors);
		pr_debug("node%u: %s to node%u: %s", c->cfg.node, cl_msg_name(m->type), peer,
			 strerror(-ret));
	}
	return ret;
}

/* Does this node run any vCPU? */
static bool has_vcpus(const struct cluster *c, unsigned int node)
{
	for (unsigned int i = 0; i < c->cfg.ncpus; i++)
		if (c->cpu_node[i] == node)
			return true;
	return false;
}

/* --- interrupts ----------------------------------------------------------- */

static int deliver(struct cluster *c, struct vm *vm, unsigned int node, uint64_t addr,
		   uint32_t data, bool from_peer)
{
	struct cl_msg m = { .type = CL_MSG_MSI, .msi = { .addr = addr, .data = data } };

	if (node == c->cfg.node) {
		cluster_count(&c->st.msi_local);
		return c->local_msi(vm, addr, data);
	}
	cluster_count(from_peer ? &c->st.msi_forwarded : &c->st.msi_sent);
	return cluster_send(c, node, &m);
}

static uint64_t with_dest(uint64_t addr, unsigned int dest)
{
	return (addr & ~(0xffull << 12)) | (uint64_t)dest << 12;
}

/* Under route_lock: physical destination vcpu, wherever it runs or is going. */
static int route_one(struct cluster *c, struct vm *vm, unsigned int vcpu, uint64_t addr,
		     uint32_t data, bool from_peer)
{
	if (vcpu < c->cfg.ncpus && c->arrivals[vcpu].active) {
		cluster_hold_msi(c, vcpu, addr, data);
		return 0;
	}
	return deliver(c, vm, cluster_is_local(c, vcpu) ? c->cfg.node : c->cpu_node[vcpu], addr,
		       data, from_peer);
}

/* Under route_lock: a broadcast. A peer's reached every node with vCPUs by itself. */
static int route_broadcast(struct cluster *c, struct vm *vm, uint64_t addr, uint32_t data,
			   bool from_peer)
{
	int ret = 0;

	for (unsigned int i = 0; i < c->cfg.ncpus; i++)
		if (c->arrivals[i].active)
			cluster_hold_msi(c, i, with_dest(addr, i) & ~MSI_DEST_LOGICAL, data);
	for (unsigned int n = 0; n < c->cfg.nnodes; n++)
		if (n == c->cfg.node || (!from_peer && has_vcpus(c, n)))
			ret = deliver(c, vm, n, addr, data, from_peer) ?: ret;
	return ret;
}

/* Under route_lock: Linux's flat logical mode, vCPU i is bit i; the mask is split by node. */
static int route_logical(struct cluster *c, struct vm *vm, unsigned int dest, uint64_t addr,
			 uint32_t data, bool from_peer)
{
	unsigned int mask[CLUSTER_MAX_NODES] = { 0 };
	int ret = 0;

	for (unsigned int i = 0; i < 8 && i < c->cfg.ncpus; i++) {
		if (!(dest & (1u << i)))
			continue;
		if (c->arrivals[i].active)
			cluster_hold_msi(c, i, with_dest(addr, 1u << i), data);
		else
			mask[c->cpu_node[i]] |= 1u << i;
	}
	for (unsigned int n = 0; n < c->cfg.nnodes; n++)
		if (mask[n])
			ret = deliver(c, vm, n, with_dest(addr, mask[n]), data, from_peer) ?: ret;
	return ret;
}

/*
 * Physical destination: the vCPU with that APIC ID (== vCPU index), or every
 * vCPU for 0xff. Logical destination: Linux's flat mode, where vCPU i's
 * logical ID is bit i (up to 8 vCPUs; more use physical mode); the mask is
 * split by node, and a lowest-priority interrupt goes to the lowest vCPU of
 * the mask only. An MSI from a peer for a vCPU that has moved on is sent on
 * to where it runs now; one for a vCPU on its way here waits for it.
 */
static int route_msi(struct cluster *c, struct vm *vm, uint64_t addr, uint32_t data, bool from_peer)
{
	unsigned int dest = MSI_DEST(addr);
	int ret;

	pthread_mutex_lock(&c->route_lock);
	if (!(addr & MSI_DEST_LOGICAL)) {
		ret = dest == MSI_DEST_BROADCAST ? route_broadcast(c, vm, addr, data, from_peer)
						 : route_one(c, vm, dest, addr, data, from_peer);
	} else {
		if (MSI_DELIVERY(data) == MSI_DM_LOWEST && dest)
			dest &= -dest;
		ret = route_logical(c, vm, dest, addr, data, from_peer);
	}
	pthread_mutex_unlock(&c->route_lock);
	return ret;
}

static int cluster_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	return route_msi(vm->cluster_priv, vm, addr, data, false);
}

void cluster_hold_msi(struct cluster *c, unsigned int vcpu, uint64_t addr, uint32_t data)
{
	struct arrival *a = &c->arrivals[vcpu];

	if (a->nheld == ARRIVAL_HELD_MAX) {
		pr_err("node%u: vCPU %u arriving: more than %d interrupts wait for it; one is lost",
		       c->cfg.node, vcpu, ARRIVAL_HELD_MAX);
		return;
	}
	a->held[a->nheld].addr = addr;
	a->held[a->nheld].data = data;
	a->nheld++;
}

/* A spinlock kick for a vCPU another node runs, or one on its way here. */
static void cluster_kick(struct vm *vm, unsigned int vcpu)
{
	struct cluster *c = vm->cluster_priv;
	struct cl_msg m = { .type = CL_MSG_KICK, .kick = { .vcpu = vcpu } };

	pthread_mutex_lock(&c->route_lock);
	if (c->arrivals[vcpu].active) {
		c->arrivals[vcpu].kick = true;
	} else if (!cluster_is_local(c, vcpu)) {
		cluster_count(&c->st.kicks_sent);
		cluster_send(c, c->cpu_node[vcpu], &m);
	}
	pthread_mutex_unlock(&c->route_lock);
}

static void cluster_eoi(struct vm *vm, unsigned int vector)
{
	struct cluster *c = vm->cluster_priv;
	struct cl_msg m = { .type = CL_MSG_EOI, .eoi = { .vector = vector } };

	if (c->cfg.node == c->cfg.io_node)
		return;
	cluster_count(&c->st.eoi_sent);
	cluster_send(c, c->cfg.io_node, &m);
}

/* --- device accesses ------------------------------------------------------ */

static void deadline_in(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	ts->tv_sec += ms / 1000 + ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

/*
 * Every access waits for the I/O node's answer, writes too, as a real OUT
 * completes before the next instruction: with three nodes or more, a write
 * posted by one node could otherwise reach the device after an access that
 * another node made later under the same guest lock (an IOAPIC index/data
 * pair split). A wait ends early when the VM stops (a failed I/O node stops
 * every node).
 */
static int cluster_io(struct vm *vm, bool mmio, uint64_t addr, uint8_t *data, uint32_t len,
		      bool is_write)
{
	struct cluster *c = vm->cluster_priv;
	struct cl_msg m = {
		.type = CL_MSG_IO,
		.io = { .mmio = mmio, .write = is_write, .len = (uint8_t)len, .addr = addr }
	};
	struct io_wait w = { 0 };
	int ret;

	if (c->cfg.node == c->cfg.io_node)
		return -ENOENT; /* the devices are here, and none claimed it */
	if (!len || len > CL_IO_MAX)
		return -EINVAL;
	if (is_write)
		memcpy(m.io.data, data, len);
	cluster_count(is_write ? &c->st.io_writes : &c->st.io_reads);
	pthread_mutex_lock(&c->lock);
	w.tag = ++c->next_tag; /* matches the answer; wraps harmlessly */
	w.next = c->waits;
	c->waits = &w;
	m.io.tag = w.tag;
	pthread_mutex_unlock(&c->lock);

	ret = cluster_send(c, c->cfg.io_node, &m);
	pthread_mutex_lock(&c->lock);
	while (!ret && !w.done) {
		struct timespec ts;

		if (vm__stop_reason(vm) != VM_RUNNING) {
			ret = -ECANCELED;
			break;
		}
		deadline_in(&ts, STOP_CHECK_MS);
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	for (struct io_wait **p = &c->waits; *p; p = &(*p)->next) {
		if (*p == &w) {
			*p = w.next;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (ret) {
		if (!is_write)
			memset(data, 0, len);
		return ret;
	}
	if (!is_write)
		memcpy(data, w.data, len < w.len ? len : w.len);
	return w.err;
}

/* On the I/O node: one access for another node's vCPU. */
static void serve_io(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	struct vm *vm = c->vm;
	struct cl_msg r = { .type = CL_MSG_IO_DONE,
			    .io_done = { .tag = m->io.tag, .len = m->io.len } };
	uint8_t data[CL_IO_MAX];

	memcpy(data, m->io.data, m->io.len);
	cluster_count(&c->st.io_served);
	pthread_mutex_lock(&vm->dev_lock);
	r.io_done.err = io_bus__access(m->io.mmio ? &vm->mmio : &vm->pio, m->io.addr, data,
				       m->io.len, m->io.write);
	pthread_mutex_unlock(&vm->dev_lock);
	if (!m->io.write)
		memcpy(r.io_done.data, data, m->io.len);
	cluster_send(c, peer, &r);
}

static void io_done(struct cluster *c, const struct cl_msg *m)
{
	pthread_mutex_lock(&c->lock);
	for (struct io_wait *w = c->waits; w; w = w->next) {
		if (w->tag != m->io_done.tag)
			continue;
		w->err = m->io_done.err;
		w->len = m->io_done.len;
		memcpy(w->data, m->io_done.data, m->io_done.len);
		w->done = true;
		pthread_cond_broadcast(&c->cond);
		break;
	}
	pthread_mutex_unlock(&c->lock);
}

/* --- stop ------------------------------------------------------------------ */

/*
 * The first stop on any node stops all. A failure of one node (KVM, a lost
 * peer) is, to the others, the failure of a peer.
 */
static void cluster_stopping(struct vm *vm, enum vm_stop reason)
{
	struct cluster *c = vm->cluster_priv;
	struct cl_msg m = { .type = CL_MSG_STOP, .stop = { .reason = (uint32_t)reason } };

	if (atomic_load(&c->stop_from_peer) || atomic_load(&c->left))
		return;
	if (reason == VM_STOP_KVM)
		m.stop.reason = VM_STOP_PEER;
	for (unsigned int n = 0; n < c->cfg.nnodes; n++)
		if (n != c->cfg.node && (c->vm_nodes & (1ull << n)))
			cluster_send(c, n, &m);
}

static void peer_stopped(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	enum vm_stop reason = (enum vm_stop)m->stop.reason;

	if (reason <= VM_RUNNING || reason > VM_STOP_PEER)
		reason = VM_STOP_PEER;
	if (vm__stop_reason(c->vm) == VM_RUNNING)
		pr_info("node%u: the guest stopped on node%u: %s", c->cfg.node, peer,
			vm_stop__name(reason));
	atomic_store(&c->stop_from_peer, true);
	vm__request_stop(c->vm, reason);
}

/* --- clock ------------------------------------------------------------------ */

static void clock_request(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	struct cl_msg r = { .type = CL_MSG_CLOCK_REPLY, .clock = { .sent = m->clock.sent } };

	if (kvm__get_clock(c->vm, &r.clock.replier))
		return; /* the requester times out and says so */
	cluster_send(c, peer, &r);
}

static void clock_reply(struct cluster *c, const struct cl_msg *m)
{
	pthread_mutex_lock(&c->lock);
	c->clock_reply = *m;
	c->clock_answered = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* One sample: *offset (boot node's clock - ours) and the round trip it took. */
static int clock_sample(struct cluster *c, int64_t *offset, uint64_t *rtt)
{
	struct cl_msg m = { .type = CL_MSG_CLOCK_REQ };
	struct timespec ts;
	uint64_t t1;
	int ret;

	ret = kvm__get_clock(c->vm, &m.clock.sent);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	c->clock_answered = false;
	pthread_mutex_unlock(&c->lock);
	ret = cluster_send(c, c->cfg.boot_node, &m);
	if (ret)
		return ret;
	deadline_in(&ts, REPLY_TIMEOUT_MS);
	pthread_mutex_lock(&c->lock);
	while (!c->clock_answered || c->clock_reply.clock.sent != m.clock.sent)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	ret = c->clock_answered && c->clock_reply.clock.sent == m.clock.sent ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&c->lock);
	if (ret)
		return ret;
	ret = kvm__get_clock(c->vm, &t1);
	if (ret)
		return ret;
	*rtt = t1 - m.clock.sent;
	/* The replier read its clock, on average, half way through the round trip. */
	*offset = (int64_t)(c->clock_reply.clock.replier - (m.clock.sent + *rtt / 2));
	return 0;
}

/*
 * NTP's idea with the best of a few samples: the one with the shortest round
 * trip bounds the error by half of it. Then KVM_SET_CLOCK moves this VM's
 * kvmclock by the offset, before any vCPU has read it.
 */
int cluster__sync_clock(struct cluster *c)
{
	uint64_t best_rtt = UINT64_MAX, now;
	int64_t best = 0;
	int ret;

	if (c->cfg.node == c->cfg.boot_node)
		return 0;
	for (int i = 0; i < CLOCK_SAMPLES; i++) {
		uint64_t rtt;
		int64_t off;

		ret = clock_sample(c, &off, &rtt);
		if (ret) {
			pr_err("node%u: guest clock sample from node%u: %s", c->cfg.node,
			       c->cfg.boot_node, strerror(-ret));
			return ret;
		}
		if (rtt < best_rtt) {
			best_rtt = rtt;
			best = off;
		}
	}
	ret = kvm__get_clock(c->vm, &now);
	if (!ret)
		ret = kvm__set_clock(c->vm, now + (uint64_t)best);
	if (ret) {
		pr_err("node%u: setting the guest clock: %s", c->cfg.node, strerror(-ret));
		return ret;
	}
	pr_info("node%u: guest clock set to node%u's: offset %+lld us, within %llu us", c->cfg.node,
		c->cfg.boot_node, (long long)best / 1000, (unsigned long long)best_rtt / 2000);
	return 0;
}

/* --- receiving ------------------------------------------------------------- */

void cluster__on_msg(void *arg, unsigned int peer, const void *data, unsigned int len)
{
	struct cluster *c = arg;
	const char *why = NULL;
	struct cl_msg m;

	if (cl_msg_decode(data, len, &m, &why)) {
		cluster_count(&c->st.bad_msgs);
		pr_err("node%u: message from node%u: %s", c->cfg.node, peer, why);
		return;
	}
	if (m.type == CL_MSG_IO_DONE) {
		io_done(c, &m);
		return;
	}
	if (m.type == CL_MSG_CLOCK_REPLY) {
		clock_reply(c, &m);
		return;
	}
	if (m.type == CL_MSG_PAUSE || m.type == CL_MSG_PAUSED || m.type == CL_MSG_RESUME) {
		cluster_pause_recv(c, peer, &m);
		return;
	}
	if (m.type == CL_MSG_LEFT) {
		pthread_mutex_lock(&c->route_lock);
		c->vm_nodes &= ~(1ull << peer);
		pthread_mutex_unlock(&c->route_lock);
		pr_info("node%u: node%u left the virtual computer", c->cfg.node, peer);
		return;
	}
	pthread_mutex_lock(&c->vm_lock);
	if (!c->vm) {
		pthread_mutex_unlock(&c->vm_lock);
		return; /* the VM is gone: the guest has stopped here */
	}
	switch (m.type) {
	case CL_MSG_MSI: {
		int ret = route_msi(c, c->vm, m.msi.addr, m.msi.data, true);

		cluster_count(&c->st.msi_received);
		pr_debug("node%u: MSI 0x%llx/0x%x from node%u: %d", c->cfg.node,
			 (unsigned long long)m.msi.addr, m.msi.data, peer, ret);
		break;
	}
	case CL_MSG_KICK:
		cluster_count(&c->st.kicks_received);
		if (m.kick.vcpu < c->cfg.ncpus)
			hypercall__kick(c->vm, m.kick.vcpu); /* sends it on if it moved */
		break;
	case CL_MSG_IO:
		if (c->cfg.node == c->cfg.io_node)
			serve_io(c, peer, &m);
		break;
	case CL_MSG_EOI:
		vm__eoi(c->vm, m.eoi.vector);
		break;
	case CL_MSG_STOP:
		peer_stopped(c, peer, &m);
		break;
	case CL_MSG_CLOCK_REQ:
		clock_request(c, peer, &m);
		break;
	case CL_MSG_VCPU_INCOMING:
		vcpu_move__incoming(c, peer, &m);
		break;
	case CL_MSG_VCPU_STATE:
		vcpu_move__state(c, peer, &m);
		break;
	case CL_MSG_VCPU_MOVED:
		vcpu_move__moved(c, peer, &m);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&c->vm_lock);
}

/* --- life cycle ------------------------------------------------------------- */

static const struct vm_cluster_ops cluster_ops = {
	.kick = cluster_kick,
	.io = cluster_io,
	.eoi = cluster_eoi,
	.stopping = cluster_stopping,
	.command = cluster_command,
};

int cluster__create(const struct cluster_config *cfg, struct vm *vm, struct cluster **out)
{
	pthread_condattr_t attr;
	struct cluster *c;
	int ret;

	if (cfg->ncpus != vm->nr_cpus || cfg->nnodes > CLUSTER_MAX_NODES ||
	    cfg->node >= cfg->nnodes || cfg->io_node >= cfg->nnodes ||
	    cfg->boot_node >= cfg->nnodes)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->ncpus; i++)
		if (cfg->cpu_node[i] >= cfg->nnodes)
			return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cpu_node = calloc(cfg->ncpus, sizeof(*c->cpu_node));
	c->arrivals = calloc(cfg->ncpus, sizeof(*c->arrivals));
	c->departures = calloc(cfg->ncpus, sizeof(*c->departures));
	if (!c->cpu_node || !c->arrivals || !c->departures) {
		cluster__destroy(c);
		return -ENOMEM;
	}
	c->cfg = *cfg;
	memcpy(c->cpu_node, cfg->cpu_node, cfg->ncpus * sizeof(*cfg->cpu_node));
	c->cfg.cpu_node = c->cpu_node;
	for (unsigned int i = 0; i < cfg->ncpus; i++)
		c->vm_nodes |= 1ull << cfg->cpu_node[i];
	c->vm_nodes &= ~cfg->absent;
	c->vm_nodes |= 1ull << cfg->node;
	pthread_mutex_init(&c->vm_lock, NULL);
	pthread_mutex_init(&c->route_lock, NULL);
	pthread_mutex_init(&c->move_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->moved, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->locks_ready = true;
	c->vm = c->vmref = vm;
	c->local_msi = vm->signal_msi;

	ret = cluster_pause_init(c);
	if (ret) {
		cluster__destroy(c);
		return ret;
	}
	vm->signal_msi = cluster_signal_msi;
	vm->cluster = &cluster_ops;
	vm->cluster_priv = c;
	for (unsigned int i = 0; i < vm->nr_cpus; i++)
		vm->vcpus[i].remote = !cluster_is_local(c, i);
	*out = c;
	return 0;
}

void cluster__set_dsm(struct cluster *c, struct dsm *dsm)
{
	c->dsm = dsm;
}

void cluster__node_joined(struct cluster *c, unsigned int node)
{
	if (node >= c->cfg.nnodes)
		return;
	pthread_mutex_lock(&c->route_lock);
	c->vm_nodes |= 1ull << node;
	pthread_mutex_unlock(&c->route_lock);
}

unsigned int cluster__vcpu_node(struct cluster *c, unsigned int vcpu)
{
	unsigned int node;

	if (vcpu >= c->cfg.ncpus)
		return c->cfg.node;
	pthread_mutex_lock(&c->route_lock);
	node = c->cpu_node[vcpu];
	pthread_mutex_unlock(&c->route_lock);
	return node;
}

void cluster__detach(struct cluster *c)
{
	pthread_mutex_lock(&c->vm_lock);
	c->vm = NULL;
	pthread_mutex_unlock(&c->vm_lock);
	cluster_pause_fini(c);
	vcpu_move__join(c);
}

void cluster__print_stats(struct cluster *c, FILE *f)
{
	struct cluster_stats *s = &c->st;

	fprintf(f,
		"cluster node%u interrupts local=%llu sent=%llu received=%llu forwarded=%llu "
		"kicks sent=%llu received=%llu\n",
		c->cfg.node, (unsigned long long)s->msi_local, (unsigned long long)s->msi_sent,
		(unsigned long long)s->msi_received, (unsigned long long)s->msi_forwarded,
		(unsigned long long)s->kicks_sent, (unsigned long long)s->kicks_received);
	fprintf(f, "cluster node%u vcpus moved out=%llu in=%llu\n", c->cfg.node,
		(unsigned long long)s->vcpus_out, (unsigned long long)s->vcpus_in);
	fprintf(f,
		"cluster node%u io forwarded reads=%llu writes=%llu served=%llu eoi=%llu "
		"send_errors=%llu bad_messages=%llu\n",
		c->cfg.node, (unsigned long long)s->io_reads, (unsigned long long)s->io_writes,
		(unsigned long long)s->io_served, (unsigned long long)s->eoi_sent,
		(unsigned long long)s->send_errors, (unsigned long long)s->bad_msgs);
}

void cluster__destroy(struct cluster *c)
{
	if (!c)
		return;
	cluster_pause_fini(c);
	if (c->pz.paused) { /* cluster_pause_init() got as far as its locks */
		pthread_cond_destroy(&c->pz.cond);
		pthread_mutex_destroy(&c->pz.lock);
		pthread_mutex_destroy(&c->pz.hold_lock);
		free(c->pz.paused);
	}
	if (c->locks_ready) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->moved);
		pthread_mutex_destroy(&c->move_lock);
		pthread_mutex_destroy(&c->route_lock);
		pthread_mutex_destroy(&c->vm_lock);
	}
	for (unsigned int i = 0; c->arrivals && i < c->cfg.ncpus; i++)
		free(c->arrivals[i].buf);
	free(c->arrivals);
	free(c->departures);
	free(c->cpu_node);
	free(c);
}
