// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <linux/kvm.h>

#include "cvmm/x86/cpuid.h"

#define KVM_SIGNATURE "KVMKVMKVM\0\0\0"

#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_HYPERVISOR   (1u << 31)
#define LEAF1_EDX_HTT	       (1u << 28)
#define LEAF1_ECX_VMX	       (1u << 5)
#define EXT1_ECX_SVM	       (1u << 2)

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
			return e;
	}
	return NULL;
}

static struct kvm_cpuid_entry2 *add(struct kvm_cpuid2 *c, unsigned int capacity, uint32_t fn)
{
	struct kvm_cpuid_entry2 *e = find(c, fn, 0);

	if (e)
		return e;
	if (c->nent >= capacity)
		return NULL;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	return e;
}

static void set_signature(struct kvm_cpuid_entry2 *e, const char *sig)
{
	memcpy(&e->ebx, sig, 4);
	memcpy(&e->ecx, sig + 4, 4);
	memcpy(&e->edx, sig + 8, 4);
}

/* Moves KVM's 0x400000xx leaves to 0x400001xx, if KVM offers them. */
static void move_kvm_leaves(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *base = find(c, CVMM_CPUID_BASE, 0);
	char sig[12];

	if (!base)
		return;
	memcpy(sig, &base->ebx, 4);
	memcpy(sig + 4, &base->ecx, 4);
	memcpy(sig + 8, &base->edx, 4);
	if (memcmp(sig, KVM_SIGNATURE, 12))
		return;
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if ((e->function & 0xffffff00u) == CVMM_CPUID_BASE)
			e->function += CVMM_CPUID_KVM_BASE - CVMM_CPUID_BASE;
	}
	base->eax = CVMM_CPUID_KVM_BASE + 1;
}

int x86_cpuid__setup(struct kvm_cpuid2 *c, unsigned int capacity, const struct cpuid_config *cfg)
{
	struct kvm_cpuid_entry2 *e;

	move_kvm_leaves(c);

	e = add(c, capacity, CVMM_CPUID_BASE);
	if (!e)
		return -ENOSPC;
	e->eax = CVMM_CPUID_BASE + 1;
	set_signature(e, CVMM_CPUID_SIGNATURE);
	e = add(c, capacity, CVMM_CPUID_BASE + 1);
	if (!e)
		return -ENOSPC;
	e->eax = CVMM_ABI_MAJOR << 16 | CVMM_ABI_MINOR;
	e->ebx = cfg->node_clocks ? CVMM_FEATURE_NODE_CLOCKS : 0;
	e->ecx = e->edx = 0;

	/* Leaf 1: initial APIC ID, logical processor count, hypervisor bit. */
	e = find(c, 1, 0);
	if (e) {
		e->ebx = (e->ebx & 0x0000ffffu) | cfg->apic_id << 24 | (cfg->nr_cpus & 0xff) << 16;
		if (cfg->nr_cpus > 1)
			e->edx |= LEAF1_EDX_HTT;
		else
			e->edx &= ~LEAF1_EDX_HTT;
		e->ecx |= LEAF1_ECX_HYPERVISOR;
		e->ecx &= ~LEAF1_ECX_VMX;
		if (cfg->tsc_deadline)
			e->ecx |= LEAF1_ECX_TSC_DEADLINE;
	}
	/*
	 * No nested virtualization: vCPUs must stay migratable between nodes
	 * (nested state is not in struct vcpu_state), and an emulated node
	 * cannot run a third level usefully anyway.
	 */
	e = find(c, 0x80000001, 0);
	if (e)
		e->ecx &= ~EXT1_ECX_SVM;
	/* Leaf 0xb: x2APIC ID in every sub-leaf. */
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0xb)
			c->entries[i].edx = cfg->apic_id;
	/*
	 * AMD: one package of nr_cpus cores (0x80000008 ecx NC), matching the
	 * leaf-1 count, so Linux puts every vCPU in package 0.
	 */
	e = find(c, 0x80000008, 0);
	if (e)
		e->ecx = (e->ecx & ~0xffu) | ((cfg->nr_cpus - 1) & 0xff);
	return 0;
}
