#!/bin/bash
# The ported guest kernel (make guest) on plain QEMU without cvmm: it must
# fall back to native paths and still be a working 4-CPU, 2-node NUMA machine.
# QEMU's TCG runs i386 directly on the host here; no KVM is involved.
. "$(dirname "$0")/../lib/tap.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
if [ ! -f "$guest/bzImage" ]; then
	ok 1 "no guest kernel in $guest (make guest builds it)"
	tap_done
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT

timeout 600 qemu-system-i386 -accel tcg -cpu qemu32,+pae -smp 4 -m 1G -nodefaults \
	-object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M \
	-numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,cpus=2-3,memdev=m1 \
	-display none -serial stdio -no-reboot -kernel "$guest/bzImage" -initrd "$guest/initrd.cpio.gz" \
	-append "console=ttyS0 panic=-1 cvmm.test=memory,locks,local,shared,local:2s,shared:1s" </dev/null >"$out" 2>&1
rc=$?
ok $rc "the guest boots on plain QEMU and powers off (status $rc)"
grep -q "^cvmm-guest: cpus=4 online=0-3" "$out"
ok $? "4 CPUs online"
grep -q "^cvmm-guest: node0 cpus=0-1 " "$out" && grep -q "^cvmm-guest: node1 cpus=2-3 " "$out"
ok $? "two NUMA nodes from ACPI SRAT: node0 has CPUs 0-1, node1 CPUs 2-3"
! grep -q "cvmm: guest support active" "$out"
ok $? "no cvmm hypervisor detected: native paths"
grep -q "^cvmm-guest-test: memory: PASS threads=4" "$out"
ok $? "memory workload on 4 CPUs self-verifies"
grep -q "^cvmm-guest-test: locks: PASS threads=4" "$out"
ok $? "lock contention workload on 4 CPUs self-verifies"
grep -q "^cvmm-guest-test: local: PASS threads=4 ops=80000 " "$out"
ok $? "NUMA-local throughput workload on 4 CPUs self-verifies"
grep -q "^cvmm-guest-test: shared: PASS threads=4 ops=80000 " "$out"
ok $? "shared-heavy throughput workload on 4 CPUs self-verifies"
# timed LOG MODE MIN MAX: MODE's timed run (the second PASS line) lasted from MIN
# to MAX seconds and did ops: every thread ran until the main thread's stop.
timed() {
	sed -n "s/^cvmm-guest-test: $2: PASS threads=4 ops=\([0-9]*\) seconds=\([0-9.]*\) .*/\1 \2/p" "$1" |
		sed -n 2p | awk -v lo="$3" -v hi="$4" '$1 > 0 && $2 >= lo && $2 < hi { ok = 1 } END { exit !ok }'
}
timed "$out" local 2 4
ok $? "local:2s runs the NUMA-local workload for 2 s and self-verifies"
timed "$out" shared 1 3
ok $? "shared:1s runs the shared-heavy workload for 1 s and self-verifies"
[ "$tap_failed" = 0 ] || diag_file "$out" 60
tap_done
