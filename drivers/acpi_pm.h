/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI power management for a hardware-reduced ACPI platform: the FADT's
 * sleep control, sleep status and reset registers, as three I/O ports.
 * Writing SLP_TYP=S5 with SLP_EN powers the VM off; writing the reset value
 * to the reset register resets it. Both stop the VM with a distinct reason.
 */
#ifndef DRIVERS_ACPI_PM_H
#define DRIVERS_ACPI_PM_H

struct vm;

#define ACPI_PM_BASE	    0x600
#define ACPI_PM_SLEEP_CTL   (ACPI_PM_BASE + 0)
#define ACPI_PM_SLEEP_STS   (ACPI_PM_BASE + 1)
#define ACPI_PM_RESET	    (ACPI_PM_BASE + 2)
#define ACPI_PM_LEN	    3
#define ACPI_PM_RESET_VALUE 0x01
#define ACPI_PM_S5_TYPE	    5 /* SLP_TYP of \_S5 in the DSDT */

int acpi_pm__init(struct vm *vm);
void acpi_pm__exit(struct vm *vm);

#endif
