# tests/: unit tests (cmocka), test programs run inside sim nodes, test tiers.
#
# Unit tests assume nothing of the machine: no /dev/kvm, no root, no network,
# no threads unless the code under test owns them.

UNIT_TESTS += test-parse
test-parse_SRCS := tests/unit/test-parse.c $(LIB_SRCS)

# Programs the sim tier runs inside nodes (installed in build/bin, which is on
# a node's PATH). `smoke` runs both node checks.
BINS += kvm-smoke peer-echo
kvm-smoke_SRCS := tests/progs/kvm-smoke.c tests/progs/kvm-smoke-guest.S
peer-echo_SRCS := tests/progs/peer-echo.c cvmm/lib/fdio.c

$(BIN)/smoke: tests/progs/smoke.sh
	@mkdir -p $(@D)
	install -m 0755 $< $@
BINARIES += $(BIN)/smoke

# vCPU state save/restore against KVM: a guest moved between VMs (sim tier).
BINS += vcpu-state-test
vcpu-state-test_SRCS := tests/progs/vcpu-state-test.c tests/progs/vcpu-state-guest.S \
	cvmm/x86/vcpu_state.c
