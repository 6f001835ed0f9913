// SPDX-License-Identifier: GPL-2.0
/* x86 exits that cvmm/exit.c's common switch does not know. */
#include <errno.h>
#include <linux/kvm.h>

#include "cvmm/exit.h"
#include "drivers/ioapic.h"

int arch__handle_exit(struct vm *vm, struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IOAPIC_EOI:
		/* Split irqchip: the LAPIC EOI'd a level-triggered IOAPIC vector. */
		pthread_mutex_lock(&vm->dev_lock);
		if (vm->dev.ioapic)
			ioapic__eoi(vm->dev.ioapic, run->eoi.vector);
		pthread_mutex_unlock(&vm->dev_lock);
		return VM_RUNNING;
	default:
		return -EOPNOTSUPP;
	}
}
