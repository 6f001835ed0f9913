// SPDX-License-Identifier: GPL-2.0
/*
 * 8250/16550A UART. Enough of it for Linux's 8250 driver to detect a 16550A
 * and run its console and tty on it, interrupt-driven:
 * - the transmitter is infinitely fast, so THR is always empty and a THRE
 *   interrupt is pending after every write to THR (until IIR is read);
 * - loopback mode (MCR bit 4) reflects MCR in MSR, which Linux's autoconfig
 *   checks, and loops transmitted bytes back to the receiver;
 * - the line to the IOAPIC is computed from IER and the pending conditions
 *   after every access; the pin is edge-triggered, as ISA pins are.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/fdio.h"
#include "cvmm/vm.h"
#include "drivers/serial8250.h"

#define RX_FIFO 64

#define REG_RBR_THR 0 /* also DLL with DLAB */
#define REG_IER	    1 /* also DLM with DLAB */
#define REG_IIR_FCR 2
#define REG_LCR	    3
#define REG_MCR	    4
#define REG_LSR	    5
#define REG_MSR	    6
#define REG_SCR	    7

#define IER_RDI	   0x01
#define IER_THRI   0x02
#define IIR_NONE   0x01
#define IIR_THRI   0x02
#define IIR_RDI	   0x04
#define IIR_FIFO   0xc0 /* FIFOs enabled: what makes Linux see a 16550A */
#define LCR_DLAB   0x80
#define MCR_LOOP   0x10
#define LSR_DR	   0x01
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define FCR_FIFO   0x01
#define FCR_CLR_RX 0x02

struct uart8250 {
	struct vm *vm;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre_pending;
	bool irq_line;
	uint8_t rx[RX_FIFO];
	unsigned int rx_head, rx_count;
};

static uint8_t iir(const struct uart8250 *u)
{
	uint8_t fifo = u->fcr & FCR_FIFO ? IIR_FIFO : 0;

	if (u->ier & IER_RDI && u->rx_count)
		return fifo | IIR_RDI;
	if (u->ier & IER_THRI && u->thre_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct uart8250 *u)
{
	bool level = !(iir(u) & IIR_NONE);

	if (level != u->irq_line) {
		u->irq_line = level;
		vm__set_irq(u->vm, COM1_IRQ, level);
	}
}

static void rx_push(struct uart8250 *u, uint8_t c)
{
	if (u->rx_count == RX_FIFO)
		return; /* overrun: the byte is lost, as on hardware */
	u->rx[(u->rx_head + u->rx_count++) % RX_FIFO] = c;
}

static uint8_t rx_pop(struct uart8250 *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_FIFO;
	u->rx_count--;
	return c;
}

/* In loopback, MSR's CTS/DSR/RI/DCD follow MCR's RTS/DTR/OUT1/OUT2. */
static uint8_t msr(const struct uart8250 *u)
{
	if (u->mcr & MCR_LOOP)
		return (uint8_t)((u->mcr & 0x02) << 3 | /* RTS -> CTS */
				 (u->mcr & 0x01) << 5 | /* DTR -> DSR */
				 (u->mcr & 0x0c) << 4); /* OUT1 -> RI, OUT2 -> DCD */
	return 0xb0; /* DCD, DSR, CTS: a terminal is always there */
}

static void transmit(struct uart8250 *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP)
		rx_push(u, c);
	else if (u->vm->console_out >= 0)
		write_full(u->vm->console_out, &c, 1);
	u->thre_pending = true;
}

static uint8_t uart_read(struct uart8250 *u, uint64_t reg)
{
	uint8_t v;

	switch (reg) {
	case REG_RBR_THR:
		return u->lcr & LCR_DLAB ? u->dll : rx_pop(u);
	case REG_IER:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case REG_IIR_FCR:
		v = iir(u);
		/* Reading IIR acknowledges a THRE interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			u->thre_pending = false;
		return v;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case REG_MSR:
		return msr(u);
	case REG_SCR:
		return u->scr;
	default:
		return 0;
	}
}

static void uart_write(struct uart8250 *u, uint64_t reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises THRE at once. */
		if (v & IER_THRI && !(u->ier & IER_THRI))
			u->thre_pending = true;
		u->ier = v & 0x0f;
		break;
	case REG_IIR_FCR:
		u->fcr = v & (FCR_FIFO | 0xc0);
		if (v & FCR_CLR_RX)
			u->rx_head = u->rx_count = 0;
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		u->mcr = v & 0x1f;
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

static int uart_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct uart8250 *u = dev;

	if (len != 1) {
		if (!is_write)
			memset(data, 0, len);
		return -EINVAL;
	}
	if (is_write)
		uart_write(u, offset, data[0]);
	else
		data[0] = uart_read(u, offset);
	update_irq(u);
	return 0;
}

size_t serial8250__rx_room(struct vm *vm)
{
	struct uart8250 *u = vm->dev.com1;

	return u ? RX_FIFO - u->rx_count : 0;
}

size_t serial8250__rx(struct vm *vm, const char *buf, size_t len)
{
	struct uart8250 *u = vm->dev.com1;
	size_t n = 0;

	if (!u)
		return 0;
	while (n < len && u->rx_count < RX_FIFO)
		rx_push(u, (uint8_t)buf[n++]);
	update_irq(u);
	return n;
}

void serial8250__exit(struct vm *vm)
{
	free(vm->dev.com1);
	vm->dev.com1 = NULL;
}

int serial8250__init(struct vm *vm)
{
	struct uart8250 *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	u->vm = vm;
	u->dll = 12; /* 9600 baud, the PC default; nothing depends on it */
	ret = io_bus__register(&vm->pio, COM1_PORT, 8, uart_io, u, "com1");
	if (ret) {
		free(u);
		return ret;
	}
	vm->dev.com1 = u;
	return 0;
}
