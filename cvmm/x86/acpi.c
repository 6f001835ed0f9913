// SPDX-License-Identifier: GPL-2.0
/*
 * Table layouts follow ACPI 6.4, chapter 5.2. Fields are written one by one
 * at their spec offsets (little-endian) rather than through packed structs,
 * so the code reads like the spec tables and does not depend on the host's
 * struct layout.
 */
#include <errno.h>
#include <string.h>

#include "cvmm/lib/le.h"
#include "cvmm/x86/acpi.h"

#define HDR_LEN		36
#define RSDP_LEN	36
#define FADT_LEN	276
#define MADT_LAPIC_LEN	8
#define MADT_IOAPIC_LEN 12
#define MADT_NMI_LEN	6
#define SRAT_HDR_LEN	48 /* header, reserved u32 (1), reserved u64 */
#define SRAT_CPU_LEN	16
#define SRAT_MEM_LEN	40
#define SLIT_LOCAL	10
#define SLIT_REMOTE	20

/* FADT flags (5.2.9, table 5.10) */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED	   (1u << 20)
/* IA-PC boot architecture flags (5.2.9.3): no VGA, no CMOS RTC; no 8042 */
#define BOOT_NO_VGA  (1u << 2)
#define BOOT_NO_CMOS (1u << 5)

static void put8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

uint8_t acpi__sum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* The standard description header (5.2.6); the checksum is set last. */
static void put_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	put8(t + 8, rev);
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put_le32(t + 24, 1); /* OEM revision */
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put_le32(t + 32, 1); /* creator revision */
}

static void set_checksum(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)(0x100 - acpi__sum(t, len));
}

/* A generic address structure (5.2.3.2) for one byte of system I/O space. */
static void put_gas_io8(uint8_t *p, uint16_t port)
{
	put8(p + 0, 1); /* system I/O */
	put8(p + 1, 8); /* register bit width */
	put8(p + 2, 0); /* bit offset */
	put8(p + 3, 1); /* access size: byte */
	put_le64(p + 4, port);
}

/*
 * DSDT AML, hand-assembled (ACPI 6.4 chapter 20):
 *
 *   Name (_S5, Package (4) { s5, s5, 0, 0 })   // SLP_TYP for poweroff
 *   Scope (\_SB) {
 *     Device (COM1) {                            // so Linux maps IRQ 4:
 *       Name (_HID, EisaId ("PNP0501"))          // without an 8259 it sets
 *       Name (_UID, 0)                           // up no ISA IRQs by itself
 *       Name (_CRS, ResourceTemplate () {
 *         IO (Decode16, 0x3f8, 0x3f8, 1, 8)
 *         IRQNoFlags () { 4 }
 *       })
 *     }
 *   }
 *
 * Every PkgLength here is below 64, so each takes one byte.
 */
#define DSDT_AML_LEN 66

static void dsdt_aml(uint8_t *aml, const struct acpi_config *cfg)
{
	/* One AML term per line; clang-format would scatter them. */
	/* clang-format off */
	const uint8_t bytes[DSDT_AML_LEN] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, /* Name(_S5, Package(4) */
		0x0a, cfg->s5_type, 0x0a, cfg->s5_type, 0x00, 0x00,
		0x10, 51, '\\', '_', 'S', 'B', '_',          /* Scope(\_SB) */
		0x5b, 0x82, 43, 'C', 'O', 'M', '1',          /* Device(COM1) */
		0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01, /* EisaId PNP0501 */
		0x08, '_', 'U', 'I', 'D', 0x00,
		0x08, '_', 'C', 'R', 'S', 0x11, 16, 0x0a, 13, /* Buffer(13) */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* IO 0x3f8, 8 ports */
		0x22, 0x10, 0x00,                             /* IRQ 4 */
		0x79, 0x00,                                   /* end tag */
	};
	/* clang-format on */

	memcpy(aml, bytes, sizeof(bytes));
}

static uint32_t build_dsdt(uint8_t *t, const struct acpi_config *cfg)
{
	uint32_t len = HDR_LEN + DSDT_AML_LEN;

	put_header(t, "DSDT", len, 2);
	dsdt_aml(t + HDR_LEN, cfg);
	set_checksum(t, len);
	return len;
}

/* MADT (5.2.12): one enabled LAPIC per vCPU, the IOAPIC, LINT1 as NMI. */
static uint32_t madt_len(const struct acpi_config *cfg)
{
	return HDR_LEN + 8 + cfg->nr_cpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + MADT_NMI_LEN;
}

static uint32_t build_madt(uint8_t *t, const struct acpi_config *cfg)
{
	uint32_t len = madt_len(cfg);
	uint8_t *p = t + HDR_LEN;

	put_header(t, "APIC", len, 5);
	put_le32(p, 0xfee00000); /* local APIC address */
	put_le32(p + 4, 0);	 /* flags: no PCAT_COMPAT, there is no 8259 */
	p += 8;
	for (unsigned int i = 0; i < cfg->nr_cpus; i++, p += MADT_LAPIC_LEN) {
		put8(p + 0, 0); /* processor local APIC */
		put8(p + 1, MADT_LAPIC_LEN);
		put8(p + 2, (uint8_t)i); /* ACPI processor UID */
		put8(p + 3, (uint8_t)i); /* APIC ID */
		put_le32(p + 4, 1);	 /* enabled */
	}
	put8(p + 0, 1); /* I/O APIC */
	put8(p + 1, MADT_IOAPIC_LEN);
	put8(p + 2, cfg->ioapic_id);
	put8(p + 3, 0);
	put_le32(p + 4, cfg->ioapic_addr);
	put_le32(p + 8, 0); /* global system interrupt base */
	p += MADT_IOAPIC_LEN;
	put8(p + 0, 4); /* local APIC NMI */
	put8(p + 1, MADT_NMI_LEN);
	put8(p + 2, 0xff);  /* all processors */
	put_le16(p + 3, 0); /* flags: conforming polarity and trigger */
	put8(p + 5, 1);	    /* LINT1 */
	set_checksum(t, len);
	return len;
}

/* FADT revision 6 (5.2.9, table 5.9), hardware-reduced. */
static uint32_t build_fadt(uint8_t *t, const struct acpi_config *cfg, uint64_t dsdt)
{
	memset(t, 0, FADT_LEN);
	put_header(t, "FACP", FADT_LEN, 6);
	put_le32(t + 40, (uint32_t)dsdt);	       /* DSDT */
	put_le16(t + 109, BOOT_NO_VGA | BOOT_NO_CMOS); /* IAPC_BOOT_ARCH */
	put_le32(t + 112, FADT_HW_REDUCED | FADT_RESET_REG_SUP);
	put_gas_io8(t + 116, cfg->reset_port);	   /* RESET_REG */
	put8(t + 128, cfg->reset_value);	   /* RESET_VALUE */
	put8(t + 131, 4);			   /* FADT minor version: 6.4 */
	put_le64(t + 140, dsdt);		   /* X_DSDT */
	put_gas_io8(t + 244, cfg->sleep_ctl_port); /* SLEEP_CONTROL_REG */
	put_gas_io8(t + 256, cfg->sleep_sts_port); /* SLEEP_STATUS_REG */
	memcpy(t + 268, "CVMMCVMM", 8);		   /* hypervisor vendor identity */
	set_checksum(t, FADT_LEN);
	return FADT_LEN;
}

/* SRAT (5.2.16), revision 3: every vCPU's and every RAM range's node. */
static uint32_t srat_len(const struct acpi_config *cfg)
{
	return SRAT_HDR_LEN + cfg->nr_cpus * SRAT_CPU_LEN + cfg->numa->nr_mem * SRAT_MEM_LEN;
}

static uint32_t build_srat(uint8_t *t, const struct acpi_config *cfg)
{
	const struct acpi_numa *numa = cfg->numa;
	uint32_t len = srat_len(cfg);
	uint8_t *p = t + SRAT_HDR_LEN;

	memset(t, 0, len);
	put_header(t, "SRAT", len, 3);
	put_le32(t + 36, 1); /* reserved, 1 for compatibility */
	for (unsigned int i = 0; i < cfg->nr_cpus; i++, p += SRAT_CPU_LEN) {
		put8(p + 0, 0); /* processor local APIC affinity */
		put8(p + 1, SRAT_CPU_LEN);
		put8(p + 2, numa->cpu_node[i]); /* proximity domain [7:0] */
		put8(p + 3, (uint8_t)i);	/* APIC ID */
		put_le32(p + 4, 1);		/* enabled */
	}
	for (unsigned int i = 0; i < numa->nr_mem; i++, p += SRAT_MEM_LEN) {
		put8(p + 0, 1); /* memory affinity */
		put8(p + 1, SRAT_MEM_LEN);
		put_le32(p + 2, numa->mem[i].node);
		put_le64(p + 8, numa->mem[i].base);
		put_le64(p + 16, numa->mem[i].len);
		put_le32(p + 28, 1); /* enabled */
	}
	set_checksum(t, len);
	return len;
}

/* SLIT (5.2.17): 10 on the diagonal, 20 elsewhere. */
static uint32_t slit_len(const struct acpi_config *cfg)
{
	return HDR_LEN + 8 + cfg->numa->nr_nodes * cfg->numa->nr_nodes;
}

static uint32_t build_slit(uint8_t *t, const struct acpi_config *cfg)
{
	unsigned int n = cfg->numa->nr_nodes;
	uint32_t len = slit_len(cfg);

	put_header(t, "SLIT", len, 1);
	put_le64(t + HDR_LEN, n);
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < n; j++)
			put8(t + HDR_LEN + 8 + i * n + j, i == j ? SLIT_LOCAL : SLIT_REMOTE);
	set_checksum(t, len);
	return len;
}

static int check_numa(const struct acpi_config *cfg)
{
	const struct acpi_numa *numa = cfg->numa;

	if (!numa->nr_nodes || numa->nr_nodes > ACPI_MAX_NODES || !numa->nr_mem ||
	    numa->nr_mem > ACPI_MAX_MEM_RANGES)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_cpus; i++)
		if (numa->cpu_node[i] >= numa->nr_nodes)
			return -EINVAL;
	for (unsigned int i = 0; i < numa->nr_mem; i++)
		if (numa->mem[i].node >= numa->nr_nodes)
			return -EINVAL;
	return 0;
}

static uint32_t build_xsdt(uint8_t *t, const uint64_t *entries, unsigned int n)
{
	uint32_t len = HDR_LEN + 8 * n;

	put_header(t, "XSDT", len, 1);
	for (unsigned int i = 0; i < n; i++)
		put_le64(t + HDR_LEN + 8 * i, entries[i]);
	set_checksum(t, len);
	return len;
}

static uint32_t build_rsdt(uint8_t *t, const uint64_t *entries, unsigned int n)
{
	uint32_t len = HDR_LEN + 4 * n;

	put_header(t, "RSDT", len, 1);
	for (unsigned int i = 0; i < n; i++)
		put_le32(t + HDR_LEN + 4 * i, (uint32_t)entries[i]);
	set_checksum(t, len);
	return len;
}

/* RSDP revision 2 (5.2.5.3): checksum over 20 bytes, extended over 36. */
static void build_rsdp(uint8_t *t, uint64_t rsdt, uint64_t xsdt)
{
	memset(t, 0, RSDP_LEN);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, ACPI_OEM_ID, 6);
	put8(t + 15, 2);
	put_le32(t + 16, (uint32_t)rsdt);
	put_le32(t + 20, RSDP_LEN);
	put_le64(t + 24, xsdt);
	put8(t + 8, (uint8_t)(0x100 - acpi__sum(t, 20)));
	put8(t + 32, (uint8_t)(0x100 - acpi__sum(t, RSDP_LEN)));
}

static uint32_t align16(uint32_t v)
{
	return (v + 15) & ~15u;
}

int acpi__build(const struct acpi_config *cfg, uint64_t base, uint8_t *buf, size_t len,
		struct acpi_layout *l)
{
	unsigned int n = cfg->numa ? 4 : 2; /* XSDT/RSDT entries */
	uint64_t entries[4];

	if (!cfg->nr_cpus || cfg->nr_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (cfg->numa && check_numa(cfg))
		return -EINVAL;
	/* Every table 16-byte aligned, in this order; SRAT and SLIT last. */
	l->rsdp = 0;
	l->xsdt = align16(l->rsdp + RSDP_LEN);
	l->rsdt = align16(l->xsdt + HDR_LEN + 8 * n);
	l->fadt = align16(l->rsdt + HDR_LEN + 4 * n);
	l->madt = align16(l->fadt + FADT_LEN);
	l->dsdt = align16(l->madt + madt_len(cfg));
	l->size = l->dsdt + HDR_LEN + DSDT_AML_LEN;
	l->srat = l->slit = 0;
	if (cfg->numa) {
		l->srat = align16(l->size);
		l->slit = align16(l->srat + srat_len(cfg));
		l->size = l->slit + slit_len(cfg);
	}
	if (l->size > len)
		return -ENOSPC;

	memset(buf, 0, l->size);
	build_dsdt(buf + l->dsdt, cfg);
	build_madt(buf + l->madt, cfg);
	build_fadt(buf + l->fadt, cfg, base + l->dsdt);
	entries[0] = base + l->fadt;
	entries[1] = base + l->madt;
	if (cfg->numa) {
		build_srat(buf + l->srat, cfg);
		build_slit(buf + l->slit, cfg);
		entries[2] = base + l->srat;
		entries[3] = base + l->slit;
	}
	build_xsdt(buf + l->xsdt, entries, n);
	build_rsdt(buf + l->rsdt, entries, n);
	build_rsdp(buf + l->rsdp, base + l->rsdt, base + l->xsdt);
	return 0;
}
