// SPDX-License-Identifier: GPL-2.0
/* ACPI tables: layout, checksums, lengths, and the MADT and DSDT byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cvmm/x86/acpi.h"

#define BASE 0xe0000u

static const struct acpi_config cfg2 = {
	.nr_cpus = 2,
	.ioapic_addr = 0xfec00000,
	.ioapic_id = 0,
	.sleep_ctl_port = 0x600,
	.sleep_sts_port = 0x601,
	.reset_port = 0x602,
	.reset_value = 0x01,
	.s5_type = 5,
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t buf[ACPI_TABLES_MAX];
static struct acpi_layout l;

static int build(void **state)
{
	memset(buf, 0xee, sizeof(buf));
	return acpi__build(&cfg2, BASE, buf, sizeof(buf), &l);
}

static void rsdp_points_at_rsdt_and_xsdt(void **state)
{
	const uint8_t *r = buf + l.rsdp;

	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(acpi__sum(r, 20), 0);
	assert_int_equal(acpi__sum(r, 36), 0);
	assert_int_equal(r[15], 2);
	assert_int_equal(le32(r + 20), 36);
	assert_int_equal(le32(r + 16), BASE + l.rsdt);
	assert_int_equal(le64(r + 24), BASE + l.xsdt);
	assert_int_equal(l.rsdp % 16, 0);
}

/* Every table: its signature, its length field, a zero sum, 16-byte alignment. */
static void tables_have_valid_headers(void **state)
{
	static const struct {
		const char *sig;
		size_t off;
		uint32_t len;
	} t[] = {
		{ "XSDT", offsetof(struct acpi_layout, xsdt), 36 + 2 * 8 },
		{ "RSDT", offsetof(struct acpi_layout, rsdt), 36 + 2 * 4 },
		{ "FACP", offsetof(struct acpi_layout, fadt), 276 },
		{ "APIC", offsetof(struct acpi_layout, madt), 36 + 8 + 2 * 8 + 12 + 6 },
		{ "DSDT", offsetof(struct acpi_layout, dsdt), 36 + 66 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t off;
		const uint8_t *p;

		memcpy(&off, (const uint8_t *)&l + t[i].off, sizeof(off));
		p = buf + off;
		assert_int_equal(off % 16, 0);
		assert_memory_equal(p, t[i].sig, 4);
		assert_int_equal(le32(p + 4), t[i].len);
		assert_int_equal(acpi__sum(p, t[i].len), 0);
		assert_memory_equal(p + 10, "CVMM  ", 6);
		assert_true(off + t[i].len <= l.size);
	}
}

static void xsdt_and_rsdt_list_fadt_then_madt(void **state)
{
	assert_int_equal(le64(buf + l.xsdt + 36), BASE + l.fadt);
	assert_int_equal(le64(buf + l.xsdt + 44), BASE + l.madt);
	assert_int_equal(le32(buf + l.rsdt + 36), BASE + l.fadt);
	assert_int_equal(le32(buf + l.rsdt + 40), BASE + l.madt);
}

static void fadt_is_hardware_reduced_with_sleep_and_reset(void **state)
{
	const uint8_t *f = buf + l.fadt;
	/* GAS: system I/O, 8 bits wide, offset 0, byte access, address */
	static const uint8_t sleep_ctl[12] = { 1, 8, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0 };
	static const uint8_t sleep_sts[12] = { 1, 8, 0, 1, 0x01, 0x06, 0, 0, 0, 0, 0, 0 };
	static const uint8_t reset[12] = { 1, 8, 0, 1, 0x02, 0x06, 0, 0, 0, 0, 0, 0 };

	assert_int_equal(f[8], 6);			      /* revision */
	assert_int_equal(le32(f + 40), BASE + l.dsdt);	      /* DSDT */
	assert_int_equal(le64(f + 140), BASE + l.dsdt);	      /* X_DSDT */
	assert_int_equal(le32(f + 112), 1u << 20 | 1u << 10); /* HW_REDUCED | RESET_REG_SUP */
	assert_int_equal(f[109] | f[110] << 8, 0x24);	      /* no VGA, no CMOS, no 8042 */
	assert_int_equal(le32(f + 46) & 0xffff, 0);	      /* no SCI */
	assert_int_equal(le32(f + 76), 0);		      /* no PM timer */
	assert_memory_equal(f + 116, reset, 12);
	assert_int_equal(f[128], 0x01);
	assert_memory_equal(f + 244, sleep_ctl, 12);
	assert_memory_equal(f + 256, sleep_sts, 12);
	assert_memory_equal(f + 268, "CVMMCVMM", 8);
}

static void madt_byte_for_byte(void **state)
{
	/* clang-format off */
	static const uint8_t body[] = {
		0x00, 0x00, 0xe0, 0xfe, /* LAPIC address */
		0x00, 0x00, 0x00, 0x00, /* flags: no PC-AT 8259 */
		0, 8, 0, 0, 1, 0, 0, 0, /* CPU 0: UID 0, APIC 0, enabled */
		0, 8, 1, 1, 1, 0, 0, 0, /* CPU 1 */
		1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* IOAPIC 0 at fec00000, GSI 0 */
		4, 6, 0xff, 0, 0, 1, /* NMI on LINT1 of every CPU */
	};
	/* clang-format on */
	const uint8_t *m = buf + l.madt;

	assert_int_equal(le32(m + 4), 36 + sizeof(body));
	assert_int_equal(m[8], 5);
	assert_memory_equal(m + 36, body, sizeof(body));
}

static void dsdt_byte_for_byte(void **state)
{
	/* clang-format off */
	static const uint8_t aml[] = {
		/* Name (_S5, Package (4) { 5, 5, 0, 0 }) */
		0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
		/* Scope (\_SB) { Device (COM1) { */
		0x10, 0x33, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82, 0x2b, 0x43, 0x4f, 0x4d, 0x31,
		/* Name (_HID, EisaId ("PNP0501")) Name (_UID, Zero) */
		0x08, 0x5f, 0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x05, 0x01,
		0x08, 0x5f, 0x55, 0x49, 0x44, 0x00,
		/* Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3f8, 0x3f8, 1, 8) IRQNoFlags {4} }) */
		0x08, 0x5f, 0x43, 0x52, 0x53, 0x11, 0x10, 0x0a, 0x0d,
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00,
	};
	/* clang-format on */

	assert_memory_equal(buf + l.dsdt + 36, aml, sizeof(aml));
	assert_int_equal(l.size, l.dsdt + 36 + sizeof(aml));
}

static void madt_grows_with_cpus(void **state)
{
	struct acpi_config c = cfg2;
	struct acpi_layout l255;

	c.nr_cpus = 255;
	assert_int_equal(acpi__build(&c, BASE, buf, sizeof(buf), &l255), 0);
	assert_int_equal(le32(buf + l255.madt + 4), 36 + 8 + 255 * 8 + 12 + 6);
	assert_int_equal(acpi__sum(buf + l255.madt, le32(buf + l255.madt + 4)), 0);
	assert_int_equal(buf[l255.madt + 44 + 254 * 8 + 3], 254); /* last APIC ID */
}

static void bad_configs_and_small_buffers_rejected(void **state)
{
	struct acpi_config c = cfg2;
	struct acpi_layout x;

	c.nr_cpus = 0;
	assert_int_equal(acpi__build(&c, BASE, buf, sizeof(buf), &x), -EINVAL);
	c.nr_cpus = 256;
	assert_int_equal(acpi__build(&c, BASE, buf, sizeof(buf), &x), -EINVAL);
	assert_int_equal(acpi__build(&cfg2, BASE, buf, l.size - 1, &x), -ENOSPC);
	assert_int_equal(acpi__build(&cfg2, BASE, buf, l.size, &x), 0);
}

/* Two nodes of 512 MiB, one vCPU each: what `--numa 0:cpus=0,mem=512M --numa 1:cpus=1,mem=512M` gives. */
static const struct acpi_numa numa2 = {
	.nr_nodes = 2,
	.cpu_node = { 0, 1 },
	.nr_mem = 2,
	.mem = { { 0, 512ull << 20, 0 }, { 512ull << 20, 512ull << 20, 1 } },
};

static int build_numa(void **state)
{
	struct acpi_config c = cfg2;

	c.numa = &numa2;
	memset(buf, 0xee, sizeof(buf));
	return acpi__build(&c, BASE, buf, sizeof(buf), &l);
}

static void numa_tables_listed_after_fadt_and_madt(void **state)
{
	assert_int_equal(le32(buf + l.xsdt + 4), 36 + 4 * 8);
	assert_int_equal(le32(buf + l.rsdt + 4), 36 + 4 * 4);
	assert_int_equal(acpi__sum(buf + l.xsdt, 36 + 4 * 8), 0);
	assert_int_equal(acpi__sum(buf + l.rsdt, 36 + 4 * 4), 0);
	assert_int_equal(le64(buf + l.xsdt + 36), BASE + l.fadt);
	assert_int_equal(le64(buf + l.xsdt + 44), BASE + l.madt);
	assert_int_equal(le64(buf + l.xsdt + 52), BASE + l.srat);
	assert_int_equal(le64(buf + l.xsdt + 60), BASE + l.slit);
	assert_int_equal(le32(buf + l.rsdt + 44), BASE + l.srat);
	assert_int_equal(le32(buf + l.rsdt + 48), BASE + l.slit);
	assert_int_equal(l.srat % 16, 0);
	assert_int_equal(l.slit % 16, 0);
}

static void srat_byte_for_byte(void **state)
{
	/* clang-format off */
	static const uint8_t body[] = {
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* reserved (1), reserved */
		/* processor local APIC affinity: domain 0, APIC 0, enabled */
		0, 16, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* domain 1, APIC 1 */
		0, 16, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* memory affinity: domain 0, base 0, length 512M, enabled */
		1, 40, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0x20, 0, 0, 0, 0,
		0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* domain 1, base 512M, length 512M */
		1, 40, 1, 0, 0, 0, 0, 0,
		0, 0, 0, 0x20, 0, 0, 0, 0,  0, 0, 0, 0x20, 0, 0, 0, 0,
		0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	/* clang-format on */
	const uint8_t *t = buf + l.srat;

	assert_memory_equal(t, "SRAT", 4);
	assert_int_equal(le32(t + 4), 36 + sizeof(body));
	assert_int_equal(t[8], 3);
	assert_int_equal(acpi__sum(t, 36 + sizeof(body)), 0);
	assert_memory_equal(t + 36, body, sizeof(body));
}

static void slit_byte_for_byte(void **state)
{
	static const uint8_t body[] = { 2, 0, 0, 0, 0, 0, 0, 0, 10, 20, 20, 10 };
	const uint8_t *t = buf + l.slit;

	assert_memory_equal(t, "SLIT", 4);
	assert_int_equal(le32(t + 4), 36 + sizeof(body));
	assert_int_equal(t[8], 1);
	assert_int_equal(acpi__sum(t, 36 + sizeof(body)), 0);
	assert_memory_equal(t + 36, body, sizeof(body));
	assert_int_equal(l.size, l.slit + 36 + sizeof(body));
}

static void bad_numa_rejected(void **state)
{
	struct acpi_config c = cfg2;
	struct acpi_numa n = numa2;
	struct acpi_layout x;

	c.numa = &n;
	n.cpu_node[1] = 2; /* no such node */
	assert_int_equal(acpi__build(&c, BASE, buf, sizeof(buf), &x), -EINVAL);
	n = numa2;
	n.mem[1].node = 2;
	assert_int_equal(acpi__build(&c, BASE, buf, sizeof(buf), &x), -EINVAL);
	n = numa2;
	n.nr_nodes = 0;
	assert_int_equal(acpi__build(&c, BASE, buf, sizeof(buf), &x), -EINVAL);
	n = numa2;
	n.nr_mem = 0;
	assert_int_equal(acpi__build(&c, BASE, buf, sizeof(buf), &x), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(rsdp_points_at_rsdt_and_xsdt, build),
		cmocka_unit_test_setup(tables_have_valid_headers, build),
		cmocka_unit_test_setup(xsdt_and_rsdt_list_fadt_then_madt, build),
		cmocka_unit_test_setup(fadt_is_hardware_reduced_with_sleep_and_reset, build),
		cmocka_unit_test_setup(madt_byte_for_byte, build),
		cmocka_unit_test_setup(dsdt_byte_for_byte, build),
		cmocka_unit_test(madt_grows_with_cpus),
		cmocka_unit_test_setup(bad_configs_and_small_buffers_rejected, build),
		cmocka_unit_test_setup(numa_tables_listed_after_fadt_and_madt, build_numa),
		cmocka_unit_test_setup(srat_byte_for_byte, build_numa),
		cmocka_unit_test_setup(slit_byte_for_byte, build_numa),
		cmocka_unit_test(bad_numa_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
