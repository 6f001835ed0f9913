#!/bin/bash
# vcpu-state.sh - vCPU state save/restore against a node's KVM (TAP).
#
# Runs tests/progs/vcpu-state-test in one sim node: a guest is moved between
# three VMs mid-loop (settle, save, serialize, parse, restore into a fresh
# vCPU) and must continue exactly where it was (docs/monitor.md, "vCPU state").
# The node uses the default kvm_amd (nested paging on). About 40 s.
set -u

top=${CVMM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CVMM_BIN:-$top/build/bin}

flock /tmp/cvmm-sim.lock "$bin/cvmm" sim --nodes 1 --node-mem 1G --timeout 300 -- vcpu-state-test
