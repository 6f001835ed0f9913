#!/bin/bash
# run-boot.sh - `cvmm run` boots Debian's unmodified kernels in a sim node (TAP).
#
#   1-2  i386 686-pae, --cpus 1 and --cpus 4, --mem 512M: the guest's init
#        prints the CPU count from /proc/cpuinfo and powers off; the count must
#        equal --cpus and cvmm run must exit 0
#   3    amd64 through the same 32-bit entry, --cpus 2
#   4    i386 guest that panics (rdinit=/nonexistent panic=-1): exit 3 (reset)
#        within --timeout; Linux reaches the reset register through the
#        reset-vector stub (docs/monitor.md, "Reboot")
#
# Runtime on the 2-core CI host, without waiting for the sim lock: about
# 60 s, 90 s, 60 s and 125 s.
# The node runs kvm_amd with npt=0: with nested paging, 32-bit guests hang in
# a TCG node (docs/monitor.md, "32-bit guests in the sim"). Guests are built
# once by lib/mkguest.sh and cached under ~/.cache/cvmm.
set -u

top=${CVMM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CVMM_BIN:-$top/build/bin}
lock=/tmp/cvmm-sim.lock
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }

echo "1..4"
i386=$("$top/tests/sim/lib/mkguest.sh" i386) || i386=
amd64=$("$top/tests/sim/lib/mkguest.sh" amd64) || amd64=

# boot NAME DIR EXPECTED_STATUS EXPECTED_CPUS RUN_ARGS... : one sim node, one guest.
boot()
{
	local name=$1 dir=$2 want_rc=$3 want_cpus=$4 out rc got start secs
	shift 4
	if [ -z "$dir" ]; then
		not_ok "$name # the guest image could not be built"
		return
	fi
	out=$(mktemp)
	start=$(date +%s)
	flock "$lock" "$bin/cvmm" sim --nodes 1 --node-mem 2G --kvm-amd npt=0 --timeout 900 -- \
		cvmm run --kernel "$dir/bzImage" --initrd "$dir/initrd.cpio.gz" --mem 512M "$@" \
		</dev/null >"$out" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	got=$(sed -n 's/.*cvmm-guest: cpus=\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	sed 's/^/# /' "$out" | tail -n 15
	if [ "$rc" != "$want_rc" ]; then
		not_ok "$name: exit status $rc, expected $want_rc (${secs}s)"
	elif [ -n "$want_cpus" ] && [ "$got" != "$want_cpus" ]; then
		not_ok "$name: guest saw '${got}' CPUs, expected $want_cpus (${secs}s)"
	else
		ok "$name (${secs}s)"
	fi
	rm -f "$out"
}

boot "i386 686-pae, 1 vCPU, powers off, reports 1 CPU" "$i386" 0 1 \
	--cpus 1 --timeout 400 --append "console=ttyS0 panic=-1"
boot "i386 686-pae, 4 vCPUs, powers off, reports 4 CPUs" "$i386" 0 4 \
	--cpus 4 --timeout 600 --append "console=ttyS0 panic=-1"
boot "amd64 through the 32-bit entry, 2 vCPUs, reports 2 CPUs" "$amd64" 0 2 \
	--cpus 2 --timeout 400 --append "console=ttyS0 panic=-1"
boot "i386 panicking guest ends with status 3 (reset)" "$i386" 3 "" \
	--cpus 1 --timeout 240 --append "console=ttyS0 panic=-1 rdinit=/nonexistent"
exit $failed
