// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <linux/kvm.h>

#include "cvmm/exit.h"
#include "cvmm/hypercall.h"
#include "cvmm/lib/log.h"

/*
 * Port I/O. A string instruction (rep insb/outsb) arrives as count
 * consecutive items in the data area; each goes to the device separately.
 * An access no device claims reads as zero and is ignored on write, like an
 * empty ISA slot, except that zero (not 0xff) lets Linux conclude there is no
 * 8259 PIC: its probe writes 0xff to the mask register and reads it back.
 */
static enum vm_stop handle_io(struct vm *vm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* Hypercalls block (SPIN_WAIT): they never run under dev_lock. */
	if (run->io.port == HC_PORT && vm->hc) {
		if (is_write && run->io.size == 4 && run->io.count == 1)
			return arch__hypercall(vm, run);
		hypercall__malformed(vm);
		if (!is_write)
			memset(data, 0, (size_t)run->io.size * run->io.count);
		return VM_RUNNING;
	}
	if (run->io.size != 1 && run->io.size != 2 && run->io.size != 4) {
		pr_err("port I/O of %u bytes at 0x%x", run->io.size, run->io.port);
		return VM_STOP_KVM;
	}
	for (uint32_t i = 0; i < run->io.count; i++) {
		uint8_t *item = data + i * run->io.size;
		int ret;

		pthread_mutex_lock(&vm->dev_lock);
		ret = io_bus__access(&vm->pio, run->io.port, item, run->io.size, is_write);
		pthread_mutex_unlock(&vm->dev_lock);
		/* Outside dev_lock: the I/O node answers over the network. */
		if (ret == -ENOENT && vm->cluster)
			ret = vm->cluster->io(vm, false, run->io.port, item, run->io.size,
					      is_write);
		if (ret == -ENOENT)
			pr_debug("pio %s 0x%x/%u: no device", is_write ? "write" : "read",
				 run->io.port, run->io.size);
		else if (ret)
			pr_debug("pio %s 0x%x: %d", is_write ? "write" : "read", run->io.port, ret);
	}
	return VM_RUNNING;
}

static enum vm_stop handle_mmio(struct vm *vm, struct kvm_run *run)
{
	int ret;

	if (run->mmio.len > sizeof(run->mmio.data)) {
		pr_err("MMIO of %u bytes at 0x%llx", run->mmio.len, run->mmio.phys_addr);
		return VM_STOP_KVM;
	}
	pthread_mutex_lock(&vm->dev_lock);
	ret = io_bus__access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			     run->mmio.is_write);
	pthread_mutex_unlock(&vm->dev_lock);
	if (ret == -ENOENT && vm->cluster)
		ret = vm->cluster->io(vm, true, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
				      run->mmio.is_write);
	if (ret)
		pr_debug("mmio %s 0x%llx: %d", run->mmio.is_write ? "write" : "read",
			 run->mmio.phys_addr, ret);
	return VM_RUNNING;
}

static enum vm_stop handle_system_event(struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return VM_STOP_POWEROFF;
	case KVM_SYSTEM_EVENT_RESET:
		return VM_STOP_RESET;
	default:
		pr_err("system event %u", run->system_event.type);
		return VM_STOP_KVM;
	}
}

enum vm_stop vcpu__handle_exit(struct vm *vm, struct kvm_run *run)
{
	int ret;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vm, run);
	case KVM_EXIT_MMIO:
		return handle_mmio(vm, run);
	case KVM_EXIT_INTR:
		/* A signal kicked us out; the run loop checks why. */
		return VM_RUNNING;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; re-entering waits in KVM. */
		return VM_RUNNING;
	case KVM_EXIT_SHUTDOWN:
		pr_info("vCPU triple-faulted (KVM_EXIT_SHUTDOWN)");
		return VM_STOP_SHUTDOWN;
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(run);
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("KVM could not enter the guest: hardware reason 0x%llx",
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return VM_STOP_KVM;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("KVM internal error, suberror %u, data %llx %llx %llx %llx",
		       run->internal.suberror, run->internal.ndata > 0 ? run->internal.data[0] : 0,
		       run->internal.ndata > 1 ? run->internal.data[1] : 0,
		       run->internal.ndata > 2 ? run->internal.data[2] : 0,
		       run->internal.ndata > 3 ? run->internal.data[3] : 0);
		return VM_STOP_KVM;
	default:
		break;
	}
	ret = arch__handle_exit(vm, run);
	if (ret == -EOPNOTSUPP) {
		pr_err("unexpected exit reason %u", run->exit_reason);
		return VM_STOP_KVM;
	}
	return (enum vm_stop)ret;
}
