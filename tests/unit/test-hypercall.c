// SPDX-License-Identifier: GPL-2.0
/*
 * Hypercall dispatch (cvmm/hypercall.c) driven directly: a VM with 4 vCPUs,
 * 1 MiB of RAM and an MSI recorder, no /dev/kvm.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cvmm/hypercall.h"
#include "cvmm/vm.h"

#define NR_CPUS	 4
#define MAX_MSIS 128

struct fixture {
	struct vm vm;
	unsigned int nr_msis;
	struct {
		uint64_t addr;
		uint32_t data;
	} msis[MAX_MSIS];
};

static int record_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct fixture *f = (struct fixture *)((uint8_t *)vm - offsetof(struct fixture, vm));

	if (f->nr_msis < MAX_MSIS) {
		f->msis[f->nr_msis].addr = addr;
		f->msis[f->nr_msis].data = data;
	}
	f->nr_msis++;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vm__init_struct(&f->vm);
	f->vm.nr_cpus = NR_CPUS;
	f->vm.signal_msi = record_msi;
	if (guest_mem__init(&f->vm.mem, 1 << 20) || hypercall__init(&f->vm))
		return -1;
	f->vm.hc->wait_us = 1000; /* a timed-out wait costs 1 ms */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hypercall__exit(&f->vm);
	guest_mem__exit(&f->vm.mem);
	free(f);
	return 0;
}

static int64_t call(struct fixture *f, unsigned int vcpu, uint32_t nr, uint64_t a0, uint64_t a1,
		    uint64_t a2, uint64_t a3)
{
	const uint64_t args[HC_NR_ARGS] = { a0, a1, a2, a3 };

	return hypercall__dispatch(&f->vm, vcpu, nr, args);
}

static void test_unknown_numbers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, 0, 0, 0, 0, 0, 0), -ENOSYS);
	assert_int_equal(call(f, 0, HC_NR, 0, 0, 0, 0), -ENOSYS);
	assert_int_equal(call(f, 0, 0xffffffffu, 0, 0, 0, 0), -ENOSYS);
	/* A vCPU index the VM does not have is refused the same way. */
	assert_int_equal(call(f, NR_CPUS, HC_SPIN_KICK, 0, 0, 0, 0), -ENOSYS);
	assert_int_equal(atomic_load(&f->vm.hc->unknown), 4);
	assert_int_equal(f->nr_msis, 0);
	assert_string_equal(hypercall__name(0), "unknown");
	assert_string_equal(hypercall__name(HC_SEND_IPI), "send_ipi");
}

static void test_send_ipi(void **state)
{
	struct fixture *f = *state;

	/* APIC IDs 1 and 3, vector 0xfd, fixed delivery. */
	assert_int_equal(call(f, 0, HC_SEND_IPI, 0xa, 0, 0, 0xfd), 2);
	assert_int_equal(f->nr_msis, 2);
	assert_int_equal(f->msis[0].addr, 0xfee01000ull);
	assert_int_equal(f->msis[0].data, 0xfd);
	assert_int_equal(f->msis[1].addr, 0xfee03000ull);
	/* The bitmap counts from min: bit 0 of min 2 is APIC ID 2. */
	assert_int_equal(call(f, 0, HC_SEND_IPI, 0x1, 0, 2, 0xfb), 1);
	assert_int_equal(f->msis[2].addr, 0xfee02000ull);
	/* NMI: the vector field is ignored. */
	assert_int_equal(call(f, 1, HC_SEND_IPI, 0x1, 0, 0, 0x400), 1);
	assert_int_equal(f->msis[3].data, 0x400);
	/* An empty bitmap sends nothing and succeeds. */
	assert_int_equal(call(f, 0, HC_SEND_IPI, 0, 0, 0, 0xfd), 0);
	assert_int_equal(atomic_load(&f->vm.hc->calls[HC_SEND_IPI]), 4);
	assert_int_equal(atomic_load(&f->vm.hc->failed[HC_SEND_IPI]), 0);
}

static void test_send_ipi_rejects(void **state)
{
	struct fixture *f = *state;

	/* A target past the last vCPU: nothing is sent, even to valid ones. */
	assert_int_equal(call(f, 0, HC_SEND_IPI, 0x11, 0, 0, 0xfd), -EINVAL);
	assert_int_equal(call(f, 0, HC_SEND_IPI, 0, 1, 0, 0xfd), -EINVAL); /* bit 32 */
	assert_int_equal(call(f, 0, HC_SEND_IPI, 1, 0, NR_CPUS, 0xfd), -EINVAL);
	assert_int_equal(call(f, 0, HC_SEND_IPI, 1, 0, 0xffffffffu, 0xfd), -EINVAL);
	/* Exception vectors, INIT and STARTUP are not IPIs a guest may send. */
	assert_int_equal(call(f, 0, HC_SEND_IPI, 1, 0, 0, 0x0e), -EINVAL);
	assert_int_equal(call(f, 0, HC_SEND_IPI, 1, 0, 0, 0x500), -EINVAL);
	assert_int_equal(call(f, 0, HC_SEND_IPI, 1, 0, 0, 0x608), -EINVAL);
	assert_int_equal(f->nr_msis, 0);
	assert_int_equal(atomic_load(&f->vm.hc->failed[HC_SEND_IPI]), 7);
}

static void test_cpu_start(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, 0, HC_CPU_START, 2, 0x9a000, 0, 0), 0);
	assert_int_equal(f->nr_msis, 2);
	assert_int_equal(f->msis[0].addr, 0xfee02000ull);
	assert_int_equal(f->msis[0].data, 0x4500); /* INIT, level assert */
	assert_int_equal(f->msis[1].addr, 0xfee02000ull);
	assert_int_equal(f->msis[1].data, 0x69a); /* STARTUP, page 0x9a */
	/* Not itself, not a vCPU it does not have, not an unaligned or high start. */
	assert_int_equal(call(f, 2, HC_CPU_START, 2, 0x9a000, 0, 0), -EINVAL);
	assert_int_equal(call(f, 0, HC_CPU_START, NR_CPUS, 0x9a000, 0, 0), -EINVAL);
	assert_int_equal(call(f, 0, HC_CPU_START, 1, 0x9a010, 0, 0), -EINVAL);
	assert_int_equal(call(f, 0, HC_CPU_START, 1, 0x100000, 0, 0), -EINVAL);
	assert_int_equal(f->nr_msis, 2);
	assert_int_equal(atomic_load(&f->vm.hc->calls[HC_CPU_START]), 5);
	assert_int_equal(atomic_load(&f->vm.hc->failed[HC_CPU_START]), 4);
}

static void test_spin_wait_kick(void **state)
{
	struct fixture *f = *state;

	/* No kick: the wait times out (1 ms here) and says so. */
	assert_int_equal(call(f, 1, HC_SPIN_WAIT, 0, 0, 0, 0), 1);
	/* A kick before the wait is kept: the wait returns at once. */
	assert_int_equal(call(f, 0, HC_SPIN_KICK, 1, 0, 0, 0), 0);
	assert_int_equal(call(f, 1, HC_SPIN_WAIT, 0, 0, 0, 0), 0);
	/* ...and only once. */
	assert_int_equal(call(f, 1, HC_SPIN_WAIT, 0, 0, 0, 0), 1);
	/* Kicking vCPU 2 does not wake vCPU 1. */
	assert_int_equal(call(f, 0, HC_SPIN_KICK, 2, 0, 0, 0), 0);
	assert_int_equal(call(f, 1, HC_SPIN_WAIT, 0, 0, 0, 0), 1);
	assert_int_equal(call(f, 2, HC_SPIN_WAIT, 0, 0, 0, 0), 0);
	/* An IPI wakes its target as well. */
	assert_int_equal(call(f, 0, HC_SEND_IPI, 0x8, 0, 0, 0xfd), 1);
	assert_int_equal(call(f, 3, HC_SPIN_WAIT, 0, 0, 0, 0), 0);
	assert_int_equal(call(f, 0, HC_SPIN_KICK, NR_CPUS, 0, 0, 0), -EINVAL);
	assert_int_equal(atomic_load(&f->vm.hc->wait_kicked), 3);
	assert_int_equal(atomic_load(&f->vm.hc->wait_timeout), 3);
	assert_int_equal(atomic_load(&f->vm.hc->calls[HC_SPIN_WAIT]), 6);
	assert_int_equal(atomic_load(&f->vm.hc->calls[HC_SPIN_KICK]), 3);
}

static uint32_t page_u32(struct fixture *f, uint64_t gpa, unsigned int off)
{
	uint8_t *p = guest_mem__ptr(&f->vm.mem, gpa + off, 4);

	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_messages(void **state)
{
	struct fixture *f = *state;
	int32_t status = 1;

	/* Before the guest registers a page, nothing can be posted. */
	assert_int_equal(hypercall__post(&f->vm, HC_MSG_CPU_OFFLINE, 3), -ENODEV);
	/* Not RAM (1 MiB VM), vector below 32 or above 255. */
	assert_int_equal(call(f, 0, HC_MSG_SETUP, 0x100, 0xf7, 0, 0), -EINVAL);
	assert_int_equal(call(f, 0, HC_MSG_SETUP, 0x10, 0x1f, 0, 0), -EINVAL);
	assert_int_equal(call(f, 0, HC_MSG_SETUP, 0x10, 0x100, 0, 0), -EINVAL);
	assert_int_equal(call(f, 0, HC_MSG_SETUP, 0x10, 0xf7, 0, 0), 0);

	assert_int_equal(hypercall__post(&f->vm, HC_MSG_CPU_OFFLINE, NR_CPUS), -EINVAL);
	assert_int_equal(hypercall__post(&f->vm, 99, 0), -EINVAL);
	assert_int_equal(hypercall__post(&f->vm, HC_MSG_CPU_OFFLINE, 3), 1);
	assert_int_equal(page_u32(f, 0x10000, HC_MSG_OFF_SEQ), 1);
	assert_int_equal(page_u32(f, 0x10000, HC_MSG_OFF_TYPE), HC_MSG_CPU_OFFLINE);
	assert_int_equal(page_u32(f, 0x10000, HC_MSG_OFF_ARG), 3);
	assert_int_equal(f->nr_msis, 1);
	assert_int_equal(f->msis[0].addr, 0xfee00000ull);
	assert_int_equal(f->msis[0].data, 0xf7);

	/* One message at a time: the next waits for the acknowledgement. */
	assert_int_equal(hypercall__post(&f->vm, HC_MSG_CPU_ONLINE, 3), -EBUSY);
	assert_int_equal(hypercall__msg_status(&f->vm, 1, &status), -EINPROGRESS);
	assert_int_equal(hypercall__msg_status(&f->vm, 2, &status), -ENOENT);
	assert_int_equal(call(f, 0, HC_MSG_ACK, 2, 0, 0, 0), -EINVAL); /* wrong seq */
	assert_int_equal(call(f, 0, HC_MSG_ACK, 1, (uint32_t)-EBUSY, 0, 0), 0);
	assert_int_equal(call(f, 0, HC_MSG_ACK, 1, 0, 0, 0), -EINVAL); /* twice */
	assert_int_equal(hypercall__msg_status(&f->vm, 1, &status), 0);
	assert_int_equal(status, -EBUSY);

	assert_int_equal(hypercall__post(&f->vm, HC_MSG_NODE_JOIN, 1), 2);
	assert_int_equal(page_u32(f, 0x10000, HC_MSG_OFF_SEQ), 2);
	assert_int_equal(page_u32(f, 0x10000, HC_MSG_OFF_TYPE), HC_MSG_NODE_JOIN);
	assert_int_equal(call(f, 0, HC_MSG_ACK, 2, 0, 0, 0), 0);
	assert_int_equal(hypercall__msg_status(&f->vm, 2, &status), 0);
	assert_int_equal(status, 0);
}

static void test_malformed_is_counted(void **state)
{
	struct fixture *f = *state;

	hypercall__malformed(&f->vm);
	assert_int_equal(atomic_load(&f->vm.hc->unknown), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_ipi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_ipi_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spin_wait_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_is_counted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
