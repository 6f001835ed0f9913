# cvmm/: the per-node monitor, the `cvmm` command table, and shared helpers.
#
# Conventions (every layer's build.mk follows them):
#   BINS += name          a program installed as build/bin/name
#   name_SRCS := ...      its sources (paths from the repository root)
#   name_LIBS := ...      extra linker flags
#   UNIT_TESTS += test-x  a cmocka unit test built as build/tests/unit/test-x
#   test-x_SRCS := ...    its sources; test-x_LIBS := ... its libraries

LIB_SRCS := cvmm/lib/log.c cvmm/lib/parse.c cvmm/lib/fdio.c

CVMM_MAIN_SRCS := cvmm/main.c

# The monitor (`cvmm run`): generic parts, then the x86 arch hooks.
CVMM_CORE_SRCS := cvmm/mem.c cvmm/bus.c cvmm/vm.c cvmm/exit.c cvmm/hypercall.c
CVMM_X86_SRCS := cvmm/x86/acpi.c cvmm/x86/bios.c cvmm/x86/boot.c cvmm/x86/cpuid.c cvmm/x86/exit.c \
	cvmm/x86/vcpu_state.c
CVMM_SRCS := cvmm/cluster.c cvmm/cluster-msg.c cvmm/cluster-monitor.c cvmm/cluster-pause.c cvmm/vcpu-move.c cvmm/node-leave.c cvmm/node-rehome.c cvmm/builtin-run.c cvmm/builtin-monitor.c cvmm/monitor.c cvmm/numa.c cvmm/builtin-node.c cvmm/stats-file.c cvmm/stats-writer.c cvmm/guest.c cvmm/kvm.c cvmm/vcpu.c cvmm/devices.c cvmm/x86/arch.c \
	$(CVMM_CORE_SRCS) $(CVMM_X86_SRCS)
CVMM_LIBS :=

BINS += cvmm
cvmm_SRCS = $(CVMM_MAIN_SRCS) $(CVMM_SRCS) $(MGMT_SRCS) $(DRIVERS_SRCS) $(sort $(DSM_SRCS)) \
	$(LIB_SRCS)
cvmm_LIBS = $(CVMM_LIBS) $(MGMT_LIBS) $(DSM_LIBS)

# Unit tests of the monitor: no /dev/kvm, no threads.
UNIT_TESTS += test-acpi test-bios test-boot test-exit test-vcpu-state test-cpuid
test-acpi_SRCS := tests/unit/test-acpi.c cvmm/x86/acpi.c
test-bios_SRCS := tests/unit/test-bios.c cvmm/x86/bios.c
test-boot_SRCS := tests/unit/test-boot.c cvmm/x86/boot.c cvmm/mem.c $(LIB_SRCS)
test-exit_SRCS := tests/unit/test-exit.c $(CVMM_CORE_SRCS) cvmm/x86/exit.c drivers/ioapic.c \
	drivers/serial8250.c drivers/acpi_pm.c $(LIB_SRCS)
test-vcpu-state_SRCS := tests/unit/test-vcpu-state.c cvmm/x86/vcpu_state.c
test-cpuid_SRCS := tests/unit/test-cpuid.c cvmm/x86/cpuid.c

# Hypercall dispatch with a recording MSI sink: no /dev/kvm.
UNIT_TESTS += test-hypercall
test-hypercall_SRCS := tests/unit/test-hypercall.c cvmm/hypercall.c cvmm/vm.c cvmm/mem.c cvmm/bus.c \
	drivers/ioapic.c $(LIB_SRCS)

# cvmm node's live statistics file: the Prometheus text of a sample.
UNIT_TESTS += test-stats-file
test-stats-file_SRCS := tests/unit/test-stats-file.c cvmm/stats-file.c

# --numa into SRAT/SLIT ranges.
UNIT_TESTS += test-numa
test-numa_SRCS := tests/unit/test-numa.c cvmm/numa.c $(LIB_SRCS)

# The messages between nodes' monitors (cvmm/cluster-msg.c).
UNIT_TESTS += test-cluster-msg
test-cluster-msg_SRCS := tests/unit/test-cluster-msg.c cvmm/cluster-msg.c
