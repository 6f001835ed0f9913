// SPDX-License-Identifier: GPL-2.0
/*
 * Device models through the bus, as the guest sees them: the 16550A probe
 * Linux runs, THRE and receive interrupts, and the IOAPIC turning pins into
 * MSIs (edge and level, masking, EOI).
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

#include "cvmm/vm.h"
#include "drivers/ioapic.h"
#include "drivers/serial8250.h"

#define MAX_MSI 16

struct fixture {
	struct vm vm;
	int pipe[2];
	unsigned int nr_msi;
	uint64_t addr[MAX_MSI];
	uint32_t data[MAX_MSI];
};

static int record_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct fixture *f = (struct fixture *)((uint8_t *)vm - offsetof(struct fixture, vm));

	if (f->nr_msi < MAX_MSI) {
		f->addr[f->nr_msi] = addr;
		f->data[f->nr_msi] = data;
	}
	f->nr_msi++;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || pipe(f->pipe))
		return -1;
	vm__init_struct(&f->vm);
	f->vm.console_out = f->pipe[1];
	f->vm.signal_msi = record_msi;
	if (ioapic__init(&f->vm) || serial8250__init(&f->vm))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	serial8250__exit(&f->vm);
	ioapic__exit(&f->vm);
	close(f->pipe[0]);
	close(f->pipe[1]);
	free(f);
	return 0;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
	assert_int_equal(io_bus__access(&f->vm.pio, port, &v, 1, true), 0);
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	uint8_t v;

	assert_int_equal(io_bus__access(&f->vm.pio, port, &v, 1, false), 0);
	return v;
}

static void ioapic_write(struct fixture *f, uint32_t reg, uint32_t val)
{
	assert_int_equal(io_bus__access(&f->vm.mmio, IOAPIC_BASE, (uint8_t *)&reg, 4, true), 0);
	assert_int_equal(io_bus__access(&f->vm.mmio, IOAPIC_BASE + 0x10, (uint8_t *)&val, 4, true),
			 0);
}

static uint32_t ioapic_read(struct fixture *f, uint32_t reg)
{
	uint32_t val;

	assert_int_equal(io_bus__access(&f->vm.mmio, IOAPIC_BASE, (uint8_t *)&reg, 4, true), 0);
	assert_int_equal(io_bus__access(&f->vm.mmio, IOAPIC_BASE + 0x10, (uint8_t *)&val, 4, false),
			 0);
	return val;
}

/* Pin 4 -> vector 0x24, physical destination APIC 1, fixed, edge, unmasked. */
static void route_com1(struct fixture *f)
{
	ioapic_write(f, 0x10 + 2 * COM1_IRQ, 0x24);
	ioapic_write(f, 0x11 + 2 * COM1_IRQ, 1u << 24);
}

/* The checks of Linux's autoconfig(): IER, loopback MSR, FIFO in IIR, scratch. */
static void uart_passes_linux_probe(void **state)
{
	struct fixture *f = *state;
	uint16_t p = COM1_PORT;

	outb(f, p + 1, 0);
	assert_int_equal(inb(f, p + 1) & 0x0f, 0);
	outb(f, p + 1, 0x0f);
	assert_int_equal(inb(f, p + 1) & 0x0f, 0x0f);
	outb(f, p + 1, 0);

	outb(f, p + 4, 0x10 | 0x0a); /* loop, RTS, OUT2 */
	assert_int_equal(inb(f, p + 6) & 0xf0, 0x90);
	outb(f, p + 4, 0);

	outb(f, p + 2, 0x01); /* enable FIFO */
	assert_int_equal(inb(f, p + 2) & 0xc0, 0xc0);

	outb(f, p + 7, 0xa5);
	assert_int_equal(inb(f, p + 7), 0xa5);

	outb(f, p + 3, 0x80); /* DLAB: divisor latch */
	outb(f, p + 0, 0x01);
	outb(f, p + 1, 0x00);
	assert_int_equal(inb(f, p + 0), 0x01);
	outb(f, p + 3, 0x03);
	assert_int_equal(inb(f, p + 5) & 0x60, 0x60);
}

static void uart_loopback_returns_bytes(void **state)
{
	struct fixture *f = *state;

	outb(f, COM1_PORT + 4, 0x10);
	outb(f, COM1_PORT, 'x');
	assert_int_equal(inb(f, COM1_PORT + 5) & 1, 1); /* data ready */
	assert_int_equal(inb(f, COM1_PORT), 'x');
	assert_int_equal(inb(f, COM1_PORT + 5) & 1, 0);
}

static void thre_interrupt_on_enable_and_after_each_write(void **state)
{
	struct fixture *f = *state;

	route_com1(f);
	outb(f, COM1_PORT + 1, 0x02); /* THRI: THR is empty, so an interrupt at once */
	assert_int_equal(f->nr_msi, 1);
	assert_int_equal(f->addr[0], 0xfee01000);
	assert_int_equal(f->data[0], 0x24);
	assert_int_equal(inb(f, COM1_PORT + 2) & 0x0f, 0x02); /* IIR: THRE, now acknowledged */
	assert_int_equal(inb(f, COM1_PORT + 2) & 0x0f, 0x01); /* nothing pending */
	outb(f, COM1_PORT, 'y');
	assert_int_equal(f->nr_msi, 2); /* a new edge */
}

static void rx_interrupt_and_fifo_limit(void **state)
{
	struct fixture *f = *state;
	char many[100];

	route_com1(f);
	outb(f, COM1_PORT + 1, 0x01); /* RDI */
	assert_int_equal(f->nr_msi, 0);
	assert_int_equal(serial8250__rx(&f->vm, "hi", 2), 2);
	assert_int_equal(f->nr_msi, 1);
	assert_int_equal(inb(f, COM1_PORT + 2) & 0x0f, 0x04);
	assert_int_equal(inb(f, COM1_PORT), 'h');
	assert_int_equal(inb(f, COM1_PORT), 'i');
	assert_int_equal(inb(f, COM1_PORT + 2) & 0x0f, 0x01);
	memset(many, 'z', sizeof(many));
	assert_int_equal(serial8250__rx(&f->vm, many, sizeof(many)), 64);
	assert_int_equal(serial8250__rx_room(&f->vm), 0);
}

static void masked_pin_delivers_nothing(void **state)
{
	struct fixture *f = *state;

	outb(f, COM1_PORT + 1, 0x02); /* every pin starts masked */
	assert_int_equal(f->nr_msi, 0);
	assert_int_equal(ioapic_read(f, 0x10 + 2 * COM1_IRQ) & (1u << 16), 1u << 16);
}

static void ioapic_level_pin_waits_for_eoi(void **state)
{
	struct fixture *f = *state;

	/* pin 9: vector 0x39, level, logical destination 0x3 */
	ioapic_write(f, 0x10 + 2 * 9, 0x39 | 1u << 15 | 1u << 11);
	ioapic_write(f, 0x11 + 2 * 9, 3u << 24);
	ioapic__set_irq(f->vm.dev.ioapic, 9, true);
	assert_int_equal(f->nr_msi, 1);
	assert_int_equal(f->addr[0], 0xfee03004);
	assert_int_equal(f->data[0], 0x39 | 1u << 15 | 1u << 14);
	assert_true(ioapic_read(f, 0x10 + 2 * 9) & (1u << 14)); /* remote IRR */
	/* Still high, not EOI'd: no second interrupt. */
	ioapic__set_irq(f->vm.dev.ioapic, 9, true);
	assert_int_equal(f->nr_msi, 1);
	/* EOI with the line still high delivers again. */
	ioapic__eoi(f->vm.dev.ioapic, 0x39);
	assert_int_equal(f->nr_msi, 2);
	ioapic__set_irq(f->vm.dev.ioapic, 9, false);
	ioapic__eoi(f->vm.dev.ioapic, 0x39);
	assert_int_equal(f->nr_msi, 2);
	assert_false(ioapic_read(f, 0x10 + 2 * 9) & (1u << 14));
}

static void ioapic_edge_needs_a_new_edge(void **state)
{
	struct fixture *f = *state;

	ioapic_write(f, 0x10 + 2 * 3, 0x33);
	ioapic__set_irq(f->vm.dev.ioapic, 3, true);
	ioapic__set_irq(f->vm.dev.ioapic, 3, true);
	assert_int_equal(f->nr_msi, 1);
	ioapic__set_irq(f->vm.dev.ioapic, 3, false);
	ioapic__set_irq(f->vm.dev.ioapic, 3, true);
	assert_int_equal(f->nr_msi, 2);
	ioapic__set_irq(f->vm.dev.ioapic, 99, true); /* no such pin: ignored */
	assert_int_equal(f->nr_msi, 2);
}

static void ioapic_identity_and_read_only_bits(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ioapic_read(f, 0x01), 0x00170011);
	assert_int_equal(ioapic_read(f, 0x00), 0);
	/* The guest cannot set delivery status or remote IRR. */
	ioapic_write(f, 0x10, 0x41 | 1u << 12 | 1u << 14);
	assert_int_equal(ioapic_read(f, 0x10), 0x41);
	assert_int_equal(ioapic__redir(f->vm.dev.ioapic, 0), 0x41);
}

static void bus_rejects_overlaps(void **state)
{
	struct fixture *f = *state;
	uint8_t b[2] = { 0xff, 0xff };

	assert_int_equal(io_bus__register(&f->vm.pio, COM1_PORT + 7, 2, NULL, NULL, "x"), -EINVAL);
	assert_int_equal(io_bus__access(&f->vm.pio, 0x80, b, 1, false), -ENOENT);
	assert_int_equal(b[0], 0);
	/* An access straddling the end of a device is not the device's. */
	assert_int_equal(io_bus__access(&f->vm.pio, COM1_PORT + 7, b, 2, false), -ENOENT);
}

static int no_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	return 0;
}

static void bus_overlap_and_full(void **state)
{
	struct io_bus bus = { .name = "t" };

	assert_int_equal(io_bus__register(&bus, 0x100, 8, no_io, NULL, "a"), 0);
	assert_int_equal(io_bus__register(&bus, 0x107, 1, no_io, NULL, "b"), -EEXIST);
	assert_int_equal(io_bus__register(&bus, 0xff, 2, no_io, NULL, "c"), -EEXIST);
	assert_int_equal(io_bus__register(&bus, 0x108, 1, no_io, NULL, "d"), 0);
	for (unsigned int i = 2; i < IO_BUS_MAX_DEVICES; i++)
		assert_int_equal(io_bus__register(&bus, 0x1000 + i, 1, no_io, NULL, "e"), 0);
	assert_int_equal(io_bus__register(&bus, 0x2000, 1, no_io, NULL, "f"), -ENOSPC);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(uart_passes_linux_probe),
		T(uart_loopback_returns_bytes),
		T(thre_interrupt_on_enable_and_after_each_write),
		T(rx_interrupt_and_fifo_limit),
		T(masked_pin_delivers_nothing),
		T(ioapic_level_pin_waits_for_eoi),
		T(ioapic_edge_needs_a_new_edge),
		T(ioapic_identity_and_read_only_bits),
		T(bus_rejects_overlaps),
		cmocka_unit_test(bus_overlap_and_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
