/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 hooks of the monitor: what differs from one architecture to
 * another in creating a VM, a vCPU and the platform the guest boots on.
 */
#ifndef CVMM_X86_ARCH_H
#define CVMM_X86_ARCH_H

struct vm;
struct vcpu;
struct boot_entry;

/* Before any vCPU exists: TSS and identity-map pages, split irqchip. */
int arch__vm_init(struct vm *vm);
/* Each vCPU after creation: CPUID. */
int arch__vcpu_init(struct vm *vm, struct vcpu *vcpu);
/* Once every vCPU exists: KVM's routing of interrupts to them. */
int arch__vcpus_created(struct vm *vm);
/* ACPI tables and the reset-vector stub into guest RAM; *rsdp: the tables' root. */
int arch__setup_firmware(struct vm *vm, unsigned long *rsdp);
/* The BSP's registers for the boot protocol's 32-bit entry. */
int arch__boot_bsp(struct vcpu *bsp, const struct boot_entry *entry);

#endif
