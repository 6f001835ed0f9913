# drivers/: virtual device models, one file per device.
DRIVERS_SRCS :=
