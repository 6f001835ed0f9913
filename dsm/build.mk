# dsm/: distributed shared memory for guest RAM (docs/dsm.md).
#
# DSM_SRCS is the library the monitor links; the pure parts (protocol, message
# table, wire codec) have no I/O and are what the unit tests and the fuzzer use.
DSM_PURE_SRCS := dsm/msg.c dsm/proto.c dsm/wire.c
DSM_SRCS := $(DSM_PURE_SRCS)

UNIT_TESTS += test-dsm-proto
test-dsm-proto_SRCS := tests/unit/test-dsm-proto.c $(DSM_PURE_SRCS)

DSM_SRCS += dsm/wire.c dsm/transport.c dsm/tp-tcp.c dsm/tp-loop.c dsm/uffd.c dsm/engine.c

BINS += dsm-stress
dsm-stress_SRCS := dsm/stress.c $(DSM_SRCS) $(LIB_SRCS)
