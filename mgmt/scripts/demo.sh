#!/bin/bash
# demo.sh [cvmm sim options] - what `make demo` runs (ARGS=... passes options).
#
# Boots an emulated cluster of two KVM nodes and runs the node checks on both:
# a KVM guest in 32-bit protected mode with paging and in long mode, and a TCP
# echo between the nodes over their interconnect. Booting one Linux across the
# nodes comes with the multi-node work (docs/architecture.md, "Status").
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cat <<'MSG'
cvmm demo: an emulated cluster of 2 nodes, each a QEMU TCG machine with AMD SVM
and nested paging running Debian's kernel with kvm_amd. On every node:
  kvm-smoke  runs a KVM guest in 32-bit paged mode and in long mode, checks its I/O
  peer-echo  sends 4 KiB to every other node over the interconnect and checks the echo
MSG
exec "$top/build/bin/cvmm" sim --nodes 2 --node-cpus 1 --node-mem 1G --all "$@" -- smoke
