// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvmm/cluster-msg.h"
#include "cvmm/cluster.h"
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
	_Atomic uint64_t msi_local, msi_sent, msi_received;
	_Atomic uint64_t kicks_sent, kicks_received;
	_Atomic uint64_t io_reads, io_writes, io_served;
	_Atomic uint64_t eoi_sent, send_errors, bad_msgs;
};

struct cluster {
	struct cluster_config cfg;
	unsigned int *cpu_node; /* vCPU -> node */
	struct dsm *dsm;
	int (*local_msi)(struct vm *vm, uint64_t addr, uint32_t data);

	/* Held by handlers while they use the VM; cluster__detach() clears vm. */
	pthread_mutex_t vm_lock;
	struct vm *vm;

	/* Forwarded reads and clock samples waiting for their answer. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct io_wait *waits;
	uint32_t next_tag;
	bool clock_answered;
	struct cl_msg clock_reply;

	_Atomic bool stop_from_peer; /* the stop being handled came from a peer */
	struct cluster_stats st;
};

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static bool is_local(const struct cluster *c, unsigned int vcpu)
{
	return vcpu >= c->cfg.ncpus || c->cpu_node[vcpu] == c->cfg.node;
}

static int send_msg(struct cluster *c, unsigned int peer, const struct cl_msg *m)
{
	uint8_t buf[CL_MSG_MAX_LEN];
	int len = cl_msg_encode(m, buf), ret;

	if (len < 0)
		return len;
	ret = c->dsm ? dsm_send_app(c->dsm, peer, buf, (unsigned int)len) : -ENOTCONN;
	if (ret) {
		count(&c->st.send_errors);
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
		   uint32_t data)
{
	struct cl_msg m = { .type = CL_MSG_MSI, .msi = { .addr = addr, .data = data } };

	if (node == c->cfg.node) {
		count(&c->st.msi_local);
		return c->local_msi(vm, addr, data);
	}
	count(&c->st.msi_sent);
	return send_msg(c, node, &m);
}

/*
 * Physical destination: the vCPU with that APIC ID (== vCPU index), or every
 * vCPU for 0xff. Logical destination: Linux's flat mode, where vCPU i's
 * logical ID is bit i (up to 8 vCPUs; more use physical mode); the mask is
 * split by node, and a lowest-priority interrupt goes to the lowest vCPU of
 * the mask only.
 */
static int cluster_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct cluster *c = vm->cluster_priv;
	unsigned int dest = MSI_DEST(addr);
	int ret = 0;

	if (!(addr & MSI_DEST_LOGICAL)) {
		if (dest != MSI_DEST_BROADCAST)
			return deliver(c, vm, is_local(c, dest) ? c->cfg.node : c->cpu_node[dest],
				       addr, data);
		for (unsigned int n = 0; n < c->cfg.nnodes; n++)
			if (n == c->cfg.node || has_vcpus(c, n))
				ret = deliver(c, vm, n, addr, data) ?: ret;
		return ret;
	}
	if (MSI_DELIVERY(data) == MSI_DM_LOWEST && dest)
		dest &= -dest;
	for (unsigned int n = 0; n < c->cfg.nnodes; n++) {
		unsigned int mask = 0;

		for (unsigned int i = 0; i < 8 && i < c->cfg.ncpus; i++)
			if ((dest & (1u << i)) && c->cpu_node[i] == n)
				mask |= 1u << i;
		if (mask)
			ret = deliver(c, vm, n, (addr & ~(0xffull << 12)) | (uint64_t)mask << 12,
				      data)
				      ?: ret;
	}
	return ret;
}

static void cluster_kick(struct vm *vm, unsigned int vcpu)
{
	struct cluster *c = vm->cluster_priv;
	struct cl_msg m = { .type = CL_MSG_KICK, .kick = { .vcpu = vcpu } };

	if (is_local(c, vcpu))
		return;
	count(&c->st.kicks_sent);
	send_msg(c, c->cpu_node[vcpu], &m);
}

static void cluster_eoi(struct vm *vm, unsigned int vector)
{
	struct cluster *c = vm->cluster_priv;
	struct cl_msg m = { .type = CL_MSG_EOI, .eoi = { .vector = vector } };

	if (c->cfg.node == c->cfg.io_node)
		return;
	count(&c->st.eoi_sent);
	send_msg(c, c->cfg.io_node, &m);
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
	count(is_write ? &c->st.io_writes : &c->st.io_reads);
	pthread_mutex_lock(&c->lock);
	w.tag = ++c->next_tag; /* matches the answer; wraps harmlessly */
	w.next = c->waits;
	c->waits = &w;
	m.io.tag = w.tag;
	pthread_mutex_unlock(&c->lock);

	ret = send_msg(c, c->cfg.io_node, &m);
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
	count(&c->st.io_served);
	pthread_mutex_lock(&vm->dev_lock);
	r.io_done.err = io_bus__access(m->io.mmio ? &vm->mmio : &vm->pio, m->io.addr, data,
				       m->io.len, m->io.write);
	pthread_mutex_unlock(&vm->dev_lock);
	if (!m->io.write)
		memcpy(r.io_done.data, data, m->io.len);
	send_msg(c, peer, &r);
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

	if (atomic_load(&c->stop_from_peer))
		return;
	if (reason == VM_STOP_KVM)
		m.stop.reason = VM_STOP_PEER;
	for (unsigned int n = 0; n < c->cfg.nnodes; n++)
		if (n != c->cfg.node && has_vcpus(c, n))
			send_msg(c, n, &m);
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
	send_msg(c, peer, &r);
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
	ret = send_msg(c, c->cfg.boot_node, &m);
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
		count(&c->st.bad_msgs);
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
	pthread_mutex_lock(&c->vm_lock);
	if (!c->vm) {
		pthread_mutex_unlock(&c->vm_lock);
		return; /* the VM is gone: the guest has stopped here */
	}
	switch (m.type) {
	case CL_MSG_MSI: {
		int ret = c->local_msi(c->vm, m.msi.addr, m.msi.data);

		count(&c->st.msi_received);
		pr_debug("node%u: MSI 0x%llx/0x%x from node%u: %d", c->cfg.node,
			 (unsigned long long)m.msi.addr, m.msi.data, peer, ret);
		break;
	}
	case CL_MSG_KICK:
		count(&c->st.kicks_received);
		if (m.kick.vcpu < c->cfg.ncpus && is_local(c, m.kick.vcpu))
			hypercall__kick(c->vm, m.kick.vcpu);
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
};

int cluster__create(const struct cluster_config *cfg, struct vm *vm, struct cluster **out)
{
	struct cluster *c;

	if (cfg->ncpus != vm->nr_cpus || cfg->node >= cfg->nnodes || cfg->io_node >= cfg->nnodes ||
	    cfg->boot_node >= cfg->nnodes)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->ncpus; i++)
		if (cfg->cpu_node[i] >= cfg->nnodes)
			return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cpu_node = calloc(cfg->ncpus, sizeof(*c->cpu_node));
	if (!c->cpu_node) {
		free(c);
		return -ENOMEM;
	}
	c->cfg = *cfg;
	memcpy(c->cpu_node, cfg->cpu_node, cfg->ncpus * sizeof(*cfg->cpu_node));
	c->cfg.cpu_node = c->cpu_node;
	pthread_mutex_init(&c->vm_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->vm = vm;
	c->local_msi = vm->signal_msi;

	vm->signal_msi = cluster_signal_msi;
	vm->cluster = &cluster_ops;
	vm->cluster_priv = c;
	for (unsigned int i = 0; i < vm->nr_cpus; i++)
		vm->vcpus[i].remote = !is_local(c, i);
	*out = c;
	return 0;
}

void cluster__set_dsm(struct cluster *c, struct dsm *dsm)
{
	c->dsm = dsm;
}

void cluster__detach(struct cluster *c)
{
	pthread_mutex_lock(&c->vm_lock);
	c->vm = NULL;
	pthread_mutex_unlock(&c->vm_lock);
}

void cluster__print_stats(struct cluster *c, FILE *f)
{
	struct cluster_stats *s = &c->st;

	fprintf(f,
		"cluster node%u interrupts local=%llu sent=%llu received=%llu kicks sent=%llu "
		"received=%llu\n",
		c->cfg.node, (unsigned long long)s->msi_local, (unsigned long long)s->msi_sent,
		(unsigned long long)s->msi_received, (unsigned long long)s->kicks_sent,
		(unsigned long long)s->kicks_received);
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
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->vm_lock);
	free(c->cpu_node);
	free(c);
}
