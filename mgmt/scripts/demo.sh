#!/bin/bash
# demo.sh [cvmm sim options] - what `make demo` runs (ARGS=... passes options).
#
# 1. Boots an emulated cluster of two KVM nodes and runs the node checks on
#    both: a KVM guest in 32-bit paged mode and in long mode, and a TCP echo
#    between the nodes over their interconnect.
# 2. Boots the cvmm guest (make guest) as one virtual computer of two sim
#    nodes (cvmm sim VC mode): 2 vCPUs, one per node, 1G of RAM, 512M homed
#    on each node. The guest boots on CPU 0 (maxcpus=1: a full SMP boot across
#    emulated nodes is minutes slower), its /init brings CPU 1 online on node
#    1, then starts a shell on the console, which is this terminal: `exit`
#    (or `poweroff -f`) ends the demo with status 0, Ctrl-C stops it at once.
#    Without a terminal on stdin (CI, a pipe) there is no shell: the guest
#    powers off after bringing CPU 1 online, so the demo always ends.
#
# Options go to both cvmm sim commands, except the VC-mode ones (--kernel,
# --initrd, --append, --cpus, --mem, --transport, --vc), which go to part 2
# only, after the demo's own: a later --append replaces the demo's.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cvmm=$top/build/bin/cvmm
guest=$top/build/guest
vc_args=("$@")

cat <<'MSG'
== cvmm demo, part 1: the emulated cluster
Two nodes, each a QEMU TCG machine with AMD SVM and nested paging running
Debian's kernel with kvm_amd. On every node:
  kvm-smoke  runs a KVM guest in 32-bit paged mode and in long mode, checks its I/O
  peer-echo  sends 4 KiB to every other node over the interconnect and checks the echo
MSG

# The options part 1 takes: all but the VC-mode ones (and their values).
cluster_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel | --initrd | --append | --cpus | --mem | --transport | --vc) shift ;;
	--kernel=* | --initrd=* | --append=* | --cpus=* | --mem=* | --transport=* | --vc=*) ;;
	*) cluster_args+=("$1") ;;
	esac
	[ $# -gt 0 ] && shift
done
set -- ${vc_args[@]+"${vc_args[@]}"}
"$cvmm" sim --nodes 2 --node-cpus 1 --node-mem 1G --all ${cluster_args[@]+"${cluster_args[@]}"} -- smoke

append="console=ttyS0 panic=-1 maxcpus=1 cvmm.test=online"
if [ -t 0 ]; then
	append="$append cvmm.shell=1"
	leave="The guest's shell follows on this terminal: try 'cat /sys/devices/system/cpu/online'
or 'grep -H . /sys/devices/system/node/node*/cpulist'; 'exit' (or 'poweroff -f')
ends the demo, Ctrl-C stops the cluster at once."
else
	exec </dev/null
	leave="No terminal on stdin, so no shell: the guest powers off once CPU 1 is online."
fi
cat <<MSG

== cvmm demo, part 2: one Linux on a virtual computer of two nodes
2 vCPUs, one per node, 1G of guest RAM, 512M homed on each node; the DSM keeps
it coherent and fetches pages between the nodes on demand. The guest boots on
CPU 0 (node 0), then its init brings CPU 1 online on node 1. Lines from node 1
are prefixed "node1: ".
$leave
MSG
start=$(date +%s)
status=0
"$cvmm" sim --nodes 2 --cpus 2 --mem 1G --kernel "$guest/bzImage" --initrd "$guest/initrd.cpio.gz" \
	--append "$append" "$@" || status=$?
echo "== the virtual computer ran for $(($(date +%s) - start))s, cvmm sim status $status"
exit $status
