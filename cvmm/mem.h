/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM. One memfd holds all of it; this module alone knows how guest
 * physical addresses map onto offsets of that memfd and onto the host mapping.
 *
 * Why a memfd: dsm/ maps the same file a second time (an alias that is never
 * registered with userfaultfd) to move page contents, and registers the VM's
 * mapping in MINOR|WP mode (DESIGN.md §3.6). Anonymous memory cannot be
 * aliased that way.
 *
 * Layout: RAM starts at guest-physical 0. Up to 3 GiB it is one region; the
 * rest continues at 4 GiB, leaving [3 GiB, 4 GiB) for the IOAPIC, the LAPIC and
 * other MMIO. Every access from the rest of cvmm goes through guest_mem__ptr()
 * or the copy helpers, which check that the whole range lies in one region.
 */
#ifndef CVMM_MEM_H
#define CVMM_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_LOW_LIMIT   (3ull << 30)
#define GUEST_MEM_HIGH_START  (4ull << 30)
#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;	 /* first guest-physical address */
	uint64_t size;	 /* bytes */
	uint64_t offset; /* offset of gpa in the memfd */
	uint8_t *host;	 /* host address of gpa in the VM's mapping */
};

struct guest_mem {
	int fd;	       /* the memfd; -1 when not initialised */
	uint64_t size; /* total bytes of RAM */
	uint8_t *map;  /* the VM's mapping of the whole memfd */
	unsigned int nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Creates the memfd and maps it. size must be a multiple of 4 KiB. 0 or -errno. */
int guest_mem__init(struct guest_mem *mem, uint64_t size);
void guest_mem__exit(struct guest_mem *mem);

/*
 * The host address of [gpa, gpa + len), or NULL when any part of it is not
 * RAM or the range crosses a region boundary.
 */
void *guest_mem__ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copies into or out of guest RAM. 0, or -EFAULT when the range is not RAM. */
int guest_mem__write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);
int guest_mem__read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);

/* Highest RAM address + 1 below 4 GiB. */
uint64_t guest_mem__low_end(const struct guest_mem *mem);

#endif
