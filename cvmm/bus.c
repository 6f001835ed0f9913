// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "cvmm/bus.h"

int io_bus__register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn, void *dev,
		     const char *name)
{
	if (!len || !fn || base + len < base)
		return -EINVAL;
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	if (bus->nr == IO_BUS_MAX_DEVICES)
		return -ENOSPC;
	bus->ranges[bus->nr++] =
		(struct io_range){ .base = base, .len = len, .fn = fn, .dev = dev, .name = name };
	return 0;
}

int io_bus__access(const struct io_bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
		   bool is_write)
{
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (addr >= r->base && addr - r->base < r->len && len <= r->len - (addr - r->base))
			return r->fn(r->dev, addr - r->base, data, len, is_write);
	}
	if (!is_write)
		memset(data, 0, len);
	return -ENOENT;
}
