// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "cvmm/vm.h"
#include "drivers/ioapic.h"

static const char *const stop_names[] = {
	[VM_RUNNING] = "running",	   [VM_STOP_POWEROFF] = "poweroff",
	[VM_STOP_RESET] = "reset",	   [VM_STOP_SHUTDOWN] = "triple fault",
	[VM_STOP_KVM] = "KVM failure",	   [VM_STOP_TIMEOUT] = "timeout",
	[VM_STOP_SIGNAL] = "signal",	   [VM_STOP_PEER] = "a node failed",
	[VM_STOP_LEFT] = "this node left",
};

const char *vm_stop__name(enum vm_stop reason)
{
	if ((unsigned int)reason >= sizeof(stop_names) / sizeof(stop_names[0]))
		return "unknown";
	return stop_names[reason];
}

void vm__init_struct(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->mem.fd = -1;
	vm->console_in = -1;
	vm->console_out = -1;
	vm->stop_event = -1;
	vm->pio.name = "pio";
	vm->mmio.name = "mmio";
	pthread_mutex_init(&vm->dev_lock, NULL);
	pthread_mutex_init(&vm->vcpu_lock, NULL);
}

void vm__request_stop(struct vm *vm, enum vm_stop reason)
{
	int expected = VM_RUNNING;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)reason))
		return;
	/*
	 * immediate_exit covers a vCPU about to enter KVM_RUN; the signal
	 * covers one already inside it. The signal has a no-op handler
	 * installed without SA_RESTART, so KVM_RUN returns -EINTR.
	 */
	for (unsigned int i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			v->run->immediate_exit = 1;
		if (v->started)
			pthread_kill(v->thread, SIGUSR1);
	}
	/* One write per VM: the eventfd counter cannot overflow, so it cannot fail. */
	if (vm->stop_event >= 0)
		(void)!write(vm->stop_event, &one, sizeof(one));
	if (vm->cluster)
		vm->cluster->stopping(vm, reason);
}

enum vm_stop vm__stop_reason(struct vm *vm)
{
	return (enum vm_stop)atomic_load(&vm->stop_reason);
}

void vm__set_irq(struct vm *vm, unsigned int gsi, bool level)
{
	if (vm->dev.ioapic)
		ioapic__set_irq(vm->dev.ioapic, gsi, level);
}

void vm__eoi(struct vm *vm, unsigned int vector)
{
	if (vm->dev.ioapic) {
		pthread_mutex_lock(&vm->dev_lock);
		ioapic__eoi(vm->dev.ioapic, vector);
		pthread_mutex_unlock(&vm->dev_lock);
	} else if (vm->cluster) {
		vm->cluster->eoi(vm, vector);
	}
}
