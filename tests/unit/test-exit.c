// SPDX-License-Identifier: GPL-2.0
/*
 * Exit dispatch fed with hand-built struct kvm_run values: no /dev/kvm.
 * The VM has the real device models; MSIs go to a recorder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "cvmm/exit.h"
#include "cvmm/vm.h"
#include "drivers/acpi_pm.h"
#include "drivers/ioapic.h"
#include "drivers/serial8250.h"

struct fixture {
	struct vm vm;
	int pipe[2]; /* the console: guest output lands here */
	unsigned int msis;
	/* room for kvm_run plus its I/O data area, as KVM lays it out */
	union {
		struct kvm_run run;
		uint8_t page[4096];
	} r;
};

static int record_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct fixture *f = (struct fixture *)((uint8_t *)vm - offsetof(struct fixture, vm));

	f->msis++;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vm__init_struct(&f->vm);
	if (pipe(f->pipe))
		return -1;
	f->vm.console_out = f->pipe[1];
	f->vm.signal_msi = record_msi;
	if (ioapic__init(&f->vm) || serial8250__init(&f->vm) || acpi_pm__init(&f->vm))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	acpi_pm__exit(&f->vm);
	serial8250__exit(&f->vm);
	ioapic__exit(&f->vm);
	close(f->pipe[0]);
	close(f->pipe[1]);
	free(f);
	return 0;
}

static struct kvm_run *pio(struct fixture *f, uint16_t port, uint8_t dir, uint8_t size,
			   uint32_t count, const void *data)
{
	struct kvm_run *run = &f->r.run;

	memset(f->r.page, 0, sizeof(f->r.page));
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = dir;
	run->io.size = size;
	run->io.port = port;
	run->io.count = count;
	run->io.data_offset = 1024;
	if (data)
		memcpy(f->r.page + 1024, data, (size_t)size * count);
	return run;
}

static void outb_to_com1_reaches_console(void **state)
{
	struct fixture *f = *state;
	char out[4] = { 0 };

	assert_int_equal(vcpu__handle_exit(&f->vm, pio(f, COM1_PORT, KVM_EXIT_IO_OUT, 1, 1, "A")),
			 VM_RUNNING);
	/* rep outsb: three bytes in one exit */
	assert_int_equal(vcpu__handle_exit(&f->vm, pio(f, COM1_PORT, KVM_EXIT_IO_OUT, 1, 3, "bcd")),
			 VM_RUNNING);
	assert_int_equal(read(f->pipe[0], out, 4), 4);
	assert_memory_equal(out, "Abcd", 4);
}

static void inb_from_com1_lsr(void **state)
{
	struct fixture *f = *state;
	struct kvm_run *run = pio(f, COM1_PORT + 5, KVM_EXIT_IO_IN, 1, 1, NULL);

	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_RUNNING);
	assert_int_equal(f->r.page[1024], 0x60); /* THRE | TEMT */
}

/* Empty ports read as zero, so Linux finds no 8259 PIC. */
static void unclaimed_port_reads_zero(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0xffffffff;
	struct kvm_run *run = pio(f, 0x21, KVM_EXIT_IO_IN, 4, 1, &v);

	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_RUNNING);
	memcpy(&v, f->r.page + 1024, 4);
	assert_int_equal(v, 0);
}

static void acpi_s5_powers_off(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 5 << 2 | 0x20;

	assert_int_equal(
		vcpu__handle_exit(&f->vm, pio(f, ACPI_PM_SLEEP_CTL, KVM_EXIT_IO_OUT, 1, 1, &v)),
		VM_RUNNING);
	assert_int_equal(vm__stop_reason(&f->vm), VM_STOP_POWEROFF);
	/* The first reason wins: a later reset does not overwrite it. */
	v = ACPI_PM_RESET_VALUE;
	vcpu__handle_exit(&f->vm, pio(f, ACPI_PM_RESET, KVM_EXIT_IO_OUT, 1, 1, &v));
	assert_int_equal(vm__stop_reason(&f->vm), VM_STOP_POWEROFF);
}

static void acpi_other_sleep_states_ignored(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 3 << 2 | 0x20; /* S3 */

	vcpu__handle_exit(&f->vm, pio(f, ACPI_PM_SLEEP_CTL, KVM_EXIT_IO_OUT, 1, 1, &v));
	v = 5 << 2; /* S5 without SLP_EN */
	vcpu__handle_exit(&f->vm, pio(f, ACPI_PM_SLEEP_CTL, KVM_EXIT_IO_OUT, 1, 1, &v));
	assert_int_equal(vm__stop_reason(&f->vm), VM_RUNNING);
}

static void acpi_reset_register_resets(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 0x02; /* wrong value: ignored */

	vcpu__handle_exit(&f->vm, pio(f, ACPI_PM_RESET, KVM_EXIT_IO_OUT, 1, 1, &v));
	assert_int_equal(vm__stop_reason(&f->vm), VM_RUNNING);
	v = ACPI_PM_RESET_VALUE;
	vcpu__handle_exit(&f->vm, pio(f, ACPI_PM_RESET, KVM_EXIT_IO_OUT, 1, 1, &v));
	assert_int_equal(vm__stop_reason(&f->vm), VM_STOP_RESET);
}

static void mmio_reaches_ioapic(void **state)
{
	struct fixture *f = *state;
	struct kvm_run *run = &f->r.run;
	uint32_t v = 1; /* IOREGSEL = version register */

	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = IOAPIC_BASE;
	run->mmio.len = 4;
	run->mmio.is_write = 1;
	memcpy(run->mmio.data, &v, 4);
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_RUNNING);
	run->mmio.phys_addr = IOAPIC_BASE + 0x10;
	run->mmio.is_write = 0;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_RUNNING);
	memcpy(&v, run->mmio.data, 4);
	assert_int_equal(v, 0x00170011);
}

static void terminal_exits(void **state)
{
	struct fixture *f = *state;
	struct kvm_run *run = &f->r.run;

	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_STOP_SHUTDOWN);
	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_STOP_KVM);
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_STOP_KVM);
	run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	run->system_event.type = KVM_SYSTEM_EVENT_RESET;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_STOP_RESET);
	run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_STOP_POWEROFF);
}

static void benign_exits_continue(void **state)
{
	struct fixture *f = *state;
	struct kvm_run *run = &f->r.run;

	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_INTR;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_RUNNING);
	run->exit_reason = KVM_EXIT_HLT;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_RUNNING);
	/* The arch hook: an EOI for a vector no pin uses. */
	run->exit_reason = KVM_EXIT_IOAPIC_EOI;
	run->eoi.vector = 0x30;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_RUNNING);
}

static void unknown_exits_stop_the_vm(void **state)
{
	struct fixture *f = *state;
	struct kvm_run *run = &f->r.run;

	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_HYPERCALL; /* not enabled, so never expected */
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_STOP_KVM);
	run->exit_reason = 0xdead;
	assert_int_equal(vcpu__handle_exit(&f->vm, run), VM_STOP_KVM);
}

static void malformed_io_stops_the_vm(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vcpu__handle_exit(&f->vm, pio(f, COM1_PORT, KVM_EXIT_IO_OUT, 3, 1, "abc")),
			 VM_STOP_KVM);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(outb_to_com1_reaches_console),
		T(inb_from_com1_lsr),
		T(unclaimed_port_reads_zero),
		T(acpi_s5_powers_off),
		T(acpi_other_sleep_states_ignored),
		T(acpi_reset_register_resets),
		T(mmio_reaches_ioapic),
		T(terminal_exits),
		T(benign_exits_continue),
		T(unknown_exits_stop_the_vm),
		T(malformed_io_stops_the_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
