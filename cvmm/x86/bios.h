/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only BIOS code cvmm has: a stub at the real-mode reset vector
 * (F000:FFF0, guest-physical 0xffff0) that asks the platform for a reset.
 *
 * Why it is needed: with hardware-reduced ACPI and no EFI, Linux picks the
 * EFI reboot method (arch/x86/kernel/reboot.c, reboot_init(): "ACPI Hardware
 * Reduced bit set ... force EFI reboot"). efi_reboot() returns at once
 * without EFI runtime services, and the next method is BOOT_BIOS:
 * machine_real_restart() drops to real mode and jumps to F000:FFF0, where a
 * real machine's firmware would restart it. The ACPI reset register is never
 * tried on that path. Without code there the guest executes zeroes forever,
 * so every reboot and every panic=-1 hung until --timeout.
 */
#ifndef CVMM_X86_BIOS_H
#define CVMM_X86_BIOS_H

#include <stddef.h>
#include <stdint.h>

#define BIOS_RESET_VECTOR     0xffff0u /* F000:FFF0 */
#define BIOS_RESET_VECTOR_LEN 16       /* up to the end of the first MiB */

/*
 * Writes the 16-bit stub: cli; out reset_value to reset_port; hlt in a
 * loop. Returns its length, or -ENOSPC if len is too small.
 */
int x86_bios__reset_stub(uint8_t *buf, size_t len, uint16_t reset_port, uint8_t reset_value);

#endif
