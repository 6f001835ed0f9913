/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keeps the node kernel's KVM static keys switched on, for an emulated node.
 *
 * KVM switches kernel static keys as VMs and vCPUs come and go and as a
 * guest enables or disables a local APIC: the scheduler's preempt-notifier
 * key with the first VM and the last (its branch is in finish_task_switch()),
 * kvm.ko's apic_sw_disabled key with a vCPU's APIC. Each switch rewrites live
 * kernel text with int3 breakpoints (text_poke_bp()). In an emulated node
 * (QEMU TCG, two CPUs) that rewrite now and then leaves both CPUs trapping on
 * the breakpoint for good: the node stops answering, and its console shows
 * soft lockups at asm_exc_int3 and finish_task_switch() (docs/sim.md).
 *
 * One idle VM with one vCPU whose APIC is never enabled, held for the
 * agent's lifetime, keeps both keys on, so that no later VM switches them.
 */
#ifndef CVMM_MGMT_AGENT_KVM_KEYS_H
#define CVMM_MGMT_AGENT_KVM_KEYS_H

struct kvm_keys {
	int kvm, vm, vcpu; /* -1 when not open */
};

/* Creates the idle VM and vCPU. Returns 0 or -errno (nothing held then). */
int kvm_keys_hold(struct kvm_keys *k);
void kvm_keys_release(struct kvm_keys *k);

#endif
