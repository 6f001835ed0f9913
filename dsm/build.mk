# dsm/: distributed shared memory for guest RAM (docs/dsm.md).
#
# DSM_SRCS is the library the monitor links; the pure parts (protocol, message
# table, wire codec) have no I/O and are what the unit tests and the fuzzer use.
DSM_PURE_SRCS := dsm/msg.c dsm/proto.c dsm/wire.c
DSM_SRCS := $(DSM_PURE_SRCS)

UNIT_TESTS += test-dsm-proto
test-dsm-proto_SRCS := tests/unit/test-dsm-proto.c $(DSM_PURE_SRCS)

DSM_SRCS += dsm/wire.c dsm/transport.c dsm/tp-setup.c dsm/tp-tcp.c dsm/tp-loop.c dsm/uffd.c dsm/engine.c dsm/heat.c dsm/hold.c dsm/quiesce.c dsm/handover.c

# rdma transport (docs/dsm.md, "RDMA transport"): every program that links
# DSM_SRCS links DSM_LIBS. rdma-conn.c is its pure part (unit-tested).
DSM_RDMA_SRCS := dsm/rdma-conn.c dsm/tp-rdma.c
DSM_SRCS += $(DSM_RDMA_SRCS)
DSM_LIBS := -libverbs -lxxhash

UNIT_TESTS += test-dsm-rdma
test-dsm-rdma_SRCS := tests/unit/test-dsm-rdma.c dsm/rdma-conn.c

BINS += dsm-rdma-bench
dsm-rdma-bench_SRCS := dsm/rdma-bench.c $(DSM_SRCS) $(LIB_SRCS)
dsm-rdma-bench_LIBS := $(DSM_LIBS)

BINS += dsm-stress
dsm-stress_SRCS := dsm/stress.c $(DSM_SRCS) $(LIB_SRCS)
dsm-stress_LIBS := $(DSM_LIBS)

UNIT_TESTS += test-dsm-wire
test-dsm-wire_SRCS := tests/unit/test-dsm-wire.c $(DSM_PURE_SRCS)

# libFuzzer target for the receive path (decoder + state machine), built with
# clang whatever CC is. `make fuzz` runs it for FUZZ_TIME seconds; the
# integration tier runs a short fixed-seed pass (tests/integration/dsm-fuzz.sh).
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 300
FUZZ_DIR   := $(BUILD_ROOT)/fuzz
DSM_FUZZ   := $(FUZZ_DIR)/dsm-fuzz-wire

$(DSM_FUZZ): dsm/fuzz-wire.c $(DSM_PURE_SRCS) $(wildcard dsm/*.h)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),true,echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) -D_GNU_SOURCE -I. -std=gnu11 -g -O1 -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ dsm/fuzz-wire.c $(DSM_PURE_SRCS)
BINARIES += $(DSM_FUZZ)

fuzz: $(DSM_FUZZ)
	@mkdir -p $(FUZZ_DIR)/corpus-dsm-wire
	$(DSM_FUZZ) -max_total_time=$(FUZZ_TIME) -max_len=8400 -print_final_stats=1 \
		$(FUZZ_DIR)/corpus-dsm-wire
.PHONY: fuzz

# Integration test program (needs userfaultfd, threads, sockets), run by
# tests/integration/dsm-engine.sh.
BINS += dsm-engine-test
dsm-engine-test_SRCS := tests/integration/dsm-engine.c $(DSM_SRCS) $(LIB_SRCS)
dsm-engine-test_LIBS := $(DSM_LIBS)

BINS += dsm-bench
dsm-bench_SRCS := dsm/bench.c $(DSM_SRCS) $(LIB_SRCS)
dsm-bench_LIBS := $(DSM_LIBS)

# The residency window's queue (dsm/hold.c): pure, no threads.
UNIT_TESTS += test-dsm-hold
test-dsm-hold_SRCS := tests/unit/test-dsm-hold.c dsm/hold.c
