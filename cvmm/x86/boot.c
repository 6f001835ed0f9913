// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <asm/bootparam.h>

#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "cvmm/mem.h"
#include "cvmm/x86/boot.h"

#define SETUP_HDR_OFFSET 0x1f1
#define HDRS_MAGIC	 0x53726448 /* "HdrS" */
#define MIN_PROTOCOL	 0x0206	    /* cmdline_size; 32-bit entry as documented */
#define E820_RAM	 1
#define E820_RESERVED	 2

/* The setup header as it appears in the file, copied so fields are aligned. */
static void read_setup_header(const struct boot_input *in, struct setup_header *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, in->kernel + SETUP_HDR_OFFSET, sizeof(*hdr));
}

/* Bytes of the header that the file really has (boot.rst: 0x202 + jump). */
static size_t setup_header_len(const struct boot_input *in)
{
	size_t len = 0x202 + in->kernel[0x201] - SETUP_HDR_OFFSET;

	return len < sizeof(struct setup_header) ? len : sizeof(struct setup_header);
}

static size_t setup_size(const struct setup_header *hdr)
{
	return ((size_t)(hdr->setup_sects ? hdr->setup_sects : 4) + 1) * 512;
}

/*
 * End of the memory the kernel claims while it decompresses: a relocatable
 * kernel loaded at 1 MiB moves itself up to pref_address (16 MiB for
 * Debian's kernels) and needs init_size bytes there.
 */
static uint64_t kernel_end(const struct boot_input *in, const struct setup_header *hdr)
{
	uint64_t payload = in->kernel_size - setup_size(hdr);
	uint64_t start = BOOT_KERNEL_ADDR;
	uint64_t need = payload;

	if (hdr->version >= 0x020a) {
		if (hdr->pref_address > start)
			start = hdr->pref_address;
		if (hdr->init_size > need)
			need = hdr->init_size;
	}
	return start + need;
}

/* The highest address below which the initrd must end. */
static uint64_t initrd_limit(const struct setup_header *hdr, uint64_t mem_size)
{
	uint64_t max = hdr->version >= 0x0203 ? (uint64_t)hdr->initrd_addr_max + 1 : 0x38000000;
	uint64_t low = mem_size < GUEST_MEM_LOW_LIMIT ? mem_size : GUEST_MEM_LOW_LIMIT;

	return max < low ? max : low;
}

/*
 * Where the initrd starts: as high as it may go, below in->initrd_below when
 * it fits between the kernel and that address.
 */
static uint64_t initrd_start(const struct boot_input *in, const struct setup_header *hdr,
			     uint64_t mem_size)
{
	uint64_t limit = initrd_limit(hdr, mem_size);

	if (in->initrd_below && in->initrd_below < limit &&
	    in->initrd_below >= kernel_end(in, hdr) + in->initrd_size + 4096)
		limit = in->initrd_below;
	return (limit - in->initrd_size) & ~0xfffull;
}

int x86_boot__check(const struct boot_input *in, uint64_t mem_size)
{
	struct setup_header hdr;
	uint64_t kend, limit;
	size_t cmdline_max;
	char a[24], b[24];

	if (in->kernel_size < 1024) {
		pr_err("kernel: %zu bytes is too small for a bzImage", in->kernel_size);
		return -ENOEXEC;
	}
	read_setup_header(in, &hdr);
	if (hdr.header != HDRS_MAGIC || hdr.boot_flag != 0xaa55) {
		pr_err("kernel: not a Linux bzImage (boot sector magic 0x%04x, header magic "
		       "0x%08x)",
		       hdr.boot_flag, hdr.header);
		return -ENOEXEC;
	}
	if (hdr.version < MIN_PROTOCOL) {
		pr_err("kernel: boot protocol %u.%02u is older than 2.06", hdr.version >> 8,
		       hdr.version & 0xff);
		return -EPROTO;
	}
	if (!(hdr.loadflags & LOADED_HIGH)) {
		pr_err("kernel: a zImage (loaded low) is not supported; need a bzImage");
		return -ENOEXEC;
	}
	if (setup_size(&hdr) >= in->kernel_size) {
		pr_err("kernel: truncated (%zu bytes, setup alone is %zu)", in->kernel_size,
		       setup_size(&hdr));
		return -ENOEXEC;
	}
	kend = kernel_end(in, &hdr);
	/* The kernel and 1 MiB of working room must fit in RAM. */
	if (mem_size < kend + (1u << 20)) {
		pr_err("--mem %s is too small: this kernel needs at least %s",
		       format_size(mem_size, a, sizeof(a)),
		       format_size((kend + (2u << 20) - 1) & ~((1ull << 20) - 1), b, sizeof(b)));
		return -ENOMEM;
	}
	limit = initrd_limit(&hdr, mem_size);
	if (in->initrd && in->initrd_size > limit - kend) {
		pr_err("initrd: %s does not fit in the %s of RAM left between the kernel and %s",
		       format_size(in->initrd_size, a, sizeof(a)),
		       format_size(limit - kend, b, sizeof(b)),
		       limit == mem_size ? "the end of --mem" : "the kernel's initrd_addr_max");
		return -EFBIG;
	}
	cmdline_max = hdr.cmdline_size;
	if (in->cmdline && strlen(in->cmdline) > cmdline_max) {
		pr_err("command line: %zu bytes, this kernel takes at most %zu",
		       strlen(in->cmdline), cmdline_max);
		return -E2BIG;
	}
	return 0;
}

static void add_e820(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

/*
 * The e820 map: conventional memory up to the EBDA, the EBDA and BIOS area
 * reserved (ACPI tables live there), then RAM from 1 MiB to the end of the
 * low region and, for guests over 3 GiB, from 4 GiB on.
 */
static void build_e820(struct boot_params *bp, const struct guest_mem *mem)
{
	add_e820(bp, 0, BOOT_EBDA_ADDR, E820_RAM);
	add_e820(bp, BOOT_EBDA_ADDR, 0xa0000 - BOOT_EBDA_ADDR, E820_RESERVED);
	add_e820(bp, BOOT_BIOS_ADDR, BOOT_KERNEL_ADDR - BOOT_BIOS_ADDR, E820_RESERVED);
	add_e820(bp, BOOT_KERNEL_ADDR, guest_mem__low_end(mem) - BOOT_KERNEL_ADDR, E820_RAM);
	for (unsigned int i = 1; i < mem->nr_regions; i++)
		add_e820(bp, mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
}

/* Flat 4 GiB code and data segments at the selectors the protocol names. */
static int write_gdt(const struct guest_mem *mem)
{
	const uint64_t gdt[4] = {
		0, 0, 0x00cf9b000000ffffull, /* 0x10: code, base 0, limit 4G, 32-bit */
		0x00cf93000000ffffull,	     /* 0x18: data, base 0, limit 4G */
	};

	return guest_mem__write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt));
}

int x86_boot__load(const struct guest_mem *mem, const struct boot_input *in,
		   struct boot_entry *entry)
{
	struct boot_params bp;
	struct setup_header hdr;
	uint64_t initrd_addr = 0;
	const char *cmdline = in->cmdline ? in->cmdline : "";
	int ret;

	ret = x86_boot__check(in, mem->size);
	if (ret)
		return ret;
	read_setup_header(in, &hdr);

	memset(&bp, 0, sizeof(bp));
	memcpy(&bp.hdr, in->kernel + SETUP_HDR_OFFSET, setup_header_len(in));
	bp.hdr.type_of_loader = 0xff; /* undefined boot loader */
	bp.hdr.cmd_line_ptr = BOOT_CMDLINE_ADDR;
	bp.hdr.vid_mode = 0xffff; /* "normal" */
	bp.acpi_rsdp_addr = in->rsdp_addr;
	build_e820(&bp, mem);

	if (in->initrd) {
		initrd_addr = initrd_start(in, &hdr, mem->size);
		bp.hdr.ramdisk_image = (uint32_t)initrd_addr;
		bp.hdr.ramdisk_size = (uint32_t)in->initrd_size;
		ret = guest_mem__write(mem, initrd_addr, in->initrd, in->initrd_size);
		if (ret)
			return ret;
	}
	ret = guest_mem__write(mem, BOOT_KERNEL_ADDR, in->kernel + setup_size(&hdr),
			       in->kernel_size - setup_size(&hdr));
	if (!ret)
		ret = guest_mem__write(mem, BOOT_CMDLINE_ADDR, cmdline, strlen(cmdline) + 1);
	if (!ret)
		ret = guest_mem__write(mem, BOOT_PARAMS_ADDR, &bp, sizeof(bp));
	if (!ret)
		ret = write_gdt(mem);
	if (ret)
		return ret;

	*entry = (struct boot_entry){
		.eip = hdr.code32_start,
		.esi = BOOT_PARAMS_ADDR,
		.initrd_addr = (uint32_t)initrd_addr,
		.protocol = hdr.version,
	};
	return 0;
}
