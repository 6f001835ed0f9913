/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bus maps address ranges (I/O ports or guest-physical MMIO) to device
 * models. There is one handler signature for every device: it receives the
 * offset into its own range, never the absolute address, so a device can be
 * placed anywhere (as in kvm-host's bus).
 *
 * The table is a fixed array searched linearly: a node has a handful of
 * devices, and a fixed array needs no allocation and no teardown order.
 */
#ifndef CVMM_BUS_H
#define CVMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define IO_BUS_MAX_DEVICES 16

/*
 * The device handler. For a read it fills data[0..len); for a write it
 * consumes it. Returns 0, or -errno for an access the device rejects (the
 * caller logs it; the guest sees zeros on a rejected read).
 */
typedef int (*io_handler_fn)(void *dev, uint64_t offset, uint8_t *data, uint32_t len,
			     bool is_write);

struct io_range {
	uint64_t base;
	uint64_t len;
	io_handler_fn fn;
	void *dev;
	const char *name;
};

struct io_bus {
	const char *name; /* "pio" or "mmio", for messages */
	unsigned int nr;
	struct io_range ranges[IO_BUS_MAX_DEVICES];
};

/* 0, -EINVAL (empty range, no handler), -EEXIST (overlap) or -ENOSPC. */
int io_bus__register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn, void *dev,
		     const char *name);

/*
 * Dispatches one access of len bytes at addr. -ENOENT when no device claims
 * the whole access; for a read, data is then zero-filled.
 */
int io_bus__access(const struct io_bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
		   bool is_write);

#endif
