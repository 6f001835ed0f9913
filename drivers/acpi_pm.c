// SPDX-License-Identifier: GPL-2.0
/*
 * Sleep control register (ACPI 6.x, 4.8.3.7): bits 2-4 SLP_TYPx, bit 5
 * SLP_EN. Linux writes (type << 2) | SLP_EN, type coming from the DSDT's \_S5
 * package. The sleep status register only needs to read as "awake". No state
 * but the VM pointer: power management is a one-way door.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/log.h"
#include "cvmm/vm.h"
#include "drivers/acpi_pm.h"

#define SLP_TYP(v) (((v) >> 2) & 7)
#define SLP_EN	   0x20

struct acpi_pm {
	struct vm *vm;
};

static int pm_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct acpi_pm *pm = dev;

	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	switch (offset) {
	case ACPI_PM_SLEEP_CTL - ACPI_PM_BASE:
		if (!(data[0] & SLP_EN))
			break;
		if (SLP_TYP(data[0]) != ACPI_PM_S5_TYPE) {
			pr_warn("guest asked for sleep type %u; only S5 (off) exists",
				SLP_TYP(data[0]));
			break;
		}
		vm__request_stop(pm->vm, VM_STOP_POWEROFF);
		break;
	case ACPI_PM_RESET - ACPI_PM_BASE:
		if (data[0] == ACPI_PM_RESET_VALUE)
			vm__request_stop(pm->vm, VM_STOP_RESET);
		break;
	default:
		break;
	}
	return 0;
}

void acpi_pm__exit(struct vm *vm)
{
	free(vm->dev.pm);
	vm->dev.pm = NULL;
}

int acpi_pm__init(struct vm *vm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm)
		return -ENOMEM;
	pm->vm = vm;
	ret = io_bus__register(&vm->pio, ACPI_PM_BASE, ACPI_PM_LEN, pm_io, pm, "acpi-pm");
	if (ret) {
		free(pm);
		return ret;
	}
	vm->dev.pm = pm;
	return 0;
}
