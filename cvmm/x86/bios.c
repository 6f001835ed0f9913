// SPDX-License-Identifier: GPL-2.0
/*
 * Real firmware restarts the machine from its reset vector; cvmm cannot run
 * POST again, so its "firmware" turns a jump to the reset vector into the
 * platform's reset, the same ACPI reset register write that ends the VM
 * with status 3 (cvmm/x86/bios.h says which Linux path lands here).
 */
#include <errno.h>
#include <string.h>

#include "cvmm/x86/bios.h"

int x86_bios__reset_stub(uint8_t *buf, size_t len, uint16_t reset_port, uint8_t reset_value)
{
	/* Real mode, any segment registers: only immediates and DX. */
	/* clang-format off */
	const uint8_t stub[] = {
		0xfa,					/* cli */
		0xb0, reset_value,			/* mov al, reset_value */
		0xba, (uint8_t)reset_port, (uint8_t)(reset_port >> 8), /* mov dx, reset_port */
		0xee,					/* out dx, al */
		0xf4,					/* 1: hlt */
		0xeb, 0xfd,				/* jmp 1b */
	};
	/* clang-format on */

	if (len < sizeof(stub))
		return -ENOSPC;
	memcpy(buf, stub, sizeof(stub));
	return (int)sizeof(stub);
}
