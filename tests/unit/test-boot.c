// SPDX-License-Identifier: GPL-2.0
/*
 * The boot protocol against a synthetic bzImage: zero page fields, e820,
 * where kernel, command line and initrd land, and every bad-input error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <asm/bootparam.h>

#include "cvmm/mem.h"
#include "cvmm/x86/boot.h"

#define MEM	  (64ull << 20)
#define PAYLOAD	  (64 * 1024)
#define SETUP	  (5 * 512) /* setup_sects = 4, plus the boot sector */
#define INIT_SIZE (8u << 20)

struct fixture {
	struct guest_mem mem;
	uint8_t image[SETUP + PAYLOAD];
	uint8_t initrd[3 * 4096 + 5];
	struct boot_input in;
};

static struct setup_header *hdr_of(struct fixture *f)
{
	return (struct setup_header *)(f->image + 0x1f1);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct setup_header *h;

	if (!f || guest_mem__init(&f->mem, MEM))
		return -1;
	h = hdr_of(f);
	h->setup_sects = 4;
	h->boot_flag = 0xaa55;
	h->jump = 0x66eb; /* jmp over the header: header length 0x202 + 0x66 - 0x1f1 */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->code32_start = 0x100000;
	h->initrd_addr_max = 0x7fffffff;
	h->cmdline_size = 2047;
	h->pref_address = 0x1000000;
	h->init_size = INIT_SIZE;
	for (size_t i = 0; i < PAYLOAD; i++)
		f->image[SETUP + i] = (uint8_t)(i * 7);
	memset(f->initrd, 0x5a, sizeof(f->initrd));
	f->in = (struct boot_input){
		.kernel = f->image,
		.kernel_size = sizeof(f->image),
		.initrd = f->initrd,
		.initrd_size = sizeof(f->initrd),
		.cmdline = "console=ttyS0 panic=-1",
		.rsdp_addr = 0xe0000,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_mem__exit(&f->mem);
	free(f);
	return 0;
}

static void zero_page_and_entry(void **state)
{
	struct fixture *f = *state;
	struct boot_params bp;
	struct boot_entry e;
	char cmdline[64];

	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), 0);
	assert_int_equal(e.eip, 0x100000);
	assert_int_equal(e.esi, BOOT_PARAMS_ADDR);
	assert_int_equal(e.protocol, 0x020f);

	assert_int_equal(guest_mem__read(&f->mem, BOOT_PARAMS_ADDR, &bp, sizeof(bp)), 0);
	assert_int_equal(bp.hdr.header, 0x53726448);
	assert_int_equal(bp.hdr.type_of_loader, 0xff);
	assert_int_equal(bp.hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	assert_int_equal(bp.hdr.init_size, INIT_SIZE);
	assert_int_equal(bp.acpi_rsdp_addr, 0xe0000);

	assert_int_equal(guest_mem__read(&f->mem, BOOT_CMDLINE_ADDR, cmdline, 23), 0);
	assert_string_equal(cmdline, "console=ttyS0 panic=-1");

	/* The protected-mode payload at 1 MiB, byte for byte. */
	assert_memory_equal(guest_mem__ptr(&f->mem, BOOT_KERNEL_ADDR, PAYLOAD), f->image + SETUP,
			    PAYLOAD);
}

static void initrd_at_top_of_ram_page_aligned(void **state)
{
	struct fixture *f = *state;
	struct boot_params bp;
	struct boot_entry e;

	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), 0);
	assert_int_equal(guest_mem__read(&f->mem, BOOT_PARAMS_ADDR, &bp, sizeof(bp)), 0);
	assert_int_equal(bp.hdr.ramdisk_size, sizeof(f->initrd));
	assert_int_equal(bp.hdr.ramdisk_image, (MEM - sizeof(f->initrd)) & ~0xfffull);
	assert_int_equal(e.initrd_addr, bp.hdr.ramdisk_image);
	assert_memory_equal(guest_mem__ptr(&f->mem, e.initrd_addr, sizeof(f->initrd)), f->initrd,
			    sizeof(f->initrd));
}

static void initrd_below_initrd_addr_max(void **state)
{
	struct fixture *f = *state;
	struct boot_entry e;

	hdr_of(f)->initrd_addr_max = (32u << 20) - 1;
	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), 0);
	assert_int_equal(e.initrd_addr, ((32u << 20) - sizeof(f->initrd)) & ~0xfffu);
}

/* On a NUMA guest the initrd goes to the top of the boot CPU's node when it fits. */
static void initrd_below_boot_node_end(void **state)
{
	struct fixture *f = *state;
	struct boot_entry e;

	f->in.initrd_below = 40u << 20;
	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), 0);
	assert_int_equal(e.initrd_addr, ((40u << 20) - sizeof(f->initrd)) & ~0xfffu);
	assert_memory_equal(guest_mem__ptr(&f->mem, e.initrd_addr, sizeof(f->initrd)), f->initrd,
			    sizeof(f->initrd));

	/* No room between the kernel and that end: the top of RAM as before. */
	f->in.initrd_below = BOOT_KERNEL_ADDR + 4096;
	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), 0);
	assert_int_equal(e.initrd_addr, (MEM - sizeof(f->initrd)) & ~0xfffull);
}

static void e820_map(void **state)
{
	struct fixture *f = *state;
	struct boot_params bp;
	struct boot_entry e;
	static const struct boot_e820_entry want[] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x400, 2 },
		{ 0xe0000, 0x20000, 2 },
		{ 0x100000, MEM - 0x100000, 1 },
	};

	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), 0);
	assert_int_equal(guest_mem__read(&f->mem, BOOT_PARAMS_ADDR, &bp, sizeof(bp)), 0);
	assert_int_equal(bp.e820_entries, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(bp.e820_table[i].addr, want[i].addr);
		assert_int_equal(bp.e820_table[i].size, want[i].size);
		assert_int_equal(bp.e820_table[i].type, want[i].type);
	}
}

/* Above 3 GiB, RAM continues at 4 GiB; the MMIO hole stays out of e820. */
static void e820_splits_at_mmio_hole(void **state)
{
	struct fixture *f = *state;
	struct guest_mem big;
	struct boot_params bp;
	struct boot_entry e;

	assert_int_equal(guest_mem__init(&big, 5ull << 30), 0);
	assert_int_equal(x86_boot__load(&big, &f->in, &e), 0);
	assert_int_equal(guest_mem__read(&big, BOOT_PARAMS_ADDR, &bp, sizeof(bp)), 0);
	assert_int_equal(bp.e820_entries, 5);
	assert_int_equal(bp.e820_table[3].addr + bp.e820_table[3].size, 3ull << 30);
	assert_int_equal(bp.e820_table[4].addr, 4ull << 30);
	assert_int_equal(bp.e820_table[4].size, 2ull << 30);
	/* The initrd stays below 3 GiB even though initrd_addr_max allows 2 GiB. */
	assert_true(e.initrd_addr < (2u << 30));
	guest_mem__exit(&big);
}

static void gdt_has_flat_boot_segments(void **state)
{
	struct fixture *f = *state;
	struct boot_entry e;
	uint64_t gdt[4];

	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), 0);
	assert_int_equal(guest_mem__read(&f->mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)), 0);
	assert_int_equal(gdt[BOOT_CS / 8], 0x00cf9b000000ffffull);
	assert_int_equal(gdt[BOOT_DS / 8], 0x00cf93000000ffffull);
}

static void bad_magic(void **state)
{
	struct fixture *f = *state;

	hdr_of(f)->header = 0x12345678;
	assert_int_equal(x86_boot__check(&f->in, MEM), -ENOEXEC);
	hdr_of(f)->header = 0x53726448;
	hdr_of(f)->boot_flag = 0;
	assert_int_equal(x86_boot__check(&f->in, MEM), -ENOEXEC);
}

static void bad_kernel_files(void **state)
{
	struct fixture *f = *state;

	f->in.kernel_size = 100; /* not even a boot sector and header */
	assert_int_equal(x86_boot__check(&f->in, MEM), -ENOEXEC);
	f->in.kernel_size = SETUP; /* setup but no payload */
	assert_int_equal(x86_boot__check(&f->in, MEM), -ENOEXEC);
	f->in.kernel_size = sizeof(f->image);
	hdr_of(f)->loadflags = 0; /* zImage */
	assert_int_equal(x86_boot__check(&f->in, MEM), -ENOEXEC);
	hdr_of(f)->loadflags = LOADED_HIGH;
	hdr_of(f)->version = 0x0204;
	assert_int_equal(x86_boot__check(&f->in, MEM), -EPROTO);
}

static void mem_too_small(void **state)
{
	struct fixture *f = *state;

	/* The kernel needs pref_address + init_size = 24 MiB, plus 1 MiB. */
	assert_int_equal(x86_boot__check(&f->in, 24ull << 20), -ENOMEM);
	f->in.initrd = NULL;
	assert_int_equal(x86_boot__check(&f->in, 25ull << 20), 0);
}

static void initrd_too_large(void **state)
{
	struct fixture *f = *state;
	uint8_t *big = calloc(1, 41u << 20);

	f->in.initrd = big;
	f->in.initrd_size = (MEM - (24u << 20)) + 1; /* one byte more than fits */
	assert_int_equal(x86_boot__check(&f->in, MEM), -EFBIG);
	f->in.initrd_size--;
	assert_int_equal(x86_boot__check(&f->in, MEM), 0);
	free(big);
}

static void cmdline_too_long(void **state)
{
	struct fixture *f = *state;
	char line[64];

	memset(line, 'x', sizeof(line) - 1);
	line[63] = 0;
	hdr_of(f)->cmdline_size = 62;
	f->in.cmdline = line;
	assert_int_equal(x86_boot__check(&f->in, MEM), -E2BIG);
	hdr_of(f)->cmdline_size = 63;
	assert_int_equal(x86_boot__check(&f->in, MEM), 0);
}

static void nothing_written_on_error(void **state)
{
	struct fixture *f = *state;
	struct boot_entry e;
	uint8_t zero[64] = { 0 };

	hdr_of(f)->header = 0;
	assert_int_equal(x86_boot__load(&f->mem, &f->in, &e), -ENOEXEC);
	assert_memory_equal(guest_mem__ptr(&f->mem, BOOT_PARAMS_ADDR, sizeof(zero)), zero,
			    sizeof(zero));
	assert_memory_equal(guest_mem__ptr(&f->mem, BOOT_KERNEL_ADDR, sizeof(zero)), zero,
			    sizeof(zero));
}

static void mem_accessors_check_ranges(void **state)
{
	struct fixture *f = *state;
	uint8_t b[8];

	assert_non_null(guest_mem__ptr(&f->mem, MEM - 8, 8));
	assert_null(guest_mem__ptr(&f->mem, MEM - 8, 9));
	assert_null(guest_mem__ptr(&f->mem, MEM, 1));
	assert_null(guest_mem__ptr(&f->mem, UINT64_MAX, 2));
	assert_null(guest_mem__ptr(&f->mem, 0, UINT64_MAX));
	assert_int_equal(guest_mem__read(&f->mem, MEM - 4, b, 8), -EFAULT);
	assert_int_equal(guest_mem__write(&f->mem, MEM - 4, b, 8), -EFAULT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(zero_page_and_entry),
		T(initrd_at_top_of_ram_page_aligned),
		T(initrd_below_initrd_addr_max),
		T(initrd_below_boot_node_end),
		T(e820_map),
		T(e820_splits_at_mmio_hole),
		T(gdt_has_flat_boot_segments),
		T(bad_magic),
		T(bad_kernel_files),
		T(mem_too_small),
		T(initrd_too_large),
		T(cmdline_too_long),
		T(nothing_written_on_error),
		T(mem_accessors_check_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
