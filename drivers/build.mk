# drivers/: virtual device models, one file per device.
DRIVERS_SRCS := drivers/ioapic.c drivers/serial8250.c drivers/acpi_pm.c

# Device models driven through the bus with a recording MSI sink.
UNIT_TESTS += test-drivers
test-drivers_SRCS := tests/unit/test-drivers.c drivers/ioapic.c drivers/serial8250.c \
	drivers/acpi_pm.c cvmm/bus.c cvmm/vm.c $(LIB_SRCS)
