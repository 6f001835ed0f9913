/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI tables for a hardware-reduced ACPI platform (ACPI 6.x): RSDP, XSDT,
 * RSDT, FADT (revision 6), MADT and a DSDT holding only \_S5. Hardware-reduced
 * means no 8259 PIC, no PIT, no PM timer and no SCI: Linux then relies on the
 * LAPIC timer (TSC deadline) and takes poweroff and reset through the FADT's
 * sleep control and reset registers (drivers/acpi_pm.c).
 *
 * acpi__build() is a pure function: it writes the tables into a buffer that
 * the caller copies to guest-physical 'base', so unit tests check every byte.
 */
#ifndef CVMM_X86_ACPI_H
#define CVMM_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Where the tables go: the BIOS area Linux scans for "RSD PTR ". */
#define ACPI_TABLES_BASE 0xe0000u
#define ACPI_TABLES_MAX	 0x10000u

#define ACPI_OEM_ID	  "CVMM  "   /* 6 bytes */
#define ACPI_OEM_TABLE_ID "CVMMVM  " /* 8 bytes */
#define ACPI_CREATOR_ID	  "CVMM"

/* Offsets of each table from base, as laid out by acpi__build(). */
struct acpi_layout {
	uint32_t rsdp, xsdt, rsdt, fadt, madt, dsdt;
	uint32_t size; /* bytes used */
};

struct acpi_config {
	unsigned int nr_cpus; /* APIC IDs and processor UIDs 0..nr_cpus-1 */
	uint32_t ioapic_addr;
	uint8_t ioapic_id;
	uint16_t sleep_ctl_port, sleep_sts_port, reset_port;
	uint8_t reset_value;
	uint8_t s5_type;
};

/*
 * Builds the tables for guest-physical base into buf. Returns 0, -ENOSPC if
 * buf is too small, or -EINVAL for an invalid config (no CPUs, more than 255).
 */
int acpi__build(const struct acpi_config *cfg, uint64_t base, uint8_t *buf, size_t len,
		struct acpi_layout *layout);

/* The 8-bit sum ACPI requires to be zero over a whole table. */
uint8_t acpi__sum(const uint8_t *p, size_t len);

#endif
