/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPUID a vCPU sees: the host's, as KVM supports it, plus cvmm's
 * hypervisor leaves (docs/abi.md) and the per-vCPU topology.
 *
 *   0x40000000  eax = highest cvmm leaf, ebx:ecx:edx = "CVMMCVMMCVMM"
 *   0x40000001  eax = ABI version (major << 16 | minor),
 *               ebx = feature bits (CVMM_FEATURE_*)
 *   0x40000100  KVM's own leaves, moved up from 0x40000000 so that Linux
 *   0x40000101  still finds kvmclock (it scans 0x40000000-0x4000ff00 in
 *               steps of 0x100 for "KVMKVMKVM", as with Hyper-V on QEMU).
 *               kvmclock is how a guest without a PIT learns the TSC rate.
 */
#ifndef CVMM_X86_CPUID_H
#define CVMM_X86_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid2;

#define CVMM_CPUID_BASE	     0x40000000u
#define CVMM_CPUID_SIGNATURE "CVMMCVMMCVMM"
#define CVMM_ABI_MAJOR	     0
#define CVMM_ABI_MINOR	     3
/*
 * 0x40000001 ebx bit 0 (since 0.3): each NUMA node is a separate host with
 * its own KVM, whose kvmclocks cvmm aligns (cvmm node). Unset, every vCPU
 * is in one KVM, whose clocks may differ slightly between vCPUs.
 */
#define CVMM_FEATURE_NODE_CLOCKS (1u << 0)
#define CVMM_CPUID_KVM_BASE	 0x40000100u

struct cpuid_config {
	unsigned int apic_id;
	unsigned int nr_cpus;
	bool tsc_deadline; /* KVM_CAP_TSC_DEADLINE_TIMER: the LAPIC emulates it */
	bool node_clocks;  /* CVMM_FEATURE_NODE_CLOCKS */
};

/*
 * Rewrites cpuid (KVM_GET_SUPPORTED_CPUID's output, with room for capacity
 * entries) into what vCPU cfg->apic_id is given. 0, or -ENOSPC.
 */
int x86_cpuid__setup(struct kvm_cpuid2 *cpuid, unsigned int capacity,
		     const struct cpuid_config *cfg);

#endif
