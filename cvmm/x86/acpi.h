/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI tables for a hardware-reduced ACPI platform (ACPI 6.x): RSDP, XSDT,
 * RSDT, FADT (revision 6), MADT, a DSDT holding \_S5 and COM1, and with a
 * NUMA topology an SRAT and a SLIT. Hardware-reduced
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
	uint32_t srat, slit; /* 0 without a NUMA topology */
	uint32_t size;	     /* bytes used */
};

#define ACPI_MAX_NODES	    16
#define ACPI_MAX_MEM_RANGES (2 * ACPI_MAX_NODES)
#define ACPI_MAX_CPUS	    255

/* One range of guest-physical RAM and the NUMA node (proximity domain) it is on. */
struct acpi_mem_affinity {
	uint64_t base, len;
	uint32_t node;
};

/*
 * A NUMA topology for the SRAT and SLIT: the node of every vCPU and the node
 * of every RAM range. Distances are 10 within a node and 20 between nodes.
 */
struct acpi_numa {
	unsigned int nr_nodes;
	uint8_t cpu_node[ACPI_MAX_CPUS];
	unsigned int nr_mem;
	struct acpi_mem_affinity mem[ACPI_MAX_MEM_RANGES];
};

struct acpi_config {
	unsigned int nr_cpus; /* APIC IDs and processor UIDs 0..nr_cpus-1 */
	uint32_t ioapic_addr;
	uint8_t ioapic_id;
	uint16_t sleep_ctl_port, sleep_sts_port, reset_port;
	uint8_t reset_value;
	uint8_t s5_type;
	const struct acpi_numa *numa; /* NULL: no SRAT or SLIT */
};

/*
 * Builds the tables for guest-physical base into buf. Returns 0, -ENOSPC if
 * buf is too small, or -EINVAL for an invalid config (no CPUs, more than 255;
 * a NUMA topology with no node, too many, or a node number out of range).
 */
int acpi__build(const struct acpi_config *cfg, uint64_t base, uint8_t *buf, size_t len,
		struct acpi_layout *layout);

/* The 8-bit sum ACPI requires to be zero over a whole table. */
uint8_t acpi__sum(const uint8_t *p, size_t len);

#endif
