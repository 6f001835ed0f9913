// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cvmm/mem.h"

int guest_mem__init(struct guest_mem *mem, uint64_t size)
{
	uint64_t low = size < GUEST_MEM_LOW_LIMIT ? size : GUEST_MEM_LOW_LIMIT;
	int ret;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	if (!size || size & 0xfff)
		return -EINVAL;

	mem->fd = memfd_create("cvmm-guest-ram", MFD_CLOEXEC);
	if (mem->fd < 0)
		return -errno;
	if (ftruncate(mem->fd, (off_t)size) < 0) {
		ret = -errno;
		goto out_close;
	}
	/*
	 * MAP_NORESERVE: guest RAM is touched lazily; a 4 GiB guest on a node
	 * with less free memory must still start, as under any VMM.
	 */
	mem->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, mem->fd, 0);
	if (mem->map == MAP_FAILED) {
		ret = -errno;
		mem->map = NULL;
		goto out_close;
	}
	mem->size = size;
	mem->regions[mem->nr_regions++] =
		(struct guest_mem_region){ .gpa = 0, .size = low, .offset = 0, .host = mem->map };
	if (size > low)
		mem->regions[mem->nr_regions++] = (struct guest_mem_region){
			.gpa = GUEST_MEM_HIGH_START,
			.size = size - low,
			.offset = low,
			.host = mem->map + low,
		};
	return 0;

out_close:
	close(mem->fd);
	mem->fd = -1;
	return ret;
}

void guest_mem__exit(struct guest_mem *mem)
{
	if (mem->map)
		munmap(mem->map, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
}

void *guest_mem__ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		/* Written to avoid overflow of gpa + len for hostile values. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem__write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = guest_mem__ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_mem__read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = guest_mem__ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

uint64_t guest_mem__low_end(const struct guest_mem *mem)
{
	return mem->nr_regions ? mem->regions[0].size : 0;
}
