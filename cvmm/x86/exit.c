// SPDX-License-Identifier: GPL-2.0
/* x86 exits that cvmm/exit.c's common switch does not know. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "cvmm/exit.h"
#include "cvmm/hypercall.h"
#include "cvmm/lib/log.h"
#include "drivers/ioapic.h"

int arch__handle_exit(struct vm *vm, struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IOAPIC_EOI:
		/* Split irqchip: the LAPIC EOI'd a level-triggered IOAPIC vector. */
		vm__eoi(vm, run->eoi.vector);
		return VM_RUNNING;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * The x86 hypercall convention (docs/abi.md): number in EAX (the OUT's
 * data), 32-bit arguments in EBX, ECX, ESI, EDI, result in EAX. Only the general
 * registers are read and written: segment state is never written back to a
 * running vCPU (docs/monitor.md, busy TR). KVM completes the OUT, advancing
 * RIP, on the next KVM_RUN, since RIP is written back unchanged.
 */
enum vm_stop arch__hypercall(struct vm *vm, struct kvm_run *run)
{
	uint32_t nr;
	struct kvm_regs regs;
	struct vcpu *vcpu = NULL;
	uint64_t args[HC_NR_ARGS];

	memcpy(&nr, (uint8_t *)run + run->io.data_offset, sizeof(nr));
	/* kvm_run pages are per vCPU; the exit path knows only the page. */
	for (unsigned int i = 0; i < vm->nr_cpus && vm->vcpus; i++)
		if (vm->vcpus[i].run == run)
			vcpu = &vm->vcpus[i];
	if (!vcpu) {
		hypercall__malformed(vm);
		return VM_RUNNING;
	}
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0) {
		pr_err("vCPU %u: KVM_GET_REGS: %s", vcpu->id, strerror(errno));
		return VM_STOP_KVM;
	}
	/* Arguments are 32-bit in every mode: upper halves are not defined
	 * for a 32-bit guest. The result is sign-extended into RAX. */
	args[0] = (uint32_t)regs.rbx;
	args[1] = (uint32_t)regs.rcx;
	args[2] = (uint32_t)regs.rsi;
	args[3] = (uint32_t)regs.rdi;
	regs.rax = (uint64_t)(int64_t)(int32_t)hypercall__dispatch(vm, vcpu->id, nr, args);
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0) {
		pr_err("vCPU %u: KVM_SET_REGS: %s", vcpu->id, strerror(errno));
		return VM_STOP_KVM;
	}
	return VM_RUNNING;
}
