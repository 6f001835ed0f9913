#!/bin/bash
# boot-bench.sh - time from `cvmm run` to the guest's init, against QEMU
# -accel kvm with the same kernel and initrd in the same sim node (make bench).
# Debian's amd64 kernel: QEMU's own boot goes through SeaBIOS and the 16-bit
# setup code, which hangs for 32-bit kernels in a TCG node (docs/monitor.md).
# Prints one line: the two times and their ratio (goal: <= 1.2).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${CVMM_BIN:-$top/build/bin}

guest=$("$top/tests/sim/lib/mkguest.sh" amd64) || exit 1
out=$(flock /tmp/cvmm-sim.lock "$bin/cvmm" sim --nodes 1 --node-mem 2G --timeout 900 -- \
	sh "$top/bench/lib/boot-inner.sh" "$guest/bzImage" "$guest/initrd.cpio.gz" 2>&1)
rc=$?
cvmm=$(echo "$out" | awk '$1 == "cvmm" && $2 ~ /^[0-9.]+$/ { print $2 }')
qemu=$(echo "$out" | awk '$1 == "qemu" && $2 ~ /^[0-9.]+$/ { print $2 }')
if [ "$rc" != 0 ] || [ -z "$cvmm" ]; then
	echo "boot-to-init: failed (status $rc)"
	echo "$out" | tail -n 20
	exit 1
fi
if [ -z "$qemu" ]; then
	echo "boot-to-init: cvmm run ${cvmm}s; no QEMU baseline: $(echo "$out" | grep '^qemu unavailable')"
	exit 1
fi
ratio=$(awk -v a="$cvmm" -v b="$qemu" 'BEGIN { printf "%.2f", a / b }')
echo "boot-to-init (amd64, 1 vCPU, 512M, in one sim node): cvmm run ${cvmm}s," \
	"qemu -accel kvm ${qemu}s, ratio ${ratio}x (goal <= 1.2x)"
