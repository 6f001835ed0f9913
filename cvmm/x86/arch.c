// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "cvmm/lib/log.h"
#include "cvmm/numa.h"
#include "cvmm/vm.h"
#include "cvmm/x86/acpi.h"
#include "cvmm/x86/arch.h"
#include "cvmm/x86/bios.h"
#include "cvmm/x86/boot.h"
#include "cvmm/x86/cpuid.h"
#include "drivers/acpi_pm.h"
#include "drivers/ioapic.h"

/*
 * Three pages KVM on Intel needs for real mode emulation (TSS) and for
 * unpaged protected mode (identity map) when the CPU lacks unrestricted
 * guest; just below the BIOS ROM area, outside RAM.
 */
#define KVM_TSS_ADDR	      0xfffbd000u
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000u
#define MAX_CPUID_ENTRIES     256

static int vm_ioctl(struct vm *vm, unsigned long req, void *arg)
{
	return ioctl(vm->vm_fd, req, arg) < 0 ? -errno : 0;
}

int arch__vm_init(struct vm *vm)
{
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	struct kvm_enable_cap split = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = { IOAPIC_NR_PINS },
	};
	int ret;

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		ret = -errno;
		pr_err("KVM_SET_TSS_ADDR: %s", strerror(-ret));
		return ret;
	}
	ret = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ret) {
		pr_err("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(-ret));
		return ret;
	}
	/*
	 * Split irqchip: LAPICs in KVM, IOAPIC in cvmm (drivers/ioapic.c), no
	 * PIC and no PIT. args[0] reserves GSIs 0-23 for IOAPIC routes.
	 */
	ret = vm_ioctl(vm, KVM_ENABLE_CAP, &split);
	if (ret)
		pr_err("KVM_CAP_SPLIT_IRQCHIP: %s (node kernel too old?)", strerror(-ret));
	return ret;
}

int arch__vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid;
	struct cpuid_config cfg = {
		.apic_id = vcpu->id,
		.nr_cpus = vm->nr_cpus,
		.node_clocks = vm->node_clocks,
		.tsc_deadline =
			ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0,
	};
	int ret;

	cpuid = calloc(1, sizeof(*cpuid) + MAX_CPUID_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	/* Leave room for the entries x86_cpuid__setup() adds. */
	cpuid->nent = MAX_CPUID_ENTRIES - 4;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		ret = -errno;
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
		goto out;
	}
	ret = x86_cpuid__setup(cpuid, MAX_CPUID_ENTRIES, &cfg);
	if (ret)
		goto out;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		ret = -errno;
		pr_err("vCPU %u: KVM_SET_CPUID2: %s", vcpu->id, strerror(-ret));
	}
out:
	free(cpuid);
	return ret;
}

/*
 * KVM builds its APIC-ID -> vCPU map when a LAPIC is reset, but a vCPU is
 * reset before KVM counts it as created, so the map built for the last vCPU
 * lacks it. On one node the boot CPU's first LAPIC write rebuilds the map;
 * on a node whose boot CPU never runs (cvmm/cluster.c) nothing would, and an
 * INIT or SIPI for a vCPU there would find no one (KVM_SIGNAL_MSI returns 0).
 * Writing a LAPIC's own state back makes KVM rebuild the map with every vCPU.
 */
int arch__vcpus_created(struct vm *vm)
{
	struct kvm_lapic_state lapic;
	int fd = vm->vcpus[vm->nr_cpus - 1].fd;

	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0 || ioctl(fd, KVM_SET_LAPIC, &lapic) < 0) {
		int ret = -errno;

		pr_err("rebuilding KVM's APIC map: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int arch__setup_firmware(struct vm *vm, unsigned long *rsdp)
{
	struct acpi_config cfg = {
		.nr_cpus = vm->nr_cpus,
		.ioapic_addr = IOAPIC_BASE,
		.ioapic_id = IOAPIC_ID,
		.sleep_ctl_port = ACPI_PM_SLEEP_CTL,
		.sleep_sts_port = ACPI_PM_SLEEP_STS,
		.reset_port = ACPI_PM_RESET,
		.reset_value = ACPI_PM_RESET_VALUE,
		.s5_type = ACPI_PM_S5_TYPE,
	};
	struct acpi_numa numa;
	struct acpi_layout layout;
	uint8_t *tables = guest_mem__ptr(&vm->mem, ACPI_TABLES_BASE, ACPI_TABLES_MAX);
	uint8_t *stub;
	int ret;

	if (!tables)
		return -EFAULT;
	if (vm->numa) {
		numa__to_acpi(vm->numa, vm->nr_cpus, &numa);
		cfg.numa = &numa;
	}
	ret = acpi__build(&cfg, ACPI_TABLES_BASE, tables, ACPI_TABLES_MAX, &layout);
	if (ret) {
		pr_err("ACPI tables: %s", strerror(-ret));
		return ret;
	}
	*rsdp = ACPI_TABLES_BASE + layout.rsdp;

	/* Linux's BIOS reboot method jumps here (cvmm/x86/bios.h). */
	stub = guest_mem__ptr(&vm->mem, BIOS_RESET_VECTOR, BIOS_RESET_VECTOR_LEN);
	if (!stub)
		return -EFAULT;
	ret = x86_bios__reset_stub(stub, BIOS_RESET_VECTOR_LEN, ACPI_PM_RESET, ACPI_PM_RESET_VALUE);
	return ret < 0 ? ret : 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
}

/*
 * Boot protocol, 32-bit entry: flat __BOOT_CS/__BOOT_DS, CR0.PE, paging and
 * interrupts off, ESI = boot_params. This is the only KVM_SET_SREGS cvmm
 * issues while booting: segment state is never written back once the vCPU
 * runs (NOTES-sim.md, busy TR).
 */
int arch__boot_bsp(struct vcpu *bsp, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = entry->eip,
		.rsi = entry->esi,
		.rflags = 0x2,
	};

	if (ioctl(bsp->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat_segment(&sregs.cs, BOOT_CS, 0xb);
	flat_segment(&sregs.ds, BOOT_DS, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = 0x11; /* PE | ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(bsp->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(bsp->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
