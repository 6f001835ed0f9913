/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), 32-bit
 * entry: cvmm plays the boot loader and the firmware. It places the
 * protected-mode kernel at 1 MiB, fills the zero page (struct boot_params)
 * with the setup header, the e820 map, the command line and the initrd, and
 * starts the BSP at code32_start in flat 32-bit protected mode, paging off.
 * Skipping the kernel's 16-bit setup code also skips its real-to-protected
 * mode switch (see NOTES-sim.md on 32-bit guests under nested KVM).
 *
 * The same path boots i386 and x86-64 bzImages: both start at startup_32.
 *
 * Guest-physical layout below 1 MiB:
 *   0x00500  GDT (null, null, __BOOT_CS = 0x10, __BOOT_DS = 0x18)
 *   0x07000  boot_params (the zero page)
 *   0x20000  kernel command line
 *   0x9fc00  EBDA (reserved in e820, empty)
 *   0xe0000  ACPI tables (reserved in e820)
 *   0x100000 protected-mode kernel
 * The initrd goes as high as the kernel allows (initrd_addr_max) in low RAM.
 */
#ifndef CVMM_X86_BOOT_H
#define CVMM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;

#define BOOT_GDT_ADDR	  0x500u
#define BOOT_PARAMS_ADDR  0x7000u
#define BOOT_CMDLINE_ADDR 0x20000u
#define BOOT_EBDA_ADDR	  0x9fc00u
#define BOOT_BIOS_ADDR	  0xe0000u /* up to 1 MiB */
#define BOOT_KERNEL_ADDR  0x100000u
#define BOOT_CS		  0x10
#define BOOT_DS		  0x18

/* What the user gave: file contents in host memory. */
struct boot_input {
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd; /* NULL: no initrd */
	size_t initrd_size;
	const char *cmdline;
	uint64_t rsdp_addr; /* 0: let Linux scan for it */
	/*
	 * 0, or the end of the boot CPU's NUMA node: the initrd goes below it
	 * when it fits there, so that the boot CPU reads it from its own node.
	 */
	uint64_t initrd_below;
};

/* What the BSP starts with. */
struct boot_entry {
	uint32_t eip;	      /* code32_start */
	uint32_t esi;	      /* boot_params */
	uint32_t initrd_addr; /* 0 without an initrd */
	uint32_t protocol;    /* boot protocol version, e.g. 0x020f */
};

/*
 * Checks the inputs against a guest of mem_size bytes before anything is
 * created: returns 0 or a negative errno after one pr_err() line naming the
 * problem (-ENOEXEC bad or truncated kernel, -EPROTO too old a protocol,
 * -ENOMEM mem too small, -EFBIG initrd too large, -E2BIG command line too long).
 */
int x86_boot__check(const struct boot_input *in, uint64_t mem_size);

/* Loads everything into guest RAM. Calls x86_boot__check() first. */
int x86_boot__load(const struct guest_mem *mem, const struct boot_input *in,
		   struct boot_entry *entry);

#endif
