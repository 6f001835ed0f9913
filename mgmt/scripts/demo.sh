#!/bin/bash
# demo.sh [cvmm sim options] - what `make demo` runs (ARGS=... passes options).
#
# 1. Boots an emulated cluster of two KVM nodes and runs the node checks on
#    both: a KVM guest in 32-bit paged mode and in long mode, and a TCP echo
#    between the nodes over their interconnect.
# 2. Boots the cvmm guest (make guest) as a virtual computer of those two
#    nodes: node 0 runs its vCPUs, node 1 homes half of its memory, and the
#    DSM keeps that memory coherent between them. The guest's console and each
#    node's DSM counters are shown.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cvmm=$top/build/bin/cvmm
guest=$top/build/guest

cat <<'MSG'
== cvmm demo, part 1: the emulated cluster
Two nodes, each a QEMU TCG machine with AMD SVM and nested paging running
Debian's kernel with kvm_amd. On every node:
  kvm-smoke  runs a KVM guest in 32-bit paged mode and in long mode, checks its I/O
  peer-echo  sends 4 KiB to every other node over the interconnect and checks the echo
MSG
"$cvmm" sim --nodes 2 --node-cpus 1 --node-mem 1G --all "$@" -- smoke

vc=$top/build/test-tmp/demo-vc.json
mkdir -p "$(dirname "$vc")"
cat >"$vc" <<JSON
{
  "name": "demo",
  "transport": "tcp",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 cvmm.test=memory,locks"
  },
  "nodes": [
    { "id": 0, "address": "10.77.0.1", "cpus": [0, 1], "memory": "512M" },
    { "id": 1, "address": "10.77.0.2", "cpus": [], "memory": "512M" }
  ]
}
JSON
cat <<MSG

== cvmm demo, part 2: one Linux on a virtual computer of two nodes
$vc:
  node 0 runs the guest's 2 vCPUs and homes guest memory 0-512M,
  node 1 homes 512M-1G; the DSM fetches its pages for node 0 on demand.
The guest's console follows (lines from node 0); its init runs a memory and a
lock workload that check themselves, then powers off.
MSG
"$cvmm" sim --nodes 2 --node-cpus 2 --node-mem 2G --kvm-amd npt=0 --all "$@" -- \
	sh -c "cvmm node --vc '$vc' --id \$CVMM_NODE_ID --stats"
