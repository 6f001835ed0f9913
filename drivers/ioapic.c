// SPDX-License-Identifier: GPL-2.0
/*
 * 82093AA-style IOAPIC (version 0x11, 24 pins), register-level compatible
 * with what Linux programs. Only the two indirect registers are in MMIO:
 * IOREGSEL at 0x00 and IOWIN at 0x10.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/log.h"
#include "cvmm/vm.h"
#include "drivers/ioapic.h"

#define IOREGSEL 0x00
#define IOWIN	 0x10

#define REG_ID	  0x00
#define REG_VER	  0x01
#define REG_ARB	  0x02
#define REG_REDIR 0x10 /* two 32-bit registers per pin */

#define RTE_VECTOR(r)  ((uint8_t)((r)&0xff))
#define RTE_DELIV(r)   (((r) >> 8) & 7)
#define RTE_DESTMODE   (1ull << 11)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL      (1ull << 15)
#define RTE_MASKED     (1ull << 16)
#define RTE_DEST(r)    (((r) >> 56) & 0xff)
/* Bits the guest cannot write: delivery status (12) and remote IRR (14). */
#define RTE_RO_BITS ((1ull << 12) | RTE_REMOTE_IRR)

struct ioapic {
	struct vm *vm;
	uint32_t regsel;
	uint32_t id;
	uint64_t redir[IOAPIC_NR_PINS];
	bool line[IOAPIC_NR_PINS];
};

uint64_t ioapic__redir(const struct ioapic *ioapic, unsigned int pin)
{
	return pin < IOAPIC_NR_PINS ? ioapic->redir[pin] : 0;
}

/*
 * The MSI a redirection entry stands for (Intel SDM vol. 3, 11.11): the
 * destination and its mode go into the address, vector, delivery mode and
 * trigger into the data.
 */
static void deliver(struct ioapic *ioapic, unsigned int pin)
{
	uint64_t r = ioapic->redir[pin];
	uint64_t addr = 0xfee00000ull | (RTE_DEST(r) << 12) | (r & RTE_DESTMODE ? 1u << 2 : 0);
	uint32_t data = RTE_VECTOR(r) | (uint32_t)RTE_DELIV(r) << 8;
	int ret;

	if (r & RTE_LEVEL) {
		data |= 1u << 15 | 1u << 14; /* level, assert */
		ioapic->redir[pin] |= RTE_REMOTE_IRR;
	}
	ret = ioapic->vm->signal_msi(ioapic->vm, addr, data);
	if (ret < 0)
		pr_warn("ioapic: pin %u: MSI not delivered: %d", pin, ret);
}

/* Level pins fire while the line is high and the last one was EOI'd. */
static void service(struct ioapic *ioapic, unsigned int pin)
{
	uint64_t r = ioapic->redir[pin];

	if (r & RTE_LEVEL && ioapic->line[pin] && !(r & (RTE_MASKED | RTE_REMOTE_IRR)))
		deliver(ioapic, pin);
}

void ioapic__set_irq(struct ioapic *ioapic, unsigned int gsi, bool level)
{
	bool old;

	if (gsi >= IOAPIC_NR_PINS)
		return;
	old = ioapic->line[gsi];
	ioapic->line[gsi] = level;
	if (ioapic->redir[gsi] & RTE_LEVEL)
		service(ioapic, gsi);
	else if (level && !old && !(ioapic->redir[gsi] & RTE_MASKED))
		deliver(ioapic, gsi);
}

void ioapic__eoi(struct ioapic *ioapic, uint8_t vector)
{
	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		uint64_t *r = &ioapic->redir[pin];

		if (*r & RTE_LEVEL && *r & RTE_REMOTE_IRR && RTE_VECTOR(*r) == vector) {
			*r &= ~RTE_REMOTE_IRR;
			service(ioapic, pin);
		}
	}
}

static uint32_t reg_read(const struct ioapic *ioapic, uint32_t reg)
{
	switch (reg) {
	case REG_ID:
	case REG_ARB:
		return ioapic->id << 24;
	case REG_VER:
		return (IOAPIC_NR_PINS - 1) << 16 | 0x11;
	default:
		break;
	}
	if (reg >= REG_REDIR && reg < REG_REDIR + 2 * IOAPIC_NR_PINS) {
		uint64_t r = ioapic->redir[(reg - REG_REDIR) / 2];

		return (reg & 1) ? (uint32_t)(r >> 32) : (uint32_t)r;
	}
	return 0;
}

static void reg_write(struct ioapic *ioapic, uint32_t reg, uint32_t val)
{
	unsigned int pin;
	uint64_t *r, v;

	if (reg == REG_ID) {
		ioapic->id = (val >> 24) & 0xf;
		return;
	}
	if (reg < REG_REDIR || reg >= REG_REDIR + 2 * IOAPIC_NR_PINS)
		return;
	pin = (reg - REG_REDIR) / 2;
	r = &ioapic->redir[pin];
	if (reg & 1)
		v = (*r & 0xffffffffull) | (uint64_t)val << 32;
	else
		v = (*r & ~0xffffffffull) | val;
	*r = (v & ~RTE_RO_BITS) | (*r & RTE_RO_BITS);
	pr_debug("ioapic: pin %u = 0x%016llx", pin, (unsigned long long)*r);
	/* Switching a pin to edge drops a stale remote IRR. */
	if (!(*r & RTE_LEVEL))
		*r &= ~RTE_REMOTE_IRR;
	/* Unmasking a level pin whose line is high delivers now. */
	service(ioapic, pin);
}

static int ioapic_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct ioapic *ioapic = dev;
	uint32_t val = 0;

	/* Linux uses 32-bit accesses only; anything else is a guest bug. */
	if (len != 4) {
		if (!is_write)
			memset(data, 0, len);
		return -EINVAL;
	}
	if (is_write)
		memcpy(&val, data, 4);
	switch (offset) {
	case IOREGSEL:
		if (is_write)
			ioapic->regsel = val & 0xff;
		else
			val = ioapic->regsel;
		break;
	case IOWIN:
		if (is_write)
			reg_write(ioapic, ioapic->regsel, val);
		else
			val = reg_read(ioapic, ioapic->regsel);
		break;
	default:
		val = 0;
		break;
	}
	if (!is_write)
		memcpy(data, &val, 4);
	return 0;
}

void ioapic__exit(struct vm *vm)
{
	free(vm->dev.ioapic);
	vm->dev.ioapic = NULL;
}

int ioapic__init(struct vm *vm)
{
	struct ioapic *ioapic = calloc(1, sizeof(*ioapic));
	int ret;

	if (!ioapic)
		return -ENOMEM;
	ioapic->vm = vm;
	ioapic->id = IOAPIC_ID;
	/* Every pin starts masked, as after a hardware reset. */
	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++)
		ioapic->redir[pin] = RTE_MASKED;
	ret = io_bus__register(&vm->mmio, IOAPIC_BASE, IOAPIC_SIZE, ioapic_io, ioapic, "ioapic");
	if (ret) {
		free(ioapic);
		return ret;
	}
	vm->dev.ioapic = ioapic;
	return 0;
}
