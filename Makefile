# cvmm - clustered virtual machine monitor.
#
#   make              build everything into build/bin
#   make test         deps -> unit -> integration -> sim, one summary line
#   make test-unit    unit tier only (no KVM, no root, no network)
#   make guest        the ported Linux guest: build/guest/{bzImage,initrd.cpio.gz}
#   make demo         boot the emulated cluster, then a guest across 2 nodes, to its shell
#   make bench        benchmarks (ratios measured in one run)
#   make SAN=1 ...    build with ASan+UBSan into build/san
#   make WERROR=0     do not turn warnings into errors
#
# Each layer lists its sources in <layer>/build.mk; this file holds the rules.

BUILD_ROOT ?= build
SAN        ?= 0
WERROR     ?= 1
V          ?= 0

ifeq ($(SAN),1)
BUILD := $(BUILD_ROOT)/san
else
BUILD := $(BUILD_ROOT)
endif
BIN   := $(BUILD)/bin
OBJ   := $(BUILD)/obj
TBIN  := $(BUILD)/tests

CC    ?= gcc
ifeq ($(origin CC),default)
CC    := gcc
endif

# The warnings we hold the code to, in one visible list.
WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wundef -Wvla \
	-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-Wpointer-arith -Wcast-align -Wwrite-strings -Wno-unused-parameter
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

CPPFLAGS += -D_GNU_SOURCE -I. -MMD -MP
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -pthread $(WARNINGS)
LDFLAGS  += -pthread
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Debian packages this project needs (see docs/dependencies.md for why).
DEB_PKGS := build-essential libcmocka-dev libsodium-dev libjansson-dev libnuma-dev libxxhash-dev clang \
	libmicrohttpd-dev libsqlite3-dev libcurl4-openssl-dev openssl curl \
	qemu-system-x86 cpio kmod iproute2 \
	libibverbs-dev librdmacm-dev rdma-core ibverbs-providers ibverbs-utils perftest \
	linux-source-6.1 flex bison bc libelf-dev xz-utils gcc-multilib

all: binaries

include cvmm/build.mk
include mgmt/build.mk
include dsm/build.mk
include drivers/build.mk
include tests/build.mk

objs = $(patsubst %.c,$(OBJ)/%.o,$(filter %.c,$(1))) $(patsubst %.S,$(OBJ)/%.o,$(filter %.S,$(1)))

# $(1): binary name under $(BIN); $(2): sources; $(3): libraries
define link_bin
$(BIN)/$(1): $(call objs,$(2))
	@mkdir -p $$(@D)
	@$(if $(filter 1,$(V)),true,echo "  LD      $$@")
	$(Q)$(CC) $(LDFLAGS) -o $$@ $$^ $(3)
BINARIES += $(BIN)/$(1)
endef
$(foreach b,$(BINS),$(eval $(call link_bin,$(b),$($(b)_SRCS),$($(b)_LIBS))))

# Unit tests: one cmocka binary per test file, under $(TBIN)/unit.
define link_unit
$(TBIN)/unit/$(1): $(call objs,$(2))
	@mkdir -p $$(@D)
	@$(if $(filter 1,$(V)),true,echo "  LD      $$@")
	$(Q)$(CC) $(LDFLAGS) -o $$@ $$^ $(3) -lcmocka
UNIT_BINARIES += $(TBIN)/unit/$(1)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call link_unit,$(t),$($(t)_SRCS),$($(t)_LIBS))))

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),true,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OBJ)/%.o: %.S
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),true,echo "  AS      $<")
	$(Q)$(CC) $(CPPFLAGS) -c -o $@ $<

binaries: $(BINARIES)
unit-binaries: $(UNIT_BINARIES)

# --- dependencies -----------------------------------------------------------
# The stamp is keyed by the package list, so adding a package re-runs the check.
DEPS_KEY   := $(shell echo '$(DEB_PKGS)' | cksum | cut -d' ' -f1)
DEPS_STAMP := $(BUILD_ROOT)/.deps-$(DEPS_KEY)

deps:
	@mgmt/scripts/install-deps.sh $(DEB_PKGS)
	@mkdir -p $(BUILD_ROOT) && touch $(DEPS_STAMP)

$(DEPS_STAMP):
	@mgmt/scripts/install-deps.sh $(DEB_PKGS)
	@mkdir -p $(BUILD_ROOT) && touch $@

# --- the guest --------------------------------------------------------------
# The ported Linux and its initramfs, cached under ~/.cache/cvmm by their inputs.
GUEST_DIR := $(BUILD_ROOT)/guest
export CVMM_GUEST_DIR := $(abspath $(GUEST_DIR))

guest: $(DEPS_STAMP)
	@guest-port/build.sh $(GUEST_DIR)

# --- tests ------------------------------------------------------------------
TIER_RUNNER := tests/run-tier.sh
export CVMM_BIN := $(abspath $(BIN))
export CVMM_TBIN := $(abspath $(TBIN))

test: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory binaries unit-binaries guest
	@$(TIER_RUNNER) unit integration sim

test-unit: unit-binaries
	@$(TIER_RUNNER) unit

test-integration: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory binaries unit-binaries guest
	@$(TIER_RUNNER) integration

test-sim: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory binaries guest
	@$(TIER_RUNNER) sim

# Emulated clusters too slow for make test (tests/long/, ~15 min each).
test-long: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory binaries guest
	@$(TIER_RUNNER) long

bench: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory binaries
	@bench/run.sh

demo: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory binaries guest
	@mgmt/scripts/demo.sh $(ARGS)

# --- style ------------------------------------------------------------------
C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	clang-format -i $(C_SOURCES)

format-check:
	@clang-format --dry-run --Werror $(C_SOURCES) && echo "format-check: clean"

clean:
	rm -rf $(BUILD_ROOT)/obj $(BUILD_ROOT)/bin $(BUILD_ROOT)/tests $(BUILD_ROOT)/san

.PHONY: all binaries unit-binaries deps guest test test-unit test-integration test-sim test-long \
	bench demo format format-check clean

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
