// SPDX-License-Identifier: GPL-2.0
/*
 * The device models of a node. A static const table instead of
 * constructor-registered lists (kvmtool's dev_init): the order is visible,
 * and nothing is registered at file scope.
 */
#include <string.h>

#include "cvmm/kvm.h"
#include "cvmm/lib/log.h"
#include "drivers/acpi_pm.h"
#include "drivers/ioapic.h"
#include "drivers/serial8250.h"

static const struct {
	const char *name;
	int (*init)(struct vm *vm);
	void (*exit)(struct vm *vm);
} devices[] = {
	/* The IOAPIC first: the others raise interrupts through it. */
	{ "ioapic", ioapic__init, ioapic__exit },
	{ "com1", serial8250__init, serial8250__exit },
	{ "acpi-pm", acpi_pm__init, acpi_pm__exit },
};

#define NR_DEVICES (sizeof(devices) / sizeof(devices[0]))

int devices__init(struct vm *vm)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < NR_DEVICES; i++) {
		ret = devices[i].init(vm);
		if (ret) {
			pr_err("device %s: %s", devices[i].name, strerror(-ret));
			break;
		}
	}
	if (!ret)
		return 0;
	while (i--)
		devices[i].exit(vm);
	return ret;
}

void devices__exit(struct vm *vm)
{
	for (unsigned int i = NR_DEVICES; i--;)
		devices[i].exit(vm);
}
