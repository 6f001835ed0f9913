// SPDX-License-Identifier: GPL-2.0
/*
 * The hypercall table and its handlers (docs/abi.md). Every handler runs on
 * the calling vCPU's thread, outside dev_lock: SPIN_WAIT blocks, and the
 * others only send MSIs or touch their own state.
 *
 * Interrupts go out through vm->signal_msi, the one place where the
 * multi-node monitor will decide whether a vCPU is local or remote
 * (DESIGN.md §3.8). That includes CPU start-up: an INIT and a STARTUP MSI,
 * which KVM's LAPIC accepts like the guest's own INIT/SIPI IPIs, so a vCPU
 * thread waits in KVM for its start like on real hardware and cvmm needs no
 * register state of its own for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvmm/hypercall.h"
#include "cvmm/lib/le.h"
#include "cvmm/lib/log.h"
#include "cvmm/vm.h"

/* MSI address and data for one physical APIC ID (Intel SDM vol. 3, 11.11). */
#define MSI_ADDR_BASE	 0xfee00000ull
#define MSI_DM_FIXED	 0u
#define MSI_DM_NMI	 4u
#define MSI_DM_INIT	 5u
#define MSI_DM_STARTUP	 6u
#define MSI_LEVEL_ASSERT (1u << 14)
#define ICR_VECTOR(icr)	 ((icr)&0xffu)
#define ICR_MODE(icr)	 (((icr) >> 8) & 7u)
#define START_ADDR_LIMIT 0x100000u

static uint64_t msi_addr(unsigned int apic_id)
{
	return MSI_ADDR_BASE | ((uint64_t)apic_id << 12);
}

static int send_msi(struct vm *vm, unsigned int apic_id, uint32_t data)
{
	return vm->signal_msi(vm, msi_addr(apic_id), data);
}

/*
 * HC_SEND_IPI: the same shape as KVM's PV IPI (a 64-bit bitmap of APIC IDs
 * from min on), so a guest sends to up to 64 vCPUs with one exit. Fixed and
 * NMI delivery only: INIT and STARTUP are HC_CPU_START's. Every target is
 * checked before anything is sent, so a bad call sends nothing.
 */
static int64_t hc_send_ipi(struct vm *vm, unsigned int vcpu, const uint64_t *a)
{
	uint64_t bitmap = (uint32_t)a[0] | (uint64_t)(uint32_t)a[1] << 32;
	uint64_t min = a[2];
	uint32_t icr = (uint32_t)a[3], data;
	int64_t sent = 0;

	if (ICR_MODE(icr) == MSI_DM_FIXED && ICR_VECTOR(icr) >= 32)
		data = ICR_VECTOR(icr);
	else if (ICR_MODE(icr) == MSI_DM_NMI)
		data = MSI_DM_NMI << 8;
	else
		return -EINVAL;
	if (!bitmap)
		return 0;
	if (min >= vm->nr_cpus || (uint64_t)(63 - __builtin_clzll(bitmap)) >= vm->nr_cpus - min)
		return -EINVAL;
	for (unsigned int bit = 0; bit < 64; bit++) {
		unsigned int target = (unsigned int)min + bit;
		int ret;

		if (!(bitmap & (1ull << bit)))
			continue;
		ret = send_msi(vm, target, data);
		if (ret)
			return ret;
		/* A spinlock waiter blocked in cvmm would not see the interrupt. */
		hypercall__kick(vm, target);
		sent++;
	}
	return sent;
}

/*
 * HC_CPU_START: INIT, then STARTUP at the page of the start address, the
 * real-mode trampoline of the guest. Restarting a vCPU the guest took
 * offline works the same way: INIT resets it.
 */
static int64_t hc_cpu_start(struct vm *vm, unsigned int vcpu, const uint64_t *a)
{
	uint64_t target = a[0], start = a[1];
	int ret;

	if (target >= vm->nr_cpus || target == vcpu)
		return -EINVAL;
	if (start & 0xfff || start >= START_ADDR_LIMIT)
		return -EINVAL;
	ret = send_msi(vm, (unsigned int)target, MSI_DM_INIT << 8 | MSI_LEVEL_ASSERT);
	if (ret)
		return ret;
	return send_msi(vm, (unsigned int)target, MSI_DM_STARTUP << 8 | (uint32_t)(start >> 12));
}

/*
 * HC_SPIN_WAIT: the paravirtual qspinlock's wait. Returns 0 when kicked (or
 * woken by an IPI), 1 on the timeout; the guest rechecks its lock either way.
 */
static int64_t hc_spin_wait(struct vm *vm, unsigned int vcpu, const uint64_t *a)
{
	struct hc_vcpu *w = &vm->hc->vcpus[vcpu];
	struct timespec until;
	int64_t ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)vm->hc->wait_us * 1000;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;

	pthread_mutex_lock(&w->lock);
	while (!w->kicked) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT) {
			ret = 1;
			break;
		}
	}
	w->kicked = false;
	pthread_mutex_unlock(&w->lock);
	atomic_fetch_add(ret ? &vm->hc->wait_timeout : &vm->hc->wait_kicked, 1);
	return ret;
}

/* HC_SPIN_KICK: hypercall__kick() finds the node that runs the vCPU. */
static int64_t hc_spin_kick(struct vm *vm, unsigned int vcpu, const uint64_t *a)
{
	if (a[0] >= vm->nr_cpus)
		return -EINVAL;
	hypercall__kick(vm, (unsigned int)a[0]);
	return 0;
}

/*
 * HC_MSG_SETUP: the guest's message page (one page of RAM, by page frame
 * number so that 32 bits reach any RAM) and vector.
 */
static int64_t hc_msg_setup(struct vm *vm, unsigned int vcpu, const uint64_t *a)
{
	struct hypercalls *hc = vm->hc;
	uint64_t gpa = a[0] * HC_MSG_PAGE, vector = a[1];

	if (!guest_mem__ptr(&vm->mem, gpa, HC_MSG_PAGE))
		return -EINVAL;
	if (vector < 32 || vector > 255)
		return -EINVAL;
	pthread_mutex_lock(&hc->msg_lock);
	hc->msg_gpa = gpa;
	hc->msg_vector = (uint8_t)vector;
	hc->msg_ready = true;
	pthread_mutex_unlock(&hc->msg_lock);
	pr_debug("vCPU %u: message page at 0x%llx, vector 0x%x", vcpu, (unsigned long long)gpa,
		 (unsigned int)vector);
	return 0;
}

/* HC_MSG_ACK: the second phase of a hotplug change (DESIGN.md §3.10). */
static int64_t hc_msg_ack(struct vm *vm, unsigned int vcpu, const uint64_t *a)
{
	struct hypercalls *hc = vm->hc;
	int64_t ret = 0;

	pthread_mutex_lock(&hc->msg_lock);
	if (!hc->msg_ready || (uint32_t)a[0] != hc->msg_seq || hc->msg_acked == hc->msg_seq) {
		ret = -EINVAL;
	} else {
		hc->msg_acked = hc->msg_seq;
		hc->msg_status = (int32_t)a[1];
		pr_info("guest acknowledged message %u: status %d", hc->msg_seq, hc->msg_status);
	}
	pthread_mutex_unlock(&hc->msg_lock);
	return ret;
}

/*
 * The table. A handler returns what the guest finds in EAX: >= 0 for
 * success, -errno for an error. A NULL entry or a number past the end is
 * the one "unexpected" path: -ENOSYS, counted, and the guest continues.
 */
typedef int64_t (*hc_fn)(struct vm *vm, unsigned int vcpu, const uint64_t *args);

static const struct {
	const char *name;
	hc_fn fn;
} hypercalls[HC_NR] = {
	[HC_SEND_IPI] = { "send_ipi", hc_send_ipi },
	[HC_CPU_START] = { "cpu_start", hc_cpu_start },
	[HC_SPIN_WAIT] = { "spin_wait", hc_spin_wait },
	[HC_SPIN_KICK] = { "spin_kick", hc_spin_kick },
	[HC_MSG_SETUP] = { "msg_setup", hc_msg_setup },
	[HC_MSG_ACK] = { "msg_ack", hc_msg_ack },
};

const char *hypercall__name(uint32_t nr)
{
	if (nr >= HC_NR || !hypercalls[nr].name)
		return "unknown";
	return hypercalls[nr].name;
}

int64_t hypercall__dispatch(struct vm *vm, unsigned int vcpu, uint32_t nr,
			    const uint64_t args[HC_NR_ARGS])
{
	int64_t ret;

	if (nr >= HC_NR || !hypercalls[nr].fn || vcpu >= vm->hc->nr_vcpus) {
		atomic_fetch_add(&vm->hc->unknown, 1);
		pr_debug("vCPU %u: unknown hypercall %u", vcpu, nr);
		return -ENOSYS;
	}
	atomic_fetch_add(&vm->hc->calls[nr], 1);
	ret = hypercalls[nr].fn(vm, vcpu, args);
	if (ret < 0) {
		atomic_fetch_add(&vm->hc->failed[nr], 1);
		pr_debug("vCPU %u: hypercall %s: %s", vcpu, hypercalls[nr].name,
			 strerror((int)-ret));
	}
	return ret;
}

void hypercall__malformed(struct vm *vm)
{
	atomic_fetch_add(&vm->hc->unknown, 1);
}

void hypercall__kick(struct vm *vm, unsigned int vcpu)
{
	struct hc_vcpu *w;

	if (vcpu >= vm->hc->nr_vcpus)
		return;
	if (vm->cluster)
		vm->cluster->kick(vm, vcpu);
	w = &vm->hc->vcpus[vcpu];
	pthread_mutex_lock(&w->lock);
	w->kicked = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int64_t hypercall__post(struct vm *vm, uint32_t type, uint32_t arg)
{
	struct hypercalls *hc = vm->hc;
	uint8_t *page;
	uint32_t seq;
	int ret;

	switch (type) {
	case HC_MSG_CPU_OFFLINE:
	case HC_MSG_CPU_ONLINE:
		if (arg >= vm->nr_cpus)
			return -EINVAL;
		break;
	case HC_MSG_NODE_LEAVE:
	case HC_MSG_NODE_JOIN:
	case HC_MSG_NODE_LEAVE_KEEP:
		break;
	default:
		return -EINVAL;
	}
	pthread_mutex_lock(&hc->msg_lock);
	if (!hc->msg_ready) {
		pthread_mutex_unlock(&hc->msg_lock);
		return -ENODEV;
	}
	if (hc->msg_acked != hc->msg_seq) {
		pthread_mutex_unlock(&hc->msg_lock);
		return -EBUSY;
	}
	page = guest_mem__ptr(&vm->mem, hc->msg_gpa, HC_MSG_PAGE);
	seq = hc->msg_seq + 1;
	put_le32(page + HC_MSG_OFF_TYPE, type);
	put_le32(page + HC_MSG_OFF_ARG, arg);
	/* The guest reads seq first: the body must be visible before it. */
	atomic_thread_fence(memory_order_release);
	put_le32(page + HC_MSG_OFF_SEQ, seq);
	hc->msg_seq = seq;
	ret = send_msi(vm, 0, hc->msg_vector);
	pthread_mutex_unlock(&hc->msg_lock);
	hypercall__kick(vm, 0);
	return ret ? ret : (int64_t)seq;
}

int hypercall__msg_status(struct vm *vm, uint32_t seq, int32_t *status)
{
	struct hypercalls *hc = vm->hc;
	int ret = 0;

	pthread_mutex_lock(&hc->msg_lock);
	if (!seq || seq > hc->msg_seq)
		ret = -ENOENT;
	else if (seq > hc->msg_acked)
		ret = -EINPROGRESS;
	else if (seq == hc->msg_acked)
		*status = hc->msg_status;
	else
		*status = 0; /* older: acked before the last one */
	pthread_mutex_unlock(&hc->msg_lock);
	return ret;
}

void hypercall__print_stats(const struct vm *vm, FILE *f)
{
	const struct hypercalls *hc = vm->hc;

	if (!hc)
		return;
	for (unsigned int nr = 0; nr < HC_NR; nr++) {
		if (!hypercalls[nr].name)
			continue;
		fprintf(f, "hypercall %s calls=%llu failed=%llu\n", hypercalls[nr].name,
			(unsigned long long)atomic_load(&hc->calls[nr]),
			(unsigned long long)atomic_load(&hc->failed[nr]));
	}
	fprintf(f, "hypercall unknown calls=%llu\n", (unsigned long long)atomic_load(&hc->unknown));
	fprintf(f, "hypercall spin_wait kicked=%llu timeout=%llu\n",
		(unsigned long long)atomic_load(&hc->wait_kicked),
		(unsigned long long)atomic_load(&hc->wait_timeout));
}

int hypercall__init(struct vm *vm)
{
	struct hypercalls *hc = calloc(1, sizeof(*hc));

	if (!hc)
		return -ENOMEM;
	hc->vcpus = calloc(vm->nr_cpus ? vm->nr_cpus : 1, sizeof(*hc->vcpus));
	if (!hc->vcpus) {
		free(hc);
		return -ENOMEM;
	}
	hc->nr_vcpus = vm->nr_cpus;
	hc->wait_us = HC_WAIT_US;
	for (unsigned int i = 0; i < hc->nr_vcpus; i++) {
		pthread_condattr_t attr;

		pthread_mutex_init(&hc->vcpus[i].lock, NULL);
		/* Waits are timed against CLOCK_MONOTONIC, immune to clock steps. */
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&hc->vcpus[i].cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	pthread_mutex_init(&hc->msg_lock, NULL);
	vm->hc = hc;
	return 0;
}

void hypercall__exit(struct vm *vm)
{
	struct hypercalls *hc = vm->hc;

	if (!hc)
		return;
	for (unsigned int i = 0; i < hc->nr_vcpus; i++) {
		pthread_cond_destroy(&hc->vcpus[i].cond);
		pthread_mutex_destroy(&hc->vcpus[i].lock);
	}
	pthread_mutex_destroy(&hc->msg_lock);
	free(hc->vcpus);
	free(hc);
	vm->hc = NULL;
}
