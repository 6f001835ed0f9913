/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace IOAPIC for KVM's split irqchip: the LAPICs are in the kernel,
 * the IOAPIC is here, so cvmm decides where every device interrupt goes
 * (DESIGN.md §3.8). A pin's redirection entry becomes an MSI, sent through
 * vm->signal_msi.
 */
#ifndef DRIVERS_IOAPIC_H
#define DRIVERS_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct ioapic;

#define IOAPIC_BASE    0xfec00000u
#define IOAPIC_SIZE    0x1000u
#define IOAPIC_NR_PINS 24
#define IOAPIC_ID      0 /* its APIC ID in the MADT; vCPUs use 0..N-1 too, */
			 /* which is fine: IOAPIC and LAPIC IDs are separate spaces. */

int ioapic__init(struct vm *vm);
void ioapic__exit(struct vm *vm);

/* Sets pin gsi's input line. Edge pins fire on 0->1. Called with dev_lock held. */
void ioapic__set_irq(struct ioapic *ioapic, unsigned int gsi, bool level);

/* The guest's LAPIC EOI of vector (KVM_EXIT_IOAPIC_EOI). Called with dev_lock held. */
void ioapic__eoi(struct ioapic *ioapic, uint8_t vector);

/* The redirection entry of a pin, for tests and debugging. */
uint64_t ioapic__redir(const struct ioapic *ioapic, unsigned int pin);

#endif
